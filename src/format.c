// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The output of every tool: table header and rows, JSON lines, counts.
 * Pure functions of their arguments (and of the formatter's first_ts).
 */
#include <arpa/inet.h>
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

const char *event_type_name(int type)
{
	if (type >= EV_CONNECT && type <= EV_CLOSE)
		return type_words[type];
	return "unknown";
}

void fmt_addr(int family, const __u8 *addr, bool brackets, char *buf, size_t size)
{
	char text[INET6_ADDRSTRLEN];

	if (family == 4) {
		inet_ntop(AF_INET, addr, text, sizeof(text));
		snprintf(buf, size, "%s", text);
	} else {
		inet_ntop(AF_INET6, addr, text, sizeof(text));
		snprintf(buf, size, brackets ? "[%s]" : "%s", text);
	}
}

/* COMM for a terminal: control bytes become '?'. */
static void comm_text(const char *comm, char *buf)
{
	int i;

	for (i = 0; i < TASK_COMM_LEN - 1 && comm[i]; i++) {
		buf[i] = comm[i];
		if ((unsigned char)comm[i] < 0x20 || comm[i] == 0x7f)
			buf[i] = '?';
	}
	buf[i] = '\0';
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

static void cell(struct out *o, const struct column *c, const char *text, bool last)
{
	int len = (int)strlen(text);

	if (c->max && len > c->max)
		len = c->max;
	if (last)
		put(o, "%.*s", len, text);
	else
		put(o, "%-*.*s ", c->width, len, text);
}

size_t fmt_header(const struct formatter *f, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	int i;

	for (i = 0; i < f->ncols; i++)
		cell(&o, &(struct column){ f->cols[i].name, f->cols[i].width, 0, 0 },
		     f->cols[i].name, i == f->ncols - 1);
	return end_line(&o);
}

size_t fmt_row(struct formatter *f, const struct event *e, const char *extra, char *buf,
	       size_t size)
{
	struct out o = { buf, size, 0 };
	char text[128];
	int i;

	note_first(f, e);
	for (i = 0; i < f->ncols; i++) {
		const struct column *c = &f->cols[i];
		__u64 rel = since_first(f, e);
		time_t secs;
		struct tm tm;

		switch (c->field) {
		case F_TIME_HMS:
			secs = (time_t)((__s64)e->ts_ns + f->boot_to_real_ns) / 1000000000;
			localtime_r(&secs, &tm);
			strftime(text, sizeof(text), "%H:%M:%S", &tm);
			break;
		case F_TIME_S:
			snprintf(text, sizeof(text), "%.3f", (double)rel / 1e9);
			break;
		case F_TIME_NS:
			snprintf(text, sizeof(text), "%llu", (unsigned long long)rel);
			break;
		case F_TYPE_CHAR:
			snprintf(text, sizeof(text), "%c",
				 e->type == EV_CONNECT	? 'C'
				 : e->type == EV_ACCEPT ? 'A'
							: 'X');
			break;
		case F_TYPE_WORD:
			snprintf(text, sizeof(text), "%s", event_type_name(e->type));
			break;
		case F_UID:
			snprintf(text, sizeof(text), "%u", e->uid);
			break;
		case F_PID:
			snprintf(text, sizeof(text), "%u", e->pid);
			break;
		case F_COMM:
			comm_text(e->comm, text);
			break;
		case F_IP:
			snprintf(text, sizeof(text), "%u", e->family);
			break;
		case F_LADDR:
			fmt_addr(e->family, e->laddr, f->v6_brackets, text, sizeof(text));
			break;
		case F_LPORT:
			snprintf(text, sizeof(text), "%u", e->lport);
			break;
		case F_RADDR:
			fmt_addr(e->family, e->raddr, f->v6_brackets, text, sizeof(text));
			break;
		case F_RPORT:
			snprintf(text, sizeof(text), "%u", e->rport);
			break;
		case F_NETNS:
			snprintf(text, sizeof(text), "%u", e->netns);
			break;
		case F_EXTRA: /* as long as it is (a DNS name can take 1 KiB) */
			cell(&o, c, extra ? extra : "", i == f->ncols - 1);
			continue;
		}
		cell(&o, c, text, i == f->ncols - 1);
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

size_t fmt_json(struct formatter *f, const struct event *e, const char *extra, char *buf,
		size_t size)
{
	struct out o = { buf, size, 0 };
	char comm[TASK_COMM_LEN * 6 + 1], laddr[48], raddr[48], ex[512];
	__s64 real = (__s64)e->ts_ns + f->boot_to_real_ns;

	note_first(f, e);
	json_escape(e->comm, strnlen(e->comm, TASK_COMM_LEN), comm, sizeof(comm));
	fmt_addr(e->family, e->laddr, false, laddr, sizeof(laddr));
	fmt_addr(e->family, e->raddr, false, raddr, sizeof(raddr));
	put(&o,
	    "{\"time\":%lld.%06lld,\"type\":\"%s\",\"pid\":%u,\"tid\":%u,\"uid\":%u,"
	    "\"comm\":\"%s\",\"ip\":%u,\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\","
	    "\"rport\":%u,\"netns\":%u",
	    (long long)(real / 1000000000), (long long)(real % 1000000000 / 1000),
	    event_type_name(e->type), e->pid, e->tid, e->uid, comm, e->family, laddr, e->lport,
	    raddr, e->rport, e->netns);
	if (f->extra_key && extra) {
		json_escape(extra, strlen(extra), ex, sizeof(ex));
		put(&o, ",\"%s\":\"%s\"", f->extra_key, ex);
	}
	put(&o, "}");
	return end_line(&o);
}

size_t fmt_count_header(char *buf, size_t size)
{
	struct out o = { buf, size, 0 };

	put(&o, "%-25s %-25s %-20s %s", "LADDR", "RADDR", "RPORT", "CONNECTS");
	return end_line(&o);
}

size_t fmt_count_row(const struct count_key *k, __u64 n, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char l[48], r[48];

	fmt_addr(k->family, k->laddr, false, l, sizeof(l));
	fmt_addr(k->family, k->raddr, false, r, sizeof(r));
	put(&o, "%-25s %-25s %-20u %llu", l, r, k->rport, (unsigned long long)n);
	return end_line(&o);
}

size_t fmt_count_json(const struct count_key *k, __u64 n, char *buf, size_t size)
{
	struct out o = { buf, size, 0 };
	char l[48], r[48];

	fmt_addr(k->family, k->laddr, false, l, sizeof(l));
	fmt_addr(k->family, k->raddr, false, r, sizeof(r));
	put(&o, "{\"ip\":%u,\"laddr\":\"%s\",\"raddr\":\"%s\",\"rport\":%u,\"connects\":%llu}",
	    k->family, l, r, k->rport, (unsigned long long)n);
	return end_line(&o);
}
