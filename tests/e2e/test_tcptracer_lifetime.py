# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
tcptracer -l: LIFE(ms), TX and RX on X rows (the connection's age from its
C or A row, the data bytes the peer acknowledged and the bytes received),
against real connections of the test's own processes, which send and read
exact byte counts and time their own connect, accept and close.
"""
import json
import time

import pytest

from conftest import ms3, ns_within, table_rows
from test_tcpconnect import norm, wait_rows
from test_tcptracer import CASES, ours, row
from test_tcptracer import HEADER as PLAIN

HEADER = PLAIN + "  LIFE(ms)   TX         RX"
VERBOSE = ("TYPE         PID    COMM             IP SADDR            DADDR            SPORT  DPORT"
           "  NETNS")
LIFE = ("LIFE(ms)", "TX", "RX")
JSON_KEYS = ["time", "type", "pid", "tid", "uid", "comm", "ip", "laddr", "lport", "raddr",
             "rport", "netns"]
X_KEYS = JSON_KEYS + ["duration_ns", "tx_bytes", "rx_bytes"]
IDS = ["ipv4", "ipv6", "v4mapped"]


def without_life(rows):
    return [{k: v for k, v in r.items() if k not in LIFE} for r in rows]


def json_of(t, *children):
    pids = {c.info["pid"] for c in children}
    objs = [json.loads(l) for l in t.out]  # every line is JSON
    return [o for o in objs if o["pid"] in pids]


def start_both(tool, *args):
    return tool("tcptracer", "-l", *args), tool("tcptracer", "-l", "-j", *args)


def stop_all(tools, *want):
    """Wait for n rows of each (child, n) of want in every tool, then stop them."""
    for t in tools:
        for who, n in want:
            wait_rows(t, who.info["pid"], n)
    time.sleep(0.2)  # nothing more may come
    for t in tools:
        assert t.stop() == 0


def connect_accept(client, server, port, caddr, fam, secs=0):
    """
    One connection, client to server: the client's connect and the server's
    accept (after secs in the queue), both timed; the accepted socket
    blocking.
    """
    server.send("accept_timed", port, "accept4", False, secs > 0, secs)
    c = client.call("connect_timed", caddr, port, fam)
    s = server.recv()
    assert c["errno"] == 0 and (s["rport"], s["lport"]) == (c["lport"], port)
    return c, s


def talk(client, server, c, s, n, m):
    """The client sends n bytes, the server reads them and answers m, the client reads them."""
    server.send("recv_bytes", s["idx"], n)
    assert client.call("send_bytes", c["idx"], n) == n
    assert server.recv() == n
    client.send("recv_bytes", c["idx"], m)
    assert server.call("send_bytes", s["idx"], m) == m
    assert client.recv() == m


def four_rows(client, server, c, s, fam, caddr, port, xfirst=None):
    """C, A, then the X rows (the client's first unless xfirst is server) without LIFE/TX/RX."""
    xc = row("X", client, fam, c["laddr"], c["lport"], caddr, port)
    xs = row("X", server, fam, s["laddr"], port, s["raddr"], c["lport"])
    return [row("C", client, fam, c["laddr"], c["lport"], caddr, port),
            row("A", server, fam, s["laddr"], port, s["raddr"], c["lport"])] + \
        ([xs, xc] if xfirst is server else [xc, xs])


def check_json(objs, rows_want, tx_rx):
    """
    objs (C, A, X, X) match the table rows wanted: the keys of C and A as
    without -l, those of X with duration_ns, tx_bytes, rx_bytes last, the
    byte counts tx_rx (of the two X rows).
    """
    kinds = {"C": "connect", "A": "accept", "X": "close"}
    assert [(o["type"], o["pid"], o["lport"], o["rport"], o["laddr"], o["raddr"])
            for o in objs] == [
        (kinds[r["T"]], int(r["PID"]), int(r["SPORT"]), int(r["DPORT"]),
         norm(r["SADDR"].strip("[]")), norm(r["DADDR"].strip("[]"))) for r in rows_want]
    assert [list(o) for o in objs] == [JSON_KEYS, JSON_KEYS, X_KEYS, X_KEYS]
    assert [(o["tx_bytes"], o["rx_bytes"]) for o in objs[2:]] == tx_rx


@pytest.mark.parametrize("n,m", [(1000, 70000), (70000, 1000)])
@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=IDS)
def test_bytes_exact(tool, child_factory, laddr, caddr, fam, n, m):
    """
    The client sends n bytes, the server reads them and answers m, the
    client reads them and closes, the server reads EOF and closes: the
    client's X has TX n, RX m; the server's TX m, RX n (each one's data was
    acknowledged before its close: the answer acknowledges the request, the
    client's FIN the answer). C and A: "-".
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    t, j = start_both(tool)
    c, s = connect_accept(client, server, port, caddr, fam)
    talk(client, server, c, s, n, m)
    cc = client.call("close_after", c["idx"], 0)
    server.call("recv_eof", s["idx"])
    sc = server.call("close_after", s["idx"], 0)
    stop_all((t, j), (client, 2), (server, 2))
    assert t.out[0] == HEADER
    rows = ours(t, HEADER, client, server)
    want = four_rows(client, server, c, s, fam, caddr, port)
    assert without_life(rows) == want
    assert [(r["TX"], r["RX"]) for r in rows] == [
        ("-", "-"), ("-", "-"), (str(n), str(m)), (str(m), str(n))]
    assert [r["LIFE(ms)"] for r in rows[:2]] == ["-", "-"]
    # the client's from its C row (ESTABLISHED within the connect call), the
    # server's from its A row (accept's return)
    ms3(rows[2]["LIFE(ms)"], cc["t0"] - c["t1"], cc["t1"] - c["t0"])
    ms3(rows[3]["LIFE(ms)"], sc["t0"] - s["t_ret"], sc["t1"] - s["t_call"])
    objs = json_of(j, client, server)
    check_json(objs, want, [(n, m), (m, n)])
    ns_within(objs[2]["duration_ns"], cc["t0"] - c["t1"], cc["t1"] - c["t0"])
    ns_within(objs[3]["duration_ns"], sc["t0"] - s["t_ret"], sc["t1"] - s["t_call"])


@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_fins_not_counted(tool, child_factory, fam):
    """
    The client half-closes after the exchange and waits for the server's ACK
    of its FIN (SIOCOUTQ 0: the FIN too is acknowledged); the server reads
    EOF, answers k more bytes and closes; the client reads them and EOF,
    and closes: neither FIN counts, in TX (the client's, acknowledged) nor
    in RX (the server's, received; the client's, received).
    """
    addr = "127.0.0.1" if fam == 4 else "::1"
    n, m, k = 1000, 2000, 300
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", addr)
    t, j = start_both(tool)
    c, s = connect_accept(client, server, port, addr, fam)
    talk(client, server, c, s, n, m)
    client.call("shutdown_wr", c["idx"])
    server.call("recv_eof", s["idx"])
    client.call("wait_acked", c["idx"])
    client.send("recv_bytes", c["idx"], k)
    server.call("send_bytes", s["idx"], k)
    assert client.recv() == k
    server.call("wait_acked", s["idx"])
    server.call("close_after", s["idx"], 0)
    client.call("recv_eof", c["idx"])
    client.call("close_after", c["idx"], 0)
    stop_all((t, j), (client, 2), (server, 2))
    rows = ours(t, HEADER, client, server)
    want = four_rows(client, server, c, s, fam, addr, port, xfirst=server)
    assert without_life(rows) == want
    assert [(r["TX"], r["RX"]) for r in rows[2:]] == [(str(m + k), str(n)),
                                                     (str(n), str(m + k))]
    check_json(json_of(j, client, server), want, [(m + k, n), (n, m + k)])


HOLD = 0.3


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=IDS)
def test_lifetime(tool, child_factory, laddr, caddr, fam):
    """
    The connection waits HOLD s in the accept queue, then is held open HOLD
    s by the client, which closes, and HOLD s more by the server: the
    client's LIFE (from its C row) about 2 HOLD (at least HOLD), the
    server's (from its A row, accept's return, not ESTABLISHED) at least
    HOLD and at most from its accept call to its close's return. No data:
    TX and RX 0.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", laddr)
    t, j = start_both(tool)
    c, s = connect_accept(client, server, port, caddr, fam, HOLD)
    assert s["t_call"] - s["t_ready"] >= HOLD
    cc = client.call("close_after", c["idx"], HOLD)
    sc = server.call("close_after", s["idx"], HOLD)
    stop_all((t, j), (client, 2), (server, 2))
    rows = ours(t, HEADER, client, server)
    want = four_rows(client, server, c, s, fam, caddr, port)
    assert without_life(rows) == want
    assert [(r["TX"], r["RX"]) for r in rows] == [("-", "-"), ("-", "-"), ("0", "0"), ("0", "0")]
    client_life = (cc["t0"] + HOLD - c["t1"], cc["t1"] - c["t0"])
    server_life = (sc["t0"] + HOLD - s["t_ret"], sc["t1"] - s["t_call"])
    # the client's connect may return after the server began its HOLD
    # before accept (a slow machine): only its own HOLD before close is sure
    assert client_life[0] >= HOLD and server_life[0] >= HOLD
    ms3(rows[2]["LIFE(ms)"], *client_life)
    ms3(rows[3]["LIFE(ms)"], *server_life)
    objs = json_of(j, client, server)
    check_json(objs, want, [(0, 0), (0, 0)])
    ns_within(objs[2]["duration_ns"], *client_life)
    ns_within(objs[3]["duration_ns"], *server_life)


