"""Tables as text cells: the steps the CSV and the workbook readers share."""

from __future__ import annotations

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


