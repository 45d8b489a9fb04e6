// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The runtime every tool shares: privilege and map checks, loading in an
 * attach mode (with fallback for auto), the ring-buffer consumer, signals,
 * loss reporting and teardown.
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
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "descriptions.h"
#include "diagnose.h"
#include "kernel.h"
#include "messages.h"
#include "mounts.h"
#include "preflight.h"
#include "session.h"
#include "waiters.h"

#define POLL_MS 10		       /* the longest an event waits in the ring when idle */
#define LOST_WARN_NS 1000000000ULL     /* at most one loss warning a second */
#define WAITERS_PRUNE_NS 1000000000ULL /* accept_waiters looked at once a second */

#ifndef MAX_LINKS    /* a test builds with -DMAX_LINKS=1 */
#define MAX_LINKS 16 /* room for the programs of one attach mode */
#endif

struct session {
	const struct tool_desc *tool;
	const struct opts *opts;
	const struct skel_ops *ops;
	void *skel; /* the loaded and attached skeleton */
	struct bpf_object *obj;
	enum attach_mode mode; /* the mode in use */
	struct bpf_link *links[MAX_LINKS];
	struct bpf_program *linked[MAX_LINKS]; /* the program of each link */
	int nlinks;
	int waiters_fd;		     /* accept_waiters while the syscall exits wait on it, or -1 */
	struct ring_buffer *rb;	     /* the events ring */
	struct ring_buffer *side_rb; /* the rings of session_add_ring() (NULL: none) */
	struct user_maps maps;	     /* --cgroupmap, --mntnsmap */
	int cgroup_root_fd;	     /* the cgroup2 root a cgroup_skb program attaches to */
	__u64 lost_reported[NLOSSES];
	event_fn fn;
	void *ctx;
};

static volatile sig_atomic_t stop_signal;

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

static bool libbpf_verbose;

/* --debug shows everything libbpf says */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return libbpf_verbose ? vfprintf(stderr, fmt, ap) : 0;
}

/* ---- loading and attaching ---- */

/*
 * Does program p belong to mode m? By its type, except that programs named
 * all_* belong to every mode.
 */
static bool prog_in_mode(const struct bpf_program *p, enum attach_mode m)
{
	enum bpf_attach_type at = bpf_program__expected_attach_type(p);

	if (!strncmp(bpf_program__name(p), "all_", 4))
		return true;
	switch (bpf_program__type(p)) {
	case BPF_PROG_TYPE_KPROBE:
		return m == ATTACH_KPROBE;
	case BPF_PROG_TYPE_TRACING:
		if (at == BPF_TRACE_FENTRY || at == BPF_TRACE_FEXIT)
			return m == ATTACH_FENTRY;
		return m == ATTACH_TRACEPOINT;
	default:
		return m == ATTACH_TRACEPOINT;
	}
}

static struct bpf_link *attach_prog(struct session *s, struct bpf_program *p)
{
	if (bpf_program__type(p) != BPF_PROG_TYPE_CGROUP_SKB)
		return bpf_program__attach(p);
	return bpf_program__attach_cgroup(p, s->cgroup_root_fd);
}

void session_detach(struct session *s)
{
	while (s->nlinks > 0)
		bpf_link__destroy(s->links[--s->nlinks]);
}

static void detach(struct session *s)
{
	ring_buffer__free(s->rb);
	s->rb = NULL;
	ring_buffer__free(s->side_rb);
	s->side_rb = NULL;
	session_detach(s);
	if (s->skel)
		s->ops->destroy(s->skel);
	s->skel = NULL;
	s->obj = NULL;
	if (s->cgroup_root_fd >= 0)
		close(s->cgroup_root_fd);
	s->cgroup_root_fd = -1;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (size < sizeof(struct event))
		return 0;
	return s->fn(s->ctx, data);
}

static int fill_ports(struct session *s)
{
	struct bpf_map *m = bpf_object__find_map_by_name(s->obj, "ports");
	__u8 one = 1;
	int i;

	for (i = 0; i < s->opts->nports; i++)
		if (bpf_map__update_elem(m, &s->opts->ports[i], sizeof(__u16), &one, 1, BPF_ANY))
			return -1;
	return 0;
}

