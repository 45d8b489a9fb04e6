// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The main() every tool shares. */
#include <stdio.h>
#include "format.h"
#include "tool_main.h"

struct printer {
	struct formatter fmt;
	bool json;
};

static int print_event(void *ctx, const struct event *e)
{
	struct printer *p = ctx;
	char line[LINE_MAX_BYTES];
	size_t n = p->json ? fmt_json(&p->fmt, e, NULL, line, sizeof(line)) :
			     fmt_row(&p->fmt, e, NULL, line, sizeof(line));

	fwrite(line, 1, n, stdout);
	return 0;
}

int tool_main(const struct tool_desc *t, const struct skel_ops *ops, at_exit_fn at_exit,
	      int argc, char **argv)
{
	static char outbuf[1 << 16];
	struct printer p;
	struct session s;
	struct opts o;
	char line[LINE_MAX_BYTES];
	int rc = parse_opts(t, argc, argv, &o, stdout, stderr);

	if (rc != PARSE_RUN)
		return rc;
	setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf)); /* flushed per batch */
	fmt_init(&p.fmt);
	p.fmt.extra_key = t->extra_key;
	p.json = o.json;
	t->columns(&p.fmt, &o);
	rc = session_start(&s, t, &o, ops, print_event, &p);
	if (rc)
		return rc;
	if (!o.json && !o.count) {
		fmt_header(&p.fmt, line, sizeof(line));
		fputs(line, stdout);
		fflush(stdout);
	}
	rc = session_run(&s);
	if (at_exit && !rc)
		at_exit(&s, &o);
	session_stop(&s);
	return rc;
}
