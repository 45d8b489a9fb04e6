// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of what needs neither root nor BPF: the option parser and the
 * output formatter, called directly.
 *
 * The expected table rows are built here from the printf formats of the bcc
 * tools, not from the formatter's own code. The checks are those of
 * check.h; the last line is "unit: N passed, N failed", where N counts
 * checks. Exit status 0 only if no check failed.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "format.h"
#include "options.h"
#include "tools.h"

/* ------------------------------------------------------------------ */
/* Building expected lines */

struct line {
	char s[4 * LINE_MAX_BYTES];
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void add(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->s + l->len, sizeof(l->s) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n;
	if (l->len >= sizeof(l->s))
		l->len = sizeof(l->s) - 1;
}

/*
 * bcc prints TIME(s) and UID with no separator after them; our columns keep
 * at least one space even when the value fills the column.
 */
static void sep(struct line *l)
{
	if (l->len && l->s[l->len - 1] != ' ')
		add(l, " ");
}

/* The last column is not padded: strip trailing blanks, end the line. */
static const char *finish(struct line *l)
{
	while (l->len && l->s[l->len - 1] == ' ')
		l->len--;
	l->s[l->len++] = '\n';
	l->s[l->len] = '\0';
	return l->s;
}

static void put_addr(int family, const char *text, __u8 *addr)
{
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr) != 1) {
		fprintf(stderr, "unit: bad address in the test data: %s\n", text);
		exit(2);
	}
}

static void put_comm(char *comm, const char *s)
{
	memset(comm, 0, TASK_COMM_LEN);
	memcpy(comm, s, strnlen(s, TASK_COMM_LEN - 1));
}

/* ------------------------------------------------------------------ */
/* fmt_addr */

static void test_addr(void)
{
	static const struct {
		int family;
		const char *in; /* any form inet_pton takes */
		bool brackets;
		const char *want;
	} cases[] = {
		{ 4, "192.0.2.1", false, "192.0.2.1" },
		{ 4, "0.0.0.0", false, "0.0.0.0" },
		{ 4, "255.255.255.255", false, "255.255.255.255" },
		{ 4, "127.0.0.1", true, "127.0.0.1" }, /* brackets are for IPv6 only */
		{ 6, "2001:0db8:0000:0000:0000:0000:0000:0001", false, "2001:db8::1" },
		{ 6, "0:0:0:0:0:0:0:1", false, "::1" },
		{ 6, "0:0:0:0:0:0:0:0", false, "::" },
		{ 6, "0:0:0:0:0:ffff:7f00:1", false, "::ffff:127.0.0.1" },
		{ 6, "2001:DB8:0:0:0:0:0:A", false, "2001:db8::a" },	      /* lower case */
		{ 6, "2001:db8:0:0:1:0:0:1", false, "2001:db8::1:0:0:1" },    /* first run */
		{ 6, "2001:0:0:1:0:0:0:1", false, "2001:0:0:1::1" },	      /* longest run */
		{ 6, "2001:db8:0:1:1:1:1:1", false, "2001:db8:0:1:1:1:1:1" }, /* one 0 kept */
		{ 6, "fe80:0:0:0:0:0:0:0", false, "fe80::" },
		{ 6, "2001:db8:1234:5678:9abc:def0:1234:5678", false,
		  "2001:db8:1234:5678:9abc:def0:1234:5678" },
		{ 6, "::1", true, "[::1]" },
		{ 6, "2001:db8::1", true, "[2001:db8::1]" },
		{ 6, "::ffff:10.0.0.1", true, "[::ffff:10.0.0.1]" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		__u8 addr[16] = { 0 };
		char buf[64];

		put_addr(cases[i].family, cases[i].in, addr);
		memset(buf, 'X', sizeof(buf));
		fmt_addr(cases[i].family, addr, cases[i].brackets, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want, "fmt_addr(%d, %s, brackets=%d)", cases[i].family,
			  cases[i].in, cases[i].brackets);
	}
}

/* ------------------------------------------------------------------ */
/* The tcpconnect table */

#define T0_NS 5000000000123ULL /* boot time of the first event */

struct ev_case {
	const char *what;
	unsigned int dt_ms; /* after the first event */
	__u32 pid, uid;
	int family;
	const char *laddr, *raddr; /* inet_pton input */
	__u16 lport, rport;
	const char *comm; /* as the kernel reports it */
	/* what the table must show: RFC 5952 text, control bytes as '?' */
	const char *saddr_text, *daddr_text, *comm_text;
};

static const struct ev_case events[] = {
	{ "IPv4", 0, 23817, 1000, 4, "192.0.2.10", "198.51.100.7", 41862, 443, "curl", "192.0.2.10",
	  "198.51.100.7", "curl" },
	{ "IPv6 compressed", 1234, 2144, 0, 6, "2001:0db8:0:0:0:0:0:1", "2001:db8:0:1:0:0:0:22",
	  50000, 22, "ssh", "2001:db8::1", "2001:db8:0:1::22", "ssh" },
	{ "IPv6 loopback, 15-byte COMM", 2000, 3150, 42, 6, "0:0:0:0:0:0:0:1", "::1", 1, 8443,
	  "abcdefghijklmno", "::1", "::1", "abcdefghijklmno" },
	{ "IPv4-mapped, control bytes in COMM", 2500, 77, 1, 6, "::ffff:127.0.0.1",
	  "0:0:0:0:0:ffff:7f00:1", 33000, 5432,
	  "a\x01"
	  "b\tc\x7f\x1b",
	  "::ffff:127.0.0.1", "::ffff:127.0.0.1", "a?b?c??" },
	{ "IPv6 wider than the column", 3000, 9, 65534, 6, "2001:db8:1234:5678:9abc:def0:1234:5678",
	  "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", 40000, 80, "wget",
	  "2001:db8:1234:5678:9abc:def0:1234:5678", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff",
	  "wget" },
	{ "large values", 12345678, 4194304, 4294967294u, 4, "10.0.0.1", "255.255.255.255", 65535,
	  65535, "x", "10.0.0.1", "255.255.255.255", "x" },
};

static void make_event(const struct ev_case *c, struct event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = T0_NS + c->dt_ms * 1000000ULL;
	e->pid = c->pid;
	e->tid = c->pid;
	e->uid = c->uid;
	e->netns = 4026531840u;
	e->family = (__u8)c->family;
	e->type = EV_CONNECT;
	put_addr(c->family, c->laddr, e->laddr);
	put_addr(c->family, c->raddr, e->raddr);
	e->lport = c->lport;
	e->rport = c->rport;
	put_comm(e->comm, c->comm);
}

/* -t, -U, -L as bits 0, 1, 2 */
#define WITH_T 1
#define WITH_U 2
#define WITH_L 4

static const char *flags_name(int flags)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s%s%s", flags & WITH_T ? "-t " : "",
		 flags & WITH_U ? "-U " : "", flags & WITH_L ? "-L " : "");
	return buf[0] ? buf : "(no flags)";
}

