"""An instance written as one Excel workbook, the form :func:`siting.instance.read.read_instance` reads.

The workbook holds a ``settings`` sheet (``key, value`` rows: ``name``, ``description`` and the
settings), a ``sources`` sheet (one row per source) and one sheet per table, with the table's
columns in row 1. Each header cell carries a comment with the column's meaning and unit (from the
schema, like the comments of ``instance.yaml``). Cells that read as numbers are written as numbers
(so Excel shows and sums them as such), the others as text; reading the workbook back gives the
same text cells, and so the same instance.
"""

from __future__ import annotations

import io
from pathlib import Path

from siting.instance.read import RawInstance
from siting.instance.schema import TABLES


def _value(text: str):
    """A cell's text as Excel should hold it: a number where it reads as one and says the same when
    read back (``60000``, ``0.08``, not ``007`` or ``1e3``), otherwise the text itself."""
    try:
        number = float(text)
    except ValueError:
        return text
    if number != number or number in (float("inf"), float("-inf")):
        return text
    if number.is_integer() and abs(number) < 2**53 and str(int(number)) == text:
        return int(number)
    # openpyxl stores a float with 16 significant digits: a number that needs 17 stays text
    return number if repr(number) == text and float(f"{number:.16g}") == number else text


def _doc(tname: str, column: str) -> str | None:
    table = TABLES.get(tname)
    if table is None or column not in table.names:
        return None
    col = table.column(column)
    bits = [col.kind, *(["required"] if col.required else []), *([col.unit] if col.unit else [])]
    return f"{column} ({', '.join(bits)}): {col.doc}".rstrip(": ")


def instance_workbook(raw: RawInstance) -> bytes:
    """The bytes of a workbook holding ``raw``: its settings, sources and every table it has.

    Parameters
    ----------
    raw
        An instance as read (text cells), e.g. ``read_instance(folder)``.
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    book = Workbook()
    bold = Font(bold=True)
    ws = book.active
    ws.title = "settings"
    ws.append(["key", "value"])
    ws.append(["name", raw.name])
    if raw.spec.get("description"):
        ws.append(["description", str(raw.spec["description"]).strip()])
    for key, value in raw.settings.items():
        ws.append([key, _value(str(value)) if not isinstance(value, bool) else str(value).lower()])
    for tname, code in (raw.spec.get("currencies") or {}).items():
        ws.append([f"currencies.{tname}", code])
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width = 26, 60
    sources = raw.spec.get("sources") or []
    if sources:
        ws = book.create_sheet("sources")
        keys = list(dict.fromkeys(k for s in sources for k in s))
        ws.append(keys)
        for s in sources:
            ws.append([str(s.get(k, "")) for k in keys])
    for tname in TABLES:
        df = raw.tables.get(tname)
        if df is None:
            continue
        ws = book.create_sheet(tname)
        ws.append(list(df.columns))
        for n, column in enumerate(df.columns, start=1):
            doc = _doc(tname, column)
            if doc:
                ws.cell(1, n).comment = Comment(doc, "siting", width=320, height=120)
        for row in df.itertuples(index=False, name=None):
            ws.append([_value(v) if v != "" else None for v in row])
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_instance_workbook(raw: RawInstance, path: Path) -> Path:
    """Write :func:`instance_workbook` of ``raw`` to ``path`` and return it."""
    path.write_bytes(instance_workbook(raw))
    return path
