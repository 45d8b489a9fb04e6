// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpconnect: trace active TCP connections (connect attempts). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	PROG_ENTRY(tcpconnect_bpf, tp_set_state, IN_TRACEPOINT, ROLE_NO_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, tp_retransmit, IN_TRACEPOINT, ROLE_HOOK),
	PROG_ENTRY(tcpconnect_bpf, dns_ingress, IN_EVERY_MODE, ROLE_DNS),
	PROG_ENTRY(tcpconnect_bpf, fentry_reset, IN_FENTRY, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, fentry_finish_connect, IN_FENTRY, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, fentry_error_report, IN_FENTRY, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, fentry_close, IN_FENTRY, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, fentry_disconnect, IN_FENTRY, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, raw_outcome_state, IN_KPROBE, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, raw_reset, IN_KPROBE, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, tp_outcome_state, IN_TRACEPOINT, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, tp_reset, IN_TRACEPOINT, ROLE_OUTCOME),
	PROG_ENTRY(tcpconnect_bpf, sys_exit_connect, IN_TRACEPOINT, ROLE_OUTCOME_EXIT),
	PROG_ENTRY(tcpconnect_bpf, sys_exit_connect_raw, IN_TRACEPOINT, ROLE_OUTCOME_EXIT_RAW),
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

#define NO_KEY ((size_t)-1)

/*
 * The entries of BPF map fd (keys of key_size bytes, at most 64) into *out,
 * an array of *n records of rec bytes, zeroed, each with its key at key_at
 * (NO_KEY: not kept) and its value at val_at; read while no program
 * changes the map (*out NULL for an empty one). 0, or 1 after a line
 * naming what when memory ran out.
 */
static int map_entries(int fd, size_t key_size, size_t rec, size_t key_at, size_t val_at,
		       const char *what, void *out, size_t *n)
{
	unsigned char key[64], *prev = NULL;
	unsigned char *all = NULL;
	size_t cap = 0;

	*n = 0;
	while (bpf_map_get_next_key(fd, prev, key) == 0) {
		unsigned char *r;

		prev = key;
		if (*n == cap) {
			unsigned char *more = realloc(all, (cap = cap ? 2 * cap : 64) * rec);

			if (!more) {
				fprintf(stderr, "%s: cannot hold %s in memory (%zu entries: %s)\n",
					tcpconnect_tool.name, what, cap, strerror(errno));
				free(all);
				*n = 0;
				*(void **)out = NULL;
				return 1;
			}
			all = more;
		}
		r = all + *n * rec;
		memset(r, 0, rec);
		if (key_at != NO_KEY)
			memcpy(r + key_at, key, key_size);
		if (bpf_map_lookup_elem(fd, key, r + val_at) == 0)
			(*n)++;
	}
	*(void **)out = all;
	return 0;
}

/*
 * -c: read the kernel's counts once, sorted, highest first. The programs are
 * detached by now: the table is a snapshot. 0, or 1 after an error line.
 */
static int print_counts(const char *tool, struct bpf_map *map, bool json, bool outcome)
{
	struct counted *all;
	size_t n, i;
	char line[LINE_MAX_BYTES];
	int err = 0;

	if (map_entries(bpf_map__fd(map), sizeof(struct count_key), sizeof(*all),
			offsetof(struct counted, key), offsetof(struct counted, n),
			"the count table", &all, &n))
		return 1;
	if (n)
		qsort(all, n, sizeof(*all), by_count_desc);
	if (!json && fputs((fmt_count_header(outcome, line, sizeof(line)), line), stdout) == EOF)
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

/*
 * ---- -o: the attempts still pending when tracing stopped ----
 * The programs are detached: the pending map is a snapshot. Each attempt
 * becomes a row (oldest first) with its age as its latency, or with -c a
 * count under the result "pending".
 */

static int by_start(const void *a, const void *b)
{
	const struct event_more *x = a, *y = b;

	return x->e.ts_ns < y->e.ts_ns ? -1 : x->e.ts_ns > y->e.ts_ns;
}

/* -c: one more count under k (the BPF side's table; it is ours now) */
static void count_pending(struct bpf_map *counts, const struct event *e)
{
	struct count_key k = { .rport = e->rport, .family = e->family, .outcome = OC_PENDING };
	int fd = bpf_map__fd(counts);
	__u64 n = 0;

	memcpy(k.laddr, e->laddr, sizeof(k.laddr));
	memcpy(k.raddr, e->raddr, sizeof(k.raddr));
	bpf_map_lookup_elem(fd, &k, &n);
	n++;
	bpf_map_update_elem(fd, &k, &n, BPF_ANY);
}

static int pending_stopped(struct session *s, const struct opts *o)
{
	struct tcpconnect_bpf *skel = session_skel(s);
	struct event_more *all;
	struct timespec now;
	size_t n, i;
	int rc = 0;

	if (map_entries(bpf_map__fd(skel->maps.pending), sizeof(__u64), sizeof(*all), NO_KEY,
			offsetof(struct event_more, e), "the pending attempts", &all, &n))
		return 1;
	clock_gettime(CLOCK_BOOTTIME, &now);
	if (n)
		qsort(all, n, sizeof(*all), by_start);
	for (i = 0; i < n && !rc; i++) {
		struct event_more *r = &all[i];
		__u64 t = (__u64)now.tv_sec * 1000000000ULL + (__u64)now.tv_nsec;

		if (o->count) {
			count_pending(skel->maps.counts, &r->e);
			continue;
		}
		r->e.flags = EVF_MORE;
		r->outcome = OC_PENDING;
		r->have = HAVE_DUR;
		r->dur_ns = t > r->e.ts_ns ? t - r->e.ts_ns : 0;
		r->e.ts_ns = t;
		rc = session_deliver(s, &r->e);
	}
	free(all);
	if (!o->count && fflush(stdout))
		return output_failed(tcpconnect_tool.name, errno);
	return rc;
}

/*
 * Once the programs are detached: -o's pending attempts, then -c's counts
 * the kernel kept.
 */
static int connect_stopped(struct session *s, const struct opts *o)
{
	struct tcpconnect_bpf *skel = session_skel(s);
	int rc = o->outcome ? pending_stopped(s, o) : 0;

	if (rc || !o->count)
		return rc;
	return print_counts(tcpconnect_tool.name, skel->maps.counts, o->json, o->outcome);
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
		.stopped = connect_stopped,
		.cleanup = dns_stop,
	};

	return tool_main(&tcpconnect_tool, &tcpconnect_bpf_ops, &hooks, argc, argv);
}
