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
 * With -o (outcome) the row waits for the attempt's outcome, in every mode
 * (the section "-o" below).
 */
#include "core.bpf.h"
#include "connect.bpf.h"
#include "syscall.bpf.h"

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

/* -c: count e under k (its other fields set) */
static __always_inline void count(struct count_key *k, const struct event *e)
{
	__u64 zero = 0, *n;

	__builtin_memcpy(k->laddr, e->laddr, sizeof(k->laddr));
	__builtin_memcpy(k->raddr, e->raddr, sizeof(k->raddr));
	k->rport = e->rport;
	k->family = e->family;
	n = bpf_map_lookup_elem(&counts, k);
	if (!n) {
		bpf_map_update_elem(&counts, k, &zero, BPF_NOEXIST);
		n = bpf_map_lookup_elem(&counts, k);
	}
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		__sync_fetch_and_add(&lost_counts, 1);
}

/* A row (or a count) for a finished connect attempt. */
static __always_inline void deliver(const struct event *e)
{
	struct count_key k = {};

	if (cfg.count_only)
		count(&k, e);
	else
		emit(e);
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

static __always_inline void outcome_connect_return(enum rd m, struct sock *sk, int ret,
						   const struct sockaddr *uaddr);

/* fentry and kprobe modes: the programs are in connect.bpf.h */
static __always_inline int on_connect_return(enum rd m, struct sock *sk, int ret,
					     const struct sockaddr *uaddr)
{
	struct event e = {};

	if (cfg.outcome)
		outcome_connect_return(m, sk, ret, uaddr);
	else if (ret == 0 && connect_begin(m, &e, sk))
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

static __always_inline void outcome_port(const struct sock *sk);

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tp_retransmit, const struct sock *sk)
{
	if (cfg.outcome) /* a blocking connect's port, for its row if it is still pending at exit */
		outcome_port(sk);
	else
		finish_pending(sk, false);
	return 0;
}

/* ---- -o: how each attempt went, in every mode ---- */

/*
 * With -o an attempt is tracked from its start, in the caller's context
 * (who, where to, when), to its outcome, wherever that comes (the network
 * receive path, a timer, the caller closing the socket):
 *   established                      the handshake completed
 *   refused                          a RST answered the SYN (the RST hook
 *                                    marks the entry; its error ends it)
 *   another sk_err                   an ICMP unreachable, a timeout
 *   no error                         aborted by its caller (close, disconnect)
 *   failed inside connect()          before any SYN left: its return reports
 *                                    it, with the syscall's errno
 * The start and the hooks differ by mode:
 * - fentry: the attempt starts at the return of
 *   tcp_v4_connect()/tcp_v6_connect() (its SYN sent, the socket still
 *   locked by its caller, so nothing has answered yet) and ends on hooks
 *   that run once per attempt, or leave at once: tcp_finish_connect()
 *   (established), the socket's error report (refused, ICMP, timeout: the
 *   kernel sets sk_err, then reports it), tcp_close() and tcp_disconnect()
 *   of a socket still in SYN_SENT (aborted). No program runs at the other
 *   state changes of every TCP socket.
 * - tracepoint and kprobe: from the socket entering SYN_SENT to its
 *   leaving it, both seen by sock:inet_sock_set_state (a BTF tracepoint, or
 *   in kprobe mode a raw one); a connect that fails before SYN_SENT (no
 *   route) is seen at the exit of connect(2) (tracepoint) or the
 *   kretprobes' return (kprobe).
 * The attempts still pending at the end are read by userspace from the
 * pending map.
 */
#define EINTR 4
#define EISCONN 106
#define EALREADY 114
#define EINPROGRESS 115
#define ECONNREFUSED 111
#define ETIMEDOUT 110
#define ERESTARTSYS 512
#define ERESTART_RESTARTBLOCK 516

static __always_inline void deliver_outcome(struct event_more *r)
{
	struct count_key k = { .outcome = r->outcome, .err = r->err };

	if (cfg.count_only)
		count(&k, &r->e);
	else
		emit_more(r);
}

/*
 * Tracepoint mode: the socket whose failed attempt was reported, by the tid
 * of its caller; that caller's connect(2) returning the error is no news.
 * Refused and timed-out attempts are not kept: connect(2) returns those
 * errors only after a SYN, so the exit knows them for reported (the
 * refused ones are most failures, and cost the least this way).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64); /* sk_key() */
} reported_by_tid SEC(".maps");

