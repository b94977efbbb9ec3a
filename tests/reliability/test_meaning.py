# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""Inputs that used to change the answer silently, or reach HiGHS as "passModel failed", through the CLI.

Each case breaks the corpus's small valid instance (:mod:`tests.reliability.base`) in one place
and asserts what the corpus asserts: exit code 2, stderr exactly the expected
``location | problem; fix`` lines, no traceback, nothing written to ``--out``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from siting.cli import main
from tests.reliability.test_corpus import Case, argv, both, cell, csv, in_millions, run_case, sets, yaml_text

ROOT = Path(__file__).resolve().parents[2]
JASM = str(ROOT / "instances" / "jasm")

CASES: list[Case] = [
    # ---- NaN, infinities and magnitudes HiGHS cannot take: settings in instance.yaml ----
    Case("settings-penalty-inf", yaml_text("name: t\nsettings: {money_unit: one, unmet_penalty_per_wafer: .inf}\n"),
         "instance.yaml settings.unmet_penalty_per_wafer | is inf, not a finite number; give a number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met"),
    Case("settings-risk-limit-nan", yaml_text("name: t\nsettings: {money_unit: one, risk_limit: .nan}\n"),
         "instance.yaml settings.risk_limit | is nan, not a finite number; give a number: most the risk measure may reach (money unit per year, or wafers per year for unmet); empty: no limit"),
    Case("settings-discount-nan", yaml_text("name: t\nsettings: {money_unit: one, discount_rate: .nan}\n"),
         "instance.yaml settings.discount_rate | is nan, not a finite number; give a number: discount rate r per year"),
    Case("settings-penalty-1e308", yaml_text("name: t\nsettings: {money_unit: one, unmet_penalty_per_wafer: 1e308}\n"),
         "instance.yaml settings.unmet_penalty_per_wafer | is 1e+308, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the setting's unit"),
    Case("settings-penalty-1e13", yaml_text("name: t\nsettings: {money_unit: one, unmet_penalty_per_wafer: 1.0e+13}\n"),
         "instance.yaml settings.unmet_penalty_per_wafer | is 1e+13 USD per unit; this cannot be right: per-unit amounts are in plain currency, check the setting's unit"),
    Case("settings-budget-1e10-million", yaml_text("name: t\nsettings: {money_unit: million, firm_budget: 1.0e+10}\n"),
         "instance.yaml settings.firm_budget | is 1e+10, 1e+16 in currency units; this cannot be right: check settings.money_unit or the setting's unit"),
    Case("settings-risk-limit-minus-inf", yaml_text("name: t\nsettings: {money_unit: one, risk_limit: -.inf}\n"),
         "instance.yaml settings.risk_limit | is -inf, not a finite number; give a number: most the risk measure may reach (money unit per year, or wafers per year for unmet); empty: no limit"),
    Case("settings-budget-400-digits", yaml_text("name: t\nsettings: {money_unit: one, firm_budget: 1" + "0" * 400 + "}\n"),
         "instance.yaml settings.firm_budget | is 100000000000..., beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the setting's unit"),
    # ---- the same through --set ----
    Case("set-penalty-inf", sets("settings.unmet_penalty_per_wafer=inf"),
         "--set settings.unmet_penalty_per_wafer=inf | is inf, not a finite number; give a number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met"),
    Case("set-penalty-nan", sets("settings.unmet_penalty_per_wafer=nan"),
         "--set settings.unmet_penalty_per_wafer=nan | is nan, not a finite number; give a number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met"),
    Case("set-risk-limit-1e308", sets("settings.risk_limit=1e308"),
         "--set settings.risk_limit=1e308 | is 1e308, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the setting's unit"),
    Case("set-lifetime-inf", sets("settings.lifetime_years=inf"),
         "--set settings.lifetime_years=inf | is inf, not a finite number; give a number: economic lifetime L of capital"),
    Case("set-demand-1e308", sets("demand.m/chip.wafers_per_year=1e308"),
         "--set demand.m/chip.wafers_per_year=1e308 | is 1e308, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("set-capacity-1e16", sets("offers.sumco/wafer.capacity_units_per_year=1e16"),
         "--set offers.sumco/wafer.capacity_units_per_year=1e16 | is 1e16, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("set-units-per-wafer-nan", sets("bom.chip/wafer.units_per_wafer=nan"),
         "--set bom.chip/wafer.units_per_wafer=nan | is nan, not a finite number; give a number in input units per wafer"),
    # a refused setting does not hide the problems of the rules that read the settings
    Case("set-penalty-inf-and-a-rule", both(csv("exclusions", "id,supplier_country,supplier_flag\nx,,"),
                                            sets("settings.unmet_penalty_per_wafer=inf")),
         "--set settings.unmet_penalty_per_wafer=inf | is inf, not a finite number; give a number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met\n"
         "exclusions.csv row 2 (id=x) | names neither supplier_country nor supplier_flag; give one of them"),
    # ---- the same in a table ----
    Case("cell-wafers-per-module-1e308", cell("modules", 2, "wafers_per_module", "1e308"),
         "modules.csv row 2 (site=a, product=chip) column wafers_per_module | is 1e308, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("cell-max-modules-1e300", cell("modules", 2, "max_modules", "1e300"),
         "modules.csv row 2 (site=a, product=chip) column max_modules | is 1e300, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("cell-multiplier-1e20", both(csv("scenarios", "id,probability\nboom,1"),
                                      csv("scenario_effects", "scenario,target,by,match,multiplier\nboom,demand,all,,1e20")),
         "scenario_effects.csv row 2 (scenario=boom, target=demand, by=all, match=, item=) column multiplier | is 1e20, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("cell-freight-1e16", in_millions(cell("inputs", 2, "freight_per_unit_km", "1e16")),
         "inputs.csv row 2 (id=wafer) column freight_per_unit_km | is 1e16, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    # ---- and through a sweep's values, before any case is solved ----
    Case("sweep-risk-limit-nan", argv("sweep", "{inst}", "--param", "settings.risk_limit=nan,1", "--out", "{tmp}/out", "--workers", "1"),
         "--param settings.risk_limit value nan | is nan, not a finite number; give a number: most the risk measure may reach (money unit per year, or wafers per year for unmet); empty: no limit"),
    Case("sweep-demand-1e300", argv("sweep", "{inst}", "--param", "demand.m/chip.wafers_per_year=100,1e300", "--out", "{tmp}/out", "--workers", "1"),
         "--param demand.m/chip.wafers_per_year value 1e300 | is 1e300, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    # ---- country codes ----
    Case("country-name", cell("sites", 2, "country", "Japan"),
         "sites.csv row 2 (id=a) column country | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"),
    Case("country-lower-case", cell("suppliers", 2, "country", "jp"),
         "suppliers.csv row 2 (id=sumco) column country | is 'jp', not in capitals; write JP"),
    Case("concentration-alpha3", csv("concentration", "group_type,group,max_share\ncountry,JPN,0.5"),
         "concentration.csv row 2 (group_type=country, group=JPN) column group | is 'JPN', an ISO 3166-1 alpha-3 code; write its alpha-2 code JP (Japan)"),
    Case("exclusion-alpha3", csv("exclusions", "id,supplier_country\nno-tw,TWN"),
         "exclusions.csv row 2 (id=no-tw) column supplier_country | is 'TWN', an ISO 3166-1 alpha-3 code; write its alpha-2 code TW (Taiwan)"),
    Case("set-country-alpha3", sets("suppliers.gw.country=TWN"),
         "--set suppliers.gw.country=TWN | is 'TWN', an ISO 3166-1 alpha-3 code; write its alpha-2 code TW (Taiwan)"),
    # ---- the bundled flagship with --set (the cases) ----
    Case("jasm-demand-1e308", argv("solve", JASM, "--out", "{tmp}/out", "--set", "demand.sony-kyushu/logic-28nm.wafers_per_year=1e308"),
         "--set demand.sony-kyushu/logic-28nm.wafers_per_year=1e308 | is 1e308, beyond 1e15 in magnitude; no number HiGHS works with may be that large: check the column's unit"),
    Case("jasm-price-nan", argv("solve", JASM, "--out", "{tmp}/out", "--set", "offers.sumco-imari/si-wafer.price_per_unit=NaN"),
         "--set offers.sumco-imari/si-wafer.price_per_unit=NaN | is NaN, not a finite number; give a number in currency per unit (e.g. USD)"),
    Case("jasm-chitose-japan", argv("solve", JASM, "--out", "{tmp}/out", "--set", "sites.chitose.country=Japan"),
         "--set sites.chitose.country=Japan | is 'Japan', not an ISO 3166-1 alpha-2 code; did you mean JP?"),
    Case("jasm-validate-penalty-inf", argv("validate", JASM, "--set", "settings.unmet_penalty_per_wafer=inf"),
         "--set settings.unmet_penalty_per_wafer=inf | is inf, not a finite number; give a number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met"),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_values_are_answered_in_one_line_each(case: Case, tmp_path: Path, capsys):
    code, out, err = run_case(case, tmp_path, capsys)
    assert "Traceback" not in out + err
    assert err.rstrip("\n") == case.expected.replace("{tmp}", str(tmp_path))
    assert code == 2
    results = tmp_path / "out"
    assert not results.is_dir() or not any(results.iterdir()), "something was written to --out"


def test_a_repeated_package_in_a_designs_file_is_refused(tmp_path: Path, capsys):
    designs = tmp_path / "designs.yaml"
    designs.write_text("packages:\n  grant:\n    description: a\n  loan:\n    description: b\n"
                       "  grant:\n    description: c\n")
    code, out, err = run_case(Case("designs", argv("compare", "{inst}", "--designs", str(designs), "--out", "{tmp}/out"), ""),
                              tmp_path, capsys)
    assert "Traceback" not in out + err
    # the loader refuses a repeated key in every YAML file siting reads, a package's name included
    assert err.rstrip("\n") == "designs.yaml line 6 | key 'grant' is given twice (lines 2 and 6); keep one of them"
    assert code == 2
    assert not (tmp_path / "out").exists()


def test_validate_exits_3_with_the_screens_words_when_no_plan_exists(tmp_path: Path, capsys):
    """1,000 wafers must be met and sites a and b can build 100 each: the capacity screen proves it."""
    code, out, err = run_case(Case("screen", argv("validate", "{inst}", "--set", "demand.m/chip.wafers_per_year=1000"), ""),
                              tmp_path, capsys)
    assert code == 3
    assert out == ""
    assert err.rstrip("\n") == (
        "t: infeasible (pre-solve screen): demand for chip that must be met (1,000 wafers/yr, rows without a penalty) "
        "exceeds the most capacity that could be built for it (200 wafers/yr): add modules, sites or suppliers, or "
        "set penalty_per_wafer so that unmet demand is allowed at a cost")


def test_validate_shows_the_screens_warnings(tmp_path: Path, capsys):
    """Both suppliers in TW leave a (JP) no local supplier, so its 50% target is out of reach and
    the local-share screen warns that a can never open; b can still make the 100 wafers, so a plan
    exists and validate exits 0."""
    code, out, err = run_case(Case("warn", argv("validate", "{inst}", "--set", "suppliers.sumco.country=TW"), ""),
                              tmp_path, capsys)
    assert code == 0 and err == ""
    assert out.splitlines()[1:] == [
        "warning: a's 50% local share cannot be met: local suppliers can cover at most 0% of its purchases (wafer has "
        "no local supplier), so a can never open; lower the target or add local offers"]


def test_jasm_with_an_infinite_penalty_no_longer_crashes(tmp_path: Path, capsys):
    code = main(["solve", JASM, "--out", str(tmp_path / "out"), "--set", "settings.unmet_penalty_per_wafer=1e400"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.rstrip("\n") == ("--set settings.unmet_penalty_per_wafer=1e400 | is 1e400, not a finite number; give a "
                                "number: cost per wafer of demand left unmet (currency per wafer); empty: demand must be met")
    assert not (tmp_path / "out").exists()


def test_validate_json_lists_the_screens_and_exits_3(tmp_path: Path, capsys):
    """As above: 1,000 wafers must be met where a and b can build 100 each."""
    import json

    code, out, err = run_case(Case("json", argv("validate", "{inst}", "--json", "--set", "demand.m/chip.wafers_per_year=1000"), ""),
                              tmp_path, capsys)
    assert code == 3
    doc = json.loads(out)
    assert [(f["kind"], f["rule"], f["where"]) for f in doc["screens"]] == [("infeasible", "demand", "chip")]
