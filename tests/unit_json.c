// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* JSON: json_escape and fmt_json. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "unit.h"

void test_json_escape(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ "curl", 4, "curl" },
		{ "", 0, "" },
		{ "\"", 1, "\\\"" },
		{ "\\", 1, "\\\\" },
		{ "a\"b\\c", 5, "a\\\"b\\\\c" },
		{ "/", 1, "/" },
		{ "\x01", 1, "\\u0001" },
		{ "\x1f", 1, "\\u001f" },
		{ "\x7f", 1, "\\u007f" },
		{ "\n\t\r", 3, "\\u000a\\u0009\\u000d" },
		{ "a\0b", 3, "a\\u0000b" },		       /* the length counts, not the NUL */
		{ "\xc3\xa9", 2, "\xc3\xa9" },		       /* U+00E9 */
		{ "\xc2\x80", 2, "\xc2\x80" },		       /* U+0080 */
		{ "\xdf\xbf", 2, "\xdf\xbf" },		       /* U+07FF */
		{ "\xe2\x82\xac", 3, "\xe2\x82\xac" },	       /* U+20AC */
		{ "\xe0\xa0\x80", 3, "\xe0\xa0\x80" },	       /* U+0800 */
		{ "\xed\x9f\xbf", 3, "\xed\x9f\xbf" },	       /* U+D7FF */
		{ "\xef\xbf\xbf", 3, "\xef\xbf\xbf" },	       /* U+FFFF */
		{ "\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80" }, /* U+1F600 */
		{ "\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf" }, /* U+10FFFF */
		{ "\xff", 1, "\\u00ff" },
		{ "\xfe", 1, "\\u00fe" },
		{ "\x80", 1, "\\u0080" }, /* lone continuation */
		{ "a\x80z", 3, "a\\u0080z" },
		{ "\xe2\x82", 2, "\\u00e2\\u0082" }, /* truncated at the end */
		{ "\xe2\x82"
		  "A",
		  3, "\\u00e2\\u0082A" }, /* truncated before ASCII */
		{ "\xc3", 1, "\\u00c3" },
		{ "\xf0\x9f\x98", 3, "\\u00f0\\u009f\\u0098" },
		{ "\xc0\xaf", 2, "\\u00c0\\u00af" },			   /* overlong '/' */
		{ "\xc1\xbf", 2, "\\u00c1\\u00bf" },			   /* overlong */
		{ "\xe0\x80\xaf", 3, "\\u00e0\\u0080\\u00af" },		   /* overlong */
		{ "\xf0\x80\x80\xaf", 4, "\\u00f0\\u0080\\u0080\\u00af" }, /* overlong */
		{ "\xed\xa0\x80", 3, "\\u00ed\\u00a0\\u0080" },		   /* surrogate D800 */
		{ "\xed\xbf\xbf", 3, "\\u00ed\\u00bf\\u00bf" },		   /* surrogate DFFF */
		{ "\xf4\x90\x80\x80", 4, "\\u00f4\\u0090\\u0080\\u0080" }, /* > U+10FFFF */
		{ "\xf5\x80\x80\x80", 4, "\\u00f5\\u0080\\u0080\\u0080" },
		{ "\xc3\xa9\xff\xc3\xa9", 5, "\xc3\xa9\\u00ff\xc3\xa9" },
		{ "\xc3\xc3\xa9", 3, "\\u00c3\xc3\xa9" }, /* lead byte, then valid */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[256];
		size_t n;

		n = json_escape(cases[i].in, cases[i].len, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].want, "json_escape(%s, %zu)", quoted(cases[i].in),
			  cases[i].len);
		CHECK_INT(n, strlen(buf), "json_escape(%s) length", quoted(cases[i].in));
	}
}

