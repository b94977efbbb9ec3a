"""The figures every analysis row repeats (siting.report.figures), on hand-made result tables."""

import math
from types import SimpleNamespace

import pandas as pd
import pytest

from siting.report.figures import per_unit, plan_figures, plan_label, sites_in_label


def _results():
    """Three sites: a (JP, open, 1,000 wafers/yr, local share 0.5), b (JP, open, 3,000, share 0.1)
    and c (US, closed). Instruments: a JP grant paying 30 a year (300 in total), a JP loan whose
    grant element is 6 a year (60 in total, principal 200) and a US grant paying 10 (100)."""
    sites = pd.DataFrame({"site": ["a", "b", "c"], "country": ["JP", "JP", "US"], "open": [True, True, False],
                          "capacity_wafers_per_year": [1000.0, 3000.0, 0.0], "local_share": [0.5, 0.1, math.nan]})
    subsidies = pd.DataFrame({"provider_country": ["JP", "JP", "US"], "payout_per_year": [30.0, 6.0, 10.0],
                              "payout_total": [300.0, 60.0, 100.0],
                              "loan_principal_total": [math.nan, 200.0, math.nan]})
    return SimpleNamespace(tables={"sites": sites, "subsidies": subsidies})


def test_figures_by_hand():
    """Outlay of JP: 30 + 6 = 36 a year, 360 in total, principal 200; of everyone 46 and 460.
    Domestic (JP) capacity 1,000 + 3,000 = 4,000; its local share weighted by capacity
    (0.5 * 1,000 + 0.1 * 3,000) / 4,000 = 0.2; outlay per domestic wafer at a money unit of 1e6:
    36e6 / 4,000 = 9,000."""
    f = plan_figures(_results())
    assert f.opened == [("a", 1000.0), ("b", 3000.0)]
    jp, everyone = f.outlay("JP"), f.outlay()
    assert (jp.per_year, jp.total, jp.loan_principal_total) == (36.0, 360.0, 200.0)
    assert (everyone.per_year, everyone.total, everyone.loan_principal_total) == (46.0, 460.0, 200.0)
    assert f.outlay("DE").per_year == 0.0
    assert f.domestic_capacity("JP") == 4000.0
    assert f.domestic_local_share("JP") == pytest.approx(0.2, rel=1e-15)
    assert f.outlay_per_domestic_wafer("JP", 1e6) == pytest.approx(9000.0, rel=1e-15)
    # nothing open in the US, and no policy country at all: no domestic figures
    assert f.domestic_capacity("US") == 0.0 and math.isnan(f.domestic_local_share("US"))
    assert math.isnan(f.outlay_per_domestic_wafer("US", 1e6))
    assert math.isnan(f.domestic_capacity("")) and math.isnan(f.domestic_local_share(None))
    assert f.site_columns() == {"open_a": 1, "open_b": 1, "open_c": 0, "capacity_a": 1000.0, "capacity_b": 3000.0,
                                "capacity_c": 0.0, "local_share_a": 0.5, "local_share_b": 0.1,
                                "local_share_c": pytest.approx(math.nan, nan_ok=True)}


def test_one_label_in_the_spellings_its_readers_know():
    opened = [("kumamoto", 1200.4), ("chitose", 800.0)]
    assert plan_label(opened) == "kumamoto+chitose"  # sweep.csv
    assert plan_label(opened, sep="; ", unit="") == "kumamoto (1,200); chitose (800)"  # compare.csv
    assert plan_label(opened, sep=", ", unit="wafers/yr") == "kumamoto (1,200 wafers/yr), chitose (800 wafers/yr)"
    assert plan_label([]) == "none"
    assert plan_label([], sep=" + ", none="nothing open") == "nothing open"
    assert plan_figures(_results()).label(sep=";", none="") == "a;b"


@pytest.mark.parametrize("opened", [[], [("a", 1.0)], [("a", 1.0), ("b-2", 2.0), ("c.x", 3.0)]])
def test_a_label_read_back_gives_its_sites(opened):
    assert sites_in_label(plan_label(opened)) == [s for s, _ in opened]
    assert sites_in_label(plan_label(opened, sep=";", none=""), sep=";") == [s for s, _ in opened]


def test_per_unit():
    assert per_unit(9.0, 3.0) == 3.0
    assert math.isnan(per_unit(9.0, 0.0)) and math.isnan(per_unit(9.0, math.nan)) and math.isnan(per_unit(9.0, 1e-13))
