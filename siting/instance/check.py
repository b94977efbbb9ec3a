"""Check a raw instance and turn it into typed tables.

Every problem is collected before anything is raised, so a planner sees the whole list at once.
Each line names the file, the row (as a spreadsheet shows it), the row's key and the column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

from siting.errors import ProblemCollector
from siting.instance.geo import apply_layers
from siting.instance.read import RawInstance, suggest
from siting.instance.scenarios import check_scenarios
from siting.instance.schema import MONEY, PER_UNIT, TABLES, Column, Table, key_label
from siting.instance.settings import Settings, Source

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$")
#: A money amount above this many currency units (a quadrillion) is a unit mistake.
IMPLAUSIBLE_CURRENCY = 1e15
#: A price, cost or penalty per unit above this (a trillion) is a unit mistake too.
IMPLAUSIBLE_PER_UNIT = 1e12
TRUE_WORDS = {"true", "yes", "1", "y"}
FALSE_WORDS = {"false", "no", "0", "n", ""}


@dataclass(frozen=True)
class Instance:
    """A checked instance: validated settings and typed tables.

    Attributes
    ----------
    name, root, path, sha256, overrides
        As in :class:`~siting.instance.read.RawInstance`.
    settings
        Validated settings.
    tables
        Table name -> typed DataFrame with every schema column (defaults filled), indexed by
        spreadsheet row number. Optional tables that are absent are empty.
    origins
        Table name -> file it came from.
    sources, assumptions, description
        Provenance from ``instance.yaml``.
    layers
        Polygon layers in WGS84 (:mod:`siting.instance.geo`); their labels are already in the
        ``region`` and ``hazard_zones`` columns of the point tables.
    """

    name: str
    root: Path
    path: Path
    settings: Settings
    tables: dict[str, pd.DataFrame]
    origins: dict[str, str]
    sha256: str
    overrides: tuple[str, ...]
    sources: tuple[Source, ...]
    assumptions: tuple[str, ...]
    description: str
    layers: dict = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]


class TypingCache:
    """Typed tables of earlier checks, for checking many variants of one instance.

    A sweep checks hundreds of variants that differ from the base instance in a few cells;
    overrides copy only the tables they change, so a table that is the very same object as in an
    earlier check (with the same settings and overrides) is typed once and reused. Only tables
    that typed without a problem are kept; the cross-table checks always run.
    """

    def __init__(self) -> None:
        self._tables: dict[str, tuple] = {}
        self._passed: dict[str, object] = {}

    def unchanged(self, raw: RawInstance) -> set[str]:
        """Tables that are the very objects of the last check that found no problem: their
        references need not be checked again while the tables they refer to are unchanged too."""
        return {t for t, df in raw.tables.items() if self._passed.get(t, False) is df}

    def passed(self, raw: RawInstance) -> None:
        """Remember the tables of a check that found no problem."""
        self._passed = dict(raw.tables)

    def get(self, tname: str, df, key) -> pd.DataFrame | None:
        hit = self._tables.get(tname)
        if hit is not None and hit[0] is df and hit[1] == key:
            return hit[2].copy()
        return None

    def put(self, tname: str, df, key, typed: pd.DataFrame) -> None:
        self._tables[tname] = (df, key, typed.copy())

    def near(self, tname: str, df, key, table: Table) -> tuple[pd.DataFrame, list[str]] | None:
        """The typed table of an earlier ``df`` that differs from this one only in some non-key
        columns (an override copies the table and changes a cell), and those columns' names; None
        if there is none. Typing just those columns gives the same table as typing all of it."""
        hit = self._tables.get(tname)
        if hit is None or df is None or hit[0] is None or hit[1][:2] != key[:2]:
            return None
        old = hit[0]
        if list(old.columns) != list(df.columns) or not old.index.equals(df.index):
            return None
        changed = [c for c in df.columns if not df[c].equals(old[c])]
        if any(c in table.key for c in changed) or any(c not in table.names for c in changed):
            return None
        return hit[2].copy(), changed


def check_instance(raw: RawInstance, cache: TypingCache | None = None) -> Instance:
    """Validate ``raw`` completely and return the typed :class:`Instance`.

    ``cache`` reuses the typing of tables that are unchanged since an earlier check (sweeps).

    Raises
    ------
    InputError
        Listing every problem found.
    """
    found = ProblemCollector()
    yaml_name = "instance.yaml" if raw.origins.get("sites", "").endswith(".csv") else (
        raw.path.name if raw.path.is_file() else "instance.yaml")
    settings = _check_settings(raw.settings, yaml_name, found, raw.overridden)
    sources, assumptions = _check_spec(raw.spec, yaml_name, found)
    typed: dict[str, pd.DataFrame] = {}
    broken: set[str] = set()  # tables missing a required column: their ids are unknown, not absent
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
                columns = _type_table(table, df, origin, settings, found, raw.overridden, only=changed)
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
    unchanged = cache.unchanged(raw) if cache is not None else set()
    _check_references(typed, raw.origins, found, broken, unchanged)
    if settings is not None:
        _check_rules(typed, raw, settings, found)
        check_scenarios(typed, settings, raw.origins, raw.overridden, found)
    found.raise_if_any()
    if cache is not None:
        cache.passed(raw)
    assert settings is not None
    apply_layers(typed, raw.layers)
    return Instance(name=raw.name, root=raw.root, path=raw.path, settings=settings, tables=typed,
                    origins=dict(raw.origins), sha256=raw.sha256, overrides=raw.overrides,
                    sources=sources, assumptions=assumptions,
                    description=str(raw.spec.get("description") or ""), layers=dict(raw.layers))


def _check_settings(values: dict, where: str, found: ProblemCollector, overridden: dict) -> Settings | None:
    # an empty value (e.g. `--set settings.firm_budget=`) means "not set": the default applies
    values = {k: v for k, v in values.items() if not (isinstance(v, str) and v.strip() == "")}
    try:
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
                found: ProblemCollector, overridden: dict | None = None,
                only: list[str] | None = None) -> pd.DataFrame:
    """Type every column of ``df``; vectorised, looping only over the cells that are wrong.

    ``only``: type just these columns of a table whose other columns and keys were typed
    without a problem before (:meth:`TypingCache.near`); the result holds just those columns.
    """
    columns = table.names
    if df is None:
        return _empty(table)
    if only is not None:
        keys = df.reindex(columns=list(table.key), fill_value="")
        return _type_columns(table, [c for c in table.columns if c.name in only], df, keys, origin, settings,
                             found, overridden)
    for c in [c for c in df.columns if c not in columns]:
        found.add(f"{origin} column {c}", "unknown column",
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
    keys = df.reindex(columns=list(table.key), fill_value="")
    out = _type_columns(table, table.columns, df, keys, origin, settings, found, overridden)
    dup = keys.duplicated(keep=False) & (keys != "").all(axis=1)
    if dup.any():
        first: dict[tuple, int] = {}
        for row_no, key in keys[dup].iterrows():
            k = tuple(key)
            if k in first:
                found.add(_loc(origin, row_no, table, key.to_dict()), f"repeats the key of row {first[k]}",
                          "merge the two rows or give them different ids")
            first.setdefault(k, row_no)
    return out


def _type_columns(table: Table, cols, df: pd.DataFrame, keys: pd.DataFrame, origin: str,
                  settings: Settings | None, found: ProblemCollector, overridden: dict | None) -> pd.DataFrame:
    """Type the columns ``cols`` of ``df``, reporting every wrong cell."""
    money_mult = settings.money_multiplier if settings else 1.0
    out = pd.DataFrame(index=df.index)

    def report(mask: pd.Series, col: Column, problem_of, fix_of) -> None:
        for row_no in mask[mask].index:
            text = df.at[row_no, col.name]
            loc = (overridden or {}).get((table.name, row_no, col.name)) or _loc(
                origin, row_no, table, keys.loc[row_no].to_dict(), col.name)
            found.add(loc, problem_of(text), fix_of(text))

    for col in cols:
        text = df[col.name] if col.name in df.columns else pd.Series("", index=df.index, dtype=object)
        empty = text == ""
        what = col.doc.rstrip(".") if col.doc else col.kind
        if col.required:
            report(empty, col, lambda t: "is empty", lambda t, w=what: f"give a value ({w})")
        if col.kind in ("id", "str"):
            values = text.where(~empty, col.default if col.default is not None else None)
            if col.kind == "id":
                bad = ~empty & ~text.str.match(ID_PATTERN.pattern)
                if col.wildcard:
                    bad &= text != "*"
                report(bad, col, lambda t: f"is '{t}', not a valid id",
                       lambda t: "use letters, digits, '-' and '_' only (no spaces, dots or slashes)")
            if col.choices:
                bad = ~empty & ~text.isin(col.choices)
                report(bad, col, lambda t: f"is '{t}'",
                       lambda t, c=col: suggest(t, c.choices, "use one of: " + ", ".join(c.choices)))
                values = values.where(~bad, None)
        elif col.kind == "list":
            values = text.map(lambda t: tuple(s.strip() for s in t.split(";") if s.strip()))
        elif col.kind == "bool":
            low = text.str.lower()
            bad = ~low.isin(TRUE_WORDS | FALSE_WORDS)
            report(bad, col, lambda t: f"is '{t}', not true or false", lambda t: "write true or false")
            values = low.isin(TRUE_WORDS).where(~empty, bool(col.default))
        else:
            values, ok = _numbers(text)
            report(~empty & ~ok, col, _number_problem, lambda t, c=col: _number_fix(c))
            if col.kind == "int":
                frac = ok & (values != values.round())
                report(frac, col, lambda t: f"is {t}, not a whole number", lambda t: "give a whole number")
                ok &= ~frac
            rng = ok & _out_of_range(col, values)
            report(rng, col, lambda t: f"is {t}", lambda t, c=col: _range_problem(c))
            ok &= ~rng
            if col.unit == PER_UNIT:
                huge = ok & (values.abs() > IMPLAUSIBLE_PER_UNIT)
                currency = settings.currency if settings else "currency"
                report(huge, col, lambda t, c=currency: f"is {t} {c} per unit",
                       lambda t: "this cannot be right: per-unit amounts are in plain currency, "
                                 "check the column's unit")
                ok &= ~huge
            if col.unit == MONEY:
                huge = ok & (values.abs() * money_mult > IMPLAUSIBLE_CURRENCY)
                label = settings.money_label if settings else ""
                report(huge, col,
                       lambda t, label=label: f"is {t} {label}, {float(t) * money_mult:.3g} in currency units",
                       lambda t: "this cannot be right: check settings.money_unit or the column's unit")
                ok &= ~huge
            values = values.astype(object).where(ok, None)
            if col.default is not None:
                values = values.where(~empty, col.default)
            if col.kind == "int":
                values = values.map(lambda v: int(v) if v is not None else None)
        out[col.name] = values
    return out


def _numbers(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    values = pd.to_numeric(text.str.replace("_", "", regex=False), errors="coerce").astype(float)
    ok = values.notna() & np.isfinite(values.fillna(0.0))
    return values, ok


def _number_problem(text: str) -> str:
    try:
        value = float(text.replace("_", ""))
    except ValueError:
        return f"is '{text}', not a number"
    return f"is {text}, not a finite number" if not np.isfinite(value) else f"is '{text}', not a number"


def _number_fix(col: Column) -> str:
    unit = f" in {col.unit}" if col.unit else ""
    return f"give a number{unit}" + (", or leave it empty" if not col.required else "")


def _out_of_range(col: Column, values: pd.Series) -> pd.Series:
    bad = pd.Series(False, index=values.index)
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


def _check_references(typed: dict[str, pd.DataFrame], origins: dict[str, str],
                      found: ProblemCollector, broken: set[str], unchanged: set[str] = frozenset()) -> None:
    """Ids unique across tables and every reference to a known id; ``unchanged`` tables (see
    :meth:`TypingCache.unchanged`) are skipped where every table they refer to is unchanged too."""
    ids = {t: set(typed[t]["id"])
           for t in ("sites", "products", "markets", "inputs", "suppliers", "programs", "scenarios")}
    for group in (("sites", "markets", "suppliers"), ("products", "inputs")):
        if all(t in unchanged for t in group):
            continue
        owner: dict[str, str] = {}
        for t in group:
            for i in sorted(ids[t]):
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
            if tname in unchanged and all(t in unchanged for t in targets):
                continue
            valid = set().union(*(ids[t] for t in targets))
            values_col = df[col.name]
            bad = ~values_col.isin(valid) & values_col.notna() & (values_col != "")
            if col.wildcard:
                bad &= values_col != "*"
            for row_no, value in values_col[bad].items():
                values = df.loc[row_no].to_dict()
                names = " or ".join(targets)
                found.add(_loc(origin, row_no, table, values, col.name), f"'{value}' is not a known {names} id",
                          suggest(str(value), valid, f"add it to {names} or fix the spelling"))


def _check_rules(typed: dict[str, pd.DataFrame], raw: RawInstance, settings: Settings,
                 found: ProblemCollector) -> None:
    origins = raw.origins

    def o(t: str) -> str:
        return origins.get(t, f"{t}.csv")

    def blank(table: str, row_no, column: str) -> bool:
        """True where the planner left the cell empty (a rejected value was already reported)."""
        df = raw.tables.get(table)
        return df is None or column not in df.columns or df.at[row_no, column] == ""

    _check_instruments(typed, settings, o("instruments"), blank, found)
    if settings.local_rule == "radius" and settings.local_radius_km is None:
        found.add("instance.yaml settings.local_radius_km", "is empty but local_rule is radius",
                  "give the radius in km, e.g. 100")
    for row_no, r in typed["local_targets"].iterrows():
        if (r["rule"] == "radius" and pd.isna(r["radius_km"]) and settings.local_radius_km is None
                and blank("local_targets", row_no, "radius_km")):
            found.add(_loc(o("local_targets"), row_no, TABLES["local_targets"], r.to_dict(), "radius_km"),
                      "is empty for rule radius", "give the radius in km or set settings.local_radius_km")
    for row_no, r in typed["exclusions"].iterrows():
        if not r["supplier_country"] and not r["supplier_flag"]:
            found.add(_loc(o("exclusions"), row_no, TABLES["exclusions"], r.to_dict()),
                      "names neither supplier_country nor supplier_flag", "give one of them")
    for row_no, r in typed["tariffs"].iterrows():
        if r["ad_valorem"] and r["item"] in set(typed["products"]["id"]):
            found.add(_loc(o("tariffs"), row_no, TABLES["tariffs"], r.to_dict(), "ad_valorem"),
                      f"is set for product '{r['item']}', which has no price in the model",
                      "use duty_per_unit for wafers; ad_valorem applies to inputs")
    # demand that no site can serve and no penalty absorbs
    makeable = set(typed["modules"].loc[typed["modules"]["max_modules"].fillna(0) > 0, "product"])
    for row_no, r in typed["demand"].iterrows():
        penalised = not pd.isna(r["penalty_per_wafer"]) or settings.unmet_penalty_per_wafer is not None
        if r["wafers_per_year"] and r["product"] not in makeable and not penalised:
            found.add(_loc(o("demand"), row_no, TABLES["demand"], r.to_dict()),
                      f"no site can make {r['product']} and unmet demand has no penalty",
                      "add modules for it in modules.csv or set penalty_per_wafer")
    # diversification rules that no plan can meet wherever the input is needed
    n_offers = typed["offers"].groupby("input")["supplier"].nunique().to_dict()
    needed = set(typed["bom"]["input"])
    for row_no, r in typed["inputs"].iterrows():
        if r["id"] not in needed:
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
    rates = typed["freight_rates"]
    for tname in ("products", "inputs"):
        for row_no, r in typed[tname].iterrows():
            if r["mode"] and not ((rates["mode"] == r["mode"]) & rates["item"].isin([r["id"], "*"])).any():
                found.add(_loc(o(tname), row_no, TABLES[tname], r.to_dict(), "mode"),
                          f"'{r['mode']}' has no rate for {r['id']} in freight_rates",
                          f"add a freight_rates row (mode={r['mode']}, item={r['id']} or *) or clear the mode")
    offered = set(typed["offers"]["input"])
    for row_no, r in typed["bom"].iterrows():
        if r["input"] not in offered and not pd.isna(r["input"]):
            found.add(_loc(o("bom"), row_no, TABLES["bom"], r.to_dict(), "input"),
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
    sites = typed["sites"].set_index("id")
    for row_no, r in typed["instruments"].iterrows():
        values = r.to_dict()
        kind = r["kind"]
        for column, hint in _NEEDS.get(kind, ()):
            if pd.isna(r[column]) and blank("instruments", row_no, column):
                found.add(_loc(origin, row_no, table, values, column), f"is empty for a {kind}",
                          hint.format(money=settings.money_label, currency=settings.currency))
        scopes = [c for c in ("site", "country", "region") if isinstance(r[c], str) and r[c]]
        if len(scopes) != 1 and not (pd.isna(r["site"]) and not blank("instruments", row_no, "site")):
            problem = "names no site, country or region" if not scopes else f"names both {' and '.join(scopes)}"
            found.add(_loc(origin, row_no, table, values), problem,
                      "give exactly one of site, country or region")
        elif scopes and scopes[0] != "site" and not (sites[scopes[0]] == r[scopes[0]]).any():
            found.add(_loc(origin, row_no, table, values, scopes[0]),
                      f"no candidate site is in {scopes[0]} '{r[scopes[0]]}'",
                      suggest(str(r[scopes[0]]), set(sites[scopes[0]]), f"use a {scopes[0]} of sites.csv"))
        if kind != "production_subsidy" and isinstance(r["product"], str) and r["product"]:
            found.add(_loc(origin, row_no, table, values, "product"), f"is set for a {kind}",
                      "product applies to production_subsidy only; leave it empty")
        if kind == "concessional_loan" and not pd.isna(r["loan_rate"]) and scopes:
            at = [r["site"]] if scopes[0] == "site" else sites.index[sites[scopes[0]] == r[scopes[0]]]
            for s in at:
                if s not in sites.index:
                    continue
                rate = sites.at[s, "discount_rate"]
                rate = settings.discount_rate if pd.isna(rate) else rate
                if r["loan_rate"] >= rate:
                    found.add(_loc(origin, row_no, table, values, "loan_rate"),
                              f"is {r['loan_rate']:.4g}, no cheaper than {s}'s discount rate {rate:.4g}",
                              "a concessional loan's rate must be below the firm's discount rate")
                    break
