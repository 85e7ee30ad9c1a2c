/*
 * omni.conf(5) parsing and loading.
 *
 * The fixtures in regress/conf/ are data: every bad-*.yaml starts with
 * "# expect: LINE:COL: message" and must fail with exactly that
 * message; the good-*.yaml are checked value by value here.  The
 * config_load() tests run the whole path, including the sandboxed
 * parser child when run as root: this program doubles as that child
 * ("-P config" in argv, the way omnid dispatches it).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../parent/parse.h"
#include "log.h"
#include "tap.h"

#ifndef CONF_DIR
#define CONF_DIR	"regress/conf"
#endif

static const char	*confdir = CONF_DIR;
static char		 tmpdir[] = "/tmp/omni-test-config-XXXXXX";

static char *
slurp(const char *path, size_t *lenp)
{
	FILE	*fp;
	char	*buf;
	size_t	 len;

	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	buf = malloc(CONF_MAX_INPUT + 2);
	len = fread(buf, 1, CONF_MAX_INPUT + 1, fp);
	fclose(fp);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

static int
parse_fixture(const char *file, struct omni_conf *conf, char *err,
    size_t errlen)
{
	char	 path[512], *buf;
	size_t	 len;
	int	 r;

	snprintf(path, sizeof(path), "%s/%s", confdir, file);
	if ((buf = slurp(path, &len)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -2;
	}
	r = parse_buffer(file, buf, len, conf, err, errlen);
	free(buf);
	return r;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every bad fixture fails with the message its first line announces. */
static void
test_bad_fixtures(void)
{
	static struct omni_conf	 conf;
	struct dirent		*de;
	DIR			*d;
	char			*names[256], path[512], want[600], err[600];
	char			*buf, *nl;
	size_t			 len;
	int			 n = 0, i, r;

	if ((d = opendir(confdir)) == NULL) {
		ok(0, "open %s: %s", confdir, strerror(errno));
		return;
	}
	while ((de = readdir(d)) != NULL && n < 256)
		if (strncmp(de->d_name, "bad-", 4) == 0)
			names[n++] = strdup(de->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), name_cmp);
	ok(n >= 15, "%d bad fixtures (at least 15)", n);

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", confdir, names[i]);
		buf = slurp(path, &len);
		if (buf == NULL || strncmp(buf, "# expect: ", 10) != 0) {
			ok(0, "%s: no \"# expect:\" line", names[i]);
			free(buf);
			continue;
		}
		if ((nl = strchr(buf, '\n')) != NULL)
			*nl = '\0';
		snprintf(want, sizeof(want), "%s:%s", names[i], buf + 10);
		if (nl != NULL)
			*nl = '\n';
		r = parse_buffer(names[i], buf, len, &conf, err, sizeof(err));
		if (!ok(r == -1 && strcmp(err, want) == 0, "%s", names[i])) {
			printf("#   got:  %s\n", r == 0 ? "(success)" : err);
			printf("#   want: %s\n", want);
		}
		free(buf);
		free(names[i]);
	}
}

static int
addr_is(const struct omni_addr *a, const char *s)
{
	char	 buf[OMNI_ADDRSTRLEN];

	return strcmp(omni_addr_str(a, buf, sizeof(buf)), s) == 0;
}

static int
prefix_is(const struct omni_prefix *p, const char *s)
{
	char	 buf[OMNI_PREFIXSTRLEN];

	return strcmp(omni_prefix_str(p, buf, sizeof(buf)), s) == 0;
}

