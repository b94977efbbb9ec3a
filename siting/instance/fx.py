"""Currencies: rows whose money is in another currency than the instance's, and their exchange rates.

A table with money columns has an optional ``currency`` column; an empty cell takes the table's
default under ``currencies:`` in ``instance.yaml`` (``currencies: {offers: JPY}``), else
``settings.currency``. The ``fx`` table gives, per currency (and per period on a phased
instance), how many units of it buy one unit of ``settings.currency``: 150 for the yen in a USD
instance. :func:`in_instance_currency` divides every money column of a foreign-currency row by its
rate, so that :func:`siting.instance.derive.derive`, the model and every result see one currency.

Which rate applies: a row of a table with a ``period`` column (offers, modules, demand,
qualification, instruments) is converted in each period it holds in at that period's rate (a
price carried forward from 2025 to 2030 is converted at the 2030 rate); a row of a table without
one (a site's fixed cost, a supplier's qualification cost, freight, lanes, tariffs, programme
budgets) at the first period's rate. On a snapshot there is one period and one rate.

The size of money follows ``settings.money_unit`` in every currency: a capex of 90,000 in a JPY
row of a USD-million instance is JPY 90,000 million.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from siting.errors import ProblemCollector, suggest, visible
from siting.instance.periods import PERIODIC, calendar, carry_forward
from siting.instance.schema import MONEY, PER_UNIT, TABLES, Table, key_label

CODE = re.compile(r"^[A-Z]{3}$")


def money_columns(table: Table) -> tuple[str, ...]:
    """Columns of ``table`` that hold money (capital amounts, per-unit amounts, freight rates)."""
    return tuple(c.name for c in table.columns
                 if c.unit in (MONEY, PER_UNIT) or c.unit.startswith("currency per"))


#: Tables whose rows may carry a currency: those with a money column.
CURRENCY_TABLES: tuple[str, ...] = tuple(t for t, table in TABLES.items() if "currency" in table.names
                                         and t != "fx")


def _row_currency(df: pd.DataFrame, default: str) -> list[str]:
    cells = df["currency"].tolist() if "currency" in df.columns else [""] * len(df)
    return [c if isinstance(c, str) and c else default for c in cells]


def check_currencies(typed: dict[str, pd.DataFrame], settings, currencies, origins: dict[str, str],
                     overridden: dict, where: str, found: ProblemCollector) -> dict[str, str]:
    """Every currency named has a rate from the first period on; return the per-table defaults.

    Parameters
    ----------
    typed
        The typed tables.
    settings
        The validated settings (``settings.currency`` is the instance's own currency).
    currencies
        ``currencies:`` of ``instance.yaml`` as written (table -> currency), or None.
    origins, overridden
        Where tables and overridden cells came from, for messages.
    where
        The name of the instance file, for messages about ``currencies:``.
    found
        Collects the problems.
    """
    own = settings.currency
    fx = typed["fx"]
    origin = origins.get("fx", "fx.csv")
    cal = calendar(typed, settings.period, settings.discount_rate)
    first: dict[str, str] = {}  # currency -> the period its first row holds from
    fx_table = TABLES["fx"]
    for row_no, code, period in zip(fx.index.tolist(), fx["currency"].tolist(), fx["period"].tolist()):
        if not isinstance(code, str) or not code:
            continue
        loc = overridden.get(("fx", row_no, "currency")) or (
            f"{origin} row {row_no} {key_label(fx_table, {'currency': code, 'period': period})} column currency")
        if not CODE.match(code):
            found.add(loc, f"is '{visible(code)}', not a currency code",
                      "write the three-letter ISO 4217 code in capitals, e.g. JPY, EUR, TWD")
            continue
        if code == own:
            found.add(loc, f"is the instance's own currency (settings.currency {own}), whose rate is 1",
                      "delete the row")
            continue
        label = cal.ids[0] if not isinstance(period, str) or not period else period
        if label in cal.ids and (code not in first or cal.index(label) < cal.index(first[code])):
            first[code] = label
    known = sorted([own, *first])

    def unknown(code: str, loc: str) -> None:
        if not CODE.match(code):
            found.add(loc, f"is '{visible(code)}', not a currency code",
                      "write the three-letter ISO 4217 code in capitals, e.g. JPY, EUR, TWD")
        elif code not in first:
            found.add(loc, f"{code} has no exchange rate in the fx table",
                      f"add an fx row (currency={code}, rate = {code} per {own})" + (
                          "; or " + suggest(code, known, "") if suggest(code, known, "") else ""))
        elif first[code] != cal.ids[0]:
            found.add(loc, f"{code} has no exchange rate for period {cal.ids[0]}: its first fx row holds from "
                           f"{first[code]}",
                      f"give the fx row for {code} an empty period or period {cal.ids[0]}")

    defaults: dict[str, str] = {}
    if currencies is not None and not isinstance(currencies, dict):
        found.add(f"{where} currencies", "is not a mapping", "write 'currencies:' then 'offers: JPY' lines")
        currencies = {}
    for tname, code in (currencies or {}).items():
        loc = f"{where} currencies.{visible(str(tname))}"
        if tname not in CURRENCY_TABLES:
            found.add(loc, "is not a table with money columns",
                      suggest(str(tname), CURRENCY_TABLES, "tables with money: " + ", ".join(CURRENCY_TABLES)))
            continue
        before = len(found.problems)
        if str(code) != own:
            unknown(str(code), f"{loc} ({visible(str(code))})")
        if len(found.problems) == before:
            defaults[tname] = str(code)
    for tname in CURRENCY_TABLES:
        df = typed[tname]
        if df.empty or "currency" not in df.columns:
            continue
        table = TABLES[tname]
        tmp = origins.get(tname, f"{tname}.csv")
        said: set[str] = set()
        for row_no, code in zip(df.index.tolist(), df["currency"].tolist()):
            if not isinstance(code, str) or not code or code == own:
                continue
            loc = overridden.get((tname, row_no, "currency")) or (
                f"{tmp} row {row_no} {key_label(table, df.loc[row_no].to_dict())} column currency")
            if code in first and first[code] == cal.ids[0]:
                continue
            if code in said and CODE.match(code):
                continue  # one line per currency and table: the fx table is what needs the change
            said.add(code)
            unknown(code, loc)
    return defaults


def in_instance_currency(inst):
    """``inst`` with every money amount in ``settings.currency`` (the same object when every row
    already is).

    Each foreign-currency row's money columns are divided by its currency's rate (see the module
    docstring for which period's rate); its ``currency`` becomes ``settings.currency``, so that
    converting the result again changes nothing.
    """
    st = inst.settings
    own = st.currency
    defaults = getattr(inst, "currencies", None) or {}
    foreign = {}
    for tname in CURRENCY_TABLES:
        df = inst.tables[tname]
        if df.empty:
            continue
        codes = _row_currency(df, defaults.get(tname, own))
        if any(c != own for c in codes):
            foreign[tname] = codes
    if not foreign:
        return inst
    cal = calendar(inst.tables, st.period, st.discount_rate)
    fx = carry_forward(inst.tables["fx"], ["currency"], cal)
    rates = {(c, p): float(r) for c, p, r in zip(fx["currency"], fx["period"], fx["rate"])}
    tables = dict(inst.tables)
    for tname, codes in foreign.items():
        df = inst.tables[tname].assign(currency=codes)
        if cal.phased and tname in PERIODIC:
            # one row per period the row holds in, each converted at that period's rate
            df = carry_forward(df, PERIODIC[tname], cal)
            periods = df["period"].tolist()
        else:
            periods = [cal.ids[0]] * len(df)
        rate = np.array([1.0 if c == own else rates[(c, p)] for c, p in zip(df["currency"], periods)])
        df = df.copy()
        for col in money_columns(TABLES[tname]):
            values = df[col].tolist()
            df[col] = pd.Series([v if v is None or v != v or r == 1.0 else v / r for v, r in zip(values, rate)],
                                index=df.index, dtype=object)
        df["currency"] = own
        tables[tname] = df
    return replace(inst, tables=tables, currencies={})
