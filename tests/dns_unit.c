// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Unit tests of src/dns.c: the response parser on well-formed and malformed
 * messages built here byte by byte, the cache and the QUERY text.
 * Ends with one line "dns: N passed, N failed"; exits 0 only if none failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "dns.h"

/* ---- building messages ---- */

#define F_RESP 0x8180 /* QR, RD, RA; opcode QUERY, rcode NOERROR */
#define T_A 1
#define T_CNAME 5
#define T_NULL 10
#define T_AAAA 28
#define C_IN 1
#define C_CH 3

struct msg {
	uint8_t b[8192];
	size_t n;
};

static void u8(struct msg *m, unsigned int v)
{
	m->b[m->n++] = (uint8_t)v;
}

static void u16(struct msg *m, unsigned int v)
{
	u8(m, v >> 8);
	u8(m, v);
}

static void u32(struct msg *m, uint32_t v)
{
	u16(m, v >> 16);
	u16(m, v);
}

static void bytes(struct msg *m, const void *p, size_t n)
{
	memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void header(struct msg *m, unsigned int flags, unsigned int qd, unsigned int an)
{
	m->n = 0;
	u16(m, 0x1234);
	u16(m, flags);
	u16(m, qd);
	u16(m, an);
	u16(m, 0);
	u16(m, 0);
}

static void label(struct msg *m, const void *p, size_t n)
{
	u8(m, (unsigned int)n);
	bytes(m, p, n);
}

/* The labels of a dotted name, without the final zero ("" writes nothing). */
static void labels(struct msg *m, const char *dotted)
{
	while (*dotted) {
		size_t n = strcspn(dotted, ".");

		label(m, dotted, n);
		dotted += n;
		if (*dotted == '.')
			dotted++;
	}
}

/* A whole uncompressed name; returns its offset. */
static size_t name(struct msg *m, const char *dotted)
{
	size_t at = m->n;

	labels(m, dotted);
	u8(m, 0);
	return at;
}

static void ptr(struct msg *m, size_t off)
{
	u16(m, 0xc000 | (unsigned int)off);
}

/* The question (type A, class IN); returns the offset of its name (12). */
static size_t question(struct msg *m, const char *dotted)
{
	size_t at = name(m, dotted);

	u16(m, T_A);
	u16(m, C_IN);
	return at;
}

/* TYPE, CLASS, TTL, RDLENGTH of an RR whose owner name was just written. */
static void rr(struct msg *m, unsigned int type, unsigned int class, unsigned int rdlen)
{
	u16(m, type);
	u16(m, class);
	u32(m, 300);
	u16(m, rdlen);
}

static void rr_a(struct msg *m, size_t owner, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	ptr(m, owner);
	rr(m, T_A, C_IN, 4);
	u8(m, a);
	u8(m, b);
	u8(m, c);
	u8(m, d);
}

static void rr_aaaa(struct msg *m, size_t owner, const uint8_t addr[16])
{
	ptr(m, owner);
	rr(m, T_AAAA, C_IN, 16);
	bytes(m, addr, 16);
}

static const uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t v6b[16] = { 0x26, 0x06, 0x28, 0x00, 0x02, 0x20, [14] = 0x12, [15] = 0x34 };

/* ---- collecting answers ---- */

#define MAX_ANS 8

struct answers {
	int n;
	char name[MAX_ANS][DNS_NAME_MAX];
	int family[MAX_ANS];
	uint8_t addr[MAX_ANS][16];
};

static void collect(void *ctx, const char *qname, int family, const uint8_t *addr)
{
	struct answers *a = ctx;

	if (a->n < MAX_ANS) {
		snprintf(a->name[a->n], DNS_NAME_MAX, "%s", qname);
		a->family[a->n] = family;
		memset(a->addr[a->n], 0, 16);
		memcpy(a->addr[a->n], addr, family == 4 ? 4 : 16);
	}
	a->n++;
}

static struct answers ans;

/*
 * Parses m from a heap copy of exactly its length, so that ASan and valgrind
 * see any read past the end.
 */
static int parse(const struct msg *m)
{
	uint8_t *copy = malloc(m->n ? m->n : 1);
	int ret;

	memcpy(copy, m->b, m->n);
	memset(&ans, 0, sizeof(ans));
	ret = dns_parse_response(copy, m->n, collect, &ans);
	free(copy);
	return ret;
}

static const uint8_t ip4[4] = { 93, 184, 216, 34 };

/* ---- parser: well-formed ---- */

static void test_a(void)
{
	struct msg m;
	size_t q;

	header(&m, F_RESP, 1, 1);
	q = question(&m, "www.example.com");
	CHECK_INT(q, 12);
	rr_a(&m, q, 93, 184, 216, 34);
	CHECK_INT(parse(&m), 1);
	CHECK_INT(ans.n, 1);
	CHECK_STR(ans.name[0], "www.example.com");
	CHECK_INT(ans.family[0], 4);
	CHECK_MEM(ans.addr[0], ip4, 4);

	/* Uncompressed owner, and other header bits (AA, TC, AD, CD) do not matter. */
	header(&m, F_RESP | 0x0400 | 0x0200 | 0x0030, 1, 1);
	question(&m, "Example.ORG");
	name(&m, "example.org");
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], "Example.ORG");
	CHECK_MEM(ans.addr[0], ip4, 4);

	/* A NULL callback only counts. */
	CHECK_INT(dns_parse_response(m.b, m.n, NULL, NULL), 1);
}

