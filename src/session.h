/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef SESSION_H
#define SESSION_H

#include <bpf/libbpf.h>
#include "options.h"

/* Why something was lost (each has its own counter and warning). */
enum loss {
	LOSS_EVENTS,   /* the event ring was full: rows are missing */
	LOSS_TRACKING, /* a tracking map was full: those connections have no row */
	LOSS_COUNTS,   /* tcpconnect -c: the count table was full */
	LOSS_DNS,      /* tcpconnect -d: the DNS ring was full: names may be missing */
	NLOSSES
};

/*
 * What the shared runtime needs from a tool's bpftool skeleton. Define it with
 * SKEL_OPS(name) right after including name.skel.h, or with
 * SKEL_OPS_LOSSES(name, SKEL_LOST(name, cause, variable)...) for a BPF
 * object that counts more causes than core.bpf.h does.
 *
 * The contract with the BPF side (core.bpf.h gives every object these):
 *   - a .rodata struct config named cfg, written before load;
 *   - .bss counters lost_events and lost_tracking (and any SKEL_LOST ones);
 *   - a ring buffer map named events of struct event records, and the maps
 *     ports, cgroup_filter and mntns_filter, which the runtime sizes or
 *     replaces before load;
 *   - programs are loaded in the attach mode their type says, except those
 *     named all_*, loaded in every mode (prog_in_mode() in session.c); a
 *     tool's want_prog (struct tool_desc) may leave some out.
 */
struct skel_ops {
	void *(*open)(const struct bpf_object_open_opts *oo);
	int (*load)(void *skel); /* also maps .bss, where the drop counter is */
	void (*destroy)(void *skel);
	struct bpf_object *(*object)(void *skel);
	struct config *(*config)(void *skel); /* the .rodata cfg, before load */
	/* the .bss counter of what cause l lost; NULL if the tool has none */
	volatile __u64 *(*lost)(void *skel, enum loss l);
};

/* Lost counters every BPF object has (core.bpf.h) */
#define SKEL_LOST_COMMON(sk)                    \
	SKEL_LOST(sk, LOSS_EVENTS, lost_events) \
	SKEL_LOST(sk, LOSS_TRACKING, lost_tracking)
/* A case of the lost() switch: cause l is counted in .bss variable var */
#define SKEL_LOST(sk, l, var) \
	case l:               \
		return &((struct sk *)s)->bss->var;

#define SKEL_OPS_LOSSES(sk, more)                                                            \
	static void *sk##_open_(const struct bpf_object_open_opts *oo)                       \
	{                                                                                    \
		return sk##__open_opts(oo);                                                  \
	}                                                                                    \
	static int sk##_load_(void *s)                                                       \
	{                                                                                    \
		return sk##__load(s);                                                        \
	}                                                                                    \
	static void sk##_destroy_(void *s)                                                   \
	{                                                                                    \
		sk##__destroy(s);                                                            \
	}                                                                                    \
	static struct bpf_object *sk##_object_(void *s)                                      \
	{                                                                                    \
		return ((struct sk *)s)->obj;                                                \
	}                                                                                    \
	static struct config *sk##_config_(void *s)                                          \
	{                                                                                    \
		return (struct config *)&((struct sk *)s)->rodata->cfg;                      \
	}                                                                                    \
	static volatile __u64 *sk##_lost_(void *s, enum loss l)                              \
	{                                                                                    \
		switch (l) {                                                                 \
			SKEL_LOST_COMMON(sk)                                                 \
			more;                                                                \
		default:                                                                     \
			return NULL;                                                         \
		}                                                                            \
	}                                                                                    \
	static const struct skel_ops sk##_ops = { sk##_open_,	sk##_load_,   sk##_destroy_, \
						  sk##_object_, sk##_config_, sk##_lost_ }

#define SKEL_OPS(sk) SKEL_OPS_LOSSES(sk, )

/* Called for each event; returns 0 to go on. */
typedef int (*event_fn)(void *ctx, const struct event *e);

/* A tracing session: the loaded and attached BPF object and its rings. */
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

/* The BPF object's map called name, or NULL. */
struct bpf_map *session_map(const struct session *s, const char *name);

/*
 * Also read the ring buffer map called name: its records go to fn before
 * each batch of events and at session_read_rings(), and a ring half full
 * ends the wait for a batch early. 0, or -1 with errno set.
 */
int session_add_ring(struct session *s, const char *name, ring_buffer_sample_fn fn, void *ctx);

/* Hand every record waiting in the rings of session_add_ring() to its fn. */
void session_read_rings(struct session *s);

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
