// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpaccept: trace passive TCP connections (accepts). */
#include "descriptions.h"
#include "tool_main.h"
#include "waiters.h"
#include "tcpaccept.skel.h"

/* Which programs load in which attach mode (progs.h) */
static const struct prog_entry tcpaccept_progs[] = {
	ACCEPT_PROGS(PROG_ENTRY, tcpaccept_bpf),
};

SKEL_OPS(tcpaccept_bpf, tcpaccept_progs);
WAITERS_HOOK(tcpaccept_bpf)

int main(int argc, char **argv)
{
	static const struct tool_hooks hooks = { .start = tcpaccept_bpf_waiters_start };

	return tool_main(&tcpaccept_tool, &tcpaccept_bpf_ops, &hooks, argc, argv);
}
