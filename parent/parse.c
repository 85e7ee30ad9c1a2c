/*
 * The omni.conf(5) parser.
 *
 * It runs in its own child, "omnid -P config", sandboxed before it
 * sees a byte of the file: the parent opens the file and passes the
 * descriptor; the child reads it, parses the YAML with libyaml and
 * answers with fixed-size messages (IMSG_CONF_GLOBAL, _NUCLEUS,
 * _IFACE..., _END) or one IMSG_CONF_ERROR.  A bug in libyaml or here
 * then costs at most an unprivileged process with no file system.
 *
 * The parser walks libyaml's event stream by recursive descent over
 * the schema, so a value of the wrong kind (a list where a number is
 * expected, a mapping nested where none belongs) is reported as such
 * the moment it appears, and nesting can never go deeper than the
 * schema.  Aliases, anchors and tags are refused: a configuration has
 * no use for them and they only make its meaning harder to see.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <seccomp.h>
#include <yaml.h>

#include "imsg.h"
#include "log.h"
#include "omni.h"
#include "parse.h"
#include "proc.h"

/* top mapping, interfaces list, interface mapping, nuclei list */
#define PARSE_MAX_DEPTH		4
#define PARSE_MAX_KEYS		16
#define MAP_END			(-2)

struct mapiter {
	const char *const	*keys;
	const char		*where;
	uint32_t		 seen;
	yaml_mark_t		 start;
	yaml_mark_t		 marks[PARSE_MAX_KEYS];
};

struct pstate {
	yaml_parser_t		 parser;
	const char		*name;
	const char		*buf;
	size_t			 len;
	char			*err;
	size_t			 errlen;
	int			 failed;
	int			 depth;
	struct omni_conf	*conf;
	yaml_mark_t		 doc_mark;
	struct mapiter		 nucmi;
	struct mapiter		 ifmi[OMNI_MAX_IFACES];
};

/* --- keys ------------------------------------------------------------ */

enum { G_USER, G_CHROOT, G_CONTROL, G_WGGO, G_VERBOSE, G_METRICS,
	G_NUCLEUS, G_IFACES, G_CONTROL_RO };
static const char *const global_keys[] = {
	"user", "chroot", "control-socket", "wireguard-go", "verbose",
	"metrics", "nucleus", "interfaces", "control-socket-readonly", NULL
};

enum { M_ENABLE, M_LISTEN };
static const char *const metrics_keys[] = { "enable", "listen", NULL };

enum { N_LISTEN, N_SECRET, N_SECRET_FILE, N_PEER_TIMEOUT, N_IDENTITY,
	N_MAX_EDGES, N_MAX_CLUSTERS, N_RATE_LIMIT };
static const char *const nucleus_keys[] = {
	"listen", "secret", "secret-file", "peer-timeout", "identity",
	"max-edges", "max-clusters", "rate-limit", NULL
};

enum { I_NAME, I_CLUSTER, I_SECRET, I_SECRET_FILE, I_ADDRESS, I_PORT,
	I_IDENTITY, I_MTU, I_KEEPALIVE, I_HEARTBEAT, I_PEER_TIMEOUT,
	I_BACKEND, I_NUCLEI, I_STUN_SERVERS, I_STUN_INTERVAL };
static const char *const iface_keys[] = {
	"name", "cluster", "secret", "secret-file", "address", "listen-port",
	"identity", "mtu", "keepalive", "heartbeat", "peer-timeout",
	"backend", "nuclei", "stun-servers", "stun-interval", NULL
};

#define KEYBIT(k)	(1u << (k))

/* --- messages -------------------------------------------------------- */

