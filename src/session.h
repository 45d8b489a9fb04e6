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

#ifndef MAX_LINKS
#define MAX_LINKS 16 /* room for the programs of one attach mode */
#endif

/* Called for each event; returns 0 to go on. */
typedef int (*event_fn)(void *ctx, const struct event *e);

struct session {
	const struct tool_desc *tool;
	const struct opts *opts;
	const struct skel_ops *ops;
	void *skel; /* the loaded and attached skeleton */
	struct bpf_object *obj;
	enum attach_mode mode; /* the mode in use */
	struct bpf_link *links[MAX_LINKS];
	int nlinks;
	struct ring_buffer *rb;
	int cgroup_fd;
	int mntns_fd;
	int cgroup_root_fd; /* the cgroup2 root a cgroup_skb program attaches to */
	bool own_mntns;	    /* in a mount namespace of the tool's own */
	__u64 lost_reported[NLOSSES];
	event_fn fn;
	void *ctx;
	/* called before each batch of events is read (NULL: nothing) */
	void (*before_batch)(struct session *s);
	/*
	 * another ring whose wakeups end the wait for a batch (NULL: none);
	 * before_batch drains it
	 */
	struct ring_buffer *extra_rb;
};

/*
 * Check privileges and map paths, then load and attach in the mode asked for
 * (trying each in turn for auto). Prints one line and returns the exit code
 * on failure (1 for the system, 2 for bad input); 0 when tracing. Prints no
 * banner: the caller does, once its own setup has succeeded too.
 */
int session_start(struct session *s, const struct tool_desc *t, const struct opts *o,
		  const struct skel_ops *ops, event_fn fn, void *ctx);

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

/* Detach and free everything; report the lost total. Safe to call twice. */
void session_stop(struct session *s);

void debug(const struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
