// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcptracer: connect (C), accept (A) and close (X) of TCP connections that
 * become established while tracing, each once.
 *
 * The logic is in four inline bodies; each attach mode only calls them:
 *   connect start  tcp_v4/v6_connect returning 0 (connect.bpf.h), or
 *                  CLOSE->SYN_SENT: the caller
 *   state change   tcp_set_state (state.bpf.h), or sock:inet_sock_set_state:
 *                  SYN_SENT->ESTABLISHED sends C with the caller's identity
 *   accept         accept.bpf.h: A, in the accepting process
 *   close          tcp_close entry; in tracepoint mode a state change made
 *                  inside tcp_close (the socket's file has no reference left)
 *                  or, for a socket the kernel had closed already, its
 *                  destruction (tcp:tcp_destroy_sock): X, in the process
 *                  that closed, for connections with a C or an A only
 * Every socket that leaves SYN_SENT without a C, or gets its X, leaves the
 * map.
 */
#include "core.bpf.h"
#include "connect.bpf.h"
#include "accept.bpf.h"
#include "state.bpf.h"
/*
 * A connection of this tool's, from its connect's start or its accept until
 * its X: one map entry all its life, filled in place (a hash update and
 * delete cost about 300 ns here; a connect makes one of each, not two).
 */
struct conn {
	struct event row; /* its C (while connecting: the caller) or its A */
	__u8 open;	  /* C or A sent: X is due */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
	__type(key, __u64); /* sk_key() */
	__type(value, struct conn);
} conns SEC(".maps");

static __always_inline void connect_start(enum rd m, const struct sock *sk)
{
	struct conn c = {};
	__u64 key = sk_key(sk);

	if (connect_begin(m, &c.row, sk))
		track(&conns, &key, &c);
}

/* fentry and kprobe modes: called by the programs of connect.bpf.h */
static __always_inline int on_connect_return(enum rd m, struct sock *sk, int ret,
					     const struct sockaddr *uaddr)
{
	if (ret == 0)
		connect_start(m, sk);
	return 0;
}

/*
 * Leaving SYN_SENT: C with the caller's identity if the connection became
 * established (a refused or timed-out connect leaves nothing behind).
 * State changes of one socket do not race: its lock orders them.
 */
static __always_inline void on_set_state(enum rd m, const struct sock *sk, int oldstate,
					 int newstate)
{
	__u64 key = sk_key(sk);
	struct conn *c;

	if (oldstate != TCP_SYN_SENT)
		return;
	c = bpf_map_lookup_elem(&conns, &key);
	if (!c || c->open)
		return;
	if (newstate != TCP_ESTABLISHED || !sock_fill(m, &c->row, sk)) {
		bpf_map_delete_elem(&conns, &key);
		return;
	}
	c->row.ts_ns = bpf_ktime_get_boot_ns(); /* C is when it became established */
	c->open = 1;
	emit(&c->row);
}

static __always_inline void on_accept(enum rd m, const struct sock *sk)
{
	struct conn c = { .open = 1 };
	__u64 key = sk_key(sk);

	task_fill(&c.row);
	c.row.type = EV_ACCEPT;
	if (sock_fill(m, &c.row, sk) && track(&conns, &key, &c))
		emit(&c.row);
}

static __always_inline void emit_lifetime(const struct event *x, const struct sock *sk,
					  __u64 opened, bool active);

/*
 * X for sk if it had a C or an A: by the current task when it is the one
 * closing, else (kernel sockets, destroyed from softirq) by the process its
 * C or A named.
 */
static __always_inline void closing(const struct sock *sk, bool by_current)
{
	__u64 key = sk_key(sk);
	struct conn *c = bpf_map_lookup_elem(&conns, &key);
	struct event e;

	if (!c || !c->open)
		return; /* still connecting: leaving SYN_SENT ends it */
	/* an established connection's addresses, ports and namespace stay those of its C or A */
	__builtin_memcpy(&e, &c->row, sizeof(e));
	if (bpf_map_delete_elem(&conns, &key))
		return; /* somebody else reported it */
	if (by_current) {
		if (!task_allowed())
			return;
		task_fill(&e);
	} else {
		e.ts_ns = bpf_ktime_get_boot_ns();
	}
	if (cfg.lifetime) { /* e still holds its C or A's time and type */
		emit_lifetime(&e, sk, c->row.ts_ns, c->row.type == EV_CONNECT);
		return;
	}
	e.type = EV_CLOSE;
	emit(&e);
}

/*
 * -l: the X row e with the time since its C or A (opened) and the data
 * bytes the peer acknowledged and that came in, from the kernel's counts
 * (RFC 4898's), without the SYN and FIN each side's count may hold: an
 * active open's (acknowledged) SYN, an acknowledged FIN of ours, the
 * peer's FIN once it came (SOCK_DONE).
 */
static __always_inline void emit_lifetime(const struct event *x, const struct sock *sk,
					  __u64 opened, bool active)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct event_more r = { .have = HAVE_DUR | HAVE_BYTES };
	__u64 acked = BPF_CORE_READ(tp, bytes_acked), rcvd = BPF_CORE_READ(tp, bytes_received);
	unsigned long flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	int state = BPF_CORE_READ(sk, __sk_common.skc_state);
	bool fin_in = flags & (1UL << SOCK_DONE);

	__builtin_memcpy(&r.e, x, sizeof(r.e));
	r.e.type = EV_CLOSE;
	r.dur_ns = r.e.ts_ns > opened ? r.e.ts_ns - opened : 0;
	if (active && acked)
		acked--;
	/* our FIN acknowledged: FIN_WAIT2, or closed in order after both FINs */
	if (acked && (state == TCP_FIN_WAIT2 ||
		      (state == TCP_CLOSE && fin_in && !BPF_CORE_READ(sk, sk_err) &&
		       BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))))
		acked--;
	if (fin_in && rcvd)
		rcvd--;
	r.tx_bytes = acked;
	r.rx_bytes = rcvd;
	emit_more(&r);
}

