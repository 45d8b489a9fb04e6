// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Option parsing: parse_opts, as tcpconnect calls it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"

#define MAX_ARGS 32

struct run {
	char *argv[MAX_ARGS + 2];
	int argc;
	struct opts o;
	enum parse_result rc;
	char *out, *err;
	size_t outlen, errlen;
	char what[160]; /* the arguments, for messages */
};

/* Make glibc's getopt forget everything, including a half-read "-abc". */
static void reset_getopt(void)
{
	static char name[] = "unit";
	char *argv[] = { name, NULL };

	optind = 0;
	opterr = 0;
	while (getopt(1, argv, "") != -1)
		;
}

/* parse_opts on a fresh copy of args (NULL-terminated, argv[0] not included) */
static void run_parse(struct run *r, const char *const *args)
{
	FILE *out, *err;
	size_t n = 0;

	memset(r, 0, sizeof(*r));
	r->argv[r->argc++] = strdup("tcpconnect");
	for (; *args && r->argc <= MAX_ARGS; args++) {
		r->argv[r->argc++] = strdup(*args);
		n += (size_t)snprintf(r->what + n, sizeof(r->what) - n, "%s%s", n ? " " : "",
				      *args);
		if (n >= sizeof(r->what))
			n = sizeof(r->what) - 1;
	}
	r->argv[r->argc] = NULL;
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	if (!out || !err) {
		perror("unit: open_memstream");
		exit(2);
	}
	r->rc = parse_opts(&tcpconnect_tool, r->argc, r->argv, &r->o, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	int i;

	reset_getopt();
	for (i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->out);
	free(r->err);
}

struct good_case {
	const char *args[MAX_ARGS];
	struct opts want;
};

static const struct good_case good[] = {
	{ { NULL }, { .mode = ATTACH_AUTO } },
	{ { "-p", "123" }, { .cfg.pid = 123 } },
	{ { "-p", "1" }, { .cfg.pid = 1 } },
	{ { "-p", "4194304" }, { .cfg.pid = 4194304 } },
	{ { "-p5" }, { .cfg.pid = 5 } },
	{ { "--pid=5" }, { .cfg.pid = 5 } },
	{ { "--pid", "5" }, { .cfg.pid = 5 } },
	{ { "-P", "80,443" }, { .cfg.filter_ports = 1, .nports = 2, .ports = { 80, 443 } } },
	{ { "-P", "1" }, { .cfg.filter_ports = 1, .nports = 1, .ports = { 1 } } },
	{ { "-P", "65535,1,65535" },
	  { .cfg.filter_ports = 1, .nports = 3, .ports = { 65535, 1, 65535 } } },
	{ { "--port", "22" }, { .cfg.filter_ports = 1, .nports = 1, .ports = { 22 } } },
	{ { "--port=22,23" }, { .cfg.filter_ports = 1, .nports = 2, .ports = { 22, 23 } } },
	{ { "-u", "0" }, { .cfg.filter_uid = 1, .cfg.uid = 0 } },
	{ { "-u", "1000" }, { .cfg.filter_uid = 1, .cfg.uid = 1000 } },
	{ { "--uid=4294967294" }, { .cfg.filter_uid = 1, .cfg.uid = 4294967294u } },
	{ { "-U" }, { .print_uid = true } },
	{ { "--print-uid" }, { .print_uid = true } },
	{ { "-L" }, { .lport = true } },
	{ { "--lport" }, { .lport = true } },
	{ { "-L", "-L" }, { .lport = true } }, /* switches may repeat */
	{ { "-t" }, { .timestamp = true } },
	{ { "--timestamp" }, { .timestamp = true } },
	{ { "-c" }, { .count = true, .cfg.count_only = 1 } },
	{ { "--count" }, { .count = true, .cfg.count_only = 1 } },
	{ { "-c", "-j" }, { .count = true, .cfg.count_only = 1, .json = true } },
	{ { "-4" }, { .cfg.family = 4 } },
	{ { "--ipv4" }, { .cfg.family = 4 } },
	{ { "-6" }, { .cfg.family = 6 } },
	{ { "--ipv6" }, { .cfg.family = 6 } },
	{ { "-4", "-4" }, { .cfg.family = 4 } },
	{ { "-j" }, { .json = true } },
	{ { "--json" }, { .json = true } },
	{ { "--attach", "auto" }, { .mode = ATTACH_AUTO } },
	{ { "--attach", "fentry" }, { .mode = ATTACH_FENTRY } },
	{ { "--attach", "kprobe" }, { .mode = ATTACH_KPROBE } },
	{ { "--attach", "tracepoint" }, { .mode = ATTACH_TRACEPOINT } },
	{ { "--attach=kprobe" }, { .mode = ATTACH_KPROBE } },
	{ { "--debug" }, { .debug = true } },
	{ { "--cgroupmap", "/sys/fs/bpf/cgmap" }, { .cgroupmap = "/sys/fs/bpf/cgmap" } },
	{ { "--cgroupmap=P" }, { .cgroupmap = "P" } },
	{ { "--mntnsmap", "/sys/fs/bpf/mntns" }, { .mntnsmap = "/sys/fs/bpf/mntns" } },
	{ { "-tUL" }, { .timestamp = true, .print_uid = true, .lport = true } },
	{ { "-t", "-U", "-L", "-p", "181", "-P", "80,443", "-u", "1000", "-6", "-j", "--attach",
	    "fentry", "--debug", "--cgroupmap", "a", "--mntnsmap", "b" },
	  { .cfg = { .pid = 181, .uid = 1000, .family = 6, .filter_uid = 1, .filter_ports = 1 },
	    .ports = { 80, 443 },
	    .nports = 2,
	    .cgroupmap = "a",
	    .mntnsmap = "b",
	    .mode = ATTACH_FENTRY,
	    .timestamp = true,
	    .json = true,
	    .print_uid = true,
	    .lport = true,
	    .debug = true } },
};

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Every field of struct opts that differs, as "name got/want; ...". */
static const char *opts_diff(const struct opts *got, const struct opts *want)
{
	static char buf[1024];
	size_t n = 0;

#define DIFF(field)                                                                              \
	do {                                                                                     \
		if (got->field != want->field)                                                   \
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,                          \
					      #field " %lld want %lld; ", (long long)got->field, \
					      (long long)want->field);                           \
		if (n >= sizeof(buf))                                                            \
			n = sizeof(buf) - 1;                                                     \
	} while (0)

	buf[0] = '\0';
	DIFF(cfg.pid);
	DIFF(cfg.uid);
	DIFF(cfg.netns);
	DIFF(cfg.family);
	DIFF(cfg.filter_uid);
	DIFF(cfg.filter_ports);
	DIFF(cfg.filter_cgroup);
	DIFF(cfg.filter_mntns);
	DIFF(cfg.count_only);
	DIFF(nports);
	DIFF(mode);
	DIFF(timestamp);
	DIFF(time_hms);
	DIFF(json);
	DIFF(print_uid);
	DIFF(lport);
	DIFF(count);
	DIFF(dns);
	DIFF(verbose);
	DIFF(debug);
#undef DIFF
	if (got->nports == want->nports && got->nports >= 0 && got->nports <= MAX_PORTS &&
	    memcmp(got->ports, want->ports, (size_t)got->nports * sizeof(got->ports[0])))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "ports differ; ");
	if (n < sizeof(buf) && !same_str(got->cgroupmap, want->cgroupmap))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "cgroupmap %s want %s; ",
				      quoted(got->cgroupmap), quoted(want->cgroupmap));
	if (n < sizeof(buf) && !same_str(got->mntnsmap, want->mntnsmap))
		snprintf(buf + n, sizeof(buf) - n, "mntnsmap %s want %s; ", quoted(got->mntnsmap),
			 quoted(want->mntnsmap));
	return buf;
}

