"""The spreadsheet round trip: `init --xlsx` reads back to the CSV starter, `solve --xlsx` writes
every result table to results.xlsx with headers and units, sheet names in any case."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from siting.cli import main
from siting.instance.book import instance_workbook
from siting.instance.read import read_instance
from siting.instance.template import write_template
from siting.report.workbook import header_label
from siting.run import load_case
from tests.helpers import solve

ROOT = Path(__file__).resolve().parents[2]


def _same_tables(a, b) -> None:
    for name in a.tables:
        left, right = a.tables[name].reset_index(drop=True), b.tables[name].reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, check_dtype=False, obj=name)


def test_init_xlsx_reads_back_to_the_csv_starter_and_solves_the_same(tmp_path, capsys):
    assert main(["init", str(tmp_path / "starter"), "--xlsx"]) == 0
    assert [p.name for p in (tmp_path / "starter").iterdir()] == ["starter.xlsx"]
    csv = write_template(tmp_path / "csv" / "starter")
    book, plain = load_case(tmp_path / "starter"), load_case(csv)
    assert book.settings == plain.settings and book.name == plain.name == "starter"
    assert book.sources == plain.sources
    _same_tables(book, plain)
    a, b = solve(tmp_path / "starter" / "starter.xlsx"), solve(csv)
    assert a.outcome.objective == b.outcome.objective
    for name in ("sites", "capacity", "procurement", "subsidies"):
        assert a.results.tables[name].equals(b.results.tables[name]), name


def test_the_starter_workbook_explains_each_column_on_its_header():
    book_bytes = instance_workbook(read_instance(ROOT / "instances" / "jasm"))
    import io

    book = openpyxl.load_workbook(io.BytesIO(book_bytes))
    cell = book["offers"]["D1"]
    assert cell.value == "price_per_unit"
    assert cell.comment.text.startswith("price_per_unit (float, required, currency per unit (e.g. USD))")


def test_any_instance_exports_to_a_workbook_that_reads_back(tmp_path):
    """jasm (sources, an fx table, a currency column, long source texts) as one workbook: the
    same typed tables and settings."""
    path = tmp_path / "jasm.xlsx"
    path.write_bytes(instance_workbook(read_instance(ROOT / "instances" / "jasm")))
    a, b = load_case(path), load_case(ROOT / "instances" / "jasm")
    assert a.settings == b.settings
    _same_tables(a, b)


def test_sheet_names_match_tables_in_any_case(tmp_path):
    write_template(tmp_path / "s", xlsx=True)
    path = tmp_path / "s" / "s.xlsx"
    book = openpyxl.load_workbook(path)
    for old, new in (("sites", "Sites"), ("modules", " MODULES "), ("settings", "Settings")):
        book[old].title = "renamed"  # openpyxl would add a 1 to a name that differs only by case
        book["renamed"].title = new
    book.save(path)
    assert "Settings" in openpyxl.load_workbook(path, read_only=True).sheetnames
    inst = load_case(path)
    assert inst.origins["sites"] == "s.xlsx[sites]" and len(inst.tables["modules"]) == 2


def test_results_xlsx_holds_every_table_with_units(tmp_path):
    folder = write_template(tmp_path / "s")
    out = tmp_path / "out"
    assert main(["solve", str(folder), "-o", str(out), "--xlsx"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert "results.xlsx" in manifest["files"] and "results.xlsx" in manifest["sha256"]
    book = openpyxl.load_workbook(out / "results.xlsx")
    tables = [f[:-4] for f in manifest["files"] if f.endswith(".csv")]
    assert book.sheetnames == ["summary", *tables]
    summary = json.loads((out / "summary.json").read_text())
    got = {r[0]: r[1] for r in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert got["status"] == summary["status"] == "optimal"
    # a workbook holds 16 significant digits (openpyxl writes %.16g)
    assert got["firm cost"] == pytest.approx(summary["objective"], rel=1e-15)
    assert got["MIP gap"] == pytest.approx(summary["mip_gap"], rel=1e-15)
    assert got["money unit"] == "USD million"
    for name in tables:
        ws = book[name]
        csv = pd.read_csv(out / f"{name}.csv", keep_default_na=False, na_values=[""])
        rows = list(ws.iter_rows(values_only=True))
        assert list(rows[1]) == list(csv.columns), name
        assert list(rows[0]) == [header_label(c, "USD million") for c in csv.columns], name
        assert len(rows) - 2 == len(csv), name
        for got_row, want in zip(rows[2:], csv.itertuples(index=False)):
            for g, w in zip(got_row, want):
                if isinstance(w, float) and w != w:
                    assert g is None
                elif isinstance(w, (float, int)) and not isinstance(w, bool):
                    assert float(g) == pytest.approx(float(w), rel=1e-9), name
                else:
                    assert str(g) == str(w), name
    sites = book["sites"]
    assert sites["F1"].value == "capacity (wafers per year)"
    assert sites["I1"].value == "local share (%)" and sites["I3"].number_format == "0.0%"
    assert sites.freeze_panes == "A3"


def test_results_xlsx_only_when_asked_and_reproducible(tmp_path):
    folder = write_template(tmp_path / "s")
    assert main(["solve", str(folder), "-o", str(tmp_path / "a"), "--xlsx", "--no-duals"]) == 0
    assert main(["solve", str(folder), "-o", str(tmp_path / "b"), "--xlsx", "--no-duals"]) == 0
    assert (tmp_path / "a" / "results.xlsx").read_bytes() == (tmp_path / "b" / "results.xlsx").read_bytes()
    # the same folder again without --xlsx: the earlier workbook goes with the earlier run
    assert main(["solve", str(folder), "-o", str(tmp_path / "a"), "--no-duals"]) == 0
    assert not (tmp_path / "a" / "results.xlsx").exists()


@pytest.mark.parametrize("column, label", [
    ("capacity_wafers_per_year", "capacity (wafers per year)"),
    ("payout_per_year", "payout (USD million per year)"),
    ("capex_total", "capex (USD million, undiscounted)"),
    ("units_per_year", "units (input units per year)"),
    ("wafers_per_year", "wafers (wafers per year)"),
    ("distance_km", "distance (km)"),
    ("local_share", "local share (%)"),
    ("site", "site"),
])
def test_header_labels(column, label):
    assert header_label(column, "USD million") == label