static void
test_full(void)
{
	static struct omni_conf	 c;
	const struct conf_iface	*i0 = &c.ifaces[0], *i1 = &c.ifaces[1];
	char			 err[600];

	if (!ok(parse_fixture("good-full.yaml", &c, err, sizeof(err)) == 0,
	    "good-full.yaml parses")) {
		printf("#   %s\n", err);
		return;
	}
	ok(strcmp(c.global.user, "omni-test") == 0, "user");
	ok(strcmp(c.global.chroot, "/var/empty/omni") == 0, "chroot");
	ok(strcmp(c.global.control, "/run/omni/ctl.sock") == 0,
	    "control-socket");
	ok(strcmp(c.global.wireguard_go, "/usr/local/bin/wireguard-go") == 0,
	    "wireguard-go");
	ok(c.global.verbose == 2, "verbose");
	ok(c.global.metrics_enabled == 0, "metrics enable: no");
	ok(addr_is(&c.global.metrics, "[::1]:9191"), "metrics listen");
	ok(c.has_nucleus, "nucleus present");
	ok(addr_is(&c.nucleus.listen, "192.0.2.10:51900"),
	    "nucleus listen gets the default port");
	ok(strcmp(c.nucleus.secret, "nucleus-root-secret-0123") == 0 &&
	    c.nucleus.secret_file[0] == '\0', "nucleus secret");
	ok(c.nucleus.peer_timeout == 120, "nucleus peer-timeout");
	ok(c.nucleus.max_edges == 2100000 && c.nucleus.max_clusters == 65536 &&
	    c.nucleus.rate_limit == 200000,
	    "nucleus max-edges, max-clusters, rate-limit");
	ok(c.niface == 2, "two interfaces");
	ok(strcmp(i0->name, "omni0") == 0 && strcmp(i0->cluster, "lab") == 0,
	    "iface 0 name, cluster");
	ok(i0->secret[0] == '\0' &&
	    strcmp(i0->secret_file, "/etc/omni/lab.secret") == 0,
	    "iface 0 secret-file");
	ok(prefix_is(&i0->address, "10.77.0.1/24"), "iface 0 address");
	ok(i0->listen_port == 51821 && i0->mtu == 1380 && i0->keepalive == 0 &&
	    i0->heartbeat == 5 && i0->peer_timeout == 30,
	    "iface 0 numbers");
	ok(strcmp(i0->identity, "/var/lib/omni/lab.key") == 0,
	    "iface 0 identity");
	ok(i0->backend == BACKEND_USERSPACE, "iface 0 backend");
	ok(i0->nnuclei == 3 && addr_is(&i0->nuclei[0], "198.18.0.1:51999") &&
	    addr_is(&i0->nuclei[1], "198.18.0.2:51900") &&
	    addr_is(&i0->nuclei[2], "[2001:db8::7]:51900"), "iface 0 nuclei");
	ok(i0->nstun == 2 && addr_is(&i0->stun[0], "198.18.0.9:3478") &&
	    addr_is(&i0->stun[1], "[2001:db8::3478]:3479") &&
	    i0->stun_interval == 45, "iface 0 stun-servers (default port "
	    "3478), stun-interval");
	ok(strcmp(i1->name, "omni.v6") == 0 &&
	    strcmp(i1->cluster, "prod_eu-1") == 0, "iface 1 name, cluster");
	ok(strcmp(i1->secret, "prod cluster secret, with spaces") == 0,
	    "iface 1 single-quoted secret");
	ok(prefix_is(&i1->address, "fd00:77::1/64"), "iface 1 IPv6 address");
	ok(i1->listen_port == 51822 && i1->mtu == 9000 &&
	    i1->keepalive == 3600 && i1->heartbeat == 600 &&
	    i1->peer_timeout == 3600, "iface 1 numbers at their maxima");
	ok(strcmp(i1->identity, "/var/lib/omni/omni.v6.key") == 0,
	    "iface 1 default identity");
	ok(i1->backend == BACKEND_KERNEL, "iface 1 backend");
	ok(i1->nnuclei == 2 && addr_is(&i1->nuclei[0], "[2001:db8::1]:51900") &&
	    addr_is(&i1->nuclei[1], "203.0.113.5:4000"),
	    "iface 1 flow-style nuclei");
	ok(i1->nstun == OMNI_MAX_STUN && addr_is(&i1->stun[1], "192.0.2.2:1") &&
	    addr_is(&i1->stun[2], "[2001:db8::1]:3478") &&
	    addr_is(&i1->stun[3], "203.0.113.5:65535") &&
	    i1->stun_interval == 3600, "iface 1: 4 stun-servers, "
	    "stun-interval at its maximum");
}

/* issue 3: the nucleus's X25519 identity file. */
static void
test_nucleus_identity(void)
{
	static struct omni_conf	 c;
	char			 err[600];
	const char		*t1 = "nucleus: {secret: 0123456789abcdef}\n";
	const char		*t2 = "nucleus:\n  secret: 0123456789abcdef\n"
				    "  identity: /etc/omni/nuc.key\n";
	const char		*t3 = "nucleus:\n  secret: 0123456789abcdef\n"
				    "  identity: nuc.key\n";

	ok(parse_buffer("n1", t1, strlen(t1), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.nucleus.identity, "/var/lib/omni/nucleus.key") == 0,
	    "default nucleus identity");
	ok(parse_buffer("n2", t2, strlen(t2), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.nucleus.identity, "/etc/omni/nuc.key") == 0,
	    "nucleus identity");
	ok(parse_buffer("n3", t3, strlen(t3), &c, err, sizeof(err)) == -1 &&
	    strstr(err, "absolute path") != NULL,
	    "relative nucleus identity refused");
}

