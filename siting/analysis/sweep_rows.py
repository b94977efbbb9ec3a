"""A sweep's rows: one per case, the table of them all, where the plan switches, the tornado.

A case's row repeats the figures every analysis reports (:mod:`siting.report.figures`); the
table puts the parameters' values first, in plan order. A switching point is where the set of
open sites changes between neighbouring cases along one parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from siting.analysis.sweep_plan import Sweep
from siting.analysis.sweep_specs import as_number, fmt
from siting.outcome import SOLVED
from siting.report.figures import plan_figures, sites_in_label
from siting.run import Run


def case_row(run: Run) -> dict:
    """The sweep row of one solved case.

    Parameters
    ----------
    run
        The case's run through the pipeline (or patched, :mod:`siting.analysis.patch`).

    Returns
    -------
    dict
        Status, objective, bound and gap; with a plan also its label (``sites_open``), per site
        ``open_``, ``capacity_`` and ``local_share_``, the government outlay (all governments, a
        year and in total), expected unmet demand and whether the plan passed its checks; HiGHS's
        seconds. Without a plan ``sites_open`` is empty and ``note`` says why.
    """
    out = run.outcome
    row: dict = {"status": out.status, "objective": out.objective, "best_bound": out.best_bound,
                 "mip_gap": out.mip_gap}
    res = run.results
    if res is None:
        row["sites_open"] = ""
        row["note"] = out.termination
    else:
        plan = plan_figures(res)
        row["sites_open"] = plan.label()
        row.update(plan.site_columns())
        outlay = plan.outlay()
        row["government_outlay"] = outlay.per_year
        row["government_outlay_total"] = outlay.total
        row["unmet_demand"] = res.risk["expected_unmet"]
        row["checks_passed"] = not run.violations
        row["note"] = "; ".join(run.violations)
    row["solve_seconds"] = run.times.get("solve", 0.0)
    return row


def table(sweep: Sweep) -> pd.DataFrame:
    """One row per case, in plan order: parameter values, then the case's answers."""
    sites = list(sweep_sites(sweep))
    rows = []
    for case_id, sets in zip(sweep.ids, sweep.cases):
        record = sweep.records[case_id]
        given = dict(s.split("=", 1) for s in sets)
        row: dict = {"case": case_id}
        for a in sweep.axes:
            text = given.get(a.path, a.base)
            row[a.path] = as_number(text) if a.numeric and as_number(text) is not None else text
        r = record["row"]
        row.update({k: r.get(k) for k in ("status", "objective", "best_bound", "mip_gap", "sites_open")})
        for prefix in ("open", "capacity", "local_share"):
            for s in sites:
                row[f"{prefix}_{s}"] = r.get(f"{prefix}_{s}")
        for k in ("government_outlay", "government_outlay_total", "unmet_demand", "checks_passed", "model",
                  "solve_seconds", "case_seconds", "note"):
            row[k] = r.get(k)
        rows.append(row)
    df = pd.DataFrame(rows)
    for s in sites:
        df[f"open_{s}"] = df[f"open_{s}"].astype("Int64")
    return df


def sweep_sites(sweep: Sweep) -> list[str]:
    """Site ids of the instance, in its order."""
    df = sweep.raw.tables["sites"]
    return [str(s) for s in df["id"]] if "id" in df.columns else []


@dataclass
class Switch:
    """Where the set of open sites changes along one parameter."""

    path: str
    below: float
    above: float
    before: str
    after: str
    refined: bool = False

    @property
    def point(self) -> float:
        """The middle of the interval where the plan switches."""
        return (self.below + self.above) / 2

    def words(self) -> str:
        """E.g. "chitose opens when instruments.meti-chitose.rate passes 0.42"."""
        was, now = set(sites_in_label(self.before)), set(sites_in_label(self.after))
        parts = [f"{s} opens" for s in sorted(now - was, key=self.after.find)]
        parts += [f"{s} closes" for s in sorted(was - now, key=self.before.find)]
        change = " and ".join(parts) or f"the plan changes from {self.before} to {self.after}"
        if self.refined:
            half = (self.above - self.below) / 2
            digits = max(0, math.ceil(-math.log10(half))) if half > 0 else 12
            where = f"passes {fmt(round(self.point, digits))} (within {fmt(half)})"
        else:
            where = f"passes a value between {fmt(self.below)} and {fmt(self.above)}"
        return f"{change} when {self.path} {where}"


def switching_points(df: pd.DataFrame, sweep: Sweep) -> list[Switch]:
    """Where the open sites change between consecutive solved cases along a parameter.

    Parameters
    ----------
    df
        The sweep's table (:func:`table`).
    sweep
        The sweep: only ``oat`` sweeps (the others at their base) and one-parameter grids have
        lines to follow.

    Returns
    -------
    list[Switch]
        Each switch between the two values that bracket it, in parameter then value order.
    """
    switches = []
    for a in sweep.axes:
        if not a.numeric:
            continue
        if sweep.method == "oat":
            others = [b.path for b in sweep.axes if b is not a]
            mask = pd.Series(True, index=df.index)
            for p in others:
                base = next(b for b in sweep.axes if b.path == p).base
                mask &= df[p].astype(str).map(lambda v, base=base: v == base or as_number(v) == as_number(base))
            line = df[mask]
        elif sweep.method == "grid" and len(sweep.axes) == 1:
            line = df
        else:
            continue
        line = line[line["status"].isin(SOLVED)].copy()
        line["_x"] = line[a.path].astype(float)
        line = line.sort_values("_x")
        xs, pats = list(line["_x"]), list(line["sites_open"])
        for k in range(1, len(xs)):
            if pats[k] != pats[k - 1]:
                switches.append(Switch(a.path, xs[k - 1], xs[k], pats[k - 1], pats[k]))
    return switches


