/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What a tool checks before anything is loaded: its privileges, the
 * kernel's type information (BTF), and the pinned maps the user named
 * (--cgroupmap, --mntnsmap), which it opens.
 */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

#include <stdbool.h>
#include "options.h"

/* The pinned maps the user named, open: their fds, or -1 without the option. */
struct user_maps {
	int cgroup_fd; /* --cgroupmap */
	int mntns_fd;  /* --mntnsmap */
};

/*
 * Every check, in the order a user meets them: the map paths exist, the
 * capabilities suffice, BTF is readable, the paths are hash maps of the
 * right sizes. Returns 0, or the exit status after one line (1 for the
 * system, 2 for bad input). m's fds are open or -1 either way.
 */
int preflight(const struct opts *o, struct user_maps *m);

/* Close what preflight() opened. */
void user_maps_close(struct user_maps *m);

/*
 * Is capability cap (CAP_* of linux/capability.h) in the process's
 * effective set? The set is read from /proc once.
 */
bool have_cap(int cap);

#endif