static char	*print_conf(const struct omni_conf *, size_t *);

/* The nucleus's capacity keys at the ends of their ranges. */
static void
test_nucleus_limits(void)
{
	static struct omni_conf	 c;
	char			 err[600], *out;
	size_t			 len;
	const char		*lo = "nucleus:\n  secret: 0123456789abcdef\n"
				    "  max-edges: 16\n  max-clusters: 1\n"
				    "  rate-limit: 100\n";
	const char		*hi = "nucleus: {secret: 0123456789abcdef, "
				    "max-edges: 4194304, max-clusters: 1048576, "
				    "rate-limit: 1000000}\n";
	const char		*dup = "nucleus:\n  secret: 0123456789abcdef\n"
				    "  rate-limit: 100\n  rate-limit: 200\n";

	ok(parse_buffer("lo", lo, strlen(lo), &c, err, sizeof(err)) == 0 &&
	    c.nucleus.max_edges == 16 && c.nucleus.max_clusters == 1 &&
	    c.nucleus.rate_limit == 100, "nucleus limits at their minima");
	out = print_conf(&c, &len);
	ok(out != NULL && strstr(out, "  max-edges: 16\n  max-clusters: 1\n"
	    "  rate-limit: 100\n") != NULL, "printed at their minima");
	free(out);
	ok(parse_buffer("hi", hi, strlen(hi), &c, err, sizeof(err)) == 0 &&
	    c.nucleus.max_edges == 4194304 &&
	    c.nucleus.max_clusters == 1048576 &&
	    c.nucleus.rate_limit == 1000000, "nucleus limits at their maxima");
	ok(parse_buffer("dup", dup, strlen(dup), &c, err, sizeof(err)) ==
	    -1 && strcmp(err, "dup:4:3: duplicate key \"rate-limit\" in "
	    "nucleus (first at line 3)") == 0, "rate-limit given twice: %s",
	    err);
}

static void
test_defaults(void)
{
	static struct omni_conf	 c;
	const struct conf_iface	*i0 = &c.ifaces[0];
	char			 err[600];

	if (!ok(parse_fixture("good-minimal.yaml", &c, err, sizeof(err)) ==
	    0, "good-minimal.yaml parses")) {
		printf("#   %s\n", err);
		return;
	}
	ok(strcmp(c.global.user, OMNI_USER) == 0, "default user");
	ok(strcmp(c.global.chroot, OMNI_CHROOT) == 0, "default chroot");
	ok(strcmp(c.global.control, OMNI_CTL_SOCKET) == 0,
	    "default control-socket");
	ok(strcmp(c.global.wireguard_go, CONF_WIREGUARD_GO) == 0,
	    "default wireguard-go");
	ok(c.global.verbose == 0, "default verbose");
	ok(c.global.metrics_enabled == 1 &&
	    addr_is(&c.global.metrics, "127.0.0.1:9090"), "default metrics");
	ok(c.global.uid == (uid_t)-1 && c.global.gid == (gid_t)-1,
	    "uid/gid unresolved by the parser");
	ok(addr_is(&c.nucleus.listen, "0.0.0.0:51900"),
	    "default nucleus listen");
	ok(c.nucleus.peer_timeout == OMNI_PEER_TIMEOUT,
	    "default nucleus peer-timeout");
	ok(c.nucleus.max_edges == 65536 && c.nucleus.max_clusters == 4096 &&
	    c.nucleus.rate_limit == 10000,
	    "default nucleus max-edges 65536, max-clusters 4096, "
	    "rate-limit 10000");
	ok(i0->listen_port == OMNI_WG_PORT && i0->mtu == OMNI_MTU &&
	    i0->keepalive == OMNI_KEEPALIVE &&
	    i0->heartbeat == OMNI_HEARTBEAT &&
	    i0->peer_timeout == OMNI_PEER_TIMEOUT, "default iface numbers");
	ok(i0->backend == BACKEND_AUTO, "default backend");
	ok(strcmp(i0->identity, "/var/lib/omni/omni0.key") == 0,
	    "default identity");
	ok(i0->nnuclei == 1 && addr_is(&i0->nuclei[0], "198.18.0.1:51900"),
	    "default nucleus port");
	ok(i0->nstun == 0 && i0->stun_interval == OMNI_STUN_INTERVAL,
	    "no STUN servers by default, stun-interval 30");

	if (!ok(parse_fixture("good-flow.yaml", &c, err, sizeof(err)) == 0,
	    "good-flow.yaml parses"))
		printf("#   %s\n", err);
	ok(c.has_nucleus && c.niface == 0 &&
	    addr_is(&c.nucleus.listen, "0.0.0.0:51901"), "flow-style nucleus");
	test_nucleus_identity();
	test_nucleus_limits();
}

