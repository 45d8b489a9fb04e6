# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The suite's own mount namespace (conftest.py's own_mount_namespace): what
the tests mount never reaches the namespace the suite was started in, and a
namespace made from the suite's without being made private shares its
mounts back, as the tests that see a tool leave no mount behind need.
"""
import os
import subprocess

import conftest
from conftest import BPFFS, is_mounted


def mountinfo_of_start():
    """The mount table of the namespace the suite was started in, now."""
    ns = "/proc/%d/fd/%d" % (os.getpid(), conftest.START_MNTNS)
    out = subprocess.run(["nsenter", "--mount=" + ns, "cat", "/proc/self/mountinfo"],
                         capture_output=True, check=True)
    return out.stdout.decode()


def mount_points(mountinfo):
    return {line.split()[4] for line in mountinfo.splitlines()}


def peer_groups(mountinfo):
    """The shared:N peer groups of a mount table (where mounts propagate)."""
    return {f for line in mountinfo.splitlines() for f in line.split(" - ")[0].split()[6:]
            if f.startswith("shared:")}


def test_mounts_stay_in_the_suites_namespace(bpffs, tmp_path):
    """
    The suite runs in a mount namespace of its own that shares no peer group
    with the one it was started in: bpffs, mounted there by the bpffs
    fixture where it was missing, and a tmpfs mounted by this test are not
    seen from the start namespace.
    """
    assert conftest.START_MNTNS is not None
    assert os.fstat(conftest.START_MNTNS).st_ino != os.stat("/proc/self/ns/mnt").st_ino
    with open("/proc/self/mountinfo") as f:
        ours = f.read()
    assert not peer_groups(ours) & peer_groups(mountinfo_of_start())
    d = tmp_path / "m"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tcpt-test", str(d)], check=True)
    try:
        assert is_mounted(str(d))
        start = mount_points(mountinfo_of_start())
        assert str(d) not in start
        assert is_mounted(BPFFS)
        assert (BPFFS in start) == (BPFFS in mount_points(conftest.START_MOUNTINFO))
    finally:
        subprocess.run(["umount", str(d)], check=True)


def test_unprivate_namespaces_share_back(tmp_path):
    """
    A mount namespace made from the suite's and left shared (what a tool
    would do if it forgot to make its own private) propagates its mounts
    back into the suite's: a mount it leaves is seen there, as it would be
    on a host where systemd shares "/".
    """
    d = tmp_path / "m"
    d.mkdir()
    subprocess.run(["unshare", "--mount", "--propagation", "unchanged",
                    "mount", "-t", "tmpfs", "tcpt-test", str(d)], check=True)
    try:
        assert is_mounted(str(d))
    finally:
        subprocess.run(["umount", str(d)], capture_output=True)
