#include <string.h>

#include <sodium.h>

#include "keys.h"

void
keys_derive_root(const char *secret, size_t len, uint8_t root[32])
{
	crypto_generichash_state	 st;
	static const char		 label[] = "omni/v2/root";

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)label,
	    sizeof(label) - 1);
	crypto_generichash_update(&st, (const unsigned char *)secret, len);
	crypto_generichash_final(&st, root, 32);
	sodium_memzero(&st, sizeof(st));
}

void
keys_derive_root_subkey(const uint8_t root[32], uint64_t id, uint8_t out[32])
{
	crypto_kdf_derive_from_key(out, 32, id, "omniroot", root);
}

void
keys_derive_cluster(const uint8_t root[32], const char *purpose,
    const char *cluster, uint8_t out[32])
{
	crypto_generichash_state	 st;
	static const char		 label[] = "omni/v2/cluster";
	uint8_t				 cl[32];
	char				 ctx[crypto_kdf_CONTEXTBYTES];

	crypto_generichash_init(&st, root, 32, 32);
	/* label NUL name NUL: the NULs keep every boundary unambiguous */
	crypto_generichash_update(&st, (const unsigned char *)label,
	    sizeof(label));
	crypto_generichash_update(&st, (const unsigned char *)cluster,
	    strlen(cluster) + 1);
	crypto_generichash_final(&st, cl, 32);
	sodium_memzero(&st, sizeof(st));

	memset(ctx, 0, sizeof(ctx));
	memcpy(ctx, purpose, strnlen(purpose, sizeof(ctx)));
	crypto_kdf_derive_from_key(out, 32, 1, ctx, cl);
	sodium_memzero(cl, sizeof(cl));
}

/* One key per direction, so a datagram can never be reflected. */
void
keys_signal_subkeys(const uint8_t sig[32], uint8_t up[32], uint8_t down[32])
{
	crypto_kdf_derive_from_key(up, 32, 1, "omnisig2", sig);
	crypto_kdf_derive_from_key(down, 32, 2, "omnisig2", sig);
}

/*
 * The proof key of (priv, mine) and peer.  Returns -1, out zeroed,
 * when the peer key is of low order (X25519 gives all zeros).
 */
int
keys_dh(const uint8_t priv[32], const uint8_t mine[32], const uint8_t peer[32],
    uint8_t out[32])
{
	crypto_generichash_state	 st;
	uint8_t				 shared[crypto_scalarmult_BYTES];
	const uint8_t			*lo = mine, *hi = peer;

	if (crypto_scalarmult(shared, priv, peer) != 0) {
		sodium_memzero(shared, sizeof(shared));
		memset(out, 0, 32);
		return -1;
	}
	if (memcmp(mine, peer, 32) > 0) {
		lo = peer;
		hi = mine;
	}
	crypto_generichash_init(&st, (const unsigned char *)KEYS_DH_LABEL,
	    sizeof(KEYS_DH_LABEL) - 1, 32);
	crypto_generichash_update(&st, shared, sizeof(shared));
	crypto_generichash_update(&st, lo, 32);
	crypto_generichash_update(&st, hi, 32);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(shared, sizeof(shared));
	return 0;
}
