// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * floor: the cheapest a tool can be on each hook the tools use, in every
 * attach mode, one empty program per hook (bench/floor loads the ones asked
 * for; make bench asks for those on the hooks the tools took, matched by
 * section name). What the kernel charges such a program in run_time_ns,
 * over a storm, is the floor the bench sets the tools' own BPF time against.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "../src/bpf/syscall_nr.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tracepoint mode (the syscall exits serve every mode) */
SEC("tp_btf/inet_sock_set_state")
int floor_set_state(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int floor_retransmit(void *ctx)
{
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int floor_destroy_sock(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int floor_exit_accept(void *ctx)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int floor_exit_accept4(void *ctx)
{
	return 0;
}

/* fentry mode */
SEC("fexit/tcp_v4_connect")
int floor_fexit_v4_connect(void *ctx)
{
	return 0;
}

SEC("fexit/tcp_v6_connect")
int floor_fexit_v6_connect(void *ctx)
{
	return 0;
}

SEC("fexit/inet_csk_accept")
int floor_fexit_csk_accept(void *ctx)
{
	return 0;
}

SEC("fentry/tcp_set_state")
int floor_fentry_set_state(void *ctx)
{
	return 0;
}

/* tcpconnect -o in fentry mode */
SEC("fentry/tcp_finish_connect")
int floor_fentry_finish_connect(void *ctx)
{
	return 0;
}

SEC("fentry/sock_def_error_report")
int floor_fentry_error_report(void *ctx)
{
	return 0;
}

SEC("fentry/tcp_reset")
int floor_fentry_reset(void *ctx)
{
	return 0;
}

SEC("fentry/tcp_disconnect")
int floor_fentry_disconnect(void *ctx)
{
	return 0;
}

SEC("fentry/tcp_close")
int floor_fentry_close(void *ctx)
{
	return 0;
}

/* kprobe mode */
SEC("kprobe/tcp_v4_connect")
int floor_kprobe_v4_connect(void *ctx)
{
	return 0;
}

SEC("kretprobe/tcp_v4_connect")
int floor_kretprobe_v4_connect(void *ctx)
{
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int floor_kprobe_v6_connect(void *ctx)
{
	return 0;
}

SEC("kretprobe/tcp_v6_connect")
int floor_kretprobe_v6_connect(void *ctx)
{
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int floor_kretprobe_csk_accept(void *ctx)
{
	return 0;
}

/* kprobe mode's state changes (and tcpconnect -o's resets): raw tracepoints */
SEC("raw_tracepoint/inet_sock_set_state")
int floor_raw_set_state(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/tcp_receive_reset")
int floor_raw_reset(void *ctx)
{
	return 0;
}

SEC("kprobe/tcp_close")
int floor_kprobe_close(void *ctx)
{
	return 0;
}

/*
 * The raw syscall exit, as the tools' sys_exit_raw leaves it at every
 * syscall but accept(2) and accept4(2): the number compared, and out.
 * (bench/sysexit sets it against the two classic tracepoints above.) The
 * numbers are this architecture's, set by floor.c from <sys/syscall.h>.
 */
const volatile struct floor_nr {
	long accept;
	long accept4;
} floor_nr = { -1, -1 };

SEC("tp_btf/sys_exit")
int floor_sys_exit_raw(__u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];
	long nr = SYSCALL_NR(regs);

	return nr == floor_nr.accept || nr == floor_nr.accept4;
}
