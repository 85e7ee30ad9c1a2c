/*
 * The userspace WireGuard backend: the parent runs wireguard-go in the
 * foreground as its own child (so it can supervise it) and configures
 * it through the cross-platform UAPI socket /var/run/wireguard/NAME.sock:
 *
 *	set=1\n  key=value\n ...  \n	->  errno=N\n\n
 *	get=1\n\n			->  key=value\n ... errno=N\n\n
 *
 * Keys travel as lowercase hex.  Every exchange runs on a fresh
 * connection with send and receive timeouts and an overall deadline,
 * so a wedged wireguard-go cannot stall the parent's event loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <net/if.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event.h>
#include <sodium.h>

#include "log.h"
#include "omni.h"
#include "rtnl.h"
#include "wg.h"

#define UAPI_IO_TIMEOUT_MS	2000	/* each send or receive */
#define UAPI_DEADLINE_MS	4000	/* a whole exchange */
#define UAPI_POLL_MS		20
#define UAPI_START_MS		5000	/* wireguard-go to open its socket */
#define UAPI_STOP_MS		2000	/* wireguard-go to exit on SIGTERM */
#define UAPI_KILL_MS		1000	/* ... and on SIGKILL */
#define UAPI_REQ_MAX		1024
#define UAPI_LOG_LINE		512	/* longer lines are split */

/*
 * wireguard-go writes its log to stdout.  Once omnid has daemonized its
 * own stderr is /dev/null, so the parent reads wireguard-go's output
 * through a pipe and logs it line by line under the interface's name:
 * a wireguard-go that fails (TUN busy, bad permissions) then says why
 * in omnid's log.  Without an event loop (the unit test drivers) the
 * output simply follows ours.
 */
struct uapi_log {
	struct event	 ul_ev;
	int		 ul_fd;
	size_t		 ul_len;
	char		 ul_name[OMNI_IFNAMSIZ];
	char		 ul_buf[UAPI_LOG_LINE];
};
static int	 uapi_log_enabled;
static void	 uapi_log_close(struct wg_dev *);

static int	 uapi_create(struct wg_dev *, char *, size_t);
static int	 uapi_destroy(struct wg_dev *);
static int	 uapi_set_device(struct wg_dev *, const uint8_t [32], uint16_t,
		    char *, size_t);
static int	 uapi_set_peer(struct wg_dev *, const struct wg_peer_req *,
		    const uint8_t *, char *, size_t);
static int	 uapi_del_peer(struct wg_dev *, const uint8_t [32], char *,
		    size_t);
static int	 uapi_get_peers(struct wg_dev *,
		    int (*)(const struct wg_peer_stats *, void *), void *,
		    char *, size_t);

const struct wg_ops wg_uapi_ops = {
	"userspace",
	uapi_create,
	uapi_destroy,
	uapi_set_device,
	uapi_set_peer,
	uapi_del_peer,
	uapi_get_peers
};

/* --- the reply parser (pure: used by the tests and the fuzzer) ------ */

static int
uapi_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 64 hex digits into 32 bytes. */
static int
uapi_hex_key(const char *s, uint8_t key[32])
{
	int	 i, hi, lo;

	if (strlen(s) != 64)
		return -1;
	for (i = 0; i < 32; i++) {
		if ((hi = uapi_hexval(s[2 * i])) == -1 ||
		    (lo = uapi_hexval(s[2 * i + 1])) == -1)
			return -1;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static void
uapi_key_hex(const uint8_t key[32], char hex[65])
{
	static const char	 digits[] = "0123456789abcdef";
	int			 i;

	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[key[i] >> 4];
		hex[2 * i + 1] = digits[key[i] & 0xf];
	}
	hex[64] = '\0';
}

/* Digits only, no sign, no blanks, at most max. */
static int
uapi_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t	 n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (n > (max - (uint64_t)(*s - '0')) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*s - '0');
	}
	*v = n;
	return 0;
}

/*
 * "1.2.3.4:51820" or "[fd00::1]:51820", the latter possibly with a
 * "%zone" inside the brackets (numeric zones become the scope id).
 */
