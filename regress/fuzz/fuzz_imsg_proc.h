/*
 * The common half of the per-process imsg fuzz targets: fuzz_imsg.c
 * covers the framing, these cover what each receiving process does
 * with the payloads.  fuzz_imsg_<process>.c includes its daemon's main
 * file (main renamed), so that the real dispatch table and the real
 * handlers run, then this file, then sets FUZZ_* below.
 *
 * Every input is a list of records, each turned into one framed
 * message, written to a socketpair and taken out by the process's own
 * imsgev_dispatch() (the length, sender and descriptor checks of
 * common/proc.c, then the handler):
 *
 *   byte 0  bit 7 set: raw message type (bits 0-6), maybe unknown;
 *           else the type of row (byte 0 % rows) of the table
 *   byte 1  bit 0: a descriptor goes along; bit 1: the payload has
 *           the row's exact length (else bytes 2-3); bits 2-3: kind
 *           of descriptor (UDP, unix stream, TCP listener on
 *           loopback, /dev/null);
 *           bits 4-7: peerid
 *   2-3     payload length, little endian, modulo IMSG_MAX_PAYLOAD + 1
 *   ...     the payload, padded with zeros when the input ends
 *
 * Edges are stubbed, never the logic: the log functions are ours (no
 * syslog), and fatal()/fatalx() end "the process": for a child, whose
 * parent is trusted and restarts it, that is a legitimate answer to a
 * bad message and the rest of the input is dropped; a target sets
 * FUZZ_FATAL_IS_BUG when the sender is untrusted (the parent, fed by
 * its children), and then a fatal error is a finding (abort).
 * imsg_get/imsg_free are wrapped (ld --wrap) to free the message a
 * handler was holding when it called fatal.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct proc_dispatch *fuzz_table;	/* set by the target */
static int		 fuzz_fatal_is_bug;
static jmp_buf		 fuzz_jmp;
static int		 fuzz_jmp_armed;
static int		 fuzz_verbose;
static struct imsg	*fuzz_held;		/* the message being handled */
static void		*fuzz_held_data;
static int		 fuzz_held_fd = -1;

/* --- log.c, without syslog ------------------------------------------ */

void
log_init(int debug, int facility)
{
	(void)debug;
	(void)facility;
}

void
log_procinit(const char *name)
{
	(void)name;
}

const char *
log_procname(void)
{
	return "fuzz";
}

void
log_setverbose(int v)
{
	fuzz_verbose = v;
}

int
log_getverbose(void)
{
	return fuzz_verbose;
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 buf[1024];

	/* Format every message: the arguments are part of what is tested. */
	(void)pri;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (getenv("FUZZ_LOG") != NULL)
		fprintf(stderr, "%s\n", buf);
}

#define FUZZ_LOGFN(name, pri)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
									\
	va_start(ap, fmt);						\
	vlog(pri, fmt, ap);						\
	va_end(ap);							\
}
FUZZ_LOGFN(log_warn, LOG_WARNING)
FUZZ_LOGFN(log_warnx, LOG_WARNING)
FUZZ_LOGFN(log_info, LOG_INFO)
FUZZ_LOGFN(log_debug, LOG_DEBUG)

