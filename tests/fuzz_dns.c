// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target for src/dns.c: any bytes as a DNS response, every answer
 * read in full, checked and put into one long-lived cache.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Iinclude \
 *	src/dns.c tests/fuzz_dns.c -o build/fuzz_dns
 *   build/fuzz_dns -max_total_time=60 -max_len=1024 tests/fuzz_corpus/dns
 *
 * Built with -DDNS_FUZZ_MAIN (any compiler, no libFuzzer) it replays the
 * files named on its command line instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dns.h"

struct fuzz_ctx {
	struct dns_cache *cache;
	uint64_t now;
	int calls;
	uint32_t sum;
	int family;
	uint8_t addr[16];
};

/* The name must be printable ASCII, every '\' starting a \DDD of 0 to 255. */
static void check_name(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= DNS_NAME_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x21 || ch > 0x7e)
			abort();
		if (ch == '\\') {
			if (i + 3 >= n || name[i + 1] < '0' || name[i + 1] > '2' ||
			    name[i + 2] < '0' || name[i + 2] > '9' || name[i + 3] < '0' ||
			    name[i + 3] > '9')
				abort();
			if ((name[i + 1] - '0') * 100 + (name[i + 2] - '0') * 10 + name[i + 3] -
				    '0' >
			    255)
				abort();
			i += 3;
		}
	}
	if (strcmp(name, ".") && (name[0] == '.' || name[n - 1] == '.' || strstr(name, "..")))
		abort();
}

static void answer(void *arg, const char *qname, int family, const uint8_t *addr)
{
	struct fuzz_ctx *f = arg;
	size_t alen = family == 4 ? 4 : 16;
	const char *got;
	uint64_t when;

	if (family != 4 && family != 6)
		abort();
	check_name(qname);
	for (const char *p = qname; *p; p++)
		f->sum = f->sum * 31 + (unsigned char)*p;
	for (size_t i = 0; i < alen; i++)
		f->sum = f->sum * 31 + addr[i];
	f->calls++;

	dns_cache_put(f->cache, family, addr, qname, f->now);
	got = dns_cache_get(f->cache, family, addr, f->now, &when);
	if (!got || when != f->now || strncmp(got, qname, strlen(got)))
		abort();
	f->family = family;
	memset(f->addr, 0, sizeof(f->addr));
	memcpy(f->addr, addr, alen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_ctx f;
	char text[DNS_NAME_MAX + 32];
	int ret;

	if (!f.cache) {
		f.cache = dns_cache_new();
		if (!f.cache)
			abort();
	}
	/* Time moves on by 0 to 25.5 hours per input: entries expire now and then. */
	f.now += (size ? data[size - 1] : 1) * 360000000000ULL;
	f.calls = 0;
	f.family = 0;

	ret = dns_parse_response(data, size, answer, &f);
	if (ret < -1 || (ret >= 0 && ret != f.calls))
		abort();
	if (dns_cache_count(f.cache) > DNS_CACHE_SIZE)
		abort();
	if (f.family) {
		dns_query_text(f.cache, f.family, f.addr, f.now + (size ? data[0] : 0) * 1000000ULL,
			       text, sizeof(text));
		if (!text[0] || strlen(text) >= sizeof(text))
			abort();
	}
	return 0;
}

#ifdef DNS_FUZZ_MAIN
int main(int argc, char **argv)
{
	static uint8_t buf[65536];

	for (int i = 1; i < argc; i++) {
		FILE *fp = fopen(argv[i], "rb");
		size_t n;

		if (!fp) {
			perror(argv[i]);
			return 1;
		}
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_dns: %d inputs replayed\n", argc - 1);
	return 0;
}
#endif
