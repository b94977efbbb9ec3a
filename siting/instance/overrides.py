"""Dotted-path overrides: what-ifs without copying an instance.

A path is ``settings.FIELD`` or ``TABLE.KEY.COLUMN``, where KEY is the row's key with ``/``
between parts, e.g. ``sites.kumamoto.fixed_cost`` or ``offers.sumco-imari/wafer.price_per_unit``.
A key part holding ``.``, ``/``, ``=``, ``"`` or ``\\`` (a transport mode ``sea.fast``, a hazard
zone ``a=b``) is written in double quotes, with ``\\"`` and ``\\\\`` inside:
``concentration.hazard_zone/"nankai.trough".max_share``. :func:`addressable_paths` (and so
``siting params`` and every suggestion) gives each path in this form.
Overrides change the text of a cell, so the new value passes through the same checks as the files.
"""

from __future__ import annotations

import pandas as pd

from siting.errors import InputError, Problem, suggest, visible
from siting.instance.read import RawInstance
from siting.instance.schema import MONEY, PER_UNIT, TABLES, key_parts
from siting.instance.settings import Settings

_SPECIAL = set('./="\\')


def quote_part(part: str) -> str:
    """One key part as a path writes it: as it is, or in double quotes where it must be."""
    if not any(c in _SPECIAL for c in part) and part == part.strip():
        return part
    return '"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"'


def split_path(path: str) -> list[list[str]]:
    """The segments of a path (split at ``.`` outside quotes), each a list of key parts (split
    at ``/`` outside quotes), quotes removed.

    Raises
    ------
    ValueError
        For a quote that is never closed.
    """
    segments: list[list[str]] = [[""]]
    quoted = escaped = False
    for c in path:
        if escaped:
            segments[-1][-1] += c
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif quoted:
            segments[-1][-1] += c
        elif c == ".":
            segments.append([""])
        elif c == "/":
            segments[-1].append("")
        else:
            segments[-1][-1] += c
    if quoted or escaped:
        raise ValueError("a quote (\") is never closed")
    return segments


def canonical_path(path: str) -> str:
    """``path`` as :func:`addressable_paths` writes it (quotes only where needed)."""
    try:
        segments = split_path(path)
    except ValueError:
        return path
    return ".".join("/".join(quote_part(p) for p in seg) for seg in segments)


def addressable_paths(raw: RawInstance) -> dict[str, str]:
    """Every path ``--set`` accepts, with its current value as text."""
    paths = {f"settings.{f}": str(raw.settings.get(f, Settings.model_fields[f].default))
             for f in Settings.model_fields}
    for tname, df in raw.tables.items():
        table = TABLES[tname]
        for row_no, key in zip(df.index, key_column(table, df)):
            for col in table.columns:
                if col.name in table.key or col.name == "source":
                    continue
                paths[f"{tname}.{key}.{col.name}"] = str(df.at[row_no, col.name]) if col.name in df.columns else ""
    return paths


def parameter_unit(path: str, settings: dict) -> str:
    """The unit of a parameter path, in the instance's own currency where it is money."""
    try:
        parts = ["/".join(seg) for seg in split_path(path)]
    except ValueError:
        return ""
    if parts[0] == "settings" or len(parts) != 3 or parts[0] not in TABLES:
        return ""
    col = TABLES[parts[0]].column(parts[2])
    currency = settings.get("currency", "USD")
    if col.unit == MONEY:
        size = settings.get("money_unit", "million")
        return currency if size == "one" else f"{currency} {size}"
    if col.unit == PER_UNIT:
        return f"{currency} per unit"
    return col.unit.replace("currency", currency)


def split_assignment(text: str) -> tuple[str, str] | None:
    """``PATH=VALUE`` split at the first ``=`` outside quotes; None without one."""
    quoted = escaped = False
    for n, c in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and c == "\\":
            escaped = True
        elif c == '"':
            quoted = not quoted
        elif c == "=" and not quoted:
            return text[:n].strip(), text[n + 1:].strip()
    return None


