"""``results.xlsx``: a run's result tables as one workbook, a sheet per table, headers with units.

The first sheet, ``summary``, says what the solve is (status, firm cost, best bound, gap, the money
unit, the instance and its hash), so that the numbers of the other sheets are never read without
their status. Each table of the results folder follows as a sheet of the same name, its columns
in the CSV file's order: row 1 a readable header with the unit (``capacity (wafers per year)``,
``payout (USD million per year)``), row 2 the CSV's column name (what formulas and scripts refer
to), the values from row 3 with shares shown as percentages. Panes are frozen below the headers.

The workbook is written with openpyxl's write-only mode (rows streamed, no cell objects kept), and
its bytes are reproducible: the zip entries and the document properties carry a fixed date, so
the same run gives the same file, and its SHA-256 in ``manifest.json`` means something.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd

#: The date every part of the workbook carries (the zip format's earliest), for reproducible bytes.
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_CORE_DATE = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)")

#: Column-name endings and the unit they state; ``{money}`` is the instance's money unit.
_SUFFIXES = (
    ("_wafers_per_year", "wafers per year"),
    ("_units_per_year", "input units per year"),
    ("_per_year", "{money} per year"),
    ("_total", "{money}, undiscounted"),
    ("_km", "km"),
)
#: Columns that hold a share (shown as a percentage).
SHARES = {"utilisation", "local_share", "local_target", "share", "probability", "target", "achieved"}


def header_label(column: str, money: str) -> str:
    """A readable header with the unit: ``capacity_wafers_per_year`` -> ``capacity (wafers per year)``,
    ``payout_per_year`` -> ``payout (USD million per year)``, ``local_share`` -> ``local share (%)``."""
    if column in SHARES:
        return f"{column.replace('_', ' ')} (%)"
    for suffix, unit in _SUFFIXES:
        if column == suffix[1:]:  # units_per_year: the quantity is the unit's own word
            return f"{column.split('_')[0]} ({unit.format(money=money)})"
        if column.endswith(suffix):
            return f"{column[:-len(suffix)].replace('_', ' ')} ({unit.format(money=money)})"
    return column.replace("_", " ")


def _cell(value):
    """A value openpyxl can write: plain Python numbers, text, None for NaN."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if v != v or v in (float("inf"), float("-inf")) else v
    if isinstance(value, (tuple, list)):
        return ";".join(map(str, value))
    return value if isinstance(value, (int, str)) else str(value)


def _widths(rows: list[list], labels: list[str], columns: list[str]) -> list[float]:
    """Column widths that fit the headers and the first rows' values (up to 60 characters)."""
    out = [max(len(label), len(col)) for label, col in zip(labels, columns)]
    for row in rows[:200]:
        for n, v in enumerate(row):
            out[n] = max(out[n], len(f"{v:,.3f}") if isinstance(v, float) else len(str(v)))
    return [min(60.0, 2.0 + w) for w in out]


def results_workbook(tables: dict[str, pd.DataFrame], summary: dict) -> bytes:
    """The bytes of ``results.xlsx``: a ``summary`` sheet, then one sheet per table of ``tables``
    (name -> table, in order).

    Parameters
    ----------
    tables
        The result tables as the CSV files hold them.
    summary
        The run's ``summary.json`` content (status, objective, bound, gap, units, instance).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    money = summary.get("units", {}).get("money", "money unit")
    book = Workbook(write_only=True)
    bold, grey = Font(bold=True), Font(italic=True, color="666666")
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    def header(ws, texts: list[str], font, filled: bool) -> list:
        cells = []
        for text in texts:
            c = WriteOnlyCell(ws, value=text)
            c.font = font
            if filled:
                c.fill = fill
                c.alignment = wrap
            cells.append(c)
        return cells

    ws = book.create_sheet("summary")
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 22, 70
    ws.append(header(ws, ["item", "value"], bold, True))
    instance = summary.get("instance", {})
    rows = [("status", summary.get("status")), ("termination", summary.get("termination")),
            ("firm cost", summary.get("objective")), ("best bound", summary.get("best_bound")),
            ("MIP gap", summary.get("mip_gap")), ("objective's unit", summary.get("units", {}).get("objective")),
            ("money unit", money), ("capacity unit", summary.get("units", {}).get("capacity")),
            ("instance", instance.get("name")), ("instance sha256", instance.get("sha256")),
            ("overrides", "; ".join(summary.get("overrides", []))),
            ("checks", "passed" if summary.get("checks", {}).get("passed", True) else
             "; ".join(summary.get("checks", {}).get("violations", [])))]
    for name, value in rows:
        cell = WriteOnlyCell(ws, value=_cell(value))
        if name == "MIP gap" and isinstance(value, float):
            cell.number_format = "0.0000%"
        elif isinstance(value, float):
            cell.number_format = "#,##0.000"
        ws.append([name, cell])
    for name, df in tables.items():
        ws = book.create_sheet(name[:31])
        columns = [str(c) for c in df.columns]
        labels = [header_label(c, money) for c in columns]
        # one conversion of the whole table: a pandas row costs more than writing it
        body = [[_cell(v) for v in row] for row in df.to_numpy(dtype=object).tolist()]
        for n, width in enumerate(_widths(body, labels, columns), start=1):
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = "A3"
        ws.append(header(ws, labels, bold, True))
        ws.append(header(ws, columns, grey, False))
        formats = ["0.0%" if c in SHARES else None for c in columns]
        styled = [n for n, f in enumerate(formats) if f]
        for values in body:
            for n in styled:
                if isinstance(values[n], float):
                    cell = WriteOnlyCell(ws, value=values[n])
                    cell.number_format = formats[n]
                    values[n] = cell
            ws.append(values)
    raw = io.BytesIO()
    book.save(raw)
    return _fixed_dates(raw.getvalue())


def _fixed_dates(data: bytes) -> bytes:
    """The same workbook with every zip entry and the document's created/modified dates fixed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _CORE_DATE.sub(rb"\g<1>1980-01-01T00:00:00Z\g<3>", content)
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            dst.writestr(entry, content)
    return out.getvalue()
