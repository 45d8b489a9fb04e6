// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The unit tests' harness: check.h says what it does. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "check.h"

static int passed, failed;

const char *quoted(const char *s)
{
	static char bufs[4][1024];
	static int next;
	char *b = bufs[next++ % 4];
	size_t n = 0;

	if (!s)
		return "(null)";
	b[n++] = '"';
	for (; *s && n < sizeof(bufs[0]) - 16; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			n += (size_t)sprintf(b + n, "\\n");
		else if (c == '"' || c == '\\')
			n += (size_t)sprintf(b + n, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			n += (size_t)sprintf(b + n, "\\x%02x", c);
		else
			b[n++] = (char)c;
	}
	sprintf(b + n, *s ? "\"..." : "\"");
	return b;
}

/* A description was given: the first line of a failure shows it, not the expression. */
static bool described(const char *fmt)
{
	return fmt[0] == ' ' && fmt[1];
}

/*
 * Counts one check; for a failed one, prints its first line: the
 * description (fmt after its leading blank), else the checked expression.
 */
static bool count(bool ok, const char *file, int line, const char *expr, const char *fmt,
		  va_list ap)
{
	if (ok) {
		passed++;
		return true;
	}
	failed++;
	printf("%s:%d: FAIL: ", file, line);
	if (described(fmt))
		vprintf(fmt + 1, ap);
	else
		fputs(expr, stdout);
	putchar('\n');
	return false;
}

bool check_true(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ok = count(ok, file, line, expr, fmt, ap);
	va_end(ap);
	if (!ok && described(fmt))
		printf("  failed: %s\n", expr);
	return ok;
}

bool check_int(long long got, long long want, const char *file, int line, const char *expr,
	       const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = count(got == want, file, line, expr, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  got:  %lld\n  want: %lld\n", got, want);
	return ok;
}

bool check_str(const char *got, const char *want, const char *file, int line, const char *expr,
	       const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = count(got && want && !strcmp(got, want), file, line, expr, fmt, ap);
	va_end(ap);
	if (!ok)
		printf("  got:  %s\n  want: %s\n", quoted(got), quoted(want));
	return ok;
}

static void hex(const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	printf("  %s", label);
	for (i = 0; i < n && i < 64; i++)
		printf(" %02x", b[i]);
	printf("%s\n", n > 64 ? " ..." : "");
}

bool check_mem(const void *got, const void *want, size_t n, const char *file, int line,
	       const char *expr, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = count(!memcmp(got, want, n), file, line, expr, fmt, ap);
	va_end(ap);
	if (!ok) {
		hex("got: ", got, n);
		hex("want:", want, n);
	}
	return ok;
}

int check_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, passed, failed);
	return failed ? 1 : 0;
}
