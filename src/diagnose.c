// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* One line naming why a load or an attach failed, and the facts it takes (diagnose.h). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <linux/capability.h>
#include "diagnose.h"
#include "kernel.h"
#include "messages.h"
#include "preflight.h"

#define ENOTSUPP 524 /* the kernel's own "not supported", which strerror() does not know */
/* Where BPF trampolines came late */
#define ARM64_TRAMPOLINES "; arm64 kernels have them from Linux 6.4"
#ifdef __aarch64__
#define ARCH_TRAMPOLINE_NOTE ARM64_TRAMPOLINES
#else
#define ARCH_TRAMPOLINE_NOTE ""
#endif
/* Said of a kernel whose BTF lacks an fentry target, and that has no trampolines either */
#define NO_TRAMPOLINES_NOTE " (nor has it BPF trampolines" ARM64_TRAMPOLINES ")"

/*
 * Debian's and Ubuntu's kernels add a level 3 to perf_event_paranoid, their
 * default, at which perf_event_open() wants CAP_SYS_ADMIN (CAP_PERFMON is
 * not enough).
 */
#define PARANOID_NOTE                                                                   \
	": kernel.perf_event_paranoid is above 2, and this kernel then lets only "      \
	"CAP_SYS_ADMIN attach kprobes and tracepoints; run as root, or set it to 2 to " \
	"let CAP_PERFMON do it"

/* Errors with which a kernel refuses fentry/fexit programs as such. */
static bool fentry_refused(int err)
{
	return err == -EPERM || err == -EACCES || err == -EOPNOTSUPP || err == -ESRCH ||
	       err == -ENOTSUPP;
}

void explain_load_failure(const struct load_facts *f, char *why, size_t len)
{
	const char *e = f->err == -ENOTSUPP ? "ENOTSUPP" : strerror(-f->err);
	char verdict[200] = "", lacks[128];

	if (f->log)
		verifier_verdict(f->log, verdict, sizeof(verdict));
	/* libbpf raises the limit where the process may (CAP_SYS_RESOURCE) */
	if (f->err == -EPERM && f->memlock_charged && !f->can_raise_memlock &&
	    f->memlock_limit >= 0)
		snprintf(why, len,
			 "this kernel (%s) charges BPF memory to RLIMIT_MEMLOCK (memory cgroups "
			 "do from Linux 5.11), and its limit here, %lld KiB, is too low: the tool "
			 "needs CAP_SYS_RESOURCE to raise it, or a higher limit (ulimit -l)",
			 f->release, f->memlock_limit / 1024);
	else if (verdict[0] && kernel_lacks_helper(verdict, lacks, sizeof(lacks)))
		snprintf(why, len, "this kernel (%s) has no %s", f->release, lacks);
	else if (verdict[0])
		snprintf(why, len,
			 "the verifier rejected program %s (%s: %s; --debug shows its whole log)",
			 f->prog, e, verdict);
	else if (f->mode == ATTACH_FENTRY && f->missing_func)
		snprintf(why, len,
			 "this kernel's BTF (%s) has no function %s, which its fentry/fexit "
			 "programs attach to%s",
			 f->release, f->missing_func, f->no_trampolines ? NO_TRAMPOLINES_NOTE : "");
	else if (f->mode == ATTACH_FENTRY && fentry_refused(f->err))
		snprintf(why, len, "the kernel refuses to load fentry/fexit programs (%s)", e);
	else if (f->unsupported_prog)
		snprintf(why, len, "the kernel refused program %s (%s; --debug shows libbpf's log)",
			 f->unsupported_prog, e);
	else
		snprintf(why, len, "the BPF object failed to load (%s; --debug shows libbpf's log)",
			 e);
}

void explain_attach_failure(const struct attach_facts *f, char *why, size_t len)
{
	const char *target = strchr(f->section, '/');

	if (f->mode == ATTACH_KPROBE && !f->has_kprobes)
		snprintf(why, len, "%s", NO_KPROBES);
	else if (f->mode == ATTACH_FENTRY && f->err == -ENOTSUPP)
		snprintf(why, len,
			 "this kernel (%s) cannot attach fentry/fexit programs to %s "
			 "(ENOTSUPP: no BPF trampoline for it%s)",
			 f->release, target ? target + 1 : f->section, ARCH_TRAMPOLINE_NOTE);
	else
		snprintf(why, len, "cannot attach %s (%s%s)", f->section, strerror(-f->err),
			 f->err == -EACCES && f->via_perf_event && f->paranoid > 2 ? PARANOID_NOTE
										   : "");
}

void verifier_verdict(const char *log, char *out, size_t len)
{
	const char *line = log, *nl;

	out[0] = '\0';
	for (; *line; line = nl + 1) {
		size_t n;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line);
		n = (size_t)(nl - line);
		if (!strncmp(line, "processed ", 10) || !strncmp(line, "verification time", 17))
			break;
		/* "; ..." lines quote our source, not the verifier's complaint */
		if (n && strncmp(line, "; ", 2) != 0 && n < len)
			snprintf(out, len, "%.*s", (int)n, line);
		if (!*nl)
			break;
	}
}

/* ---- the facts ---- */

/*
 * libbpf's own size: a log cut short would change the error to ENOSPC. The
 * buffers are one mapping, whose pages the kernel touches only where it
 * writes (the failing program's log).
 */
#define LOG_BYTES ((size_t)UINT32_MAX >> 8)

void verifier_logs_give(struct verifier_logs *v, struct bpf_object *obj)
{
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program (p, obj)
		n += bpf_program__autoload(p);
	v->bytes = n * LOG_BYTES;
	v->base = mmap(NULL, v->bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->base == MAP_FAILED) {
		v->base = NULL;
		return;
	}
	n = 0;
	bpf_object__for_each_program (p, obj)
		if (bpf_program__autoload(p))
			bpf_program__set_log_buf(p, v->base + n++ * LOG_BYTES, LOG_BYTES);
}

void verifier_logs_free(struct verifier_logs *v)
{
	if (v->base)
		munmap(v->base, v->bytes);
	v->base = NULL;
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

void load_facts_gather(struct load_facts *f, struct bpf_object *obj, enum attach_mode m, int err)
{
	struct bpf_program *failed = logged_failure(obj), *p;
	struct rlimit rl;
	size_t size;

	memset(f, 0, sizeof(*f));
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

void attach_facts_gather(struct attach_facts *f, const struct bpf_program *p, enum attach_mode m,
			 int err)
{
	enum bpf_prog_type type = bpf_program__type(p);

	f->err = err;
	f->mode = m;
	f->release = kernel_release();
	f->has_kprobes = kernel_has_kprobes();
	f->section = bpf_program__section_name(p);
	f->via_perf_event = type == BPF_PROG_TYPE_KPROBE || type == BPF_PROG_TYPE_TRACEPOINT;
	f->paranoid = paranoid_level();
}
