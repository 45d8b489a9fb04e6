# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
make bench, part two (bench/sysexit): what the accept syscall exits cost
every other syscall.

tcpaccept and tcptracer catch accept(2) and accept4(2) at the syscall's exit,
with one of two kinds of hook (src/bpf/accept.bpf.h): the classic tracepoints
of those two syscalls, or the raw tracepoint of every syscall's exit,
filtered by number. Either one slows every syscall of the machine while
attached; this measures by how much, on getppid(2) (build/syscalls), with
build/floor holding the programs: nothing, the classic pair, the raw one
(which does what the tools' raw exit does at a syscall it does not want).
Runs interleaved (none, classic, raw, none, ...), medians over the rounds.

Environment: SYSEXIT_ROUNDS (default 9), SYSEXIT_CALLS per run (default
1000000), BENCH_PIN (1, default: the syscalls on CPU 0), SYSEXIT_RESULTS
(default bench/results-sysexit.md).
"""
import os
import statistics
import subprocess
import sys
import time

from . import machine, measure
from .config import FLOOR, FLOOR_OBJ, ROOT, STORM_CPU, SYSCALLS, yes

# the hooks held, by kind: build/floor's empty programs on them
KINDS = {
    "none": [],
    "classic": ["tracepoint/syscalls/sys_exit_accept", "tracepoint/syscalls/sys_exit_accept4"],
    "raw": ["tp_btf/sys_exit"],
}


def hold(progs):
    """build/floor holding progs (tracefs of its own for the classic ones)."""
    p = measure.spawn(measure.own_tracefs([FLOOR, FLOOR_OBJ] + progs), stderr=subprocess.PIPE,
                      stdout=subprocess.DEVNULL)
    line = p.stderr.readline().decode()
    if not line.startswith("Tracing"):
        p.kill()
        p.wait()
        sys.exit("sysexit: floor failed: %s%s" % (line, p.stderr.read().decode()))
    return p


def measure_calls(calls, pin):
    """Mean ns of one getppid(2) over calls of them (build/syscalls)."""
    p = measure.spawn([SYSCALLS, str(calls)], cpu=STORM_CPU if pin else None,
                      stdout=subprocess.PIPE)
    out, _ = p.communicate()
    measure.reap(p)
    if p.returncode != 0:
        sys.exit("sysexit: %s failed (%d)" % (SYSCALLS, p.returncode))
    return float(out)


def main():
    if os.geteuid() != 0:
        sys.exit("sysexit: run as root (it loads BPF programs)")
    rounds = int(os.environ.get("SYSEXIT_ROUNDS", "9"))
    calls = int(os.environ.get("SYSEXIT_CALLS", "1000000"))
    pin = yes(os.environ.get("BENCH_PIN"), True)
    out = os.environ.get("SYSEXIT_RESULTS", os.path.join(ROOT, "bench", "results-sysexit.md"))
    by_section = {sec: name for name, sec in machine.program_sections(FLOOR_OBJ).items()}
    progs = {kind: [by_section[s] for s in secs] for kind, secs in KINDS.items()}
    ns = {k: [] for k in KINDS}
    for r in range(rounds):
        for kind in KINDS:
            p = hold(progs[kind]) if progs[kind] else None
            try:
                ns[kind].append(measure_calls(calls, pin))
            finally:
                if p:
                    p.terminate()
                    p.wait()
                    measure.reap(p)
        print("sysexit: round %d/%d: %s" % (r + 1, rounds, ", ".join(
            "%s %.1f" % (k, v[-1]) for k, v in ns.items())), file=sys.stderr)
    base = statistics.median(ns["none"])
    lines = [
        "# What the accept syscall exits add to every other syscall",
        "",
        "`make bench` (bench/sysexit), %s, kernel %s: getppid(2) x %d per run, "
        "%d rounds interleaved (none, classic, raw), medians; min-max in brackets."
        % (time.strftime("%Y-%m-%d"), os.uname().release, calls, rounds),
        "",
        "| hook held | ns per getppid | added ns | added / classic's |",
        "|---|---|---|---|",
    ]
    added_classic = statistics.median(ns["classic"]) - base
    for kind, v in ns.items():
        m = statistics.median(v)
        added = m - base
        ratio = "-" if kind == "none" or added_classic <= 0 else "%.2f" % (added / added_classic)
        lines.append("| %s | %.1f (%.1f-%.1f) | %s | %s |" % (
            kind, m, min(v), max(v), "-" if kind == "none" else "%.1f" % added, ratio))
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)