static const char *want_header(int flags, struct line *l)
{
	l->len = 0;
	if (flags & WITH_T) {
		add(l, "%-9s", "TIME(s)");
		sep(l);
	}
	if (flags & WITH_U) {
		add(l, "%-6s", "UID");
		sep(l);
	}
	add(l, "%-7s %-12.12s %-2s %-16s ", "PID", "COMM", "IP", "SADDR");
	if (flags & WITH_L)
		add(l, "%-6s ", "LPORT");
	add(l, "%-16s %-6s", "DADDR", "DPORT");
	return finish(l);
}

/* bcc's %d of a Python int is the unsigned value: %u here. */
static const char *want_row(int flags, const struct ev_case *c, const char *saddr,
			    const char *daddr, struct line *l)
{
	l->len = 0;
	if (flags & WITH_T) {
		add(l, "%-9.3f", c->dt_ms / 1000.0);
		sep(l);
	}
	if (flags & WITH_U) {
		add(l, "%-6u", c->uid);
		sep(l);
	}
	add(l, "%-7u %-12.12s %-2d %-16s ", c->pid, c->comm_text, c->family, saddr);
	if (flags & WITH_L)
		add(l, "%-6u ", c->lport);
	add(l, "%-16s %-6u", daddr, c->rport);
	return finish(l);
}

static void tcpconnect_formatter(struct formatter *f, int flags)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.timestamp = flags & WITH_T;
	o.print_uid = flags & WITH_U;
	o.lport = flags & WITH_L;
	fmt_init(f);
	f->extra_key = tcpconnect_tool.extra_key;
	tcpconnect_tool.columns(f, &o);
}

/* The expected-line builder against the examples of the man page and README. */
static void test_table_literals(void)
{
	struct line l;

	CHECK_STR(want_header(0, &l),
		  "PID     COMM         IP SADDR            DADDR            DPORT\n",
		  "builder: header");
	CHECK_STR(want_header(WITH_T | WITH_U | WITH_L, &l),
		  "TIME(s)  UID   PID     COMM         IP SADDR            LPORT  DADDR"
		  "            DPORT\n",
		  "builder: header -t -U -L");
	CHECK_STR(want_row(0, &events[0], "192.0.2.10", "198.51.100.7", &l),
		  "23817   curl         4  192.0.2.10       198.51.100.7     443\n",
		  "builder: row");
	CHECK_STR(want_row(WITH_T | WITH_U, &events[5], "10.0.0.1", "255.255.255.255", &l),
		  "12345.678 4294967294 4194304 x            4  10.0.0.1         255.255.255.255"
		  "  65535\n",
		  "builder: wide values");
}

static void test_table(void)
{
	int flags;
	size_t i;

	for (flags = 0; flags < 8; flags++) {
		const char *name = flags_name(flags);
		char buf[LINE_MAX_BYTES];
		struct formatter f;
		struct line l;
		size_t n;

		tcpconnect_formatter(&f, flags);
		n = fmt_header(&f, buf, sizeof(buf));
		CHECK_STR(buf, want_header(flags, &l), "fmt_header, %s", name);
		CHECK_INT(n, strlen(buf), "fmt_header length, %s", name);

		for (i = 0; i < ARRAY_SIZE(events); i++) {
			const struct ev_case *c = &events[i];
			struct event e;

			make_event(c, &e);
			n = fmt_row(&f, &e, NULL, buf, sizeof(buf));
			CHECK_STR(buf, want_row(flags, c, c->saddr_text, c->daddr_text, &l),
				  "fmt_row, %s, %s", name, c->what);
			CHECK_INT(n, strlen(buf), "fmt_row length, %s, %s", name, c->what);
		}
	}
}

static void test_table_brackets(void)
{
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct line l;
	struct event e;

	tcpconnect_formatter(&f, WITH_L);
	f.v6_brackets = true;
	make_event(&events[2], &e);
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf, want_row(WITH_L, &events[2], "[::1]", "[::1]", &l), "v6_brackets: ::1");
	CHECK_STR(buf, "3150    abcdefghijkl 6  [::1]            1      [::1]            8443\n",
		  "v6_brackets: ::1, literal");
	make_event(&events[1], &e);
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf, want_row(WITH_L, &events[1], "[2001:db8::1]", "[2001:db8:0:1::22]", &l),
		  "v6_brackets: 2001:db8::1");
	make_event(&events[0], &e);
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf, want_row(WITH_L, &events[0], "192.0.2.10", "198.51.100.7", &l),
		  "v6_brackets: IPv4 unchanged");
}

/* TIME(s) counts from the first event formatted, whatever its timestamp. */
static void test_table_time(void)
{
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct event e;

	tcpconnect_formatter(&f, WITH_T);
	make_event(&events[0], &e);
	e.ts_ns = 987654321987654321ULL;
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "0.000    ", 9), "first row shows 0.000: %s", quoted(buf));
	e.ts_ns += 1234000000;
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "1.234    ", 9), "a row 1.234 s later: %s", quoted(buf));
	e.ts_ns += 999000000;
	fmt_row(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "2.233    ", 9), "a row 2.233 s later: %s", quoted(buf));
}

/* ------------------------------------------------------------------ */
/* JSON */

