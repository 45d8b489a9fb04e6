/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Types shared by the BPF programs and the userspace tools: the one event
 * record of the suite and the configuration the loader writes into .rodata.
 */
#ifndef TCPEVENT_H
#define TCPEVENT_H

#define TASK_COMM_LEN 16
#define MAX_PORTS 1024 /* most entries a -P list may have */
#define RINGBUF_BYTES (1u << 20)
#define ACCEPT_WAITERS_MAX 4096 /* most threads listed as blocked in accept at start */

enum event_type {
	EV_CONNECT = 1,
	EV_ACCEPT = 2,
	EV_CLOSE = 3,
};

/*
 * One connection event. Addresses are in network byte order; an IPv4
 * address sits in the first 4 bytes. Ports are in host byte order.
 * "Local" and "remote" are seen from the traced socket.
 */
struct event {
	__u64 ts_ns; /* CLOCK_BOOTTIME, when the event happened */
	__u32 pid;   /* tgid */
	__u32 tid;
	__u32 uid;
	__u32 netns; /* inode of the socket's network namespace */
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family; /* 4 or 6 */
	__u8 type;   /* enum event_type */
	__u8 flags;  /* EVF_* */
	__u8 pad;
	char comm[TASK_COMM_LEN];
};

#define EVF_MORE 0x1 /* the record is a struct event_more */
#define EVF_RST 0x2  /* (BPF side only) a RST came while connecting */

/* tcpconnect -o: how a connect attempt went */
enum outcome {
	OC_NONE,
	OC_ESTABLISHED,
	OC_REFUSED, /* the peer answered the SYN with a RST */
	OC_ERROR,   /* the socket got error err after its SYN left (ICMP, timeout) */
	OC_ABORTED, /* the caller closed or disconnected it while connecting */
	OC_FAILED,  /* connect(2) failed with err before any SYN left */
	OC_PENDING, /* still connecting when tracing stopped (userspace only) */
};

/* Which figures of a struct event_more are known */
#define HAVE_DUR 0x1   /* dur_ns */
#define HAVE_DUR2 0x2  /* dur2_ns */
#define HAVE_BYTES 0x4 /* tx_bytes and rx_bytes */

/*
 * A row with figures beyond bcc's columns, sent only when an option asks
 * for them (e.flags has EVF_MORE). The durations:
 *   tcpconnect -o  dur_ns: from the socket entering SYN_SENT to the outcome
 *   tcpaccept -q   dur_ns: from ESTABLISHED to accept() returning it (the
 *                  accept queue); dur2_ns: the handshake (SYN-ACK to ACK)
 *   tcptracer -l   dur_ns: from the connection's C or A to its X
 */
struct event_more {
	struct event e;
	__u64 dur_ns;
	__u64 dur2_ns;
	__u64 tx_bytes; /* tcptracer -l: data bytes the peer acknowledged */
	__u64 rx_bytes; /* tcptracer -l: data bytes received */
	__s32 err;	/* tcpconnect -o: the errno of OC_REFUSED, OC_ERROR, OC_FAILED */
	__u8 outcome;	/* tcpconnect -o: enum outcome */
	__u8 have;	/* HAVE_* */
	__u8 pad[2];
};

/* tcpconnect -d: the start of a DNS response as a resolver read it */
#define DNS_PAYLOAD_MAX 1024 /* a power of two */
#define DNS_RINGBUF_BYTES (1u << 18)

struct dns_record {
	__u64 ts_ns; /* CLOCK_BOOTTIME, when it was copied to the reader */
	__u32 len;   /* bytes of data[] that are valid */
	__u32 pad;
	__u8 data[DNS_PAYLOAD_MAX]; /* the UDP payload: the DNS message */
};

/* tcpconnect -c: one counter per (family, laddr, raddr, rport), and with -o per result */
struct count_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 rport;
	__u8 family;
	__u8 outcome; /* -o: enum outcome, else 0 */
	__s32 err;    /* -o: the outcome's errno, else 0 */
};

/* What the loader sets before the programs are loaded. */
struct config {
	__u32 pid;	  /* 0: any */
	__u32 uid;	  /* used when filter_uid */
	__u32 netns;	  /* 0: any */
	__u32 nr_accept;  /* the syscall numbers of accept(2) and accept4(2) */
	__u32 nr_accept4; /* on this architecture (the raw syscall-exit hook) */
	__u32 nr_connect; /* connect(2), likewise (tcpconnect -o in tracepoint mode) */
	__u8 family;	  /* 0: both, else 4 or 6 */
	__u8 filter_uid;
	__u8 filter_ports;
	__u8 filter_cgroup;
	__u8 filter_mntns;
	__u8 count_only;    /* tcpconnect -c: count in the kernel, emit nothing */
	__u8 accept_hooked; /* fentry and kprobe modes: inet_csk_accept has a hook */
	__u8 no_kernel_btf; /* TCPTOOLS_BTF: the kernel's BTF is not used (no BTF task reads) */
	__u8 outcome;	    /* tcpconnect -o: a row per attempt once its outcome is known */
	__u8 queue;	    /* tcpaccept -q: accept-queue wait and handshake */
	__u8 lifetime;	    /* tcptracer -l: X rows with lifetime and bytes */
	__u8 connect_exits; /* tcpconnect -o, tracepoint mode: connect(2)'s exit is hooked */
};

#endif
