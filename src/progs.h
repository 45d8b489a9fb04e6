/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Which programs of a tool's BPF object are loaded when: a table per tool
 * (next to its skeleton, in src/tcp*.c) with an entry per program, naming
 * the program through the skeleton's typed field (a misspelt program does
 * not compile), the attach modes it belongs to and its role. The programs
 * of the BPF headers two tools share are listed here, once.
 */
#ifndef PROGS_H
#define PROGS_H

#include <stddef.h>
#include "options.h"

/* The attach modes a program belongs to */
#define IN_FENTRY (1u << ATTACH_FENTRY)
#define IN_KPROBE (1u << ATTACH_KPROBE)
#define IN_TRACEPOINT (1u << ATTACH_TRACEPOINT)
#define IN_EVERY_MODE (IN_FENTRY | IN_KPROBE | IN_TRACEPOINT)

/* What a program is for, when that decides whether it is loaded. */
enum prog_role {
	ROLE_HOOK,	       /* a hook of the tool's: loaded in its modes */
	ROLE_DNS,	       /* tcpconnect -d's DNS capture: loaded only with -d */
	ROLE_ACCEPT_EXIT,      /* an accept syscall exit on its classic tracepoint */
	ROLE_ACCEPT_EXIT_RAW,  /* the accept syscall exits on the raw sys_exit one */
	ROLE_OUTCOME,	       /* tcpconnect -o's hooks: loaded only with -o */
	ROLE_NO_OUTCOME,       /* a hook -o does without: loaded only without it */
	ROLE_OUTCOME_EXIT,     /* -o's connect exit on its classic tracepoint */
	ROLE_OUTCOME_EXIT_RAW, /* -o's connect exit on the raw sys_exit one */
};

struct prog_entry {
	size_t offset;	    /* of the program's pointer in the skeleton (progs.NAME) */
	unsigned int modes; /* IN_* */
	enum prog_role role;
};

/* The entry of program name of skeleton struct sk, for the lists below */
#define PROG_ENTRY(sk, name, modes, role)                        \
	{                                                        \
		offsetof(struct sk, progs.name), (modes), (role) \
	}

/* src/bpf/accept.bpf.h (tcpaccept, tcptracer): X(sk, program, modes, role), ... */
#define ACCEPT_PROGS(X, sk)                                               \
	X(sk, fexit_csk_accept, IN_FENTRY, ROLE_HOOK),                    \
		X(sk, kretprobe_csk_accept, IN_KPROBE, ROLE_HOOK),        \
		X(sk, sys_exit_accept, IN_EVERY_MODE, ROLE_ACCEPT_EXIT),  \
		X(sk, sys_exit_accept4, IN_EVERY_MODE, ROLE_ACCEPT_EXIT), \
		X(sk, sys_exit_raw, IN_EVERY_MODE, ROLE_ACCEPT_EXIT_RAW)

/* src/bpf/connect.bpf.h (tcpconnect, tcptracer): its fentry and kprobe programs */
#define CONNECT_PROGS(X, sk)                                       \
	X(sk, fexit_v4_connect, IN_FENTRY, ROLE_HOOK),             \
		X(sk, fexit_v6_connect, IN_FENTRY, ROLE_HOOK),     \
		X(sk, kprobe_v4_connect, IN_KPROBE, ROLE_HOOK),    \
		X(sk, kretprobe_v4_connect, IN_KPROBE, ROLE_HOOK), \
		X(sk, kprobe_v6_connect, IN_KPROBE, ROLE_HOOK),    \
		X(sk, kretprobe_v6_connect, IN_KPROBE, ROLE_HOOK)

/* src/bpf/state.bpf.h (every tool): tcp_set_state's hooks, in role r */
#define STATE_PROGS(X, sk, r) \
	X(sk, fentry_set_state, IN_FENTRY, r), X(sk, raw_set_state, IN_KPROBE, r)

#endif