@pytest.mark.parametrize("aborter", ["client", "server"])
@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_reset_keeps_bytes(tool, child_factory, fam, aborter):
    """
    After an exchange whose every byte was acknowledged (SIOCOUTQ 0 on both
    ends), one end closes with a reset (SO_LINGER 0), the other closes a
    moment later: both X rows with the bytes exchanged before.
    """
    addr = "127.0.0.1" if fam == 4 else "::1"
    n, m = 1000, 70000
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", addr)
    t, j = start_both(tool)
    c, s = connect_accept(client, server, port, addr, fam)
    talk(client, server, c, s, n, m)
    server.call("wait_acked", s["idx"])
    client.call("wait_acked", c["idx"])
    first, fi, second, si = (client, c, server, s) if aborter == "client" else \
        (server, s, client, c)
    ab = first.call("abort", fi["idx"])
    time.sleep(0.2)  # the reset reaches the other end
    cl = second.call("close_after", si["idx"], 0)
    stop_all((t, j), (client, 2), (server, 2))
    rows = ours(t, HEADER, client, server)
    want = four_rows(client, server, c, s, fam, addr, port, xfirst=first)
    assert without_life(rows) == want
    tx_rx = [(n, m), (m, n)] if first is client else [(m, n), (n, m)]
    assert [(r["TX"], r["RX"]) for r in rows[2:]] == [(str(a), str(b)) for a, b in tx_rx]
    objs = json_of(j, client, server)
    check_json(objs, want, tx_rx)
    start = {client: (c["t0"], c["t1"]), server: (s["t_call"], s["t_ret"])}
    for r, o, who, end in ((rows[2], objs[2], first, ab), (rows[3], objs[3], second, cl)):
        life = (end["t0"] - start[who][1], end["t1"] - start[who][0])
        ms3(r["LIFE(ms)"], *life)
        ns_within(o["duration_ns"], *life)


