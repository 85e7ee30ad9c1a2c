/*
 * Small helpers shared by every program: addresses, prefixes, keys.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "omni.h"

/* A fixed-size string field from a peer is valid when NUL terminated. */
int
omni_str_valid(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/*
 * issue 7: what every receiver of a struct peer_path checks, the
 * parent and wgctld alike.  Returns NULL when it is sane, else what is
 * wrong.  The interface and the key are the receiver's to check.
 */
const char *
omni_peer_path_check(const struct peer_path *pp)
{
	const struct omni_addr	*a[2] = { &pp->local, &pp->remote };
	int			 i;

	if (pp->state < PROBE_IDLE || pp->state > PROBE_FAILED)
		return "probe state";
	if (pp->kind < CAND_NONE || pp->kind > CAND_PEER_REFLEXIVE)
		return "candidate kind";
	for (i = 0; i < 2; i++)
		if (a[i]->sa.sa_family != AF_UNSPEC &&
		    omni_addr_port(a[i]) == 0)
			return "address";
	/* a candidate in use is somewhere */
	if (pp->kind != CAND_NONE && pp->remote.sa.sa_family == AF_UNSPEC)
		return "address";
	if (pp->probe_us < -1)
		return "probe time";
	if (!omni_str_valid(pp->reason, sizeof(pp->reason)))
		return "reason";
	return NULL;
}

const char *
omni_proc_name(enum omni_proc p)
{
	switch (p) {
	case PROC_PARENT:	return "parent";
	case PROC_CONFIG:	return "config";
	case PROC_SIGNALD:	return "signald";
	case PROC_WGCTLD:	return "wgctld";
	case PROC_METRICSD:	return "metricsd";
	case PROC_CONTROL:	return "control";
	default:		return "unknown";
	}
}

socklen_t
omni_addr_len(const struct omni_addr *a)
{
	switch (a->sa.sa_family) {
	case AF_INET:	return sizeof(struct sockaddr_in);
	case AF_INET6:	return sizeof(struct sockaddr_in6);
	default:	return 0;
	}
}

uint16_t
omni_addr_port(const struct omni_addr *a)
{
	switch (a->sa.sa_family) {
	case AF_INET:	return ntohs(a->sin.sin_port);
	case AF_INET6:	return ntohs(a->sin6.sin6_port);
	default:	return 0;
	}
}

const char *
omni_addr_str(const struct omni_addr *a, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	switch (a->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin.sin_port));
		break;
	case AF_INET6:
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(a->sin6.sin6_port));
		break;
	default:
		snprintf(buf, len, "(none)");
		break;
	}
	return buf;
}

/*
 * A private or local address: one the peer can only be reached at on
 * a network we share with it, not across the internet.  show peers
 * calls a path to such a host candidate of the peer direct-lan, to
 * any other one direct (issue 7); signald's probe engine takes a peer
 * with a host candidate that is none of these for one without a NAT.
 *
 *	10/8, 172.16/12, 192.168/16	private networks (RFC 1918)
 *	100.64/10			shared address space behind a
 *					carrier-grade NAT (RFC 6598)
 *	169.254/16			IPv4 link-local (RFC 3927)
 *	127/8, ::1			loopback: this very host
 *	fc00::/7			unique local addresses (RFC 4193),
 *					IPv6's private networks
 *	fe80::/10			IPv6 link-local (RFC 4291)
 *
 * An IPv4-mapped IPv6 address (::ffff:a.b.c.d) counts as its IPv4
 * address.  Everything else is public, the benchmark space
 * 198.18/15 (RFC 2544, the NAT lab's "internet") and the
 * documentation prefixes included.  Not an IP address: 0.
 */
int
omni_addr_is_private(const struct omni_addr *a)
{
	static const uint8_t	 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0xff, 0xff };
	static const uint8_t	 loop6[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
				    0, 0, 0, 0, 0, 1 };
	const uint8_t		*ip;

	switch (a->sa.sa_family) {
	case AF_INET:
		ip = (const uint8_t *)&a->sin.sin_addr;
		break;
	case AF_INET6:
		ip = (const uint8_t *)&a->sin6.sin6_addr;
		if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
			ip += sizeof(mapped);
			break;
		}
		return (ip[0] & 0xfe) == 0xfc ||
		    (ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80) ||
		    memcmp(ip, loop6, sizeof(loop6)) == 0;
	default:
		return 0;
	}
	return ip[0] == 10 || (ip[0] == 172 && (ip[1] & 0xf0) == 16) ||
	    (ip[0] == 192 && ip[1] == 168) ||
	    (ip[0] == 100 && (ip[1] & 0xc0) == 64) ||
	    (ip[0] == 169 && ip[1] == 254) || ip[0] == 127;
}

