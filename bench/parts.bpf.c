// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * parts: what each piece of the tools' BPF work costs on this kernel, one
 * program per piece, each run once per connection: the tools' own inline
 * bodies (core.bpf.h), and the map and ring operations they are made of.
 * bench/parts loads one at a time with build/floor and sets each against
 * the empty one. Under emulation (make vmtest's guests) the relative costs
 * of helpers, locks and plain loads differ from a real CPU's; this is how
 * much, measured.
 *
 * Each piece has two programs around the same body: fentry on
 * tcp_finish_connect() (the SYN-ACK of an active open) and, where fentry is
 * refused, the BTF tracepoint of state changes, at that same change.
 */
#include "../src/bpf/core.bpf.h"

/* where the pieces put what they read: nothing may be optimized away */
__u64 sink = 0;

/* a table like tcpconnect's pending connects */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct event);
} table SEC(".maps");

/* a record of the size of an outcome alone: socket, time, result */
struct short_rec {
	__u64 key;
	__u64 ts_ns;
	__s32 err;
	__u8 outcome;
	__u8 pad[3];
};

static __always_inline void part_empty(struct sock *sk)
{
}

static __always_inline void part_clock(struct sock *sk)
{
	sink += bpf_ktime_get_boot_ns();
}

/* who and when: task_fill() (pid, tid, uid, comm and the clock) */
static __always_inline void part_task(struct sock *sk)
{
	struct event e = {};

	task_fill(&e);
	sink += e.pid + e.comm[0];
}

/* where: sock_fill() (addresses, ports, namespace) */
static __always_inline void part_sock(struct sock *sk)
{
	struct event e = {};

	sink += sock_fill(RD_BTF, &e, sk) + e.lport;
}

/* a row to the ring: emit() of a struct event (a tool's row) */
static __always_inline void part_row(struct sock *sk)
{
	struct event e = { .lport = 1 };

	emit(&e);
}

/* a longer row: emit_more() (a row with -o's, -q's or -l's figures) */
static __always_inline void part_row_more(struct sock *sk)
{
	struct event_more r = { .outcome = 1 };

	emit_more(&r);
}

/* a short record to the ring: emit_rec() of an outcome alone */
static __always_inline void part_short(struct sock *sk)
{
	struct short_rec r = { .key = sk_key(sk), .outcome = 1 };

	emit_rec(&r, sizeof(r));
}

/* a lookup that finds nothing: what a hook pays for a socket it does not track */
static __always_inline void part_miss(struct sock *sk)
{
	__u64 key = sk_key(sk);

	sink += !!bpf_map_lookup_elem(&table, &key);
}

/* an entry's whole life in the table: track() it, then take it (lookup, copy, delete) */
static __always_inline void part_entry(struct sock *sk)
{
	struct event e = { .lport = 1 };
	__u64 key = sk_key(sk);
	struct event *p;

	track(&table, &key, &e);
	p = bpf_map_lookup_elem(&table, &key);
	if (p) {
		__builtin_memcpy(&e, p, sizeof(e));
		sink += bpf_map_delete_elem(&table, &key) == 0;
	}
}

#define PART(name)                                                           \
	SEC("fentry/tcp_finish_connect")                                     \
	int BPF_PROG(fentry_##name, struct sock *sk)                         \
	{                                                                    \
		part_##name(sk);                                             \
		return 0;                                                    \
	}                                                                    \
	SEC("tp_btf/inet_sock_set_state")                                    \
	int BPF_PROG(tp_##name, struct sock *sk, int oldstate, int newstate) \
	{                                                                    \
		if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED) \
			part_##name(sk);                                     \
		return 0;                                                    \
	}

PART(empty)
PART(clock)
PART(task)
PART(sock)
PART(row)
PART(row_more)
PART(short)
PART(miss)
PART(entry)
