// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * SYSCALL_NR(regs): the number of the system call whose saved registers
 * regs are (tp_btf/sys_exit's first argument), on this architecture;
 * SYSCALL_ARG0(regs) and SYSCALL_ARG1(regs) its first two arguments, as
 * they are at its exit (arm64 keeps the first apart: x0 holds the return
 * value by then). Used by the raw syscall-exit hooks (syscall.bpf.h) and
 * by their empty twin in bench/floor.bpf.c.
 */
#ifndef SYSCALL_NR_BPF_H
#define SYSCALL_NR_BPF_H

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#define SYSCALL_ARG0(regs) ((regs)->di)
#define SYSCALL_ARG1(regs) ((regs)->si)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
#define SYSCALL_ARG0(regs) ((regs)->orig_x0)
#define SYSCALL_ARG1(regs) ((regs)->regs[1])
#else
#error "the syscall number's register: add this architecture's"
#endif

#endif
