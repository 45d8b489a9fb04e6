// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The lines the runtime writes to stderr, and user text quoted in them. */
#include <stdarg.h>
#include <stdio.h>
#include "messages.h"

/* One tool runs in a process: set once, before its first line. */
static const char *who = "";
static bool debugging;

void messages_init(const char *tool, bool debug)
{
	who = tool;
	debugging = debug;
}

const char *tool_name(void)
{
	return who;
}

bool debug_on(void)
{
	return debugging;
}

static void vline(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", who);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int print_error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
	return code;
}

void debug_line(const char *fmt, ...)
{
	va_list ap;

	if (!debugging)
		return;
	va_start(ap, fmt);
	vline(fmt, ap);
	va_end(ap);
}

const char *printable(const char *s)
{
	static char buf[64 * 4 + 4];
	size_t n = 0, i;

	for (i = 0; i < 64 && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, 5, "\\x%02x", ch);
	}
	if (s[i])
		n += (size_t)snprintf(buf + n, 4, "...");
	buf[n] = '\0';
	return buf;
}
