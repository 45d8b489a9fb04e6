// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * A tracing session (session.h): started after the checks and the load,
 * then the rings read in batches, signals, losses reported, teardown.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include "descriptions.h"
#include "loader.h"
#include "messages.h"
#include "preflight.h"
#include "session.h"

#define POLL_MS 10		   /* the longest an event waits in the ring while events come */
#define LOST_WARN_NS 1000000000ULL /* at most one loss warning a second */

struct session {
	struct loader loader;  /* the BPF object, its programs and links */
	struct user_maps maps; /* --cgroupmap, --mntnsmap */
	struct {
		tick_fn fn; /* NULL: none */
		void *ctx;
		__u64 period_ns, next_ns; /* next_ns 0: not tracing yet */
	} tick;				  /* session_every() */
	struct ring_buffer *rb;		  /* the events ring */
	struct ring_buffer *extra_rings;  /* the rings of session_add_ring() (NULL: none) */
	__u64 lost_reported[NLOSSES];
	__u64 misses, misses_read_ns; /* loader_misses(), as last read, and when */
	event_fn fn;
	void *ctx;
};

static __u64 now_ns(void);
static void catch_signals(void);
static int attached(void *ctx, char *why, size_t len);
static void unload(struct session *s);
static int read_extra_rings(struct session *s);
static int sleep_ms(struct session *s);
static int make_epoll(const struct session *s);
static int flush_out(void);
static void report_lost(struct session *s, __u64 *last_warn);
static void tick(struct session *s);
static __u64 lost_count(const struct session *s, enum loss l);
static void warn_lost(enum loss l, __u64 n, const char *total);

static volatile sig_atomic_t stop_signal; /* the signal that ends tracing, once caught */

int session_start(struct session **sp, const struct tool_desc *t, const struct opts *o,
		  const struct skel_ops *ops, event_fn fn, void *ctx)
{
	struct session *s = calloc(1, sizeof(*s));
	int rc;

	*sp = NULL;
	if (!s) {
		fprintf(stderr, "%s: out of memory\n", t->name);
		return 1;
	}
	s->fn = fn;
	s->ctx = ctx;
	messages_init(t->name, o->debug);
	loader_init(&s->loader, o, ops, &s->maps);
	s->loader.attached = attached;
	s->loader.attached_ctx = s;
	catch_signals();

	rc = preflight(o, &s->maps);
	if (!rc)
		rc = loader_attach(&s->loader);
	if (rc) {
		session_stop(s);
		return rc;
	}
	*sp = s;
	return 0;
}

void *session_skel(const struct session *s)
{
	return s->loader.skel;
}

enum attach_mode session_mode(const struct session *s)
{
	return s->loader.mode;
}

void session_detach_role(struct session *s, enum prog_role r)
{
	loader_detach_role(&s->loader, r);
}

void session_every(struct session *s, __u64 period_ns, tick_fn fn, void *ctx)
{
	s->tick.fn = fn;
	s->tick.ctx = ctx;
	s->tick.period_ns = period_ns;
	if (s->tick.next_ns)
		s->tick.next_ns = now_ns() + period_ns;
}

int session_add_ring(struct session *s, struct bpf_map *ring, ring_buffer_sample_fn fn, void *ctx)
{
	int fd = bpf_map__fd(ring);

	if (s->extra_rings)
		return ring_buffer__add(s->extra_rings, fd, fn, ctx) ? -1 : 0;
	s->extra_rings = ring_buffer__new(fd, fn, ctx, NULL);
	return s->extra_rings ? 0 : -1;
}

/*
 * While events come, the rings are drained every POLL_MS (a batch at a
 * time, no wakeup per event). Once a drain finds nothing, the loop sleeps
 * with no timer until the next event wakes it (sleep_ms()).
 */
