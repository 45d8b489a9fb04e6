# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""tcpconnect against real connects made by the test's own child processes."""
import ipaddress
import json
import signal
import subprocess
import time

import pytest

from conftest import NOBODY, table_rows, tool_argv

HEADER = "PID     COMM         IP SADDR            DADDR            DPORT"


def norm(addr):
    """
    An address as the tools print it: dotted quad, RFC 5952 for IPv6, with
    the IPv4-mapped form in mixed notation (RFC 5952 section 5).
    """
    a = ipaddress.ip_address(addr)
    if a.version == 6 and a.ipv4_mapped:
        return "::ffff:%s" % a.ipv4_mapped
    return str(a)


def mapped(v4):
    return "::ffff:" + v4


def expect_row(c, conn):
    """The table row fields tcpconnect must print for connect result conn."""
    return {
        "PID": str(c.info["pid"]),
        "COMM": c.comm[:12],
        "IP": str(conn["family"]),
        "SADDR": norm(conn["laddr"]),
        "DADDR": norm(conn["raddr"]),
        "DPORT": str(conn["rport"]),
    }


def rows_of(t, header, pids):
    return [r for r in table_rows(t.out, header) if int(r["PID"]) in pids]


def wait_rows(t, pid, n, timeout=10):
    """Wait until n rows of pid are printed, while the tool still runs."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = [l for l in list(t.out) if ('"pid":%d,' % pid) in l or
               (not l.startswith("{") and str(pid) in l.split())]
        if len(got) >= n:
            return got
        time.sleep(0.02)
    # what the tool prints once stopped (it reads its rings to the end)
    # tells a row held unread from one never sent
    printed = len(t.out)
    rc = t.stop()
    raise AssertionError("expected %d rows of pid %d within %g s, got %r; stopped (exit %s) "
                         "it printed %r more, stderr %r" % (n, pid, timeout, t.out[:printed], rc,
                                                            t.out[printed:], t.err[-10:]))


# Each case: listener address, connect address, family of the connecting socket
CASES = [
    ("127.0.0.1", "127.0.0.1", 4),
    ("::1", "::1", 6),
    ("::", mapped("127.0.0.1"), 6),  # IPv4-mapped on an AF_INET6 socket
]


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=["ipv4", "ipv6", "v4mapped"])
def test_rows_exact(tool, child_factory, laddr, caddr, fam):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client-xyz")  # 15 bytes: cut to 12
    port = server.call("listen", laddr)
    closed = server.call("free_port", laddr)
    t = tool("tcpconnect")
    ok = client.call("connect", caddr, port, fam)
    refused = client.call("connect", caddr, closed, fam)
    assert ok["errno"] == 0 and refused["errno"] == 111  # ECONNREFUSED
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    assert t.out[0] == HEADER
    rows = rows_of(t, HEADER, {client.info["pid"], server.info["pid"]})
    # a refused connect is still an attempt; the server made no connect
    assert rows == [expect_row(client, ok), expect_row(client, refused)]
    if fam == 6 and caddr.startswith("::ffff:"):
        assert rows[0]["SADDR"] == mapped("127.0.0.1")


def test_lport_uid_timestamp(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-nobody", uid=NOBODY)
    p4 = server.call("listen", "127.0.0.1")
    p6 = server.call("listen", "::1")
    t = tool("tcpconnect", "-t", "-U", "-L", "-p", str(client.info["pid"]))  # first row ours
    c1 = client.call("connect", "127.0.0.1", p4)
    time.sleep(0.3)
    c2 = client.call("connect", "::1", p6)
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    header = ("TIME(s)  UID   PID     COMM         IP SADDR            LPORT  DADDR"
              "            DPORT")
    assert t.out[0] == header
    rows = rows_of(t, header, {client.info["pid"]})
    assert len(rows) == 2
    for r, c in zip(rows, (c1, c2)):
        want = expect_row(client, c)
        want.update({"UID": str(NOBODY), "LPORT": str(c["lport"])})
        assert {k: v for k, v in r.items() if k != "TIME(s)"} == want
        assert c["lport"] > 0
    t0, t1 = float(rows[0]["TIME(s)"]), float(rows[1]["TIME(s)"])
    assert 0.0 <= t0 < 1.0 and 0.25 <= t1 - t0 < 3.0
    assert all(len(r["TIME(s)"].split(".")[1]) == 3 for r in rows)


def test_json(tool, child_factory, test_netns):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client-xyz", uid=NOBODY)
    p6 = server.call("listen", "::")
    before = time.time()
    t = tool("tcpconnect", "-j")
    conns = [client.call("connect", "127.0.0.1", p6, 4),
             client.call("connect", "::1", p6),
             client.call("connect", mapped("127.0.0.1"), p6, 6)]
    wait_rows(t, client.info["pid"], 3)
    assert t.stop() == 0
    after = time.time()
    objs = [json.loads(l) for l in t.out]  # every line is JSON, no header
    mine = [o for o in objs if o["pid"] == client.info["pid"]]
    assert len(mine) == 3
    for o, c in zip(mine, conns):
        assert list(o) == ["time", "type", "pid", "tid", "uid", "comm", "ip", "laddr",
                           "lport", "raddr", "rport", "netns"]
        assert before <= o["time"] <= after
        assert o == {
            "time": o["time"], "type": "connect", "pid": client.info["pid"],
            "tid": c["tid"], "uid": NOBODY, "comm": "tcpt-client-xyz",
            "ip": c["family"], "laddr": norm(c["laddr"]), "lport": c["lport"],
            "raddr": norm(c["raddr"]), "rport": p6, "netns": test_netns,
        }


def test_row_before_handshake_completes(tool, child_factory):
    """Non-blocking connects still in SYN_SENT are reported (at the first SYN retransmission)."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1", 0)  # backlog 0: the queue fills at once
    t = tool("tcpconnect", "-j")
    results = [client.call("connect", "127.0.0.1", port, 4, True) for _ in range(4)]
    hanging = [r for r in results if r["errno"] == 115]  # EINPROGRESS
    assert hanging, "no connect stayed in progress: %r" % results
    got = wait_rows(t, client.info["pid"], len(results))
    ports = sorted(json.loads(l)["lport"] for l in got)
    assert ports == sorted(r["lport"] for r in results)
    assert t.stop() == 0


