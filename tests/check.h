/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The harness of every unit test binary (tests/check.c).
 *
 * Each CHECK macro counts one check, passed or failed, and evaluates its
 * operands once. After them it takes an optional printf-style description
 * of the case, whose format must be a string literal:
 *
 *   CHECK(cond)                      cond is true
 *   CHECK_INT(got, want)             equal as long long
 *   CHECK_STR(got, want)             equal strings, neither of them NULL
 *   CHECK_MEM(got, want, n)          the same n bytes
 *   CHECK_STR(buf, "x", "row %d", i) ... and so on, with a description
 *
 * Each is an expression: true if the check passed. A failed check prints
 * "FILE:LINE: FAIL: " and the description (the checked expression if there
 * is none), then what it got and wanted. check_summary() prints the last
 * line, "NAME: N passed, N failed", which tests/run reads.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The description: " " and the literal format, or only " " if none is given. */
#define CHECK_DESC_(...) " " __VA_ARGS__

#define CHECK(cond, ...) check_true(!!(cond), __FILE__, __LINE__, #cond, CHECK_DESC_(__VA_ARGS__))
#define CHECK_INT(got, want, ...)                                                \
	check_int((long long)(got), (long long)(want), __FILE__, __LINE__, #got, \
		  CHECK_DESC_(__VA_ARGS__))
#define CHECK_STR(got, want, ...) \
	check_str((got), (want), __FILE__, __LINE__, #got, CHECK_DESC_(__VA_ARGS__))
#define CHECK_MEM(got, want, n, ...) \
	check_mem((got), (want), (n), __FILE__, __LINE__, #got, CHECK_DESC_(__VA_ARGS__))

__attribute__((format(printf, 5, 6))) bool check_true(bool ok, const char *file, int line,
						      const char *expr, const char *fmt, ...);
__attribute__((format(printf, 6, 7))) bool check_int(long long got, long long want,
						     const char *file, int line, const char *expr,
						     const char *fmt, ...);
__attribute__((format(printf, 6, 7))) bool check_str(const char *got, const char *want,
						     const char *file, int line, const char *expr,
						     const char *fmt, ...);
__attribute__((format(printf, 7, 8))) bool check_mem(const void *got, const void *want, size_t n,
						     const char *file, int line, const char *expr,
						     const char *fmt, ...);

/*
 * Prints "name: N passed, N failed" as the last line; returns the exit
 * status: 0 only if no check failed.
 */
int check_summary(const char *name);

/*
 * s as a C string literal, for messages (long strings are cut); the last
 * four results stay valid.
 */
const char *quoted(const char *s);

#endif
