// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * What the running kernel has, and the names and first Linux versions of
 * what it may lack (kernel.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include "kernel.h"

const char *kernel_release(void)
{
	static struct utsname u;

	if (!u.release[0] && uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	return u.release;
}

bool kernel_at_least(int major, int minor)
{
	int ma = 0, mi = 0;

	if (sscanf(kernel_release(), "%d.%d", &ma, &mi) != 2)
		return true; /* unreadable: assume a current kernel */
	return ma > major || (ma == major && mi >= minor);
}

bool kernel_runtime_alloc_ok(void)
{
	return kernel_at_least(6, 1);
}

bool kernel_has_kprobes(void)
{
	return !access("/sys/bus/event_source/devices/kprobe/type", F_OK) ||
	       !access(TRACEFS "/kprobe_events", F_OK) ||
	       !access("/sys/kernel/debug/tracing/kprobe_events", F_OK);
}

int paranoid_level(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int level = 0;

	if (f) {
		if (fscanf(f, "%d", &level) != 1)
			level = 0;
		fclose(f);
	}
	return level;
}

/* The helpers' names, from the kernel's own list in linux/bpf.h. */
#define HELPER_NAME(x) [BPF_FUNC_##x] = "bpf_" #x
static const char *const helper_names[__BPF_FUNC_MAX_ID] = { __BPF_FUNC_MAPPER(HELPER_NAME) };
#undef HELPER_NAME

const char *helper_name(int id)
{
	if (id <= 0 || id >= __BPF_FUNC_MAX_ID)
		return NULL;
	/* cppcheck does not expand the kernel's list, and so sees one entry */
	// cppcheck-suppress arrayIndexOutOfBoundsCond
	return helper_names[id];
}

/*
 * The Linux version that added each helper the suite calls, or that a
 * program of ours may call on some kernel (and a few near them).
 */
static const struct {
	int id;
	const char *since;
} helper_since[] = {
	{ 1, "3.19" },	 /* map_lookup_elem */
	{ 2, "3.19" },	 /* map_update_elem */
	{ 3, "3.19" },	 /* map_delete_elem */
	{ 14, "4.2" },	 /* get_current_pid_tgid */
	{ 15, "4.2" },	 /* get_current_uid_gid */
	{ 16, "4.2" },	 /* get_current_comm */
	{ 26, "4.5" },	 /* skb_load_bytes */
	{ 35, "4.8" },	 /* get_current_task */
	{ 80, "4.18" },	 /* get_current_cgroup_id */
	{ 113, "5.5" },	 /* probe_read_kernel */
	{ 115, "5.5" },	 /* probe_read_kernel_str */
	{ 125, "5.8" },	 /* ktime_get_boot_ns */
	{ 130, "5.8" },	 /* ringbuf_output */
	{ 131, "5.8" },	 /* ringbuf_reserve */
	{ 132, "5.8" },	 /* ringbuf_submit */
	{ 133, "5.8" },	 /* ringbuf_discard */
	{ 134, "5.8" },	 /* ringbuf_query */
	{ 156, "5.11" }, /* task_storage_get */
	{ 158, "5.11" }, /* get_current_task_btf */
	{ 160, "5.11" }, /* ktime_get_coarse_ns */
	{ 173, "5.15" }, /* get_func_ip */
	{ 174, "5.15" }, /* get_attach_cookie */
	{ 181, "5.17" }, /* loop */
	{ 183, "5.17" }, /* get_func_arg */
	{ 184, "5.17" }, /* get_func_ret */
	{ 185, "5.17" }, /* get_func_arg_cnt */
};

bool kernel_lacks_helper(const char *verdict, char *why, size_t len)
{
	const char *name;
	size_t i;
	int id;

	/* the verifier's words for an id it has no helper for */
	if (sscanf(verdict, "invalid func unknown#%d", &id) != 1)
		return false;
	name = helper_name(id);
	for (i = 0; i < sizeof(helper_since) / sizeof(helper_since[0]); i++)
		if (helper_since[i].id == id)
			break;
	if (!name)
		snprintf(why, len, "BPF helper #%d", id);
	else if (i < sizeof(helper_since) / sizeof(helper_since[0]))
		snprintf(why, len, "%s (Linux %s)", name, helper_since[i].since);
	else
		snprintf(why, len, "%s", name);
	return true;
}