static void check_good(struct run *r, const struct opts *want)
{
	const char *diff;

	CHECK_INT(r->rc, PARSE_RUN, "parse_opts(%s): result", quoted(r->what));
	diff = opts_diff(&r->o, want);
	CHECK(!*diff, "parse_opts(%s): %s", quoted(r->what), diff);
	CHECK(r->outlen == 0 && r->errlen == 0, "parse_opts(%s): wrote out %s, err %s",
	      quoted(r->what), quoted(r->out), quoted(r->err));
}

void test_opts_good(void)
{
	static struct opts want; /* 2 KiB of ports */
	static char list[8 * MAX_PORTS];
	const char *args[3] = { "-P", list, NULL };
	struct run r;
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		run_parse(&r, good[i].args);
		check_good(&r, &good[i].want);
		run_free(&r);
	}

	/* the longest port list there may be */
	memset(&want, 0, sizeof(want));
	for (i = 0; i < MAX_PORTS; i++) {
		n += (size_t)sprintf(list + n, "%s%zu", i ? "," : "", 65535 - i);
		want.ports[i] = (__u16)(65535 - i);
	}
	want.nports = MAX_PORTS;
	want.cfg.filter_ports = 1;
	run_parse(&r, args);
	check_good(&r, &want);
	run_free(&r);
}

