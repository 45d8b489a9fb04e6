// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What differs between the tools' user interfaces: flags, help text and
 * table columns. Widths follow the bcc tools; a column is padded to its
 * width and followed by one space, so wide values never run together.
 */
#include "descriptions.h"

static void tcpconnect_columns(struct formatter *f, const struct opts *o)
{
	if (o->timestamp)
		fmt_add(f, "TIME(s)", 8, 0, F_TIME_S);
	if (o->print_uid)
		fmt_add(f, "UID", 5, 0, F_UID);
	fmt_add(f, "PID", 7, 0, F_PID);
	fmt_add(f, "COMM", 12, 12, F_COMM);
	fmt_add(f, "IP", 2, 0, F_IP);
	fmt_add(f, "SADDR", 16, 0, F_LADDR);
	if (o->lport)
		fmt_add(f, "LPORT", 6, 0, F_LPORT);
	fmt_add(f, "DADDR", 16, 0, F_RADDR);
	fmt_add(f, "DPORT", 6, 0, F_RPORT);
	if (o->outcome) {
		fmt_add(f, "LAT(ms)", 8, 0, F_DUR);
		fmt_add(f, "RESULT", 12, 0, F_RESULT);
	}
	if (o->dns)
		fmt_add(f, "QUERY", 0, 0, F_TOOL_TEXT);
}

const struct tool_desc tcpconnect_tool = {
	.name = "tcpconnect",
	.summary = "Trace active TCP connections: one row per connect attempt.",
	.banner = "Tracing connect ... Hit Ctrl-C to end",
	.port_what = "destination",
	.flags = TF_PORT | TF_LPORT | TF_PRINT_UID | TF_UID | TF_COUNT | TF_DNS | TF_OUTCOME,
	.examples = "  tcpconnect              # trace every TCP connect\n"
		    "  tcpconnect -t -U        # add timestamps and user IDs\n"
		    "  tcpconnect -P 80,443    # only connects to ports 80 and 443\n"
		    "  tcpconnect -p 181 -L    # only PID 181, with the local port\n"
		    "  tcpconnect -u 1000 -6   # only UID 1000, IPv6 only\n"
		    "  tcpconnect -c           # count connects, print a table at exit\n"
		    "  tcpconnect -d           # with the DNS name that was looked up\n"
		    "  tcpconnect -o           # how each attempt went, and how long it took\n"
		    "  tcpconnect -o -c        # count attempts per destination and result\n"
		    "  tcpconnect -j | jq .    # JSON lines\n"
		    "  tcpconnect --cgroupmap /sys/fs/bpf/cgmap  # cgroups in a pinned map\n",
	.columns = tcpconnect_columns,
	.tool_text_key = "query",
	.dur_key = "latency_ns",
};

static void tcpaccept_columns(struct formatter *f, const struct opts *o)
{
	if (o->time_hms)
		fmt_add(f, "TIME", 8, 0, F_TIME_HMS);
	if (o->timestamp)
		fmt_add(f, "TIME(s)", 8, 0, F_TIME_S);
	fmt_add(f, "PID", 7, 0, F_PID);
	fmt_add(f, "COMM", 12, 12, F_COMM);
	fmt_add(f, "IP", 2, 0, F_IP);
	fmt_add(f, "RADDR", 16, 0, F_RADDR);
	fmt_add(f, "RPORT", 5, 0, F_RPORT);
	fmt_add(f, "LADDR", 16, 0, F_LADDR);
	fmt_add(f, "LPORT", 5, 0, F_LPORT);
	if (o->queue) {
		fmt_add(f, "QUEUE(ms)", 9, 0, F_DUR);
		fmt_add(f, "HS(ms)", 8, 0, F_DUR2);
	}
}

const struct tool_desc tcpaccept_tool = {
	.name = "tcpaccept",
	.summary = "Trace passive TCP connections: one row per accepted connection.",
	.banner = "Tracing TCP accepts ... Hit Ctrl-C to end",
	.port_what = "local",
	.flags = TF_PORT | TF_TIME | TF_QUEUE,
	.examples =
		"  tcpaccept               # trace every TCP accept\n"
		"  tcpaccept -T -t         # add wall-clock time and timestamps\n"
		"  tcpaccept -P 80,443     # only connections to local ports 80 and 443\n"
		"  tcpaccept -p 181        # only PID 181\n"
		"  tcpaccept -6            # IPv6 sockets only\n"
		"  tcpaccept -q            # how long each waited in the accept queue\n"
		"  tcpaccept -j | jq .     # JSON lines\n"
		"  tcpaccept --mntnsmap /sys/fs/bpf/mntns  # mount namespaces in a pinned map\n",
	.columns = tcpaccept_columns,
	.dur_key = "queue_ns",
	.dur2_key = "handshake_ns",
};

static void tcptracer_columns(struct formatter *f, const struct opts *o)
{
	f->v6_brackets = true;
	if (o->timestamp && o->verbose)
		fmt_add(f, "TIME(ns)", 13, 0, F_TIME_NS);
	else if (o->timestamp)
		fmt_add(f, "TIME(s)", 8, 0, F_TIME_S);
	if (o->verbose)
		fmt_add(f, "TYPE", 12, 0, F_TYPE_WORD);
	else
		fmt_add(f, "T", 2, 0, F_TYPE_CHAR);
	fmt_add(f, "PID", 6, 0, F_PID);
	fmt_add(f, "COMM", 16, 0, F_COMM);
	fmt_add(f, "IP", 2, 0, F_IP);
	fmt_add(f, "SADDR", 16, 0, F_LADDR);
	fmt_add(f, "DADDR", 16, 0, F_RADDR);
	fmt_add(f, "SPORT", 6, 0, F_LPORT);
	fmt_add(f, "DPORT", 6, 0, F_RPORT);
	if (o->verbose && !o->cfg.netns)
		fmt_add(f, "NETNS", 8, 0, F_NETNS);
	if (o->lifetime) {
		fmt_add(f, "LIFE(ms)", 10, 0, F_DUR);
		fmt_add(f, "TX", 10, 0, F_TX);
		fmt_add(f, "RX", 10, 0, F_RX);
	}
}

const struct tool_desc tcptracer_tool = {
	.name = "tcptracer",
	.summary = "Trace TCP connections that become established: connect (C), accept (A)\n"
		   "and close (X), one row each.",
	.banner = "Tracing TCP established connections. Ctrl-C to end.",
	.port_what = "",
	.flags = TF_NETNS | TF_VERBOSE | TF_LIFETIME,
	.examples = "  tcptracer               # trace connects, accepts and closes\n"
		    "  tcptracer -v            # long type names and a NETNS column\n"
		    "  tcptracer -t            # add timestamps (-v -t: nanoseconds)\n"
		    "  tcptracer -p 181        # only PID 181\n"
		    "  tcptracer -N 4026531840 # only this network namespace\n"
		    "  tcptracer -4            # IPv4 sockets only\n"
		    "  tcptracer -l            # X rows with each connection's lifetime and bytes\n"
		    "  tcptracer -j | jq .     # JSON lines\n",
	.columns = tcptracer_columns,
	.dur_key = "duration_ns",
};
