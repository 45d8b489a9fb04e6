# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
What the bench learns from this machine rather than assumes: the syscall
numbers of this architecture (from the C compiler's <sys/syscall.h>).
"""
import re
import subprocess

from .config import HarnessError


def syscall_numbers(cc="cc"):
    """{name: number} of this architecture's syscalls, as <sys/syscall.h> defines them."""
    try:
        r = subprocess.run([cc, "-dM", "-E", "-"], input="#include <sys/syscall.h>\n",
                           capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as e:
        raise HarnessError("cannot run %s for the syscall numbers: %s" % (cc, e))
    nums = {m.group(1): int(m.group(2))
            for m in re.finditer(r"^#define __NR_(\w+) (\d+)$", r.stdout, re.M)}
    if r.returncode != 0 or not nums:
        raise HarnessError("%s -E '#include <sys/syscall.h>' gave no syscall numbers: %s" % (
            cc, r.stderr.strip()[-200:]))
    return nums
