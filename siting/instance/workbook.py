"""Excel workbooks: one sheet per table, read as text cells.

Before a workbook is opened, the sizes its parts declare once uncompressed are added up and
refused above :data:`~siting.instance.files.MAX_WORKBOOK_UNCOMPRESSED` (a zip bomb declares
gigabytes in a few megabytes; Python's zip reader never inflates a part beyond its declared size).
Sheet names are matched to tables without regard to case or surrounding spaces (``Sites`` is the
``sites`` table). A hidden sheet that holds a table (or the settings) is refused: data a planner
cannot see would change the answer without a word. Hidden sheets that are not tables are ignored.
Warnings of the spreadsheet libraries (unsupported extensions, missing default styles) say nothing
about the values read and are silenced; any other becomes one logged line naming the workbook.
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
import openpyxl.utils
import pandas as pd

from siting.errors import ProblemCollector, visible
from siting.instance.cells import clean_table, header_twice, title_above_header
from siting.instance.files import MAX_WORKBOOK_UNCOMPRESSED, file_problem, size_text
from siting.instance.schema import TABLES, key_label

log = logging.getLogger(__name__)

#: Sheets of a workbook that are not tables but are read.
SPECIAL_SHEETS = ("settings", "sources")
_DATE = re.compile(r"Cell ([A-Z]+[0-9]+) is marked as a date but the serial value (\S+) is outside")
_FIX = "save it again as .xlsx from Excel or LibreOffice"


def _declared_size(path: Path, found: ProblemCollector) -> bool:
    """Whether the workbook's parts declare a readable size in total; reports it if not."""
    try:
        with zipfile.ZipFile(path) as book:
            total = sum(info.file_size for info in book.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        found.add(path.name, f"cannot be read as an Excel workbook ({type(exc).__name__})", _FIX)
        return False
    if total > MAX_WORKBOOK_UNCOMPRESSED:
        found.add(path.name, f"declares {total / 2**20:,.0f} MiB once uncompressed, more than "
                             f"{size_text(MAX_WORKBOOK_UNCOMPRESSED)}, the limit for a workbook",
                  "an instance's workbook holds far less (is it a zip bomb?); check that this is the right file")
        return False
    return True


def read_workbook_sheets(path: Path, found: ProblemCollector, broken: set[str] | None = None
                         ) -> dict[str, pd.DataFrame]:
    """Every visible sheet as a table of text cells, keyed by its name (a table's name where it
    names one, whatever its case); problems go to ``found``, and the tables whose sheet was
    refused to ``broken``."""
    broken = set() if broken is None else broken
    problem, _ = file_problem(path, path.name, "not found", _FIX)
    if problem is not None:
        found.add(problem.location, problem.problem, problem.fix)
        return {}
    if not _declared_size(path, found):
        return {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False, engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for a corrupt file
            found.add(path.name, f"cannot be read as an Excel workbook ({type(exc).__name__})", _FIX)
            return {}
        try:
            out, titles = _sheets(path, book, sheets, found, broken)
            # cells are checked only in sheets whose header was read, so that locations name real columns
            _report_unreadable_cells(path, book, {titles[s]: s for s in out}, found)
        finally:
            book.close()
    _say(path, caught)
    return out


def _say(path: Path, caught: list[warnings.WarningMessage]) -> None:
    """openpyxl's warnings are about features it drops on reading (styles, extensions, print
    areas), never about the values: silenced. Others become one line naming the workbook."""
    for w in caught:
        if (w.filename or "").replace("\\", "/").find("/openpyxl/") >= 0:
            continue
        log.warning("%s | %s", path.name, str(w.message).splitlines()[0] if str(w.message) else w.category.__name__)


def _sheets(path: Path, book, sheets: dict, found: ProblemCollector, broken: set[str]
            ) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The sheets read (by table name where they hold one) and the title of each one's sheet."""
    states = {ws.title: ws.sheet_state for ws in book.worksheets}
    known = {*TABLES, *SPECIAL_SHEETS}
    out: dict[str, pd.DataFrame] = {}
    titles: dict[str, str] = {}  # table name -> the sheet title it came from
    for raw_name, df in sheets.items():
        title = str(raw_name)
        low = title.strip().lower()
        sname = low if low in known else title.strip()
        where = f"{path.name}[{visible(title.strip())}]"
        if states.get(title, "visible") != "visible":
            if sname in known:
                found.add(where, f"is a hidden sheet holding the {sname} table",
                          "unhide it (right-click a sheet tab > Unhide) if it is meant to be used, or delete it")
                broken.add(sname)
            continue
        if sname in titles:
            found.add(where, f"holds the {sname} table, and so does the sheet '{visible(titles[sname])}'",
                      "keep one of them")
            broken.add(sname)
            continue
        titles[sname] = title
        names = [str(c) for c in df.columns]
        table = TABLES.get(sname)
        header = ["" if c.startswith("Unnamed:") else c for c in names]  # pandas' name for an empty cell
        if table is not None and title_above_header(where, [header, *df.astype(str).values.tolist()], table, found):
            broken.add(sname)
            continue
        twice = [c for c in names if re.match(r"^(.*)\.\d+$", c) and re.sub(r"\.\d+$", "", c) in names]
        if twice:
            first = re.sub(r"\.\d+$", "", twice[0])
            found.add(where, f"column '{visible(first)}' appears twice in the header", "keep one of them")
            broken.add(sname)
            continue
        if header_twice(where, names, found):
            broken.add(sname)
            continue
        unnamed = [c for c in df.columns if str(c).startswith("Unnamed:")]
        if unnamed and len(df.columns) > 0:
            found.add(where, "has a column without a header (merged or empty cells in row 1)",
                      "give every column a name in row 1 and unmerge header cells")
            broken.add(sname)
            continue
        df = clean_table(df)
        df = df[(df != "").any(axis=1)] if len(df.columns) else df
        out[sname] = df
    return out, titles


def _report_unreadable_cells(path: Path, book, by_title: dict[str, str], found: ProblemCollector) -> None:
    """Excel error values (#DIV/0!, #REF!...) and formulas saved without their value.

    Both reach pandas as empty cells, which would send the planner looking for a value they did
    write. A workbook written by a script (openpyxl, many exporters) stores formulas without the
    value Excel computes when it saves the file; the formulas are read from a second pass.
    """
    formulas = None
    for ws in book.worksheets:
        sname = by_title.get(ws.title)
        if sname is None:
            continue
        table = TABLES.get(sname)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            rows = list(ws.iter_rows())  # openpyxl warns of a number it cannot show as a date while reading
        dates = {m.group(1): m.group(2) for w in caught if (m := _DATE.search(str(w.message)))}
        header: list[str] = []
        for r, row in enumerate(rows, start=1):
            if r == 1:
                header = ["" if c.value is None else str(c.value).strip() for c in row]
                continue
            bad = [(n, c) for n, c in enumerate(row) if c.data_type == "e" or c.value is None]
            if not bad:
                continue
            cells = {h: _cell_text(c.value) for h, c in zip(header, row) if h}
            for n, c in bad:
                coordinate = f"{openpyxl.utils.get_column_letter(n + 1)}{r}"
                if c.data_type == "e" and coordinate in dates:
                    problem = f"is {dates[coordinate]} in a cell formatted as a date, beyond the dates Excel can show"
                    fix = "format the cell as a number (General), or give a number"
                elif c.data_type == "e":
                    problem, fix = f"is the Excel error {c.value}", "fix the formula in the workbook"
                else:
                    if formulas is None:
                        formulas = _formula_cells(path)
                    formula = formulas.get((ws.title, r, n))
                    if formula is None:
                        continue
                    problem = f"is the formula {formula} with no saved value"
                    fix = ("open the workbook in Excel or LibreOffice and save it, so that every formula's "
                           "value is stored")
                column = header[n] if n < len(header) and header[n] else openpyxl.utils.get_column_letter(n + 1)
                key = f" {key_label(table, cells)}" if table is not None else ""
                found.add(f"{path.name}[{sname}] row {r}{key} column {column}", problem, fix)


def _cell_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def _formula_cells(path: Path) -> dict[tuple[str, int, int], str]:
    """(sheet, row, column position) -> formula text, for every formula in the workbook."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    out = {}
    try:
        for ws in book.worksheets:
            for r, row in enumerate(ws.iter_rows(), start=1):
                for n, c in enumerate(row):
                    if c.data_type == "f":
                        out[ws.title, r, n] = str(c.value)
    finally:
        book.close()
    return out
