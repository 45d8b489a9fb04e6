// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * tcpaccept: one event per accepted TCP connection, in the context of the
 * process that accepted it. The attach modes are in accept.bpf.h.
 */
#include "core.bpf.h"
#include "accept.bpf.h"

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
 * Both come from the accepted socket itself, at accept: nothing is hooked
 * for -q, and a connection queued before tracing began has its figures too.
 * - A passive connection enters its listener's accept queue when its
 *   handshake completes, and the kernel stamps it then: rcvq_space.time,
 *   the TCP clock (CLOCK_MONOTONIC, in microseconds) refreshed just before
 *   the change from SYN_RECV to ESTABLISHED (tcp_init_buffer_space(), since
 *   Linux 4.13). Only its owner's reads move that stamp, and nobody reads
 *   before accept() returns the socket.
 * - srtt_us still holds the kernel's first RTT sample then, from its
 *   SYN-ACK to the client's ACK: the server has sent nothing since to take
 *   another sample from. 0: no sample (a SYN cookie without timestamps, a
 *   retransmitted SYN-ACK).
 */
static __always_inline void accept_queued(enum rd m, const struct sock *sk)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct event_more r = {};
	__u64 queued_us, now;
	__u32 srtt_us8;

	if (!accept_row(m, &r.e, sk))
		return;
	queued_us = RD(m, tp, rcvq_space.time);
	srtt_us8 = RD(m, tp, srtt_us); /* in 1/8 us */
	now = bpf_ktime_get_ns();
	if (queued_us && queued_us <= now / 1000) {
		r.dur_ns = now - queued_us * 1000;
		r.have = HAVE_DUR;
	}
	if (srtt_us8) {
		r.dur2_ns = (__u64)srtt_us8 * 1000 / 8;
		r.have |= HAVE_DUR2;
	}
	emit_more(&r);
}