/* An error connect(2) returns only after its SYN left: the state change reported it */
static __always_inline bool after_syn_errno(long err)
{
	return err == ECONNREFUSED || err == ETIMEDOUT;
}

/*
 * -o: an attempt begins inside connect(), in its caller's context: sk
 * entering SYN_SENT (tracepoint and kprobe modes: no local port yet,
 * unless bound) or tcp_v*_connect() returning (fentry).
 */
static __always_inline void outcome_begin(enum rd m, const struct sock *sk)
{
	struct event e = {};
	__u64 key = sk_key(sk);

	if (RD(m, sk, sk_protocol) == IPPROTO_TCP && connect_begin(m, &e, sk))
		track(&pending, &key, &e);
}

/* -o: the attempt on sk ended, established or not (sk_err, a RST, or aborted) */
static __always_inline void outcome_end(enum rd m, const struct sock *sk, bool established)
{
	struct event_more r = {};
	__u64 key = sk_key(sk), now;

	if (!connect_take(sk, &r.e))
		return;
	if (established) {
		r.outcome = OC_ESTABLISHED;
	} else {
		r.err = RD(m, sk, sk_err);
		if (!r.err)
			r.outcome = OC_ABORTED;
		else if (r.err == ECONNREFUSED && (r.e.flags & EVF_RST))
			r.outcome = OC_REFUSED;
		else
			r.outcome = OC_ERROR;
		if (cfg.connect_exits && !after_syn_errno(r.err)) {
			__u32 tid = r.e.tid;

			bpf_map_update_elem(&reported_by_tid, &tid, &key, BPF_ANY);
		}
	}
	now = bpf_ktime_get_boot_ns();
	r.dur_ns = now - r.e.ts_ns;
	r.have = HAVE_DUR;
	r.e.ts_ns = now;
	r.e.flags &= ~EVF_RST;
	r.e.lport = sock_lport(sk);
	deliver_outcome(&r);
}

/*
 * -o, tracepoint and kprobe modes: a state change (tp_outcome_state and
 * raw_outcome_state below). Most concern no attempt and leave at the first
 * tests, before any work: an accepted connection's SYN_RECV has no socket
 * of a caller yet, a simultaneous open's does. A socket closing before any
 * segment left failed inside connect(): its exit or return reports it.
 */
static __always_inline void outcome_state(enum rd m, const struct sock *sk, int oldstate,
					  int newstate)
{
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		outcome_begin(m, sk);
	} else if ((oldstate == TCP_SYN_SENT ||
		    (oldstate == TCP_SYN_RECV && RD(m, sk, sk_socket))) &&
		   newstate != TCP_SYN_RECV) {
		if (newstate == TCP_CLOSE &&
		    !BPF_CORE_READ((const struct tcp_sock *)sk, segs_out)) {
			__u64 key = sk_key(sk);

			bpf_map_delete_elem(&pending, &key);
			return;
		}
		outcome_end(m, sk, newstate == TCP_ESTABLISHED);
	}
}

/* A RST came: if sk is connecting, its CLOSE is a refusal. */
static __always_inline void outcome_reset(const struct sock *sk)
{
	__u64 key = sk_key(sk);
	struct event *p = bpf_map_lookup_elem(&pending, &key);

	if (p)
		p->flags |= EVF_RST;
}

/*
 * A connect that failed with err before its SYN left: who, from the current
 * task; where to, from the destination the caller gave (uaddr, in user
 * memory if user); from where, the socket's own address (bound, or none).
 */
