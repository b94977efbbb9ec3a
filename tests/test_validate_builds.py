"""`siting validate` builds and compiles the model without solving it, and says so."""

from __future__ import annotations

import json

from siting.cli import main
from siting.run import run_case
from siting.solve import load_profile
from tests.helpers import write_instance
from tests.model.test_hand_solved import LOCAL

OFFERS = "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,1000,12\nabroad,wafer,1000,10"


def test_validate_reports_the_model_it_built(tmp_path, capsys):
    """One site, one product, one market, one input with two suppliers: the columns are build (1),
    modules (1), qualify (2 suppliers at the site), produce (1 route), output (1) and purchase (2
    arcs), 8 in all, 4 of them integer (build, modules, the two qualifications). The rows and
    nonzeros are those of the matrix a solve hands to HiGHS."""
    folder = write_instance(tmp_path / "inst", dict(LOCAL, offers=OFFERS))
    capsys.readouterr()
    assert main(["validate", str(folder), "--json"]) == 0
    model = json.loads(capsys.readouterr().out)["model"]
    assert (model["columns"], model["integer_columns"]) == (8, 4)
    compiled = run_case(folder, load_profile("exact"), keep_compiled=True).compiled
    assert (model["rows"], model["nonzeros"]) == (compiled.lp["num_row"], len(compiled.lp["value"]))
    assert model["infeasible"] is None and model["numerics"] == []
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("t: valid (1 sites,") and f"model built: 8 columns (4 integer), {model['rows']} rows" in out


def test_validate_does_not_build_when_a_screen_proves_no_plan(tmp_path, capsys):
    """1,000 wafers must be met by one module of 100: the capacity screen stops it before the build."""
    demand = "market,product,wafers_per_year\nm,chip,1000"
    folder = write_instance(tmp_path / "inst", dict(LOCAL, offers=OFFERS, demand=demand))
    capsys.readouterr()
    assert main(["validate", str(folder), "--json"]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["model"] is None and [f["rule"] for f in doc["screens"]] == ["demand"]


def test_python_m_siting_runs_the_command_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "siting", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("usage: siting ")
