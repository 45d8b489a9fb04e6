# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
What a bench run measured, as typed records: a storm (the generator's own
account), a run (a baseline storm and the same storm traced), a case (what
was traced, how, and its runs), its summary over the runs, a tool watched
idle, and the whole run with what the report says of the machine. The JSON file next to the
report is these records; the report can be made again from it (report.py).
"""
import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple


class Spread(NamedTuple):
    median: float
    lo: float
    hi: float


class Counts(NamedTuple):
    """One BPF program's run_time_ns and run_cnt over a storm."""
    ns: int
    runs: int


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def spread(vals):
    """Spread (median, min, max) of the values that are not None, or None."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return Spread(statistics.median(vals), min(vals), max(vals))


def init_fields(cls, d):
    """The items of d that cls takes to be made; another key is an error."""
    derived = {f.name for f in dataclasses.fields(cls) if not f.init}
    return {k: v for k, v in d.items() if k not in derived}


@dataclass
class Storm:
    """The generator's JSON line (bench/storm.c), and what follows from it."""
    family: int
    mode: str
    concurrency: int
    comm: str
    seconds: float
    attempts: int
    connections: int
    refused: int
    errors: int
    first_error: str
    rate: float
    stamps: int
    cpu_user_s: float
    cpu_sys_s: float
    made: int = field(init=False)  # connections, or refused connects
    cpu_s: float = field(init=False)
    cpu_us_per_conn: float | None = field(init=False)

    def __post_init__(self):
        self.made = self.refused if self.mode == "refused" else self.connections
        self.cpu_s = self.cpu_user_s + self.cpu_sys_s
        self.cpu_us_per_conn = self.cpu_s / self.made * 1e6 if self.made else None

    @classmethod
    def from_json(cls, d):
        return cls(**init_fields(cls, d))


@dataclass
class Run:
    """One pair: a baseline storm, then the same storm with the case traced."""
    base: Storm
    storm: Storm
    ready_ms: float
    bpf: dict[str, Counts]  # the tool's programs by name, over the traced storm
    harness_cpu_s: float  # this script's own CPU (the pipe reader)
    rss_kb: int | None
    cpu_s: float | None  # the tool's, from ready until its output went quiet
    lost: int
    rows: int  # rows for the generator
    rows_total: int
    rows_expected: int | None
    notes: list[str] = field(default_factory=list)
    lat_n: int | None = None
    lat_unmatched: int | None = None
    lat_p50: float | None = None
    lat_p90: float | None = None
    lat_p99: float | None = None
    lat_max: float | None = None
    others_cpu: float | None = None  # CPU of the rest of the machine, share of one
    others_top: list[str] = field(default_factory=list)
    rate: float = field(init=False)
    base_rate: float = field(init=False)
    ratio: float = field(init=False)
    bpf_ns: int = field(init=False)
    bpf_ns_per_conn: float | None = field(init=False)
    bpf_runs_per_conn: float | None = field(init=False)

    def __post_init__(self):
        self.rate = self.storm.rate
        self.base_rate = self.base.rate
        self.ratio = self.rate / self.base.rate if self.base.rate else 0.0
        made = self.storm.made
        self.bpf_ns = sum(c.ns for c in self.bpf.values())
        self.bpf_ns_per_conn = self.bpf_ns / made if made and self.bpf else None
        self.bpf_runs_per_conn = (sum(c.runs for c in self.bpf.values()) / made
                                  if made and self.bpf else None)

    @classmethod
    def from_json(cls, d):
        d = init_fields(cls, d)
        d["base"] = Storm.from_json(d["base"])
        d["storm"] = Storm.from_json(d["storm"])
        d["bpf"] = {n: Counts(*c) for n, c in d["bpf"].items()}
        return cls(**d)


@dataclass
class ProgSummary:
    ns: Spread | None  # run_time_ns per connection
    runs: float | None  # run_cnt per connection, median


