// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The output of every tool: table header and rows, JSON lines, counts.
 * Not pure: fmt_row and fmt_json set the formatter's first_ts from the first
 * event, and fmt_row keeps the HH:MM:SS text of the last second it formatted
 * (a cache; that text also depends on the local time zone). None does I/O:
 * each writes into the caller's buffer.
 */
#define _GNU_SOURCE /* strerrorname_np */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "format.h"

struct out {
	char *buf;
	size_t size;
	size_t len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->len >= o->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->size ? o->len + (size_t)n : o->size - 1;
}

/*
 * The appenders below do what put() would with "%s", "%c" and "%llu"
 * without printf's parsing: a row is written hundreds of thousands of times
 * a second under a connection storm. Like put(), they cut at the end of the
 * buffer.
 */
static void put_bytes(struct out *o, const char *p, size_t n)
{
	size_t room;

	if (o->len + 1 >= o->size)
		return;
	room = o->size - 1 - o->len;
	if (n > room)
		n = room;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_char(struct out *o, char c)
{
	put_bytes(o, &c, 1);
}

static void put_spaces(struct out *o, size_t n)
{
	static const char spaces[] = "                                ";

	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		put_bytes(o, spaces, k);
		n -= k;
	}
}

static void put_uint(struct out *o, unsigned long long v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put_bytes(o, digits + i, sizeof(digits) - i);
}

/* v as exactly width digits, zero-padded (v < 10^width) */
static void put_uint_zeros(struct out *o, unsigned long long v, int width)
{
	char digits[20];
	int i;

	for (i = width - 1; i >= 0; i--) {
		digits[i] = (char)('0' + v % 10);
		v /= 10;
	}
	put_bytes(o, digits, (size_t)width);
}

/* dotted-quad, as inet_ntop() writes it */
static void put_ipv4(struct out *o, const __u8 *a)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (i)
			put_char(o, '.');
		put_uint(o, a[i]);
	}
}

static void put_addr(struct out *o, int family, const __u8 *addr, bool brackets)
{
	char text[INET6_ADDRSTRLEN];

	if (family == 4) {
		put_ipv4(o, addr);
		return;
	}
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	if (brackets)
		put_char(o, '[');
	put_bytes(o, text, strlen(text));
	if (brackets)
		put_char(o, ']');
}

/* Terminate with '\n', keeping it even when the line was cut. */
static size_t end_line(struct out *o)
{
	if (o->size < 2) {
		if (o->size)
			o->buf[0] = '\0';
		return 0;
	}
	if (o->len > o->size - 2)
		o->len = o->size - 2;
	o->buf[o->len++] = '\n';
	o->buf[o->len] = '\0';
	return o->len;
}

void fmt_init(struct formatter *f)
{
	struct timespec real, boot;

	memset(f, 0, sizeof(*f));
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	f->boot_to_real_ns =
		(real.tv_sec - boot.tv_sec) * 1000000000LL + (real.tv_nsec - boot.tv_nsec);
}

void fmt_add(struct formatter *f, const char *name, int width, int max, enum field field)
{
	if (f->ncols < MAX_COLUMNS)
		f->cols[f->ncols++] = (struct column){ name, width, max, field };
}

static const char *const type_words[] = {
	[EV_CONNECT] = "connect",
	[EV_ACCEPT] = "accept",
	[EV_CLOSE] = "close",
};

static const char *event_type_name(int type)
{
	if (type >= EV_CONNECT && type <= EV_CLOSE)
		return type_words[type];
	return "unknown";
}

void fmt_addr(int family, const __u8 *addr, bool brackets, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	if (size)
		buf[0] = '\0';
	put_addr(&o, family, addr, brackets);
}

/* COMM for a terminal: control bytes become '?'. */
static void put_comm(struct out *o, const char *comm)
{
	char text[TASK_COMM_LEN];
	size_t i;

	for (i = 0; i < TASK_COMM_LEN - 1 && comm[i]; i++) {
		text[i] = comm[i];
		if ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f)
			text[i] = '?';
	}
	put_bytes(o, text, i);
}

