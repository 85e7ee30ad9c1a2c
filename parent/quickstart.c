/*
 * Quick start: see quickstart.h.  Only the shape of the flags is
 * checked here; every value is validated by the config parser, which
 * reports it against the generated text ("command line:LINE:COL").
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "quickstart.h"

/* A YAML double-quoted scalar: escape what YAML would interpret. */
static void
qs_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int
qs_check(const struct quickstart *qs, char *err, size_t errlen)
{
	if (qs->qs_cipher != NULL && strcmp(qs->qs_cipher, "chachapoly") != 0) {
		if (strcmp(qs->qs_cipher, "aesgcm") == 0)
			snprintf(err, errlen, "--cipher aesgcm: WireGuard's "
			    "cipher suite is fixed (ChaCha20-Poly1305); there "
			    "is no other cipher to choose");
		else
			snprintf(err, errlen, "--cipher %s: unknown cipher "
			    "(WireGuard uses chachapoly)", qs->qs_cipher);
		return -1;
	}
	if (qs->qs_secret == NULL) {
		snprintf(err, errlen, "--secret is required");
		return -1;
	}
	if (strlen(qs->qs_secret) < OMNI_SECRET_MIN) {
		snprintf(err, errlen, "--secret must have at least %d "
		    "characters", OMNI_SECRET_MIN);
		return -1;
	}
	if (qs->qs_mode != NULL) {
		if (strcmp(qs->qs_mode, "nucleus") != 0) {
			snprintf(err, errlen, "--mode %s: the only mode is "
			    "\"nucleus\" (without --mode, omnid is an edge)",
			    qs->qs_mode);
			return -1;
		}
		if (qs->qs_nnuclei || qs->qs_cluster || qs->qs_vip ||
		    qs->qs_ifname || qs->qs_identity) {
			snprintf(err, errlen, "--mode nucleus takes only "
			    "--port and --secret");
			return -1;
		}
		return 0;
	}
	if (qs->qs_nnuclei == 0 || qs->qs_cluster == NULL ||
	    qs->qs_vip == NULL) {
		snprintf(err, errlen, "an edge needs --nucleus, --cluster, "
		    "--secret and --vip");
		return -1;
	}
	return 0;
}

/*
 * Write the configuration into a memfd (mode 0600: it holds the
 * secret) and return it, or -1 with err set.
 */
int
quickstart_conf(const struct quickstart *qs, char *err, size_t errlen)
{
	FILE	*f;
	int	 fd, dfd, i;

	if (qs_check(qs, err, errlen) == -1)
		return -1;
	if ((fd = memfd_create("omnid-command-line", MFD_CLOEXEC)) == -1) {
		snprintf(err, errlen, "memfd_create: %s", strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) == -1 || (dfd = dup(fd)) == -1 ||
	    (f = fdopen(dfd, "w")) == NULL) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		close(fd);
		return -1;
	}
	if (qs->qs_mode != NULL) {
		fprintf(f, "nucleus:\n  listen: 0.0.0.0:%s\n  secret: ",
		    qs->qs_port != NULL ? qs->qs_port : "51900");
		qs_quoted(f, qs->qs_secret);
		fputc('\n', f);
	} else {
		fprintf(f, "interfaces:\n  - name: ");
		qs_quoted(f, qs->qs_ifname != NULL ? qs->qs_ifname : "omni0");
		fprintf(f, "\n    cluster: ");
		qs_quoted(f, qs->qs_cluster);
		fprintf(f, "\n    secret: ");
		qs_quoted(f, qs->qs_secret);
		/* A bare VIP gets the cluster-wide prefix its peers share. */
		fprintf(f, "\n    address: ");
		if (strchr(qs->qs_vip, '/') != NULL)
			qs_quoted(f, qs->qs_vip);
		else {
			char	 vip[OMNI_PREFIXSTRLEN];

			snprintf(vip, sizeof(vip), "%s/%s", qs->qs_vip,
			    strchr(qs->qs_vip, ':') != NULL ? "64" : "24");
			qs_quoted(f, vip);
		}
		if (qs->qs_port != NULL)
			fprintf(f, "\n    listen-port: %s", qs->qs_port);
		if (qs->qs_identity != NULL) {
			fprintf(f, "\n    identity: ");
			qs_quoted(f, qs->qs_identity);
		}
		fprintf(f, "\n    nuclei:\n");
		for (i = 0; i < qs->qs_nnuclei; i++) {
			fprintf(f, "      - ");
			qs_quoted(f, qs->qs_nuclei[i]);
			fputc('\n', f);
		}
	}
	if (fclose(f) == EOF) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
