/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the running kernel has, and how to name what it lacks: the BPF
 * helpers, map and program kinds this suite uses, with the Linux version
 * that added each, so that an error can say "this kernel has no X (Linux
 * N)" where that is the cause, and only there.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include <stdbool.h>
#include <stddef.h>

#define KERNEL_BTF "/sys/kernel/btf/vmlinux" /* the kernel's own BTF */
#define BTF_ENV "TCPTOOLS_BTF"		     /* another BTF file for the running kernel */
#define TRACEFS "/sys/kernel/tracing"	     /* where tracefs is mounted if anywhere */

/* uname's release of the running kernel ("5.10.0-46-amd64"), cached */
const char *kernel_release(void);

/* Is the running kernel's version major.minor or later? */
bool kernel_at_least(int major, int minor);

/*
 * May a tracing program use a hash map that allocates at run time
 * (BPF_F_NO_PREALLOC)? From Linux 6.1 (the BPF memory allocator) it may;
 * before, the kernel warns with a stack trace at the first load (once per
 * boot) and PREEMPT_RT kernels refuse the program.
 */
bool kernel_runtime_alloc_ok(void);

/*
 * If the verifier's line says the kernel has no such helper ("invalid func
 * unknown#158"), write what is missing into why ("bpf_get_current_task_btf
 * (Linux 5.11)") and return true; false for any other complaint, which is
 * then one about our program.
 */
bool kernel_lacks_helper(const char *verdict, char *why, size_t len);

/* Can this kernel attach kprobes (CONFIG_KPROBES)? */
bool kernel_has_kprobes(void);

/* kernel.perf_event_paranoid (0 if unreadable) */
int paranoid_level(void);

/* The name of BPF helper id ("bpf_ringbuf_output"), or NULL if unknown here. */
const char *helper_name(int id);

#endif