static void test_aaaa(void)
{
	struct msg m;

	header(&m, F_RESP, 1, 1);
	question(&m, "ipv6.example.net");
	name(&m, "ipv6.example.net");
	rr(&m, T_AAAA, C_IN, 16);
	bytes(&m, v6a, 16);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], "ipv6.example.net");
	CHECK_INT(ans.family[0], 6);
	CHECK_MEM(ans.addr[0], v6a, 16);
}

static void test_several(void)
{
	struct msg m;
	size_t q;

	header(&m, F_RESP, 1, 3);
	q = question(&m, "many.example");
	rr_a(&m, q, 10, 0, 0, 1);
	rr_a(&m, q, 10, 0, 0, 2);
	rr_a(&m, q, 10, 0, 0, 3);
	CHECK_INT(parse(&m), 3);
	CHECK_INT(ans.n, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_STR(ans.name[i], "many.example");
		CHECK_INT(ans.family[i], 4);
		CHECK_INT(ans.addr[i][3], i + 1);
	}

	/* No answer at all. */
	header(&m, F_RESP, 1, 0);
	question(&m, "none.example");
	CHECK_INT(parse(&m), 0);
	CHECK_INT(ans.n, 0);

	/* Authority and additional sections are not looked at. */
	header(&m, F_RESP, 1, 1);
	m.b[9] = 5;
	m.b[11] = 7;
	q = question(&m, "auth.example");
	rr_a(&m, q, 10, 9, 9, 9);
	u8(&m, 0xc0); /* garbage after the answers */
	CHECK_INT(parse(&m), 1);
}

static void test_cname_chain(void)
{
	struct msg m;
	size_t q, t1, t2;

	/* www.example.com CNAME cdn.example.com CNAME edge.cdn.net, edge.cdn.net A. */
	header(&m, F_RESP, 1, 3);
	q = question(&m, "www.example.com");
	ptr(&m, q);
	rr(&m, T_CNAME, C_IN, 6);
	t1 = m.n;
	labels(&m, "cdn");
	ptr(&m, q + 4); /* example.com */
	ptr(&m, t1);
	rr(&m, T_CNAME, C_IN, 14);
	t2 = name(&m, "edge.cdn.net");
	CHECK_INT(m.n - t2, 14);
	ptr(&m, t2);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_INT(ans.n, 1);
	CHECK_STR(ans.name[0], "www.example.com");
	CHECK_MEM(ans.addr[0], ip4, 4);

	/* The owner is a name compressed in two jumps: edge -> cdn -> example.com. */
	header(&m, F_RESP, 1, 2);
	q = question(&m, "www.example.com");
	ptr(&m, q);
	rr(&m, T_CNAME, C_IN, 6);
	t1 = m.n;
	labels(&m, "cdn");
	ptr(&m, q + 4);
	labels(&m, "edge");
	ptr(&m, t1);
	rr(&m, T_AAAA, C_IN, 16);
	bytes(&m, v6b, 16);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], "www.example.com");
	CHECK_INT(ans.family[0], 6);
	CHECK_MEM(ans.addr[0], v6b, 16);
}

static void test_mixed(void)
{
	struct msg m;
	size_t q;

	header(&m, F_RESP, 1, 4);
	q = question(&m, "dual.example");
	rr_aaaa(&m, q, v6a);
	rr_a(&m, q, 192, 0, 2, 1);
	rr_aaaa(&m, q, v6b);
	rr_a(&m, q, 192, 0, 2, 2);
	CHECK_INT(parse(&m), 4);
	CHECK_INT(ans.family[0], 6);
	CHECK_INT(ans.family[1], 4);
	CHECK_INT(ans.family[2], 6);
	CHECK_INT(ans.family[3], 4);
	CHECK_MEM(ans.addr[0], v6a, 16);
	CHECK_INT(ans.addr[1][3], 1);
	CHECK_MEM(ans.addr[2], v6b, 16);
	CHECK_INT(ans.addr[3][3], 2);
}

