// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpconnect: trace active TCP connections (connect attempts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dns.h"
#include "format.h"
#include "descriptions.h"
#include "tool_main.h"
#include "tcpconnect.skel.h"

/* Which programs load in which attach mode (progs.h) */
static const struct prog_entry tcpconnect_progs[] = {
	CONNECT_PROGS(PROG_ENTRY, tcpconnect_bpf),
	PROG_ENTRY(tcpconnect_bpf, tp_set_state, IN_TRACEPOINT, ROLE_HOOK),
	PROG_ENTRY(tcpconnect_bpf, tp_retransmit, IN_TRACEPOINT, ROLE_HOOK),
	PROG_ENTRY(tcpconnect_bpf, dns_ingress, IN_EVERY_MODE, ROLE_DNS),
};

SKEL_OPS_LOSSES(tcpconnect_bpf, tcpconnect_progs,
		SKEL_LOST(tcpconnect_bpf, LOSS_COUNTS, lost_counts)
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
	return err ? output_failed(tool, err) : 0;
}

/* -c: the counts the kernel kept, printed once the programs are detached */
static int counts_stopped(struct session *s, const struct opts *o)
{
	if (!o->count)
		return 0;
	struct tcpconnect_bpf *skel = session_skel(s);

	return print_counts(tcpconnect_tool.name, skel->maps.counts, o->json);
}

/*
 * ---- -d: the DNS feature, its whole life here ----
 * The BPF side copies every DNS response a local socket receives into the
 * dns_events ring; the answers go into a cache, and a connect's QUERY is the
 * name that was answered with its destination address.
 */

static struct dns_cache *dns_cache; /* NULL: no -d */

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

/*
 * The session reads the ring on its timer (answers come without wakeups),
 * early when the ring is half full, and before each connect it delivers.
 */
static int dns_start(struct session *s, const struct opts *o)
{
	struct tcpconnect_bpf *skel = session_skel(s);

	if (!o->dns)
		return 0;
	dns_cache = dns_cache_new();
	if (!dns_cache || session_add_ring(s, skel->maps.dns_events, on_dns, NULL)) {
		fprintf(stderr, "%s: cannot set up the DNS answer cache (%s)\n",
			tcpconnect_tool.name, strerror(errno));
		return 1;
	}
	return 0;
}

/* QUERY of e: the session put every answer before it in the cache */
static const char *query_of(const struct event *e)
{
	static const __u8 mapped[12] = { [10] = 0xff, [11] = 0xff };
	static char text[DNS_NAME_MAX + 32];

	if (!dns_cache)
		return NULL;
	/* an AF_INET6 socket reaching an IPv4 peer used an A answer */
	if (e->family == 6 && !memcmp(e->raddr, mapped, sizeof(mapped)))
		dns_query_text(dns_cache, 4, e->raddr + 12, e->ts_ns, text, sizeof(text));
	else
		dns_query_text(dns_cache, e->family, e->raddr, e->ts_ns, text, sizeof(text));
	return text;
}

static void dns_stop(void)
{
	dns_cache_free(dns_cache);
	dns_cache = NULL;
}

int main(int argc, char **argv)
{
	static const struct tool_hooks hooks = {
		.start = dns_start,
		.tool_text = query_of,
		.stopped = counts_stopped,
		.cleanup = dns_stop,
	};

	return tool_main(&tcpconnect_tool, &tcpconnect_bpf_ops, &hooks, argc, argv);
}
