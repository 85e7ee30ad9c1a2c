#include <string.h>

#include <sodium.h>

#include "keys.h"

void
keys_derive_root(const char *secret, size_t len, uint8_t root[32])
{
	crypto_generichash_state	 st;
	static const char		 label[] = "omni/v1/root";

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const unsigned char *)label,
	    sizeof(label) - 1);
	crypto_generichash_update(&st, (const unsigned char *)secret, len);
	crypto_generichash_final(&st, root, 32);
	sodium_memzero(&st, sizeof(st));
}

void
keys_derive_cluster(const uint8_t root[32], const char *purpose,
    const char *cluster, uint8_t out[32])
{
	crypto_generichash_state	 st;
	static const char		 label[] = "omni/v1/";

	crypto_generichash_init(&st, root, 32, 32);
	crypto_generichash_update(&st, (const unsigned char *)label,
	    sizeof(label) - 1);
	crypto_generichash_update(&st, (const unsigned char *)purpose,
	    strlen(purpose));
	crypto_generichash_update(&st, (const unsigned char *)"/", 1);
	/* The NUL ends the name so "a"+"bc" and "ab"+"c" differ. */
	crypto_generichash_update(&st, (const unsigned char *)cluster,
	    strlen(cluster) + 1);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}
