// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * DNS answers for tcpconnect -d: a parser of untrusted response messages
 * (RFC 1035, section 4) and a bounded cache from address to name.
 *
 * The parser never recurses, never allocates and checks every offset against
 * the message length before reading. Compression pointers may appear anywhere
 * in a name but each one must point strictly before the start of the label
 * run that holds it, so every name decoding ends; DNS_MAX_JUMPS bounds it
 * further.
 *
 * The cache is allocated once: DNS_CACHE_SIZE entries, hash chains over
 * (family, address) with a per-cache random key (the addresses come from the
 * network, chains must not be made long on purpose) and a list in order of
 * insertion for eviction. Every operation is O(1) (amortized for expiry).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include "dns.h"

#define DNS_HDR_LEN 12
#define DNS_WIRE_NAME_MAX 255 /* RFC 1035 3.1, length octets included */
#define DNS_LABEL_MAX 63
#define DNS_MAX_JUMPS 128
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Appends byte b of a label to out, escaped if it is not a plain character. */
static size_t put_label_byte(char *out, size_t o, uint8_t b)
{
	if (b < 0x21 || b > 0x7e || b == '.' || b == '\\') {
		out[o++] = '\\';
		out[o++] = (char)('0' + b / 100);
		out[o++] = (char)('0' + b / 10 % 10);
		out[o++] = (char)('0' + b % 10);
	} else {
		out[o++] = (char)b;
	}
	return o;
}

/*
 * Decodes the name at msg[off]. *next gets the offset just after the name as
 * written at off (after its first pointer, if any). out (DNS_NAME_MAX bytes)
 * gets the escaped dotted name, "." for the root; out may be NULL to only
 * check and skip the name. Returns 0, or -1 if the name is malformed.
 */
static int read_name(const uint8_t *msg, size_t len, size_t off, char *out, size_t *next)
{
	size_t pos = off;   /* the next length octet or pointer */
	size_t start = off; /* start of the label run being read */
	size_t wire = 0;    /* wire length so far, length octets included */
	size_t o = 0;	    /* bytes written to out */
	size_t end = 0;	    /* offset after the name as written at off, once known */
	int jumps = 0;

	for (;;) {
		uint8_t b;

		if (pos >= len)
			return -1;
		b = msg[pos];
		if ((b & 0xc0) == 0xc0) {
			size_t target;

			if (len - pos < 2)
				return -1;
			target = (size_t)(b & 0x3f) << 8 | msg[pos + 1];
			if (target >= start || ++jumps > DNS_MAX_JUMPS)
				return -1;
			if (!end)
				end = pos + 2;
			pos = start = target;
			continue;
		}
		if (b > DNS_LABEL_MAX) /* 0x40 and 0x80: extended and reserved label types */
			return -1;
		wire += 1 + (size_t)b;
		if (wire > DNS_WIRE_NAME_MAX)
			return -1;
		if (b == 0) {
			if (!end)
				end = pos + 1;
			break;
		}
		if (b > len - pos - 1) /* the label runs past the end */
			return -1;
		if (out) {
			/* Cannot fail for 255 wire bytes (at most 1013), checked anyway. */
			if (o + 1 + 4 * (size_t)b >= DNS_NAME_MAX)
				return -1;
			if (o)
				out[o++] = '.';
			for (size_t i = 1; i <= b; i++)
				o = put_label_byte(out, o, msg[pos + i]);
		}
		pos += 1 + (size_t)b;
	}
	if (out) {
		if (!o)
			out[o++] = '.';
		out[o] = '\0';
	}
	*next = end;
	return 0;
}

int dns_parse_response(const uint8_t *msg, size_t len, dns_answer_fn fn, void *ctx)
{
	char qname[DNS_NAME_MAX];
	unsigned int ancount;
	size_t off;
	int n = 0;

	if (!msg || len < DNS_HDR_LEN)
		return -1;
	if (!(msg[2] & 0x80)) /* QR: a query, not a response */
		return -1;
	if ((msg[2] >> 3 & 0xf) != 0) /* opcode: not QUERY */
		return -1;
	if ((msg[3] & 0xf) != 0) /* rcode: not NOERROR */
		return -1;
	if (get16(msg + 4) != 1) /* qdcount */
		return -1;
	ancount = get16(msg + 6);

	if (read_name(msg, len, DNS_HDR_LEN, qname, &off) < 0)
		return -1;
	if (len - off < 4) /* QTYPE, QCLASS */
		return -1;
	off += 4;

	for (unsigned int i = 0; i < ancount; i++) {
		uint16_t type, class, rdlen;
		const uint8_t *rr;

		if (read_name(msg, len, off, NULL, &off) < 0)
			return -1;
		if (len - off < 10) /* TYPE, CLASS, TTL, RDLENGTH */
			return -1;
		rr = msg + off;
		type = get16(rr);
		class = get16(rr + 2);
		rdlen = get16(rr + 8);
		off += 10;
		if (len - off < rdlen)
			return -1;
		if (class == DNS_CLASS_IN) {
			int family = 0;

			if (type == DNS_TYPE_A && rdlen == 4)
				family = 4;
			else if (type == DNS_TYPE_AAAA && rdlen == 16)
				family = 6;
			if (family) {
				if (fn)
					fn(ctx, qname, family, msg + off);
				n++;
			}
		}
		off += rdlen;
	}
	return n;
}

