/*
 * Capability dropping for omnid.  The parent runs as root but keeps
 * only these capabilities, in its permitted, effective and inheritable
 * sets and in its bounding set:
 *
 *   CAP_NET_ADMIN         rtnetlink (addresses, link up/down, MTU,
 *                         link removal), creating the tun device in
 *                         wireguard-go, the WireGuard generic netlink
 *                         family of the kernel backend.
 *   CAP_NET_BIND_SERVICE  binding the sockets handed to the children
 *                         when the configuration uses ports below 1024.
 *   CAP_NET_RAW           the raw UDP probe sockets (probesock.c):
 *                         signald probes from the WireGuard port
 *                         through them, so probes test the NAT mapping
 *                         WireGuard uses.  They are opened whenever an
 *                         interface comes or its port changes, so the
 *                         capability stays for the daemon's life.
 *   CAP_SETUID,           the children (signald, wgctld, metricsd, the
 *   CAP_SETGID,           config parser) are exec'd as root and then
 *   CAP_SYS_CHROOT        chroot and drop to the unprivileged user
 *                         themselves (proc_sandbox); they can only get
 *                         these through the parent's bounding set.
 *   CAP_KILL              the children run under another uid after
 *                         their sandbox, so signalling them (SIGTERM
 *                         on shutdown or restart) needs it: kill(2)
 *                         from uid 0 to a process whose real and saved
 *                         uids are not 0 is otherwise refused.
 *
 * Everything else goes, notably CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH,
 * CAP_CHOWN, CAP_FOWNER and CAP_SYS_ADMIN: the parent still reads and
 * writes root-owned files as their owner, but no longer bypasses file
 * permissions.  A program the parent execs as root (wireguard-go, the
 * children) gets its capabilities from the bounding set, so it can
 * never hold more than the list above.
 *
 * The capset(2) system call is used directly; no libcap.
 */
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <linux/capability.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "caps.h"

#define CAP_BIT(c)	(UINT64_C(1) << (c))

static const struct {
	int		 cap;
	const char	*name;
} caps_kept[] = {
	{ CAP_NET_ADMIN,	"cap_net_admin" },
	{ CAP_NET_BIND_SERVICE,	"cap_net_bind_service" },
	{ CAP_NET_RAW,		"cap_net_raw" },
	{ CAP_SETUID,		"cap_setuid" },
	{ CAP_SETGID,		"cap_setgid" },
	{ CAP_SYS_CHROOT,	"cap_sys_chroot" },
	{ CAP_KILL,		"cap_kill" },
};

uint64_t
caps_parent_mask(void)
{
	uint64_t	 mask = 0;
	size_t		 i;

	for (i = 0; i < sizeof(caps_kept) / sizeof(caps_kept[0]); i++)
		mask |= CAP_BIT(caps_kept[i].cap);
	return mask;
}

static int
caps_get(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &hdr, data) == -1)
		return -1;
	*eff = (uint64_t)data[1].effective << 32 | data[0].effective;
	*perm = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	*inh = (uint64_t)data[1].inheritable << 32 | data[0].inheritable;
	return 0;
}

static int
caps_set(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct	 hdr;
	struct __user_cap_data_struct	 data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[0].effective = (uint32_t)eff;
	data[1].effective = (uint32_t)(eff >> 32);
	data[0].permitted = (uint32_t)perm;
	data[1].permitted = (uint32_t)(perm >> 32);
	data[0].inheritable = (uint32_t)inh;
	data[1].inheritable = (uint32_t)(inh >> 32);
	return syscall(SYS_capset, &hdr, data);
}

/* The highest capability number this kernel knows. */
static int
caps_last(void)
{
	FILE	*fp;
	int	 last = -1, c;

	if ((fp = fopen("/proc/sys/kernel/cap_last_cap", "re")) != NULL) {
		if (fscanf(fp, "%d", &last) != 1)
			last = -1;
		fclose(fp);
	}
	if (last >= 0 && last < 64)
		return last;
	/* No /proc: probe the bounding set. */
	for (c = 0; c < 64 && prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		;
	return c - 1;
}

void
caps_drop_parent(void)
{
	uint64_t	 keep, eff, perm, inh;
	size_t		 i;
	int		 c, last;

	keep = caps_parent_mask();
	last = caps_last();
	/* The bounding set first: dropping needs CAP_SETPCAP, still held. */
	for (c = 0; c <= last; c++) {
		if (keep & CAP_BIT(c))
			continue;
		if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) != 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == -1)
			fatal("prctl(PR_CAPBSET_DROP, %d)", c);
	}
	/* Nothing may come back through the ambient set either. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 &&
	    errno != EINVAL)
		fatal("prctl(PR_CAP_AMBIENT_CLEAR_ALL)");

	if (caps_get(&eff, &perm, &inh) == -1)
		fatal("capget");
	for (i = 0; i < sizeof(caps_kept) / sizeof(caps_kept[0]); i++)
		if (!(perm & CAP_BIT(caps_kept[i].cap)))
			log_warnx("capability %s is not available",
			    caps_kept[i].name);
	keep &= perm;
	if (caps_set(keep, keep, keep) == -1)
		fatal("capset");
	log_debug("capabilities: kept 0x%llx, bounding set reduced to it",
	    (unsigned long long)keep);
}

int
caps_check(void)
{
	uint64_t	 eff, perm, inh;

	if (caps_get(&eff, &perm, &inh) == -1) {
		log_warn("capget");
		return -1;
	}
	if (!(eff & CAP_BIT(CAP_NET_ADMIN))) {
		log_warnx("omnid needs root (CAP_NET_ADMIN)");
		return -1;
	}
	return 0;
}
