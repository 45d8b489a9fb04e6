// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * kernel.h: a verifier's line naming a helper the kernel lacks, told apart
 * from a rejection of our own program. The lines are the verifiers' own,
 * as Debian's 5.10, 6.1 and 6.12 kernels printed them under make vmtest.
 */
#include <string.h>
#include "kernel.h"
#include "unit.h"

void test_kernel_lacks(void)
{
	static const struct {
		const char *verdict, *want; /* want NULL: not a missing helper */
	} cases[] = {
		/* 5.10.0-46-amd64, before the BTF task read had its fallback */
		{ "invalid func unknown#158", "bpf_get_current_task_btf (Linux 5.11)" },
		{ "invalid func unknown#184", "bpf_get_func_ret (Linux 5.17)" },
		{ "invalid func unknown#130", "bpf_ringbuf_output (Linux 5.8)" },
		/* an id this table has no version for, and one beyond the header */
		{ "invalid func unknown#100", "bpf_tcp_check_syncookie" },
		{ "invalid func unknown#99999", "BPF helper #99999" },
		/* the program's fault, or the program type's: not the kernel's age */
		{ "unknown func bpf_get_current_task_btf#158", NULL },
		{ "dereference of modified ctx ptr R1 off=32 disallowed", NULL },
		{ "R1 invalid mem access 'scalar'", NULL },
		{ "invalid func", NULL },
		{ "", NULL },
	};
	char why[128];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		bool lacks;

		strcpy(why, "untouched");
		lacks = kernel_lacks_helper(cases[i].verdict, why, sizeof(why));
		CHECK_INT(lacks, cases[i].want != NULL, "%s", cases[i].verdict);
		CHECK_STR(why, cases[i].want ?: "untouched", "%s", cases[i].verdict);
	}
	/* a short buffer is cut, never overrun */
	CHECK(kernel_lacks_helper("invalid func unknown#158", why, 8));
	CHECK_STR(why, "bpf_get");
	CHECK_STR(helper_name(1), "bpf_map_lookup_elem");
	CHECK(helper_name(0) == NULL && helper_name(-1) == NULL && helper_name(1 << 20) == NULL);
}
