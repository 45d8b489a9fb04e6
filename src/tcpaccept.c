// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpaccept: trace passive TCP connections (accepts). */
#include "tool_main.h"
#include "descriptions.h"
#include "tcpaccept.skel.h"

SKEL_OPS(tcpaccept_bpf);

int main(int argc, char **argv)
{
	return tool_main(&tcpaccept_tool, &tcpaccept_bpf_ops, NULL, argc, argv);
}
