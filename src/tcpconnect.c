// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpconnect: trace active TCP connections (connect attempts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "dns.h"
#include "format.h"
#include "tool_main.h"
#include "tools.h"
#include "tcpconnect.skel.h"

SKEL_OPS_LOSSES(tcpconnect_bpf, SKEL_LOST(tcpconnect_bpf, LOSS_COUNTS, lost_counts)
					SKEL_LOST(tcpconnect_bpf, LOSS_DNS, lost_dns));

struct counted {
	struct count_key key;
	__u64 n;
};

static int by_count_desc(const void *a, const void *b)
{
	const struct counted *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/*
 * -c: read the kernel's counts once, sorted, highest first. The programs are
 * detached by now: the table is a snapshot. 0, or 1 after an error line.
 */
static int print_counts(const char *tool, struct bpf_map *map, bool json)
{
	struct counted *all = NULL;
	struct count_key key, *prev = NULL;
	size_t n = 0, cap = 0, i;
	int fd = bpf_map__fd(map), err = 0;
	char line[LINE_MAX_BYTES];

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (n == cap) {
			struct counted *more =
				realloc(all, (cap = cap ? 2 * cap : 256) * sizeof(*all));

			if (!more) {
				fprintf(stderr,
					"%s: cannot hold the count table in memory (%zu entries: "
					"%s)\n",
					tool, cap, strerror(errno));
				free(all);
				return 1;
			}
			all = more;
		}
		all[n].key = key;
		if (bpf_map_lookup_elem(fd, &key, &all[n].n) == 0)
			n++;
		prev = &all[n ? n - 1 : 0].key;
	}
	if (n)
		qsort(all, n, sizeof(*all), by_count_desc);
	if (!json && fputs((fmt_count_header(line, sizeof(line)), line), stdout) == EOF)
		err = errno;
	for (i = 0; i < n && !err; i++) {
		if (json)
			fmt_count_json(&all[i].key, all[i].n, line, sizeof(line));
		else
			fmt_count_row(&all[i].key, all[i].n, line, sizeof(line));
		if (fputs(line, stdout) == EOF)
			err = errno;
	}
	free(all);
	if (fflush(stdout) && !err)
		err = errno;
	if (!err || err == EPIPE)
		return 0; /* EPIPE: nobody reads any more, leave quietly as while tracing */
	fprintf(stderr, "%s: cannot write the output (%s)\n", tool, strerror(err));
	return 1;
}

/* -c: the counts the kernel kept, printed once the programs are detached */
static int stopping(struct session *s, const struct opts *o)
{
	if (!o->count)
		return 0;
	return print_counts(s->tool->name, ((struct tcpconnect_bpf *)s->skel)->maps.counts,
			    o->json);
}

/* ---- -d ---- */

static struct dns_cache *dns_cache;
static struct ring_buffer *dns_rb;

static void remember_answer(void *ctx, const char *qname, int family, const uint8_t *addr)
{
	const struct dns_record *r = ctx;

	dns_cache_put(dns_cache, family, addr, qname, r->ts_ns);
}

static int on_dns(void *ctx, void *data, size_t size)
{
	const struct dns_record *r = data;

	(void)ctx;
	if (size >= sizeof(*r) && r->len <= DNS_PAYLOAD_MAX)
		dns_parse_response(r->data, r->len, remember_answer, (void *)r);
	return 0;
}

/* Every answer read so far is in the cache before a connect is looked up. */
static void drain_dns(struct session *s)
{
	(void)s;
	ring_buffer__consume(dns_rb);
}

static const char *query_of(const struct event *e)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static char text[DNS_NAME_MAX + 32];

	if (!dns_rb)
		return NULL;
	drain_dns(NULL);
	/* an AF_INET6 socket reaching an IPv4 peer used an A answer */
	if (e->family == 6 && !memcmp(e->raddr, mapped, sizeof(mapped)))
		dns_query_text(dns_cache, 4, e->raddr + 12, e->ts_ns, text, sizeof(text));
	else
		dns_query_text(dns_cache, e->family, e->raddr, e->ts_ns, text, sizeof(text));
	return text;
}

static int started(struct session *s, const struct opts *o)
{
	struct tcpconnect_bpf *skel = s->skel;

	if (!o->dns)
		return 0;
	dns_cache = dns_cache_new();
	dns_rb = ring_buffer__new(bpf_map__fd(skel->maps.dns_events), on_dns, NULL, NULL);
	if (!dns_cache || !dns_rb) {
		fprintf(stderr, "%s: cannot set up the DNS answer cache (%s)\n", s->tool->name,
			strerror(errno));
		return 1;
	}
	s->before_batch = drain_dns; /* on the timer: answers come without wakeups */
	s->extra_rb = dns_rb;	     /* and early when the DNS ring is half full */
	return 0;
}

int main(int argc, char **argv)
{
	static const struct tool_hooks hooks = {
		.started = started,
		.extra = query_of,
		.stopping = stopping,
	};
	int rc = tool_main(&tcpconnect_tool, &tcpconnect_bpf_ops, &hooks, argc, argv);

	ring_buffer__free(dns_rb);
	dns_cache_free(dns_cache);
	return rc;
}
