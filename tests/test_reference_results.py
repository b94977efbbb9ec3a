"""Every bundled instance has committed reference results in ``results/<name>/`` (summary.json and the
CSV tables; the pictures, the GeoPackage and report.html are left out, except for the flagship, whose
folder ``tests/test_reproduce.py`` compares byte for byte). Each is solved again here and compared
with its reference within the two solves' MIP gaps: both objectives are within their gaps of the
true optimum, so each must lie at or above the other's best bound. The instance's hash must match,
so an instance changed without regenerating its results is caught here.

Regenerate a folder with ``siting solve instances/<path> --out results/<name>`` and delete its
map.png, network.gpkg, report.html and schedule.png (they are git-ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from siting.report.extract import open_sites
from tests.helpers import solve

ROOT = Path(__file__).resolve().parent.parent
#: results folder -> (instance folder, marker): the heavier solves run with ``pytest -m validation``.
REFERENCES = {
    "jasm": ("instances/jasm", None),
    "jasm-phased": ("instances/jasm-phased", "validation"),
    "network-2030": ("instances/network-2030", "validation"),
    "network-2030-hazards": ("instances/network-2030-hazards", "validation"),
    "rapidus": ("instances/rapidus", None),
    "us-taiwan-wafer-cost": ("instances/validation/us-taiwan-wafer-cost", None),
    "us-taiwan-tco": ("instances/validation/us-taiwan-tco", None),
}
#: Files a reference folder must hold.
REQUIRED = ("summary.json", "manifest.json", "sites.csv", "capacity.csv", "costs.csv", "production.csv")


def _cases():
    for name, (folder, marker) in REFERENCES.items():
        marks = [getattr(pytest.mark, marker)] if marker else []
        yield pytest.param(name, folder, marks=marks, id=name)


def test_every_bundled_instance_has_reference_results():
    bundled = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "instances").rglob("instance.yaml")}
    # the programme's project template is not solved on its own: programme.yaml sets its capex per project
    bundled.discard("instances/validation/us-programme/project")
    assert bundled == {folder for folder, _ in REFERENCES.values()}
    for name in REFERENCES:
        held = {p.name for p in (ROOT / "results" / name).iterdir()}
        assert set(REQUIRED) <= held, (name, sorted(set(REQUIRED) - held))


@pytest.mark.parametrize("name, folder", list(_cases()))
def test_reference_results_reproduce_within_the_gap(name, folder):
    ref = json.loads((ROOT / "results" / name / "summary.json").read_text(encoding="utf-8"))
    run = solve(ROOT / folder, profile="default", duals=False)
    o = run.outcome
    assert o.has_solution and o.status == ref["status"]
    assert run.instance.sha256 == ref["instance"]["sha256"], f"instance {folder} changed: regenerate results/{name}"
    slack = 1e-9 * max(1.0, abs(ref["objective"]))  # the objective's own rounding
    assert o.objective >= ref["best_bound"] - slack, (o.objective, ref["best_bound"])
    assert ref["objective"] >= o.best_bound - slack, (ref["objective"], o.best_bound)
    opened = sorted(s for s, _ in open_sites(run.results))
    assert opened == sorted(s["id"] for s in ref["sites"] if s["open"])
