// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#define _GNU_SOURCE /* fwrite_unlocked */
/*
 * The main() every tool shares.
 *
 * How an event travels, hop by hop:
 *   1. BPF: a tool's program fills a struct event and emit()s it
 *      (src/bpf/core.bpf.h) into the events ring, without waking the
 *      reader unless the ring is half full or the reader sleeps;
 *   2. the ring: session_run() (session.c) wakes every POLL_MS while
 *      events come and consumes whatever the ring holds, a batch at a
 *      time; when a drain finds nothing it sleeps with no timer, and the
 *      next event wakes it;
 *   3. the session's ring callback, on_sample() (session.c), reads the
 *      tool's extra rings first (tcpconnect -d's DNS answers), then hands
 *      the event on;
 *   4. print_event() below takes the tool's text for it (a hook) and
 *   5. formats it: fmt_row() or fmt_json() (format.c), into stdout's buffer;
 *   6. session_run() flushes stdout once per batch.
 */
#include <malloc.h>
#include <stdio.h>
#include "format.h"
#include "descriptions.h"
#include "tool_main.h"

struct printer {
	struct formatter fmt;
	bool json;
	const struct tool_hooks *hooks;
};

static int print_event(void *ctx, const struct event *e)
{
	struct printer *p = ctx;
	const char *tool_text = p->hooks->tool_text ? p->hooks->tool_text(e) : NULL;
	char line[LINE_MAX_BYTES];
	size_t n = p->json ? fmt_json(&p->fmt, e, tool_text, line, sizeof(line))
			   : fmt_row(&p->fmt, e, tool_text, line, sizeof(line));

	fwrite_unlocked(line, 1, n, stdout); /* one thread: no lock per row */
	return 0;
}

int tool_main(const struct tool_desc *t, const struct skel_ops *ops, const struct tool_hooks *hooks,
	      int argc, char **argv)
{
	static const struct tool_hooks none;
	static char outbuf[1 << 16];
	struct printer p;
	struct session *s;
	struct opts o;
	char line[LINE_MAX_BYTES];
	int rc = parse_opts(t, argc, argv, &o, stdout, stderr);

	if (rc != PARSE_RUN)
		return rc;
	/*
	 * Loading parses the kernel's BTF into large buffers; with a fixed mmap
	 * threshold they go back to the system when freed instead of raising
	 * glibc's dynamic threshold and staying on the heap (about 2 MB of RSS).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf)); /* flushed per batch */
	fmt_init(&p.fmt);
	p.fmt.tool_text_key = t->tool_text_key;
	p.fmt.dur_key = t->dur_key;
	p.fmt.dur2_key = t->dur2_key;
	p.json = o.json;
	p.hooks = hooks ? hooks : &none;
	t->columns(&p.fmt, &o);
	rc = session_start(&s, t, &o, ops, print_event, &p);
	if (rc)
		return rc;
	if (p.hooks->start)
		rc = p.hooks->start(s, &o);
	if (!rc) {
		fprintf(stderr, "%s\n", t->banner); /* only now is tracing really started */
		if (!o.json && !o.count) {
			fmt_header(&p.fmt, line, sizeof(line));
			fputs(line, stdout);
			fflush(stdout);
		}
		rc = session_run(s);
		session_detach(s);
		if (p.hooks->stopped && !rc)
			rc = p.hooks->stopped(s, &o);
	}
	session_stop(s);
	if (p.hooks->cleanup)
		p.hooks->cleanup();
	return rc;
}
