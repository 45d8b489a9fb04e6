# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
tcpconnect -o: one row per connect attempt once its outcome is known, with
LAT(ms) and RESULT, against real attempts of the test's own children: on
loopback (established, refused), and over a veth pair into a peer network
namespace, to an address whose MAC nobody has (SYNs vanish: timeout,
aborted, pending) or whose SYNs a responder there answers with crafted
ICMP errors (unreach-*).
"""
import errno
import json
import re
import socket
import subprocess
import time

import pytest

from conftest import Netns, linked_prog_names, mode_in_use, table_rows, tool_argv
from test_common import CAPS, KERNEL, as_nobody
from test_tcpconnect import CASES, expect_row, mapped, norm, rows_of, wait_rows
from test_tcpconnect import HEADER as PLAIN
from test_tcpconnect_dns import check_query, dns_server, listeners, resolver_child  # noqa: F401

HEADER = PLAIN + "  LAT(ms)  RESULT"
HEADER_L = ("PID     COMM         IP SADDR            LPORT  DADDR            DPORT"
            "  LAT(ms)  RESULT")
JSON_KEYS = ["time", "type", "pid", "tid", "uid", "comm", "ip", "laddr", "lport", "raddr",
             "rport", "netns"]
EINPROGRESS = errno.EINPROGRESS
EXITS = {"sys_exit_connect", "sys_exit_connect_raw"}  # -o's, tracepoint mode


def loopback_local(conn):
    """
    conn with the local address the connect used: a connect refused on
    loopback leaves the socket unbound (getsockname says 0.0.0.0 or ::) by
    the time it returns, and there the kernel picked the destination itself.
    """
    conn = dict(conn)
    if conn["laddr"] in ("0.0.0.0", "::"):
        assert conn["raddr"] in ("127.0.0.1", "::1", mapped("127.0.0.1")), conn
        conn["laddr"] = conn["raddr"]
    return conn


def lat_ms(text, lo_s, hi_s):
    """
    LAT(ms) text: milliseconds with 3 decimals, at least lo_s and at most
    hi_s seconds (bounds from the test's own clocks, rounding allowed).
    """
    assert re.fullmatch(r"\d+\.\d{3}", text), text
    v = float(text)
    assert lo_s * 1e3 - 0.0005 <= v <= hi_s * 1e3 + 0.001, (text, lo_s, hi_s)
    return v


def check_latency_ns(o, lo_s, hi_s):
    ns = o["latency_ns"]
    assert type(ns) is int, o
    assert lo_s * 1e9 - 1000 <= ns <= hi_s * 1e9 + 1000, (ns, lo_s, hi_s)
    return ns


def outcome_row(c, conn, result, saddr=None):
    """The row fields for conn, without LAT(ms), and RESULT."""
    row = expect_row(c, conn)
    if saddr is not None:
        row["SADDR"] = saddr
    row["RESULT"] = result
    return row


def without_lat(rows):
    return [{k: v for k, v in r.items() if k != "LAT(ms)"} for r in rows]


def json_of(t, pid):
    objs = [json.loads(l) for l in t.out]  # every line is JSON
    return [o for o in objs if o["pid"] == pid]


def want_json(c, conn, result, err, netns, laddr=None, lport=None):
    """The JSON object tcpconnect -j -o must print for conn (time, latency_ns from got)."""
    o = {"time": None, "type": "connect", "pid": c.info["pid"], "tid": conn["tid"],
         "uid": c.uid, "comm": c.comm[:15], "ip": conn["family"],
         "laddr": norm(laddr or conn["laddr"]),
         "lport": conn["lport"] if lport is None else lport,
         "raddr": norm(conn["raddr"]), "rport": conn["rport"], "netns": netns,
         "result": result}
    if err is not None:
        o["error"] = errno.errorcode[err]
    o["latency_ns"] = None
    return o


def same_json(got, want):
    """got equals want but for time and latency_ns; the same keys in the same order."""
    assert list(got) == list(want), (list(got), list(want))
    assert {k: v for k, v in got.items() if k not in ("time", "latency_ns")} == \
        {k: v for k, v in want.items() if k not in ("time", "latency_ns")}


def stop_timed(t):
    """Stop t with SIGINT: the monotonic times just before the signal and after the exit."""
    before = time.monotonic()
    assert t.stop() == 0
    return before, time.monotonic()


# ---------------------------------------------------------------- namespaces
# (Netns, VethNet and the veth_net fixture are in conftest.py)


@pytest.fixture
def lone_netns(child_factory):
    """A network namespace with only lo: no route anywhere else."""
    ns = Netns("lone")
    yield ns
    ns.delete()


# ---------------------------------------------------------------- loopback


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=["ipv4", "ipv6", "v4mapped"])
def test_established_and_refused(tool, child_factory, laddr, caddr, fam):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client-xyz")  # 15 bytes: cut to 12
    port = server.call("listen", laddr)
    closed = server.call("free_port", laddr)
    t = tool("tcpconnect", "-o")
    ok = client.call("connect_timed", caddr, port, fam)
    refused = loopback_local(client.call("connect_timed", caddr, closed, fam))
    assert ok["errno"] == 0 and refused["errno"] == errno.ECONNREFUSED
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    assert t.out[0] == HEADER
    rows = rows_of(t, HEADER, {client.info["pid"], server.info["pid"]})
    assert without_lat(rows) == [outcome_row(client, ok, "established"),
                                 outcome_row(client, refused, "refused")]
    for r, c in zip(rows, (ok, refused)):
        lat_ms(r["LAT(ms)"], 0, c["t1"] - c["t0"])  # within the connect call
    if caddr.startswith("::ffff:"):
        assert rows[0]["SADDR"] == mapped("127.0.0.1")


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=["ipv4", "ipv6", "v4mapped"])
def test_json(tool, child_factory, test_netns, laddr, caddr, fam):
    """
    -j -o: result, error only where the kernel gave one, latency_ns (from
    bound sockets: the refused one's lport is known exactly too).
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client-xyz")
    port = server.call("listen", laddr)
    closed = server.call("free_port", laddr)
    src = "127.0.0.1" if fam == 4 else caddr
    t = tool("tcpconnect", "-j", "-o")
    ok = client.call("connect_timed", caddr, port, fam, False, None, src)
    refused = client.call("connect_timed", caddr, closed, fam, False, None, src)
    assert ok["errno"] == 0 and refused["errno"] == errno.ECONNREFUSED
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    mine = json_of(t, client.info["pid"])
    assert len(mine) == 2
    for o, c, result, err in ((mine[0], ok, "established", None),
                              (mine[1], refused, "refused", errno.ECONNREFUSED)):
        same_json(o, want_json(client, c, result, err, test_netns,
                               laddr=c["bound"][0], lport=c["bound"][1]))
        assert c["bound"][1] > 0 and (err or c["lport"] == c["bound"][1])
        check_latency_ns(o, 0, c["t1"] - c["t0"])
        assert c["w0"] - 0.05 <= o["time"] <= c["w1"] + 0.05
    assert list(mine[0])[12:] == ["result", "latency_ns"]
    assert list(mine[1])[12:] == ["result", "error", "latency_ns"]


@pytest.mark.parametrize("addr", ["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def test_two_connects_on_one_socket(tool, child_factory, addr):
    """One socket refused, then connected: two rows, in that order, of the same process."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", addr)
    closed = server.call("free_port", addr)
    t = tool("tcpconnect", "-o")
    first, second = client.call("connect_seq", addr, [closed, port])
    assert (first["errno"], second["errno"]) == (errno.ECONNREFUSED, 0)
    wait_rows(t, client.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    rows = rows_of(t, HEADER, {client.info["pid"], server.info["pid"]})
    assert without_lat(rows) == [outcome_row(client, loopback_local(first), "refused"),
                                 outcome_row(client, second, "established")]
    for r, c in zip(rows, (first, second)):
        lat_ms(r["LAT(ms)"], 0, c["t1"] - c["t0"])


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_count(tool, child_factory, json_out):
    """-c -o: one line per address pair, port and result; refused and established to one port."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    other = server.call("listen", "127.0.0.1")
    port = server.call("free_port", "127.0.0.1")
    t = tool("tcpconnect", "-c", "-o", *(["-j"] if json_out else []))
    for _ in range(3):
        assert client.call("connect", "127.0.0.1", port)["errno"] == errno.ECONNREFUSED
    assert server.call("listen_on", "127.0.0.1", port) == port
    for _ in range(2):
        assert client.call("connect", "127.0.0.1", port)["errno"] == 0
    for _ in range(4):
        assert client.call("connect", "127.0.0.1", other)["errno"] == 0
    client.call("close_all")
    time.sleep(0.2)
    assert t.out == []  # nothing until the end
    assert t.stop() == 0
    want = [("127.0.0.1", "127.0.0.1", other, "established", 4),
            ("127.0.0.1", "127.0.0.1", port, "refused", 3),
            ("127.0.0.1", "127.0.0.1", port, "established", 2)]
    if json_out:
        objs = [json.loads(l) for l in t.out]
        assert all(list(o) == ["ip", "laddr", "raddr", "rport", "result", "connects"]
                   for o in objs)
        got = [(o["laddr"], o["raddr"], o["rport"], o["result"], o["connects"]) for o in objs
               if o["rport"] in (port, other)]
        assert got == want
        assert all(o["ip"] == 4 for o in objs if o["rport"] in (port, other))
    else:
        assert t.out[0].split() == ["LADDR", "RADDR", "RPORT", "RESULT", "CONNECTS"]
        got = [tuple(l.split()) for l in t.out[1:]]
        got = [g for g in got if int(g[2]) in (port, other)]
        assert got == [(a, b, str(p), r, str(n)) for a, b, p, r, n in want]


def test_filters_apply(tool, child_factory):
    """-p and -P (destination port) select outcome rows as they select connect rows."""
    server = child_factory(comm="tcpt-server")
    a = child_factory(comm="tcpt-a")
    b = child_factory(comm="tcpt-b")
    closed = [server.call("free_port", "127.0.0.1") for _ in range(2)]
    assert closed[0] != closed[1]
    t = tool("tcpconnect", "-o", "-p", str(a.info["pid"]), "-P", str(closed[1]))
    b.call("connect", "127.0.0.1", closed[1])
    a.call("connect", "127.0.0.1", closed[0])
    ca = a.call("connect", "127.0.0.1", closed[1])
    b.call("connect", "127.0.0.1", closed[1])
    wait_rows(t, a.info["pid"], 1)
    time.sleep(0.3)
    assert t.stop() == 0
    assert without_lat(table_rows(t.out, HEADER)) == [
        outcome_row(a, ca, "refused", saddr="127.0.0.1")]


@pytest.mark.parametrize("flag,fam", [("-4", 4), ("-6", 6)])
def test_family_filter(tool, child_factory, flag, fam):
    """-4/-6 select outcome rows by the socket's family (a v4-mapped connect is IPv6)."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    closed = server.call("free_port", "::")
    t = tool("tcpconnect", "-o", flag)
    conns = [client.call("connect", "127.0.0.1", closed, 4),
             client.call("connect", "::1", closed),
             client.call("connect", mapped("127.0.0.1"), closed, 6)]
    assert [c["errno"] for c in conns] == [errno.ECONNREFUSED] * 3
    wait_rows(t, client.info["pid"], 1)
    time.sleep(0.3)
    assert t.stop() == 0
    want = [outcome_row(client, c, "refused") for c in conns if c["family"] == fam]
    assert without_lat(rows_of(t, HEADER, {client.info["pid"]})) == want


def test_with_dns(tool, dns_server, resolver_child, listeners):
    """-d -o: LAT(ms) and RESULT after DPORT, before QUERY; in JSON, query last."""
    t = tool("tcpconnect", "-d", "-o")
    j = tool("tcpconnect", "-d", "-o", "-j")
    c = resolver_child
    r = c.call("resolve_and_connect", dns_server, "www.tcpt.test", socket.AF_INET,
               listeners["127.0.0.7"], 0)
    refused = c.call("connect", "127.0.0.1", c.call("free_port", "127.0.0.1"))
    assert r["errno"] == 0 and refused["errno"] == errno.ECONNREFUSED
    wait_rows(t, c.info["pid"], 2)
    wait_rows(j, c.info["pid"], 2)
    assert t.stop() == 0 and j.stop() == 0
    # RESULT is padded before QUERY: to what width, the spec does not say
    assert t.out[0].startswith(HEADER) and t.out[0].split() == HEADER.split() + ["QUERY"]
    rows = [l.split(None, 8) for l in t.out[1:] if str(c.info["pid"]) in l.split()]
    assert [x[:6] + x[7:8] for x in rows] == [
        [str(c.info["pid"]), "tcpt-resolve", "4", "127.0.0.1", "127.0.0.7",
         str(listeners["127.0.0.7"]), "established"],
        [str(c.info["pid"]), "tcpt-resolve", "4", "127.0.0.1", "127.0.0.1",
         str(refused["rport"]), "refused"]]
    check_query(rows[0][8], "www.tcpt.test", r)
    assert rows[1][8] == "localhost"
    mine = json_of(j, c.info["pid"])
    assert [list(o)[12:] for o in mine] == [["result", "latency_ns", "query"],
                                            ["result", "error", "latency_ns", "query"]]
    check_query(mine[0]["query"], "www.tcpt.test", r)
    assert [o["result"] for o in mine] == ["established", "refused"]


@pytest.mark.parametrize("json_out", [False, True], ids=["table", "json"])
def test_without_outcome_unchanged(tool, child_factory, test_netns, json_out):
    """Without -o: no LAT/RESULT columns, no result/error/latency_ns keys."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    closed = server.call("free_port", "127.0.0.1")
    t = tool("tcpconnect", *(["-j"] if json_out else []))
    ok = client.call("connect", "127.0.0.1", port)
    refused = client.call("connect", "127.0.0.1", closed)
    assert ok["errno"] == 0 and refused["errno"] == errno.ECONNREFUSED
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    if json_out:
        mine = json_of(t, client.info["pid"])
        assert [list(o) for o in mine] == [JSON_KEYS, JSON_KEYS]
        assert [(o["raddr"], o["rport"]) for o in mine] == [("127.0.0.1", port),
                                                           ("127.0.0.1", closed)]
        assert all(list(json.loads(l)) == JSON_KEYS for l in t.out)
    else:
        assert t.out[0] == PLAIN
        assert rows_of(t, PLAIN, {client.info["pid"]}) == [expect_row(client, ok),
                                                           expect_row(client, refused)]


# ---------------------------------------------------------------- failed before a SYN


@pytest.mark.parametrize("fam,dest,bind", [
    (4, "10.99.0.1", None), (6, "2001:db8::1", None),
    (4, "10.99.0.1", "127.0.0.1"), (6, "2001:db8::1", "::1"),
], ids=["ipv4", "ipv6", "ipv4-bound", "ipv6-bound"])
def test_failed_no_route(tool, child_factory, lone_netns, fam, dest, bind):
    """
    No route (a namespace with only lo): connect fails before any SYN:
    failed:ENETUNREACH, DADDR/DPORT the arguments, SADDR/LPORT what the
    socket was bound to (the unspecified address and 0 if unbound).
    """
    client = child_factory(comm="tcpt-client", netns_path=lone_netns.path)
    t = tool("tcpconnect", "-o", "-L")
    j = tool("tcpconnect", "-o", "-j")
    c = client.call("connect_timed", dest, 4242, fam, False, None, bind)
    assert c["errno"] == errno.ENETUNREACH
    laddr, lport = c["bound"] if bind else ({4: "0.0.0.0", 6: "::"}[fam], 0)
    assert lport > 0 if bind else lport == 0
    wait_rows(t, client.info["pid"], 1)
    wait_rows(j, client.info["pid"], 1)
    client.call("close_all")
    time.sleep(0.2)
    assert t.stop() == 0 and j.stop() == 0
    assert t.out[0] == HEADER_L
    rows = rows_of(t, HEADER_L, {client.info["pid"]})
    want = outcome_row(client, c, "failed:ENETUNREACH", saddr=laddr)
    want["LPORT"] = str(lport)
    assert without_lat(rows) == [want]
    lat_ms(rows[0]["LAT(ms)"], 0, c["t1"] - c["t0"])
    mine = json_of(j, client.info["pid"])
    assert len(mine) == 1
    same_json(mine[0], want_json(client, c, "failed:ENETUNREACH", errno.ENETUNREACH,
                                 client.info["netns"], laddr=laddr, lport=lport))
    check_latency_ns(mine[0], 0, c["t1"] - c["t0"])


@pytest.mark.parametrize("as_root", [True, False], ids=["root", "nobody"])
def test_failed_no_route_at_either_exit(tool, child_factory, lone_netns, as_root):
    """
    Tracepoint mode sees a connect that fails before its SYN at connect(2)'s
    exit: its classic tracepoint as root where the kernel has
    bpf_task_pt_regs() (Linux 5.15) for the call's arguments; the raw
    sys_exit one as nobody with only CAP_BPF and CAP_PERFMON (tracefs is
    root's: README) or on an older kernel. Either gives the same row.
    """
    if mode_in_use("tcpconnect") != "tracepoint":
        pytest.skip("the connect exits are tracepoint mode's")
    argv = tool_argv("tcpconnect", "-o", "-j")
    if not as_root:
        ns = child_factory(comm="tcpt-mounts").call("own_mounts", True)
        argv = as_nobody(CAPS["tcpconnect"], ns, argv)
    client = child_factory(comm="tcpt-client", netns_path=lone_netns.path)
    j = tool("tcpconnect", argv=argv)
    linked = linked_prog_names(j.proc.pid)
    classic = as_root and KERNEL >= (5, 15)
    want = "sys_exit_connect" if classic else "sys_exit_connect_raw"
    assert want in linked and len(linked & EXITS) == 1, linked
    c = client.call("connect_timed", "10.99.0.1", 4242, 4, False, None, None)
    assert c["errno"] == errno.ENETUNREACH
    wait_rows(j, client.info["pid"], 1)
    time.sleep(0.2)
    assert j.stop() == 0
    mine = json_of(j, client.info["pid"])
    assert len(mine) == 1
    same_json(mine[0], want_json(client, c, "failed:ENETUNREACH", errno.ENETUNREACH,
                                 client.info["netns"], laddr="0.0.0.0", lport=0))
    check_latency_ns(mine[0], 0, c["t1"] - c["t0"])


@pytest.mark.parametrize("addr", ["127.0.0.1", "::1"], ids=["ipv4", "ipv6"])
def test_failed_no_local_port(tool, child_factory, lone_netns, addr):
    """
    One local port (ip_local_port_range), held by a connection to D:P: a
    second connect to D:P fails with EADDRNOTAVAIL inside connect, after the
    socket entered SYN_SENT: one row failed:EADDRNOTAVAIL (not also aborted).
    """
    server = child_factory(comm="tcpt-server", netns_path=lone_netns.path)
    client = child_factory(comm="tcpt-client", netns_path=lone_netns.path)
    port = server.call("listen", addr)  # from the default range
    lone_netns.sysctl("net/ipv4/ip_local_port_range", "20000 20000")
    t = tool("tcpconnect", "-o", "-L")
    j = tool("tcpconnect", "-o", "-j")
    held = client.call("connect_timed", addr, port)
    assert held["errno"] == 0 and held["lport"] == 20000
    c = client.call("connect_timed", addr, port)
    assert c["errno"] == errno.EADDRNOTAVAIL
    wait_rows(t, client.info["pid"], 2)
    wait_rows(j, client.info["pid"], 2)
    client.call("close_all")
    time.sleep(0.3)
    assert t.stop() == 0 and j.stop() == 0
    unspec = "0.0.0.0" if ":" not in addr else "::"
    rows = rows_of(t, HEADER_L, {client.info["pid"], server.info["pid"]})
    want = [outcome_row(client, held, "established"),
            outcome_row(client, c, "failed:EADDRNOTAVAIL", saddr=unspec)]
    want[0]["LPORT"], want[1]["LPORT"] = "20000", "0"
    assert without_lat(rows) == want
    for r, x in zip(rows, (held, c)):
        lat_ms(r["LAT(ms)"], 0, x["t1"] - x["t0"])
    mine = json_of(j, client.info["pid"])
    assert len(mine) == 2
    same_json(mine[0], want_json(client, held, "established", None, client.info["netns"]))
    same_json(mine[1], want_json(client, c, "failed:EADDRNOTAVAIL", errno.EADDRNOTAVAIL,
                                 client.info["netns"], laddr=unspec, lport=0))
    check_latency_ns(mine[1], 0, c["t1"] - c["t0"])


# ---------------------------------------------------------------- over a veth pair


def silent_rows(t, j, client, conn, saddr, result, err):
    """The one table row and JSON object of client: result; their LAT and latency_ns."""
    rows = rows_of(t, HEADER, {client.info["pid"]})
    assert without_lat(rows) == [outcome_row(client, conn, result, saddr=saddr)]
    mine = json_of(j, client.info["pid"])
    assert len(mine) == 1
    # a blocking connect that failed has let go of its port by the time it
    # returns: then any port (the SYN's); else the one the socket still has
    want = want_json(client, conn, result, err, client.info["netns"], laddr=saddr,
                     lport=conn["lport"] or mine[0]["lport"])
    same_json(mine[0], want)
    assert mine[0]["lport"] > 0
    return rows[0]["LAT(ms)"], mine[0]


@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_timeout(tool, child_factory, veth_net, fam):
    """
    tcp_syn_retries 1 in the client's namespace, SYNs unanswered: connect
    fails with ETIMEDOUT after about 3 s (1 + 2): timeout, LAT about that.
    """
    veth_net.client.sysctl("net/ipv4/tcp_syn_retries", 1)
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    t = tool("tcpconnect", "-o")
    j = tool("tcpconnect", "-o", "-j")
    c = client.call("connect_timed", veth_net.silent[fam], 80)
    assert c["errno"] == errno.ETIMEDOUT
    assert 2.5 <= c["t1"] - c["t0"] < 20
    wait_rows(t, client.info["pid"], 1)
    wait_rows(j, client.info["pid"], 1)
    assert t.stop() == 0 and j.stop() == 0
    lat, o = silent_rows(t, j, client, c, veth_net.client_addr[fam], "timeout",
                         errno.ETIMEDOUT)
    lat_ms(lat, 2.5, c["t1"] - c["t0"])
    check_latency_ns(o, 2.5, c["t1"] - c["t0"])
    # the row's time is the outcome's, not the connect call's
    assert c["w0"] + 2.5 <= o["time"] <= c["w1"] + 0.05


UNREACH = [
    (4, 0, errno.ENETUNREACH, "unreach-net", False),
    (4, 1, errno.EHOSTUNREACH, "unreach-host", False),
    (4, 3, errno.ECONNREFUSED, "unreach-port", False),
    (4, 13, errno.EHOSTUNREACH, "unreach-host", False),  # admin-prohibited: EHOSTUNREACH
    (6, 0, errno.ENETUNREACH, "unreach-net", False),
    (6, 1, errno.EACCES, "unreach-admin", False),
    (6, 3, errno.EHOSTUNREACH, "unreach-host", False),
    (6, 4, errno.ECONNREFUSED, "unreach-port", False),
    (4, 1, errno.EHOSTUNREACH, "unreach-host", True),
    (6, 4, errno.ECONNREFUSED, "unreach-port", True),
]


@pytest.mark.parametrize("fam,code,err,result,recverr", UNREACH,
                         ids=["v4-net", "v4-host", "v4-port", "v4-admin",
                              "v6-noroute", "v6-admin", "v6-addr", "v6-port",
                              "v4-host-recverr", "v6-port-recverr"])
def test_icmp_unreachable(tool, child_factory, veth_net, fam, code, err, result, recverr):
    """
    A responder on the peer's veth end answers each SYN to the silent
    address with an ICMP (ICMPv6) destination unreachable of code: the
    blocking connect fails with the kernel's errno for it, at once. With
    recverr the socket also queues the ICMP error, which the kernel reports
    before it sets the socket's error: still that one row, with that error.
    """
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW).close()
    except OSError as e:
        if e.errno != errno.EAFNOSUPPORT:
            raise
        pytest.skip("this kernel has no AF_PACKET sockets (CONFIG_PACKET)")
    responder = child_factory(comm="tcpt-icmp", netns_path=veth_net.peer.path)
    responder.call("icmp_reject", veth_net.PDEV, veth_net.silent[fam], code)
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    t = tool("tcpconnect", "-o")
    j = tool("tcpconnect", "-o", "-j")
    # TCP_SYNCNT 1: should no ICMP come, ETIMEDOUT after 3 s, not a hang
    c = client.call("connect_timed", veth_net.silent[fam], 80, None, False, 1, None, recverr)
    assert c["errno"] == err
    assert responder.call("icmp_replies") == [[fam, code]]
    wait_rows(t, client.info["pid"], 1)
    wait_rows(j, client.info["pid"], 1)
    time.sleep(0.2)
    assert t.stop() == 0 and j.stop() == 0
    lat, o = silent_rows(t, j, client, c, veth_net.client_addr[fam], result, err)
    lat_ms(lat, 0, c["t1"] - c["t0"])
    check_latency_ns(o, 0, c["t1"] - c["t0"])


@pytest.mark.parametrize("how", ["close", "disconnect"])
@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_aborted(tool, child_factory, veth_net, fam, how):
    """
    A non-blocking connect to the silent address, closed (or disconnected,
    connect AF_UNSPEC) 0.3 s later while in SYN_SENT: aborted, no error,
    LAT at least the 0.3 s, the row right after.
    """
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    t = tool("tcpconnect", "-o")
    j = tool("tcpconnect", "-o", "-j")
    c = client.call("connect_timed", veth_net.silent[fam], 80, None, True)
    assert c["errno"] == EINPROGRESS and c["lport"] > 0
    closed = client.call("close_after", c["idx"], 0.3, how)
    wait_rows(t, client.info["pid"], 1, timeout=5)
    wait_rows(j, client.info["pid"], 1, timeout=5)
    time.sleep(0.2)
    assert t.stop() == 0 and j.stop() == 0
    lat, o = silent_rows(t, j, client, c, veth_net.client_addr[fam], "aborted", None)
    assert "error" not in o
    lat_ms(lat, 0.3, closed["t1"] - c["t0"])
    check_latency_ns(o, 0.3, closed["t1"] - c["t0"])


@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_pending_at_exit(tool, child_factory, veth_net, fam):
    """
    A non-blocking connect to the silent address left open: no row while it
    is in SYN_SENT (not at the first SYN retransmission, 1 s in either);
    pending at exit, with LAT its age then.
    """
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    t = tool("tcpconnect", "-o")
    j = tool("tcpconnect", "-o", "-j")
    c = client.call("connect_timed", veth_net.silent[fam], 80, None, True)
    assert c["errno"] == EINPROGRESS and c["lport"] > 0
    time.sleep(1.5)
    assert rows_of(t, HEADER, {client.info["pid"]}) == [] and json_of(j, client.info["pid"]) == []
    ts = stop_timed(t)
    js = stop_timed(j)
    lat, o = silent_rows(t, j, client, c, veth_net.client_addr[fam], "pending", None)
    assert "error" not in o
    lat_ms(lat, ts[0] - c["t1"], ts[1] - c["t0"])
    check_latency_ns(o, js[0] - c["t1"], js[1] - c["t0"])
    assert c["w0"] + 1.5 <= o["time"]


@pytest.mark.parametrize("fam", [4, 6], ids=["ipv4", "ipv6"])
def test_latency_of_a_known_delay(tool, child_factory, veth_net, fam):
    """netem delays the client's packets 100 ms: established, LAT at least 100 ms."""
    res = subprocess.run(["tc", "-n", veth_net.client.name, "qdisc", "add", "dev",
                          veth_net.CDEV, "root", "netem", "delay", "100ms"],
                         capture_output=True, text=True)
    if res.returncode != 0 and "unknown" in res.stderr.lower():
        pytest.skip("this kernel has no netem qdisc (sch_netem)")
    assert res.returncode == 0, res.stderr
    server = child_factory(comm="tcpt-server", netns_path=veth_net.peer.path)
    client = child_factory(comm="tcpt-client", netns_path=veth_net.client.path)
    port = server.call("listen", veth_net.peer_addr[fam])
    t = tool("tcpconnect", "-o")
    c = client.call("connect_timed", veth_net.peer_addr[fam], port)
    assert c["errno"] == 0 and c["t1"] - c["t0"] >= 0.1
    wait_rows(t, client.info["pid"], 1)
    assert t.stop() == 0
    rows = rows_of(t, HEADER, {client.info["pid"], server.info["pid"]})
    assert without_lat(rows) == [outcome_row(client, c, "established")]
    assert c["laddr"] == veth_net.client_addr[fam]
    lat_ms(rows[0]["LAT(ms)"], 0.1, c["t1"] - c["t0"])
