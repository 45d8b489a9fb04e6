// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * storm: a loopback TCP connection-storm generator for `make bench`.
 *
 * One thread does everything, as fast as it goes, for a bounded time:
 *
 *   cycle       socket, connect to its own listener, accept, close the
 *               accepted end, close the connecting end
 *   refused     socket, connect to a port nobody listens on (refused), close
 *   concurrent  as cycle, but the newest N connections are kept open: each
 *               new connection closes the oldest one once N are open
 *
 * The accepted end is closed first, so the TIME_WAIT sockets are on the
 * listener's side and the client's ephemeral ports come free at once.
 *
 * With --stamps FILE it writes, for every Nth connection, the CLOCK_REALTIME
 * time taken just before connect() and the local port the kernel chose, one
 * "NS PORT" line each (written at the end, nothing is printed while running).
 * At the end one JSON line on stdout says what was done, with the CPU time
 * this process used from the first connection to the last close (getrusage:
 * user and system, which holds the BPF programs that run in its context and,
 * on loopback, most of the network stack's softirq work).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>

enum mode { MODE_CYCLE, MODE_REFUSED, MODE_CONCURRENT };

static const char *const mode_names[] = { "cycle", "refused", "concurrent" };

struct stamp {
	uint64_t ns;
	uint16_t port;
};

struct pair {
	int client;
	int server;
};

static struct {
	int family;
	enum mode mode;
	double seconds;
	long concurrency;
	const char *comm;
	const char *stamps;
	long stamp_every;
	int port;
} opt = {
	.family = 4,
	.mode = MODE_CYCLE,
	.seconds = 3.0,
	.concurrency = 1000,
	.comm = "tcpstorm",
	.stamp_every = 1,
	.port = 5000,
};

static struct {
	unsigned long long attempts;	/* connect() calls that reached the network */
	unsigned long long connections; /* established (cycle, concurrent) */
	unsigned long long refused;	/* ECONNREFUSED (refused mode) */
	unsigned long long errors;	/* anything else: socket/connect/accept failures */
	int first_errno;
} count;

static struct stamp *stamps;
static size_t nstamps, stamps_cap;
static volatile sig_atomic_t stopped;

static void on_signal(int sig)
{
	(void)sig;
	stopped = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: storm [--family 4|6] [--mode cycle|refused|concurrent] [--seconds S]\n"
		"             [--concurrency N] [--comm NAME] [--stamps FILE] [--stamp-every N]\n"
		"             [--port PORT]\n"
		"Loopback TCP connection storm for a bounded time; one JSON line at the end.\n");
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "storm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t rusage_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL + (uint64_t)tv->tv_usec * 1000ULL;
}

/* CPU time of this process so far, user and system apart, in ns. */
static void cpu_ns(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	*user = rusage_ns(&ru.ru_utime);
	*sys = rusage_ns(&ru.ru_stime);
}

static long parse_long(const char *s, const char *name, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "storm: bad %s '%s' (%ld..%ld)\n", name, s, min, max);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "family", required_argument, NULL, 'f' },
		{ "mode", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 's' },
		{ "concurrency", required_argument, NULL, 'n' },
		{ "comm", required_argument, NULL, 'c' },
		{ "stamps", required_argument, NULL, 'o' },
		{ "stamp-every", required_argument, NULL, 'e' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			opt.family = (int)parse_long(optarg, "--family", 4, 6);
			if (opt.family == 5) {
				fprintf(stderr, "storm: bad --family '5' (4 or 6)\n");
				exit(2);
			}
			break;
		case 'm':
			for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (i == sizeof(mode_names) / sizeof(mode_names[0])) {
				fprintf(stderr, "storm: bad --mode '%s'\n", optarg);
				exit(2);
			}
			opt.mode = (enum mode)i;
			break;
		case 's':
			errno = 0;
			opt.seconds = strtod(optarg, &end);
			if (errno || *end || end == optarg || !(opt.seconds > 0) ||
			    opt.seconds > 3600) {
				fprintf(stderr, "storm: bad --seconds '%s' (0..3600)\n", optarg);
				exit(2);
			}
			break;
		case 'n':
			opt.concurrency = parse_long(optarg, "--concurrency", 1, 1000000);
			break;
		case 'c':
			opt.comm = optarg;
			break;
		case 'o':
			opt.stamps = optarg;
			break;
		case 'e':
			opt.stamp_every = parse_long(optarg, "--stamp-every", 1, 1000000000);
			break;
		case 'p':
			opt.port = (int)parse_long(optarg, "--port", 1, 65534);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* The loopback address of the family, at port. */
static socklen_t make_addr(struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (opt.family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons((uint16_t)port);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;

	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a->sin_port = htons((uint16_t)port);
	return sizeof(*a);
}

static uint16_t addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static int make_listener(void)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(&ss, opt.port);
	int one = 1;
	int fd = socket(opt.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len))
		die("bind");
	if (listen(fd, 4096))
		die("listen");
	return fd;
}

