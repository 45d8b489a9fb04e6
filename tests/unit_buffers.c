// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Every formatter into buffers too small for its line: cut, terminated, no overflow. */
#include <stdio.h>
#include <string.h>
#include "unit.h"

enum producer { P_HEADER, P_ROW, P_JSON, P_COUNT_HEADER, P_COUNT_ROW, P_COUNT_JSON };

static const char *const producer_names[] = {
	[P_HEADER] = "fmt_header",	 [P_ROW] = "fmt_row",
	[P_JSON] = "fmt_json",		 [P_COUNT_HEADER] = "fmt_count_header",
	[P_COUNT_ROW] = "fmt_count_row", [P_COUNT_JSON] = "fmt_count_json",
};

static size_t produce(enum producer p, char *buf, size_t size)
{
	struct formatter f;
	struct count_key k;
	struct event e;

	tcpconnect_formatter(&f, WITH_T | WITH_U | WITH_L);
	/* the clocks move between two calls, slowly so under emulation: fix them */
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	make_event(&events[4], &e);
	make_count_key(&counts[4], &k);
	switch (p) {
	case P_HEADER:
		return fmt_header(&f, buf, size);
	case P_ROW:
		return fmt_row(&f, &e, NULL, buf, size);
	case P_JSON:
		return fmt_json(&f, &e, NULL, buf, size);
	case P_COUNT_HEADER:
		return fmt_count_header(false, buf, size);
	case P_COUNT_ROW:
		return fmt_count_row(&k, counts[4].n, buf, size);
	case P_COUNT_JSON:
		return fmt_count_json(&k, counts[4].n, buf, size);
	}
	return 0;
}

#define CANARY 0x5a

static bool untouched(const char *buf, size_t from, size_t to)
{
	for (; from < to; from++)
		if ((unsigned char)buf[from] != CANARY)
			return false;
	return true;
}

void test_small_buffers(void)
{
	char full[LINE_MAX_BYTES], buf[LINE_MAX_BYTES + 16];
	int p;

	/* the case of the spec, spelled out */
	memset(buf, CANARY, sizeof(buf));
	{
		struct formatter f;
		struct event e;
		size_t n;

		tcpconnect_formatter(&f, 0);
		make_event(&events[0], &e);
		n = fmt_row(&f, &e, NULL, buf, 10);
		CHECK_STR(buf, "23817   \n", "fmt_row into 10 bytes");
		CHECK_INT(n, 9, "fmt_row into 10 bytes: length");
		CHECK(untouched(buf, 10, sizeof(buf)), "fmt_row into 10 bytes: no overflow");
	}

	for (p = P_HEADER; p <= P_COUNT_JSON; p++) {
		const char *name = producer_names[p];
		size_t len = produce((enum producer)p, full, sizeof(full));
		const size_t sizes[] = { 0, 1, 2, 3, 10, len - 1, len, len + 1, len + 2 };
		size_t i;

		CHECK(len > 20 && len == strlen(full) && full[len - 1] == '\n', "%s full line: %s",
		      name, quoted(full));
		for (i = 0; i < ARRAY_SIZE(sizes); i++) {
			size_t size = sizes[i], n;

			memset(buf, CANARY, sizeof(buf));
			n = produce((enum producer)p, buf, size);
			CHECK(untouched(buf, size, sizeof(buf)), "%s size %zu: wrote past the end",
			      name, size);
			if (size == 0) {
				CHECK_INT(n, 0, "%s size 0: length", name);
				continue;
			}
			if (!CHECK(memchr(buf, '\0', size) != NULL, "%s size %zu: no NUL", name,
				   size))
				continue;
			CHECK_INT(n, strlen(buf), "%s size %zu: length", name, size);
			if (size == 1)
				continue;
			CHECK(n >= 1 && buf[n - 1] == '\n', "%s size %zu: no final newline: %s",
			      name, size, quoted(buf));
			CHECK(n == (size < len + 1 ? size - 1 : len), "%s size %zu: length %zu",
			      name, size, n);
			CHECK(n >= 1 && !strncmp(buf, full, n - 1),
			      "%s size %zu: %s is not a cut of %s", name, size, quoted(buf),
			      quoted(full));
		}
	}

	/* json_escape cuts inside its buffer too */
	{
		static const char in[] = "a\"\\\x01\xc3\xa9\xff";
		size_t size, n;

		for (size = 0; size < 24; size++) {
			memset(buf, CANARY, sizeof(buf));
			n = json_escape(in, sizeof(in) - 1, buf, size);
			CHECK(untouched(buf, size, sizeof(buf)),
			      "json_escape size %zu: wrote past the end", size);
			if (size)
				CHECK(memchr(buf, '\0', size) && n == strlen(buf),
				      "json_escape size %zu: NUL, length %zu", size, n);
		}
	}

	/* fmt_addr too */
	{
		__u8 addr[16];

		put_addr(6, "2001:db8::1", addr);
		memset(buf, CANARY, sizeof(buf));
		fmt_addr(6, addr, true, buf, 5);
		CHECK_STR(buf, "[200", "fmt_addr into 5 bytes");
		CHECK(untouched(buf, 5, sizeof(buf)), "fmt_addr into 5 bytes: no overflow");
	}
}
