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
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <linux/magic.h> /* BPF_FS_MAGIC, CGROUP2_SUPER_MAGIC */
#include <bpf/bpf.h>
#include "descriptions.h"
#include "kernel.h"
#include "messages.h"
#include "session.h"
#include "waiters.h"

#define POLL_MS 10		       /* the longest an event waits in the ring when idle */
#define LOST_WARN_NS 1000000000ULL     /* at most one loss warning a second */
#define WAITERS_PRUNE_NS 1000000000ULL /* accept_waiters looked at once a second */
#define TRACEFS "/sys/kernel/tracing"
#define CGROUP2 "/sys/fs/cgroup" /* where a cgroup2 hierarchy is mounted if none is */
#define KERNEL_BTF "/sys/kernel/btf/vmlinux"
#define BTF_ENV "TCPTOOLS_BTF" /* another BTF file for the running kernel */

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
	int cgroup_fd;
	int mntns_fd;
	int cgroup_root_fd;	 /* the cgroup2 root a cgroup_skb program attaches to */
	bool own_mntns;		 /* in a mount namespace of the tool's own */
	unsigned long long caps; /* the effective capabilities, read once */
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

/* ---- privileges ---- */

#define CAP_NET_ADMIN_BIT 12
#define CAP_SYS_PTRACE_BIT 19
#define CAP_SYS_RESOURCE_BIT 24
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

static unsigned long long effective_caps(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	unsigned long long caps = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return caps;
}

static int check_privileges(struct session *s)
{
	unsigned long long caps = s->caps = effective_caps();
	bool admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);
	bool bpf = caps & (1ULL << CAP_BPF_BIT);
	bool perfmon = caps & (1ULL << CAP_PERFMON_BIT);
	bool net_admin = caps & (1ULL << CAP_NET_ADMIN_BIT);

	if (!admin && (!bpf || !perfmon))
		return print_error(1,
				   "permission denied: missing %s (needs CAP_BPF and CAP_PERFMON, "
				   "or CAP_SYS_ADMIN: run as root)",
				   !bpf && !perfmon ? "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"
				   : !bpf	    ? "CAP_BPF and CAP_SYS_ADMIN"
						    : "CAP_PERFMON and CAP_SYS_ADMIN");
	/* a cgroup_skb program is a networking program */
	if (s->opts->dns && !admin && !net_admin)
		return print_error(
			1, "permission denied: -d needs CAP_NET_ADMIN (or CAP_SYS_ADMIN) to "
			   "attach its DNS capture to the cgroup hierarchy");
	return 0;
}

/* CO-RE needs the kernel's type information (BTF). */
static int check_btf(void)
{
	const char *path = getenv(BTF_ENV);

	if (path && access(path, R_OK))
		return print_error(1, "%s=%s: cannot read this BTF file (%s)", BTF_ENV,
				   printable(path), strerror(errno));
	if (!path && access(KERNEL_BTF, R_OK))
		return print_error(1,
				   "this kernel exposes no BTF at %s (%s): it needs "
				   "CONFIG_DEBUG_INFO_BTF=y, or %s naming a BTF file for it",
				   KERNEL_BTF, strerror(errno), BTF_ENV);
	return 0;
}

/* ---- user-supplied filter maps ---- */

struct mapspec {
	const char *option;
	const char *path;
	__u32 key_size;
	__u32 value_size;
	int *fd;
};

static int check_map_exists(const struct session *s, const struct mapspec *m)
{
	struct stat st;

	if (!m->path)
		return 0;
	if (stat(m->path, &st))
		return print_error(2, "%s '%s': %s (see '%s --help')", m->option,
				   printable(m->path), strerror(errno), s->tool->name);
	return 0;
}

