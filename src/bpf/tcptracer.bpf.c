// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcptracer: connect (C), accept (A) and close (X) of TCP connections that
 * become established while tracing, each once.
 *
 * The logic is in four inline bodies; each attach mode only calls them:
 *   connect start  tcp_v4/v6_connect entry, or CLOSE->SYN_SENT: the caller
 *   state change   tcp_set_state, or sock:inet_sock_set_state:
 *                  SYN_SENT->ESTABLISHED sends C with the caller's identity
 *   accept         accept.bpf.h: A, in the accepting process
 *   close          tcp_close entry, or a state change made inside tcp_close
 *                  (the socket's struct socket no longer points back at it):
 *                  X, in the process that closed, for connections with a C
 *                  or an A only
 * Every socket that leaves SYN_SENT or gets its X leaves the maps.
 */
#include "core.bpf.h"
#include "connect.bpf.h"

/* Connections reported by C or A and not closed yet. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, const struct sock *);
	__type(value, __u8);
} established SEC(".maps");

/* Report e and remember the connection for its X (a full map is a loss). */
static __always_inline void opened(const struct sock *sk, const struct event *e)
{
	__u8 one = 1;

	if (bpf_map_update_elem(&established, &sk, &one, BPF_ANY)) {
		__sync_fetch_and_add(&lost, 1);
		return;
	}
	emit(e);
}

static __always_inline void connect_start(const struct sock *sk)
{
	struct event e = {};

	if (connect_begin(&e, sk))
		connect_remember(sk, &e);
}

static __always_inline void state_change(const struct sock *sk, int oldstate, int newstate)
{
	struct event e;

	if (oldstate != TCP_SYN_SENT || !connect_take(sk, &e))
		return;
	/* a refused or timed-out connect leaves nothing behind */
	if (newstate == TCP_ESTABLISHED && sock_fill(&e, sk))
		opened(sk, &e);
}

static __always_inline void on_accept(const struct sock *sk)
{
	struct event e = {};

	task_fill(&e);
	e.type = EV_ACCEPT;
	if (sock_fill(&e, sk))
		opened(sk, &e);
}

#include "accept.bpf.h"

static __always_inline void closing(const struct sock *sk)
{
	struct event e = {};

	if (bpf_map_delete_elem(&established, &sk) || !task_allowed())
		return;
	task_fill(&e);
	e.type = EV_CLOSE;
	if (sock_fill(&e, sk))
		emit(&e);
}

/* struct file before 6.13 counted its references in f_count */
struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * Is the socket being released by tcp_close()? Its file has dropped its last
 * reference by then (__fput runs tcp_close), while shutdown(2) and softirq
 * state changes happen with the file still referenced, or after the socket
 * was orphaned (no sk_socket any more).
 */
static __always_inline bool in_close(const struct sock *sk)
{
	struct socket *so = BPF_CORE_READ(sk, sk_socket);
	struct file *f = so ? BPF_CORE_READ(so, file) : NULL;

	if (!f)
		return false;
	if (bpf_core_field_exists(f->f_ref))
		/* file_ref_t: 0 is one reference, negative is none (dead) */
		return (long)BPF_CORE_READ(f, f_ref.refcnt.counter) < 0;
	return BPF_CORE_READ((struct file___old *)f, f_count.counter) == 0;
}

/* ---- fentry mode ---- */

SEC("fentry/tcp_v4_connect")
int BPF_PROG(fentry_v4_connect, struct sock *sk)
{
	connect_start(sk);
	return 0;
}

SEC("fentry/tcp_v6_connect")
int BPF_PROG(fentry_v6_connect, struct sock *sk)
{
	connect_start(sk);
	return 0;
}

SEC("fentry/tcp_set_state")
int BPF_PROG(fentry_set_state, struct sock *sk, int state)
{
	state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), state);
	return 0;
}

SEC("fentry/tcp_close")
int BPF_PROG(fentry_close, struct sock *sk)
{
	closing(sk);
	return 0;
}

/* ---- kprobe mode ---- */

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_v4_connect, struct sock *sk)
{
	connect_start(sk);
	return 0;
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_v6_connect, struct sock *sk)
{
	connect_start(sk);
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(kprobe_set_state, struct sock *sk, int state)
{
	state_change(sk, BPF_CORE_READ(sk, __sk_common.skc_state), state);
	return 0;
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(kprobe_close, struct sock *sk)
{
	closing(sk);
	return 0;
}

/* ---- tracepoint mode ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT)
		connect_start(sk);
	else
		state_change(sk, oldstate, newstate);
	if (in_close(sk))
		closing(sk);
	return 0;
}
