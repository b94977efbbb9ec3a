"""Check a raw instance and turn it into typed tables.

Every problem is collected before anything is raised, so a planner sees the whole list at once.
Each line names the file, the row (as a spreadsheet shows it), the row's key and the column.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pydantic import ValidationError

from siting.errors import ProblemCollector, suggest, visible
from siting.instance.cache import TypingCache
from siting.instance.checked import Instance
from siting.instance.countries import country_problem, is_country
from siting.instance.geo import apply_layers
from siting.instance.periods import check_periods
from siting.instance.read import RawInstance
from siting.instance.scenarios import check_scenarios
from siting.instance.schema import MONEY, PER_UNIT, TABLES, Column, Table, key_label
from siting.instance.settings import Settings, Source

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
#: A money amount above this many currency units (a quadrillion) is a unit mistake.
IMPLAUSIBLE_CURRENCY = 1e15
#: A price, cost or penalty per unit above this (a trillion) is a unit mistake too.
IMPLAUSIBLE_PER_UNIT = 1e12
#: No number of an instance may exceed this in magnitude, in its own unit: HiGHS refuses a matrix
#: coefficient above 1e15 (its option large_matrix_value) and treats 1e20 as infinite, so a larger
#: figure could only reach the solver as "passModel failed" or as a silently dropped bound.
MAX_MAGNITUDE = 1e15
MAX_MAGNITUDE_TEXT = "1e15"
TRUE_WORDS = {"true", "yes", "1", "y"}
FALSE_WORDS = {"false", "no", "0", "n", ""}


def check_instance(raw: RawInstance, cache: TypingCache | None = None) -> Instance:
    """Validate ``raw`` completely and return the typed :class:`Instance`.

    ``cache`` reuses the typing of tables that are unchanged since an earlier check (sweeps).

    Raises
    ------
    InputError
        Listing every problem found.
    """
    found = ProblemCollector()
    found.extend(list(raw.problems))  # what reading found (``read_instance(partial=True)``) comes first
    yaml_name = "instance.yaml" if raw.origins.get("sites", "").endswith(".csv") else (
        raw.path.name if raw.path.is_file() else "instance.yaml")
    settings = _check_settings(raw.settings, yaml_name, found, raw.overridden)
    sources, assumptions = _check_spec(raw.spec, yaml_name, found)
    typed: dict[str, pd.DataFrame] = {}
    # tables not read whole or missing a required column: their ids are unknown, not absent
    broken: set[str] = set(raw.broken)
    for tname, table in TABLES.items():
        df = raw.tables.get(tname)
        origin = raw.origins.get(tname, f"{tname}.csv")
        key = (origin, settings, tuple(sorted((k, v) for k, v in raw.overridden.items() if k[0] == tname)))
        # a table the instance leaves out (df None) is typed as an empty table: cached the same way
        hit = cache.get(tname, df, key) if cache is not None else None
        near = cache.near(tname, df, key, table) if cache is not None and hit is None else None
        if hit is not None:
            typed[tname] = hit
        elif near is not None:
            before = len(found.problems)
            typed[tname], changed = near
            if changed:
                columns = _type_columns(table, [c for c in table.columns if c.name in changed], df, origin, settings,
                                        found, raw.overridden)
                for c in changed:
                    typed[tname][c] = columns[c]
            if len(found.problems) == before:
                cache.put(tname, df, key, typed[tname])
        else:
            before = len(found.problems)
            typed[tname] = _type_table(table, df, origin, settings, found, raw.overridden)
            if cache is not None and len(found.problems) == before:
                cache.put(tname, df, key, typed[tname])
        if df is not None and any(c.required and c.name not in df.columns for c in table.columns):
            broken.add(tname)
    _check_references(typed, raw.origins, found, broken, cache.changes(raw) if cache is not None else {})
    if settings is not None:
        _check_rules(typed, raw, settings, found, broken)
        check_scenarios(typed, settings, raw.origins, raw.overridden, found)
    if raw.problems:
        # a cell reported while reading (a formula without a value) is not reported again as empty
        said = {p.location for p in raw.problems}
        found.problems = [*raw.problems, *(p for p in found.problems[len(raw.problems):] if p.location not in said)]
    found.raise_if_any()
    if cache is not None:
        cache.passed(raw)
    assert settings is not None
    apply_layers(typed, raw.layers)
    return Instance(name=raw.name, root=raw.root, path=raw.path, settings=settings, tables=typed,
                    origins=dict(raw.origins), sha256=raw.sha256, overrides=raw.overrides,
                    sources=sources, assumptions=assumptions,
                    description=str(raw.spec.get("description") or ""), layers=dict(raw.layers))


#: Settings in plain currency per unit and in the money unit, held to the tables' limits for such columns.
_PER_UNIT_SETTINGS = ("unmet_penalty_per_wafer",)
_MONEY_SETTINGS = ("firm_budget",)


def _settings_numbers(values: dict, where: str, found: ProblemCollector, overridden: dict) -> dict:
    """Refuse NaN, infinities and magnitudes HiGHS cannot take in the numeric settings, with the
    words the tables use; return the settings without them (pydantic would accept an infinity and
    call a NaN "not greater than or equal to 0")."""
    from siting.instance.settings import MONEY_UNITS, numeric_fields

    money_mult = MONEY_UNITS.get(str(values.get("money_unit", "million")), 1e6)
    currency = str(values.get("currency", "USD"))
    kept = dict(values)
    for name in numeric_fields():
        value = values.get(name)
        if value is None or isinstance(value, bool):
            continue
        huge_int = False
        try:
            number = float(str(value).replace("_", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            continue  # not a number at all: pydantic says so
        except OverflowError:  # an integer too large for a float (YAML reads 1 followed by 400 zeros as one)
            number, value, huge_int = float("inf"), f"{str(value)[:12]}...", True
        loc = overridden.get(("settings", name), f"{where} settings.{name}")
        desc = Settings.model_fields[name].description or ""
        fix = desc[0].lower() + desc[1:].rstrip(".") if desc else "give a number"
        text = f"{value:g}" if isinstance(value, float) else str(value)  # YAML's 1.0e+13 as 1e+13, not 10000000000000.0
        if not np.isfinite(number) and not huge_int:
            found.add(loc, f"is {text}, not a finite number", f"give a number: {fix}")
        elif abs(number) > MAX_MAGNITUDE:
            found.add(loc, f"is {text}, beyond {MAX_MAGNITUDE_TEXT} in magnitude",
                      "no number HiGHS works with may be that large: check the setting's unit")
        elif name in _PER_UNIT_SETTINGS and abs(number) > IMPLAUSIBLE_PER_UNIT:
            found.add(loc, f"is {text} {currency} per unit",
                      "this cannot be right: per-unit amounts are in plain currency, check the setting's unit")
        elif name in _MONEY_SETTINGS and abs(number) * money_mult > IMPLAUSIBLE_CURRENCY:
            found.add(loc, f"is {text}, {number * money_mult:.3g} in currency units",
                      "this cannot be right: check settings.money_unit or the setting's unit")
        else:
            continue
        kept.pop(name)
    return kept


def _check_settings(values: dict, where: str, found: ProblemCollector, overridden: dict) -> Settings | None:
    # an empty value (e.g. `--set settings.firm_budget=`) means "not set": the default applies
    values = {k: v for k, v in values.items() if not (isinstance(v, str) and v.strip() == "")}
    values = _settings_numbers(values, where, found, overridden)
    country = values.get("policy_country", "")
    if isinstance(country, str) and country and country_problem(country):
        problem, fix = country_problem(country)
        found.add(overridden.get(("settings", "policy_country"), f"{where} settings.policy_country"), problem, fix)
    try:
        # a value refused above falls back to its default here, so that the rules that read the
        # settings still run and report their own problems (the problems found stop the run anyway)
        return Settings(**values)
    except ValidationError as exc:
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            loc = overridden.get(("settings", field), f"{where} settings.{field}")
            if err["type"] == "extra_forbidden":
                found.add(loc, "unknown setting",
                          suggest(field, Settings.model_fields, "settings are: " + ", ".join(Settings.model_fields)))
            else:
                got = err.get("input")
                desc = Settings.model_fields[field].description if field in Settings.model_fields else ""
                found.add(loc, f"{err['msg'].lower()} (got {got!r})",
                          f"{desc[0].lower() + desc[1:] if desc else 'fix the value'}")
        return None


def _check_spec(spec: dict, where: str, found: ProblemCollector) -> tuple[tuple[Source, ...], tuple[str, ...]]:
    sources = []
    for n, item in enumerate(spec.get("sources") or [], start=1):
        if not isinstance(item, dict):
            found.add(f"{where} sources item {n}", "is not a mapping", "write 'id:', 'title:' and 'url:' keys")
            continue
        try:
            sources.append(Source(**{k: str(v) for k, v in item.items()}))
        except ValidationError as exc:
            err = exc.errors()[0]
            found.add(f"{where} sources item {n}", f"{'.'.join(map(str, err['loc']))}: {err['msg'].lower()}",
                      "give each source an id, and optionally title, url, date and note")
    assumptions = spec.get("assumptions") or []
    if not isinstance(assumptions, list):
        found.add(f"{where} assumptions", "is not a list", "write one '- ...' line per assumption")
        assumptions = []
    return tuple(sources), tuple(str(a) for a in assumptions)


def _loc(origin: str, row: int, table: Table, values: dict, column: str | None = None) -> str:
    text = f"{origin} row {row} {key_label(table, values)}"
    return f"{text} column {column}" if column else text


def _type_table(table: Table, df: pd.DataFrame | None, origin: str, settings: Settings | None,
                found: ProblemCollector, overridden: dict | None = None) -> pd.DataFrame:
    """Type every column of ``df``; vectorised, looping only over the cells that are wrong."""
    columns = table.names
    if df is None:
        return _empty(table)
    for c in [c for c in df.columns if c not in columns]:
        found.add(f"{origin} column {visible(c)}", "unknown column",
                  suggest(c, columns, f"{table.name} columns are: " + ", ".join(columns)))
    missing = [c.name for c in table.columns if c.required and c.name not in df.columns]
    for c in missing:
        col = table.column(c)
        found.add(f"{origin}", f"column '{c}' is missing",
                  f"add it ({col.doc.rstrip('.') if col.doc else col.unit or col.kind})")
    if missing:
        return _empty(table)
    if df.empty and table.required:
        found.add(origin, "has no rows", f"add at least one row ({table.doc.rstrip('.')})")
    out = pd.DataFrame(_type_columns(table, table.columns, df, origin, settings, found, overridden), index=df.index)
    keys = df.reindex(columns=list(table.key), fill_value="")
    # an optional key part (a period) may be empty; the required parts must all be given
    required = [c for c in table.key if table.column(c).required]
    dup = keys.duplicated(keep=False) & (keys[required] != "").all(axis=1)
    if dup.any():
        first: dict[tuple, int] = {}
        for row_no, key in keys[dup].iterrows():
            k = tuple(key)
            if k in first:
                found.add(_loc(origin, row_no, table, key.to_dict()), f"repeats the key of row {first[k]}",
                          "merge the two rows or give them different ids")
            first.setdefault(k, row_no)
    return out


def _type_columns(table: Table, cols, df: pd.DataFrame, origin: str, settings: Settings | None,
                  found: ProblemCollector, overridden: dict | None) -> dict[str, pd.Series]:
    """Type the columns ``cols`` of ``df``, reporting every wrong cell; column name -> typed column.

    Typing just the columns that an override changed, of a table whose other columns and keys
    were typed without a problem before (:meth:`TypingCache.near`), gives the same columns as
    typing all of it.

    Numbers are checked on numpy arrays: the tables have a few dozen rows, where each pandas
    operation costs more than the arithmetic.
    """
    money_mult = settings.money_multiplier if settings else 1.0
    out = {}

    def report(mask, col: Column, problem_of, fix_of) -> None:
        for pos in np.flatnonzero(np.asarray(mask, dtype=bool)):
            row_no = df.index[pos]
            text = strings[pos]
            loc = (overridden or {}).get((table.name, row_no, col.name)) or _loc(
                origin, row_no, table, {k: df.at[row_no, k] if k in df.columns else "" for k in table.key},
                col.name)
            found.add(loc, problem_of(text), fix_of(text))

    for col in cols:
        text = df[col.name] if col.name in df.columns else pd.Series("", index=df.index, dtype=object)
        strings = text.to_numpy(dtype=object)
        empty = strings == ""
        what = col.doc.rstrip(".") if col.doc else col.kind
        if col.required:
            report(empty, col, lambda t: "is empty", lambda t, w=what: f"give a value ({w})")
        if col.kind in ("id", "str"):
            values = text.where(~empty, col.default if col.default is not None else None)
            if col.kind == "id":
                bad = ~empty & ~text.str.match(ID_PATTERN.pattern)
                if col.wildcard:
                    bad &= text != "*"
                report(bad, col, lambda t: f"is '{visible(t, True)}', not a valid id",
                       lambda t: "use letters, digits, '-' and '_' only (no spaces, dots or slashes)")
            if col.choices:
                bad = ~empty & ~text.isin(col.choices)
                report(bad, col, lambda t: f"is '{visible(t)}'",
                       lambda t, c=col: suggest(t, c.choices, "use one of: " + ", ".join(c.choices)))
                values = values.where(~bad, None)
        elif col.kind == "country":
            # a wrong code stays in the table (its problem is reported here): the rules that compare
            # countries skip it, so that one wrong cell gives one line
            values = text.where(~empty, col.default if col.default is not None else None)
            bad = ~empty & ~text.map(is_country).astype(bool)
            report(bad, col, lambda t: country_problem(t)[0], lambda t: country_problem(t)[1])
        elif col.kind == "list":
            values = text.map(lambda t: tuple(s.strip() for s in t.split(";") if s.strip()))
        elif col.kind == "bool":
            low = text.str.lower()
            bad = ~low.isin(TRUE_WORDS | FALSE_WORDS)
            report(bad, col, lambda t: f"is '{visible(t)}', not true or false", lambda t: "write true or false")
            values = low.isin(TRUE_WORDS).where(~empty, bool(col.default))
        else:
            numbers, ok = _numbers(strings)
            report(~empty & ~ok, col, _number_problem, lambda t, c=col: _number_fix(c))
            if col.kind == "int":
                frac = ok & (numbers != np.round(numbers))
                report(frac, col, lambda t: f"is {t}, not a whole number", lambda t: "give a whole number")
                ok &= ~frac
            rng = ok & _out_of_range(col, numbers)
            report(rng, col, lambda t: f"is {t}", lambda t, c=col: _range_problem(c))
            ok &= ~rng
            if col.unit == PER_UNIT:
                huge = ok & (np.abs(numbers) > IMPLAUSIBLE_PER_UNIT)
                currency = settings.currency if settings else "currency"
                report(huge, col, lambda t, c=currency: f"is {t} {c} per unit",
                       lambda t: "this cannot be right: per-unit amounts are in plain currency, "
                                 "check the column's unit")
                ok &= ~huge
            if col.unit == MONEY:
                huge = ok & (np.abs(numbers) * money_mult > IMPLAUSIBLE_CURRENCY)
                label = settings.money_label if settings else ""
                report(huge, col,
                       lambda t, label=label: f"is {t} {label}, {float(t) * money_mult:.3g} in currency units",
                       lambda t: "this cannot be right: check settings.money_unit or the column's unit")
                ok &= ~huge
            huge = ok & (np.abs(numbers) > MAX_MAGNITUDE)
            report(huge, col, lambda t: f"is {t}, beyond {MAX_MAGNITUDE_TEXT} in magnitude",
                   lambda t: "no number HiGHS works with may be that large: check the column's unit")
            ok &= ~huge
            cells = numbers.astype(object)  # Python floats, None where rejected or empty
            cells[~ok] = None
            if col.default is not None:
                cells[empty] = col.default
            values = pd.Series(cells, index=df.index, dtype=object)
            if col.kind == "int":
                values = values.map(lambda v: int(v) if v is not None else None)
        out[col.name] = values
    return out


def _numbers(strings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The cells as floats (NaN where not a number) and where they are finite numbers."""
    values = pd.to_numeric(np.array([t.replace("_", "") for t in strings], dtype=object),
                           errors="coerce").astype(float)
    return values, np.isfinite(values)