def parse_assignment(text: str, flag: str = "--set") -> tuple[str, str]:
    """Split ``PATH=VALUE`` into the path (in its canonical form) and the value.

    Raises
    ------
    InputError
        If there is no ``=`` outside quotes, no path, or a quote that is never closed.
    """
    example = "write PATH=VALUE, e.g. settings.discount_rate=0.06"
    split = split_assignment(text)
    if split is None:
        raise InputError(Problem(f"{flag} {visible(text)}", "has no '='", example + (
            " (an '=' inside quotes belongs to the path)" if '"' in text else "")))
    path, value = split
    if not path:
        raise InputError(Problem(f"{flag} {visible(text)}", "has no parameter path before '='", example))
    try:
        split_path(path)
    except ValueError as exc:
        raise InputError(Problem(f"{flag} {visible(path)}", str(exc),
                                 'close it: write a key part holding . / = as "a.b"')) from None
    return canonical_path(path), value


def apply_overrides(raw: RawInstance, assignments: list[str], source: str = "--set") -> RawInstance:
    """Return a copy of ``raw`` with every ``PATH=VALUE`` in ``assignments`` applied.

    Parameters
    ----------
    raw
        The instance.
    assignments
        ``PATH=VALUE`` texts.
    source
        Where the assignments come from, for messages: ``--set`` on the command line, or a
        designs file's package (``designs.yaml packages.p set:``), so that a problem with a value
        names what the planner wrote.

    Raises
    ------
    InputError
        For every path that does not exist, with the nearest valid paths suggested.
    """
    if not assignments:
        return raw
    settings = dict(raw.settings)
    tables = dict(raw.tables)
    where = dict(raw.overridden)
    keys: dict[str, list[str]] = {}
    problems: list[Problem] = []
    valid = None
    for text in assignments:
        path, value = parse_assignment(text, source)
        parts = split_path(path)
        said = f"{source} {visible(path)}={visible(value)}"
        head = parts[0] if len(parts[0]) == 1 else None
        if head == ["settings"] and len(parts) == 2 and "/".join(parts[1]) in Settings.model_fields:
            settings["/".join(parts[1])] = value
            where[("settings", "/".join(parts[1]))] = said
            continue
        ok = False
        if len(parts) == 3 and head is not None and head[0] in TABLES and head[0] in tables and len(parts[2]) == 1:
            tname, column = head[0], parts[2][0]
            key = "/".join(quote_part(p) for p in parts[1])
            table = TABLES[tname]
            if column in table.names and column not in table.key:
                if tname not in keys:
                    keys[tname] = key_column(table, tables[tname])
                rows = [n for n, k in enumerate(keys[tname]) if k == key]
                if rows:
                    # copy-on-write: the copy shares every column but the one replaced
                    df = tables[tname].copy(deep=False)
                    if column not in df.columns:
                        df[column] = ""
                    cells = df[column].tolist()
                    for n in rows:
                        cells[n] = value
                    df[column] = pd.Series(cells, index=df.index, dtype=df[column].dtype)
                    tables[tname] = df
                    labels = df.index.tolist()
                    for n in rows:
                        where[(tname, labels[n], column)] = said
                    ok = True
        if not ok and not (head is not None and head[0] in raw.broken):
            # a table that could not be read whole is already reported; its rows are unknown
            valid = valid or addressable_paths(raw)
            problems.append(Problem(f"{source} {visible(path)}", "no such parameter",
                                    suggest(path, valid, "list them with `siting params INSTANCE`")))
    if problems:
        raise InputError(problems)
    return raw.with_changes(settings=settings, tables=tables, overrides=raw.overrides + tuple(assignments),
                            overridden=where)


def key_column(table, df: pd.DataFrame) -> list[str]:
    """Each row's key as it appears in a ``--set`` path (``kumamoto/logic-28nm``, a part in
    quotes where it holds ``.``, ``/``, ``=``), in row order."""
    parts = [df[k].tolist() if k in df.columns else [""] * len(df) for k in table.key]
    optional = [k in key_parts(table) for k in table.key]
    # an empty period is left out: an instance without periods keeps the paths it had
    return ["/".join(quote_part(str(v)) for v, o in zip(key, optional) if not (o and (v == "" or v != v)))
            for key in zip(*parts)]