static void add_stamp(uint64_t ns, uint16_t port)
{
	if (nstamps == stamps_cap) {
		size_t cap = stamps_cap ? stamps_cap * 2 : 65536;
		struct stamp *p = realloc(stamps, cap * sizeof(*p));

		if (!p)
			die("realloc");
		stamps = p;
		stamps_cap = cap;
	}
	stamps[nstamps].ns = ns;
	stamps[nstamps].port = port;
	nstamps++;
}

static void count_error(int err)
{
	if (!count.errors)
		count.first_errno = err;
	count.errors++;
}

/*
 * One connection to the listener: connected and accepted, or -1 (counted).
 * take_stamp: remember the time before connect() and the port chosen.
 */
static int open_pair(int lfd, const struct sockaddr_storage *dst, socklen_t dlen, bool take_stamp,
		     struct pair *p)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	uint64_t t = 0;
	int c, a;

	c = socket(opt.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c < 0) {
		count_error(errno);
		return -1;
	}
	if (take_stamp)
		t = clock_ns(CLOCK_REALTIME);
	if (connect(c, (const struct sockaddr *)dst, dlen)) {
		if (errno != EADDRNOTAVAIL)
			count.attempts++;
		count_error(errno);
		close(c);
		return -1;
	}
	count.attempts++;
	/* on loopback the handshake is done when connect() returns */
	a = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
	if (a < 0) {
		count_error(errno);
		close(c);
		return -1;
	}
	count.connections++;
	if (take_stamp)
		add_stamp(t, addr_port(&peer));
	p->client = c;
	p->server = a;
	return 0;
}

static void close_pair(struct pair *p)
{
	close(p->server); /* the listener's side goes to TIME_WAIT */
	close(p->client);
}

/* One connect to a closed port. */
static void refused_once(const struct sockaddr_storage *dst, socklen_t dlen, bool take_stamp)
{
	struct sockaddr_storage self;
	socklen_t slen = sizeof(self);
	uint64_t t = 0;
	int c = socket(opt.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (c < 0) {
		count_error(errno);
		return;
	}
	if (take_stamp)
		t = clock_ns(CLOCK_REALTIME);
	if (connect(c, (const struct sockaddr *)dst, dlen) == 0) {
		count.attempts++;
		count_error(0); /* somebody listens there */
	} else if (errno == ECONNREFUSED) {
		count.attempts++;
		count.refused++;
		/* the socket keeps its local port after the reset */
		if (take_stamp && !getsockname(c, (struct sockaddr *)&self, &slen))
			add_stamp(t, addr_port(&self));
	} else {
		if (errno != EADDRNOTAVAIL)
			count.attempts++;
		count_error(errno);
	}
	close(c);
}

static void raise_fd_limit(long need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < need) {
		fprintf(stderr,
			"storm: --concurrency %ld needs %ld file descriptors, limit is %ld\n",
			opt.concurrency, need, (long)rl.rlim_cur);
		exit(2);
	}
}

