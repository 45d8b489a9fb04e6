/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * fentry mode: the threads that may be inside an accept(2) that
 * began before tracing did, which the hook on inet_csk_accept cannot see
 * return (accept_waiters in src/bpf/accept.bpf.h).
 */
#ifndef WAITERS_H
#define WAITERS_H

#include "session.h"

/*
 * Put into the hash map map_fd (keys: TIDs) every thread of other processes
 * that is blocked in accept(2) or accept4(2), is running (it may be inside
 * one), or cannot be read. Call it once the hook is attached. Returns how
 * many, or -1 if /proc cannot be read or the map is full.
 */
int waiters_list(int map_fd);

/*
 * Take off the list the threads that have exited or are blocked elsewhere
 * (the accept they might have been in has returned). Returns how many are
 * left. Those whose accept returned the BPF side took off already.
 */
int waiters_prune(int map_fd);

/*
 * The start hook (struct tool_hooks) of the tools that report accepts
 * (accept.bpf.h): in fentry mode, list the waiters into map waiters and set
 * listed, then detach the accept syscall exits once no waiter is left
 * (looked at once a second). Where not every thread can be seen (a PID
 * namespace of our own, no CAP_SYS_PTRACE), the exits stay. Returns 0.
 */
int waiters_start(struct session *s, struct bpf_map *waiters, struct bpf_map *listed);

/* The start hook of a tool whose skeleton is struct sk: sk##_waiters_start */
#define WAITERS_HOOK(sk)                                                                       \
	static int sk##_waiters_start(struct session *s, const struct opts *o)                 \
	{                                                                                      \
		struct sk *skel = session_skel(s);                                             \
                                                                                               \
		(void)o;                                                                       \
		return waiters_start(s, skel->maps.accept_waiters, skel->maps.waiters_listed); \
	}

#endif
