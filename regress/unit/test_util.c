/*
 * Helpers of common/util.c and common/keys.c: addresses, prefixes,
 * base64 keys, key derivation.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "omni.h"
#include "tap.h"

static int
addr_is(const char *in, uint16_t defport, const char *want)
{
	struct omni_addr	 a;
	char			 buf[OMNI_ADDRSTRLEN];

	if (omni_addr_parse(in, defport, &a) == -1) {
		printf("# %s: parse failed\n", in);
		return 0;
	}
	omni_addr_str(&a, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		printf("# %s: got %s, want %s\n", in, buf, want);
		return 0;
	}
	return 1;
}

static int
addr_bad(const char *in, uint16_t defport)
{
	struct omni_addr	 a;

	return omni_addr_parse(in, defport, &a) == -1;
}

static void
test_addr(void)
{
	static const char *const bad[] = {
		"", ":", ":80", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536",
		"1.2.3.4:99999999999", "1.2.3.4:-1", "1.2.3.4:80x",
		"1.2.3.4:0x50", "1.2.3.4:1:2", "1.2.3", "1.2.3.4.5",
		"256.1.1.1", "host.example:80", "localhost", "[::1", "[::1]x",
		"[::1]:", "[::1]:0", "[::1]:65536", "::1]:80", "[1.2.3]:80",
		"[::g]:80", "fe80::1%eth0", "1.2.3.4 ", " 1.2.3.4",
		"[]:80", "[]", "[[::1]]:80", "1.2.3.4: 80", "1.2.3.4:+80",
		"[::1]: 80", "[::1]:+80", "1.2.3.4:80 ",
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	};
	struct omni_addr	 a;
	char			 buf[OMNI_ADDRSTRLEN];
	size_t			 i;

	ok(addr_is("1.2.3.4:5", 0, "1.2.3.4:5"), "v4 with port");
	ok(addr_is("1.2.3.4", 51900, "1.2.3.4:51900"), "v4 default port");
	ok(addr_is("0.0.0.0:65535", 0, "0.0.0.0:65535"), "v4 port 65535");
	ok(addr_is("10.0.0.1:1", 0, "10.0.0.1:1"), "v4 port 1");
	ok(addr_is("[::1]:5", 0, "[::1]:5"), "v6 in brackets with port");
	ok(addr_is("[::1]", 9090, "[::1]:9090"), "v6 in brackets, default");
	ok(addr_is("::1", 9090, "[::1]:9090"), "bare v6, default port");
	ok(addr_is("fd00::1", 7, "[fd00::1]:7"), "bare v6 fd00::1");
	ok(addr_is("[2001:DB8::0:1]:443", 0, "[2001:db8::1]:443"),
	    "v6 canonicalised");
	ok(addr_is("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", 0,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
	    "longest plain v6 with port");
	ok(addr_is("[::ffff:255.255.255.255]:65535", 0,
	    "[::ffff:255.255.255.255]:65535"), "v4-mapped v6 with port");
	ok(addr_is("[0000:0000:0000:0000:0000:ffff:255.255.255.255]:65535",
	    0, "[::ffff:255.255.255.255]:65535"),
	    "longest textual v6 with port");
	ok(addr_bad("1.2.3.4", 0), "v4 without port, no default: refused");
	ok(addr_bad("::1", 0), "v6 without port, no default: refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(addr_bad(bad[i], 80), "refused: \"%s\"", bad[i]);

	ok(omni_addr_parse("1.2.3.4:80", 0, &a) == 0 &&
	    a.sa.sa_family == AF_INET && omni_addr_port(&a) == 80 &&
	    omni_addr_len(&a) == sizeof(struct sockaddr_in),
	    "v4 family, port, length");
	ok(omni_addr_parse("[::1]:80", 0, &a) == 0 &&
	    a.sa.sa_family == AF_INET6 && omni_addr_port(&a) == 80 &&
	    omni_addr_len(&a) == sizeof(struct sockaddr_in6),
	    "v6 family, port, length");
	memset(&a, 0, sizeof(a));
	ok(strcmp(omni_addr_str(&a, buf, sizeof(buf)), "(none)") == 0 &&
	    omni_addr_len(&a) == 0 && omni_addr_port(&a) == 0,
	    "AF_UNSPEC prints (none)");
	omni_addr_parse("[2001:db8::1]:65535", 0, &a);
	omni_addr_str(&a, buf, 8);
	ok(strlen(buf) == 7, "string truncated to its buffer");
}

static int
prefix_is(const char *in, const char *want)
{
	struct omni_prefix	 p;
	char			 buf[OMNI_PREFIXSTRLEN];

	if (omni_prefix_parse(in, &p) == -1) {
		printf("# %s: parse failed\n", in);
		return 0;
	}
	omni_prefix_str(&p, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		printf("# %s: got %s, want %s\n", in, buf, want);
		return 0;
	}
	return 1;
}

static void
test_prefix(void)
{
	static const char *const bad[] = {
		"", "/24", "10.0.0.1/", "10.0.0.1/0", "10.0.0.1/33",
		"10.0.0.1/-1", "10.0.0.1/24x", "10.0.0.1/24/1", "10.0.0/24",
		"fd00::1/0", "fd00::1/129", "fd00::1/1000", "fd00::g/64",
		"10.0.0.1 /24", "x", "10.0.0.1/ 24", "10.0.0.1/+24",
		"10.0.0.1/24 ",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/64",
	};
	struct omni_prefix	 p, q;
	char			 buf[OMNI_PREFIXSTRLEN];
	size_t			 i;

	ok(prefix_is("10.1.2.3/24", "10.1.2.3/24"), "v4 /24");
	ok(prefix_is("10.1.2.3", "10.1.2.3/32"), "v4 host prefix");
	ok(prefix_is("10.1.2.3/1", "10.1.2.3/1"), "v4 /1");
	ok(prefix_is("10.1.2.3/32", "10.1.2.3/32"), "v4 /32");
	ok(prefix_is("fd00::1/64", "fd00::1/64"), "v6 /64");
	ok(prefix_is("fd00::1", "fd00::1/128"), "v6 host prefix");
	ok(prefix_is("fd00::1/128", "fd00::1/128"), "v6 /128");
	ok(prefix_is("fd00::1/1", "fd00::1/1"), "v6 /1");
	ok(prefix_is(
	    "0000:0000:0000:0000:0000:ffff:255.255.255.255/128",
	    "::ffff:255.255.255.255/128"), "longest textual v6 prefix");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(omni_prefix_parse(bad[i], &p) == -1, "refused: \"%s\"",
		    bad[i]);
	ok(omni_prefix_parse("10.0.0.1/24", &p) == 0 && p.af == AF_INET &&
	    p.plen == 24 && p.addr[0] == 10 && p.addr[3] == 1,
	    "v4 prefix fields");
	omni_prefix_parse("10.0.0.1/24", &q);
	ok(omni_prefix_eq(&p, &q), "equal prefixes");
	omni_prefix_parse("10.0.0.1/25", &q);
	ok(!omni_prefix_eq(&p, &q), "different length differs");
	omni_prefix_parse("10.0.0.2/24", &q);
	ok(!omni_prefix_eq(&p, &q), "different address differs");
	omni_prefix_parse("::a00:1/24", &q);
	ok(!omni_prefix_eq(&p, &q), "different family differs");
	memset(&p, 0, sizeof(p));
	ok(strcmp(omni_prefix_str(&p, buf, sizeof(buf)), "(none)") == 0,
	    "no family prints (none)");
}

static void
test_base64(void)
{
	uint8_t		 key[OMNI_KEYLEN], back[OMNI_KEYLEN];
	char		 b64[OMNI_KEY_B64LEN], mod[OMNI_KEY_B64LEN + 8];
	int		 i;

	for (i = 0; i < OMNI_KEYLEN; i++)
		key[i] = (uint8_t)(i * 37 + 11);
	ok(omni_key_to_base64(key, b64, sizeof(b64)) == 0 &&
	    strlen(b64) == 44 && b64[43] == '=', "key to base64");
	ok(omni_key_from_base64(b64, back) == 0 &&
	    memcmp(key, back, sizeof(key)) == 0, "base64 round trip");
	ok(omni_key_to_base64(key, b64, sizeof(b64) - 1) == -1,
	    "short buffer refused");
	memset(key, 0, sizeof(key));
	omni_key_to_base64(key, b64, sizeof(b64));
	ok(strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=") == 0,
	    "zero key encodes as expected");
	/* A known WireGuard-style key. */
	ok(omni_key_from_base64("yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=",
	    back) == 0 && back[0] == 0xc8 && back[31] == 0x69,
	    "known key decodes");

	ok(omni_key_from_base64("", back) == -1, "empty refused");
	ok(omni_key_from_base64("AAAA", back) == -1, "short refused");
	strlcpy(mod, b64, sizeof(mod));
	mod[43] = 'A';
	ok(omni_key_from_base64(mod, back) == -1, "no padding refused");
	strlcpy(mod, b64, sizeof(mod));
	strlcat(mod, "A", sizeof(mod));
	ok(omni_key_from_base64(mod, back) == -1, "too long refused");
	strlcpy(mod, b64, sizeof(mod));
	mod[10] = '!';
	ok(omni_key_from_base64(mod, back) == -1, "bad character refused");
	strlcpy(mod, b64, sizeof(mod));
	mod[10] = '-';
	ok(omni_key_from_base64(mod, back) == -1, "URL alphabet refused");
	strlcpy(mod, b64, sizeof(mod));
	mod[10] = ' ';
	ok(omni_key_from_base64(mod, back) == -1, "space refused");
	/* 43 characters then '=' leaves 2 spare bits; they must be 0. */
	strlcpy(mod, b64, sizeof(mod));
	mod[42] = 'B';
	ok(omni_key_from_base64(mod, back) == -1, "non-zero spare bits refused");
	ok(omni_key_from_base64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
	    back) == -1, "31-byte key refused");
}