static char *
print_conf(const struct omni_conf *c, size_t *lenp)
{
	FILE	*fp;
	char	*out = NULL;

	if ((fp = open_memstream(&out, lenp)) == NULL)
		return NULL;
	config_print(fp, c);
	fclose(fp);
	return out;
}

/* Put secret back for the first "(hidden)" in buf. */
static void
unhide(char **buf, const char *secret)
{
	char	*p, *n;

	if ((p = strstr(*buf, "(hidden)")) == NULL)
		return;
	if (asprintf(&n, "%.*s\"%s\"%s", (int)(p - *buf), *buf, secret,
	    p + strlen("(hidden)")) == -1)
		abort();
	free(*buf);
	*buf = n;
}

static void
test_roundtrip(void)
{
	static const char *const files[] = {
		"good-roundtrip.yaml", "good-full.yaml", "good-minimal.yaml",
		"good-flow.yaml"
	};
	static struct omni_conf	 a, b;
	char			 err[600], *out;
	size_t			 len, f;
	int			 i;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		if (parse_fixture(files[f], &a, err, sizeof(err)) != 0) {
			ok(0, "%s: %s", files[f], err);
			continue;
		}
		out = print_conf(&a, &len);
		ok(a.nucleus.secret[0] == '\0' || (strstr(out,
		    a.nucleus.secret) == NULL && strstr(out, "(hidden)")),
		    "%s: printed without the nucleus secret", files[f]);
		for (i = 0; i < a.niface; i++)
			if (a.ifaces[i].secret[0] != '\0' &&
			    strstr(out, a.ifaces[i].secret) != NULL)
				break;
		ok(i == a.niface, "%s: printed without interface secrets",
		    files[f]);
		/* config_print hides inline secrets: put them back. */
		if (a.has_nucleus && a.nucleus.secret[0] != '\0')
			unhide(&out, a.nucleus.secret);
		for (i = 0; i < a.niface; i++)
			if (a.ifaces[i].secret[0] != '\0')
				unhide(&out, a.ifaces[i].secret);
		len = strlen(out);
		if (!ok(parse_buffer("printed", out, len, &b, err,
		    sizeof(err)) == 0, "%s: printed form parses", files[f]))
			printf("#   %s\n%s", err, out);
		else if (!ok(memcmp(&a, &b, sizeof(a)) == 0,
		    "%s: printed form parses to the same configuration",
		    files[f]))
			printf("%s", out);
		free(out);
	}

	/* The printed form quotes what YAML would read otherwise. */
	parse_fixture("good-roundtrip.yaml", &a, err, sizeof(err));
	out = print_conf(&a, &len);
	ok(strstr(out, "user: \"yes\"\n") != NULL &&
	    strstr(out, "cluster: \"123\"\n") != NULL &&
	    strstr(out, "listen: \"[::]:51900\"\n") != NULL &&
	    strstr(out, "chroot: \"/srv/omni chroot\"\n") != NULL,
	    "printed strings quoted where needed");
	ok(strstr(out, "listen: 0.0.0.0:9090\n") != NULL,
	    "metrics listen printed with its default port");
	free(out);
}

/* Build a configuration of n interfaces, all distinct. */
static char *
many_ifaces(int n)
{
	char	*buf, *p;
	int	 i;

	p = buf = malloc(256 * (n + 1));
	p += sprintf(p, "interfaces:\n");
	for (i = 0; i < n; i++)
		p += sprintf(p, "  - name: omni%d\n    cluster: c\n"
		    "    secret: 0123456789abcdef\n    address: 10.%d.0.1/24\n"
		    "    listen-port: %d\n    nuclei: [198.18.0.1]\n",
		    i, i + 1, 51820 + i);
	return buf;
}

