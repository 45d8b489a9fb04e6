# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""tcptracer: C, A and X rows of real connections, each exactly once."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import NOBODY, exchange, have, map_id_of, table_rows
from test_tcpconnect import norm, wait_rows

HEADER = "T  PID    COMM             IP SADDR            DADDR            SPORT  DPORT"


def addr(a, fam):
    a = norm(a)
    return "[%s]" % a if fam == 6 else a


def row(kind, who, fam, local, lport, remote, rport):
    return {"T": kind, "PID": str(who.info["pid"]), "COMM": who.comm, "IP": str(fam),
            "SADDR": addr(local, fam), "DADDR": addr(remote, fam), "SPORT": str(lport),
            "DPORT": str(rport)}


def ours(t, header, *children):
    pids = {c.info["pid"] for c in children}
    return [r for r in table_rows(t.out, header) if int(r["PID"]) in pids]


CASES = [("127.0.0.1", "127.0.0.1", 4), ("::1", "::1", 6), ("::", "::ffff:127.0.0.1", 6)]


@pytest.mark.parametrize("laddr,caddr,fam", CASES, ids=["ipv4", "ipv6", "v4mapped"])
def test_connect_accept_close(tool, child_factory, laddr, caddr, fam):
    """One C (client), one A (server), one X per side (the process that closed)."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client", uid=NOBODY)
    port = server.call("listen", laddr)
    t = tool("tcptracer")
    c, s = exchange(client, server, port, caddr, fam)
    client.call("close_all")
    server.call("close_all")  # the listener too: it never gets a row
    wait_rows(t, server.info["pid"], 2)
    wait_rows(t, client.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    assert t.out[0] == HEADER
    local = c["laddr"]
    assert ours(t, HEADER, client, server) == [
        row("C", client, fam, local, c["lport"], caddr, port),
        row("A", server, fam, s["laddr"], port, s["raddr"], c["lport"]),
        row("X", client, fam, local, c["lport"], caddr, port),
        row("X", server, fam, s["laddr"], port, s["raddr"], c["lport"]),
    ]


def test_close_at_process_exit(tool, child_factory):
    """X names whoever released the connection: here the client exits."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcptracer", "-j")
    c, s = exchange(client, server, port, "127.0.0.1", 4)
    client.close()  # killed: the kernel closes its sockets in its context
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out if json.loads(l)["pid"] == client.info["pid"]]
    assert [(r["type"], r["lport"], r["rport"]) for r in rows] == [
        ("connect", c["lport"], port), ("close", c["lport"], port)]


def test_close_after_peer_reset(tool, child_factory):
    """
    The server resets the connection; the client's socket is closed by the
    kernel first, and gets its X when the client closes it, in its context.
    """
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcptracer", "-j")
    c, s = exchange(client, server, port, "127.0.0.1", 4)
    server.call("abort_all")  # RST to the client; the listener closes too
    wait_rows(t, server.info["pid"], 2)
    time.sleep(0.2)
    client.call("close_all")
    wait_rows(t, client.info["pid"], 2)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out]
    rows = [(r["type"], r["pid"], r["lport"]) for r in rows
            if r["pid"] in (client.info["pid"], server.info["pid"])]
    assert rows == [("connect", client.info["pid"], c["lport"]),
                    ("accept", server.info["pid"], port),
                    ("close", server.info["pid"], port),
                    ("close", client.info["pid"], c["lport"])]


