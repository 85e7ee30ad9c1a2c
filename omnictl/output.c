/*
 * omnictl output: text for people (aligned columns, human sizes and
 * ages) and JSON for programs (exact numbers, every string escaped).
 * Both implement struct output; omnictl.c calls head, one callback per
 * item, then tail.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <err.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "omnictl.h"

/* --- formatting helpers ------------------------------------------------ */

const char *
fmt_size(uint64_t n, char *buf, size_t len)
{
	static const char	*units[] = { "KiB", "MiB", "GiB", "TiB", "PiB",
				    "EiB" };
	double			 v = n;
	int			 u = -1;

	if (n < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *
fmt_age(int64_t when, time_t now, char *buf, size_t len)
{
	int64_t	 age;

	if (when <= 0) {
		snprintf(buf, len, "never");
		return buf;
	}
	age = (int64_t)now - when;
	if (age < 0)
		age = 0;	/* clocks disagree: it was just now */
	if (age < 60)
		snprintf(buf, len, "%" PRId64 "s ago", age);
	else if (age < 3600)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s ago", age / 60,
		    age % 60);
	else if (age < 86400)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m ago",
		    age / 3600, age % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h ago",
		    age / 86400, age % 86400 / 3600);
	return buf;
}

/* A round trip: "-" when nothing measured it. */
const char *
fmt_rtt(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 10000)
		snprintf(buf, len, "%.2f ms", us / 1000.0);
	else if (us < 1000000)
		snprintf(buf, len, "%.1f ms", us / 1000.0);
	else
		snprintf(buf, len, "%.2f s", us / 1e6);
	return buf;
}

/* A length of time, two units at most: "3d 4h", "5m 12s". */
const char *
fmt_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%" PRId64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRId64 "m %" PRId64 "s", s / 60,
		    s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRId64 "h %" PRId64 "m", s / 3600,
		    s % 3600 / 60);
	else
		snprintf(buf, len, "%" PRId64 "d %" PRId64 "h", s / 86400,
		    s % 86400 / 3600);
	return buf;
}

static const char *
path_name(int path)
{
	switch (path) {
	case PATH_DIRECT:	return "direct";
	case PATH_RELAYED:	return "relayed";
	case PATH_DIRECT_LAN:	return "direct-lan";
	case PATH_DIRECT_NAT:	return "direct-nat";
	default:		return "none";
	}
}

/* issue 7: the kind of the peer's candidate in use */
static const char *
cand_name(int kind)
{
	switch (kind) {
	case CAND_HOST:			return "host";
	case CAND_REFLEXIVE:		return "reflexive";
	case CAND_PEER_REFLEXIVE:	return "peer-reflexive";
	default:			return "none";
	}
}

static const char *
probe_name(int state)
{
	switch (state) {
	case PROBE_RUNNING:	return "running";
	case PROBE_OK:		return "ok";
	case PROBE_FAILED:	return "failed";
	default:		return "idle";
	}
}

/* A candidate address, "" when there is none. */
static const char *
fmt_cand(const struct omni_addr *a, char *buf, size_t len)
{
	if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
		buf[0] = '\0';
	else
		omni_addr_str(a, buf, len);
	return buf;
}

/* "local -> remote", "-" when no pair is known. */
static const char *
fmt_pair(const struct ctl_peer *p, char *buf, size_t len)
{
	char	 l[OMNI_ADDRSTRLEN], r[OMNI_ADDRSTRLEN];

	if (p->cand_remote.sa.sa_family != AF_INET &&
	    p->cand_remote.sa.sa_family != AF_INET6) {
		snprintf(buf, len, "-");
		return buf;
	}
	fmt_cand(&p->cand_local, l, sizeof(l));
	fmt_cand(&p->cand_remote, r, sizeof(r));
	snprintf(buf, len, "%s -> %s", l[0] != '\0' ? l : "-", r);
	return buf;
}

static const char *
plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* The address of a VIP without its prefix length, "-" if unknown. */
static const char *
fmt_vip(const struct omni_prefix *p, char *buf, size_t len)
{
	if ((p->af != AF_INET && p->af != AF_INET6) ||
	    inet_ntop(p->af, p->addr, buf, len) == NULL)
		snprintf(buf, len, "-");
	return buf;
}

static const char *
fmt_endpoint(const struct omni_addr *a, char *buf, size_t len)
{
	if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
		snprintf(buf, len, "-");
	else
		omni_addr_str(a, buf, len);
	return buf;
}

/* --- text: a table of aligned columns ----------------------------------- */

#define TT_MAXCOLS	10

