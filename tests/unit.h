/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the parts of the unit binary share: unit.c (main and the test
 * data helpers), unit_table.c, unit_json.c, unit_count.c, unit_buffers.c
 * unit_options.c, unit_kernel.c and unit_diagnose.c, one subject each.
 */
#ifndef TESTS_UNIT_H
#define TESTS_UNIT_H

#include <stdbool.h>
#include <linux/types.h>
#include "check.h"
#include "format.h"
#include "options.h"
#include "descriptions.h"

/* unit.c: addresses (inet_pton input) and COMM into events and keys */
void put_addr(int family, const char *text, __u8 *addr);
void put_comm(char *comm, const char *s);

/* unit_table.c: connect events, and the tcpconnect formatter with -t, -U, -L */
struct ev_case {
	const char *what;
	unsigned int dt_ms; /* after the first event */
	__u32 pid, uid;
	int family;
	const char *laddr, *raddr; /* inet_pton input */
	__u16 lport, rport;
	const char *comm; /* as the kernel reports it */
	/* what the table must show: RFC 5952 text, control bytes as '?' */
	const char *saddr_text, *daddr_text, *comm_text;
};

extern const struct ev_case events[];
void make_event(const struct ev_case *c, struct event *e);

/* -t, -U, -L as bits 0, 1, 2 */
#define WITH_T 1
#define WITH_U 2
#define WITH_L 4

void tcpconnect_formatter(struct formatter *f, int flags);

/* unit_json.c */
#define JSON_TIME_OFFSET (1700000000000000000LL - 1500000000LL)

/* unit_count.c: count keys */
struct count_case {
	int family;
	const char *laddr, *raddr; /* inet_pton input */
	__u16 rport;
	unsigned long long n;
	const char *ltext, *rtext;
};
extern const struct count_case counts[];
void make_count_key(const struct count_case *c, struct count_key *k);

/* The tests, in the order main runs them */
void test_addr(void);
void test_table_literals(void);
void test_table(void);
void test_table_brackets(void);
void test_table_time(void);
void test_json_escape(void);
void test_json_escape_short(void);
void test_json(void);
void test_outcome(void);
void test_queue_lifetime(void);
void test_json_comm(void);
void test_count(void);
void test_small_buffers(void);
void test_opts_good(void);
void test_opts_done(void);
void test_opts_bad(void);
void test_opts_dns(void);
void test_opts_again(void);
void test_kernel_lacks(void);
void test_diagnose(void);

#endif
