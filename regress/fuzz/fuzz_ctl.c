/*
 * Fuzz wgctld's control socket: the input is a byte stream as a client
 * would write it, cut into frames by the imsg reader and handed one by
 * one to the request handler, which validates and answers them.  The
 * parent side (statistics, reload) is stubbed.
 *
 *   make regress/fuzz/fuzz_ctl CC=clang
 *   ./regress/fuzz/fuzz_ctl -max_total_time=60
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <event.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wgctld.h"

static struct peer_engine	 engine;
static int			 devnull = -1;

/* --- stubs for wgctld.c ----------------------------------------------- */

int
wgctld_to_parent(uint32_t type, uint32_t peerid, const void *data,
    size_t len)
{
	return 0;
}

/* An already answered request: one known peer, one unknown, one odd. */
struct stats_req *
stats_request(uint32_t ifid, stats_cb cb, void *arg)
{
	struct stats_req	*sr;
	size_t			 i;

	if ((sr = calloc(1, sizeof(*sr))) == NULL)
		return NULL;
	sr->sr_ifid = ifid;
	sr->sr_done = 1;
	sr->sr_npeers = sr->sr_cap = 3;
	if ((sr->sr_peers = calloc(3, sizeof(*sr->sr_peers))) == NULL) {
		free(sr);
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		sr->sr_peers[i].ifid = ifid;
		memset(sr->sr_peers[i].pubkey, 0x10 + (int)i * 0x70,
		    OMNI_KEYLEN);
		sr->sr_peers[i].rx_bytes = 1000 * i;
		sr->sr_peers[i].last_handshake = i;
	}
	omni_addr_parse("198.18.0.7:51820", 0, &sr->sr_peers[0].endpoint);
	return sr;
}

void
stats_req_free(struct stats_req *sr)
{
	if (sr == NULL)
		return;
	free(sr->sr_peers);
	free(sr);
}

/* --- setup ---------------------------------------------------------------- */

static void
setup(void)
{
	struct iface_info	 ii;
	struct omni_peer	 op;
	struct peer_set_hdr	 h;
	int			 i, j;

	log_init(0, LOG_DAEMON);
	log_setverbose(0);
	event_init();
	peers_init(&engine);
	control_init(&engine);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < 2; i++) {
		memset(&ii, 0, sizeof(ii));
		ii.ifid = i + 1;
		snprintf(ii.name, sizeof(ii.name), "omni%d", i);
		strlcpy(ii.backend, "userspace", sizeof(ii.backend));
		memset(ii.pubkey, 0xe0 + i, sizeof(ii.pubkey));
		omni_prefix_parse(i ? "fd00::1/64" : "10.77.0.1/24", &ii.vip);
		ii.nnuclei = 1;
		omni_addr_parse("198.18.0.1:51900", 0, &ii.nuclei[0]);
		peers_reconf_iface(&engine, &ii);
	}
	peers_reconf_end(&engine);
	for (i = 0; i < 2; i++) {
		h.ifid = i + 1;
		h.count = 3;
		peers_set_begin(&engine, &h);
		for (j = 0; j < 3; j++) {
			char	 vip[32];

			memset(&op, 0, sizeof(op));
			op.ifid = i + 1;
			memset(op.pubkey, 0x10 + j, sizeof(op.pubkey));
			snprintf(vip, sizeof(vip), i ? "fd00::%d" :
			    "10.77.0.%d", j + 2);
			omni_prefix_parse(vip, &op.vip);
			omni_addr_parse("198.18.0.2:51820", 0, &op.endpoint);
			peers_set_peer(&engine, &op);
		}
		peers_set_end(&engine, &h);
	}
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_conn	*c;
	struct imsgbuf	 ib;
	struct imsg	 im;
	size_t		 off = 0, n;
	int		 sp[2], r, dropped = 0, readonly;

	if (devnull == -1)
		setup();
	if (size < 1)
		return 0;
	readonly = data[0] & 1;
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sp) == -1)
		return 0;
	if ((c = control_conn_new(sp[0], readonly)) == NULL) {
		close(sp[1]);
		return 0;
	}
	imsgbuf_init(&ib, -1);
	while (!dropped && off < size) {
		n = sizeof(ib.rbuf) - ib.rlen;
		if (n > size - off)
			n = size - off;
		memcpy(ib.rbuf + ib.rlen, data + off, n);
		ib.rlen += n;
		off += n;
		for (;;) {
			/* A descriptor to go with frames that claim one. */
			if (ib.nrfds == 0)
				ib.rfds[ib.nrfds++] = dup(devnull);
			if ((r = imsg_get(&ib, &im)) == -1) {
				dropped = 1;
				break;
			}
			if (r == 0)
				break;
			if (control_conn_request(c, &im) == -1)
				dropped = 1;
			if (im.fd != -1)
				close(im.fd);
			imsg_free(&im);
			if (dropped)
				break;
		}
		if (ib.rlen == sizeof(ib.rbuf))
			break;
	}
	imsgbuf_clear(&ib);
	control_conn_close(c);
	close(sp[1]);
	return 0;
}
