# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""Floods, signals under load, kernel facilities missing."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from conftest import TOOLS, exchange, gone_soon, prog_ids_of, tool_argv
from test_tcpconnect import wait_rows

TRACEFS = "/sys/kernel/tracing"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_flood_through_a_stalled_pipe(child_factory):
    """
    20000 connects while nobody reads the tool's output: the ring overflows,
    the tool keeps running with bounded memory, and every connect is either
    printed or counted as lost, exactly.
    """
    n = 20000
    client = child_factory(comm="tcpt-flood")
    closed = client.call("free_port", "127.0.0.1")
    p = subprocess.Popen(tool_argv("tcpconnect", "-p", str(client.info["pid"])),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = []

    def read_err():
        for raw in p.stderr:
            err.append(raw.decode().rstrip("\n"))

    threading.Thread(target=read_err, daemon=True).start()
    end = time.monotonic() + 30
    while not err and time.monotonic() < end:
        time.sleep(0.05)
    assert err and err[0].startswith("Tracing")
    client.send("refused_many", "127.0.0.1", closed, n)
    peak = 0
    while True:  # the client works; nobody reads stdout
        peak = max(peak, rss_kb(p.pid))
        try:
            res = client.recv(timeout=0.1)
            break
        except AssertionError as e:
            if "did not answer" not in str(e):
                raise
    assert res == {"refused": n}
    time.sleep(0.5)
    assert p.poll() is None, "the tool died under the flood"
    out = []
    reader = threading.Thread(target=lambda: out.extend(p.stdout.read().splitlines()))
    reader.start()
    time.sleep(1.0)
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=60) == 0
    reader.join(60)
    rows = [l for l in out[1:] if l.split()[:1] == [str(client.info["pid"]).encode()]]
    lost = [int(m.group(1)) for m in
            (re.match(r"WARNING: (\d+) events lost in total \(ring buffer full\)$", l)
             for l in err) if m]
    untracked = [int(m.group(1)) for m in
                 (re.match(r"WARNING: (\d+) connections not tracked in total \(tracking map "
                           r"full\): their rows are missing$", l) for l in err) if m]
    total_lost = lost[0] if lost else 0
    total_untracked = untracked[0] if untracked else 0
    print("rows", len(rows), "lost", total_lost, "not tracked", total_untracked,
          "peak RSS kB", peak)
    assert len(rows) + total_lost + total_untracked == n
    assert total_lost > 0, "the flood was drained in time: it tested nothing"
    # while running
    assert any(re.match(r"WARNING: \d+ events lost \(ring buffer full\)$", l) for l in err)
    assert peak < 64 * 1024


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("name", TOOLS)
def test_signal_during_a_storm(tool, child_factory, name, sig):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-storm")
    closed = server.call("free_port", "127.0.0.1")
    t = tool(name)
    ids = prog_ids_of(t.proc.pid)
    assert ids
    client.send("refused_many", "127.0.0.1", closed, 5000)
    time.sleep(0.3)
    assert t.stop(sig) == 0
    client.recv()
    assert gone_soon(ids)


def test_tracefs_mounted_privately_when_missing(tool, child_factory):
    """
    tracefs not mounted where tcpaccept starts: it mounts it in a mount
    namespace of its own (saying so under --debug) and traces; the namespace
    it was started in never sees that mount, so nothing is left to undo.
    """
    ns = child_factory(comm="tcpt-mounts").call("own_mounts", False)
    holder = int(ns.split("/")[2])
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcpaccept", argv=["nsenter", "--mount=" + ns] +
             tool_argv("tcpaccept", "--debug", "-j"))
    assert ("tcpaccept: mounted tracefs on %s in a mount namespace of its own (the system's "
            "mounts are untouched)" % TRACEFS) in t.err
    c, s = exchange(client, server, port, "127.0.0.1", 4)
    wait_rows(t, server.info["pid"], 1)
    with open("/proc/%d/mounts" % t.proc.pid) as f:
        assert any(l.split()[1:3] == [TRACEFS, "tracefs"] for l in f)
    with open("/proc/%d/mounts" % holder) as f:
        assert not any(l.split()[1] == TRACEFS for l in f)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out if json.loads(l)["pid"] == server.info["pid"]]
    assert [(r["type"], r["lport"], r["rport"]) for r in rows] == [
        ("accept", port, c["lport"])]


@pytest.mark.parametrize("name", TOOLS)
def test_btf_missing(name):
    res = subprocess.run(tool_argv(name), capture_output=True, timeout=30,
                         env=dict(os.environ, TCPTOOLS_BTF="/nonexistent/vmlinux"))
    lines = res.stderr.decode().splitlines()
    assert res.returncode == 1 and res.stdout == b""
    assert lines == ["%s: TCPTOOLS_BTF=/nonexistent/vmlinux: cannot read this BTF file "
                     "(No such file or directory)" % name]
