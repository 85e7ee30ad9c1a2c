/*
 * omnictl's command line grammar as keyword tables.  Each table lists
 * what may follow at one position; a word matches a keyword when it
 * is a prefix of exactly one keyword there (or equals one), so
 * "omnictl sh pe" is "omnictl show peers".
 */
#include <string.h>

#include "parser.h"

static const struct token t_show[];
static const struct token t_show_peers[];
static const struct token t_log[];

const struct token parse_main[] = {
	{ KEYWORD,	"show",		ACT_NONE,	t_show },
	{ KEYWORD,	"reload",	ACT_RELOAD,	NULL },
	{ KEYWORD,	"log",		ACT_NONE,	t_log },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};

static const struct token t_show[] = {
	{ KEYWORD,	"peers",	ACT_SHOW_PEERS,	t_show_peers },
	{ KEYWORD,	"interface",	ACT_SHOW_IFACE,	NULL },
	{ KEYWORD,	"nucleus",	ACT_SHOW_NUCLEUS, NULL },
	{ KEYWORD,	"status",	ACT_SHOW_STATUS, NULL },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};

static const struct token t_show_peers[] = {
	{ NOTOKEN,	"",		ACT_NONE,	NULL },
	{ VIPADDR,	"",		ACT_NONE,	NULL },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};

static const struct token t_log[] = {
	{ KEYWORD,	"verbose",	ACT_LOG_VERBOSE, NULL },
	{ KEYWORD,	"brief",	ACT_LOG_BRIEF,	NULL },
	{ ENDTOKEN,	"",		ACT_NONE,	NULL }
};

static struct parse_result	 res;

static void
show_valid(const struct token *table, FILE *err)
{
	const struct token	*t;

	fprintf(err, "valid commands/args:\n");
	for (t = table; t->type != ENDTOKEN; t++) {
		switch (t->type) {
		case NOTOKEN:
			fprintf(err, "  <cr>\n");
			break;
		case KEYWORD:
			fprintf(err, "  %s\n", t->keyword);
			break;
		case VIPADDR:
			fprintf(err, "  <address>[/prefixlen]\n");
			break;
		case ENDTOKEN:
			break;
		}
	}
}

/*
 * Match one word (NULL: no more words) against a table.  Returns the
 * matching row, or NULL after printing why not.
 */
static const struct token *
match_token(const char *word, const struct token *table, FILE *err)
{
	const struct token	*t, *match = NULL, *exact = NULL;
	int			 nmatch = 0;
	size_t			 len;

	if (word == NULL) {
		for (t = table; t->type != ENDTOKEN; t++)
			if (t->type == NOTOKEN)
				return t;
		fprintf(err, "omnictl: missing argument\n");
		return NULL;
	}
	len = strlen(word);
	for (t = table; t->type != ENDTOKEN; t++) {
		if (t->type != KEYWORD || strncmp(word, t->keyword, len) != 0)
			continue;
		if (strcmp(word, t->keyword) == 0)
			exact = t;
		match = t;
		nmatch++;
	}
	if (exact != NULL)
		return exact;
	if (nmatch > 1) {
		fprintf(err, "omnictl: ambiguous argument: %s\n", word);
		return NULL;
	}
	if (match != NULL)
		return match;
	for (t = table; t->type != ENDTOKEN; t++) {
		if (t->type != VIPADDR)
			continue;
		if (omni_prefix_parse(word, &res.vip) == 0)
			return t;
		fprintf(err, "omnictl: not an address: %s\n", word);
		return NULL;
	}
	fprintf(err, "omnictl: unknown argument: %s\n", word);
	return NULL;
}

/*
 * Walk the words of argv (the command, without options) through the
 * tables from table on.  Returns the result, or NULL after printing
 * the error and the valid words at that position to err.
 */
const struct parse_result *
parse_table(const struct token *table, int argc, char *argv[], FILE *err)
{
	const struct token	*t;
	int			 i;

	memset(&res, 0, sizeof(res));
	for (i = 0; table != NULL; i++) {
		t = match_token(i < argc ? argv[i] : NULL, table, err);
		if (t == NULL) {
			show_valid(table, err);
			return NULL;
		}
		if (t->type == NOTOKEN)
			break;
		if (t->value != ACT_NONE)
			res.action = t->value;
		table = t->next;
	}
	if (i < argc) {
		fprintf(err, "omnictl: unexpected argument: %s\n", argv[i]);
		return NULL;
	}
	return &res;
}

const struct parse_result *
parse(int argc, char *argv[], FILE *err)
{
	return parse_table(parse_main, argc, argv, err);
}
