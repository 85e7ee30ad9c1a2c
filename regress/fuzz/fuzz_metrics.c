/*
 * Fuzz metricsd's store and renderer.  The input is a list of
 * operations (add a sample, commit, expire, render); after each render
 * an independent strict parser checks the exposition: only HELP/TYPE
 * comments and samples of known metrics, label lists that parse, a
 * finite value, each metric's block contiguous with HELP and TYPE once.
 * Whatever a child sends, the output stays valid and nobody can add
 * lines of their own.
 *
 * Build: make regress/fuzz/fuzz_metrics
 * Run:   ./regress/fuzz/fuzz_metrics -max_total_time=60
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metricsd/render.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static size_t
ndefs(void)
{
	size_t	 n = 0;

	while (metric_defs[n].name != NULL)
		n++;
	return n;
}

/* Labels as the exposition has them: name="value",... then '}'. */
static const char *
check_labels(const char *s)
{
	if (*s == '}')
		abort();	/* "{}" is never rendered */
	for (;;) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    *s == '_'))
			abort();
		while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_')
			s++;
		if (*s++ != '=' || *s++ != '"')
			abort();
		while (*s != '"') {
			if (*s == '\n' || *s == '\0')
				abort();
			if (*s == '\\') {
				s++;
				if (*s != '\\' && *s != '"' && *s != 'n')
					abort();
			}
			s++;
		}
		s++;
		if (*s == '}')
			return s + 1;
		if (*s++ != ',')
			abort();
	}
}

static void
check_exposition(const char *text, size_t len)
{
	const char	*line = text, *nl, *p, *help = NULL;
	char		 name[64], *end;
	size_t		 n, i, nd = ndefs();
	int		 seen[64], cur = -1, typed = 0;
	double		 v;

	if (strlen(text) != len)
		abort();
	if (len > 0 && text[len - 1] != '\n')
		abort();
	memset(seen, 0, sizeof(seen));
	for (; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (strncmp(line, "# HELP ", 7) == 0) {
			p = line + 7;
			n = strcspn(p, " \n");
			if (n >= sizeof(name))
				abort();
			memcpy(name, p, n);
			name[n] = '\0';
			for (i = 0; i < nd; i++)
				if (strcmp(metric_defs[i].name, name) == 0)
					break;
			if (i == nd || seen[i]++)
				abort();	/* unknown or HELP twice */
			cur = i;
			typed = 0;
			help = line;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			if (help == NULL || typed++ || cur < 0)
				abort();
			p = line + 7;
			n = strlen(metric_defs[cur].name);
			if (strncmp(p, metric_defs[cur].name, n) != 0 ||
			    (strncmp(p + n, " counter\n", 9) != 0 &&
			    strncmp(p + n, " gauge\n", 7) != 0))
				abort();
			continue;
		}
		/* A sample of the current metric. */
		if (cur < 0 || !typed)
			abort();
		n = strlen(metric_defs[cur].name);
		if (strncmp(line, metric_defs[cur].name, n) != 0)
			abort();
		p = line + n;
		if (*p == '{')
			p = check_labels(p + 1);
		if (*p++ != ' ')
			abort();
		v = strtod(p, &end);
		if (end == p || *end != '\n' || !isfinite(v))
			abort();
	}
}

static void
render_check(struct mstore *st, int last)
{
	const char	*path;
	FILE		*f;
	char		*text;
	size_t		 len;

	if ((text = render_exposition(st, &len)) == NULL)
		abort();
	check_exposition(text, len);
	/* To see what an input renders: FUZZ_PRINT=out ./fuzz_metrics in */
	if (last && (path = getenv("FUZZ_PRINT")) != NULL &&
	    (f = fopen(path, "w")) != NULL) {
		fwrite(text, 1, len, f);
		fclose(f);
	}
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mstore		 st;
	struct omni_metric	 m;
	const uint8_t		*p = data, *end = data + size;
	size_t			 nd = ndefs(), n;
	int64_t			 now = 1;
	uint8_t			 op, proc;

	mstore_init(&st);
	while (p < end) {
		op = *p++;
		proc = op >> 4;		/* may be out of range on purpose */
		switch (op & 0x7) {
		case 0:
		case 1:
		case 2:
			/* add: name selector, labels up to NUL, value */
			memset(&m, 0, sizeof(m));
			if (p < end) {
				if (*p < 2 * nd)
					strlcpy(m.name,
					    metric_defs[*p % nd].name,
					    sizeof(m.name));
				else
					m.name[0] = *p;	/* unknown name */
				p++;
			}
			n = 0;
			while (p < end && *p != '\0' && n < sizeof(m.labels))
				m.labels[n++] = *p++;
			if (p < end)
				p++;
			/* Sometimes leave the labels unterminated. */
			if (n == sizeof(m.labels) && (op & 0x8) == 0)
				m.labels[n - 1] = '\0';
			if (end - p >= 8) {
				memcpy(&m.value, p, 8);
				p += 8;
			} else
				m.value = op;
			mstore_add(&st, proc, &m);
			if (metric_sample_valid(&m) != NULL &&
			    !metric_labels_valid(m.labels))
				abort();
			break;
		case 3:
		case 4:
			mstore_commit(&st, proc, now);
			break;
		case 5:
			now += op >> 3;
			mstore_expire(&st, now, 10);
			break;
		case 6:
			if (mstore_self(&st, now) == -1)
				abort();
			break;
		case 7:
			render_check(&st, 0);
			break;
		}
	}
	mstore_self(&st, now);
	render_check(&st, 1);
	mstore_free(&st);
	return 0;
}
