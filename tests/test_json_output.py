"""``--json`` prints one JSON document on standard output and nothing else, as a real process.

Each command runs as ``python -m siting.cli ...`` in a fresh process, so that whatever a library
prints there (HiGHS's banner at the first HiGHS object of a process, a warning, a progress bar)
would land in the captured standard output; the whole of it must parse with ``json.loads``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JASM = ROOT / "instances" / "jasm"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "siting.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def whole_json(done: subprocess.CompletedProcess):
    """The whole standard output as one JSON document (json.loads refuses anything before or after it)."""
    assert "Running HiGHS" not in done.stdout
    return json.loads(done.stdout)


def test_json_commands_are_listed_here():
    """Every command with --json is exercised below: a new one must be added to this file."""
    from siting.cli import _parser

    sub = next(a for a in _parser()._actions if a.dest == "command")
    with_json = {name for name, p in sub.choices.items() if any("--json" in a.option_strings for a in p._actions)}
    assert with_json == {"solve", "breakeven", "validate", "params", "alternatives", "robustness", "diff", "induce"}


def test_solve_json_is_the_summary_alone(tmp_path):
    done = run_cli("solve", str(JASM), "--out", str(tmp_path / "o"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = whole_json(done)
    assert summary == json.loads((tmp_path / "o" / "summary.json").read_text())
    assert summary["status"] == "optimal"


def test_breakeven_json_is_the_answer_alone(tmp_path):
    done = run_cli("breakeven", str(JASM), "--site", "chitose", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = whole_json(done)
    # an exact lump sum is the difference of the two optima it reports (forced open minus optimum)
    optimum, forced = (s["objective"] for s in answer["solves"][:2])
    assert answer["exact"] and answer["offer"] == pytest.approx(forced - optimum, rel=1e-9)


def test_validate_json_gives_the_sizes(tmp_path):
    done = run_cli("validate", str(JASM), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    verdict = whole_json(done)
    sites = (JASM / "sites.csv").read_text().strip().splitlines()
    assert verdict["valid"] and verdict["instance"] == "jasm" and verdict["sizes"]["sites"] == len(sites) - 1


def test_params_json_lists_what_the_text_lists(tmp_path):
    done = run_cli("params", str(JASM), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = whole_json(done)
    text = run_cli("params", str(JASM), cwd=tmp_path).stdout.splitlines()
    assert [r["path"] for r in rows] == [line.split(" = ", 1)[0] for line in text]


def test_json_error_is_one_document_and_the_same_line_on_stderr(tmp_path):
    done = run_cli("validate", str(tmp_path / "missing"), "--json", cwd=tmp_path)
    assert done.returncode == 2
    doc = whole_json(done)
    assert doc["status"] == "error" and doc["exit_code"] == 2
    (problem,) = doc["problems"]
    assert done.stderr.strip() == f"{problem['location']} | {problem['problem']}; {problem['fix']}"


def test_highs_banner_stays_off_standard_output(tmp_path):
    """The first HiGHS object of a process prints nothing on file descriptor 1, and what Python
    printed before it still arrives, in order."""
    code = ("import sys; from siting.solve import new_highs; print('before', flush=False); "
            "h = new_highs(); h2 = new_highs(); print('after')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "before\nafter\n"


def test_alternatives_json_is_the_plans_alone(tmp_path):
    done = run_cli("alternatives", str(JASM), "--count", "2", "--within", "5%", "--out", str(tmp_path / "a"),
                   "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = whole_json(done)
    assert doc["plans"][0]["open_sites"] == "kumamoto"


def test_robustness_json_is_the_matrices_alone(tmp_path):
    done = run_cli("robustness", str(JASM), "--out", str(tmp_path / "r"), "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = whole_json(done)
    assert doc["minimax_regret_plan"] == "optimum"


def test_diff_json_names_the_changed_cell_alone(tmp_path):
    for name, sets in (("a", []), ("b", ["--set", "instruments.meti-kumamoto.rate=0.2"])):
        done = run_cli("solve", str(JASM), "--out", str(tmp_path / name), *sets, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    done = run_cli("diff", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "d"), "--json",
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = whole_json(done)
    assert [c["path"] for c in doc["inputs"]] == ["instruments.meti-kumamoto.rate"]


def test_induce_json_is_the_package_alone(tmp_path):
    done = run_cli("induce", str(JASM), "--target", "kumamoto", "--set", "instruments.meti-kumamoto.rate=0",
                   "--set", "instruments.meti-chitose.rate=0", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    doc = whole_json(done)
    assert doc["status"] == "induced" and [o["site"] for o in doc["offers"]] == ["kumamoto"]


def _hazard_instance(tmp_path: Path) -> Path:
    from tests.helpers import write_instance
    from tests.instance.test_validation import BASE

    return write_instance(tmp_path / "i", {
        **BASE, "hazards": "id,probability\nquake,0.1\nstorm,0.2",
        "hazard_effects": "hazard,target,by,match,multiplier\nquake,site,id,b,0\nstorm,site,id,a,0.5"},
        {"unmet_penalty_per_wafer": 200})


@pytest.mark.parametrize("flags", [
    ["--scenarios", "5", "--sample-seed", "1", "--confidence", "2"],
    ["--engine", "benders"],
    ["--xlsx"],
], ids=["sampled-with-confidence", "benders", "xlsx"])
def test_solve_json_stays_one_document_with_the_newer_flags(tmp_path, flags):
    """A sampled scenario set, its confidence interval, the Benders engine and the workbook each
    do work of their own (a progress line, a per-iteration log, openpyxl's import) that must not
    reach standard output under --json; the document printed is the summary written."""
    folder = _hazard_instance(tmp_path)
    done = run_cli("solve", str(folder), "--out", str(tmp_path / "o"), "--json", "--no-runner-up", *flags,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    summary = whole_json(done)
    assert summary == json.loads((tmp_path / "o" / "summary.json").read_text())
    if "--engine" in flags:
        assert summary["termination"].startswith("Benders decomposition")
    if "--confidence" in flags:
        assert summary["confidence"]["replications"] == 2
    if "--xlsx" in flags:
        assert (tmp_path / "o" / "results.xlsx").is_file()


def test_breakeven_json_with_instead_of_and_a_minimum_size_is_one_document(tmp_path):
    """The two extra questions' answers go into the one document, beside the plain offer. Each
    question adds a restriction to the one before (phoenix open; then at least 300,000 wafers there;
    then also kumamoto closed), so the offers cannot fall in that order, and each lump sum is its
    yearly offer over the same annuity factor."""
    done = run_cli("breakeven", str(JASM), "--site", "phoenix", "--instead-of", "kumamoto", "--min-capacity",
                   "300000", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = whole_json(done)
    moves, size = answer["moves"], answer["min_size"]
    assert moves["instead_of"] == "kumamoto" and size["min_capacity"] == 300000
    assert 0 < answer["offer"] <= size["offer"] <= moves["offer"]
    factor = answer["offer_total"] / answer["offer"]
    for extra in (moves, size):
        assert extra["offer_total"] == pytest.approx(extra["offer"] * factor, rel=1e-9)
