/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * A tracing session: the tool's BPF object loaded and attached (loader.h),
 * its rings read in batches until a signal, what was lost reported.
 */
#ifndef SESSION_H
#define SESSION_H

#include <bpf/libbpf.h>
#include "options.h"
#include "skeleton.h"

/* Called for each event; returns 0 to go on. */
typedef int (*event_fn)(void *ctx, const struct event *e);

struct session;

/*
 * Check privileges and map paths, then load and attach in the mode asked for
 * (trying each in turn for auto); fn gets each event. Prints one line and
 * returns the exit code on failure (1 for the system, 2 for bad input); 0
 * when tracing, with *sp set. Prints no banner: the caller does, once its
 * own setup has succeeded too.
 */
int session_start(struct session **sp, const struct tool_desc *t, const struct opts *o,
		  const struct skel_ops *ops, event_fn fn, void *ctx);

/* The loaded skeleton (the tool's struct NAME_bpf), for its typed maps. */
void *session_skel(const struct session *s);

/* The attach mode in use. */
enum attach_mode session_mode(const struct session *s);

/* Destroy the links of the programs of role r (progs.h): they stop running. */
void session_detach_role(struct session *s, enum prog_role r);

/* A periodic callback: true to be called again, false to end the calls. */
typedef bool (*tick_fn)(struct session *s, void *ctx);

/*
 * Call fn(s, ctx) every period_ns while tracing (the first a period after
 * tracing starts, or after this call once it has), until it returns false;
 * one callback at a time, fn NULL for none. The loop wakes for nothing else
 * but events: with no callback, no timer need be kept.
 */
void session_every(struct session *s, __u64 period_ns, tick_fn fn, void *ctx);

/*
 * Also read ring buffer map ring: its records go to fn before each event
 * and on the loop's timer, and a ring half full ends the wait for a batch
 * early. 0, or -1 with errno set.
 */
int session_add_ring(struct session *s, struct bpf_map *ring, ring_buffer_sample_fn fn, void *ctx);

/*
 * Hand e to the session's event function as if it came from the ring (a
 * row a tool makes itself: tcpconnect -o's attempts pending at the end).
 * Returns what the function returns.
 */
int session_deliver(struct session *s, const struct event *e);

/*
 * Deliver events until SIGINT/SIGTERM/SIGHUP or a closed stdout, then drain
 * what is left. Flushes stdout after each batch. Returns the exit code.
 */
int session_run(struct session *s);

/*
 * Destroy the links only: no program runs any more, and the skeleton and its
 * maps stay readable as a consistent snapshot until session_stop().
 */
void session_detach(struct session *s);

/* Detach and free everything; report the lost total. NULL is fine. */
void session_stop(struct session *s);

/*
 * After writing stdout failed with err: 0 for EPIPE (nobody reads any
 * more: leave quietly), else 1 after a one-line message naming tool.
 */
int output_failed(const char *tool, int err);

#endif
