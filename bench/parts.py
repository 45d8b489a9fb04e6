# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
bench/parts: what each piece of the tools' BPF work costs on this kernel,
per run, beside an empty program on the same hook (bench/parts.bpf.c: one
program per piece, run once per connection of an IPv4 cycle storm). Each
piece is loaded alone (build/floor), a storm at a time, the pieces in a
rotated order each round; medians over the rounds. Under emulation (make
vmtest's guests) this says what a helper, a lock or a ring record costs
there against plain loads, which is what a ratio measured there is made of.

  BENCH_SECONDS  seconds of each storm (default 2)
  BENCH_PAIRS    rounds (default 5)
  BENCH_ATTACH   fentry (on tcp_finish_connect) or tracepoint (the BTF
                 tracepoint of state changes); default: fentry where the
                 kernel takes it
"""
import os
import statistics
import sys

from . import machine, measure
from .against import start, stop
from .config import FLOOR, PARTS_OBJ, STORM, STORM_CPU, TOOL_CPU

PARTS = [
    ("empty", "nothing: the hook's own cost"),
    ("clock", "bpf_ktime_get_boot_ns()"),
    ("task", "task_fill(): pid, tid, uid, comm and the clock"),
    ("sock", "sock_fill(): addresses, ports, namespace"),
    ("row", "emit() of a row (struct event) to the ring"),
    ("row_more", "emit_more() of a row with an option's figures (struct event_more)"),
    ("short", "emit_rec() of a 24-byte record (a socket, a time, a result)"),
    ("miss", "a hash map lookup that finds nothing"),
    ("entry", "a hash map entry's life: track(), then lookup, copy and delete"),
]


def measure_part(prog, seconds):
    """ns per run of prog over one storm, or None if it did not run."""
    p = start(FLOOR, None, [PARTS_OBJ, prog])
    try:
        before = measure.prog_stats(p.pid)
        measure.run_storm(["--family", "4", "--mode", "cycle"], seconds, os.devnull, STORM_CPU)
        after = measure.prog_stats(p.pid)
    finally:
        stop(p)
    total = measure.bpf_total(before, after)
    return total.ns / total.runs if total.runs else None


def main():
    if len(sys.argv) > 1:
        print(__doc__.strip())
        return 0 if sys.argv[1] in ("-h", "--help") else 2
    seconds = float(os.environ.get("BENCH_SECONDS") or 2)
    rounds = max(1, int(os.environ.get("BENCH_PAIRS") or 5))
    attach = os.environ.get("BENCH_ATTACH") or ""
    if attach not in ("", "fentry", "tracepoint"):
        sys.exit("bench/parts: BENCH_ATTACH is fentry or tracepoint, not %r" % attach)
    if os.geteuid() != 0 or not all(os.access(f, os.R_OK) for f in (STORM, FLOOR, PARTS_OBJ)):
        sys.exit("bench/parts: needs root, %s, %s and %s (make bench-tools)" % (
            STORM, FLOOR, PARTS_OBJ))
    syscalls = machine.syscall_numbers(os.environ.get("CC") or "cc")
    os.sched_setaffinity(0, {TOOL_CPU})
    with measure.Netns(), measure.BpfStats(syscalls.get("bpf")):
        if not attach:
            try:
                stop(start(FLOOR, None, [PARTS_OBJ, "fentry_empty"]))
                attach = "fentry"
            except SystemExit:
                attach = "tracepoint"
        prefix = "fentry_" if attach == "fentry" else "tp_"
        ns = {name: [] for name, _ in PARTS}
        for r in range(rounds):
            for i in range(len(PARTS)):
                name = PARTS[(i + r) % len(PARTS)][0]
                v = measure_part(prefix + name, seconds)
                if v is not None:
                    ns[name].append(v)
            print("  round %d/%d: %s" % (r + 1, rounds, ", ".join(
                "%s %.0f" % (n, v[-1]) for n, v in ns.items() if v)), file=sys.stderr, flush=True)
    if not ns["empty"]:
        sys.exit("bench/parts: the empty program never ran (no connection reached the hook)")
    empty = statistics.median(ns["empty"])
    print("%s mode (%s), %s, %d rounds of %g s storms, medians (min-max):\n" % (
        attach, prefix + "*", os.uname().release, rounds, seconds))
    print("| piece | what | ns/run | over empty | x empty |\n|---|---|---|---|---|")
    for name, what in PARTS:
        v = ns[name]
        if not v:
            print("| %s | %s | did not run | - | - |" % (name, what))
            continue
        m = statistics.median(v)
        print("| %s | %s | %.0f (%.0f-%.0f) | %s | %.2f |" % (
            name, what, m, min(v), max(v), "-" if name == "empty" else "%.0f" % (m - empty),
            m / empty))
    return 0
