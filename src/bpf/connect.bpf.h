/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Active opens, for every tool that reports them: the caller's identity is
 * taken in its context (connect_begin); the tool keeps it by socket until
 * it reports the connect. The including file defines
 * on_connect_return(m, sk, ret, uaddr), declared below, called in the
 * caller's context when tcp_v4_connect()/tcp_v6_connect() returns (fentry
 * and kprobe modes: the programs at the end of this file); uaddr is the
 * kernel's copy of the destination the caller gave.
 */
#ifndef CONNECT_BPF_H
#define CONNECT_BPF_H

static __always_inline int on_connect_return(enum rd m, struct sock *sk, int ret,
					     const struct sockaddr *uaddr);

/*
 * The caller's identity and the destination, in the caller's context.
 * Returns false when a filter drops the connect.
 */
static __always_inline bool connect_begin(enum rd m, struct event *e, const struct sock *sk)
{
	if (!task_allowed())
		return false;
	task_fill(e);
	e->type = EV_CONNECT;
	return sock_fill(m, e, sk) && port_allowed(e->rport);
}

/*
 * tcp_v6_connect() hands IPv4-mapped destinations to tcp_v4_connect() on the
 * same AF_INET6 socket: those are reported once, from the v6 side.
 */
static __always_inline bool is_inet6(enum rd m, const struct sock *sk)
{
	return RD(m, sk, __sk_common.skc_family) == AF_INET6;
}

/* A connect call's arguments, kept from its kprobe to its kretprobe */
struct connect_args {
	struct sock *sk;
	const struct sockaddr *uaddr;
};

/* The socket each thread is connecting, between two of its hooks. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct connect_args);
} sk_by_tid SEC(".maps");

static __always_inline int remember_sk(struct sock *sk, const struct sockaddr *uaddr)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct connect_args a = { sk, uaddr };

	bpf_map_update_elem(&sk_by_tid, &tid, &a, BPF_ANY);
	return 0;
}

/* The call this thread is making, into *a; with v4 only, keep a v6 one. */
static __always_inline bool take_sk(bool v4, struct connect_args *a)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct connect_args *p = bpf_map_lookup_elem(&sk_by_tid, &tid);

	if (!p)
		return false;
	*a = *p;
	if (v4 && is_inet6(RD_PROBE, a->sk))
		return false;
	bpf_map_delete_elem(&sk_by_tid, &tid);
	return true;
}

/* ---- fentry mode ---- */

SEC("fexit/tcp_v4_connect")
int BPF_PROG(fexit_v4_connect, struct sock *sk, struct sockaddr *uaddr, int len, int ret)
{
	return is_inet6(RD_BTF, sk) ? 0 : on_connect_return(RD_BTF, sk, ret, uaddr);
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(fexit_v6_connect, struct sock *sk, struct sockaddr *uaddr, int len, int ret)
{
	return on_connect_return(RD_BTF, sk, ret, uaddr);
}

/* ---- kprobe mode ---- */

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_v4_connect, struct sock *sk, struct sockaddr *uaddr)
{
	return is_inet6(RD_PROBE, sk) ? 0 : remember_sk(sk, uaddr);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kretprobe_v4_connect, int ret)
{
	struct connect_args a;

	return take_sk(true, &a) ? on_connect_return(RD_PROBE, a.sk, ret, a.uaddr) : 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_v6_connect, struct sock *sk, struct sockaddr *uaddr)
{
	return remember_sk(sk, uaddr);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kretprobe_v6_connect, int ret)
{
	struct connect_args a;

	return take_sk(false, &a) ? on_connect_return(RD_PROBE, a.sk, ret, a.uaddr) : 0;
}

#endif
