"""The sweep's steps as the library offers them (plan_sweep, run_sweep), without the command line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from siting.analysis import sweep as sw
from siting.errors import InputError
from siting.solve import load_profile
from tests.analysis.test_sweep import BREAK_EVEN, FLIP
from tests.helpers import write_instance


def test_run_sweep_writes_through_the_one_analysis_writer_and_resumes(tmp_path):
    """FLIP: a wins once the grant rate passes 30/125 = 0.24, so rate 0 opens b and 0.3 opens a.
    The folder lists the plan and the cases first; a second run finds both cases solved."""
    inst = write_instance(tmp_path / "flip", FLIP)
    out = tmp_path / "s"
    plan = sw.plan_sweep(inst, ["instruments.grant.rate=0,0.3"], load_profile("exact"), out=out)
    assert plan.instance().name == plan.raw.name and not out.exists()  # planning writes nothing
    seen: list[sw.Started] = []
    done = sw.run_sweep(plan, ["siting", "sweep"], workers=1, started=seen.append)
    assert seen == [sw.Started(total=2, solved=0, to_solve=2, failed=0, workers=1, scheduler=None)]
    assert list(done.table["sites_open"]) == ["b", "a"]
    assert [s.words() for s in done.switches] == [
        "a opens and b closes when instruments.grant.rate passes a value between 0 and 0.3"]
    assert 0 < BREAK_EVEN < 0.3
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["files"] == ["sweep.json", "cases/", *done.files]
    assert done.files[-1] == "report.html" and "sweep.csv" in done.files
    assert manifest["cases"] == {"total": 2, "by_status": {"optimal": 2}}
    pd.testing.assert_frame_equal(pd.read_csv(out / "sweep.csv")[["case", "sites_open"]],
                                  done.table[["case", "sites_open"]])

    again = sw.plan_sweep(inst, ["instruments.grant.rate=0,0.3"], load_profile("exact"), out=out)
    seen.clear()
    sw.run_sweep(again, ["siting", "sweep"], workers=1, started=seen.append)
    assert seen == [sw.Started(total=2, solved=2, to_solve=0, failed=0, workers=1, scheduler=None)]


def test_plan_sweep_refuses_a_parameter_named_twice(tmp_path):
    inst = write_instance(tmp_path / "flip", FLIP)
    with pytest.raises(InputError) as err:
        sw.plan_sweep(inst, ["instruments.grant.rate=0,0.3", "instruments.grant.rate=0.1"], load_profile("exact"),
                      out=tmp_path / "s")
    assert str(err.value) == "--param | names a parameter twice; give each parameter once"