static void	perr(struct pstate *, yaml_mark_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
perr(struct pstate *ps, yaml_mark_t m, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (ps->failed || ps->errlen == 0)
		return;
	ps->failed = 1;
	n = snprintf(ps->err, ps->errlen, "%s:%zu:%zu: ", ps->name,
	    m.line + 1, m.column + 1);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
}

/*
 * A value quoted for a message: at most 40 characters, anything
 * unprintable shown as '?', so that a message can neither grow
 * without bound nor carry terminal escapes.
 */
static const char *
quote(const char *s, size_t slen, char *buf, size_t len)
{
	size_t	 i, o = 0;

	if (len < 8) {
		if (len)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (i = 0; i < slen && o + 5 < len && i < 40; i++) {
		unsigned char c = s[i];

		buf[o++] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	if (i < slen && o + 5 <= len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static int
is_null(const yaml_event_t *ev)
{
	const char	*s = (const char *)ev->data.scalar.value;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") ==
	    0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* What a value turned out to be, for "expected X, got Y". */
static const char *
got(const yaml_event_t *ev, char *buf, size_t len)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		if (is_null(ev))
			return "nothing";
		return quote((const char *)ev->data.scalar.value,
		    ev->data.scalar.length, buf, len);
	default:
		return "something else";
	}
}

/* Line and column of a byte offset, for errors libyaml gives no mark. */
static yaml_mark_t
offset_mark(const struct pstate *ps, size_t off)
{
	yaml_mark_t	 m;
	size_t		 i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < off && i < ps->len; i++) {
		if (ps->buf[i] == '\n') {
			m.line++;
			m.column = 0;
		} else
			m.column++;
	}
	m.index = i;
	return m;
}

static void
syntax_error(struct pstate *ps)
{
	yaml_parser_t	*p = &ps->parser;
	const char	*problem = p->problem ? p->problem : "unknown problem";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		perr(ps, p->mark, "out of memory");
		break;
	case YAML_READER_ERROR:
		perr(ps, offset_mark(ps, p->problem_offset),
		    "not valid text: %s", problem);
		break;
	default:
		if (p->context != NULL)
			perr(ps, p->problem_mark, "YAML syntax error: %s %s "
			    "started at line %zu", problem, p->context,
			    p->context_mark.line + 1);
		else
			perr(ps, p->problem_mark, "YAML syntax error: %s",
			    problem);
		break;
	}
}

/* --- events ---------------------------------------------------------- */

/*
 * The next event, with aliases, anchors, tags and excess depth
 * refused.  On error the message is set and nothing needs freeing.
 */
static int
next_event(struct pstate *ps, yaml_event_t *ev)
{
	const char	*what = NULL;

	if (ps->failed)
		return -1;
	if (!yaml_parser_parse(&ps->parser, ev)) {
		syntax_error(ps);
		return -1;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		what = "YAML aliases (*name) are not supported";
		break;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor != NULL)
			what = "YAML anchors (&name) are not supported";
		else if (ev->data.scalar.tag != NULL)
			what = "YAML tags (!tag) are not supported";
		break;
	case YAML_SEQUENCE_START_EVENT:
		ps->depth++;
		if (ev->data.sequence_start.anchor != NULL)
			what = "YAML anchors (&name) are not supported";
		else if (ev->data.sequence_start.tag != NULL)
			what = "YAML tags (!tag) are not supported";
		break;
	case YAML_MAPPING_START_EVENT:
		ps->depth++;
		if (ev->data.mapping_start.anchor != NULL)
			what = "YAML anchors (&name) are not supported";
		else if (ev->data.mapping_start.tag != NULL)
			what = "YAML tags (!tag) are not supported";
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		ps->depth--;
		break;
	default:
		break;
	}
	if (what == NULL && ps->depth > PARSE_MAX_DEPTH)
		what = "nested too deeply";
	if (what != NULL) {
		perr(ps, ev->start_mark, "%s", what);
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* An event that must be a non-empty scalar without NUL characters. */
static int
scalar_check(struct pstate *ps, const char *key, const char *what,
    yaml_event_t *ev)
{
	char	 g[64];

	/* Quoted or not, an empty string is no value. */
	if (ev->type != YAML_SCALAR_EVENT || is_null(ev) ||
	    ev->data.scalar.length == 0) {
		perr(ps, ev->start_mark, "%s: expected %s, got %s", key, what,
		    got(ev, g, sizeof(g)));
		yaml_event_delete(ev);
		return -1;
	}
	if (strlen((const char *)ev->data.scalar.value) !=
	    ev->data.scalar.length) {
		perr(ps, ev->start_mark, "%s: expected %s, got a value with "
		    "a NUL character", key, what);
		yaml_event_delete(ev);
		return -1;
	}
	return 0;
}

/* The value of key as a scalar; the caller deletes the event. */
static int
scalar_value(struct pstate *ps, const char *key, const char *what,
    yaml_event_t *ev)
{
	if (next_event(ps, ev) == -1)
		return -1;
	return scalar_check(ps, key, what, ev);
}

/* Fail on ev (then deleted) with "key: expected what, got ...". */
static int
bad_value(struct pstate *ps, const char *key, const char *what,
    yaml_event_t *ev)
{
	char	 g[64];

	perr(ps, ev->start_mark, "%s: expected %s, got %s", key, what,
	    got(ev, g, sizeof(g)));
	yaml_event_delete(ev);
	return -1;
}

/*
 * The value of key as a mapping or a list (type is the start event
 * wanted).  An empty value counts as an empty collection: *empty is
 * set and there is nothing more to read.
 */
static int
coll_value(struct pstate *ps, const char *key, yaml_event_type_t type,
    int *empty, yaml_mark_t *start)
{
	yaml_event_t	 ev;

	if (next_event(ps, &ev) == -1)
		return -1;
	*start = ev.start_mark;
	*empty = 0;
	if (ev.type == type) {
		yaml_event_delete(&ev);
		return 0;
	}
	if (is_null(&ev)) {
		*empty = 1;
		yaml_event_delete(&ev);
		return 0;
	}
	return bad_value(ps, key, type == YAML_MAPPING_START_EVENT ?
	    "a mapping" : "a list", &ev);
}

static void
mapiter_init(struct mapiter *mi, const char *const *keys, const char *where,
    yaml_mark_t start)
{
	memset(mi, 0, sizeof(*mi));
	mi->keys = keys;
	mi->where = where;
	mi->start = start;
}

/* Where key k was, or the start of its mapping when it was absent. */
static yaml_mark_t
mapiter_mark(const struct mapiter *mi, int k)
{
	return (mi->seen & KEYBIT(k)) ? mi->marks[k] : mi->start;
}

/*
 * The next key of a mapping whose start event was read: its index in
 * mi->keys, MAP_END after the last one, or -1 on error.  The caller
 * then reads exactly one value.
 */
static int
map_next(struct pstate *ps, struct mapiter *mi)
{
	yaml_event_t	 ev;
	char		 list[256], q[64];
	const char	*key;
	int		 k;

	if (next_event(ps, &ev) == -1)
		return -1;
	if (ev.type == YAML_MAPPING_END_EVENT) {
		yaml_event_delete(&ev);
		return MAP_END;
	}
	if (ev.type != YAML_SCALAR_EVENT) {
		perr(ps, ev.start_mark, "expected a key %s, got %s",
		    mi->where, got(&ev, q, sizeof(q)));
		yaml_event_delete(&ev);
		return -1;
	}
	key = (const char *)ev.data.scalar.value;
	for (k = 0; mi->keys[k] != NULL; k++)
		if (strlen(mi->keys[k]) == ev.data.scalar.length &&
		    strcmp(mi->keys[k], key) == 0)
			break;
	if (mi->keys[k] == NULL) {
		list[0] = '\0';
		for (k = 0; mi->keys[k] != NULL; k++) {
			if (k)
				strlcat(list, ", ", sizeof(list));
			strlcat(list, mi->keys[k], sizeof(list));
		}
		perr(ps, ev.start_mark, "unknown key %s %s (expected one "
		    "of: %s)", quote(key, ev.data.scalar.length, q, sizeof(q)),
		    mi->where, list);
		yaml_event_delete(&ev);
		return -1;
	}
	if (mi->seen & KEYBIT(k)) {
		perr(ps, ev.start_mark, "duplicate key \"%s\" %s (first at "
		    "line %zu)", mi->keys[k], mi->where,
		    mi->marks[k].line + 1);
		yaml_event_delete(&ev);
		return -1;
	}
	mi->seen |= KEYBIT(k);
	mi->marks[k] = ev.start_mark;
	yaml_event_delete(&ev);
	return k;
}

/* --- values ---------------------------------------------------------- */

static int
num_value(struct pstate *ps, const char *key, long long min, long long max,
    long long *out)
{
	yaml_event_t	 ev;
	const char	*s, *errstr;
	char		 what[64];
	size_t		 i, n;

	snprintf(what, sizeof(what), "a number from %lld to %lld", min, max);
	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	n = ev.data.scalar.length;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			break;
	if (i != n || n > 10)
		return bad_value(ps, key, what, &ev);
	*out = strtonum(s, min, max, &errstr);
	if (errstr != NULL)
		return bad_value(ps, key, what, &ev);
	yaml_event_delete(&ev);
	return 0;
}

static int
bool_value(struct pstate *ps, const char *key, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	const char	*what = "true or false", *s;
	yaml_event_t	 ev;
	int		 i;

	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			yaml_event_delete(&ev);
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			yaml_event_delete(&ev);
			return 0;
		}
	}
	return bad_value(ps, key, what, &ev);
}

static int
name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '-';
}

