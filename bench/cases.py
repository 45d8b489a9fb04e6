# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The cases: each tool on each storm with each output; the floor of each
storm (build/floor: empty programs on the hooks the tools held there);
the installed peers on the IPv4 cycle storm.
"""
import os
import shutil
from dataclasses import dataclass

from . import machine
from .config import FLOOR, FLOOR_OBJ, ROOT, TOOLS, tool_path
from .measure import own_tracefs
from .results import Case


@dataclass(frozen=True)
class Scenario:
    family: int
    mode: str  # build/storm's --mode

    def storm_args(self, concurrency):
        args = ["--family", str(self.family), "--mode", self.mode]
        if self.mode == "concurrent":
            args += ["--concurrency", str(concurrency)]
        return args


SCENARIOS = {
    "v4 cycle": Scenario(4, "cycle"),
    "v6 cycle": Scenario(6, "cycle"),
    "v4 refused": Scenario(4, "refused"),
    "v4 concurrent": Scenario(4, "concurrent"),
}

BPFTRACE_PROG = ('tracepoint:sock:inet_sock_set_state { printf("%s %d %d %d %d\\n", comm, pid, '
                 'args->sport, args->dport, args->newstate); }')


def ours(scenario, tool, flags, output):
    return Case(scenario, tool, flags, output, cmd=[tool_path(tool)] + flags)


def our_cases():
    cases = []
    for tool in TOOLS:
        cases.append(ours("v4 cycle", tool, [], "file"))
        cases.append(ours("v4 cycle", tool, [], "pipe"))
        cases.append(ours("v4 cycle", tool, ["-j"], "pipe"))
    for tool in TOOLS:
        cases.append(ours("v6 cycle", tool, ["-j"], "pipe"))
    cases.append(ours("v4 refused", "tcpconnect", [], "file"))
    cases.append(ours("v4 refused", "tcpconnect", ["-j"], "pipe"))
    # options beside the tool without them, on the same storms
    cases.append(ours("v4 cycle", "tcpconnect", ["-o"], "file"))
    cases.append(ours("v4 refused", "tcpconnect", ["-o"], "file"))
    cases.append(ours("v4 cycle", "tcpaccept", ["-q"], "file"))
    cases.append(ours("v4 cycle", "tcptracer", ["-l"], "file"))
    for tool in TOOLS:
        cases.append(ours("v4 concurrent", tool, ["-j"], "pipe"))
    return cases


def interleaved(cases):
    """
    The cases in the groups they run in, in order: each case that sets options
    with the case they are set against (Case.option_base), at that case's
    place; every other case alone.
    """
    bases = {id(c): c.option_base(cases) for c in cases}
    return [[c] + [o for o in cases if bases[id(o)] is c]
            for c in cases if bases[id(c)] is None]


def floor_cases(scenarios):
    """One floor per storm; its programs are chosen by set_floor_programs()."""
    return [Case(scn, "floor", [], "file", kind="floor", label="floor (empty programs)")
            for scn in scenarios]


def tool_sections(case):
    """{program: section} of what case's tool carries (its skeleton's BPF object)."""
    return machine.program_sections(tool_path(case.tool))


def set_floor_programs(floor, cases):
    """
    Give the floor of a storm the empty programs on the hooks (ELF sections)
    of the programs our tools held on that storm, whichever attach mode they
    took: the floor's command, its sections, or why it cannot run.
    """
    ran = [c for c in cases if c.kind == "ours" and c.scenario == floor.scenario and c.runs]
    wanted = {sec for c in ran for sec in c.sections.values()}
    if not wanted:
        floor.skipped = ("the hooks of the tools' programs are not known" if ran else
                         "no tool of ours ran on this storm")
        return
    by_section = {sec: name for name, sec in machine.program_sections(FLOOR_OBJ).items()}
    floor.sections = {by_section[s]: s for s in sorted(wanted) if s in by_section}
    if not floor.sections:
        floor.skipped = "%s has no empty program on %s" % (os.path.basename(FLOOR_OBJ),
                                                           ", ".join(sorted(wanted)))
        return
    # classic tracepoints need tracefs: one of its own, as for the peers
    floor.cmd = own_tracefs([FLOOR, FLOOR_OBJ] + sorted(floor.sections))


def find_program(name):
    path = os.environ.get("PATH", "") + ":/usr/local/sbin:/usr/sbin:/sbin"
    p = shutil.which(name, path=path)
    if p and os.path.realpath(p).startswith(ROOT + os.sep):
        return None  # our own tools are not peers
    return p


def peer_cases():
    """(cases to run, lines saying what was skipped)."""
    cands = [
        ("libbpf-tools tcplife", "tcplife", []),
        ("libbpf-tools tcpstates", "tcpstates", []),
        ("libbpf-tools tcpconnect", "tcpconnect", []),
        ("libbpf-tools tcptracer", "tcptracer", []),
        ("bcc tcplife", "tcplife-bpfcc", []),
        ("bcc tcpstates", "tcpstates-bpfcc", []),
        ("bpftrace", "bpftrace", ["-e", BPFTRACE_PROG]),
    ]
    cases, skipped = [], []
    for label, prog, args in cands:
        path = find_program(prog)
        if not path:
            skipped.append("%s: not installed (%s not found)" % (label, prog))
            continue
        if prog in ("tcpconnect", "tcptracer"):
            # libbpf-tools' own tcpconnect/tcptracer: only if they look like them
            if not path.startswith(("/usr/sbin/", "/usr/bin/", "/sbin/", "/usr/local/")):
                continue
        flags = ["-e printf"] if prog == "bpftrace" else []
        # classic tracepoints need tracefs, which the peers do not mount
        # themselves
        cases.append(Case("v4 cycle", prog, flags, "file", kind="peer",
                          cmd=own_tracefs([path] + args), label=label))
    return cases, skipped
