# ruff: noqa: E501  (expected messages are kept whole, one per line, as the tool prints them)
"""Reading problems that deserve a located line: workbooks (hidden and differently cased sheets,
a missing bill of materials, dates Excel cannot show), repeated columns, invisible characters,
`validate` listing every problem at once, and `--set` paths for keys holding '.', '/' or '='.

Each refused case asserts exit code 2, the exact standard error and that no results folder was
created.
"""

from __future__ import annotations

import openpyxl
import pytest

from siting.cli import main
from tests.reliability.base import BASE, write_base
from tests.reliability.test_hostile_files import _workbook, refused


def _hide(name: str):
    def edit(wb: openpyxl.Workbook) -> None:
        wb[name].sheet_state = "hidden"
    return edit


def _rename(old: str, new: str):
    def edit(wb: openpyxl.Workbook) -> None:
        wb[old].title = "renaming"  # openpyxl, like Excel, takes Sites and sites for the same name
        wb["renaming"].title = new
    return edit


def _drop(name: str):
    def edit(wb: openpyxl.Workbook) -> None:
        del wb[name]
    return edit


def _copy_as(name: str, title: str):
    def edit(wb: openpyxl.Workbook) -> None:
        wb.copy_worksheet(wb[name]).title = title
    return edit


def _date_cell(wb: openpyxl.Workbook) -> None:
    cell = wb["sites"]["E2"]  # fixed_cost of a
    cell.value, cell.number_format = 1e12, "yyyy-mm-dd"


def _header_with_space(wb: openpyxl.Workbook) -> None:
    ws = wb["sites"]
    ws.cell(row=1, column=ws.max_column + 1, value="lat ")


@pytest.mark.parametrize("edit, expected", [
    (_hide("bom"), "book.xlsx[bom] | is a hidden sheet holding the bom table; unhide it (right-click a sheet tab > Unhide) if it is meant to be used, or delete it"),
    (_drop("bom"), "book.xlsx | sheet 'bom' is missing, but offers and inputs are given: without it no input is ever bought; add a sheet named bom (Bill of materials a[p,i])"),
    (_copy_as("sites", "Sites "), "book.xlsx[Sites] | holds the sites table, and so does the sheet 'sites'; keep one of them"),
    (_date_cell, "book.xlsx[sites] row 2 (id=a) column fixed_cost | is 1000000000000 in a cell formatted as a date, beyond the dates Excel can show; format the cell as a number (General), or give a number"),
    (_header_with_space, "book.xlsx[sites] column 6 | column 'lat' appears twice in the header (columns 3 and 6 differ only by spaces: 'lat' and 'lat '); keep one of them"),
], ids=["hidden-sheet", "no-bom-with-offers", "same-table-twice", "date-beyond-excel", "column-with-trailing-space"])
def test_workbook_problems(tmp_path, capsys, edit, expected):
    book = _workbook(tmp_path / "book.xlsx", edit)
    assert refused(tmp_path, capsys, "solve", str(book)) == expected


def test_sheet_names_match_tables_whatever_their_case(tmp_path, capsys):
    book = _workbook(tmp_path / "book.xlsx", _rename("sites", "Sites"))
    assert main(["validate", str(book)]) == 0
    assert capsys.readouterr().out.startswith("book: valid (2 sites,")


def test_a_library_warning_is_not_printed_raw(tmp_path, capsys):
    """openpyxl warns (with its file and line) of a number it cannot show as a date; the planner
    gets the located line only."""
    book = _workbook(tmp_path / "book.xlsx", _date_cell)
    refused(tmp_path, capsys, "validate", str(book))
    main(["validate", str(book)])
    err = capsys.readouterr().err
    assert "UserWarning" not in err and "openpyxl" not in err and err.count("\n") == 1


def test_a_folder_without_bom_while_offers_are_given(tmp_path, capsys):
    inst = write_base(tmp_path / "inst", bom=None)
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "instance.yaml tables | table 'bom' is missing, but offers and inputs are given: without it no input is ever bought; add bom.csv (Bill of materials a[p,i]) and list it under 'tables:'")


def test_a_csv_column_repeated_with_a_trailing_space(tmp_path, capsys):
    inst = write_base(tmp_path / "inst", markets="id,country,lat,lon,lat \nm,JP,35,137,35")
    assert refused(tmp_path, capsys, "solve", str(inst)) == (
        "markets.csv column 5 | column 'lat' appears twice in the header (columns 3 and 5 differ only by spaces: 'lat' and 'lat '); keep one of them")


# ---- invisible and look-alike characters --------------------------------------------------------

@pytest.mark.parametrize("tables, expected", [
    ({"sites": BASE["sites"].replace("\na,", "\n\u0430,")},  # Cyrillic a
     ["sites.csv row 2 (id=<U+0430>) column id | is '<U+0430>', not a valid id; use letters, digits, '-' and '_' only (no spaces, dots or slashes)"]),
    ({"modules": BASE["modules"].replace("\na,", "\na\u200b,")},  # zero-width space after the id
     ["modules.csv row 2 (site=a<U+200B>, product=chip) column site | is 'a<U+200B>', not a valid id; use letters, digits, '-' and '_' only (no spaces, dots or slashes)",
      "modules.csv row 2 (site=a<U+200B>, product=chip) column site | 'a<U+200B>' is not a known sites id; did you mean 'a'?"]),
    ({"offers": BASE["offers"].replace(",1000,100", ",1\u00a0000,100")},  # a non-breaking space as thousands separator
     ["offers.csv row 2 (supplier=sumco, input=wafer) column capacity_units_per_year | is '1<U+00A0>000', not a number; give a number in input units per year"]),
], ids=["cyrillic-id", "zero-width-space", "non-breaking-space"])
def test_invisible_characters_are_shown_by_code_point(tmp_path, capsys, tables, expected):
    inst = write_base(tmp_path / "inst", **tables)
    assert refused(tmp_path, capsys, "solve", str(inst)).splitlines()[:len(expected)] == expected


