/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * One tool's BPF object opened, configured, loaded and attached in an
 * attach mode (each in turn for auto, the first that works), and its links
 * kept until they are destroyed.
 */
#ifndef LOADER_H
#define LOADER_H

#include <stddef.h>
#include "preflight.h"
#include "skeleton.h"

#ifndef MAX_LINKS    /* a test builds with -DMAX_LINKS=1 */
#define MAX_LINKS 16 /* room for the programs of one attach mode */
#endif

struct loader {
	const struct opts *opts;
	const struct skel_ops *ops;
	const struct user_maps *maps; /* preflight's, reused by the filter maps */
	void *skel;		      /* the skeleton, open from the first try on */
	struct bpf_object *obj;
	enum attach_mode mode; /* the mode tried, then in use */
	struct bpf_link *links[MAX_LINKS];
	enum prog_role roles[MAX_LINKS]; /* the role of each link's program */
	int nlinks;
	int cgroup_root_fd; /* the cgroup2 root a cgroup_skb program attaches to, or -1 */
	/*
	 * called once a mode's programs are attached: 0, or -1 with why set to
	 * fail that mode too (the next is tried)
	 */
	int (*attached)(void *ctx, char *why, size_t len);
	void *attached_ctx;
};

/* Ready l for loader_attach(); --debug from now on shows libbpf's messages. */
void loader_init(struct loader *l, const struct opts *o, const struct skel_ops *ops,
		 const struct user_maps *maps);

/*
 * Load and attach in the mode o asked for (each in turn for auto). 0, or
 * the exit status after one line naming the cause for each mode tried.
 */
int loader_attach(struct loader *l);

/* The program of table entry e, in the open skeleton. */
struct bpf_program *loader_prog(const struct loader *l, const struct prog_entry *e);

/*
 * How many times the kernel skipped the loaded programs rather than run one
 * inside another on the same CPU (bpf_prog_info's recursion_misses, summed):
 * counted for fentry and BTF tracepoint programs from Linux 5.12, for
 * kprobes and classic tracepoints from 6.7; 0 where the kernel does not
 * count.
 */
__u64 loader_misses(const struct loader *l);

/* Destroy the links of the programs of role r: they stop running. */
void loader_detach_role(struct loader *l, enum prog_role r);

/* Destroy every link: no program runs, the maps stay readable. */
void loader_detach(struct loader *l);

/* Detach, then free the skeleton and what attaching needed. */
void loader_unload(struct loader *l);

#endif
