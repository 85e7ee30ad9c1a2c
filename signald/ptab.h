/*
 * A table of peers keyed by public key: open addressing, linear
 * probing, backward-shift deletion, hashed with a secret key (peers
 * choose their keys, so they must not be able to aim at a slot).
 * The edge keeps one per nucleus (its view) and merges them.
 */
#ifndef SIGNALD_PTAB_H
#define SIGNALD_PTAB_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct ptab_ent {
	uint8_t			 pe_used;
	uint64_t		 pe_stamp;	/* when it was learned */
	uint64_t		 pe_until;	/* ms: provisional until, 0 no */
	struct sig_peer		 pe_peer;
};

struct ptab {
	struct ptab_ent		*pt_t;
	size_t			 pt_cap;	/* 0 or a power of 2 */
	size_t			 pt_n;
	size_t			 pt_max;	/* refuse more than this */
};

void		 ptab_init(struct ptab *, size_t);
void		 ptab_free(struct ptab *);
void		 ptab_clear(struct ptab *);
struct ptab_ent	*ptab_get(const struct ptab *, const uint8_t *);
int		 ptab_put(struct ptab *, const struct sig_peer *, uint64_t,
		    uint64_t);
int		 ptab_del(struct ptab *, const uint8_t *);
void		 ptab_swap(struct ptab *, struct ptab *);

#define PTAB_FOREACH(e, t)						\
	for ((e) = (t)->pt_t; (t)->pt_t != NULL &&			\
	    (e) < (t)->pt_t + (t)->pt_cap; (e)++)			\
		if ((e)->pe_used)

#endif
