/*
 * metricsd's side of the parent channel: configuration, the listening
 * socket, metric samples of every process (names, labels, values) and
 * snapshot ends, through metricsd's own dispatch table and handlers
 * (and so the store that /metrics renders; each input ends with a
 * render of it).  The parent is trusted: a fatal error ends the input.
 * Input format: fuzz_imsg_proc.h.
 *
 * Build: make CC=clang regress/fuzz/fuzz_imsg_metricsd
 */
#define main metricsd_main
#include "../../metricsd/metricsd.c"
#undef main

#include "fuzz_imsg_proc.h"

/* What a scrape would do with the store now. */
static void
fuzz_render(void)
{
	char	*text;
	size_t	 len;
	int64_t	 now = metricsd_now();

	mstore_expire(&metricsd_store, now, METRICSD_EXPIRE);
	if (mstore_self(&metricsd_store, now) == -1 ||
	    (text = render_exposition(&metricsd_store, &len)) == NULL)
		abort();
	if (strlen(text) != len)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;

	if (!init) {
		mstore_init(&metricsd_store);
		if ((metricsd_base = event_init()) == NULL)
			abort();
		metricsd_http_init();
		signal(SIGPIPE, SIG_IGN);
		fuzz_table = metricsd_table;
		init = 1;
	}
	fuzz_child_run(&iev_parent, metricsd_table, data, size);
	fuzz_render();
	return 0;
}
