/*
 * STUN (RFC 8489) for signald: the Binding method only.
 *
 * The codec (stun_is_message, stun_answer_binding, stun_build_request,
 * stun_parse_response) is pure: bytes in, bytes out, no state.  The
 * nucleus answers Binding requests on its signaling port with it, so
 * any STUN client learns its reflexive address there.
 *
 * The client (stun_client_*) asks the standard STUN servers an
 * interface names for the interface's reflexive address, over the
 * interface's signaling socket.  Like edge.c it has no sockets and no
 * event loop: the caller passes the clock in and gives it a function
 * that sends a datagram.
 */
#ifndef SIGNALD_STUN_H
#define SIGNALD_STUN_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "omni.h"

#define STUN_HDRLEN		20
#define STUN_TXIDLEN		12
#define STUN_COOKIE		0x2112A442U
#define STUN_REQLEN		28	/* header and FINGERPRINT */
/*
 * The largest message the codec makes: a 420 answer with
 * STUN_MAX_UNKNOWN attribute types (IPv6 success answers take 52).
 */
#define STUN_MAXANSWER		80
#define STUN_MAX_UNKNOWN	4

/* Client retransmissions (RFC 8489 6.2.1), in whole ticks of 1 s. */
#define STUN_RTO_MS		1000	/* first retransmission timeout */
#define STUN_TRIES		4	/* requests per transaction: 0 1 3 7 s */
#define STUN_GIVEUP_MS		15000	/* after the first request */

/* Why a STUN message got no answer, for omni_stun_dropped_total. */
enum stun_drop {
	STUN_D_MALFORMED = 0,	/* not a Binding request we can answer */
	STUN_D_RATE_LIMITED,
	STUN_D_UNKNOWN_SOURCE,	/* (edge) not one of the interface's servers */
	STUN_D_UNEXPECTED,	/* (edge) no transaction of ours, bad answer */
	STUN_D_MAX
};

struct stun_stats {
	uint64_t	 answered;	/* Binding success responses sent */
	uint64_t	 errors;	/* error responses (420) sent */
	uint64_t	 dropped[STUN_D_MAX];
	uint64_t	 client_sent;	/* requests, retransmissions included */
	uint64_t	 client_answers;	/* success responses accepted */
	uint64_t	 client_errors;	/* error responses to our requests */
	uint64_t	 client_timeouts;	/* transactions without answer */
};
extern struct stun_stats stun_stats;

/* --- codec ------------------------------------------------------------ */

int		 stun_is_message(const uint8_t *, size_t);
int		 stun_answer_binding(const uint8_t *, size_t,
		    const struct sockaddr *, uint8_t *, size_t);
int		 stun_build_request(const uint8_t txid[STUN_TXIDLEN],
		    uint8_t *, size_t);
int		 stun_parse_response(const uint8_t *, size_t,
		    const uint8_t txid[STUN_TXIDLEN], struct omni_addr *);
uint32_t	 stun_crc32(const uint8_t *, size_t);
int		 stun_nucleus_answer(const uint8_t *, size_t,
		    const struct omni_addr *, uint8_t *, size_t);
const char	*stun_drop_name(int);

/* --- client ----------------------------------------------------------- */

struct stun_client_io {
	/* send a datagram on the socket of (ifid, family of to) */
	int	(*send)(uint32_t, const struct omni_addr *, const uint8_t *,
		    size_t);
	/* a server answered: tell the parent */
	void	(*learned)(const struct sig_reflexive *);
};

void		 stun_client_init(const struct stun_client_io *);
int		 stun_iface_valid(const struct sig_iface *);
void		 stun_client_reconf(const struct sig_iface *, size_t,
		    uint64_t);
void		 stun_client_tick(uint64_t, time_t);
void		 stun_client_input(uint32_t, const uint8_t *, size_t,
		    const struct omni_addr *, uint64_t, time_t);
/* Metrics: emit(name, value, labels) for every sample. */
void		 stun_metrics(void (*)(const char *, double, const char *));

#endif
