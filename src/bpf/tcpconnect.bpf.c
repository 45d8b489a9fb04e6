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
 *               sent at the socket's next state change (ESTABLISHED or
 *               CLOSE: on loopback still inside connect(2), elsewhere one
 *               round trip later) or at the first SYN retransmission
 *               (tcp:tcp_retransmit_skb, about 1 s: a silent peer),
 *               whichever comes first. No syscall tracepoint: nothing is
 *               added to every system call, and no tracefs is needed.
 */
#include "core.bpf.h"
#include "connect.bpf.h"

/* Connects between their start and their report, by socket (full: a loss). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 16384);
	__type(key, __u64); /* sk_key() */
	__type(value, struct event);
} pending SEC(".maps");

/*
 * Take the pending connect of sk into e, once: when several hooks race for
 * it, only the one whose delete succeeds gets it.
 */
static __always_inline bool connect_take(const struct sock *sk, struct event *e)
{
	__u64 key = sk_key(sk);
	struct event *p = bpf_map_lookup_elem(&pending, &key);

	if (!p)
		return false;
	__builtin_memcpy(e, p, sizeof(*e));
	return bpf_map_delete_elem(&pending, &key) == 0;
}

/* -c: connects a full count table had no room for */
__u64 lost_counts = 0;

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
		__sync_fetch_and_add(&lost_counts, 1);
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

/* fentry and kprobe modes: the programs are in connect.bpf.h */
static __always_inline int on_connect_return(enum rd m, struct sock *sk, int ret)
{
	struct event e = {};

	if (ret == 0 && connect_begin(m, &e, sk))
		connect_done(&e, sk);
	return 0;
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
	/* most state changes of a connection concern neither: leave at once */
	if (oldstate == TCP_SYN_SENT) {
		finish_pending(sk, newstate == TCP_CLOSE);
	} else if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT &&
		   sk->sk_protocol == IPPROTO_TCP) {
		struct event e = {};
		__u64 key = sk_key(sk);

		if (connect_begin(RD_BTF, &e, sk))
			track(&pending, &key, &e);
	}
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_retransmit, const struct sock *sk)
{
	finish_pending(sk, false);
	return 0;
}

/* ---- -d: DNS answers, in every mode ---- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, DNS_RINGBUF_BYTES);
} dns_events SEC(".maps");

/* DNS responses the ring above had no room for: only names are missing */
__u64 lost_dns = 0;

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_DEST 60
#define IPV6_EXT_HDRS_MAX 4
#define IP6_MF 0x0001
#define IP6_OFFSET 0xfff8

/*
 * Where the UDP header of an IPv6 packet starts, past at most
 * IPV6_EXT_HDRS_MAX extension headers (hop-by-hop, routing, destination
 * options, fragment); 0 for a packet that is not UDP, has more extension
 * headers, or is a fragment (none of which holds a whole DNS message).
 */
static __always_inline __u64 ipv6_udp_offset(struct __sk_buff *skb)
{
	__u64 off = 40;
	__u8 h[2];
	__be16 frag;
	int i;

	if (bpf_skb_load_bytes(skb, 6, h, 1))
		return 0;
	for (i = 0; i < IPV6_EXT_HDRS_MAX && h[0] != IPPROTO_UDP; i++) {
		__u8 nexthdr = h[0];

		/* off stays below 40 + 4 * 2048: masks the verifier can follow */
		off &= 0x3fff;
		if (bpf_skb_load_bytes(skb, off, h, 2))
			return 0;
		if (nexthdr == NEXTHDR_FRAGMENT) {
			if (bpf_skb_load_bytes(skb, off + 2, &frag, 2) ||
			    (frag & bpf_htons(IP6_MF | IP6_OFFSET)))
				return 0;
			off += 8;
		} else if (nexthdr == NEXTHDR_HOP || nexthdr == NEXTHDR_ROUTING ||
			   nexthdr == NEXTHDR_DEST) {
			/* the length is in 8 octets, not counting the first 8 */
			off += ((__u64)h[1] + 1) * 8;
		} else {
			return 0;
		}
	}
	return h[0] == IPPROTO_UDP ? off & 0x3fff : 0;
}

/*
 * Every UDP datagram from port 53 a local socket receives: the DNS responses
 * resolvers get, on connected or unconnected sockets, IPv4 or IPv6, in any
 * network namespace (attached to the root of the cgroup v2 hierarchy, which
 * holds every socket). The payload goes to userspace, which parses it. The
 * data starts at the IP header; the packet is always let through.
 */
SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	struct dns_record *r;
	__u64 udp_off, n, avail;
	__u8 b[2];
	__be16 port, ulen;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__be16 frag;

		if (bpf_skb_load_bytes(skb, 0, b, 1) || bpf_skb_load_bytes(skb, 9, b + 1, 1) ||
		    b[1] != IPPROTO_UDP || bpf_skb_load_bytes(skb, 6, &frag, 2))
			return 1;
		/*
		 * A fragment (more fragments set, or an offset): a later one has
		 * no UDP header at all, and the first one only part of the DNS
		 * message. Such a packet is not parsed. (The kernel reassembles
		 * datagrams before socket delivery, where this program runs, so
		 * this is a guard that should not fire.)
		 */
		if (frag & bpf_htons(IP_MF | IP_OFFSET))
			return 1;
		udp_off = (b[0] & 0x0f) * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		udp_off = ipv6_udp_offset(skb);
		if (!udp_off)
			return 1;
	} else {
		return 1;
	}
	if (bpf_skb_load_bytes(skb, udp_off, &port, 2) || port != bpf_htons(53) ||
	    bpf_skb_load_bytes(skb, udp_off + 4, &ulen, 2))
		return 1;
	n = bpf_ntohs(ulen);
	avail = skb->len;
	if (n <= 8 || avail <= udp_off + 8)
		return 1;
	n -= 8;
	avail -= udp_off + 8;
	if (n > avail)
		n = avail;
	if (n > DNS_PAYLOAD_MAX)
		n = DNS_PAYLOAD_MAX; /* the answers of plain and EDNS responses fit */
	/*
	 * n is 1 to DNS_PAYLOAD_MAX here. Say so in arithmetic the verifier
	 * follows: the 6.1 verifier learns no lower bound from the test that
	 * the compiler makes of "n < 1", and the copy's length must be > 0.
	 */
	barrier_var(n);
	n = ((n - 1) & (DNS_PAYLOAD_MAX - 1)) + 1;
	r = bpf_ringbuf_reserve(&dns_events, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&lost_dns, 1);
		return 1;
	}
	r->ts_ns = bpf_ktime_get_boot_ns();
	r->len = n;
	if (bpf_skb_load_bytes(skb, udp_off + 8, r->data, n))
		r->len = 0;
	submit(&dns_events, DNS_RINGBUF_BYTES, r); /* drained on the timer and before each row */
	return 1;
}
