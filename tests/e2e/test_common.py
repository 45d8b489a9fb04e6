# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""What every tool must do alike: input checks, privileges, attach modes, exits."""
import json
import os
import signal
import subprocess
import time

import pytest

import test_tcpaccept
import test_tcpconnect
import test_tcptracer
from conftest import (ATTACH, EXPECT_MODES, MODES, NOBODY, ROOT, SANITIZED, SYS_ACCEPT, SYS_ACCEPT4,
                      TOOLS, Tool, bpftool, exchange, gone_soon, have, is_mounted,
                      linked_prog_names, mode_in_use, prog_ids_of, prog_names_of, run_tool,
                      strace_bpf, table_rows, threads_in_accept, tool_argv, u64hex)

# a program each tool always loads in each mode (to see it there, and gone)
MARKER_PROG = {
    "fentry": {"tcpconnect": "fexit_v4_connect", "tcpaccept": "fexit_csk_accept",
               "tcptracer": "fentry_set_state"},
    "kprobe": {"tcpconnect": "kprobe_v4_connect", "tcpaccept": "kretprobe_csk_accept",
               "tcptracer": "raw_set_state"},
    "tracepoint": {"tcpconnect": "tp_set_state", "tcpaccept": "sys_exit_accept",
                   "tcptracer": "tp_set_state"},
}
# rows one connect+accept makes
ROWS_PER_EXCHANGE = {"tcpconnect": 1, "tcpaccept": 1, "tcptracer": 2}
# the JSON keys of the rows that are times, which differ from run to run
DURATIONS = ("time", "latency_ns", "queue_ns", "handshake_ns", "duration_ns")


@pytest.fixture(params=TOOLS)
def name(request):
    return request.param


def one_error_line(res, name):
    lines = res.stderr.decode("utf-8", "replace").splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(name + ": "), lines
    return lines[0]


# ---------------------------------------------------------------- bad input

BAD = [
    ["-p", "abc"], ["-p", "0"], ["-p", "-1"], ["-p", "4194305"], ["-p", "12x"], ["-p"],
    ["-p", " 5"], ["-p", "99999999999999999999999"], ["-P", "80,,81"], ["-P", "0"],
    ["-P", "65536"], ["-P", ",80"], ["-P", "80,"], ["-P", ",".join(["1"] * 1025)],
    ["-4", "-6"], ["--attach", "ebpf"], ["--attach"], ["--bogus"], ["-x"], ["extra"],
    ["-p", "1", "-p", "2"], ["--cgroupmap", ""], ["--mntnsmap", ""],
    ["-p", "9" * 5000], ["-p", "\xff\x01bad"],
]
TOOL_BAD = {
    "tcpconnect": [["-u", "x"], ["-u", "4294967295"], ["-c", "-t"], ["-c", "-L"], ["-c", "-U"],
                   ["-T"], ["-N", "1"]],
    "tcpaccept": [["-u", "0"], ["-c"], ["-L"], ["-U"], ["-N", "1"]],
    "tcptracer": [["-P", "80"], ["-u", "0"], ["-c"], ["-L"], ["-T"], ["-N", "0"], ["-N", "x"],
                  ["-N", "4294967296"], ["-N", "1", "-N", "2"]],
}
TOOL_FLAGS = {
    "tcpconnect": ("--port", "--lport", "--print-uid", "--uid", "--count"),
    "tcpaccept": ("--port", "--time"),
    "tcptracer": ("--netns", "--verbose"),
}
BAD_CASES = [(n, a) for n in TOOLS for a in BAD + TOOL_BAD.get(n, [])]


@pytest.mark.parametrize("name,args", BAD_CASES,
                         ids=["%s %s" % (n, " ".join(a)[:30]) for n, a in BAD_CASES])
def test_bad_input(name, args):
    """One line naming the problem, exit 2, nothing on stdout, no bpf() call."""
    argv = tool_argv(name, *[a.encode("latin-1") if "\xff" in a else a for a in args])
    res, cmds = strace_bpf(argv)
    line = one_error_line(res, name)
    assert res.returncode == 2
    assert "--help" in line and len(line) < 400
    assert all(0x20 <= b < 0x7f for b in line.encode("utf-8", "replace")), line
    assert res.stdout == b""
    assert cmds == []