@dataclass
class Summary:
    """A case over its runs: medians, and (min, max) where a Spread."""
    pairs: int
    base_rate: float
    rate: float
    ratio: float
    ratio_min: float
    ratio_max: float
    lost: float
    lost_max: int
    cpu_per_m_sp: Spread | None  # the tool's CPU s per million rows
    cpu_per_m: float | None
    bpf: Spread | None  # BPF ns per connection
    bpf_runs: float | None
    progs: dict[str, ProgSummary]
    storm_base: Spread | None  # the generator's CPU us per connection
    storm_traced: Spread | None
    storm_delta: Spread | None
    cpu_share: float | None
    rss_mb: float | None
    ready_ms: float
    ready_sp: Spread
    others_cpu: float | None
    notes: list[str]
    rows_ratio: float | None = None  # ours: rows over the rows expected
    rows_exact: bool | None = None
    rows_bad_runs: int | None = None
    rows_per_conn: float | None = None  # peers and floor: rows per connection
    lat_p50: float | None = None
    lat_p90: float | None = None
    lat_p99: float | None = None
    lat_unmatched: int | None = None


@dataclass
class Case:
    """What is traced on which storm, with which output; and its runs."""
    scenario: str
    tool: str
    flags: list[str]
    output: str  # "file" or "pipe"
    kind: str = "ours"  # "ours", "floor" or "peer"
    label: str = ""
    cmd: list[str] = field(default_factory=list)  # not saved
    sections: dict[str, str] = field(default_factory=dict)  # program: ELF section (its hook)
    runs: list[Run] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None

    def __post_init__(self):
        self.label = self.label or self.tool

    @property
    def name(self):
        return "%s %s %s %s" % (self.scenario, self.label, " ".join(self.flags) or "-",
                                self.output)

    @property
    def json(self):
        return "-j" in self.flags

    @property
    def options(self):
        """The flags that change what the programs do (-j, an output format, does not)."""
        return [f for f in self.flags if f != "-j"]

    def option_base(self, cases):
        """Among cases, the one this case's options are set against: the same tool on the
        same storm and output, without options (-j as here); None if none, or no options."""
        if self.kind != "ours" or not self.options:
            return None
        for o in cases:
            if (o.kind == "ours" and o.tool == self.tool and o.scenario == self.scenario and
                    o.output == self.output and not o.options and o.json == self.json):
                return o
        return None

    def expected_rows(self, storm):
        if self.kind != "ours":
            return None
        if self.tool == "tcpconnect":
            return storm.attempts
        if self.tool == "tcpaccept":
            return storm.connections
        return 4 * storm.connections

    def latency_key(self):
        """(row type, JSON field holding the client port) for latency, or None."""
        if not (self.json and self.output == "pipe" and self.kind == "ours"):
            return None
        return {"tcpconnect": ("connect", "lport"), "tcpaccept": ("accept", "rport"),
                "tcptracer": ("connect", "lport")}[self.tool]

    @cached_property
    def summary(self):
        """The Summary of the runs (None without runs), once they are all done."""
        return summarize(self) if self.runs else None

    def to_json(self):
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "cmd"}
        d["runs"] = [dataclasses.asdict(r) for r in self.runs]
        d["summary"] = dataclasses.asdict(self.summary) if self.summary else None
        return d

    @classmethod
    def from_json(cls, d):
        d = dict(d)
        del d["summary"]  # made again from the runs
        d["runs"] = [Run.from_json(r) for r in d["runs"]]
        return cls(**d)


