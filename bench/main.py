# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
make bench from start to end: check what it needs, choose the cases, watch
each of our tools idle, run each case's pairs (a baseline storm, then the
same storm traced) in a network namespace of its own with the BPF
statistics on, then report.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from . import cases as cases_mod
from . import idle as idle_mod
from . import machine, measure, report
from .config import (FLOOR, FLOOR_OBJ, ROOT, STORM, STORM_CPU, TOOL_CPU, TOOLS, HarnessError,
                     Settings, tool_path)
from .measure import log
from .results import Idle, Meta, Results
from .tracer import traced_run

# a peer is ready when it first waits in one of these
WAIT_SYSCALLS = ("poll", "epoll_wait", "pselect6", "ppoll", "epoll_pwait", "epoll_pwait2")


def preflight(settings):
    """Why the bench cannot start, or None."""
    if os.geteuid() != 0:
        return "bench: needs root (BPF, network namespaces)"
    missing = [p for p in [STORM, FLOOR] + [tool_path(t) for t in TOOLS]
               if not os.access(p, os.X_OK)] + [p for p in [FLOOR_OBJ] if not os.path.exists(p)]
    if missing:
        return "bench: missing %s (run it as 'make bench')" % ", ".join(missing)
    if settings.seconds <= 0 or settings.pairs < 1:
        return "bench: BENCH_SECONDS must be > 0 and BENCH_PAIRS >= 1"
    if settings.idle_seconds < 0:
        return "bench: BENCH_IDLE_SECONDS must be >= 0 (0: no idle figures)"
    return None


def select_cases(settings):
    """(the cases to run, in order: ours, the floors, the peers; peers not found)."""
    ours = [c for c in cases_mod.our_cases() if settings.only.search(c.name)]
    peers, peer_skips = [], []
    if settings.peers:
        peers, peer_skips = cases_mod.peer_cases()
        peers = [c for c in peers if settings.only.search(c.name)]
    floors = cases_mod.floor_cases(dict.fromkeys(c.scenario for c in ours))
    return ours + floors + peers, peer_skips


def binaries_state():
    out = {}
    for p in [STORM] + [tool_path(t) for t in TOOLS]:
        try:
            st = os.stat(p)
            out[os.path.basename(p)] = (st.st_mtime_ns, st.st_size)
        except OSError:
            out[os.path.basename(p)] = None
    return out


def source_version():
    try:
        r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class Bench:
    """The runs of every case, pair after pair, with a progress line each."""

    def __init__(self, settings, syscalls, tmp, total):
        self.settings = settings
        self.wait_syscalls = {syscalls[n] for n in WAIT_SYSCALLS if n in syscalls}
        self.tmp = tmp
        self.total = total
        self.done = 0  # pairs run or given up
        self.cpus = (STORM_CPU, TOOL_CPU) if settings.pin else (None, None)

    def run_pair(self, case, i):
        """Pair i of case: a baseline storm, then a traced one."""
        s = self.settings
        storm_args = cases_mod.SCENARIOS[case.scenario].storm_args(s.concurrency)
        self.done += 1
        paths = (os.path.join(self.tmp, "out.%d" % self.done),
                 os.path.join(self.tmp, "stamps.%d" % self.done))
        t0, others0 = time.monotonic(), measure.proc_times()
        base = measure.run_storm(storm_args, s.seconds, paths[1], self.cpus[0])
        os.unlink(paths[1])
        time.sleep(0.2)  # let the kernel finish tearing the storm's sockets down
        run = traced_run(case, base, storm_args, s.seconds, paths, self.cpus,
                         self.wait_syscalls)
        time.sleep(0.2)
        run.others_cpu, run.others_top = measure.others_busy(
            others0, measure.proc_times(), time.monotonic() - t0)
        case.runs.append(run)
        log(self.progress(case, i, run))

    def run_cases(self, group):
        """
        The pairs of the cases in group, alternating (pair 1 of each, then pair 2
        of each...): an option's case and its tool's without it see the machine's
        slow and fast spells alike. False when one of ours could not be measured.
        """
        ok, live = True, list(group)
        for c in group:
            c.runs = []
        for i in range(self.settings.pairs):
            for case in list(live):
                try:
                    self.run_pair(case, i)
                except HarnessError as e:
                    if case.kind == "peer":
                        case.skipped = str(e)
                        log("  %s: skipped: %s" % (case.name, e))
                    else:
                        case.error = str(e)
                        ok = False
                        log("  %s: ERROR: %s" % (case.name, e))
                    self.done += self.settings.pairs - (i + 1)
                    case.runs = []
                    live.remove(case)
        for case in live:
            if case.kind == "ours":
                sections = cases_mod.tool_sections(case)
                case.sections = {n: sections[n] for r in case.runs for n in r.bpf
                                 if n in sections}
        return ok

    def progress(self, case, i, run):
        exp = run.rows_expected
        rows = ("rows %d/%d" % (run.rows, exp)) if exp is not None else ("rows %d" % run.rows)
        lat = ""
        if case.latency_key():
            lat = "  p50/p90/p99 %s/%s/%s ms" % tuple(
                report.fmt(x, ".1f") for x in (run.lat_p50, run.lat_p90, run.lat_p99))
        bpf = ""
        if run.bpf_ns_per_conn is not None:
            bpf = "  BPF %.0f ns/conn" % run.bpf_ns_per_conn
        if run.storm.cpu_us_per_conn and run.base.cpu_us_per_conn:
            bpf += "  storm %.2f->%.2f us/conn" % (run.base.cpu_us_per_conn,
                                                   run.storm.cpu_us_per_conn)
        return ("  [%3d/%d] %-44s pair %d  base %6.0f/s  traced %6.0f/s  ratio %.3f  %s  lost %d"
                "  ready %3.0f ms%s%s%s" % (
                    self.done, self.total, case.name, i + 1, run.base_rate, run.rate, run.ratio,
                    rows, run.lost, run.ready_ms, bpf, lat,
                    ("  [" + "; ".join(run.notes) + "]") if run.notes else ""))

    def run_idle(self, tools):
        """Each tool watched idle, once: its Idle records; False when one could not be."""
        s, out, ok = self.settings, [], True
        for tool in tools:
            try:
                idle = idle_mod.idle_run(tool, s.idle_seconds, self.cpus[1],
                                         os.path.join(self.tmp, "idle.%s" % tool))
            except HarnessError as e:
                idle = Idle(tool, error=str(e))
            ok = ok and idle.error is None
            out.append(idle)
            log(self.idle_progress(idle))
        return out, ok

    @staticmethod
    def idle_progress(idle):
        if idle.error:
            return "  %-24s ERROR: %s" % (idle.name, idle.error)
        return ("  %-24s %.1f s  %d threads  %d + %d context switches: %s/s  CPU %s s/min"
                "  ready %.0f ms%s" % (
                    idle.name, idle.seconds, idle.threads, idle.csw_voluntary,
                    idle.csw_nonvoluntary, report.fmt(idle.csw_per_s, ".2f"),
                    report.fmt(idle.cpu_s_per_min, ".4f"), idle.ready_ms,
                    ("  [" + "; ".join(idle.notes) + "]") if idle.notes else ""))

    def run_all(self, all_cases):
        """Run every case; False when one of ours (or a floor) could not be measured."""
        ok = True
        for group in cases_mod.interleaved(all_cases):
            if group[0].kind == "floor":
                cases_mod.set_floor_programs(group[0], all_cases)
                if group[0].skipped:
                    log("  %s: skipped: %s" % (group[0].name, group[0].skipped))
                    self.done += self.settings.pairs
                    continue
            ok = self.run_cases(group) and ok
        return ok


