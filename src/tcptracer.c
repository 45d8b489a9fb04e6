// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcptracer: trace connect, accept and close of established TCP connections. */
#include "descriptions.h"
#include "tool_main.h"
#include "waiters.h"
#include "tcptracer.skel.h"

/* Which programs load in which attach mode (progs.h) */
static const struct prog_entry tcptracer_progs[] = {
	CONNECT_PROGS(PROG_ENTRY, tcptracer_bpf),
	ACCEPT_PROGS(PROG_ENTRY, tcptracer_bpf),
	STATE_PROGS(PROG_ENTRY, tcptracer_bpf, ROLE_HOOK),
	PROG_ENTRY(tcptracer_bpf, fentry_close, IN_FENTRY, ROLE_HOOK),
	PROG_ENTRY(tcptracer_bpf, kprobe_close, IN_KPROBE, ROLE_HOOK),
	PROG_ENTRY(tcptracer_bpf, tp_set_state, IN_TRACEPOINT, ROLE_HOOK),
	PROG_ENTRY(tcptracer_bpf, tp_destroy_sock, IN_TRACEPOINT, ROLE_HOOK),
};

SKEL_OPS(tcptracer_bpf, tcptracer_progs);
WAITERS_HOOK(tcptracer_bpf)

int main(int argc, char **argv)
{
	static const struct tool_hooks hooks = { .start = tcptracer_bpf_waiters_start };

	return tool_main(&tcptracer_tool, &tcptracer_bpf_ops, &hooks, argc, argv);
}