def test_help_and_version(name):
    res = run_tool(name, "--help")
    assert res.returncode == 0 and res.stderr == b""
    out = res.stdout.decode()
    assert out.startswith("Usage: %s " % name) and "Examples:" in out
    for flag in ("--pid", "--ipv4", "--ipv6", "--timestamp", "--cgroupmap", "--mntnsmap",
                 "--json", "--attach", "--debug", "--version") + TOOL_FLAGS[name]:
        assert flag in out
    res = run_tool(name, "--version")
    assert res.returncode == 0 and res.stdout.decode().startswith(name + " ")


# A bad --cgroupmap or --mntnsmap is found before anything is loaded: no
# program loaded, no map created; only the pinned object is opened
# (BPF_OBJ_GET) and asked its type (BPF_OBJ_GET_INFO_BY_FD), as README says.
OPENED = ["BPF_OBJ_GET"]
ASKED = ["BPF_OBJ_GET", "BPF_OBJ_GET_INFO_BY_FD"]


@pytest.mark.parametrize("opt,key,value,kind,msg", [
    ("--cgroupmap", 4, 8, "array", "expected a hash map"),
    ("--cgroupmap", 4, 8, "hash", "expected a hash map with 8-byte keys and 8-byte values"),
    ("--cgroupmap", 8, 4, "hash", "8-byte values"),
    ("--mntnsmap", 4, 4, "array", "expected a hash map"),
    ("--mntnsmap", 4, 4, "hash", "expected a hash map with 8-byte keys and 4-byte values"),
    ("--mntnsmap", 8, 8, "hash", "expected a hash map with 8-byte keys and 4-byte values"),
])
def test_wrong_map(name, pinned, opt, key, value, kind, msg):
    path = pinned("tcpt_bad", key, value, kind)
    res, cmds = strace_bpf(tool_argv(name, opt, path))
    line = one_error_line(res, name)
    assert res.returncode == 2 and msg in line and path in line and "--help" in line
    assert cmds == ASKED


@pytest.mark.parametrize("what", ["missing", "regular file", "directory", "symlink",
                                  "dangling symlink"])
@pytest.mark.parametrize("opt", ["--cgroupmap", "--mntnsmap"])
def test_map_path_not_a_map(name, bpffs, tmp_path, opt, what):
    path = str(tmp_path / "x")
    if what in ("regular file", "symlink"):
        open(str(tmp_path / "file"), "w").close()
    if what == "regular file":
        os.rename(str(tmp_path / "file"), path)
    elif what == "directory":
        os.mkdir(path)
    elif what == "symlink":
        os.symlink(str(tmp_path / "file"), path)
    elif what == "dangling symlink":
        os.symlink(str(tmp_path / "nowhere"), path)
    res, cmds = strace_bpf(tool_argv(name, opt, path))
    line = one_error_line(res, name)
    assert res.returncode == 2 and path in line and "--help" in line
    if what in ("missing", "dangling symlink"):
        want = "No such file or directory"
        assert cmds == []  # refused by stat(), before any bpf() call
    else:  # the kernel's EPERM would only mislead off a BPF file system
        want = "not a pinned BPF map (not on a BPF file system)"
        assert cmds == OPENED  # the open fails: nothing to ask
    assert line == "%s: %s '%s': %s (see '%s --help')" % (name, opt, path, want, name)


def test_map_path_on_bpffs_not_a_map(name, bpffs):
    """A directory on the BPF file system: the kernel's own reason is kept."""
    path = os.path.join(bpffs, "tcpt_dir_%d" % os.getpid())
    os.mkdir(path)
    try:
        res, cmds = strace_bpf(tool_argv(name, "--cgroupmap", path))
    finally:
        os.rmdir(path)
    line = one_error_line(res, name)
    assert res.returncode == 2 and cmds == OPENED
    assert line == ("%s: --cgroupmap '%s': not a pinned BPF map (Permission denied) "
                    "(see '%s --help')" % (name, path, name))


# ---------------------------------------------------------------- privileges


def test_not_root(name):
    res = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                          "--clear-groups"] + tool_argv(name),
                         capture_output=True, timeout=30)
    line = one_error_line(res, name)
    assert res.returncode == 1
    assert "permission denied" in line and "CAP_BPF" in line