static void test_ignored(void)
{
	struct msg m;
	size_t q;

	/* CHAOS class, then an A of 5 bytes, an AAAA of 4, an A of 16, then a good one. */
	header(&m, F_RESP, 1, 5);
	q = question(&m, "odd.example");
	ptr(&m, q);
	rr(&m, T_A, C_CH, 4);
	bytes(&m, ip4, 4);
	ptr(&m, q);
	rr(&m, T_A, C_IN, 5);
	bytes(&m, "\1\2\3\4\5", 5);
	ptr(&m, q);
	rr(&m, T_AAAA, C_IN, 4);
	bytes(&m, ip4, 4);
	ptr(&m, q);
	rr(&m, T_A, C_IN, 16);
	bytes(&m, v6a, 16);
	rr_a(&m, q, 198, 51, 100, 7);
	CHECK_INT(parse(&m), 1);
	CHECK_INT(ans.n, 1);
	CHECK_INT(ans.addr[0][0], 198);
	CHECK_INT(ans.addr[0][3], 7);

	/* Only these: nothing reported. */
	header(&m, F_RESP, 1, 2);
	q = question(&m, "odd.example");
	ptr(&m, q);
	rr(&m, T_A, C_CH, 4);
	bytes(&m, ip4, 4);
	ptr(&m, q);
	rr(&m, T_NULL, C_IN, 0);
	CHECK_INT(parse(&m), 0);
	CHECK_INT(ans.n, 0);
}

static void test_names(void)
{
	struct msg m;
	uint8_t lab[63];

	/* The root name. */
	header(&m, F_RESP, 1, 1);
	question(&m, "");
	rr_a(&m, 12, 1, 2, 3, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], ".");

	/* Odd bytes are escaped as \DDD. */
	header(&m, F_RESP, 1, 1);
	label(&m, "a b", 3);
	label(&m, "a.b", 3);
	label(&m, "a\\b", 3);
	label(&m, "\xff", 1);
	label(&m, "\x00\x7f!~", 4);
	u8(&m, 0);
	u16(&m, T_A);
	u16(&m, C_IN);
	rr_a(&m, 12, 1, 2, 3, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], "a\\032b.a\\046b.a\\092b.\\255.\\000\\127!~");

	/* A pointer may point into the header: byte 11 (ARCOUNT low) is 0, the root. */
	header(&m, F_RESP, 1, 1);
	labels(&m, "www");
	ptr(&m, 11);
	u16(&m, T_A);
	u16(&m, C_IN);
	rr_a(&m, 12, 1, 2, 3, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_STR(ans.name[0], "www");

	/* Exactly 255 bytes on the wire (3 * 64 + 62 + 1), all escaped: accepted. */
	memset(lab, 0xff, sizeof(lab));
	header(&m, F_RESP, 1, 1);
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, 61);
	u8(&m, 0);
	CHECK_INT(m.n - 12, 255);
	u16(&m, T_A);
	u16(&m, C_IN);
	rr_a(&m, 12, 1, 2, 3, 4);
	CHECK_INT(parse(&m), 1);
	CHECK_INT(strlen(ans.name[0]), 4 * 250 + 3);
	CHECK(strlen(ans.name[0]) < DNS_NAME_MAX);
	CHECK(!strncmp(ans.name[0], "\\255\\255", 8));

	/* One more byte: 256, rejected. */
	header(&m, F_RESP, 1, 1);
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, 62);
	u8(&m, 0);
	u16(&m, T_A);
	u16(&m, C_IN);
	CHECK_INT(parse(&m), -1);
}

/* Jump limit: an owner reached through k pointers in a row. */
static int parse_jumps(int k)
{
	struct msg m;
	size_t q, r;

	header(&m, F_RESP, 1, 2);
	q = question(&m, "jump.example");
	/* A NULL record whose RDATA is k - 1 pointers, each to the one before. */
	ptr(&m, q);
	rr(&m, T_NULL, C_IN, 2 * (k - 1));
	r = m.n;
	ptr(&m, q);
	for (int i = 1; i < k - 1; i++)
		ptr(&m, r + 2 * (i - 1));
	/* The owner is one more pointer, to the last of them. */
	ptr(&m, r + 2 * (k - 2));
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	return parse(&m);
}

/*
 * An owner name of three 63-byte labels, one of last bytes, then a pointer
 * to the question "x": 3 * 64 + (last + 1) + 2 + 1 bytes on the wire.
 */
static int parse_long_owner(int last)
{
	struct msg m;
	uint8_t lab[63];
	size_t q, p;

	memset(lab, 'a', sizeof(lab));
	header(&m, F_RESP, 1, 2);
	q = question(&m, "x");
	ptr(&m, q);
	rr(&m, T_NULL, C_IN, 3 * 64 + last + 1 + 2);
	p = m.n;
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, 63);
	label(&m, lab, last);
	ptr(&m, q);
	ptr(&m, p);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	return parse(&m);
}

/* ---- parser: malformed or unwanted ---- */