static void note_first(struct formatter *f, const struct event *e)
{
	if (!f->first_ts)
		f->first_ts = e->ts_ns;
}

static __u64 since_first(const struct formatter *f, const struct event *e)
{
	return e->ts_ns > f->first_ts ? e->ts_ns - f->first_ts : 0;
}

/* One cell: text cut to the column's max; padded to its width unless last. */
static void cell(struct out *o, const struct column *c, const char *text, size_t len, bool last)
{
	if (c->max && len > (size_t)c->max)
		len = (size_t)c->max;
	put_bytes(o, text, len);
	if (last)
		return;
	if (len < (size_t)c->width)
		put_spaces(o, (size_t)c->width - len);
	put_char(o, ' ');
}

size_t fmt_header(const struct formatter *f, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	int i;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < f->ncols; i++)
		cell(&o, &(struct column){ f->cols[i].name, f->cols[i].width, 0, 0 },
		     f->cols[i].name, strlen(f->cols[i].name), i == f->ncols - 1);
	return end_line(&o);
}

/* HH:MM:SS of e in local time; the last second's text is kept. */
static void put_time_hms(struct out *o, struct formatter *f, const struct event *e)
{
	time_t secs = (time_t)((__s64)((__u64)e->ts_ns + (__u64)f->boot_to_real_ns) / 1000000000);

	if (!f->hms_valid || secs != f->hms_secs) {
		struct tm tm;

		localtime_r(&secs, &tm);
		strftime(f->hms_text, sizeof(f->hms_text), "%H:%M:%S", &tm);
		f->hms_secs = secs;
		f->hms_valid = true;
	}
	put_bytes(o, f->hms_text, strlen(f->hms_text));
}

/* ns as seconds with 3 decimals, rounded as printf("%.3f") rounds */
static void put_seconds_3(struct out *o, __u64 ns)
{
	char text[32];
	__u64 ms;

	if (ns % 1000000 == 500000) { /* a tie: printf rounds the double, not the integer */
		snprintf(text, sizeof(text), "%.3f", (double)ns / 1e9);
		put_bytes(o, text, strlen(text));
		return;
	}
	ms = (ns + 500000) / 1000000;
	put_uint(o, ms / 1000);
	put_char(o, '.');
	put_uint_zeros(o, ms % 1000, 3);
}

void fmt_errno(int err, char *buf, size_t size)
{
	const char *name = strerrorname_np(err);

	if (name)
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "%d", err);
}

void fmt_result(int outcome, int err, char *buf, size_t size)
{
	static const char *const words[] = {
		[OC_ESTABLISHED] = "established",
		[OC_REFUSED] = "refused",
		[OC_ABORTED] = "aborted",
		[OC_PENDING] = "pending",
	};
	/* what the socket's error after the SYN says */
	static const struct {
		int err;
		const char *word;
	} errors[] = {
		{ ETIMEDOUT, "timeout" },	  { ENETUNREACH, "unreach-net" },
		{ EHOSTUNREACH, "unreach-host" }, { ECONNREFUSED, "unreach-port" },
		{ EACCES, "unreach-admin" },	  { EPERM, "unreach-admin" },
	};
	char name[32];
	size_t i;

	if (outcome == OC_ERROR) {
		for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
			if (errors[i].err == err) {
				snprintf(buf, size, "%s", errors[i].word);
				return;
			}
	}
	if (outcome == OC_ERROR || outcome == OC_FAILED) {
		fmt_errno(err, name, sizeof(name));
		snprintf(buf, size, "%s:%s", outcome == OC_ERROR ? "error" : "failed", name);
	} else if (outcome > 0 && (size_t)outcome < sizeof(words) / sizeof(words[0]) &&
		   words[outcome]) {
		snprintf(buf, size, "%s", words[outcome]);
	} else {
		snprintf(buf, size, "-");
	}
}

/* The figures beyond bcc's of e, or NULL (it has none). */
static const struct event_more *more_of(const struct event *e)
{
	return e->flags & EVF_MORE ? (const struct event_more *)e : NULL;
}

