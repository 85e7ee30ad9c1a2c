/*
 * firstping: time to first packet.  Takes a timestamp, starts a
 * command (omnid) and pings a target every few milliseconds from the
 * moment the command is started until the first echo reply, then
 * prints, in milliseconds from the timestamp, when an echo request
 * could first be sent (a route to the target exists: the interface
 * is up with its address) and when the first reply came back.  It
 * stays the command's parent: SIGTERM or SIGINT is passed on to the
 * command, and firstping exits when the command does.
 *
 * With -l, the command's standard output and error go to that file,
 * each line prefixed with the CLOCK_MONOTONIC time it was read, in
 * milliseconds: the daemons' log lines, timed, for a breakdown.
 * Without -t nothing is pinged (a timed log only).
 *
 * usage: firstping [-t address] [-i interval ms] [-T timeout s]
 *        [-l log] command [argument ...]
 * Output: "pid P t0 T" (T: CLOCK_MONOTONIC ms), then with -t
 * "route_ms R reply_ms M" (-1 when none within the timeout).  Exit
 * status 0 when a reply came (or nothing was pinged).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>

#include <err.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* an ICMP echo header, ours: the libbsd overlay hides struct icmphdr */
struct echo {
	uint8_t		 type;		/* 8 request, 0 reply */
	uint8_t		 code;
	uint16_t	 sum;
	uint16_t	 id;
	uint16_t	 seq;
};
#define ECHO_REQUEST	8
#define ECHO_REPLY	0

static volatile sig_atomic_t	 gotsig;

static void
onsig(int sig)
{
	gotsig = sig;
}

static double
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint16_t
cksum(const void *p, size_t len)
{
	const uint8_t	*b = p;
	uint32_t	 s = 0;
	size_t		 i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons(~s & 0xffff);
}

static __attribute__((noreturn)) void
usage(void)
{
	fprintf(stderr, "usage: firstping [-t address] [-i interval ms] "
	    "[-T timeout s] [-l log] command [argument ...]\n");
	exit(2);
}

/* Copy complete lines from the pipe to the log, timed. */
static int
drain(int fd, FILE *log, char *line, size_t *len, size_t size)
{
	char	 b[4096];
	ssize_t	 n, i;

	if ((n = read(fd, b, sizeof(b))) <= 0)
		return n == -1 && errno == EAGAIN ? 0 : -1;
	for (i = 0; i < n; i++) {
		if (b[i] != '\n' && *len < size - 1) {
			line[(*len)++] = b[i];
			continue;
		}
		if (b[i] != '\n')
			continue;	/* too long: cut */
		line[*len] = '\0';
		fprintf(log, "%.1f %s\n", now_ms(), line);
		*len = 0;
	}
	fflush(log);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in	 dst, from;
	struct echo		 req;
	struct pollfd		 pfd[2];
	struct sigaction	 sa;
	socklen_t		 fromlen;
	FILE			*log = NULL;
	uint8_t			 buf[1500];
	char			 line[2048];
	size_t			 linelen = 0;
	double			 t0, next, route = -1, reply = -1, deadline;
	uint16_t		 id, seq = 0;
	pid_t			 pid;
	int			 ch, s = -1, status, interval = 10, timeout = 10;
	int			 pipefd[2] = { -1, -1 }, pinging, exited = 0;

	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	while ((ch = getopt(argc, argv, "+i:l:t:T:")) != -1) {
		switch (ch) {
		case 'i':
			interval = atoi(optarg);
			break;
		case 'l':
			if ((log = fopen(optarg, "w")) == NULL)
				err(1, "%s", optarg);
			break;
		case 't':
			if (inet_pton(AF_INET, optarg, &dst.sin_addr) != 1)
				errx(2, "bad address %s", optarg);
			break;
		case 'T':
			timeout = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || interval < 1 || timeout < 1)
		usage();
	pinging = dst.sin_addr.s_addr != 0;

	if (pinging && (s = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK,
	    IPPROTO_ICMP)) == -1)
		err(1, "socket");
	if (log != NULL && pipe2(pipefd, O_CLOEXEC) == -1)
		err(1, "pipe");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsig;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	id = getpid() & 0xffff;

	fflush(stdout);
	t0 = now_ms();
	if ((pid = fork()) == -1)
		err(1, "fork");
	if (pid == 0) {
		if (log != NULL && (dup2(pipefd[1], 1) == -1 ||
		    dup2(pipefd[1], 2) == -1))
			err(127, "dup2");
		execvp(argv[0], argv);
		err(127, "%s", argv[0]);
	}
	printf("pid %d t0 %.1f\n", (int)pid, t0);
	fflush(stdout);
	if (log != NULL) {
		close(pipefd[1]);
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	}

	next = t0;
	deadline = t0 + timeout * 1e3;
	pfd[0].fd = s;
	pfd[0].events = POLLIN;
	pfd[1].fd = log != NULL ? pipefd[0] : -1;
	pfd[1].events = POLLIN;
	while (!gotsig && !exited) {
		double	 t = now_ms();
		int	 wait = 1000;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			break;
		}
		if (pinging && (reply >= 0 || t >= deadline)) {
			printf("route_ms %.1f reply_ms %.1f\n", route, reply);
			fflush(stdout);
			close(s);
			pfd[0].fd = -1;
			pinging = 0;
		}
		if (pinging && t >= next) {
			memset(&req, 0, sizeof(req));
			req.type = ECHO_REQUEST;
			req.id = htons(id);
			req.seq = htons(++seq);
			req.sum = cksum(&req, sizeof(req));
			if (sendto(s, &req, sizeof(req), 0,
			    (struct sockaddr *)&dst, sizeof(dst)) ==
			    (ssize_t)sizeof(req) && route < 0)
				route = now_ms() - t0;
			next += interval;
			if (next < t)
				next = t + interval;
			continue;
		}
		if (pinging)
			wait = (int)(next - t) + 1;
		if (poll(pfd, 2, wait) <= 0)
			continue;
		if (pfd[1].fd != -1 && pfd[1].revents &&
		    drain(pfd[1].fd, log, line, &linelen, sizeof(line)) == -1)
			pfd[1].fd = -1;	/* EOF: keep waiting for the exit */
		if (pfd[0].fd == -1 || !(pfd[0].revents & POLLIN))
			continue;
		for (;;) {
			struct ip	*ip = (struct ip *)buf;
			struct echo	*ic;
			ssize_t		 n;
			size_t		 hl;

			fromlen = sizeof(from);
			n = recvfrom(s, buf, sizeof(buf), 0,
			    (struct sockaddr *)&from, &fromlen);
			if (n <= 0)
				break;
			hl = ip->ip_hl * 4;
			if ((size_t)n < hl + sizeof(*ic))
				continue;
			ic = (struct echo *)(buf + hl);
			if (ic->type == ECHO_REPLY && ntohs(ic->id) == id &&
			    from.sin_addr.s_addr == dst.sin_addr.s_addr) {
				reply = now_ms() - t0;
				break;
			}
		}
	}
	if (pinging) {
		printf("route_ms %.1f reply_ms %.1f\n", route, reply);
		fflush(stdout);
	}
	if (!exited && gotsig) {
		kill(pid, gotsig);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	if (pfd[1].fd != -1) {
		/* the rest of the log, until EOF or for 2 s at most */
		fcntl(pfd[1].fd, F_SETFL, 0);
		sigaction(SIGALRM, &sa, NULL);
		alarm(2);
		while (drain(pfd[1].fd, log, line, &linelen,
		    sizeof(line)) == 0)
			;
	}
	return dst.sin_addr.s_addr != 0 && reply < 0;
}
