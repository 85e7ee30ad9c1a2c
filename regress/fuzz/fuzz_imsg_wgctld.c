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
	struct imsgbuf	 w;
	int		 sv[2];

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
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	imsgbuf_init(&w, sv[0]);
	imsgev_init(&iev_parent, sv[1], PROC_PARENT, parent_table, NULL,
	    NULL);
	fuzz_feed(&iev_parent, &w, data, size);
	if (iev_parent.ibuf.fd != -1)
		imsgev_clear(&iev_parent);
	else
		event_del(&iev_parent.ev);
	imsgbuf_clear(&w);
	close(sv[0]);
	return 0;
}
