# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""tcpaccept against real accepts made by the test's own server processes."""
import datetime
import json
import time

import pytest

from conftest import SYS_ACCEPT, SYS_ACCEPT4, table_rows
from test_tcpconnect import norm, wait_rows

HEADER = "PID     COMM         IP RADDR            RPORT LADDR            LPORT"


def expect_row(server, acc, family):
    return {
        "PID": str(server.info["pid"]),
        "COMM": server.comm[:12],
        "IP": str(family),
        "RADDR": norm(acc["raddr"]),
        "RPORT": str(acc["rport"]),
        "LADDR": norm(acc["laddr"]),
        "LPORT": str(acc["lport"]),
    }


def rows_of(t, header, pid):
    return [r for r in table_rows(t.out, header) if int(r["PID"]) == pid]


# listener address, client address, family of the accepted socket
CASES = [
    ("127.0.0.1", "127.0.0.1", 4),
    ("::1", "::1", 6),
    ("::", "127.0.0.1", 6),  # an IPv4 client on a dual-stack IPv6 listener
]


@pytest.mark.parametrize("how", ["accept", "accept4"])
@pytest.mark.parametrize("nonblock", [False, True], ids=["blocking", "nonblocking"])
@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=["ipv4", "ipv6", "v4-on-dualstack"])
def test_rows_exact(tool, child_factory, laddr, caddr, fam, how, nonblock):
    server = child_factory(comm="tcpt-server-abc")  # 15 bytes: cut to 12
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    closed = server.call("free_port", laddr)
    t = tool("tcpaccept")
    server.send("accept", port, 1, how, nonblock)
    c = client.call("connect", caddr, port)
    refused = client.call("connect", caddr, closed)
    acc = server.recv()
    assert c["errno"] == 0 and refused["errno"] == 111
    assert acc[0]["rport"] == c["lport"]
    wait_rows(t, server.info["pid"], 1)
    time.sleep(0.2)
    assert t.stop() == 0
    assert t.out[0] == HEADER
    if fam == 6 and caddr == "127.0.0.1":
        assert acc[0]["raddr"] == "::ffff:127.0.0.1"
    # one row, the server's; nothing for the client or the refused attempt
    rows = table_rows(t.out, HEADER)
    mine = [r for r in rows if int(r["PID"]) in (server.info["pid"], client.info["pid"])]
    assert mine == [expect_row(server, acc[0], fam)]


def test_accept_blocked_before_start(tool, child_factory):
    """An accept already waiting when the tool starts is reported when it returns."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::1")
    server.send("accept", port, 2, "accept")
    server.wait_blocked({SYS_ACCEPT}, 2)
    t = tool("tcpaccept", "-j")
    conns = [client.call("connect", "::1", port) for _ in range(2)]
    acc = server.recv()
    wait_rows(t, server.info["pid"], 2)
    assert t.stop() == 0
    got = sorted((json.loads(l)["tid"], json.loads(l)["rport"]) for l in t.out
                 if json.loads(l)["pid"] == server.info["pid"])
    assert got == sorted((a["tid"], a["rport"]) for a in acc)
    assert sorted(a["rport"] for a in acc) == sorted(c["lport"] for c in conns)


def test_64_threads_blocked(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1", 256)
    t = tool("tcpaccept", "-j")
    server.send("accept", port, 64, "accept4")
    server.wait_blocked({SYS_ACCEPT4}, 64)
    conns = [client.call("connect", "127.0.0.1", port) for _ in range(64)]
    acc = server.recv()
    assert len(acc) == 64
    wait_rows(t, server.info["pid"], 64)
    time.sleep(0.2)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out]
    rows = [r for r in rows if r["pid"] == server.info["pid"]]
    assert len(rows) == 64
    assert sorted((r["tid"], r["rport"]) for r in rows) == \
        sorted((a["tid"], a["rport"]) for a in acc)
    assert len({r["tid"] for r in rows}) == 64
    assert sorted(r["rport"] for r in rows) == sorted(c["lport"] for c in conns)


def test_json(tool, child_factory, test_netns):
    server = child_factory(comm="tcpt-server", uid=65534)
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::")
    before = time.time()
    t = tool("tcpaccept", "-j")
    pairs = []
    for addr in ("127.0.0.1", "::1"):
        server.send("accept", port, 1)
        c = client.call("connect", addr, port)
        pairs.append((c, server.recv()[0]))
    wait_rows(t, server.info["pid"], 2)
    assert t.stop() == 0
    after = time.time()
    rows = [json.loads(l) for l in t.out]
    assert [r["pid"] for r in rows].count(client.info["pid"]) == 0
    rows = [r for r in rows if r["pid"] == server.info["pid"]]
    assert len(rows) == 2
    for r, (c, a) in zip(rows, pairs):
        assert before <= r["time"] <= after
        assert r == {
            "time": r["time"], "type": "accept", "pid": server.info["pid"], "tid": a["tid"],
            "uid": 65534, "comm": "tcpt-server", "ip": 6, "laddr": norm(a["laddr"]),
            "lport": port, "raddr": norm(a["raddr"]), "rport": c["lport"], "netns": test_netns,
        }


def test_time_columns_and_ports(tool, child_factory):
    """-T and -t together, and -P with several local ports, filtered in the kernel."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    ports = [server.call("listen", "127.0.0.1") for _ in range(3)]
    t = tool("tcpaccept", "-T", "-t", "-P", "%d,%d" % (ports[0], ports[2]),
             "-p", str(server.info["pid"]))  # the first row printed is ours
    accs = []
    for p in ports:
        server.send("accept", p, 1)
        client.call("connect", "127.0.0.1", p)
        accs.append(server.recv()[0])
        time.sleep(0.2)
    wait_rows(t, server.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    header = "TIME     TIME(s)  " + HEADER
    assert t.out[0] == header
    rows = rows_of(t, header, server.info["pid"])
    assert [{k: v for k, v in r.items() if not k.startswith("TIME")} for r in rows] == \
        [expect_row(server, accs[0], 4), expect_row(server, accs[2], 4)]
    now = datetime.datetime.now()
    for r in rows:
        hms = datetime.datetime.strptime(r["TIME"], "%H:%M:%S")
        stamp = now.replace(hour=hms.hour, minute=hms.minute, second=hms.second)
        assert abs((now - stamp).total_seconds()) < 30
    assert float(rows[0]["TIME(s)"]) == 0.0
    assert 0.3 <= float(rows[1]["TIME(s)"]) < 5


def test_pid_and_family_filters(tool, child_factory):
    """-p keeps one server; -4 keeps AF_INET sockets (dual-stack ones are IPv6)."""
    a = child_factory(comm="tcpt-a")
    b = child_factory(comm="tcpt-b")
    client = child_factory(comm="tcpt-client")
    listeners = {(srv, addr): srv.call("listen", addr)
                 for srv in (a, b) for addr in ("127.0.0.1", "::")}
    t = tool("tcpaccept", "-p", str(a.info["pid"]), "-4")
    want = []
    for (srv, addr), port in listeners.items():
        srv.send("accept", port, 1)
        client.call("connect", "127.0.0.1", port)
        acc = srv.recv()[0]
        if srv is a and addr == "127.0.0.1":
            want.append(expect_row(a, acc, 4))
    wait_rows(t, a.info["pid"], 1)
    time.sleep(0.3)
    assert t.stop() == 0
    assert table_rows(t.out, HEADER) == want
