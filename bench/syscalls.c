// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * syscalls N: make N getppid(2) calls and print the mean nanoseconds each
 * took (CLOCK_MONOTONIC), for bench/sysexit: what a hook on every syscall's
 * exit adds to a syscall that is not the one it wants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv)
{
	struct timespec a, b;
	long i, n = argc > 1 ? atol(argv[1]) : 0;

	if (n <= 0) {
		fprintf(stderr, "usage: syscalls N (N > 0)\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++)
		syscall(SYS_getppid); /* not the libc wrapper: a real syscall each time */
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
