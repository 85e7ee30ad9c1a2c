/*
 * The WireGuard identity of an interface: a Curve25519 private key in
 * a root-only file, base64 and a newline, as wg genkey writes it.
 */
#ifndef OMNI_IDENTITY_H
#define OMNI_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

int	identity_load(const char *, int, uint8_t [32], uint8_t [32], char *,
	    size_t);

#endif