/* ns as milliseconds with 3 decimals (microseconds), cut, not rounded */
static void put_ms_3(struct out *o, __u64 ns)
{
	__u64 us = ns / 1000;

	put_uint(o, us / 1000);
	put_char(o, '.');
	put_uint_zeros(o, us % 1000, 3);
}

/* A figure of m (field F_DUR, F_DUR2, F_TX or F_RX), or '-' if unknown */
static void put_more(struct out *t, enum field field, const struct event_more *m)
{
	__u8 need = field == F_DUR ? HAVE_DUR : field == F_DUR2 ? HAVE_DUR2 : HAVE_BYTES;

	if (!m || !(m->have & need))
		put_char(t, '-');
	else if (field == F_DUR)
		put_ms_3(t, m->dur_ns);
	else if (field == F_DUR2)
		put_ms_3(t, m->dur2_ns);
	else
		put_uint(t, field == F_TX ? m->tx_bytes : m->rx_bytes);
}

/* The text of column c for e into t (F_TOOL_TEXT is not written here). */
static void column_text(struct out *t, struct formatter *f, const struct column *c,
			const struct event *e, __u64 rel)
{
	switch (c->field) {
	case F_TIME_HMS:
		put_time_hms(t, f, e);
		break;
	case F_TIME_S:
		put_seconds_3(t, rel);
		break;
	case F_TIME_NS:
		put_uint(t, rel);
		break;
	case F_TYPE_CHAR:
		put_char(t, (char)(e->type == EV_CONNECT ? 'C' : e->type == EV_ACCEPT ? 'A' : 'X'));
		break;
	case F_TYPE_WORD: {
		const char *word = event_type_name(e->type);

		put_bytes(t, word, strlen(word));
		break;
	}
	case F_UID:
		put_uint(t, e->uid);
		break;
	case F_PID:
		put_uint(t, e->pid);
		break;
	case F_COMM:
		put_comm(t, e->comm);
		break;
	case F_IP:
		put_uint(t, e->family);
		break;
	case F_LADDR:
		put_addr(t, e->family, e->laddr, f->v6_brackets);
		break;
	case F_LPORT:
		put_uint(t, e->lport);
		break;
	case F_RADDR:
		put_addr(t, e->family, e->raddr, f->v6_brackets);
		break;
	case F_RPORT:
		put_uint(t, e->rport);
		break;
	case F_NETNS:
		put_uint(t, e->netns);
		break;
	case F_DUR:
	case F_DUR2:
	case F_TX:
	case F_RX:
		put_more(t, c->field, more_of(e));
		break;
	case F_RESULT: {
		char word[48];

		fmt_result(more_of(e) ? more_of(e)->outcome : OC_NONE,
			   more_of(e) ? more_of(e)->err : 0, word, sizeof(word));
		put_bytes(t, word, strlen(word));
		break;
	}
	case F_TOOL_TEXT:
		break;
	}
}

size_t fmt_row(struct formatter *f, const struct event *e, const char *tool_text, char *buf,
	       size_t size)
{
	struct out o = { buf, size, 0 };
	__u64 rel;
	int i;

	if (size)
		buf[0] = '\0';
	note_first(f, e);
	rel = since_first(f, e);
	for (i = 0; i < f->ncols; i++) {
		const struct column *c = &f->cols[i];
		bool last = i == f->ncols - 1;
		char text[128];
		struct out t = { text, sizeof(text), 0 };

		if (c->field == F_TOOL_TEXT) { /* as long as it is (a DNS name: up to 255 bytes) */
			cell(&o, c, tool_text ? tool_text : "", tool_text ? strlen(tool_text) : 0,
			     last);
			continue;
		}
		column_text(&t, f, c, e, rel);
		cell(&o, c, text, t.len, last);
	}
	return end_line(&o);
}

/*
 * Append n bytes to o whole, or nothing: a cut escape or UTF-8 sequence
 * would make the JSON invalid. False once something did not fit.
 */
