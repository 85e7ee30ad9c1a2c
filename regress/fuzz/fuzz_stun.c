/*
 * Fuzz target for STUN (signald/stun.c).
 *
 * The first byte picks what the rest is:
 *   0: a datagram as the nucleus receives it: answered from an IPv4
 *      and an IPv6 source, and parsed as a response to the
 *      transaction it names.  Every answer must be small, be STUN,
 *      and parse back to the source's address (or to error 420).
 *   1: a response to the edge's STUN client: byte 1 and 2 are the
 *      message type, byte 3 bit 0 asks for a FINGERPRINT, the rest
 *      are attributes; the target writes the header with the pending
 *      transaction's id and length, so the attribute parser is what
 *      gets exercised.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "stun.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct omni_addr	 fz_server, fz_from4, fz_from6;
static uint8_t		 fz_req[STUN_REQLEN];
static size_t		 fz_reqlen;
static int		 fz_ready;
static uint64_t		 fz_ms = 1000;

static int
fz_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	if (ifid != 1 || len != STUN_REQLEN || !stun_is_message(d, len) ||
	    to->sa.sa_family != AF_INET)
		abort();
	memcpy(fz_req, d, len);
	fz_reqlen = len;
	return 0;
}

static void
fz_learned(const struct sig_reflexive *r)
{
	if (r->ifid != 1 || (r->mapped.sa.sa_family != AF_INET &&
	    r->mapped.sa.sa_family != AF_INET6) ||
	    omni_addr_port(&r->mapped) == 0)
		abort();
}

static void
fz_init(void)
{
	static const struct stun_client_io io = { fz_send, fz_learned };
	struct sig_iface	 si;

	if (sodium_init() == -1)
		abort();
	log_init(0, LOG_DAEMON);
	log_setverbose(0);
	omni_addr_parse("192.0.2.7", 3478, &fz_server);
	omni_addr_parse("198.51.100.4", 40000, &fz_from4);
	omni_addr_parse("2001:db8::4", 40001, &fz_from6);
	stun_client_init(&io);
	memset(&si, 0, sizeof(si));
	si.ifid = 1;
	strlcpy(si.name, "fz0", sizeof(si.name));
	si.nstun = 1;
	si.stun[0] = fz_server;
	si.stun_interval = 5;
	stun_client_reconf(&si, 1, fz_ms);
	fz_ready = 1;
}

static void
fz_answer(const uint8_t *d, size_t len, const struct omni_addr *from)
{
	uint8_t			 out[STUN_MAXANSWER];
	struct omni_addr	 a;
	int			 n, r;

	n = stun_answer_binding(d, len, &from->sa, out, sizeof(out));
	if (n == -1)
		return;
	if (!stun_is_message(d, len) || n < 40 || n > STUN_MAXANSWER ||
	    !stun_is_message(out, n))
		abort();
	r = stun_parse_response(out, n, d + 8, &a);
	if (r == 420)
		return;
	if (r != 0 || a.sa.sa_family != from->sa.sa_family ||
	    omni_addr_port(&a) != omni_addr_port(from))
		abort();
	if (memcmp(&a, from, sizeof(a)) != 0)
		abort();
	/* the nucleus path counts and answers the same */
	if (stun_nucleus_answer(d, len, from, out, sizeof(out)) != n)
		abort();
}

static void
fz_datagram(const uint8_t *d, size_t len)
{
	struct omni_addr	 a;
	int			 r;

	fz_answer(d, len, &fz_from4);
	fz_answer(d, len, &fz_from6);
	if (len >= STUN_HDRLEN) {
		r = stun_parse_response(d, len, d + 8, &a);
		if (r != -1 && r != 0 && (r < 300 || r > 699))
			abort();
		if (r != -1 && !stun_is_message(d, len))
			abort();
	}
}

static void
fz_response(const uint8_t *d, size_t len)
{
	uint8_t		 m[2048];
	size_t		 n;
	uint32_t	 c;

	if (len < 3)
		return;
	/* a fresh transaction now and then */
	fz_ms += 5000;
	stun_client_tick(fz_ms, 1700000000);
	if (fz_reqlen != STUN_REQLEN)
		return;
	n = len - 3;
	n &= ~(size_t)3;
	if (n > sizeof(m) - STUN_HDRLEN - 8)
		n = sizeof(m) - STUN_HDRLEN - 8;
	memcpy(m, fz_req, STUN_HDRLEN);
	m[0] = d[0] & 0x3f;
	m[1] = d[1];
	memcpy(m + STUN_HDRLEN, d + 3, n);
	n += STUN_HDRLEN;
	if (d[2] & 1) {
		m[2] = (n + 8 - STUN_HDRLEN) >> 8;
		m[3] = (n + 8 - STUN_HDRLEN) & 0xff;
		c = stun_crc32(m, n) ^ 0x5354554eU;
		memcpy(m + n, "\x80\x28\x00\x04", 4);
		m[n + 4] = c >> 24;
		m[n + 5] = c >> 16;
		m[n + 6] = c >> 8;
		m[n + 7] = c;
		n += 8;
	} else {
		m[2] = (n - STUN_HDRLEN) >> 8;
		m[3] = (n - STUN_HDRLEN) & 0xff;
	}
	stun_client_input(1, m, n, &fz_server, fz_ms, 1700000000);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz_ready)
		fz_init();
	if (size < 1)
		return 0;
	switch (data[0]) {
	case 0:
		fz_datagram(data + 1, size - 1);
		break;
	case 1:
		fz_response(data + 1, size - 1);
		break;
	default:
		break;
	}
	return 0;
}
