/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Active opens, for every tool that reports them: the caller's identity is
 * taken when the connect starts (in its context) and kept by socket until
 * the tool reports the connect.
 */
#ifndef CONNECT_BPF_H
#define CONNECT_BPF_H

/* Connects between their start and their report, by socket. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, const struct sock *);
	__type(value, struct event);
} pending SEC(".maps");

/*
 * The caller's identity and the destination, in the caller's context.
 * Returns false when a filter drops the connect.
 */
static __always_inline bool connect_begin(struct event *e, const struct sock *sk)
{
	if (!task_allowed())
		return false;
	task_fill(e);
	e->type = EV_CONNECT;
	return sock_fill(e, sk) && port_allowed(e->rport);
}

/* Remember a connect until it is reported; a full map counts as a loss. */
static __always_inline bool connect_remember(const struct sock *sk, const struct event *e)
{
	if (bpf_map_update_elem(&pending, &sk, e, BPF_ANY)) {
		__sync_fetch_and_add(&lost, 1);
		return false;
	}
	return true;
}

/*
 * Take the pending connect of sk into e, once: when several hooks race for
 * it, only the one whose delete succeeds gets it.
 */
static __always_inline bool connect_take(const struct sock *sk, struct event *e)
{
	struct event *p = bpf_map_lookup_elem(&pending, &sk);

	if (!p)
		return false;
	__builtin_memcpy(e, p, sizeof(*e));
	return bpf_map_delete_elem(&pending, &sk) == 0;
}

#endif