static void test_json_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "curl", 4, "curl" },
		{ "", 0, "" },
		{ "\"", 1, "\\\"" },
		{ "\\", 1, "\\\\" },
		{ "a\"b\\c", 5, "a\\\"b\\\\c" },
		{ "/", 1, "/" },
		{ "\x01", 1, "\\u0001" },
		{ "\x1f", 1, "\\u001f" },
		{ "\x7f", 1, "\\u007f" },
		{ "\n\t\r", 3, "\\u000a\\u0009\\u000d" },
		{ "a\0b", 3, "a\\u0000b" },		       /* the length counts, not the NUL */
		{ "\xc3\xa9", 2, "\xc3\xa9" },		       /* U+00E9 */
		{ "\xc2\x80", 2, "\xc2\x80" },		       /* U+0080 */
		{ "\xdf\xbf", 2, "\xdf\xbf" },		       /* U+07FF */
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },	       /* U+20AC */
		{ "\xe0\xa0\x80", 3, "\xe0\xa0\x80" },	       /* U+0800 */
		{ "\xed\x9f\xbf", 3, "\xed\x9f\xbf" },	       /* U+D7FF */
		{ "\xef\xbf\xbf", 3, "\xef\xbf\xbf" },	       /* U+FFFF */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" }, /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf" }, /* U+10FFFF */
		{ "\xff", 1, "\\u00ff" },
		{ "\xfe", 1, "\\u00fe" },
		{ "\x80", 1, "\\u0080" }, /* lone continuation */
		{ "a\x80z", 3, "a\\u0080z" },
		{ "\xe2\x82", 2, "\\u00e2\\u0082" }, /* truncated at the end */
		{ "\xe2\x82"
		  "A",
		  3, "\\u00e2\\u0082A" }, /* truncated before ASCII */
		{ "\xc3", 1, "\\u00c3" },
		{ "\xf0\x9f\x98", 3, "\\u00f0\\u009f\\u0098" },
		{ "\xc0\xaf", 2, "\\u00c0\\u00af" },			   /* overlong '/' */
		{ "\xc1\xbf", 2, "\\u00c1\\u00bf" },			   /* overlong */
		{ "\xe0\x80\xaf", 3, "\\u00e0\\u0080\\u00af" },		   /* overlong */
		{ "\xf0\x80\x80\xaf", 4, "\\u00f0\\u0080\\u0080\\u00af" }, /* overlong */
		{ "\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080" },		   /* surrogate D800 */
		{ "\xed\xbf\xbf", 3, "\\u00ed\\u00bf\\u00bf" },		   /* surrogate DFFF */
		{ "\xf4\x90\x80\x80", 4, "\\u00f4\\u0090\\u0080\\u0080" }, /* > U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, "\\u00f5\\u0080\\u0080\\u0080" },
		{ "\xc3\xa9\xff\xc3\xa9", 5, "\xc3\xa9\\u00ff\xc3\xa9" },
		{ "\xc3\xc3\xa9", 3, "\\u00c3\xc3\xa9" }, /* lead byte, then valid */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[256];
		size_t n;

		n = json_escape(cases[i].in, cases[i].len, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want, "json_escape(%s, %zu)", quoted(cases[i].in),
			  cases[i].len);
		CHECK_INT(n, strlen(buf), "json_escape(%s) length", quoted(cases[i].in));
	}
}

/* A short buffer ends before an escape or a UTF-8 sequence, never inside one. */
static void test_json_escape_short(void)
{
	static const struct {
		const char *in;
		size_t size;
		const char *want;
	} cases[] = {
		{ "a\"", 2, "a" }, /* \" needs 2 bytes */
		{ "a\"", 3, "a" },
		{ "a\"", 4, "a\\\"" },
		{ "a\\b", 3, "a" },
		{ "\x01", 6, "" }, /* \u0001 needs 6 */
		{ "\x01", 7, "\\u0001" },
		{ "x\x7fy", 7, "x" },
		{ "x\x7fy", 8, "x\\u007f" },
		{ "x\xff", 7, "x" },	/* \u00ff */
		{ "\xc3\xa9z", 2, "" }, /* U+00E9 is 2 bytes: no half of it */
		{ "\xc3\xa9z", 3, "\xc3\xa9" },
		{ "\xe2\x82\xac", 3, "" },
		{ "\xf0\x9f\x98\x80", 4, "" },
		{ "\xf0\x9f\x98\x80", 5, "\xf0\x9f\x98\x80" },
		{ "ab\x01"
		  "cd",
		  8, "ab" }, /* nothing after a piece that did not fit */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[16];
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = json_escape(cases[i].in, strlen(cases[i].in), buf, cases[i].size);
		CHECK_STR(buf, cases[i].want, "json_escape(%s) in %zu bytes", quoted(cases[i].in),
			  cases[i].size);
		CHECK_INT(n, strlen(cases[i].want), "json_escape(%s) in %zu bytes: length",
			  quoted(cases[i].in), cases[i].size);
	}
}

/* Length of the UTF-8 sequence at s, 0 if it is not well-formed. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp, min;
	size_t n, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A structural check of one JSON object line: balanced braces outside
 * strings, valid escapes, no raw control byte, UTF-8 strings. NULL if good,
 * else why not.
 */
static const char *json_line_bad(const char *line)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t len = strlen(line), i, n;
	int depth = 0;

	if (len < 3 || s[0] != '{' || strcmp(line + len - 2, "}\n"))
		return "not one {...} line";
	for (i = 0; i < len - 1; i++) {
		if (s[i] < 0x20 || s[i] >= 0x80)
			return "raw byte outside a string";
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if (s[i] == '}' || s[i] == ']')
			depth--;
		if (depth == 0 && i != len - 2)
			return "text after the object";
		if (s[i] != '"')
			continue;
		for (i++; s[i] != '"'; i++) {
			if (!s[i])
				return "unterminated string";
			if (s[i] < 0x20)
				return "raw control byte in a string";
			if (s[i] == '\\') {
				i++;
				if (s[i] == 'u') {
					for (n = 1; n <= 4; n++)
						if (!s[i + n] ||
						    !strchr("0123456789abcdefABCDEF", s[i + n]))
							return "bad \\u escape";
					i += 4;
				} else if (!s[i] || !strchr("\"\\/bfnrt", s[i])) {
					return "bad escape";
				}
				continue;
			}
			n = utf8_len(s + i);
			if (!n)
				return "invalid UTF-8 in a string";
			i += n - 1;
		}
	}
	return depth ? "unbalanced braces" : NULL;
}

#define JSON_TIME_OFFSET (1700000000000000000LL - 1500000000LL)

static void json_event(struct event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = 1500000000;
	e->pid = 23817;
	e->tid = 23818;
	e->uid = 1000;
	e->netns = 4026531840u;
	e->family = 4;
	e->type = EV_CONNECT;
	put_addr(4, "192.0.2.10", e->laddr);
	put_addr(4, "198.51.100.7", e->raddr);
	e->lport = 41862;
	e->rport = 443;
	put_comm(e->comm, "curl");
}

