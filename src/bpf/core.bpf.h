/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The BPF side every tool shares: configuration, filter maps, the event ring
 * and the inline bodies that read a task and a socket. Each tool's .bpf.c
 * includes this once and adds thin per-attach-mode programs around it.
 *
 * Userspace (loader.c, through the skeleton: struct skel_ops in skeleton.h)
 * reaches what is here by its typed fields: cfg, lost_events,
 * lost_tracking, reader_asleep, events, ports, cgroup_filter and
 * mntns_filter. Each tool's table (src/progs.h) says in which attach modes
 * each program is loaded.
 */
#ifndef CORE_BPF_H
#define CORE_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcpevent.h"

/*
 * Address families are preprocessor macros in the kernel, so vmlinux.h has
 * none; TCP states (TCP_*, TCPF_*) and IPPROTO_* come from it as enumerators.
 */
#define AF_INET 2
#define AF_INET6 10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/*
 * How a program reads kernel memory. fentry and tp_btf programs hold
 * BTF-typed pointers and read through them directly: a load each. kprobes
 * and classic tracepoints hold plain addresses and must call
 * bpf_probe_read_kernel(), about 25 ns a read (and a helper call as much)
 * on the bench machines: several times what a whole state change costs
 * otherwise. Every inline body below takes the mode as its first argument,
 * always a constant, so each program is compiled for its own kind only.
 * RD(m, p, a, b) is p->a->b either way (CO-RE relocated), for a chain of
 * one to four members.
 */
enum rd { RD_PROBE, RD_BTF };

#define ARROW1(p, a) ((p)->a)
#define ARROW2(p, a, b) ((p)->a->b)
#define ARROW3(p, a, b, c) ((p)->a->b->c)
#define ARROW4(p, a, b, c, d) ((p)->a->b->c->d)
#define ARROW_PICK(_1, _2, _3, _4, name, ...) name
/* p->a->b... for the members given */
#define ARROW(p, ...) ARROW_PICK(__VA_ARGS__, ARROW4, ARROW3, ARROW2, ARROW1, )(p, __VA_ARGS__)

#define RD(m, src, ...) \
	((m) == RD_BTF ? ARROW((src), __VA_ARGS__) : BPF_CORE_READ((src), __VA_ARGS__))

/* n bytes (a constant) at src, a field's address, into dst: RD() for arrays */
static __always_inline void rd_bytes(enum rd m, void *dst, const void *src, __u32 n)
{
	if (m == RD_BTF)
		__builtin_memcpy(dst, src, n);
	else
		bpf_probe_read_kernel(dst, n, src);
}

const volatile struct config cfg = {};

/*
 * What was lost, one counter per cause; read by userspace through the
 * skeleton (struct skel_ops in skeleton.h): events the ring had no room for
 * (their rows are missing), and connections a full tracking map could not
 * hold (their rows never happen).
 */
__u64 lost_events = 0;
__u64 lost_tracking = 0;

/*
 * Set by userspace when it goes to sleep with no timer, the rings empty
 * (session.c, fall_asleep()); the first event or loss after that wakes it
 * (wake_reader()) and clears it.
 */
__u32 reader_asleep = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, RINGBUF_BYTES);
} events SEC(".maps");

/* -P: the ports to keep; userspace sizes it to the list before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u16);
	__type(value, __u8);
} ports SEC(".maps");

/* --cgroupmap / --mntnsmap: replaced by the user's pinned map before load. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u64);
} cgroup_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} mntns_filter SEC(".maps");

/*
 * The current task. Where the kernel has bpf_get_current_task_btf() (Linux
 * 5.11) and the tool uses the kernel's own BTF, it is read through its BTF
 * pointer in every mode (fentry, kprobe, tp_btf and classic tracepoint
 * programs may all call it): a direct load costs a fraction of a helper
 * call. Elsewhere (5.10; TCPTOOLS_BTF) it is read with CO-RE probe reads.
 * Both are constants at load time (a CO-RE relocation against the running
 * kernel, and .rodata): the verifier sees one branch only and drops the
 * other, helper call and all, so 5.10 never meets the newer helper.
 */
static __always_inline bool task_btf(void)
{
	return bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf) &&
	       !cfg.no_kernel_btf;
}

/* current->a->b... for the members given, read either way */
#define TASK(...)                                                    \
	(task_btf() ? ARROW(bpf_get_current_task_btf(), __VA_ARGS__) \
		    : BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), __VA_ARGS__))

/* Does the current task pass -p, -u, --cgroupmap and --mntnsmap? */
static __always_inline bool task_allowed(void)
{
	if (cfg.pid && (bpf_get_current_pid_tgid() >> 32) != cfg.pid)
		return false;
	if (cfg.filter_uid && (__u32)bpf_get_current_uid_gid() != cfg.uid)
		return false;
	if (cfg.filter_cgroup) {
		__u64 id = bpf_get_current_cgroup_id();

		if (!bpf_map_lookup_elem(&cgroup_filter, &id))
			return false;
	}
	if (cfg.filter_mntns) {
		__u64 ino = TASK(nsproxy, mnt_ns, ns.inum);

		if (!bpf_map_lookup_elem(&mntns_filter, &ino))
			return false;
	}
	return true;
}

static __always_inline bool port_allowed(__u16 port)
{
	return !cfg.filter_ports || bpf_map_lookup_elem(&ports, &port);
}