static void test_malformed(void)
{
	struct msg m, good;
	size_t q, p;
	int bad;

	/* A good message, cut at every length: never more than -1, never a crash. */
	header(&good, F_RESP, 1, 2);
	q = question(&good, "www.example.com");
	rr_a(&good, q, 1, 1, 1, 1);
	rr_a(&good, q, 2, 2, 2, 2);
	CHECK_INT(parse(&good), 2);
	bad = 0;
	for (size_t n = 0; n < good.n; n++) {
		m = good;
		m.n = n;
		if (parse(&m) != -1)
			bad++;
	}
	CHECK_INT(bad, 0);
	CHECK_INT(dns_parse_response(NULL, 0, collect, &ans), -1);

	/* Empty message; header of 11 bytes. */
	m.n = 0;
	CHECK_INT(parse(&m), -1);
	header(&m, F_RESP, 1, 0);
	m.n = 11;
	CHECK_INT(parse(&m), -1);

	/* Header only. */
	header(&m, F_RESP, 1, 0);
	CHECK_INT(parse(&m), -1);

	/* Truncated question name: no final zero. */
	header(&m, F_RESP, 1, 0);
	labels(&m, "www");
	CHECK_INT(parse(&m), -1);

	/* A label running past the end. */
	header(&m, F_RESP, 1, 0);
	u8(&m, 32);
	bytes(&m, "ab", 2);
	CHECK_INT(parse(&m), -1);

	/* QTYPE/QCLASS cut short. */
	header(&m, F_RESP, 1, 0);
	name(&m, "example");
	u16(&m, T_A);
	CHECK_INT(parse(&m), -1);
	u8(&m, 0);
	CHECK_INT(parse(&m), -1);
	u8(&m, 1);
	CHECK_INT(parse(&m), 0);

	/* Truncated RR header. */
	header(&m, F_RESP, 1, 1);
	q = question(&m, "example");
	ptr(&m, q);
	u16(&m, T_A);
	u16(&m, C_IN);
	u8(&m, 0);
	CHECK_INT(parse(&m), -1);

	/* RDLENGTH past the end (after one good answer, which stays reported). */
	header(&m, F_RESP, 1, 2);
	q = question(&m, "example");
	rr_a(&m, q, 1, 2, 3, 4);
	ptr(&m, q);
	rr(&m, T_A, C_IN, 4);
	u16(&m, 0x0102);
	CHECK_INT(parse(&m), -1);
	CHECK_INT(ans.n, 1);
	CHECK_INT(ans.addr[0][3], 4);

	/* Lying ANCOUNT: 3 announced, 2 present. */
	header(&m, F_RESP, 1, 3);
	q = question(&m, "liar.example");
	rr_a(&m, q, 1, 1, 1, 1);
	rr_a(&m, q, 2, 2, 2, 2);
	CHECK_INT(parse(&m), -1);
	CHECK_INT(ans.n, 2);
	CHECK_STR(ans.name[1], "liar.example");
	m.b[7] = 0xff;
	CHECK_INT(parse(&m), -1);
	CHECK_INT(ans.n, 2);

	/* A pointer to itself, in the question and in an owner name. */
	header(&m, F_RESP, 1, 0);
	ptr(&m, 12);
	u16(&m, T_A);
	u16(&m, C_IN);
	CHECK_INT(parse(&m), -1);
	header(&m, F_RESP, 1, 1);
	question(&m, "self.example");
	p = m.n;
	ptr(&m, p);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), -1);
	CHECK_INT(ans.n, 0);

	/* A label then a pointer back to that label. */
	header(&m, F_RESP, 1, 0);
	labels(&m, "loop");
	ptr(&m, 12);
	u16(&m, T_A);
	u16(&m, C_IN);
	CHECK_INT(parse(&m), -1);

	/* Two pointers pointing at each other: P (in RDATA) -> Q, Q (owner) -> P. */
	header(&m, F_RESP, 1, 2);
	q = question(&m, "pair.example");
	ptr(&m, q);
	rr(&m, T_NULL, C_IN, 2);
	p = m.n;
	ptr(&m, p + 2);
	ptr(&m, p);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), -1);
	CHECK_INT(ans.n, 0);

	/* A forward pointer, to a well-formed name further on. */
	header(&m, F_RESP, 1, 1);
	labels(&m, "fwd");
	ptr(&m, 12 + 4 + 2 + 4);
	u16(&m, T_A);
	u16(&m, C_IN);
	name(&m, "example");
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), -1);

	/* A pointer past the end; a pointer cut after its first byte. */
	header(&m, F_RESP, 1, 1);
	question(&m, "end.example");
	ptr(&m, 0x3fff);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), -1);
	header(&m, F_RESP, 1, 1);
	question(&m, "end.example");
	u8(&m, 0xc0);
	CHECK_INT(parse(&m), -1);

	/* Too many jumps: 128 pass, 129 do not. */
	CHECK_INT(parse_jumps(128), 1);
	CHECK_STR(ans.name[0], "jump.example");
	CHECK_INT(parse_jumps(129), -1);

	/* Names over 255 bytes made with compression (owner name). */
	CHECK_INT(parse_long_owner(59), 1); /* 3 * 64 + 60 + 3 (x, root) = 255 */
	CHECK_INT(parse_long_owner(60), -1);

	/* Label types 0x40 (64: extended) and 0x80 (reserved), and 0x7f. */
	for (unsigned int t = 0; t < 3; t++) {
		static const uint8_t type[3] = { 0x40, 0x80, 0x7f };
		uint8_t lab[128];

		memset(lab, 'a', sizeof(lab));
		header(&m, F_RESP, 1, 0);
		label(&m, lab, type[t]);
		u8(&m, 0);
		u16(&m, T_A);
		u16(&m, C_IN);
		CHECK_INT(parse(&m), -1);
	}

	/* The same label types in an owner name. */
	header(&m, F_RESP, 1, 1);
	q = question(&m, "ok.example");
	u8(&m, 0x41);
	u8(&m, 0);
	rr(&m, T_A, C_IN, 4);
	bytes(&m, ip4, 4);
	CHECK_INT(parse(&m), -1);
}

