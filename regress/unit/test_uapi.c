/*
 * The UAPI reply parser: well-formed replies, missing fields, bad
 * hex, out-of-range numbers, garbage lines, errno handling.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omni.h"
#include "wg.h"
#include "tap.h"

#define MAXP	8

struct collect {
	int			 n;
	struct wg_peer_stats	 p[MAXP];
};

static int
collect_cb(const struct wg_peer_stats *ps, void *arg)
{
	struct collect	*c = arg;

	if (c->n < MAXP)
		c->p[c->n] = *ps;
	c->n++;
	return 0;
}

static int
stop_cb(const struct wg_peer_stats *ps, void *arg)
{
	int	*calls = arg;

	(*calls)++;
	return 1;
}

static int
parse(const char *s, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	return uapi_parse_get(s, strlen(s), collect_cb, c);
}

static int
count(const char *s)
{
	return uapi_parse_get(s, strlen(s), NULL, NULL);
}

/* A bad reply: -1, EBADMSG, and no peer delivered. */
static void
bad(const char *s, const char *desc)
{
	struct collect	 c;
	int		 rv;

	errno = 0;
	rv = parse(s, &c);
	ok(rv == -1 && errno == EBADMSG && c.n == 0, "rejected: %s", desc);
}

#define K1 "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a"
#define K2 "58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceae2c5d1ad2f"
#define K3 "662e14fd594556f522604703340351258903b64f35553763f19426ab2a515c58"

static const char full[] =
    "private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a\n"
    "listen_port=51820\n"
    "fwmark=0\n"
    "public_key=" K1 "\n"
    "preshared_key=188515093e952f5f22e865cef3012e72f8b5f0b598ac0309d5dacce3b70fcf52\n"
    "protocol_version=1\n"
    "endpoint=192.168.4.21:51820\n"
    "last_handshake_time_sec=1700000000\n"
    "last_handshake_time_nsec=123\n"
    "tx_bytes=38333\n"
    "rx_bytes=2224\n"
    "persistent_keepalive_interval=25\n"
    "allowed_ip=10.99.0.2/32\n"
    "allowed_ip=fd99::2/128\n"
    "public_key=" K2 "\n"
    "endpoint=[fd00:1::2]:51821\n"
    "last_handshake_time_sec=0\n"
    "tx_bytes=18446744073709551615\n"
    "rx_bytes=0\n"
    "public_key=" K3 "\n"
    "endpoint=[fe80::1%7]:1\n"
    "some_future_key=whatever it says\n"
    "errno=0\n"
    "\n";

static void
test_full(void)
{
	struct collect	 c;
	uint8_t		 k1[32];
	char		 a[OMNI_ADDRSTRLEN];
	int		 rv, i;

	rv = parse(full, &c);
	ok(rv == 3 && c.n == 3, "three peers (rv %d, n %d)", rv, c.n);
	for (i = 0; i < 32; i++)
		sscanf(&K1[2 * i], "%2hhx", &k1[i]);
	ok(memcmp(c.p[0].pubkey, k1, 32) == 0, "peer 1 key");
	ok(c.p[0].endpoint.sa.sa_family == AF_INET &&
	    strcmp(omni_addr_str(&c.p[0].endpoint, a, sizeof(a)),
	    "192.168.4.21:51820") == 0, "peer 1 endpoint %s", a);
	ok(c.p[0].last_handshake == 1700000000, "peer 1 handshake");
	ok(c.p[0].tx_bytes == 38333 && c.p[0].rx_bytes == 2224,
	    "peer 1 counters");
	ok(c.p[1].endpoint.sa.sa_family == AF_INET6 &&
	    strcmp(omni_addr_str(&c.p[1].endpoint, a, sizeof(a)),
	    "[fd00:1::2]:51821") == 0, "peer 2 v6 endpoint %s", a);
	ok(c.p[1].tx_bytes == UINT64_MAX, "peer 2 tx_bytes UINT64_MAX");
	ok(c.p[1].last_handshake == 0 && c.p[1].rx_bytes == 0,
	    "peer 2 zeros");
	ok(c.p[2].endpoint.sa.sa_family == AF_INET6 &&
	    c.p[2].endpoint.sin6.sin6_scope_id == 7 &&
	    ntohs(c.p[2].endpoint.sin6.sin6_port) == 1,
	    "peer 3 link-local endpoint with zone");
	ok(c.p[2].rx_bytes == 0 && c.p[2].tx_bytes == 0 &&
	    c.p[2].last_handshake == 0, "peer 3 missing fields are zero");
	ok(uapi_parse_get(full, strlen(full), NULL, NULL) == 3,
	    "NULL callback counts");
}

