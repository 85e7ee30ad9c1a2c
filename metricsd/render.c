/*
 * Sample store and Prometheus text exposition (format 0.0.4).
 *
 * Every sample is checked before it is stored, so the renderer can
 * copy names and labels verbatim: a name is one of metric_defs, the
 * labels are a well-formed label list, the value is finite.  A child
 * that sends anything else cannot make the exposition invalid or
 * smuggle in lines of its own.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

#define LABELS_MAX	64	/* more than fit in omni_metric.labels */

/* --- validation ------------------------------------------------------ */

static int
label_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
label_name_char(unsigned char c)
{
	return label_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Length of the UTF-8 sequence at s, or 0 when it is not valid UTF-8
 * (overlong forms, surrogates and code points past U+10FFFF included).
 */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t	 cp, min;
	size_t		 n, i;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	/* A NUL is not a continuation byte, so this stops at the end. */
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A Prometheus label list without braces: name="value" pairs joined by
 * commas, or the empty string.  Names match [a-zA-Z_][a-zA-Z0-9_]*,
 * may not start with the reserved "__" and may not repeat; values are
 * UTF-8 with \\, \" and \n as the only escapes and no raw control
 * characters.
 */
int
metric_labels_valid(const char *labels)
{
	const unsigned char	*s = (const unsigned char *)labels;
	const unsigned char	*names[LABELS_MAX];
	size_t			 nlens[LABELS_MAX], nlabels = 0, len, i, n;

	if (*s == '\0')
		return 1;
	for (;;) {
		if (!label_name_start(*s))
			return 0;
		names[nlabels] = s;
		while (label_name_char(*s))
			s++;
		len = s - names[nlabels];
		if (len >= 2 && names[nlabels][0] == '_' &&
		    names[nlabels][1] == '_')
			return 0;
		for (i = 0; i < nlabels; i++)
			if (nlens[i] == len &&
			    memcmp(names[i], names[nlabels], len) == 0)
				return 0;
		nlens[nlabels] = len;
		if (++nlabels == LABELS_MAX)
			return 0;
		if (*s++ != '=')
			return 0;
		if (*s++ != '"')
			return 0;
		while (*s != '"') {
			if (*s == '\\') {
				s++;
				if (*s != '\\' && *s != '"' && *s != 'n')
					return 0;
				s++;
				continue;
			}
			/* The NUL (end of string) is caught here too. */
			if (*s < 0x20 || *s == 0x7f)
				return 0;
			if ((n = utf8_len(s)) == 0)
				return 0;
			s += n;
		}
		s++;
		if (*s == '\0')
			return 1;
		if (*s++ != ',')
			return 0;
	}
}

/* The definition of a sample's metric, or NULL when it is invalid. */
const struct metric_def *
metric_sample_valid(const struct omni_metric *m)
{
	const struct metric_def	*def;

	if (!omni_str_valid(m->name, sizeof(m->name)) ||
	    !omni_str_valid(m->labels, sizeof(m->labels)))
		return NULL;
	if ((def = metric_lookup(m->name)) == NULL)
		return NULL;
	if (!metric_labels_valid(m->labels))
		return NULL;
	if (!isfinite(m->value))
		return NULL;
	return def;
}

/* --- store ----------------------------------------------------------- */

static void
mset_clear(struct mset *set)
{
	size_t	 i;

	for (i = 0; i < set->mset_n; i++)
		free(set->mset_v[i].ms_labels);
	free(set->mset_v);
	memset(set, 0, sizeof(*set));
}

static int
mset_push(struct mset *set, const struct metric_def *def,
    const char *labels, double value)
{
	struct msample	*v;
	size_t		 cap;
	char		*l = NULL;

	if (set->mset_n == set->mset_cap) {
		cap = set->mset_cap ? set->mset_cap * 2 : 64;
		if (cap > MSTORE_MAX_SAMPLES)
			cap = MSTORE_MAX_SAMPLES;
		if (cap <= set->mset_n)
			return -1;
		if ((v = reallocarray(set->mset_v, cap, sizeof(*v))) == NULL)
			return -1;
		set->mset_v = v;
		set->mset_cap = cap;
	}
	if (labels != NULL && labels[0] != '\0' &&
	    (l = strdup(labels)) == NULL)
		return -1;
	v = &set->mset_v[set->mset_n++];
	v->ms_def = def;
	v->ms_labels = l;
	v->ms_value = value;
	return 0;
}

void
mstore_init(struct mstore *st)
{
	memset(st, 0, sizeof(*st));
}

void
mstore_free(struct mstore *st)
{
	int	 p;

	for (p = 0; p < PROC_MAX; p++) {
		mset_clear(&st->ms_live[p]);
		mset_clear(&st->ms_stage[p]);
	}
}

/* Processes whose samples the parent may forward. */
static int
mstore_proc_ok(uint32_t proc)
{
	return proc < PROC_MAX && proc != PROC_METRICSD;
}

/*
 * Stage one sample of process proc.  Returns 0, or -1 when the sample
 * was dropped (and counted): invalid, over the limit, unknown sender,
 * or no memory.
 */
int
mstore_add(struct mstore *st, uint32_t proc, const struct omni_metric *m)
{
	const struct metric_def	*def;
	struct mset		*set;

	if (!mstore_proc_ok(proc)) {
		st->ms_dropped[MDROP_SENDER]++;
		return -1;
	}
	if ((def = metric_sample_valid(m)) == NULL) {
		st->ms_dropped[MDROP_INVALID]++;
		return -1;
	}
	set = &st->ms_stage[proc];
	if (set->mset_n >= MSTORE_MAX_SAMPLES) {
		st->ms_dropped[MDROP_LIMIT]++;
		return -1;
	}
	if (mset_push(set, def, m->labels, m->value) == -1) {
		st->ms_dropped[MDROP_LIMIT]++;
		return -1;
	}
	return 0;
}

/* proc's snapshot is complete: it replaces what scrapes saw of proc. */
int
mstore_commit(struct mstore *st, uint32_t proc, int64_t now)
{
	if (!mstore_proc_ok(proc))
		return -1;
	mset_clear(&st->ms_live[proc]);
	st->ms_live[proc] = st->ms_stage[proc];
	st->ms_live[proc].mset_when = now;
	memset(&st->ms_stage[proc], 0, sizeof(st->ms_stage[proc]));
	return 0;
}

/* Forget snapshots of processes that stopped reporting (died). */
void
mstore_expire(struct mstore *st, int64_t now, int64_t maxage)
{
	int	 p;

	for (p = 0; p < PROC_MAX; p++) {
		if (!mstore_proc_ok(p) || st->ms_live[p].mset_when == 0)
			continue;
		if (now - st->ms_live[p].mset_when > maxage)
			mset_clear(&st->ms_live[p]);
	}
}

/* metricsd's own counters, as the snapshot of PROC_METRICSD. */
int
mstore_self(struct mstore *st, int64_t now)
{
	static const char *const reasons[MDROP_MAX] = {
		"reason=\"invalid\"", "reason=\"limit\"", "reason=\"sender\""
	};
	const struct metric_def	*def;
	struct mset		 set;
	int			 i;

	if ((def = metric_lookup("omni_metrics_dropped_total")) == NULL)
		return -1;
	memset(&set, 0, sizeof(set));
	for (i = 0; i < MDROP_MAX; i++)
		if (mset_push(&set, def, reasons[i],
		    (double)st->ms_dropped[i]) == -1) {
			mset_clear(&set);
			return -1;
		}
	mset_clear(&st->ms_live[PROC_METRICSD]);
	st->ms_live[PROC_METRICSD] = set;
	st->ms_live[PROC_METRICSD].mset_when = now;
	return 0;
}

/* Samples a scrape would see, duplicates included. */
size_t
mstore_count(const struct mstore *st)
{
	size_t	 n = 0;
	int	 p;

	for (p = 0; p < PROC_MAX; p++)
		n += st->ms_live[p].mset_n;
	return n;
}

/* --- rendering ------------------------------------------------------- */

struct rbuf {
	char	*rb_p;
	size_t	 rb_len;
	size_t	 rb_cap;
	int	 rb_err;
};

static void
rbuf_add(struct rbuf *b, const char *s, size_t len)
{
	size_t	 cap;
	char	*p;

	if (b->rb_err)
		return;
	if (len + 1 > b->rb_cap - b->rb_len) {
		cap = b->rb_cap ? b->rb_cap : 4096;
		while (len + 1 > cap - b->rb_len) {
			if (cap > SIZE_MAX / 2) {
				b->rb_err = 1;
				return;
			}
			cap *= 2;
		}
		if ((p = realloc(b->rb_p, cap)) == NULL) {
			b->rb_err = 1;
			return;
		}
		b->rb_p = p;
		b->rb_cap = cap;
	}
	memcpy(b->rb_p + b->rb_len, s, len);
	b->rb_len += len;
	b->rb_p[b->rb_len] = '\0';
}

static void
rbuf_str(struct rbuf *b, const char *s)
{
	rbuf_add(b, s, strlen(s));
}

/* HELP text escapes backslash and newline. */
static void
rbuf_help(struct rbuf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			rbuf_add(b, "\\\\", 2);
		else if (*s == '\n')
			rbuf_add(b, "\\n", 2);
		else
			rbuf_add(b, s, 1);
	}
}