def main():
    settings = Settings.from_env()
    problem = preflight(settings)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    all_cases, peer_skips = select_cases(settings)
    idle_tools = idle_mod.idle_tools(settings)
    if not all_cases and not idle_tools:
        print("bench: BENCH_ONLY matches no case", file=sys.stderr)
        return 1
    syscalls = machine.syscall_numbers(settings.cc)
    total = len(all_cases) * settings.pairs
    version = source_version()
    log("bench: %d cases x %d pairs, %.1f s storms, %d tools idle %.0f s, about %.0f min;"
        " source %s" % (
            len(all_cases), settings.pairs, settings.seconds, len(idle_tools),
            settings.idle_seconds, (total * (2 * settings.seconds + 1.0) +
                                    len(idle_tools) * (settings.idle_seconds + 1.0)) / 60,
            version))
    noise = measure.noise_report()
    if noise:
        log("bench: WARNING: other tracers/tests are running and will skew the numbers: "
            + " ".join(noise))
    try:
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
    except OSError:
        load = []
    date = time.strftime("%Y-%m-%d %H:%M:%S")
    bins = binaries_state()
    tmp = tempfile.mkdtemp(prefix="tcptools-bench.")
    bench = Bench(settings, syscalls, tmp, total)
    started = time.time()
    if settings.pin:
        # this script reads the tools' pipes: with the tool, away from the storm
        os.sched_setaffinity(0, {TOOL_CPU})
    try:
        with measure.Netns() as ns, measure.BpfStats(syscalls.get("bpf")) as stats:
            stats_how = stats.how
            log("bench: BPF run-time stats on: %s; %s" % (stats_how,
                                                         report.pin_note(settings.pin)))
            log("bench: netns %s, %s" % (ns.name, ", ".join("%s=%s" % kv for kv in
                                                            ns.sysctls().items())))
            idle, idle_ok = bench.run_idle(idle_tools)
            ok = bench.run_all(all_cases) and idle_ok
    finally:
        measure.kill_children()
        shutil.rmtree(tmp, ignore_errors=True)
    meta = Meta(date=date, source=version, kernel=os.uname().release, cpus=os.cpu_count(),
                load=load, stats_how=stats_how, pin=settings.pin, peers=settings.peers,
                peer_skips=peer_skips,
                rebuilt=[b for b, st in binaries_state().items() if st != bins.get(b)],
                noise_end=measure.noise_report(), elapsed_s=time.time() - started,
                pairs_run=bench.done)
    results = Results(seconds=settings.seconds, pairs=settings.pairs, meta=meta,
                      cases=all_cases, idle=idle)
    print(report.Report(results).text())
    try:
        report.write(results, settings.results)
    except OSError as e:
        print("bench: cannot write %s: %s" % (settings.results, e), file=sys.stderr)
        return 1
    print("bench: report in %s" % os.path.relpath(settings.results, os.getcwd()))
    return 0 if ok else 1


def on_term(sig, frame):
    raise SystemExit(128 + sig)


def entry():
    """bench/run: main() with its signals and its errors."""
    # interruptible even when started with SIGINT ignored (a background job)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    try:
        return main()
    except KeyboardInterrupt:
        measure.kill_children()
        print("bench: interrupted", file=sys.stderr)
        return 130
    except HarnessError as e:
        measure.kill_children()
        print("bench: %s" % e, file=sys.stderr)
        return 1
