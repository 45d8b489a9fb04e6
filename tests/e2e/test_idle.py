# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
An idle tool sleeps: with nothing to trace it makes no timer wakeups, and
the first event after a silence is read at once, without waiting for the
next one (session.c's sleep_ms(), core.bpf.h's wake_reader()).
"""
import glob
import json
import random
import time

import pytest

from conftest import TOOLS, exchange


@pytest.fixture(params=TOOLS)
def name(request):
    return request.param


def context_switches(pid):
    """Voluntary and involuntary context switches of all of pid's threads."""
    n = 0
    for path in glob.glob("/proc/%d/task/*/status" % pid):
        with open(path) as f:
            n += sum(int(l.split()[1]) for l in f if "ctxt_switches" in l)
    return n


def settled(pid, timeout=30):
    """pid's count once it stays the same for half a second (start-up over)."""
    end = time.monotonic() + timeout
    last = context_switches(pid)
    while time.monotonic() < end:
        time.sleep(0.5)
        now = context_switches(pid)
        if now == last:
            return now
        last = now
    raise AssertionError("the tool never went quiet: %d context switches" % last)


def test_idle_tool_makes_no_wakeups(name, tool, child_factory):
    """
    Filtered to a process that makes no connection (-p), so that nothing
    the rest of the machine does reaches it, the tool sleeps: over 3 s at
    most 4 wakeups (tcpaccept and tcptracer look at accept waiters once a
    second while some thread of the machine is blocked in accept; one
    spare), where a 10 ms batch timer makes 300.
    """
    quiet = child_factory(comm="tcpt-quiet")
    t = tool(name, "-j", "-p", str(quiet.call("info")["pid"]))
    before = settled(t.proc.pid)
    time.sleep(3)
    woke = context_switches(t.proc.pid) - before
    assert t.proc.poll() is None
    assert woke <= 4, "%d context switches in 3 s idle" % woke
    assert t.out == []


@pytest.mark.parametrize("addr", ["127.0.0.1", "::1"])
def test_rows_after_silence(name, addr, tool, child_factory):
    """
    Connections one at a time, each after a silence of 0 to 50 ms (around
    the 10 ms in which the tool drains its ring and then goes to sleep):
    each one's row is read while the tool runs, not left in the ring until
    some later event. A row submitted just as the tool goes to sleep would
    wait for ever here: nothing else reaches the filtered tool.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", addr)
    who = server if name == "tcpaccept" else client
    t = tool(name, "-j", "-p", str(who.call("info")["pid"]))
    rng = random.Random(4)
    for i in range(20):
        time.sleep(rng.uniform(0, 0.05))
        c, _ = exchange(client, server, port, addr, None)
        key = "rport" if name == "tcpaccept" else "lport"
        t.wait_out(lambda l: json.loads(l)[key] == c["lport"], timeout=30)
