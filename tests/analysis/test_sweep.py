"""Sweeps: parameter specs, case plans, rows that equal separate solves, switching points against a
hand-solved break-even, resuming after a kill, and the same table from serial, parallel and Dask runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from siting.analysis.sweep import parse_axis, plan_cases
from siting.cli import main
from siting.errors import InputError
from tests.helpers import write_instance
from tests.model.test_hand_solved import LOCAL, TWO_SITES
from tests.model.test_risk import HAND as RISK_HAND

#: Two sites for 100 wafers. a's module costs 125, b's 95 (CRF 1, plain USD); a grant at a with
#: rate r pays 125 r, so a costs 125 (1 - r) and wins once 125 (1 - r) < 95: r > 30/125 = 0.24.
FLIP = dict(TWO_SITES, modules="""
    site,product,wafers_per_module,capex_per_module,max_modules
    a,chip,100,125,1
    b,chip,100,95,1
""", instruments="""
    id,kind,site,rate
    grant,capex_grant,a,0.1
""")
BREAK_EVEN = 30 / 125
TIMES = ["solve_seconds", "case_seconds"]


@pytest.fixture
def flip(tmp_path) -> Path:
    return write_instance(tmp_path / "flip", FLIP)


def sweep(*args: str) -> int:
    return main(["sweep", *args])


def answers(folder: Path) -> pd.DataFrame:
    """The sweep table without the columns that hold times."""
    return pd.read_csv(folder / "sweep.csv").drop(columns=TIMES)


PATHS = {"instruments.grant.rate": "0.1", "modules.a/chip.capex_per_module": "125", "settings.local_rule": "country",
         "settings.firm_budget": "None"}


@pytest.mark.parametrize("spec, values", [
    ("0.4,0.5,0.6", ("0.4", "0.5", "0.6")),
    ("0:0.3:0.1", ("0", "0.1", "0.2", "0.3")),          # both ends, 0.1 * 3 written as 0.3
    ("0:0.25:0.1", ("0", "0.1", "0.2")),                # a stop between steps is not passed
    ("0.2:0.2:0.1", ("0.2",)),
])
def test_lists_and_ranges(spec, values):
    assert parse_axis(f"instruments.grant.rate={spec}", PATHS).values == values


def test_band_scales_the_instance_value():
    """-20%:+20%:10% around 125 is 100, 112.5, 125, 137.5, 150."""
    axis = parse_axis("modules.a/chip.capex_per_module=-20%:+20%:10%", PATHS)
    assert [float(v) for v in axis.values] == [100, 112.5, 125, 137.5, 150]


@pytest.mark.parametrize("text, message", [
    ("instruments.grant.rat=0,1", "--param instruments.grant.rat | no such parameter; did you mean "
                                  "'instruments.grant.rate'?"),
    ("instruments.grant.rate", "--param instruments.grant.rate | has no '='; write PATH=SPEC, e.g. "
                               "instruments.meti-chitose.rate=0:0.6:0.05"),
    ("instruments.grant.rate=0:1", "--param instruments.grant.rate | '0:1' is not START:STOP:STEP; write e.g. "
                                   "0:0.5:0.05, or a band such as -20%:+20%:10%"),
    ("instruments.grant.rate=0:1:0", "--param instruments.grant.rate | step 0 is not positive; give a step above "
                                     "zero"),
    ("instruments.grant.rate=1:0:0.1", "--param instruments.grant.rate | stops (0) below where it starts (1); "
                                       "write the smaller value first"),
    ("instruments.grant.rate=0:x:0.1", "--param instruments.grant.rate | 'x' is not a number; write "
                                       "START:STOP:STEP, e.g. 0:0.5:0.05, or a band such as -20%:+20%:10%"),
    ("settings.firm_budget=-10%:10%:10%", "--param settings.firm_budget | a band needs a non-zero number to "
                                          "scale, and the instance's value is empty; give a list or a range "
                                          "instead"),
    ("instruments.grant.rate=0.1,,0.2", "--param instruments.grant.rate | '0.1,,0.2' has an empty value; "
                                        "separate values by single commas"),
    ("instruments.grant.rate=0.1,0.1", "--param instruments.grant.rate | '0.1,0.1' repeats a value; give each "
                                       "value once"),
])
def test_bad_specs_are_one_line_each(text, message):
    with pytest.raises(InputError) as err:
        parse_axis(text, PATHS)
    assert str(err.value) == message


def test_grid_oat_and_lhs_plans():
    rate = parse_axis("instruments.grant.rate=0,0.1,0.2", PATHS)
    capex = parse_axis("modules.a/chip.capex_per_module=100,125", PATHS)
    assert len(plan_cases([rate, capex], "grid")) == 6
    # one at a time: the base case, then each value that differs from the instance's own
    assert plan_cases([rate, capex], "oat") == [
        (), ("instruments.grant.rate=0",), ("instruments.grant.rate=0.2",), ("modules.a/chip.capex_per_module=100",)]
    a = plan_cases([rate, capex], "lhs", samples=10, seed=7)
    assert a == plan_cases([rate, capex], "lhs", samples=10, seed=7)
    assert a != plan_cases([rate, capex], "lhs", samples=10, seed=8)
    # a Latin hypercube puts exactly one sample in each tenth of every range
    for k, (lo, hi) in enumerate([(0, 0.2), (100, 125)]):
        x = np.array([float(case[k].split("=")[1]) for case in a])
        assert sorted(np.floor((x - lo) / (hi - lo) * 10).astype(int)) == list(range(10))


def test_rows_equal_separate_solve_runs(flip, tmp_path):
    """Every row of a 2 x 2 grid equals `siting solve --set` of the same values."""
    out = tmp_path / "sweep"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0.1,0.3",
                 "--param", "modules.b/chip.capex_per_module=95,80", "--workers", "1", "--out", str(out)) == 0
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4
    for _, row in table.iterrows():
        sets = [f"instruments.grant.rate={row['instruments.grant.rate']:g}",
                f"modules.b/chip.capex_per_module={row['modules.b/chip.capex_per_module']:g}"]
        one = tmp_path / f"solve-{row['case']}"
        assert main(["solve", str(flip), "--out", str(one), *sum((["--set", s] for s in sets), [])]) == 0
        summary = json.loads((one / "summary.json").read_text())
        assert row["objective"] == pytest.approx(summary["objective"], rel=1e-12)
        assert row["status"] == summary["status"]
        opened = [s["id"] for s in summary["sites"] if s["open"]]
        assert row["sites_open"] == "+".join(opened)
        for s in summary["sites"]:
            assert row[f"open_{s['id']}"] == int(s["open"])
            assert row[f"capacity_{s['id']}"] == pytest.approx(sum(s["capacity"].values()))
        assert row["government_outlay"] == pytest.approx(summary["government_outlay"])
        assert row["unmet_demand"] == pytest.approx(summary["unmet_demand"])


def test_switching_point_matches_the_hand_solved_break_even(flip, tmp_path, capsys):
    """a opens once the grant rate passes 30/125 = 0.24; the sweep brackets it, --refine pins it."""
    out = tmp_path / "sweep"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0:0.45:0.15", "--workers", "1",
                 "--refine", "0.0005", "--out", str(out)) == 0
    printed = capsys.readouterr().out
    points = pd.read_csv(out / "switching.csv")
    assert len(points) == 1
    p = points.iloc[0]
    assert (p["below"], p["above"]) == (pytest.approx(BREAK_EVEN, abs=5e-4), pytest.approx(BREAK_EVEN, abs=5e-4))
    assert p["below"] <= BREAK_EVEN + 1e-12 and p["above"] >= BREAK_EVEN - 1e-12
    assert p["before"] == "b" and p["after"] == "a"
    said = re.search(r"a opens and b closes when instruments.grant.rate passes ([0-9.]+) \(within ([0-9.]+)\)",
                     printed)
    assert said and abs(float(said[1]) - BREAK_EVEN) <= float(said[2]) + 1e-4
    assert (out / "sweep.png").stat().st_size > 0
    # without --refine the grid brackets it between the two cases around 0.24
    out2 = tmp_path / "coarse"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0:0.45:0.15", "--workers", "1", "--out", str(out2)) == 0
    coarse = pd.read_csv(out2 / "switching.csv").iloc[0]
    assert (coarse["below"], coarse["above"]) == (pytest.approx(0.15), pytest.approx(0.3))


def test_oat_tornado_and_two_parameter_heatmap(flip, tmp_path):
    out = tmp_path / "oat"
    assert sweep(str(flip), "--method", "oat", "--param", "instruments.grant.rate=0:0.4:0.2",
                 "--param", "modules.b/chip.capex_per_module=-20%:+20%:20%", "--workers", "1", "--out", str(out)) == 0
    tor = pd.read_csv(out / "tornado.csv").set_index("parameter")
    # rate 0 -> b at 95; rate 0.4 -> a at 75. b's capex 76 -> b at 76; 114 -> a at 112.5
    assert tor.loc["instruments.grant.rate", ["at_low", "at_high"]].tolist() == pytest.approx([95, 75])
    assert tor.loc["modules.b/chip.capex_per_module", ["at_low", "at_high"]].tolist() == pytest.approx([76, 112.5])
    assert (out / "tornado.png").is_file()
    grid = tmp_path / "grid"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0,0.4", "--param",
                 "modules.b/chip.capex_per_module=76,114", "--workers", "1", "--out", str(grid)) == 0
    assert (grid / "sweep-heatmap.png").is_file()
    assert set(pd.read_parquet(grid / "sweep.parquet")["sites_open"]) == {"a", "b"}


def test_parallel_and_serial_sweeps_give_the_same_table(flip, tmp_path):
    args = ["--param", "instruments.grant.rate=0:0.5:0.05", "--param", "modules.b/chip.capex_per_module=80,95"]
    assert sweep(str(flip), *args, "--workers", "1", "--out", str(tmp_path / "one")) == 0
    assert sweep(str(flip), *args, "--workers", "2", "--out", str(tmp_path / "two")) == 0
    pd.testing.assert_frame_equal(answers(tmp_path / "one"), answers(tmp_path / "two"))


def test_dask_scheduler_gives_the_same_table_as_local_processes(flip, tmp_path):
    distributed = pytest.importorskip("distributed")
    args = ["--param", "instruments.grant.rate=0:0.5:0.1"]
    assert sweep(str(flip), *args, "--workers", "2", "--out", str(tmp_path / "local")) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert sweep(str(flip), *args, "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask")) == 0
    pd.testing.assert_frame_equal(answers(tmp_path / "local"), answers(tmp_path / "dask"))


def test_unreachable_scheduler_is_one_line(flip, tmp_path, capsys):
    code = sweep(str(flip), "--param", "instruments.grant.rate=0,0.1", "--scheduler", "tcp://127.0.0.1:9",
                 "--out", str(tmp_path / "x"))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("--scheduler tcp://127.0.0.1:9 | cannot reach the scheduler")
    assert "\n" not in err


def test_a_bad_value_stops_the_sweep_before_any_case(flip, tmp_path, capsys):
    out = tmp_path / "bad"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0.5,1.5", "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("--param instruments.grant.rate value 1.5 | ")
    assert not out.exists()


def test_another_sweep_in_the_same_folder_is_refused(flip, tmp_path, capsys):
    out = tmp_path / "s"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0,0.1", "--workers", "1", "--out", str(out)) == 0
    assert sweep(str(flip), "--param", "instruments.grant.rate=0,0.2", "--workers", "1", "--out", str(out)) == 2
    assert capsys.readouterr().err.strip() == (
        f"--out {out} | holds a different sweep (instance, parameters, values or solver options differ); "
        "choose another --out, or delete the folder to start over")


def test_a_failed_case_is_recorded_and_the_sweep_goes_on(flip, tmp_path, monkeypatch):
    import siting.analysis.sweep as sw

    real = sw.case_row

    def flaky(run):  # every case passes here, patched or rebuilt
        if run.instance.tables["instruments"]["rate"].iloc[0] == 0.1:
            raise RuntimeError("disk on fire")
        return real(run)

    monkeypatch.setattr(sw, "case_row", flaky)
    out = tmp_path / "s"
    assert sweep(str(flip), "--param", "instruments.grant.rate=0,0.1,0.3", "--workers", "1", "--out", str(out)) == 1
    table = pd.read_csv(out / "sweep.csv").set_index("instruments.grant.rate")
    assert table.loc[0.1, "status"] == "error"
    assert table.loc[0.1, "note"] == "internal error: RuntimeError: disk on fire"
    assert list(table.loc[[0.0, 0.3], "sites_open"]) == ["b", "a"]
    assert (out / "manifest.json").is_file()


def _case_files(folder: Path) -> dict[str, tuple[int, int]]:
    """Each saved case with the inode and modification time of its file."""
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (folder / "cases").glob("c*.json")}


@pytest.mark.parametrize("delay", [0.0, 0.15, 0.4])
def test_killed_sweep_resumes_without_losing_or_repeating_a_case(flip, tmp_path, delay):
    """SIGKILL the sweep (parent and workers) mid-run; a rerun solves exactly the missing cases. The
    grid is long enough (121 cases) that the latest kill still lands mid-run on a fast machine."""
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "siting.cli", "sweep", str(flip), "--param", "instruments.grant.rate=0:0.6:0.005",
           "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list((out / "cases").glob("c*.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _case_files(out)
    total = 121
    assert 0 < len(before) < total, "the kill came too late to test anything"
    for name in before:  # a saved case is whole: written to a temporary name and renamed
        assert json.loads((out / "cases" / name).read_text())["row"]["status"] == "optimal"
    assert not (out / "manifest.json").exists()
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{len(before)} already solved in {out}/, {total - len(before)} to solve" in again.stdout
    after = _case_files(out)
    assert len(after) == total
    assert all(after[name] == before[name] for name in before), "a case saved before the kill was solved again"
    table = pd.read_csv(out / "sweep.csv")
    assert table["case"].is_unique and len(table) == total
    assert (table["status"] == "optimal").all()
    assert json.loads((out / "manifest.json").read_text())["cases"]["total"] == total


def _running_in_group(group: int) -> list[int]:
    """Processes of a process group that are still running (a finished one waiting to be reaped is not)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_ctrl_c_stops_the_workers_and_keeps_every_finished_case(flip, tmp_path):
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) mid-run: exit 130 with a
    one-line note, no worker left running, no case solved after the stop; a rerun finishes the rest."""
    out = tmp_path / "s"
    cmd = [sys.executable, "-m", "siting.cli", "sweep", str(flip), "--param", "instruments.grant.rate=0:0.6:0.02",
           "--workers", "2", "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list((out / "cases").glob("c*.json")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted | "), err  # nothing else: no traceback, no warning
    deadline = time.monotonic() + 10  # multiprocessing's resource tracker leaves once the last worker has
    while _running_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _running_in_group(proc.pid) == [], "a worker outlived the sweep"
    before = _case_files(out)
    time.sleep(0.5)
    assert _case_files(out) == before, "a case was written after the sweep stopped"
    total = 31
    assert 0 < len(before) < total, "the interrupt came too late to test anything"
    again = subprocess.run(cmd, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert f"{len(before)} already solved in {out}/, {total - len(before)} to solve" in again.stdout
    assert len(_case_files(out)) == total


#: FLIP with a's grant capped at 20: a costs 125 - min(125 r, 20), at least 105, so with b at 95 b
#: always wins, and with b at 110 a wins once 125 r > 15, r > 0.12. The cap makes the grant's bound
#: min(125 r, 20) bend at r = 0.16: the patched sweep must learn it piecewise.
CAPPED = dict(FLIP, instruments="""
    id,kind,site,rate,cap
    grant,capex_grant,a,0.1,20
