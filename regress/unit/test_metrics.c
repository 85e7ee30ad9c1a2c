/*
 * metricsd's store and renderer: label validation, HELP/TYPE once per
 * metric, merging across processes, snapshot swap, bounds.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../metricsd/render.h"
#include "tap.h"

static struct omni_metric
mk(const char *name, const char *labels, double v)
{
	struct omni_metric	 m;

	memset(&m, 0, sizeof(m));
	strlcpy(m.name, name, sizeof(m.name));
	strlcpy(m.labels, labels, sizeof(m.labels));
	m.value = v;
	return m;
}

static int
add(struct mstore *st, uint32_t proc, const char *name, const char *labels,
    double v)
{
	struct omni_metric	 m = mk(name, labels, v);

	return mstore_add(st, proc, &m);
}

static char *
render(const struct mstore *st)
{
	char	*s;
	size_t	 len;

	if ((s = render_exposition(st, &len)) == NULL)
		return strdup("(render failed)");
	if (strlen(s) != len)
		printf("# length mismatch %zu != %zu\n", strlen(s), len);
	return s;
}

static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_labels(void)
{
	static const char *const good[] = {
		"",
		"a=\"\"",
		"iface=\"omni0\"",
		"iface=\"omni0\",peer=\"abc+/=\"",
		"_x=\"1\",Y9=\"2\"",
		"v=\"quote \\\" backslash \\\\ newline \\n\"",
		"v=\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"",
		"a=\"{}=,# \"",
	};
	static const char *const bad[] = {
		"a=\"x\"} 1\nfake 2",
		"a=\"x\"}\nfake{b=\"y\"",
		"a=\"x\nfake 2\"",
		"a=\"x\" ",
		" a=\"x\"",
		"a=\"x\",",
		",a=\"x\"",
		"a=\"x\",,b=\"y\"",
		"a=x",
		"a=\"x",
		"a='x'",
		"a =\"x\"",
		"9a=\"x\"",
		"a-b=\"x\"",
		"__name__=\"x\"",
		"a=\"x\",a=\"y\"",
		"a=\"\\x\"",
		"a=\"\\\"",
		"a=\"tab\there\"",
		"a=\"\x7f\"",
		"a=\"\xc3\"",
		"a=\"\xc0\xaf\"",
		"a=\"\xed\xa0\x80\"",
		"a=\"\xf4\x90\x80\x80\"",
		"a=\"\xff\"",
		"a=\"x\"b=\"y\"",
		"{a=\"x\"}",
		"=\"x\"",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(metric_labels_valid(good[i]), "labels accepted: %zu", i);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!metric_labels_valid(bad[i]), "labels refused: %zu", i);
}

static void
test_sample_valid(void)
{
	struct omni_metric	 m;

	m = mk("omni_wg_peers", "iface=\"omni0\"", 3);
	ok(metric_sample_valid(&m) != NULL, "valid sample");
	m = mk("omni_nope", "", 1);
	ok(metric_sample_valid(&m) == NULL, "unknown name refused");
	m = mk("omni_wg_peers", "", NAN);
	ok(metric_sample_valid(&m) == NULL, "NaN refused");
	m = mk("omni_wg_peers", "", INFINITY);
	ok(metric_sample_valid(&m) == NULL, "Inf refused");
	m = mk("omni_wg_peers", "", -INFINITY);
	ok(metric_sample_valid(&m) == NULL, "-Inf refused");
	m = mk("omni_wg_peers", "", 0);
	memset(m.name, 'a', sizeof(m.name));
	ok(metric_sample_valid(&m) == NULL, "unterminated name refused");
	m = mk("omni_wg_peers", "", 0);
	memset(m.labels, 'a', sizeof(m.labels));
	ok(metric_sample_valid(&m) == NULL, "unterminated labels refused");
	m = mk("omni_wg_peers", "a=\"x\"} 1\nfake 2", 0);
	ok(metric_sample_valid(&m) == NULL, "injection refused");
}

static void
test_render(void)
{
	struct mstore	 st;
	char		*s;

	mstore_init(&st);
	s = render(&st);
	ok(strcmp(s, "") == 0, "empty store renders nothing");
	free(s);

	ok(add(&st, PROC_SIGNALD, "omni_signal_sent_total", "type=\"reg\"",
	    5) == 0, "add signald sample");
	ok(add(&st, PROC_SIGNALD, "omni_signal_sent_total", "type=\"hb\"",
	    7) == 0, "add second series");
	ok(add(&st, PROC_WGCTLD, "omni_interfaces", "", 2) == 0,
	    "add wgctld sample");
	ok(add(&st, PROC_PARENT, "omni_interfaces", "", 3) == 0,
	    "add the same series from the parent");
	ok(add(&st, PROC_PARENT, "omni_wg_peers", "iface=\"a\"", 1) == 0,
	    "add parent wg_peers a");
	ok(add(&st, PROC_WGCTLD, "omni_wg_peers", "iface=\"b\"", 2) == 0,
	    "add wgctld wg_peers b");
	ok(add(&st, PROC_WGCTLD, "omni_wg_peer_received_bytes_total", "",
	    0.1) == 0, "add fractional value");
	ok(add(&st, PROC_WGCTLD, "omni_wg_peer_sent_bytes_total", "",
	    1e300) == 0, "add huge value");
	ok(add(&st, PROC_WGCTLD, "omni_nucleus_edges", "", -0.5) == 0,
	    "add negative value");

	s = render(&st);
	ok(strcmp(s, "") == 0, "staged samples are not visible");
	free(s);

	mstore_commit(&st, PROC_SIGNALD, 1);
	mstore_commit(&st, PROC_WGCTLD, 1);
	mstore_commit(&st, PROC_PARENT, 1);
	s = render(&st);
	ok(count(s, "# HELP omni_signal_sent_total ") == 1 &&
	    count(s, "# TYPE omni_signal_sent_total counter\n") == 1,
	    "HELP and TYPE once for a counter");
	ok(count(s, "# TYPE omni_wg_peers gauge\n") == 1,
	    "TYPE once for a gauge reported by two processes");
	ok(strstr(s, "omni_wg_peers{iface=\"a\"} 1\n"
	    "omni_wg_peers{iface=\"b\"} 2\n") != NULL,
	    "samples of one name from two processes grouped");
	ok(strstr(s, "omni_signal_sent_total{type=\"hb\"} 7\n") != NULL &&
	    strstr(s, "omni_signal_sent_total{type=\"reg\"} 5\n") != NULL,
	    "labelled samples rendered");
	ok(strstr(s, "\nomni_interfaces 3\n") != NULL &&
	    count(s, "\nomni_interfaces ") == 1,
	    "no braces without labels; duplicate series once, parent wins");
	ok(strstr(s, "omni_wg_peer_received_bytes_total 0.1\n") != NULL,
	    "0.1 renders short");
	ok(strstr(s, "omni_wg_peer_sent_bytes_total 1e+300\n") != NULL,
	    "1e300 renders");
	ok(strstr(s, "omni_nucleus_edges -0.5\n") != NULL,
	    "negative renders");
	ok(count(s, "proc=") == 0, "no proc label added");
	ok(s[strlen(s) - 1] == '\n', "ends with a newline");
	/* Each metric's block is contiguous: HELP count == TYPE count. */
	ok(count(s, "# HELP ") == count(s, "# TYPE ") &&
	    count(s, "# HELP ") == 6, "six metric families");
	free(s);
	mstore_free(&st);
}