def test_refused_and_timed_out_connects(tool, child_factory):
    """No C and no X for a refused connect or one that never completes."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    closed = server.call("free_port", "127.0.0.1")
    full = server.call("listen", "127.0.0.1", 0)
    filler = child_factory(comm="tcpt-filler")
    for _ in range(3):
        filler.call("connect", "127.0.0.1", full, 4, True)  # fill the accept queue
    t = tool("tcptracer", "-j")
    assert client.call("connect", "127.0.0.1", closed)["errno"] == 111
    timed_out = client.call("connect_timeout", "127.0.0.1", full)
    assert timed_out["errno"] == 110  # ETIMEDOUT
    client.call("close_all")
    time.sleep(0.3)
    assert t.stop() == 0
    assert [l for l in t.out if json.loads(l)["pid"] == client.info["pid"]] == []


def map_entries(t, map_name, netns):
    """
    Entries in map_name of the running tool t, by bpftool, that belong to
    network namespace netns (the map's values start with the struct event,
    whose netns field is at byte 20): other traffic on the machine does not
    count.
    """
    dump = subprocess.run(["bpftool", "-j", "map", "dump", "id",
                           str(map_id_of(t.proc.pid, map_name))],
                          capture_output=True, check=True).stdout
    values = [bytes(int(b, 16) for b in e["value"]) for e in json.loads(dump)]
    return sum(int.from_bytes(v[20:24], "little") == netns for v in values)


def test_refused_connects_leave_maps_empty(tool, child_factory, test_netns):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    closed = server.call("free_port", "::1")
    t = tool("tcptracer")
    before = map_entries(t, "conns", test_netns)
    res = client.call("refused_many", "::1", closed, 10000)
    assert res == {"refused": 10000}
    after = map_entries(t, "conns", test_netns)
    assert t.stop() == 0
    print("conns entries before:", before, "after:", after)
    assert after <= before
    assert ours(t, HEADER, client) == []


def test_maps_hold_only_open_connections(tool, child_factory, test_netns):
    """The count above can see entries: an open connection holds two (C and A), closed none."""
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcptracer")
    base = map_entries(t, "conns", test_netns)
    exchange(client, server, port, "127.0.0.1", 4)
    assert map_entries(t, "conns", test_netns) == base + 2  # C and A
    client.call("close_all")
    server.call("close_all")
    wait_rows(t, server.info["pid"], 2)
    assert map_entries(t, "conns", test_netns) == base
    assert t.stop() == 0


@pytest.fixture
def second_netns():
    name = "tcpt2-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
    yield "/run/netns/" + name
    subprocess.run(["ip", "netns", "del", name], check=True)


def test_netns_filter_and_verbose(tool, child_factory, second_netns, test_netns):
    other = os.stat(second_netns).st_ino
    assert other != test_netns
    srv1 = child_factory(comm="tcpt-srv1")
    cli1 = child_factory(comm="tcpt-cli1")
    srv2 = child_factory(comm="tcpt-srv2", netns_path=second_netns)
    cli2 = child_factory(comm="tcpt-cli2", netns_path=second_netns)
    assert srv2.info["netns"] == other and cli1.info["netns"] == test_netns
    p1 = srv1.call("listen", "127.0.0.1")
    p2 = srv2.call("listen", "127.0.0.1")
    filtered = tool("tcptracer", "-N", str(other), "-v")
    verbose = tool("tcptracer", "-v")
    c1, _ = exchange(cli1, srv1, p1, "127.0.0.1", 4)
    c2, s2 = exchange(cli2, srv2, p2, "127.0.0.1", 4)
    wait_rows(filtered, srv2.info["pid"], 1)
    wait_rows(verbose, srv2.info["pid"], 1)
    time.sleep(0.2)
    assert filtered.stop() == 0 and verbose.stop() == 0
    head = "TYPE         PID    COMM             IP SADDR            DADDR            SPORT  DPORT"
    assert filtered.out[0] == head
    assert ours(filtered, head, cli1, srv1, cli2, srv2) == [
        {"TYPE": "connect", "PID": str(cli2.info["pid"]), "COMM": "tcpt-cli2", "IP": "4",
         "SADDR": "127.0.0.1", "DADDR": "127.0.0.1", "SPORT": str(c2["lport"]),
         "DPORT": str(p2)},
        {"TYPE": "accept", "PID": str(srv2.info["pid"]), "COMM": "tcpt-srv2", "IP": "4",
         "SADDR": "127.0.0.1", "DADDR": "127.0.0.1", "SPORT": str(p2),
         "DPORT": str(c2["lport"])},
    ]
    assert verbose.out[0] == head + "  NETNS"
    rows = ours(verbose, head + "  NETNS", cli1, srv1, cli2, srv2)
    assert [(r["TYPE"], r["PID"], r["NETNS"]) for r in rows] == [
        ("connect", str(cli1.info["pid"]), str(test_netns)),
        ("accept", str(srv1.info["pid"]), str(test_netns)),
        ("connect", str(cli2.info["pid"]), str(other)),
        ("accept", str(srv2.info["pid"]), str(other)),
    ]
    # NETNS is the inode of /proc/PID/ns/net of the process
    assert os.stat("/proc/%d/ns/net" % cli2.info["pid"]).st_ino == other


def test_verbose_timestamps_and_json(tool, child_factory, test_netns):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::1")
    vt = tool("tcptracer", "-v", "-t", "-N", str(test_netns))  # the first row is ours
    js = tool("tcptracer", "-j")
    c, s = exchange(client, server, port, "::1", 6)
    time.sleep(0.3)
    client.call("close_all")
    wait_rows(vt, client.info["pid"], 2)
    wait_rows(js, client.info["pid"], 2)
    assert vt.stop() == 0 and js.stop() == 0
    head = ("TIME(ns)      TYPE         PID    COMM             IP SADDR            DADDR"
            "            SPORT  DPORT")
    assert vt.out[0] == head
    rows = ours(vt, head, client, server)
    assert [r["TYPE"] for r in rows] == ["connect", "accept", "close"]
    ns = [int(r["TIME(ns)"]) for r in rows]  # integers: nanoseconds
    assert ns[0] == 0 and ns == sorted(ns) and 250_000_000 <= ns[2] < 5_000_000_000
    objs = [json.loads(l) for l in js.out]
    objs = [o for o in objs if o["pid"] in (client.info["pid"], server.info["pid"])]
    assert [(o["type"], o["pid"], o["lport"], o["rport"], o["laddr"]) for o in objs] == [
        ("connect", client.info["pid"], c["lport"], port, "::1"),
        ("accept", server.info["pid"], port, c["lport"], "::1"),
        ("close", client.info["pid"], c["lport"], port, "::1"),
    ]
    assert all(list(o)[:2] == ["time", "type"] for o in objs)


@pytest.mark.parametrize("flag,fam", [("-4", 4), ("-6", 6)])
def test_family_filter(tool, child_factory, flag, fam):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "::")
    t = tool("tcptracer", flag, "-j")
    exchange(client, server, port, "127.0.0.1", 4)
    exchange(client, server, port, "::1", 6)
    client.call("close_all")
    time.sleep(0.3)
    assert t.stop() == 0
    objs = [json.loads(l) for l in t.out]
    objs = [o for o in objs if o["pid"] in (client.info["pid"], server.info["pid"])]
    # an IPv4 client accepted on the dual-stack listener is an AF_INET6 socket
    want = {4: ["connect", "close"], 6: ["accept", "connect", "accept", "close"]}[fam]
    assert [o["type"] for o in objs] == want
    assert all(o["ip"] == fam for o in objs)


def test_pid_filter(tool, child_factory):
    server = child_factory(comm="tcpt-server")
    client = child_factory(comm="tcpt-client")
    port = server.call("listen", "127.0.0.1")
    t = tool("tcptracer", "-p", str(server.info["pid"]), "-j")
    c, s = exchange(client, server, port, "127.0.0.1", 4)
    client.call("close_all")
    server.call("close_all")
    wait_rows(t, server.info["pid"], 2)
    time.sleep(0.2)
    assert t.stop() == 0
    assert [(json.loads(l)["type"], json.loads(l)["pid"]) for l in t.out] == [
        ("accept", server.info["pid"]), ("close", server.info["pid"])]


@pytest.fixture
def veth_peer(child_factory):
    """
    A second network namespace, held by a child, linked to the test's own by
    a veth pair: (the test's address, the peer's, the path of the peer's
    netns) for IPv4 and IPv6. A packet crossing it is received in the
    context of whichever task sent it, as on a real network.
    """
    holder = child_factory(comm="tcpt-netns")
    holder.call("new_netns")
    ns = "/proc/%d/ns/net" % holder.pid
    dev = "tcptv%d" % os.getpid()

    def sh(*cmd, netns=None):
        subprocess.run((["nsenter", "--net=" + netns] if netns else []) + list(cmd),
                       check=True)

    sh("ip", "link", "add", dev, "type", "veth", "peer", "name", "tcptpeer",
       "netns", str(holder.pid))
    try:
        sh("ip", "addr", "add", "198.18.0.1/24", "dev", dev)
        sh("ip", "addr", "add", "fd00:7463::1/64", "dev", dev, "nodad")
        sh("ip", "link", "set", dev, "up")
        sh("ip", "addr", "add", "198.18.0.2/24", "dev", "tcptpeer", netns=ns)
        sh("ip", "addr", "add", "fd00:7463::2/64", "dev", "tcptpeer", "nodad", netns=ns)
        sh("ip", "link", "set", "tcptpeer", "up", netns=ns)
        yield {4: ("198.18.0.1", "198.18.0.2"), 6: ("fd00:7463::1", "fd00:7463::2")}, ns
    finally:
        subprocess.run(["ip", "link", "del", dev], capture_output=True)


@pytest.mark.skipif(not have("socat"), reason="socat is not installed")
@pytest.mark.parametrize("fam", [4, 6])
def test_x_of_half_closed_pairs_over_veth(tool, veth_peer, child_factory, fam):
    """
    socat clients in another network (and mount) namespace half-close at
    once (their stdin is empty) and close after socat's half-close timeout; a forking
    socat server answers each and exits a second later. Whichever end closes
    while the other's FIN crosses the veth, every X names the process that
    released that end: a client's X its own PID, never a server process's
    (before the fix, about 1 in 4 did); a server end's X the forked socat
    that served it (not the listener, which let go of it first), or that
    socat's own child, which inherited the socket and runs the SYSTEM
    command: where the forked socat let go first, the child's exec drops the
    last reference (close-on-exec), and its COMM is sh by then (seen on
    5.10 under QEMU in about half the connections).
    """
    (here, there), ns = veth_peer[0][fam], veth_peer[1]
    port = child_factory(comm="tcpt-ports").call("free_port", here)
    listen = "TCP6-LISTEN:%d,ipv6only=1" % port if fam == 6 else "TCP4-LISTEN:%d" % port
    server = subprocess.Popen(["socat", listen + ",fork,reuseaddr",
                               "SYSTEM:echo srv; sleep 1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = "TCP6:[%s]:%d" % (here, port) if fam == 6 else "TCP4:%s:%d" % (here, port)
    try:
        t = tool("tcptracer", "-j")
        clients = []
        for _ in range(30):
            # a mount namespace of its own, as "ip netns exec" gives: its
            # teardown at exit widens the gap between the file's release
            # and the socket's close
            clients.append(subprocess.Popen(["nsenter", "--net=" + ns, "unshare", "--mount",
                                             "socat", "-", target],
                                            stdin=subprocess.DEVNULL,
                                            stdout=subprocess.DEVNULL))
            time.sleep(0.2)
        assert all(c.wait(30) == 0 for c in clients)
        time.sleep(1.5)  # the last server processes exit
        assert t.stop() == 0
    finally:
        server.kill()
        server.wait()
    rows = [json.loads(l) for l in t.out]
    pids = {c.pid for c in clients}
    conns = {(r["lport"], r["rport"]): r for r in rows
             if r["type"] == "connect" and r["pid"] in pids}
    assert len(conns) == len(clients)
    wrong = []
    for (lport, rport), c in conns.items():
        mine = [(r["type"], r["pid"], r["comm"]) for r in rows
                if (r["lport"], r["rport"]) == (lport, rport)]
        theirs = [(r["type"], r["pid"], r["comm"]) for r in rows
                  if (r["lport"], r["rport"]) == (rport, lport)]
        if mine != [("connect", c["pid"], "socat"), ("close", c["pid"], "socat")]:
            wrong.append(("client", lport, mine))
        if (len(theirs) != 2 or theirs[0] != ("accept", server.pid, "socat") or
                theirs[1][0] != "close" or theirs[1][1] in pids | {server.pid} or
                theirs[1][2] not in ("socat", "sh")):
            wrong.append(("server", lport, theirs))
    assert wrong == [], "%d of %d connections wrong: %s" % (len(wrong), len(conns), wrong)
