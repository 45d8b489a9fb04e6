// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* Command-line options of every tool: one table, one parser, one validator. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "messages.h"
#include "descriptions.h"

#define PID_MAX 4194304 /* PID_MAX_LIMIT on 64-bit kernels */

enum {
	OPT_CGROUPMAP = 0x100,
	OPT_MNTNSMAP,
	OPT_ATTACH,
	OPT_DEBUG,
	OPT_VERSION,
};

/* How an option's value reaches struct opts. */
enum opt_kind {
	KIND_CODE,   /* handled by its own case in parse_special() */
	KIND_SWITCH, /* sets the bool at dest */
	KIND_NUMBER, /* a decimal within [min, max], into the __u32 at dest */
	KIND_PATH,   /* a non-empty path, into the const char * at dest */
};

/* In an option's help, stands for the tool's port_what ("local" ports). */
#define PORT_WHAT "@"

struct optdef {
	const char *name;
	const char *arg;   /* NULL: a switch */
	const char *help;  /* for --help; may hold PORT_WHAT once */
	int val;	   /* short letter or OPT_* */
	unsigned int flag; /* 0: every tool has it */
	enum opt_kind kind;
	size_t dest; /* offsetof(struct opts, ...) for every kind but KIND_CODE */
	/* KIND_NUMBER: "invalid <noun> '...': expected <range_note><min> to <max>" */
	const char *noun;
	const char *range_note;
	unsigned long min, max;
};

#define CODE .kind = KIND_CODE
#define SWITCH(field) .kind = KIND_SWITCH, .dest = offsetof(struct opts, field)
#define PATH(field) .kind = KIND_PATH, .dest = offsetof(struct opts, field)
#define NUMBER(field, what, note, lo, hi)                                        \
	.kind = KIND_NUMBER, .dest = offsetof(struct opts, field), .noun = what, \
	.range_note = note, .min = lo, .max = hi

static const struct optdef optdefs[] = {
	{ "help", NULL, "show this help and exit", 'h', 0, CODE },
	{ "version", NULL, "show the version and exit", OPT_VERSION, 0, CODE },
	{ "time", NULL, "add a TIME column (HH:MM:SS)", 'T', TF_TIME, SWITCH(time_hms) },
	{ "timestamp", NULL, "add a TIME(s) column: seconds since the first event", 't', 0,
	  SWITCH(timestamp) },
	{ "pid", "PID", "only this process", 'p', 0, NUMBER(cfg.pid, "PID", "", 1, PID_MAX) },
	{ "port", "PORTS", "only these comma-separated " PORT_WHAT " ports", 'P', TF_PORT, CODE },
	{ "lport", NULL, "add an LPORT column (local port)", 'L', TF_LPORT, SWITCH(lport) },
	{ "print-uid", NULL, "add a UID column", 'U', TF_PRINT_UID, SWITCH(print_uid) },
	{ "uid", "UID", "only this user ID", 'u', TF_UID,
	  NUMBER(cfg.uid, "UID", "", 0, 4294967294UL) },
	{ "count", NULL, "count connects per address pair, print at exit", 'c', TF_COUNT,
	  SWITCH(count) },
	{ "dns", NULL, "add a QUERY column: the DNS name looked up", 'd', TF_DNS, SWITCH(dns) },
	{ "outcome", NULL, "a row once each attempt's outcome is known: LAT(ms), RESULT", 'o',
	  TF_OUTCOME, SWITCH(outcome) },
	{ "queue", NULL, "add QUEUE(ms), the wait in the accept queue, and HS(ms)", 'q', TF_QUEUE,
	  SWITCH(queue) },
	{ "lifetime", NULL, "add LIFE(ms), TX and RX (bytes) to each X row", 'l', TF_LIFETIME,
	  SWITCH(lifetime) },
	{ "netns", "NETNS", "only this network namespace (inode number)", 'N', TF_NETNS,
	  NUMBER(cfg.netns, "network namespace", "an inode number ", 1, 4294967295UL) },
	{ "verbose", NULL, "long event types and a NETNS column", 'v', TF_VERBOSE,
	  SWITCH(verbose) },
	{ "ipv4", NULL, "only IPv4 sockets", '4', 0, CODE },
	{ "ipv6", NULL, "only IPv6 sockets", '6', 0, CODE },
	{ "cgroupmap", "PATH", "only cgroups whose id is a key of this pinned map", OPT_CGROUPMAP,
	  0, PATH(cgroupmap) },
	{ "mntnsmap", "PATH", "only mount namespaces that are keys of this pinned map",
	  OPT_MNTNSMAP, 0, PATH(mntnsmap) },
	{ "json", NULL, "one JSON object per line instead of the table", 'j', 0, SWITCH(json) },
	{ "attach", "MODE", "auto (default), fentry, kprobe or tracepoint", OPT_ATTACH, 0, CODE },
	{ "debug", NULL, "print libbpf and attach diagnostics to stderr", OPT_DEBUG, 0,
	  SWITCH(debug) },
};

