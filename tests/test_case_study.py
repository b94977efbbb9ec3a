"""docs/case-study.md cannot drift from the tool: every command on the page is run and every figure
it marks is checked.

The page shows each command in a ```console block (one ``$ siting ...`` line per block) and marks
the figures it quotes with HTML comments after the block::

    <!-- check json objective = 1606.568 -->
    <!-- check json sites[id=kumamoto].open = true -->
    <!-- check file explain.csv[category=total].counterfactual_per_wafer = 2509.02 -->
    <!-- check file switching.csv[parameter=p].point = 0.330 ± 0.001 -->
    <!-- check file compare.csv[package=none].sites_open = "tainan (660,000)" -->

``json`` reads the document the command printed with ``--json``; ``file`` reads a table the
command wrote into its results folder (the test adds ``--out`` to a temporary folder, and
``--workers 1`` to sweeps, neither of which changes a figure). The figures are read from these
machine outputs, never from the console layout, which other work changes. A number is checked to
half a unit of its last printed digit plus the default profile's relative MIP gap (1e-6), or to
the ``±`` tolerance given. The commands solve for minutes: ``pytest -m validation``.
"""

from __future__ import annotations

import json
import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from siting.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "case-study.md"
CHECK = re.compile(r"<!-- check (json|file) (.+?) = (.+?) -->")
WRITES = {"solve", "sweep", "compare", "explain", "frontier"}
GAP = 1e-6


@dataclass
class Command:
    line: int
    text: str
    checks: list[tuple[str, str, str]] = field(default_factory=list)


def commands(text: str) -> list[Command]:
    """The page's commands in order, each with the checks that follow its block."""
    out: list[Command] = []
    in_console = False
    for no, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            in_console = line.strip() == "```console" and not in_console
            continue
        if in_console and line.startswith("$ siting "):
            out.append(Command(no, line[2:].strip()))
        for kind, path, value in CHECK.findall(line):
            assert out, f"docs/case-study.md line {no}: a check before any command"
            out[-1].checks.append((kind, path, value))
    return out


def _match(cell, wanted: str) -> bool:
    if str(cell) == wanted:
        return True
    try:
        return math.isclose(float(cell), float(wanted), rel_tol=1e-12, abs_tol=1e-12)
    except (TypeError, ValueError):
        return False


def _select(rows, selector: str):
    """The one element of a list of dicts (or the one row of a table) matching ``k=v,k2=v2``."""
    terms = [t.split("=", 1) for t in selector.split(",")]
    if isinstance(rows, pd.DataFrame):
        hit = rows[[all(_match(r[k], v) for k, v in terms) for _, r in rows.iterrows()]]
        assert len(hit) == 1, f"[{selector}] matches {len(hit)} rows"
        return hit.iloc[0].to_dict()
    hit = [r for r in rows if all(_match(r.get(k), v) for k, v in terms)]
    assert len(hit) == 1, f"[{selector}] matches {len(hit)} entries"
    return hit[0]


def resolve(doc, path: str):
    """Follow ``a.b[k=v].c`` through nested dicts and lists."""
    for name, selector in re.findall(r"([^.\[\]]+)(?:\[([^\]]*)\])?", path):
        doc = doc[name]
        if selector:
            doc = _select(doc, selector)
    return doc


def read_file(folder: Path, spec: str):
    m = re.fullmatch(r"([\w.-]+\.csv)\[([^\]]*)\]\.(.+)", spec)
    assert m, f"cannot read the file check {spec!r}"
    table = pd.read_csv(folder / m.group(1))
    return _select(table, m.group(2))[m.group(3)]


def assert_figure(actual, wanted: str, where: str) -> None:
    wanted = wanted.strip()
    if wanted in ("true", "false"):
        assert bool(actual) == (wanted == "true"), f"{where}: {actual!r}, the page says {wanted}"
        return
    if wanted.startswith('"'):
        assert str(actual) == wanted.strip('"'), f"{where}: {actual!r}, the page says {wanted}"
        return
    number, _, tol = wanted.partition("±")
    number = number.strip().replace(",", "")
    digits = len(number.split(".")[1]) if "." in number else 0
    value = float(number)
    limit = float(tol) if tol.strip() else 0.5 * 10.0 ** -digits + GAP * abs(value)
    assert abs(float(actual) - value) <= limit, f"{where}: {actual}, the page says {wanted} (to {limit:g})"


def test_every_command_on_the_page_has_a_checked_figure():
    found = commands(PAGE.read_text(encoding="utf-8"))
    assert len(found) >= 15
    for c in found:
        assert c.checks, f"docs/case-study.md line {c.line}: {c.text} has no <!-- check --> figure"
        if any(kind == "json" for kind, _, _ in c.checks):
            assert "--json" in c.text.split(), f"line {c.line}: a json check on a command without --json"


def test_every_picture_on_the_page_exists():
    text = PAGE.read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert pictures
    for p in pictures:
        assert (PAGE.parent / p).is_file(), p


@pytest.mark.validation
@pytest.mark.parametrize("command", commands(PAGE.read_text(encoding="utf-8")),
                         ids=lambda c: f"line{c.line}")
def test_command_prints_the_figures_on_the_page(command, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command.text)[1:]
    out = tmp_path / "out"
    if args[0] in WRITES and "--out" not in args:
        args += ["--out", str(out)]
    if args[0] == "sweep" and "--workers" not in args:
        args += ["--workers", "1"]
    assert main(args) == 0, command.text
    printed = capsys.readouterr().out
    doc = json.loads(printed) if "--json" in args else None
    for kind, path, value in command.checks:
        where = f"docs/case-study.md line {command.line} ({path})"
        actual = resolve(doc, path) if kind == "json" else read_file(out, path)
        assert_figure(actual, value, where)