static void
test_limits(void)
{
	static struct omni_conf	 c;
	char			 err[600], small[24], *buf;
	size_t			 len;

	buf = many_ifaces(OMNI_MAX_IFACES);
	ok(parse_buffer("many", buf, strlen(buf), &c, err, sizeof(err)) == 0 &&
	    c.niface == OMNI_MAX_IFACES, "%d interfaces accepted",
	    OMNI_MAX_IFACES);
	free(buf);
	buf = many_ifaces(OMNI_MAX_IFACES + 1);
	ok(parse_buffer("many", buf, strlen(buf), &c, err, sizeof(err)) ==
	    -1 && strcmp(err, "many:98:5: interfaces: expected at most 16 "
	    "interfaces") == 0, "%d interfaces refused: %s",
	    OMNI_MAX_IFACES + 1, err);
	free(buf);

	len = CONF_MAX_INPUT + 1;
	buf = malloc(len);
	memset(buf, '#', len);
	ok(parse_buffer("big", buf, len, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "larger than") != NULL, "over 1 MiB refused");
	/* Deep flow nesting stops at the first level too many. */
	memset(buf, '[', len);
	ok(parse_buffer("deep", buf, CONF_MAX_INPUT, &c, err,
	    sizeof(err)) == -1 && strcmp(err, "deep:1:1: expected a mapping "
	    "at top level, got a list") == 0, "deep nesting refused early: %s",
	    err);
	memcpy(buf, "nucleus: {secret: 0123456789abcdef}\ninterfaces: "
	    "[[[[[[", 54);
	ok(parse_buffer("deep2", buf, 54, &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "deep2:2:14: interfaces: expected a mapping for each "
	    "interface, got a list") == 0, "nesting in a list refused: %s",
	    err);
	free(buf);

	/* A tiny error buffer is filled, not overrun. */
	memset(small, 'x', sizeof(small));
	ok(parse_buffer("small", "verbose: 9", 10, &c, small, 16) == -1 &&
	    strlen(small) == 15 && small[16] == 'x', "short error buffer");
	/* An error leaves the defaults, not a half-parsed configuration. */
	ok(strcmp(c.global.user, OMNI_USER) == 0 && c.niface == 0 &&
	    !c.has_nucleus, "failed parse leaves defaults");
}

static void
test_stun(void)
{
	static struct omni_conf	 c;
	char			 err[600], *out;
	const char		*head = "interfaces:\n  - name: omni0\n"
				    "    cluster: lab\n    secret: "
				    "0123456789abcdef\n    address: 10.77.0.1/24\n"
				    "    nuclei: [198.18.0.1]\n";
	char			 text[1024];
	size_t			 len;

	snprintf(text, sizeof(text), "%s    stun-servers: []\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    c.ifaces[0].nstun == 0, "stun-servers: [] is no servers");
	snprintf(text, sizeof(text), "%s    stun-servers:\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    c.ifaces[0].nstun == 0, "an empty stun-servers is no servers");
	out = print_conf(&c, &len);
	ok(out != NULL && strstr(out, "    stun-servers: []\n"
	    "    stun-interval: 30\n") != NULL,
	    "printed: stun-servers: [] and the default interval");
	free(out);
	snprintf(text, sizeof(text), "%s    stun-servers: [198.18.0.1]\n"
	    "    stun-interval: 5\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    c.ifaces[0].nstun == 1 &&
	    addr_is(&c.ifaces[0].stun[0], "198.18.0.1:3478") &&
	    c.ifaces[0].stun_interval == 5,
	    "a nucleus may be a STUN server too; interval 5 is the minimum");
	out = print_conf(&c, &len);
	ok(out != NULL && strstr(out, "    stun-servers:\n"
	    "      - 198.18.0.1:3478\n    stun-interval: 5\n") != NULL,
	    "printed: the servers with their ports");
	free(out);
	snprintf(text, sizeof(text), "%s    stun-interval: 3601\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "t:7:20: stun-interval: expected a number from 5 to "
	    "3600, got \"3601\"") == 0, "stun-interval 3601 refused: %s", err);
	snprintf(text, sizeof(text), "%s    stun-servers: [0.0.0.0]\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "t:7:20: stun-servers: expected a unicast address, "
	    "got \"0.0.0.0\"") == 0, "wildcard STUN server refused: %s", err);
	snprintf(text, sizeof(text), "%s    stun-servers: [{a: b}]\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "t:7:20: nested too deeply") == 0,
	    "a mapping as a STUN server refused: %s", err);
	snprintf(text, sizeof(text), "%s    stun-servers: [\"\"]\n", head);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "t:7:20: stun-servers: expected an IP address, "
	    "IP:PORT or [IPv6]:PORT, got \"\"") == 0,
	    "an empty STUN server refused: %s", err);
}