def _number_problem(text: str) -> str:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        return f"is '{visible(text)}', not a number"
    return f"is {text}, not a finite number" if not np.isfinite(value) else f"is '{visible(text)}', not a number"


def _number_fix(col: Column) -> str:
    unit = f" in {col.unit}" if col.unit else ""
    return f"give a number{unit}" + (", or leave it empty" if not col.required else "")


def _out_of_range(col: Column, values: np.ndarray) -> np.ndarray:
    bad = np.zeros(len(values), dtype=bool)
    if col.lo is not None:
        bad |= (values <= col.lo) if col.lo_open else (values < col.lo)
    if col.hi is not None:
        bad |= values > col.hi
    return bad


def _range_problem(col: Column) -> str:
    if col.lo is not None and col.hi is not None:
        return f"must be in {'(' if col.lo_open else '['}{col.lo:g}, {col.hi:g}]"
    if col.lo is not None:
        return f"must be {'>' if col.lo_open else '>='} {col.lo:g}"
    return f"must be <= {col.hi:g}"


def _empty(table: Table) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in table.names})


def _check_references(typed: dict[str, pd.DataFrame], origins: dict[str, str], found: ProblemCollector,
                      broken: set[str], changes: dict[str, frozenset[str] | None] | None = None) -> None:
    """Ids unique across tables and every reference to a known id.

    ``changes`` (see :meth:`TypingCache.changes`): a reference column is not checked again where
    neither it nor the id columns it refers to changed since the last check that found no
    problem, as the same values against the same ids were all known then.
    """
    changes = changes or {}

    def settled(tname: str, column: str) -> bool:
        changed = changes.get(tname)
        return changed is not None and column not in changed

    ids: dict[str, set] = {}

    def ids_of(tname: str) -> set:
        if tname not in ids:
            ids[tname] = set(typed[tname]["id"].tolist())
        return ids[tname]

    for group in (("sites", "markets", "suppliers"), ("products", "inputs")):
        if all(settled(t, "id") for t in group):
            continue
        owner: dict[str, str] = {}
        for t in group:
            for i in sorted(ids_of(t)):
                if i in owner and i:
                    found.add(f"{origins.get(t, t + '.csv')} id {i}", f"is also an id in {owner[i]}",
                              "give every site, market and supplier (and every product and input) its own id")
                owner.setdefault(i, t)
    for tname, table in TABLES.items():
        df = typed[tname]
        origin = origins.get(tname, f"{tname}.csv")
        for col in table.columns:
            if col.ref is None or col.name not in df.columns:
                continue
            targets = (col.ref,) if isinstance(col.ref, str) else col.ref
            if tname in broken or any(t in broken for t in targets):
                continue
            if settled(tname, col.name) and all(settled(t, "id") for t in targets):
                continue
            valid = set().union(*(ids_of(t) for t in targets))
            # id columns hold text, or NaN/None where empty (reported by the typing)
            bad = [n for n, value in enumerate(df[col.name].tolist())
                   if isinstance(value, str) and value and value not in valid and not (col.wildcard and value == "*")]
            for n in bad:
                row_no = df.index[n]
                value = df.at[row_no, col.name]
                names = " or ".join(targets)
                found.add(_loc(origin, row_no, table, df.loc[row_no].to_dict(), col.name),
                          f"'{visible(str(value), True)}' is not a known {names} id",
                          suggest(str(value), valid, f"add it to {names} or fix the spelling"))


