/*
 * signald's side of the parent channel: configuration (global,
 * nucleus, interfaces, end), sockets, proof-key results, verbosity,
 * through signald's own dispatch table and handlers.  The parent is
 * trusted, so a fatal error here ends the input (the parent would
 * restart signald); memory and undefined-behaviour errors are findings.
 * Input format: fuzz_imsg_proc.h.
 *
 * Build: make CC=clang regress/fuzz/fuzz_imsg_signald
 * Run:   ./regress/fuzz/fuzz_imsg_signald -max_total_time=60 \
 *	      /tmp/new regress/fuzz/corpus/imsg_signald
 */
#define main signald_main
#include "../../signald/signald.c"
#undef main

#include "fuzz_imsg_proc.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 init;

	if (!init) {
		if (sodium_init() == -1)
			abort();
		event_init();
		edge_init(&signald_io);
		stun_client_init(&signald_stun_io);
		signal(SIGPIPE, SIG_IGN);
		fuzz_table = signald_table;
		init = 1;
	}
	fuzz_child_run(&iev_parent, signald_table, data, size);
	return 0;
}
