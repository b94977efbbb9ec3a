"""The command line: exit codes, files written, JSON output, init, import, Excel instances."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from siting.cli import main
from siting.instance.read import read_instance
from tests.helpers import write_instance

SMALL = {
    "sites": "id,country,lat,lon\na,JP,33,131\nb,US,33.5,-112",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,100,1\nb,chip,100,80,1",
    "markets": "id,country,lat,lon\nm,JP,35,137",
    "demand": "market,product,wafers_per_year\nm,chip,100",
}


def write_workbook(path, name: str, **replace: pd.DataFrame) -> None:
    """SMALL as a bare workbook (a settings sheet naming it), with some sheets replaced."""
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"key": ["name"], "value": [name]}).to_excel(xl, sheet_name="settings", index=False)
        for sheet, text in SMALL.items():
            frame = replace.get(sheet, pd.read_csv(io.StringIO(text), dtype=str))
            frame.to_excel(xl, sheet_name=sheet, index=False)


def test_init_writes_an_instance_that_validates_and_solves(tmp_path, capsys):
    folder = tmp_path / "starter"
    assert main(["init", str(folder)]) == 0
    assert (folder / "instance.yaml").is_file()
    assert main(["validate", str(folder)]) == 0
    out = tmp_path / "out"
    assert main(["solve", str(folder), "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "optimal"
    assert summary["checks"]["passed"]
    # init refuses to overwrite a folder that is not empty
    assert main(["init", str(folder)]) == 2
    assert "not empty" in capsys.readouterr().err


def test_solve_writes_every_output(tmp_path):
    inst = write_instance(tmp_path / "inst", SMALL)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out), "--profile", "exact"]) == 0
    names = {p.name for p in out.iterdir()}
    for expected in ("summary.json", "manifest.json", "sites.csv", "capacity.csv", "production.csv",
                     "procurement.csv", "supplier_mix.csv", "subsidies.csv", "costs.csv", "shadow_prices.csv"):
        assert expected in names
    summary = json.loads((out / "summary.json").read_text())
    for key in ("status", "objective", "mip_gap", "best_bound", "times", "sites", "costs",
                "government_outlay", "unmet_demand", "solver", "instance", "overrides"):
        assert key in summary
    assert set(summary["times"]) >= {"load", "build", "solve", "extract", "total"}
    assert summary["objective"] == pytest.approx(80.0)
    site_b = next(s for s in summary["sites"] if s["id"] == "b")
    assert site_b["open"] and site_b["capacity"] == {"chip": 100.0} and site_b["utilisation"] == 1.0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["instance"]["sha256"] == read_instance(inst).sha256
    assert manifest["seed"] == 0
    costs = pd.read_csv(out / "costs.csv")
    assert costs["cost_per_year"].sum() == pytest.approx(summary["objective"])


def test_json_prints_the_summary(tmp_path, capsys):
    inst = write_instance(tmp_path / "inst", SMALL)
    assert main(["solve", str(inst), "--out", str(tmp_path / "o"), "--json",
                 "--set", "modules.b/chip.capex_per_module=120"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["objective"] == pytest.approx(100.0)  # b now costs 120, so a (100) opens
    assert summary["overrides"] == ["modules.b/chip.capex_per_module=120"]


def test_bad_input_exits_2_with_one_line_per_problem_and_writes_nothing(tmp_path, capsys):
    tables = dict(SMALL, sites="id,country,lat,lon\na,JP,133,131\nb,US,33.5,-112")
    inst = write_instance(tmp_path / "inst", tables)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "sites.csv row 2 (id=a) column lat | is 133; must be in [-90, 90]"
    assert not any(p.name.endswith((".json", ".csv")) for p in out.glob("*")) if out.exists() else True


def test_unknown_set_path_suggests_the_nearest(tmp_path, capsys):
    inst = write_instance(tmp_path / "inst", SMALL)
    assert main(["solve", str(inst), "--set", "modules.b/chip.capex_per_modul=1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("--set modules.b/chip.capex_per_modul | no such parameter; did you mean "
                          "'modules.b/chip.capex_per_module'")


def test_bad_flag_value_is_a_clean_error(tmp_path, capsys):
    inst = write_instance(tmp_path / "inst", SMALL)
    assert main(["solve", str(inst), "--mip-gap", "-1"]) == 2
    assert "solver option mip_rel_gap | input should be greater than or equal to 0" in capsys.readouterr().err
    assert main(["solve", str(inst), "--profile", "exactt"]) == 2
    assert "did you mean 'exact'" in capsys.readouterr().err


def test_infeasible_exits_3_and_says_what_must_give(tmp_path, capsys):
    """Demand must be met and the cheapest site's capex is 80, but the firm may spend 50: no screen
    sees it (it is a budget, not a capacity), the MIP is infeasible, and the elastic re-solve names
    the budget and the capex the best plan needs (every family: tests/reliability/test_diagnosis.py)."""
    inst = write_instance(tmp_path / "inst", SMALL, settings={"firm_budget": 50})
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert summary["termination"] == ("Infeasible; elastic re-solve: the firm's capex budget of 50 USD cannot be "
                                      "kept: the best plan needs 80 USD of capex; raise settings.firm_budget to 80")
    assert [d["rule"] for d in summary["diagnosis"]] == ["firm_budget"]
    assert "infeasible" in capsys.readouterr().err


def test_infeasible_local_targets_are_screened_before_the_mip(tmp_path):
    """The only supplier is foreign, so a 60% local target cannot be met at either site while demand
    must be met: the screen says so without building the MIP."""
    tables = dict(SMALL,
                  inputs="id\nwafer", bom="product,input,units_per_wafer\nchip,wafer,1",
                  suppliers="id,country,lat,lon\nabroad,TW,24.8,121", offers=(
                      "supplier,input,capacity_units_per_year,price_per_unit\nabroad,wafer,1000,10"),
                  local_targets="site,target\na,0.6\nb,0.6")
    inst = write_instance(tmp_path / "inst", tables)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 3
    summary = json.loads((out / "summary.json").read_text())
    assert summary["termination"].startswith("pre-solve screen: demand for chip that must be met (100 wafers/yr")
    assert "a: its 60% local share cannot be met (at most 0%)" in summary["termination"]


def _random_orlib(m: int, n: int, seed: int) -> str:
    rng = np.random.default_rng(seed)
    lines = [f"{m} {n}"]
    lines += [f"{rng.integers(3000, 6000)} {rng.integers(5000, 9000)}." for _ in range(m)]
    for _ in range(n):
        lines.append(str(int(rng.integers(10, 200))))
        lines.append(" ".join(f"{c:.3f}" for c in rng.uniform(100, 5000, m)))
    return "\n".join(lines) + "\n"


def test_no_solution_within_the_limit_exits_4(tmp_path):
    src = tmp_path / "rand.txt"
    src.write_text(_random_orlib(20, 80, seed=1))
    inst = tmp_path / "inst"
    assert main(["import", "orlib", str(src), "-o", str(inst)]) == 0
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out), "--time-limit", "0.000001", "--no-duals"]) == 4
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "no_solution" and summary["objective"] is None
    assert not (out / "sites.csv").exists()


def test_excel_workbook_gives_the_same_answer_as_the_csv_folder(tmp_path):
    inst = write_instance(tmp_path / "inst", SMALL)
    book = tmp_path / "small.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"key": ["name", "currency", "money_unit", "discount_rate", "lifetime_years"],
                      "value": ["small", "USD", "one", 0, 1]}).to_excel(xl, sheet_name="settings", index=False)
        for name in SMALL:
            pd.read_csv(inst / f"{name}.csv").to_excel(xl, sheet_name=name, index=False)
    out_csv, out_xl = tmp_path / "o1", tmp_path / "o2"
    assert main(["solve", str(inst), "--out", str(out_csv), "--json"]) == 0
    assert main(["solve", str(book), "--out", str(out_xl), "--json"]) == 0
    a = json.loads((out_csv / "summary.json").read_text())
    b = json.loads((out_xl / "summary.json").read_text())
    assert a["objective"] == pytest.approx(b["objective"], rel=1e-12)
    # a YAML that names the workbook works too
    (tmp_path / "wb").mkdir()
    book.rename(tmp_path / "wb" / "data.xlsx")
    (tmp_path / "wb" / "instance.yaml").write_text(
        "name: wb\nworkbook: data.xlsx\nsettings: {money_unit: one, discount_rate: 0, lifetime_years: 1}\n")
    assert main(["solve", str(tmp_path / "wb" / "instance.yaml"), "--out", str(tmp_path / "o3")]) == 0


def test_excel_errors_name_the_sheet(tmp_path, capsys):
    book = tmp_path / "bad.xlsx"
    with pd.ExcelWriter(book) as xl:
        pd.DataFrame({"key": ["name"], "value": ["bad"]}).to_excel(xl, sheet_name="settings", index=False)
        pd.DataFrame({"id": ["a"], "country": ["JP"], "lat": [33], "lon": [131]}).to_excel(
            xl, sheet_name="sites", index=False)
    assert main(["validate", str(book)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "bad.xlsx | sheet 'products' is missing; add a sheet named products (Products (technology " \
                     "families) measured in 300 mm-equivalent wafers)"
    assert len(err) == 4  # products, modules, markets, demand
    full = tmp_path / "full.xlsx"
    sites = pd.read_csv(io.StringIO(SMALL["sites"]), dtype=str)
    sites.loc[0, "lon"] = "east"
    write_workbook(full, "full", sites=sites)
    assert main(["validate", str(full)]) == 2
    assert capsys.readouterr().err.strip() == (
        "full.xlsx[sites] row 2 (id=a) column lon | is 'east', not a number; give a number in degrees east (WGS84)")


def test_console_script_runs_without_a_traceback(tmp_path):
    inst = write_instance(tmp_path / "inst", SMALL)
    command = [sys.executable, "-m", "siting.cli", "solve", str(inst), "--out", str(tmp_path / "o")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "firm cost 80.000" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "siting.cli", "solve", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert bad.stderr.strip().endswith("give an instance folder, its instance.yaml or an .xlsx workbook")


def test_results_never_overwrite_an_instance_folder(tmp_path, capsys):
    inst = write_instance(tmp_path / "inst", SMALL)
    before = (inst / "sites.csv").read_text()
    assert main(["solve", str(inst), "--out", str(inst)]) == 2
    assert "is an instance folder: its tables would be overwritten" in capsys.readouterr().err
    assert (inst / "sites.csv").read_text() == before


def test_a_rerun_removes_only_tables_the_earlier_run_wrote(tmp_path):
    inst = write_instance(tmp_path / "inst", SMALL)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    (out / "notes.csv").write_text("mine\n")
    # now infeasible: the earlier tables go, the planner's own file stays
    assert main(["solve", str(inst), "--out", str(out), "--set", "settings.firm_budget=10"]) == 3
    assert not (out / "sites.csv").exists()
    assert (out / "notes.csv").read_text() == "mine\n"


def test_init_and_import_errors_are_clean(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    assert main(["init", str(afile)]) == 2
    assert capsys.readouterr().err.strip() == f"{afile} | is a file, not a folder; choose a new folder"
    bad = tmp_path / "bad.txt"
    bad.write_text("1 1\nabc 5\n7 3\n")
    assert main(["import", "orlib", str(bad), "-o", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == ("bad.txt | holds 'abc', which is not a number; give an OR-Library "
                                               "capacitated warehouse location file")
    assert main(["init", str(tmp_path / "y: z")]) == 0
    assert main(["validate", str(tmp_path / "y: z")]) == 0


def test_workbook_with_a_repeated_column(tmp_path, capsys):
    book = tmp_path / "dup.xlsx"
    sites = pd.read_csv(io.StringIO(SMALL["sites"]), dtype=str)
    write_workbook(book, "dup", sites=pd.concat([sites, sites[["lat"]]], axis=1))
    assert main(["validate", str(book)]) == 2
    assert capsys.readouterr().err.strip() == (
        "dup.xlsx[sites] | column 'lat' appears twice in the header; keep one of them")
