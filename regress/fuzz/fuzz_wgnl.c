/*
 * libFuzzer target: the GET_DEVICE dump parser of the kernel backend
 * (wgk_dump_feed, wgk_parse_msg).  The input is a sequence of
 * datagrams, each a 16-bit little-endian length and that many bytes,
 * fed in order as the parts of one dump.  Nothing may crash or read
 * out of bounds, and what was merged must be consistent.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>

#include "omni.h"
#include "wg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(const struct wgk_device *dev)
{
	const struct wgk_peer	*p;
	size_t			 i, j, naips = 0;

	if (dev->npeers > WGK_MAX_PEERS || dev->npeers > dev->peercap ||
	    dev->naips > WGK_MAX_AIPS)
		abort();
	if (dev->ifname[sizeof(dev->ifname) - 1] != '\0')
		abort();
	for (i = 0; i < dev->npeers; i++) {
		p = &dev->peers[i];
		/* Merging: no two neighbours share a key. */
		if (i > 0 && memcmp(p->pubkey, dev->peers[i - 1].pubkey,
		    32) == 0)
			abort();
		if (p->endpoint.sa.sa_family != AF_UNSPEC &&
		    p->endpoint.sa.sa_family != AF_INET &&
		    p->endpoint.sa.sa_family != AF_INET6)
			abort();
		if (p->last_handshake < 0 || p->naips > p->aipcap)
			abort();
		for (j = 0; j < p->naips; j++) {
			if (!((p->aips[j].af == AF_INET &&
			    p->aips[j].cidr <= 32) ||
			    (p->aips[j].af == AF_INET6 &&
			    p->aips[j].cidr <= 128)))
				abort();
		}
		naips += p->naips;
	}
	if (naips != dev->naips)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgk_device	 dev;
	char			 extack[64];
	uint8_t			*buf;
	size_t			 off = 0, len;
	int			 r = MNL_CB_OK;

	memset(&dev, 0, sizeof(dev));
	while (r == MNL_CB_OK && size - off >= 2) {
		len = (size_t)data[off] | (size_t)data[off + 1] << 8;
		off += 2;
		if (len > size - off)
			len = size - off;
		/* Netlink buffers are aligned: so is this one. */
		if ((buf = malloc(len + 1)) == NULL)
			break;
		memcpy(buf, data + off, len);
		off += len;
		extack[0] = '\0';
		r = wgk_dump_feed(&dev, buf, len, 0, 0, extack,
		    sizeof(extack));
		free(buf);
		if (memchr(extack, '\0', sizeof(extack)) == NULL)
			abort();
	}
	check(&dev);
	wgk_device_free(&dev);
	return 0;
}