#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

static const char *const mode_names[] = {
	[ATTACH_AUTO] = "auto",
	[ATTACH_FENTRY] = "fentry",
	[ATTACH_KPROBE] = "kprobe",
	[ATTACH_TRACEPOINT] = "tracepoint",
};

const char *attach_mode_name(enum attach_mode m)
{
	return mode_names[m];
}

static bool tool_has(const struct tool_desc *t, const struct optdef *d)
{
	return !d->flag || (t->flags & d->flag);
}

/* An option's help line, PORT_WHAT replaced by port_what. */
static void print_help(FILE *out, const char *help, const char *port_what)
{
	const char *at = strstr(help, PORT_WHAT);

	if (at)
		fprintf(out, "%.*s%s%s\n", (int)(at - help), help, port_what, at + 1);
	else
		fprintf(out, "%s\n", help);
}

static void usage(const struct tool_desc *t, FILE *out)
{
	char sw[80];
	size_t i;

	fprintf(out, "Usage: %s [OPTION]...\n%s\n\nOptions:\n", t->name, t->summary);
	for (i = 0; i < NOPTS; i++) {
		const struct optdef *d = &optdefs[i];

		if (!tool_has(t, d))
			continue;
		if (d->val < 0x100)
			snprintf(sw, sizeof(sw), "-%c, --%s%s%s", d->val, d->name,
				 d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(sw, sizeof(sw), "    --%s%s%s", d->name, d->arg ? " " : "",
				 d->arg ? d->arg : "");
		fprintf(out, "  %-22s  ", sw);
		print_help(out, d->help, t->port_what);
	}
	fprintf(out, "\nExamples:\n%s\nSee %s(8) for the columns, JSON keys and attach modes.\n",
		t->examples, t->name);
}

/* Strict unsigned decimal: digits only, no sign, no blanks, within [min, max]. */
static bool parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*v = strtoul(s, &end, 10);
	return !errno && !*end && *v >= min && *v <= max;
}

static bool parse_ports(const char *s, struct opts *o)
{
	const char *p = s;

	o->nports = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[8];
		unsigned long v;

		if (len == 0 || len >= sizeof(item) || o->nports == MAX_PORTS)
			return false;
		memcpy(item, p, len);
		item[len] = '\0';
		if (!parse_num(item, 1, 65535, &v))
			return false;
		o->ports[o->nports++] = (__u16)v;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

__attribute__((format(printf, 3, 4))) static enum parse_result
usage_error(const struct tool_desc *t, FILE *err, const char *fmt, ...)
{
	va_list ap;

	fprintf(err, "%s: ", t->name);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fprintf(err, " (see '%s --help')\n", t->name);
	return PARSE_BAD;
}

/*
 * getopt refused arg: a long option it does not know, a long switch given a
 * value, or an unknown letter (optopt) of a short cluster.
 */
static enum parse_result unknown_option(const struct tool_desc *t, FILE *err, const char *arg)
{
	char letter[3] = { '-', (char)optopt, '\0' };
	const char *eq = strchr(arg, '=');

	if (strncmp(arg, "--", 2) != 0)
		return usage_error(t, err, "unknown option '%s'", printable(letter));
	if (eq && optopt) {
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - arg), arg);
		return usage_error(t, err, "option '%s' takes no value", printable(name));
	}
	return usage_error(t, err, "unknown option '%s'", printable(arg));
}

static enum parse_result check_combinations(const struct tool_desc *t, const struct opts *o,
					    FILE *err)
{
	const struct {
		bool on;
		const char *name;
	} with_count[] = {
		{ o->dns, "--dns" },
		{ o->timestamp, "--timestamp" },
		{ o->lport, "--lport" },
		{ o->print_uid, "--print-uid" },
	};
	size_t i;

	if (o->cfg.family == 0xff)
		return usage_error(t, err, "--ipv4 and --ipv6 cannot be used together");
	if (o->count)
		for (i = 0; i < sizeof(with_count) / sizeof(with_count[0]); i++)
			if (with_count[i].on)
				return usage_error(t, err, "--count cannot be used with %s",
						   with_count[i].name);
	return PARSE_RUN;
}

