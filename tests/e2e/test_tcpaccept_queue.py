# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
tcpaccept -q: QUEUE(ms), from the accepted socket becoming ESTABLISHED to
accept() returning it, and HS(ms), the handshake as the server saw it (its
SYN-ACK to the client's ACK), against real connections whose times the
test's own processes take: a server that finds a connection in its accept
queue (the listener turns readable only once the handshake completed), sleeps
a known time, then accepts; over loopback and, for a handshake of a known
length, over a veth pair with netem delaying the client's packets.
"""
import json
import time

import pytest

from conftest import SYS_ACCEPT, SYS_ACCEPT4, add_netem, ms3, ns_within, table_rows
from test_tcpaccept import CASES, expect_row
from test_tcpaccept import HEADER as PLAIN
from test_tcpconnect import norm, wait_rows

HEADER = PLAIN + " QUEUE(ms) HS(ms)"
TIMES = ("QUEUE(ms)", "HS(ms)")
JSON_KEYS = ["time", "type", "pid", "tid", "uid", "comm", "ip", "laddr", "lport", "raddr",
             "rport", "netns"]
QUEUE_KEYS = JSON_KEYS + ["queue_ns", "handshake_ns"]
SLEEP = 0.4  # how long the server leaves a connection in its accept queue
IDS = ["ipv4", "ipv6", "v4-on-dualstack"]


def rows_of(t, header, *children):
    pids = {c.info["pid"] for c in children}
    return [r for r in table_rows(t.out, header) if int(r["PID"]) in pids]


def json_of(t, *children):
    pids = {c.info["pid"] for c in children}
    objs = [json.loads(l) for l in t.out]  # every line is JSON
    return [o for o in objs if o["pid"] in pids]


def without_times(rows):
    return [{k: v for k, v in r.items() if k not in TIMES} for r in rows]


def same_json(o, server, acc, fam, keys):
    """o is the JSON object of accept acc, with exactly keys, in that order."""
    assert list(o) == keys, list(o)
    assert {k: o[k] for k in JSON_KEYS if k != "time"} == {
        "type": "accept", "pid": server.info["pid"], "tid": acc["tid"], "uid": server.uid,
        "comm": server.comm[:15], "ip": fam, "laddr": norm(acc["laddr"]),
        "lport": acc["lport"], "raddr": norm(acc["raddr"]), "rport": acc["rport"],
        "netns": server.info["netns"]}


def start_both(tool, *args):
    return tool("tcpaccept", "-q", *args), tool("tcpaccept", "-q", "-j", *args)


def stop_both(t, j, server, n):
    wait_rows(t, server.info["pid"], n)
    wait_rows(j, server.info["pid"], n)
    time.sleep(0.2)  # nothing more may come
    assert t.stop() == 0 and j.stop() == 0


def one_row(t, j, server, client, a, fam):
    """
    Stop both copies (start_both): each has one row, accept a's, exact but
    for the times; that row and its JSON object.
    """
    stop_both(t, j, server, 1)
    rows = rows_of(t, HEADER, server, client)
    assert without_times(rows) == [expect_row(server, a, fam)]
    objs = json_of(j, server, client)
    assert len(objs) == 1
    same_json(objs[0], server, a, fam, QUEUE_KEYS)
    return rows[0], objs[0]


def check_queued(row, o, c, a, hs_hi=None):
    """
    QUEUE of accept a (timed by accept_timed with ready) of connect c: at
    least the server's own wait between seeing the connection queued and
    calling accept, at most from the connect call to accept's return. HS:
    within the connect call and the listener turning readable.
    """
    assert a["t_call"] - a["t_ready"] >= SLEEP
    hs_hi = a["t_ready"] - c["t0"] if hs_hi is None else hs_hi
    ms3(row["QUEUE(ms)"], a["t_call"] - a["t_ready"], a["t_ret"] - c["t0"])
    ms3(row["HS(ms)"], 0, hs_hi)
    ns_within(o["queue_ns"], a["t_call"] - a["t_ready"], a["t_ret"] - c["t0"])
    ns_within(o["handshake_ns"], 0, hs_hi)


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=IDS)
def test_queue_wait(tool, child_factory, laddr, caddr, fam):
    """The server leaves the connection queued SLEEP s: QUEUE at least that; HS small."""
    server = child_factory(comm="tcpt-server-abc")  # 15 bytes: cut to 12
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    t, j = start_both(tool)
    server.send("accept_timed", port, "accept4", False, True, SLEEP)
    c = client.call("connect_timed", caddr, port)
    a = server.recv()
    assert c["errno"] == 0 and (a["rport"], a["lport"]) == (c["lport"], port)
    if caddr != laddr:
        assert a["raddr"] == "::ffff:127.0.0.1"
    row, obj = one_row(t, j, server, client, a, fam)
    assert t.out[0] == HEADER
    check_queued(row, obj, c, a)


@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_handshake_with_netem(tool, child_factory, veth_net, fam):
    """
    netem delays every packet the client sends 100 ms (its veth end's
    egress): the SYN and the ACK. The server's SYN-ACK to that ACK is then at
    least 100 ms: HS. The connection became ESTABLISHED at the earliest
    200 ms after the connect call (SYN and ACK both delayed): QUEUE (at
    least the server's SLEEP) does not include the handshake.
    """
    add_netem(veth_net.client, veth_net.CDEV, 100)
    server = child_factory(comm="tcpt-server", netns_path=veth_net.peer.path)
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    here, there = veth_net.client_addr[fam], veth_net.peer_addr[fam]
    port = server.call("listen", there)
    # neighbour discovery before: the connection's first packets do not wait for it
    warm = client.call("connect_timed", there, server.call("free_port", there))
    assert warm["errno"] == 111
    t, j = start_both(tool)
    server.send("accept_timed", port, "accept4", False, True, SLEEP)
    c = client.call("connect_timed", there, port)
    a = server.recv()
    assert c["errno"] == 0 and c["t1"] - c["t0"] >= 0.1
    assert (a["raddr"], a["rport"], a["laddr"]) == (here, c["lport"], there)
    row, obj = one_row(t, j, server, client, a, fam)
    # the SYN-ACK left at the earliest 100 ms after the connect call
    hs_hi = a["t_ready"] - c["t0"] - 0.1
    ms3(row["HS(ms)"], 0.1, hs_hi)
    ns_within(obj["handshake_ns"], 0.1, hs_hi)
    queue = (a["t_call"] - a["t_ready"], a["t_ret"] - c["t0"] - 0.2)
    ms3(row["QUEUE(ms)"], *queue)
    ns_within(obj["queue_ns"], *queue)


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=IDS)
def test_queued_before_start(tool, child_factory, laddr, caddr, fam):
    """
    A connection already in the accept queue when the tool starts has its
    figures too (the kernel stamped it as it was queued): QUEUE from before
    the tool's start, at least from the listener turning readable to the
    accept call; HS within the connect call and that.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    early = client.call("connect_timed", caddr, port)
    assert early["errno"] == 0
    queued_by = server.call("wait_queued", port)  # ESTABLISHED by then
    t, j = start_both(tool)
    time.sleep(SLEEP)
    a1 = server.call("accept_timed", port, "accept4", False, False, 0)
    server.send("accept_timed", port, "accept4", False, True, SLEEP)
    late = client.call("connect_timed", caddr, port)
    a2 = server.recv()
    assert (a1["rport"], a2["rport"]) == (early["lport"], late["lport"])
    stop_both(t, j, server, 2)
    assert t.out[0] == HEADER
    rows = rows_of(t, HEADER, server, client)
    assert without_times(rows) == [expect_row(server, a1, fam), expect_row(server, a2, fam)]
    objs = json_of(j, server, client)
    assert len(objs) == 2
    same_json(objs[0], server, a1, fam, QUEUE_KEYS)
    same_json(objs[1], server, a2, fam, QUEUE_KEYS)
    queue = (a1["t_call"] - queued_by, a1["t_ret"] - early["t0"])
    assert queue[0] >= SLEEP
    ms3(rows[0]["QUEUE(ms)"], *queue)
    ns_within(objs[0]["queue_ns"], *queue)
    ms3(rows[0]["HS(ms)"], 0, queued_by - early["t0"])
    ns_within(objs[0]["handshake_ns"], 0, queued_by - early["t0"])
    check_queued(rows[1], objs[1], late, a2)


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=IDS)
def test_data_before_accept(tool, child_factory, laddr, caddr, fam):
    """
    The client sends data while its connection waits in the queue: the
    data's arrival moves neither figure (QUEUE still from the handshake's
    completion, HS still the handshake), and the server reads it all.
    """
    n = 5000
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    t, j = start_both(tool)
    server.send("accept_timed", port, "accept4", False, True, SLEEP)
    c = client.call("connect_timed", caddr, port)
    assert c["errno"] == 0
    time.sleep(SLEEP / 2)
    assert client.call("send_bytes", c["idx"], n) == n
    a = server.recv()
    assert server.call("recv_bytes", a["idx"], n) == n
    row, obj = one_row(t, j, server, client, a, fam)
    check_queued(row, obj, c, a)


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_without_queue_unchanged(tool, child_factory, json_out):
    """Without -q: the table and the JSON keys as before, for every row."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::")
    t = tool("tcpaccept", *(["-j"] if json_out else []))
    accs = []
    for caddr in ("127.0.0.1", "::1"):
        server.send("accept_timed", port, "accept4", False, True, 0)
        assert client.call("connect_timed", caddr, port)["errno"] == 0
        accs.append(server.recv())
    wait_rows(t, server.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    if json_out:
        assert all(list(json.loads(l)) == JSON_KEYS for l in t.out)
        objs = json_of(t, server, client)
        assert len(objs) == 2
        for o, a in zip(objs, accs):
            same_json(o, server, a, 6, JSON_KEYS)
    else:
        assert t.out[0] == PLAIN
        table_rows(t.out, PLAIN)  # every row has the header's columns, no more
        assert rows_of(t, PLAIN, server, client) == [expect_row(server, a, 6) for a in accs]


def test_time_columns_first(tool, child_factory):
    """-T -t -q: the time columns first, as ever; QUEUE(ms) and HS(ms) last."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcpaccept", "-T", "-t", "-q")
    server.send("accept_timed", port, "accept", False, True, SLEEP)
    c = client.call("connect_timed", "127.0.0.1", port)
    a = server.recv()
    wait_rows(t, server.info["pid"], 1)
    assert t.stop() == 0
    header = "TIME     TIME(s)  " + HEADER
    assert t.out[0] == header
    rows = rows_of(t, header, server, client)
    assert [{k: v for k, v in r.items() if not k.startswith("TIME")} for r in without_times(rows)] \
        == [expect_row(server, a, 4)]
    ms3(rows[0]["QUEUE(ms)"], a["t_call"] - a["t_ready"], a["t_ret"] - c["t0"])
    ms3(rows[0]["HS(ms)"], 0, a["t_ready"] - c["t0"])


