// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpconnect: trace active TCP connections (connect attempts). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "format.h"
#include "tool_main.h"
#include "tools.h"
#include "tcpconnect.skel.h"

SKEL_OPS(tcpconnect_bpf);

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

/* -c: read the kernel's counts once, sorted, highest first. */
static void print_counts(struct bpf_map *map, bool json)
{
	struct counted *all = NULL;
	struct count_key key, *prev = NULL;
	size_t n = 0, cap = 0, i;
	int fd = bpf_map__fd(map);
	char line[LINE_MAX_BYTES];

	while (bpf_map_get_next_key(fd, prev, &key) == 0) {
		if (n == cap) {
			struct counted *more =
				realloc(all, (cap = cap ? 2 * cap : 256) * sizeof(*all));

			if (!more)
				break;
			all = more;
		}
		all[n].key = key;
		if (bpf_map_lookup_elem(fd, &key, &all[n].n) == 0)
			n++;
		prev = &all[n ? n - 1 : 0].key;
	}
	qsort(all, n, sizeof(*all), by_count_desc);
	if (!json)
		fputs((fmt_count_header(line, sizeof(line)), line), stdout);
	for (i = 0; i < n; i++) {
		if (json)
			fmt_count_json(&all[i].key, all[i].n, line, sizeof(line));
		else
			fmt_count_row(&all[i].key, all[i].n, line, sizeof(line));
		fputs(line, stdout);
	}
	fflush(stdout);
	free(all);
}

/* -c: the counts the kernel kept, printed once tracing stopped */
static void at_exit(struct session *s, const struct opts *o)
{
	if (o->count)
		print_counts(((struct tcpconnect_bpf *)s->skel)->maps.counts, o->json);
}

int main(int argc, char **argv)
{
	return tool_main(&tcpconnect_tool, &tcpconnect_bpf_ops, at_exit, argc, argv);
}
