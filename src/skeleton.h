/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the shared runtime needs from a tool's bpftool skeleton, reached
 * through its typed fields (a missing map or program does not compile).
 * Define it with SKEL_OPS(name, table) right after including name.skel.h,
 * or with SKEL_OPS_LOSSES(name, table, SKEL_LOST(name, cause, variable)...)
 * for a BPF object that counts more causes than core.bpf.h does; table is
 * the tool's struct prog_entry array (progs.h).
 *
 * The contract with the BPF side (core.bpf.h gives every object these):
 *   - a .rodata struct config named cfg, written before load;
 *   - .bss counters lost_events and lost_tracking (and any SKEL_LOST ones),
 *     and the .bss flag reader_asleep;
 *   - a ring buffer map named events of struct event records, and the maps
 *     ports, cgroup_filter and mntns_filter, which the runtime sizes or
 *     replaces before load;
 *   - every program in the table, once: the loader checks.
 */
#ifndef SKELETON_H
#define SKELETON_H

#include <bpf/libbpf.h>
#include "progs.h"
#include "tcpevent.h"

/* Why something was lost (each has its own counter and warning). */
enum loss {
	LOSS_EVENTS,   /* the event ring was full: rows are missing */
	LOSS_TRACKING, /* a tracking map was full: those connections have no row */
	LOSS_COUNTS,   /* tcpconnect -c: the count table was full */
	LOSS_DNS,      /* tcpconnect -d: the DNS ring was full: names may be missing */
	LOSS_MISSED,   /* the kernel skipped a program (no .bss counter: loader_misses()) */
	NLOSSES
};

/* The maps every BPF object has (core.bpf.h). */
struct core_maps {
	struct bpf_map *events, *ports, *cgroup_filter, *mntns_filter;
};

struct skel_ops {
	void *(*open)(const struct bpf_object_open_opts *oo);
	int (*load)(void *skel); /* also maps .bss, where the drop counter is */
	void (*destroy)(void *skel);
	struct bpf_object *(*object)(void *skel);
	struct config *(*config)(void *skel); /* the .rodata cfg, before load */
	/* the .bss counter of what cause l lost; NULL if the tool has none */
	volatile __u64 *(*lost)(void *skel, enum loss l);
	/* the .bss flag that asks the BPF side to wake a sleeping reader */
	__u32 *(*asleep)(void *skel);
	struct core_maps (*core_maps)(void *skel);
	const struct prog_entry *progs; /* a table entry per program of the object */
	size_t nprogs;
};

/* Lost counters every BPF object has (core.bpf.h) */
#define SKEL_LOST_COMMON(sk)                    \
	SKEL_LOST(sk, LOSS_EVENTS, lost_events) \
	SKEL_LOST(sk, LOSS_TRACKING, lost_tracking)
/* A case of the lost() switch: cause l is counted in .bss variable var */
#define SKEL_LOST(sk, l, var) \
	case l:               \
		return &((struct sk *)s)->bss->var;

#define SKEL_OPS_LOSSES(sk, table, more)                                                     \
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
	static __u32 *sk##_asleep_(void *s)                                                  \
	{                                                                                    \
		return &((struct sk *)s)->bss->reader_asleep;                                \
	}                                                                                    \
	static struct core_maps sk##_core_maps_(void *s)                                     \
	{                                                                                    \
		struct sk *k = s;                                                            \
		struct core_maps m = { k->maps.events, k->maps.ports, k->maps.cgroup_filter, \
				       k->maps.mntns_filter };                               \
		return m;                                                                    \
	}                                                                                    \
	static const struct skel_ops sk##_ops = {                                            \
		.open = sk##_open_,                                                          \
		.load = sk##_load_,                                                          \
		.destroy = sk##_destroy_,                                                    \
		.object = sk##_object_,                                                      \
		.config = sk##_config_,                                                      \
		.lost = sk##_lost_,                                                          \
		.asleep = sk##_asleep_,                                                      \
		.core_maps = sk##_core_maps_,                                                \
		.progs = (table),                                                            \
		.nprogs = sizeof(table) / sizeof((table)[0]),                                \
	}

#define SKEL_OPS(sk, table) SKEL_OPS_LOSSES(sk, table, )

#endif
