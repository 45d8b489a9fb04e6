# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The bench report, made offline from a saved results file: no root, no BPF,
no storm. results.json is the JSON of a real make bench run (BENCH_ONLY=
'^v4 cycle (tcpconnect - file|tcpaccept -j pipe|tcptracer - file)'
BENCH_PAIRS=3 BENCH_SECONDS=2; its meta says when and on what; the machine
was busy, as its notes say). The lines expected here are those the live
run wrote into its results.md (but for the p90 of latency and the idle
figures, which the file is older than: they show as not measured); the
medians and floors are worked out again from the raw runs in the file, not
by the code under test. The Idle table is checked on records made here.
"""
import copy
import json
import os
import statistics
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from bench.report import COLUMNS, IDLE_COLUMNS, Report  # noqa: E402
from bench.results import Idle, Results  # noqa: E402

DATA = os.path.join(HERE, "results.json")
CASES = {"tcpconnect": ("-", "file"), "tcpaccept": ("-j", "pipe"), "tcptracer": ("-", "file")}
FLOOR = "v4 cycle floor (empty programs) - file"


@pytest.fixture
def raw():
    with open(DATA) as f:
        return json.load(f)


def markdown(raw_json):
    return Report(Results.from_json(raw_json)).markdown()


def row(md, *cells, width=None):
    """The table lines of md that begin with these cells (and have width cells)."""
    head = "| " + " | ".join(cells) + " |"
    return [l for l in md.splitlines()
            if l.startswith(head) and width in (None, len(l.split(" | ")))]


def cell(line, i):
    return line.split(" | ")[i].strip("| ")


def main_row(md, tool):
    rows = row(md, "v4 cycle", tool, *CASES.get(tool, ("-", "file")), width=len(COLUMNS))
    assert len(rows) == 1, rows
    return rows[0]


def runs(raw_json, tool):
    return raw_json["cases"]["v4 cycle %s %s %s" % ((tool,) + CASES[tool])]["runs"]


def per_conn(run, i):
    """The run's BPF run_time_ns (i 0) or run_cnt (i 1) of all programs, per connection."""
    return sum(c[i] for c in run["bpf"].values()) / run["storm"]["connections"]


def floor_median(raw_json, prog):
    return statistics.median(r["bpf"][prog][0] / r["storm"]["connections"]
                             for r in raw_json["cases"][FLOOR]["runs"])


def test_lines_of_the_live_report(raw):
    md = markdown(raw)
    lines = md.splitlines()
    assert lines[0] == "# make bench results"
    assert lines[2] == ("2026-12-05 13:12:41, source 4fdfe47, kernel 6.18.44-fc-v1294, 2 CPUs,"
                        " load at start 0.57 0.60 0.98.")
    assert lines[4] == "| " + " | ".join(h for h, _ in COLUMNS) + " |"
    assert main_row(md, "tcpconnect") == (
        "| v4 cycle | tcpconnect | - | file | 37,830 | 0.956 MISS (0.91-0.98) | 1014 (1000-1076)"
        " | 2.36 MISS (floor 430) | 10.00 | 25.48 -> 27.32 (+1.13 (0.61-2.43)) | 0 PASS"
        " | 1.0000 PASS | 0.31 (0.31-0.40) MISS | 1 | 14.00 PASS | - | 168 MISS | 99 |")
    assert main_row(md, "tcpaccept") == (
        "| v4 cycle | tcpaccept | -j | pipe | 37,821 | 0.878 MISS (0.78-1.01) | 626 (537-672)"
        " | 6.84 MISS (floor 92) | 1.00 | 25.51 -> 28.40 (+3.39 (-0.33-7.25)) | 0 PASS"
        " | 1.0000 PASS | 0.41 (0.34-0.43) MISS | 1 | 13.77 PASS | 5.6 / - / 10.8 PASS | 159 MISS"
        " | 97 |")
    assert main_row(md, "floor (empty programs)") == (
        "| v4 cycle | floor (empty programs) | - | file | 28,212 | 0.933 (0.88-0.97)"
        " | 577 (561-601) | - | 13.00 | 34.30 -> 37.82 (+2.64 (1.18-4.39)) | 0"
        " | 0.00 per conn | - | 0 | 13.21 | - | 102 | 99 |")
    # the cost of tcpaccept, which ran through a pipe only, and a program's share
    assert row(md, "v4 cycle", "tcpaccept -j pipe", width=10) == [
        "| v4 cycle | tcpaccept -j pipe | 626 (537-672) | 92 | 6.84 (<= 1.5) | - "
        "| 3.39 (-0.33-7.25) | 0.41 (0.34-0.43) | 0.878 (0.777-1.015) | 159 (154-162) |"]
    assert row(md, "v4 cycle", "tcptracer - file", "tp_destroy_sock") == [
        "| v4 cycle | tcptracer - file | tp_destroy_sock | 2.00 | 104 (100-129) | 52 | 56 | 1.87 |"]
    assert "- MISS v4 cycle tcptracer - file: BPF time over its floor" in lines
    assert "- note: peers not run (PEERS=1 runs them)" in lines
    assert ("- note: NOISE: other processes were busy during some runs (others % column, % of a"
            " CPU; up to 99%): cppcheck; the numbers are skewed") in lines


