/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Turning what the kernel and libbpf said into one line naming the real
 * cause of a failed load or attach. The decisions are pure functions of the
 * facts below; the *_gather() functions find them for the loader (the unit
 * tests make them up).
 */
#ifndef DIAGNOSE_H
#define DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include "options.h"

/* The words for a kernel without kprobes (also said before trying the mode). */
#define NO_KPROBES "this kernel has no kprobe support (CONFIG_KPROBES is not set)"

/* What is known once loading a BPF object failed. */
struct load_facts {
	int err; /* what the load returned: a negative errno */
	enum attach_mode mode;
	const char *release;	 /* the kernel's ("5.10.0-46-amd64") */
	bool memlock_charged;	 /* the kernel charges BPF memory to RLIMIT_MEMLOCK (before 5.11) */
	bool can_raise_memlock;	 /* CAP_SYS_RESOURCE */
	long long memlock_limit; /* RLIMIT_MEMLOCK in bytes; -1: unlimited or unknown */
	const char *prog;	 /* the program whose verifier log has text, or NULL */
	const char *log;	 /* that log */
	const char *missing_func;     /* an fentry/fexit target absent from the kernel's BTF */
	bool no_trampolines;	      /* the kernel has no BPF trampolines (arm64 before 6.4) */
	const char *unsupported_prog; /* a program of a type this kernel cannot load */
};

/* The cause of a failed load, in one line (no tool name, no mode) into why. */
void explain_load_failure(const struct load_facts *f, char *why, size_t len);

/*
 * A verifier log buffer of its own for each program of obj chosen to load:
 * with a buffer and log level 0, libbpf retries a failed load with level 1
 * into it, and the program that failed is the one whose buffer has text.
 */
struct verifier_logs {
	char *base; /* NULL: none given (libbpf then prints the logs itself) */
	size_t bytes;
};
void verifier_logs_give(struct verifier_logs *v, struct bpf_object *obj);

/* After the load: free them. */
void verifier_logs_free(struct verifier_logs *v);

/*
 * The facts of obj's failed load in mode m (err: what the load returned),
 * while its verifier logs are still given; --debug shows the log that has
 * text. The strings point into obj and the logs.
 */
void load_facts_gather(struct load_facts *f, struct bpf_object *obj, enum attach_mode m, int err);

/* What is known once attaching a loaded program failed. */
struct attach_facts {
	int err; /* a negative errno */
	enum attach_mode mode;
	const char *release;
	bool has_kprobes;
	const char *section; /* the program's ELF section ("fexit/inet_csk_accept") */
	bool via_perf_event; /* attached through perf_event_open() (kprobes, classic tracepoints) */
	int paranoid;	     /* kernel.perf_event_paranoid */
};

/* The cause of a failed attach, in one line into why. */
void explain_attach_failure(const struct attach_facts *f, char *why, size_t len);

/* The facts of program p's failed attach in mode m (err: -errno). */
void attach_facts_gather(struct attach_facts *f, const struct bpf_program *p, enum attach_mode m,
			 int err);

/*
 * The verifier's complaint in its log: the last line before its statistics,
 * quotes of our source skipped; "" if there is none.
 */
void verifier_verdict(const char *log, char *out, size_t len);

#endif
