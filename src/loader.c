// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Opening, configuring, loading and attaching one BPF object (loader.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "diagnose.h"
#include "kernel.h"
#include "loader.h"
#include "messages.h"
#include "mounts.h"

static int try_mode(struct loader *l, enum attach_mode m, char *why, size_t len);

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	return debug_on() ? vfprintf(stderr, fmt, ap) : 0; /* --debug shows all libbpf says */
}

void loader_init(struct loader *l, const struct opts *o, const struct skel_ops *ops,
		 const struct user_maps *maps)
{
	memset(l, 0, sizeof(*l));
	l->opts = o;
	l->ops = ops;
	l->maps = maps;
	l->cgroup_root_fd = -1;
	libbpf_set_print(libbpf_print);
}

int loader_attach(struct loader *l)
{
	static const enum attach_mode order[] = { ATTACH_FENTRY, ATTACH_KPROBE, ATTACH_TRACEPOINT };
	char why[3][512];
	size_t i;

	if (l->opts->mode != ATTACH_AUTO) {
		if (try_mode(l, l->opts->mode, why[0], sizeof(why[0])))
			return print_error(1, "--attach %s: %s", attach_mode_name(l->opts->mode),
					   why[0]);
		debug_line("attach mode: %s", attach_mode_name(l->mode));
		return 0;
	}
	for (i = 0; i < 3; i++) {
		/* known before loading: no time spent verifying what cannot attach */
		if (order[i] == ATTACH_KPROBE && !kernel_has_kprobes()) {
			snprintf(why[i], sizeof(why[i]), "%s", NO_KPROBES);
			debug_line("kprobe mode unavailable: %s", why[i]);
			continue;
		}
		if (!try_mode(l, order[i], why[i], sizeof(why[i]))) {
			debug_line("attach mode: %s (auto)", attach_mode_name(l->mode));
			return 0;
		}
		debug_line("%s mode unavailable: %s", attach_mode_name(order[i]), why[i]);
	}
	return print_error(1,
			   "no attach mode works here: fentry: %s; kprobe: %s; "
			   "tracepoint: %s",
			   why[0], why[1], why[2]);
}

struct bpf_program *loader_prog(const struct loader *l, const struct prog_entry *e)
{
	return *(struct bpf_program **)((char *)l->skel + e->offset);
}

void loader_detach_role(struct loader *l, enum prog_role r)
{
	int i, n = 0;

	for (i = 0; i < l->nlinks; i++) {
		if (l->roles[i] == r) {
			bpf_link__destroy(l->links[i]);
			continue;
		}
		l->roles[n] = l->roles[i];
		l->links[n++] = l->links[i];
	}
	l->nlinks = n;
}

void loader_detach(struct loader *l)
{
	while (l->nlinks > 0)
		bpf_link__destroy(l->links[--l->nlinks]);
}

void loader_unload(struct loader *l)
{
	loader_detach(l);
	if (l->skel)
		l->ops->destroy(l->skel);
	l->skel = NULL;
	l->obj = NULL;
	if (l->cgroup_root_fd >= 0)
		close(l->cgroup_root_fd);
	l->cgroup_root_fd = -1;
}

/* ---- configuring ---- */