def _rows(table: Table, df: pd.DataFrame, *columns: str) -> list[tuple[int, dict]]:
    """(row number, {column: value}) for the key and ``columns`` of each row, as plain Python
    values: on tables of a few dozen rows, a pandas row costs more than the rules checked on it."""
    if df.empty:
        return []
    names = list(dict.fromkeys((*table.key, *columns)))
    values = zip(*(df[c].tolist() for c in names))
    return [(row_no, dict(zip(names, row))) for row_no, row in zip(df.index.tolist(), values)]


def _isin(value, options: tuple) -> bool:
    """``value in options`` as pandas' ``isin`` sees it: a NaN matches a NaN."""
    return value in options or (isinstance(value, float) and value != value
                                and any(isinstance(o, float) and o != o for o in options))


def _check_rules(typed: dict[str, pd.DataFrame], raw: RawInstance, settings: Settings,
                 found: ProblemCollector, broken: frozenset[str] | set[str] = frozenset()) -> None:
    """Rules across tables. A rule that reads a table in ``broken`` (one not read whole, or
    missing a required column, already reported) is skipped: its rows are unknown, and the rule
    would report their absence as problems of their own (every input "not offered")."""
    origins = raw.origins

    def whole(*tables: str) -> bool:
        return not any(t in broken for t in tables)

    def o(t: str) -> str:
        return origins.get(t, f"{t}.csv")

    def blank(table: str, row_no, column: str) -> bool:
        """True where the planner left the cell empty (a rejected value was already reported)."""
        df = raw.tables.get(table)
        return df is None or column not in df.columns or df.at[row_no, column] == ""

    _check_instruments(typed, settings, o("instruments"), blank, found)
    check_periods(typed, o, settings, found)
    if settings.local_rule == "radius" and settings.local_radius_km is None:
        found.add("instance.yaml settings.local_radius_km", "is empty but local_rule is radius",
                  "give the radius in km, e.g. 100")
    table = TABLES["local_targets"]
    for row_no, r in _rows(table, typed["local_targets"], "rule", "radius_km"):
        if (r["rule"] == "radius" and pd.isna(r["radius_km"]) and settings.local_radius_km is None
                and blank("local_targets", row_no, "radius_km")):
            found.add(_loc(o("local_targets"), row_no, table, r, "radius_km"),
                      "is empty for rule radius", "give the radius in km or set settings.local_radius_km")
    # columns that hold a country only for some rows: checked like the country columns
    for tname, kind_col, value_col in (("concentration", "group_type", "group"), ("scenario_effects", "by", "match")):
        table = TABLES[tname]
        for row_no, r in _rows(table, typed[tname], kind_col, value_col):
            value = r[value_col]
            if r[kind_col] == "country" and isinstance(value, str) and value not in ("", "*") \
                    and country_problem(value):
                found.add(_loc(o(tname), row_no, table, r, value_col), *country_problem(value))
    table = TABLES["exclusions"]
    for row_no, r in _rows(table, typed["exclusions"], "supplier_country", "supplier_flag"):
        if not r["supplier_country"] and not r["supplier_flag"]:
            found.add(_loc(o("exclusions"), row_no, table, r),
                      "names neither supplier_country nor supplier_flag", "give one of them")
    products = set(typed["products"]["id"].tolist())
    table = TABLES["tariffs"]
    for row_no, r in _rows(table, typed["tariffs"], "ad_valorem", "item"):
        if r["ad_valorem"] and r["item"] in products:
            found.add(_loc(o("tariffs"), row_no, table, r, "ad_valorem"),
                      f"is set for product '{r['item']}', which has no price in the model",
                      "use duty_per_unit for wafers; ad_valorem applies to inputs")
    # demand that no site can serve and no penalty absorbs
    modules = typed["modules"]
    makeable = {p for p, m in zip(modules["product"].tolist(), modules["max_modules"].tolist())
                if not pd.isna(m) and m > 0}
    table = TABLES["demand"]
    for row_no, r in _rows(table, typed["demand"] if whole("modules") else typed["demand"].iloc[:0],
                           "product", "wafers_per_year", "penalty_per_wafer"):
        penalised = not pd.isna(r["penalty_per_wafer"]) or settings.unmet_penalty_per_wafer is not None
        if r["wafers_per_year"] and r["product"] not in makeable and not penalised:
            found.add(_loc(o("demand"), row_no, table, r),
                      f"no site can make {r['product']} and unmet demand has no penalty",
                      "add modules for it in modules.csv or set penalty_per_wafer")
    # diversification rules that no plan can meet wherever the input is needed
    offers = typed["offers"]
    sellers: dict[str, set] = {}
    for i, s in zip(offers["input"].tolist(), offers["supplier"].tolist()):
        if not pd.isna(i):
            group = sellers.setdefault(i, set())
            if not pd.isna(s):
                group.add(s)
    n_offers = {i: len(group) for i, group in sellers.items()}
    needed = set(typed["bom"]["input"].tolist())
    columns = ("min_suppliers", "critical", "max_supplier_share")
    for row_no, r in _rows(TABLES["inputs"], typed["inputs"], *columns):
        if r["id"] not in needed or not whole("offers", "bom"):
            continue
        have = n_offers.get(r["id"], 0)
        k = r["min_suppliers"] if not pd.isna(r["min_suppliers"]) else settings.min_suppliers
        if r["critical"] and k is not None and have and k > have:
            src = "column min_suppliers" if not pd.isna(r["min_suppliers"]) else "(settings.min_suppliers)"
            found.add(f"{o('inputs')} row {row_no} (id={r['id']}) {src}",
                      f"{k} qualified suppliers are required but only {have} offer {r['id']}",
                      "lower min_suppliers or add offers")
        sigma = r["max_supplier_share"] if not pd.isna(r["max_supplier_share"]) else settings.max_supplier_share
        if sigma is not None and have and sigma * have < 1 - 1e-9:
            src = ("column max_supplier_share" if not pd.isna(r["max_supplier_share"])
                   else "(settings.max_supplier_share)")
            found.add(f"{o('inputs')} row {row_no} (id={r['id']}) {src}",
                      f"no supplier may exceed {sigma:.0%} but only {have} offer {r['id']}, so their shares "
                      "cannot add up to 100%", f"allow at least {1 / have:.0%} or add offers")
    # a mode with no rate would silently fall back to the item's own rate
    rates = list(zip(typed["freight_rates"]["mode"].tolist(), typed["freight_rates"]["item"].tolist()))
    for tname in ("products", "inputs"):
        table = TABLES[tname]
        for row_no, r in _rows(table, typed[tname], "mode"):
            if r["mode"] and whole("freight_rates") and not any(m == r["mode"] and _isin(i, (r["id"], "*"))
                                                                for m, i in rates):
                found.add(_loc(o(tname), row_no, table, r, "mode"),
                          f"'{r['mode']}' has no rate for {r['id']} in freight_rates",
                          f"add a freight_rates row (mode={r['mode']}, item={r['id']} or *) or clear the mode")
    offered = set(offers["input"].tolist())
    table = TABLES["bom"]
    for row_no, r in _rows(table, typed["bom"] if whole("offers") else typed["bom"].iloc[:0]):
        if r["input"] not in offered and not pd.isna(r["input"]):
            found.add(_loc(o("bom"), row_no, table, r, "input"),
                      f"no supplier offers {r['input']}", "add an offer for it in offers.csv")