void test_opts_done(void)
{
	static const struct {
		const char *args[4];
		const char *want_out; /* NULL: the help text */
	} cases[] = {
		{ { "--help" }, NULL },
		{ { "-h" }, NULL },
		{ { "-t", "--help" }, NULL },
		{ { "--version" }, "tcpconnect " SUITE_VERSION "\n" },
		{ { "-L", "--version" }, "tcpconnect " SUITE_VERSION "\n" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct run r;

		run_parse(&r, cases[i].args);
		CHECK_INT(r.rc, PARSE_DONE, "parse_opts(%s): result", quoted(r.what));
		CHECK_INT(r.errlen, 0, "parse_opts(%s): wrote to err: %s", quoted(r.what),
			  quoted(r.err));
		if (cases[i].want_out) {
			CHECK_STR(r.out, cases[i].want_out, "parse_opts(%s): out", quoted(r.what));
		} else {
			CHECK(!strncmp(r.out, "Usage: tcpconnect ", 18) && r.outlen > 100 &&
				      r.out[r.outlen - 1] == '\n',
			      "parse_opts(%s): help text %s", quoted(r.what), quoted(r.out));
			/* the options tcpconnect takes, and not those of other tools */
			CHECK(strstr(r.out, "--port PORTS") && strstr(r.out, "--print-uid") &&
				      strstr(r.out, "--cgroupmap PATH") &&
				      strstr(r.out, "--attach MODE") &&
				      strstr(r.out, "destination"),
			      "parse_opts(%s): help lists the options: %s", quoted(r.what),
			      quoted(r.out));
			CHECK(!strstr(r.out, "--netns") && !strstr(r.out, "--verbose") &&
				      !strstr(r.out, "--time "),
			      "parse_opts(%s): help lists another tool's options", quoted(r.what));
		}
		run_free(&r);
	}
}

/* hay contains one of the '|'-separated needles */
static bool contains_any(const char *hay, const char *needles)
{
	char one[256];

	while (*needles) {
		size_t len = strcspn(needles, "|");

		snprintf(one, sizeof(one), "%.*s", (int)len, needles);
		if (strstr(hay, one))
			return true;
		needles += len;
		if (*needles)
			needles++;
	}
	return false;
}

/* A usage error: exit status 2, one clean line on err naming what was wrong. */
static void check_bad(struct run *r, const char *const *needles)
{
	const char *nl;
	size_t i;

	CHECK_INT(r->rc, PARSE_BAD, "parse_opts(%s): result", quoted(r->what));
	CHECK_INT(r->outlen, 0, "parse_opts(%s): wrote to out: %s", quoted(r->what),
		  quoted(r->out));
	nl = r->errlen ? memchr(r->err, '\n', r->errlen) : NULL;
	CHECK(nl && nl == r->err + r->errlen - 1 && strlen(r->err) == r->errlen,
	      "parse_opts(%s): not exactly one line on err: %s", quoted(r->what), quoted(r->err));
	CHECK(!strncmp(r->err, "tcpconnect: ", 12), "parse_opts(%s): err %s", quoted(r->what),
	      quoted(r->err));
	CHECK(strstr(r->err, "--help") != NULL, "parse_opts(%s): no --help hint in %s",
	      quoted(r->what), quoted(r->err));
	for (i = 0; i + 1 < r->errlen; i++)
		if ((unsigned char)r->err[i] < 0x20 || (unsigned char)r->err[i] >= 0x7f)
			break;
	CHECK(i + 1 >= r->errlen, "parse_opts(%s): raw byte 0x%02x in err %s", quoted(r->what),
	      i < r->errlen ? (unsigned char)r->err[i] : 0, quoted(r->err));
	for (; needles && *needles; needles++)
		CHECK(contains_any(r->err, *needles), "parse_opts(%s): err %s does not name %s",
		      quoted(r->what), quoted(r->err), quoted(*needles));
}

struct bad_case {
	const char *args[8];
	const char *needles[3]; /* each is in the message ("a|b": a or b) */
};

static const struct bad_case bad[] = {
	/* unknown options, and those of the other tools */
	{ { "-x" }, { "-x" } },
	{ { "--bogus" }, { "--bogus" } },
	{ { "-L", "-x", "-t" }, { "-x" } },
	{ { "-Lx" }, { "x" } },
	{ { "--bogus=1" }, { "--bogus" } },
	{ { "-T" }, { "-T" } },
	{ { "-v" }, { "-v" } },
	{ { "-N", "4026531840" }, { "-N" } },
	{ { "--netns", "4026531840" }, { "--netns" } },
	{ { "--verbose" }, { "--verbose" } },
	/* a value given to a switch */
	{ { "--debug=1" }, { "debug" } },
	{ { "--lport=5" }, { "lport" } },
	/* missing values */
	{ { "-p" }, { "-p" } },
	{ { "-t", "-P" }, { "-P" } },
	{ { "-L", "-u" }, { "-u" } },
	{ { "--pid" }, { "--pid" } },
	{ { "--attach" }, { "--attach" } },
	{ { "--cgroupmap" }, { "--cgroupmap" } },
	/* PID */
	{ { "-p", "abc" }, { "abc" } },
	{ { "-p", "-1" }, { "-1" } },
	{ { "-p", "+5" }, { "+5" } },
	{ { "-p", " 5" }, { " 5" } },
	{ { "-p", "5 " }, { "5 " } },
	{ { "-p", "5x" }, { "5x" } },
	{ { "-p", "0x10" }, { "0x10" } },
	{ { "-p", "0" }, { "'0'|\"0\"| 0" } },
	{ { "-p", "4194305" }, { "4194305" } },
	{ { "-p", "99999999999999999999" }, { "99999999999999999999" } },
	{ { "-p", "18446744073709551617" }, { "18446744073709551617" } },
	{ { "-p", "" }, { "PID|pid" } },
	{ { "--pid=" }, { "PID|pid" } },
	/* UID */
	{ { "-u", "x" }, { "x" } },
	{ { "-u", "4294967295" }, { "4294967295" } },
	{ { "-u", "4294967296" }, { "4294967296" } },
	{ { "-u", "-1" }, { "-1" } },
	{ { "-u", "" }, { "UID|uid" } },
	/* port lists */
	{ { "-P", "" }, { "port" } },
	{ { "-P", "0" }, { "'0'|\"0\"| 0" } },
	{ { "-P", "65536" }, { "65536" } },
	{ { "-P", "80,,81" }, { "80,,81" } },
	{ { "-P", ",80" }, { ",80" } },
	{ { "-P", "80," }, { "80," } },
	{ { "-P", "a" }, { "'a'|\"a\"| a" } },
	{ { "-P", "80;81" }, { "80;81" } },
	{ { "-P", "80, 81" }, { "80, 81" } },
	{ { "-P", "-80" }, { "-80" } },
	{ { "-P", "80,0" }, { "80,0" } },
	{ { "-P", "80,65536" }, { "80,65536" } },
	{ { "-P", "123456789" }, { "123456789" } },
	/* combinations */
	{ { "-4", "-6" }, { "-4|ipv4", "-6|ipv6" } },
	{ { "-6", "-4" }, { "-4|ipv4", "-6|ipv6" } },
	{ { "-c", "-t" }, { "-c|count", "-t|timestamp" } },
	{ { "-t", "-c" }, { "-c|count", "-t|timestamp" } },
	{ { "-c", "-L" }, { "-c|count", "-L|lport" } },
	{ { "-c", "-U" }, { "-c|count", "-U|print-uid" } },
	/* attach modes, maps */
	{ { "--attach", "bogus" }, { "bogus" } },
	{ { "--attach", "" }, { "attach" } },
	{ { "--attach", "kprobes" }, { "kprobes" } },
	{ { "--cgroupmap", "" }, { "cgroupmap" } },
	{ { "--cgroupmap=" }, { "cgroupmap" } },
	{ { "--mntnsmap", "" }, { "mntnsmap" } },
	/* values given twice */
	{ { "-p", "1", "-p", "2" }, { "-p|pid" } },
	{ { "-p", "1", "--pid=1" }, { "-p|pid" } },
	{ { "-P", "80", "--port", "443" }, { "-P|port" } },
	{ { "-u", "1", "-u", "1" }, { "-u|uid" } },
	{ { "--attach", "kprobe", "--attach", "fentry" }, { "attach" } },
	{ { "--cgroupmap", "a", "--cgroupmap", "b" }, { "cgroupmap" } },
	/* positional arguments */
	{ { "foo" }, { "foo" } },
	{ { "-t", "foo" }, { "foo" } },
	{ { "foo", "-t" }, { "foo" } },
	{ { "-p", "5", "6" }, { "'6'|\"6\"| 6" } },
	{ { "--", "-t" }, { "-t" } },
	{ { "-" }, { "'-'|\"-\"| -" } },
	/* bytes that must not reach the terminal raw */
	{ { "-p", "\xff\x01"
		  "\n5" },
	  { "\\xff\\x01\\x0a5" } },
	{ { "--attach", "k\xc3\xa9" }, { "k\\xc3\\xa9" } },
	{ { "a\x1b[31mb" }, { "a\\x1b[31mb" } },
	{ { "--bo\x7fgus" }, { "--bo\\x7fgus" } },
	{ { "--cgroupmap", "a", "--cgroupmap", "\x01" }, { "cgroupmap" } },
	{ { "-\x01" }, { "\\x01" } },
	{ { "-\x7f" }, { "\\x7f" } },
	{ { "-\xc3\xa9" }, { "\\xc3" } },
};

void test_opts_bad(void)
{
	static char big[10001], list[8 * (MAX_PORTS + 1)], cut[80];
	size_t i, n = 0;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct run r;

		run_parse(&r, bad[i].args);
		check_bad(&r, bad[i].needles);
		run_free(&r);
	}

	/* one port too many */
	for (i = 1; i <= MAX_PORTS + 1; i++)
		n += (size_t)sprintf(list + n, "%s%zu", i > 1 ? "," : "", i);
	snprintf(cut, sizeof(cut), "%.64s...", list);
	{
		const char *args[] = { "-P", list, NULL }, *needles[] = { cut, NULL };
		struct run r;

		run_parse(&r, args);
		check_bad(&r, needles);
		run_free(&r);
	}

	/* 10000-byte arguments: still one short line, the value cut with "..." */
	memset(big, '7', sizeof(big) - 1);
	snprintf(cut, sizeof(cut), "%.64s...", big);
	{
		const char *as_pid[] = { "-p", big, NULL }, *as_ports[] = { "-P", big, NULL };
		const char *as_arg[] = { big, NULL }, *as_map[] = { "--attach", big, NULL };
		const char *const *cases[] = { as_pid, as_ports, as_arg, as_map };
		const char *needles[] = { cut, NULL };

		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			struct run r;

			run_parse(&r, cases[i]);
			check_bad(&r, needles);
			CHECK(r.errlen < 300, "parse_opts(%s): err is %zu bytes", quoted(r.what),
			      r.errlen);
			run_free(&r);
		}
	}
}

