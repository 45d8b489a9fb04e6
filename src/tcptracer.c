// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcptracer: trace connect, accept and close of established TCP connections. */
#include "tool_main.h"
#include "descriptions.h"
#include "tcptracer.skel.h"

SKEL_OPS(tcptracer_bpf);

int main(int argc, char **argv)
{
	return tool_main(&tcptracer_tool, &tcptracer_bpf_ops, NULL, argc, argv);
}
