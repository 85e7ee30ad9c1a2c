/*
 * The parent's side of the proof of possession (issue 3): signald asks
 * for the X25519 result of an interface's WireGuard key and a nucleus
 * key; only the parent holds the private key.
 */
#ifndef OMNI_PARENT_DH_H
#define OMNI_PARENT_DH_H

#include "proc.h"

void	from_signald_dh(struct imsgev *, struct imsg *);

#endif
