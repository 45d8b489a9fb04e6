// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#define _GNU_SOURCE /* vasprintf */
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "descriptions.h"
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

/*
 * What libbpf said of the program that failed to load, kept while loading
 * so that a failure can be named: the verifier rejecting one of our
 * programs (it left a log), or the kernel refusing the kind of program.
 */
static struct {
	bool on;
	char prog[64];	   /* the program that failed ("" if none did) */
	char verdict[200]; /* the verifier's error line ("" if it gave no log) */
} load_log;

/* The verifier's error: the last line of its log before its statistics. */
static void keep_verdict(const char *log)
{
	const char *line = log, *nl;

	load_log.verdict[0] = '\0';
	for (; *line; line = nl + 1) {
		size_t n;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		n = (size_t)(nl - line);
		if (!strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17) ||
		    !strncmp(line, "-- END PROG LOAD LOG", 20))
			break;
		/* "; ..." lines quote our source, not the verifier's complaint */
		if (n && strncmp(line, "; ", 2) != 0 && n < sizeof(load_log.verdict))
			snprintf(load_log.verdict, sizeof(load_log.verdict), "%.*s", (int)n, line);
		if (!*nl)
			break;
	}
}

static void capture(const char *msg)
{
	static const char begin[] = "-- BEGIN PROG LOAD LOG --\n";
	const char *p = strstr(msg, "libbpf: prog '");

	if (!p || (!strstr(p, "': BPF program load failed: ") && !strstr(p, begin)))
		return;
	if (sscanf(p, "libbpf: prog '%63[^']'", load_log.prog) != 1)
		load_log.prog[0] = '\0';
	p = strstr(p, begin);
	if (p)
		keep_verdict(p + sizeof(begin) - 1);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	int n = 0;

	(void)level;
	if (load_log.on) {
		char *msg;
		va_list aq;

		va_copy(aq, ap);
		if (vasprintf(&msg, fmt, aq) >= 0) {
			capture(msg);
			free(msg);
		}
		va_end(aq);
	}
	if (libbpf_verbose)
		n = vfprintf(stderr, fmt, ap);
	return n;
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

#define NO_KPROBES "this kernel has no kprobe support (CONFIG_KPROBES is not set)"

/* Is p attached through perf_event_open() (kprobes, classic tracepoints)? */
static bool uses_perf_event(const struct bpf_program *p)
{
	return bpf_program__type(p) == BPF_PROG_TYPE_KPROBE ||
	       bpf_program__type(p) == BPF_PROG_TYPE_TRACEPOINT;
}

/*
 * Debian's and Ubuntu's kernels add a level 3 to perf_event_paranoid, their
 * default, at which perf_event_open() wants CAP_SYS_ADMIN (CAP_PERFMON is
 * not enough).
 */
#define PARANOID_NOTE                                                                   \
	": kernel.perf_event_paranoid is above 2, and this kernel then lets only "      \
	"CAP_SYS_ADMIN attach kprobes and tracepoints; run as root, or set it to 2 to " \
	"let CAP_PERFMON do it"

#define ENOTSUPP 524 /* the kernel's own "not supported", which strerror() does not know */
#ifdef __aarch64__
#define ARCH_TRAMPOLINE_NOTE "; arm64 kernels have them from Linux 6.4"
#define ARCH_NO_TRAMPOLINES() (!kernel_at_least(6, 4))
#define NO_TRAMPOLINES_NOTE " (nor has it BPF trampolines" ARCH_TRAMPOLINE_NOTE ")"
#else
#define ARCH_TRAMPOLINE_NOTE ""
#define ARCH_NO_TRAMPOLINES() false
#define NO_TRAMPOLINES_NOTE ""
#endif

/*
 * The function an fentry/fexit program of the object's chosen ones attaches
 * to that the kernel's BTF does not describe (libbpf then fails the load
 * with ESRCH before the kernel sees it), or NULL. Seen on Debian 11's arm64
 * 5.10, whose BTF lacks tcp_v6_connect.
 */
static const char *fentry_target_missing(const struct session *s)
{
	struct bpf_program *p;

	bpf_object__for_each_program (p, s->obj) {
		enum bpf_attach_type at = bpf_program__expected_attach_type(p);
		const char *target = strchr(bpf_program__section_name(p), '/');

		if (!bpf_program__autoload(p) || bpf_program__type(p) != BPF_PROG_TYPE_TRACING ||
		    (at != BPF_TRACE_FENTRY && at != BPF_TRACE_FEXIT) || !target)
			continue;
		if (libbpf_find_vmlinux_btf_id(target + 1, at) < 0)
			return target + 1;
	}
	return NULL;
}

/* Why loading in mode m failed with err, from what libbpf said (load_log). */
static void load_failure(const struct session *s, enum attach_mode m, int err, char *why,
			 size_t len)
{
	const char *e = err == -ENOTSUPP ? "ENOTSUPP" : strerror(-err), *missing;
	struct rlimit rl;
	char lacks[128];

	/*
	 * Before 5.11 the kernel charges BPF maps and programs to the memlock
	 * limit; libbpf raises it where the process may (CAP_SYS_RESOURCE).
	 */
	if (err == -EPERM && !kernel_at_least(5, 11) && !have_cap(CAP_SYS_RESOURCE) &&
	    !getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
		snprintf(why, len,
			 "this kernel (%s) charges BPF memory to RLIMIT_MEMLOCK (memory cgroups "
			 "do from Linux 5.11), and its limit here, %llu KiB, is too low: the tool "
			 "needs CAP_SYS_RESOURCE to raise it, or a higher limit (ulimit -l)",
			 kernel_release(), (unsigned long long)rl.rlim_cur / 1024);
	else if (load_log.verdict[0] && kernel_lacks_helper(load_log.verdict, lacks, sizeof(lacks)))
		snprintf(why, len, "this kernel (%s) has no %s", kernel_release(), lacks);
	else if (load_log.verdict[0])
		snprintf(why, len,
			 "the verifier rejected program %s (%s: %s; --debug shows its whole log)",
			 load_log.prog, e, load_log.verdict);
	else if (m == ATTACH_FENTRY && err == -ESRCH && (missing = fentry_target_missing(s)))
		snprintf(why, len,
			 "this kernel's BTF (%s) has no function %s, which its fentry/fexit "
			 "programs attach to%s",
			 kernel_release(), missing,
			 ARCH_NO_TRAMPOLINES() ? NO_TRAMPOLINES_NOTE : "");
	else if (m == ATTACH_FENTRY && (err == -EPERM || err == -EACCES || err == -EOPNOTSUPP ||
					err == -ESRCH || err == -ENOTSUPP))
		snprintf(why, len, "the kernel refuses to load fentry/fexit programs (%s)", e);
	else if (load_log.prog[0])
		snprintf(why, len, "the kernel refused program %s (%s; --debug shows libbpf's log)",
			 load_log.prog, e);
	else
		snprintf(why, len, "the BPF object failed to load (%s; --debug shows libbpf's log)",
			 e);
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

	memset(&load_log, 0, sizeof(load_log));
	load_log.on = true;
	err = s->ops->load(s->skel);
	load_log.on = false;
	if (err) {
		load_failure(s, m, err, why, len);
		return -1;
	}
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
	if (m == ATTACH_KPROBE && !kernel_has_kprobes())
		snprintf(why, len, "%s", NO_KPROBES);
	else if (m == ATTACH_FENTRY && err == -ENOTSUPP)
		snprintf(why, len,
			 "this kernel (%s) cannot attach fentry/fexit programs to %s "
			 "(ENOTSUPP: no BPF trampoline for it%s)",
			 kernel_release(), strchr(bpf_program__section_name(p), '/') + 1,
			 ARCH_TRAMPOLINE_NOTE);
	else
		snprintf(why, len, "cannot attach %s (%s%s)", bpf_program__section_name(p),
			 strerror(-err),
			 err == -EACCES && uses_perf_event(p) && paranoid_level() > 2
				 ? PARANOID_NOTE
				 : "");
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
