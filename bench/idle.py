# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
An idle tool costs nothing: each of ours started with nothing to trace and
watched for a while (BENCH_IDLE_SECONDS), once per tool: how often its
threads were switched out (target: at most once a second) and the CPU they
used. Nothing to trace whatever else runs on the machine: the tool is
started with -p PID of a sleep of the bench's own, which makes no
connection, so its programs drop every event in the kernel.
"""
import subprocess
import time

from . import measure
from .config import TOOLS, tool_path
from .results import Case, Idle
from .tracer import Tracer, count_rows


def idle_tools(settings):
    """The tools to watch idle: those whose "idle TOOL" BENCH_ONLY selects, if any time."""
    if settings.idle_seconds <= 0:
        return []
    return [t for t in TOOLS if settings.only.search(Idle(t).name)]


def quiet_process():
    """A process of the bench's own that makes no connection: the idle tools' -p."""
    return measure.spawn(["sleep", "infinity"], stdout=subprocess.DEVNULL)


def stop_quiet(p):
    p.kill()
    p.wait()
    measure.reap(p)


def sample(pid):
    """(monotonic, (voluntary, nonvoluntary, threads) or None, CPU s or None) of pid now."""
    return time.monotonic(), measure.ctxt_switches(pid), measure.cpu_seconds(pid)


def watch(tool, seconds, cpu, outfile, quiet_pid):
    """(ready s, the samples at ready and at the end, whether it ended, the Tracer)."""
    case = Case("idle", tool, ["-p", str(quiet_pid)], "file",
                cmd=[tool_path(tool), "-p", str(quiet_pid)])
    tr = Tracer(case, outfile, ())
    tr.start(cpu)
    try:
        ready = tr.wait_ready()
        first = sample(tr.p.pid)
        time.sleep(seconds)
        last = sample(tr.p.pid)
        died = tr.p.poll() is not None
    except BaseException:
        if tr.p.poll() is None:
            tr.p.kill()
        tr.stop()
        raise
    return ready, first, last, died, tr


def idle_run(tool, seconds, cpu, outfile):
    """
    The Idle of tool: started on CPU cpu (None: anywhere) with -p of a quiet
    process, watched for seconds from ready. A tool that does not become
    ready raises HarnessError.
    """
    quiet = quiet_process()
    try:
        ready, (t0, csw0, cpu0), (t1, csw1, cpu1), died, tr = watch(tool, seconds, cpu,
                                                                      outfile, quiet.pid)
    finally:
        stop_quiet(quiet)
    notes = tr.stop()
    _, rows = count_rows(tr.case, tr.output())
    if rows:
        notes.append("printed %d rows while idle" % rows)
    if died or csw0 is None or csw1 is None:
        return Idle(tool, ready_ms=ready * 1000, rows=rows, notes=notes,
                    error="ended by itself while idle (%s)" % tr.last_words())
    return Idle(tool, seconds=t1 - t0, threads=csw1[2], csw_voluntary=csw1[0] - csw0[0],
                csw_nonvoluntary=csw1[1] - csw0[1],
                cpu_s=cpu1 - cpu0 if cpu0 is not None and cpu1 is not None else None,
                ready_ms=ready * 1000, rows=rows, notes=notes)