static bool put_whole(struct out *o, const char *piece, size_t n)
{
	if (o->len + n >= o->size)
		return false;
	memcpy(o->buf + o->len, piece, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return true;
}

size_t json_escape(const char *s, size_t len, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	size_t i = 0;

	if (size)
		buf[0] = '\0';
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = 1, k;
		char esc[8];
		const char *piece = s + i;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			piece = esc;
			n = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			/* a well-formed UTF-8 sequence passes as it is */
			n = 0;
			if (c >= 0xc2 && c <= 0xdf)
				n = 2;
			else if (c >= 0xe0 && c <= 0xef)
				n = 3;
			else if (c >= 0xf0 && c <= 0xf4)
				n = 4;
			for (k = 1; n && k < n; k++)
				if (i + k >= len || ((unsigned char)s[i + k] & 0xc0) != 0x80)
					n = 0;
			if (n == 3 && ((c == 0xe0 && (unsigned char)s[i + 1] < 0xa0) ||
				       (c == 0xed && (unsigned char)s[i + 1] >= 0xa0)))
				n = 0; /* overlong, or a surrogate */
			if (n == 4 && ((c == 0xf0 && (unsigned char)s[i + 1] < 0x90) ||
				       (c == 0xf4 && (unsigned char)s[i + 1] >= 0x90)))
				n = 0; /* overlong, or past U+10FFFF */
			if (!n) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				piece = esc;
				n = 6;
			}
		}
		if (!put_whole(&o, piece, n))
			break;
		i += piece == esc ? 1 : n; /* an escape stands for one byte */
	}
	return o.len;
}

/* A string literal, without its NUL. */
#define put_literal(o, lit) put_bytes(o, lit, sizeof(lit) - 1)

/* seconds.microseconds of CLOCK_REALTIME */
static void put_json_time(struct out *o, __s64 real)
{
	if (real < 0) { /* never for a real clock; printf's text for it */
		put(o, "%lld.%06lld", (long long)(real / 1000000000),
		    (long long)(real % 1000000000 / 1000));
		return;
	}
	put_uint(o, (unsigned long long)real / 1000000000);
	put_char(o, '.');
	put_uint_zeros(o, (unsigned long long)real % 1000000000 / 1000, 6);
}

/* COMM as a JSON string body; most need no escape at all */
static void put_json_comm(struct out *o, const char *comm)
{
	char text[TASK_COMM_LEN * 6 + 1];
	size_t n = strnlen(comm, TASK_COMM_LEN), i;

	for (i = 0; i < n; i++)
		if ((unsigned char)comm[i] < 0x20 || (unsigned char)comm[i] >= 0x7f ||
		    comm[i] == '"' || comm[i] == '\\')
			break;
	if (i == n) {
		put_bytes(o, comm, n);
		return;
	}
	n = json_escape(comm, n, text, sizeof(text));
	put_bytes(o, text, n);
}

/* ,"key":v */
static void put_json_uint(struct out *o, const char *key, unsigned long long v)
{
	put_literal(o, ",\"");
	put_bytes(o, key, strlen(key));
	put_literal(o, "\":");
	put_uint(o, v);
}

/*
 * The keys of the figures beyond bcc's (struct event_more): each only with
 * its option, and only when it is known.
 */
static void put_json_more(struct out *o, const struct formatter *f, const struct event_more *m)
{
	char text[48];

	if (!m)
		return;
	if (m->outcome) {
		fmt_result(m->outcome, m->err, text, sizeof(text));
		put_literal(o, ",\"result\":\"");
		put_bytes(o, text, strlen(text));
		put_char(o, '"');
	}
	if (m->err &&
	    (m->outcome == OC_REFUSED || m->outcome == OC_ERROR || m->outcome == OC_FAILED)) {
		fmt_errno(m->err, text, sizeof(text));
		put_literal(o, ",\"error\":\"");
		put_bytes(o, text, strlen(text));
		put_char(o, '"');
	}
	if ((m->have & HAVE_DUR) && f->dur_key)
		put_json_uint(o, f->dur_key, m->dur_ns);
	if ((m->have & HAVE_DUR2) && f->dur2_key)
		put_json_uint(o, f->dur2_key, m->dur2_ns);
	if (m->have & HAVE_BYTES) {
		put_json_uint(o, "tx_bytes", m->tx_bytes);
		put_json_uint(o, "rx_bytes", m->rx_bytes);
	}
}