/* A short buffer ends before an escape or a UTF-8 sequence, never inside one. */
void test_json_escape_short(void)
{
	static const struct {
		const char *in;
		size_t size;
		const char *want;
	} cases[] = {
		{ "a\"", 2, "a" }, /* \" needs 2 bytes */
		{ "a\"", 3, "a" },
		{ "a\"", 4, "a\\\"" },
		{ "a\\b", 3, "a" },
		{ "\x01", 6, "" }, /* \u0001 needs 6 */
		{ "\x01", 7, "\\u0001" },
		{ "x\x7fy", 7, "x" },
		{ "x\x7fy", 8, "x\\u007f" },
		{ "x\xff", 7, "x" },	/* \u00ff */
		{ "\xc3\xa9z", 2, "" }, /* U+00E9 is 2 bytes: no half of it */
		{ "\xc3\xa9z", 3, "\xc3\xa9" },
		{ "\xe2\x82\xac", 3, "" },
		{ "\xf0\x9f\x98\x80", 4, "" },
		{ "\xf0\x9f\x98\x80", 5, "\xf0\x9f\x98\x80" },
		{ "ab\x01"
		  "cd",
		  8, "ab" }, /* nothing after a piece that did not fit */
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[16];
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = json_escape(cases[i].in, strlen(cases[i].in), buf, cases[i].size);
		CHECK_STR(buf, cases[i].want, "json_escape(%s) in %zu bytes", quoted(cases[i].in),
			  cases[i].size);
		CHECK_INT(n, strlen(cases[i].want), "json_escape(%s) in %zu bytes: length",
			  quoted(cases[i].in), cases[i].size);
	}
}

/* Length of the UTF-8 sequence at s, 0 if it is not well-formed. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned int cp, min;
	size_t n, k;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2, cp = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, cp = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, cp = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (k = 1; k < n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A structural check of one JSON object line: balanced braces outside
 * strings, valid escapes, no raw control byte, UTF-8 strings. NULL if good,
 * else why not.
 */
static const char *json_line_bad(const char *line)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t len = strlen(line), i, n;
	int depth = 0;

	if (len < 3 || s[0] != '{' || strcmp(line + len - 2, "}\n"))
		return "not one {...} line";
	for (i = 0; i < len - 1; i++) {
		if (s[i] < 0x20 || s[i] >= 0x80)
			return "raw byte outside a string";
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if (s[i] == '}' || s[i] == ']')
			depth--;
		if (depth == 0 && i != len - 2)
			return "text after the object";
		if (s[i] != '"')
			continue;
		for (i++; s[i] != '"'; i++) {
			if (!s[i])
				return "unterminated string";
			if (s[i] < 0x20)
				return "raw control byte in a string";
			if (s[i] == '\\') {
				i++;
				if (s[i] == 'u') {
					for (n = 1; n <= 4; n++)
						if (!s[i + n] ||
						    !strchr("0123456789abcdefABCDEF", s[i + n]))
							return "bad \\u escape";
					i += 4;
				} else if (!s[i] || !strchr("\"\\/bfnrt", s[i])) {
					return "bad escape";
				}
				continue;
			}
			n = utf8_len(s + i);
			if (!n)
				return "invalid UTF-8 in a string";
			i += n - 1;
		}
	}
	return depth ? "unbalanced braces" : NULL;
}

static void json_event(struct event *e)
{
	memset(e, 0, sizeof(*e));
	e->ts_ns = 1500000000;
	e->pid = 23817;
	e->tid = 23818;
	e->uid = 1000;
	e->netns = 4026531840u;
	e->family = 4;
	e->type = EV_CONNECT;
	put_addr(4, "192.0.2.10", e->laddr);
	put_addr(4, "198.51.100.7", e->raddr);
	e->lport = 41862;
	e->rport = 443;
	put_comm(e->comm, "curl");
}

