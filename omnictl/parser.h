/*
 * omnictl command line: keyword tables walked word by word, each word
 * matched by unambiguous prefix, in the manner of bgpctl.
 */
#ifndef OMNICTL_PARSER_H
#define OMNICTL_PARSER_H

#include <stdio.h>

#include "omni.h"

enum actions {
	ACT_NONE = 0,
	ACT_SHOW_PEERS,
	ACT_SHOW_IFACE,
	ACT_SHOW_NUCLEUS,
	ACT_SHOW_STATUS,
	ACT_RELOAD,
	ACT_LOG_VERBOSE,
	ACT_LOG_BRIEF
};

enum token_type {
	ENDTOKEN = 0,	/* end of a table */
	NOTOKEN,	/* the command may end here */
	KEYWORD,
	VIPADDR		/* an address or prefix: a filter */
};

struct token {
	enum token_type		 type;
	const char		*keyword;
	int			 value;	/* action set when matched */
	const struct token	*next;
};

struct parse_result {
	enum actions		 action;
	struct omni_prefix	 vip;	/* af 0: none given */
};

extern const struct token	 parse_main[];

const struct parse_result *parse(int, char *[], FILE *);
const struct parse_result *parse_table(const struct token *, int, char *[],
				    FILE *);

#endif