def test_blocking_connect_to_silent_peer(tool, child_factory):
    """
    A blocking connect whose SYN goes unanswered is reported while connect()
    still waits (at the first SYN retransmission, about a second later).
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1", 0)
    filler = child_factory(comm="tcpt-filler")
    # fill the accept queue; a further SYN is dropped (or a connect hangs)
    for _ in range(3):
        filler.call("connect", "127.0.0.1", port, 4, True)
    t = tool("tcpconnect", "-j")
    client.send("connect", "127.0.0.1", port, 4, False)
    client.wait_blocked({42}, 1)  # connect(2), x86_64
    got = wait_rows(t, client.info["pid"], 1, timeout=5)
    assert client.threads_in_syscall({42}), "connect returned before the row came"
    row = json.loads(got[0])
    assert (row["pid"], row["comm"], row["rport"]) == (client.info["pid"], "tcpt-client", port)
    assert row["lport"] > 0
    assert t.stop() == 0


def test_pid_filter(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    a = child_factory(comm="tcpt-a")
    b = child_factory(comm="tcpt-b")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcpconnect", "-p", str(a.info["pid"]))
    b.call("connect", "127.0.0.1", port)
    ca = a.call("connect", "127.0.0.1", port)
    b.call("connect", "127.0.0.1", port)
    wait_rows(t, a.info["pid"], 1)
    assert t.stop() == 0
    assert table_rows(t.out, HEADER) == [expect_row(a, ca)]


def test_uid_filter(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    root = child_factory(comm="tcpt-root")
    nobody = child_factory(comm="tcpt-nobody", uid=NOBODY)
    port = server.call("listen", "::1")
    t = tool("tcpconnect", "-u", str(NOBODY), "-U")
    root.call("connect", "::1", port)
    cn = nobody.call("connect", "::1", port)
    root.call("connect", "::1", port)
    wait_rows(t, nobody.info["pid"], 1)
    time.sleep(0.3)
    assert t.stop() == 0
    header = "UID   PID     COMM         IP SADDR            DADDR            DPORT"
    want = expect_row(nobody, cn)
    want["UID"] = str(NOBODY)
    assert table_rows(t.out, header) == [want]


def test_port_filter(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    ports = [server.call("listen", "127.0.0.1") for _ in range(3)]
    t = tool("tcpconnect", "-P", "%d,%d" % (ports[0], ports[2]))
    conns = [client.call("connect", "127.0.0.1", p) for p in ports]
    wait_rows(t, client.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    rows = rows_of(t, HEADER, {client.info["pid"]})
    assert rows == [expect_row(client, conns[0]), expect_row(client, conns[2])]


@pytest.mark.parametrize("flag,fam", [("-4", 4), ("-6", 6)])
def test_family_filter(tool, child_factory, flag, fam):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::")
    t = tool("tcpconnect", flag)
    conns = [client.call("connect", "127.0.0.1", port, 4),
             client.call("connect", "::1", port),
             client.call("connect", mapped("127.0.0.1"), port, 6)]
    wait_rows(t, client.info["pid"], 1)
    time.sleep(0.3)
    assert t.stop() == 0
    want = [expect_row(client, c) for c in conns if c["family"] == fam]
    assert rows_of(t, HEADER, {client.info["pid"]}) == want


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_count(tool, child_factory, json_out):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    pa = server.call("listen", "127.0.0.1")
    pb = server.call("listen", "::1")
    closed = server.call("free_port", "127.0.0.1")
    t = tool("tcpconnect", "-c", *(["-j"] if json_out else []))
    for _ in range(7):
        client.call("connect", "127.0.0.1", pa)
    for _ in range(3):
        client.call("connect", "::1", pb)
    for _ in range(5):
        client.call("connect", "127.0.0.1", closed)
    client.call("close_all")
    time.sleep(0.2)
    assert t.out == []  # nothing until the end
    assert t.stop() == 0
    want = [("127.0.0.1", "127.0.0.1", pa, 7), ("127.0.0.1", "127.0.0.1", closed, 5),
            ("::1", "::1", pb, 3)]
    if json_out:
        got = [json.loads(l) for l in t.out]
        got = [(o["laddr"], o["raddr"], o["rport"], o["connects"]) for o in got
               if o["rport"] in (pa, pb, closed)]
        assert got == want
        assert all(list(json.loads(l)) == ["ip", "laddr", "raddr", "rport", "connects"]
                   for l in t.out)
    else:
        assert t.out[0] == "%-25s %-25s %-20s %s" % ("LADDR", "RADDR", "RPORT", "CONNECTS")
        got = [tuple(l.split()) for l in t.out[1:]]
        got = [g for g in got if int(g[2]) in (pa, pb, closed)]
        assert got == [(a, b, str(p), str(n)) for a, b, p, n in want]
        counts = [int(l.split()[3]) for l in t.out[1:]]
        assert counts == sorted(counts, reverse=True)


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_count_write_error(child_factory, json_out):
    """-c > /dev/full: the table cannot be written: one line naming it, exit 1."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    with open("/dev/full", "w") as full:
        p = subprocess.Popen(tool_argv("tcpconnect", "-c", *(["-j"] if json_out else [])),
                             stdout=full, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    assert p.stderr.readline().decode().startswith("Tracing")
    client.call("connect", "127.0.0.1", port)
    time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    err = p.stderr.read().decode().splitlines()
    assert p.wait(30) == 1
    assert err == ["tcpconnect: cannot write the output (No space left on device)"]


# ---------------------------------------------------------------- lifecycle


def test_rows_reach_a_pipe_promptly(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcpconnect")
    for i in range(3):
        client.call("connect", "127.0.0.1", port)
        wait_rows(t, client.info["pid"], i + 1, timeout=2)
    assert t.stop() == 0