static int configure(struct session *s)
{
	const struct opts *o = s->opts;
	struct config *cfg = s->ops->config(s->skel);
	struct bpf_map *m;

	*cfg = o->cfg;
	cfg->accept_hooked = s->mode == ATTACH_FENTRY || s->mode == ATTACH_KPROBE;
	cfg->no_kernel_btf = getenv(BTF_ENV) != NULL;
	cfg->nr_accept = SYS_accept;
	cfg->nr_accept4 = SYS_accept4;
	/* before 6.1 a tracing program's hash maps must be preallocated (kernel.h) */
	if (!kernel_runtime_alloc_ok())
		bpf_object__for_each_map (m, s->obj)
			if (bpf_map__type(m) == BPF_MAP_TYPE_HASH &&
			    bpf_map__set_map_flags(m, bpf_map__map_flags(m) &
							      ~(__u32)BPF_F_NO_PREALLOC))
				return -1;
	cfg->filter_cgroup = s->maps.cgroup_fd >= 0;
	cfg->filter_mntns = s->maps.mntns_fd >= 0;
	m = bpf_object__find_map_by_name(s->obj, "ports");
	if (o->nports && bpf_map__set_max_entries(m, (__u32)o->nports))
		return -1;
	m = bpf_object__find_map_by_name(s->obj, "cgroup_filter");
	if (s->maps.cgroup_fd >= 0 && bpf_map__reuse_fd(m, s->maps.cgroup_fd))
		return -1;
	m = bpf_object__find_map_by_name(s->obj, "mntns_filter");
	if (s->maps.mntns_fd >= 0 && bpf_map__reuse_fd(m, s->maps.mntns_fd))
		return -1;
	return 0;
}

/* Is p attached through perf_event_open() (kprobes, classic tracepoints)? */
static bool uses_perf_event(const struct bpf_program *p)
{
	return bpf_program__type(p) == BPF_PROG_TYPE_KPROBE ||
	       bpf_program__type(p) == BPF_PROG_TYPE_TRACEPOINT;
}

/*
 * The verifier's log of each program chosen, in a buffer of its own: with
 * a buffer and log level 0, libbpf retries a failed load with level 1 into
 * it, so the failing program is the one whose buffer has text. libbpf's own
 * size: a log cut short would change the error to ENOSPC. The buffers are
 * one mapping whose pages the kernel touches only where it writes.
 */
#define LOG_BYTES ((size_t)UINT32_MAX >> 8)

