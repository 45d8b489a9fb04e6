# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
bench/against OLD_BUILD [TOOL ...]: what a change did to the BPF cost per
connection, the old build's tool against this tree's, on the same storms.

Both copies of a tool are attached at once and trace the same IPv4
connect/accept/close storm: each connection runs the old programs and the
new ones, so the two see the same machine in the same state. (Separate
runs do not: this machine has slow and fast spells that move a run's
BPF ns/conn by a third, longer than a pair of storms.) Whichever copy was
attached first runs first at each hook and takes the cold caches, about
1.4 times the second's cost; the order alternates by round, and the ratio
reported is the square root of the product of the two orders' medians,
in which that factor cancels out.

  BENCH_SECONDS  seconds of each storm (default 3)
  BENCH_PAIRS    rounds per tool, made even (default 12)
  BENCH_ATTACH   the attach mode passed to both copies (default: their auto)
  BENCH_STORM    cycle (default: connect, accept, close) or refused (connects
                 to a closed port)
  BENCH_FLAGS    options of the new copy only: the cost of an option, with
                 OLD_BUILD this tree's build (bench/against build tcpconnect
                 with BENCH_FLAGS=-o: tcpconnect -o against tcpconnect)
  BENCH_OLD_FLAGS options of the old copy: with BENCH_FLAGS the same, an
                 option's cost before and after a change
"""
import os
import statistics
import subprocess
import sys
import threading

from . import machine, measure
from .config import READY_TIMEOUT, STORM, STORM_CPU, TOOL_CPU, TOOLS, tool_path


def start(path, attach, flags=()):
    """The tool at path, ready (its "Tracing" line) on TOOL_CPU, or exit."""
    cmd = [path] + (["--attach", attach] if attach else []) + list(flags)
    p = measure.spawn(cmd, cpu=TOOL_CPU, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready = threading.Event()
    said = []

    def read_err():
        for line in iter(p.stderr.readline, b""):
            said.append(line.decode(errors="replace").strip())
            if line.startswith(b"Tracing"):
                ready.set()
        ready.set()

    threading.Thread(target=read_err, daemon=True).start()
    if not ready.wait(READY_TIMEOUT) or p.poll() is not None:
        stop(p)
        sys.exit("bench/against: %s did not start: %s" % (path, " / ".join(said[-3:])))
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    measure.reap(p)


def ns_per_conn(before, after, made):
    return measure.bpf_total(before, after).ns / made


def round_(tool, builds, order, seconds, attach, storm_mode, flags):
    """
    {label: BPF ns/conn} of one storm traced by both copies, attached in
    order; flags: {label: options}.
    """
    procs = {label: start(builds[label], attach, flags[label]) for label in order}
    try:
        before = {label: measure.prog_stats(p.pid) for label, p in procs.items()}
        storm = measure.run_storm(["--family", "4", "--mode", storm_mode], seconds, os.devnull,
                                  STORM_CPU)
        after = {label: measure.prog_stats(p.pid) for label, p in procs.items()}
    finally:
        for p in procs.values():
            stop(p)
    return {label: ns_per_conn(before[label], after[label], storm.made) for label in order}


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) > 1 else 2
    old_build = sys.argv[1]
    tools = sys.argv[2:] or TOOLS
    seconds = float(os.environ.get("BENCH_SECONDS") or 3)
    rounds = max(2, int(os.environ.get("BENCH_PAIRS") or 12) // 2 * 2)
    attach = os.environ.get("BENCH_ATTACH") or None
    storm_mode = os.environ.get("BENCH_STORM") or "cycle"
    flags = {"new": (os.environ.get("BENCH_FLAGS") or "").split(),
             "old": (os.environ.get("BENCH_OLD_FLAGS") or "").split()}
    if storm_mode not in ("cycle", "refused"):
        sys.exit("bench/against: BENCH_STORM is cycle or refused, not %r" % storm_mode)
    for t in tools:
        for path in (os.path.join(old_build, t), tool_path(t)):
            if t not in TOOLS or not os.access(path, os.X_OK):
                sys.exit("bench/against: no tool %s" % path)
    if os.geteuid() != 0 or not os.access(STORM, os.X_OK):
        sys.exit("bench/against: needs root and %s (make bench builds it)" % STORM)
    syscalls = machine.syscall_numbers(os.environ.get("CC") or "cc")
    os.sched_setaffinity(0, {TOOL_CPU})
    print("| tool | old ns/conn | new ns/conn | new/old | new/old, new attached first | "
          "new/old, old attached first | cost of running first |\n|---|---|---|---|---|---|---|")
    with measure.Netns(), measure.BpfStats(syscalls.get("bpf")):
        for t in tools:
            builds = {"old": os.path.join(old_build, t), "new": tool_path(t)}
            runs = []
            for r in range(rounds):
                order = ("new", "old") if r % 2 == 0 else ("old", "new")
                runs.append((order[0], round_(t, builds, order, seconds, attach, storm_mode,
                                              flags)))
                print("  %s round %d/%d, %s first: old %.0f, new %.0f ns/conn" % (
                    t, r + 1, rounds, order[0], runs[-1][1]["old"], runs[-1][1]["new"]),
                    file=sys.stderr, flush=True)
            med = statistics.median
            first = med(v["new"] / v["old"] for f, v in runs if f == "new")
            second = med(v["new"] / v["old"] for f, v in runs if f == "old")
            print("| %s | %.0f | %.0f | %.3f | %.3f | %.3f | x%.2f |" % (
                t, med(v["old"] for _, v in runs), med(v["new"] for _, v in runs),
                (first * second) ** 0.5, first, second, (first / second) ** 0.5), flush=True)
    return 0
