// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * diagnose.h: the one line a failed load or attach gives, for made-up
 * facts and canned verifier logs. The verdicts are the verifiers' own
 * lines (Debian's 5.10 and 6.1 under make vmtest: "invalid func
 * unknown#158" is 5.10's word for bpf_get_current_task_btf); the lines
 * around them have the shape those kernels give them.
 */
#include <errno.h>
#include <string.h>
#include "diagnose.h"
#include "unit.h"

/* 5.10: a helper it does not have (before the BTF task read had its fallback) */
static const char log_510_helper[] =
	"func#0 @0\n"
	"0: R1=ctx(id=0,off=0,imm=0) R10=fp0\n"
	"; int BPF_PROG(fexit_v4_connect, struct sock *sk, struct sockaddr *uaddr, int len, "
	"int ret)\n"
	"0: (79) r6 = *(u64 *)(r1 +0)\n"
	"1: R1=ctx(id=0,off=0,imm=0) R6_w=ptr_sock(id=0,off=0,imm=0) R10=fp0\n"
	"; return task_btf() ? ARROW(bpf_get_current_task_btf(), __VA_ARGS__)\n"
	"1: (85) call unknown#158\n"
	"invalid func unknown#158\n"
	"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
	"mark_read 0\n";

/* 6.1: our program's fault (an fexit reading its return as a pointer) */
static const char log_61_scalar[] =
	"0: R1=ctx(off=0,imm=0) R10=fp0\n"
	"; int BPF_PROG(fexit_csk_accept)\n"
	"0: (79) r1 = *(u64 *)(r1 +32)         ; R1_w=scalar()\n"
	"; if (RD(m, sk, sk_protocol) == IPPROTO_TCP && task_allowed())\n"
	"1: (71) r2 = *(u8 *)(r1 +515)\n"
	"R1 invalid mem access 'scalar'\n"
	"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 "
	"mark_read 0\n";

/* 6.x: statistics begin with the time; a last source quote is not the verdict */
static const char log_6x_time[] = "0: R1=ctx() R10=fp0\n"
				  "R2 !read_ok\n"
				  "; return 0;\n"
				  "verification time 31 usec\n"
				  "stack depth 0\n"
				  "processed 1 insns (limit 1000000) max_states_per_insn 0\n";

static void test_verdicts(void)
{
	char v[200];

	verifier_verdict(log_510_helper, v, sizeof(v));
	CHECK_STR(v, "invalid func unknown#158");
	verifier_verdict(log_61_scalar, v, sizeof(v));
	CHECK_STR(v, "R1 invalid mem access 'scalar'");
	verifier_verdict(log_6x_time, v, sizeof(v));
	CHECK_STR(v, "R2 !read_ok");
	verifier_verdict("", v, sizeof(v));
	CHECK_STR(v, "");
	/* cut at the end of the text, no newline */
	verifier_verdict("0: (b7) r0 = 0\nR0 !read_ok", v, sizeof(v));
	CHECK_STR(v, "R0 !read_ok");
	/* a line longer than the buffer is passed over, never cut */
	verifier_verdict("R1 type=scalar expected=fp\nR2 a line too long for it\n", v, 20);
	CHECK_STR(v, "");
}

static void test_load_failures(void)
{
	static const struct {
		const char *what;
		struct load_facts f;
		const char *want;
	} cases[] = {
		{ "5.10 refuses a map for the memlock limit",
		  { .err = -EPERM,
		    .mode = ATTACH_FENTRY,
		    .release = "5.10.0-46-amd64",
		    .memlock_charged = true,
		    .memlock_limit = 256 * 1024 },
		  "this kernel (5.10.0-46-amd64) charges BPF memory to RLIMIT_MEMLOCK (memory "
		  "cgroups do from Linux 5.11), and its limit here, 256 KiB, is too low: the tool "
		  "needs CAP_SYS_RESOURCE to raise it, or a higher limit (ulimit -l)" },
		{ "the memlock limit, which CAP_SYS_RESOURCE lets libbpf raise: not that",
		  { .err = -EPERM,
		    .mode = ATTACH_FENTRY,
		    .release = "5.10.0-46-amd64",
		    .memlock_charged = true,
		    .can_raise_memlock = true,
		    .memlock_limit = 65536 },
		  "the kernel refuses to load fentry/fexit programs (Operation not permitted)" },
		{ "an unlimited memlock: not that either",
		  { .err = -EPERM,
		    .mode = ATTACH_KPROBE,
		    .release = "5.10.0-46-amd64",
		    .memlock_charged = true,
		    .memlock_limit = -1 },
		  "the BPF object failed to load (Operation not permitted; --debug shows libbpf's "
		  "log)" },
		{ "5.10 lacks bpf_get_current_task_btf",
		  { .err = -EINVAL,
		    .mode = ATTACH_FENTRY,
		    .release = "5.10.0-46-amd64",
		    .prog = "fexit_v4_connect",
		    .log = log_510_helper },
		  "this kernel (5.10.0-46-amd64) has no bpf_get_current_task_btf (Linux 5.11)" },
		{ "the verifier rejects our program",
		  { .err = -EACCES,
		    .mode = ATTACH_FENTRY,
		    .release = "6.1.0-57-amd64",
		    .prog = "fexit_csk_accept",
		    .log = log_61_scalar },
		  "the verifier rejected program fexit_csk_accept (Permission denied: R1 invalid "
		  "mem access 'scalar'; --debug shows its whole log)" },
		{ "libbpf found no fentry target in the kernel's BTF (ESRCH, nothing loaded)",
		  { .err = -ESRCH,
		    .mode = ATTACH_FENTRY,
		    .release = "5.10.0-32-amd64",
		    .missing_func = "tcp_v6_connect" },
		  "this kernel's BTF (5.10.0-32-amd64) has no function tcp_v6_connect, which its "
		  "fentry/fexit programs attach to" },
		{ "the same on arm64 5.10 (Debian 11's), which has no trampolines either",
		  { .err = -ESRCH,
		    .mode = ATTACH_FENTRY,
		    .release = "5.10.0-32-arm64",
		    .missing_func = "tcp_v6_connect",
		    .no_trampolines = true },
		  "this kernel's BTF (5.10.0-32-arm64) has no function tcp_v6_connect, which its "
		  "fentry/fexit programs attach to (nor has it BPF trampolines; arm64 kernels have "
		  "them from Linux 6.4)" },
		{ "ESRCH with every target found",
		  { .err = -ESRCH, .mode = ATTACH_FENTRY, .release = "6.18.0" },
		  "the kernel refuses to load fentry/fexit programs (No such process)" },
		{ "the kernel refuses fentry programs without a log (this machine's 6.18)",
		  { .err = -EPERM, .mode = ATTACH_FENTRY, .release = "6.18.0" },
		  "the kernel refuses to load fentry/fexit programs (Operation not permitted)" },
		{ "no trampolines: the kernel's own ENOTSUPP",
		  { .err = -524, .mode = ATTACH_FENTRY, .release = "6.1.0-57-arm64" },
		  "the kernel refuses to load fentry/fexit programs (ENOTSUPP)" },
		{ "a program type this kernel cannot load",
		  { .err = -EINVAL,
		    .mode = ATTACH_TRACEPOINT,
		    .release = "5.4.0",
		    .unsupported_prog = "tp_set_state" },
		  "the kernel refused program tp_set_state (Invalid argument; --debug shows "
		  "libbpf's log)" },
		{ "nothing known",
		  { .err = -E2BIG, .mode = ATTACH_KPROBE, .release = "6.1.0" },
		  "the BPF object failed to load (Argument list too long; --debug shows libbpf's "
		  "log)" },
	};
	char why[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		explain_load_failure(&cases[i].f, why, sizeof(why));
		CHECK_STR(why, cases[i].want, "%s", cases[i].what);
	}
	/* a short buffer is cut, never overrun */
	explain_load_failure(&cases[3].f, why, 12);
	CHECK_STR(why, "this kernel");
}

static void test_attach_failures(void)
{
	static const struct {
		const char *what;
		struct attach_facts f;
		const char *want;
	} cases[] = {
		{ "no kprobes (this machine)",
		  { .err = -ENOENT,
		    .mode = ATTACH_KPROBE,
		    .section = "kprobe/tcp_v4_connect",
		    .via_perf_event = true },
		  NO_KPROBES },
		{ "kprobes, but a function they cannot probe",
		  { .err = -ENOENT,
		    .mode = ATTACH_KPROBE,
		    .has_kprobes = true,
		    .section = "kprobe/tcp_v4_connect",
		    .via_perf_event = true },
		  "cannot attach kprobe/tcp_v4_connect (No such file or directory)" },
		{ "no trampoline for a function",
		  { .err = -524,
		    .mode = ATTACH_FENTRY,
		    .release = "6.1.0-57-arm64",
		    .section = "fexit/inet_csk_accept" },
#ifdef __aarch64__
		  "this kernel (6.1.0-57-arm64) cannot attach fentry/fexit programs to "
		  "inet_csk_accept (ENOTSUPP: no BPF trampoline for it; arm64 kernels have them "
		  "from Linux 6.4)"
#else
		  "this kernel (6.1.0-57-arm64) cannot attach fentry/fexit programs to "
		  "inet_csk_accept (ENOTSUPP: no BPF trampoline for it)"
#endif
		},
		{ "Debian's perf_event_paranoid=3 without CAP_SYS_ADMIN",
		  { .err = -EACCES,
		    .mode = ATTACH_KPROBE,
		    .has_kprobes = true,
		    .section = "kretprobe/inet_csk_accept",
		    .via_perf_event = true,
		    .paranoid = 3 },
		  "cannot attach kretprobe/inet_csk_accept (Permission denied: "
		  "kernel.perf_event_paranoid is above 2, and this kernel then lets only "
		  "CAP_SYS_ADMIN attach kprobes and tracepoints; run as root, or set it to 2 to "
		  "let "
		  "CAP_PERFMON do it)" },
		{ "EACCES at level 2: not the paranoid level",
		  { .err = -EACCES,
		    .mode = ATTACH_TRACEPOINT,
		    .section = "tracepoint/syscalls/sys_exit_accept",
		    .via_perf_event = true,
		    .paranoid = 2 },
		  "cannot attach tracepoint/syscalls/sys_exit_accept (Permission denied)" },
		{ "EACCES at level 3 of a program attached by bpf() alone",
		  { .err = -EACCES,
		    .mode = ATTACH_TRACEPOINT,
		    .section = "tp_btf/sys_exit",
		    .paranoid = 3 },
		  "cannot attach tp_btf/sys_exit (Permission denied)" },
	};
	char why[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		explain_attach_failure(&cases[i].f, why, sizeof(why));
		CHECK_STR(why, cases[i].want, "%s", cases[i].what);
	}
}

void test_diagnose(void)
{
	test_verdicts();
	test_load_failures();
	test_attach_failures();
}