static char *give_logs(struct bpf_object *obj, size_t *bytes)
{
	struct bpf_program *p;
	size_t n = 0;
	char *logs;

	bpf_object__for_each_program (p, obj)
		n += bpf_program__autoload(p);
	*bytes = n * LOG_BYTES;
	logs = mmap(NULL, *bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (logs == MAP_FAILED) /* libbpf then prints the logs itself, and none is named */
		return NULL;
	n = 0;
	bpf_object__for_each_program (p, obj)
		if (bpf_program__autoload(p))
			bpf_program__set_log_buf(p, logs + n++ * LOG_BYTES, LOG_BYTES);
	return logs;
}

/* The program whose log has text, with --debug's copy of the log; or NULL. */
static struct bpf_program *logged_failure(struct bpf_object *obj)
{
	struct bpf_program *p;

	bpf_object__for_each_program (p, obj) {
		size_t size;
		const char *log = bpf_program__log_buf(p, &size);

		if (!log || !log[0])
			continue;
		debug_line("program %s, the verifier's log:", bpf_program__name(p));
		if (debug_on())
			fputs(log, stderr);
		return p;
	}
	return NULL;
}

/* What is known of why loading failed with err. */
static void gather_load_facts(struct bpf_object *obj, enum attach_mode m, int err,
			      struct load_facts *f)
{
	struct bpf_program *failed = logged_failure(obj), *p;
	struct rlimit rl;
	size_t size;

	f->err = err;
	f->mode = m;
	f->release = kernel_release();
	/* before 5.11 the kernel charges BPF maps and programs to the memlock limit */
	f->memlock_charged = !kernel_at_least(5, 11);
	f->can_raise_memlock = have_cap(CAP_SYS_RESOURCE);
	f->memlock_limit = !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY
				   ? (long long)rl.rlim_cur
				   : -1;
#ifdef __aarch64__
	f->no_trampolines = !kernel_at_least(6, 4); /* arm64 has them from 6.4 */
#endif
	if (failed) {
		f->prog = bpf_program__name(failed);
		f->log = bpf_program__log_buf(failed, &size);
		return;
	}
	bpf_object__for_each_program (p, obj) {
		enum bpf_attach_type at = bpf_program__expected_attach_type(p);
		const char *target = strchr(bpf_program__section_name(p), '/');

		if (!bpf_program__autoload(p))
			continue;
		/*
		 * libbpf found no such function in the kernel's BTF, and loaded
		 * nothing (Debian 11's arm64 5.10 has no tcp_v6_connect there)
		 */
		if (m == ATTACH_FENTRY && err == -ESRCH && !f->missing_func && target &&
		    bpf_program__type(p) == BPF_PROG_TYPE_TRACING &&
		    (at == BPF_TRACE_FENTRY || at == BPF_TRACE_FEXIT) &&
		    libbpf_find_vmlinux_btf_id(target + 1, at) < 0)
			f->missing_func = target + 1;
		if (!f->unsupported_prog &&
		    libbpf_probe_bpf_prog_type(bpf_program__type(p), NULL) == 0)
			f->unsupported_prog = bpf_program__name(p);
	}
}

/* The accept syscall exits (accept.bpf.h): their programs' names begin so */
#define ACCEPT_EXITS "all_sys_exit_"

/*
 * Which kind of accept syscall exits to load: the classic tracepoints of
 * accept(2) and accept4(2) where tracefs and perf_event_open() serve, else
 * the raw tracepoint of every syscall's exit, which bpf() attaches alone,
 * with CAP_BPF and CAP_PERFMON. The raw one runs at every syscall of the
 * machine (a compare and a return at the others): README's Overhead gives
 * what that costs against the classic ones.
 */
static bool raw_exits(void)
{
	bool admin = have_cap(CAP_SYS_ADMIN);
	const char *dir;
	int state;

	/* Debian's and Ubuntu's level 3: perf_event_open() only for CAP_SYS_ADMIN */
	if (!admin && paranoid_level() > 2)
		return true;
	state = tracefs_state(&dir);
	/* not mounted: the tool mounts it only with CAP_SYS_ADMIN */
	return state == EACCES || (state == ENOENT && !admin);
}

/* Is p an accept syscall exit of the kind not chosen (raw: the raw one)? */
static bool other_exit_kind(const struct bpf_program *p, bool raw)
{
	if (strncmp(bpf_program__name(p), ACCEPT_EXITS, sizeof(ACCEPT_EXITS) - 1) != 0)
		return false;
	return (bpf_program__type(p) == BPF_PROG_TYPE_TRACING) != raw;
}

/*
 * Open the BPF object and choose the programs of mode m (and those the
 * tool's want_prog keeps); mount what attaching them will need, before the
 * work of loading. Returns the number of programs chosen, or -1.
 */
static int open_in_mode(struct session *s, enum attach_mode m, char *why, size_t len)
{
	struct bpf_object_open_opts oo = {
		.sz = sizeof(oo),
		.btf_custom_path = getenv(BTF_ENV),
	};
	bool need_tracefs = false, need_cgroup = false, need_btf = false, raw = raw_exits();
	struct bpf_program *p;
	int nprogs = 0;

	s->mode = m;
	s->skel = s->ops->open(&oo);
	if (!s->skel) {
		snprintf(why, len, "cannot open the BPF object (%s)", strerror(errno));
		return -1;
	}
	s->obj = s->ops->object(s->skel);
	if (configure(s)) {
		snprintf(why, len, "cannot set up the BPF maps (%s)", strerror(errno));
		return -1;
	}
	bpf_object__for_each_program (p, s->obj) {
		bool on =
			prog_in_mode(p, m) && !other_exit_kind(p, raw) &&
			(!s->tool->want_prog || s->tool->want_prog(s->opts, bpf_program__name(p)));

		bpf_program__set_autoload(p, on);
		nprogs += on;
		need_tracefs |= on && bpf_program__type(p) == BPF_PROG_TYPE_TRACEPOINT;
		need_cgroup |= on && bpf_program__type(p) == BPF_PROG_TYPE_CGROUP_SKB;
		need_btf |= on && bpf_program__type(p) == BPF_PROG_TYPE_TRACING;
	}
	/* fentry and tp_btf programs are attached by the kernel's BTF ids */
	if (need_btf && access(KERNEL_BTF, R_OK)) {
		snprintf(why, len,
			 "its fentry and tp_btf programs attach through the kernel's own BTF, "
			 "which it does not expose at %s (%s); %s serves kprobes and classic "
			 "tracepoints only",
			 KERNEL_BTF, strerror(errno), BTF_ENV);
		return -1;
	}
	if (need_tracefs && ensure_tracefs(why, len))
		return -1;
	if (need_cgroup && (s->cgroup_root_fd = cgroup2_root(why, len)) < 0)
		return -1;
	return nprogs;
}

/* Load (the verifier runs here) and fill the maps userspace fills. */
static int load_in_mode(struct session *s, enum attach_mode m, char *why, size_t len)
{
	int err;

	size_t log_bytes;
	char *logs = give_logs(s->obj, &log_bytes);

	err = s->ops->load(s->skel);
	if (err) {
		struct load_facts f = { 0 };

		gather_load_facts(s->obj, m, err, &f);
		explain_load_failure(&f, why, len);
	}
	if (logs)
		munmap(logs, log_bytes);
	if (err)
		return -1;
	if (fill_ports(s)) {
		snprintf(why, len, "cannot fill the port filter map (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

/* Why program p of mode m did not attach (with -err, the errno). */
static void attach_failure(enum attach_mode m, const struct bpf_program *p, int err, char *why,
			   size_t len)
{
	struct attach_facts f = {
		.err = err,
		.mode = m,
		.release = kernel_release(),
		.has_kprobes = kernel_has_kprobes(),
		.section = bpf_program__section_name(p),
		.via_perf_event = uses_perf_event(p),
		.paranoid = paranoid_level(),
	};

	explain_attach_failure(&f, why, len);
}

/* Attach every loaded program, then open the events ring. */
static int attach_loaded(struct session *s, enum attach_mode m, char *why, size_t len)
{
	struct bpf_program *p;

	bpf_object__for_each_program (p, s->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(p))
			continue;
		if (s->nlinks >= MAX_LINKS) {
			snprintf(why, len,
				 "cannot attach %s: this mode has more programs than the %d links "
				 "tcptools keeps (a bug in tcptools: raise MAX_LINKS)",
				 bpf_program__name(p), MAX_LINKS);
			return -1;
		}
		l = attach_prog(s, p);
		if (!l) {
			attach_failure(m, p, -errno, why, len);
			return -1;
		}
		s->linked[s->nlinks] = p;
		s->links[s->nlinks++] = l;
	}
	s->rb = ring_buffer__new(bpf_object__find_map_fd_by_name(s->obj, "events"), on_sample, s,
				 NULL);
	if (!s->rb) {
		snprintf(why, len, "cannot open the ring buffer (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The syscall exits of accept(2) (programs all_sys_exit_accept*), which
 * slow every system call while attached, are needed in fentry mode only
 * until the accepts begun before tracing have returned (accept_waiters in
 * accept.bpf.h): detach them. (kprobe mode keeps them: they also catch the
 * accepts its kretprobe misses.)
 */
static void detach_accept_exits(struct session *s)
{
	int i, n = 0;

	for (i = 0; i < s->nlinks; i++) {
		if (!strncmp(bpf_program__name(s->linked[i]), ACCEPT_EXITS,
			     sizeof(ACCEPT_EXITS) - 1)) {
			bpf_link__destroy(s->links[i]);
			continue;
		}
		s->linked[n] = s->linked[i];
		s->links[n++] = s->links[i];
	}
	s->nlinks = n;
	s->waiters_fd = -1;
	debug_line("accept syscall exits detached: no accept begun before tracing is left");
}

#define PROC_PID_INIT_INO 0xEFFFFFFCU /* the initial PID namespace's inode number */

/* Does /proc show the initial PID namespace, with us in it? */
static bool in_initial_pidns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && st.st_ino == PROC_PID_INIT_INO;
}

/* List the accept waiters, once attached (fentry mode). */
static void watch_accept_waiters(struct session *s)
{
	int map_fd = bpf_object__find_map_fd_by_name(s->obj, "accept_waiters");
	int flag_fd = bpf_object__find_map_fd_by_name(s->obj, "waiters_listed");
	__u32 zero = 0;
	__u8 one = 1;
	int n;

	if (s->mode != ATTACH_FENTRY || map_fd < 0 || flag_fd < 0)
		return;
	/*
	 * Every thread of the machine must be visible: in a PID namespace of
	 * its own, or without the right to read other users' threads
	 * (hidepid), the tool keeps the exits.
	 */
	if (!in_initial_pidns() || !have_cap(CAP_SYS_PTRACE)) {
		debug_line("accept waiters cannot all be seen (a PID namespace of our own, or no "
			   "CAP_SYS_PTRACE): the syscall exits stay");
		return;
	}
	n = waiters_list(map_fd);
	/* unlisted, the exits go on finishing every accept, as in tracepoint mode */
	if (n < 0 || bpf_map_update_elem(flag_fd, &zero, &one, BPF_ANY)) {
		debug_line("accept waiters not listed: the syscall exits stay");
		return;
	}
	debug_line("%d threads may be in an accept begun before tracing", n);
	s->waiters_fd = map_fd;
	if (n == 0)
		detach_accept_exits(s);
}

/* Load and attach the programs of mode m. On failure, why says why. */
static int try_mode(struct session *s, enum attach_mode m, char *why, size_t len)
{
	int nprogs = open_in_mode(s, m, why, len);

	if (nprogs < 0 || load_in_mode(s, m, why, len))
		goto out;
	debug_line("%s: %d programs loaded (verifier passed)", attach_mode_name(m), nprogs);
	if (attach_loaded(s, m, why, len))
		goto out;
	watch_accept_waiters(s);
	return 0;
out:
	detach(s);
	return -1;
}

static int attach_some_mode(struct session *s)
{
	static const enum attach_mode order[] = { ATTACH_FENTRY, ATTACH_KPROBE, ATTACH_TRACEPOINT };
	char why[3][512];
	size_t i;

	if (s->opts->mode != ATTACH_AUTO) {
		if (try_mode(s, s->opts->mode, why[0], sizeof(why[0])))
			return print_error(1, "--attach %s: %s", attach_mode_name(s->opts->mode),
					   why[0]);
		debug_line("attach mode: %s", attach_mode_name(s->mode));
		return 0;
	}
	for (i = 0; i < 3; i++) {
		/* known before loading: no time spent verifying what cannot attach */
		if (order[i] == ATTACH_KPROBE && !kernel_has_kprobes()) {
			snprintf(why[i], sizeof(why[i]), "%s", NO_KPROBES);
			debug_line("kprobe mode unavailable: %s", why[i]);
			continue;
		}
		if (!try_mode(s, order[i], why[i], sizeof(why[i]))) {
			debug_line("attach mode: %s (auto)", attach_mode_name(s->mode));
			return 0;
		}
		debug_line("%s mode unavailable: %s", attach_mode_name(order[i]), why[i]);
	}
	return print_error(1,
			   "no attach mode works here: fentry: %s; kprobe: %s; "
			   "tracepoint: %s",
			   why[0], why[1], why[2]);
}

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
	s->tool = t;
	s->opts = o;
	s->ops = ops;
	s->fn = fn;
	s->ctx = ctx;
	s->maps.cgroup_fd = -1;
	s->maps.mntns_fd = -1;
	s->cgroup_root_fd = -1;
	s->waiters_fd = -1;
	messages_init(t->name, o->debug);
	libbpf_verbose = o->debug;
	libbpf_set_print(libbpf_print);
	catch_signals();

	rc = preflight(o, &s->maps);
	if (!rc)
		rc = attach_some_mode(s);
	if (rc) {
		session_stop(s);
		return rc;
	}
	*sp = s;
	return 0;
}

struct bpf_map *session_map(const struct session *s, const char *name)
{
	return bpf_object__find_map_by_name(s->obj, name);
}

int session_add_ring(struct session *s, const char *name, ring_buffer_sample_fn fn, void *ctx)
{
	int fd = bpf_object__find_map_fd_by_name(s->obj, name);

	if (fd < 0) {
		errno = ENOENT;
		return -1;
	}
	if (s->side_rb)
		return ring_buffer__add(s->side_rb, fd, fn, ctx) ? -1 : 0;
	s->side_rb = ring_buffer__new(fd, fn, ctx, NULL);
	return s->side_rb ? 0 : -1;
}

void session_read_rings(struct session *s)
{
	if (s->side_rb)
		ring_buffer__consume(s->side_rb);
}

/* ---- consuming ---- */

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
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
};

static __u64 lost_count(const struct session *s, enum loss l)
{
	volatile __u64 *n = s->skel ? s->ops->lost(s->skel, l) : NULL;

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

int output_failed(const char *tool, int err)
{
	if (err == EPIPE)
		return 0;
	fprintf(stderr, "%s: cannot write the output (%s)\n", tool, strerror(err));
	return 1;
}

/* 0; 1 once stdout's reader is gone (a closed pipe); -1 if writing failed. */
static int flush_out(const struct session *s)
{
	if (fflush(stdout) == 0)
		return 0;
	return output_failed(s->tool->name, errno) ? -1 : 1;
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
	if (s->side_rb) {
		ev.data.fd = ring_buffer__epoll_fd(s->side_rb);
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

int session_run(struct session *s)
{
	__u64 last_warn = 0, last_prune = now_ns();
	int ep, err, rc = 0;

	ep = make_epoll(s);
	if (ep < 0)
		return print_error(1, "cannot poll the ring buffer (%s)", strerror(errno));
	while (!stop_signal) {
		struct epoll_event evs[3];
		int n = epoll_wait(ep, evs, 3, POLL_MS), i;
		bool out_gone = false;

		if (n < 0 && errno != EINTR) {
			rc = print_error(1, "polling failed (%s)", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++)
			out_gone |= evs[i].data.fd == STDOUT_FILENO;
		session_read_rings(s); /* on the timer: side rings wake nobody early */
		if (ring_buffer__consume(s->rb) < 0 && !stop_signal) {
			rc = print_error(1, "reading the ring buffer failed");
			break;
		}
		if ((err = flush_out(s)) || out_gone) {
			rc = err < 0; /* nobody reads any more: leave quietly */
			goto out;
		}
		report_lost(s, &last_warn);
		if (s->waiters_fd >= 0 && now_ns() - last_prune >= WAITERS_PRUNE_NS) {
			last_prune = now_ns();
			if (waiters_prune(s->waiters_fd) == 0)
				detach_accept_exits(s);
		}
	}
	session_read_rings(s);
	ring_buffer__consume(s->rb);
	rc |= flush_out(s) < 0;
out:
	close(ep);
	return rc;
}

void session_stop(struct session *s)
{
	__u64 lost[NLOSSES];
	int l;

	if (!s)
		return;
	for (l = 0; l < NLOSSES; l++)
		lost[l] = lost_count(s, l);

	detach(s);
	user_maps_close(&s->maps);
	for (l = 0; l < NLOSSES; l++)
		if (lost[l])
			warn_lost(l, lost[l], " in total");
	free(s);
}