/* the states tcp_close() moves a socket to (tcp_close_state) */
#define TCPF_CLOSE_TARGETS \
	(TCPF_FIN_WAIT1 | TCPF_FIN_WAIT2 | TCPF_LAST_ACK | TCPF_CLOSING | TCPF_CLOSE)

/*
 * struct file counts its references in f_ref (a file_ref_t) from 6.13, in
 * f_count before. Both flavours are spelled here, so the code builds with
 * either kind of vmlinux.h and runs on either kind of kernel.
 */
struct file___new {
	struct {
		atomic_long_t refcnt;
	} f_ref;
} __attribute__((preserve_access_index));

struct file___old {
	atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * Is the current task releasing sk (tracepoint mode, which has no hook on
 * tcp_close)? tcp_close runs with the socket locked by its caller, and is
 * called when the socket's file has dropped its last reference (close(2)
 * of its last descriptor, or its process exiting). Both must hold: the file
 * can already be dead while the close has not begun, and a packet that
 * moves the socket in the meantime is processed by whichever task runs the
 * network receive path (on loopback or a veth, often the peer process);
 * with the socket unlocked, such a change is not the release. shutdown(2)
 * and the receive path work with the file still referenced.
 */
static __always_inline bool releasing(const struct sock *sk)
{
	const struct socket *sock = sk->sk_socket;
	struct file *f;

	if (!sk->sk_lock.owned || !sock || sock->sk != sk)
		return false;
	f = sock->file;
	if (!f)
		return false;
	if (bpf_core_field_exists(((struct file___new *)f)->f_ref))
		/* file_ref_t: 0 is one reference, negative is none (dead) */
		return (long)((struct file___new *)f)->f_ref.refcnt.counter < 0;
	return ((struct file___old *)f)->f_count.counter == 0;
}

/* ---- fentry mode ---- */

SEC("fentry/tcp_close")
int BPF_PROG(fentry_close, struct sock *sk)
{
	closing(sk, true);
	return 0;
}

/* ---- kprobe mode ---- */

SEC("kprobe/tcp_close")
int BPF_KPROBE(kprobe_close, struct sock *sk)
{
	closing(sk, true);
	return 0;
}

/* ---- tracepoint mode ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT)
		connect_start(RD_BTF, sk);
	else
		on_set_state(RD_BTF, sk, oldstate, newstate);
	/* tcp_close() only moves a socket to one of these (tcp_close_state) */
	if (((1 << newstate) & TCPF_CLOSE_TARGETS) && releasing(sk))
		closing(sk, true);
	return 0;
}

/*
 * A socket already in CLOSE (reset by the peer, timed out) makes no state
 * change more when its owner closes it: it is destroyed then, inside
 * tcp_close, still locked by the closing task. A socket destroyed later,
 * from the network receive path or a timer, is not locked by any task: its
 * X names the process of its C or A. So do kernel sockets (no file) that
 * were not in CLOSE when released.
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(tp_destroy_sock, const struct sock *sk)
{
	__u64 key = sk_key(sk);
	struct conn *c = bpf_map_lookup_elem(&conns, &key);

	if (!c)
		return 0;
	if (!c->open) /* a connect that never left SYN_SENT: nothing to report */
		bpf_map_delete_elem(&conns, &key);
	else
		closing(sk, sk->sk_lock.owned);
	return 0;
}
