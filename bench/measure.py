# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
Measuring: the network namespace the bench runs in, the BPF run-time
statistics, the processes it starts (the generator's storms, the tools),
and what /proc says of them and of the rest of the machine.
"""
import ctypes
import json
import os
import subprocess
import time

from .config import COMM, PORT, PORT_RANGE, STORM, TOOLS, HarnessError
from .results import Counts, Storm

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0
STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"
PF_KTHREAD = 0x00200000


def log(msg):
    print(msg, flush=True)


# ------------------------------------------------------------ namespace


class Netns:
    """A named network namespace (ip netns add) that this process joins."""

    def __init__(self):
        self.name = "tcptools-bench-%d" % os.getpid()
        self.added = False

    def __enter__(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.added = True
        fd = os.open("/run/netns/" + self.name, os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise HarnessError("setns: %s" % os.strerror(e))
        finally:
            os.close(fd)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        # this namespace's own sysctls: more ephemeral ports, the listener
        # port outside the range
        with open("/proc/sys/net/ipv4/ip_local_port_range", "w") as f:
            f.write(PORT_RANGE)
        return self

    def sysctls(self):
        out = {}
        for k in ("ipv4/ip_local_port_range", "ipv4/tcp_tw_reuse", "ipv4/tcp_max_tw_buckets",
                  "core/somaxconn"):
            with open("/proc/sys/net/" + k) as f:
                out[k.split("/")[-1]] = " ".join(f.read().split())
        return out

    def __exit__(self, *exc):
        if self.added:
            r = subprocess.run(["ip", "netns", "del", self.name], capture_output=True, text=True)
            if r.returncode != 0:
                log("bench: could not delete netns %s: %s" % (self.name, r.stderr.strip()))


# ------------------------------------------------------------ BPF run time


class BpfStats:
    """
    run_time_ns/run_cnt accounting on for the whole bench: a BPF_ENABLE_STATS
    fd (the kernel turns the stats off again when it is closed, even if this
    script is killed); else kernel.bpf_stats_enabled=1, put back at exit.
    """

    def __init__(self, sys_bpf):
        self.sys_bpf = sys_bpf  # this architecture's bpf(2) number, or None
        self.fd = -1
        self.sysctl_old = None
        self.how = None

    def __enter__(self):
        if self.sys_bpf is not None:
            attr = (ctypes.c_uint32 * 4)(BPF_STATS_RUN_TIME)
            libc.syscall.restype = ctypes.c_long
            fd = libc.syscall(ctypes.c_long(self.sys_bpf), ctypes.c_long(BPF_ENABLE_STATS),
                              attr, ctypes.c_long(4))
            if fd >= 0:
                self.fd = fd
                self.how = "BPF_ENABLE_STATS fd"
                return self
        with open(STATS_SYSCTL) as f:
            self.sysctl_old = f.read().strip()
        with open(STATS_SYSCTL, "w") as f:
            f.write("1")
        self.how = "kernel.bpf_stats_enabled=1 (was %s, restored at exit)" % self.sysctl_old
        return self

    def __exit__(self, *exc):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.sysctl_old is not None:
            with open(STATS_SYSCTL, "w") as f:
                f.write(self.sysctl_old)
            self.sysctl_old = None


def prog_stats(pid):
    """{prog id: Counts} of the BPF programs pid holds fds of."""
    out = {}
    d = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(d)
    except OSError:
        return out
    for fd in fds:
        try:
            with open(os.path.join(d, fd)) as f:
                text = f.read()
        except OSError:
            continue
        if "prog_type:" not in text or "run_time_ns:" not in text:
            continue  # not a program (a link's fdinfo names a prog_id too)
        kv = dict(l.split(":", 1) for l in text.splitlines() if ":" in l)
        try:
            out[int(kv["prog_id"])] = Counts(int(kv["run_time_ns"]), int(kv["run_cnt"]))
        except (KeyError, ValueError):
            pass
    return out


def prog_names(ids):
    """{prog id: full name} (bpftool: the kernel keeps 15 characters, BTF all)."""
    names = {}
    try:
        r = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                           timeout=30)
        for p in json.loads(r.stdout or "[]"):
            if p.get("id") in ids:
                names[p["id"]] = p.get("name") or "id%d" % p["id"]
    except (OSError, subprocess.SubprocessError, ValueError):
        pass
    return {i: names.get(i, "id%d" % i) for i in ids}


def bpf_total(before, after):
    """Counts over the storm, all the programs of prog_stats() together."""
    ns = runs = 0
    for prog_id, (n, c) in after.items():
        n0, c0 = before.get(prog_id, (0, 0))
        ns, runs = ns + n - n0, runs + c - c0
    return Counts(ns, runs)


def bpf_delta(before, after):
    """{name: Counts} over the storm, programs summed by name."""
    names = prog_names(set(after))
    out = {}
    for prog_id, (ns, cnt) in after.items():
        ns0, cnt0 = before.get(prog_id, (0, 0))
        e = out.get(names[prog_id], Counts(0, 0))
        out[names[prog_id]] = Counts(e.ns + ns - ns0, e.runs + cnt - cnt0)
    return out


# ------------------------------------------------------------ processes


CHILDREN = set()


def spawn(cmd, cpu=None, **kw):
    """Popen cmd, on CPU cpu alone unless None; killed by kill_children()."""
    pin = None if cpu is None else (lambda: os.sched_setaffinity(0, {cpu}))
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=pin, **kw)
    CHILDREN.add(p)
    return p


def reap(p):
    CHILDREN.discard(p)


def kill_children():
    for p in list(CHILDREN):
        if p.poll() is None:
            try:
                p.kill()
                p.wait(timeout=5)
            except Exception:
                pass
        CHILDREN.discard(p)


def own_tracefs(cmd):
    """
    cmd in a mount namespace of its own with tracefs mounted (classic
    tracepoints need it; the host's mounts stay as they are; unshare and sh
    exec: the same PID).
    """
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
            "mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs "
            "/sys/kernel/tracing; exec \"$@\"", "sh"] + cmd


def cpu_seconds(pid):
    """CPU time of all the threads of pid: schedstat (ns) if it works, else stat (ticks)."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        if total > 0:
            return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def ctxt_switches(pid):
    """
    (voluntary, nonvoluntary context switches, threads) summed over the
    threads of pid (/proc/PID/task/*/status), or None when pid is gone.
    """
    vol = nonvol = threads = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                kv = dict(l.split(":", 1) for l in f if ":" in l)
            vol += int(kv["voluntary_ctxt_switches"])
            nonvol += int(kv["nonvoluntary_ctxt_switches"])
            threads += 1
        except (OSError, KeyError, ValueError):
            continue  # a thread that ended meanwhile
    return vol, nonvol, threads


def vm_hwm_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def current_syscall(pid):
    try:
        with open("/proc/%d/syscall" % pid) as f:
            first = f.read().split()[0]
        return int(first)
    except (OSError, ValueError, IndexError):
        return None


def run_storm(args, seconds, stamps, cpu=None):
    """One storm of build/storm with args (family, mode...), timed; its Storm."""
    cmd = [STORM] + args + ["--seconds", str(seconds), "--comm", COMM, "--port", str(PORT),
                            "--stamps", stamps]
    p = spawn(cmd, cpu=cpu, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=seconds + 60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        reap(p)
    if p.returncode != 0:
        raise HarnessError("storm failed (%d): %s" % (p.returncode, err.decode().strip()))
    return Storm.from_json(json.loads(out.decode().strip().splitlines()[-1]))


# ------------------------------------------------------------ the rest of the machine


def proc_times():
    """{pid: (comm, CPU ticks)} of every process but this one and its children."""
    mine = {p.pid for p in CHILDREN} | {os.getpid()}
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in mine:
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.find("(") + 1:st.rfind(")")]
        fields = st[st.rfind(")") + 2:].split()
        if int(fields[6]) & PF_KTHREAD:  # softirq work of the storm
            continue
        out[int(d)] = (comm, int(fields[11]) + int(fields[12]))
    return out


def others_busy(before, after, seconds):
    """(CPU share of one CPU used by other processes, the top three above 2%)."""
    hz_s = os.sysconf("SC_CLK_TCK") * seconds
    used = sorted(((t - before[pid][1], comm) for pid, (comm, t) in after.items()
                   if pid in before), reverse=True)
    return (sum(d for d, _ in used) / hz_s, [comm for d, comm in used[:3] if d / hz_s > 0.02])


def noise_report(interval=0.5):
    """
    Other work on this machine skews the numbers (2 CPUs): the processes that
    used more than 5% of a CPU over a short sample, and other tracers.
    """
    names = set(TOOLS) | {"tcplife", "tcpstates", "bpftrace", "storm", COMM}
    a = proc_times()
    time.sleep(interval)
    b = proc_times()
    hz = os.sysconf("SC_CLK_TCK")
    found = []
    for pid, (comm, t) in sorted(b.items()):
        busy = (t - a[pid][1]) / hz / interval if pid in a else 0.0
        if busy > 0.05:
            found.append("%s(%d) %.0f%% CPU" % (comm, pid, busy * 100))
        elif comm in names or comm.startswith("pytest"):
            found.append("%s(%d)" % (comm, pid))
    return found