static void test_json(void)
{
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct event e;
	const char *bad;
	size_t n;

	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET + 123456000;
	json_event(&e);
	n = fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf,
		  "{\"time\":1700000000.123456,\"type\":\"connect\",\"pid\":23817,\"tid\":23818,"
		  "\"uid\":1000,\"comm\":\"curl\",\"ip\":4,\"laddr\":\"192.0.2.10\","
		  "\"lport\":41862,\"raddr\":\"198.51.100.7\",\"rport\":443,"
		  "\"netns\":4026531840}\n",
		  "fmt_json IPv4");
	CHECK_INT(n, strlen(buf), "fmt_json length");
	bad = json_line_bad(buf);
	CHECK(!bad, "fmt_json IPv4 is JSON: %s", bad);

	/* microseconds keep their leading zeros */
	f.boot_to_real_ns = JSON_TIME_OFFSET + 42000;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "{\"time\":1700000000.000042,\"type\"", 32),
	      "fmt_json time 6 decimals: %s", quoted(buf));
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "{\"time\":1700000000.000000,\"type\"", 32),
	      "fmt_json time on a second: %s", quoted(buf));

	/* IPv6: never brackets in JSON, large values */
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	f.v6_brackets = true;
	e.family = 6;
	put_addr(6, "2001:db8::1", e.laddr);
	put_addr(6, "::ffff:127.0.0.1", e.raddr);
	e.pid = 4194304;
	e.tid = 4194303;
	e.uid = 4294967294u;
	e.netns = 4294967295u;
	e.lport = 65535;
	e.rport = 1;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf,
		  "{\"time\":1700000000.000000,\"type\":\"connect\",\"pid\":4194304,"
		  "\"tid\":4194303,\"uid\":4294967294,\"comm\":\"curl\",\"ip\":6,"
		  "\"laddr\":\"2001:db8::1\",\"lport\":65535,\"raddr\":\"::ffff:127.0.0.1\","
		  "\"rport\":1,\"netns\":4294967295}\n",
		  "fmt_json IPv6");

	/* the extra key comes last, only with both a key and a value */
	json_event(&e);
	f.v6_brackets = false;
	f.extra_key = "query";
	fmt_json(&f, &e, "example.com", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840,\"query\":\"example.com\"}\n") != NULL,
	      "fmt_json extra key: %s", quoted(buf));
	fmt_json(&f, &e, "a\"b\x01", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"query\":\"a\\\"b\\u0001\"}\n") != NULL, "fmt_json extra escaped: %s",
	      quoted(buf));
	bad = json_line_bad(buf);
	CHECK(!bad, "fmt_json extra is JSON: %s", bad);
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840}\n") != NULL && !strstr(buf, "query"),
	      "fmt_json extra NULL: %s", quoted(buf));
	f.extra_key = NULL;
	fmt_json(&f, &e, "example.com", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840}\n") != NULL && !strstr(buf, "example"),
	      "fmt_json no extra key: %s", quoted(buf));
}

static void test_json_comm(void)
{
	static const struct {
		const char *comm;
		const char *want; /* "comm":"..." */
	} cases[] = {
		{ "\xff\"\\\x01\xc3\xa9\xed\xa0\x80z",
		  "\"comm\":\"\\u00ff\\\"\\\\\\u0001\xc3\xa9\\u00ed\\u00a0\\u0080z\"" },
		{ "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
		  "\"comm\":\"\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080"
		  "\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\"" },
		{ "\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f",
		  "\"comm\":\"\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f"
		  "\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\"" },
		{ "\xc0\xaf\xe2\x82"
		  "A\xf0\x9f\x98\x80\x7f",
		  "\"comm\":\"\\u00c0\\u00af\\u00e2\\u0082A\xf0\x9f\x98\x80\\u007f\"" },
		{ "abcdefghijklmno", "\"comm\":\"abcdefghijklmno\"" }, /* not cut to 12 */
	};
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct event e;
	const char *bad;
	size_t i;

	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		json_event(&e);
		put_comm(e.comm, cases[i].comm);
		fmt_json(&f, &e, NULL, buf, sizeof(buf));
		CHECK(strstr(buf, cases[i].want) != NULL, "fmt_json COMM %s: got %s, want %s",
		      quoted(cases[i].comm), quoted(buf), quoted(cases[i].want));
		bad = json_line_bad(buf);
		CHECK(!bad, "fmt_json COMM %s is JSON: %s: %s", quoted(cases[i].comm), bad,
		      quoted(buf));
	}
}

/* ------------------------------------------------------------------ */
/* tcpconnect -c */

static const struct count_case {
	int family;
	const char *laddr, *raddr; /* inet_pton input */
	__u16 rport;
	unsigned long long n;
	const char *ltext, *rtext;
} counts[] = {
	{ 4, "192.0.2.10", "198.51.100.7", 443, 1582, "192.0.2.10", "198.51.100.7" },
	{ 4, "127.0.0.1", "127.0.0.1", 5432, 240, "127.0.0.1", "127.0.0.1" },
	{ 6, "2001:db8:0:0:0:0:0:10", "2001:db8:0:1:0:0:0:22", 22, 3, "2001:db8::10",
	  "2001:db8:0:1::22" },
	{ 6, "0:0:0:0:0:ffff:a00:1", "::1", 1, 0, "::ffff:10.0.0.1", "::1" },
	{ 6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "2001:db8:1234:5678:9abc:def0:1234:5678",
	  65535, 18446744073709551615ULL, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	  "2001:db8:1234:5678:9abc:def0:1234:5678" },
};

static void make_count_key(const struct count_case *c, struct count_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (__u8)c->family;
	put_addr(c->family, c->laddr, k->laddr);
	put_addr(c->family, c->raddr, k->raddr);
	k->rport = c->rport;
}

static void test_count(void)
{
	char buf[LINE_MAX_BYTES], want[LINE_MAX_BYTES];
	size_t i, n;

	n = fmt_count_header(buf, sizeof(buf));
	snprintf(want, sizeof(want), "%-25s %-25s %-20s %s\n", "LADDR", "RADDR", "RPORT",
		 "CONNECTS");
	CHECK_STR(buf, want, "fmt_count_header");
	CHECK_STR(buf,
		  "LADDR                     RADDR                     RPORT                "
		  "CONNECTS\n",
		  "fmt_count_header, literal");
	CHECK_INT(n, strlen(buf), "fmt_count_header length");

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		const struct count_case *c = &counts[i];
		struct count_key k;

		make_count_key(c, &k);
		n = fmt_count_row(&k, c->n, buf, sizeof(buf));
		snprintf(want, sizeof(want), "%-25s %-25s %-20u %llu\n", c->ltext, c->rtext,
			 c->rport, c->n);
		CHECK_STR(buf, want, "fmt_count_row %s", c->ltext);
		CHECK_INT(n, strlen(buf), "fmt_count_row length %s", c->ltext);

		n = fmt_count_json(&k, c->n, buf, sizeof(buf));
		snprintf(want, sizeof(want),
			 "{\"ip\":%d,\"laddr\":\"%s\",\"raddr\":\"%s\",\"rport\":%u,"
			 "\"connects\":%llu}\n",
			 c->family, c->ltext, c->rtext, c->rport, c->n);
		CHECK_STR(buf, want, "fmt_count_json %s", c->ltext);
		CHECK_INT(n, strlen(buf), "fmt_count_json length %s", c->ltext);
	}

	/* the man page's examples */
	{
		struct count_key k;

		make_count_key(&counts[0], &k);
		fmt_count_row(&k, counts[0].n, buf, sizeof(buf));
		CHECK_STR(buf,
			  "192.0.2.10                198.51.100.7              443              "
			  "    1582\n",
			  "fmt_count_row, literal");
		fmt_count_json(&k, counts[0].n, buf, sizeof(buf));
		CHECK_STR(buf,
			  "{\"ip\":4,\"laddr\":\"192.0.2.10\",\"raddr\":\"198.51.100.7\","
			  "\"rport\":443,\"connects\":1582}\n",
			  "fmt_count_json, literal");
	}
}

