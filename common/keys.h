/*
 * Key derivation from a cluster secret (libsodium), protocol v2
 * (signald/PROTOCOL.md, "Keys").
 *
 * root        = BLAKE2b-256("omni/v2/root" || secret)
 * root subkey = crypto_kdf_derive_from_key(id, "omniroot", root)
 *               KEY_ROOT_NAME: seals the cluster name of a datagram
 * cluster     = BLAKE2b-256 keyed with root of
 *               "omni/v2/cluster" NUL name NUL
 * cluster key = crypto_kdf_derive_from_key(1, purpose, cluster), the
 *               purpose (at most 8 characters) NUL padded as context:
 *               KEY_PURPOSE_SIGNAL, KEY_PURPOSE_PSK
 * signal up   = crypto_kdf_derive_from_key(1, "omnisig2", signal key)
 * signal down = crypto_kdf_derive_from_key(2, "omnisig2", signal key)
 *
 * The parent turns secrets into roots; children only ever see roots
 * (a nucleus, to serve any cluster under its secret), the name key
 * and cluster keys.
 *
 * keys_dh: the proof-of-possession key of two X25519 key pairs,
 *   BLAKE2b-256 keyed with KEYS_DH_LABEL of
 *   X25519(priv, peer) || lower public key || higher public key
 * (bytewise order), so both ends compute the same 32 bytes.
 */
#ifndef OMNI_KEYS_H
#define OMNI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEY_PURPOSE_SIGNAL	"signal"
#define KEY_PURPOSE_PSK		"psk"

#define KEY_ROOT_NAME		1

#define KEYS_DH_LABEL		"omni/v2/x25519-proof"	/* 20 bytes */

void	keys_derive_root(const char *, size_t, uint8_t [32]);
void	keys_derive_root_subkey(const uint8_t [32], uint64_t, uint8_t [32]);
void	keys_derive_cluster(const uint8_t [32], const char *, const char *,
	    uint8_t [32]);
void	keys_signal_subkeys(const uint8_t [32], uint8_t [32], uint8_t [32]);
int	keys_dh(const uint8_t [32], const uint8_t [32], const uint8_t [32],
	    uint8_t [32]);

#endif
