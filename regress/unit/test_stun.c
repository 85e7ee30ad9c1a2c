/*
 * STUN codec and client (signald/stun.c).
 *
 * The sample messages of RFC 5769 (section 2) are test data, typed in
 * from the RFC: their FINGERPRINTs must verify and their
 * XOR-MAPPED-ADDRESSes decode to the addresses the RFC names.  Our
 * own answers are checked byte by byte and then parsed back; broken
 * messages of every kind must be refused.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "log.h"
#include "stun.h"
#include "tap.h"

/* RFC 5769 2.1: a Binding request with ICE attributes. */
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x10,			/* SOFTWARE */
	0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,	/* "STUN test client" */
	0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
	0x00, 0x24, 0x00, 0x04,			/* PRIORITY */
	0x6e, 0x00, 0x01, 0xff,
	0x80, 0x29, 0x00, 0x08,			/* ICE-CONTROLLED */
	0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,
	0x00, 0x06, 0x00, 0x09,			/* USERNAME */
	0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
	0x59, 0x20, 0x20, 0x20,
	0x00, 0x08, 0x00, 0x14,			/* MESSAGE-INTEGRITY */
	0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56,
	0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
	0xc1, 0xb5, 0x71, 0xa2,
	0x80, 0x28, 0x00, 0x04,			/* FINGERPRINT */
	0xe5, 0x7a, 0x3b, 0xcf
};

/* RFC 5769 2.2: a response with 192.0.2.1:32853. */
static const uint8_t rfc_response4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b,			/* SOFTWARE */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08,			/* XOR-MAPPED-ADDRESS */
	0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14,			/* MESSAGE-INTEGRITY */
	0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53,
	0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04,			/* FINGERPRINT */
	0xc0, 0x7d, 0x4c, 0x96
};

/* RFC 5769 2.3: a response with [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const uint8_t rfc_response6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b,			/* SOFTWARE */
	0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x14,			/* XOR-MAPPED-ADDRESS */
	0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
	0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9,
	0x00, 0x08, 0x00, 0x14,			/* MESSAGE-INTEGRITY */
	0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1,
	0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
	0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04,			/* FINGERPRINT */
	0xc8, 0xfb, 0x0b, 0x4c
};

static const uint8_t rfc_txid[STUN_TXIDLEN] = {
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
	0xfa, 0x87, 0xdf, 0xae
};

static int
addr_is(const struct omni_addr *a, const char *s)
{
	char	 buf[OMNI_ADDRSTRLEN];

	omni_addr_str(a, buf, sizeof(buf));
	if (strcmp(buf, s) != 0) {
		printf("#   got %s, want %s\n", buf, s);
		return 0;
	}
	return 1;
}

/* Recompute the FINGERPRINT of a message ending in one. */
static void
refinger(uint8_t *m, size_t len)
{
	uint32_t	 c = stun_crc32(m, len - 8) ^ 0x5354554eU;

	m[len - 4] = c >> 24;
	m[len - 3] = c >> 16;
	m[len - 2] = c >> 8;
	m[len - 1] = c;
}

static void
test_crc(void)
{
	ok(stun_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926U,
	    "CRC-32 check value of \"123456789\"");
	ok(stun_crc32(NULL, 0) == 0, "CRC-32 of nothing");
}