/* The .rodata cfg, the filter maps sized or replaced, before load. */
static int configure(struct loader *l)
{
	const struct opts *o = l->opts;
	struct config *cfg = l->ops->config(l->skel);
	struct core_maps maps = l->ops->core_maps(l->skel);
	struct bpf_map *m;

	*cfg = o->cfg;
	cfg->accept_hooked = l->mode == ATTACH_FENTRY || l->mode == ATTACH_KPROBE;
	cfg->no_kernel_btf = getenv(BTF_ENV) != NULL;
	cfg->nr_accept = SYS_accept;
	cfg->nr_accept4 = SYS_accept4;
	cfg->nr_connect = SYS_connect;
	cfg->connect_exits = o->outcome && l->mode == ATTACH_TRACEPOINT;
	/* before 6.1 a tracing program's hash maps must be preallocated (kernel.h) */
	if (!kernel_runtime_alloc_ok())
		bpf_object__for_each_map (m, l->obj)
			if (bpf_map__type(m) == BPF_MAP_TYPE_HASH &&
			    bpf_map__set_map_flags(m, bpf_map__map_flags(m) &
							      ~(__u32)BPF_F_NO_PREALLOC))
				return -1;
	cfg->filter_cgroup = l->maps->cgroup_fd >= 0;
	cfg->filter_mntns = l->maps->mntns_fd >= 0;
	if (o->nports && bpf_map__set_max_entries(maps.ports, (__u32)o->nports))
		return -1;
	if (l->maps->cgroup_fd >= 0 && bpf_map__reuse_fd(maps.cgroup_filter, l->maps->cgroup_fd))
		return -1;
	if (l->maps->mntns_fd >= 0 && bpf_map__reuse_fd(maps.mntns_filter, l->maps->mntns_fd))
		return -1;
	return 0;
}

/* After load: -P's ports into their map. */
static int fill_ports(struct loader *l)
{
	struct bpf_map *m = l->ops->core_maps(l->skel).ports;
	__u8 one = 1;
	int i;

	for (i = 0; i < l->opts->nports; i++)
		if (bpf_map__update_elem(m, &l->opts->ports[i], sizeof(__u16), &one, 1, BPF_ANY))
			return -1;
	return 0;
}

/* ---- choosing the programs ---- */

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

/*
 * Which kind of connect(2) exit tcpconnect -o loads in tracepoint mode:
 * the classic tracepoint where accept's would be (raw: raw_exits()) and
 * its program can find the call's arguments, which the tracepoint's record
 * lacks, through bpf_task_pt_regs() (Linux 5.15); else the raw one.
 */
static bool connect_exit_raw(bool raw)
{
	return raw ||
	       libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs, NULL) != 1;
}

/* The table entry of program p; NULL (and why set) unless there is exactly one. */
static const struct prog_entry *entry_of(const struct loader *l, const struct bpf_program *p,
					 char *why, size_t len)
{
	const struct prog_entry *e = NULL;
	size_t i, n = 0;

	for (i = 0; i < l->ops->nprogs; i++)
		if (loader_prog(l, &l->ops->progs[i]) == p) {
			e = &l->ops->progs[i];
			n++;
		}
	if (n != 1)
		snprintf(why, len,
			 "program %s is in the tool's program table %zu times, not once (a bug in "
			 "tcptools)",
			 bpf_program__name(p), n);
	return n == 1 ? e : NULL;
}

/* Which kinds of syscall exits load: raw (true) or classic */
struct exits {
	bool accept_raw, connect_raw;
};

static bool wanted(const struct prog_entry *e, enum attach_mode m, const struct opts *o,
		   struct exits x)
{
	if (!(e->modes & (1u << m)))
		return false;
	switch (e->role) {
	case ROLE_DNS:
		return o->dns;
	case ROLE_ACCEPT_EXIT:
		return !x.accept_raw;
	case ROLE_ACCEPT_EXIT_RAW:
		return x.accept_raw;
	case ROLE_OUTCOME:
		return o->outcome;
	case ROLE_NO_OUTCOME:
		return !o->outcome;
	case ROLE_OUTCOME_EXIT:
		return o->outcome && !x.connect_raw;
	case ROLE_OUTCOME_EXIT_RAW:
		return o->outcome && x.connect_raw;
	default:
		return true;
	}
}

/*
 * Open the BPF object and choose the programs of mode m; mount what
 * attaching them will need, before the work of loading. Returns the number
 * of programs chosen, or -1.
 */