/* ------------------------------------------------------------------ */
/* Small buffers */

enum producer { P_HEADER, P_ROW, P_JSON, P_COUNT_HEADER, P_COUNT_ROW, P_COUNT_JSON };

static const char *const producer_names[] = {
	[P_HEADER] = "fmt_header",	 [P_ROW] = "fmt_row",
	[P_JSON] = "fmt_json",		 [P_COUNT_HEADER] = "fmt_count_header",
	[P_COUNT_ROW] = "fmt_count_row", [P_COUNT_JSON] = "fmt_count_json",
};

static size_t produce(enum producer p, char *buf, size_t size)
{
	struct formatter f;
	struct count_key k;
	struct event e;

	tcpconnect_formatter(&f, WITH_T | WITH_U | WITH_L);
	/* the clocks move between two calls, slowly so under emulation: fix them */
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	make_event(&events[4], &e);
	make_count_key(&counts[4], &k);
	switch (p) {
	case P_HEADER:
		return fmt_header(&f, buf, size);
	case P_ROW:
		return fmt_row(&f, &e, NULL, buf, size);
	case P_JSON:
		return fmt_json(&f, &e, NULL, buf, size);
	case P_COUNT_HEADER:
		return fmt_count_header(buf, size);
	case P_COUNT_ROW:
		return fmt_count_row(&k, counts[4].n, buf, size);
	case P_COUNT_JSON:
		return fmt_count_json(&k, counts[4].n, buf, size);
	}
	return 0;
}

#define CANARY 0x5a

static bool untouched(const char *buf, size_t from, size_t to)
{
	for (; from < to; from++)
		if ((unsigned char)buf[from] != CANARY)
			return false;
	return true;
}

static void test_small_buffers(void)
{
	char full[LINE_MAX_BYTES], buf[LINE_MAX_BYTES + 16];
	int p;

	/* the case of the spec, spelled out */
	memset(buf, CANARY, sizeof(buf));
	{
		struct formatter f;
		struct event e;
		size_t n;

		tcpconnect_formatter(&f, 0);
		make_event(&events[0], &e);
		n = fmt_row(&f, &e, NULL, buf, 10);
		CHECK_STR(buf, "23817   \n", "fmt_row into 10 bytes");
		CHECK_INT(n, 9, "fmt_row into 10 bytes: length");
		CHECK(untouched(buf, 10, sizeof(buf)), "fmt_row into 10 bytes: no overflow");
	}

	for (p = P_HEADER; p <= P_COUNT_JSON; p++) {
		const char *name = producer_names[p];
		size_t len = produce((enum producer)p, full, sizeof(full));
		const size_t sizes[] = { 0, 1, 2, 3, 10, len - 1, len, len + 1, len + 2 };
		size_t i;

		CHECK(len > 20 && len == strlen(full) && full[len - 1] == '\n', "%s full line: %s",
		      name, quoted(full));
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			size_t size = sizes[i], n;

			memset(buf, CANARY, sizeof(buf));
			n = produce((enum producer)p, buf, size);
			CHECK(untouched(buf, size, sizeof(buf)), "%s size %zu: wrote past the end",
			      name, size);
			if (size == 0) {
				CHECK_INT(n, 0, "%s size 0: length", name);
				continue;
			}
			if (!CHECK(memchr(buf, '\0', size) != NULL, "%s size %zu: no NUL", name,
				   size))
				continue;
			CHECK_INT(n, strlen(buf), "%s size %zu: length", name, size);
			if (size == 1)
				continue;
			CHECK(n >= 1 && buf[n - 1] == '\n', "%s size %zu: no final newline: %s",
			      name, size, quoted(buf));
			CHECK(n == (size < len + 1 ? size - 1 : len), "%s size %zu: length %zu",
			      name, size, n);
			CHECK(n >= 1 && !strncmp(buf, full, n - 1),
			      "%s size %zu: %s is not a cut of %s", name, size, quoted(buf),
			      quoted(full));
		}
	}

	/* json_escape cuts inside its buffer too */
	{
		static const char in[] = "a\"\\\x01\xc3\xa9\xff";
		size_t size, n;

		for (size = 0; size < 24; size++) {
			memset(buf, CANARY, sizeof(buf));
			n = json_escape(in, sizeof(in) - 1, buf, size);
			CHECK(untouched(buf, size, sizeof(buf)),
			      "json_escape size %zu: wrote past the end", size);
			if (size)
				CHECK(memchr(buf, '\0', size) && n == strlen(buf),
				      "json_escape size %zu: NUL, length %zu", size, n);
		}
	}

	/* fmt_addr too */
	{
		__u8 addr[16];

		put_addr(6, "2001:db8::1", addr);
		memset(buf, CANARY, sizeof(buf));
		fmt_addr(6, addr, true, buf, 5);
		CHECK_STR(buf, "[200", "fmt_addr into 5 bytes");
		CHECK(untouched(buf, 5, sizeof(buf)), "fmt_addr into 5 bytes: no overflow");
	}
}

/* ------------------------------------------------------------------ */
/* Option parsing */

#define MAX_ARGS 32

struct run {
	char *argv[MAX_ARGS + 2];
	int argc;
	struct opts o;
	enum parse_result rc;
	char *out, *err;
	size_t outlen, errlen;
	char what[160]; /* the arguments, for messages */
};

/* Make glibc's getopt forget everything, including a half-read "-abc". */
static void reset_getopt(void)
{
	static char name[] = "unit";
	char *argv[] = { name, NULL };

	optind = 0;
	opterr = 0;
	while (getopt(1, argv, "") != -1)
		;
}

