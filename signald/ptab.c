/*
 * Peer tables keyed by public key (ptab.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ptab.h"

static uint8_t	 ptab_key[crypto_shorthash_KEYBYTES];
static int	 ptab_keyed;

static size_t
ptab_slot(const struct ptab *t, const uint8_t *pubkey)
{
	uint8_t		 h[crypto_shorthash_BYTES];
	uint64_t	 v;

	if (!ptab_keyed) {
		crypto_shorthash_keygen(ptab_key);
		ptab_keyed = 1;
	}
	crypto_shorthash(h, pubkey, SIG_KEYLEN, ptab_key);
	memcpy(&v, h, sizeof(v));
	return v & (t->pt_cap - 1);
}

void
ptab_init(struct ptab *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->pt_max = max;
}

void
ptab_free(struct ptab *t)
{
	free(t->pt_t);
	t->pt_t = NULL;
	t->pt_cap = t->pt_n = 0;
}

void
ptab_clear(struct ptab *t)
{
	/* keep a small table, give a big one back */
	if (t->pt_cap > 256)
		ptab_free(t);
	else if (t->pt_t != NULL)
		memset(t->pt_t, 0, t->pt_cap * sizeof(t->pt_t[0]));
	t->pt_n = 0;
}

void
ptab_swap(struct ptab *a, struct ptab *b)
{
	struct ptab	 tmp = *a;

	*a = *b;
	*b = tmp;
}

struct ptab_ent *
ptab_get(const struct ptab *t, const uint8_t *pubkey)
{
	size_t	 i;

	if (t->pt_n == 0)
		return NULL;
	for (i = ptab_slot(t, pubkey); t->pt_t[i].pe_used;
	    i = (i + 1) & (t->pt_cap - 1))
		if (memcmp(t->pt_t[i].pe_peer.pubkey, pubkey,
		    SIG_KEYLEN) == 0)
			return &t->pt_t[i];
	return NULL;
}

/* Keep the load at most 1/2 so probes stay short. */
static int
ptab_grow(struct ptab *t)
{
	struct ptab	 n;
	size_t		 i, j;

	if (t->pt_cap != 0 && (t->pt_n + 1) * 2 <= t->pt_cap)
		return 0;
	n = *t;
	n.pt_cap = t->pt_cap == 0 ? 16 : t->pt_cap * 2;
	if ((n.pt_t = calloc(n.pt_cap, sizeof(n.pt_t[0]))) == NULL)
		return -1;
	for (i = 0; i < t->pt_cap; i++) {
		if (!t->pt_t[i].pe_used)
			continue;
		for (j = ptab_slot(&n, t->pt_t[i].pe_peer.pubkey);
		    n.pt_t[j].pe_used; j = (j + 1) & (n.pt_cap - 1))
			;
		n.pt_t[j] = t->pt_t[i];
	}
	free(t->pt_t);
	*t = n;
	return 0;
}

/* Insert or replace.  -1: the table is at its maximum, or no memory. */
int
ptab_put(struct ptab *t, const struct sig_peer *p, uint64_t stamp,
    uint64_t until)
{
	struct ptab_ent	*e;
	size_t		 i;

	if ((e = ptab_get(t, p->pubkey)) == NULL) {
		if (t->pt_n >= t->pt_max || ptab_grow(t) == -1)
			return -1;
		for (i = ptab_slot(t, p->pubkey); t->pt_t[i].pe_used;
		    i = (i + 1) & (t->pt_cap - 1))
			;
		e = &t->pt_t[i];
		e->pe_used = 1;
		t->pt_n++;
	}
	e->pe_peer = *p;
	e->pe_stamp = stamp;
	e->pe_until = until;
	return 0;
}

/* Delete, shifting later entries of the probe run back.  1: was there. */
int
ptab_del(struct ptab *t, const uint8_t *pubkey)
{
	struct ptab_ent	*e;
	size_t		 i, j, k, mask;

	if ((e = ptab_get(t, pubkey)) == NULL)
		return 0;
	mask = t->pt_cap - 1;
	i = e - t->pt_t;
	for (j = (i + 1) & mask; t->pt_t[j].pe_used; j = (j + 1) & mask) {
		k = ptab_slot(t, t->pt_t[j].pe_peer.pubkey);
		/* may j's entry move to i?  Only if k is not in (i, j]. */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && (k <= i && k > j))) {
			t->pt_t[i] = t->pt_t[j];
			i = j;
		}
	}
	memset(&t->pt_t[i], 0, sizeof(t->pt_t[i]));
	t->pt_n--;
	return 1;
}
