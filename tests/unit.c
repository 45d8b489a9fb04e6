// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of what needs neither root nor BPF: the option parser and the
 * output formatter, called directly. One file per subject (unit.h lists
 * them); this one runs them all, and holds the helpers they share.
 *
 * The expected table rows are built (unit_table.c) from the printf formats
 * of the bcc tools, not from the formatter's own code. The checks are those of
 * check.h; the last line is "unit: N passed, N failed", where N counts
 * checks. Exit status 0 only if no check failed.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"

/* Test data, for every subject */

void put_addr(int family, const char *text, __u8 *addr)
{
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, text, addr) != 1) {
		fprintf(stderr, "unit: bad address in the test data: %s\n", text);
		exit(2);
	}
}

void put_comm(char *comm, const char *s)
{
	memset(comm, 0, TASK_COMM_LEN);
	memcpy(comm, s, strnlen(s, TASK_COMM_LEN - 1));
}

int main(void)
{
	test_addr();
	test_table_literals();
	test_table();
	test_table_brackets();
	test_table_time();
	test_json_escape();
	test_json_escape_short();
	test_json();
	test_json_comm();
	test_outcome();
	test_queue_lifetime();
	test_count();
	test_small_buffers();
	test_opts_good();
	test_opts_done();
	test_opts_bad();
	test_opts_dns();
	test_opts_again();
	test_kernel_lacks();
	test_diagnose();

	return check_summary("unit");
}
