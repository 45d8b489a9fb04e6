# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
End-to-end test support: the test process moves into a network namespace of
its own (lo up, IPv4 and IPv6), runs the real tools from build/, and creates
real TCP traffic from child processes whose identity (PID, TID, UID, COMM)
and socket addresses it knows exactly.
"""
import ctypes
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("TCPT_BUILD") or os.path.join(ROOT, "build")
SANITIZED = os.environ.get("TCPT_SANITIZE") == "1"
BPFFS = "/sys/fs/bpf"


def cgroup2_mount():
    """Where the cgroup v2 hierarchy is mounted (hybrid or unified layout)."""
    with open("/proc/self/mounts") as f:
        for line in f:
            if line.split()[2] == "cgroup2":
                return line.split()[1]
    return None


CGROUP2 = cgroup2_mount()

TOOLS = ["tcpconnect", "tcpaccept", "tcptracer"]
NOBODY = 65534

# ---------------------------------------------------------------- attach modes

MODES = ("fentry", "kprobe", "tracepoint")  # the order auto tries them in
# TCPT_ATTACH=MODE: every tool a test starts runs with --attach MODE (unless
# the test names a mode itself); make vmtest runs the suite once per mode.
ATTACH = os.environ.get("TCPT_ATTACH", "auto")


def expected_modes():
    """
    The modes this kernel must run (a failure to trace in one is a test
    failure): TCPT_EXPECT_MODES when given (make vmtest derives it from the
    kernel package's config); else what can be seen: tracepoints always,
    kprobes where the kprobe PMU exists. fentry is then not required: a
    kernel built for it may still refuse it (this development machine's
    does, with EPERM). A mode not expected may work, or must fail clearly.
    """
    env = os.environ.get("TCPT_EXPECT_MODES")
    if env is not None:
        return set(env.split())
    modes = {"tracepoint"}
    if os.path.exists("/sys/bus/event_source/devices/kprobe/type"):
        modes.add("kprobe")
    return modes


EXPECT_MODES = expected_modes()


def tool_argv(name, *args):
    """The command line of a tool: build/NAME, --attach ATTACH, args."""
    mode = [] if ATTACH == "auto" or "--attach" in args else ["--attach", ATTACH]
    return [os.path.join(BUILD, name)] + mode + list(args)


_mode_in_use = {}


def mode_in_use(name):
    """The attach mode name runs in under this suite's ATTACH (asked once)."""
    if name not in _mode_in_use:
        t = Tool(name, ["--debug"])
        t.stop()
        line = [l for l in t.err if l.startswith(name + ": attach mode: ")]
        assert line, t.err[-10:]
        _mode_in_use[name] = line[0].split()[3]
    return _mode_in_use[name]


libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
PR_SET_NAME = 15
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SHARED = 1 << 20
MNT_DETACH = 2
TRACEFS = "/sys/kernel/tracing"


def _check(rc, what):
    if rc != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def unshare(flags):
    _check(libc.unshare(flags), "unshare")


def setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        _check(libc.setns(fd, 0), "setns")
    finally:
        os.close(fd)


def set_comm(name):
    _check(libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0), "prctl")


def netns_inode(pid="self"):
    return os.stat("/proc/%s/ns/net" % pid).st_ino


def new_netns():
    """Move the calling process into a fresh network namespace, lo up."""
    unshare(CLONE_NEWNET)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def is_mounted(path):
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


# The mount namespace the suite was started in (an open fd, root only): the
# tests run in one of their own (pytest_configure), and may look back at it.
START_MNTNS = None
START_MOUNTINFO = None  # its /proc/self/mountinfo then


def own_mount_namespace():
    """
    Move pytest into a mount namespace of its own, before any test mounts
    anything: whatever the tests mount (bpffs, tmpfs over /sys/kernel/btf,
    "ip netns add"'s /run/netns) stays in it, and goes with it when the last
    process in it exits, however the run ends. Its mounts are first made
    private, cut from the system's (nothing propagates either way), then
    shared again among themselves: in the namespaces the tests and the tools
    make from it, a mount that is not made private itself propagates back,
    as on a host where systemd shares "/", so the tests that see the tools
    leave no mount behind still catch a tool that forgets to.
    """
    global START_MNTNS, START_MOUNTINFO
    START_MNTNS = os.open("/proc/self/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
    with open("/proc/self/mountinfo") as f:
        START_MOUNTINFO = f.read()
    unshare(CLONE_NEWNS)
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make-rprivate /")
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_SHARED, None), "make-rshared /")


def pytest_configure(config):
    if os.geteuid() != 0:
        return  # test_netns stops the run
    try:
        own_mount_namespace()
    except OSError as e:
        pytest.exit("cannot move the tests into a mount namespace of their own: %s" % e,
                    returncode=1)