/* ---- cache ---- */

#define DNS_CACHE_BUCKETS 16384 /* a power of two above DNS_CACHE_SIZE */
#define DNS_CACHE_NAME 256	/* names are cut to 255 bytes in the cache */
#define NIL (-1)

struct dns_entry {
	uint64_t when;
	int32_t hnext, hprev; /* hash chain (hnext: free list when unused) */
	int32_t newer, older; /* order of insertion */
	uint32_t bucket;
	uint8_t family;
	uint8_t addr[16]; /* IPv4: 4 bytes then zeros */
	char name[DNS_CACHE_NAME];
	/* the answer name replaced, for connects made before that ("": none) */
	uint64_t prev_when;
	char prev_name[DNS_CACHE_NAME];
};

struct dns_cache {
	uint64_t k0, k1; /* hash key */
	size_t count;
	int32_t oldest, newest, free;
	int32_t bucket[DNS_CACHE_BUCKETS];
	struct dns_entry e[DNS_CACHE_SIZE];
};

static uint64_t rotl(uint64_t x, int b)
{
	return x << b | x >> (64 - b);
}

#define SIPROUND(v0, v1, v2, v3)   \
	do {                       \
		v0 += v1;          \
		v1 = rotl(v1, 13); \
		v1 ^= v0;          \
		v0 = rotl(v0, 32); \
		v2 += v3;          \
		v3 = rotl(v3, 16); \
		v3 ^= v2;          \
		v0 += v3;          \
		v3 = rotl(v3, 21); \
		v3 ^= v0;          \
		v2 += v1;          \
		v1 = rotl(v1, 17); \
		v1 ^= v2;          \
		v2 = rotl(v2, 32); \
	} while (0)

/* SipHash-2-4 of the 17-byte key (family, address) as three 64-bit words. */
static uint32_t key_hash(const struct dns_cache *c, uint8_t family, const uint8_t addr[16])
{
	uint64_t v0 = c->k0 ^ 0x736f6d6570736575ULL;
	uint64_t v1 = c->k1 ^ 0x646f72616e646f6dULL;
	uint64_t v2 = c->k0 ^ 0x6c7967656e657261ULL;
	uint64_t v3 = c->k1 ^ 0x7465646279746573ULL;
	uint64_t m[3];

	memcpy(&m[0], addr, 8);
	memcpy(&m[1], addr + 8, 8);
	m[2] = (uint64_t)17 << 56 | family;
	for (int i = 0; i < 3; i++) {
		v3 ^= m[i];
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return (uint32_t)(v0 ^ v1 ^ v2 ^ v3);
}

/* The 16-byte key of addr; false for a family other than 4 and 6. */
static bool make_key(int family, const uint8_t *addr, uint8_t key[16])
{
	if (!addr || (family != 4 && family != 6))
		return false;
	memset(key, 0, 16);
	memcpy(key, addr, family == 4 ? 4 : 16);
	return true;
}

static bool expired(uint64_t when, uint64_t now)
{
	return now > when && now - when > DNS_CACHE_TTL_NS;
}

struct dns_cache *dns_cache_new(void)
{
	struct dns_cache *c = malloc(sizeof(*c));
	uint64_t k[2];

	if (!c)
		return NULL;
	if (getrandom(k, sizeof(k), GRND_NONBLOCK) != sizeof(k)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		k[0] = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
		k[1] = (uint64_t)(uintptr_t)c ^ rotl(k[0], 29);
	}
	c->k0 = k[0];
	c->k1 = k[1];
	c->count = 0;
	c->oldest = c->newest = NIL;
	for (int i = 0; i < DNS_CACHE_BUCKETS; i++)
		c->bucket[i] = NIL;
	for (int i = 0; i < DNS_CACHE_SIZE; i++)
		c->e[i].hnext = i + 1 < DNS_CACHE_SIZE ? i + 1 : NIL;
	c->free = 0;
	return c;
}

void dns_cache_free(struct dns_cache *c)
{
	free(c);
}

/* Takes entry i out of the insertion order. */
static void unlink_order(struct dns_cache *c, int32_t i)
{
	struct dns_entry *e = &c->e[i];

	if (e->older != NIL)
		c->e[e->older].newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer != NIL)
		c->e[e->newer].older = e->older;
	else
		c->newest = e->older;
}

static void link_newest(struct dns_cache *c, int32_t i)
{
	struct dns_entry *e = &c->e[i];

	e->newer = NIL;
	e->older = c->newest;
	if (c->newest != NIL)
		c->e[c->newest].newer = i;
	else
		c->oldest = i;
	c->newest = i;
}

/* Takes entry i out of its hash chain and of the insertion order, frees it. */
static void remove_entry(struct dns_cache *c, int32_t i)
{
	struct dns_entry *e = &c->e[i];

	if (e->hprev != NIL)
		c->e[e->hprev].hnext = e->hnext;
	else
		c->bucket[e->bucket] = e->hnext;
	if (e->hnext != NIL)
		c->e[e->hnext].hprev = e->hprev;
	unlink_order(c, i);
	e->hnext = c->free;
	c->free = i;
	c->count--;
}