/*
 * A name of 1..maxlen characters from [A-Za-z0-9_.-].  For user names
 * the first may not be '-'; interface names may not be "." or "..".
 */
static int
name_value(struct pstate *ps, const char *key, const char *what,
    size_t maxlen, char *buf, size_t size)
{
	yaml_event_t	 ev;
	const char	*s;
	size_t		 i, n;

	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	n = ev.data.scalar.length;
	if (n > maxlen || n >= size || s[0] == '-' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return bad_value(ps, key, what, &ev);
	for (i = 0; i < n; i++)
		if (!name_char(s[i]))
			return bad_value(ps, key, what, &ev);
	strlcpy(buf, s, size);
	yaml_event_delete(&ev);
	return 0;
}

static int
path_value(struct pstate *ps, const char *key, size_t maxlen, char *buf,
    size_t size)
{
	yaml_event_t	 ev;
	const char	*s;
	size_t		 i, n;

	if (scalar_value(ps, key, "an absolute path", &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	n = ev.data.scalar.length;
	if (s[0] != '/')
		return bad_value(ps, key, "an absolute path", &ev);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return bad_value(ps, key, "an absolute path without "
			    "control characters", &ev);
	if (n > maxlen || n >= size) {
		perr(ps, ev.start_mark, "%s: expected an absolute path of at "
		    "most %zu characters, got %zu", key,
		    maxlen < size - 1 ? maxlen : size - 1, n);
		yaml_event_delete(&ev);
		return -1;
	}
	strlcpy(buf, s, size);
	yaml_event_delete(&ev);
	return 0;
}

/*
 * control-socket-readonly: an absolute path that fits sun_path, or
 * "none" for no read-only socket.
 */
static int
ro_socket_value(struct pstate *ps, char *buf, size_t size)
{
	static const char	*key = "control-socket-readonly";
	static const char	*what = "an absolute path or none";
	yaml_event_t		 ev;
	const char		*s;
	size_t			 i, n;

	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	n = ev.data.scalar.length;
	if (strcmp(s, "none") != 0) {
		if (s[0] != '/')
			return bad_value(ps, key, what, &ev);
		for (i = 0; i < n; i++)
			if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
				return bad_value(ps, key, "an absolute path "
				    "without control characters", &ev);
		if (n > 107) {
			perr(ps, ev.start_mark, "%s: expected an absolute "
			    "path of at most 107 characters, got %zu", key, n);
			yaml_event_delete(&ev);
			return -1;
		}
	}
	strlcpy(buf, s, size);
	yaml_event_delete(&ev);
	return 0;
}

/* Looks like a DNS name rather than a mistyped address? */
static int
looks_like_hostname(const char *s)
{
	const char	*colon = strchr(s, ':');
	int		 alpha = 0;

	if (s[0] == '[' || (colon != NULL && strchr(colon + 1, ':') != NULL))
		return 0;
	for (; *s != '\0' && *s != ':'; s++) {
		if (isalpha((unsigned char)*s))
			alpha = 1;
		else if (!isdigit((unsigned char)*s) && *s != '.' && *s != '-')
			return 0;
	}
	return alpha;
}

static int
addr_unspecified(const struct omni_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return a->sin.sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&a->sin6.sin6_addr);
}

static int
addr_multicast(const struct omni_addr *a)
{
	if (a->sa.sa_family == AF_INET)
		return IN_MULTICAST(ntohl(a->sin.sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&a->sin6.sin6_addr);
}

#define ADDR_WHAT	"an IP address, IP:PORT or [IPv6]:PORT"

/*
 * An address event: IP with optional port (defport when absent).  A
 * listening address may be the wildcard; one to connect to must be
 * a unicast address.  The event is deleted.
 */
static int
addr_check(struct pstate *ps, const char *key, uint16_t defport, int listen,
    yaml_event_t *ev, struct omni_addr *out)
{
	const char	*s;
	char		 q[64];

	if (scalar_check(ps, key, ADDR_WHAT, ev) == -1)
		return -1;
	s = (const char *)ev->data.scalar.value;
	if (omni_addr_parse(s, defport, out) == -1) {
		if (looks_like_hostname(s))
			return bad_value(ps, key, "an IP address (host names "
			    "are not supported yet)", ev);
		return bad_value(ps, key, ADDR_WHAT " (port 1 to 65535)", ev);
	}
	if (addr_multicast(out) || (!listen && addr_unspecified(out))) {
		perr(ps, ev->start_mark, "%s: expected a unicast address, "
		    "got %s", key, quote(s, strlen(s), q, sizeof(q)));
		yaml_event_delete(ev);
		return -1;
	}
	yaml_event_delete(ev);
	return 0;
}

static int
addr_value(struct pstate *ps, const char *key, uint16_t defport, int listen,
    struct omni_addr *out)
{
	yaml_event_t	 ev;

	if (next_event(ps, &ev) == -1)
		return -1;
	return addr_check(ps, key, defport, listen, &ev, out);
}

static int
prefix_value(struct pstate *ps, const char *key, struct omni_prefix *out)
{
	const char	*what = "an IP address with a prefix length, e.g. "
			    "10.77.0.1/24 or fd00:77::1/64";
	yaml_event_t	 ev;
	const char	*s;
	const uint8_t	*a;
	struct in6_addr	 a6;

	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	if (strchr(s, '/') == NULL || omni_prefix_parse(s, out) == -1 ||
	    !isdigit((unsigned char)strchr(s, '/')[1]))
		return bad_value(ps, key, what, &ev);
	a = out->addr;
	memcpy(&a6, out->addr, sizeof(a6));	/* addr[] is not aligned */
	if (out->af == AF_INET ? (a[0] == 0 || a[0] == 127 || a[0] >= 224) :
	    (IN6_IS_ADDR_UNSPECIFIED(&a6) || IN6_IS_ADDR_LOOPBACK(&a6) ||
	    IN6_IS_ADDR_MULTICAST(&a6)))
		return bad_value(ps, key, "a unicast address that is not "
		    "loopback", &ev);
	yaml_event_delete(&ev);
	return 0;
}

static int
secret_char_ok(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* An inline secret.  Its text never appears in a message. */
static int
secret_value(struct pstate *ps, const char *key, char *buf, size_t size)
{
	yaml_event_t	 ev;
	const char	*s;
	size_t		 n;

	if (next_event(ps, &ev) == -1)
		return -1;
	if (ev.type != YAML_SCALAR_EVENT || is_null(&ev))
		return bad_value(ps, key, "a secret of at least "
		    "16 characters", &ev);
	s = (const char *)ev.data.scalar.value;
	n = ev.data.scalar.length;
	if (strlen(s) != n || !secret_char_ok(s, n))
		perr(ps, ev.start_mark, "%s: expected printable characters "
		    "only", key);
	else if (n < OMNI_SECRET_MIN)
		perr(ps, ev.start_mark, "%s: expected at least %d characters, "
		    "got %zu", key, OMNI_SECRET_MIN, n);
	else if (n > CONF_SECRET_MAX || n >= size)
		perr(ps, ev.start_mark, "%s: expected at most %d characters, "
		    "got %zu", key, CONF_SECRET_MAX, n);
	else
		strlcpy(buf, s, size);
	explicit_bzero(ev.data.scalar.value, n);
	yaml_event_delete(&ev);
	return ps->failed ? -1 : 0;
}

static int
backend_value(struct pstate *ps, const char *key, int *out)
{
	const char	*what = "auto, userspace or kernel", *s;
	yaml_event_t	 ev;

	if (scalar_value(ps, key, what, &ev) == -1)
		return -1;
	s = (const char *)ev.data.scalar.value;
	if (strcmp(s, "auto") == 0)
		*out = BACKEND_AUTO;
	else if (strcmp(s, "userspace") == 0)
		*out = BACKEND_USERSPACE;
	else if (strcmp(s, "kernel") == 0)
		*out = BACKEND_KERNEL;
	else
		return bad_value(ps, key, what, &ev);
	yaml_event_delete(&ev);
	return 0;
}

/* --- sections -------------------------------------------------------- */

static int
parse_metrics(struct pstate *ps)
{
	struct conf_global	*g = &ps->conf->global;
	struct mapiter		 mi;
	yaml_mark_t		 start;
	int			 empty, k, r = 0;

	if (coll_value(ps, "metrics", YAML_MAPPING_START_EVENT, &empty,
	    &start) == -1)
		return -1;
	if (empty)
		return 0;
	mapiter_init(&mi, metrics_keys, "in metrics", start);
	while (r == 0 && (k = map_next(ps, &mi)) >= 0) {
		switch (k) {
		case M_ENABLE:
			r = bool_value(ps, "enable", &g->metrics_enabled);
			break;
		case M_LISTEN:
			r = addr_value(ps, "listen", OMNI_METRICS_PORT, 1,
			    &g->metrics);
			break;
		}
	}
	return ps->failed ? -1 : 0;
}

/* secret and secret-file exclude each other. */
static int
secret_conflict(struct pstate *ps, const struct mapiter *mi, int k,
    int other, const char *what)
{
	if ((mi->seen & KEYBIT(other)) == 0)
		return 0;
	perr(ps, mi->marks[k], "%s: both \"secret\" and \"secret-file\" "
	    "given, expected only one", what);
	return -1;
}

static int
parse_nucleus(struct pstate *ps, yaml_mark_t keymark)
{
	struct conf_nucleus	*n = &ps->conf->nucleus;
	struct mapiter		*mi = &ps->nucmi;
	yaml_mark_t		 start;
	long long		 v;
	int			 empty, k, r = 0;

	ps->conf->has_nucleus = 1;
	if (coll_value(ps, "nucleus", YAML_MAPPING_START_EVENT, &empty,
	    &start) == -1)
		return -1;
	/* "missing" errors point at the key: the section may be empty */
	mapiter_init(mi, nucleus_keys, "in nucleus", keymark);
	while (!empty && r == 0 && (k = map_next(ps, mi)) >= 0) {
		switch (k) {
		case N_LISTEN:
			r = addr_value(ps, "listen", OMNI_NUCLEUS_PORT, 1,
			    &n->listen);
			break;
		case N_SECRET:
			if ((r = secret_conflict(ps, mi, k, N_SECRET_FILE,
			    "nucleus")) == 0)
				r = secret_value(ps, "secret", n->secret,
				    sizeof(n->secret));
			break;
		case N_SECRET_FILE:
			if ((r = secret_conflict(ps, mi, k, N_SECRET,
			    "nucleus")) == 0)
				r = path_value(ps, "secret-file",
				    OMNI_PATHSIZ - 1, n->secret_file,
				    sizeof(n->secret_file));
			break;
		case N_PEER_TIMEOUT:
			if ((r = num_value(ps, "peer-timeout", 5, 3600,
			    &v)) == 0)
				n->peer_timeout = v;
			break;
		case N_IDENTITY:
			r = path_value(ps, "identity", OMNI_PATHSIZ - 1,
			    n->identity, sizeof(n->identity));
			break;
		case N_MAX_EDGES:
			if ((r = num_value(ps, "max-edges",
			    OMNI_NUCLEUS_EDGES_MIN, OMNI_NUCLEUS_EDGES_MAX,
			    &v)) == 0)
				n->max_edges = v;
			break;
		case N_MAX_CLUSTERS:
			if ((r = num_value(ps, "max-clusters",
			    OMNI_NUCLEUS_CLUSTERS_MIN,
			    OMNI_NUCLEUS_CLUSTERS_MAX, &v)) == 0)
				n->max_clusters = v;
			break;
		case N_RATE_LIMIT:
			if ((r = num_value(ps, "rate-limit",
			    OMNI_NUCLEUS_RATE_MIN, OMNI_NUCLEUS_RATE_MAX,
			    &v)) == 0)
				n->rate_limit = v;
			break;
		}
	}
	if (ps->failed)
		return -1;
	if ((mi->seen & (KEYBIT(N_SECRET) | KEYBIT(N_SECRET_FILE))) == 0) {
		perr(ps, keymark, "nucleus: missing \"secret\" or "
		    "\"secret-file\"");
		return -1;
	}
	return 0;
}

static const char *
iface_label(const struct conf_iface *ifc, int idx, char *buf, size_t len)
{
	if (ifc->name[0] != '\0')
		snprintf(buf, len, "interface %s", ifc->name);
	else
		snprintf(buf, len, "interface #%d", idx + 1);
	return buf;
}

/*
 * A sequence of at most max distinct addresses under key, port defport
 * when none is given.  nuclei: and stun-servers: share it, so both give
 * the same positioned errors.
 */
static int
parse_addr_list(struct pstate *ps, const char *key, uint16_t defport,
    struct omni_addr *list, int max, int *np)
{
	yaml_event_t	 ev;
	yaml_mark_t	 start;
	char		 a[OMNI_ADDRSTRLEN];
	int		 empty, i;

	if (coll_value(ps, key, YAML_SEQUENCE_START_EVENT, &empty,
	    &start) == -1)
		return -1;
	while (!empty) {
		if (next_event(ps, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (*np == max) {
			perr(ps, ev.start_mark, "%s: expected at most %d "
			    "addresses", key, max);
			yaml_event_delete(&ev);
			return -1;
		}
		start = ev.start_mark;
		if (addr_check(ps, key, defport, 0, &ev, &list[*np]) == -1)
			return -1;
		for (i = 0; i < *np; i++) {
			if (memcmp(&list[i], &list[*np], sizeof(list[i])) == 0) {
				perr(ps, start, "%s: %s is listed twice", key,
				    omni_addr_str(&list[i], a, sizeof(a)));
				return -1;
			}
		}
		(*np)++;
	}
	return 0;
}

/* Nuclei: 1 to OMNI_MAX_NUCLEI addresses. */
static int
parse_nuclei(struct pstate *ps, struct conf_iface *ifc, yaml_mark_t keymark)
{
	if (parse_addr_list(ps, "nuclei", OMNI_NUCLEUS_PORT, ifc->nuclei,
	    OMNI_MAX_NUCLEI, &ifc->nnuclei) == -1)
		return -1;
	if (ifc->nnuclei == 0) {
		perr(ps, keymark, "nuclei: expected 1 to %d addresses",
		    OMNI_MAX_NUCLEI);
		return -1;
	}
	return 0;
}

/* STUN servers: 0 to OMNI_MAX_STUN addresses, an empty list is none. */
static int
parse_stun_servers(struct pstate *ps, struct conf_iface *ifc)
{
	return parse_addr_list(ps, "stun-servers", OMNI_STUN_PORT, ifc->stun,
	    OMNI_MAX_STUN, &ifc->nstun);
}

static void
iface_defaults(struct conf_iface *ifc)
{
	memset(ifc, 0, sizeof(*ifc));
	ifc->listen_port = OMNI_WG_PORT;
	ifc->mtu = OMNI_MTU;
	ifc->keepalive = OMNI_KEEPALIVE;
	ifc->heartbeat = OMNI_HEARTBEAT;
	ifc->peer_timeout = OMNI_PEER_TIMEOUT;
	ifc->backend = BACKEND_AUTO;
	ifc->stun_interval = OMNI_STUN_INTERVAL;
}

static int
prefix_same_addr(const struct omni_prefix *a, const struct omni_prefix *b)
{
	return a->af == b->af &&
	    memcmp(a->addr, b->addr, a->af == AF_INET ? 4 : 16) == 0;
}

/* Checks of one interface against itself and the ones before it. */
static int
iface_finish(struct pstate *ps, int idx)
{
	static const struct { int key; const char *name; } required[] = {
		{ I_NAME, "name" }, { I_CLUSTER, "cluster" },
		{ I_ADDRESS, "address" }, { I_NUCLEI, "nuclei" }
	};
	struct conf_iface	*ifc = &ps->conf->ifaces[idx], *o;
	struct mapiter		*mi = &ps->ifmi[idx];
	char			 label[64], a[OMNI_PREFIXSTRLEN];
	size_t			 i;
	int			 j;

	iface_label(ifc, idx, label, sizeof(label));
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if ((mi->seen & KEYBIT(required[i].key)) == 0) {
			perr(ps, mi->start, "%s: missing \"%s\"", label,
			    required[i].name);
			return -1;
		}
		if (required[i].key == I_CLUSTER &&
		    (mi->seen & (KEYBIT(I_SECRET) |
		    KEYBIT(I_SECRET_FILE))) == 0) {
			perr(ps, mi->start, "%s: missing \"secret\" or "
			    "\"secret-file\"", label);
			return -1;
		}
	}
	if (ifc->peer_timeout <= ifc->heartbeat) {
		perr(ps, mapiter_mark(mi, (mi->seen & KEYBIT(I_PEER_TIMEOUT)) ?
		    I_PEER_TIMEOUT : I_HEARTBEAT), "%s: peer-timeout (%u) "
		    "must be greater than heartbeat (%u)", label,
		    ifc->peer_timeout, ifc->heartbeat);
		return -1;
	}
	if ((mi->seen & KEYBIT(I_IDENTITY)) == 0) {
		strlcpy(ifc->identity, CONF_IDENTITY_DIR "/",
		    sizeof(ifc->identity));
		strlcat(ifc->identity, ifc->name, sizeof(ifc->identity));
		strlcat(ifc->identity, ".key", sizeof(ifc->identity));
	}

	for (j = 0; j < idx; j++) {
		o = &ps->conf->ifaces[j];
		if (strcmp(o->name, ifc->name) == 0) {
			perr(ps, mapiter_mark(mi, I_NAME), "duplicate "
			    "interface name \"%s\" (first at line %zu)",
			    ifc->name, ps->ifmi[j].marks[I_NAME].line + 1);
			return -1;
		}
		if (o->listen_port == ifc->listen_port) {
			perr(ps, mapiter_mark(mi, I_PORT), "%s: listen-port "
			    "%u is already used by interface %s", label,
			    ifc->listen_port, o->name);
			return -1;
		}
		if (prefix_same_addr(&o->address, &ifc->address)) {
			perr(ps, mapiter_mark(mi, I_ADDRESS), "%s: address "
			    "%s is already used by interface %s", label,
			    omni_prefix_str(&ifc->address, a, sizeof(a)),
			    o->name);
			return -1;
		}
	}
	return 0;
}

static int
parse_iface(struct pstate *ps, int idx, yaml_mark_t start)
{
	struct conf_iface	*ifc = &ps->conf->ifaces[idx];
	struct mapiter		*mi = &ps->ifmi[idx];
	long long		 v;
	char			 label[64];
	int			 k, r = 0;

	iface_defaults(ifc);
	mapiter_init(mi, iface_keys, "in interface", start);
	while (r == 0 && (k = map_next(ps, mi)) >= 0) {
		switch (k) {
		case I_NAME:
			r = name_value(ps, "name", "an interface name of 1 to "
			    "15 characters from A-Z a-z 0-9 _ . -",
			    OMNI_IFNAMSIZ - 1, ifc->name, sizeof(ifc->name));
			break;
		case I_CLUSTER:
			r = name_value(ps, "cluster", "a cluster name of 1 to "
			    "63 characters from A-Z a-z 0-9 _ . -",
			    OMNI_NAMESIZ - 1, ifc->cluster,
			    sizeof(ifc->cluster));
			break;
		case I_SECRET:
			if ((r = secret_conflict(ps, mi, k, I_SECRET_FILE,
			    iface_label(ifc, idx, label, sizeof(label)))) == 0)
				r = secret_value(ps, "secret", ifc->secret,
				    sizeof(ifc->secret));
			break;
		case I_SECRET_FILE:
			if ((r = secret_conflict(ps, mi, k, I_SECRET,
			    iface_label(ifc, idx, label, sizeof(label)))) == 0)
				r = path_value(ps, "secret-file",
				    OMNI_PATHSIZ - 1, ifc->secret_file,
				    sizeof(ifc->secret_file));
			break;
		case I_ADDRESS:
			r = prefix_value(ps, "address", &ifc->address);
			break;
		case I_PORT:
			if ((r = num_value(ps, "listen-port", 1, 65535,
			    &v)) == 0)
				ifc->listen_port = v;
			break;
		case I_IDENTITY:
			r = path_value(ps, "identity", OMNI_PATHSIZ - 1,
			    ifc->identity, sizeof(ifc->identity));
			break;
		case I_MTU:
			if ((r = num_value(ps, "mtu", 1280, 9000, &v)) == 0)
				ifc->mtu = v;
			break;
		case I_KEEPALIVE:
			if ((r = num_value(ps, "keepalive", 0, 3600, &v)) == 0)
				ifc->keepalive = v;
			break;
		case I_HEARTBEAT:
			if ((r = num_value(ps, "heartbeat", 1, 600, &v)) == 0)
				ifc->heartbeat = v;
			break;
		case I_PEER_TIMEOUT:
			if ((r = num_value(ps, "peer-timeout", 5, 3600,
			    &v)) == 0)
				ifc->peer_timeout = v;
			break;
		case I_BACKEND:
			r = backend_value(ps, "backend", &ifc->backend);
			break;
		case I_NUCLEI:
			r = parse_nuclei(ps, ifc, mi->marks[I_NUCLEI]);
			break;
		case I_STUN_SERVERS:
			r = parse_stun_servers(ps, ifc);
			break;
		case I_STUN_INTERVAL:
			if ((r = num_value(ps, "stun-interval", 5, 3600,
			    &v)) == 0)
				ifc->stun_interval = v;
			break;
		}
	}
	if (ps->failed)
		return -1;
	return iface_finish(ps, idx);
}

static int
parse_ifaces(struct pstate *ps)
{
	yaml_event_t	 ev;
	yaml_mark_t	 start;
	int		 empty;

	if (coll_value(ps, "interfaces", YAML_SEQUENCE_START_EVENT, &empty,
	    &start) == -1)
		return -1;
	while (!empty) {
		if (next_event(ps, &ev) == -1)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type != YAML_MAPPING_START_EVENT)
			return bad_value(ps, "interfaces", "a mapping for "
			    "each interface", &ev);
		start = ev.start_mark;
		yaml_event_delete(&ev);
		if (ps->conf->niface == OMNI_MAX_IFACES) {
			perr(ps, start, "interfaces: expected at most %d "
			    "interfaces", OMNI_MAX_IFACES);
			return -1;
		}
		if (parse_iface(ps, ps->conf->niface, start) == -1)
			return -1;
		ps->conf->niface++;
	}
	return 0;
}

static int
parse_top(struct pstate *ps, yaml_mark_t start)
{
	struct conf_global	*g = &ps->conf->global;
	struct mapiter		 mi;
	long long		 v;
	int			 k, r = 0, i;

	mapiter_init(&mi, global_keys, "at top level", start);
	while (r == 0 && (k = map_next(ps, &mi)) >= 0) {
		switch (k) {
		case G_USER:
			r = name_value(ps, "user", "a user name of 1 to 32 "
			    "characters from A-Z a-z 0-9 _ . -", 32, g->user,
			    sizeof(g->user));
			break;
		case G_CHROOT:
			r = path_value(ps, "chroot", OMNI_PATHSIZ - 1,
			    g->chroot, sizeof(g->chroot));
			break;
		case G_CONTROL:
			/* it must fit sun_path */
			r = path_value(ps, "control-socket", 107, g->control,
			    sizeof(g->control));
			break;
		case G_CONTROL_RO:
			r = ro_socket_value(ps, g->control_ro,
			    sizeof(g->control_ro));
			break;
		case G_WGGO:
			r = path_value(ps, "wireguard-go", OMNI_PATHSIZ - 1,
			    g->wireguard_go, sizeof(g->wireguard_go));
			break;
		case G_VERBOSE:
			if ((r = num_value(ps, "verbose", 0, CONF_MAX_VERBOSE,
			    &v)) == 0)
				g->verbose = v;
			break;
		case G_METRICS:
			r = parse_metrics(ps);
			break;
		case G_NUCLEUS:
			r = parse_nucleus(ps, mi.marks[G_NUCLEUS]);
			break;
		case G_IFACES:
			r = parse_ifaces(ps);
			break;
		}
	}
	if (ps->failed)
		return -1;

	/* By default the read-only socket sits beside the control socket. */
	if (g->control_ro[0] == '\0' && config_ctl_ro_path(g->control, "",
	    g->control_ro, sizeof(g->control_ro)) == -1) {
		perr(ps, mapiter_mark(&mi, G_CONTROL), "control-socket: too "
		    "long to put control-socket-readonly beside it; set that "
		    "key");
		return -1;
	}

	/* The nucleus and the interfaces share the UDP port space. */
	if (ps->conf->has_nucleus) {
		for (i = 0; i < ps->conf->niface; i++) {
			if (ps->conf->ifaces[i].listen_port !=
			    omni_addr_port(&ps->conf->nucleus.listen))
				continue;
			perr(ps, mapiter_mark(&ps->ifmi[i], I_PORT),
			    "interface %s: listen-port %u is also the "
			    "nucleus port", ps->conf->ifaces[i].name,
			    ps->conf->ifaces[i].listen_port);
			return -1;
		}
	}
	return 0;
}

static int
parse_stream(struct pstate *ps)
{
	yaml_event_t	 ev;
	char		 g[64];
	int		 r;

	if (next_event(ps, &ev) == -1)
		return -1;
	/* STREAM_START */
	yaml_event_delete(&ev);
	if (next_event(ps, &ev) == -1)
		return -1;
	ps->doc_mark = ev.start_mark;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;		/* empty: "nothing to do" follows */
	}
	yaml_event_delete(&ev);		/* DOCUMENT_START */

	if (next_event(ps, &ev) == -1)
		return -1;
	if (ev.type == YAML_MAPPING_START_EVENT) {
		ps->doc_mark = ev.start_mark;
		yaml_event_delete(&ev);
		if ((r = parse_top(ps, ps->doc_mark)) == -1)
			return -1;
	} else if (is_null(&ev))
		yaml_event_delete(&ev);
	else {
		perr(ps, ev.start_mark, "expected a mapping at top level, "
		    "got %s", got(&ev, g, sizeof(g)));
		yaml_event_delete(&ev);
		return -1;
	}

	if (next_event(ps, &ev) == -1)
		return -1;
	yaml_event_delete(&ev);		/* DOCUMENT_END */
	if (next_event(ps, &ev) == -1)
		return -1;
	if (ev.type != YAML_STREAM_END_EVENT) {
		perr(ps, ev.start_mark, "expected a single YAML document");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);
	return 0;
}

/* --- entry points ---------------------------------------------------- */

void
config_defaults(struct omni_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	strlcpy(conf->global.user, OMNI_USER, sizeof(conf->global.user));
	strlcpy(conf->global.chroot, OMNI_CHROOT, sizeof(conf->global.chroot));
	strlcpy(conf->global.control, OMNI_CTL_SOCKET,
	    sizeof(conf->global.control));
	strlcpy(conf->global.wireguard_go, CONF_WIREGUARD_GO,
	    sizeof(conf->global.wireguard_go));
	if (omni_addr_parse(OMNI_METRICS_ADDR, OMNI_METRICS_PORT,
	    &conf->global.metrics) == -1)
		abort();
	conf->global.metrics_enabled = 1;
	conf->global.verbose = 0;
	/* Resolved by the parent; never let a default mean root. */
	conf->global.uid = (uid_t)-1;
	conf->global.gid = (gid_t)-1;
	if (omni_addr_parse(CONF_NUCLEUS_LISTEN, OMNI_NUCLEUS_PORT,
	    &conf->nucleus.listen) == -1)
		abort();
	conf->nucleus.peer_timeout = OMNI_PEER_TIMEOUT;
	conf->nucleus.max_edges = OMNI_NUCLEUS_EDGES;
	conf->nucleus.max_clusters = OMNI_NUCLEUS_CLUSTERS;
	conf->nucleus.rate_limit = OMNI_NUCLEUS_RATE;
	strlcpy(conf->nucleus.identity, CONF_NUCLEUS_IDENTITY,
	    sizeof(conf->nucleus.identity));
}

int
parse_buffer(const char *name, const char *buf, size_t len,
    struct omni_conf *conf, char *err, size_t errlen)
{
	struct pstate	*ps;
	int		 r;

	config_defaults(conf);
	if (errlen)
		err[0] = '\0';
	if (len > CONF_MAX_INPUT) {
		snprintf(err, errlen, "%s: larger than %d bytes", name,
		    CONF_MAX_INPUT);
		return -1;
	}
	if ((ps = calloc(1, sizeof(*ps))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	ps->name = name;
	ps->buf = buf;
	ps->len = len;
	ps->err = err;
	ps->errlen = errlen;
	ps->conf = conf;
	if (!yaml_parser_initialize(&ps->parser)) {
		snprintf(err, errlen, "%s: cannot initialise the YAML parser",
		    name);
		free(ps);
		return -1;
	}
	yaml_parser_set_input_string(&ps->parser, (const unsigned char *)buf,
	    len);
	r = parse_stream(ps);
	if (r == 0 && !ps->conf->has_nucleus && ps->conf->niface == 0) {
		perr(ps, ps->doc_mark, "nothing to do: no nucleus section and "
		    "no interfaces");
		r = -1;
	}
	if (ps->failed)
		r = -1;
	yaml_parser_delete(&ps->parser);
	free(ps);
	if (r == -1) {
		explicit_bzero(conf, sizeof(*conf));
		config_defaults(conf);
		if (errlen && err[0] == '\0')
			snprintf(err, errlen, "%s: invalid", name);
	}
	return r;
}

int
parse_read_fd(int fd, const char *name, char **bufp, size_t *lenp,
    char *err, size_t errlen)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;

	*bufp = NULL;
	*lenp = 0;
	/* One byte more than allowed, to tell "too large" from "full". */
	if ((buf = malloc(CONF_MAX_INPUT + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	while (len < CONF_MAX_INPUT + 1) {
		n = read(fd, buf + len, CONF_MAX_INPUT + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", name,
			    strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	if (len > CONF_MAX_INPUT) {
		snprintf(err, errlen, "%s: larger than %d bytes, refusing",
		    name, CONF_MAX_INPUT);
		free(buf);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* --- the child ------------------------------------------------------- */

/*
 * Beyond the base list (read, recvmsg, sendmsg, malloc, exit) only
 * sigaltstack, which AddressSanitizer calls at exit (SANITIZE=1).
 */
static const int parse_syscalls[] = { SCMP_SYS(sigaltstack), -1 };

static void
parse_recv_file(struct imsgbuf *ib, struct conf_file *cf, int *fdp)
{
	struct imsg	 im;
	ssize_t		 n;
	int		 r;

	for (;;) {
		if ((r = imsg_get(ib, &im)) == -1)
			fatal("imsg_get");
		if (r == 1)
			break;
		if ((n = imsgbuf_read(ib)) == -1)
			fatal("imsgbuf_read");
		if (n == 0)
			fatalx("parent closed the channel");
	}
	if (im.hdr.type != IMSG_CONF_FILE || im.hdr.len != sizeof(*cf) ||
	    im.fd == -1 || !omni_str_valid(((struct conf_file *)im.data)->path,
	    sizeof(cf->path)))
		fatalx("unexpected message type %u length %u from the parent",
		    im.hdr.type, im.hdr.len);
	memcpy(cf, im.data, sizeof(*cf));
	*fdp = im.fd;
	imsg_free(&im);
}

static void
parse_send(struct imsgbuf *ib, uint32_t type, const void *data, size_t len)
{
	if (imsg_compose(ib, type, 0, -1, data, len) == -1)
		fatal("imsg_compose");
}

static char *
parse_strip_argv(int argc, char **argv, int *nargc)
{
	int	 i, o = 1;

	/* Drop "-P config" or "-Pconfig" wherever it is. */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-P") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		if (strncmp(argv[i], "-P", 2) == 0)
			continue;
		argv[o++] = argv[i];
	}
	argv[o] = NULL;
	*nargc = o;
	return argv[0];
}

void
parse_main(int argc, char **argv)
{
	struct proc_sandbox	 sb;
	struct imsgbuf		 ib;
	struct conf_file	 cf;
	struct omni_text	 txt;
	struct omni_conf	*conf;
	char			*buf;
	size_t			 len;
	int			 fd, nargc, i, r;

	parse_strip_argv(argc, argv, &nargc);
	optind = 1;
	optreset = 1;
	proc_child_start(nargc, argv, "omnid -P config", "config", &sb);
	sb.syscalls = parse_syscalls;
	proc_sandbox(&sb);

	imsgbuf_init(&ib, OMNI_PARENT_FD);
	parse_recv_file(&ib, &cf, &fd);

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		fatal("calloc");
	memset(&txt, 0, sizeof(txt));
	r = parse_read_fd(fd, cf.path, &buf, &len, txt.text,
	    sizeof(txt.text));
	close(fd);
	if (r == 0) {
		r = parse_buffer(cf.path, buf, len, conf, txt.text,
		    sizeof(txt.text));
		explicit_bzero(buf, len);
		free(buf);
	}
	if (r == -1)
		parse_send(&ib, IMSG_CONF_ERROR, &txt, sizeof(txt));
	else {
		parse_send(&ib, IMSG_CONF_GLOBAL, &conf->global,
		    sizeof(conf->global));
		if (conf->has_nucleus)
			parse_send(&ib, IMSG_CONF_NUCLEUS, &conf->nucleus,
			    sizeof(conf->nucleus));
		for (i = 0; i < conf->niface; i++)
			parse_send(&ib, IMSG_CONF_IFACE, &conf->ifaces[i],
			    sizeof(conf->ifaces[i]));
		parse_send(&ib, IMSG_CONF_END, NULL, 0);
	}
	explicit_bzero(conf, sizeof(*conf));
	if (imsgbuf_flush(&ib) == -1)
		fatal("sending the configuration");
	log_debug("configuration %s: %s", cf.path, r == 0 ? "valid" :
	    "invalid");
	exit(0);
}
