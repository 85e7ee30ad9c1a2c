/*
 * Identity keys.  The file must be a regular file owned by root that
 * neither group nor others can access; anything else is refused with
 * a reason rather than silently used.  A missing file is created on
 * request, 0600 from its first byte.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "log.h"
#include "omni.h"
#include "identity.h"

#define IDENTITY_FILE_MAX	128	/* far more than a key and newline */

/* Create the missing directories leading to path, each 0700. */
static int
identity_mkdirs(const char *path, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], *p;
	struct stat	 st;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	if ((p = strrchr(dir, '/')) == NULL)
		return 0;		/* relative, in the current directory */
	if (p == dir)
		return 0;		/* in / */
	*p = '\0';
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s is not a directory", dir);
			return -1;
		}
		return 0;
	}
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		if (*p == '/')
			*p = '\0';
		else
			p = NULL;
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", dir,
			    strerror(errno));
			return -1;
		}
		if (p == NULL)
			break;
		*p = '/';
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}

static void
identity_sync_dir(const char *path)
{
	char	 dir[PATH_MAX], *p;
	int	 fd;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return;
	if ((p = strrchr(dir, '/')) == NULL)
		strlcpy(dir, ".", sizeof(dir));
	else if (p == dir)
		dir[1] = '\0';
	else
		*p = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	close(fd);
}

/*
 * Write a new key.  Returns 0, -1 on error, or 1 when the file
 * appeared meanwhile (then load that one).
 */
static int
identity_create(const char *path, uint8_t priv[32], char *err, size_t errlen)
{
	char	 b64[OMNI_KEY_B64LEN + 1];
	size_t	 len, off = 0;
	ssize_t	 n;
	mode_t	 omask;
	int	 fd, saved;

	if (identity_mkdirs(path, err, errlen) == -1)
		return -1;

	randombytes_buf(priv, 32);
	/* Clamp as X25519 wants its scalars (RFC 7748, 5). */
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	if (omni_key_to_base64(priv, b64, sizeof(b64)) == -1) {
		snprintf(err, errlen, "%s: cannot encode key", path);
		sodium_memzero(priv, 32);
		return -1;
	}
	len = strlen(b64);
	b64[len++] = '\n';

	omask = umask(077);
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	saved = errno;
	umask(omask);
	if (fd == -1) {
		sodium_memzero(b64, sizeof(b64));
		sodium_memzero(priv, 32);
		if (saved == EEXIST)
			return 1;
		snprintf(err, errlen, "create %s: %s", path, strerror(saved));
		return -1;
	}
	while (off < len) {
		if ((n = write(fd, b64 + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	sodium_memzero(b64, sizeof(b64));
	identity_sync_dir(path);
	log_info("created a new identity key in %s", path);
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	(void)unlink(path);
	sodium_memzero(b64, sizeof(b64));
	sodium_memzero(priv, 32);
	snprintf(err, errlen, "write %s: %s", path, strerror(saved));
	return -1;
}

/* Read and check an existing key file. */
static int
identity_read(int fd, const char *path, uint8_t priv[32], char *err,
    size_t errlen)
{
	char		 buf[IDENTITY_FILE_MAX];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 n;
	int		 rv = -1;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen, "%s is owned by uid %u, not root", path,
		    (unsigned)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s is accessible by group or others "
		    "(mode %04o); it must be 0600", path,
		    (unsigned)(st.st_mode & 07777));
		return -1;
	}
	while (len < sizeof(buf) - 1) {
		if ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "read %s: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	/* 44 base64 characters, then an optional newline: nothing else. */
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len != OMNI_KEY_B64LEN - 1 || strlen(buf) != len ||
	    omni_key_from_base64(buf, priv) == -1) {
		snprintf(err, errlen, "%s does not hold a base64 WireGuard "
		    "private key (as wg genkey writes)", path);
		goto out;
	}
	rv = 0;
 out:
	sodium_memzero(buf, sizeof(buf));
	return rv;
}

int
identity_load(const char *path, int create, uint8_t priv[32],
    uint8_t pub[32], char *err, size_t errlen)
{
	int	 fd, r, tries;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium initialisation failed");
		return -1;
	}
	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no identity file given");
		return -1;
	}
	for (tries = 0; ; tries++) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_NOCTTY | O_CLOEXEC);
		if (fd != -1)
			break;
		if (errno == ELOOP) {
			snprintf(err, errlen, "%s is a symbolic link", path);
			return -1;
		}
		if (errno != ENOENT || !create || tries > 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		if ((r = identity_create(path, priv, err, errlen)) == -1)
			return -1;
		if (r == 0)
			goto derive;
		/* r == 1: created by someone else meanwhile; read it. */
	}
	r = identity_read(fd, path, priv, err, errlen);
	close(fd);
	if (r == -1) {
		sodium_memzero(priv, 32);
		return -1;
	}
 derive:
	if (crypto_scalarmult_base(pub, priv) != 0) {
		snprintf(err, errlen, "%s: unusable private key", path);
		sodium_memzero(priv, 32);
		return -1;
	}
	return 0;
}