/* parse_opts on a fresh copy of args (NULL-terminated, argv[0] not included) */
static void run_parse(struct run *r, const char *const *args)
{
	FILE *out, *err;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->argv[r->argc++] = strdup("tcpconnect");
	for (; *args && r->argc <= MAX_ARGS; args++) {
		r->argv[r->argc++] = strdup(*args);
		n += (size_t)snprintf(r->what + n, sizeof(r->what) - n, "%s%s", n ? " " : "",
				      *args);
		if (n >= sizeof(r->what))
			n = sizeof(r->what) - 1;
	}
	r->argv[r->argc] = NULL;
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	if (!out || !err) {
		perror("unit: open_memstream");
		exit(2);
	}
	r->rc = parse_opts(&tcpconnect_tool, r->argc, r->argv, &r->o, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	int i;

	reset_getopt();
	for (i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->out);
	free(r->err);
}

struct good_case {
	const char *args[MAX_ARGS];
	struct opts want;
};

static const struct good_case good[] = {
	{ { NULL }, { .mode = ATTACH_AUTO } },
	{ { "-p", "123" }, { .cfg.pid = 123 } },
	{ { "-p", "1" }, { .cfg.pid = 1 } },
	{ { "-p", "4194304" }, { .cfg.pid = 4194304 } },
	{ { "-p5" }, { .cfg.pid = 5 } },
	{ { "--pid=5" }, { .cfg.pid = 5 } },
	{ { "--pid", "5" }, { .cfg.pid = 5 } },
	{ { "-P", "80,443" }, { .cfg.filter_ports = 1, .nports = 2, .ports = { 80, 443 } } },
	{ { "-P", "1" }, { .cfg.filter_ports = 1, .nports = 1, .ports = { 1 } } },
	{ { "-P", "65535,1,65535" },
	  { .cfg.filter_ports = 1, .nports = 3, .ports = { 65535, 1, 65535 } } },
	{ { "--port", "22" }, { .cfg.filter_ports = 1, .nports = 1, .ports = { 22 } } },
	{ { "--port=22,23" }, { .cfg.filter_ports = 1, .nports = 2, .ports = { 22, 23 } } },
	{ { "-u", "0" }, { .cfg.filter_uid = 1, .cfg.uid = 0 } },
	{ { "-u", "1000" }, { .cfg.filter_uid = 1, .cfg.uid = 1000 } },
	{ { "--uid=4294967294" }, { .cfg.filter_uid = 1, .cfg.uid = 4294967294u } },
	{ { "-U" }, { .print_uid = true } },
	{ { "--print-uid" }, { .print_uid = true } },
	{ { "-L" }, { .lport = true } },
	{ { "--lport" }, { .lport = true } },
	{ { "-L", "-L" }, { .lport = true } }, /* switches may repeat */
	{ { "-t" }, { .timestamp = true } },
	{ { "--timestamp" }, { .timestamp = true } },
	{ { "-c" }, { .count = true, .cfg.count_only = 1 } },
	{ { "--count" }, { .count = true, .cfg.count_only = 1 } },
	{ { "-c", "-j" }, { .count = true, .cfg.count_only = 1, .json = true } },
	{ { "-4" }, { .cfg.family = 4 } },
	{ { "--ipv4" }, { .cfg.family = 4 } },
	{ { "-6" }, { .cfg.family = 6 } },
	{ { "--ipv6" }, { .cfg.family = 6 } },
	{ { "-4", "-4" }, { .cfg.family = 4 } },
	{ { "-j" }, { .json = true } },
	{ { "--json" }, { .json = true } },
	{ { "--attach", "auto" }, { .mode = ATTACH_AUTO } },
	{ { "--attach", "fentry" }, { .mode = ATTACH_FENTRY } },
	{ { "--attach", "kprobe" }, { .mode = ATTACH_KPROBE } },
	{ { "--attach", "tracepoint" }, { .mode = ATTACH_TRACEPOINT } },
	{ { "--attach=kprobe" }, { .mode = ATTACH_KPROBE } },
	{ { "--debug" }, { .debug = true } },
	{ { "--cgroupmap", "/sys/fs/bpf/cgmap" }, { .cgroupmap = "/sys/fs/bpf/cgmap" } },
	{ { "--cgroupmap=P" }, { .cgroupmap = "P" } },
	{ { "--mntnsmap", "/sys/fs/bpf/mntns" }, { .mntnsmap = "/sys/fs/bpf/mntns" } },
	{ { "-tUL" }, { .timestamp = true, .print_uid = true, .lport = true } },
	{ { "-t", "-U", "-L", "-p", "181", "-P", "80,443", "-u", "1000", "-6", "-j", "--attach",
	    "fentry", "--debug", "--cgroupmap", "a", "--mntnsmap", "b" },
	  { .cfg = { .pid = 181, .uid = 1000, .family = 6, .filter_uid = 1, .filter_ports = 1 },
	    .ports = { 80, 443 },
	    .nports = 2,
	    .cgroupmap = "a",
	    .mntnsmap = "b",
	    .mode = ATTACH_FENTRY,
	    .timestamp = true,
	    .json = true,
	    .print_uid = true,
	    .lport = true,
	    .debug = true } },
};

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Every field of struct opts that differs, as "name got/want; ...". */
static const char *opts_diff(const struct opts *got, const struct opts *want)
{
	static char buf[1024];
	size_t n = 0;

#define DIFF(field)                                                                              \
	do {                                                                                     \
		if (got->field != want->field)                                                   \
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,                          \
					      #field " %lld want %lld; ", (long long)got->field, \
					      (long long)want->field);                           \
		if (n >= sizeof(buf))                                                            \
			n = sizeof(buf) - 1;                                                     \
	} while (0)

	buf[0] = '\0';
	DIFF(cfg.pid);
	DIFF(cfg.uid);
	DIFF(cfg.netns);
	DIFF(cfg.family);
	DIFF(cfg.filter_uid);
	DIFF(cfg.filter_ports);
	DIFF(cfg.filter_cgroup);
	DIFF(cfg.filter_mntns);
	DIFF(cfg.count_only);
	DIFF(nports);
	DIFF(mode);
	DIFF(timestamp);
	DIFF(time_hms);
	DIFF(json);
	DIFF(print_uid);
	DIFF(lport);
	DIFF(count);
	DIFF(dns);
	DIFF(verbose);
	DIFF(debug);
#undef DIFF
	if (got->nports == want->nports && got->nports >= 0 && got->nports <= MAX_PORTS &&
	    memcmp(got->ports, want->ports, (size_t)got->nports * sizeof(got->ports[0])))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ports differ; ");
	if (n < sizeof(buf) && !same_str(got->cgroupmap, want->cgroupmap))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "cgroupmap %s want %s; ",
				      quoted(got->cgroupmap), quoted(want->cgroupmap));
	if (n < sizeof(buf) && !same_str(got->mntnsmap, want->mntnsmap))
		snprintf(buf + n, sizeof(buf) - n, "mntnsmap %s want %s; ", quoted(got->mntnsmap),
			 quoted(want->mntnsmap));
	return buf;
}

static void check_good(struct run *r, const struct opts *want)
{
	const char *diff;

	CHECK_INT(r->rc, PARSE_RUN, "parse_opts(%s): result", quoted(r->what));
	diff = opts_diff(&r->o, want);
	CHECK(!*diff, "parse_opts(%s): %s", quoted(r->what), diff);
	CHECK(r->outlen == 0 && r->errlen == 0, "parse_opts(%s): wrote out %s, err %s",
	      quoted(r->what), quoted(r->out), quoted(r->err));
}

static void test_opts_good(void)
{
	static struct opts want; /* 2 KiB of ports */
	static char list[8 * MAX_PORTS];
	const char *args[3] = { "-P", list, NULL };
	struct run r;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		run_parse(&r, good[i].args);
		check_good(&r, &good[i].want);
		run_free(&r);
	}

	/* the longest port list there may be */
	memset(&want, 0, sizeof(want));
	for (i = 0; i < MAX_PORTS; i++) {
		n += (size_t)sprintf(list + n, "%s%zu", i ? "," : "", 65535 - i);
		want.ports[i] = (__u16)(65535 - i);
	}
	want.nports = MAX_PORTS;
	want.cfg.filter_ports = 1;
	run_parse(&r, args);
	check_good(&r, &want);
	run_free(&r);
}