static void test_unwanted(void)
{
	struct msg m;
	size_t q;
	static const struct {
		unsigned int flags, qd;
	} bad[] = {
		{ F_RESP, 0 },		/* no question */
		{ F_RESP, 2 },		/* two questions */
		{ 0x0100, 1 },		/* a query (QR = 0) */
		{ F_RESP | 0x0003, 1 }, /* NXDOMAIN */
		{ F_RESP | 0x0002, 1 }, /* SERVFAIL */
		{ F_RESP | 0x000f, 1 }, /* rcode 15 */
		{ F_RESP | 0x7800, 1 }, /* opcode 15 */
		{ F_RESP | 0x0800, 1 }, /* opcode 1, IQUERY */
		{ F_RESP | 0x1000, 1 }, /* opcode 2, STATUS */
		{ F_RESP | 0x2800, 1 }, /* opcode 5, UPDATE */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		header(&m, bad[i].flags, bad[i].qd, 1);
		q = question(&m, "www.example.com");
		rr_a(&m, q, 1, 2, 3, 4);
		CHECK_INT(parse(&m), -1);
		CHECK_INT(ans.n, 0);
	}
	/* QDCOUNT 2 with the two questions present. */
	header(&m, F_RESP, 2, 1);
	q = question(&m, "www.example.com");
	question(&m, "www.example.org");
	rr_a(&m, q, 1, 2, 3, 4);
	CHECK_INT(parse(&m), -1);
}

/* ---- cache ---- */

static void test_cache_basic(void)
{
	struct dns_cache *c = dns_cache_new();
	uint8_t *a4 = malloc(4); /* exactly 4 bytes: the cache must not read more */
	uint8_t v4in6[16] = { 93, 184, 216, 34 };
	uint64_t when = 0;

	CHECK(c != NULL);
	memcpy(a4, ip4, 4);
	CHECK_INT(dns_cache_count(c), 0);
	CHECK(dns_cache_get(c, 4, a4, 0, &when) == NULL);

	dns_cache_put(c, 4, a4, "www.example.com", 1000);
	CHECK_INT(dns_cache_count(c), 1);
	CHECK_STR(dns_cache_get(c, 4, a4, 2000, &when), "www.example.com");
	CHECK_INT(when, 1000);
	CHECK_STR(dns_cache_get(c, 4, a4, 2000, NULL), "www.example.com");
	/* A time before the answer: that connect did not use it. */
	CHECK(dns_cache_get(c, 4, a4, 10, &when) == NULL);

	/* The same bytes as IPv6: another key. */
	CHECK(dns_cache_get(c, 6, v4in6, 2000, &when) == NULL);
	dns_cache_put(c, 6, v4in6, "six.example", 1500);
	CHECK_INT(dns_cache_count(c), 2);
	CHECK_STR(dns_cache_get(c, 6, v4in6, 2000, &when), "six.example");
	CHECK_INT(when, 1500);
	CHECK_STR(dns_cache_get(c, 4, a4, 2000, &when), "www.example.com");
	CHECK_INT(when, 1000);

	/* Update in place. */
	dns_cache_put(c, 4, a4, "other.example", 3000);
	CHECK_INT(dns_cache_count(c), 2);
	CHECK_STR(dns_cache_get(c, 4, a4, 3000, &when), "other.example");
	CHECK_INT(when, 3000);
	/* a connect between the two answers used the first one */
	CHECK_STR(dns_cache_get(c, 4, a4, 2999, &when), "www.example.com");
	CHECK_INT(when, 1000);
	CHECK(dns_cache_get(c, 4, a4, 999, &when) == NULL);
	{
		char text[64];

		dns_query_text(c, 4, a4, 2500, text, sizeof(text));
		CHECK_STR(text, "www.example.com");
		dns_query_text(c, 4, a4, 3000, text, sizeof(text));
		CHECK_STR(text, "other.example");
	}

	/* Other families: ignored. */
	dns_cache_put(c, 5, a4, "bad", 3000);
	dns_cache_put(c, 0, a4, "bad", 3000);
	dns_cache_put(c, 4, NULL, "bad", 3000);
	dns_cache_put(c, 4, a4, NULL, 3000);
	CHECK_INT(dns_cache_count(c), 2);
	CHECK(dns_cache_get(c, 5, a4, 3000, &when) == NULL);
	CHECK(dns_cache_get(c, 4, NULL, 3000, &when) == NULL);
	CHECK(dns_cache_get(NULL, 4, a4, 3000, &when) == NULL);
	CHECK_INT(dns_cache_count(NULL), 0);

	free(a4);
	dns_cache_free(c);
	dns_cache_free(NULL);
}