static int open_in_mode(struct loader *l, enum attach_mode m, char *why, size_t len)
{
	struct bpf_object_open_opts oo = {
		.sz = sizeof(oo),
		.btf_custom_path = getenv(BTF_ENV),
	};
	bool need_tracefs = false, need_cgroup = false, need_btf = false;
	struct exits x = { .accept_raw = raw_exits() };
	struct bpf_program *p;
	int nprogs = 0;

	l->mode = m;
	l->skel = l->ops->open(&oo);
	if (!l->skel) {
		snprintf(why, len, "cannot open the BPF object (%s)", strerror(errno));
		return -1;
	}
	l->obj = l->ops->object(l->skel);
	if (configure(l)) {
		snprintf(why, len, "cannot set up the BPF maps (%s)", strerror(errno));
		return -1;
	}
	/* a probe: only where the choice is to be made */
	x.connect_raw =
		l->opts->outcome && m == ATTACH_TRACEPOINT && connect_exit_raw(x.accept_raw);
	bpf_object__for_each_program (p, l->obj) {
		const struct prog_entry *e = entry_of(l, p, why, len);
		bool on;

		if (!e)
			return -1;
		on = wanted(e, m, l->opts, x);
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
	if (need_cgroup && (l->cgroup_root_fd = cgroup2_root(why, len)) < 0)
		return -1;
	return nprogs;
}

/* ---- loading ---- */

/* Load (the verifier runs here) and fill the maps userspace fills. */
static int load_in_mode(struct loader *l, enum attach_mode m, char *why, size_t len)
{
	struct verifier_logs logs;
	int err;

	verifier_logs_give(&logs, l->obj);
	err = l->ops->load(l->skel);
	if (err) {
		struct load_facts f;

		load_facts_gather(&f, l->obj, m, err);
		explain_load_failure(&f, why, len);
	}
	verifier_logs_free(&logs);
	if (err)
		return -1;
	if (fill_ports(l)) {
		snprintf(why, len, "cannot fill the port filter map (%s)", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- attaching ---- */

/* Attach every loaded program, keeping each link with its program's role. */
static int attach_loaded(struct loader *l, enum attach_mode m, char *why, size_t len)
{
	struct bpf_program *p;

	bpf_object__for_each_program (p, l->obj) {
		struct bpf_link *link;

		if (!bpf_program__autoload(p))
			continue;
		if (l->nlinks >= MAX_LINKS) {
			snprintf(why, len,
				 "cannot attach %s: this mode has more programs than the %d links "
				 "tcptools keeps (a bug in tcptools: raise MAX_LINKS)",
				 bpf_program__name(p), MAX_LINKS);
			return -1;
		}
		if (bpf_program__type(p) == BPF_PROG_TYPE_CGROUP_SKB)
			link = bpf_program__attach_cgroup(p, l->cgroup_root_fd);
		else
			link = bpf_program__attach(p);
		if (!link) {
			struct attach_facts f;

			attach_facts_gather(&f, p, m, -errno);
			explain_attach_failure(&f, why, len);
			return -1;
		}
		l->roles[l->nlinks] = entry_of(l, p, why, len)->role;
		l->links[l->nlinks++] = link;
	}
	return 0;
}

/* Load and attach the programs of mode m. On failure, why says why. */
static int try_mode(struct loader *l, enum attach_mode m, char *why, size_t len)
{
	int nprogs = open_in_mode(l, m, why, len);

	if (nprogs < 0 || load_in_mode(l, m, why, len))
		goto out;
	debug_line("%s: %d programs loaded (verifier passed)", attach_mode_name(m), nprogs);
	if (attach_loaded(l, m, why, len) ||
	    (l->attached && l->attached(l->attached_ctx, why, len)))
		goto out;
	return 0;
out:
	loader_unload(l);
	return -1;
}

__u64 loader_misses(const struct loader *l)
{
	struct bpf_program *p;
	__u64 n = 0;

	if (!l->obj)
		return 0;
	bpf_object__for_each_program (p, l->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);

		if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len))
			n += info.recursion_misses;
	}
	return n;
}