void test_json(void)
{
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct event e;
	const char *bad;
	size_t n;

	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET + 123456000;
	json_event(&e);
	n = fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf,
		  "{\"time\":1700000000.123456,\"type\":\"connect\",\"pid\":23817,\"tid\":23818,"
		  "\"uid\":1000,\"comm\":\"curl\",\"ip\":4,\"laddr\":\"192.0.2.10\","
		  "\"lport\":41862,\"raddr\":\"198.51.100.7\",\"rport\":443,"
		  "\"netns\":4026531840}\n",
		  "fmt_json IPv4");
	CHECK_INT(n, strlen(buf), "fmt_json length");
	bad = json_line_bad(buf);
	CHECK(!bad, "fmt_json IPv4 is JSON: %s", bad);

	/* microseconds keep their leading zeros */
	f.boot_to_real_ns = JSON_TIME_OFFSET + 42000;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "{\"time\":1700000000.000042,\"type\"", 32),
	      "fmt_json time 6 decimals: %s", quoted(buf));
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(!strncmp(buf, "{\"time\":1700000000.000000,\"type\"", 32),
	      "fmt_json time on a second: %s", quoted(buf));

	/* IPv6: never brackets in JSON, large values */
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	f.v6_brackets = true;
	e.family = 6;
	put_addr(6, "2001:db8::1", e.laddr);
	put_addr(6, "::ffff:127.0.0.1", e.raddr);
	e.pid = 4194304;
	e.tid = 4194303;
	e.uid = 4294967294u;
	e.netns = 4294967295u;
	e.lport = 65535;
	e.rport = 1;
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK_STR(buf,
		  "{\"time\":1700000000.000000,\"type\":\"connect\",\"pid\":4194304,"
		  "\"tid\":4194303,\"uid\":4294967294,\"comm\":\"curl\",\"ip\":6,"
		  "\"laddr\":\"2001:db8::1\",\"lport\":65535,\"raddr\":\"::ffff:127.0.0.1\","
		  "\"rport\":1,\"netns\":4294967295}\n",
		  "fmt_json IPv6");

	/* the tool text key comes last, only with both a key and a value */
	json_event(&e);
	f.v6_brackets = false;
	f.tool_text_key = "query";
	fmt_json(&f, &e, "example.com", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840,\"query\":\"example.com\"}\n") != NULL,
	      "fmt_json tool text key: %s", quoted(buf));
	fmt_json(&f, &e, "a\"b\x01", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"query\":\"a\\\"b\\u0001\"}\n") != NULL,
	      "fmt_json tool text escaped: %s", quoted(buf));
	bad = json_line_bad(buf);
	CHECK(!bad, "fmt_json tool text is JSON: %s", bad);
	fmt_json(&f, &e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840}\n") != NULL && !strstr(buf, "query"),
	      "fmt_json tool text NULL: %s", quoted(buf));
	f.tool_text_key = NULL;
	fmt_json(&f, &e, "example.com", buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840}\n") != NULL && !strstr(buf, "example"),
	      "fmt_json no tool text key: %s", quoted(buf));
}

void test_json_comm(void)
{
	static const struct {
		const char *comm;
		const char *want; /* "comm":"..." */
	} cases[] = {
		{ "\xff\"\\\x01\xc3\xa9\xed\xa0\x80z",
		  "\"comm\":\"\\u00ff\\\"\\\\\\u0001\xc3\xa9\\u00ed\\u00a0\\u0080z\"" },
		{ "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80",
		  "\"comm\":\"\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080"
		  "\\u0080\\u0080\\u0080\\u0080\\u0080\\u0080\"" },
		{ "\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f",
		  "\"comm\":\"\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f"
		  "\\u001f\\u001f\\u001f\\u001f\\u001f\\u001f\"" },
		{ "\xc0\xaf\xe2\x82"
		  "A\xf0\x9f\x98\x80\x7f",
		  "\"comm\":\"\\u00c0\\u00af\\u00e2\\u0082A\xf0\x9f\x98\x80\\u007f\"" },
		{ "abcdefghijklmno", "\"comm\":\"abcdefghijklmno\"" }, /* not cut to 12 */
	};
	char buf[LINE_MAX_BYTES];
	struct formatter f;
	struct event e;
	const char *bad;
	size_t i;

	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		json_event(&e);
		put_comm(e.comm, cases[i].comm);
		fmt_json(&f, &e, NULL, buf, sizeof(buf));
		CHECK(strstr(buf, cases[i].want) != NULL, "fmt_json COMM %s: got %s, want %s",
		      quoted(cases[i].comm), quoted(buf), quoted(cases[i].want));
		bad = json_line_bad(buf);
		CHECK(!bad, "fmt_json COMM %s is JSON: %s: %s", quoted(cases[i].comm), bad,
		      quoted(buf));
	}
}