static void test_cache_expiry(void)
{
	struct dns_cache *c = dns_cache_new();
	const uint64_t t0 = 5000000000ULL;
	uint8_t b[4] = { 10, 1, 1, 1 };
	uint64_t when;

	dns_cache_put(c, 4, ip4, "old.example", t0);
	CHECK_STR(dns_cache_get(c, 4, ip4, t0 + DNS_CACHE_TTL_NS, &when), "old.example");
	CHECK(dns_cache_get(c, 4, ip4, t0 + DNS_CACHE_TTL_NS + 1, &when) == NULL);

	/* A later put drops expired entries. */
	dns_cache_put(c, 4, b, "new.example", t0 + DNS_CACHE_TTL_NS);
	CHECK_INT(dns_cache_count(c), 2);
	dns_cache_put(c, 4, b, "new.example", t0 + DNS_CACHE_TTL_NS + 1);
	CHECK_INT(dns_cache_count(c), 1);
	CHECK(dns_cache_get(c, 4, ip4, t0, &when) == NULL);
	CHECK_STR(dns_cache_get(c, 4, b, t0 + DNS_CACHE_TTL_NS + 1, &when), "new.example");

	/* Re-putting refreshes the time. */
	dns_cache_put(c, 4, b, "new.example", t0 + 2 * DNS_CACHE_TTL_NS);
	CHECK_STR(dns_cache_get(c, 4, b, t0 + 3 * DNS_CACHE_TTL_NS, &when), "new.example");
	dns_cache_free(c);
}

static void addr_of(uint8_t a[16], uint32_t i)
{
	memset(a, 0, 16);
	a[0] = 0xfd;
	a[12] = (uint8_t)(i >> 24);
	a[13] = (uint8_t)(i >> 16);
	a[14] = (uint8_t)(i >> 8);
	a[15] = (uint8_t)i;
}

static void test_cache_capacity(void)
{
	struct dns_cache *c = dns_cache_new();
	const uint32_t n = 3 * DNS_CACHE_SIZE;
	uint32_t found = 0, wrong = 0;
	uint64_t when;
	uint8_t a[16];
	char name[32];

	for (uint32_t i = 0; i < n; i++) {
		addr_of(a, i);
		snprintf(name, sizeof(name), "h%u.example", i);
		dns_cache_put(c, 6, a, name, 1000 + i);
		if (dns_cache_count(c) > DNS_CACHE_SIZE)
			wrong++;
	}
	CHECK_INT(wrong, 0);
	CHECK_INT(dns_cache_count(c), DNS_CACHE_SIZE);
	for (uint32_t i = 0; i < n; i++) {
		const char *got;

		addr_of(a, i);
		got = dns_cache_get(c, 6, a, 1000 + n, &when);
		if (!got)
			continue;
		found++;
		snprintf(name, sizeof(name), "h%u.example", i);
		if (i < n - DNS_CACHE_SIZE || strcmp(got, name) || when != 1000 + i)
			wrong++;
	}
	CHECK_INT(found, DNS_CACHE_SIZE);
	CHECK_INT(wrong, 0);
	addr_of(a, 0);
	CHECK(dns_cache_get(c, 6, a, 1000 + n, &when) == NULL);
	addr_of(a, n - DNS_CACHE_SIZE - 1);
	CHECK(dns_cache_get(c, 6, a, 1000 + n, &when) == NULL);
	addr_of(a, n - DNS_CACHE_SIZE);
	CHECK(dns_cache_get(c, 6, a, 1000 + n, &when) != NULL);
	addr_of(a, n - 1);
	CHECK_STR(dns_cache_get(c, 6, a, 1000 + n, &when), "h30719.example");

	/* Re-putting the oldest makes it the newest: the next new address evicts the second. */
	addr_of(a, n - DNS_CACHE_SIZE);
	dns_cache_put(c, 6, a, "again.example", 1000 + n);
	addr_of(a, n);
	dns_cache_put(c, 6, a, "new.example", 1000 + n);
	CHECK_INT(dns_cache_count(c), DNS_CACHE_SIZE);
	addr_of(a, n - DNS_CACHE_SIZE);
	CHECK_STR(dns_cache_get(c, 6, a, 1000 + n, &when), "again.example");
	addr_of(a, n - DNS_CACHE_SIZE + 1);
	CHECK(dns_cache_get(c, 6, a, 1000 + n, &when) == NULL);
	addr_of(a, n);
	CHECK_STR(dns_cache_get(c, 6, a, 1000 + n, &when), "new.example");
	dns_cache_free(c);
}

