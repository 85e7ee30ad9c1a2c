/*
 * Key derivation from a cluster secret (libsodium).
 *
 * root    = BLAKE2b-256("omni/v1/root" || secret)
 * cluster = BLAKE2b-256, keyed with root, of "omni/v1/" purpose "/" name
 *
 * The parent turns secrets into roots; children only ever see roots
 * (a nucleus, to serve any cluster under its secret) or cluster keys.
 */
#ifndef OMNI_KEYS_H
#define OMNI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KEY_PURPOSE_SIGNAL	"signal"
#define KEY_PURPOSE_PSK		"psk"

void	keys_derive_root(const char *, size_t, uint8_t [32]);
void	keys_derive_cluster(const uint8_t [32], const char *, const char *,
	    uint8_t [32]);

#endif
