/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef TOOL_MAIN_H
#define TOOL_MAIN_H

#include "session.h"

/* Called after tracing stopped, before teardown (tcpconnect -c prints here). */
typedef void (*at_exit_fn)(struct session *s, const struct opts *o);

/*
 * A whole tool: parse the options, load and attach, print the header and the
 * events as table rows or JSON lines, tear down. Returns the exit status.
 */
int tool_main(const struct tool_desc *t, const struct skel_ops *ops, at_exit_fn at_exit,
	      int argc, char **argv);

#endif
