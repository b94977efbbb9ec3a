"""Planning periods: the calendar, discount weights, carry-forward of per-period values, ramp-up.

Plain pandas and numpy (no Pyomo). An instance without a ``periods`` table has one period of one
year labelled ``settings.period``: the steady-state snapshot, in which every weight below is
exactly 1 and nothing carries forward.

Money over time (docs/model.md, "Periods"): every cost and subsidy is counted as its equivalent
annual amount (capital through its capital recovery factor, as in the snapshot), and the net
present value sums the amounts of every year of the horizon discounted at the instance's discount
rate r to the end of the horizon's first year: year k of the horizon (k = 1, 2, ...) weighs
(1 + r)^-(k-1). A capital annuity runs from the start of the period the capital is ordered in for
the asset's lifetime or to the horizon's end, whichever comes first; the annuities beyond the
horizon are the asset's residual value (its value by the annuity method), so late orders are not
favoured by the horizon cut. With one period of one year every weight is 1 and the NPV is the
snapshot's annual cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Calendar:
    """The periods of an instance in calendar order.

    Attributes
    ----------
    ids
        Period labels.
    start
        First calendar year of each period (0 for the snapshot's one period).
    years
        Length of each period in years.
    rate
        The instance's discount rate.
    phased
        Whether the instance has a periods table.
    """

    ids: tuple[str, ...]
    start: tuple[int, ...]
    years: tuple[int, ...]
    rate: float
    phased: bool

    @property
    def first_year(self) -> int:
        """The horizon's first year."""
        return self.start[0]

    @property
    def end_year(self) -> int:
        """The year after the horizon's last year."""
        return self.start[-1] + self.years[-1]

    def index(self, period: str) -> int:
        """The position of ``period`` in time."""
        return self.ids.index(period)

    def discount(self, year: float) -> float:
        """Weight of an amount of calendar ``year``: (1 + r)^-(year - first year)."""
        return (1.0 + self.rate) ** -(year - self.first_year)

    def weight(self, t: int) -> float:
        """Sum of the discount weights of the years of period ``t``: the present value of one money
        unit a year during the period (1 for a snapshot)."""
        return float(sum(self.discount(y) for y in range(self.start[t], self.start[t] + self.years[t])))

    def annuity_weight(self, t: int, life: float) -> float:
        """Present value of one money unit a year from the start of period ``t`` for ``life`` years
        or to the horizon's end (a fractional last year counts its fraction)."""
        return self.year_annuity_weight(self.start[t], life)

    def year_annuity_weight(self, year: int, life: float) -> float:
        """Present value of one money unit a year from calendar ``year`` for ``life`` years or to
        the horizon's end (a fractional last year counts its fraction)."""
        total = 0.0
        for y in range(year, self.end_year):
            share = min(1.0, max(0.0, year + life - y))
            if share <= 0:
                break
            total += share * self.discount(y)
        return float(total)

    def capital_weight(self, t: int, life: float, build: float = 0.0) -> float:
        """:meth:`annuity_weight` of capital ordered in period ``t`` and paid in equal yearly parts
        over ``build`` years (0: all in the year of order), each part an annuity from its year."""
        return float(sum(share * self.year_annuity_weight(year, life) for year, share in self.build_parts(t, build)))

    def build_parts(self, t: int, build: float) -> list[tuple[int, float]]:
        """(calendar year, share) of capital ordered in period ``t`` paid over ``build`` years: one
        share a year, a fractional last year its fraction; all in the first year when ``build`` is 0."""
        if build <= 0:
            return [(self.start[t], 1.0)]
        n = int(np.ceil(build))
        return [(self.start[t] + i, min(1.0, build - i) / build) for i in range(n)]

    def first_producing(self, t: int, lead: float) -> int | None:
        """First period starting at least ``lead`` years after period ``t`` starts (None: none)."""
        for u in range(t, len(self.ids)):
            if self.start[u] >= self.start[t] + lead:
                return u
        return None

    def ramp_share(self, t: int, u: int, lead: float, ramp: tuple[float, ...]) -> float:
        """Mean share of nominal output in period ``u`` of capacity ordered in period ``t``.

        The capacity produces from the first period starting ``lead`` years after ``t`` starts;
        in its k-th year of operation it makes ``ramp[k-1]`` of nominal output (1 after the last).
        """
        first = self.first_producing(t, lead)
        if first is None or u < first:
            return 0.0
        shares = [ramp[k] if k < len(ramp) else 1.0
                  for k in (y - self.start[first] for y in range(self.start[u], self.start[u] + self.years[u]))]
        return float(sum(shares) / len(shares))


def calendar(tables: dict[str, pd.DataFrame], label: str, rate: float) -> Calendar:
    """The calendar of a checked instance: its periods table, or the snapshot's one period."""
    p = tables.get("periods")
    if p is None or p.empty:
        return Calendar((label,), (0,), (1,), rate, False)
    p = p.sort_values("start_year", kind="stable")
    return Calendar(tuple(p["id"].tolist()), tuple(int(x) for x in p["start_year"]),
                    tuple(int(x) for x in p["years"]), rate, True)


def carry_forward(df: pd.DataFrame, key: list[str], cal: Calendar) -> pd.DataFrame:
    """One row per (key, period) from the first period a key's rows name (an empty period: the
    first), each with the values of the key's latest row at or before that period.

    Rows are returned period by period, keys in the order they first appear; the ``period``
    column holds the period label. On a snapshot this returns ``df``'s rows in their order.
    """
    if df.empty:
        out = df.copy()
        out["period"] = pd.Series(dtype=object)
        return out.reset_index(drop=True)
    if not cal.phased:  # one period, keys unique (checked): every row as it is, in its order
        out = df.reset_index(drop=True)
        out["period"] = cal.ids[0]
        return out
    labels = df["period"].tolist() if "period" in df.columns else [None] * len(df)
    start = [0 if (v is None or v != v or v == "") else cal.index(v) for v in labels]
    keys = list(zip(*(df[k].tolist() for k in key))) if key else [()] * len(df)
    order: dict = {}
    for n, k in enumerate(keys):
        order.setdefault(k, []).append((start[n], n))
    rows, periods = [], []
    for t, label in enumerate(cal.ids):
        for given in order.values():
            at = [n for s, n in sorted(given) if s <= t]
            if at:
                rows.append(at[-1])
                periods.append(label)
    out = df.iloc[rows].reset_index(drop=True)
    out["period"] = periods
    return out


def parse_ramp(text) -> tuple[float, ...]:
    """A ramp profile from '0.3;0.7;1' (or a tuple of strings); raises ValueError if malformed."""
    parts = text if isinstance(text, tuple) else tuple(s.strip() for s in str(text or "").split(";") if s.strip())
    values = tuple(float(x) for x in parts)
    if any(not (0.0 <= v <= 1.0) or np.isnan(v) for v in values):
        raise ValueError("shares must lie in [0, 1]")
    return values


#: Tables whose rows may name a period, with their key without the period.
PERIODIC = {"demand": ["market", "product"], "offers": ["supplier", "input"], "modules": ["site", "product"],
            "qualification": ["supplier", "site"], "instruments": ["id"], "local_targets": ["site"], "fx": ["currency"]}


def check_periods(typed: dict[str, pd.DataFrame], origin, settings, found) -> None:
    """The periods table in calendar order without gaps, one row per key and period, ramps that parse.

    ``origin(table)`` names a table's file; ``found.add(location, problem, fix)`` collects problems.
    """
    p = typed.get("periods")
    first = None
    if p is not None and not p.empty:
        rows = list(zip(p.index.tolist(), p["id"].tolist(), p["start_year"].tolist(), p["years"].tolist()))
        first = rows[0][1]
        for (_, prev, s0, y0), (row_no, pid, s1, _) in zip(rows, rows[1:]):
            if any(v is None or v != v for v in (s0, y0, s1)):
                continue
            if int(s1) != int(s0) + int(y0):
                found.add(f"{origin('periods')} row {row_no} (id={pid}) column start_year",
                          f"is {int(s1)} but period {prev} ends in {int(s0) + int(y0) - 1}",
                          f"list the periods in calendar order, each starting the year after the one before "
                          f"ends ({int(s0) + int(y0)})")
    for tname, key in PERIODIC.items():
        df = typed.get(tname)
        if df is None or df.empty or "period" not in df.columns:
            continue
        seen: dict = {}
        for row_no, *k, period in zip(df.index.tolist(), *(df[c].tolist() for c in key), df["period"].tolist()):
            label = first if (period is None or period != period or period == "") else period
            if label is None:
                continue
            where = tuple(k) + (label,)
            if where in seen and seen[where] != row_no:
                found.add(f"{origin(tname)} row {row_no} ({', '.join(f'{c}={v}' for c, v in zip(key, k))})",
                          f"gives period {label} again (row {seen[where]} without a period holds from the first "
                          f"period, {label})",
                          "keep one row per period: drop one of them or name a later period")
            seen.setdefault(where, row_no)
    _check_payments(typed.get("instruments"), origin, found)
    try:
        parse_ramp(settings.ramp)
    except ValueError:
        found.add("instance.yaml settings.ramp", f"is '{settings.ramp}', not a list of shares in [0, 1]",
                  "write shares of nominal output per year of operation separated by ';', e.g. 0.3;0.7;1")
    m = typed.get("modules")
    if m is not None and not m.empty and "ramp" in m.columns:
        for row_no, s, prod, ramp in zip(m.index.tolist(), m["site"].tolist(), m["product"].tolist(),
                                         m["ramp"].tolist()):
            try:
                parse_ramp(ramp)
            except ValueError:
                found.add(f"{origin('modules')} row {row_no} (site={s}, product={prod}) column ramp",
                          f"is '{';'.join(ramp)}', not a list of shares in [0, 1]",
                          "write shares of nominal output per year of operation separated by ';', e.g. 0.3;0.7;1")


def _check_payments(g: pd.DataFrame | None, origin, found) -> None:
    """A spread payment has its years, and years are given only to a spread payment of a first-stage payout."""
    if g is None or g.empty or "paid_years" not in g.columns:
        return  # (a table of the schema has both columns)
    if "condition_years" in g.columns:
        for row_no, gid, years, kappa in zip(g.index.tolist(), g["id"].tolist(), g["condition_years"].tolist(),
                                             g["min_utilisation"].tolist()):
            if not (years is None or years != years) and (kappa is None or kappa != kappa):
                found.add(f"{origin('instruments')} row {row_no} (id={gid}) column condition_years",
                          f"is {years:g} but the row has no min_utilisation",
                          "give the utilisation that must be kept for those years, or leave condition_years empty")
    if "repay_share" in g.columns:
        years = g["condition_years"] if "condition_years" in g.columns else [None] * len(g)
        for row_no, gid, kind, share, span in zip(g.index.tolist(), g["id"].tolist(), g["kind"].tolist(),
                                                  g["repay_share"].tolist(), years):
            if share is None or share != share:
                continue
            where = f"{origin('instruments')} row {row_no} (id={gid}) column repay_share"
            if kind == "production_subsidy":
                found.add(where, f"is {share:g} for a production_subsidy, which pays only for wafers made",
                          "leave repay_share empty")
            elif span is None or span != span:
                found.add(where, f"is {share:g} but the row has no condition_years",
                          "give the years the condition runs (and min_utilisation), or leave repay_share empty")
    for row_no, gid, kind, paid, n in zip(g.index.tolist(), g["id"].tolist(), g["kind"].tolist(),
                                          g["paid"].tolist(), g["paid_years"].tolist()):
        where = f"{origin('instruments')} row {row_no} (id={gid}) column"
        given = not (n is None or n != n)
        if paid == "spread" and kind == "production_subsidy":
            found.add(f"{where} paid", "is spread for a production_subsidy, which is paid per wafer made already",
                      "leave paid empty (its years say how long it pays)")
        elif paid == "spread" and not given:
            found.add(f"{where} paid_years", "is empty but paid is spread",
                      "give the years over which the payout is paid in equal instalments, e.g. 5")
        elif paid != "spread" and given:
            found.add(f"{where} paid_years", f"is {n:g} but paid is {paid or 'on_order'}",
                      "set paid to spread to pay in instalments, or leave paid_years empty")


def previous_rows(table: pd.DataFrame, key: tuple[str, ...] = ("site", "product")) -> np.ndarray:
    """Per row of a per-period table (rows in period order), the row of the same key in the period
    before (-1: none)."""
    prev = np.full(len(table), -1, dtype=np.int64)
    last: dict = {}
    for k, item in enumerate(zip(*(table[c] for c in key))):
        if item in last:
            prev[k] = last[item]
        last[item] = k
    return prev
