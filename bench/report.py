# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The report of a bench run (bench/results.md and what make bench prints),
made from its Results alone: from a run just done, or from the JSON file
saved next to the report. COLUMNS says what each column measures: the
report's legend is made of it.
"""
import os
import statistics

from .config import (STORM_CPU, TARGET_CPU_PER_M, TARGET_IDLE_CSW, TARGET_OPTION_RATIO,
                     TARGET_P99_MS, TARGET_RATIO, TARGET_RATIO_TRACER, TARGET_READY_MS,
                     TARGET_RSS_MB, TARGET_TRACER_VS_TCPLIFE, TARGET_X_FLOOR, TOOL_CPU)

# The table's columns, with what each measures (None: it says so itself).
COLUMNS = [
    ("storm", None),
    ("tool", None),
    ("flags", None),
    ("out", None),
    ("base conn/s", None),
    ("rate ratio",
     "connections/s traced / connections/s of the baseline run just before (same storm, same"
     " run of the bench), median (min-max of the pairs) (target >= %.2f to a file, >= %.2f"
     " through a pipe and for tcptracer)" % (TARGET_RATIO["file"], TARGET_RATIO["pipe"])),
    ("BPF ns/conn",
     "the run_time_ns the kernel charged the tool's own programs (found by its PID:"
     " /proc/PID/fdinfo) over the storm, per connection made, median (min-max); bpf_stats are"
     " on for the whole bench (a BPF_ENABLE_STATS fd, which turns them off when it closes)"),
    ("x floor",
     "BPF ns/conn over the floor: what empty programs on the same hooks cost on the same storm"
     " (build/floor, the floor case of each storm: an empty program on every hook the tools"
     " held there, in the attach mode they took, all at once, each hook's median; a tool's"
     " floor is the sum over the hooks its programs ran on) (target <= 1.5 tcpconnect and"
     " tcpaccept, <= 2 tcptracer, tcptracer also <= %.2f of tcplife's); where there is no"
     " floor, why" % TARGET_TRACER_VS_TCPLIFE),
    ("BPF runs/conn", "the run_cnt of the tool's programs per connection"),
    ("storm CPU us/conn base -> traced (+delta)",
     "the generator's own CPU time (getrusage, user + system) per connection, baseline ->"
     " traced, medians; +delta is traced - baseline per pair, median (min-max): the same cost"
     " seen from the other side (the programs run in its context)"),
    ("lost", "events lost, from the tool's own count on stderr (target 0 in every run)"),
    ("rows/conn",
     "rows the tool printed for the generator (matched by COMM) over the rows expected from"
     " what the generator did (tcptracer: 4 per connection; target exact in every run)"),
    ("CPU s/M rows",
     "the tool's CPU time, from ready until its output went quiet, per million rows printed"
     " (the BPF programs run in the generator's context: their cost is in the rate, not"
     " here), median (min-max) (target <= %.1f)" % TARGET_CPU_PER_M),
    ("CPU %", "the same CPU time, % of one core"),
    ("RSS MB", "the tool's VmHWM just before it is stopped (target <= %.0f MB)" % TARGET_RSS_MB),
    ("latency p50/p90/p99 ms",
     "-j through a pipe only: from the connect() call (the generator's CLOCK_REALTIME stamp)"
     " to the row being read from the pipe here, matched by the connection's client port"
     " (target p99 <= %.0f ms)" % TARGET_P99_MS),
    ("ready ms",
     "from exec to the \"Tracing\" banner on stderr, attach mode auto (peers: to their first"
     " wait for events, from /proc/PID/syscall) (target <= %.0f ms)" % TARGET_READY_MS),
    ("others %",
     "CPU used by other processes of the machine during the pair, % of one CPU: anything but"
     " ~0 means the numbers are skewed (2 CPUs here)"),
]
HEADERS = [h for h, _ in COLUMNS]

# The Idle table's columns, with what each measures (None: it says so itself).
IDLE_COLUMNS = [
    ("tool", None),
    ("context switches/s",
     "voluntary + nonvoluntary context switches of all the idle tool's threads"
     " (/proc/PID/task/*/status), from its \"Tracing\" banner to the end of the idle period,"
     " per second"),
    ("CPU s per idle minute",
     "the idle tool's CPU time over the same period (user + system, all its threads:"
     " schedstat's ns, else /proc/PID/stat's ticks), scaled to a minute"),
    ("target", "context switches/s at most this"),
]

MISS_NAMES = {"ratio": "rate ratio", "lost": "events lost", "rows": "rows != expected",
              "rss": "peak RSS", "ready": "ready time", "lat": "latency p99",
              "cpu": "CPU per million rows", "floor": "BPF time over its floor",
              "idle": "context switches/s idle"}


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def fmt_spread(sp, spec, scale=1.0):
    if sp is None:
        return "-"
    m, lo, hi = (x * scale for x in sp)
    if lo == hi:
        return format(m, spec)
    return "%s (%s-%s)" % (format(m, spec), format(lo, spec), format(hi, spec))


def md_table(headers, rows):
    return "\n".join(["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] +
                     ["| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |"
                      for r in rows])


def pin_note(pin):
    if not pin:
        return "not pinned (BENCH_PIN=0): the scheduler places the generator and the tool"
    return ("pinned: the generator on CPU %d, the tool (and this script, which reads its "
            "pipe) on CPU %d (BENCH_PIN=1). Why: the programs run in the generator's "
            "context, and pinned they always run on one warm CPU, never preempted by the "
            "tool's reads; in a side-by-side test (5 pairs each) the floor's BPF ns/conn "
            "spread was 729-769 pinned and 699-843 not, tcptracer's storm CPU delta 4.1-9.4 "
            "against 1.0-9.8 us/conn. The price: another process busy on CPU %d slows the "
            "tool, which cannot move" % (STORM_CPU, TOOL_CPU, TOOL_CPU))


class Report:
    """Everything the report says of one run, from its Results."""

    def __init__(self, results):
        self.results = results
        self.cases = results.cases
        self.floors = self._floors()

    # -------------------------------------------------------- the floor

    def _floors(self):
        """{storm: {section: floor ns per connection}, or why there is none}."""
        floors = {}
        for c in self.cases:
            if c.kind != "floor":
                continue
            if c.runs:
                floors[c.scenario] = {c.sections[n]: p.ns.median
                                      for n, p in c.summary.progs.items()
                                      if n in c.sections and p.ns}
            elif c.error:
                floors[c.scenario] = "the floor failed, see its note"
            elif c.skipped:
                floors[c.scenario] = "the floor did not run, see its note"
        return floors

    def tool_floor(self, case):
        """(floor ns per connection of the hooks the tool's programs ran on, or why not)."""
        s = case.summary
        if case.kind != "ours" or not s or not s.progs:
            return None, None
        floor = self.floors.get(case.scenario, "no floor run for this storm")
        if isinstance(floor, str):
            return None, floor
        total = 0.0
        for name, p in sorted(s.progs.items()):
            if not p.runs:
                continue  # a hook that did not fire (or was detached): no floor either
            section = case.sections.get(name)
            if section is None:
                return None, "the hook of %s is not known" % name
            if section not in floor:
                return None, "no empty program on %s in the floor" % section
            total += floor[section]
        return total, None

    def x_floor(self, case):
        """(BPF time over the floor, the floor), or (None, why)."""
        floor, why = self.tool_floor(case)
        if floor and case.summary.bpf:
            return case.summary.bpf.median / floor, floor
        return None, why

    # -------------------------------------------------------- targets

    def vs_tcplife(self, case):
        """The case's BPF time per connection over tcplife's on the same storm, or None."""
        if case.kind != "ours" or not case.runs:
            return None
        for p in self.cases:
            if p.kind == "peer" and p.tool == "tcplife" and p.scenario == case.scenario and p.runs:
                mine, theirs = case.summary.bpf, p.summary.bpf
                if mine and theirs and theirs.median:
                    return mine.median / theirs.median
        return None

    def verdicts(self, case):
        """{column: True (PASS) / False (MISS)} for the targets that apply."""
        s = case.summary
        if case.kind != "ours" or not s:
            return {}
        v = {
            "ratio": s.ratio >= (TARGET_RATIO_TRACER if case.tool == "tcptracer" else
                                 TARGET_RATIO[case.output]),
            "lost": s.lost_max == 0,
            "rows": s.rows_exact,
            "rss": s.rss_mb is not None and s.rss_mb <= TARGET_RSS_MB,
            "ready": s.ready_ms <= TARGET_READY_MS,
        }
        if case.latency_key():
            v["lat"] = s.lat_p99 is not None and s.lat_p99 <= TARGET_P99_MS
        v["cpu"] = s.cpu_per_m is not None and s.cpu_per_m <= TARGET_CPU_PER_M
        x, _ = self.x_floor(case)
        if x is not None:
            v["floor"] = x <= TARGET_X_FLOOR[case.tool]
        return v

    def misses(self):
        out = []
        for c in self.cases:
            if c.error and c.kind == "ours":
                out.append("%s: ERROR %s" % (c.name, c.error))
            if c.skipped or c.error:
                continue
            for k, ok in self.verdicts(c).items():
                if not ok:
                    out.append("%s: %s" % (c.name, MISS_NAMES[k]))
            vs = self.vs_tcplife(c)
            if c.tool == "tcptracer" and vs is not None and vs > TARGET_TRACER_VS_TCPLIFE:
                out.append("%s: BPF time %.2f of tcplife's (target <= %.2f)" % (
                    c.name, vs, TARGET_TRACER_VS_TCPLIFE))
            _, ratio = self.with_without(c)
            if ratio is not None and ratio > TARGET_OPTION_RATIO:
                out.append("%s: BPF time %.3f of the tool's without the option (target <= %.3f)"
                           % (c.name, ratio, TARGET_OPTION_RATIO))
        for i in self.results.idle:
            if i.error:
                out.append("%s: ERROR %s" % (i.name, i.error))
            elif not idle_ok(i):
                out.append("%s: %s (%s, target <= %g)" % (
                    i.name, MISS_NAMES["idle"], fmt(i.csw_per_s, ".2f"), TARGET_IDLE_CSW))
        return out

    # -------------------------------------------------------- options

    def with_without(self, case):
        """
        (the case its options are set against, BPF time with/without), or (None,
        None). Where the two ran the same number of pairs (alternated: make bench
        runs them so), the median of the pairs' ratios, each pair's with its
        neighbour run just before; else the ratio of the medians.
        """
        base = case.option_base(self.cases)
        if base is None or not case.runs or not base.runs:
            return None, None
        pairs = [(r.bpf_ns_per_conn, b.bpf_ns_per_conn) for r, b in zip(case.runs, base.runs)]
        if len(case.runs) == len(base.runs) and all(w is not None and wo for w, wo in pairs):
            return base, statistics.median(w / wo for w, wo in pairs)
        mine, theirs = case.summary.bpf, base.summary.bpf
        if mine and theirs and theirs.median:
            return base, mine.median / theirs.median
        return None, None

    def option_table(self):
        """Markdown: each option's BPF time per connection beside its tool's without it."""
        cols = ["storm", "tool", "option", "without: BPF ns/conn", "with", "with/without (target)"]
        rows = []
        for c in self.cases:
            base, ratio = self.with_without(c)
            if base is None:
                continue
            rows.append([c.scenario, "%s %s" % (c.label, c.output), " ".join(c.options),
                         fmt_spread(base.summary.bpf, ".0f"), fmt_spread(c.summary.bpf, ".0f"),
                         "%.3f %s (<= %.3f)" % (ratio, "PASS" if ratio <= TARGET_OPTION_RATIO
                                               else "MISS", TARGET_OPTION_RATIO)])
        return md_table(cols, rows) if rows else ""

    # -------------------------------------------------------- the main table

    def table_rows(self):
        rows = []
        for c in self.cases:
            flags = " ".join(c.flags) or "-"
            if c.skipped or c.error:
                rows.append([c.scenario, c.label, flags, c.output, "-",
                             "skipped" if c.skipped else "ERROR"] + ["-"] * (len(COLUMNS) - 6))
                continue
            s = c.summary
            v = self.verdicts(c)

            def mark(key):
                return "" if key not in v else (" PASS" if v[key] else " MISS")

            lost = fmt(s.lost, ".0f")
            if s.lost_max != s.lost:
                lost += " (max %d)" % s.lost_max
            if c.kind == "ours":
                rows_s = fmt(s.rows_ratio, ".4f")
                if not s.rows_exact:
                    rows_s += " (%d/%d runs off)" % (s.rows_bad_runs, s.pairs)
            else:
                rows_s = fmt(s.rows_per_conn, ".2f") + " per conn"
            x, floor = self.x_floor(c)
            if x is not None:
                xfloor = "%.2f%s (floor %.0f)" % (x, mark("floor"), floor)
            else:
                xfloor = "none: %s" % floor if floor else "-"
            storm_cpu = "-"
            if s.storm_base and s.storm_traced:
                storm_cpu = "%.2f -> %.2f (+%s)" % (s.storm_base.median, s.storm_traced.median,
                                                    fmt_spread(s.storm_delta, ".2f"))
            lat = "-"
            if c.latency_key():
                lat = " / ".join(fmt(x, ".1f") for x in (s.lat_p50, s.lat_p90, s.lat_p99))
            rows.append([
                c.scenario, c.label, flags, c.output,
                fmt(s.base_rate, ",.0f"),
                fmt(s.ratio, ".3f") + mark("ratio") + (
                    " (%.2f-%.2f)" % (s.ratio_min, s.ratio_max) if s.pairs > 1 else ""),
                fmt_spread(s.bpf, ".0f"),
                xfloor,
                fmt(s.bpf_runs, ".2f"),
                storm_cpu,
                lost + mark("lost"),
                rows_s + mark("rows"),
                fmt_spread(s.cpu_per_m_sp, ".2f") + mark("cpu"),
                fmt(s.cpu_share * 100 if s.cpu_share is not None else None, ".0f"),
                fmt(s.rss_mb, ".2f") + mark("rss"),
                lat + mark("lat"),
                fmt(s.ready_ms, ".0f") + mark("ready"),
                fmt(s.others_cpu * 100 if s.others_cpu is not None else None, ".0f"),
            ])
        return rows

    @staticmethod
    def render_text(rows):
        widths = [max(len(str(r[i])) for r in rows + [HEADERS]) for i in range(len(HEADERS))]
        out = []

        def line(r):
            return "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()

        out.append(line(HEADERS))
        out.append(line(["-" * w for w in widths]))
        prev = None
        for r in rows:
            if prev is not None and r[0] != prev:
                out.append("")
            prev = r[0]
            out.append(line(r))
        return "\n".join(out)

    # -------------------------------------------------------- per tool, per program

    def representatives(self):
        """Per storm, one case per tool or peer: ours to a file without flags where run."""
        out = []
        for scn in dict.fromkeys(c.scenario for c in self.cases):
            seen = set()
            for c in self.cases:
                if c.scenario != scn or not c.runs or c.label in seen:
                    continue
                if c.kind == "ours" and (c.flags or c.output != "file") and any(
                        o.tool == c.tool and o.scenario == scn and not o.flags and
                        o.output == "file" and o.kind == "ours" and o.runs for o in self.cases):
                    continue
                seen.add(c.label)
                out.append(c)
        return out

    @staticmethod
    def case_label(c):
        if c.kind != "ours":
            return c.label
        return "%s %s %s" % (c.label, " ".join(c.flags) or "-", c.output)

    def cost_summary(self):
        """Markdown: the figures the targets are judged on, side by side, per storm."""
        cols = ["storm", "tool", "BPF ns/conn", "floor ns/conn", "x floor (target)",
                "/ tcplife", "storm CPU +us/conn", "CPU s/M rows", "rate ratio", "ready ms"]
        rows = []
        for c in self.representatives():
            s = c.summary
            x, floor = self.x_floor(c)
            if x is not None:
                xs = "%.2f (<= %.1f)" % (x, TARGET_X_FLOOR[c.tool])
            else:
                xs, floor = ("none: %s" % floor if floor else "-"), None
            vs = self.vs_tcplife(c)
            vs_s = "-" if vs is None else "%.3f%s" % (
                vs, " (<= %.2f)" % TARGET_TRACER_VS_TCPLIFE if c.tool == "tcptracer" else "")
            rows.append([c.scenario, self.case_label(c), fmt_spread(s.bpf, ".0f"),
                         fmt(floor, ".0f"), xs, vs_s, fmt_spread(s.storm_delta, ".2f"),
                         fmt_spread(s.cpu_per_m_sp, ".2f"),
                         fmt_spread((s.ratio, s.ratio_min, s.ratio_max), ".3f"),
                         fmt_spread(s.ready_sp, ".0f")])
        return md_table(cols, rows) if rows else ""

    def prog_breakdown(self):
        """Markdown: each program's share, per connection, next to the floor of its hook."""
        cols = ["storm", "tool", "program", "runs/conn", "ns/conn", "ns/run", "floor ns/conn",
                "x floor"]
        rows = []
        for c in self.representatives():
            floor = self.floors.get(c.scenario)
            floor = floor if c.kind == "ours" and isinstance(floor, dict) else {}
            label = self.case_label(c)
            progs = sorted(c.summary.progs.items(), key=lambda kv: -(kv[1].ns or (0,))[0])
            for name, p in progs:
                if c.kind == "floor" and not (p.runs or 0) >= 0.005:
                    continue  # a hook this storm does not fire
                f = floor.get(c.sections.get(name))
                per_run = p.ns.median / p.runs if p.ns and p.runs else None
                rows.append([c.scenario, label, name, fmt(p.runs, ".2f"),
                             fmt_spread(p.ns, ".0f"), fmt(per_run, ".0f"), fmt(f, ".0f"),
                             fmt(p.ns.median / f if f and f >= 1 and p.ns else None, ".2f")])
        return md_table(cols, rows) if rows else ""

    # -------------------------------------------------------- idle

    def idle_table(self):
        """Markdown: each tool idle, nothing to trace (the Idle records)."""
        rows = []
        for i in self.results.idle:
            if i.error:
                rows.append([i.tool, "ERROR", "-", "<= %g" % TARGET_IDLE_CSW])
                continue
            rows.append([i.tool,
                         fmt(i.csw_per_s, ".2f") + (" PASS" if idle_ok(i) else " MISS"),
                         fmt(i.cpu_s_per_min, ".4f"), "<= %g" % TARGET_IDLE_CSW])
        return md_table([h for h, _ in IDLE_COLUMNS], rows) if rows else ""

    def idle_line(self):
        """One line: each tool's context switches per second idle, or ""."""
        if not self.results.idle:
            return ""
        return "idle context switches/s (target <= %g): %s" % (TARGET_IDLE_CSW, ", ".join(
            "%s %s" % (i.tool, "ERROR" if i.error else fmt(i.csw_per_s, ".2f"))
            for i in self.results.idle))

    def idle_notes(self):
        idle = self.results.idle
        if not idle:
            return ["idle not measured (BENCH_IDLE_SECONDS=0, BENCH_ONLY, or a run saved"
                    " before it)"]
        seconds = [i.seconds for i in idle if i.seconds]
        notes = ["idle: each tool (default flags, to a file) started with -p PID of a sleep"
                 " of the bench's own, which makes no connection: the filter drops every event"
                 " in the kernel, so nothing reaches the tool whatever else runs on the"
                 " machine; watched once per tool for %s s from its \"Tracing\" banner, %s" % (
                     fmt(max(seconds) if seconds else None, ".1f"),
                     ("pinned on CPU %d as in the storms" % TOOL_CPU) if self.results.meta.pin
                     else "not pinned")]
        for i in idle:
            if i.error:
                notes.append("%s: ERROR: %s" % (i.name, i.error))
            if i.notes:
                notes.append("%s: %s" % (i.name, "; ".join(i.notes)))
        return notes

    # -------------------------------------------------------- words

    def legend(self):
        """What the figures are: one line each (the storms' if any, the idle ones' if any)."""
        out = []
        if self.cases:
            out += ["Medians over %d baseline/traced pairs (A B A B ...), %.1f s storms, in a"
                    " netns of its own." % (self.results.pairs, self.results.seconds)]
            out += ["%s: %s." % (h, d) for h, d in COLUMNS if d]
        if self.results.idle:
            out += ["Idle %s: %s." % (h, d) for h, d in IDLE_COLUMNS if d]
        return out

    def notes(self):
        meta = self.results.meta
        notes = ["BPF run-time stats: %s" % meta.stats_how, pin_note(meta.pin)]
        hogs = {}
        for c in self.cases:
            if c.skipped:
                notes.append("%s %s: skipped: %s" % (c.scenario, c.label, c.skipped))
            if c.error:
                notes.append("%s: ERROR: %s" % (c.name, c.error))
            for r in c.runs:
                if (r.others_cpu or 0) > 0.05:
                    for h in r.others_top:
                        hogs[h] = max(hogs.get(h, 0), r.others_cpu)
            if c.runs:
                s = c.summary
                if s.notes:
                    notes.append("%s: %s" % (c.name, "; ".join(s.notes)))
                if s.lat_unmatched:
                    notes.append("%s: %d rows not matched to a connect() stamp" % (
                        c.name, s.lat_unmatched))
                _, why = self.tool_floor(c)
                if why:
                    notes.append("%s: no floor: %s" % (c.name, why))
        if meta.peers:
            notes += ["peer " + s for s in meta.peer_skips]
            if any(c.kind == "peer" for c in self.cases):
                notes.append("peers: output to a file, default flags; ready = first wait for"
                             " events; their rows/conn are per their own format")
        else:
            notes.append("peers not run (PEERS=1 runs them)")
        if meta.rebuilt:
            notes.append("REBUILT during the run (results mix versions): " +
                         ", ".join(meta.rebuilt))
        if hogs:
            notes.append("NOISE: other processes were busy during some runs (others %% column, "
                         "%% of a CPU; up to %.0f%%): %s; the numbers are skewed" % (
                             100 * max(hogs.values()), ", ".join(sorted(hogs))))
        if meta.noise_end:
            notes.append("at the end: " + " ".join(meta.noise_end))
        return notes + self.idle_notes()

    # -------------------------------------------------------- the whole

    def text(self):
        """What make bench prints at the end."""
        out = [""]
        if self.cases:
            out += [self.render_text(self.table_rows()), ""]
        for part in (self.cost_summary(), self.option_table(), self.prog_breakdown(),
                     self.idle_table()):
            if part:
                out += [part, ""]
        out += self.legend() + [""]
        out += ["note: " + n for n in self.notes()]
        out.append("")
        if self.idle_line():
            out.append(self.idle_line())
        miss = self.misses()
        if miss:
            out.append("targets missed (%d):" % len(miss))
            out += ["  MISS " + m for m in miss]
        else:
            out.append("all targets met")
        out.append("bench: %d runs in %.0f s" % (2 * self.results.meta.pairs_run,
                                                 self.results.meta.elapsed_s))
        return "\n".join(out)

    def markdown(self):
        """bench/results.md."""
        meta = self.results.meta
        out = ["# make bench results\n\n%s, source %s, kernel %s, %d CPUs, load at start %s.\n\n"
               % (meta.date, meta.source, meta.kernel, meta.cpus, " ".join(meta.load))]
        if self.cases:
            out.append(md_table(HEADERS, self.table_rows()) + "\n\n")
        out += ["- %s\n" % l for l in self.legend()]
        out += ["- note: %s\n" % n for n in self.notes()]
        cost = self.cost_summary()
        if cost:
            out.append("\n## Cost per connection\n\nThe figures the targets are judged on,"
                       " one row per tool (to a file, no flags), medians (min-max):\n\n"
                       + cost + "\n")
        opts = self.option_table()
        if opts:
            out.append("\n## Options\n\nEach option's BPF time per connection beside its tool's"
                       " without it, same storm and output, medians (min-max). The two cases'"
                       " pairs alternate (one of one, one of the other), so that the machine's"
                       " slow and fast spells fall on both; with/without is the median of the"
                       " ratios of the pairs run one after the other:\n\n" + opts + "\n")
        breakdown = self.prog_breakdown()
        if breakdown:
            out.append("\n## BPF time per program\n\nEach program's run_time_ns per "
                       "connection, next to an empty program on its hook (same storm):\n\n"
                       + breakdown + "\n")
        idle = self.idle_table()
        if idle:
            out.append("\n## Idle\n\nEach tool started with nothing to trace (-p of a"
                       " quiet process of the bench's own, see the notes), watched once:\n\n"
                       + idle + "\n\n" + self.idle_line() + ".\n")
        miss = self.misses()
        out.append("\n" + ("Targets missed:\n\n" + "".join("- MISS %s\n" % m for m in miss)
                           if miss else "All targets met.\n"))
        return "".join(out)


def idle_ok(idle):
    """Whether an Idle meets its target of context switches per second."""
    return idle.csw_per_s is not None and idle.csw_per_s <= TARGET_IDLE_CSW


def write(results, path):
    """The markdown report at path and the JSON results next to it."""
    with open(path, "w") as f:
        f.write(Report(results).markdown())
    results.save(json_path(path))


def json_path(md_path):
    return os.path.splitext(md_path)[0] + ".json"