/* -d is taken only by a tcpconnect built with the DNS capture. */
void test_opts_dns(void)
{
	const char *d[] = { "-d", NULL }, *dns[] = { "--dns", NULL };
	const char *cd[] = { "-c", "-d", NULL };
	const char *unknown[] = { "-d|dns", NULL }, *with_count[] = { "-c|count", "-d|dns", NULL };
	struct opts want;
	struct run r;

	memset(&want, 0, sizeof(want));
	want.dns = true;
	run_parse(&r, d);
	if (tcpconnect_tool.flags & TF_DNS)
		check_good(&r, &want);
	else
		check_bad(&r, unknown);
	run_free(&r);
	run_parse(&r, dns);
	if (tcpconnect_tool.flags & TF_DNS)
		check_good(&r, &want);
	else
		check_bad(&r, unknown);
	run_free(&r);
	run_parse(&r, cd);
	check_bad(&r, (tcpconnect_tool.flags & TF_DNS) ? with_count : unknown);
	run_free(&r);
}

/*
 * parse_opts must start afresh even when the parse before it stopped in
 * the middle of "-xL" (glibc then still holds a pointer to the "L").
 */
void test_opts_again(void)
{
	const char *first[] = { "-xL", NULL }, *second[] = { "-p", "5", NULL };
	struct run a, b;

	run_parse(&a, first);
	run_parse(&b, second);
	CHECK_INT(a.rc, PARSE_BAD, "parse_opts(\"-xL\"): result");
	CHECK(b.rc == PARSE_RUN && b.o.cfg.pid == 5 && !b.o.lport && b.errlen == 0,
	      "parse_opts(\"-p 5\") after \"-xL\": result %d, pid %u, lport %d, err %s", b.rc,
	      b.o.cfg.pid, b.o.lport, quoted(b.err));
	run_free(&b);
	run_free(&a);
}
