/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef TOOL_MAIN_H
#define TOOL_MAIN_H

#include "session.h"

/*
 * What a tool adds to the shared main(), the one way it extends it; every
 * member may be NULL. A tool keeps its own state; the session gives it its
 * skeleton's typed maps (session_skel) and more rings (session_add_ring).
 */
struct tool_hooks {
	/* attached, before the first event: 0, or an exit status */
	int (*start)(struct session *s, const struct opts *o);
	/*
	 * the text of e's F_TOOL_TEXT column (NULL for none); the session has
	 * read the tool's extra rings up to e (tcpconnect -d: its DNS answers)
	 */
	const char *(*tool_text)(const struct event *e);
	/*
	 * tracing stopped and the programs detached, the maps not freed yet
	 * (tcpconnect -c prints here): 0, or an exit status
	 */
	int (*stopped)(struct session *s, const struct opts *o);
	/* last, whenever start was called: free what start made */
	void (*cleanup)(void);
};

/*
 * A whole tool: parse the options, load and attach, print the header and the
 * events as table rows or JSON lines, tear down. Returns the exit status.
 */
int tool_main(const struct tool_desc *t, const struct skel_ops *ops, const struct tool_hooks *hooks,
	      int argc, char **argv);

#endif