struct tt_row {
	char	*group;			/* rows are printed under it */
	char	*cell[TT_MAXCOLS];
};

static struct {
	int		 ncols;
	const char	*title[TT_MAXCOLS];
	int		 right[TT_MAXCOLS];	/* right aligned */
	struct tt_row	*rows;
	size_t		 nrows;
	size_t		 cap;
} tt;

/* Display width: UTF-8 continuation bytes take no column. */
static size_t
tt_width(const char *s)
{
	size_t	 w = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

static char *
xstrdup(const char *s)
{
	char	*d;

	if ((d = strdup(s)) == NULL)
		err(1, NULL);
	return d;
}

static void
tt_init(int ncols, const char **titles, const int *right)
{
	int	 i;

	memset(&tt, 0, sizeof(tt));
	tt.ncols = ncols;
	for (i = 0; i < ncols; i++) {
		tt.title[i] = titles[i];
		tt.right[i] = right[i];
	}
}

static void
tt_add(const char *group, const char **cells)
{
	struct tt_row	*r;
	int		 i;

	if (tt.nrows == tt.cap) {
		tt.cap = tt.cap ? tt.cap * 2 : 32;
		if ((tt.rows = reallocarray(tt.rows, tt.cap,
		    sizeof(*tt.rows))) == NULL)
			err(1, NULL);
	}
	r = &tt.rows[tt.nrows++];
	memset(r, 0, sizeof(*r));
	r->group = xstrdup(group);
	for (i = 0; i < tt.ncols; i++)
		r->cell[i] = xstrdup(cells[i]);
}

static void
tt_line(const char **cells, const size_t *w)
{
	size_t	 pad;
	int	 i, last = tt.ncols - 1;

	for (i = 0; i < tt.ncols; i++) {
		pad = w[i] - tt_width(cells[i]);
		if (tt.right[i])
			printf("%*s%s", (int)pad, "", cells[i]);
		else if (i == last)
			printf("%s", cells[i]);
		else
			printf("%s%*s", cells[i], (int)pad, "");
		printf(i == last ? "\n" : "  ");
	}
}

/* Print every group with its header; widths are shared by all groups. */
static void
tt_flush(const char *grouplabel)
{
	size_t		 w[TT_MAXCOLS], n, i;
	const char	*group = NULL;
	int		 c;

	for (c = 0; c < tt.ncols; c++)
		w[c] = tt_width(tt.title[c]);
	for (i = 0; i < tt.nrows; i++)
		for (c = 0; c < tt.ncols; c++)
			if ((n = tt_width(tt.rows[i].cell[c])) > w[c])
				w[c] = n;
	for (i = 0; i < tt.nrows; i++) {
		if (group == NULL || strcmp(group, tt.rows[i].group) != 0) {
			if (group != NULL)
				printf("\n");
			group = tt.rows[i].group;
			printf("%s %s\n", grouplabel, group);
			tt_line(tt.title, w);
		}
		tt_line((const char **)tt.rows[i].cell, w);
	}
	for (i = 0; i < tt.nrows; i++) {
		free(tt.rows[i].group);
		for (c = 0; c < tt.ncols; c++)
			free(tt.rows[i].cell[c]);
	}
	free(tt.rows);
	memset(&tt, 0, sizeof(tt));
}

static int	text_count;
/* show nucleus: this host's own nucleus role, printed first. */
static struct ctl_nucleus text_local;
static int	text_have_local;

static void
text_head(enum actions a)
{
	static const char	*titles[] = { "VIP", "PUBLIC KEY", "ENDPOINT",
				    "PATH", "CANDIDATES", "HANDSHAKE", "RX",
				    "TX", "RTT" };
	static const int	 right[] = { 0, 0, 0, 0, 0, 0, 1, 1, 1 };
	static const char	*ntitles[] = { "NUCLEUS", "REACHABLE",
				    "LAST ANSWER", "RTT" };
	static const int	 nright[] = { 0, 0, 0, 1 };

	text_count = 0;
	text_have_local = 0;
	if (a == ACT_SHOW_PEERS)
		tt_init(9, titles, right);
	else if (a == ACT_SHOW_NUCLEUS)
		tt_init(4, ntitles, nright);
}

static void
text_peer(const struct ctl_peer *p, time_t now)
{
	char		 vip[INET6_ADDRSTRLEN], key[OMNI_KEY_B64LEN];
	char		 shortkey[16], ep[OMNI_ADDRSTRLEN], hs[32];
	char		 rx[32], tx[32], rtt[32], path[160];
	char		 pair[OMNI_ADDRSTRLEN * 2 + 8];
	const char	*cells[9];

	omni_key_to_base64(p->pubkey, key, sizeof(key));
	snprintf(shortkey, sizeof(shortkey), "%.8s\u2026", key);
	cells[0] = fmt_vip(&p->vip, vip, sizeof(vip));
	cells[1] = shortkey;
	cells[2] = fmt_endpoint(&p->endpoint, ep, sizeof(ep));
	/* no path: say why, when signald knows */
	if (p->path_reason[0] != '\0')
		snprintf(path, sizeof(path), "%s (%s)", path_name(p->path),
		    p->path_reason);
	else
		strlcpy(path, path_name(p->path), sizeof(path));
	cells[3] = path;
	cells[4] = fmt_pair(p, pair, sizeof(pair));
	cells[5] = fmt_age(p->last_handshake, now, hs, sizeof(hs));
	cells[6] = fmt_size(p->rx_bytes, rx, sizeof(rx));
	cells[7] = fmt_size(p->tx_bytes, tx, sizeof(tx));
	cells[8] = fmt_rtt(p->rtt_us, rtt, sizeof(rtt));
	tt_add(p->ifname, cells);
	text_count++;
}

static void
text_nucleus(const struct ctl_nucleus *n, time_t now)
{
	char		 addr[OMNI_ADDRSTRLEN], age[32], rtt[32];
	const char	*cells[4];

	text_count++;
	if (n->kind == CTL_NUCLEUS_LOCAL) {
		text_local = *n;
		text_have_local = 1;
		return;
	}
	cells[0] = omni_addr_str(&n->addr, addr, sizeof(addr));
	cells[1] = n->registered ? "yes" : "no";
	cells[2] = fmt_age(n->last_answer, now, age, sizeof(age));
	cells[3] = fmt_rtt(n->rtt_us, rtt, sizeof(rtt));
	tt_add(n->ifname, cells);
}

/* One line; what is wrong first, since that is what one looks for. */
static void
text_status(const struct ctl_status *s, time_t now)
{
	char	 up[32];

	printf("%s", s->healthy ? "healthy" : "unhealthy");
	if (!s->healthy)
		printf(" (%s)", s->problem);
	printf(": %u interface%s, %u up, %u registered; %u peer%s, "
	    "%u direct", s->ifaces, plural(s->ifaces), s->ifaces_up,
	    s->ifaces_registered, s->peers, plural(s->peers),
	    s->peers_direct);
	if (s->nucleus)
		printf("; nucleus: %u cluster%s, %u edge%s",
		    s->nucleus_clusters, plural(s->nucleus_clusters),
		    s->nucleus_edges, plural(s->nucleus_edges));
	if (s->restarts)
		printf("; %" PRIu64 " child restart%s", s->restarts,
		    plural(s->restarts));
	if (s->started > 0)
		printf("; up %s", fmt_duration((int64_t)now - s->started, up,
		    sizeof(up)));
	printf("\n");
}

static void
text_iface(const struct iface_info *ii)
{
	char	 key[OMNI_KEY_B64LEN], vip[OMNI_PREFIXSTRLEN];
	char	 addr[OMNI_ADDRSTRLEN];
	int	 i;

	if (text_count++ > 0)
		printf("\n");
	omni_key_to_base64(ii->pubkey, key, sizeof(key));
	printf("interface %s\n", ii->name);
	printf("  %-12s %s\n", "cluster:", ii->cluster);
	printf("  %-12s %s\n", "backend:", ii->backend);
	printf("  %-12s %s\n", "public key:", key);
	printf("  %-12s %s\n", "VIP:", omni_prefix_str(&ii->vip, vip,
	    sizeof(vip)));
	printf("  %-12s %u\n", "listen port:", ii->listen_port);
	printf("  %-12s %u\n", "MTU:", ii->mtu);
	if (ii->keepalive)
		printf("  %-12s %u s\n", "keepalive:", ii->keepalive);
	else
		printf("  %-12s off\n", "keepalive:");
	printf("  %-12s", "nuclei:");
	for (i = 0; i < ii->nnuclei; i++)
		printf("%s%s", i ? ", " : " ",
		    omni_addr_str(&ii->nuclei[i], addr, sizeof(addr)));
	printf("%s\n", ii->nnuclei ? "" : " none");
}

static void
text_result(enum actions a, const struct ctl_result *r)
{
	if (!r->ok) {
		fprintf(stderr, "omnictl: %s%s\n",
		    a == ACT_RELOAD ? "reload failed: " : "", r->text);
		return;
	}
	/* omnid answers a reload once it is applied: "reloaded". */
	printf("%s\n", r->text);
}

static void
text_tail(enum actions a)
{
	switch (a) {
	case ACT_SHOW_PEERS:
		if (text_count == 0)
			printf("no peers\n");
		else
			tt_flush("interface");
		break;
	case ACT_SHOW_IFACE:
		if (text_count == 0)
			printf("no interfaces\n");
		break;
	case ACT_SHOW_NUCLEUS:
		if (text_count == 0) {
			printf("no nucleus status (is signald running?)\n");
			break;
		}
		if (text_have_local) {
			char	 addr[OMNI_ADDRSTRLEN];

			printf("this host is a nucleus on %s: %u cluster%s, "
			    "%u edge%s\n", omni_addr_str(&text_local.addr,
			    addr, sizeof(addr)), text_local.clusters,
			    plural(text_local.clusters), text_local.edges,
			    plural(text_local.edges));
			if (text_count > 1)
				printf("\n");
		}
		tt_flush("interface");
		break;
	default:
		break;
	}
}

const struct output text_output = {
	text_head, text_peer, text_iface, text_nucleus, text_status,
	text_result, text_tail
};

/* --- JSON --------------------------------------------------------------- */

/*
 * A string as a JSON string.  Bytes outside printable ASCII are
 * escaped as \u00XX so the output is valid whatever the input.
 */
static void
json_str(const char *s)
{
	const unsigned char	*p;

	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':	fputs("\\\"", stdout); break;
		case '\\':	fputs("\\\\", stdout); break;
		case '\n':	fputs("\\n", stdout); break;
		case '\r':	fputs("\\r", stdout); break;
		case '\t':	fputs("\\t", stdout); break;
		default:
			if (*p < 0x20 || *p >= 0x7f)
				printf("\\u%04x", *p);
			else
				putchar(*p);
		}
	}
	putchar('"');
}