static void
test_minimal(void)
{
	struct collect	 c;

	ok(parse("errno=0\n\n", &c) == 0 && c.n == 0, "empty device");
	ok(parse("private_key=00\nlisten_port=1\nerrno=0\n\n", &c) == 0,
	    "interface keys only");
	ok(parse("public_key=" K1 "\nerrno=0\n\n", &c) == 1 &&
	    c.p[0].endpoint.sa.sa_family == AF_UNSPEC,
	    "peer with only a key: no endpoint");
	ok(parse("public_key=" K1 "\npublic_key=" K1 "\nerrno=0\n\n",
	    &c) == 2, "repeated key: two records, as sent");
}

static void
test_errno(void)
{
	struct collect	 c;
	char		 err[128];
	int		 rv;

	errno = 0;
	rv = parse("errno=22\n\n", &c);
	ok(rv == -1 && errno == 22, "errno=22 reported as EINVAL");
	memset(&c, 0, sizeof(c));
	rv = uapi_parse_get_err("errno=98\n\n", 10, collect_cb, &c, err,
	    sizeof(err));
	ok(rv == -1 && strstr(err, "errno=98") != NULL, "error text: %s",
	    err);
	rv = parse("public_key=" K1 "\nerrno=5\n\n", &c);
	ok(rv == -1 && errno == 5 && c.n == 0,
	    "peers before a failing errno are not delivered");
	bad("", "empty reply");
	bad("\n", "only an empty line");
	bad("errno=0\n", "no final empty line");
	bad("errno=0", "no newline at all");
	bad("public_key=" K1 "\n\n", "no errno line");
	bad("errno=0\n\nmore\n", "data after the end");
	bad("errno=0\n\n\n", "two empty lines");
	bad("errno=0\nerrno=0\n\n", "errno twice");
	bad("errno=\n\n", "empty errno");
	bad("errno=-1\n\n", "negative errno");
	bad("errno=x\n\n", "errno not a number");
	bad("errno=99999999999\n\n", "errno too large");
	bad("public_key=" K1 "\n\nerrno=0\n\n", "empty line inside");
}

static void
test_hex(void)
{
	bad("public_key=" "e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8"
	    "575680feba52027\nerrno=0\n\n", "63 hex digits");
	bad("public_key=" K1 "0\nerrno=0\n\n", "65 hex digits");
	bad("public_key=g84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8"
	    "575680feba52027a\nerrno=0\n\n", "non-hex digit");
	bad("public_key=\nerrno=0\n\n", "empty key");
	bad("public_key= " K1 "\nerrno=0\n\n", "leading blank");
	bad("public_key=" K1 " \nerrno=0\n\n", "trailing blank");
	ok(count("public_key=E84B5A6D2717C1003A13B431570353DBACA9146"
	    "CF150C5F8575680FEBA52027A\nerrno=0\n\n") == 1,
	    "upper-case hex accepted");
}

static void
test_numbers(void)
{
	bad("public_key=" K1 "\ntx_bytes=18446744073709551616\nerrno=0\n\n",
	    "tx_bytes 2^64");
	bad("public_key=" K1 "\nrx_bytes=99999999999999999999999\n"
	    "errno=0\n\n", "rx_bytes huge");
	bad("public_key=" K1 "\nrx_bytes=-1\nerrno=0\n\n", "rx_bytes negative");
	bad("public_key=" K1 "\nrx_bytes=+1\nerrno=0\n\n", "rx_bytes signed");
	bad("public_key=" K1 "\nrx_bytes=\nerrno=0\n\n", "rx_bytes empty");
	bad("public_key=" K1 "\nrx_bytes=1\r\nerrno=0\n\n", "rx_bytes CR");
	bad("public_key=" K1 "\nrx_bytes=0x10\nerrno=0\n\n", "rx_bytes hex");
	bad("public_key=" K1 "\nlast_handshake_time_sec=9223372036854775808\n"
	    "errno=0\n\n", "handshake past INT64_MAX");
	ok(count("public_key=" K1 "\nlast_handshake_time_sec="
	    "9223372036854775807\nerrno=0\n\n") == 1,
	    "handshake INT64_MAX accepted");
}

