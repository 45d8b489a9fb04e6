// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The threads that may be inside an accept(2) that began before tracing did
 * (see accept_waiters in src/bpf/accept.bpf.h), found in /proc, and the
 * start hook that lists them and detaches the accept syscall exits once
 * none is left (waiters.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include "messages.h"
#include "preflight.h"
#include "waiters.h"

enum where {
	GONE,	   /* the thread has exited */
	MAYBE,	   /* in accept(2) or accept4(2), running, or not readable */
	ELSEWHERE, /* blocked, and not in accept(2) or accept4(2) */
};

/*
 * What /proc/<tid>/syscall says of a thread: "running", or the number of
 * the system call it is blocked in ("-1" outside of one). Reading it needs
 * the right to ptrace the thread; what cannot be read may be in accept.
 */
static enum where thread_where(int tid)
{
	char path[48], text[32];
	ssize_t n;
	long nr;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? GONE : MAYBE;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 && errno == ESRCH ? GONE : MAYBE;
	text[n] = '\0';
	if (!strncmp(text, "running", 7) || sscanf(text, "%ld", &nr) != 1)
		return MAYBE;
	return nr == SYS_accept || nr == SYS_accept4 ? MAYBE : ELSEWHERE;
}

/* The numeric entries of directory path, one call of fn each; -1 if unreadable. */
static int for_each_number(const char *path, int (*fn)(int n, void *ctx), void *ctx)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return -1;
	while (!rc && (de = readdir(d)))
		if (de->d_name[0] >= '1' && de->d_name[0] <= '9')
			rc = fn(atoi(de->d_name), ctx);
	closedir(d);
	return rc;
}

struct listing {
	int map_fd;
	int count;
	bool full;
};

static int list_thread(int tid, void *ctx)
{
	struct listing *l = ctx;
	__u8 one = 1;

	if (thread_where(tid) != MAYBE)
		return 0;
	if (bpf_map_update_elem(l->map_fd, &tid, &one, BPF_ANY)) {
		l->full = true; /* too many to watch */
		return -1;
	}
	l->count++;
	return 0;
}

static int list_process(int pid, void *ctx)
{
	struct listing *l = ctx;
	char path[32];

	if (pid == getpid()) /* our own threads never accept */
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	for_each_number(path, list_thread, l); /* a process gone meanwhile has none */
	return l->full ? -1 : 0;
}

int waiters_list(int map_fd)
{
	struct listing l = { map_fd, 0, false };

	if (for_each_number("/proc", list_process, &l))
		return -1;
	return l.count;
}

int waiters_prune(int map_fd)
{
	static int tids[ACCEPT_WAITERS_MAX];
	int n = 0, left = 0, i;

	/* keys first: a walk whose last key is deleted starts over */
	while (n < ACCEPT_WAITERS_MAX &&
	       bpf_map_get_next_key(map_fd, n ? &tids[n - 1] : NULL, &tids[n]) == 0)
		n++;
	for (i = 0; i < n; i++) {
		if (thread_where(tids[i]) == MAYBE)
			left++;
		else
			bpf_map_delete_elem(map_fd, &tids[i]);
	}
	return left;
}

/* ---- tcpaccept's and tcptracer's start hook ---- */

#define PRUNE_NS 1000000000ULL	      /* the waiters are looked at once a second */
#define PROC_PID_INIT_INO 0xEFFFFFFCU /* the initial PID namespace's inode number */

/* Does /proc show the initial PID namespace, with us in it? */
static bool in_initial_pidns(void)
{
	struct stat st;

	return !stat("/proc/self/ns/pid", &st) && st.st_ino == PROC_PID_INIT_INO;
}

/*
 * The syscall exits of accept(2), which slow every system call while
 * attached, are needed in fentry mode only until the accepts begun before
 * tracing have returned: detach them. (kprobe mode keeps them: they also
 * catch the accepts its kretprobe misses.)
 */
static void detach_exits(struct session *s)
{
	session_detach_role(s, ROLE_ACCEPT_EXIT);
	session_detach_role(s, ROLE_ACCEPT_EXIT_RAW);
	debug_line("accept syscall exits detached: no accept begun before tracing is left");
}

/* Once a second: the waiters whose accept has returned go; the exits with the last. */
static bool prune(struct session *s, void *waiters)
{
	if (waiters_prune(bpf_map__fd(waiters)) > 0)
		return true;
	detach_exits(s);
	return false;
}

int waiters_start(struct session *s, struct bpf_map *waiters, struct bpf_map *listed)
{
	__u32 zero = 0;
	__u8 one = 1;
	int n;

	if (session_mode(s) != ATTACH_FENTRY)
		return 0;
	/*
	 * Every thread of the machine must be visible: in a PID namespace of
	 * its own, or without the right to read other users' threads
	 * (hidepid), the tool keeps the exits.
	 */
	if (!in_initial_pidns() || !have_cap(CAP_SYS_PTRACE)) {
		debug_line("accept waiters cannot all be seen (a PID namespace of our own, or no "
			   "CAP_SYS_PTRACE): the syscall exits stay");
		return 0;
	}
	n = waiters_list(bpf_map__fd(waiters));
	/* unlisted, the exits go on finishing every accept, as in tracepoint mode */
	if (n < 0 ||
	    bpf_map__update_elem(listed, &zero, sizeof(zero), &one, sizeof(one), BPF_ANY)) {
		debug_line("accept waiters not listed: the syscall exits stay");
		return 0;
	}
	debug_line("%d threads may be in an accept begun before tracing", n);
	if (n == 0)
		detach_exits(s);
	else
		session_every(s, PRUNE_NS, prune, waiters);
	return 0;
}