static void
json_kstr(const char *k, const char *v, int comma)
{
	printf("%s\"%s\":", comma ? "," : "", k);
	json_str(v);
}

static int	json_count;
static struct ctl_nucleus json_local;
static int	json_have_local;

static void
json_head(enum actions a)
{
	json_count = 0;
	json_have_local = 0;
	if (a == ACT_SHOW_PEERS)
		printf("{\"peers\":[");
	else if (a == ACT_SHOW_IFACE)
		printf("{\"interfaces\":[");
	else if (a == ACT_SHOW_NUCLEUS)
		printf("{\"nuclei\":[");
}

/* A round trip in milliseconds, or null. */
static void
json_rtt(const char *key, int64_t us)
{
	if (us < 0)
		printf(",\"%s\":null", key);
	else
		printf(",\"%s\":%.3f", key, us / 1000.0);
}

static void
json_nucleus(const struct ctl_nucleus *n, time_t now)
{
	char	 addr[OMNI_ADDRSTRLEN];

	if (n->kind == CTL_NUCLEUS_LOCAL) {
		json_local = *n;
		json_have_local = 1;
		return;
	}
	printf("%s{", json_count++ ? "," : "");
	json_kstr("interface", n->ifname, 0);
	json_kstr("address", omni_addr_str(&n->addr, addr, sizeof(addr)), 1);
	printf(",\"reachable\":%s", n->registered ? "true" : "false");
	printf(",\"last_answer\":%" PRId64, n->last_answer > 0 ?
	    n->last_answer : 0);
	json_rtt("rtt_ms", n->rtt_us);
	printf("}");
}