static int
uapi_parse_endpoint(const char *s, struct omni_addr *a)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*port, *end, *zone;
	size_t		 hlen;
	uint64_t	 pn, scope = 0;

	memset(a, 0, sizeof(*a));
	if (*s == '[') {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		port = end + 2;
		zone = memchr(s + 1, '%', end - (s + 1));
		hlen = (zone != NULL ? zone : end) - (s + 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return -1;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		if (zone != NULL) {
			char	 zbuf[UAPI_LINE_MAX + 1];
			size_t	 zlen = end - (zone + 1);

			if (zlen == 0 || zlen >= sizeof(zbuf))
				return -1;
			memcpy(zbuf, zone + 1, zlen);
			zbuf[zlen] = '\0';
			if (uapi_parse_u64(zbuf, UINT32_MAX, &scope) == -1)
				scope = 0;	/* a zone name: no index */
		}
		if (uapi_parse_u64(port, 65535, &pn) == -1)
			return -1;
		if (inet_pton(AF_INET6, host, &a->sin6.sin6_addr) != 1)
			return -1;
		a->sin6.sin6_family = AF_INET6;
		a->sin6.sin6_port = htons((uint16_t)pn);
		a->sin6.sin6_scope_id = (uint32_t)scope;
		return 0;
	}
	if ((end = strchr(s, ':')) == NULL || strchr(end + 1, ':') != NULL)
		return -1;
	hlen = end - s;
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (uapi_parse_u64(end + 1, 65535, &pn) == -1)
		return -1;
	if (inet_pton(AF_INET, host, &a->sin.sin_addr) != 1)
		return -1;
	a->sin.sin_family = AF_INET;
	a->sin.sin_port = htons((uint16_t)pn);
	return 0;
}

/*
 * One pass over a get reply; with cb NULL it only validates.  Returns
 * the number of peers, or -1 with the reason in err and errno set:
 * EBADMSG malformed, ECANCELED the callback stopped, else the errno
 * wireguard-go reported.
 */
