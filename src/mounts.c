// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tracefs and cgroup2, found or mounted privately (mounts.h). */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h> /* CGROUP2_SUPER_MAGIC */
#include "kernel.h"
#include "messages.h"
#include "mounts.h"

#define CGROUP2 "/sys/fs/cgroup" /* where a cgroup2 hierarchy is mounted if none is */

static int mount_privately(const char *fstype, const char *target, char *why, size_t len);
static int cgroup2_mounted(void);

/*
 * stat(), not access(): a tool run with capabilities but another user's
 * real UID must be judged by what it can do.
 */
int tracefs_state(const char **dir)
{
	static const char *const dirs[] = { TRACEFS, "/sys/kernel/debug/tracing" };
	struct stat st;
	size_t i;

	for (i = 0; i < 2; i++) {
		char events[64];

		*dir = dirs[i];
		snprintf(events, sizeof(events), "%s/events", dirs[i]);
		if (!stat(events, &st))
			return 0;
		if (errno == EACCES)
			return EACCES;
	}
	return ENOENT;
}

int ensure_tracefs(char *why, size_t len)
{
	const char *dir;
	int state = tracefs_state(&dir);

	if (state == EACCES) {
		snprintf(why, len, "cannot read tracefs at %s (%s)", dir, strerror(EACCES));
		return -1;
	}
	return state ? mount_privately("tracefs", TRACEFS, why, len) : 0;
}

/* Where none is mounted (under "ip netns exec", which mounts a /sys of its own), mount one. */
int cgroup2_root(char *why, size_t len)
{
	int fd = cgroup2_mounted();

	if (fd >= 0 || mount_privately("cgroup2", CGROUP2, why, len))
		return fd;
	fd = open(CGROUP2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		snprintf(why, len, "cannot open the cgroup2 hierarchy on %s (%s)", CGROUP2,
			 strerror(errno));
	return fd;
}

/*
 * Mount a file system in the tool's own mount namespace, made on first use
 * (a namespace is the process's: one flag serves): nothing is left to undo
 * at exit, however it ends.
 */
static int mount_privately(const char *fstype, const char *target, char *why, size_t len)
{
	static bool own_mntns;

	if (!own_mntns) {
		/* private: nothing mounted here propagates out ("/" is no mount in a chroot) */
		if (unshare(CLONE_NEWNS) ||
		    (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) &&
		     mount("none", "/sys", "none", MS_REC | MS_PRIVATE, NULL))) {
			snprintf(why, len,
				 "%s is not mounted on %s, and the tool cannot mount it in a mount "
				 "namespace of its own (%s%s)",
				 fstype, target, strerror(errno),
				 errno == EPERM ? ": that needs CAP_SYS_ADMIN" : "");
			return -1;
		}
		own_mntns = true;
	}
	if (mount(fstype, target, fstype, 0, NULL)) {
		snprintf(why, len, "%s is not mounted, and mounting it on %s failed (%s)", fstype,
			 target, strerror(errno));
		return -1;
	}
	debug_line("mounted %s on %s in a mount namespace of its own (the system's mounts are "
		   "untouched)",
		   fstype, target);
	return 0;
}

/* A cgroup2 hierarchy mounted already, or -1. */
static int cgroup2_mounted(void)
{
	FILE *f = fopen("/proc/self/mounts", "r");
	char dev[256], dir[4096], type[64];
	int fd = -1;

	if (!f)
		return -1;
	while (fd < 0 && fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3) {
		struct statfs sf;

		if (strcmp(type, "cgroup2") != 0)
			continue;
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* listed, but hidden under a later mount (a /sys mounted again) */
		if (fd >= 0 && (fstatfs(fd, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)) {
			close(fd);
			fd = -1;
		}
	}
	fclose(f);
	if (fd < 0)
		errno = ENOENT;
	return fd;
}