static void
test_rfc5769(void)
{
	struct omni_addr	 a;
	struct sockaddr_in	 sin;
	uint8_t			 out[STUN_MAXANSWER], m[sizeof(rfc_response4)];
	int			 n;

	ok(stun_is_message(rfc_request, sizeof(rfc_request)),
	    "RFC 5769 request is STUN");
	ok(stun_is_message(rfc_response4, sizeof(rfc_response4)) &&
	    stun_is_message(rfc_response6, sizeof(rfc_response6)),
	    "RFC 5769 responses are STUN");

	ok(stun_parse_response(rfc_response4, sizeof(rfc_response4),
	    rfc_txid, &a) == 0 && addr_is(&a, "192.0.2.1:32853"),
	    "RFC 5769 IPv4 response: XOR-MAPPED-ADDRESS 192.0.2.1:32853");
	ok(stun_parse_response(rfc_response6, sizeof(rfc_response6),
	    rfc_txid, &a) == 0 &&
	    addr_is(&a, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"),
	    "RFC 5769 IPv6 response: XOR-MAPPED-ADDRESS decoded");
	ok(stun_parse_response(rfc_request, sizeof(rfc_request), rfc_txid,
	    &a) == -1, "a request is no response");

	/* a bad FINGERPRINT makes either message worthless */
	memcpy(m, rfc_response4, sizeof(m));
	m[sizeof(m) - 1] ^= 1;
	ok(stun_parse_response(m, sizeof(m), rfc_txid, &a) == -1,
	    "RFC 5769 response with a flipped FINGERPRINT bit refused");
	memcpy(m, rfc_response4, sizeof(m));
	m[30] ^= 0x20;		/* inside SOFTWARE */
	ok(stun_parse_response(m, sizeof(m), rfc_txid, &a) == -1,
	    "RFC 5769 response with a changed byte refused");

	/*
	 * PRIORITY (0x0024) is comprehension-required and ICE's, not
	 * ours: a plain STUN server answers 420 naming it.
	 */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(32853);
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	n = stun_answer_binding(rfc_request, sizeof(rfc_request),
	    (struct sockaddr *)&sin, out, sizeof(out));
	ok(n == 20 + 28 + 8 + 8, "420 answer to the RFC 5769 request, %d "
	    "bytes", n);
	ok(n > 0 && out[0] == 0x01 && out[1] == 0x11 &&
	    memcmp(out + 8, rfc_txid, 12) == 0, "error response, same "
	    "transaction");
	ok(n > 0 && out[20] == 0x00 && out[21] == 0x09 && out[26] == 4 &&
	    out[27] == 20, "ERROR-CODE 420");
	ok(n > 0 && out[48] == 0x00 && out[49] == 0x0a && out[50] == 0 &&
	    out[51] == 2 && out[52] == 0x00 && out[53] == 0x24,
	    "UNKNOWN-ATTRIBUTES names PRIORITY only");
	ok(n > 0 && stun_parse_response(out, n, rfc_txid, &a) == 420,
	    "our 420 parses back as error 420");
}

static int
answer_to(const char *ip, uint16_t port, const uint8_t *req, size_t len,
    uint8_t *out, size_t outlen)
{
	struct omni_addr	 from;

	if (omni_addr_parse(ip, port, &from) == -1)
		return -2;
	return stun_answer_binding(req, len, &from.sa, out, outlen);
}

static void
test_answer(void)
{
	static const uint8_t	 want4[] = {
		0x01, 0x01, 0x00, 0x14, 0x21, 0x12, 0xa4, 0x42,
		0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
		0xfa, 0x87, 0xdf, 0xae,
		0x00, 0x20, 0x00, 0x08,
		0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
		0x80, 0x28, 0x00, 0x04
	};
	static const uint8_t	 want6[] = {
		0x00, 0x20, 0x00, 0x14,
		0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
		0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
		0xbe, 0xd2, 0xb9, 0xd9
	};
	uint8_t			 req[128], out[STUN_MAXANSWER], txid[12];
	struct omni_addr	 a, from;
	int			 n, i;

	memcpy(txid, rfc_txid, sizeof(txid));
	n = stun_build_request(txid, req, sizeof(req));
	ok(n == STUN_REQLEN && stun_is_message(req, n) && req[0] == 0 &&
	    req[1] == 1 && req[2] == 0 && req[3] == 8 &&
	    req[20] == 0x80 && req[21] == 0x28, "request: header and "
	    "FINGERPRINT, %d bytes", n);
	ok(stun_build_request(txid, req, STUN_REQLEN - 1) == -1,
	    "request: short buffer refused");

	/* the RFC's addresses, encoded by us, must give the RFC's bytes */
	n = answer_to("192.0.2.1", 32853, req, STUN_REQLEN, out,
	    sizeof(out));
	ok(n == 40 && memcmp(out, want4, sizeof(want4)) == 0,
	    "IPv4 answer: XOR-MAPPED-ADDRESS as in RFC 5769 (%d bytes)", n);
	ok(n == 40 && stun_parse_response(out, n, txid, &a) == 0 &&
	    addr_is(&a, "192.0.2.1:32853"), "IPv4 answer parses back");
	n = answer_to("2001:db8:1234:5678:11:2233:4455:6677", 32853, req,
	    STUN_REQLEN, out, sizeof(out));
	ok(n == 52 && memcmp(out + 20, want6, sizeof(want6)) == 0,
	    "IPv6 answer: XOR-MAPPED-ADDRESS as in RFC 5769 (%d bytes)", n);
	ok(n == 52 && stun_parse_response(out, n, txid, &a) == 0 &&
	    addr_is(&a, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"),
	    "IPv6 answer parses back");
	n = answer_to("::ffff:198.18.0.2", 40000, req, STUN_REQLEN, out,
	    sizeof(out));
	ok(n == 40 && stun_parse_response(out, n, txid, &a) == 0 &&
	    addr_is(&a, "198.18.0.2:40000"),
	    "a v4-mapped IPv6 source is answered as IPv4");
	ok(answer_to("2001:db8::1", 1, req, STUN_REQLEN, out, 51) == -1,
	    "answer: short buffer refused");
	ok(stun_parse_response(out, 40, (const uint8_t *)"other-txid..",
	    &a) == -1, "answer to another transaction refused");

	/* no FINGERPRINT is fine too: a 20-byte request */
	memcpy(req + 2, "\0\0", 2);
	n = answer_to("192.0.2.1", 32853, req, 20, out, sizeof(out));
	ok(n == 40, "a bare 20-byte request is answered (%d bytes)", n);
	ok(n <= 40 + 12 && STUN_MAXANSWER <= 80,
	    "answers stay within 52 bytes (420s within %d)", STUN_MAXANSWER);

	/* unknown comprehension-required attributes: at most 4 listed */
	n = stun_build_request(txid, req, sizeof(req));
	memmove(req + 20 + 5 * 8, req + 20, 8);
	for (i = 0; i < 5; i++) {
		req[20 + i * 8] = 0x7f;
		req[21 + i * 8] = 0xf0 + i;
		req[22 + i * 8] = 0;
		req[23 + i * 8] = 4;
		memset(req + 24 + i * 8, 0xee, 4);
	}
	req[3] = 48;
	refinger(req, 68);
	n = answer_to("192.0.2.1", 32853, req, 68, out, sizeof(out));
	ok(n == 20 + 28 + 12 + 8 && out[1] == 0x11 && out[51] == 8 &&
	    out[52] == 0x7f && out[53] == 0xf0 && out[58] == 0x7f &&
	    out[59] == 0xf3, "420 lists the first 4 unknown attributes "
	    "(%d bytes)", n);
	/* an unknown comprehension-optional one is ignored */
	req[20] = 0xff;
	req[28] = 0xff; req[36] = 0xff; req[44] = 0xff; req[52] = 0xff;
	refinger(req, 68);
	n = answer_to("192.0.2.1", 32853, req, 68, out, sizeof(out));
	ok(n == 40 && out[1] == 0x01, "optional attributes ignored");

	/* who gets no answer */
	n = stun_build_request(txid, req, sizeof(req));
	req[1] = 0x11;		/* an indication */
	refinger(req, n);
	ok(answer_to("192.0.2.1", 1, req, n, out, sizeof(out)) == -1,
	    "Binding indication: no answer");
	req[1] = 0x01;
	req[0] = 0x00; req[1] = 0x03;	/* Allocate (TURN) */
	refinger(req, n);
	ok(answer_to("192.0.2.1", 1, req, n, out, sizeof(out)) == -1,
	    "another method: no answer");
	n = stun_build_request(txid, req, sizeof(req));
	ok(answer_to("192.0.2.1", 1, rfc_response4, sizeof(rfc_response4),
	    out, sizeof(out)) == -1, "a response: no answer");
	memset(&from, 0, sizeof(from));
	from.sa.sa_family = AF_UNIX;
	ok(stun_answer_binding(req, n, &from.sa, out, sizeof(out)) == -1,
	    "a source of another family: no answer");
	ok(stun_answer_binding(req, n, NULL, out, sizeof(out)) == -1,
	    "no source: no answer");
}

static void
test_refused(void)
{
	uint8_t			 req[128], out[STUN_MAXANSWER], txid[12];
	uint8_t			 big[2048];
	struct omni_addr	 a;
	size_t			 i;
	int			 n;

	memcpy(txid, rfc_txid, sizeof(txid));
	n = stun_build_request(txid, req, sizeof(req));

	for (i = 0; i < STUN_REQLEN; i++)
		if (stun_is_message(req, i) ||
		    answer_to("192.0.2.1", 1, req, i, out, sizeof(out)) != -1)
			break;
	ok(i == STUN_REQLEN, "every truncation of a request refused");
	for (i = 0; i < sizeof(rfc_response4); i++)
		if (stun_parse_response(rfc_response4, i, rfc_txid, &a) != -1)
			break;
	ok(i == sizeof(rfc_response4),
	    "every truncation of a response refused");

	req[4] ^= 0x01;
	ok(!stun_is_message(req, n), "bad magic cookie refused");
	req[4] ^= 0x01;
	req[0] |= 0x40;
	ok(!stun_is_message(req, n), "top bits set refused");
	req[0] &= ~0x40;
	req[3] = 9;
	ok(!stun_is_message(req, n), "length not a multiple of 4 refused");
	req[3] = 12;
	ok(!stun_is_message(req, n), "length longer than the datagram "
	    "refused");
	req[3] = 4;
	ok(!stun_is_message(req, n), "length shorter than the datagram "
	    "refused");
	req[3] = 8;
	ok(stun_is_message(req, n), "restored request is STUN again");

	/* signaling datagrams (version 1, then a CBOR map) are not STUN */
	memset(big, 0, sizeof(big));
	big[0] = 1; big[1] = 1; big[2] = 0xa7;
	ok(!stun_is_message(big, 120), "a signaling datagram is not STUN");

	/* an attribute running past the end */
	req[22] = 0; req[23] = 8;
	ok(answer_to("192.0.2.1", 1, req, n, out, sizeof(out)) == -1,
	    "attribute longer than the message refused");
	n = stun_build_request(txid, req, sizeof(req));
	req[n - 1] ^= 0xff;
	ok(answer_to("192.0.2.1", 1, req, n, out, sizeof(out)) == -1,
	    "bad FINGERPRINT refused");
	n = stun_build_request(txid, req, sizeof(req));
	req[23] = 8;		/* FINGERPRINT of 8 bytes */
	req[3] = 12;
	memset(req + n, 0, 4);
	ok(answer_to("192.0.2.1", 1, req, n + 4, out, sizeof(out)) == -1,
	    "FINGERPRINT of the wrong length refused");
	/* FINGERPRINT not last */
	n = stun_build_request(txid, req, sizeof(req));
	memcpy(req + 28, "\x80\x22\x00\x04test", 8);
	req[3] = 16;
	ok(answer_to("192.0.2.1", 1, req, 36, out, sizeof(out)) == -1,
	    "FINGERPRINT that is not last refused");

	/* oversized: 1 kB of padding attributes is still STUN, and fine */
	n = stun_build_request(txid, big, sizeof(big));
	for (i = 20; i < 20 + 1024; i += 8)
		memcpy(big + i, "\x80\x22\x00\x04" "abcd", 8);
	big[2] = (1024 + 8) >> 8;
	big[3] = (1024 + 8) & 0xff;
	memcpy(big + 20 + 1024, "\x80\x28\x00\x04", 4);
	refinger(big, 20 + 1024 + 8);
	n = answer_to("192.0.2.1", 1, big, 20 + 1024 + 8, out, sizeof(out));
	ok(n == 40, "a large request gets the same small answer (%d)", n);
	big[2] = 0xff; big[3] = 0xfc;
	ok(!stun_is_message(big, 2048), "length field beyond the datagram "
	    "refused");

	/* responses without a usable address */
	n = stun_build_request(txid, req, sizeof(req));
	n = answer_to("192.0.2.1", 32853, req, n, out, sizeof(out));
	memcpy(req, out, n);
	req[25] = 3;		/* family 3 */
	refinger(req, n);
	ok(stun_parse_response(req, n, txid, &a) == -1,
	    "unknown address family refused");
	memcpy(req, out, n);
	req[26] = 0x21; req[27] = 0x12;	/* XORed port 0 */
	refinger(req, n);
	ok(stun_parse_response(req, n, txid, &a) == -1, "port 0 refused");
	memcpy(req, out, n);
	req[25] = 2;		/* IPv6 with an IPv4 length */
	refinger(req, n);
	ok(stun_parse_response(req, n, txid, &a) == -1,
	    "address length not matching its family refused");

	/* MAPPED-ADDRESS is the fallback */
	memcpy(req, out, n);
	req[21] = 0x01;
	req[26] = 0x80; req[27] = 0x55;
	req[28] = 192; req[29] = 0; req[30] = 2; req[31] = 99;
	refinger(req, n);
	ok(stun_parse_response(req, n, txid, &a) == 0 &&
	    addr_is(&a, "192.0.2.99:32853"), "MAPPED-ADDRESS when there "
	    "is no XOR-MAPPED-ADDRESS");
	/* an error response without ERROR-CODE is malformed */
	memcpy(req, out, n);
	req[1] = 0x11;
	refinger(req, n);
	ok(stun_parse_response(req, n, txid, &a) == -1,
	    "error response without ERROR-CODE refused");
}

/* --- client ----------------------------------------------------------- */

static struct {
	int			 nsent;
	uint8_t			 last[64];
	size_t			 lastlen;
	struct omni_addr	 to;
	int			 nlearned;
	struct sig_reflexive	 ref;
	int			 fail;
} cl;

static int
cl_send(uint32_t ifid, const struct omni_addr *to, const uint8_t *d,
    size_t len)
{
	(void)ifid;
	if (cl.fail)
		return -1;
	cl.nsent++;
	memcpy(cl.last, d, len);
	cl.lastlen = len;
	cl.to = *to;
	return 0;
}

static void
cl_learned(const struct sig_reflexive *r)
{
	cl.nlearned++;
	cl.ref = *r;
}

static void
test_client(void)
{
	static const struct stun_client_io io = { cl_send, cl_learned };
	struct sig_iface	 si;
	struct omni_addr	 me, other;
	uint8_t			 ans[STUN_MAXANSWER], txid[12];
	uint64_t		 t = 1000000;
	int			 n, sends[20], i;
	char			 buf[OMNI_ADDRSTRLEN];

	stun_client_init(&io);
	memset(&si, 0, sizeof(si));
	si.ifid = 7;
	strlcpy(si.name, "omni0", sizeof(si.name));
	si.nstun = 1;
	omni_addr_parse("192.0.2.50", 3478, &si.stun[0]);
	si.stun_interval = 10;
	ok(stun_iface_valid(&si), "interface with one STUN server valid");
	si.stun_interval = 4;
	ok(!stun_iface_valid(&si), "stun interval 4 invalid");
	si.stun_interval = 10;
	si.nstun = 5;
	ok(!stun_iface_valid(&si), "5 STUN servers invalid");
	si.nstun = 1;

	stun_client_reconf(&si, 1, t);
	/* requests at 0, 1, 3 and 7 s, then silence until the next round */
	for (i = 0; i < 20; i++) {
		stun_client_tick(t + i * 1000, 0);
		sends[i] = cl.nsent;
	}
	ok(sends[0] == 1 && sends[1] == 2 && sends[2] == 2 &&
	    sends[3] == 3 && sends[6] == 3 && sends[7] == 4 &&
	    sends[9] == 4 && sends[10] == 5, "retransmissions at 1, 3, 7 s; "
	    "a new transaction at 10 s (%d %d %d %d %d)", sends[0], sends[1],
	    sends[3], sends[7], sends[10]);
	ok(sends[19] == 8, "bounded: 4 requests per transaction (%d in 20 s)",
	    sends[19]);
	ok(addr_is(&cl.to, "192.0.2.50:3478") && cl.lastlen == STUN_REQLEN,
	    "requests go to the server");

	/* the answer, from the server, to the current transaction */
	memcpy(txid, cl.last + 8, 12);
	omni_addr_parse("203.0.113.9", 61000, &me);
	n = stun_answer_binding(cl.last, cl.lastlen, &me.sa, ans,
	    sizeof(ans));
	omni_addr_parse("192.0.2.51", 3478, &other);
	stun_client_input(7, ans, n, &other, t + 19000, 1700000000);
	ok(cl.nlearned == 0, "an answer from another address is ignored");
	stun_client_input(8, ans, n, &si.stun[0], t + 19000, 1700000000);
	ok(cl.nlearned == 0, "an answer on another interface is ignored");
	stun_client_input(7, ans, n, &si.stun[0], t + 19000, 1700000000);
	ok(cl.nlearned == 1 && cl.ref.ifid == 7 && cl.ref.time == 1700000000 &&
	    addr_is(&cl.ref.mapped, "203.0.113.9:61000") &&
	    addr_is(&cl.ref.server, "192.0.2.50:3478"),
	    "the answer is learned and reported: %s",
	    omni_addr_str(&cl.ref.mapped, buf, sizeof(buf)));
	stun_client_input(7, ans, n, &si.stun[0], t + 19000, 1700000000);
	ok(cl.nlearned == 1, "a duplicate answer is ignored");
	n = cl.nsent;
	stun_client_tick(t + 19500, 0);
	ok(cl.nsent == n, "no retransmission once answered");

	/* a reload keeps the server's state */
	stun_client_reconf(&si, 1, t + 19600);
	stun_client_tick(t + 19700, 0);
	ok(cl.nsent == n, "a reload does not ask again at once");
	si.stun_interval = 0;
	ok(stun_iface_valid(&si), "interval 0 (default) valid");
	si.nstun = 0;
	stun_client_reconf(&si, 1, t + 20000);
	stun_client_tick(t + 40000, 0);
	ok(cl.nsent == n, "no servers, no requests");

	/* sends that fail still count as tries */
	si.nstun = 1;
	si.stun_interval = 30;
	cl.fail = 1;
	stun_client_reconf(&si, 1, t + 50000);
	for (i = 0; i < 30; i++)
		stun_client_tick(t + 50000 + i * 1000, 0);
	cl.fail = 0;
	ok(cl.nsent == n && stun_stats.client_timeouts >= 1,
	    "failed sends do not loop (timeouts %llu)",
	    (unsigned long long)stun_stats.client_timeouts);
}

int
main(void)
{
	log_init(1, LOG_DAEMON);
	log_setverbose(0);
	if (sodium_init() == -1)
		return 1;
	test_crc();
	test_rfc5769();
	test_answer();
	test_refused();
	test_client();
	return tap_done();
}