def test_root_without_capabilities(name):
    res = subprocess.run(["setpriv", "--bounding-set=-sys_admin,-bpf,-perfmon",
                          "--inh-caps=-sys_admin,-bpf,-perfmon"] + tool_argv(name),
                         capture_output=True, timeout=30)
    line = one_error_line(res, name)
    assert res.returncode == 1
    assert "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN" in line


# what README names as enough for each tool, without root
KERNEL = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
# Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK, which only
# CAP_SYS_RESOURCE may raise past the limit it has
MEMLOCK = ",+sys_resource" if KERNEL < (5, 11) else ""
CAPS = {"tcpconnect": "+bpf,+perfmon" + MEMLOCK, "tcpaccept": "+bpf,+perfmon" + MEMLOCK,
        "tcptracer": "+bpf,+perfmon" + MEMLOCK}
# the raw syscall exit, which the tools use for accept where the classic ones
# (ACCEPT_EXITS) would need tracefs or perf_event_open()
RAW_EXIT = "sys_exit_raw"


def as_nobody(caps, ns, argv):
    """argv as user nobody holding exactly caps, in mount namespace ns."""
    return ["nsenter", "--mount=" + ns, "setpriv", "--reuid=%d" % NOBODY,
            "--regid=%d" % NOBODY, "--clear-groups", "--inh-caps=-all," + caps,
            "--ambient-caps=-all," + caps, "--bounding-set=-all," + caps] + argv


def test_nobody_with_the_documented_capabilities(name, tool, child_factory):
    """
    A user other than root, with exactly the capabilities README names for
    the tool, traces: rows with the right PIDs. tracefs is mounted, in a
    mount namespace of the test's own, but it is root's: the accept syscall
    exits are the raw one, attached through bpf() alone. Where Debian's
    perf_event_paranoid level 3 holds, kprobes want CAP_SYS_ADMIN: in kprobe
    mode the tool says so in one line.
    """
    ns = child_factory(comm="tcpt-mounts").call("own_mounts", True)
    argv = as_nobody(CAPS[name], ns, tool_argv(name, "-j"))
    with open("/proc/sys/kernel/perf_event_paranoid") as f:
        paranoid = int(f.read())
    # kprobes are attached through perf_event_open()
    if paranoid > 2 and mode_in_use(name) == "kprobe":
        res = subprocess.run(argv, capture_output=True, timeout=60)
        line = one_error_line(res, name)
        assert res.returncode == 1
        assert "(Permission denied: kernel.perf_event_paranoid is above 2, and this kernel " \
            "then lets only CAP_SYS_ADMIN attach kprobes and tracepoints" in line, line
        return
    def check(t):
        with open("/proc/%d/status" % t.proc.pid) as f:
            assert [l.split()[1] for l in f if l.startswith("Uid:")] == [str(NOBODY)]
        linked = linked_prog_names(t.proc.pid)
        if name != "tcpconnect":
            assert RAW_EXIT in linked and not ACCEPT_EXITS & linked, linked

    traces_exactly(name, tool, child_factory, argv, check)


