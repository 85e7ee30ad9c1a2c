/*
 * The original OmniNervous command line, as an alternative to a
 * configuration file: the flags become a small omni.conf(5) in a
 * memfd, which then takes the same road as a file (the sandboxed
 * parser, the same checks, reload by SIGHUP).
 */
#ifndef OMNID_QUICKSTART_H
#define OMNID_QUICKSTART_H

#include <stddef.h>

#include "omni.h"

struct quickstart {
	int		 qs_used;	/* any quick-start flag given */
	const char	*qs_mode;	/* "nucleus" or NULL (edge) */
	const char	*qs_port;
	const char	*qs_secret;
	const char	*qs_cluster;
	const char	*qs_vip;
	const char	*qs_ifname;
	const char	*qs_identity;
	const char	*qs_cipher;
	int		 qs_nnuclei;
	const char	*qs_nuclei[OMNI_MAX_NUCLEI];
};

int	quickstart_conf(const struct quickstart *, char *, size_t);

#endif