static __attribute__((noreturn)) void
fuzz_vfatal(const char *fmt, va_list ap)
{
	char	 buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (fuzz_fatal_is_bug || !fuzz_jmp_armed) {
		fprintf(stderr, "fatal error on untrusted input: %s\n", buf);
		abort();
	}
	if (getenv("FUZZ_LOG") != NULL)
		fprintf(stderr, "fatal: %s\n", buf);
	longjmp(fuzz_jmp, 1);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_vfatal(fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fuzz_vfatal(fmt, ap);
}

/* --- the message a handler holds ------------------------------------ */

int	__real_imsg_get(struct imsgbuf *, struct imsg *);
void	__real_imsg_free(struct imsg *);
int	__wrap_imsg_get(struct imsgbuf *, struct imsg *);
void	__wrap_imsg_free(struct imsg *);

int
__wrap_imsg_get(struct imsgbuf *ib, struct imsg *im)
{
	int	 r;

	if ((r = __real_imsg_get(ib, im)) == 1) {
		fuzz_held = im;
		fuzz_held_data = im->data;
		fuzz_held_fd = im->fd;
	}
	return r;
}

void
__wrap_imsg_free(struct imsg *im)
{
	if (im == fuzz_held) {
		fuzz_held = NULL;
		fuzz_held_data = NULL;
		fuzz_held_fd = -1;
	}
	__real_imsg_free(im);
}

/* After a fatal error: what the dead process held is gone with it. */
static void
fuzz_release_held(void)
{
	free(fuzz_held_data);
	fuzz_held = NULL;
	fuzz_held_data = NULL;
	fuzz_held_fd = -1;	/* a handler may have closed it already */
}

/* --- driving one input ---------------------------------------------- */

static size_t
fuzz_rows(void)
{
	size_t	 n = 0;

	while (fuzz_table[n].handler != NULL)
		n++;
	return n;
}

static int
fuzz_descriptor(int kind)
{
	struct sockaddr_in sin;
	int	 sv[2], fd;

	switch (kind) {
	case 0:
		return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	case 1:
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
		    sv) == -1)
			return -1;
		close(sv[1]);
		return sv[0];
	case 2:		/* a TCP listener on a loopback port */
		if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			return -1;
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    listen(fd, 1) == -1) {
			close(fd);
			return -1;
		}
		return fd;
	default:
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		return fd;
	}
}

/*
 * Feed the records of data to iev, whose descriptor is the reading end
 * of a socketpair and w the writing end.  Stops at the first message
 * after which the process (or, for the parent, the channel) is dead.
 */
static void
fuzz_feed(struct imsgev *iev, struct imsgbuf *w, const uint8_t *data,
    size_t size)
{
	static uint8_t		 payload[IMSG_MAX_PAYLOAD];
	const struct proc_dispatch *row;
	const uint8_t		*p = data, *end = data + size;
	size_t			 nrows = fuzz_rows(), len, have;
	uint32_t		 type, peerid;
	int			 fd;

	while (end - p >= 4 && iev->ibuf.fd != -1) {
		row = &fuzz_table[p[0] % nrows];
		type = p[0] & 0x80 ? (uint32_t)(p[0] & 0x7f) : row->type;
		peerid = p[1] >> 4;
		if ((p[1] & 2) && !(p[0] & 0x80) && row->len != IMSG_LEN_ANY)
			len = row->len;
		else
			len = (size_t)(p[2] | p[3] << 8) %
			    (IMSG_MAX_PAYLOAD + 1);
		fd = p[1] & 1 ? fuzz_descriptor((p[1] >> 2) & 3) : -1;
		p += 4;
		have = (size_t)(end - p) < len ? (size_t)(end - p) : len;
		memset(payload, 0, len);
		memcpy(payload, p, have);
		p += have;
		if (imsg_compose(w, type, peerid, fd, len ? payload : NULL,
		    len) == -1)
			abort();	/* len <= IMSG_MAX_PAYLOAD */
		if (imsgbuf_flush(w) == -1)
			abort();
		if (setjmp(fuzz_jmp) != 0) {
			/* a child's fatal error: it is dead, input ends */
			fuzz_jmp_armed = 0;
			fuzz_release_held();
			return;
		}
		fuzz_jmp_armed = 1;
		imsgev_dispatch(iev->ibuf.fd, EV_READ, iev);
		fuzz_jmp_armed = 0;
		/* What the process answered is not looked at: drop it. */
		imsgbuf_clear(&iev->ibuf);
	}
}

/*
 * A child's run: a fresh channel from "the parent" (iev, with the
 * child's own table), the input fed through it, then everything
 * closed again so the next input starts as after a restart.
 */
static __attribute__((unused)) void
fuzz_child_run(struct imsgev *iev, const struct proc_dispatch *table,
    const uint8_t *data, size_t size)
{
	struct imsgbuf	 w;
	int		 sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1 ||
	    fcntl(sv[1], F_SETFL, O_NONBLOCK) == -1)
		abort();
	imsgbuf_init(&w, sv[0]);
	imsgev_init(iev, sv[1], PROC_PARENT, table, NULL, NULL);
	fuzz_feed(iev, &w, data, size);
	if (iev->ibuf.fd != -1)
		imsgev_clear(iev);
	else
		event_del(&iev->ev);
	imsgbuf_clear(&w);
	close(sv[0]);
}
