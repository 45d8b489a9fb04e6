// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/* The checks before loading (preflight.h): privileges, BTF, the user's maps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/capability.h>
#include <linux/magic.h> /* BPF_FS_MAGIC */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kernel.h"
#include "messages.h"
#include "preflight.h"

/* A pinned map the user names, and what it must be. */
struct mapspec {
	const char *option;
	const char *path; /* NULL: the option was not given */
	__u32 key_size;
	__u32 value_size;
	int *fd;
};

static int check_map_exists(const struct mapspec *m);
static int check_privileges(const struct opts *o);
static int check_btf(void);
static int open_map(const struct mapspec *m);

int preflight(const struct opts *o, struct user_maps *um)
{
	const struct mapspec maps[2] = {
		{ "--cgroupmap", o->cgroupmap, 8, 8, &um->cgroup_fd },
		{ "--mntnsmap", o->mntnsmap, 8, 4, &um->mntns_fd },
	};
	int i, rc = 0;

	um->cgroup_fd = um->mntns_fd = -1;
	for (i = 0; i < 2 && !rc; i++)
		rc = check_map_exists(&maps[i]);
	if (!rc)
		rc = check_privileges(o);
	if (!rc)
		rc = check_btf();
	for (i = 0; i < 2 && !rc; i++)
		rc = open_map(&maps[i]);
	return rc;
}

void user_maps_close(struct user_maps *m)
{
	if (m->cgroup_fd >= 0)
		close(m->cgroup_fd);
	if (m->mntns_fd >= 0)
		close(m->mntns_fd);
	m->cgroup_fd = m->mntns_fd = -1;
}

bool have_cap(int cap)
{
	static unsigned long long caps;
	static bool read;

	if (!read) {
		FILE *f = fopen("/proc/self/status", "r");
		char line[256];

		read = true;
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "CapEff: %llx", &caps) == 1)
				break;
		if (f)
			fclose(f);
	}
	return caps & (1ULL << cap);
}

/* ---- privileges and BTF ---- */

static int check_privileges(const struct opts *o)
{
	bool admin = have_cap(CAP_SYS_ADMIN);
	bool bpf = have_cap(CAP_BPF);
	bool perfmon = have_cap(CAP_PERFMON);

	if (!admin && (!bpf || !perfmon))
		return print_error(1,
				   "permission denied: missing %s (needs CAP_BPF and CAP_PERFMON, "
				   "or CAP_SYS_ADMIN: run as root)",
				   !bpf && !perfmon ? "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN"
				   : !bpf	    ? "CAP_BPF and CAP_SYS_ADMIN"
						    : "CAP_PERFMON and CAP_SYS_ADMIN");
	/* a cgroup_skb program is a networking program */
	if (o->dns && !admin && !have_cap(CAP_NET_ADMIN))
		return print_error(
			1, "permission denied: -d needs CAP_NET_ADMIN (or CAP_SYS_ADMIN) to "
			   "attach its DNS capture to the cgroup hierarchy");
	return 0;
}

/* CO-RE needs the kernel's type information (BTF). */
static int check_btf(void)
{
	const char *path = getenv(BTF_ENV);

	if (path && access(path, R_OK))
		return print_error(1, "%s=%s: cannot read this BTF file (%s)", BTF_ENV,
				   printable(path), strerror(errno));
	if (!path && access(KERNEL_BTF, R_OK))
		return print_error(1,
				   "this kernel exposes no BTF at %s (%s): it needs "
				   "CONFIG_DEBUG_INFO_BTF=y, or %s naming a BTF file for it",
				   KERNEL_BTF, strerror(errno), BTF_ENV);
	return 0;
}

/* ---- the user's pinned maps ---- */

static int check_map_exists(const struct mapspec *m)
{
	struct stat st;

	if (!m->path)
		return 0;
	if (stat(m->path, &st))
		return print_error(2, "%s '%s': %s (see '%s --help')", m->option,
				   printable(m->path), strerror(errno), tool_name());
	return 0;
}

static int open_map(const struct mapspec *m)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char link[64], target[64];
	ssize_t n;
	int fd;

	if (!m->path)
		return 0;
	fd = bpf_obj_get(m->path);
	if (fd < 0) {
		int err = errno;
		struct statfs fs;

		/* elsewhere the kernel's EPERM or EACCES would only mislead */
		if (statfs(m->path, &fs) == 0 && fs.f_type != BPF_FS_MAGIC)
			return print_error(
				2,
				"%s '%s': not a pinned BPF map (not on a BPF file system) "
				"(see '%s --help')",
				m->option, printable(m->path), tool_name());
		return print_error(2, "%s '%s': not a pinned BPF map (%s) (see '%s --help')",
				   m->option, printable(m->path), strerror(err), tool_name());
	}
	*m->fd = fd;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	if (strcmp(target, "anon_inode:bpf-map") != 0)
		return print_error(2,
				   "%s '%s': a pinned BPF object, but not a map (see '%s --help')",
				   m->option, printable(m->path), tool_name());
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return print_error(2, "%s '%s': cannot read the map's type (%s)", m->option,
				   printable(m->path), strerror(errno));
	if (info.type != BPF_MAP_TYPE_HASH || info.key_size != m->key_size ||
	    info.value_size != m->value_size)
		return print_error(
			2,
			"%s '%s': expected a hash map with %u-byte keys and %u-byte values, "
			"found %s with %u-byte keys and %u-byte values (see '%s --help')",
			m->option, printable(m->path), m->key_size, m->value_size,
			libbpf_bpf_map_type_str(info.type) ?: "an unknown type", info.key_size,
			info.value_size, tool_name());
	return 0;
}
