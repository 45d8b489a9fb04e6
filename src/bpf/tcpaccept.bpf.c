// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcpaccept: one event per accepted TCP connection, in the context of the
 * process that accepted it. The attach modes are in accept.bpf.h; -q's
 * hooks are below.
 */
#include "core.bpf.h"
#include "accept.bpf.h"
#include "state.bpf.h"

static __always_inline void accept_queued(enum rd m, const struct sock *sk);

/* The A row of sk into e; false when a filter drops it */
static __always_inline bool accept_row(enum rd m, struct event *e, const struct sock *sk)
{
	task_fill(e);
	e->type = EV_ACCEPT;
	return sock_fill(m, e, sk) && port_allowed(e->lport);
}

static __always_inline void on_accept(enum rd m, const struct sock *sk)
{
	struct event e = {};

	if (cfg.queue) {
		accept_queued(m, sk);
		return;
	}
	if (accept_row(m, &e, sk))
		emit(&e);
}

/* ---- -q: the accept queue's wait, and the handshake ---- */

/*
 * A passive connection enters its listener's accept queue when its
 * handshake completes: the change from SYN_RECV to ESTABLISHED (the kernel
 * has just taken its first RTT sample then: from its SYN-ACK to the
 * client's ACK). Both are kept by socket until accept() returns it, with
 * its ports, so that a socket freed unaccepted and its memory reused is
 * never taken for another. A connection queued before tracing began has
 * no entry: its figures are unknown, never wrong.
 */
struct queued {
	__u64 ts_ns; /* CLOCK_BOOTTIME, when it became ESTABLISHED */
	__u64 hs_ns; /* the handshake, 0: unknown (no sample) */
	__u32 ports; /* local << 16 | remote */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* sk_key() */
	__type(value, struct queued);
} queued SEC(".maps");

static __always_inline __u32 port_pair(__u16 local, __u16 remote)
{
	return (__u32)local << 16 | remote;
}

/* -q: a state change (state.bpf.h; tp_set_state below in tracepoint mode) */
static __always_inline void on_set_state(enum rd m, const struct sock *sk, int oldstate,
					 int newstate)
{
	struct queued q = {};
	__u64 key = sk_key(sk);
	__u32 srtt_us8;

	if (oldstate != TCP_SYN_RECV || newstate != TCP_ESTABLISHED)
		return;
	q.ts_ns = bpf_ktime_get_boot_ns();
	srtt_us8 = BPF_CORE_READ((const struct tcp_sock *)sk, srtt_us); /* in 1/8 us */
	q.hs_ns = (__u64)srtt_us8 * 1000 / 8;
	q.ports = port_pair(sock_lport(sk), bpf_ntohs(RD(m, sk, __sk_common.skc_dport)));
	bpf_map_update_elem(&queued, &key, &q, BPF_ANY);
}

/* An accepted socket's row with its wait in the queue and its handshake, where known */
static __always_inline void accept_queued(enum rd m, const struct sock *sk)
{
	struct event_more r = {};
	__u64 key = sk_key(sk);
	struct queued *q;

	if (!accept_row(m, &r.e, sk))
		return;
	q = bpf_map_lookup_elem(&queued, &key);
	if (q) {
		if (q->ports == port_pair(r.e.lport, r.e.rport) && r.e.ts_ns >= q->ts_ns) {
			r.dur_ns = r.e.ts_ns - q->ts_ns;
			r.have = HAVE_DUR;
			if (q->hs_ns) {
				r.dur2_ns = q->hs_ns;
				r.have |= HAVE_DUR2;
			}
		}
		bpf_map_delete_elem(&queued, &key);
	}
	emit_more(&r);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_set_state, const struct sock *sk, int oldstate, int newstate)
{
	if (sk->sk_protocol == IPPROTO_TCP)
		on_set_state(RD_BTF, sk, oldstate, newstate);
	return 0;
}