/* tcpconnect -o: RESULT words, the JSON keys and the table's two columns */
void test_outcome(void)
{
	static const struct {
		int outcome, err;
		const char *word, *json; /* json: the keys after netns */
	} cases[] = {
		{ OC_ESTABLISHED, 0, "established",
		  ",\"result\":\"established\",\"latency_ns\":1234567" },
		{ OC_REFUSED, ECONNREFUSED, "refused",
		  ",\"result\":\"refused\",\"error\":\"ECONNREFUSED\",\"latency_ns\":1234567" },
		{ OC_ERROR, ETIMEDOUT, "timeout",
		  ",\"result\":\"timeout\",\"error\":\"ETIMEDOUT\",\"latency_ns\":1234567" },
		{ OC_ERROR, ENETUNREACH, "unreach-net", NULL },
		{ OC_ERROR, EHOSTUNREACH, "unreach-host", NULL },
		{ OC_ERROR, ECONNREFUSED, "unreach-port", NULL },
		{ OC_ERROR, EACCES, "unreach-admin", NULL },
		{ OC_ERROR, EHOSTDOWN, "error:EHOSTDOWN",
		  ",\"result\":\"error:EHOSTDOWN\",\"error\":\"EHOSTDOWN\",\"latency_ns\":"
		  "1234567" },
		{ OC_ERROR, 4000, "error:4000", NULL }, /* no name: the number */
		{ OC_ABORTED, 0, "aborted", ",\"result\":\"aborted\",\"latency_ns\":1234567" },
		{ OC_FAILED, EADDRNOTAVAIL, "failed:EADDRNOTAVAIL",
		  ",\"result\":\"failed:EADDRNOTAVAIL\",\"error\":\"EADDRNOTAVAIL\","
		  "\"latency_ns\":1234567" },
		{ OC_PENDING, 0, "pending", ",\"result\":\"pending\",\"latency_ns\":1234567" },
		{ 99, 0, "-", NULL },
	};
	char buf[LINE_MAX_BYTES], word[64], want[LINE_MAX_BYTES];
	struct event_more m;
	struct formatter f;
	struct opts o;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fmt_result(cases[i].outcome, cases[i].err, word, sizeof(word));
		CHECK_STR(word, cases[i].word, "fmt_result %d %d", cases[i].outcome, cases[i].err);
		if (!cases[i].json)
			continue;
		fmt_init(&f);
		f.boot_to_real_ns = JSON_TIME_OFFSET;
		memset(&m, 0, sizeof(m));
		json_event(&m.e);
		m.e.flags = EVF_MORE;
		m.outcome = (__u8)cases[i].outcome;
		m.err = cases[i].err;
		m.dur_ns = 1234567;
		m.have = HAVE_DUR;
		f.dur_key = tcpconnect_tool.dur_key;
		fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
		snprintf(want, sizeof(want), ",\"netns\":4026531840%s}\n", cases[i].json);
		CHECK(strstr(buf, want) != NULL, "fmt_json -o %s: %s", cases[i].word, quoted(buf));
		CHECK(!json_line_bad(buf), "fmt_json -o %s is JSON", cases[i].word);
	}

	/* the table: LAT(ms) in microseconds, cut; then RESULT */
	memset(&o, 0, sizeof(o));
	o.outcome = true;
	fmt_init(&f);
	tcpconnect_tool.columns(&f, &o);
	fmt_header(&f, buf, sizeof(buf));
	CHECK_STR(buf,
		  "PID     COMM         IP SADDR            DADDR            DPORT  LAT(ms)  "
		  "RESULT\n",
		  "tcpconnect -o header");
	memset(&m, 0, sizeof(m));
	json_event(&m.e);
	m.e.flags = EVF_MORE;
	m.outcome = OC_ERROR;
	m.err = ETIMEDOUT;
	m.dur_ns = 3007118999;
	m.have = HAVE_DUR;
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK_STR(buf,
		  "23817   curl         4  192.0.2.10       198.51.100.7     443    3007.118 "
		  "timeout\n",
		  "tcpconnect -o row");
	/* without -o nothing of it, even for a record that has it */
	memset(&o, 0, sizeof(o));
	fmt_init(&f);
	tcpconnect_tool.columns(&f, &o);
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(!strstr(buf, "timeout") && !strstr(buf, "3007"), "no -o: %s", quoted(buf));
	json_event(&m.e); /* no EVF_MORE: no keys */
	fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(!strstr(buf, "result") && !strstr(buf, "latency"), "no more: %s", quoted(buf));
}