/* A table-driven option's value into o; PARSE_RUN, or PARSE_BAD after a message. */
static enum parse_result set_value(const struct tool_desc *t, const struct optdef *d,
				   const char *arg, struct opts *o, FILE *err)
{
	char *dest = (char *)o + d->dest;
	unsigned long v;

	switch (d->kind) {
	case KIND_SWITCH:
		*(bool *)dest = true;
		break;
	case KIND_NUMBER:
		if (!parse_num(arg, d->min, d->max, &v))
			return usage_error(t, err, "invalid %s '%s': expected %s%lu to %lu",
					   d->noun, printable(arg), d->range_note, d->min, d->max);
		*(__u32 *)dest = (__u32)v;
		break;
	case KIND_PATH:
		if (!*arg)
			return usage_error(t, err, "option --%s needs a non-empty path", d->name);
		*(const char **)dest = arg;
		break;
	case KIND_CODE:
		break;
	}
	return PARSE_RUN;
}

/* The options that need code of their own; PARSE_RUN to go on. */
static enum parse_result parse_special(const struct tool_desc *t, int c, const char *arg,
				       struct opts *o, FILE *out, FILE *err)
{
	size_t i;

	switch (c) {
	case 'h':
		usage(t, out);
		return PARSE_DONE;
	case OPT_VERSION:
		fprintf(out, "%s %s\n", t->name, SUITE_VERSION);
		return PARSE_DONE;
	case 'P':
		if (!parse_ports(arg, o))
			return usage_error(t, err,
					   "invalid port list '%s': expected ports 1 to 65535, "
					   "comma-separated, at most %d",
					   printable(arg), MAX_PORTS);
		break;
	case '4':
	case '6':
		o->cfg.family = (o->cfg.family && o->cfg.family != (c - '0')) ? 0xff : (c - '0');
		break;
	case OPT_ATTACH:
		for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
			if (!strcmp(arg, mode_names[i]))
				break;
		if (i == sizeof(mode_names) / sizeof(mode_names[0]))
			return usage_error(
				t, err,
				"invalid attach mode '%s': expected auto, fentry, kprobe or "
				"tracepoint",
				printable(arg));
		o->mode = (enum attach_mode)i;
		break;
	}
	return PARSE_RUN;
}

/* The table entry of a short letter or OPT_* code getopt returned. */
static const struct optdef *optdef_of(int val)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (optdefs[i].val == val)
			return &optdefs[i];
	return NULL;
}

/* getopt's option tables, for the options tool t has. */
static void getopt_tables(const struct tool_desc *t, struct option *longopts, char *shortopts)
{
	size_t n = 0, ns = 0, i;

	shortopts[ns++] = ':'; /* report a missing value as ':' */
	for (i = 0; i < NOPTS; i++) {
		const struct optdef *d = &optdefs[i];

		if (!tool_has(t, d))
			continue;
		longopts[n++] = (struct option){ d->name, d->arg ? required_argument : no_argument,
						 NULL, d->val };
		if (d->val < 0x100) {
			shortopts[ns++] = (char)d->val;
			if (d->arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[n] = (struct option){ 0 };
	shortopts[ns] = '\0';
}

enum parse_result parse_opts(const struct tool_desc *t, int argc, char **argv, struct opts *o,
			     FILE *out, FILE *err)
{
	struct option longopts[NOPTS + 1];
	char shortopts[2 * NOPTS + 2];
	unsigned char seen[OPT_VERSION + 1] = { 0 };
	enum parse_result r;
	int c;

	memset(o, 0, sizeof(*o));
	getopt_tables(t, longopts, shortopts);
	opterr = 0;
	optind = 0; /* glibc: 0, not 1, also forgets a half-read "-xy" */
	for (;;) {
		int at = optind ? optind : 1; /* the argument getopt looks at */
		const struct optdef *d;
		const char *arg;

		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		if (c == -1)
			break;
		if (c == '?')
			return unknown_option(t, err, at < argc ? argv[at] : "");
		if (c == ':')
			return usage_error(t, err, "option '%s' needs a value",
					   printable(argv[optind - 1]));
		d = optdef_of(c);
		/* a value given twice is ambiguous; switches may repeat */
		if (optarg && seen[c]++)
			return usage_error(t, err, "option --%s given more than once", d->name);
		arg = optarg ? optarg : ""; /* switches have none, and use none */
		r = d->kind == KIND_CODE ? parse_special(t, c, arg, o, out, err)
					 : set_value(t, d, arg, o, err);
		if (r != PARSE_RUN)
			return r;
	}
	if (optind < argc)
		return usage_error(t, err, "unexpected argument '%s'", printable(argv[optind]));
	/* what the BPF side is told, derived from the options */
	o->cfg.filter_ports = o->nports > 0;
	o->cfg.filter_uid = seen['u'] > 0;
	o->cfg.count_only = o->count;
	o->cfg.outcome = o->outcome;
	o->cfg.queue = o->queue;
	o->cfg.lifetime = o->lifetime;
	return check_combinations(t, o, err);
}