static int open_map(const struct session *s, const struct mapspec *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char link[64], target[64];
	ssize_t n;
	int fd;

	if (!m->path)
		return 0;
	fd = bpf_obj_get(m->path);
	if (fd < 0) {
		int err = errno;
		struct statfs fs;

		/* elsewhere the kernel's EPERM or EACCES would only mislead */
		if (statfs(m->path, &fs) == 0 && fs.f_type != BPF_FS_MAGIC)
			return print_error(
				2,
				"%s '%s': not a pinned BPF map (not on a BPF file system) "
				"(see '%s --help')",
				m->option, printable(m->path), s->tool->name);
		return print_error(2, "%s '%s': not a pinned BPF map (%s) (see '%s --help')",
				   m->option, printable(m->path), strerror(err), s->tool->name);
	}
	*m->fd = fd;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strcmp(target, "anon_inode:bpf-map") != 0)
		return print_error(2,
				   "%s '%s': a pinned BPF object, but not a map (see '%s --help')",
				   m->option, printable(m->path), s->tool->name);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return print_error(2, "%s '%s': cannot read the map's type (%s)", m->option,
				   printable(m->path), strerror(errno));
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != m->key_size ||
	    info.value_size != m->value_size)
		return print_error(
			2,
			"%s '%s': expected a hash map with %u-byte keys and %u-byte values, "
			"found %s with %u-byte keys and %u-byte values (see '%s --help')",
			m->option, printable(m->path), m->key_size, m->value_size,
			libbpf_bpf_map_type_str(info.type) ?: "an unknown type", info.key_size,
			info.value_size, s->tool->name);
	return 0;
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

/*
 * Mount a file system the tool needs and nobody mounted, in a mount
 * namespace of the tool's own (made on first use): the system's mounts are
 * never changed, and nothing is left to undo at exit, however it ends.
 */
static int mount_privately(struct session *s, const char *fstype, const char *target, char *why,
			   size_t len)
{
	if (!s->own_mntns) {
		/* private: nothing mounted here propagates out ("/" is no mount in a chroot) */
		if (unshare(CLONE_NEWNS) ||
		    (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) &&
		     mount("none", "/sys", "none", MS_REC | MS_PRIVATE, NULL))) {
			snprintf(why, len,
				 "%s is not mounted on %s, and the tool cannot mount it in a mount "
				 "namespace of its own (%s%s)",
				 fstype, target, strerror(errno),
				 errno == EPERM ? ": that needs CAP_SYS_ADMIN" : "");
			return -1;
		}
		s->own_mntns = true;
	}
	if (mount(fstype, target, fstype, 0, NULL)) {
		snprintf(why, len, "%s is not mounted, and mounting it on %s failed (%s)", fstype,
			 target, strerror(errno));
		return -1;
	}
	debug_line("mounted %s on %s in a mount namespace of its own (the system's mounts are "
		   "untouched)",
		   fstype, target);
	return 0;
}

/*
 * Can classic tracepoints be found through tracefs (libbpf reads each
 * event's id there)? 0 if so, with *dir set; else EACCES (mounted, but not
 * readable: root's only on most systems) or ENOENT (not mounted). stat(),
 * not access(): a tool run with capabilities but another user's real UID
 * must be judged by what it can do.
 */
static int tracefs_state(const char **dir)
{
	static const char *const dirs[] = { TRACEFS, "/sys/kernel/debug/tracing" };
	struct stat st;
	size_t i;

	for (i = 0; i < 2; i++) {
		char events[64];

		*dir = dirs[i];
		snprintf(events, sizeof(events), "%s/events", dirs[i]);
		if (!stat(events, &st))
			return 0;
		if (errno == EACCES)
			return EACCES;
	}
	return ENOENT;
}

/* tracefs, for classic tracepoints: mount it if nobody has. */
static int ensure_tracefs(struct session *s, char *why, size_t len)
{
	const char *dir;
	int state = tracefs_state(&dir);

	if (state == EACCES) {
		snprintf(why, len, "cannot read tracefs at %s (%s)", dir, strerror(EACCES));
		return -1;
	}
	return state ? mount_privately(s, "tracefs", TRACEFS, why, len) : 0;
}

/* A cgroup2 hierarchy mounted already, or -1. */
static int cgroup2_mounted(void)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char dev[256], dir[4096], type[64];
	int fd = -1;

	if (!f)
		return -1;
	while (fd < 0 && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		struct statfs sf;

		if (strcmp(type, "cgroup2") != 0)
			continue;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* listed, but hidden under a later mount (a /sys mounted again) */
		if (fd >= 0 && (fstatfs(fd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)) {
			close(fd);
			fd = -1;
		}
	}
	fclose(f);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}