@dataclass
class PlanSeen:
    """A set of open sites that some cases of a sweep chose, with where they lie in the swept ranges.

    ``reference`` is the plan most cases chose; ``ranges`` maps each swept path to the least and
    greatest value (numbers) or the values (text) of the cases that chose ``plan``, ``spans`` the
    same over every solved case."""

    plan: str
    reference: str
    cases: list[str]
    total: int
    ranges: dict
    spans: dict

    def words(self) -> str:
        """E.g. "chitose opens (kumamoto+chitose) in 4 of 30 cases (c0003, ...), where ... is 0.41 to 0.58"."""
        n = len(self.cases)
        count = f"in {n} of {self.total} case{'s' if self.total > 1 else ''}"
        if self.plan == self.reference:
            return f"{self.plan or 'none'} {count}: the plan most cases chose"
        was, now = set(self.reference.split("+")) - {"none", ""}, set(self.plan.split("+")) - {"none", ""}
        parts = [f"{x} opens" for x in sorted(now - was, key=self.plan.find)]
        parts += [f"{x} closes" for x in sorted(was - now, key=self.reference.find)]
        change = " and ".join(parts) or "the modules change"
        shown = ", ".join(self.cases[:8]) + (", ..." if n > 8 else "")
        where = "; ".join(f"{p} is {self._range(v)} (swept: {self._range(self.spans[p])})"
                          for p, v in self.ranges.items())
        return f"{change} ({self.plan or 'none'}) {count} ({shown}), where {where}"

    @staticmethod
    def _range(v: tuple[float, float] | list[str]) -> str:
        if isinstance(v, tuple):  # four significant digits: a Latin hypercube's values have many more
            return f"{v[0]:,.4g}" if v[0] == v[1] else f"{v[0]:,.4g} to {v[1]:,.4g}"
        return " or ".join(v)


def plans_seen(df: pd.DataFrame, sweep: Sweep) -> list[PlanSeen]:
    """Every plan (set of open sites) the solved cases chose, the most common first, each with the
    cases that chose it and the range of every swept parameter over them: what a Latin hypercube
    or a grid of several parameters reports, where switching points along one line do not apply."""
    solved = df[df["status"].isin(SOLVED)]
    if solved.empty:
        return []
    counts = solved.groupby("sites_open", sort=False).size()
    reference = str(counts.idxmax())

    def span(rows: pd.DataFrame) -> dict:
        out: dict[str, tuple[float, float] | list[str]] = {}
        for a in sweep.axes:
            if a.numeric:
                v = rows[a.path].astype(float)
                out[a.path] = (float(v.min()), float(v.max()))
            else:
                out[a.path] = list(dict.fromkeys(rows[a.path].astype(str)))
        return out

    spans = span(solved)
    order = [reference, *(str(p) for p in counts.index if str(p) != reference)]
    return [PlanSeen(p, reference, solved.loc[solved["sites_open"] == p, "case"].astype(str).tolist(), len(solved),
                     span(solved[solved["sites_open"] == p]), spans) for p in order]


def tornado_table(df: pd.DataFrame, sweep: Sweep) -> pd.DataFrame:
    """For an ``oat`` sweep: the objective at each parameter's lowest and highest value.

    Parameters
    ----------
    df
        The sweep's table (:func:`table`).
    sweep
        The sweep; its first case is the base case, which counts for every parameter.

    Returns
    -------
    pandas.DataFrame
        ``parameter, base_value, low_value, high_value, at_low, at_high, swing``, largest swing first.
    """
    rows = []
    for a in sweep.axes:
        if not a.numeric:
            continue
        # the base case counts: the instance's own value may be the lowest or highest
        mine = df[df["case"].isin([sweep.ids[0]] + [i for i, c in zip(sweep.ids, sweep.cases)
                                                    if c and c[0].startswith(a.path + "=")])]
        mine = mine[mine["status"].isin(SOLVED) & mine[a.path].map(lambda v: as_number(str(v)) is not None)]
        if mine.empty:
            continue
        lo, hi = mine.loc[mine[a.path].astype(float).idxmin()], mine.loc[mine[a.path].astype(float).idxmax()]
        rows.append({"parameter": a.path, "base_value": as_number(a.base), "low_value": float(lo[a.path]),
                     "high_value": float(hi[a.path]), "at_low": lo["objective"], "at_high": hi["objective"]})
    out = pd.DataFrame(rows, columns=["parameter", "base_value", "low_value", "high_value", "at_low", "at_high"])
    out["swing"] = (out["at_high"] - out["at_low"]).abs()
    return out.sort_values("swing", ascending=False).reset_index(drop=True)
