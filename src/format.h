/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef FORMAT_H
#define FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpevent.h"

/* What a table column shows. */
enum field {
	F_TIME_HMS,  /* wall clock HH:MM:SS */
	F_TIME_S,    /* seconds since the first event, 3 decimals */
	F_TIME_NS,   /* nanoseconds since the first event */
	F_TYPE_CHAR, /* C, A, X */
	F_TYPE_WORD, /* connect, accept, close */
	F_UID,
	F_PID,
	F_COMM,
	F_IP,
	F_LADDR,
	F_LPORT,
	F_RADDR,
	F_RPORT,
	F_NETNS,
	F_TOOL_TEXT, /* a tool-supplied string (tcpconnect -d QUERY) */
	F_DUR,	     /* a row's duration (struct event_more), ms with 3 decimals */
	F_DUR2,	     /* its second one (tcpaccept -q: the handshake) */
	F_TX,	     /* tcptracer -l: bytes sent and acknowledged */
	F_RX,	     /* tcptracer -l: bytes received */
	F_RESULT,    /* tcpconnect -o: the outcome, a word */
};

struct column {
	const char *name;
	int width; /* values are left-aligned and padded to this */
	int max;   /* values are cut to this many bytes (0: never) */
	enum field field;
};

#define MAX_COLUMNS 16

struct formatter {
	struct column cols[MAX_COLUMNS];
	int ncols;
	bool v6_brackets;	   /* IPv6 addresses as [addr] in the table */
	__s64 boot_to_real_ns;	   /* CLOCK_REALTIME - CLOCK_BOOTTIME */
	__u64 first_ts;		   /* ts_ns of the first event formatted (0: none yet) */
	const char *tool_text_key; /* JSON key of F_TOOL_TEXT, NULL if none */
	const char *dur_key;	   /* JSON key of a row's duration (..._ns), NULL if none */
	const char *dur2_key;	   /* JSON key of its second one, NULL if none */
	/* F_TIME_HMS: the text of the last second formatted */
	bool hms_valid;
	__s64 hms_secs;
	char hms_text[16];
};

/* Long enough for any row or JSON line the formatter writes. */
#define LINE_MAX_BYTES 1024

void fmt_init(struct formatter *f);
void fmt_add(struct formatter *f, const char *name, int width, int max, enum field field);

/*
 * Each writes one line ending in '\n' into buf (NUL-terminated, cut to size)
 * and returns its length.
 */
size_t fmt_header(const struct formatter *f, char *buf, size_t size);
size_t fmt_row(struct formatter *f, const struct event *e, const char *tool_text, char *buf,
	       size_t size);
size_t fmt_json(struct formatter *f, const struct event *e, const char *tool_text, char *buf,
		size_t size);

/* tcpconnect -c: the count table (with a RESULT column for -o) and its JSON form */
size_t fmt_count_header(bool outcome, char *buf, size_t size);
size_t fmt_count_row(const struct count_key *k, __u64 n, char *buf, size_t size);
size_t fmt_count_json(const struct count_key *k, __u64 n, char *buf, size_t size);

/*
 * tcpconnect -o: the RESULT word of an outcome and its errno (enum outcome),
 * and the errno's name (E...) or, for one without a name, its number.
 */
void fmt_result(int outcome, int err, char *buf, size_t size);
void fmt_errno(int err, char *buf, size_t size);

/* An address of family 4 or 6 in dotted-quad or RFC 5952 text. */
void fmt_addr(int family, const __u8 *addr, bool brackets, char *buf, size_t size);

/* s as a JSON string body (RFC 8259); bytes that are not UTF-8 become \u00XX. */
size_t json_escape(const char *s, size_t len, char *buf, size_t size);

#endif