/* control-socket-readonly: beside the control socket, or set, or none. */
static void
test_control_ro(void)
{
	static struct omni_conf	 c;
	char			 err[600], text[512], *out;
	const char		*tail = "nucleus: {secret: 0123456789abcdef}\n";
	size_t			 len;

	snprintf(text, sizeof(text), "%s", tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.global.control_ro, "/var/run/omnid.rsock") == 0,
	    "default control-socket-readonly: /var/run/omnid.rsock");
	snprintf(text, sizeof(text), "control-socket: /run/o/ctl\n%s", tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.global.control_ro, "/run/o/ctl.rsock") == 0,
	    "beside a control socket not named .sock: %s",
	    c.global.control_ro);
	snprintf(text, sizeof(text), "control-socket: /run/a.sock\n"
	    "control-socket-readonly: /run/mon/omni.sock\n%s", tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.global.control_ro, "/run/mon/omni.sock") == 0,
	    "an explicit path");
	snprintf(text, sizeof(text), "control-socket-readonly: none\n%s",
	    tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0 &&
	    strcmp(c.global.control_ro, "none") == 0, "none");
	out = print_conf(&c, &len);
	ok(out != NULL && strstr(out, "\ncontrol-socket-readonly: none\n") !=
	    NULL, "none is printed as none");
	free(out);
	snprintf(text, sizeof(text), "control-socket-readonly: run/x\n%s",
	    tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "t:1:26: control-socket-readonly: expected an "
	    "absolute path or none, got \"run/x\"") == 0,
	    "a relative path refused: %s", err);
	/* 107 characters fit; ".rsock" for ".sock" makes 108. */
	snprintf(text, sizeof(text), "control-socket: /%0101d.sock\n%s", 0,
	    tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == -1 &&
	    strstr(err, "t:1:1: control-socket: too long to put "
	    "control-socket-readonly beside it") == err,
	    "no room for the default read-only socket: %s", err);
	snprintf(text, sizeof(text), "control-socket: /%0101d.sock\n"
	    "control-socket-readonly: none\n%s", 0, tail);
	ok(parse_buffer("t", text, strlen(text), &c, err, sizeof(err)) == 0,
	    "unless it is set");
}

/* --- config_load -------------------------------------------------------- */

static char *
tmpfile_write(const char *name, const char *text, mode_t mode)
{
	static char	 path[4][256];
	static int	 n;
	char		*p = path[n++ % 4];
	int		 fd;

	snprintf(p, 256, "%s/%s", tmpdir, name);
	unlink(p);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	fchmod(fd, mode);
	close(fd);
	return p;
}

static int
load(const char *path, struct omni_conf *c, char *err, size_t errlen)
{
	return config_load(path, "/proc/self/exe", 1, 0, c, err, errlen);
}

