// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * libFuzzer target for src/options.c: the input, split at NUL bytes, is the
 * argument list of each tool. Whatever it holds, parse_opts() must return
 * one of its three results, print at most one line of error, and write a
 * valid configuration when it says to run.
 *
 *   make fuzz FUZZ_SECONDS=20
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "options.h"
#include "descriptions.h"

#define MAX_ARGS 32

static void check(const struct tool_desc *t, int argc, char **argv)
{
	char *outbuf = NULL, *errbuf = NULL;
	size_t outlen = 0, errlen = 0;
	FILE *out = open_memstream(&outbuf, &outlen);
	FILE *err = open_memstream(&errbuf, &errlen);
	struct opts o;
	enum parse_result r;
	size_t i, lines = 0;

	if (!out || !err)
		abort();
	r = parse_opts(t, argc, argv, &o, out, err);
	fclose(out);
	fclose(err);
	for (i = 0; i < errlen; i++)
		lines += errbuf[i] == '\n';
	if (r == PARSE_BAD && (lines != 1 || errbuf[errlen - 1] != '\n'))
		abort(); /* one line, always */
	if (r != PARSE_BAD && errlen)
		abort();
	if (r == PARSE_RUN &&
	    (o.nports > MAX_PORTS || (o.cfg.family != 0 && o.cfg.family != 4 && o.cfg.family != 6)))
		abort();
	if (r != PARSE_RUN && r != PARSE_DONE && r != PARSE_BAD)
		abort();
	for (i = 0; i < errlen; i++) /* printable: arguments are shown escaped */
		if ((errbuf[i] < 0x20 && errbuf[i] != '\n') || errbuf[i] == 0x7f)
			abort();
	free(outbuf);
	free(errbuf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct tool_desc *const tools[] = { &tcpconnect_tool, &tcpaccept_tool,
							 &tcptracer_tool };
	char *copy = malloc(size + 1), *argv[MAX_ARGS + 2];
	int argc = 1;
	size_t i, start = 0;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[0] = (char *)"tool";
	for (i = 0; i <= size && argc <= MAX_ARGS; i++)
		if (copy[i] == '\0') {
			argv[argc++] = copy + start;
			start = i + 1;
		}
	argv[argc] = NULL;
	for (i = 0; i < 3; i++)
		check(tools[i], argc, argv);
	free(copy);
	return 0;
}
