"""Cells as planners type them: "60%", "5,000", 1e3 read as meant; forms that read two ways refused;
a column of the planner's own (notes) kept and warned of, not refused."""

from __future__ import annotations

import json

import pytest

from siting.cli import main
from siting.instance.cells import lenient_number
from siting.instance.derive import derive
from siting.instance.template import write_template
from siting.run import load_case
from tests.helpers import solve


@pytest.mark.parametrize("text, percent, value", [
    ("60%", True, 0.6), ("12.5 %", True, 0.125), ("5,000", False, 5000.0), ("1,234,567.5", False, 1234567.5),
    ("-3,000", False, -3000.0), ("100%", True, 1.0), ("1,000%", True, 10.0),
])
def test_numbers_as_typed(text, percent, value):
    assert lenient_number(text, percent) == (value, "", "")


@pytest.mark.parametrize("text, problem, fix", [
    ("5,000.5,1", "reads two ways (commas and points mixed)", "e.g. 5000.5"),
    ("1.000,5", "reads two ways (a decimal comma?)", "e.g. 1000.5"),
    ("1,5", "reads two ways (a decimal comma, or a thousands separator?)", "write 1.5 or 15"),
    ("12,0000", "reads two ways", "write 12.0000 or 120000"),
])
def test_forms_that_read_two_ways_are_refused_with_a_suggestion(text, problem, fix):
    value, said, hint = lenient_number(text, True)
    assert value is None and problem in said and fix in hint


def test_a_percentage_in_a_plain_number_column_is_refused():
    assert lenient_number("40%", False) == (
        None, "is '40%', a percentage where a plain number is wanted",
        "give the number itself (40), not a share of something")


def test_words_are_left_to_the_usual_message():
    assert lenient_number("ten", False) == (None, "", "")


def _edit(path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_typed_forms_give_the_same_instance_and_answer(tmp_path):
    """The starter with its 60% target written "60%", a capacity "500,000", a capex "9e2" and a
    column of notes: the same derived numbers and the same optimum as the starter as shipped."""
    plain = write_template(tmp_path / "plain")
    typed = write_template(tmp_path / "typed")
    _edit(typed / "local_targets.csv", "kumamoto,0.6,", "kumamoto,60%,")
    _edit(typed / "offers.csv", "sumco-imari,wafer,500000,", 'sumco-imari,wafer,"500,000",')
    _edit(typed / "modules.csv", "kumamoto,logic-28nm,60000,900,", "kumamoto,logic-28nm,60000,9e2,")
    text = (typed / "sites.csv").read_text(encoding="utf-8").splitlines()
    text = [text[0] + ",notes", *(line + ",ask the prefecture" for line in text[1:])]
    (typed / "sites.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    a, b = derive(load_case(plain)), derive(load_case(typed))
    assert b.local_targets["target"].tolist() == [0.6]
    assert b.offers["capacity"].tolist() == a.offers["capacity"].tolist()
    assert b.modules["capex_per_module"].tolist() == a.modules["capex_per_module"].tolist()
    assert load_case(typed).tables["sites"]["notes"].tolist() == ["ask the prefecture"] * 2
    assert solve(typed, duals=False).outcome.objective == solve(plain, duals=False).outcome.objective


def test_a_column_of_notes_is_a_warning_line_not_an_error(tmp_path, capsys):
    folder = write_template(tmp_path / "s")
    text = (folder / "markets.csv").read_text(encoding="utf-8").splitlines()
    (folder / "markets.csv").write_text("\n".join([text[0] + ",notes", *(t + ",x" for t in text[1:])]) + "\n",
                                        encoding="utf-8")
    assert main(["validate", str(folder)]) == 0
    out = capsys.readouterr().out.splitlines()
    said = [line for line in out if "notes" in line]
    assert said == ["warning: markets.csv column notes | is not a markets column and is ignored; rename it if it "
                    "was meant as one of: id, name, country, region, lat, lon, source"]
    assert main(["solve", str(folder), "-o", str(tmp_path / "out")]) == 0
    screens = json.loads((tmp_path / "out" / "summary.json").read_text())["screens"]
    assert [s["rule"] for s in screens if "notes" in s["message"]] == ["ignored"]


def test_a_near_miss_of_a_missing_column_is_refused(tmp_path, capsys):
    folder = write_template(tmp_path / "s")
    _edit(folder / "sites.csv", "fixed_cost", "fixed_cots")
    assert main(["validate", str(folder)]) == 2
    assert capsys.readouterr().err.strip() == "sites.csv column fixed_cots | unknown column; did you mean 'fixed_cost'?"


def test_an_ambiguous_cell_is_one_line_exit_2(tmp_path, capsys):
    folder = write_template(tmp_path / "s")
    assert main(["solve", str(folder), "-o", str(tmp_path / "out"),
                 "--set", "offers.sumco-imari/wafer.capacity_units_per_year=1.000,5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["--set offers.sumco-imari/wafer.capacity_units_per_year=1.000,5 | is '1.000,5', which reads two "
                   "ways (a decimal comma?); write it with a point for decimals and no thousands separator, "
                   "e.g. 1000.5"]
    assert not (tmp_path / "out").exists()


def test_settings_take_percentages_and_separators_too(tmp_path):
    """settings.discount_rate=8% is the starter's own 0.08 (the same optimum); a firm budget of
    "5,000" is 5000; a percentage for a money setting is refused."""
    folder = write_template(tmp_path / "s")
    assert load_case(folder, ["settings.discount_rate=8%"]).settings.discount_rate == 0.08
    assert load_case(folder, ["settings.firm_budget=5,000"]).settings.firm_budget == 5000.0
    with pytest.raises(Exception, match=r"settings.firm_budget=5% \| is '5%', a percentage where a plain number"):
        load_case(folder, ["settings.firm_budget=5%"])
