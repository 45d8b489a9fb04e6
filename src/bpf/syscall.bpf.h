/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What a hook on a system call's exit needs, for the tools that have one
 * (accept.bpf.h; tcpconnect -o in tracepoint mode): the syscall's number and
 * arguments (syscall_nr.bpf.h), whether the task runs 32-bit code, and the
 * socket behind a file descriptor. Include after core.bpf.h.
 */
#ifndef SYSCALL_BPF_H
#define SYSCALL_BPF_H

#include "syscall_nr.bpf.h"

/*
 * Whether the task runs 32-bit code: a compat task's syscall numbers are
 * another table's (the classic tracepoints ignore such tasks' calls too).
 * The syscall it made: SYSCALL_NR (syscall_nr.bpf.h).
 */
#if defined(__TARGET_ARCH_x86)
#define TS_COMPAT 0x0002 /* thread_info.status: in a 32-bit syscall */
#define COMPAT_TASK() (TASK(thread_info.status) & TS_COMPAT)
#elif defined(__TARGET_ARCH_arm64)
#define TIF_32BIT 22 /* thread_info.flags: an AArch32 task */
#define COMPAT_TASK() (TASK(thread_info.flags) & (1UL << TIF_32BIT))
#else
#error "how a compat task is known: add this architecture's"
#endif

/*
 * The syscall-exit tracepoints' record (the format is a stable ABI:
 * common fields, then the syscall number and the return value).
 */
struct sys_exit_args {
	__u64 common;
	int nr;
	long ret;
};

/* The socket behind file descriptor fd of table fdt (read as m says), or NULL. */
static __always_inline const struct sock *fdt_sock(enum rd m, struct fdtable *fdt, long fd)
{
	struct file **fds;
	struct file *f = NULL;
	struct socket *sock;

	if (fd < 0 || fd >= RD(m, fdt, max_fds))
		return NULL;
	fds = RD(m, fdt, fd);
	/* what the table points to is read with care */
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	sock = BPF_CORE_READ(f, private_data);
	/* a socket's file and the socket point at each other */
	if (!sock || BPF_CORE_READ(sock, file) != f)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* The socket behind the current task's file descriptor fd, or NULL. */
static __always_inline const struct sock *fd_sock(long fd)
{
	struct task_struct *t;

	/* task_btf() once: each test of it is a load */
	if (task_btf())
		return fdt_sock(RD_BTF, bpf_get_current_task_btf()->files->fdt, fd);
	t = (struct task_struct *)bpf_get_current_task();
	return fdt_sock(RD_PROBE, BPF_CORE_READ(t, files, fdt), fd);
}

#endif
