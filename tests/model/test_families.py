"""The table of the model's families (siting/model/families.py) lists exactly what the models hold.

Every step that handles all families alike (compiling, reading back, patching, decomposing, the
elastic re-solve) reads the table, so a variable or row family the table misses would be silently
left out of them. These tests build models that between them hold every family (a snapshot, a
phased instance, a risk weight, a worst-case risk limit, a budget, a concentration rule and a site
resource with extra supply) and compare their components with the table, both ways.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pyomo.core as pyo
import pytest
import yaml

from siting.instance.derive import derive
from siting.model import families as fam
from siting.model.build import build_model
from siting.report.extract import Solution
from siting.run import load_case
from siting.solve import compile_model

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Built (not solved) models that between them hold every variable and row family."""
    folder = tmp_path_factory.mktemp("families") / "jasm"
    shutil.copytree(ROOT / "instances" / "jasm", folder)
    (folder / "concentration.csv").write_text("group_type,group,max_share\ncountry,JP,0.9\n", encoding="utf-8")
    # a site resource with extra supply (resource_limit, resource_extra)
    (folder / "resources.csv").write_text("id,site,kind,unit,limit,extra_cost,extra_max\n"
                                          "kumamoto-water,kumamoto,water,m3/day,8500,0.1,1000\n", encoding="utf-8")
    (folder / "resource_use.csv").write_text("resource,product,per_wafer\nkumamoto-water,logic-28nm,0.0129\n",
                                             encoding="utf-8")
    spec = yaml.safe_load((folder / "instance.yaml").read_text(encoding="utf-8"))
    spec["tables"].update(concentration="concentration.csv", resources="resources.csv",
                          resource_use="resource_use.csv")
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    cases = [(folder, ["settings.firm_budget=1e6"]), (ROOT / "instances" / "jasm-phased", []),
             (folder, ["settings.risk_weight=0.5"]),
             (folder, ["settings.objective=risk", "settings.risk_measure=worst", "settings.risk_limit=1e6"])]
    return [build_model(derive(load_case(path, sets))) for path, sets in cases]


def _names(sm, kind) -> set[str]:
    return {c.local_name for c in sm.model.component_objects(kind, descend_into=True)}


def test_every_family_of_the_models_is_in_the_table_and_back(models):
    variables = set().union(*(_names(sm, pyo.Var) for sm in models))
    rows = set().union(*(_names(sm, pyo.Constraint) for sm in models))
    assert variables == set(fam.VARIABLE)
    assert rows == set(fam.ROW)


def test_the_table_says_what_each_variable_is(models):
    """Integrality as declared, and a by-row family indexed by rows of its derived table."""
    for sm in models:
        for var in sm.model.component_objects(pyo.Var, descend_into=True):
            entry = fam.VARIABLE[var.local_name]
            assert {v.is_integer() or v.is_binary() for v in var.values()} <= {entry.integer}, entry.name
            if entry in fam.by_row():
                rows = len(getattr(sm.data, entry.table))
                assert all(isinstance(k, int) and 0 <= k < rows for k in var.index_set()), entry.name


def test_solution_has_one_field_per_variable_read_by_row():
    fields = [f.name for f in dataclasses.fields(Solution)]
    # and the two read otherwise: build_early as build_by_period, repayment as repaid
    assert set(fields) == {v.name for v in fam.by_row()} | {"build_by_period", "repaid"}


def test_compiled_columns_follow_the_table(models):
    """Columns come family by family in the table's order; unlisted families after all listed ones."""
    for sm in models[1:3]:  # phased (build_early) and the risk weight (var_at_risk, tail_excess)
        compiled = compile_model(sm)
        seen: list[str] = []
        for v in compiled.columns:
            name = v.parent_component().local_name
            if not seen or seen[-1] != name:
                assert name not in seen, f"{name} columns are not contiguous"
                seen.append(name)
        listed = [v.name for v in fam.VARIABLES if v.listed]
        order = [n for n in seen if n in listed]
        assert order == sorted(order, key=listed.index)
        assert all(seen.index(n) > seen.index(order[-1]) for n in seen if n not in listed)


def test_first_stage_is_what_a_decomposition_holds_fixed(models):
    phased, risk = models[1], models[2]
    assert [v.local_name for v in fam.first_stage(risk.model)] == \
        [n for n in ("build", "modules", "qualify", "take", "payout", "var_at_risk") if len(getattr(risk.model, n))]
    assert "build_early" in [v.local_name for v in fam.first_stage(phased.model)]
    assert not {v.local_name for v in fam.first_stage(risk.model)} & {"produce", "purchase", "unmet", "tail_excess"}
