""""Why not here?": the optimum beside the plan with one site forced the other way.

Both plans are shown as a landed cost per wafer, each cost category of the registry divided by
the wafers the plan makes, so the two can be read side by side; the difference in annual cost is
the break-even lump sum of :mod:`siting.analysis.breakeven` (from the same two solves).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from siting.analysis.breakeven import Breakeven, breakeven
from siting.instance.read import RawInstance
from siting.model.objective import CATEGORIES
from siting.report.figures import plan_figures
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
    made = {k: float(r.results.tables["sites"]["production_wafers_per_year"].sum()) for k, r in runs.items()}
    for c in CATEGORIES:
        if c == "risk" and all(abs(r.results.costs.get(c, 0.0)) < 1e-12 for r in runs.values()):
            continue  # no CVaR weight: no risk premium in either plan
        row: dict = {"category": LABELS[c]}
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


def explain(raw: RawInstance, site: str, options: SolverOptions) -> tuple[Breakeven, pd.DataFrame]:
    """Solve the optimum and the plan with ``site`` forced the other way; compare their landed costs."""
    answer = breakeven(raw, site, options, "lump")
    return answer, landed_costs(answer)


def counterfactual_label(answer: Breakeven) -> str:
    """The counterfactual plan's name, e.g. "phoenix forced open"."""
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
    return plan_figures(run.results).label(sep=" + ", none="nothing open")


def print_explanation(console, answer: Breakeven, df: pd.DataFrame) -> None:
    """The explanation on the console: landed cost per wafer of both plans, then the answer in words.

    Parameters
    ----------
    console
        A rich console (:func:`siting.report.console.make_console`).
    answer
        The breakeven answer behind the explanation.
    df
        Its landed costs (:func:`landed_costs`).
    """
    from rich.table import Table

    st = answer.base.instance.settings
    other = counterfactual_label(answer)
    t = Table(title=f"Landed cost per wafer made ({st.currency}); annual cost in {st.money_label}/yr",
              title_justify="left")
    for h in ("", f"optimum ({_short(answer.base)})", other, "difference", "per year, difference"):
        t.add_column(h, justify="left" if not h else "right")
    for _, r in df.iterrows():
        bold = r["category"] == "total"
        cells = [f"{r['optimum_per_wafer']:,.0f}", f"{r['counterfactual_per_wafer']:,.0f}",
                 f"{r['difference_per_wafer']:+,.0f}", f"{r['difference_per_year']:+,.3f}"]
        t.add_row(r["category"], *cells, style="bold" if bold else None)
    console.print(t)
    for line in answer.words():
        console.print(line, soft_wrap=True)
