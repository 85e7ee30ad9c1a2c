/*
 * Capabilities of the privileged parent: what it keeps (see caps.c
 * for why each one) and a check that it has what it needs.
 */
#ifndef OMNI_CAPS_H
#define OMNI_CAPS_H

#include <stdint.h>

void		caps_drop_parent(void);
int		caps_check(void);
uint64_t	caps_parent_mask(void);

#endif
