// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * SYSCALL_NR(regs): the number of the system call whose saved registers
 * regs are (tp_btf/sys_exit's first argument), on this architecture. Used
 * by the accept exits' raw hook (accept.bpf.h) and by its empty twin in
 * bench/floor.bpf.c.
 */
#ifndef SYSCALL_NR_BPF_H
#define SYSCALL_NR_BPF_H

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
#else
#error "the syscall number's register: add this architecture's"
#endif

#endif