def traces_exactly(name, tool, child_factory, argv, check=lambda t: None):
    """
    The tool run as argv (with -j) gives exactly the rows of one connection
    between two processes of the test's, no more; check(t) looks at the
    running tool first.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool(name, argv=argv)
    check(t)
    c, s = exchange(client, server, port, "127.0.0.1", 4)
    pids = {client.info["pid"], server.info["pid"]}
    deadline = time.monotonic() + 10
    while len([l for l in list(t.out) if json.loads(l)["pid"] in pids]) < \
            ROWS_PER_EXCHANGE[name] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out]
    rows = [(r["type"], r["pid"], r["lport"]) for r in rows if r["pid"] in pids]
    want = {"tcpconnect": [("connect", client.info["pid"], c["lport"])],
            "tcpaccept": [("accept", server.info["pid"], port)],
            "tcptracer": [("connect", client.info["pid"], c["lport"]),
                          ("accept", server.info["pid"], port)]}[name]
    assert rows == want


def test_btf_from_a_file(name, tool, child_factory, tmp_path):
    """
    TCPTOOLS_BTF names a BTF file for a kernel that exposes none (here its
    /sys/kernel/btf hidden): kprobes and classic tracepoints need no more,
    so kprobe mode traces, and so does tcpaccept's tracepoint mode (classic
    syscall exits only). fentry and tp_btf programs are attached by the
    kernel's own BTF ids: the modes that have them fail in one line.
    """
    btf = tmp_path / "vmlinux.btf"
    with open("/sys/kernel/btf/vmlinux", "rb") as src, open(str(btf), "wb") as dst:
        dst.write(src.read())
    child = child_factory(comm="tcpt-mounts")
    ns = child.call("own_mounts", True)
    assert child.call("hide_kernel_btf") is False
    argv = ["nsenter", "--mount=" + ns, "env", "TCPTOOLS_BTF=" + str(btf)] + \
        tool_argv(name, "-j")
    mode = ATTACH
    if mode == "auto":
        mode = "kprobe" if "kprobe" in EXPECT_MODES else "tracepoint"
    if mode == "kprobe" or (mode == "tracepoint" and name == "tcpaccept"):
        return traces_exactly(name, tool, child_factory, argv)
    res = subprocess.run(argv, capture_output=True, timeout=60)
    line = one_error_line(res, name)
    assert res.returncode == 1
    assert ("its fentry and tp_btf programs attach through the kernel's own BTF, which it "
            "does not expose at /sys/kernel/btf/vmlinux (No such file or directory); "
            "TCPTOOLS_BTF serves kprobes and classic tracepoints only") in line, line


@pytest.mark.skipif(KERNEL >= (5, 11), reason="memory cgroups charge BPF memory from 5.11")
def test_nobody_memlock_before_5_11(name, child_factory):
    """
    Before 5.11 the maps count against RLIMIT_MEMLOCK; without
    CAP_SYS_RESOURCE the limit stays low (256 KiB here) and map creation
    fails: one line names the limit and the way out.
    """
    ns = child_factory(comm="tcpt-mounts").call("own_mounts", True)
    argv = ["prlimit", "--memlock=262144"] + as_nobody("+bpf,+perfmon", ns, tool_argv(name))
    res = subprocess.run(argv, capture_output=True, timeout=60)
    line = one_error_line(res, name)
    assert res.returncode == 1
    assert "charges BPF memory to RLIMIT_MEMLOCK (memory cgroups do from Linux 5.11), and " \
        "its limit here, 256 KiB, is too low: the tool needs CAP_SYS_RESOURCE to raise " \
        "it, or a higher limit (ulimit -l)" in line, line


@pytest.mark.parametrize("name,caps,args,missing", [
    ("tcpconnect", "+bpf,+perfmon" + MEMLOCK, ["-d"], "CAP_NET_ADMIN"),
    ("tcpaccept", "+bpf", [], "CAP_PERFMON"),
    ("tcptracer", "+perfmon", [], "CAP_BPF"),
])
def test_nobody_missing_a_capability(child_factory, name, caps, args, missing):
    """One line that names the capability missing, exit 1."""
    ns = child_factory(comm="tcpt-mounts").call("own_mounts", True)
    res = subprocess.run(as_nobody(caps, ns, tool_argv(name, *args)), capture_output=True,
                         timeout=60)
    line = one_error_line(res, name)
    assert res.returncode == 1 and missing in line, line


@pytest.mark.parametrize("name", ["tcpaccept", "tcptracer"])
@pytest.mark.parametrize("tracefs", [True, False], ids=["tracefs root's", "no tracefs"])
def test_nobody_accepts_through_the_raw_exit(name, tracefs, tool, child_factory):
    """
    Without CAP_SYS_ADMIN, where tracefs is root's or missing (it cannot be
    mounted), accepts are still caught at the syscall's exit where that is
    needed: the raw exit, which bpf() attaches alone. Accepts already blocked
    when tracing starts (only the exits see them return, in fentry and
    kprobe modes too) and accepts begun after, accept(2) and accept4(2),
    IPv4 and IPv6: each reported once, with its own thread and port.
    """
    if mode_in_use(name) == "kprobe":
        with open("/proc/sys/kernel/perf_event_paranoid") as f:
            if int(f.read()) > 2:
                pytest.skip("kprobes need CAP_SYS_ADMIN at perf_event_paranoid > 2")
    ns = child_factory(comm="tcpt-mounts").call("own_mounts", tracefs)
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port4 = server.call("listen", "127.0.0.1")
    port6 = server.call("listen", "::1")
    server.send("accept", port4, 1, "accept")
    server.wait_blocked({SYS_ACCEPT}, 1)
    t = tool(name, argv=as_nobody(CAPS[name], ns, tool_argv(name, "-j")))
    linked = linked_prog_names(t.proc.pid)
    assert RAW_EXIT in linked and not ACCEPT_EXITS & linked, linked
    conns = [client.call("connect", "127.0.0.1", port4)]
    acc = server.recv()
    for port, addr, how in ((port4, "127.0.0.1", "accept4"), (port6, "::1", "accept"),
                            (port6, "::1", "accept4")):
        server.send("accept", port, 1, how)
        server.wait_blocked({SYS_ACCEPT if how == "accept" else SYS_ACCEPT4}, 1)
        conns.append(client.call("connect", addr, port))
        acc += server.recv()
    assert accepted_rows(t, server, 4) == sorted((a["tid"], a["rport"]) for a in acc)
    assert sorted(a["rport"] for a in acc) == sorted(c["lport"] for c in conns)
    assert t.stop() == 0


# ---------------------------------------------------------------- attach modes


def test_attach_modes(name, tool, child_factory):
    """
    Every mode this kernel runs gives the same rows for the same connections,
    and each mode it must run (EXPECT_MODES) does; auto picks the first that
    works. The others fail with one clear line and exit 1, after their
    programs passed the verifier wherever the kernel lets them load at all.
    """
    check_attach_modes(name, tool, child_factory)


@pytest.mark.parametrize("name,option", [("tcpconnect", "-o"), ("tcpaccept", "-q"),
                                         ("tcptracer", "-l")])
def test_attach_modes_outcome(name, option, tool, child_factory):
    """
    The same with tcpconnect -o, tcpaccept -q and tcptracer -l, whose hooks
    are others (their durations aside, which differ from run to run).
    """
    check_attach_modes(name, tool, child_factory, option)


def client_end(addr, port):
    """
    A client's end as a row or the client's socket names it: an IPv4 peer
    of the dual-stack listener is shown ::ffff:-mapped on the accepted side.
    """
    return (addr[len("::ffff:"):] if addr.startswith("::ffff:") else addr, port)


def check_attach_modes(name, tool, child_factory, *extra):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::")
    results = {}
    auto_mode = None
    for mode in ("auto",) + MODES:
        t = tool(name, "--attach", mode, "--debug", "-j", *extra, ready=False)
        line = t.wait_err(lambda l: l.startswith("Tracing") or
                          l.startswith(name + ": --attach") or
                          l.startswith(name + ": no attach mode"), timeout=30)
        if line.startswith("Tracing"):
            pairs = [exchange(client, server, port, "127.0.0.1", 4),
                     exchange(client, server, port, "::1", 6),
                     exchange(client, server, port, "::ffff:127.0.0.1", 6)]
            time.sleep(0.3)
            assert t.stop() == 0
            if mode == "auto":
                auto_mode = [l for l in t.err if l.startswith(name + ": attach mode: ")]
                assert auto_mode and auto_mode[0].endswith(" (auto)"), t.err
                auto_mode = auto_mode[0].split()[3]
            pids = {client.info["pid"], server.info["pid"]}
            rows = [json.loads(l) for l in t.out]
            rows = [r for r in rows if r["pid"] in pids]
            if extra == ("-o",):
                assert all(r["result"] == "established" for r in rows), rows
            if extra == ("-q",):  # known: every connection was made while tracing
                assert all(k in r for r in rows for k in ("queue_ns", "handshake_ns")), rows
            if extra == ("-l",):  # C and A rows (the connections are still open)
                assert not any(k in r for r in rows for k in ("tx_bytes", "duration_ns"))
            rows = [{k: v for k, v in r.items() if k not in DURATIONS} for r in rows]
            assert len(rows) == ROWS_PER_EXCHANGE[name] * len(pairs), (mode, rows)
            # the client's ephemeral ports differ from run to run: name them
            # and so do the server's accepting threads. A port alone does not
            # name a client's end: ::1 and 127.0.0.1 may be given the same one
            # (all the test's sockets stay open, so address and port do).
            eph = {client_end(c["laddr"], c["lport"]): "client-port-%d" % i
                   for i, (c, _) in enumerate(pairs)}
            assert len(eph) == len(pairs), pairs
            tids = {c["tid"]: "client-tid" for c, _ in pairs}
            tids.update({s["tid"]: "server-tid-%d" % i for i, (_, s) in enumerate(pairs)})
            for r in rows:
                r["lport"], r["rport"] = (
                    eph.get(client_end(r["laddr"], r["lport"]), r["lport"]),
                    eph.get(client_end(r["raddr"], r["rport"]), r["rport"]))
                r["tid"] = tids[r["tid"]]
            assert all(isinstance(r["lport"], str) or isinstance(r["rport"], str)
                       for r in rows), rows
            results[mode] = rows
            continue
        assert t.stop() == 1
        assert mode != "auto" and mode not in EXPECT_MODES, (
            "%s mode must work on this kernel: %s" % (mode, line))
        errs = [l for l in t.err if not l.startswith("libbpf:")]
        # one line says why; the others are --debug's
        assert [l for l in errs if not l.startswith(name + ": ") or
                not any(w in l for w in ("programs loaded", "mounted", "unmounted"))] == [line]
        if mode == "kprobe":
            assert line.endswith("this kernel has no kprobe support (CONFIG_KPROBES is not set)")
            assert any(l.startswith(name + ": kprobe: ") and l.endswith(
                "programs loaded (verifier passed)") for l in errs), errs
        elif mode == "fentry":
            assert "refuses to load fentry/fexit programs" in line
        else:
            raise AssertionError("%s mode failed here: %s" % (mode, line))
    assert EXPECT_MODES <= set(results), (EXPECT_MODES, sorted(results))
    assert auto_mode == next(m for m in MODES if m in results)
    for mode, rows in results.items():
        assert rows == results["auto"], mode


ACCEPT_EXITS = {"sys_exit_accept", "sys_exit_accept4"}


def accepted_rows(t, server, n):
    """The A rows of server, n of them, as (tid, rport)."""
    test_tcpconnect.wait_rows(t, server.info["pid"], n)
    rows = [json.loads(l) for l in t.out]
    return sorted((r["tid"], r["rport"]) for r in rows
                  if r["pid"] == server.info["pid"] and r["type"] == "accept")


@pytest.mark.parametrize("name", ["tcpaccept", "tcptracer"])
def test_accept_exits_only_while_needed(name, tool, child_factory):
    """
    The accept syscall exits slow every system call while attached. In
    fentry mode they are only needed for accepts that were blocked before
    tracing began (fexit on inet_csk_accept cannot see those return): they
    go once none is left. kprobe mode keeps them for what its kretprobe
    misses, tracepoint mode has nothing else. Every accept is reported
    either way, before and after.
    """
    mode = mode_in_use(name)
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    server.send("accept", port, 2, "accept")
    server.wait_blocked({SYS_ACCEPT}, 2)
    t = tool(name, "--debug", "-j")
    assert ACCEPT_EXITS <= linked_prog_names(t.proc.pid), t.err  # our accepts still wait
    conns = [client.call("connect", "127.0.0.1", port) for _ in range(2)]
    acc = server.recv()
    assert accepted_rows(t, server, 2) == sorted((a["tid"], a["rport"]) for a in acc)
    assert sorted(a["rport"] for a in acc) == sorted(c["lport"] for c in conns)
    if mode != "fentry":
        time.sleep(1.5)  # past a prune, were there one
        assert ACCEPT_EXITS <= linked_prog_names(t.proc.pid)
        assert not any("syscall exits detached" in l for l in t.err), t.err
    else:
        end = time.monotonic() + 10  # the waiters are looked at once a second
        while ACCEPT_EXITS & linked_prog_names(t.proc.pid) and time.monotonic() < end:
            time.sleep(0.1)
        if ACCEPT_EXITS & linked_prog_names(t.proc.pid):
            others = threads_in_accept({server.info["pid"], t.proc.pid})
            if others:
                pytest.skip("threads of other processes wait in accept: %s" % others)
        assert not ACCEPT_EXITS & linked_prog_names(t.proc.pid), t.err
        assert any(l == name + ": accept syscall exits detached: no accept begun before "
                   "tracing is left" for l in t.err), t.err
    # accepts begun now: the hook alone (or the exits) report each once
    server.send("accept", port, 2, "accept4")
    server.wait_blocked({SYS_ACCEPT4}, 2)
    conns = [client.call("connect", "127.0.0.1", port) for _ in range(2)]
    acc += server.recv()
    assert accepted_rows(t, server, 4) == sorted((a["tid"], a["rport"]) for a in acc)
    assert t.stop() == 0


def test_auto_reports_mode(name, tool):
    t = tool(name, "--attach", "auto", "--debug")
    assert t.stop() == 0
    assert any(l.startswith(name + ": attach mode: ") and l.endswith("(auto)") for l in t.err)


# ---------------------------------------------------------------- maps

HEADERS = {"tcpconnect": test_tcpconnect.HEADER, "tcpaccept": test_tcpaccept.HEADER,
           "tcptracer": test_tcptracer.HEADER}


class Traced:
    """
    Connections whose traced end is a given process's: it connects to the
    peer's listener (tcpconnect, tcptracer: a C row), or it accepts on a
    listener of its own a connect of the peer's (tcpaccept).
    """

    def __init__(self, name, peer, addr, fam, *procs):
        self.name, self.peer, self.addr, self.fam = name, peer, addr, fam
        if name == "tcpaccept":
            self.ports = {p.pid: p.call("listen", addr) for p in procs}
        else:
            self.port = peer.call("listen", addr)

    def connection(self, who):
        """One connection of who's: the row the tool prints for it, if any."""
        if self.name == "tcpaccept":
            port = self.ports[who.pid]
            who.send("accept", port, 1)
            self.peer.call("connect", self.addr, port)
            return test_tcpaccept.expect_row(who, who.recv()[0], self.fam)
        c = who.call("connect", self.addr, self.port)
        if self.name == "tcpconnect":
            return test_tcpconnect.expect_row(who, c)
        return test_tcptracer.row("C", who, self.fam, c["laddr"], c["lport"], self.addr,
                                  self.port)


