/*
 * Fuzz the omni.conf(5) parser: parse_buffer() on arbitrary bytes.
 * On success the result must satisfy what the parent relies on; on
 * failure the message must be a terminated, printable line.
 *
 *	make regress/fuzz/fuzz_config CC=clang
 *	./regress/fuzz/fuzz_config -max_total_time=60 \
 *	    regress/fuzz/corpus/config
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../parent/parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_str(const char *s, size_t size)
{
	if (memchr(s, '\0', size) == NULL)
		abort();
}

static void
check_conf(const struct omni_conf *c)
{
	const struct conf_iface	*ifc;
	int			 i;

	check_str(c->global.user, sizeof(c->global.user));
	check_str(c->global.chroot, sizeof(c->global.chroot));
	check_str(c->global.control, sizeof(c->global.control));
	check_str(c->global.wireguard_go, sizeof(c->global.wireguard_go));
	if (c->global.verbose < 0 || c->global.verbose > CONF_MAX_VERBOSE)
		abort();
	if (!c->has_nucleus && c->niface == 0)
		abort();
	if (c->has_nucleus && (c->nucleus.secret[0] == '\0') ==
	    (c->nucleus.secret_file[0] == '\0'))
		abort();
	if (c->nucleus.max_edges < OMNI_NUCLEUS_EDGES_MIN ||
	    c->nucleus.max_edges > OMNI_NUCLEUS_EDGES_MAX ||
	    c->nucleus.max_clusters < OMNI_NUCLEUS_CLUSTERS_MIN ||
	    c->nucleus.max_clusters > OMNI_NUCLEUS_CLUSTERS_MAX ||
	    c->nucleus.rate_limit < OMNI_NUCLEUS_RATE_MIN ||
	    c->nucleus.rate_limit > OMNI_NUCLEUS_RATE_MAX)
		abort();
	if (c->niface < 0 || c->niface > OMNI_MAX_IFACES)
		abort();
	for (i = 0; i < c->niface; i++) {
		ifc = &c->ifaces[i];
		check_str(ifc->name, sizeof(ifc->name));
		check_str(ifc->cluster, sizeof(ifc->cluster));
		check_str(ifc->secret, sizeof(ifc->secret));
		check_str(ifc->secret_file, sizeof(ifc->secret_file));
		check_str(ifc->identity, sizeof(ifc->identity));
		if (ifc->name[0] == '\0' || ifc->cluster[0] == '\0' ||
		    ifc->identity[0] != '/' ||
		    (ifc->secret[0] == '\0') == (ifc->secret_file[0] == '\0'))
			abort();
		if (ifc->secret[0] != '\0' &&
		    strlen(ifc->secret) < OMNI_SECRET_MIN)
			abort();
		if (ifc->nnuclei < 1 || ifc->nnuclei > OMNI_MAX_NUCLEI ||
		    ifc->mtu < 1280 || ifc->mtu > 9000 ||
		    ifc->listen_port == 0 ||
		    ifc->peer_timeout <= ifc->heartbeat)
			abort();
	}
}

/*
 * What config_print writes parses back to the same configuration
 * (when no secret is inline: those print as "(hidden)").
 */
static void
roundtrip(const struct omni_conf *c)
{
	static struct omni_conf	 again;
	char			 err[OMNI_MSGSIZ], *out = NULL;
	size_t			 len = 0;
	FILE			*fp;
	int			 i;

	if (c->has_nucleus && c->nucleus.secret[0] != '\0')
		return;
	for (i = 0; i < c->niface; i++)
		if (c->ifaces[i].secret[0] != '\0')
			return;
	if ((fp = open_memstream(&out, &len)) == NULL)
		abort();
	config_print(fp, c);
	fclose(fp);
	if (parse_buffer("printed", out, len, &again, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n%s", err, out);
		abort();
	}
	if (memcmp(c, &again, sizeof(again)) != 0)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct omni_conf	 conf;
	char			 err[OMNI_MSGSIZ];
	const char		*p;

	if (size > CONF_MAX_INPUT)
		return 0;
	if (parse_buffer("fuzz", (const char *)data, size, &conf, err,
	    sizeof(err)) == 0) {
		check_conf(&conf);
		roundtrip(&conf);
	} else {
		check_str(err, sizeof(err));
		if (strncmp(err, "fuzz:", 5) != 0)
			abort();
		for (p = err; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				abort();
	}
	return 0;
}