@pytest.fixture(scope="session", autouse=True)
def test_netns():
    """
    All tests run in a network namespace of their own (and a mount
    namespace: pytest_configure).
    """
    if os.geteuid() != 0:
        pytest.exit("the end-to-end tests need root", returncode=1)
    if ATTACH != "auto" and ATTACH not in EXPECT_MODES:
        pytest.exit("TCPT_ATTACH=%s: this kernel is not expected to run that mode "
                    "(expected: %s)" % (ATTACH, " ".join(sorted(EXPECT_MODES))), returncode=1)
    new_netns()
    return netns_inode()


@pytest.fixture(scope="session")
def bpffs():
    """bpffs, mounted where it is not (in the suite's mount namespace)."""
    if not is_mounted(BPFFS):
        subprocess.run(["mount", "-t", "bpf", "bpf", BPFFS], check=True)
    return BPFFS


# ---------------------------------------------------------------- children


class Child:
    """
    A forked process that runs actions on request and reports what its
    sockets know. Created before the tool starts (so -p can name it), it
    waits for commands on a pipe.
    """

    def __init__(self, comm="tcpt-client", uid=None, cgroup=None, new_mntns=False,
                 netns_path=None):
        self.cmd_r, self.cmd_w = os.pipe()
        self.res_r, self.res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.close(self.cmd_w)
                os.close(self.res_r)
                if netns_path:
                    setns(netns_path)
                if new_mntns:
                    unshare(CLONE_NEWNS)
                if cgroup:
                    with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                        f.write(str(os.getpid()))
                set_comm(comm)
                if uid is not None:
                    os.setresgid(uid, uid, uid)
                    os.setresuid(uid, uid, uid)
                self._serve()
            finally:
                os._exit(0)
        os.close(self.cmd_r)
        os.close(self.res_w)
        self.comm = comm
        self.uid = 0 if uid is None else uid
        self.info = self.call("info")

    # in the child
    def _serve(self):
        rf = os.fdopen(self.cmd_r)
        wf = os.fdopen(self.res_w, "w")
        keep = []
        for line in rf:
            req = json.loads(line)
            try:
                res = getattr(actions, req["op"])(keep, *req["args"])
            except Exception as e:  # report to the parent
                res = {"error": repr(e)}
            wf.write(json.dumps(res) + "\n")
            wf.flush()

    def send(self, op, *args):
        """Ask for op without waiting for its answer (see recv)."""
        os.write(self.cmd_w, (json.dumps({"op": op, "args": args}) + "\n").encode())
        self.pending = op

    def recv(self, timeout=30):
        buf = b""
        while not buf.endswith(b"\n"):
            r, _, _ = select.select([self.res_r], [], [], timeout)
            assert r, "child %d did not answer %s" % (self.pid, self.pending)
            chunk = os.read(self.res_r, 1 << 20)
            assert chunk, "child %d died during %s" % (self.pid, self.pending)
            buf += chunk
        res = json.loads(buf)
        if isinstance(res, dict) and "error" in res:
            raise AssertionError("child %s failed: %s" % (self.pending, res["error"]))
        return res

    def call(self, op, *args):
        self.send(op, *args)
        return self.recv()

    def threads_in_syscall(self, nrs):
        """TIDs of our threads blocked right now in one of the syscalls nrs."""
        tids = []
        for tid in os.listdir("/proc/%d/task" % self.pid):
            try:
                with open("/proc/%d/task/%s/syscall" % (self.pid, tid)) as f:
                    nr = f.read().split()[0]
            except OSError:
                continue
            if nr.isdigit() and int(nr) in nrs:
                tids.append(int(tid))
        return tids

    def wait_blocked(self, nrs, n, timeout=10):
        end = time.monotonic() + timeout
        while len(self.threads_in_syscall(nrs)) < n:
            assert time.monotonic() < end, "threads of %d not blocked in %s" % (self.pid, nrs)
            time.sleep(0.02)

    def close(self):
        if self.cmd_w is None:
            return
        # other children hold copies of our pipe: no EOF to wait for
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.cmd_w)
        os.close(self.res_r)
        self.cmd_w = None


# accept(2) and accept4(2) as this machine numbers them (as /proc/PID/syscall
# shows them), from the C library's headers; where no compiler is at hand,
# from the kernel's: x86_64's own table, and the generic one arm64 uses.
ACCEPT_NRS = {"x86_64": (43, 288), "aarch64": (202, 242)}


def accept_syscalls():
    try:
        res = subprocess.run(["cc", "-dM", "-E", "-"], input=b"#include <sys/syscall.h>\n",
                             capture_output=True, timeout=60)
        nrs = dict(re.findall(r"^#define __NR_(accept4?) (\d+)$", res.stdout.decode(), re.M))
        if res.returncode == 0 and len(nrs) == 2:
            return int(nrs["accept"]), int(nrs["accept4"])
    except OSError:
        pass
    machine = os.uname().machine
    if machine not in ACCEPT_NRS:
        raise RuntimeError("the numbers of accept(2) and accept4(2) on %s: no C compiler "
                           "(cc) to ask, and not in ACCEPT_NRS" % machine)
    return ACCEPT_NRS[machine]


SYS_ACCEPT, SYS_ACCEPT4 = accept_syscalls()
SOCK_NONBLOCK = 0o4000
listeners = {}  # port -> listening socket, in a child