/*
 * Parse "1.2.3.4", "1.2.3.4:5", "[::1]:5" or "::1".  A missing port
 * takes defport (0 means a port is required).  Returns -1 on error.
 */
int
omni_addr_parse(const char *s, uint16_t defport, struct omni_addr *a)
{
	char		 host[INET6_ADDRSTRLEN + 8], *p;	/* "[v6]:port" */
	const char	*port = NULL, *errstr;
	long long	 pn;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(host))
		return -1;
	strlcpy(host, s, sizeof(host));
	if (host[0] == '[') {
		if ((p = strchr(host, ']')) == NULL)
			return -1;
		*p++ = '\0';
		if (*p == ':')
			port = p + 1;
		else if (*p != '\0')
			return -1;
		memmove(host, host + 1, strlen(host + 1) + 1);
	} else if ((p = strchr(host, ':')) != NULL && strchr(p + 1, ':') ==
	    NULL) {
		*p = '\0';
		port = p + 1;
	}
	if (port != NULL) {
		/* strtonum alone would take " 80" and "+80". */
		if (port[strspn(port, "0123456789")] != '\0')
			return -1;
		pn = strtonum(port, 1, 65535, &errstr);
		if (errstr)
			return -1;
	} else if (defport != 0)
		pn = defport;
	else
		return -1;

	if (inet_pton(AF_INET, host, &a->sin.sin_addr) == 1) {
		a->sin.sin_family = AF_INET;
		a->sin.sin_port = htons(pn);
	} else if (inet_pton(AF_INET6, host, &a->sin6.sin6_addr) == 1) {
		a->sin6.sin6_family = AF_INET6;
		a->sin6.sin6_port = htons(pn);
	} else
		return -1;
	return 0;
}

const char *
omni_prefix_str(const struct omni_prefix *p, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	if (p->af != AF_INET && p->af != AF_INET6) {
		snprintf(buf, len, "(none)");
		return buf;
	}
	inet_ntop(p->af, p->addr, host, sizeof(host));
	snprintf(buf, len, "%s/%u", host, p->plen);
	return buf;
}

/* "10.1.2.3/24" or "fd00::1/64"; no prefix means a host prefix. */
int
omni_prefix_parse(const char *s, struct omni_prefix *p)
{
	char		 host[INET6_ADDRSTRLEN + 5], *slash;
	const char	*errstr;
	int		 max;

	memset(p, 0, sizeof(*p));
	if (strlcpy(host, s, sizeof(host)) >= sizeof(host))
		return -1;
	if ((slash = strchr(host, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, host, p->addr) == 1) {
		p->af = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, p->addr) == 1) {
		p->af = AF_INET6;
		max = 128;
	} else
		return -1;
	if (slash != NULL) {
		if (slash[strspn(slash, "0123456789")] != '\0')
			return -1;
		p->plen = strtonum(slash, 1, max, &errstr);
		if (errstr)
			return -1;
	} else
		p->plen = max;
	return 0;
}

int
omni_prefix_eq(const struct omni_prefix *a, const struct omni_prefix *b)
{
	size_t	 n;

	if (a->af != b->af || a->plen != b->plen)
		return 0;
	n = a->af == AF_INET ? 4 : 16;
	return memcmp(a->addr, b->addr, n) == 0;
}

int
omni_key_to_base64(const uint8_t *key, char *buf, size_t len)
{
	if (len < OMNI_KEY_B64LEN)
		return -1;
	sodium_bin2base64(buf, len, key, OMNI_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
	return 0;
}

int
omni_key_from_base64(const char *s, uint8_t *key)
{
	size_t	 bin_len;

	if (strlen(s) != OMNI_KEY_B64LEN - 1)
		return -1;
	if (sodium_base642bin(key, OMNI_KEYLEN, s, strlen(s), NULL, &bin_len,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != OMNI_KEYLEN)
		return -1;
	return 0;
}