def test_medians(raw):
    """Each tool's rate ratio, BPF time and latency are the medians of its pairs."""
    md = markdown(raw)
    for tool in CASES:
        line = main_row(md, tool)
        ratios = [r["storm"]["rate"] / r["base"]["rate"] for r in runs(raw, tool)]
        assert cell(line, 5).startswith("%.3f " % statistics.median(ratios))
        assert cell(line, 5).endswith("(%.2f-%.2f)" % (min(ratios), max(ratios)))
        bpf = [per_conn(r, 0) for r in runs(raw, tool)]
        assert cell(line, 6) == "%.0f (%.0f-%.0f)" % (statistics.median(bpf), min(bpf), max(bpf))
        assert cell(line, 8) == "%.2f" % statistics.median(per_conn(r, 1) for r in runs(raw, tool))
    lat = cell(main_row(md, "tcpaccept"), 15)
    assert lat == "%.1f / - / %.1f PASS" % tuple(
        statistics.median(r[k] for r in runs(raw, "tcpaccept")) for k in ("lat_p50", "lat_p99"))
    # a run that has the p90 (the file is older than it)
    with_p90 = copy.deepcopy(raw)
    for r, p90 in zip(runs(with_p90, "tcpaccept"), (7.0, 6.5, 9.0)):
        r["lat_p90"] = p90
    assert cell(main_row(markdown(with_p90), "tcpaccept"), 15) == "%.1f / 7.0 / %.1f PASS" % (
        tuple(statistics.median(r[k] for r in runs(raw, "tcpaccept"))
              for k in ("lat_p50", "lat_p99")))


def test_floor_column(raw):
    """x floor: a tool's BPF time over the floor's medians on the hooks its programs ran on."""
    md = markdown(raw)
    hooks = {"tcpconnect": ["floor_set_state"], "tcpaccept": ["floor_exit_accept4"],
             "tcptracer": ["floor_set_state", "floor_destroy_sock", "floor_exit_accept4"]}
    for tool, progs in hooks.items():
        bpf = statistics.median(per_conn(r, 0) for r in runs(raw, tool))
        total = sum(floor_median(raw, p) for p in progs)
        assert cell(main_row(md, tool), 7) == "%.2f MISS (floor %.0f)" % (bpf / total, total)


def test_no_floor_says_why(raw):
    """Where there is no floor to set a tool against, its x floor cell says why."""
    # the floor could not load the programs of the tools' mode (fentry refused)
    failed = copy.deepcopy(raw)
    floor = failed["cases"][FLOOR]
    floor["runs"] = []
    floor["error"] = ("floor (empty programs) did not become ready: exit 1: floor: cannot load"
                      " build/floor.bpf.o: Operation not permitted")
    md = markdown(failed)
    for tool in CASES:
        assert cell(main_row(md, tool), 7) == "none: the floor failed, see its note"
        assert ("- note: v4 cycle %s %s %s: no floor: the floor failed, see its note"
                % ((tool,) + CASES[tool])) in md.splitlines()
    assert "- note: %s: ERROR: %s" % (FLOOR, floor["error"]) in md.splitlines()
    assert cell(row(md, "v4 cycle", "tcpconnect - file", width=10)[0], 4) == (
        "none: the floor failed, see its note")
    # a hook the floor has no empty program on (as if tcpconnect took fentry)
    moved = copy.deepcopy(raw)
    moved["cases"]["v4 cycle tcpconnect - file"]["sections"]["tp_set_state"] = \
        "fentry/tcp_set_state"
    md = markdown(moved)
    assert cell(main_row(md, "tcpconnect"), 7) == (
        "none: no empty program on fentry/tcp_set_state in the floor")
    assert cell(main_row(md, "tcptracer"), 7) == "4.23 MISS (floor 577)"


def test_legend_defines_each_column_once(raw):
    lines = markdown(raw).splitlines()
    for header, definition in COLUMNS:
        if definition:
            assert lines.count("- %s: %s." % (header, definition)) == 1


def test_json_round_trip(raw):
    results = Results.from_json(raw)
    again = Results.from_json(json.loads(json.dumps(results.to_json())))
    assert Report(again).markdown() == Report(results).markdown()


def test_unknown_key_is_an_error(raw):
    bad = copy.deepcopy(raw)
    run = runs(bad, "tcpaccept")[0]
    run["rows_expectd"] = run.pop("rows_expected")
    with pytest.raises(TypeError):
        Results.from_json(bad)


