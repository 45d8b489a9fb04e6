// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * floor: load the empty programs of floor.bpf.o named on the command line
 * (all of them without names), attach them, say "Tracing ..." on stderr as
 * the tools do, and hold them until SIGINT or SIGTERM. For `make bench`.
 * It loads bench/parts.bpf.o's programs the same way (bench/parts), and
 * drains the rings of an object that has some, discarding their records.
 *
 *   floor OBJECT [PROGRAM...]
 *
 * Classic tracepoints need tracefs mounted (the bench gives it one). The
 * syscall numbers floor_sys_exit_raw compares are this architecture's
 * (<sys/syscall.h>).
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>

#define MAX_LINKS 32

static volatile sig_atomic_t stopped;

static void on_signal(int sig)
{
	(void)sig;
	stopped = 1;
}

/*
 * floor.bpf.c's floor_nr, the only read-only data there. (parts.bpf.o's is
 * the tools' configuration, left as compiled: all zero, no filter.)
 */
static int set_syscall_numbers(struct bpf_object *obj)
{
	const long nr[2] = { SYS_accept, SYS_accept4 };
	struct bpf_map *rodata = bpf_object__find_map_by_name(obj, ".rodata");

	if (rodata && bpf_map__value_size(rodata) != sizeof(nr))
		return 0;
	if (!rodata || bpf_map__set_initial_value(rodata, nr, sizeof(nr))) {
		fprintf(stderr, "floor: cannot set the syscall numbers in .rodata\n");
		return -1;
	}
	return 0;
}

static int discard(void *ctx, void *data, size_t size)
{
	(void)ctx;
	(void)data;
	(void)size;
	return 0;
}

/* Until a signal: drain the object's rings, if it has any, or wait. */
static int hold(struct bpf_object *obj)
{
	struct ring_buffer *rb = NULL;
	struct bpf_map *m;
	int err = 0;

	bpf_object__for_each_map (m, obj) {
		if (bpf_map__type(m) != BPF_MAP_TYPE_RINGBUF)
			continue;
		if (rb)
			err = ring_buffer__add(rb, bpf_map__fd(m), discard, NULL);
		else if (!(rb = ring_buffer__new(bpf_map__fd(m), discard, NULL, NULL)))
			err = -errno;
		if (err) {
			fprintf(stderr, "floor: cannot read ring %s: %s\n", bpf_map__name(m),
				strerror(-err));
			ring_buffer__free(rb);
			return 1;
		}
	}
	while (!stopped && !err) {
		if (!rb)
			pause();
		else if ((err = ring_buffer__poll(rb, 100)) == -EINTR || err > 0)
			err = 0;
	}
	ring_buffer__free(rb);
	if (err)
		fprintf(stderr, "floor: reading the rings: %s\n", strerror(-err));
	return !!err;
}

static bool wanted(const char *name, int argc, char **argv)
{
	int i;

	if (argc <= 2)
		return true;
	for (i = 2; i < argc; i++)
		if (!strcmp(argv[i], name))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_link *links[MAX_LINKS];
	struct bpf_object *obj;
	struct bpf_program *p;
	int i, n = 0, nlinks = 0, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: floor OBJECT [PROGRAM...]\n");
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "floor: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program (p, obj) {
		bool on = wanted(bpf_program__name(p), argc, argv);

		bpf_program__set_autoload(p, on);
		n += on;
	}
	if (n != (argc <= 2 ? n : argc - 2)) {
		fprintf(stderr, "floor: %s has no program of some of those names\n", argv[1]);
		goto out;
	}
	if (set_syscall_numbers(obj))
		goto out;
	if (bpf_object__load(obj)) {
		fprintf(stderr, "floor: cannot load %s: %s\n", argv[1], strerror(errno));
		goto out;
	}
	bpf_object__for_each_program (p, obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (nlinks == MAX_LINKS) {
			fprintf(stderr, "floor: more than %d programs\n", MAX_LINKS);
			goto out;
		}
		links[nlinks] = bpf_program__attach(p);
		if (!links[nlinks]) {
			fprintf(stderr, "floor: cannot attach %s: %s\n", bpf_program__name(p),
				strerror(errno));
			goto out;
		}
		nlinks++;
	}
	fprintf(stderr, "Tracing with %d programs. Ctrl-C to end.\n", nlinks);
	rc = hold(obj);
out:
	for (i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return rc;
}