static void
test_keys(void)
{
	uint8_t	 r1[32], r2[32], r3[32], a[32], b[32], c[32], d[32], e[32];
	uint8_t	 f[32], g[32];

	keys_derive_root("correct horse battery", 21, r1);
	keys_derive_root("correct horse battery", 21, r2);
	ok(memcmp(r1, r2, 32) == 0, "root derivation deterministic");
	keys_derive_root("correct horse batterz", 21, r3);
	ok(memcmp(r1, r3, 32) != 0, "different secret, different root");
	keys_derive_root("correct horse battery", 20, r3);
	ok(memcmp(r1, r3, 32) != 0, "length of the secret counts");

	keys_derive_cluster(r1, KEY_PURPOSE_SIGNAL, "prod", a);
	keys_derive_cluster(r2, KEY_PURPOSE_SIGNAL, "prod", b);
	ok(memcmp(a, b, 32) == 0, "cluster key deterministic");
	keys_derive_cluster(r1, KEY_PURPOSE_SIGNAL, "test", c);
	ok(memcmp(a, c, 32) != 0, "distinct per cluster");
	keys_derive_cluster(r1, KEY_PURPOSE_PSK, "prod", d);
	ok(memcmp(a, d, 32) != 0, "distinct per purpose");
	keys_derive_cluster(r3, KEY_PURPOSE_SIGNAL, "prod", e);
	ok(memcmp(a, e, 32) != 0, "distinct per root");
	ok(memcmp(a, r1, 32) != 0, "cluster key is not the root");
	/* The purpose/name boundary is unambiguous. */
	keys_derive_cluster(r1, "ab", "c", f);
	keys_derive_cluster(r1, "a", "bc", g);
	ok(memcmp(f, g, 32) != 0, "\"ab\"+\"c\" differs from \"a\"+\"bc\"");
	keys_derive_cluster(r1, KEY_PURPOSE_SIGNAL, "", f);
	ok(memcmp(a, f, 32) != 0, "empty cluster name distinct");
}

