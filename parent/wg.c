/*
 * The backend-neutral front of the parent's WireGuard devices: pick a
 * backend for an interface (auto: the kernel's WireGuard when there is
 * one, wireguard-go otherwise) and dispatch every operation to it.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "omni.h"
#include "wg.h"

/*
 * An interface name is also a path component of the UAPI socket, so
 * accept only a conservative subset of what Linux allows.
 */
int
wg_name_valid(const char *name)
{
	size_t	 i, len;

	len = strnlen(name, OMNI_IFNAMSIZ);
	if (len == 0 || len >= OMNI_IFNAMSIZ)
		return 0;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_' && name[i] != '.')
			return 0;
	return 1;
}

const char *
wg_backend_name(int backend)
{
	switch (backend) {
	case BACKEND_AUTO:	return "auto";
	case BACKEND_USERSPACE:	return "userspace";
	case BACKEND_KERNEL:	return "kernel";
	default:		return "unknown";
	}
}

static int
wg_open_userspace(struct wg_dev *wd, char *err, size_t errlen)
{
	if (wd->wd_wggo[0] == '\0') {
		snprintf(err, errlen, "%s: no wireguard-go binary configured",
		    wd->wd_name);
		return -1;
	}
	wd->wd_backend = BACKEND_USERSPACE;
	wd->wd_ops = &wg_uapi_ops;
	if (wd->wd_ops->create(wd, err, errlen) == -1) {
		wd->wd_ops = NULL;
		return -1;
	}
	return 0;
}

/* -1 with errno WG_EABSENT when the kernel has no WireGuard. */
static int
wg_open_kernel(struct wg_dev *wd, char *err, size_t errlen)
{
	int	 saved;

	wd->wd_backend = BACKEND_KERNEL;
	wd->wd_ops = &wg_kernel_ops;
	if (wd->wd_ops->create(wd, err, errlen) == -1) {
		saved = errno;
		wd->wd_ops = NULL;
		errno = saved;
		return -1;
	}
	return 0;
}

int
wg_open(struct wg_dev *wd, const char *name, int backend, const char *wggo,
    char *err, size_t errlen)
{
	size_t	 skip;

	memset(wd, 0, sizeof(*wd));
	wd->wd_pid = -1;
	wd->wd_ifindex = 0;

	if (!wg_name_valid(name)) {
		snprintf(err, errlen, "invalid interface name \"%.*s\"",
		    OMNI_IFNAMSIZ, name);
		return -1;
	}
	strlcpy(wd->wd_name, name, sizeof(wd->wd_name));
	if (wggo != NULL && strlcpy(wd->wd_wggo, wggo, sizeof(wd->wd_wggo)) >=
	    sizeof(wd->wd_wggo)) {
		snprintf(err, errlen, "%s: wireguard-go path too long", name);
		return -1;
	}

	switch (backend) {
	case BACKEND_AUTO:
		/*
		 * Kernel WireGuard when the kernel has it (its generic
		 * netlink family resolves or the link can be created,
		 * either of which loads the module), else wireguard-go.
		 */
		if (wg_open_kernel(wd, err, errlen) == 0) {
			log_info("%s: backend auto: using kernel WireGuard, "
			    "the kernel has the wireguard module", name);
			break;
		}
		if (errno != WG_EABSENT)
			return -1;
		/* The reason without its "name: " prefix. */
		skip = strlen(name);
		if (strncmp(err, name, skip) != 0 || strncmp(err + skip, ": ",
		    2) != 0)
			skip = 0;
		else
			skip += 2;
		log_info("%s: backend auto: using userspace (wireguard-go): "
		    "%s", name, err + skip);
		if (wg_open_userspace(wd, err, errlen) == -1)
			return -1;
		break;
	case BACKEND_USERSPACE:
		if (wg_open_userspace(wd, err, errlen) == -1)
			return -1;
		break;
	case BACKEND_KERNEL:
		if (wg_open_kernel(wd, err, errlen) == -1)
			return -1;
		break;
	default:
		snprintf(err, errlen, "%s: unknown backend %d", name, backend);
		return -1;
	}
	log_info("%s: %s backend up, ifindex %d", name, wd->wd_ops->name,
	    wd->wd_ifindex);
	return 0;
}

int
wg_close(struct wg_dev *wd)
{
	int	 rv;

	if (wd->wd_ops == NULL)
		return 0;
	rv = wd->wd_ops->destroy(wd);
	wd->wd_ops = NULL;
	wd->wd_ifindex = 0;
	return rv;
}

static int
wg_ready(struct wg_dev *wd, char *err, size_t errlen)
{
	if (wd->wd_ops == NULL) {
		snprintf(err, errlen, "%s: interface is not open",
		    wd->wd_name[0] ? wd->wd_name : "(none)");
		return -1;
	}
	return 0;
}

int
wg_set_device(struct wg_dev *wd, const uint8_t priv[32], uint16_t port,
    char *err, size_t errlen)
{
	if (wg_ready(wd, err, errlen) == -1)
		return -1;
	return wd->wd_ops->set_device(wd, priv, port, err, errlen);
}

int
wg_set_peer(struct wg_dev *wd, const struct wg_peer_req *req,
    const uint8_t *psk, char *err, size_t errlen)
{
	if (wg_ready(wd, err, errlen) == -1)
		return -1;
	/* What neither backend can carry, refused once for both. */
	if ((req->allowed.af != AF_INET || req->allowed.plen > 32) &&
	    (req->allowed.af != AF_INET6 || req->allowed.plen > 128)) {
		snprintf(err, errlen, "%s: set peer: bad allowed prefix",
		    wd->wd_name);
		errno = EINVAL;
		return -1;
	}
	if (req->endpoint.sa.sa_family != AF_UNSPEC &&
	    req->endpoint.sa.sa_family != AF_INET &&
	    req->endpoint.sa.sa_family != AF_INET6) {
		snprintf(err, errlen, "%s: set peer: bad endpoint family %d",
		    wd->wd_name, req->endpoint.sa.sa_family);
		errno = EINVAL;
		return -1;
	}
	return wd->wd_ops->set_peer(wd, req, psk, err, errlen);
}

int
wg_del_peer(struct wg_dev *wd, const uint8_t pub[32], char *err,
    size_t errlen)
{
	if (wg_ready(wd, err, errlen) == -1)
		return -1;
	return wd->wd_ops->del_peer(wd, pub, err, errlen);
}

int
wg_get_peers(struct wg_dev *wd, int (*cb)(const struct wg_peer_stats *,
    void *), void *arg, char *err, size_t errlen)
{
	if (wg_ready(wd, err, errlen) == -1)
		return -1;
	return wd->wd_ops->get_peers(wd, cb, arg, err, errlen);
}

/*
 * Called by the parent's SIGCHLD reaper for every child it collected.
 * Returns 1 when it was this device's wireguard-go.
 */
int
wg_reaped(struct wg_dev *wd, pid_t pid, int status)
{
	if (pid <= 0 || wd->wd_pid != pid)
		return 0;
	if (WIFEXITED(status))
		log_warnx("%s: wireguard-go (pid %d) exited with status %d",
		    wd->wd_name, (int)pid, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		log_warnx("%s: wireguard-go (pid %d) killed by signal %d (%s)",
		    wd->wd_name, (int)pid, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		log_warnx("%s: wireguard-go (pid %d) gone, status 0x%x",
		    wd->wd_name, (int)pid, (unsigned)status);
	wd->wd_pid = -1;
	return 1;
}
