/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What differs between the tools' user interfaces, one description each:
 * name, flags, help text and table columns (descriptions.c defines the
 * three; the unit tests share them).
 */
#ifndef DESCRIPTIONS_H
#define DESCRIPTIONS_H

#include "format.h"
#include "options.h"

struct tool_desc {
	const char *name;
	const char *summary;   /* --help's first lines; may hold '\n' (tcptracer's has two) */
	const char *banner;    /* printed to stderr once tracing */
	const char *port_what; /* "destination" or "local", for -P */
	unsigned int flags;    /* enum tool_flag */
	const char *examples;  /* --help examples, one per line */
	/* the table columns for the options given */
	void (*columns)(struct formatter *f, const struct opts *o);
	const char *tool_text_key; /* JSON key of an F_TOOL_TEXT column, if any */
	const char *dur_key;	   /* JSON key of a row's duration (F_DUR), if any */
	const char *dur2_key;	   /* JSON key of its second one (F_DUR2), if any */
};

extern const struct tool_desc tcpconnect_tool;
extern const struct tool_desc tcpaccept_tool;
extern const struct tool_desc tcptracer_tool;

#endif