def only_the_mapped_process(name, tool, traced, inside, outside, opt, path, key):
    """
    With inside's key in the map at path, only inside's connection has a row;
    the map may change while tracing: with the key gone, inside goes quiet.
    """
    t = tool(name, opt, path)
    traced.connection(outside)
    want = traced.connection(inside)
    traced.connection(outside)
    test_tcpconnect.wait_rows(t, inside.info["pid"], 1)
    bpftool("map", "delete", "pinned", path, "key", "hex", *key)
    traced.connection(inside)
    time.sleep(0.3)
    assert t.stop() == 0
    assert table_rows(t.out, HEADERS[name]) == [want]


MAP_CASES = [("127.0.0.1", 4), ("::1", 6)]


@pytest.mark.parametrize("addr,fam", MAP_CASES, ids=["ipv4", "ipv6"])
def test_cgroupmap(name, tool, child_factory, pinned, cgroup, addr, fam):
    peer = child_factory(comm="tcpt-peer")
    inside = child_factory(comm="tcpt-in", cgroup=cgroup)
    outside = child_factory(comm="tcpt-out")
    traced = Traced(name, peer, addr, fam, inside, outside)
    path = pinned("tcpt_cg", 8, 8)
    key = u64hex(os.stat(cgroup).st_ino)
    bpftool("map", "update", "pinned", path, "key", "hex", *key, "value", "hex", *u64hex(1))
    only_the_mapped_process(name, tool, traced, inside, outside, "--cgroupmap", path, key)


