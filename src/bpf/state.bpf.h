/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The state changes of TCP sockets in the fentry and kprobe modes: the
 * entry of tcp_set_state(), where the socket still has its old state. The
 * including file defines on_set_state(m, sk, oldstate, newstate), declared
 * below; in tracepoint mode its own program on sock:inet_sock_set_state
 * calls it. STATE_PROGS (src/progs.h) lists the two programs.
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

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kprobe_set_state, struct sock *sk, int state)
{
	on_set_state(RD_PROBE, sk, BPF_CORE_READ(sk, __sk_common.skc_state), state);
	return 0;
}

#endif
