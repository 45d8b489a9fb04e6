/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#ifndef OPTIONS_H
#define OPTIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpevent.h"

#define SUITE_VERSION "0.1.0"

enum attach_mode {
	ATTACH_AUTO,
	ATTACH_FENTRY,
	ATTACH_KPROBE,
	ATTACH_TRACEPOINT,
};

/* Options beyond the common ones; a tool lists those it takes. */
enum tool_flag {
	TF_PORT = 1 << 0,      /* -P PORTS */
	TF_LPORT = 1 << 1,     /* -L */
	TF_PRINT_UID = 1 << 2, /* -U */
	TF_UID = 1 << 3,       /* -u UID */
	TF_COUNT = 1 << 4,     /* -c */
	TF_DNS = 1 << 5,       /* -d */
	TF_TIME = 1 << 6,      /* -T */
	TF_NETNS = 1 << 7,     /* -N NETNS */
	TF_VERBOSE = 1 << 8,   /* -v */
	TF_OUTCOME = 1 << 9,   /* -o */
	TF_QUEUE = 1 << 10,    /* -q */
	TF_LIFETIME = 1 << 11, /* -l */
};

struct opts;
struct tool_desc; /* descriptions.h */

struct opts {
	struct config cfg; /* what the BPF side filters on */
	__u16 ports[MAX_PORTS];
	int nports;
	const char *cgroupmap;
	const char *mntnsmap;
	enum attach_mode mode;
	bool timestamp; /* -t */
	bool time_hms;	/* -T */
	bool json;
	bool print_uid;
	bool lport;
	bool count;
	bool dns;
	bool outcome;
	bool queue;
	bool lifetime;
	bool verbose;
	bool debug;
};

enum parse_result {
	PARSE_RUN = -1, /* go on and trace */
	PARSE_DONE = 0, /* --help or --version printed: exit 0 */
	PARSE_BAD = 2,	/* a usage error was printed: exit 2 */
};

/* Parse argv for tool t; messages go to err, --help and --version to out. */
enum parse_result parse_opts(const struct tool_desc *t, int argc, char **argv, struct opts *o,
			     FILE *out, FILE *err);

const char *attach_mode_name(enum attach_mode m);

#endif