# ---- validate lists every problem ---------------------------------------------------------------

def test_validate_lists_a_short_row_with_every_other_problem(tmp_path, capsys):
    """A short row in sites.csv no longer hides the rest; the missing price column is reported
    once, without a 'no supplier offers' line for the input that needs it."""
    inst = write_base(tmp_path / "inst",
                      sites=BASE["sites"] + "\nc,JP",
                      offers="supplier,input,capacity_units_per_year\nsumco,wafer,1000\ngw,wafer,1000",
                      demand="market,product,wafers_per_year\nm,chip,-5")
    assert refused(tmp_path, capsys, "validate", str(inst)).splitlines() == [
        "sites.csv row 4 | has 2 fields, the header has 5; check for a stray comma or an unquoted comma inside a value",
        "demand.csv row 2 (market=m, product=chip) column wafers_per_year | is -5; must be >= 0",
        "offers.csv | column 'price_per_unit' is missing; add it (currency per unit (e.g. USD))",
    ]


def test_validate_lists_a_formula_without_a_value_with_every_other_problem(tmp_path, capsys):
    def edit(wb: openpyxl.Workbook) -> None:
        wb["sites"]["C2"] = "=30+3"  # lat of a: openpyxl saves no cached value
        wb["demand"]["C2"] = -5
    book = _workbook(tmp_path / "book.xlsx", edit)
    assert refused(tmp_path, capsys, "validate", str(book)).splitlines() == [
        "book.xlsx[sites] row 2 (id=a) column lat | is the formula =30+3 with no saved value; open the workbook in Excel or LibreOffice and save it, so that every formula's value is stored",
        "book.xlsx[demand] row 2 (market=m, product=chip) column wafers_per_year | is -5; must be >= 0",
    ]


def test_validate_without_a_required_table_does_not_cascade(tmp_path, capsys):
    """sites.csv absent: one line, not one per row that names a site."""
    inst = write_base(tmp_path / "inst", sites=None)
    assert refused(tmp_path, capsys, "validate", str(inst)).splitlines() == [
        "instance.yaml tables | table 'sites' is missing; add sites.csv (Candidate fab sites: build[s] decides whether each opens) and list it under 'tables:'",
    ]


# ---- --set for any key --------------------------------------------------------------------------

CONCENTRATION = 'group_type,group,max_share\nhazard_zone,nankai.trough,0.9\ncountry,"a=b/c",0.9'


def test_params_prints_paths_that_set_accepts(tmp_path, capsys):
    inst = write_base(tmp_path / "inst", concentration=CONCENTRATION)
    assert main(["params", str(inst)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert 'concentration.hazard_zone/"nankai.trough".max_share = 0.9' in out
    assert 'concentration.country/"a=b/c".max_share = 0.9' in out


@pytest.mark.parametrize("path", ['concentration.hazard_zone/"nankai.trough".max_share',
                                  'concentration.country/"a=b/c".max_share',
                                  '"concentration"."country"/"a=b/c"."max_share"'])
def test_set_addresses_keys_holding_dots_slashes_and_equals(tmp_path, path):
    from siting.instance.overrides import apply_overrides
    from siting.instance.read import read_instance

    raw = apply_overrides(read_instance(write_base(tmp_path / "inst", concentration=CONCENTRATION)), [f"{path}=0.5"])
    assert raw.tables["concentration"]["max_share"].tolist().count("0.5") == 1


def test_an_unquoted_path_suggests_the_quoted_one(tmp_path, capsys):
    inst = write_base(tmp_path / "inst", concentration=CONCENTRATION)
    assert refused(tmp_path, capsys, "solve", str(inst), "--set", "concentration.hazard_zone/nankai.trough.max_share=0.5") == (
        "--set concentration.hazard_zone/nankai.trough.max_share | no such parameter; did you mean "
        "'concentration.hazard_zone/\"nankai.trough\".max_share'?")


def test_an_unclosed_quote_in_a_path(tmp_path, capsys):
    inst = write_base(tmp_path / "inst", concentration=CONCENTRATION)
    assert refused(tmp_path, capsys, "solve", str(inst), "--set", 'concentration.hazard_zone/"nankai.trough.max_share=0.5') == (
        "--set concentration.hazard_zone/\"nankai.trough.max_share=0.5 | has no '='; write PATH=VALUE, e.g. settings.discount_rate=0.06 (an '=' inside quotes belongs to the path)")


def test_a_bad_value_set_by_a_designs_package_names_the_package(tmp_path, capsys):
    inst = write_base(tmp_path / "inst")
    designs = tmp_path / "designs.yaml"
    designs.write_text("packages:\n  p:\n    set: [instruments.grant.rate=lots]\n")
    assert refused(tmp_path, capsys, "compare", str(inst), "--designs", str(designs)).splitlines()[-1] == (
        "designs.yaml packages.p set: instruments.grant.rate=lots | is 'lots', not a number; give a number, or leave it empty")

