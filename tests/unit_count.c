// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* tcpconnect -c: fmt_count_header, fmt_count_row and fmt_count_json. */
#include <stdio.h>
#include <string.h>
#include "unit.h"

const struct count_case counts[] = {
	{ 4, "192.0.2.10", "198.51.100.7", 443, 1582, "192.0.2.10", "198.51.100.7" },
	{ 4, "127.0.0.1", "127.0.0.1", 5432, 240, "127.0.0.1", "127.0.0.1" },
	{ 6, "2001:db8:0:0:0:0:0:10", "2001:db8:0:1:0:0:0:22", 22, 3, "2001:db8::10",
	  "2001:db8:0:1::22" },
	{ 6, "0:0:0:0:0:ffff:a00:1", "::1", 1, 0, "::ffff:10.0.0.1", "::1" },
	{ 6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", "2001:db8:1234:5678:9abc:def0:1234:5678",
	  65535, 18446744073709551615ULL, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
	  "2001:db8:1234:5678:9abc:def0:1234:5678" },
};

void make_count_key(const struct count_case *c, struct count_key *k)
{
	memset(k, 0, sizeof(*k));
	k->family = (__u8)c->family;
	put_addr(c->family, c->laddr, k->laddr);
	put_addr(c->family, c->raddr, k->raddr);
	k->rport = c->rport;
}

void test_count(void)
{
	char buf[LINE_MAX_BYTES], want[LINE_MAX_BYTES];
	size_t i, n;

	n = fmt_count_header(false, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%-25s %-25s %-20s %s\n", "LADDR", "RADDR", "RPORT",
		 "CONNECTS");
	CHECK_STR(buf, want, "fmt_count_header");
	CHECK_STR(buf,
		  "LADDR                     RADDR                     RPORT                "
		  "CONNECTS\n",
		  "fmt_count_header, literal");
	CHECK_INT(n, strlen(buf), "fmt_count_header length");

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		const struct count_case *c = &counts[i];
		struct count_key k;

		make_count_key(c, &k);
		n = fmt_count_row(&k, c->n, buf, sizeof(buf));
		snprintf(want, sizeof(want), "%-25s %-25s %-20u %llu\n", c->ltext, c->rtext,
			 c->rport, c->n);
		CHECK_STR(buf, want, "fmt_count_row %s", c->ltext);
		CHECK_INT(n, strlen(buf), "fmt_count_row length %s", c->ltext);

		n = fmt_count_json(&k, c->n, buf, sizeof(buf));
		snprintf(want, sizeof(want),
			 "{\"ip\":%d,\"laddr\":\"%s\",\"raddr\":\"%s\",\"rport\":%u,"
			 "\"connects\":%llu}\n",
			 c->family, c->ltext, c->rtext, c->rport, c->n);
		CHECK_STR(buf, want, "fmt_count_json %s", c->ltext);
		CHECK_INT(n, strlen(buf), "fmt_count_json length %s", c->ltext);
	}

	/* the man page's examples */
	{
		struct count_key k;

		make_count_key(&counts[0], &k);
		fmt_count_row(&k, counts[0].n, buf, sizeof(buf));
		CHECK_STR(buf,
			  "192.0.2.10                198.51.100.7              443              "
			  "    1582\n",
			  "fmt_count_row, literal");
		fmt_count_json(&k, counts[0].n, buf, sizeof(buf));
		CHECK_STR(buf,
			  "{\"ip\":4,\"laddr\":\"192.0.2.10\",\"raddr\":\"198.51.100.7\","
			  "\"rport\":443,\"connects\":1582}\n",
			  "fmt_count_json, literal");
	}
}
