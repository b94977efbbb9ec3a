""""Why not here?": the optimum beside the plan with one site forced the other way.

Both plans are shown as a landed cost per wafer, each cost category of the registry divided by
the wafers the plan makes, so the two can be read side by side; the difference in annual cost is
the break-even lump sum of :mod:`siting.analysis.breakeven` (from the same two solves).

On a phased instance each category is its net present value over the horizon (the columns named
``_per_year`` hold it) and the wafers are discounted the same way: the per-wafer figure is the
levelised cost, present value of the category over present value of the wafers made in every year
of the horizon (each period's expected production a year times its discount weight). With one
period of one year both are the snapshot's figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from siting.analysis.breakeven import Breakeven, breakeven
from siting.instance.read import RawInstance
from siting.model.objective import CATEGORIES
from siting.report.extract import open_sites
from siting.report.write import json_safe
from siting.solve import SolverOptions

#: Waterfall labels of the cost categories.
LABELS = {"capex": "capex annuity", "qualification": "qualification", "operating": "operating cost",
          "purchases": "purchases", "freight": "freight", "tariffs": "tariffs", "unmet_penalty": "unmet demand",
          "subsidies": "subsidy", "risk": "risk premium (CVaR)"}


def landed_costs(answer: Breakeven) -> pd.DataFrame:
    """One row per cost category: annual cost and cost per wafer made in both plans, and their difference."""
    runs = {"optimum": answer.base, "counterfactual": answer.other}
    money = answer.base.instance.settings.money_multiplier
    rows = []
    made = {k: _wafers(r) for k, r in runs.items()}
    for c in CATEGORIES:
        if c == "risk" and all(abs(r.results.costs.get(c, 0.0)) < 1e-12 for r in runs.values()):
            continue  # no CVaR weight: no risk premium in either plan
        row = {"category": LABELS[c]}
        for k, r in runs.items():
            row[f"{k}_per_year"] = r.results.costs.get(c, 0.0)
            row[f"{k}_per_wafer"] = row[f"{k}_per_year"] * money / made[k] if made[k] > 0 else float("nan")
        rows.append(row)
    df = pd.DataFrame(rows)
    total = {"category": "total"}
    for col in df.columns[1:]:
        total[col] = df[col].sum()
    df = pd.concat([df, pd.DataFrame([total])], ignore_index=True)
    df["difference_per_year"] = df["counterfactual_per_year"] - df["optimum_per_year"]
    df["difference_per_wafer"] = df["counterfactual_per_wafer"] - df["optimum_per_wafer"]
    return df


def _wafers(run) -> float:
    """Wafers the plan makes a year, or on a phased instance over the horizon, discounted."""
    res, cal = run.results, run.data.calendar
    if "schedule" not in res.tables:
        return float(res.tables["sites"]["production_wafers_per_year"].sum())
    s = res.tables["schedule"]
    weight = [cal.weight(cal.index(t)) for t in s["period"]]
    return float((s["production_wafers_per_year"].to_numpy(dtype=float) * weight).sum())


def explain(raw: RawInstance, site: str, options: SolverOptions) -> tuple[Breakeven, pd.DataFrame]:
    """Solve the optimum and the plan with ``site`` forced the other way; compare their landed costs."""
    answer = breakeven(raw, site, options, "lump")
    return answer, landed_costs(answer)


def counterfactual_label(answer: Breakeven) -> str:
    return f"{answer.site} forced {'closed' if answer.direction == 'stays-open' else 'open'}"


def write_explanation(answer: Breakeven, df: pd.DataFrame, out: Path, options: SolverOptions,
                      command: list[str]) -> list[str]:
    """explain.csv, explain.png, explain.json and, last, manifest.json."""
    from html import escape

    from siting.report import charts
    from siting.report.html import table_html
    from siting.report.write import manifest_base, write_analysis

    st = answer.base.instance.settings
    files = {"explain.csv": df.to_csv(index=False, float_format="%.10g"),
             "explain.png": charts.landed_cost_waterfalls(
                 df, ("optimum", "counterfactual"),
                 (f"optimum: {_short(answer.base)}", counterfactual_label(answer)), st.currency),
             "explain.json": json.dumps(json_safe(answer.as_dict()), indent=2) + "\n"}
    manifest = manifest_base(answer.base.instance, options, command)
    words = "".join(f"<li>{escape(line)}</li>" for line in answer.words())
    sections = [("Answer", f"<ul>{words}</ul>"), ("Landed cost per wafer", "{explain.png}"),
                (f"Per wafer ({st.currency}) and per year ({st.money_label})", table_html(df)),
                ("Solves", table_html(pd.DataFrame(answer.solves)))]
    return write_analysis(out, files, f"{answer.base.instance.name}: why not {answer.site}?", sections, manifest)


def _short(run) -> str:
    return " + ".join(s for s, _ in open_sites(run.results)) or "nothing open"


def print_explanation(console, answer: Breakeven, df: pd.DataFrame) -> None:
    from rich.table import Table

    st = answer.base.instance.settings
    other = counterfactual_label(answer)
    title = (f"Levelised cost per wafer made over the horizon ({st.currency}); net present value in {st.money_label}"
             if answer.phased else f"Landed cost per wafer made ({st.currency}); annual cost in {st.money_label}/yr")
    t = Table(title=title, title_justify="left")
    for h in ("", f"optimum ({_short(answer.base)})", other, "difference",
              "present value, difference" if answer.phased else "per year, difference"):
        t.add_column(h, justify="left" if not h else "right")
    for _, r in df.iterrows():
        bold = r["category"] == "total"
        cells = [f"{r['optimum_per_wafer']:,.0f}", f"{r['counterfactual_per_wafer']:,.0f}",
                 f"{r['difference_per_wafer']:+,.0f}", f"{r['difference_per_year']:+,.3f}"]
        t.add_row(r["category"], *cells, style="bold" if bold else None)
    console.print(t)
    for line in answer.words():
        console.print(line, soft_wrap=True)