static void
test_swap(void)
{
	struct mstore	 st;
	char		*s;

	mstore_init(&st);
	add(&st, PROC_SIGNALD, "omni_edge_registered", "iface=\"a\"", 1);
	add(&st, PROC_SIGNALD, "omni_edge_registered", "iface=\"b\"", 1);
	mstore_commit(&st, PROC_SIGNALD, 10);
	ok(mstore_count(&st) == 2, "first snapshot live");

	/* A new snapshot half sent: the scrape sees the old one whole. */
	add(&st, PROC_SIGNALD, "omni_edge_registered", "iface=\"c\"", 0);
	s = render(&st);
	ok(strstr(s, "iface=\"a\"") && strstr(s, "iface=\"b\"") &&
	    !strstr(s, "iface=\"c\""), "half snapshot invisible");
	free(s);

	mstore_commit(&st, PROC_SIGNALD, 12);
	s = render(&st);
	ok(!strstr(s, "iface=\"a\"") && !strstr(s, "iface=\"b\"") &&
	    strstr(s, "omni_edge_registered{iface=\"c\"} 0\n"),
	    "commit replaces the whole set");
	free(s);

	/* One process's commit leaves the others alone. */
	add(&st, PROC_WGCTLD, "omni_wg_peers", "", 4);
	mstore_commit(&st, PROC_WGCTLD, 12);
	mstore_commit(&st, PROC_PARENT, 12);
	ok(mstore_count(&st) == 2, "commits are per process");

	/* An empty snapshot empties that process. */
	mstore_commit(&st, PROC_SIGNALD, 13);
	s = render(&st);
	ok(!strstr(s, "omni_edge_registered"), "empty snapshot clears");
	free(s);

	ok(mstore_commit(&st, PROC_MAX, 1) == -1, "commit of bad proc");
	ok(mstore_commit(&st, PROC_METRICSD, 1) == -1,
	    "commit of metricsd's own set refused");
	ok(add(&st, PROC_MAX + 3, "omni_wg_peers", "", 1) == -1 &&
	    st.ms_dropped[MDROP_SENDER] == 1, "bad sender dropped, counted");
	ok(add(&st, PROC_METRICSD, "omni_wg_peers", "", 1) == -1 &&
	    st.ms_dropped[MDROP_SENDER] == 2, "metricsd as sender dropped");

	/* Expiry forgets silent processes. */
	mstore_expire(&st, 40, 30);
	ok(mstore_count(&st) == 1, "fresh snapshot kept by expiry");
	mstore_expire(&st, 43, 30);
	ok(mstore_count(&st) == 0, "stale snapshot expired");
	mstore_free(&st);
}