""")


def _hand_cost(rate: float, capex_b: float) -> float:
    return min(125 - min(125 * rate, 20), capex_b)


def _solve_sweep(folder: Path, out: Path, params: list[str], patch: bool, fixed=(), profile="exact"):
    from siting.analysis import sweep as sw
    from siting.instance.overrides import addressable_paths
    from siting.instance.read import read_instance
    from siting.solve import load_profile

    raw = read_instance(folder)
    axes = [sw.parse_axis(p, addressable_paths(raw)) for p in params]
    s = sw.Sweep(raw=raw, axes=axes, method="grid", cases=sw.plan_cases(axes, "grid"),
                 options=load_profile(profile), out=out, fixed=tuple(fixed), patch=patch)
    sw.solve_cases(s, sw.prepare(s), workers=1)
    return s, sw.table(s)


def _patched_equals_rebuilt(folder: Path, tmp_path: Path, params: list[str]):
    """The same sweep patched and with every case rebuilt; their answers must agree case by case.
    Returns the patched sweep, its table and the rebuilt table."""
    s, patched = _solve_sweep(folder, tmp_path / "p", params, patch=True)
    _, rebuilt = _solve_sweep(folder, tmp_path / "r", params, patch=False)
    same = [c for c in patched.columns if c not in (*TIMES, "model")]
    pd.testing.assert_frame_equal(patched[same], rebuilt[same], rtol=1e-9)
    return s, patched, rebuilt


def test_patched_cases_equal_rebuilt_cases(tmp_path):
    """Every case of a 11 x 2 grid, patched from probes, equals the same case rebuilt, and the hand-solved cost."""
    folder = write_instance(tmp_path / "capped", CAPPED)
    params = ["instruments.grant.rate=0:0.5:0.05", "modules.b/chip.capex_per_module=95,110"]
    patched_sweep, patched, rebuilt = _patched_equals_rebuilt(folder, tmp_path, params)
    # b's capex moves to one value only (95 is the instance's): that value is built once, as a probe
    assert patched_sweep.patcher.notes() == {"instruments.grant.rate": "patched",
                                             "modules.b/chip.capex_per_module": "probed"}
    assert patched_sweep.patcher.joint
    # the cases at probed values were built for those values; every other case was interpolated
    probed = set(patched_sweep.patcher.axes["instruments.grant.rate"].exact)
    assert 0 < len(probed) < 10
    rate, capex = patched["instruments.grant.rate"], patched["modules.b/chip.capex_per_module"]
    # built: the base case, and a case that moves one path to a probed value; the rest interpolated
    built = ((rate == 0.1) & (capex == 95)) | (rate.isin(probed) & (capex == 95)) | ((rate == 0.1) & (capex == 110))
    assert (patched["model"] == np.where(built, "rebuilt", "patched")).all()
    assert (patched["model"] == "patched").sum() >= 10
    assert (rebuilt["model"] == "rebuilt").all()
    for _, row in patched.iterrows():
        assert row["checks_passed"]
        cost = _hand_cost(row["instruments.grant.rate"], row["modules.b/chip.capex_per_module"])
        assert row["objective"] == pytest.approx(cost, rel=1e-9, abs=1e-9)


def test_a_path_whose_effect_is_not_affine_is_rebuilt(tmp_path, capsys):
    """The discount rate enters through the capital recovery factor r(1+r)^L / ((1+r)^L - 1), not
    affine in r: every case is rebuilt, and the answers are still those solved by hand (b at 95 a year
    before annualising, since a costs 112.5 after its 10% grant)."""
    from siting.instance.derive import crf

    folder = write_instance(tmp_path / "flip", FLIP)
    s, df = _solve_sweep(folder, tmp_path / "s", ["settings.discount_rate=0:0.12:0.02"], patch=True,
                         fixed=("settings.lifetime_years=10",))
    assert s.patcher.notes() == {"settings.discount_rate": "rebuilt: its effect on the model is not affine"}
    assert (df["model"] == "rebuilt").all()
    for _, row in df.iterrows():
        assert row["sites_open"] == "b"
        assert row["objective"] == pytest.approx(95 * crf(row["settings.discount_rate"], 10), rel=1e-9)
    out = tmp_path / "cli"
    assert sweep(str(folder), "--param", "settings.discount_rate=0:0.12:0.02", "--set", "settings.lifetime_years=10",
                 "--workers", "1", "--out", str(out)) == 0
    said = "settings.discount_rate: rebuilt every case (its effect on the model is not affine)"
    assert said in capsys.readouterr().out


def test_sweep_writes_a_self_contained_report_page(tmp_path):
    """A one-parameter grid gets report.html with its line chart embedded and one row per case."""
    from siting.cli import main
    from tests.report.test_network_report import assert_self_contained

    out = tmp_path / "sw"
    root = Path(__file__).resolve().parent.parent.parent
    assert main(["sweep", str(root / "instances" / "jasm"), "--param", "instruments.meti-chitose.rate=0.4,0.8",
                 "--workers", "1", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert_self_contained(html)
    assert html.count("data:image/png;base64,") == 1
    assert "<h2>Firm cost and open sites</h2>" in html
    assert html.count("<tr>") == 1 + 2  # header and the two cases
    assert "report.html" in json.loads((out / "manifest.json").read_text())["files"]


#: LOCAL's conditional grant (test_instruments): a (JP) capex 1000, b (US) 900; 100 wafers, each
#: needing an input at 10 abroad or 12 from the Japanese plant. The grant at a (rate r) requires a
#: 60% local share, which costs 2 x 600 / 10.8 = 111.11 more; a production subsidy of 0.5 per wafer
#: at a pays 50 (CRF 1, one year). a without the grant: 1000 + 1000 - 50 = 1950 > b's 1900; a with
#: it: 2111.11 - 1000 r - 50, below 1900 once r > 0.1611. So the cost is min(1900, 2061.11 - 1000 r).
SUBSIDISED = dict(LOCAL, sites="id,country,lat,lon\na,JP,32.88,130.83\nb,US,33.5,-112.0",
                  modules="site,product,wafers_per_module,capex_per_module,max_modules\na,chip,100,1000,1\n"
                          "b,chip,100,900,1",
                  instruments="id,kind,site,rate,per_wafer,min_local_share\ng,capex_grant,a,0.1,,0.6\n"
                              "ps,production_subsidy,a,,0.5,")


def test_patched_rate_sweep_with_a_production_subsidy_and_a_conditional_grant_equals_rebuilding(tmp_path):
    """The conditional grant's rate from 0 to 0.3: every case patched or probed equals the same case
    rebuilt (plan, take-up, payouts, outlay) and the hand-solved cost."""
    folder = write_instance(tmp_path / "subsidised", SUBSIDISED)
    params = ["instruments.g.rate=0:0.3:0.02"]
    s, patched, _ = _patched_equals_rebuilt(folder, tmp_path, params)
    assert s.patcher.notes() == {"instruments.g.rate": "patched"}
    assert (patched["model"] == "patched").sum() >= 5
    for _, row in patched.iterrows():
        r = row["instruments.g.rate"]
        assert row["checks_passed"]
        assert row["objective"] == pytest.approx(min(1900, 2000 + 1000 / 9 - 1000 * r - 50), rel=1e-9)
        assert row["sites_open"] == ("a" if r > 0.1612 else "b")
        # a open: the grant (1000 r) and the subsidy (50) are paid; b open: nothing
        assert row["government_outlay_total"] == pytest.approx(1000 * r + 50 if r > 0.1612 else 0.0, abs=1e-7)


#: test_risk's two sites under a quake scenario (a in the quake zone), with CVaR in the objective
#: (weight 0.02 at level 0.8), a production subsidy at a and a conditional lump sum at b that needs
#: 90% utilisation: first-stage, second-stage and take-up columns in every scenario.
RISKY = dict(RISK_HAND, instruments="id,kind,site,per_wafer,amount,min_utilisation\n"
                                    "ps,production_subsidy,a,0.5,,\ng,lump_sum,b,,30,0.9")


def test_patched_sweep_with_scenarios_and_cvar_equals_rebuilding(tmp_path):
    """The conditional lump sum at b from 0 to 100, on an instance with two scenarios and a CVaR term
    and a production subsidy: every case patched or probed equals the same case rebuilt, scenario
    costs and risk included. (The per-wafer rate itself enters the wafer_rate row as 1 / (years x
    rate), not affinely, so a sweep of it is rebuilt.)"""
    folder = write_instance(tmp_path / "risky", RISKY, {"cvar_level": 0.8, "risk_weight": 0.02})
    params = ["instruments.g.amount=0:100:10"]
    s, patched, _ = _patched_equals_rebuilt(folder, tmp_path, params)
    assert s.patcher.notes() == {"instruments.g.amount": "patched"}
    assert (patched["model"] == "patched").sum() >= 5
    assert patched["checks_passed"].all()
    # a open: the subsidy on its expected output, 0.5 x 0.8 x 100 = 40; b open: the lump sum, taken
    for _, row in patched.iterrows():
        due = 40.0 if row["sites_open"] == "a" else row["instruments.g.amount"]
        assert row["government_outlay_total"] == pytest.approx(due, abs=1e-7)
    assert set(patched["sites_open"]) == {"a", "b"}
    # a larger offer can only make the firm's cost lower: it never rises along the sweep
    assert (np.diff(patched.sort_values("instruments.g.amount")["objective"].values) <= 1e-9).all()


def test_a_path_whose_every_value_was_probed_is_not_called_patched(tmp_path):
    """CAPPED's grant rate at 0, 0.1 (the base), 0.2, 0.3, 0.4: the cap's kink at 0.16 splits the
    range; 0.2 to 0.4 is one affine segment, but bisection has built each of its values as a probe
    already, so no case is interpolated, and the note says so instead of "patched"."""
    folder = write_instance(tmp_path / "capped", CAPPED)
    s, df = _solve_sweep(folder, tmp_path / "s", ["instruments.grant.rate=0:0.4:0.1"], patch=True)
    axis = s.patcher.axes["instruments.grant.rate"]
    assert axis.segments and set(axis.exact) == set(axis.xs) == {0.0, 0.2, 0.3, 0.4}
    assert s.patcher.notes() == {"instruments.grant.rate": "probed"}
    assert (df["model"] == "rebuilt").all()
    for _, row in df.iterrows():
        assert row["objective"] == pytest.approx(_hand_cost(row["instruments.grant.rate"], 95), rel=1e-9, abs=1e-9)