def sockname(s):
    a = s.getsockname()
    return a[0], a[1]


class actions:
    """What a Child can be asked to do. Each returns JSON-able facts."""

    @staticmethod
    def info(keep):
        with open("/proc/self/comm") as f:
            comm = f.read().rstrip("\n")
        return {
            "pid": os.getpid(),
            "tid": threading.get_native_id(),
            "uid": os.getuid(),
            "comm": comm,
            "netns": os.stat("/proc/self/ns/net").st_ino,
            "mntns": os.stat("/proc/self/ns/mnt").st_ino,
        }

    @staticmethod
    def listen(keep, addr, backlog=128):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, 0))
        s.listen(backlog)
        keep.append(s)
        listeners[s.getsockname()[1]] = s
        return s.getsockname()[1]

    @staticmethod
    def accept(keep, port, n=1, how="accept4", nonblock=False):
        """
        n threads each accept one connection on the listener of port, with the
        raw accept(2) or accept4(2) syscall, on a blocking or non-blocking
        listener. Returns what each accepted socket knows, and its thread.
        """
        lsock = listeners[port]
        lsock.setblocking(not nonblock)
        out = []
        lock = threading.Lock()

        def one():
            while True:
                if nonblock:
                    select.select([lsock], [], [], 30)
                if how == "accept":
                    fd = libc.syscall(SYS_ACCEPT, lsock.fileno(), None, None)
                else:
                    fd = libc.syscall(SYS_ACCEPT4, lsock.fileno(), None, None,
                                      SOCK_NONBLOCK if nonblock else 0)
                if fd >= 0 or ctypes.get_errno() not in (11, 4):  # EAGAIN, EINTR
                    break
            assert fd >= 0, os.strerror(ctypes.get_errno())
            s = socket.socket(fileno=fd)
            keep.append(s)
            with lock:
                out.append({"tid": threading.get_native_id(), "fd": fd,
                            "laddr": sockname(s)[0], "lport": sockname(s)[1],
                            "raddr": s.getpeername()[0], "rport": s.getpeername()[1]})

        threads = [threading.Thread(target=one) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return out

    @staticmethod
    def free_port(keep, addr):
        """A port with nobody listening (bound, then released)."""
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.bind((addr, 0))
        port = s.getsockname()[1]
        s.close()
        return port

    @staticmethod
    def connect(keep, addr, port, family=None, nonblock=False):
        """
        One connect(2). Returns the local and remote end as the socket sees
        them right after the call, and the outcome.
        """
        fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(
            family, socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s = socket.socket(fam, socket.SOCK_STREAM)
        if nonblock:
            s.setblocking(False)
        err = s.connect_ex((addr, port))
        local = s.getsockname()
        keep.append(s)
        laddr = local[0]
        if err and laddr in ("0.0.0.0", "::"):
            # A refused connect unbinds the source address before connect()
            # returns; on loopback the kernel picked the destination itself.
            assert addr.startswith("127.") or addr in ("::1", "::ffff:127.0.0.1"), addr
            laddr = addr
        return {
            "tid": threading.get_native_id(),
            "family": 6 if fam == socket.AF_INET6 else 4,
            "laddr": laddr,
            "lport": local[1],
            "raddr": addr,
            "rport": port,
            "errno": err,
        }

    @staticmethod
    def connect_timeout(keep, addr, port):
        """A blocking connect that gives up after one SYN retransmission."""
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 1)
        err = s.connect_ex((addr, port))
        keep.append(s)
        return {"errno": err}

    @staticmethod
    def refused_many(keep, addr, port, n):
        refused = 0
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        for _ in range(n):
            with socket.socket(fam) as s:
                refused += s.connect_ex((addr, port)) == 111
        return {"refused": refused}

    @staticmethod
    def new_netns(keep):
        """Move into a network namespace of our own, lo up; its inode."""
        new_netns()
        return netns_inode()

    @staticmethod
    def own_mounts(keep, tracefs):
        """
        Move into a mount namespace of our own, private (nothing propagates
        out), with tracefs mounted (tracefs=True) or not (False). Its mounts
        are then shared among themselves, as the suite's are: a tool started
        here that mounts in a namespace of its own without making it private
        would leave its mount here too.
        """
        unshare(CLONE_NEWNS)
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "make-private")
        for path in (TRACEFS, "/sys/kernel/debug/tracing"):
            while not tracefs and is_mounted(path):
                _check(libc.umount2(path.encode(), MNT_DETACH), "umount " + path)
        if tracefs and not is_mounted(TRACEFS):
            _check(libc.mount(b"tracefs", TRACEFS.encode(), b"tracefs", 0, None), "mount")
        _check(libc.mount(b"none", b"/", None, MS_REC | MS_SHARED, None), "make-shared")
        return "/proc/%d/ns/mnt" % os.getpid()

    @staticmethod
    def hide_kernel_btf(keep):
        """
        In the mount namespace of own_mounts: an empty /sys/kernel/btf, as on
        a kernel that exposes no BTF (the kernel itself still has it).
        """
        _check(libc.mount(b"tmpfs", b"/sys/kernel/btf", b"tmpfs", 0, None), "mount tmpfs")
        return os.path.exists("/sys/kernel/btf/vmlinux")

    @staticmethod
    def abort_all(keep):
        """Close every socket with a reset (SO_LINGER 0)."""
        for s in keep:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return actions.close_all(keep)

    @staticmethod
    def close_all(keep):
        n = len(keep)
        for s in keep:
            s.close()
        keep.clear()
        return n


