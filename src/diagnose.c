// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* One line naming why a load or an attach failed, from the facts (diagnose.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "diagnose.h"
#include "kernel.h"

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
