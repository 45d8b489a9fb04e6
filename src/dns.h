/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * DNS answers for tcpconnect -d: a parser of untrusted response messages and
 * a bounded cache from address to the name that was asked for.
 */
#ifndef DNS_H
#define DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_NAME_MAX 1024 /* a decoded name, escaped, with its NUL */

/* One A or AAAA answer: family is 4 or 6, addr in network byte order. */
typedef void (*dns_answer_fn)(void *ctx, const char *qname, int family, const uint8_t *addr);

/*
 * Parse one DNS message (the UDP payload, no UDP header) of len bytes. If it
 * is a well-formed response (QR set, opcode QUERY, RCODE NOERROR, exactly
 * one question), call fn once for every A (4-byte RDATA) and AAAA (16-byte
 * RDATA) record of the answer section, with the question's name, whatever
 * the record's owner name (CNAME chains lead to the name asked for).
 * The name is in dotted form without the final dot, lower case kept as
 * received, bytes outside printable ASCII and '.' or '\' inside a label
 * written as \DDD (decimal, as dig does). Never reads outside msg, follows
 * at most a bounded number of compression pointers, rejects names longer
 * than 255 bytes on the wire. Returns the number of answers reported, or -1
 * for a malformed or unwanted message (answers reported before the fault
 * are kept: fn may already have been called).
 */
int dns_parse_response(const uint8_t *msg, size_t len, dns_answer_fn fn, void *ctx);

/* ---- cache ---- */

#define DNS_CACHE_SIZE 10240
#define DNS_CACHE_TTL_NS (24ULL * 3600 * 1000000000ULL)

struct dns_cache;

struct dns_cache *dns_cache_new(void);
void dns_cache_free(struct dns_cache *c);

/* Remember that addr (family 4 or 6) was the answer for name at time now_ns. */
void dns_cache_put(struct dns_cache *c, int family, const uint8_t *addr, const char *name,
		   uint64_t now_ns);

/*
 * The name remembered for addr last at or before now_ns (the time of a
 * connect: an answer that came later was not the one it used; the cache
 * keeps the one before the last), if not older than DNS_CACHE_TTL_NS at
 * now_ns; *when_ns gets the time it was remembered. NULL if none.
 */
const char *dns_cache_get(const struct dns_cache *c, int family, const uint8_t *addr,
			  uint64_t now_ns, uint64_t *when_ns);

/* Entries held right now (never more than DNS_CACHE_SIZE). */
size_t dns_cache_count(const struct dns_cache *c);

/*
 * The QUERY text of tcpconnect -d for a connect to addr at time ts_ns:
 * "localhost" for 127.0.0.1 and ::1; the name, with " (X.XXXms)" appended
 * when it was remembered more than 100 ms before ts_ns; "No DNS Query" when
 * unknown. Written to buf (NUL-terminated, cut to size).
 */
void dns_query_text(const struct dns_cache *c, int family, const uint8_t *addr, uint64_t ts_ns,
		    char *buf, size_t size);

#endif