static void
json_status(const struct ctl_status *s, time_t now)
{
	char	 buf[OMNI_MSGSIZ], *p, *w, *save = NULL;
	int	 i, n = 0;

	printf("{\"healthy\":%s", s->healthy ? "true" : "false");
	json_kstr("version", s->version, 1);
	printf(",\"started\":%" PRId64, s->started > 0 ? s->started : 0);
	printf(",\"interfaces\":%u,\"interfaces_up\":%u,"
	    "\"interfaces_registered\":%u,\"peers\":%u,"
	    "\"peers_direct\":%u", s->ifaces, s->ifaces_up,
	    s->ifaces_registered, s->peers, s->peers_direct);
	printf(",\"nucleus\":%s", s->nucleus ? "true" : "false");
	printf(",\"nucleus_clusters\":%u,\"nucleus_edges\":%u",
	    s->nucleus_clusters, s->nucleus_edges);
	printf(",\"children\":{");
	for (i = 0; i < PROC_MAX; i++) {
		if (!(s->wanted & PROC_BIT(i)))
			continue;
		printf("%s\"%s\":%s", n++ ? "," : "", omni_proc_name(i),
		    s->running & PROC_BIT(i) ? "true" : "false");
	}
	printf("},\"child_restarts\":%" PRIu64, s->restarts);
	/* The daemon joins its reasons with "; ". */
	printf(",\"problems\":[");
	strlcpy(buf, s->problem, sizeof(buf));
	for (n = 0, p = buf; (w = strtok_r(p, ";", &save)) != NULL;
	    p = NULL) {
		while (*w == ' ')
			w++;
		if (*w == '\0')
			continue;
		if (n++)
			putchar(',');
		json_str(w);
	}
	printf("]}\n");
}

