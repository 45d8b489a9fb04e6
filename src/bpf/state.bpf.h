/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The state changes of TCP sockets in the fentry and kprobe modes. The
 * including file defines on_set_state(m, sk, oldstate, newstate), declared
 * below; in tracepoint mode its own program on sock:inet_sock_set_state
 * calls it. STATE_PROGS (src/progs.h) lists the two programs.
 * - fentry: the entry of tcp_set_state(), where the socket still has its
 *   old state;
 * - kprobe: not a kprobe on tcp_set_state() but the raw tracepoint
 *   sock:inet_sock_set_state (no BTF needed; attached through bpf() alone).
 *   Most state changes come from the network receive path, in a softirq,
 *   and a kprobe hit in a softirq that interrupted another kprobe's handler
 *   or BPF program on the same CPU is skipped by the kernel (silently
 *   before Linux 6.7: rows went missing on 5.10 under load); a raw
 *   tracepoint is not. Its arguments are plain numbers: reads go through
 *   BPF_CORE_READ (RD_PROBE).
 */
#ifndef STATE_BPF_H
#define STATE_BPF_H

static __always_inline void on_set_state(enum rd m, const struct sock *sk, int oldstate,
					 int newstate);

SEC("fentry/tcp_set_state")
int BPF_PROG(fentry_set_state, struct sock *sk, int state)
{
	on_set_state(RD_BTF, sk, sk->__sk_common.skc_state, state);
	return 0;
}

SEC("raw_tracepoint/inet_sock_set_state")
int BPF_PROG(raw_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		on_set_state(RD_PROBE, sk, oldstate, newstate);
	return 0;
}

#endif
