/*
 * Identity keys: creation (0600 from the start, parent directory
 * 0700), reload, refusal of unsafe files, public key derivation.
 * Runs as root (ownership checks); skips otherwise.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "omni.h"
#include "identity.h"
#include "tap.h"

static char	 tmpdir[] = "/tmp/omni-test-identity.XXXXXX";

static void
put(const char *path, const char *content, mode_t mode)
{
	int	 fd;

	unlink(path);
	if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, mode)) == -1 ||
	    write(fd, content, strlen(content)) != (ssize_t)strlen(content) ||
	    fchmod(fd, mode) == -1 || close(fd) == -1) {
		perror(path);
		exit(1);
	}
}

static void
cleanup(void)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

static int
load(const char *path, int create, uint8_t priv[32], uint8_t pub[32],
    char *err, size_t errlen)
{
	err[0] = '\0';
	return identity_load(path, create, priv, pub, err, errlen);
}

int
main(void)
{
	char		 path[PATH_MAX], sub[256], link[PATH_MAX];
	char		 err[512], buf[128];
	uint8_t		 priv[32], pub[32], priv2[32], pub2[32], want[32];
	struct stat	 st;
	ssize_t		 n;
	int		 fd;

	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root (identity files are root's)\n");
		return 0;
	}
	if (sodium_init() < 0 || mkdtemp(tmpdir) == NULL) {
		perror("setup");
		return 1;
	}
	atexit(cleanup);

	/* Creation, even with a permissive umask and a missing directory. */
	snprintf(sub, sizeof(sub), "%s/a/b", tmpdir);
	snprintf(path, sizeof(path), "%s/wg0.key", sub);
	umask(0);
	ok(load(path, 0, priv, pub, err, sizeof(err)) == -1,
	    "missing file without create: %s", err);
	ok(load(path, 1, priv, pub, err, sizeof(err)) == 0, "created %s%s",
	    path, err);
	umask(022);
	memset(&st, 0, sizeof(st));
	(void)stat(path, &st);
	ok(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	    st.st_uid == 0,
	    "key file is 0600 root (mode %04o)", (unsigned)st.st_mode & 07777);
	memset(&st, 0, sizeof(st));
	(void)stat(sub, &st);
	ok(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	    "created directory is 0700 (mode %04o)",
	    (unsigned)st.st_mode & 07777);
	memset(buf, 0, sizeof(buf));
	fd = open(path, O_RDONLY);
	n = fd == -1 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd != -1)
		close(fd);
	ok(n == 45 && buf[44] == '\n' && strchr(buf, '\n') == buf + 44,
	    "file is 44 base64 characters and a newline");
	ok((priv[0] & 7) == 0 && (priv[31] & 0x80) == 0 &&
	    (priv[31] & 0x40) != 0, "new private key is clamped");
	ok(crypto_scalarmult_base(want, priv) == 0 &&
	    memcmp(want, pub, 32) == 0, "pub is crypto_scalarmult_base(priv)");

	/* Reload. */
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == 0 &&
	    memcmp(priv, priv2, 32) == 0 && memcmp(pub, pub2, 32) == 0,
	    "reload gives the same keys%s", err);
	ok(load(path, 1, priv2, pub2, err, sizeof(err)) == 0 &&
	    memcmp(priv, priv2, 32) == 0,
	    "create mode does not replace an existing key");

	/* Unsafe files. */
	chmod(path, 0640);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1 &&
	    strstr(err, "group or others") != NULL,
	    "group-readable refused: %s", err);
	chmod(path, 0604);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "other-readable refused: %s", err);
	chmod(path, 0610);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "group-executable refused");
	chmod(path, 0400);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == 0,
	    "0400 accepted");
	chmod(path, 0600);

	snprintf(link, sizeof(link), "%s/link.key", tmpdir);
	ok(symlink(path, link) == 0 &&
	    load(link, 0, priv2, pub2, err, sizeof(err)) == -1 &&
	    strstr(err, "symbolic link") != NULL, "symlink refused: %s", err);
	ok(load(link, 1, priv2, pub2, err, sizeof(err)) == -1,
	    "symlink refused in create mode too");

	ok(chown(path, 65534, 65534) == 0 &&
	    load(path, 0, priv2, pub2, err, sizeof(err)) == -1 &&
	    strstr(err, "not root") != NULL, "not owned by root: %s", err);
	if (chown(path, 0, 0) == -1)
		perror("chown");

	ok(load(tmpdir, 0, priv2, pub2, err, sizeof(err)) == -1 &&
	    strstr(err, "regular") != NULL, "directory refused: %s", err);

	/* Contents. */
	snprintf(path, sizeof(path), "%s/bad.key", tmpdir);
	put(path, "not a key\n", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "garbage refused: %s", err);
	put(path, "", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "empty file refused");
	put(path, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n\n", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "trailing empty line refused");
	put(path, " dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "leading blank refused");
	put(path, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=\n", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == -1,
	    "short key refused");

	/* RFC 7748 6.1: Alice's key pair (wg pubkey agrees). */
	put(path, "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", 0600);
	ok(load(path, 0, priv2, pub2, err, sizeof(err)) == 0,
	    "key without a newline accepted%s", err);
	sodium_hex2bin(want, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d"
	    "26381af4eba4a98eaa9b4e6a", 64, NULL, NULL, NULL);
	ok(memcmp(pub2, want, 32) == 0, "RFC 7748 public key derived");

	return tap_done();
}
