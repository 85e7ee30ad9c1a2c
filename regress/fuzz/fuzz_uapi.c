/*
 * libFuzzer target: the UAPI reply parsers (get replies and the
 * errno answer to set).  Nothing may crash, read out of bounds or
 * report more peers than the callback saw.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "omni.h"
#include "wg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_state {
	int		 n;
	int		 stop_at;
	uint64_t	 sink;
};

static int
fuzz_cb(const struct wg_peer_stats *ps, void *arg)
{
	struct fuzz_state	*st = arg;

	st->sink += ps->rx_bytes + ps->tx_bytes + ps->pubkey[0] +
	    ps->endpoint.sa.sa_family + (uint64_t)ps->last_handshake;
	if (ps->endpoint.sa.sa_family != 0 &&
	    ps->endpoint.sa.sa_family != AF_INET &&
	    ps->endpoint.sa.sa_family != AF_INET6)
		abort();
	if (ps->last_handshake < 0)
		abort();
	st->n++;
	return st->stop_at != 0 && st->n == st->stop_at;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_state	 st;
	char			*buf, err[128];
	int			 rv, e;

	/* An exact-size copy so ASan sees any read past the end. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(buf, data, size);

	memset(&st, 0, sizeof(st));
	rv = uapi_parse_get_err(buf, size, fuzz_cb, &st, err, sizeof(err));
	if (rv >= 0 && rv != st.n)
		abort();
	if (rv == -1 && memchr(err, '\0', sizeof(err)) == NULL)
		abort();

	memset(&st, 0, sizeof(st));
	st.stop_at = 1;
	rv = uapi_parse_get(buf, size, fuzz_cb, &st);
	if (st.n > 1)
		abort();

	(void)uapi_parse_errno(buf, size, &e);
	free(buf);
	return 0;
}