/* Who and when: filled in the context of the process that acted. */
static __always_inline void task_fill(struct event *e)
{
	e->ts_ns = bpf_ktime_get_boot_ns();
	if (task_btf()) {
		/* the fields the pid, uid and comm helpers read, without their calls */
		struct task_struct *t = bpf_get_current_task_btf();

		e->pid = t->tgid;
		e->tid = t->pid;
		e->uid = t->cred->uid.val;
		__builtin_memcpy(e->comm, t->comm, sizeof(e->comm));
	} else {
		__u64 id = bpf_get_current_pid_tgid();

		e->pid = id >> 32;
		e->tid = (__u32)id;
		e->uid = (__u32)bpf_get_current_uid_gid();
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
}

/*
 * The local port: inet_sport survives the unhashing that clears skc_num
 * when a socket moves to CLOSE, so it is right in every state change.
 */
static __always_inline __u16 sock_lport(const struct sock *sk)
{
	/* a struct sock's BTF pointer cannot be cast to inet_sock: a real read */
	return bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

static __always_inline bool v4mapped(const __u8 *a)
{
	const __u32 *w = (const __u32 *)a;

	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0x0000ffff);
}

/*
 * Addresses, ports and namespace of a socket, local end first. Returns false
 * for a socket that is neither AF_INET nor AF_INET6 or is filtered out by
 * -4/-6 or -N. An AF_INET6 socket talking to an IPv4-mapped peer is family 6
 * and both of its addresses are given in ::ffff:a.b.c.d form, taken from the
 * IPv4 fields (which are always set, even before the IPv6 copy is).
 */
static __always_inline bool sock_fill(enum rd m, struct event *e, const struct sock *sk)
{
	__u16 fam = RD(m, sk, __sk_common.skc_family);
	__u32 *l = (__u32 *)e->laddr, *r = (__u32 *)e->raddr;

	if (fam == AF_INET) {
		e->family = 4;
		l[0] = RD(m, sk, __sk_common.skc_rcv_saddr);
		r[0] = RD(m, sk, __sk_common.skc_daddr);
	} else if (fam == AF_INET6) {
		e->family = 6;
		rd_bytes(m, e->raddr, &sk->__sk_common.skc_v6_daddr, 16);
		if (v4mapped(e->raddr)) {
			l[0] = 0;
			l[1] = 0;
			l[2] = bpf_htonl(0x0000ffff);
			l[3] = RD(m, sk, __sk_common.skc_rcv_saddr);
			r[3] = RD(m, sk, __sk_common.skc_daddr);
		} else {
			rd_bytes(m, e->laddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		}
	} else {
		return false;
	}
	if (cfg.family && cfg.family != e->family)
		return false;
	e->lport = sock_lport(sk);
	e->rport = bpf_ntohs(RD(m, sk, __sk_common.skc_dport));
	e->netns = RD(m, sk, __sk_common.skc_net.net, ns.inum);
	if (cfg.netns && cfg.netns != e->netns)
		return false;
	return true;
}

/*
 * The key of a map indexed by socket: its address as a plain number, in a
 * stack slot of its own. Passing &sk itself would put the BTF pointer's own
 * slot in a helper's hands; the 6.1 and 6.12 verifiers then forget its type
 * and reject the next direct read through sk ("invalid mem access 'scalar'").
 */
static __always_inline __u64 sk_key(const struct sock *sk)
{
	return (__u64)(unsigned long)sk;
}

/*
 * If userspace sleeps with no timer, wake it: a record of 8 bytes (too
 * short to be an event: the reader skips it) with a wakeup. Called after
 * the event's commit, which is a full barrier (an xchg in the kernel);
 * userspace sets the flag and then looks at the rings once more, so either
 * it sees the event or this sees the flag. Two CPUs may both see it set
 * (no atomic exchange before Linux 5.12): two nudges, harmless.
 */
static __always_inline void wake_reader(void)
{
	__u64 nudge = 0;

	if (!reader_asleep)
		return;
	reader_asleep = 0;
	bpf_ringbuf_output(&events, &nudge, sizeof(nudge), BPF_RB_FORCE_WAKEUP);
}

/* Track val under key in a tracking map; a full map is a loss, counted. */
static __always_inline bool track(void *map, const void *key, const void *val)
{
	if (bpf_map_update_elem(map, key, val, BPF_ANY)) {
		__sync_fetch_and_add(&lost_tracking, 1);
		wake_reader(); /* to report it */
		return false;
	}
	return true;
}

/*
 * Submit a record reserved in ring (of size bytes). No wakeup per record:
 * while events come, userspace drains every ring on a short timer, and is
 * woken early only once the ring is half full; emit() wakes it when it
 * sleeps. (tcpconnect -d's DNS answers wake nobody: they are read before
 * the row of the connect that follows them.)
 */
static __always_inline void submit(void *ring, __u64 size, void *rec)
{
	bool half_full = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) > size / 2;

	bpf_ringbuf_submit(rec, half_full ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/*
 * Hand a record of size bytes (a constant, a multiple of 8) to userspace.
 * Records and ring slots are 8-byte aligned: copied as such, a word at a
 * time (through void pointers the compiler would copy byte by byte).
 */
static __always_inline void emit_rec(const void *rec, __u64 size)
{
	__u64 *slot = bpf_ringbuf_reserve(&events, size, 0);

	if (!slot) {
		__sync_fetch_and_add(&lost_events, 1);
		return;
	}
	__builtin_memcpy(slot, (const __u64 *)rec, size);
	submit(&events, RINGBUF_BYTES, slot);
	wake_reader();
}

/* Hand an event to userspace. */
static __always_inline void emit(const struct event *e)
{
	emit_rec(e, sizeof(*e));
}

/* Hand a row with more figures to userspace (marked as such). */
static __always_inline void emit_more(struct event_more *r)
{
	r->e.flags |= EVF_MORE;
	emit_rec(r, sizeof(*r));
}

#endif
