# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
"""
The order make bench runs its cases in: an option's case alternates its
pairs with its tool's case without the option (no root, nothing run).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from bench import cases  # noqa: E402


def names(groups):
    return [[c.name for c in g] for g in groups]


def test_each_option_runs_with_its_tool_without_it():
    ours = cases.our_cases()
    floors = cases.floor_cases(dict.fromkeys(c.scenario for c in ours))
    groups = cases.interleaved(ours + floors)
    assert sorted(c.name for g in groups for c in g) == sorted(c.name for c in ours + floors)
    joined = [g for g in names(groups) if len(g) > 1]
    assert joined == [
        ["v4 cycle tcpconnect - file", "v4 cycle tcpconnect -o file"],
        ["v4 cycle tcpaccept - file", "v4 cycle tcpaccept -q file"],
        ["v4 cycle tcptracer - file", "v4 cycle tcptracer -l file"],
        ["v4 refused tcpconnect - file", "v4 refused tcpconnect -o file"],
    ]
    # the other cases keep their order, alone
    alone = [g[0] for g in names(groups) if len(g) == 1]
    assert alone == [c.name for c in ours + floors
                     if c.name not in {n for g in joined for n in g}]


def test_an_option_without_its_tool_runs_alone():
    ours = [c for c in cases.our_cases() if c.name != "v4 refused tcpconnect - file"]
    groups = names(cases.interleaved(ours))
    assert ["v4 refused tcpconnect -o file"] in groups
    # -j is a format: its case is set against nothing and runs alone
    assert ["v4 cycle tcpconnect -j pipe"] in groups
