/*
 * Framed messages over a stream socket (socketpair or unix socket),
 * with descriptor passing: the imsg idea from OpenBSD, written for omni.
 *
 * Every frame is a fixed header followed by at most IMSG_MAX_PAYLOAD
 * bytes.  A frame may carry one descriptor, which travels as
 * SCM_RIGHTS ancillary data on the first byte of its frame.
 */
#ifndef OMNI_IMSG_H
#define OMNI_IMSG_H

#include <sys/types.h>
#include <sys/queue.h>
#include <stddef.h>
#include <stdint.h>

#define IMSG_MAX_PAYLOAD	8192
#define IMSG_FLAG_FD		0x0001

struct imsg_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* payload bytes after the header */
	uint32_t	 peerid;	/* request or object id, free use */
	uint32_t	 pid;		/* sender's pid */
	uint32_t	 flags;
};

struct imsg {
	struct imsg_hdr	 hdr;
	int		 fd;		/* -1 unless a descriptor came along */
	void		*data;		/* NULL when hdr.len == 0 */
};

struct imsg_out {
	TAILQ_ENTRY(imsg_out)	 entry;
	size_t			 len;
	size_t			 off;
	int			 fd;	/* sent with the first byte */
	unsigned char		*buf;
};

#define IMSG_MAX_FDS_QUEUED	16

struct imsgbuf {
	int			 fd;
	pid_t			 pid;
	size_t			 rlen;
	unsigned char		 rbuf[sizeof(struct imsg_hdr) + IMSG_MAX_PAYLOAD];
	int			 rfds[IMSG_MAX_FDS_QUEUED];
	int			 nrfds;
	TAILQ_HEAD(, imsg_out)	 outq;
	size_t			 outq_bytes;
};

void	 imsgbuf_init(struct imsgbuf *, int);
void	 imsgbuf_clear(struct imsgbuf *);
int	 imsg_compose(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 imsgbuf_write(struct imsgbuf *);
int	 imsgbuf_pending(const struct imsgbuf *);
ssize_t	 imsgbuf_read(struct imsgbuf *);
int	 imsg_get(struct imsgbuf *, struct imsg *);
void	 imsg_free(struct imsg *);
int	 imsgbuf_flush(struct imsgbuf *);

#endif
