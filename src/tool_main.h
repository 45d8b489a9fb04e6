/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef TOOL_MAIN_H
#define TOOL_MAIN_H

#include "session.h"

/* What a tool adds to the shared main(); every member may be NULL. */
struct tool_hooks {
	/* attached, before the first event: 0, or an exit status */
	int (*started)(struct session *s, const struct opts *o);
	/* the F_EXTRA column's text for e (NULL: none) */
	const char *(*extra)(const struct event *e);
	/*
	 * tracing stopped and the programs detached, the maps not freed yet
	 * (tcpconnect -c prints here): 0, or an exit status
	 */
	int (*stopping)(struct session *s, const struct opts *o);
};

/*
 * A whole tool: parse the options, load and attach, print the header and the
 * events as table rows or JSON lines, tear down. Returns the exit status.
 */
int tool_main(const struct tool_desc *t, const struct skel_ops *ops, const struct tool_hooks *hooks,
	      int argc, char **argv);

#endif