size_t fmt_json(struct formatter *f, const struct event *e, const char *tool_text, char *buf,
		size_t size)
{
	struct out o = { buf, size, 0 };
	const char *type = event_type_name(e->type);

	if (size)
		buf[0] = '\0';
	note_first(f, e);
	put_literal(&o, "{\"time\":");
	put_json_time(&o, (__s64)((__u64)e->ts_ns + (__u64)f->boot_to_real_ns));
	put_literal(&o, ",\"type\":\"");
	put_bytes(&o, type, strlen(type));
	put_literal(&o, "\",\"pid\":");
	put_uint(&o, e->pid);
	put_literal(&o, ",\"tid\":");
	put_uint(&o, e->tid);
	put_literal(&o, ",\"uid\":");
	put_uint(&o, e->uid);
	put_literal(&o, ",\"comm\":\"");
	put_json_comm(&o, e->comm);
	put_literal(&o, "\",\"ip\":");
	put_uint(&o, e->family);
	put_literal(&o, ",\"laddr\":\"");
	put_addr(&o, e->family, e->laddr, false);
	put_literal(&o, "\",\"lport\":");
	put_uint(&o, e->lport);
	put_literal(&o, ",\"raddr\":\"");
	put_addr(&o, e->family, e->raddr, false);
	put_literal(&o, "\",\"rport\":");
	put_uint(&o, e->rport);
	put_literal(&o, ",\"netns\":");
	put_uint(&o, e->netns);
	put_json_more(&o, f, more_of(e));
	if (f->tool_text_key && tool_text) {
		char ex[512];
		size_t n = json_escape(tool_text, strlen(tool_text), ex, sizeof(ex));

		put_literal(&o, ",\"");
		put_bytes(&o, f->tool_text_key, strlen(f->tool_text_key));
		put_literal(&o, "\":\"");
		put_bytes(&o, ex, n);
		put_char(&o, '"');
	}
	put_char(&o, '}');
	return end_line(&o);
}

#define COUNT_RESULT_WIDTH 16

size_t fmt_count_header(bool outcome, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	put(&o, "%-25s %-25s %-20s ", "LADDR", "RADDR", "RPORT");
	if (outcome)
		put(&o, "%-*s ", COUNT_RESULT_WIDTH, "RESULT");
	put(&o, "CONNECTS");
	return end_line(&o);
}

size_t fmt_count_row(const struct count_key *k, __u64 n, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char l[48], r[48], word[48];

	fmt_addr(k->family, k->laddr, false, l, sizeof(l));
	fmt_addr(k->family, k->raddr, false, r, sizeof(r));
	put(&o, "%-25s %-25s %-20u ", l, r, k->rport);
	if (k->outcome) { /* -o */
		fmt_result(k->outcome, k->err, word, sizeof(word));
		put(&o, "%-*s ", COUNT_RESULT_WIDTH, word);
	}
	put(&o, "%llu", (unsigned long long)n);
	return end_line(&o);
}

size_t fmt_count_json(const struct count_key *k, __u64 n, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char l[48], r[48], word[48];

	fmt_addr(k->family, k->laddr, false, l, sizeof(l));
	fmt_addr(k->family, k->raddr, false, r, sizeof(r));
	put(&o, "{\"ip\":%u,\"laddr\":\"%s\",\"raddr\":\"%s\",\"rport\":%u,", k->family, l, r,
	    k->rport);
	if (k->outcome) { /* -o */
		fmt_result(k->outcome, k->err, word, sizeof(word));
		put(&o, "\"result\":\"%s\",", word);
	}
	put(&o, "\"connects\":%llu}", (unsigned long long)n);
	return end_line(&o);
}