static void
test_drops(void)
{
	struct mstore	 st;
	struct omni_metric m;
	char		*s;
	int		 i, fails = 0;

	mstore_init(&st);
	ok(add(&st, PROC_SIGNALD, "omni_bogus", "", 1) == -1,
	    "unknown metric dropped");
	ok(add(&st, PROC_SIGNALD, "omni_signal_dropped_total",
	    "a=\"x\"} 1\nfake 2", 1) == -1, "injected labels dropped");
	ok(add(&st, PROC_SIGNALD, "omni_signal_dropped_total", "", NAN) == -1,
	    "NaN dropped");
	ok(st.ms_dropped[MDROP_INVALID] == 3, "invalid drops counted");

	m = mk("omni_wg_peers", "", 1);
	for (i = 0; i < MSTORE_MAX_SAMPLES; i++)
		if (mstore_add(&st, PROC_WGCTLD, &m) == -1)
			fails++;
	ok(fails == 0, "limit's worth of samples accepted");
	ok(mstore_add(&st, PROC_WGCTLD, &m) == -1 &&
	    st.ms_dropped[MDROP_LIMIT] == 1, "one more dropped, counted");
	mstore_commit(&st, PROC_WGCTLD, 1);
	ok(mstore_add(&st, PROC_WGCTLD, &m) == 0,
	    "limit applies per snapshot");
	mstore_commit(&st, PROC_WGCTLD, 2);

	ok(mstore_self(&st, 2) == 0, "own counters");
	s = render(&st);
	ok(strstr(s, "# TYPE omni_metrics_dropped_total counter\n"
	    "omni_metrics_dropped_total{reason=\"invalid\"} 3\n"
	    "omni_metrics_dropped_total{reason=\"limit\"} 1\n"
	    "omni_metrics_dropped_total{reason=\"sender\"} 0\n") != NULL,
	    "dropped counters rendered");
	ok(count(s, "omni_metrics_dropped_total{") == 3,
	    "own counters not duplicated");
	free(s);
	ok(mstore_self(&st, 3) == 0 && mstore_count(&st) == 4,
	    "own counters replaced, not appended");
	mstore_free(&st);
}

/* Rendering a large store: duplicates collapse, output stays valid. */
static void
test_many(void)
{
	struct mstore	 st;
	char		 labels[64], *s, *line, *save;
	int		 i, lines = 0, badlines = 0;

	mstore_init(&st);
	for (i = 0; i < 5000; i++) {
		snprintf(labels, sizeof(labels), "peer=\"%d\"", i % 2500);
		add(&st, i % 2 ? PROC_WGCTLD : PROC_SIGNALD,
		    "omni_wg_peer_received_bytes_total", labels, i);
	}
	mstore_commit(&st, PROC_SIGNALD, 1);
	mstore_commit(&st, PROC_WGCTLD, 1);
	s = render(&st);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		lines++;
		if (line[0] != '#' && strncmp(line,
		    "omni_wg_peer_received_bytes_total{peer=\"",
		    sizeof("omni_wg_peer_received_bytes_total{peer=\"") - 1)
		    != 0)
			badlines++;
	}
	ok(lines == 2 + 2500, "5000 samples, 2500 series: %d lines", lines);
	ok(badlines == 0, "every line well formed");
	free(s);
	mstore_free(&st);
}

int
main(void)
{
	test_labels();
	test_sample_valid();
	test_render();
	test_swap();
	test_drops();
	test_many();
	return tap_done();
}
