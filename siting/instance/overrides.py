"""Dotted-path overrides: what-ifs without copying an instance.

A path is ``settings.FIELD`` or ``TABLE.KEY.COLUMN``, where KEY is the row's key with ``/``
between parts, e.g. ``sites.kumamoto.fixed_cost`` or ``offers.sumco-imari/wafer.price_per_unit``.
Overrides change the text of a cell, so the new value passes through the same checks as the files.
"""

from __future__ import annotations

import pandas as pd

from siting.errors import InputError, Problem
from siting.instance.read import RawInstance, suggest
from siting.instance.schema import MONEY, PER_UNIT, TABLES, key_parts
from siting.instance.settings import Settings


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
    parts = path.split(".")
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


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``PATH=VALUE``; raise an :class:`InputError` if there is no ``=``."""
    if "=" not in text:
        raise InputError(Problem(f"--set {text}", "has no '='", "write PATH=VALUE, e.g. settings.discount_rate=0.06"))
    path, value = text.split("=", 1)
    if not path.strip():
        raise InputError(Problem(f"--set {text}", "has no parameter path before '='",
                                 "write PATH=VALUE, e.g. settings.discount_rate=0.06"))
    return path.strip(), value.strip()


def apply_overrides(raw: RawInstance, assignments: list[str]) -> RawInstance:
    """Return a copy of ``raw`` with every ``PATH=VALUE`` in ``assignments`` applied.

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
        path, value = parse_assignment(text)
        parts = path.split(".")
        if parts[0] == "settings" and len(parts) == 2 and parts[1] in Settings.model_fields:
            settings[parts[1]] = value
            where[("settings", parts[1])] = f"--set {text}"
            continue
        ok = False
        if len(parts) == 3 and parts[0] in TABLES and parts[0] in tables:
            tname, key, column = parts
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
                        where[(tname, labels[n], column)] = f"--set {text}"
                    ok = True
        if not ok:
            valid = valid or addressable_paths(raw)
            problems.append(Problem(f"--set {path}", "no such parameter",
                                    suggest(path, valid, "list them with `siting params INSTANCE`")))
    if problems:
        raise InputError(problems)
    return raw.with_changes(settings=settings, tables=tables, overrides=raw.overrides + tuple(assignments),
                            overridden=where)


def key_column(table, df: pd.DataFrame) -> list[str]:
    """Each row's key as it appears in a ``--set`` path (``kumamoto/logic-28nm``), in row order."""
    parts = [df[k].tolist() if k in df.columns else [""] * len(df) for k in table.key]
    optional = [k in key_parts(table) for k in table.key]
    # an empty period is left out: an instance without periods keeps the paths it had
    return ["/".join(str(v) for v, o in zip(key, optional) if not (o and (v == "" or v != v)))
            for key in zip(*parts)]
