# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The traced side of a pair: the tool (or the floor, or a peer) started with
its output to a file or a pipe read here, the storm run under it, and what
its output, its stderr, /proc and the BPF statistics say afterwards.
"""
import bisect
import os
import re
import signal
import subprocess
import threading
import time

from . import measure
from .config import COMM, PEER_READY_TIMEOUT, READY_TIMEOUT, STOP_TIMEOUT, HarnessError
from .results import Run


class Tracer:
    """A tool started with its output to a file or a pipe read here."""

    def __init__(self, case, outfile, wait_syscalls):
        self.case = case
        self.wait_syscalls = wait_syscalls  # a peer is ready when in one of these
        self.chunks = []  # (CLOCK_REALTIME ns when read, bytes), pipe output
        self.stderr = []  # (monotonic, line)
        self.ready_at = None
        self.ready_ev = threading.Event()
        self.outfile = outfile
        self.threads = []
        self.t0 = None
        self.p = None
        self.out_f = None

    def _read_out(self, fd):
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                break
            self.chunks.append((time.time_ns(), b))

    def _read_err(self, f):
        for line in iter(f.readline, b""):
            now = time.monotonic()
            self.stderr.append((now, line))
            if (self.case.kind in ("ours", "floor") and self.ready_at is None
                    and line.startswith(b"Tracing")):
                self.ready_at = now
                self.ready_ev.set()
        self.ready_ev.set()  # EOF: the tool is gone

    def start(self, cpu):
        if self.case.output == "file":
            self.out_f = open(self.outfile, "wb")
            stdout = self.out_f
        else:
            stdout = subprocess.PIPE
        self.t0 = time.monotonic()
        self.p = measure.spawn(self.case.cmd, cpu=cpu, stdout=stdout, stderr=subprocess.PIPE)
        if self.out_f:
            self.out_f.close()
        else:
            t = threading.Thread(target=self._read_out, args=(self.p.stdout.fileno(),),
                                 daemon=True)
            t.start()
            self.threads.append(t)
        t = threading.Thread(target=self._read_err, args=(self.p.stderr,), daemon=True)
        t.start()
        self.threads.append(t)

    def wait_ready(self):
        """Seconds from exec to ready, or raise HarnessError with the tool's words."""
        if self.case.kind in ("ours", "floor"):
            self.ready_ev.wait(READY_TIMEOUT)
            if self.ready_at is None:
                raise HarnessError("%s did not become ready: %s" % (self.case.label,
                                                                     self.last_words()))
            return self.ready_at - self.t0
        # peers: ready when first waiting for events
        deadline = self.t0 + PEER_READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                break
            if measure.current_syscall(self.p.pid) in self.wait_syscalls:
                self.ready_at = time.monotonic()
                return self.ready_at - self.t0
            time.sleep(0.001)
        raise HarnessError("did not start: %s" % self.last_words())

    def last_words(self):
        if self.p.poll() is None:
            return "no banner within %.0f s" % READY_TIMEOUT
        for t in self.threads:
            t.join(2)
        lines = [l.decode(errors="replace").strip() for _, l in self.stderr]
        lines = [l for l in lines if l]
        return "exit %d%s" % (self.p.returncode, (": " + lines[-1]) if lines else "")

    def out_bytes(self):
        if self.case.output == "file":
            try:
                return os.path.getsize(self.outfile)
            except OSError:
                return 0
        return sum(len(b) for _, b in self.chunks)

    def settle(self, quiet=0.05, limit=5.0):
        """Wait until the output stopped growing (the tool drained its ring)."""
        end = time.monotonic() + limit
        last = self.out_bytes()
        while time.monotonic() < end:
            time.sleep(quiet)
            n = self.out_bytes()
            if n == last:
                return
            last = n

    def stop(self):
        notes = []
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
            try:
                self.p.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                notes.append("did not exit on SIGINT")
                self.p.kill()
                self.p.wait()
        for t in self.threads:
            t.join(10)
        for f in (self.p.stdout, self.p.stderr):
            if f:
                f.close()
        measure.reap(self.p)
        if self.p.returncode != 0:
            notes.append(self.last_words())
        return notes

    def output(self):
        if self.case.output == "file":
            with open(self.outfile, "rb") as f:
                return f.read()
        return b"".join(b for _, b in self.chunks)

    def stderr_text(self):
        return b"".join(l for _, l in self.stderr)


LOST_TOTAL_RE = re.compile(rb"WARNING: (\d+) events lost in total")
LOST_RE = re.compile(rb"WARNING: (\d+) events lost\s*$", re.M)
PEER_LOST_RE = re.compile(rb"(?im)^\s*(?:warning: )?lost (\d+) (?:events|samples)")
JSON_ROW_RE = re.compile(rb'^\{"time":(\d+)\.(\d+),"type":"(\w+)",.*"comm":"' + COMM.encode() +
                         rb'",.*"lport":(\d+),"raddr":"[^"]*","rport":(\d+)', re.M)


