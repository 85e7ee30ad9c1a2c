/*
 * IMSG_DH_REQ from signald: the proof key of one of our interfaces and
 * a nucleus (signald/PROTOCOL.md, "Keys").
 *
 * signald never holds a WireGuard private key.  What it gets here is
 * BLAKE2b of the X25519 result with both public keys: it proves to
 * that nucleus that we hold the key, and it is useless for anything
 * else (a WireGuard handshake needs the private key itself).  The
 * dispatch table has already checked the sender and the exact size;
 * the interface must be ours, and a peer key of low order (X25519
 * gives all zeros) or equal to our own is refused with ok = 0.
 */
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "log.h"
#include "omnid.h"
#include "dh.h"

void
from_signald_dh(struct imsgev *iev, struct imsg *im)
{
	struct sig_dh	 req, res;
	struct iface	*ifp;

	(void)iev;
	memcpy(&req, im->data, sizeof(req));
	if ((ifp = iface_find(req.ifid)) == NULL) {
		log_warnx("signald: proof key for unknown interface %u",
		    req.ifid);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.ifid = req.ifid;
	memcpy(res.peer, req.peer, sizeof(res.peer));
	if (memcmp(req.peer, ifp->if_pub, OMNI_KEYLEN) == 0)
		log_warnx("%s: a nucleus claims our own key, refused",
		    ifp->if_conf.name);
	else if (keys_dh(ifp->if_priv, ifp->if_pub, req.peer,
	    res.result) == 0)
		res.ok = 1;
	else
		log_warnx("%s: a nucleus key of low order, refused",
		    ifp->if_conf.name);
	child_send(PROC_SIGNALD, IMSG_DH_RES, 0, -1, &res, sizeof(res));
	sodium_memzero(&res, sizeof(res));
}