/*
 * The root of the cgroup v2 hierarchy: every socket of the system is below
 * it. Where none is mounted (under "ip netns exec", which mounts a /sys of
 * its own), mount one.
 */
static int cgroup2_root(struct session *s, char *why, size_t len)
{
	int fd = cgroup2_mounted();

	if (fd >= 0 || mount_privately(s, "cgroup2", CGROUP2, why, len))
		return fd;
	fd = open(CGROUP2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		snprintf(why, len, "cannot open the cgroup2 hierarchy on %s (%s)", CGROUP2,
			 strerror(errno));
	return fd;
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
	cfg->filter_cgroup = s->cgroup_fd >= 0;
	cfg->filter_mntns = s->mntns_fd >= 0;
	m = bpf_object__find_map_by_name(s->obj, "ports");
	if (o->nports && bpf_map__set_max_entries(m, (__u32)o->nports))
		return -1;
	m = bpf_object__find_map_by_name(s->obj, "cgroup_filter");
	if (s->cgroup_fd >= 0 && bpf_map__reuse_fd(m, s->cgroup_fd))
		return -1;
	m = bpf_object__find_map_by_name(s->obj, "mntns_filter");
	if (s->mntns_fd >= 0 && bpf_map__reuse_fd(m, s->mntns_fd))
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

static int paranoid_level(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int level = 0;

	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = 0;
		fclose(f);
	}
	return level;
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

static bool kernel_has_kprobes(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
	       !access(TRACEFS "/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

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
	if (err == -EPERM && !kernel_at_least(5, 11) &&
	    !(s->caps & (1ULL << CAP_SYS_RESOURCE_BIT)) && !getrlimit(RLIMIT_MEMLOCK, &rl) &&
	    rl.rlim_cur != RLIM_INFINITY)
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
static bool raw_exits(const struct session *s)
{
	bool admin = s->caps & (1ULL << CAP_SYS_ADMIN_BIT);
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
	bool need_tracefs = false, need_cgroup = false, need_btf = false, raw = raw_exits(s);
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
	if (need_tracefs && ensure_tracefs(s, why, len))
		return -1;
	if (need_cgroup && (s->cgroup_root_fd = cgroup2_root(s, why, len)) < 0)
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
	if (!in_initial_pidns() || !(s->caps & (1ULL << CAP_SYS_PTRACE_BIT))) {
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
	struct mapspec maps[2];
	int i, rc = 0;

	*sp = NULL;
	if (!s) {
		fprintf(stderr, "%s: out of memory\n", t->name);
		return 1;
	}
	maps[0] = (struct mapspec){ "--cgroupmap", o->cgroupmap, 8, 8, &s->cgroup_fd };
	maps[1] = (struct mapspec){ "--mntnsmap", o->mntnsmap, 8, 4, &s->mntns_fd };
	s->tool = t;
	s->opts = o;
	s->ops = ops;
	s->fn = fn;
	s->ctx = ctx;
	s->cgroup_fd = -1;
	s->mntns_fd = -1;
	s->cgroup_root_fd = -1;
	s->waiters_fd = -1;
	messages_init(t->name, o->debug);
	libbpf_verbose = o->debug;
	libbpf_set_print(libbpf_print);
	catch_signals();

	for (i = 0; i < 2 && !rc; i++)
		rc = check_map_exists(s, &maps[i]);
	if (!rc)
		rc = check_privileges(s);
	if (!rc)
		rc = check_btf();
	for (i = 0; i < 2 && !rc; i++)
		rc = open_map(s, &maps[i]);
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
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	if (s->mntns_fd >= 0)
		close(s->mntns_fd);
	s->cgroup_fd = s->mntns_fd = -1;
	for (l = 0; l < NLOSSES; l++)
		if (lost[l])
			warn_lost(l, lost[l], " in total");
	free(s);
}
