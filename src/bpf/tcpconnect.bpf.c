// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcpconnect: one event per active TCP open (connect attempt).
 *
 * The logic is connect_begin()/connect_done(); the programs below only adapt
 * each attach mode to them:
 *   fentry:     fexit on tcp_v4_connect/tcp_v6_connect
 *   kprobe:     kprobe + kretprobe on the same functions
 *   tracepoint: sock:inet_sock_set_state CLOSE->SYN_SENT records the caller
 *               (process context, local port not chosen yet); the event is
 *               sent at whichever comes first of syscalls:sys_exit_connect,
 *               the first SYN retransmission (tcp:tcp_retransmit_skb, about
 *               1 s: a blocking connect to a silent peer) and the socket's
 *               next state change (io_uring, TCP Fast Open, kernel sockets).
 */
#include "core.bpf.h"
#include "connect.bpf.h"

/* -c: connection counts, kept in the kernel so none is lost to the ring. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 10240);
	__type(key, struct count_key);
	__type(value, __u64);
} counts SEC(".maps");

/* A row (or a count) for a finished connect attempt. */
static __always_inline void deliver(const struct event *e)
{
	struct count_key k = {};
	__u64 zero = 0, *n;

	if (!cfg.count_only) {
		emit(e);
		return;
	}
	__builtin_memcpy(k.laddr, e->laddr, sizeof(k.laddr));
	__builtin_memcpy(k.raddr, e->raddr, sizeof(k.raddr));
	k.rport = e->rport;
	k.family = e->family;
	n = bpf_map_lookup_elem(&counts, &k);
	if (!n) {
		bpf_map_update_elem(&counts, &k, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&counts, &k);
	}
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		__sync_fetch_and_add(&lost, 1);
}

/*
 * The local port is chosen by now; a connect that got none failed before
 * sending anything. Addresses stay as connect_begin() read them: a failed
 * connect resets the local address before the caller sees the error.
 */
static __always_inline void connect_done(struct event *e, const struct sock *sk)
{
	e->lport = sock_lport(sk);
	if (e->lport)
		deliver(e);
}

/* ---- fentry mode ---- */

static __always_inline int on_connect_return(struct sock *sk, int ret)
{
	struct event e = {};

	if (ret == 0 && connect_begin(&e, sk))
		connect_done(&e, sk);
	return 0;
}

/*
 * tcp_v6_connect() hands IPv4-mapped destinations to tcp_v4_connect() on the
 * same AF_INET6 socket: report those once, from the v6 side.
 */
static __always_inline bool is_inet6(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET6;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(fexit_v4_connect, struct sock *sk, struct sockaddr *uaddr, int len, int ret)
{
	return is_inet6(sk) ? 0 : on_connect_return(sk, ret);
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(fexit_v6_connect, struct sock *sk, struct sockaddr *uaddr, int len, int ret)
{
	return on_connect_return(sk, ret);
}

/* ---- kprobe mode ---- */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct sock *);
} sk_by_tid SEC(".maps");

static __always_inline int remember_sk(struct sock *sk)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sk_by_tid, &tid, &sk, BPF_ANY);
	return 0;
}

/* The socket this thread is connecting; with v4 only, keep a v6 one. */
static __always_inline struct sock *take_sk(bool v4)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sock **skp = bpf_map_lookup_elem(&sk_by_tid, &tid);
	struct sock *sk;

	if (!skp)
		return NULL;
	sk = *skp;
	if (v4 && is_inet6(sk))
		return NULL;
	bpf_map_delete_elem(&sk_by_tid, &tid);
	return sk;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_v4_connect, struct sock *sk)
{
	return is_inet6(sk) ? 0 : remember_sk(sk);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kretprobe_v4_connect, int ret)
{
	struct sock *sk = take_sk(true);

	return sk ? on_connect_return(sk, ret) : 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_v6_connect, struct sock *sk)
{
	return remember_sk(sk);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kretprobe_v6_connect, int ret)
{
	struct sock *sk = take_sk(false);

	return sk ? on_connect_return(sk, ret) : 0;
}

/* ---- tracepoint mode ---- */

/*
 * Report a pending connect once: whichever hook deletes the entry first
 * sends it. A socket closing without having sent a segment failed inside
 * tcp_v*_connect() (the other modes see an error return): no row.
 */
static __always_inline void finish_pending(const struct sock *sk, bool closing)
{
	struct event e;

	if (!connect_take(sk, &e))
		return;
	if (closing && !BPF_CORE_READ((const struct tcp_sock *)sk, segs_out))
		return;
	connect_done(&e, sk);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	struct event e = {};
	__u32 tid;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_SYN_SENT) {
		finish_pending(sk, newstate == TCP_CLOSE);
		return 0;
	}
	if (oldstate != TCP_CLOSE || newstate != TCP_SYN_SENT)
		return 0;
	if (!connect_begin(&e, sk) || !connect_remember(sk, &e))
		return 0;
	tid = e.tid;
	bpf_map_update_elem(&sk_by_tid, &tid, &sk, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_sys_exit_connect(struct sys_exit_args *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct sock **skp = bpf_map_lookup_elem(&sk_by_tid, &tid);
	const struct sock *sk;

	if (!skp)
		return 0;
	sk = *skp;
	bpf_map_delete_elem(&sk_by_tid, &tid);
	finish_pending(sk, false);
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_retransmit, const struct sock *sk)
{
	finish_pending(sk, false);
	return 0;
}
