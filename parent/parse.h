/*
 * The YAML parser of omni.conf(5).  parse_buffer() is the pure part:
 * text in, struct omni_conf or a positioned message out, no sandbox,
 * no messages; the unit test and the fuzz target call it directly.
 */
#ifndef OMNI_PARSE_H
#define OMNI_PARSE_H

#include <stddef.h>

#include "config.h"

int	parse_buffer(const char *name, const char *buf, size_t len,
	    struct omni_conf *, char *err, size_t errlen);
/* Read a whole file (at most CONF_MAX_INPUT bytes) into a new buffer. */
int	parse_read_fd(int fd, const char *name, char **bufp, size_t *lenp,
	    char *err, size_t errlen);
__attribute__((noreturn)) void	parse_main(int argc, char **argv);

#endif
