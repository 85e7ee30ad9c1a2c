/*
 * Raw UDP sockets that see only probes and STUN to a WireGuard port
 * (issue 7), handed to signald; the design is in probesock.c.
 */
#ifndef OMNI_PROBESOCK_H
#define OMNI_PROBESOCK_H

#include <stddef.h>
#include <stdint.h>

#define PROBESOCK_MAXPROG	16	/* instructions of a filter */

struct sock_filter;

int	probesock_filter(int, uint16_t, struct sock_filter *, size_t);
int	probesock_open(int, uint16_t);

#endif
