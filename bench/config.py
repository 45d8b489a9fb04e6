# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
Where make bench finds its programs, what it aims at, and what the
environment asks of it:

  BENCH_SECONDS      seconds of each storm (default 3)
  BENCH_PAIRS        baseline/traced pairs per case (default 5)
  BENCH_CONCURRENCY  connections kept open by the concurrent storm (default 5000)
  BENCH_IDLE_SECONDS seconds each of our tools is watched idle, once per tool
                     (default 20; 0: no idle figures)
  BENCH_ONLY         a regular expression: only the cases whose name matches
                     (the floor of a storm runs when any of its cases does;
                     the idle ones are named "idle TOOL")
  BENCH_PIN          1 (default): the generator on CPU 0, the tool and this
                     script on CPU 1; 0: let the scheduler place them
  PEERS=1            also run the installed peers (libbpf-tools tcplife and
                     tcpstates, bpftrace on sock:inet_sock_set_state, ...)
                     on the IPv4 cycle storm, side by side
  BENCH_RESULTS      the markdown report (default bench/results.md; a JSON
                     file with every run goes next to it)
  CC                 the C compiler whose <sys/syscall.h> gives the syscall
                     numbers (default cc; make bench passes its own)
"""
import os
import re
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
STORM = os.path.join(BUILD, "storm")
FLOOR = os.path.join(BUILD, "floor")
FLOOR_OBJ = os.path.join(BUILD, "floor.bpf.o")
PARTS_OBJ = os.path.join(BUILD, "parts.bpf.o")
SYSCALLS = os.path.join(BUILD, "syscalls")
TOOLS = ["tcpconnect", "tcpaccept", "tcptracer"]
COMM = "tcpstorm"
PORT = 5000  # listener; PORT + 1 is the closed port of the refused storm
PORT_RANGE = "10000 65000"
STORM_CPU, TOOL_CPU = 0, 1

READY_TIMEOUT = 10.0
PEER_READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# targets (the README of the issue): ratio by output (tcptracer: 0.95 to a
# file too), and the rest
TARGET_RATIO = {"file": 0.97, "pipe": 0.95}
TARGET_RATIO_TRACER = 0.95
TARGET_P99_MS = 50.0
TARGET_READY_MS = 100.0
TARGET_RSS_MB = 16.0
TARGET_CPU_PER_M = 0.3  # userspace CPU seconds per million rows
TARGET_X_FLOOR = {"tcpconnect": 1.5, "tcpaccept": 1.5, "tcptracer": 2.0}
TARGET_TRACER_VS_TCPLIFE = 0.1
# an option (tcpconnect -o, tcpaccept -q, tcptracer -l) adds under a third of its tool's BPF time
TARGET_OPTION_RATIO = 4.0 / 3.0
TARGET_IDLE_CSW = 1.0  # context switches per second of an idle tool, all its threads


class HarnessError(Exception):
    """The bench cannot measure: the message says why."""


def tool_path(tool):
    return os.path.join(BUILD, tool)


def yes(value, default):
    """An environment flag: unset or empty is default; 0, no, false are off."""
    if not value:
        return default
    return value not in ("0", "no", "false")


@dataclass(frozen=True)
class Settings:
    """What the environment asks of this run."""
    seconds: float
    pairs: int
    concurrency: int
    idle_seconds: float
    only: re.Pattern
    peers: bool
    pin: bool
    results: str
    cc: str

    @classmethod
    def from_env(cls, env=None):
        env = os.environ if env is None else env
        return cls(seconds=float(env.get("BENCH_SECONDS") or 3),
                   pairs=int(env.get("BENCH_PAIRS") or 5),
                   concurrency=int(env.get("BENCH_CONCURRENCY") or 5000),
                   idle_seconds=float(env.get("BENCH_IDLE_SECONDS") or 20),
                   only=re.compile(env.get("BENCH_ONLY") or ""),
                   peers=yes(env.get("PEERS"), False),
                   pin=yes(env.get("BENCH_PIN"), True),
                   results=env.get("BENCH_RESULTS") or os.path.join(ROOT, "bench",
                                                                    "results.md"),
                   cc=env.get("CC") or "cc")
