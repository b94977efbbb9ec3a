"""The cost-risk frontier: expected cost against a risk measure, by the epsilon-constraint method.

Every point is a case through the one pipeline (:func:`siting.run.run_case`) with ``--set``
overrides, so it is checked and verified like any solve:

1. the cheapest plan (risk weight 0): the frontier's low-cost end, at risk M_high;
2. the least-risk plan (``settings.objective=risk``): the least risk M_low;
3. the cheapest plan with the measure capped (``settings.risk_limit``) at N - 1 limits evenly
   spaced from M_high down to M_low, the last one the least-risk end itself.

The measure is the CVaR of the plan's total annual cost (``cvar``, at ``settings.cvar_level``),
its expected unmet demand in wafers per year (``unmet``), or its cost in the worst scenario
(``worst``). Expected cost never falls as the limit tightens (each case's feasible set lies
inside the previous one), which the frontier's test checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from siting.report.figures import plan_figures
from siting.run import Run, run_case

#: The results' risk figure for each measure, and its unit (money per year unless wafers).
MEASURES = {"cvar": "cvar", "unmet": "expected_unmet", "worst": "worst_case"}
#: Relative slack on each limit, so that the least-risk end stays feasible after rounding.
LIMIT_SLACK = 1e-7


@dataclass
class Frontier:
    """A computed frontier.

    Attributes
    ----------
    table
        One row per point: ``point, limit, status, expected_cost, cvar, worst_case,
        expected_unmet, measure, sites_open, mip_gap``.
    measure
        ``cvar``, ``unmet`` or ``worst``.
    knee
        Row number (in ``table``) of the knee point, or None with fewer than three distinct points.
    """

    table: pd.DataFrame
    measure: str
    knee: int | None


def _row(point: int, limit: float | None, run: Run, measure: str) -> dict:
    out = run.outcome
    row: dict = {"point": point, "limit": limit, "status": out.status, "mip_gap": out.mip_gap}
    if run.results is None:
        return row
    risk = run.results.risk
    row.update(expected_cost=risk["expected_cost"], cvar=risk["cvar"], worst_case=risk["worst_case"],
               expected_unmet=risk["expected_unmet"], measure=risk[MEASURES[measure]],
               sites_open=plan_figures(run.results).label(sep=" ", none=""))
    return row


def knee_point(cost: np.ndarray, risk: np.ndarray) -> int | None:
    """The point farthest from the straight line between the frontier's two ends, both axes scaled
    to [0, 1]: where a little more cost stops buying much less risk."""
    if len(cost) < 3:
        return None
    span_c, span_r = np.ptp(cost), np.ptp(risk)
    if span_c <= 0 or span_r <= 0:
        return None
    x, y = (risk - risk.min()) / span_r, (cost - cost.min()) / span_c
    (x0, y0), (x1, y1) = (x[0], y[0]), (x[-1], y[-1])
    dist = np.abs((y1 - y0) * x - (x1 - x0) * y + x1 * y0 - y1 * x0) / np.hypot(y1 - y0, x1 - x0)
    k = int(np.argmax(dist))
    return k if dist[k] > 1e-9 else None


def compute_frontier(source, options, sets=(), measure: str = "cvar", points: int = 5,
                     progress=None) -> Frontier:
    """Solve the frontier's points.

    Parameters
    ----------
    source
        Instance folder or raw instance.
    options
        Solver options.
    sets
        ``--set`` overrides for every point.
    measure
        ``cvar``, ``unmet`` or ``worst``.
    points
        Points on the frontier, both ends included (at least 2).
    progress
        Called with each finished row (for a progress bar).
    """
    base = [*sets, "settings.risk_weight=0", f"settings.risk_measure={measure}", "settings.objective=cost",
            "settings.risk_limit="]
    rows = []

    def record(point: int, limit, run: Run) -> dict:
        row = _row(point, limit, run, measure)
        rows.append(row)
        if progress is not None:
            progress(row)
        return row

    cheapest = record(0, None, run_case(source, options, base, duals=False))
    least = run_case(source, options, [*base, "settings.objective=risk"], duals=False)
    if "measure" not in cheapest or not least.outcome.has_solution or least.outcome.objective is None:
        return Frontier(table=pd.DataFrame(rows), measure=measure, knee=None)
    high, low = cheapest["measure"], least.outcome.objective
    if high - low <= 1e-9 * max(1.0, abs(high)):  # the cheapest plan already has the least risk
        return Frontier(table=pd.DataFrame(rows), measure=measure, knee=None)
    for k, eps in enumerate(np.linspace(high, low, points)[1:], start=1):
        limit = float(eps) + LIMIT_SLACK * max(1.0, abs(float(eps)))
        record(k, limit, run_case(source, options, [*base, f"settings.risk_limit={limit!r}"], duals=False))
    table = pd.DataFrame(rows)
    solved = table[table["status"].isin(("optimal", "feasible"))]
    knee = knee_point(solved["expected_cost"].to_numpy(float), solved["measure"].to_numpy(float))
    return Frontier(table=table, measure=measure, knee=None if knee is None else int(solved.index[knee]))


def write_frontier(result: Frontier, out, base, options, command: list[str], label: str, unit: str) -> list[str]:
    """Write frontier.csv, frontier.png (with two solved points or more), report.html and, last, manifest.json.

    Parameters
    ----------
    result
        The computed frontier.
    out
        The folder.
    base
        The checked instance with the ``--set`` overrides (money unit, manifest).
    options
        The solver options, for the manifest.
    command
        The command line, for the manifest.
    label, unit
        The risk measure's name and unit, for the chart and the page.

    Returns
    -------
    list[str]
        The names ``manifest.json`` lists.
    """
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    table, st = result.table, base.settings
    files = {"frontier.csv": table.to_csv(index=False, float_format="%.10g")}
    if table["status"].isin(("optimal", "feasible")).sum() >= 2:
        files["frontier.png"] = charts.frontier(table, f"{label} ({unit})", st.money_label, result.knee)
    manifest = manifest_base(base, options, command)
    knee = "no knee: fewer than three distinct points" if result.knee is None else (
        f"knee: point {table.loc[result.knee, 'point']} ({table.loc[result.knee, 'sites_open']})")
    sections = [("Frontier", f"<p>Expected cost ({escape(st.money_label)}/yr) against {escape(label)} "
                             f"({escape(unit)}), by epsilon-constraint; {escape(knee)}.</p>"),
                ("Expected cost against risk", "{frontier.png}"), ("Every point", table_html(table))]
    return write_analysis(out, files, f"{base.name}: cost-risk frontier", sections, manifest, list_manifest=True)
