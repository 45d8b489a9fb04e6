/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * How the runtime speaks on stderr: an error is one line naming the tool,
 * and leads to an exit status; --debug adds lines of the same shape; text
 * the user gave is quoted in them made printable.
 */
#ifndef MESSAGES_H
#define MESSAGES_H

#include <stdbool.h>

/* The tool every line names from now on, and whether --debug is on. */
void messages_init(const char *tool, bool debug);

/* The name given to messages_init() ("" before). */
const char *tool_name(void);

/* Is --debug on? */
bool debug_on(void);

/*
 * "tool: <fmt...>" on stderr. Returns code, unchanged: the exit status the
 * failure leads to (return print_error(2, ...)).
 */
__attribute__((format(printf, 2, 3))) int print_error(int code, const char *fmt, ...);

/* "tool: <fmt...>" on stderr with --debug; nothing without. */
__attribute__((format(printf, 1, 2))) void debug_line(const char *fmt, ...);

/*
 * s made fit for a one-line message: bytes outside printable ASCII as \xHH,
 * cut after 64 characters. Returns a static buffer.
 */
const char *printable(const char *s);

#endif