/* The shortest %g form that reads back as the same double. */
static void
rbuf_value(struct rbuf *b, double v)
{
	char	 buf[64];
	int	 prec;

	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	rbuf_str(b, buf);
}

struct rref {
	const struct msample	*r_s;
	size_t			 r_def;		/* index in metric_defs */
	size_t			 r_ord;		/* process, then arrival */
};

static const char *
rref_labels(const struct rref *r)
{
	return r->r_s->ms_labels ? r->r_s->ms_labels : "";
}

static int
rref_cmp(const void *a, const void *b)
{
	const struct rref	*x = a, *y = b;
	int			 c;

	if (x->r_def != y->r_def)
		return x->r_def < y->r_def ? -1 : 1;
	if ((c = strcmp(rref_labels(x), rref_labels(y))) != 0)
		return c;
	return x->r_ord < y->r_ord ? -1 : x->r_ord > y->r_ord;
}

/*
 * Render every live sample, grouped by metric in metric_defs order
 * with one HELP and TYPE each, series sorted by labels.  A series
 * reported twice (by two processes, or twice in one snapshot) is
 * rendered once, the first process's value winning, since Prometheus
 * would refuse the duplicate.  Returns a NUL-terminated malloc'd
 * string and its length, or NULL when out of memory.
 */