#: Columns an instrument of each kind must give, with the hint for an empty one.
_NEEDS = {
    "capex_grant": (("rate", "give the share of capex granted, e.g. 0.4"),),
    "tax_credit": (("rate", "give the credit as a share of capex, e.g. 0.25"),),
    "lump_sum": (("amount", "give the amount in {money}"),),
    "production_subsidy": (("per_wafer", "give the subsidy per wafer in {currency}"),),
    "concessional_loan": (("loan_share", "give the share of capex lent, e.g. 0.5"),
                          ("loan_rate", "give the loan's interest rate, e.g. 0.01")),
}


def _check_instruments(typed: dict[str, pd.DataFrame], settings: Settings, origin: str, blank,
                       found: ProblemCollector) -> None:
    """Kind-specific columns, one scope per instrument, loans cheaper than the firm's own capital."""
    table = TABLES["instruments"]
    sites = {c: typed["sites"][c].tolist() for c in ("id", "country", "region", "discount_rate")}
    discount_rates = dict(zip(reversed(sites["id"]), reversed(sites["discount_rate"])))  # the first row of an id
    columns = ("kind", "site", "country", "region", "product", "loan_rate", *(c for need in _NEEDS.values()
                                                                               for c, _ in need))
    for row_no, r in _rows(table, typed["instruments"], *columns):
        kind = r["kind"]
        for column, hint in _NEEDS.get(kind, ()):
            if pd.isna(r[column]) and blank("instruments", row_no, column):
                found.add(_loc(origin, row_no, table, r, column), f"is empty for a {kind}",
                          hint.format(money=settings.money_label, currency=settings.currency))
        scopes = [c for c in ("site", "country", "region") if isinstance(r[c], str) and r[c]]
        if len(scopes) != 1 and not (pd.isna(r["site"]) and not blank("instruments", row_no, "site")):
            problem = "names no site, country or region" if not scopes else f"names both {' and '.join(scopes)}"
            found.add(_loc(origin, row_no, table, r), problem,
                      "give exactly one of site, country or region")
        elif scopes and scopes[0] != "site" and r[scopes[0]] not in sites[scopes[0]] and not (
                scopes[0] == "country" and country_problem(r["country"])):  # a wrong code: reported already
            found.add(_loc(origin, row_no, table, r, scopes[0]),
                      f"no candidate site is in {scopes[0]} '{r[scopes[0]]}'",
                      suggest(str(r[scopes[0]]), set(sites[scopes[0]]), f"use a {scopes[0]} of sites.csv"))
        if kind != "production_subsidy" and isinstance(r["product"], str) and r["product"]:
            found.add(_loc(origin, row_no, table, r, "product"), f"is set for a {kind}",
                      "product applies to production_subsidy only; leave it empty")
        if kind == "concessional_loan" and not pd.isna(r["loan_rate"]) and scopes:
            at = [r["site"]] if scopes[0] == "site" else [
                s for s, v in zip(sites["id"], sites[scopes[0]]) if v == r[scopes[0]]]
            for s in at:
                if s not in discount_rates:
                    continue
                rate = discount_rates[s]
                rate = settings.discount_rate if pd.isna(rate) else rate
                if r["loan_rate"] >= rate:
                    found.add(_loc(origin, row_no, table, r, "loan_rate"),
                              f"is {r['loan_rate']:.4g}, no cheaper than {s}'s discount rate {rate:.4g}",
                              "a concessional loan's rate must be below the firm's discount rate")
                    break