/* issue 7: private or local addresses (direct-lan), the others public */
static void
test_addr_private(void)
{
	static const char *const priv[] = {
		"10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1",
		"100.64.0.1", "100.127.255.254", "169.254.1.1", "127.0.0.1",
		"[fc00::1]", "[fd00::1]", "[fe80::1]", "[febf::ffff]",
		"[::1]", "[::ffff:10.0.0.1]", "[::ffff:172.16.0.1]",
		"[::ffff:192.168.0.1]", "[::ffff:100.64.0.1]",
		"[::ffff:169.254.0.1]", "[::ffff:127.0.0.1]",
	};
	static const char *const pub[] = {
		"198.18.0.2", "198.19.255.254", "203.0.113.5", "1.1.1.1",
		"9.255.255.255", "11.0.0.0", "172.15.255.255", "172.32.0.0",
		"192.167.255.255", "192.169.0.0", "100.63.255.255",
		"100.128.0.0", "169.253.255.255", "169.255.0.0", "128.0.0.1",
		"[2001:db8::1]", "[2a00:1450:4001::5]", "[fbff::1]",
		"[fec0::1]", "[::2]", "[::ffff:198.18.0.2]", "[::10.0.0.1]",
	};
	struct omni_addr	 a;
	size_t			 i;

	for (i = 0; i < sizeof(priv) / sizeof(priv[0]); i++)
		ok(omni_addr_parse(priv[i], 1, &a) == 0 &&
		    omni_addr_is_private(&a), "%s is private or local",
		    priv[i]);
	for (i = 0; i < sizeof(pub) / sizeof(pub[0]); i++)
		ok(omni_addr_parse(pub[i], 1, &a) == 0 &&
		    !omni_addr_is_private(&a), "%s is public", pub[i]);
	memset(&a, 0, sizeof(a));
	ok(!omni_addr_is_private(&a), "no address is not a private one");
}