static int
uapi_parse_pass(const char *buf, size_t len,
    int (*cb)(const struct wg_peer_stats *, void *), void *arg,
    char *err, size_t errlen)
{
	struct wg_peer_stats	 ps;
	char			 line[UAPI_LINE_MAX + 1], *val;
	const char		*nl;
	size_t			 pos = 0, llen;
	uint64_t		 v, eval = 0;
	int			 lineno = 0, have = 0, npeers = 0;
	int			 seen_errno = 0, done = 0;

	memset(&ps, 0, sizeof(ps));
	while (pos < len) {
		lineno++;
		if ((nl = memchr(buf + pos, '\n', len - pos)) == NULL) {
			snprintf(err, errlen, "line %d not terminated", lineno);
			goto bad;
		}
		llen = nl - (buf + pos);
		if (llen > UAPI_LINE_MAX) {
			snprintf(err, errlen, "line %d too long", lineno);
			goto bad;
		}
		memcpy(line, buf + pos, llen);
		line[llen] = '\0';
		pos += llen + 1;
		if (memchr(line, '\0', llen) != NULL) {
			snprintf(err, errlen, "line %d has a NUL byte", lineno);
			goto bad;
		}
		if (seen_errno) {
			/* errno=N is followed by the empty line, then EOF. */
			if (llen != 0 || pos != len) {
				snprintf(err, errlen, "line %d: data after "
				    "errno", lineno);
				goto bad;
			}
			done = 1;
			break;
		}
		if (llen == 0) {
			snprintf(err, errlen, "line %d: empty line before "
			    "errno", lineno);
			goto bad;
		}
		if ((val = strchr(line, '=')) == NULL || val == line) {
			snprintf(err, errlen, "line %d: not key=value", lineno);
			goto bad;
		}
		*val++ = '\0';

		if (strcmp(line, "errno") == 0) {
			if (uapi_parse_u64(val, INT_MAX, &eval) == -1) {
				snprintf(err, errlen, "line %d: bad errno",
				    lineno);
				goto bad;
			}
			seen_errno = 1;
			continue;
		}
		if (strcmp(line, "public_key") == 0) {
			if (have) {
				npeers++;
				if (cb != NULL && cb(&ps, arg) != 0)
					goto cancel;
			}
			memset(&ps, 0, sizeof(ps));
			if (uapi_hex_key(val, ps.pubkey) == -1) {
				snprintf(err, errlen, "line %d: bad public_key",
				    lineno);
				goto bad;
			}
			have = 1;
			continue;
		}
		/* Interface keys come before the first peer: not ours. */
		if (!have)
			continue;
		if (strcmp(line, "endpoint") == 0) {
			if (uapi_parse_endpoint(val, &ps.endpoint) == -1) {
				snprintf(err, errlen, "line %d: bad endpoint",
				    lineno);
				goto bad;
			}
		} else if (strcmp(line, "last_handshake_time_sec") == 0) {
			if (uapi_parse_u64(val, INT64_MAX, &v) == -1) {
				snprintf(err, errlen, "line %d: bad "
				    "last_handshake_time_sec", lineno);
				goto bad;
			}
			ps.last_handshake = (int64_t)v;
		} else if (strcmp(line, "rx_bytes") == 0) {
			if (uapi_parse_u64(val, UINT64_MAX, &ps.rx_bytes) ==
			    -1) {
				snprintf(err, errlen, "line %d: bad rx_bytes",
				    lineno);
				goto bad;
			}
		} else if (strcmp(line, "tx_bytes") == 0) {
			if (uapi_parse_u64(val, UINT64_MAX, &ps.tx_bytes) ==
			    -1) {
				snprintf(err, errlen, "line %d: bad tx_bytes",
				    lineno);
				goto bad;
			}
		}
		/* Other keys (allowed_ip, preshared_key, ...) are skipped. */
	}
	if (!done) {
		snprintf(err, errlen, "reply not terminated by errno and an "
		    "empty line");
		goto bad;
	}
	if (eval != 0) {
		snprintf(err, errlen, "errno=%d (%s)", (int)eval,
		    strerror((int)eval));
		errno = (int)eval;
		goto out;
	}
	if (have) {
		npeers++;
		if (cb != NULL && cb(&ps, arg) != 0)
			goto cancel;
	}
	sodium_memzero(line, sizeof(line));
	return npeers;
 cancel:
	snprintf(err, errlen, "stopped by the callback");
	errno = ECANCELED;
	goto out;
 bad:
	errno = EBADMSG;
 out:
	sodium_memzero(line, sizeof(line));
	return -1;
}

/*
 * Parse a reply to get=1.  The callback sees each peer only once the
 * whole reply has been found well-formed and errno=0, so a bad reply
 * never delivers half its peers.  A nonzero return of the callback
 * stops the walk (-1, errno ECANCELED).  Returns the peer count.
 */
int
uapi_parse_get_err(const char *buf, size_t len,
    int (*cb)(const struct wg_peer_stats *, void *), void *arg,
    char *err, size_t errlen)
{
	char	 dummy[128];
	int	 n;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (buf == NULL) {
		snprintf(err, errlen, "no reply");
		errno = EBADMSG;
		return -1;
	}
	if ((n = uapi_parse_pass(buf, len, NULL, NULL, err, errlen)) == -1)
		return -1;
	if (cb == NULL || n == 0)
		return n;
	return uapi_parse_pass(buf, len, cb, arg, err, errlen);
}

int
uapi_parse_get(const char *buf, size_t len,
    int (*cb)(const struct wg_peer_stats *, void *), void *arg)
{
	return uapi_parse_get_err(buf, len, cb, arg, NULL, 0);
}

/*
 * The answer to set=1 is exactly "errno=N\n\n".  Returns 0 with N in
 * *eval, -1 when the reply is not that.
 */
int
uapi_parse_errno(const char *buf, size_t len, int *eval)
{
	char		 tmp[32];
	uint64_t	 v;

	if (len < sizeof("errno=0\n\n") - 1 || len >= sizeof(tmp) ||
	    memcmp(buf, "errno=", 6) != 0 || buf[len - 1] != '\n' ||
	    buf[len - 2] != '\n')
		return -1;
	memcpy(tmp, buf + 6, len - 8);
	tmp[len - 8] = '\0';
	if (uapi_parse_u64(tmp, INT_MAX, &v) == -1)
		return -1;
	*eval = (int)v;
	return 0;
}

