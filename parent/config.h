/*
 * The configuration of omnid: omni.conf(5) as the parent holds it.
 *
 * The YAML file is parsed by a sandboxed child (parse.c, started as
 * "omnid -P config"); the parent only opens the file, hands the
 * descriptor over, checks what comes back and does the checks that
 * need the file system or the user database (config.c).
 */
#ifndef OMNI_CONFIG_H
#define OMNI_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "omni.h"

/* Defaults that have no OMNI_* constant in omni.h. */
#define CONF_WIREGUARD_GO	"/usr/bin/wireguard-go"
#define CONF_IDENTITY_DIR	"/var/lib/omni"	/* NAME.key in here */
#define CONF_NUCLEUS_LISTEN	"0.0.0.0"
#define CONF_NUCLEUS_IDENTITY	CONF_IDENTITY_DIR "/nucleus.key"
#define CONF_MAX_VERBOSE	3
#define CONF_SECRET_MAX		127	/* characters, fits secret[128] */
#define CONF_MAX_INPUT		(1024 * 1024)	/* bytes of omni.conf */

struct omni_conf {
	struct conf_global	 global;
	int			 has_nucleus;
	struct conf_nucleus	 nucleus;
	int			 niface;
	struct conf_iface	 ifaces[OMNI_MAX_IFACES];
};

void	config_defaults(struct omni_conf *);
/*
 * Load and validate: returns 0, or -1 with err set to
 * "FILE:LINE:COL: what was expected" or another clear message.
 */
int	config_load(const char *path, const char *self_exe, int debug,
	    int verbose, struct omni_conf *, char *err, size_t errlen);
int	config_load_fd(const char *name, int fd, const char *self_exe,
	    int debug, int verbose, struct omni_conf *, char *err,
	    size_t errlen);
/* The read-only control socket's path, "" for none; -1: too long. */
int	config_ctl_ro_path(const char *control, const char *ro, char *buf,
	    size_t len);
/* Normalised YAML, every key with its effective value, secrets hidden. */
void	config_print(FILE *, const struct omni_conf *);
int	config_has_secrets(const struct omni_conf *);
/* Wipe the secrets (sodium_memzero). */
void	config_clear(struct omni_conf *);

/*
 * The config parser child's entry point (parse.c): omnid's main()
 * calls it when started as "omnid -P config -U uid -G gid -R root
 * [-d] [-v]", with the full argv.
 */
__attribute__((noreturn)) void	parse_main(int argc, char **argv);

#endif