/* issue 7: what the parent and wgctld check of a peer path */
static void
test_peer_path(void)
{
	struct peer_path	 pp, good;

	memset(&good, 0, sizeof(good));
	good.state = PROBE_OK;
	good.kind = CAND_REFLEXIVE;
	omni_addr_parse("198.18.0.2", 51820, &good.local);
	omni_addr_parse("203.0.113.5", 40312, &good.remote);
	good.probe_us = 1500;
	ok(omni_peer_path_check(&good) == NULL, "a path in use is sane");
	pp = good;
	pp.kind = CAND_NONE;
	pp.state = PROBE_FAILED;
	memset(&pp.local, 0, sizeof(pp.local));
	memset(&pp.remote, 0, sizeof(pp.remote));
	pp.probe_us = -1;
	strlcpy(pp.reason, "symmetric NAT", sizeof(pp.reason));
	ok(omni_peer_path_check(&pp) == NULL, "no path, with a reason: sane");
	pp = good;
	pp.state = PROBE_FAILED + 1;
	ok(omni_peer_path_check(&pp) != NULL, "probe state out of range");
	pp.state = -1;
	ok(omni_peer_path_check(&pp) != NULL, "negative probe state");
	pp = good;
	pp.kind = CAND_PEER_REFLEXIVE + 1;
	ok(omni_peer_path_check(&pp) != NULL, "candidate kind out of range");
	pp = good;
	memset(&pp.remote, 0, sizeof(pp.remote));
	ok(omni_peer_path_check(&pp) != NULL,
	    "a candidate in use without its address");
	pp = good;
	pp.local.sa.sa_family = AF_UNIX;
	ok(omni_peer_path_check(&pp) != NULL, "an address of another family");
	pp = good;
	pp.remote.sin.sin_port = 0;
	ok(omni_peer_path_check(&pp) != NULL, "an address without a port");
	pp = good;
	pp.probe_us = -2;
	ok(omni_peer_path_check(&pp) != NULL, "a negative probe time");
	pp = good;
	memset(pp.reason, 'x', sizeof(pp.reason));
	ok(omni_peer_path_check(&pp) != NULL, "an unterminated reason");
}

int
main(void)
{
	if (sodium_init() == -1)
		return 1;
	test_addr();
	test_addr_private();
	test_prefix();
	test_base64();
	test_keys();
	test_peer_path();
	return tap_done();
}