/* tcpaccept -q and tcptracer -l: their columns and JSON keys, known or not */
void test_queue_lifetime(void)
{
	char buf[LINE_MAX_BYTES];
	struct event_more m;
	struct formatter f;
	struct opts o;

	memset(&o, 0, sizeof(o));
	o.queue = true;
	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	f.dur_key = tcpaccept_tool.dur_key;
	f.dur2_key = tcpaccept_tool.dur2_key;
	tcpaccept_tool.columns(&f, &o);
	fmt_header(&f, buf, sizeof(buf));
	CHECK_STR(buf,
		  "PID     COMM         IP RADDR            RPORT LADDR            LPORT QUEUE(ms) "
		  "HS(ms)\n",
		  "tcpaccept -q header");
	memset(&m, 0, sizeof(m));
	json_event(&m.e);
	m.e.type = EV_ACCEPT;
	m.e.flags = EVF_MORE;
	m.have = HAVE_DUR | HAVE_DUR2;
	m.dur_ns = 300237999;
	m.dur2_ns = 75000;
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, " 192.0.2.10       41862 300.237   0.075\n") != NULL,
	      "tcpaccept -q row: %s", quoted(buf));
	fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840,\"queue_ns\":300237999,\"handshake_ns\":75000}\n"),
	      "tcpaccept -q JSON: %s", quoted(buf));
	m.have = HAVE_DUR; /* no handshake sample */
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, " 300.237   -\n") != NULL, "tcpaccept -q no HS: %s", quoted(buf));
	fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"queue_ns\":300237999}\n") && !strstr(buf, "handshake"),
	      "tcpaccept -q JSON no HS: %s", quoted(buf));
	m.have = 0; /* queued before the start */
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, " 41862 -         -\n") != NULL, "tcpaccept -q unknown: %s", quoted(buf));
	fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840}\n") != NULL, "tcpaccept -q JSON unknown: %s",
	      quoted(buf));

	memset(&o, 0, sizeof(o));
	o.lifetime = true;
	fmt_init(&f);
	f.boot_to_real_ns = JSON_TIME_OFFSET;
	f.dur_key = tcptracer_tool.dur_key;
	tcptracer_tool.columns(&f, &o);
	fmt_header(&f, buf, sizeof(buf));
	CHECK_STR(buf,
		  "T  PID    COMM             IP SADDR            DADDR            SPORT  DPORT  "
		  "LIFE(ms)   TX         RX\n",
		  "tcptracer -l header");
	memset(&m, 0, sizeof(m));
	json_event(&m.e);
	m.e.type = EV_CLOSE;
	m.e.flags = EVF_MORE;
	m.have = HAVE_DUR | HAVE_BYTES;
	m.dur_ns = 501883000;
	m.tx_bytes = 1000;
	m.rx_bytes = 70000;
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, "443    501.883    1000       70000\n") != NULL, "tcptracer -l X: %s",
	      quoted(buf));
	fmt_json(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, ",\"netns\":4026531840,\"duration_ns\":501883000,\"tx_bytes\":1000,"
			  "\"rx_bytes\":70000}\n"),
	      "tcptracer -l JSON: %s", quoted(buf));
	json_event(&m.e); /* a C row: a plain event */
	fmt_row(&f, &m.e, NULL, buf, sizeof(buf));
	CHECK(strstr(buf, "443    -          -          -\n") != NULL, "tcptracer -l C: %s",
	      quoted(buf));
}