static int32_t find(const struct dns_cache *c, uint32_t bucket, int family, const uint8_t key[16])
{
	for (int32_t i = c->bucket[bucket]; i != NIL; i = c->e[i].hnext) {
		const struct dns_entry *e = &c->e[i];

		if (e->family == family && !memcmp(e->addr, key, 16))
			return i;
	}
	return NIL;
}

/* Copies name, cut to fit, never in the middle of a \DDD escape. */
static void set_name(char dst[DNS_CACHE_NAME], const char *name)
{
	size_t n = strnlen(name, DNS_CACHE_NAME);

	if (n == DNS_CACHE_NAME) {
		n = DNS_CACHE_NAME - 1;
		for (size_t j = n > 3 ? n - 3 : 0; j < n; j++) {
			if (name[j] == '\\') {
				n = j;
				break;
			}
		}
	}
	memcpy(dst, name, n);
	dst[n] = '\0';
}

void dns_cache_put(struct dns_cache *c, int family, const uint8_t *addr, const char *name,
		   uint64_t now_ns)
{
	struct dns_entry *e;
	uint8_t key[16];
	uint32_t bucket;
	int32_t i;

	if (!c || !name || !make_key(family, addr, key))
		return;

	/* The oldest entries go first when they expire (times mostly increase). */
	while (c->oldest != NIL && expired(c->e[c->oldest].when, now_ns))
		remove_entry(c, c->oldest);

	bucket = key_hash(c, (uint8_t)family, key) & (DNS_CACHE_BUCKETS - 1);
	i = find(c, bucket, family, key);
	if (i != NIL) {
		/* Known address: new name and time, now the newest. */
		memcpy(c->e[i].prev_name, c->e[i].name, DNS_CACHE_NAME);
		c->e[i].prev_when = c->e[i].when;
		set_name(c->e[i].name, name);
		c->e[i].when = now_ns;
		unlink_order(c, i);
		link_newest(c, i);
		return;
	}

	if (c->free == NIL)
		remove_entry(c, c->oldest);
	i = c->free;
	e = &c->e[i];
	c->free = e->hnext;
	e->when = now_ns;
	e->family = (uint8_t)family;
	memcpy(e->addr, key, 16);
	set_name(e->name, name);
	e->prev_name[0] = '\0';
	e->bucket = bucket;
	e->hprev = NIL;
	e->hnext = c->bucket[bucket];
	if (e->hnext != NIL)
		c->e[e->hnext].hprev = i;
	c->bucket[bucket] = i;
	link_newest(c, i);
	c->count++;
}

const char *dns_cache_get(const struct dns_cache *c, int family, const uint8_t *addr,
			  uint64_t now_ns, uint64_t *when_ns)
{
	const char *name;
	uint8_t key[16];
	uint64_t when;
	uint32_t bucket;
	int32_t i;

	if (!c || !make_key(family, addr, key))
		return NULL;
	bucket = key_hash(c, (uint8_t)family, key) & (DNS_CACHE_BUCKETS - 1);
	i = find(c, bucket, family, key);
	if (i == NIL)
		return NULL;
	/* an answer newer than now_ns cannot be the one a connect then used */
	if (c->e[i].when <= now_ns) {
		when = c->e[i].when;
		name = c->e[i].name;
	} else if (c->e[i].prev_name[0] && c->e[i].prev_when <= now_ns) {
		when = c->e[i].prev_when;
		name = c->e[i].prev_name;
	} else {
		return NULL;
	}
	if (expired(when, now_ns))
		return NULL;
	if (when_ns)
		*when_ns = when;
	return name;
}

size_t dns_cache_count(const struct dns_cache *c)
{
	return c ? c->count : 0;
}

#define DNS_AGE_SHOWN_NS 100000000ULL /* 100 ms */

void dns_query_text(const struct dns_cache *c, int family, const uint8_t *addr, uint64_t ts_ns,
		    char *buf, size_t size)
{
	static const uint8_t lo4[4] = { 127, 0, 0, 1 };
	static const uint8_t lo6[16] = { [15] = 1 };
	const char *name;
	uint64_t when = 0;

	if (!buf || !size)
		return;
	if (addr &&
	    ((family == 4 && !memcmp(addr, lo4, 4)) || (family == 6 && !memcmp(addr, lo6, 16)))) {
		snprintf(buf, size, "localhost");
		return;
	}
	name = dns_cache_get(c, family, addr, ts_ns, &when);
	if (!name) {
		snprintf(buf, size, "No DNS Query");
		return;
	}
	if (ts_ns > when && ts_ns - when > DNS_AGE_SHOWN_NS) {
		/* Age in microseconds, rounded: "%.3f" of milliseconds without floats. */
		unsigned long long us = (ts_ns - when + 500) / 1000;

		snprintf(buf, size, "%s (%llu.%03llums)", name, us / 1000, us % 1000);
	} else {
		snprintf(buf, size, "%s", name);
	}
}
