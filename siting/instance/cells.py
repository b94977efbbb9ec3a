"""Tables as text cells: the steps the CSV and the workbook readers share."""

from __future__ import annotations

import re

import pandas as pd

from siting.errors import ProblemCollector, visible
from siting.instance.schema import Table


def clean_table(df: pd.DataFrame) -> pd.DataFrame:
    """Every cell as stripped text, column names stripped, rows numbered as a spreadsheet shows them."""
    df = df.fillna("").astype(str)
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        df[col] = df[col].str.strip()
    # spreadsheet row numbers: header is row 1
    df.index = pd.RangeIndex(2, 2 + len(df))
    return df


def repeated_header(names: list[str]) -> tuple[int, int] | None:
    """Positions (from 1) of the first column whose name, spaces stripped, repeats an earlier one."""
    first: dict[str, int] = {}
    for n, name in enumerate(names, start=1):
        key = str(name).strip()
        if key in first:
            return first[key], n
        first[key] = n
    return None


def header_twice(where: str, names: list[str], found: ProblemCollector) -> bool:
    """Report a column named twice, also where the names differ only by surrounding spaces."""
    twice = repeated_header(names)
    if twice is None:
        return False
    a, b = twice
    same = names[a - 1] == names[b - 1]
    found.add(where if same else f"{where} column {b}",
              f"column '{visible(str(names[a - 1]).strip())}' appears twice in the header" + (
                  "" if same else f" (columns {a} and {b} differ only by spaces: "
                                  f"'{visible(str(names[a - 1]))}' and '{visible(str(names[b - 1]))}')"),
              "keep one of them")
    return True


#: How far below row 1 a header is looked for when row 1 names no column (title rows).
TITLE_ROWS = 5


def title_above_header(where: str, rows: list[list[str]], table: Table, found: ProblemCollector) -> bool:
    """Report a title row above the header: row 1 names none of the table's columns, and one of the
    next few rows names mostly columns. Returns whether it was reported."""
    known = {c.lower() for c in table.names}

    def names(row) -> list[str]:
        return [str(c).strip() for c in row if str(c).strip()]

    if not rows or any(c.lower() in known for c in names(rows[0])):
        return False
    for row in rows[1:TITLE_ROWS + 1]:
        cells = names(row)
        hits = sum(c.lower() in known for c in cells)
        if hits and 2 * hits >= len(cells):
            found.add(f"{where} row 1", f"is '{', '.join(names(rows[0]))}', not the column names",
                      "delete title rows above the header, so that row 1 names the columns "
                      f"({', '.join(cells)})")
            return True
    return False




# --- numbers as planners type them ---------------------------------------------------------------

#: A number with commas between groups of three digits: 5,000 or 1,234,567.25.
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
#: A number with a decimal comma and points between groups of three digits: 1.000,5.
_EUROPEAN = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$")
#: A plain number (what ``float`` reads, without the words ``nan`` and ``inf``).
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def percent_allowed(col) -> bool:
    """Whether a column holds a share or a rate, where ``60%`` means 0.6: a float column with no
    unit of quantity or money (targets, rates, shares, probabilities, multipliers)."""
    return col.kind == "float" and col.unit in ("", "per year", "share of price")


def lenient_number(text: str, percent: bool) -> tuple[float | None, str, str]:
    """A cell that is not a plain number read as a planner means it, or why it is refused.

    ``"5,000"`` and ``"1,234,567.5"`` (commas between groups of three digits, a point for
    decimals) are numbers; where ``percent``, ``"60%"`` is 0.6. Forms that read two ways are
    refused with the plain number suggested: ``"1.000,5"`` and ``"1,5"`` (a decimal comma, or a
    thousands separator?), ``"5,000.5,1"``. Returns ``(value, "", "")`` or ``(None, problem, fix)``
    (``problem`` empty: not a number at all, the caller's usual message applies).
    """
    t = text.strip().replace("_", "")
    shown = f"'{visible(text)}'"
    if t.endswith("%"):
        body = t[:-1].strip()
        value, problem, fix = (float(body), "", "") if _PLAIN.match(body) else lenient_number(body, False)
        if value is None:
            return None, problem, fix
        if not percent:
            return None, f"is {shown}, a percentage where a plain number is wanted", \
                f"give the number itself ({value:g}), not a share of something"
        return value / 100.0, "", ""
    if _GROUPED.match(t):
        return float(t.replace(",", "")), "", ""
    if "," in t:
        digits = t.replace(",", "").replace(".", "")
        if digits.lstrip("+-").isdigit():
            if _EUROPEAN.match(t):
                whole, _, frac = t.rpartition(",")
                return None, f"is {shown}, which reads two ways (a decimal comma?)", \
                    f"write it with a point for decimals and no thousands separator, e.g. " \
                    f"{whole.replace('.', '')}.{frac}"
            if "." in t:
                return None, f"is {shown}, which reads two ways (commas and points mixed)", \
                    "write it with a point for decimals and no thousands separator, e.g. " + \
                    t.split(".")[0].replace(",", "") + "." + t.split(".", 1)[1].split(",")[0]
            return None, f"is {shown}, which reads two ways (a decimal comma, or a thousands separator?)", \
                f"write {t.replace(',', '.')} or {t.replace(',', '')}: a point for decimals, no thousands separator"
    return None, "", ""
