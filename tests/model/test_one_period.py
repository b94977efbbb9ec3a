"""One period of one year, no lead time and full ramp reproduce the snapshot to the last digit.

The same instance solved without a periods table and with a one-period table (labelled like the
settings' period) must give the same status, objective, plan and result tables, bit for bit; the
phased run also writes its schedule, cash flows and local-share path, which add nothing to compare.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import solve
from tests.model.random_cases import random_case

ROOT = Path(__file__).resolve().parents[2]
PHASED_ONLY = ("schedule", "periods", "local_share")


def _same(a, b) -> None:
    assert a.outcome.status == b.outcome.status
    assert a.outcome.objective == b.outcome.objective
    if a.results is None:
        assert b.results is None
        return
    assert set(b.results.tables) - set(a.results.tables) == set(PHASED_ONLY)
    for name, table in a.results.tables.items():
        pd.testing.assert_frame_equal(table, b.results.tables[name], check_exact=True, obj=name)
    assert a.violations == b.violations == []


def _with_one_period(folder: Path, out: Path) -> Path:
    shutil.copytree(folder, out)
    spec = yaml.safe_load((out / "instance.yaml").read_text(encoding="utf-8"))
    label = (spec.get("settings") or {}).get("period", "base")
    (out / "periods.csv").write_text(f"id,start_year,years\n{label},2025,1\n", encoding="utf-8")
    spec["tables"] = {"periods": "periods.csv", **spec["tables"]}
    (out / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return out


def test_flagship_with_one_period_is_the_snapshot(tmp_path):
    """instances/jasm with and without a one-period table: same objective, plan and tables."""
    _same(solve(ROOT / "instances" / "jasm"),
          solve(_with_one_period(ROOT / "instances" / "jasm", tmp_path / "jasm")))


@pytest.mark.parametrize("seed", list(range(1, 21)))
def test_random_case_with_one_period_is_the_snapshot(seed, tmp_path):
    """Each seeded random instance (tests/model/random_cases.py) with and without a one-period table."""
    case = random_case(seed)
    _same(solve(case.write(tmp_path / "snapshot"), duals=False),
          solve(case.with_periods().write(tmp_path / "phased"), duals=False))