@pytest.mark.parametrize("addr,fam", MAP_CASES, ids=["ipv4", "ipv6"])
def test_mntnsmap(name, tool, child_factory, pinned, addr, fam):
    peer = child_factory(comm="tcpt-peer")
    inside = child_factory(comm="tcpt-in", new_mntns=True)
    outside = child_factory(comm="tcpt-out")
    assert inside.info["mntns"] != outside.info["mntns"]
    traced = Traced(name, peer, addr, fam, inside, outside)
    path = pinned("tcpt_mnt", 8, 4)
    key = u64hex(inside.info["mntns"])
    bpftool("map", "update", "pinned", path, "key", "hex", *key, "value", "hex", *u64hex(1, 4))
    only_the_mapped_process(name, tool, traced, inside, outside, "--mntnsmap", path, key)


# ---------------------------------------------------------------- lifecycle


def test_pipe_closed_by_reader(name, child_factory):
    """tool | head -1: exits 0 quietly once head is gone."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    err = "/tmp/tcpt-head.%d" % os.getpid()
    cmd = "%s 2>%s | head -1; echo rc=${PIPESTATUS[0]}" % (" ".join(tool_argv(name)), err)
    p = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.PIPE)
    time.sleep(1.0)
    exchange(client, server, port, "127.0.0.1", 4)
    out, _ = p.communicate(timeout=20)
    with open(err) as f:
        errs = f.read().splitlines()
    os.unlink(err)
    lines = out.decode().splitlines()
    assert len(lines) == 2 and lines[1] == "rc=0" and lines[0].split()[0] in ("PID", "T")
    assert len(errs) == 1 and errs[0].startswith("Tracing")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_detach_everything(name, tool, child_factory, sig):
    tracefs_before = is_mounted("/sys/kernel/tracing")
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool(name, "-j")
    ids = prog_ids_of(t.proc.pid)
    assert MARKER_PROG[mode_in_use(name)][name] in prog_names_of(t.proc.pid) and len(ids) >= 2
    exchange(client, server, port, "127.0.0.1", 4)
    # no waiting: the row must be drained and printed on the way out
    assert t.stop(sig) == 0
    pids = {client.info["pid"], server.info["pid"]}
    assert len([l for l in t.out if json.loads(l)["pid"] in pids]) == ROWS_PER_EXCHANGE[name]
    assert gone_soon(ids)
    assert is_mounted("/sys/kernel/tracing") == tracefs_before


def test_more_programs_than_links(tmp_path):
    """A mode with more programs than MAX_LINKS: one line naming our bug, no overflow."""
    out = str(tmp_path / "build")
    cflags = "-O2 -g -DMAX_LINKS=1" + (" -fsanitize=address,undefined" if SANITIZED else "")
    subprocess.run(["make", "-s", "-C", ROOT, "OUT=" + out, "CFLAGS=" + cflags,
                    out + "/tcpconnect"], check=True, capture_output=True, timeout=300)
    res = subprocess.run([out + "/tcpconnect", "--attach", "tracepoint"],
                         capture_output=True, timeout=60)
    line = one_error_line(res, "tcpconnect")
    assert res.returncode == 1 and res.stdout == b""
    assert line == ("tcpconnect: --attach tracepoint: cannot attach tp_retransmit: this mode has "
                    "more programs than the 1 links tcptools keeps (a bug in tcptools: raise "
                    "MAX_LINKS)")


@pytest.mark.skipif(SANITIZED, reason="valgrind cannot run AddressSanitizer builds")
def test_valgrind_memcheck(name, child_factory):
    """A short run under valgrind: no memory error, nothing leaked, clean exit."""
    if not have("valgrind"):
        pytest.skip("valgrind is not installed")
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    supp = os.path.join(ROOT, "tests", "valgrind.supp")
    argv = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--suppressions=" + supp,
            ] + tool_argv(name, "-j")
    t = Tool(name, [], ready=False, argv=argv)
    t.wait_err(lambda l: l.startswith("Tracing"), timeout=120)
    exchange(client, server, port, "127.0.0.1", 4)
    t.wait_out(lambda l: ('"pid":%d,' % client.info["pid"]) in l or
               ('"pid":%d,' % server.info["pid"]) in l, timeout=30)
    rc = t.stop(timeout=120)
    summary = [l for l in t.err if "ERROR SUMMARY" in l]
    assert rc == 0, "\n".join(t.err[-60:])
    assert summary and " 0 errors from 0 contexts" in summary[-1], t.err[-30:]
    assert any("All heap blocks were freed" in l or "definitely lost: 0 bytes" in l
               for l in t.err), t.err[-30:]