def summarize(case):
    runs = case.runs
    s = Summary(
        pairs=len(runs),
        base_rate=med(r.base_rate for r in runs),
        rate=med(r.rate for r in runs),
        ratio=med(r.ratio for r in runs),
        ratio_min=min(r.ratio for r in runs),
        ratio_max=max(r.ratio for r in runs),
        lost=med(r.lost for r in runs),
        lost_max=max(r.lost for r in runs),
        cpu_per_m_sp=spread(r.cpu_s / r.rows_total * 1e6
                            if r.cpu_s is not None and r.rows_total else None for r in runs),
        cpu_per_m=None,
        bpf=spread(r.bpf_ns_per_conn for r in runs),
        bpf_runs=med(r.bpf_runs_per_conn for r in runs),
        progs={},
        storm_base=spread(r.base.cpu_us_per_conn for r in runs),
        storm_traced=spread(r.storm.cpu_us_per_conn for r in runs),
        storm_delta=spread(r.storm.cpu_us_per_conn - r.base.cpu_us_per_conn
                           if r.storm.cpu_us_per_conn is not None and
                           r.base.cpu_us_per_conn is not None else None for r in runs),
        cpu_share=med(r.cpu_s / r.storm.seconds if r.cpu_s is not None else None
                      for r in runs),
        rss_mb=med(r.rss_kb / 1024.0 if r.rss_kb else None for r in runs),
        ready_ms=med(r.ready_ms for r in runs),
        ready_sp=spread(r.ready_ms for r in runs),
        others_cpu=med(r.others_cpu for r in runs),
        notes=[])
    s.cpu_per_m = s.cpu_per_m_sp.median if s.cpu_per_m_sp else None
    if case.kind == "ours":
        s.rows_ratio = med(r.rows / r.rows_expected if r.rows_expected else
                           (1.0 if r.rows == 0 else float("inf")) for r in runs)
        s.rows_exact = all(r.rows == r.rows_expected for r in runs)
        s.rows_bad_runs = sum(r.rows != r.rows_expected for r in runs)
    else:
        s.rows_per_conn = med(r.rows / r.storm.made if r.storm.made else None for r in runs)
    per_prog = {}
    for r in runs:
        made = r.storm.made
        for name, c in r.bpf.items():
            if made:
                ns, cnt = per_prog.setdefault(name, ([], []))
                ns.append(c.ns / made)
                cnt.append(c.runs / made)
    s.progs = {n: ProgSummary(spread(ns), med(cnt)) for n, (ns, cnt) in per_prog.items()}
    if case.latency_key():
        s.lat_p50 = med(r.lat_p50 for r in runs)
        s.lat_p90 = med(r.lat_p90 for r in runs)  # None from a run saved without it
        s.lat_p99 = med(r.lat_p99 for r in runs)
        s.lat_unmatched = sum(r.lat_unmatched for r in runs)
    for r in runs:
        for n in r.notes:
            if n not in s.notes:
                s.notes.append(n)
    return s


@dataclass
class Idle:
    """
    One of our tools started with nothing to trace (its -p filter names a
    process of the bench that makes no connection), watched from ready for
    a while: what its threads did meanwhile.
    """
    tool: str
    seconds: float | None = None  # watched, from ready to the end of the period
    threads: int | None = None
    csw_voluntary: int | None = None  # all its threads, over the period
    csw_nonvoluntary: int | None = None
    cpu_s: float | None = None  # user + system, all its threads, over the period
    ready_ms: float | None = None
    rows: int | None = None  # rows it printed all the same (0 expected)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    csw_per_s: float | None = field(init=False)
    cpu_s_per_min: float | None = field(init=False)

    def __post_init__(self):
        ok = self.seconds and self.csw_voluntary is not None and self.error is None
        self.csw_per_s = ((self.csw_voluntary + self.csw_nonvoluntary) / self.seconds
                          if ok else None)
        self.cpu_s_per_min = (self.cpu_s / self.seconds * 60
                              if ok and self.cpu_s is not None else None)

    @property
    def name(self):
        return "idle %s" % self.tool

    @classmethod
    def from_json(cls, d):
        return cls(**init_fields(cls, d))


@dataclass
class Meta:
    """The run as a whole: when, on what, and what the harness noted."""
    date: str
    source: str  # git describe of the tree
    kernel: str
    cpus: int
    load: list[str]  # /proc/loadavg at the start
    stats_how: str | None  # how bpf_stats were turned on
    pin: bool
    peers: bool
    peer_skips: list[str]  # peers not run, and why
    rebuilt: list[str]  # binaries that changed during the run
    noise_end: list[str]  # other tracers or busy processes at the end
    elapsed_s: float
    pairs_run: int


@dataclass
class Results:
    seconds: float
    pairs: int
    meta: Meta
    cases: list[Case]
    idle: list[Idle] = field(default_factory=list)  # none in a run saved before it

    def to_json(self):
        return {"seconds": self.seconds, "pairs": self.pairs,
                "meta": dataclasses.asdict(self.meta),
                "cases": {c.name: c.to_json() for c in self.cases},
                "idle": [dataclasses.asdict(i) for i in self.idle]}

    @classmethod
    def from_json(cls, d):
        return cls(seconds=d["seconds"], pairs=d["pairs"], meta=Meta(**d["meta"]),
                   cases=[Case.from_json(c) for c in d["cases"].values()],
                   idle=[Idle.from_json(i) for i in d.get("idle", [])])

    def save(self, path):
        with open(path, "w") as f:
            json.dump(self.to_json(), f, indent=1)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            return cls.from_json(json.load(f))

