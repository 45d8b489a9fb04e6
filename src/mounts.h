/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The file systems some programs need mounted: tracefs for classic
 * tracepoints (libbpf reads each event's id there), cgroup2 for a program
 * on the cgroup hierarchy. Where nobody mounted one, the tool mounts it in
 * a mount namespace of its own: the system's mounts are never changed.
 */
#ifndef MOUNTS_H
#define MOUNTS_H

#include <stddef.h>

/*
 * Can classic tracepoints be found through tracefs? 0 if so, with *dir
 * set; else EACCES (mounted, but not readable: root's only on most
 * systems) or ENOENT (not mounted).
 */
int tracefs_state(const char **dir);

/* tracefs readable, mounted if nobody had: 0, or -1 with why set. */
int ensure_tracefs(char *why, size_t len);

/*
 * An fd of the root of the cgroup v2 hierarchy (every socket of the system
 * is below it), mounted if nobody had; -1 with why set.
 */
int cgroup2_root(char *why, size_t len);

#endif