def test_verbose(tool, child_factory, test_netns):
    """-v -l: TYPE words, NETNS, then LIFE(ms), TX and RX."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::1")
    t = tool("tcptracer", "-v", "-l")
    c, s = connect_accept(client, server, port, "::1", 6)
    talk(client, server, c, s, 3000, 5)
    cc = client.call("close_after", c["idx"], 0)
    server.call("recv_eof", s["idx"])
    sc = server.call("close_after", s["idx"], 0)
    stop_all((t,), (client, 2), (server, 2))
    head = VERBOSE + "    LIFE(ms)   TX         RX"
    assert t.out[0] == head
    rows = ours(t, head, client, server)
    assert [(r["TYPE"], r["PID"], r["SPORT"], r["NETNS"], r["TX"], r["RX"]) for r in rows] == [
        ("connect", str(client.info["pid"]), str(c["lport"]), str(test_netns), "-", "-"),
        ("accept", str(server.info["pid"]), str(port), str(test_netns), "-", "-"),
        ("close", str(client.info["pid"]), str(c["lport"]), str(test_netns), "3000", "5"),
        ("close", str(server.info["pid"]), str(port), str(test_netns), "5", "3000")]
    assert [r["LIFE(ms)"] for r in rows[:2]] == ["-", "-"]
    ms3(rows[2]["LIFE(ms)"], cc["t0"] - c["t1"], cc["t1"] - c["t0"])
    ms3(rows[3]["LIFE(ms)"], sc["t0"] - s["t_ret"], sc["t1"] - s["t_call"])


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_without_lifetime_unchanged(tool, child_factory, json_out):
    """Without -l: the table and the JSON keys as before, X rows too."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcptracer", *(["-j"] if json_out else []))
    c, s = connect_accept(client, server, port, "127.0.0.1", 4)
    talk(client, server, c, s, 1000, 1000)
    client.call("close_after", c["idx"], 0)
    server.call("recv_eof", s["idx"])
    server.call("close_after", s["idx"], 0)
    stop_all((t,), (client, 2), (server, 2))
    want = four_rows(client, server, c, s, 4, "127.0.0.1", port)
    if json_out:
        assert all(list(json.loads(l)) == JSON_KEYS for l in t.out)
        objs = json_of(t, client, server)
        assert [(o["type"], o["pid"], o["lport"]) for o in objs] == [
            ("connect", client.info["pid"], c["lport"]), ("accept", server.info["pid"], port),
            ("close", client.info["pid"], c["lport"]), ("close", server.info["pid"], port)]
    else:
        assert t.out[0] == PLAIN
        table_rows(t.out, PLAIN)  # every row has the header's columns, no more
        assert ours(t, PLAIN, client, server) == want