static void test_opts_done(void)
{
	static const struct {
		const char *args[4];
		const char *want_out; /* NULL: the help text */
	} cases[] = {
		{ { "--help" }, NULL },
		{ { "-h" }, NULL },
		{ { "-t", "--help" }, NULL },
		{ { "--version" }, "tcpconnect " SUITE_VERSION "\n" },
		{ { "-L", "--version" }, "tcpconnect " SUITE_VERSION "\n" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run r;

		run_parse(&r, cases[i].args);
		CHECK_INT(r.rc, PARSE_DONE, "parse_opts(%s): result", quoted(r.what));
		CHECK_INT(r.errlen, 0, "parse_opts(%s): wrote to err: %s", quoted(r.what),
			  quoted(r.err));
		if (cases[i].want_out) {
			CHECK_STR(r.out, cases[i].want_out, "parse_opts(%s): out", quoted(r.what));
		} else {
			CHECK(!strncmp(r.out, "Usage: tcpconnect ", 18) && r.outlen > 100 &&
				      r.out[r.outlen - 1] == '\n',
			      "parse_opts(%s): help text %s", quoted(r.what), quoted(r.out));
			/* the options tcpconnect takes, and not those of other tools */
			CHECK(strstr(r.out, "--port PORTS") && strstr(r.out, "--print-uid") &&
				      strstr(r.out, "--cgroupmap PATH") &&
				      strstr(r.out, "--attach MODE") &&
				      strstr(r.out, "destination"),
			      "parse_opts(%s): help lists the options: %s", quoted(r.what),
			      quoted(r.out));
			CHECK(!strstr(r.out, "--netns") && !strstr(r.out, "--verbose") &&
				      !strstr(r.out, "--time "),
			      "parse_opts(%s): help lists another tool's options", quoted(r.what));
		}
		run_free(&r);
	}
}

/* hay contains one of the '|'-separated needles */
static bool contains_any(const char *hay, const char *needles)
{
	char one[256];

	while (*needles) {
		size_t len = strcspn(needles, "|");

		snprintf(one, sizeof(one), "%.*s", (int)len, needles);
		if (strstr(hay, one))
			return true;
		needles += len;
		if (*needles)
			needles++;
	}
	return false;
}

/* A usage error: exit status 2, one clean line on err naming what was wrong. */
static void check_bad(struct run *r, const char *const *needles)
{
	const char *nl;
	size_t i;

	CHECK_INT(r->rc, PARSE_BAD, "parse_opts(%s): result", quoted(r->what));
	CHECK_INT(r->outlen, 0, "parse_opts(%s): wrote to out: %s", quoted(r->what),
		  quoted(r->out));
	nl = r->errlen ? memchr(r->err, '\n', r->errlen) : NULL;
	CHECK(nl && nl == r->err + r->errlen - 1 && strlen(r->err) == r->errlen,
	      "parse_opts(%s): not exactly one line on err: %s", quoted(r->what), quoted(r->err));
	CHECK(!strncmp(r->err, "tcpconnect: ", 12), "parse_opts(%s): err %s", quoted(r->what),
	      quoted(r->err));
	CHECK(strstr(r->err, "--help") != NULL, "parse_opts(%s): no --help hint in %s",
	      quoted(r->what), quoted(r->err));
	for (i = 0; i + 1 < r->errlen; i++)
		if ((unsigned char)r->err[i] < 0x20 || (unsigned char)r->err[i] >= 0x7f)
			break;
	CHECK(i + 1 >= r->errlen, "parse_opts(%s): raw byte 0x%02x in err %s", quoted(r->what),
	      i < r->errlen ? (unsigned char)r->err[i] : 0, quoted(r->err));
	for (; needles && *needles; needles++)
		CHECK(contains_any(r->err, *needles), "parse_opts(%s): err %s does not name %s",
		      quoted(r->what), quoted(r->err), quoted(*needles));
}

struct bad_case {
	const char *args[8];
	const char *needles[3]; /* each is in the message ("a|b": a or b) */
};

static const struct bad_case bad[] = {
	/* unknown options, and those of the other tools */
	{ { "-x" }, { "-x" } },
	{ { "--bogus" }, { "--bogus" } },
	{ { "-L", "-x", "-t" }, { "-x" } },
	{ { "-Lx" }, { "x" } },
	{ { "--bogus=1" }, { "--bogus" } },
	{ { "-T" }, { "-T" } },
	{ { "-v" }, { "-v" } },
	{ { "-N", "4026531840" }, { "-N" } },
	{ { "--netns", "4026531840" }, { "--netns" } },
	{ { "--verbose" }, { "--verbose" } },
	/* a value given to a switch */
	{ { "--debug=1" }, { "debug" } },
	{ { "--lport=5" }, { "lport" } },
	/* missing values */
	{ { "-p" }, { "-p" } },
	{ { "-t", "-P" }, { "-P" } },
	{ { "-L", "-u" }, { "-u" } },
	{ { "--pid" }, { "--pid" } },
	{ { "--attach" }, { "--attach" } },
	{ { "--cgroupmap" }, { "--cgroupmap" } },
	/* PID */
	{ { "-p", "abc" }, { "abc" } },
	{ { "-p", "-1" }, { "-1" } },
	{ { "-p", "+5" }, { "+5" } },
	{ { "-p", " 5" }, { " 5" } },
	{ { "-p", "5 " }, { "5 " } },
	{ { "-p", "5x" }, { "5x" } },
	{ { "-p", "0x10" }, { "0x10" } },
	{ { "-p", "0" }, { "'0'|\"0\"| 0" } },
	{ { "-p", "4194305" }, { "4194305" } },
	{ { "-p", "99999999999999999999" }, { "99999999999999999999" } },
	{ { "-p", "18446744073709551617" }, { "18446744073709551617" } },
	{ { "-p", "" }, { "PID|pid" } },
	{ { "--pid=" }, { "PID|pid" } },
	/* UID */
	{ { "-u", "x" }, { "x" } },
	{ { "-u", "4294967295" }, { "4294967295" } },
	{ { "-u", "4294967296" }, { "4294967296" } },
	{ { "-u", "-1" }, { "-1" } },
	{ { "-u", "" }, { "UID|uid" } },
	/* port lists */
	{ { "-P", "" }, { "port" } },
	{ { "-P", "0" }, { "'0'|\"0\"| 0" } },
	{ { "-P", "65536" }, { "65536" } },
	{ { "-P", "80,,81" }, { "80,,81" } },
	{ { "-P", ",80" }, { ",80" } },
	{ { "-P", "80," }, { "80," } },
	{ { "-P", "a" }, { "'a'|\"a\"| a" } },
	{ { "-P", "80;81" }, { "80;81" } },
	{ { "-P", "80, 81" }, { "80, 81" } },
	{ { "-P", "-80" }, { "-80" } },
	{ { "-P", "80,0" }, { "80,0" } },
	{ { "-P", "80,65536" }, { "80,65536" } },
	{ { "-P", "123456789" }, { "123456789" } },
	/* combinations */
	{ { "-4", "-6" }, { "-4|ipv4", "-6|ipv6" } },
	{ { "-6", "-4" }, { "-4|ipv4", "-6|ipv6" } },
	{ { "-c", "-t" }, { "-c|count", "-t|timestamp" } },
	{ { "-t", "-c" }, { "-c|count", "-t|timestamp" } },
	{ { "-c", "-L" }, { "-c|count", "-L|lport" } },
	{ { "-c", "-U" }, { "-c|count", "-U|print-uid" } },
	/* attach modes, maps */
	{ { "--attach", "bogus" }, { "bogus" } },
	{ { "--attach", "" }, { "attach" } },
	{ { "--attach", "kprobes" }, { "kprobes" } },
	{ { "--cgroupmap", "" }, { "cgroupmap" } },
	{ { "--cgroupmap=" }, { "cgroupmap" } },
	{ { "--mntnsmap", "" }, { "mntnsmap" } },
	/* values given twice */
	{ { "-p", "1", "-p", "2" }, { "-p|pid" } },
	{ { "-p", "1", "--pid=1" }, { "-p|pid" } },
	{ { "-P", "80", "--port", "443" }, { "-P|port" } },
	{ { "-u", "1", "-u", "1" }, { "-u|uid" } },
	{ { "--attach", "kprobe", "--attach", "fentry" }, { "attach" } },
	{ { "--cgroupmap", "a", "--cgroupmap", "b" }, { "cgroupmap" } },
	/* positional arguments */
	{ { "foo" }, { "foo" } },
	{ { "-t", "foo" }, { "foo" } },
	{ { "foo", "-t" }, { "foo" } },
	{ { "-p", "5", "6" }, { "'6'|\"6\"| 6" } },
	{ { "--", "-t" }, { "-t" } },
	{ { "-" }, { "'-'|\"-\"| -" } },
	/* bytes that must not reach the terminal raw */
	{ { "-p", "\xff\x01"
		  "\n5" },
	  { "\\xff\\x01\\x0a5" } },
	{ { "--attach", "k\xc3\xa9" }, { "k\\xc3\\xa9" } },
	{ { "a\x1b[31mb" }, { "a\\x1b[31mb" } },
	{ { "--bo\x7fgus" }, { "--bo\\x7fgus" } },
	{ { "--cgroupmap", "a", "--cgroupmap", "\x01" }, { "cgroupmap" } },
	{ { "-\x01" }, { "\\x01" } },
	{ { "-\x7f" }, { "\\x7f" } },
	{ { "-\xc3\xa9" }, { "\\xc3" } },
};

static void test_opts_bad(void)
{
	static char big[10001], list[8 * (MAX_PORTS + 1)], cut[80];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct run r;

		run_parse(&r, bad[i].args);
		check_bad(&r, bad[i].needles);
		run_free(&r);
	}

	/* one port too many */
	for (i = 1; i <= MAX_PORTS + 1; i++)
		n += (size_t)sprintf(list + n, "%s%zu", i > 1 ? "," : "", i);
	snprintf(cut, sizeof(cut), "%.64s...", list);
	{
		const char *args[] = { "-P", list, NULL }, *needles[] = { cut, NULL };
		struct run r;

		run_parse(&r, args);
		check_bad(&r, needles);
		run_free(&r);
	}

	/* 10000-byte arguments: still one short line, the value cut with "..." */
	memset(big, '7', sizeof(big) - 1);
	snprintf(cut, sizeof(cut), "%.64s...", big);
	{
		const char *as_pid[] = { "-p", big, NULL }, *as_ports[] = { "-P", big, NULL };
		const char *as_arg[] = { big, NULL }, *as_map[] = { "--attach", big, NULL };
		const char *const *cases[] = { as_pid, as_ports, as_arg, as_map };
		const char *needles[] = { cut, NULL };

		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct run r;

			run_parse(&r, cases[i]);
			check_bad(&r, needles);
			CHECK(r.errlen < 300, "parse_opts(%s): err is %zu bytes", quoted(r.what),
			      r.errlen);
			run_free(&r);
		}
	}
}