int session_run(struct session *s)
{
	__u64 last_warn = 0;
	int ep, err, rc = 0, timeout = POLL_MS;

	ep = make_epoll(s);
	if (ep < 0)
		return print_error(1, "cannot poll the ring buffer (%s)", strerror(errno));
	s->tick.next_ns = now_ns() + s->tick.period_ns;
	while (!stop_signal) {
		struct epoll_event evs[3];
		int n = epoll_wait(ep, evs, 3, timeout), i, got;
		bool out_gone = false;

		if (n < 0 && errno != EINTR) {
			rc = print_error(1, "polling failed (%s)", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			out_gone |= evs[i].data.fd == STDOUT_FILENO;
		got = read_extra_rings(s); /* on the timer: their records wake nobody early */
		if ((n = ring_buffer__consume(s->rb)) < 0 && !stop_signal) {
			rc = print_error(1, "reading the ring buffer failed");
			break;
		}
		got += n > 0 ? n : 0;
		if ((err = flush_out()) || out_gone) {
			rc = err < 0; /* nobody reads any more: leave quietly */
			goto out;
		}
		report_lost(s, &last_warn);
		tick(s);
		timeout = got ? POLL_MS : sleep_ms(s);
	}
	read_extra_rings(s);
	ring_buffer__consume(s->rb);
	rc |= flush_out() < 0;
out:
	close(ep);
	return rc;
}

int session_deliver(struct session *s, const struct event *e)
{
	return s->fn(s->ctx, e);
}

void session_detach(struct session *s)
{
	loader_detach(&s->loader);
}

void session_stop(struct session *s)
{
	__u64 lost[NLOSSES];
	int l;

	if (!s)
		return;
	s->misses = loader_misses(&s->loader);
	for (l = 0; l < NLOSSES; l++)
		lost[l] = lost_count(s, l);

	unload(s);
	user_maps_close(&s->maps);
	for (l = 0; l < NLOSSES; l++)
		if (lost[l])
			warn_lost(l, lost[l], " in total");
	free(s);
}

int output_failed(const char *tool, int err)
{
	if (err == EPIPE)
		return 0;
	fprintf(stderr, "%s: cannot write the output (%s)\n", tool, strerror(err));
	return 1;
}

/* 0; 1 once stdout's reader is gone (a closed pipe); -1 if writing failed. */
static int flush_out(void)
{
	if (fflush(stdout) == 0)
		return 0;
	return output_failed(tool_name(), errno) ? -1 : 1;
}

/* ---- the parts: signals, rings, the loop's steps, losses ---- */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static void on_signal(int sig)
{
	if (stop_signal) /* a second signal: leave at once (links go with the process) */
		_exit(128 + sig);
	stop_signal = sig;
}

/* From here on a signal ends tracing cleanly instead of killing us. */
static void catch_signals(void)
{
	/* SA_RESTART: a write to a slow reader resumes; epoll_wait still returns */
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/*
 * Hand every record waiting in the rings of session_add_ring() to its fn;
 * how many there were.
 */
static int read_extra_rings(struct session *s)
{
	int n = s->extra_rings ? ring_buffer__consume(s->extra_rings) : 0;

	return n > 0 ? n : 0;
}

/* Has a loss not been reported yet (report_lost() says it at most once a second)? */
static bool loss_unreported(const struct session *s)
{
	int l;

	for (l = 0; l < NLOSSES; l++)
		if (lost_count(s, l) != s->lost_reported[l])
			return true;
	return false;
}

/*
 * How long the loop may sleep once a drain found the rings empty: with no
 * timer (-1), or until session_every()'s next call; POLL_MS while a loss
 * waits to be reported, or when an event came in the meantime. It tells
 * the BPF side first (reader_asleep: the next event wakes it, core.bpf.h's
 * wake_reader()) and then drains the rings once more, so that an event
 * committed before the BPF side could see the flag is read now, not at
 * the next one.
 */
static int sleep_ms(struct session *s)
{
	__u32 *asleep = s->loader.ops->asleep(s->loader.skel);
	__u64 now;
	int n;

	if (loss_unreported(s))
		return POLL_MS;
	__atomic_store_n(asleep, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* the flag, then the rings */
	n = read_extra_rings(s);
	if (ring_buffer__consume(s->rb) > 0 || n) {
		__atomic_store_n(asleep, 0, __ATOMIC_RELAXED);
		return POLL_MS;
	}
	if (!s->tick.fn)
		return -1;
	now = now_ns();
	return s->tick.next_ns > now ? (int)((s->tick.next_ns - now + 999999) / 1000000) : 0;
}

/*
 * An event, from the events ring: what the extra rings hold by now goes
 * first (tcpconnect -d: the answer that names its destination).
 */
static int on_sample(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (size < sizeof(struct event) ||
	    (((const struct event *)data)->flags & EVF_MORE && size < sizeof(struct event_more)))
		return 0;
	read_extra_rings(s);
	return s->fn(s->ctx, data);
}

/* Once a mode's programs are attached: the events ring. */
static int attached(void *ctx, char *why, size_t len)
{
	struct session *s = ctx;
	struct core_maps maps = s->loader.ops->core_maps(s->loader.skel);

	s->rb = ring_buffer__new(bpf_map__fd(maps.events), on_sample, s, NULL);
	if (!s->rb) {
		snprintf(why, len, "cannot open the ring buffer (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

/* The rings, then the BPF object. */
static void unload(struct session *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	ring_buffer__free(s->extra_rings);
	s->extra_rings = NULL;
	loader_unload(&s->loader);
}

/* What each cause of loss means, said in its warnings. */
static const struct {
	const char *what;  /* "N <what>" */
	const char *cause; /* "(<cause>)" */
	const char *means; /* ": <means>", or NULL */
} losses[NLOSSES] = {
	[LOSS_EVENTS] = { "events lost", "ring buffer full", NULL },
	[LOSS_TRACKING] = { "connections not tracked", "tracking map full",
			    "their rows are missing" },
	[LOSS_COUNTS] = { "connects not counted", "count table full", NULL },
	[LOSS_DNS] = { "DNS responses lost", "DNS ring full", "QUERY may be missing" },
	[LOSS_MISSED] = { "program runs skipped by the kernel",
			  "another BPF program was running on that CPU", "rows may be missing" },
};

static __u64 lost_count(const struct session *s, enum loss l)
{
	volatile __u64 *n;

	if (l == LOSS_MISSED)
		return s->misses;
	n = s->loader.skel ? s->loader.ops->lost(s->loader.skel, l) : NULL;

	return n ? *n : 0;
}

static void warn_lost(enum loss l, __u64 n, const char *total)
{
	fprintf(stderr, "WARNING: %llu %s%s (%s)%s%s\n", (unsigned long long)n, losses[l].what,
		total, losses[l].cause, losses[l].means ? ": " : "",
		losses[l].means ? losses[l].means : "");
}

static void report_lost(struct session *s, __u64 *last_warn)
{
	__u64 now = now_ns();
	bool warned = false;
	int l;

	if (now - *last_warn < LOST_WARN_NS)
		return;
	if (now - s->misses_read_ns >= LOST_WARN_NS) { /* a system call per program */
		s->misses = loader_misses(&s->loader);
		s->misses_read_ns = now;
	}
	for (l = 0; l < NLOSSES; l++) {
		__u64 lost = lost_count(s, l);

		if (lost == s->lost_reported[l])
			continue;
		warn_lost(l, lost - s->lost_reported[l], "");
		s->lost_reported[l] = lost;
		warned = true;
	}
	if (warned)
		*last_warn = now;
}

static int make_epoll(const struct session *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -1;
	ev.data.fd = ring_buffer__epoll_fd(s->rb);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
		close(ep);
		return -1;
	}
	if (s->extra_rings) {
		ev.data.fd = ring_buffer__epoll_fd(s->extra_rings);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev)) {
			close(ep);
			return -1;
		}
	}
	/* stdout's reader going away (| head) wakes us even when idle */
	ev.events = 0;
	ev.data.fd = STDOUT_FILENO;
	epoll_ctl(ep, EPOLL_CTL_ADD, STDOUT_FILENO, &ev); /* fails for files: fine */
	return ep;
}

/* session_every()'s callback, when its time has come */
static void tick(struct session *s)
{
	tick_fn fn = s->tick.fn;
	__u64 now;

	if (!fn || (now = now_ns()) < s->tick.next_ns)
		return;
	s->tick.next_ns = now + s->tick.period_ns;
	if (!fn(s, s->tick.ctx) && s->tick.fn == fn) /* it may have set another */
		s->tick.fn = NULL;
}