static void write_stamps(void)
{
	FILE *f;
	size_t i;

	if (!opt.stamps)
		return;
	f = fopen(opt.stamps, "w");
	if (!f)
		die(opt.stamps);
	for (i = 0; i < nstamps; i++)
		fprintf(f, "%llu %u\n", (unsigned long long)stamps[i].ns, stamps[i].port);
	if (fclose(f))
		die(opt.stamps);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sockaddr_storage dst;
	socklen_t dlen;
	struct pair *ring = NULL;
	size_t head = 0, open_pairs = 0;
	uint64_t t0, deadline, now, iter = 0;
	uint64_t user0, sys0, user1, sys1;
	double elapsed;
	int lfd = -1;

	parse_args(argc, argv);
	if (prctl(PR_SET_NAME, opt.comm, 0, 0, 0))
		die("prctl");
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (opt.mode == MODE_REFUSED) {
		dlen = make_addr(&dst, opt.port + 1); /* nobody listens there */
	} else {
		lfd = make_listener();
		dlen = make_addr(&dst, opt.port);
	}
	if (opt.mode == MODE_CONCURRENT) {
		raise_fd_limit(2 * opt.concurrency + 16);
		ring = calloc((size_t)opt.concurrency, sizeof(*ring));
		if (!ring)
			die("calloc");
	}
	if (opt.stamps) {
		/* room for a typical run up front: no realloc while storming */
		stamps_cap = (size_t)(opt.seconds * 60000 / (double)opt.stamp_every) + 1024;
		stamps = malloc(stamps_cap * sizeof(*stamps));
		if (!stamps)
			die("malloc");
	}

	cpu_ns(&user0, &sys0);
	t0 = clock_ns(CLOCK_MONOTONIC);
	deadline = t0 + (uint64_t)(opt.seconds * 1e9);
	now = t0;
	while (!stopped) {
		bool take_stamp = opt.stamps && iter % (uint64_t)opt.stamp_every == 0;

		/* the vDSO clock is cheap next to the syscalls: check every time */
		now = clock_ns(CLOCK_MONOTONIC);
		if (now >= deadline)
			break;
		iter++;
		switch (opt.mode) {
		case MODE_CYCLE: {
			struct pair p;

			if (!open_pair(lfd, &dst, dlen, take_stamp, &p))
				close_pair(&p);
			break;
		}
		case MODE_REFUSED:
			refused_once(&dst, dlen, take_stamp);
			break;
		case MODE_CONCURRENT:
			if (open_pairs == (size_t)opt.concurrency) {
				close_pair(&ring[head]);
				open_pairs--;
			}
			if (!open_pair(lfd, &dst, dlen, take_stamp, &ring[head])) {
				head = (head + 1) % (size_t)opt.concurrency;
				open_pairs++;
			}
			break;
		}
	}
	elapsed = (double)(now - t0) / 1e9;
	/* the connections still open are closed after the clock stopped */
	while (open_pairs > 0) {
		head = (head + (size_t)opt.concurrency - 1) % (size_t)opt.concurrency;
		close_pair(&ring[head]);
		open_pairs--;
	}
	if (lfd >= 0)
		close(lfd);
	cpu_ns(&user1, &sys1);
	write_stamps();

	printf("{\"family\":%d,\"mode\":\"%s\",\"concurrency\":%ld,\"comm\":\"%s\","
	       "\"seconds\":%.6f,\"attempts\":%llu,\"connections\":%llu,\"refused\":%llu,"
	       "\"errors\":%llu,\"first_error\":\"%s\",\"rate\":%.1f,\"stamps\":%zu,"
	       "\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f}\n",
	       opt.family, mode_names[opt.mode], opt.mode == MODE_CONCURRENT ? opt.concurrency : 0,
	       opt.comm, elapsed, count.attempts, count.connections, count.refused, count.errors,
	       count.errors ? strerror(count.first_errno) : "",
	       (double)(opt.mode == MODE_REFUSED ? count.refused : count.connections) / elapsed,
	       nstamps, (double)(user1 - user0) / 1e9, (double)(sys1 - sys0) / 1e9);
	free(ring);
	free(stamps);
	return 0;
}