def count_lost(case, err, out):
    if case.kind == "ours":
        m = LOST_TOTAL_RE.findall(err)
        if m:
            return int(m[-1])
        return sum(int(x) for x in LOST_RE.findall(err))
    return sum(int(x) for x in PEER_LOST_RE.findall(err)) + \
        sum(int(x) for x in PEER_LOST_RE.findall(out))


def count_rows(case, out):
    """(rows for the generator, all rows)."""
    lines = out.count(b"\n")
    if case.kind == "ours":
        if case.json:
            return out.count(b'"comm":"%s"' % COMM.encode()), lines
        # the table: header first, COMM is a space-separated column
        return out.count(b" %s " % COMM.encode()), max(lines - 1, 0)
    n = 0
    for line in out.splitlines():
        if COMM.encode() in line.split():
            n += 1
    return n, lines


def load_stamps(path):
    by_port = {}
    with open(path) as f:
        for line in f:
            ns, port = line.split()
            by_port.setdefault(int(port), []).append(int(ns))
    return by_port


def latencies(case, tracer, stamps):
    """Milliseconds from connect() to the row read from the pipe, per matched row."""
    rtype, field = case.latency_key()
    rtype = rtype.encode()
    use_rport = field == "rport"
    out, unmatched = [], 0
    carry = b""
    for ts, chunk in tracer.chunks:
        buf = carry + chunk
        cut = buf.rfind(b"\n") + 1
        complete, carry = buf[:cut], buf[cut:]
        for m in JSON_ROW_RE.finditer(complete):
            if m.group(3) != rtype:
                continue
            frac = m.group(2)
            ev_ns = int(m.group(1)) * 1000000000 + int(frac.ljust(9, b"0")[:9])
            port = int(m.group(5) if use_rport else m.group(4))
            lst = stamps.get(port)
            if not lst:
                unmatched += 1
                continue
            # the last connect() on this port that started before the event
            # (the row's time is truncated to microseconds)
            i = bisect.bisect_right(lst, ev_ns + 1000) - 1
            if i < 0 or ev_ns - lst[i] > 1000000000:
                unmatched += 1
                continue
            out.append((ts - lst[i]) / 1e6)
    return out, unmatched


def percentile(sorted_vals, q):
    if not sorted_vals:
        return None
    k = max(0, min(len(sorted_vals) - 1, int(round(q / 100.0 * len(sorted_vals) + 0.5)) - 1))
    return sorted_vals[k]


def traced_run(case, base, storm_args, seconds, paths, cpus, wait_syscalls):
    """
    The traced half of a pair: case's program started, the storm run under
    it, and a Run with the baseline storm base. paths: (output file, stamps
    file); cpus: (the storm's, the tool's), None where not pinned.
    """
    outfile, stamps_path = paths
    tr = Tracer(case, outfile, wait_syscalls)
    tr.start(cpus[1])
    try:
        ready_ms = tr.wait_ready() * 1000
        bpf0 = measure.prog_stats(tr.p.pid)
        cpu0 = measure.cpu_seconds(tr.p.pid)
        self0 = os.times()
        storm = measure.run_storm(storm_args, seconds, stamps_path, cpus[0])
        tr.settle()
        bpf1 = measure.prog_stats(tr.p.pid)
        cpu1 = measure.cpu_seconds(tr.p.pid)
        self1 = os.times()
        bpf = measure.bpf_delta(bpf0, bpf1)  # named while the tool holds them
        rss_kb = measure.vm_hwm_kb(tr.p.pid)
        cpu_s = (cpu1 - cpu0) if cpu0 is not None and cpu1 is not None else None
        died = tr.p.poll() is not None
        if died:
            rss_kb = cpu_s = None
    except BaseException:
        if tr.p.poll() is None:
            tr.p.kill()
        tr.stop()
        raise
    notes = tr.stop()
    if died:
        notes.insert(0, "ended by itself during the storm (%s)" % tr.last_words())
    if storm.errors:
        notes.append("storm errors %d (%s)" % (storm.errors, storm.first_error))
    out, err = tr.output(), tr.stderr_text()
    rows, rows_total = count_rows(case, out)
    run = Run(base=base, storm=storm, ready_ms=ready_ms, bpf=bpf,
              # this script's own CPU (the pipe reader), without the storm child
              harness_cpu_s=(self1.user - self0.user) + (self1.system - self0.system),
              rss_kb=rss_kb, cpu_s=cpu_s, lost=count_lost(case, err, out), rows=rows,
              rows_total=rows_total, rows_expected=case.expected_rows(storm), notes=notes)
    if case.latency_key():
        lat, run.lat_unmatched = latencies(case, tr, load_stamps(stamps_path))
        lat.sort()
        run.lat_n = len(lat)
        run.lat_p50 = percentile(lat, 50)
        run.lat_p90 = percentile(lat, 90)
        run.lat_p99 = percentile(lat, 99)
        run.lat_max = lat[-1] if lat else None
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
    return run