@pytest.mark.parametrize("how", ["accept", "accept4"])
@pytest.mark.parametrize("nonblock", [False, True], ids=["blocking", "nonblocking"])
@pytest.mark.parametrize("laddr,caddr,fam", [CASES[0], CASES[1]], ids=["ipv4", "ipv6"])
def test_accept_paths(tool, child_factory, laddr, caddr, fam, how, nonblock):
    """accept(2) and accept4(2), on a blocking or non-blocking listener: the same figures."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    t, j = start_both(tool)
    server.send("accept_timed", port, how, nonblock, True, SLEEP)
    c = client.call("connect_timed", caddr, port)
    a = server.recv()
    assert c["errno"] == 0 and a["rport"] == c["lport"]
    row, obj = one_row(t, j, server, client, a, fam)
    check_queued(row, obj, c, a)


@pytest.mark.parametrize("how", ["accept", "accept4"])
def test_accept_blocked_before_start(tool, child_factory, how):
    """
    A thread already blocked in accept when the tool starts, the connection
    made SLEEP s after the start: QUEUE counts from ESTABLISHED (not from
    the accept call, SLEEP s earlier still): at most the connect call to
    accept's return; HS within the same span.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::1")
    server.send("accept_timed", port, how, False, False, 0)
    server.wait_blocked({SYS_ACCEPT if how == "accept" else SYS_ACCEPT4}, 1)
    t, j = start_both(tool)
    time.sleep(SLEEP)
    c = client.call("connect_timed", "::1", port)
    a = server.recv()
    assert c["errno"] == 0 and a["rport"] == c["lport"]
    assert a["t_call"] <= c["t0"] - SLEEP
    row, obj = one_row(t, j, server, client, a, 6)
    assert obj["tid"] == a["tid"]
    span = a["t_ret"] - c["t0"]
    ms3(row["QUEUE(ms)"], 0, span)
    ms3(row["HS(ms)"], 0, span)
    ns_within(obj["queue_ns"], 0, span)
    ns_within(obj["handshake_ns"], 0, span)