static void test_cache_long_name(void)
{
	struct dns_cache *c = dns_cache_new();
	char name[DNS_NAME_MAX];
	const char *got;

	memset(name, 'a', 300);
	name[300] = '\0';
	dns_cache_put(c, 4, ip4, name, 1);
	got = dns_cache_get(c, 4, ip4, 1, NULL);
	CHECK(got != NULL);
	CHECK_INT(got ? strlen(got) : 0, 255);
	CHECK(got && !strncmp(got, name, 255));

	/* Never cut inside \DDD: "\255" at 253..256 goes whole. */
	memcpy(name + 253, "\\255", 4);
	dns_cache_put(c, 4, ip4, name, 2);
	got = dns_cache_get(c, 4, ip4, 2, NULL);
	CHECK_INT(got ? strlen(got) : 0, 253);
	/* Ending exactly at 255 is kept. */
	memset(name, 'a', 300);
	memcpy(name + 251, "\\255", 4);
	dns_cache_put(c, 4, ip4, name, 3);
	got = dns_cache_get(c, 4, ip4, 3, NULL);
	CHECK_INT(got ? strlen(got) : 0, 255);
	CHECK(got && !strcmp(got + 251, "\\255"));
	dns_cache_free(c);
}

/*
 * The cache against a simple model, over random puts and gets of 16384
 * addresses (both families), time moving on by up to 1 s or up to 40 s a step
 * in turns: entries are updated, refreshed, evicted when full and dropped when
 * expired.
 */
#define MODEL_ADDRS 16384

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void model_addr(uint32_t i, int *family, uint8_t a[16])
{
	*family = i & 1 ? 4 : 6;
	memset(a, 0, 16);
	a[0] = 10;
	a[1] = (uint8_t)(i >> 8);
	a[2] = (uint8_t)i;
}

static void test_cache_model(void)
{
	static struct {
		bool present;
		uint32_t seq, name;
		uint64_t when;
	} ref[MODEL_ADDRS];
	static struct {
		uint32_t addr, seq;
	} fifo[400000];
	size_t head = 0, tail = 0, count = 0;
	struct dns_cache *c = dns_cache_new();
	uint32_t seq = 0, wrong = 0, evictions = 0, expiries = 0;
	uint64_t now = 1;
	uint8_t a[16];
	char name[32];
	int family;

	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 300000; step++) {
		uint32_t i = rnd() % MODEL_ADDRS, j = rnd() % MODEL_ADDRS;
		const char *got;
		uint64_t when;

		/* Phases of slow time (evictions) and fast time (expiries). */
		now += ((uint64_t)rnd() << 32 | rnd()) %
		       (step / 50000 % 2 ? 40000000000ULL : 1000000000ULL);
		/* The model of a put: expired oldest go, update or insert (evicting). */
		while (head < tail) {
			uint32_t k = fifo[head].addr;

			if (!ref[k].present || ref[k].seq != fifo[head].seq) {
				head++; /* stale: refreshed since */
				continue;
			}
			if (!(now > ref[k].when && now - ref[k].when > DNS_CACHE_TTL_NS))
				break;
			ref[k].present = false;
			count--;
			head++;
			expiries++;
		}
		if (!ref[i].present && count == DNS_CACHE_SIZE) {
			while (!ref[fifo[head].addr].present ||
			       ref[fifo[head].addr].seq != fifo[head].seq)
				head++;
			ref[fifo[head++].addr].present = false;
			count--;
			evictions++;
		}
		if (!ref[i].present)
			count++;
		ref[i].present = true;
		ref[i].seq = ++seq;
		ref[i].name = rnd();
		ref[i].when = now;
		fifo[tail].addr = i;
		fifo[tail++].seq = seq;

		model_addr(i, &family, a);
		snprintf(name, sizeof(name), "n%u", ref[i].name);
		dns_cache_put(c, family, a, name, now);
		if (dns_cache_count(c) != count)
			wrong++;

		/* A get of another address, a little later. */
		model_addr(j, &family, a);
		got = dns_cache_get(c, family, a, now + 1, &when);
		if (ref[j].present && !(now + 1 - ref[j].when > DNS_CACHE_TTL_NS)) {
			snprintf(name, sizeof(name), "n%u", ref[j].name);
			if (!got || strcmp(got, name) || when != ref[j].when)
				wrong++;
		} else if (got) {
			wrong++;
		}
	}
	CHECK_INT(tail, 300000);
	CHECK_INT(wrong, 0);
	CHECK(evictions > 10000);
	CHECK(expiries > 10000);
	dns_cache_free(c);
}

