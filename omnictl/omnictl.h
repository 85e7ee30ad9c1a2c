/*
 * omnictl: the output table abstraction, a text and a JSON flavour.
 */
#ifndef OMNICTL_H
#define OMNICTL_H

#include <time.h>

#include "omni.h"
#include "parser.h"

struct output {
	void	(*head)(enum actions);
	void	(*peer)(const struct ctl_peer *, time_t);
	void	(*iface)(const struct iface_info *);
	void	(*nucleus)(const struct ctl_nucleus *, time_t);
	void	(*status)(const struct ctl_status *, time_t);
	void	(*result)(enum actions, const struct ctl_result *);
	void	(*tail)(enum actions);
};

extern const struct output	 text_output;
extern const struct output	 json_output;

/* output.c helpers, also used by the tests */
const char	*fmt_size(uint64_t, char *, size_t);
const char	*fmt_age(int64_t, time_t, char *, size_t);
const char	*fmt_rtt(int64_t, char *, size_t);
const char	*fmt_duration(int64_t, char *, size_t);

#endif
