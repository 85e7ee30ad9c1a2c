/*
 * omnictl's keyword tables: abbreviations, ambiguity, unknown words,
 * the VIP argument.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "tap.h"

static char	*errbuf;
static size_t	 errlen;

/* Parse a space separated command line; errors land in errbuf. */
static const struct parse_result *
try_table(const struct token *table, const char *line)
{
	const struct parse_result	*r;
	char				*copy, *argv[16], *w, *save = NULL;
	int				 argc = 0;
	FILE				*f;

	free(errbuf);
	errbuf = NULL;
	if ((f = open_memstream(&errbuf, &errlen)) == NULL)
		abort();
	if ((copy = strdup(line)) == NULL)
		abort();
	for (w = strtok_r(copy, " ", &save); w != NULL && argc < 15;
	    w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	r = parse_table(table, argc, argv, f);
	fclose(f);
	free(copy);
	return r;
}

static const struct parse_result *
try(const char *line)
{
	return try_table(parse_main, line);
}

static int
is(const char *line, enum actions a)
{
	const struct parse_result	*r = try(line);

	return r != NULL && r->action == a;
}

static int
err_has(const char *s)
{
	return errbuf != NULL && strstr(errbuf, s) != NULL;
}

/* A table with words sharing a prefix, as the real one has none yet. */
static const struct token t_sub[] = {
	{ KEYWORD,	"neighbor",	ACT_SHOW_PEERS,	NULL },
	{ KEYWORD,	"network",	ACT_SHOW_IFACE,	NULL },
	{ KEYWORD,	"net",		ACT_RELOAD,	NULL },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};
static const struct token t_amb[] = {
	{ KEYWORD,	"show",		ACT_NONE,	t_sub },
	{ KEYWORD,	"shutdown",	ACT_LOG_BRIEF,	NULL },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};

int
main(void)
{
	const struct parse_result	*r;

	/* full words and abbreviations */
	ok(is("show peers", ACT_SHOW_PEERS), "show peers");
	ok(is("sh pe", ACT_SHOW_PEERS), "sh pe");
	ok(is("s p", ACT_SHOW_PEERS), "s p");
	ok(is("show interface", ACT_SHOW_IFACE), "show interface");
	ok(is("sh i", ACT_SHOW_IFACE), "sh i");
	ok(is("sho interf", ACT_SHOW_IFACE), "sho interf");
	ok(is("reload", ACT_RELOAD), "reload");
	ok(is("rel", ACT_RELOAD), "rel");
	ok(is("r", ACT_RELOAD), "r");
	ok(is("log verbose", ACT_LOG_VERBOSE), "log verbose");
	ok(is("l v", ACT_LOG_VERBOSE), "l v");
	ok(is("log brief", ACT_LOG_BRIEF), "log brief");
	ok(is("lo b", ACT_LOG_BRIEF), "lo b");
	ok(is("show nucleus", ACT_SHOW_NUCLEUS), "show nucleus");
	ok(is("sh n", ACT_SHOW_NUCLEUS), "sh n");
	ok(is("show status", ACT_SHOW_STATUS), "show status");
	ok(is("sh st", ACT_SHOW_STATUS), "sh st");
	ok(try("show peers 10.77.0.2 extra") == NULL, "one VIP only");

	/* a longer word than the keyword is not a match */
	ok(try("showx peers") == NULL && err_has("unknown argument: showx"),
	    "showx is unknown");
	ok(try("show peersx") == NULL, "peersx is not peers");

	/* unknown words list the valid keywords for that position */
	ok(try("frobnicate") == NULL && err_has("unknown argument") &&
	    err_has("show") && err_has("reload") && err_has("log"),
	    "unknown command lists show, reload, log");
	ok(try("show nothing") == NULL && err_has("peers") &&
	    err_has("interface") && err_has("nucleus") && err_has("status") &&
	    !err_has("reload"),
	    "unknown show argument lists peers, interface, nucleus, status");
	ok(try("log loud") == NULL && err_has("verbose") && err_has("brief"),
	    "unknown log level lists verbose, brief");

	/* missing words */
	ok(try("show") == NULL && err_has("missing argument") &&
	    err_has("peers"), "show alone: missing argument");
	ok(try("log") == NULL && err_has("missing argument") &&
	    err_has("verbose"), "log alone: missing argument");
	ok(try("") == NULL && err_has("missing argument"),
	    "nothing at all: missing argument");

	/* extra words */
	ok(try("reload now") == NULL && err_has("unexpected argument: now"),
	    "reload takes no argument");
	ok(try("show interface omni0") == NULL &&
	    err_has("unexpected argument"), "show interface takes none");
	ok(try("show peers 10.77.0.2 10.77.0.3") == NULL &&
	    err_has("unexpected argument: 10.77.0.3"),
	    "show peers takes one address");

	/* ambiguity */
	{
		char	*argv[] = { "", NULL };

		r = parse(1, argv, fopen("/dev/null", "w"));
		ok(r == NULL, "an empty word is ambiguous in the real table");
	}
	ok(try_table(t_amb, "sh") == NULL && err_has("ambiguous argument: sh")
	    && err_has("show") && err_has("shutdown"),
	    "sh: ambiguous between show and shutdown");
	r = try_table(t_amb, "sho ne");
	ok(r == NULL && err_has("ambiguous argument: ne") &&
	    err_has("neighbor") && err_has("network"),
	    "ne: ambiguous, valid words listed");
	r = try_table(t_amb, "sho net");
	ok(r != NULL && r->action == ACT_RELOAD,
	    "an exact keyword wins over a longer one");
	r = try_table(t_amb, "sho netw");
	ok(r != NULL && r->action == ACT_SHOW_IFACE, "netw is network");
	r = try_table(t_amb, "shu");
	ok(r != NULL && r->action == ACT_LOG_BRIEF, "shu is shutdown");

	/* the VIP argument */
	r = try("show peers");
	ok(r != NULL && r->vip.af == 0, "no VIP: af 0");
	r = try("sh pe 10.77.0.2");
	ok(r != NULL && r->action == ACT_SHOW_PEERS && r->vip.af == AF_INET &&
	    r->vip.plen == 32 && memcmp(r->vip.addr, "\x0a\x4d\x00\x02", 4) ==
	    0, "IPv4 VIP as a host prefix");
	r = try("show peers 10.77.0.0/24");
	ok(r != NULL && r->vip.af == AF_INET && r->vip.plen == 24,
	    "IPv4 prefix");
	r = try("show peers fd00::7");
	ok(r != NULL && r->vip.af == AF_INET6 && r->vip.plen == 128 &&
	    r->vip.addr[0] == 0xfd && r->vip.addr[15] == 7, "IPv6 VIP");
	ok(try("show peers 10.77.0.300") == NULL &&
	    err_has("not an address: 10.77.0.300") && err_has("<address>"),
	    "bad address refused");
	ok(try("show peers 10.77.0.0/33") == NULL, "bad prefix length");
	ok(try("show peers omni0") == NULL, "a word is not an address");
	r = try("show peers");
	ok(r != NULL && r->vip.af == 0, "VIP cleared between parses");

	free(errbuf);
	return tap_done();
}