@pytest.fixture
def child_factory():
    made = []

    def make(**kw):
        c = Child(**kw)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


# ---------------------------------------------------------------- the tools


class Tool:
    """A running tool: stdout and stderr read by threads, line by line."""

    def __init__(self, name, args, ready=True, timeout=30, argv=None):
        self.argv = argv or tool_argv(name, *args)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.out = []
        self.err = []
        self.cv = threading.Condition()
        self.threads = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.out), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True),
        ]
        for t in self.threads:
            t.start()
        if ready:
            self.wait_err(lambda l: l.startswith("Tracing"), timeout)

    def _read(self, f, lines):
        for raw in f:
            with self.cv:
                lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.cv.notify_all()

    def _wait(self, lines, pred, timeout):
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for l in lines:
                    if pred(l):
                        return l
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not any(t.is_alive() for t in self.threads)):
                    raise AssertionError(
                        "no matching line from %s within %ss\nstdout: %s\nstderr: %s" % (
                            " ".join(self.argv), timeout, self.out[-20:], self.err[-20:]))
                self.cv.wait(min(left, 0.1))

    def wait_out(self, pred, timeout=10):
        return self._wait(self.out, pred, timeout)

    def wait_err(self, pred, timeout=10):
        return self._wait(self.err, pred, timeout)

    def stop(self, sig=signal.SIGINT, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        for t in self.threads:
            t.join(timeout)
        return rc


@pytest.fixture
def tool():
    started = []

    def start(name, *args, **kw):
        t = Tool(name, args, **kw)
        started.append(t)
        return t

    yield start
    for t in started:
        if t.proc.poll() is None:
            t.proc.kill()
            t.proc.wait()


def run_tool(name, *args, timeout=30, **kw):
    """Run a tool that is expected to exit by itself."""
    return subprocess.run(tool_argv(name, *args), capture_output=True,
                          timeout=timeout, **kw)


# ---------------------------------------------------------------- helpers


def bpftool(*args):
    return subprocess.run(["bpftool"] + list(args), check=True, capture_output=True)


def u64hex(v, size=8):
    return [("%02x" % b) for b in v.to_bytes(size, "little")]


@pytest.fixture
def pinned(bpffs):
    made = []

    def make(name, key, value, kind="hash"):
        path = os.path.join(bpffs, "tcpt_test_%s_%d" % (name, os.getpid()))
        if os.path.exists(path):
            os.unlink(path)
        bpftool("map", "create", path, "type", kind, "key", str(key), "value", str(value),
                "entries", "16", "name", name[:15])
        made.append(path)
        return path

    yield make
    for p in made:
        os.unlink(p)


_cgroups = itertools.count()


@pytest.fixture
def cgroup():
    """A fresh cgroup v2 directory; its processes go back to the root after."""
    if CGROUP2 is None:
        pytest.fail("no cgroup v2 hierarchy is mounted")
    path = os.path.join(CGROUP2, "tcpt-test-%d-%d" % (os.getpid(), next(_cgroups)))
    os.mkdir(path)
    yield path
    with open(os.path.join(path, "cgroup.procs")) as f:
        pids = f.read().split()
    for pid in pids:
        with open(os.path.join(CGROUP2, "cgroup.procs"), "w") as f:
            f.write(pid)
    os.rmdir(path)


def exchange(client, server, port, addr, family):
    """
    One whole connection: client connects to addr:port, server accepts it.
    Returns (what the client's socket knows, what the accepted one knows).
    """
    server.send("accept", port, 1)
    c = client.call("connect", addr, port, family)
    s = server.recv()[0]
    assert c["errno"] == 0 and (c["lport"], s["lport"]) == (s["rport"], port)
    return c, s


def table_rows(lines, header):
    """Rows of a table as dicts keyed by the header's column names."""
    names = header.split()
    rows = []
    for l in lines:
        if l == header:
            continue
        f = l.split()
        assert len(f) == len(names), "row %r does not match header %r" % (l, header)
        rows.append(dict(zip(names, f)))
    return rows


def our_programs():
    """Names of BPF programs loaded right now (to see nothing is left)."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True)
    return [p.get("name", "") for p in json.loads(out.stdout or b"[]")]


def prog_ids_of(pid):
    """IDs of the BPF programs process pid holds (its program and link fds)."""
    ids = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                for line in f:
                    if line.startswith("prog_id:"):
                        ids.add(int(line.split()[1]))
        except OSError:
            continue
    return ids


def prog_info(prog_id):
    out = subprocess.run(["bpftool", "-j", "prog", "show", "id", str(prog_id)],
                         capture_output=True, check=True)
    return json.loads(out.stdout)


def linked_prog_names(pid):
    """
    Names of the programs process pid has attached right now: through BPF
    links (their fds), or through perf events, which is how libbpf attaches
    kprobes and classic tracepoints on kernels before 5.15 (no BPF link:
    bpftool asks the kernel about each of the process's perf event fds).
    """
    names = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                info = f.read()
        except OSError:
            continue
        if "link_type:" in info:
            ids = [l.split()[1] for l in info.splitlines() if l.startswith("prog_id:")]
            names.update(prog_info(int(i)).get("name", "") for i in ids)
    out = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, check=True)
    for e in json.loads(out.stdout or b"[]"):
        if e.get("pid") == pid:
            names.add(prog_info(e["prog_id"]).get("name", ""))
    return names


def threads_in_accept(exclude_pids=()):
    """TIDs of the threads of other processes blocked in accept(2) or accept4(2) now."""
    tids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) in exclude_pids:
            continue
        try:
            for tid in os.listdir("/proc/%s/task" % pid):
                with open("/proc/%s/task/%s/syscall" % (pid, tid)) as f:
                    nr = f.read().split()[0]
                if nr.lstrip("-").isdigit() and int(nr) in (SYS_ACCEPT, SYS_ACCEPT4):
                    tids.append(int(tid))
        except OSError:
            continue
    return tids


def prog_names_of(pid):
    """Names of the BPF programs process pid holds."""
    return {prog_info(i).get("name", "") for i in prog_ids_of(pid)}


def map_id_of(pid, map_name):
    """The ID of the map map_name that the programs of process pid use."""
    for i in prog_ids_of(pid):
        for m in prog_info(i).get("map_ids", []):
            out = subprocess.run(["bpftool", "-j", "map", "show", "id", str(m)],
                                 capture_output=True, check=True)
            if json.loads(out.stdout).get("name") == map_name:
                return m
    raise AssertionError("process %d uses no map %s" % (pid, map_name))


def loaded_prog_ids():
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, check=True)
    return {p["id"] for p in json.loads(out.stdout or b"[]")}


def gone_soon(ids, timeout=5):
    """True once none of these programs is loaded (the kernel frees them lazily)."""
    end = time.monotonic() + timeout
    while ids & loaded_prog_ids():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def strace_bpf(argv, **kw):
    """Run argv under strace and return (result, the bpf() commands it made)."""
    log = "/tmp/tcpt-strace.%d" % os.getpid()
    # LeakSanitizer cannot run under ptrace: leaks are checked in other tests
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    res = subprocess.run(["strace", "-f", "-qq", "-e", "trace=bpf", "-o", log] + argv,
                         capture_output=True, timeout=60, env=env, **kw)
    with open(log) as f:
        cmds = re.findall(r"bpf\((BPF_[A-Z_]+)", f.read())
    os.unlink(log)
    return res, cmds


def have(cmd):
    return shutil.which(cmd) is not None


# ---------------------------------------------------------------- outcomes (tcpconnect -o)
# More that a Child can be asked to do: connects that report their own
# timing, one socket connected twice, closing a socket after a known sleep,
# and answering SYNs with crafted ICMP destination-unreachable errors.

TCP_SYNCNT = 7
IP_RECVERR = 11  # linux/in.h
IPV6_RECVERR = 25  # linux/in6.h
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
_icmp_replies = []  # (family, code) of each ICMP error a responder sent, in a child


def _connect_one(s, addr, port, fam):
    """connect_ex on s, timed by the caller's own clocks (monotonic and wall)."""
    w0, t0 = time.time(), time.monotonic()
    err = s.connect_ex((addr, port))
    t1, w1 = time.monotonic(), time.time()
    local = s.getsockname()
    return {
        "tid": threading.get_native_id(),
        "family": 6 if fam == socket.AF_INET6 else 4,
        "laddr": local[0],
        "lport": local[1],
        "raddr": addr,
        "rport": port,
        "errno": err,
        "t0": t0, "t1": t1, "w0": w0, "w1": w1,
    }


def _connect_timed(keep, addr, port, family=None, nonblock=False, syncnt=None, bind=None,
                   recverr=False):
    """
    One connect(2), timed: t0/t1 (CLOCK_MONOTONIC) and w0/w1 (wall clock)
    just before and after the call. syncnt: TCP_SYNCNT; bind: an address
    to bind to first (port 0: the kernel picks it at bind time), reported
    as bound; recverr: IP_RECVERR (IPV6_RECVERR) set, so that ICMP errors
    are also queued on the socket. idx: the socket's place in keep (see
    close_after).
    """
    fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(
        family, socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s = socket.socket(fam, socket.SOCK_STREAM)
    bound = None
    if syncnt is not None:
        s.setsockopt(socket.IPPROTO_TCP, TCP_SYNCNT, syncnt)
    if recverr:
        if fam == socket.AF_INET:
            s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        else:
            s.setsockopt(socket.IPPROTO_IPV6, IPV6_RECVERR, 1)
    if bind is not None:
        s.bind((bind, 0))
        bound = list(sockname(s))
    if nonblock:
        s.setblocking(False)
    res = _connect_one(s, addr, port, fam)
    keep.append(s)
    res.update({"bound": bound, "idx": len(keep) - 1})
    return res


def _connect_seq(keep, addr, ports, family=None):
    """One blocking socket connected to each of ports in turn (after a failure, again)."""
    fam = {4: socket.AF_INET, 6: socket.AF_INET6}.get(
        family, socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s = socket.socket(fam, socket.SOCK_STREAM)
    keep.append(s)
    return [_connect_one(s, addr, p, fam) for p in ports]


def _close_after(keep, idx, secs, how="close"):
    """
    Sleep secs, then close socket idx of keep (how "close"), or disconnect
    it (how "disconnect": connect(2) to an AF_UNSPEC address); the times
    around it.
    """
    t0 = time.monotonic()
    time.sleep(secs)
    if how == "close":
        keep[idx].close()
    else:
        unspec = ctypes.create_string_buffer(struct.pack("=H14x", socket.AF_UNSPEC), 16)
        _check(libc.connect(keep[idx].fileno(), unspec, 16), "connect AF_UNSPEC")
    return {"t0": t0, "t1": time.monotonic()}


def _listen_on(keep, addr, port, backlog=128):
    """A listener on a given port."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(backlog)
    keep.append(s)
    listeners[port] = s
    return port


def inet_checksum(data):
    """The Internet checksum (RFC 1071) of data."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_to(frame, silent):
    """If frame (Ethernet) carries a TCP SYN (no ACK) to address silent: its family."""
    if len(frame) < 14:
        return None
    etype = struct.unpack("!H", frame[12:14])[0]
    pkt = frame[14:]
    if etype == 0x0800 and len(pkt) >= 20 and pkt[9] == socket.IPPROTO_TCP:
        ihl = (pkt[0] & 15) * 4
        if (pkt[16:20] == socket.inet_pton(socket.AF_INET, silent) and
                len(pkt) >= ihl + 20 and pkt[ihl + 13] & 0x12 == 0x02):
            return 4
    if etype == 0x86DD and len(pkt) >= 60 and pkt[6] == socket.IPPROTO_TCP:
        if (pkt[24:40] == socket.inet_pton(socket.AF_INET6, silent) and
                pkt[40 + 13] & 0x12 == 0x02):
            return 6
    return None


def icmp_unreach_frame(frame, code):
    """
    The Ethernet frame answering the IPv4 or IPv6 packet in frame with an
    ICMP (type 3) or ICMPv6 (type 1) destination unreachable of code, from
    the packet's destination to its source: the whole original packet
    quoted (the kernel matches the embedded TCP ports and sequence number),
    checksums right (ICMPv6's over the pseudo-header).
    """
    eth = frame[6:12] + frame[0:6] + frame[12:14]  # back to the sender
    pkt = frame[14:]
    if frame[12:14] == b"\x08\x00":
        quoted = pkt[:struct.unpack("!H", pkt[2:4])[0]]
        icmp = bytearray(struct.pack("!BBHI", 3, code, 0, 0) + quoted)
        struct.pack_into("!H", icmp, 2, inet_checksum(bytes(icmp)))
        ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 0, 0, 64,
                                   socket.IPPROTO_ICMP, 0, pkt[16:20], pkt[12:16]))
        struct.pack_into("!H", ip, 10, inet_checksum(bytes(ip)))
        return eth + bytes(ip) + bytes(icmp)
    quoted = pkt[:40 + struct.unpack("!H", pkt[4:6])[0]]
    src, dst = pkt[24:40], pkt[8:24]
    icmp = bytearray(struct.pack("!BBHI", 1, code, 0, 0) + quoted)
    pseudo = src + dst + struct.pack("!I3xB", len(icmp), socket.IPPROTO_ICMPV6)
    struct.pack_into("!H", icmp, 2, inet_checksum(pseudo + bytes(icmp)))
    ip6 = struct.pack("!IHBB16s16s", 6 << 28, len(icmp), socket.IPPROTO_ICMPV6, 64, src, dst)
    return eth + ip6 + bytes(icmp)


def _icmp_reject(keep, dev, silent, code):
    """
    From now on, answer every TCP SYN to address silent seen on dev (an
    AF_PACKET socket sees frames to any MAC) with an ICMP destination
    unreachable of code, from a thread; returns once the socket listens.
    """
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((dev, ETH_P_ALL))
    keep.append(s)

    def serve():
        while True:
            frame, where = s.recvfrom(65535)
            if where[2] == PACKET_OUTGOING:
                continue
            fam = syn_to(frame, silent)
            if fam:
                _icmp_replies.append((fam, code))  # before the client can see it
                s.send(icmp_unreach_frame(frame, code))

    threading.Thread(target=serve, daemon=True).start()
    return dev


def _icmp_replies_sent(keep):
    return _icmp_replies


actions.connect_timed = staticmethod(_connect_timed)
actions.connect_seq = staticmethod(_connect_seq)
actions.close_after = staticmethod(_close_after)
actions.listen_on = staticmethod(_listen_on)
actions.icmp_reject = staticmethod(_icmp_reject)
actions.icmp_replies = staticmethod(_icmp_replies_sent)


# ---------------------------------------------------------------- network namespaces joined by a veth pair
# (moved here from test_tcpconnect_outcome.py, for the tests of tcpaccept -q too)

_nets = itertools.count()


def sh(*cmd):
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, "%s: %s" % (" ".join(cmd), res.stderr.strip())
    return res.stdout


def ns_write(name, key, value):
    """Write value to /proc/sys/KEY as seen inside network namespace name."""
    sh("nsenter", "--net=/run/netns/" + name, "sh", "-c", 'echo "$0" > "$1"', str(value),
       "/proc/sys/" + key)


class Netns:
    """A network namespace of the test's own ("ip netns add"), lo up; deleted after."""

    def __init__(self, role):
        self.name = "tcpto-%d-%d-%s" % (os.getpid(), next(_nets), role)
        sh("ip", "netns", "add", self.name)
        self.path = "/run/netns/" + self.name
        sh("ip", "-n", self.name, "link", "set", "lo", "up")

    def sysctl(self, key, value):
        ns_write(self.name, key, value)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


class VethNet:
    """
    Two network namespaces, client and peer, joined by a veth pair:
    client .1 (CDEV), peer .2 (PDEV), in 198.18.0.0/24 and fd00:7463::/64.
    SILENT (.99, ::99) is a permanent neighbour of the client with a MAC
    nobody has: its SYNs reach the peer's veth end, and the peer's kernel
    drops them (not its MAC). Nothing answers unless a test makes it.
    """
    CDEV, PDEV = "tcpto0", "tcpto1"
    client_addr = {4: "198.18.0.1", 6: "fd00:7463::1"}
    peer_addr = {4: "198.18.0.2", 6: "fd00:7463::2"}
    silent = {4: "198.18.0.99", 6: "fd00:7463::99"}
    NOBODY_MAC = "02:00:00:00:00:99"

    def __init__(self):
        self.client = Netns("c")
        try:
            self.peer = Netns("p")
            c, p = self.client.name, self.peer.name
            res = subprocess.run(["ip", "-n", c, "link", "add", self.CDEV, "type", "veth",
                                  "peer", "name", self.PDEV, "netns", p],
                                 capture_output=True, text=True)
            if res.returncode != 0 and "unknown device type" in res.stderr.lower():
                pytest.skip("this kernel has no veth links (CONFIG_VETH)")
            assert res.returncode == 0, "ip link add veth: " + res.stderr.strip()
            for ns, dev, addrs in ((c, self.CDEV, self.client_addr),
                                   (p, self.PDEV, self.peer_addr)):
                sh("ip", "-n", ns, "addr", "add", addrs[4] + "/24", "dev", dev)
                sh("ip", "-n", ns, "addr", "add", addrs[6] + "/64", "dev", dev, "nodad")
                sh("ip", "-n", ns, "link", "set", dev, "up")
            for fam in (4, 6):
                sh("ip", "-n", c, "-%d" % fam, "neigh", "add", self.silent[fam], "lladdr",
                   self.NOBODY_MAC, "dev", self.CDEV, "nud", "permanent")
            end = time.monotonic() + 10
            while not all("LOWER_UP" in sh("ip", "-n", ns, "-o", "link", "show", "dev", d)
                          for ns, d in ((c, self.CDEV), (p, self.PDEV))):
                assert time.monotonic() < end, "the veth pair did not come up"
                time.sleep(0.02)
        except BaseException:
            self.delete()
            raise

    def delete(self):
        self.client.delete()
        if hasattr(self, "peer"):
            self.peer.delete()


@pytest.fixture
def veth_net(child_factory):
    net = VethNet()
    yield net
    net.delete()


def add_netem(netns, dev, delay_ms):
    """
    tc netem delay on dev (its egress) in network namespace netns (a Netns):
    skip the test where the kernel has no netem qdisc (sch_netem).
    """
    res = subprocess.run(["tc", "-n", netns.name, "qdisc", "add", "dev", dev, "root",
                          "netem", "delay", "%dms" % delay_ms], capture_output=True, text=True)
    if res.returncode != 0 and "unknown" in res.stderr.lower():
        pytest.skip("this kernel has no netem qdisc (sch_netem)")
    assert res.returncode == 0, res.stderr


# ---------------------------------------------------------------- durations and byte counts
# (tcpaccept -q, tcptracer -l): more that a Child can be asked to do: an
# accept timed against the moment its connection was queued, exact byte
# counts sent and read on a kept socket, waiting for the peer's ACK of all
# that was sent, an abortive close of one socket.


def ms3(text, lo_s, hi_s):
    """
    A duration column: milliseconds with 3 decimals (microseconds, cut), at
    least lo_s and at most hi_s seconds (bounds from the test's own clocks;
    1 us either side for the cut and the float arithmetic).
    """
    assert re.fullmatch(r"\d+\.\d{3}", text), text
    v = float(text)
    assert lo_s * 1e3 - 0.001 <= v <= hi_s * 1e3 + 0.001, (text, lo_s, hi_s)
    return v


def ns_within(v, lo_s, hi_s):
    """A JSON duration: an integer of nanoseconds within [lo_s, hi_s] seconds."""
    assert type(v) is int, v
    assert lo_s * 1e9 - 1000 <= v <= hi_s * 1e9 + 1000, (v, lo_s, hi_s)
    return v


def _accept_timed(keep, port, how="accept4", nonblock=False, ready=True, secs=0):
    """
    One accept on the listener of port, in this thread, with the raw
    accept(2) or accept4(2) syscall, timed (CLOCK_MONOTONIC): with ready,
    first wait until a connection is in its accept queue (the listener
    is readable only once the handshake completed: t_ready is after the
    connection became ESTABLISHED); then sleep secs; t_call just before the
    (first) accept call, t_ret just after it returned the connection. idx:
    the accepted socket's place in keep.
    """
    lsock = listeners[port]
    lsock.setblocking(not nonblock)
    t_ready = None
    if ready:
        r, _, _ = select.select([lsock], [], [], 30)
        assert r, "no connection in the accept queue within 30 s"
        t_ready = time.monotonic()
    time.sleep(secs)
    t_call = time.monotonic()
    while True:
        if how == "accept":
            fd = libc.syscall(SYS_ACCEPT, lsock.fileno(), None, None)
        else:
            fd = libc.syscall(SYS_ACCEPT4, lsock.fileno(), None, None,
                              SOCK_NONBLOCK if nonblock else 0)
        if fd >= 0 or ctypes.get_errno() not in (11, 4):  # EAGAIN, EINTR
            break
        if nonblock:
            select.select([lsock], [], [], 30)
    t_ret = time.monotonic()
    assert fd >= 0, os.strerror(ctypes.get_errno())
    s = socket.socket(fileno=fd)
    s.setblocking(True)
    keep.append(s)
    return {"tid": threading.get_native_id(), "idx": len(keep) - 1,
            "laddr": sockname(s)[0], "lport": sockname(s)[1],
            "raddr": s.getpeername()[0], "rport": s.getpeername()[1],
            "t_ready": t_ready, "t_call": t_call, "t_ret": t_ret}


def _wait_queued(keep, port):
    """Return once a connection is in the accept queue of the listener of port."""
    r, _, _ = select.select([listeners[port]], [], [], 30)
    assert r, "no connection in the accept queue within 30 s"
    return time.monotonic()


def _pattern(n, off=0):
    return bytes((off + i) % 251 for i in range(n))


def _send_bytes(keep, idx, n):
    """Send exactly n bytes (a known pattern) on socket idx of keep."""
    keep[idx].sendall(_pattern(n))
    return n


def _recv_bytes(keep, idx, n):
    """Read exactly n bytes from socket idx (the pattern _send_bytes sends)."""
    got = b""
    while len(got) < n:
        chunk = keep[idx].recv(n - len(got))
        assert chunk, "EOF after %d of %d bytes" % (len(got), n)
        got += chunk
    assert got == _pattern(n)
    return len(got)


def _recv_eof(keep, idx):
    """Read socket idx until EOF (the peer's FIN): nothing more may come."""
    data = keep[idx].recv(1 << 16)
    assert data == b"", "%d more bytes before EOF" % len(data)
    return time.monotonic()


def _wait_acked(keep, idx, timeout=10):
    """
    Wait until the peer acknowledged all that socket idx sent (SIOCOUTQ:
    bytes sent and not yet acknowledged, 0): a delayed ACK comes within
    the peer's delayed-ACK timeout.
    """
    end = time.monotonic() + timeout
    buf = ctypes.c_int(0)
    while True:
        _check(libc.ioctl(keep[idx].fileno(), termios.TIOCOUTQ, ctypes.byref(buf)), "SIOCOUTQ")
        if buf.value == 0:
            return True
        assert time.monotonic() < end, "%d bytes still unacknowledged" % buf.value
        time.sleep(0.01)


def _abort(keep, idx):
    """Close socket idx with a reset (SO_LINGER 0); the times around the close."""
    keep[idx].setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t0 = time.monotonic()
    keep[idx].close()
    return {"t0": t0, "t1": time.monotonic()}


def _shutdown_wr(keep, idx):
    """Half-close socket idx: shutdown(SHUT_WR) sends our FIN."""
    keep[idx].shutdown(socket.SHUT_WR)
    return True


actions.shutdown_wr = staticmethod(_shutdown_wr)
actions.accept_timed = staticmethod(_accept_timed)
actions.wait_queued = staticmethod(_wait_queued)
actions.send_bytes = staticmethod(_send_bytes)
actions.recv_bytes = staticmethod(_recv_bytes)
actions.recv_eof = staticmethod(_recv_eof)
actions.wait_acked = staticmethod(_wait_acked)
actions.abort = staticmethod(_abort)
