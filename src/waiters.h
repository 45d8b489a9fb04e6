/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * fentry mode: the threads that may be inside an accept(2) that
 * began before tracing did, which the hook on inet_csk_accept cannot see
 * return (accept_waiters in src/bpf/accept.bpf.h).
 */
#ifndef WAITERS_H
#define WAITERS_H

#include "tcpevent.h"

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

#endif