static void
test_endpoints(void)
{
	bad("public_key=" K1 "\nendpoint=1.2.3.4\nerrno=0\n\n", "no port");
	bad("public_key=" K1 "\nendpoint=1.2.3.4:65536\nerrno=0\n\n",
	    "port too big");
	bad("public_key=" K1 "\nendpoint=[::1]\nerrno=0\n\n", "v6 no port");
	bad("public_key=" K1 "\nendpoint=::1:5\nerrno=0\n\n",
	    "v6 without brackets");
	bad("public_key=" K1 "\nendpoint=[::1:5\nerrno=0\n\n", "no ]");
	bad("public_key=" K1 "\nendpoint=[]:5\nerrno=0\n\n", "empty host");
	bad("public_key=" K1 "\nendpoint=[::1%]:5\nerrno=0\n\n", "empty zone");
	bad("public_key=" K1 "\nendpoint=host.example:5\nerrno=0\n\n",
	    "host name");
	bad("public_key=" K1 "\nendpoint=[1.2.3.4]:5\nerrno=0\n\n",
	    "v4 in brackets");
}

static void
test_garbage(void)
{
	static const char	 nul[] = "public_key=" K1 "\nx=a\0b\nerrno=0\n\n";
	char			*big;
	struct collect		 c;
	size_t			 n;

	bad("hello\nerrno=0\n\n", "line without =");
	bad("=value\nerrno=0\n\n", "empty key");
	bad("\x01\x02\x03\n", "binary");
	memset(&c, 0, sizeof(c));
	ok(uapi_parse_get(nul, sizeof(nul) - 1, collect_cb, &c) == -1 &&
	    c.n == 0, "rejected: NUL byte inside a line");

	n = UAPI_LINE_MAX + 64;
	if ((big = malloc(n + 32)) == NULL)
		abort();
	memcpy(big, "protocol_version=", 17);
	memset(big + 17, '1', n - 17);
	memcpy(big + n, "\nerrno=0\n\n", 11);
	memset(&c, 0, sizeof(c));
	ok(uapi_parse_get(big, strlen(big), collect_cb, &c) == -1 &&
	    errno == EBADMSG, "rejected: overlong line");
	free(big);

	/* Only the length given counts, not a NUL terminator. */
	ok(uapi_parse_get("errno=0\n\nJUNK", 9, NULL, NULL) == 0,
	    "length bounds the input");
	ok(uapi_parse_get(NULL, 0, NULL, NULL) == -1, "NULL buffer");
}

static void
test_cancel(void)
{
	int	 calls = 0, rv;

	rv = uapi_parse_get(full, strlen(full), stop_cb, &calls);
	ok(rv == -1 && errno == ECANCELED && calls == 1,
	    "callback stops the walk");
}

static void
test_set_reply(void)
{
	int	 e = -1;

	ok(uapi_parse_errno("errno=0\n\n", 9, &e) == 0 && e == 0,
	    "set reply errno=0");
	ok(uapi_parse_errno("errno=22\n\n", 10, &e) == 0 && e == 22,
	    "set reply errno=22");
	ok(uapi_parse_errno("errno=0\n", 8, &e) == -1, "set reply truncated");
	ok(uapi_parse_errno("errno=a\n\n", 9, &e) == -1, "set reply garbage");
	ok(uapi_parse_errno("foo=0\n\n", 7, &e) == -1, "set reply wrong key");
	ok(uapi_parse_errno("errno=1\nx\n\n", 11, &e) == -1,
	    "set reply extra line");
}

int
main(void)
{
	test_full();
	test_minimal();
	test_errno();
	test_hex();
	test_numbers();
	test_endpoints();
	test_garbage();
	test_cancel();
	test_set_reply();
	return tap_done();
}
