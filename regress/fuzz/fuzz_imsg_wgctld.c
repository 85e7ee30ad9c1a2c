/*
 * wgctld's side of the parent channel: configuration, the WireGuard
 * state after a restart, peer sets from signaling, the control socket,
 * statistics, reload results, parent and signaling status, through
 * wgctld's own dispatch table and handlers (and so the peer engine).
 * The parent is trusted: a fatal error ends the input.  Input format:
 * fuzz_imsg_proc.h.
 *
 * Build: make CC=clang regress/fuzz/fuzz_imsg_wgctld
 */
#define main wgctld_main
#include "../../wgctld/wgctld.c"
#undef main

#include "fuzz_imsg_proc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;

	if (!init) {
		if (sodium_init() == -1)
			abort();
		peers_init(&engine);
		status_init(time(NULL));
		event_init();
		control_init(&engine);
		signal(SIGPIPE, SIG_IGN);
		fuzz_table = parent_table;
		init = 1;
	}
	fuzz_child_run(&iev_parent, parent_table, data, size);
	return 0;
}
