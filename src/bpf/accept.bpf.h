/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Accepted connections, for every tool that reports them. The including file
 * defines on_accept(m, sk), declared below; it runs once per accepted TCP
 * socket, in the context of the process that accepted it. The programs here
 * adapt each attach mode to it:
 *   fentry:     fexit on inet_csk_accept, + the syscall exits below for the
 *               accepts already blocked at start, until those have returned
 *   kprobe:     kretprobe on inet_csk_accept, + the syscall exits for the
 *               accepts blocked at start and those the kretprobe misses (a
 *               kretprobe has a bounded number of instances: maxactive,
 *               2 per CPU, at least 10, and more accepts can be blocked)
 *   tracepoint: syscalls:sys_exit_accept and sys_exit_accept4 only
 * inet_csk_accept() also serves io_uring accepts; an accept(2) seen by both
 * it and the syscall exit is reported once (see accepted_by_tid).
 * Which program loads in which mode is ACCEPT_PROGS's (src/progs.h).
 */
#ifndef ACCEPT_BPF_H
#define ACCEPT_BPF_H

#include "syscall.bpf.h"

static __always_inline void on_accept(enum rd m, const struct sock *sk);

/* The socket each thread's last inet_csk_accept() returned, already reported. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sock *);
} accepted_by_tid SEC(".maps");

static __always_inline void accepted(enum rd m, const struct sock *sk)
{
	if (RD(m, sk, sk_protocol) == IPPROTO_TCP && task_allowed())
		on_accept(m, sk);
}

/* ---- fentry and kprobe modes ---- */

static __always_inline int on_csk_accept_return(enum rd m, struct sock *newsk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 key = sk_key(newsk);

	if (!newsk)
		return 0;
	accepted(m, newsk);
	bpf_map_update_elem(&accepted_by_tid, &tid, &key, BPF_ANY);
	return 0;
}

/*
 * The return value: bpf_get_func_ret() (Linux 5.17; inlined by the
 * verifier) finds it whatever the function's arity on this kernel
 * (inet_csk_accept(sk, arg) from 6.10, (sk, flags, err, kern) before).
 * Older kernels lack it, and have the four arguments: an fexit program
 * finds the return value after them, in its own context. (Telling the two
 * signatures apart by CO-RE instead, by struct proto_accept_arg, would
 * search every module's BTF at each load on kernels before 6.10.)
 */
SEC("fexit/inet_csk_accept")
int BPF_PROG(fexit_csk_accept)
{
	__u64 ret = 0;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_func_ret))
		bpf_get_func_ret(ctx, &ret);
	else /* a load at a constant offset: the verifier refuses a computed one */
		asm volatile("%0 = *(u64 *)(%1 + 32)" : "=r"(ret) : "r"(ctx));
	/* a plain integer to the verifier after the helper: read it as an address */
	return on_csk_accept_return(RD_PROBE, (struct sock *)ret);
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(kretprobe_csk_accept, struct sock *newsk)
{
	return on_csk_accept_return(RD_PROBE, newsk);
}

/* ---- every mode ---- */

/*
 * fentry mode: fexit on inet_csk_accept misses the return of a call that
 * was running when it was attached, an accept already blocked when tracing
 * started; the syscall exits catch those. Once attached,
 * userspace lists the threads that may be in such an accept
 * (accept_waiters) and then sets waiters_listed: from then on the exits
 * of other threads are left to the hook, and userspace detaches the exits
 * when the list is empty (waiters.c). A syscall exit hook slows every
 * system call of the machine: it stays no longer than it must.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, ACCEPT_WAITERS_MAX);
	__type(key, __u32); /* tid */
	__type(value, __u8);
} accept_waiters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8); /* 1: accept_waiters is filled */
} waiters_listed SEC(".maps");

/*
 * In fentry and kprobe modes: the socket the hook on inet_csk_accept
 * reported for this thread's accept that returns now (NULL: none), or
 * false when the exit has nothing to do (waiters listed, and this thread
 * is not one).
 */
static __always_inline bool hooked_accept(__u32 tid, const struct sock **reported)
{
	__u32 zero = 0;
	__u8 *listed = bpf_map_lookup_elem(&waiters_listed, &zero);
	struct sock **seen;

	/* once listed, only a listed thread's first exit goes on, and unlists it */
	if (listed && *listed && bpf_map_delete_elem(&accept_waiters, &tid))
		return false;
	seen = bpf_map_lookup_elem(&accepted_by_tid, &tid);
	if (seen) {
		*reported = *seen;
		bpf_map_delete_elem(&accepted_by_tid, &tid);
	}
	return true;
}

static __always_inline int on_accept_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	const struct sock *sk, *reported = NULL;

	/* tracepoint mode has no other accept hook: every exit is for it */
	if (cfg.accept_hooked && !hooked_accept(tid, &reported))
		return 0;
	if (ret < 0)
		return 0;
	sk = fd_sock(ret);
	if (sk && sk != reported)
		accepted(RD_PROBE, sk);
	return 0;
}

/*
 * The exits come in two kinds; userspace loads one (raw_exits in loader.c):
 * - the classic tracepoints of the two syscalls: found through tracefs and
 *   attached with perf_event_open(), so they need tracefs readable and,
 *   at Debian's perf_event_paranoid=3, CAP_SYS_ADMIN;
 * - the raw tracepoint of every syscall's exit, filtered here by syscall
 *   number: attached through bpf() alone (CAP_BPF and CAP_PERFMON).
 */
SEC("tracepoint/syscalls/sys_exit_accept")
int sys_exit_accept(struct sys_exit_args *ctx)
{
	return on_accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int sys_exit_accept4(struct sys_exit_args *ctx)
{
	return on_accept_exit(ctx->ret);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_raw, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);

	/* every syscall of the machine passes here: leave at once */
	if (nr != cfg.nr_accept && nr != cfg.nr_accept4)
		return 0;
	if (COMPAT_TASK())
		return 0;
	return on_accept_exit(ret);
}

#endif