/* --- the socket ----------------------------------------------------- */

static int64_t
uapi_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
uapi_sleep_ms(int ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
uapi_sock_path(const char *name, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if ((size_t)snprintf(sun->sun_path, sizeof(sun->sun_path),
	    "%s/%s.sock", WG_UAPI_DIR, name) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A connected UAPI socket, or -1 with errno (ENOENT: no socket file). */
static int
uapi_connect(const char *name)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv;
	int			 fd, saved;

	if (uapi_sock_path(name, &sun) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	tv.tv_sec = UAPI_IO_TIMEOUT_MS / 1000;
	tv.tv_usec = (UAPI_IO_TIMEOUT_MS % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int
uapi_send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	ssize_t	 n;

	while (len > 0) {
		if (uapi_now_ms() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = send(fd, buf, len, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			return -1;
		}
		buf += n;
		len -= n;
	}
	return 0;
}

/*
 * Read until the reply's final empty line ("\n\n").  *bufp is
 * allocated; the caller wipes and frees it (a get reply holds the
 * private key).
 */
static int
uapi_recv_reply(int fd, char **bufp, size_t *lenp, int64_t deadline)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, size = 0;
	ssize_t	 n;

	for (;;) {
		if (uapi_now_ms() > deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (size - len < 4096) {
			size_t	 nsize = size == 0 ? 8192 : size * 2;

			if (nsize > UAPI_REPLY_MAX) {
				errno = EMSGSIZE;
				goto fail;
			}
			/* realloc would leave key bytes behind: copy. */
			if ((nbuf = malloc(nsize)) == NULL)
				goto fail;
			if (buf != NULL) {
				memcpy(nbuf, buf, len);
				sodium_memzero(buf, size);
				free(buf);
			}
			buf = nbuf;
			size = nsize;
		}
		n = recv(fd, buf + len, size - len - 1, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				errno = ETIMEDOUT;
			goto fail;
		}
		if (n == 0) {
			errno = ECONNRESET;
			goto fail;
		}
		len += n;
		if ((len >= 2 && buf[len - 1] == '\n' && buf[len - 2] == '\n') ||
		    (len == 1 && buf[0] == '\n'))
			break;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
 fail:
	{
		int	 saved = errno;

		if (buf != NULL) {
			sodium_memzero(buf, size);
			free(buf);
		}
		errno = saved;
	}
	return -1;
}

static void
uapi_free_reply(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	sodium_memzero(buf, len);
	free(buf);
}

/* One request, one reply, on a fresh connection. */
static int
uapi_exchange(struct wg_dev *wd, const char *req, size_t reqlen,
    char **reply, size_t *replylen, char *err, size_t errlen)
{
	int64_t	 deadline;
	int	 fd, saved;

	if (wd->wd_pid <= 0) {
		snprintf(err, errlen, "%s: wireguard-go is not running",
		    wd->wd_name);
		errno = ESRCH;
		return -1;
	}
	if ((fd = uapi_connect(wd->wd_name)) == -1) {
		snprintf(err, errlen, "%s: connect to %s/%s.sock: %s",
		    wd->wd_name, WG_UAPI_DIR, wd->wd_name, strerror(errno));
		return -1;
	}
	deadline = uapi_now_ms() + UAPI_DEADLINE_MS;
	if (uapi_send_all(fd, req, reqlen, deadline) == -1 ||
	    uapi_recv_reply(fd, reply, replylen, deadline) == -1) {
		saved = errno;
		snprintf(err, errlen, "%s: UAPI exchange: %s", wd->wd_name,
		    strerror(saved));
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

/* A set transaction; req holds the lines between "set=1" and "". */
static int
uapi_set(struct wg_dev *wd, const char *what, const char *req, size_t reqlen,
    char *err, size_t errlen)
{
	char	*reply = NULL;
	size_t	 replylen = 0;
	int	 eval;

	if (uapi_exchange(wd, req, reqlen, &reply, &replylen, err,
	    errlen) == -1)
		return -1;
	if (uapi_parse_errno(reply, replylen, &eval) == -1) {
		snprintf(err, errlen, "%s: %s: malformed UAPI reply",
		    wd->wd_name, what);
		uapi_free_reply(reply, replylen);
		errno = EBADMSG;
		return -1;
	}
	uapi_free_reply(reply, replylen);
	if (eval != 0) {
		snprintf(err, errlen, "%s: %s: wireguard-go refused: "
		    "errno=%d (%s)", wd->wd_name, what, eval, strerror(eval));
		errno = eval;
		return -1;
	}
	return 0;
}

/* Append to a request buffer; -1 when it would not fit. */
static int __attribute__((format(printf, 3, 4)))
uapi_req_add(char *req, size_t *len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(req + *len, UAPI_REQ_MAX - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= UAPI_REQ_MAX - *len)
		return -1;
	*len += n;
	return 0;
}

static int
uapi_set_device(struct wg_dev *wd, const uint8_t priv[32], uint16_t port,
    char *err, size_t errlen)
{
	char	 req[UAPI_REQ_MAX], hex[65];
	size_t	 len = 0;
	int	 rv;

	uapi_key_hex(priv, hex);
	rv = uapi_req_add(req, &len, "set=1\nprivate_key=%s\nlisten_port=%u\n"
	    "\n", hex, (unsigned)port);
	sodium_memzero(hex, sizeof(hex));
	if (rv == 0)
		rv = uapi_set(wd, "set device", req, len, err, errlen);
	else
		snprintf(err, errlen, "%s: request too long", wd->wd_name);
	sodium_memzero(req, sizeof(req));
	return rv;
}

static int
uapi_endpoint_str(const struct omni_addr *a, char *buf, size_t len)
{
	char	 host[INET6_ADDRSTRLEN];

	switch (a->sa.sa_family) {
	case AF_INET:
		inet_ntop(AF_INET, &a->sin.sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(a->sin.sin_port));
		return 0;
	case AF_INET6:
		inet_ntop(AF_INET6, &a->sin6.sin6_addr, host, sizeof(host));
		if (a->sin6.sin6_scope_id != 0)
			snprintf(buf, len, "[%s%%%u]:%u", host,
			    (unsigned)a->sin6.sin6_scope_id,
			    ntohs(a->sin6.sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", host,
			    ntohs(a->sin6.sin6_port));
		return 0;
	default:
		return -1;
	}
}

/*
 * Add or update one peer in one transaction; other peers are left
 * alone.  Its allowed IPs are replaced by the one prefix.
 */
static int
uapi_set_peer(struct wg_dev *wd, const struct wg_peer_req *pr,
    const uint8_t *psk, char *err, size_t errlen)
{
	char	 req[UAPI_REQ_MAX], hex[65], ep[OMNI_ADDRSTRLEN + 16];
	char	 pfx[OMNI_PREFIXSTRLEN];
	size_t	 len = 0;
	int	 rv = 0;


	uapi_key_hex(pr->pubkey, hex);
	rv |= uapi_req_add(req, &len, "set=1\npublic_key=%s\n", hex);
	if (psk != NULL) {
		uapi_key_hex(psk, hex);
		rv |= uapi_req_add(req, &len, "preshared_key=%s\n", hex);
		sodium_memzero(hex, sizeof(hex));
	}
	if (uapi_endpoint_str(&pr->endpoint, ep, sizeof(ep)) == 0)
		rv |= uapi_req_add(req, &len, "endpoint=%s\n", ep);
	rv |= uapi_req_add(req, &len, "persistent_keepalive_interval=%u\n"
	    "replace_allowed_ips=true\nallowed_ip=%s\n\n",
	    (unsigned)pr->keepalive,
	    omni_prefix_str(&pr->allowed, pfx, sizeof(pfx)));
	if (rv == 0)
		rv = uapi_set(wd, "set peer", req, len, err, errlen);
	else {
		snprintf(err, errlen, "%s: request too long", wd->wd_name);
		rv = -1;
	}
	sodium_memzero(req, sizeof(req));
	return rv;
}

static int
uapi_del_peer(struct wg_dev *wd, const uint8_t pub[32], char *err,
    size_t errlen)
{
	char	 req[UAPI_REQ_MAX], hex[65];
	size_t	 len = 0;

	uapi_key_hex(pub, hex);
	if (uapi_req_add(req, &len, "set=1\npublic_key=%s\nremove=true\n\n",
	    hex) == -1) {
		snprintf(err, errlen, "%s: request too long", wd->wd_name);
		return -1;
	}
	return uapi_set(wd, "remove peer", req, len, err, errlen);
}

static int
uapi_get_peers(struct wg_dev *wd, int (*cb)(const struct wg_peer_stats *,
    void *), void *arg, char *err, size_t errlen)
{
	static const char	 req[] = "get=1\n\n";
	char			*reply = NULL, why[128];
	size_t			 replylen = 0;
	int			 n;

	if (uapi_exchange(wd, req, sizeof(req) - 1, &reply, &replylen, err,
	    errlen) == -1)
		return -1;
	n = uapi_parse_get_err(reply, replylen, cb, arg, why, sizeof(why));
	uapi_free_reply(reply, replylen);
	if (n == -1) {
		int	 saved = errno;

		snprintf(err, errlen, "%s: get: %s", wd->wd_name, why);
		errno = saved;
	}
	return n;
}

/* --- wireguard-go --------------------------------------------------- */

/*
 * Before starting wireguard-go: refuse when another one answers on
 * the socket, remove the socket file of a dead one.
 */
static int
uapi_check_socket(const char *name, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	int			 fd;

	if (uapi_sock_path(name, &sun) == -1) {
		snprintf(err, errlen, "%s: socket path too long", name);
		return -1;
	}
	if (lstat(sun.sun_path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", sun.sun_path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    sun.sun_path);
		return -1;
	}
	if ((fd = uapi_connect(name)) != -1) {
		close(fd);
		snprintf(err, errlen, "interface %s is already managed by "
		    "another wireguard-go (%s)", name, sun.sun_path);
		return -1;
	}
	log_info("%s: removing stale %s", name, sun.sun_path);
	if (unlink(sun.sun_path) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", sun.sun_path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

void
wg_uapi_log_events(void)
{
	uapi_log_enabled = 1;
}

static void
uapi_log_line(const struct uapi_log *ul, char *line)
{
	char	*p;

	/* Its bytes, not ours: no control characters into syslog. */
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (*line != '\0')
		log_info("%s: wireguard-go: %s", ul->ul_name, line);
}

static void
uapi_log_read(int fd, short event, void *arg)
{
	struct uapi_log	*ul = arg;
	char		*p, *nl;
	size_t		 rest;
	ssize_t		 n;

	n = read(fd, ul->ul_buf + ul->ul_len, sizeof(ul->ul_buf) - 1 -
	    ul->ul_len);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* EOF: wireguard-go is gone; log what it left unfinished. */
		ul->ul_buf[ul->ul_len] = '\0';
		uapi_log_line(ul, ul->ul_buf);
		event_del(&ul->ul_ev);
		close(ul->ul_fd);
		ul->ul_fd = -1;
		ul->ul_len = 0;
		return;
	}
	ul->ul_len += (size_t)n;
	ul->ul_buf[ul->ul_len] = '\0';
	for (p = ul->ul_buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		uapi_log_line(ul, p);
	}
	rest = ul->ul_len - (size_t)(p - ul->ul_buf);
	if (rest == sizeof(ul->ul_buf) - 1) {
		uapi_log_line(ul, p);
		rest = 0;
	}
	memmove(ul->ul_buf, p, rest);
	ul->ul_len = rest;
}

/* A pipe for wireguard-go's output: the write end, -1 for none. */
static int
uapi_log_open(struct wg_dev *wd)
{
	struct uapi_log	*ul;
	int		 fds[2];

	uapi_log_close(wd);
	if (!uapi_log_enabled)
		return -1;
	if ((ul = calloc(1, sizeof(*ul))) == NULL) {
		log_warn("%s: wireguard-go log", wd->wd_name);
		return -1;
	}
	if (pipe2(fds, O_CLOEXEC) == -1) {
		log_warn("%s: wireguard-go log: pipe", wd->wd_name);
		free(ul);
		return -1;
	}
	if (fcntl(fds[0], F_SETFL, O_NONBLOCK) == -1) {
		log_warn("%s: wireguard-go log: fcntl", wd->wd_name);
		close(fds[0]);
		close(fds[1]);
		free(ul);
		return -1;
	}
	ul->ul_fd = fds[0];
	strlcpy(ul->ul_name, wd->wd_name, sizeof(ul->ul_name));
	event_set(&ul->ul_ev, ul->ul_fd, EV_READ | EV_PERSIST, uapi_log_read,
	    ul);
	event_add(&ul->ul_ev, NULL);
	wd->wd_log = ul;
	return fds[1];
}

static void
uapi_log_close(struct wg_dev *wd)
{
	struct uapi_log	*ul = wd->wd_log;
	int		 i;

	if (ul == NULL)
		return;
	/*
	 * Whatever it wrote before it died is still in the pipe: a few
	 * bounded reads (EOF ends them; a writer still alive cannot hold
	 * us here).
	 */
	for (i = 0; i < 16 && ul->ul_fd != -1; i++)
		uapi_log_read(ul->ul_fd, EV_READ, ul);
	if (ul->ul_fd != -1) {
		event_del(&ul->ul_ev);
		close(ul->ul_fd);
	}
	free(ul);
	wd->wd_log = NULL;
}

static __attribute__((noreturn)) void
uapi_child(const char *path, const char *name, pid_t parent, int logfd)
{
	char		*argv[] = { "wireguard-go", "-f", (char *)name, NULL };
	char		*envp[] = {
		"PATH=/usr/sbin:/usr/bin:/sbin:/bin",
		/* Already foreground: also hushes its kernel-module banner. */
		"WG_PROCESS_FOREGROUND=1",
		log_getverbose() > 1 ? "LOG_LEVEL=verbose" : "LOG_LEVEL=error",
		NULL
	};
	sigset_t	 set;
	int		 fd, sig;

	/* Die with the parent: a restarted omnid must find no orphan. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(127);
	/* The parent's handlers are gone after exec; its mask and ignores are not. */
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)signal(sig, SIG_DFL);
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		_exit(127);
	/* Its log goes to stdout: to our log pipe, else our stderr. */
	if (logfd != -1 && dup2(logfd, STDERR_FILENO) == -1)
		_exit(127);
	if (dup2(STDERR_FILENO, STDOUT_FILENO) == -1)
		_exit(127);
	if (close_range(STDERR_FILENO + 1, ~0U, 0) == -1)
		_exit(127);
	execve(path, argv, envp);
	dprintf(STDERR_FILENO, "omnid: exec %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Wait up to ms for pid to exit; 1 when reaped, 0 if still running. */
static int
uapi_wait_exit(pid_t pid, int ms, int *status)
{
	int64_t	 deadline = uapi_now_ms() + ms;
	pid_t	 r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 1;
		if (r == -1 && errno != EINTR) {
			/* ECHILD: someone else reaped it; it is gone. */
			*status = 0;
			return 1;
		}
		if (uapi_now_ms() >= deadline)
			return 0;
		uapi_sleep_ms(UAPI_POLL_MS);
	}
}

static void
uapi_stop(struct wg_dev *wd)
{
	int	 status;

	if (wd->wd_pid <= 0) {
		uapi_log_close(wd);
		return;
	}
	if (kill(wd->wd_pid, SIGTERM) == -1 && errno != ESRCH)
		log_warn("%s: kill wireguard-go (pid %d)", wd->wd_name,
		    (int)wd->wd_pid);
	if (!uapi_wait_exit(wd->wd_pid, UAPI_STOP_MS, &status)) {
		log_warnx("%s: wireguard-go (pid %d) ignored SIGTERM for "
		    "%d ms, killing it", wd->wd_name, (int)wd->wd_pid,
		    UAPI_STOP_MS);
		(void)kill(wd->wd_pid, SIGKILL);
		if (!uapi_wait_exit(wd->wd_pid, UAPI_KILL_MS, &status))
			log_warnx("%s: wireguard-go (pid %d) still not gone; "
			    "leaving it to the reaper", wd->wd_name,
			    (int)wd->wd_pid);
	}
	wd->wd_pid = -1;
	uapi_log_close(wd);
}

static int
uapi_create(struct wg_dev *wd, char *err, size_t errlen)
{
	int64_t	 deadline;
	pid_t	 pid, parent;
	int	 fd, status, logfd;

	if (uapi_check_socket(wd->wd_name, err, errlen) == -1)
		return -1;
	if (rtnl_ifindex(wd->wd_name) > 0) {
		snprintf(err, errlen, "interface %s already exists",
		    wd->wd_name);
		return -1;
	}
	if (access(wd->wd_wggo, X_OK) == -1) {
		snprintf(err, errlen, "%s: wireguard-go %s: %s", wd->wd_name,
		    wd->wd_wggo, strerror(errno));
		return -1;
	}

	parent = getpid();
	logfd = uapi_log_open(wd);
	switch (pid = fork()) {
	case -1:
		snprintf(err, errlen, "%s: fork: %s", wd->wd_name,
		    strerror(errno));
		if (logfd != -1)
			close(logfd);
		uapi_log_close(wd);
		return -1;
	case 0:
		uapi_child(wd->wd_wggo, wd->wd_name, parent, logfd);
		/* NOTREACHED */
	default:
		break;
	}
	if (logfd != -1)
		close(logfd);
	wd->wd_pid = pid;
	log_debug("%s: started %s (pid %d)", wd->wd_name, wd->wd_wggo,
	    (int)pid);

	/* Ready when its UAPI socket accepts connections. */
	deadline = uapi_now_ms() + UAPI_START_MS;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			wd->wd_pid = -1;
			if (WIFEXITED(status))
				snprintf(err, errlen, "%s: wireguard-go exited "
				    "with status %d during startup",
				    wd->wd_name, WEXITSTATUS(status));
			else
				snprintf(err, errlen, "%s: wireguard-go killed "
				    "by signal %d during startup",
				    wd->wd_name, WIFSIGNALED(status) ?
				    WTERMSIG(status) : 0);
			goto fail;
		}
		if ((fd = uapi_connect(wd->wd_name)) != -1) {
			close(fd);
			break;
		}
		if (uapi_now_ms() >= deadline) {
			snprintf(err, errlen, "%s: wireguard-go did not open "
			    "%s/%s.sock within %d ms", wd->wd_name,
			    WG_UAPI_DIR, wd->wd_name, UAPI_START_MS);
			goto fail;
		}
		uapi_sleep_ms(UAPI_POLL_MS);
	}

	if ((wd->wd_ifindex = (int)if_nametoindex(wd->wd_name)) == 0) {
		snprintf(err, errlen, "%s: no such interface after "
		    "wireguard-go started: %s", wd->wd_name, strerror(errno));
		goto fail;
	}
	return 0;
 fail:
	if (wd->wd_pid > 0) {
		(void)kill(wd->wd_pid, SIGKILL);
		(void)uapi_wait_exit(wd->wd_pid, UAPI_KILL_MS, &status);
		wd->wd_pid = -1;
	}
	uapi_log_close(wd);
	if (rtnl_ifindex(wd->wd_name) > 0)
		(void)rtnl_link_del(wd->wd_name);
	wd->wd_ifindex = 0;
	return -1;
}

static int
uapi_destroy(struct wg_dev *wd)
{
	struct sockaddr_un	 sun;
	int			 rv = 0, fd;

	uapi_stop(wd);
	/* A tun device normally goes with its process; make sure. */
	if (rtnl_ifindex(wd->wd_name) > 0 && rtnl_link_del(wd->wd_name) == -1)
		rv = -1;
	/* After a SIGKILL its socket file stays behind. */
	if (uapi_sock_path(wd->wd_name, &sun) == 0 &&
	    access(sun.sun_path, F_OK) == 0) {
		if ((fd = uapi_connect(wd->wd_name)) == -1)
			(void)unlink(sun.sun_path);
		else
			close(fd);
	}
	wd->wd_ifindex = 0;
	log_info("%s: userspace interface removed", wd->wd_name);
	return rv;
}