static void
json_peer(const struct ctl_peer *p, time_t now)
{
	char	 vip[INET6_ADDRSTRLEN], key[OMNI_KEY_B64LEN];
	char	 ep[OMNI_ADDRSTRLEN];

	omni_key_to_base64(p->pubkey, key, sizeof(key));
	printf("%s{", json_count++ ? "," : "");
	json_kstr("interface", p->ifname, 0);
	if (p->vip.af == AF_INET || p->vip.af == AF_INET6)
		json_kstr("vip", fmt_vip(&p->vip, vip, sizeof(vip)), 1);
	else
		printf(",\"vip\":null");
	json_kstr("public_key", key, 1);
	if (p->endpoint.sa.sa_family == AF_INET ||
	    p->endpoint.sa.sa_family == AF_INET6)
		json_kstr("endpoint", fmt_endpoint(&p->endpoint, ep,
		    sizeof(ep)), 1);
	else
		printf(",\"endpoint\":null");
	json_kstr("path", path_name(p->path), 1);
	/* issue 7: the candidate pair in use (omnictl(8)) */
	json_kstr("path_reason", p->path_reason, 1);
	json_kstr("cand_kind", cand_name(p->cand_kind), 1);
	json_kstr("cand_local", fmt_cand(&p->cand_local, ep, sizeof(ep)), 1);
	json_kstr("cand_remote", fmt_cand(&p->cand_remote, ep, sizeof(ep)),
	    1);
	json_kstr("probe_state", probe_name(p->probe_state), 1);
	if (p->probe_us < 0)
		printf(",\"probe_ms\":-1");
	else
		printf(",\"probe_ms\":%.3f", p->probe_us / 1000.0);
	json_rtt("rtt_ms", p->rtt_us);
	printf(",\"latest_handshake\":%" PRId64, p->last_handshake > 0 ?
	    p->last_handshake : 0);
	printf(",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 "}",
	    p->rx_bytes, p->tx_bytes);
}

static void
json_iface(const struct iface_info *ii)
{
	char	 key[OMNI_KEY_B64LEN], vip[OMNI_PREFIXSTRLEN];
	char	 addr[OMNI_ADDRSTRLEN];
	int	 i;

	omni_key_to_base64(ii->pubkey, key, sizeof(key));
	printf("%s{", json_count++ ? "," : "");
	json_kstr("name", ii->name, 0);
	json_kstr("cluster", ii->cluster, 1);
	json_kstr("backend", ii->backend, 1);
	json_kstr("public_key", key, 1);
	if (ii->vip.af == AF_INET || ii->vip.af == AF_INET6)
		json_kstr("vip", omni_prefix_str(&ii->vip, vip, sizeof(vip)),
		    1);
	else
		printf(",\"vip\":null");
	printf(",\"listen_port\":%u,\"mtu\":%u,\"keepalive\":%u",
	    ii->listen_port, ii->mtu, ii->keepalive);
	printf(",\"nuclei\":[");
	for (i = 0; i < ii->nnuclei; i++) {
		if (i)
			putchar(',');
		json_str(omni_addr_str(&ii->nuclei[i], addr, sizeof(addr)));
	}
	printf("]}");
}

static void
json_result(enum actions a, const struct ctl_result *r)
{
	printf("{\"ok\":%s", r->ok ? "true" : "false");
	json_kstr("message", r->text, 1);
	printf("}\n");
}

static void
json_tail(enum actions a)
{
	char	 addr[OMNI_ADDRSTRLEN];

	if (a == ACT_SHOW_PEERS || a == ACT_SHOW_IFACE)
		printf("]}\n");
	else if (a == ACT_SHOW_NUCLEUS) {
		printf("],\"nucleus\":");
		if (!json_have_local) {
			printf("null}\n");
			return;
		}
		printf("{");
		json_kstr("listen", omni_addr_str(&json_local.addr, addr,
		    sizeof(addr)), 0);
		printf(",\"clusters\":%u,\"edges\":%u}}\n",
		    json_local.clusters, json_local.edges);
	}
}

const struct output json_output = {
	json_head, json_peer, json_iface, json_nucleus, json_status,
	json_result, json_tail
};