def test_idle_table(raw):
    """Each tool's Idle: context switches and CPU per idle minute against the target."""
    results = Results.from_json(raw)
    assert results.idle == []  # the file is older than the idle figures
    md = Report(results).markdown()
    assert "## Idle" not in md
    assert "- note: idle not measured (BENCH_IDLE_SECONDS=0, BENCH_ONLY, or a run saved" \
           " before it)" in md.splitlines()
    results.idle = [
        Idle("tcpconnect", seconds=20.0, threads=2, csw_voluntary=2000, csw_nonvoluntary=4,
             cpu_s=0.05, ready_ms=150.0, rows=0),
        Idle("tcpaccept", seconds=20.0, threads=2, csw_voluntary=10, csw_nonvoluntary=0,
             cpu_s=0.001, ready_ms=140.0, rows=0),
        Idle("tcptracer", error="tcptracer did not become ready: exit 1"),
    ]
    again = Results.from_json(json.loads(json.dumps(results.to_json())))
    assert again.idle == results.idle
    md = Report(again).markdown()
    lines = md.splitlines()
    head = lines.index("## Idle")
    assert lines[head + 4:head + 10] == [
        "| " + " | ".join(h for h, _ in IDLE_COLUMNS) + " |",
        "|---|---|---|---|",
        "| tcpconnect | 100.20 MISS | 0.1500 | <= 1 |",
        "| tcpaccept | 0.50 PASS | 0.0030 | <= 1 |",
        "| tcptracer | ERROR | - | <= 1 |",
        "",
    ]
    assert ("idle context switches/s (target <= 1): tcpconnect 100.20, tcpaccept 0.50,"
            " tcptracer ERROR.") in lines
    assert "- MISS idle tcpconnect: context switches/s idle (100.20, target <= 1)" in lines
    assert "- MISS idle tcptracer: ERROR tcptracer did not become ready: exit 1" in lines
    assert not any(l.startswith("- MISS idle tcpaccept") for l in lines)
    assert any(l.startswith("- note: idle: each tool (default flags, to a file) started with"
                            " -p PID of a sleep") for l in lines)
    for header, definition in IDLE_COLUMNS:
        if definition:
            assert lines.count("- Idle %s: %s." % (header, definition)) == 1
    assert "idle context switches/s (target <= 1)" in Report(again).text()


def with_option(raw_json, flag, scale):
    """raw_json with a "tcpconnect FLAG file" case: tcpconnect's runs, BPF time times scale."""
    out = copy.deepcopy(raw_json)
    case = copy.deepcopy(out["cases"]["v4 cycle tcpconnect - file"])
    case["flags"] = [flag]
    for r in case["runs"]:
        r["bpf"] = {p: [c[0] * scale, c[1]] for p, c in r["bpf"].items()}
    out["cases"]["v4 cycle tcpconnect %s file" % flag] = case
    return out


def test_option_table(raw):
    """An option's BPF time is set beside its tool's without it; over a third more is a miss."""
    base = statistics.median(per_conn(r, 0) for r in runs(raw, "tcpconnect"))
    cheap = markdown(with_option(raw, "-o", 1.25))
    line = row(cheap, "v4 cycle", "tcpconnect file", "-o", width=6)
    assert len(line) == 1, line
    assert cell(line[0], 3).startswith("%.0f (" % base)
    assert cell(line[0], 4).startswith("%.0f (" % (1.25 * base))
    assert cell(line[0], 5) == "1.250 PASS (<= 1.333)"
    assert "of the tool's without the option" not in cheap
    # the median of the pairs' ratios, where both cases ran as many pairs
    uneven = with_option(raw, "-o", 1.0)
    case = uneven["cases"]["v4 cycle tcpconnect -o file"]
    for r, scale in zip(case["runs"], (1.2, 1.3, 2.0)):
        r["bpf"] = {p: [c[0] * scale, c[1]] for p, c in r["bpf"].items()}
    assert cell(row(markdown(uneven), "v4 cycle", "tcpconnect file", "-o", width=6)[0], 5) == (
        "1.300 PASS (<= 1.333)")
    case["runs"] = case["runs"][:2]  # not as many: the ratio of the medians
    mine = statistics.median(per_conn(r, 0) for r in case["runs"])
    assert cell(row(markdown(uneven), "v4 cycle", "tcpconnect file", "-o", width=6)[0], 5) == (
        "%.3f PASS (<= 1.333)" % (mine / base))
    dear = markdown(with_option(raw, "-o", 1.5))
    assert cell(row(dear, "v4 cycle", "tcpconnect file", "-o", width=6)[0], 5) == (
        "1.500 MISS (<= 1.333)")
    assert ("- MISS v4 cycle tcpconnect -o file: BPF time 1.500 of the tool's without the option"
            " (target <= 1.333)") in dear.splitlines()
    # -j is a format, not an option: no row; and no row without the tool's own case
    assert "## Options" not in markdown(with_option(raw, "-j", 1.5))
    alone = with_option(raw, "-o", 1.5)
    del alone["cases"]["v4 cycle tcpconnect - file"]
    assert "## Options" not in markdown(alone)
