// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The tcpconnect table: fmt_addr, fmt_header and fmt_row. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"

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

/* ------------------------------------------------------------------ */
/* fmt_addr */

void test_addr(void)
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

const struct ev_case events[] = {
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

void make_event(const struct ev_case *c, struct event *e)
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

void tcpconnect_formatter(struct formatter *f, int flags)
{
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.timestamp = flags & WITH_T;
	o.print_uid = flags & WITH_U;
	o.lport = flags & WITH_L;
	fmt_init(f);
	f->tool_text_key = tcpconnect_tool.tool_text_key;
	tcpconnect_tool.columns(f, &o);
}

/* The expected-line builder against the examples of the man page and README. */
void test_table_literals(void)
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

void test_table(void)
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

void test_table_brackets(void)
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
void test_table_time(void)
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