/* ---- QUERY text ---- */

static void test_query_text(void)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 }, lo4b[4] = { 127, 0, 0, 2 };
	static const uint8_t lo6[16] = { [15] = 1 }, lo6b[16] = { [15] = 2 };
	struct dns_cache *c = dns_cache_new();
	const uint64_t t = 1000000000000ULL;
	char buf[128];

	dns_query_text(c, 4, lo4, t, buf, sizeof(buf));
	CHECK_STR(buf, "localhost");
	dns_query_text(c, 6, lo6, t, buf, sizeof(buf));
	CHECK_STR(buf, "localhost");
	dns_query_text(NULL, 4, lo4, t, buf, sizeof(buf));
	CHECK_STR(buf, "localhost");
	dns_query_text(c, 6, lo6b, t, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");
	dns_query_text(c, 4, lo4b, t, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");
	dns_query_text(c, 4, ip4, t, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");
	dns_query_text(NULL, 4, ip4, t, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");

	dns_cache_put(c, 4, ip4, "www.example.com", t);
	dns_query_text(c, 4, ip4, t, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com");
	dns_query_text(c, 4, ip4, t + 100000000, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com");
	dns_query_text(c, 4, ip4, t + 100000001, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (100.000ms)");
	dns_query_text(c, 4, ip4, t + 123342000, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (123.342ms)");
	dns_query_text(c, 4, ip4, t + 123342499, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (123.342ms)");
	dns_query_text(c, 4, ip4, t + 123342500, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (123.343ms)");
	dns_query_text(c, 4, ip4, t + 61999999500ULL, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (62000.000ms)");
	/* The answer came after the connect started: not the one it used. */
	dns_query_text(c, 4, ip4, t - 5000000000ULL, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");
	/* Expired. */
	dns_query_text(c, 4, ip4, t + DNS_CACHE_TTL_NS, buf, sizeof(buf));
	CHECK_STR(buf, "www.example.com (86400000.000ms)");
	dns_query_text(c, 4, ip4, t + DNS_CACHE_TTL_NS + 1, buf, sizeof(buf));
	CHECK_STR(buf, "No DNS Query");

	/* Cut to size, always terminated; size 0 writes nothing. */
	dns_query_text(c, 4, ip4, t + 123342000, buf, 8);
	CHECK_STR(buf, "www.exa");
	dns_query_text(c, 4, lo4, t, buf, 4);
	CHECK_STR(buf, "loc");
	buf[0] = 'X';
	dns_query_text(c, 4, ip4, t, buf, 0);
	CHECK_INT(buf[0], 'X');
	dns_cache_free(c);
}

/* Parser to cache to text, as tcpconnect -d does it. */
static void put_answer(void *ctx, const char *qname, int family, const uint8_t *addr)
{
	dns_cache_put(ctx, family, addr, qname, 7000000000ULL);
}

static void test_end_to_end(void)
{
	struct dns_cache *c = dns_cache_new();
	struct msg m;
	char buf[DNS_NAME_MAX + 32];
	size_t q;

	header(&m, F_RESP, 1, 2);
	q = question(&m, "a b.example");
	rr_a(&m, q, 93, 184, 216, 34);
	rr_aaaa(&m, q, v6b);
	CHECK_INT(dns_parse_response(m.b, m.n, put_answer, c), 2);
	CHECK_INT(dns_cache_count(c), 2);
	dns_query_text(c, 4, ip4, 7000000000ULL + 250000000, buf, sizeof(buf));
	CHECK_STR(buf, "a\\032b.example (250.000ms)");
	dns_query_text(c, 6, v6b, 7000000000ULL, buf, sizeof(buf));
	CHECK_STR(buf, "a\\032b.example");
	dns_cache_free(c);
}

int main(void)
{
	test_a();
	test_aaaa();
	test_several();
	test_cname_chain();
	test_mixed();
	test_ignored();
	test_names();
	test_malformed();
	test_unwanted();
	test_cache_basic();
	test_cache_expiry();
	test_cache_capacity();
	test_cache_long_name();
	test_cache_model();
	test_query_text();
	test_end_to_end();
	return check_summary("dns");
}