/* -d is taken only by a tcpconnect built with the DNS capture. */
static void test_opts_dns(void)
{
	const char *d[] = { "-d", NULL }, *dns[] = { "--dns", NULL };
	const char *cd[] = { "-c", "-d", NULL };
	const char *unknown[] = { "-d|dns", NULL }, *with_count[] = { "-c|count", "-d|dns", NULL };
	struct opts want;
	struct run r;

	memset(&want, 0, sizeof(want));
	want.dns = true;
	run_parse(&r, d);
	if (tcpconnect_tool.flags & TF_DNS)
		check_good(&r, &want);
	else
		check_bad(&r, unknown);
	run_free(&r);
	run_parse(&r, dns);
	if (tcpconnect_tool.flags & TF_DNS)
		check_good(&r, &want);
	else
		check_bad(&r, unknown);
	run_free(&r);
	run_parse(&r, cd);
	check_bad(&r, (tcpconnect_tool.flags & TF_DNS) ? with_count : unknown);
	run_free(&r);
}

/*
 * parse_opts must start afresh even when the parse before it stopped in
 * the middle of "-xL" (glibc then still holds a pointer to the "L").
 */
static void test_opts_again(void)
{
	const char *first[] = { "-xL", NULL }, *second[] = { "-p", "5", NULL };
	struct run a, b;

	run_parse(&a, first);
	run_parse(&b, second);
	CHECK_INT(a.rc, PARSE_BAD, "parse_opts(\"-xL\"): result");
	CHECK(b.rc == PARSE_RUN && b.o.cfg.pid == 5 && !b.o.lport && b.errlen == 0,
	      "parse_opts(\"-p 5\") after \"-xL\": result %d, pid %u, lport %d, err %s", b.rc,
	      b.o.cfg.pid, b.o.lport, quoted(b.err));
	run_free(&b);
	run_free(&a);
}

int main(void)
{
	test_addr();
	test_table_literals();
	test_table();
	test_table_brackets();
	test_table_time();
	test_json_escape();
	test_json_escape_short();
	test_json();
	test_json_comm();
	test_count();
	test_small_buffers();
	test_opts_good();
	test_opts_done();
	test_opts_bad();
	test_opts_dns();
	test_opts_again();

	return check_summary("unit");
}