static __always_inline void outcome_failed(enum rd m, const struct sock *sk, const void *uaddr,
					   bool user, int err)
{
	struct event_more r = { .outcome = OC_FAILED, .err = err, .have = HAVE_DUR };
	__u16 fam = RD(m, sk, __sk_common.skc_family);
	__u32 *l = (__u32 *)r.e.laddr, *d = (__u32 *)r.e.raddr;
	struct sockaddr_in6 sa = {};

	if (!task_allowed())
		return;
	/* a sockaddr_in is as long as the start of a sockaddr_in6 read first */
	if (user ? bpf_probe_read_user(&sa, sizeof(struct sockaddr_in), uaddr)
		 : bpf_probe_read_kernel(&sa, sizeof(struct sockaddr_in), uaddr))
		return;
	if (fam == AF_INET && sa.sin6_family == AF_INET) {
		r.e.family = 4;
		l[0] = RD(m, sk, __sk_common.skc_rcv_saddr);
		d[0] = ((struct sockaddr_in *)&sa)->sin_addr.s_addr;
	} else if (fam == AF_INET6 && sa.sin6_family == AF_INET) { /* as tcp_v6_connect() maps it */
		r.e.family = 6;
		d[2] = bpf_htonl(0x0000ffff);
		d[3] = ((struct sockaddr_in *)&sa)->sin_addr.s_addr;
	} else if (fam == AF_INET6 && sa.sin6_family == AF_INET6) {
		if (user ? bpf_probe_read_user(&sa, sizeof(sa), uaddr)
			 : bpf_probe_read_kernel(&sa, sizeof(sa), uaddr))
			return;
		r.e.family = 6;
		__builtin_memcpy(r.e.raddr, &sa.sin6_addr, sizeof(r.e.raddr));
	} else {
		return;
	}
	if (r.e.family == 6 && v4mapped(r.e.raddr)) {
		l[2] = bpf_htonl(0x0000ffff);
		l[3] = RD(m, sk, __sk_common.skc_rcv_saddr);
	} else if (r.e.family == 6) {
		rd_bytes(m, r.e.laddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
	}
	r.e.rport = bpf_ntohs(sa.sin6_port); /* where sin_port is too */
	r.e.netns = RD(m, sk, __sk_common.skc_net.net, ns.inum);
	if ((cfg.family && cfg.family != r.e.family) || (cfg.netns && cfg.netns != r.e.netns) ||
	    !port_allowed(r.e.rport))
		return;
	r.e.lport = sock_lport(sk); /* a bound port, or 0 */
	task_fill(&r.e);
	r.e.type = EV_CONNECT;
	deliver_outcome(&r);
}

/* The local port is chosen by now: a row of the attempt pending at exit shows it. */
static __always_inline void outcome_port(const struct sock *sk)
{
	__u64 key = sk_key(sk);
	struct event *p = bpf_map_lookup_elem(&pending, &key);

	if (p)
		p->lport = sock_lport(sk);
}

/*
 * fentry and kprobe modes: tcp_v*_connect() returned. A failure is reported
 * here. With 0 its SYN is sent (or deferred to the first write, for a TCP
 * Fast Open connect): in fentry mode the attempt starts here (who, where
 * to, the local port and the time); in kprobe mode it started at its
 * state change, which now has a local port.
 */
static __always_inline void outcome_connect_return(enum rd m, struct sock *sk, int ret,
						   const struct sockaddr *uaddr)
{
	if (ret < 0)
		outcome_failed(m, sk, uaddr, false, -ret);
	else if (ret == 0 && m == RD_BTF)
		outcome_begin(m, sk);
	else if (ret == 0)
		outcome_port(sk);
}

/* The handshake completed: the SYN-ACK came (tcp_finish_connect()) */
static __always_inline void outcome_established(enum rd m, const struct sock *sk)
{
	outcome_end(m, sk, true);
}

/*
 * The socket's error report: a RST, an ICMP error or the SYN retries'
 * timeout set sk_err and end the attempt. A report with no error yet (an
 * ICMP error queued for IP_RECVERR, before tcp_v*_err() sets sk_err) ends
 * nothing.
 */
static __always_inline void outcome_error(enum rd m, const struct sock *sk)
{
	if (RD(m, sk, sk_err))
		outcome_end(m, sk, false);
}

/* The caller closes or disconnects sk: an attempt still in SYN_SENT is aborted. */
static __always_inline void outcome_abort(enum rd m, const struct sock *sk)
{
	if (RD(m, sk, __sk_common.skc_state) == TCP_SYN_SENT)
		outcome_end(m, sk, false);
}

static __always_inline void outcome_rst(enum rd m, const struct sock *sk)
{
	outcome_reset(sk);
}

/* fentry mode: the program of a function whose first argument is the socket, at its entry */
#define SK_ENTRY_PROG(func, name, body)              \
	SEC("fentry/" #func)                         \
	int BPF_PROG(fentry_##name, struct sock *sk) \
	{                                            \
		body(RD_BTF, sk);                    \
		return 0;                            \
	}

SK_ENTRY_PROG(tcp_reset, reset, outcome_rst)
SK_ENTRY_PROG(tcp_finish_connect, finish_connect, outcome_established)
SK_ENTRY_PROG(sock_def_error_report, error_report, outcome_error)
SK_ENTRY_PROG(tcp_close, close, outcome_abort)
SK_ENTRY_PROG(tcp_disconnect, disconnect, outcome_abort)

/*
 * tracepoint mode: a program of its own, so that tp_set_state without -o
 * stays as short as it was (a branch in it for -o cost it 8%: its early
 * exit went far)
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tp_outcome_state, const struct sock *sk, int oldstate, int newstate)
{
	outcome_state(RD_BTF, sk, oldstate, newstate);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tp_reset, const struct sock *sk)
{
	outcome_reset(sk);
	return 0;
}

/*
 * kprobe mode: the same two tracepoints, raw (no BTF needed). Not kprobes
 * on the functions of the fentry programs: those run in softirqs, and a
 * kprobe hit in a softirq that interrupted another kprobe on the same CPU
 * is skipped (state.bpf.h).
 */
SEC("raw_tracepoint/inet_sock_set_state")
int BPF_PROG(raw_outcome_state, const struct sock *sk, int oldstate, int newstate)
{
	outcome_state(RD_PROBE, sk, oldstate, newstate);
	return 0;
}

SEC("raw_tracepoint/tcp_receive_reset")
int BPF_PROG(raw_reset, const struct sock *sk)
{
	outcome_reset(sk);
	return 0;
}

/*
 * connect(2) returned: a failure the state changes did not report (none
 * happened: no route; or the socket closed before its SYN: no local port),
 * or (EINPROGRESS) the local port of an attempt under way. A success has
 * been reported by then, and so has a refusal or a timeout; errors that are
 * no new attempt (already connecting or connected, interrupted) are left,
 * by connect_exit_news(), before any other work. regs: the caller's saved
 * registers, for the call's arguments.
 */
static __always_inline bool connect_exit_news(long ret)
{
	return ret != 0 && ret != -EALREADY && ret != -EISCONN && ret != -EINTR &&
	       !(ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK) && !after_syn_errno(-ret);
}

/* connect(2) returned ret, of which connect_exit_news() said yes */
static __always_inline int on_connect_exit(struct pt_regs *regs, long ret)
{
	const struct sock *sk;
	__u64 key, *seen;
	__u32 tid;

	sk = fd_sock(SYSCALL_ARG0(regs));
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	if (ret == -EINPROGRESS) {
		outcome_port(sk);
		return 0;
	}
	tid = (__u32)bpf_get_current_pid_tgid();
	key = sk_key(sk);
	seen = bpf_map_lookup_elem(&reported_by_tid, &tid);
	if (seen && *seen == key) {
		bpf_map_delete_elem(&reported_by_tid, &tid);
		return 0;
	}
	outcome_failed(RD_PROBE, sk, (const void *)SYSCALL_ARG1(regs), true, -ret);
	return 0;
}

/*
 * The exit comes in two kinds, as accept's do (accept.bpf.h); userspace
 * loads one (connect_exit_raw() in loader.c):
 * - the classic tracepoint of connect(2) alone, where tracefs and
 *   perf_event_open() serve and the kernel has bpf_task_pt_regs() (Linux
 *   5.15) to find the arguments, which its record lacks;
 * - the raw tracepoint of every syscall's exit, filtered here by number.
 */
SEC("tracepoint/syscalls/sys_exit_connect")
int sys_exit_connect(struct sys_exit_args *ctx)
{
	struct pt_regs *regs;

	if (!connect_exit_news(ctx->ret) ||
	    !bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_task_pt_regs))
		return 0;
	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return on_connect_exit(regs, ctx->ret);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_connect_raw, struct pt_regs *regs, long ret)
{
	/* every syscall of the machine passes here: leave at once */
	if (SYSCALL_NR(regs) != cfg.nr_connect || !connect_exit_news(ret) || COMPAT_TASK())
		return 0;
	return on_connect_exit(regs, ret);
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
