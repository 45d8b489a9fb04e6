# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
tcpconnect -d: a real DNS server (a small responder of the test's own) in the
test's network namespace, and a real resolver client: glibc's getaddrinfo()
in a child whose /etc/resolv.conf names that server.
"""
import ctypes
import json
import socket
import struct
import threading
import time

import pytest

from conftest import libc
from test_tcpconnect import wait_rows

MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

# name -> (IPv4 answers, IPv6 answers): loopback addresses of the test netns
ZONE = {
    "www.tcpt.test": (["127.0.0.7"], ["::1"]),
    "v4only.tcpt.test": (["127.0.0.8"], []),
    "later.tcpt.test": (["127.0.0.9"], []),
    "json.tcpt.test": (["127.0.0.10"], []),
    "alias.tcpt.test": (["127.0.0.11"], []),
}
CNAME = {"alias.tcpt.test": "target.tcpt.test"}


def encode_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def answer(query):
    """The response to one query: A/AAAA from ZONE, a CNAME first for aliases."""
    qid, flags, qd = struct.unpack("!HHH", query[:6])
    pos, labels = 12, []
    while query[pos]:
        labels.append(query[pos + 1:pos + 1 + query[pos]].decode())
        pos += 1 + query[pos]
    qname = ".".join(labels)
    qtype, qclass = struct.unpack("!HH", query[pos + 1:pos + 5])
    question = query[12:pos + 5]
    v4, v6 = ZONE.get(qname, ([], []))
    rrs = []
    owner = b"\xc0\x0c"  # compression pointer to the question's name
    if qname in CNAME:
        target = encode_name(CNAME[qname])
        rrs.append(owner + struct.pack("!HHIH", 5, 1, 60, len(target)) + target)
        owner = target
    if qtype == 1:
        rrs += [owner + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_pton(socket.AF_INET, a)
                for a in v4]
    elif qtype == 28:
        rrs += [owner + struct.pack("!HHIH", 28, 1, 60, 16) +
                socket.inet_pton(socket.AF_INET6, a) for a in v6]
    rcode = 0 if qname in ZONE else 3
    head = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, len(rrs), 0, 0)
    return head + question + b"".join(rrs)


class Responder:
    """A UDP DNS server on port 53 of addr, in a thread."""

    def __init__(self, addr, dstopts=None):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        if dstopts:  # every response carries this destination options header
            self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS, dstopts)
        self.sock.bind((addr, 53))
        self.sock.settimeout(0.2)
        self.queries = []
        self.running = True
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while self.running:
            try:
                q, peer = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            self.queries.append(q)
            self.sock.sendto(answer(q), peer)

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture(params=["127.0.0.1", "::1"], ids=["server4", "server6"])
def dns_server(request, tmp_path):
    r = Responder(request.param)
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver %s\noptions timeout:2 attempts:1\n" % request.param)
    yield str(conf)
    r.close()


def use_resolv_conf(path):
    """In a child: a mount namespace of its own where /etc/resolv.conf is path."""
    if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
        raise OSError(ctypes.get_errno(), "unshare")
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "make-private")
    if libc.mount(path.encode(), b"/etc/resolv.conf", None, MS_BIND, None) != 0:
        raise OSError(ctypes.get_errno(), "bind resolv.conf")


def resolve_and_connect(keep, conf, name, family, port, pause, v4mapped=False):
    """getaddrinfo(name) through conf, wait pause s, connect to the first answer."""
    use_resolv_conf(conf)
    flags = socket.AI_V4MAPPED if v4mapped else 0
    start = time.monotonic()
    infos = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM, 0, flags)
    time.sleep(pause)
    fam, _, _, _, sa = infos[0]
    s = socket.socket(fam, socket.SOCK_STREAM)
    err = s.connect_ex(sa)
    keep.append(s)
    # the answer's age at the connect lies between these, however slow the machine
    return {"addr": sa[0], "lport": s.getsockname()[1], "errno": err,
            "min_ms": pause * 1000, "max_ms": (time.monotonic() - start) * 1000}


def check_query(text, name, r):
    """
    QUERY of the connect r made after resolving name: the name, with its age
    when that is over 100 ms (it may be, on a slow or emulated machine).
    """
    if text == name:
        assert r["min_ms"] <= 100, (text, r)
        return
    got, age = text.split(" ")
    assert got == name and age.startswith("(") and age.endswith("ms)"), text
    assert len(age[1:-3].split(".")[1]) == 3, text
    assert max(100, r["min_ms"]) < float(age[1:-3]) <= r["max_ms"], (text, r)


def unconnected_query(keep, server, name, qtype):
    """A query over an unconnected UDP socket (sendto/recvfrom), like some resolvers."""
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + encode_name(name) + \
        struct.pack("!HH", qtype, 1)
    s.sendto(q, (server, 53))
    data, _ = s.recvfrom(4096)
    s.close()
    return {"len": len(data)}


@pytest.fixture
def resolver_child(child_factory):
    import conftest
    conftest.actions.resolve_and_connect = staticmethod(resolve_and_connect)
    conftest.actions.unconnected_query = staticmethod(unconnected_query)
    return child_factory(comm="tcpt-resolver")


@pytest.fixture
def listeners(child_factory):
    server = child_factory(comm="tcpt-server")
    ports = {}
    for addr in ("127.0.0.7", "127.0.0.8", "127.0.0.9", "127.0.0.10", "127.0.0.11", "::1"):
        ports[addr] = server.call("listen", addr)
    return ports


def query_of(t, pid):
    rows = [l for l in t.out if str(pid) in l.split()]
    return [l.split(None, 6)[6] for l in rows]


def test_names_and_age(tool, dns_server, resolver_child, listeners):
    t = tool("tcpconnect", "-d")
    c = resolver_child
    a = c.call("resolve_and_connect", dns_server, "www.tcpt.test", socket.AF_INET,
               listeners["127.0.0.7"], 0)
    b = c.call("resolve_and_connect", dns_server, "www.tcpt.test", socket.AF_INET6,
               listeners["::1"], 0)
    d = c.call("resolve_and_connect", dns_server, "later.tcpt.test", socket.AF_INET,
               listeners["127.0.0.9"], 0.3)
    e = c.call("resolve_and_connect", dns_server, "alias.tcpt.test", socket.AF_INET,
               listeners["127.0.0.11"], 0)
    c.call("connect", "127.0.0.1", listeners["127.0.0.7"])  # no answer for it
    c.call("connect", "127.0.0.8", listeners["127.0.0.8"])  # never resolved
    assert [x["addr"] for x in (a, b, d, e)] == ["127.0.0.7", "::1", "127.0.0.9", "127.0.0.11"]
    wait_rows(t, c.info["pid"], 6)
    assert t.stop() == 0
    assert t.out[0].endswith("DPORT  QUERY")
    q = query_of(t, c.info["pid"])
    check_query(q[0], "www.tcpt.test", a)
    assert q[1] == "localhost"  # ::1 is always localhost
    assert " " in q[2]  # 300 ms: always with its age
    check_query(q[2], "later.tcpt.test", d)
    check_query(q[3], "alias.tcpt.test", e)  # the name asked for, not the CNAME target
    assert q[4] == "localhost"
    assert q[5] == "No DNS Query"


def test_v4mapped_connect_uses_the_a_answer(tool, dns_server, resolver_child, listeners):
    """An AF_INET6 socket connecting to ::ffff:a.b.c.d after an A answer for a.b.c.d."""
    t = tool("tcpconnect", "-d", "-j")
    c = resolver_child
    r = c.call("resolve_and_connect", dns_server, "v4only.tcpt.test", socket.AF_INET6,
               listeners["127.0.0.8"], 0, True)
    lo = c.call("connect", "::ffff:127.0.0.1", listeners["127.0.0.7"], 6)
    assert r["addr"] == "::ffff:127.0.0.8" and lo["errno"] == 111
    wait_rows(t, c.info["pid"], 2)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out if json.loads(l)["pid"] == c.info["pid"]]
    assert [(x["ip"], x["raddr"]) for x in rows] == [(6, "::ffff:127.0.0.8"),
                                                    (6, "::ffff:127.0.0.1")]
    check_query(rows[0]["query"], "v4only.tcpt.test", r)
    assert rows[1]["query"] == "localhost"


def test_json_query_key(tool, dns_server, resolver_child, listeners):
    t = tool("tcpconnect", "-d", "-j")
    c = resolver_child
    r = c.call("resolve_and_connect", dns_server, "json.tcpt.test", socket.AF_INET,
               listeners["127.0.0.10"], 0)
    wait_rows(t, c.info["pid"], 1)
    assert t.stop() == 0
    rows = [json.loads(l) for l in t.out if json.loads(l)["pid"] == c.info["pid"]]
    assert len(rows) == 1
    assert list(rows[0])[-1] == "query"
    check_query(rows[0]["query"], "json.tcpt.test", r)
    assert rows[0]["raddr"] == r["addr"]


def test_unconnected_socket_answers(tool, dns_server, resolver_child, listeners):
    server = open(dns_server).read().split()[1]
    t = tool("tcpconnect", "-d")
    c = resolver_child
    start = time.monotonic()
    assert c.call("unconnected_query", server, "v4only.tcpt.test", 1)["len"] > 12
    c.call("connect", "127.0.0.8", listeners["127.0.0.8"])
    span = {"min_ms": 0, "max_ms": (time.monotonic() - start) * 1000}
    wait_rows(t, c.info["pid"], 1)
    assert t.stop() == 0
    q = query_of(t, c.info["pid"])
    assert len(q) == 1
    check_query(q[0], "v4only.tcpt.test", span)


def test_no_cgroup2_visible(tool, dns_server, resolver_child, listeners):
    """
    As under "ip netns exec", which mounts a /sys of its own: no cgroup2
    hierarchy is visible where tcpconnect -d starts. It mounts one in a mount
    namespace of its own and sees the answers.
    """
    from conftest import tool_argv
    script = "mount -t sysfs sysfs /sys && exec " + " ".join(
        tool_argv("tcpconnect", "-d", "--debug"))
    t = tool("tcpconnect", argv=["unshare", "--mount", "--propagation", "private",
                                 "sh", "-c", script])
    assert ("tcpconnect: mounted cgroup2 on /sys/fs/cgroup in a mount namespace of its own "
            "(the system's mounts are untouched)") in t.err
    c = resolver_child
    a = c.call("resolve_and_connect", dns_server, "www.tcpt.test", socket.AF_INET,
               listeners["127.0.0.7"], 0)
    assert a["addr"] == "127.0.0.7"
    wait_rows(t, c.info["pid"], 1)
    assert t.stop() == 0
    q = query_of(t, c.info["pid"])
    assert len(q) == 1
    check_query(q[0], "www.tcpt.test", a)


def test_dns_with_count_is_usage_error(tool):
    from conftest import run_tool
    res = run_tool("tcpconnect", "-d", "-c")
    assert res.returncode == 2 and b"--count cannot be used with --dns" in res.stderr


def test_ipv6_extension_header(tool, tmp_path, resolver_child, listeners):
    """A response over IPv6 with a destination options header before UDP."""
    # 16 bytes: next header (the kernel's), length 1 (8-octet units past the
    # first 8), one option of 12 bytes of the experimental type 0x1e, which
    # a receiver skips (Linux drops more than 7 bytes of PadN in a row)
    r = Responder("::1", bytes([0, 1, 0x1e, 12]) + bytes(12))
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver ::1\noptions timeout:2 attempts:1\n")
    try:
        t = tool("tcpconnect", "-d")
        c = resolver_child
        a = c.call("resolve_and_connect", str(conf), "v4only.tcpt.test", socket.AF_INET,
                   listeners["127.0.0.8"], 0)
        assert a["addr"] == "127.0.0.8" and r.queries
        wait_rows(t, c.info["pid"], 1)
        assert t.stop() == 0
    finally:
        r.close()
    q = query_of(t, c.info["pid"])
    assert len(q) == 1
    check_query(q[0], "v4only.tcpt.test", a)


def test_no_banner_when_setup_fails():
    """
    With too few file descriptors for the DNS ring's reader, tcpconnect -d
    fails after loading: one line naming that, no "Tracing" banner before it.
    """
    import resource
    import subprocess
    from conftest import tool_argv

    for n in range(12, 64):
        res = subprocess.run(
            tool_argv("tcpconnect", "-d"), capture_output=True, timeout=30,
            stdin=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n)))
        err = res.stderr.decode().splitlines()
        if any("DNS answer cache" in l for l in err):
            assert err == ["tcpconnect: cannot set up the DNS answer cache "
                           "(Too many open files)"]
            assert res.returncode == 1 and res.stdout == b""
            return
        assert not any(l.startswith("Tracing") for l in err), \
            "limit %d: traced without the DNS reader failing first: %s" % (n, err)
    pytest.fail("no file descriptor limit made the DNS reader's setup fail")
