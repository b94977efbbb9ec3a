"""Every validation message of the periods: matched exactly, with file, row, key, column and fix."""

from __future__ import annotations

import pytest

from siting.instance.overrides import addressable_paths
from siting.instance.periods import Calendar, carry_forward
from siting.instance.read import read_instance
from tests.helpers import write_instance
from tests.instance.test_validation import BASE, problems

PERIODS = "id,start_year,years\np1,2025,2\np2,2027,3"


def _with(tmp_path, settings=None, **tables):
    return write_instance(tmp_path / "inst", {**BASE, "periods": PERIODS, **tables}, settings=settings)


@pytest.mark.parametrize(("tables", "expected"), [
    ({"periods": "id,start_year,years\np1,2025,2\np2,2028,3"},
     "periods.csv row 3 (id=p2) column start_year | is 2028 but period p1 ends in 2026; list the periods in "
     "calendar order, each starting the year after the one before ends (2027)"),
    ({"periods": "id,start_year,years\np2,2027,3\np1,2025,2"},
     "periods.csv row 3 (id=p1) column start_year | is 2025 but period p2 ends in 2029; list the periods in "
     "calendar order, each starting the year after the one before ends (2030)"),
    ({"demand": "market,product,period,wafers_per_year\nm,chip,,100\nm,chip,p1,120"},
     "demand.csv row 3 (market=m, product=chip) | gives period p1 again (row 2 without a period holds from the "
     "first period, p1); keep one row per period: drop one of them or name a later period"),
    ({"demand": "market,product,period,wafers_per_year\nm,chip,p9,100"},
     "demand.csv row 2 (market=m, product=chip, period=p9) column period | 'p9' is not a known periods id; "
     "add it to periods or fix the spelling"),
    ({"modules": "site,product,wafers_per_module,capex_per_module,max_modules,ramp\na,chip,100,100,1,0.5;2"},
     "modules.csv row 2 (site=a, product=chip) column ramp | is '0.5;2', not a list of shares in [0, 1]; write "
     "shares of nominal output per year of operation separated by ';', e.g. 0.3;0.7;1"),
])
def test_period_problems(tmp_path, tables, expected):
    found = problems(_with(tmp_path, **tables))
    assert expected in found, "\n".join(found)


def test_ramp_setting_that_does_not_parse(tmp_path):
    found = problems(_with(tmp_path, settings={"ramp": "0.3;x"}))
    assert "instance.yaml settings.ramp | is '0.3;x', not a list of shares in [0, 1]; write shares of nominal " \
           "output per year of operation separated by ';', e.g. 0.3;0.7;1" in found


def test_parameter_paths_name_the_period(tmp_path):
    """`siting params` lists a row given for a period with the period in its key; rows without a
    period keep the paths they had."""
    folder = _with(tmp_path, demand="market,product,period,wafers_per_year\nm,chip,,100\nm,chip,p2,150")
    paths = addressable_paths(read_instance(folder))
    assert paths["demand.m/chip.wafers_per_year"] == "100"
    assert paths["demand.m/chip/p2.wafers_per_year"] == "150"
    assert "sites.a.fixed_cost" in paths


def test_values_carry_forward_from_the_latest_period_that_gives_them():
    """Rows at p1 and p3 of one key: p1's value holds in p1 and p2, p3's from p3; a key first given
    at p2 does not exist in p1."""
    import pandas as pd

    cal = Calendar(("p1", "p2", "p3"), (2025, 2026, 2027), (1, 1, 1), 0.0, True)
    df = pd.DataFrame({"k": ["a", "a", "b"], "period": [None, "p3", "p2"], "v": [1, 3, 7]})
    out = carry_forward(df, ["k"], cal)
    assert list(zip(out["k"], out["period"], out["v"])) == [
        ("a", "p1", 1), ("a", "p2", 1), ("b", "p2", 7), ("a", "p3", 3), ("b", "p3", 7)]