char *
render_exposition(const struct mstore *st, size_t *lenp)
{
	struct rbuf		 b;
	struct rref		*refs;
	const struct msample	*s;
	const struct metric_def	*def;
	size_t			 n, i, j, k, prev_def = SIZE_MAX;
	const char		*prev_labels = NULL;
	int			 p;

	memset(&b, 0, sizeof(b));
	n = mstore_count(st);
	if ((refs = calloc(n ? n : 1, sizeof(*refs))) == NULL)
		return NULL;
	for (p = 0, k = 0; p < PROC_MAX; p++)
		for (j = 0; j < st->ms_live[p].mset_n; j++, k++) {
			refs[k].r_s = &st->ms_live[p].mset_v[j];
			refs[k].r_def = refs[k].r_s->ms_def - metric_defs;
			refs[k].r_ord = k;
		}
	qsort(refs, n, sizeof(*refs), rref_cmp);

	rbuf_add(&b, "", 0);	/* an empty exposition is "" too */
	for (i = 0; i < n; i++) {
		s = refs[i].r_s;
		def = s->ms_def;
		if (refs[i].r_def != prev_def) {
			rbuf_str(&b, "# HELP ");
			rbuf_str(&b, def->name);
			rbuf_str(&b, " ");
			rbuf_help(&b, def->help);
			rbuf_str(&b, "\n# TYPE ");
			rbuf_str(&b, def->name);
			rbuf_str(&b, def->type == METRIC_COUNTER ?
			    " counter\n" : " gauge\n");
			prev_def = refs[i].r_def;
		} else if (strcmp(prev_labels, rref_labels(&refs[i])) == 0)
			continue;
		prev_labels = rref_labels(&refs[i]);
		rbuf_str(&b, def->name);
		if (s->ms_labels != NULL) {
			rbuf_str(&b, "{");
			rbuf_str(&b, s->ms_labels);
			rbuf_str(&b, "}");
		}
		rbuf_str(&b, " ");
		rbuf_value(&b, s->ms_value);
		rbuf_str(&b, "\n");
	}
	free(refs);
	if (b.rb_err) {
		free(b.rb_p);
		errno = ENOMEM;
		return NULL;
	}
	*lenp = b.rb_len;
	return b.rb_p;
}