static void
test_load(void)
{
	static struct omni_conf	 c;
	char			 err[600], text[1024], *conf, *sec, *p;
	const char		*head = "user: nobody\n";

	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	printf("# config_load %s\n", geteuid() == 0 ?
	    "with the sandboxed parser child" : "in-process (not root)");

	sec = tmpfile_write("lab.secret", "lab-secret-from-a-file\n", 0600);
	snprintf(text, sizeof(text), "%snucleus:\n  secret: "
	    "0123456789abcdef\ninterfaces:\n  - name: omni0\n    cluster: "
	    "lab\n    secret-file: %s\n    address: 10.77.0.1/24\n"
	    "    nuclei: [198.18.0.1]\n", head, sec);
	conf = tmpfile_write("omni.conf", text, 0600);
	if (!ok(load(conf, &c, err, sizeof(err)) == 0, "good file loads"))
		printf("#   %s\n", err);
	ok(strcmp(c.ifaces[0].secret, "lab-secret-from-a-file") == 0,
	    "secret-file read, trailing newline stripped");
	ok(strcmp(c.nucleus.secret, "0123456789abcdef") == 0,
	    "inline secret passed through");
	ok(c.global.uid == 65534 || c.global.uid != (uid_t)-1,
	    "user resolved (uid %u)", (unsigned)c.global.uid);
	ok(config_has_secrets(&c), "config_has_secrets");
	config_clear(&c);
	ok(!config_has_secrets(&c) && c.nucleus.secret[0] == '\0' &&
	    c.ifaces[0].secret[0] == '\0', "config_clear wipes the secrets");

	chmod(conf, 0604);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "holds secrets and is readable by others") != NULL,
	    "inline secrets in a world-readable file: %s", err);
	chmod(conf, 0666);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "omni.conf: writable by others, refusing") != NULL,
	    "world-writable file: %s", err);
	chmod(conf, 0660);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "writable by group, refusing") != NULL,
	    "group-writable file: %s", err);
	chmod(conf, 0600);

	chmod(sec, 0644);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "lab.secret: holds a secret and is readable by "
	    "others") != NULL, "world-readable secret file: %s", err);
	tmpfile_write("lab.secret", "short\n", 0600);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "expected a secret of 16 to 127 characters, got 5") !=
	    NULL, "short secret file: %s", err);
	tmpfile_write("lab.secret", "0123456789abcdef\n\n", 0600);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "printable characters on one line") != NULL,
	    "two newlines in a secret file: %s", err);
	unlink(sec);
	ok(load(conf, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "lab.secret: No such file") != NULL,
	    "missing secret file: %s", err);
	tmpfile_write("lab.secret", "lab-secret-from-a-file\n", 0600);

	/* A world-readable file without inline secrets is fine. */
	snprintf(text, sizeof(text), "%sinterfaces:\n  - name: omni0\n"
	    "    cluster: lab\n    secret-file: %s\n    address: 10.77.0.1/24"
	    "\n    nuclei: [198.18.0.1]\n", head, sec);
	p = tmpfile_write("public.conf", text, 0644);
	if (!ok(load(p, &c, err, sizeof(err)) == 0,
	    "world-readable file without inline secrets loads"))
		printf("#   %s\n", err);

	p = tmpfile_write("nouser.conf", "user: omni-no-such-user\nnucleus:\n"
	    "  secret: 0123456789abcdef\n", 0600);
	ok(load(p, &c, err, sizeof(err)) == -1 &&
	    strcmp(err, "user omni-no-such-user does not exist") == 0,
	    "unknown user: %s", err);
	p = tmpfile_write("root.conf", "user: root\nnucleus:\n"
	    "  secret: 0123456789abcdef\n", 0600);
	ok(load(p, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "must not run as root") != NULL, "user root: %s", err);

	p = tmpfile_write("bad.conf", "nucleus:\n  secret: 0123456789abcdef\n"
	    "  peer-timeout: forever\n", 0600);
	snprintf(text, sizeof(text), "%s:3:17: peer-timeout: expected a "
	    "number from 5 to 3600, got \"forever\"", p);
	ok(load(p, &c, err, sizeof(err)) == -1 && strcmp(err, text) == 0,
	    "parse error comes back with its position: %s", err);

	snprintf(text, sizeof(text), "%s/link.conf", tmpdir);
	unlink(text);
	if (symlink(conf, text) == -1)
		abort();
	ok(load(text, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "a symbolic link, refusing") != NULL, "symlink: %s",
	    err);
	unlink(text);
	snprintf(text, sizeof(text), "%s/none.conf", tmpdir);
	ok(load(text, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "none.conf: No such file or directory") != NULL,
	    "missing file: %s", err);
	ok(load(tmpdir, &c, err, sizeof(err)) == -1 &&
	    strstr(err, "not a regular file") != NULL, "directory: %s", err);

	unlink(sec);
	unlink(conf);
	snprintf(text, sizeof(text), "rm -rf '%s'", tmpdir);
	if (system(text) != 0)
		ok(0, "cleanup %s", tmpdir);
}

int
main(int argc, char **argv)
{
	/* config_load() re-executes this program as the parser child. */
	if (argc > 2 && strcmp(argv[1], "-P") == 0 &&
	    strcmp(argv[2], "config") == 0)
		parse_main(argc, argv);
	if (getenv("OMNI_CONF_DIR") != NULL)
		confdir = getenv("OMNI_CONF_DIR");
	log_init(1, LOG_DAEMON);

	test_bad_fixtures();
	test_full();
	test_defaults();
	test_roundtrip();
	test_limits();
	test_stun();
	test_control_ro();
	test_load();
	return tap_done();
}
