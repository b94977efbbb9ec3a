"""A sweep's outputs: the tables, charts and page written at its end, and its console summary.

Once every case has its file, the folder gets ``sweep.csv`` and ``sweep.parquet`` (one row per
case), ``switching.csv``, the charts, ``report.html`` and, last, ``manifest.json``, all through
:func:`siting.report.write.write_analysis`, as every analysis writes its folder: every file is
made first and the folder replaced as one step with its plan (``sweep.json``) and cases carried
over, so a full disk or a kill at the end leaves the folder as it was.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING

import pandas as pd

from siting.analysis.sweep_plan import Sweep
from siting.analysis.sweep_rows import SOLVED, PlanSeen, Switch, plans_seen, sweep_sites, tornado_table

if TYPE_CHECKING:
    from rich.console import Console

#: What a sweep writes at its end (its manifest is removed while cases are solved, so the names of
#: an earlier end are known by their form rather than from a manifest).
_SWEEP_OUTPUT = re.compile(r"^(sweep\.csv|sweep\.parquet|switching\.csv|plans\.csv|tornado\.(csv|png)|sweep(-.+)?\.png|"
                           r"report\.html|manifest\.json)$")


@dataclass
class Finished:
    """What :func:`write_sweep` wrote and found.

    Attributes
    ----------
    table
        One row per case (:func:`siting.analysis.sweep_rows.table`).
    switches
        The switching points, refined where asked.
    tornado
        For an ``oat`` sweep the objective at each parameter's ends, else None.
    files
        The names written, as ``manifest.json`` lists them.
    plans
        Every plan the solved cases chose, the most common first (:func:`plans_seen`).
    """

    table: pd.DataFrame
    switches: list[Switch]
    tornado: pd.DataFrame | None
    files: list[str]
    plans: list[PlanSeen] = field(default_factory=list)


def write_sweep(sweep: Sweep, df: pd.DataFrame, switches: list[Switch], command: list[str]) -> Finished:
    """Write a finished sweep's tables, charts, page and, last, ``manifest.json``.

    Parameters
    ----------
    sweep
        The sweep, every case solved (its ``base``: the checked instance with the fixed overrides).
    df
        Its table, one row per case.
    switches
        Its switching points.
    command
        The command line, for the manifest.

    Returns
    -------
    Finished
        The table, switching points, tornado and the names of the files written.
    """
    from siting.report import charts
    from siting.report.write import manifest_base, write_analysis

    base = sweep.instance()
    money = base.settings.money_label
    files: dict[str, str | bytes] = {"sweep.csv": df.to_csv(index=False, float_format="%.10g"),
                                     "sweep.parquet": _parquet(df)}
    if switches:
        files["switching.csv"] = pd.DataFrame([{
            "parameter": s.path, "below": s.below, "above": s.above, "point": s.point,
            "refined": s.refined, "before": s.before, "after": s.after, "words": s.words()} for s in switches
        ]).to_csv(index=False, float_format="%.10g")
    plans = plans_seen(df, sweep)
    if len(plans) > 1:
        files["plans.csv"] = pd.DataFrame([{
            "plan": p.plan, "cases": len(p.cases), "of": p.total, "case_ids": ";".join(p.cases),
            **{f"{k} {'min' if j == 0 else 'max'}": v[j] for k, v in p.ranges.items() if isinstance(v, tuple)
               for j in (0, 1)}, "words": p.words()} for p in plans]).to_csv(index=False, float_format="%.10g")
    sites = sweep_sites(sweep)
    tor = None
    numeric = [a for a in sweep.axes if a.numeric]
    if sweep.method == "oat":
        tor = tornado_table(df, sweep)
        base_row = df[df["case"] == sweep.ids[0]]
        if len(tor) and base_row["status"].iloc[0] in SOLVED:
            files["tornado.csv"] = tor.to_csv(index=False, float_format="%.10g")
            files["tornado.png"] = charts.tornado(tor, float(base_row["objective"].iloc[0]), money)
        for a in numeric:
            line = df[df["case"].isin([sweep.ids[0]] + [i for i, c in zip(sweep.ids, sweep.cases)
                                                         if c and c[0].startswith(a.path + "=")])]
            if line["status"].isin(SOLVED).sum() > 1:
                files[f"sweep-{_safe(a.path)}.png"] = charts.sweep_line(
                    line, a.path, sites, [s for s in switches if s.path == a.path], money)
    elif sweep.method == "grid" and len(sweep.axes) == 1 and numeric:
        if df["status"].isin(SOLVED).sum() > 1:
            files["sweep.png"] = charts.sweep_line(df, sweep.axes[0].path, sites, switches, money)
    elif sweep.method == "grid" and len(sweep.axes) == 2 and len(numeric) == 2:
        files["sweep-heatmap.png"] = charts.sweep_heatmap(df, sweep.axes[0].path, sweep.axes[1].path)
    manifest = manifest_base(base, sweep.options, command)
    manifest["cases"] = {"total": len(sweep.cases),
                         "by_status": {str(s): int(n) for s, n in df["status"].value_counts().items()}}
    params = ", ".join(a.path for a in sweep.axes)
    written = write_analysis(sweep.out, files, f"{base.name}: sweep of {params}", _sections(sweep, df, switches, tor,
                             [n for n in files if n.endswith(".png")], plans), manifest, kept=("sweep.json", "cases/"),
                             replaces=lambda name: _SWEEP_OUTPUT.match(name) is not None)
    return Finished(table=df, switches=switches, tornado=tor,
                    files=[f for f in written if f not in ("sweep.json", "cases/")], plans=plans)


def _sections(sweep: Sweep, df: pd.DataFrame, switches: list[Switch], tor: pd.DataFrame | None,
              pictures: list[str], plans: list[PlanSeen] | None = None) -> list[tuple[str, str]]:
    """The sections of the sweep's ``report.html``: cases by status, switching points and every plan
    the cases chose, the plots and the case table."""
    from siting.report.html import table_html

    counts = ", ".join(f"{n} {s}" for s, n in df["status"].value_counts().items())
    plans = plans or []
    # switching points exist along one line (oat, a grid of one parameter); elsewhere the plans say it
    along = sweep.method == "oat" or (sweep.method == "grid" and len(sweep.axes) == 1)
    none = "every case opens the same sites" if len(plans) <= 1 else (
        "none between neighbouring cases along a parameter" if along else
        "not measured along one parameter here (see the plans the cases chose)")
    words = "".join(f"<li>{escape(s.words())}</li>" for s in switches) or f"<li>no switching point: {none}</li>"
    params = [a.path for a in sweep.axes]
    sections = [("Cases", f"<p>{len(df)} cases ({escape(sweep.method)}): {escape(counts)}.</p>"),
                ("Switching points", f"<ul>{words}</ul>")]
    if len(plans) > 1:
        sections.append(("Plans the cases chose",
                         "<ul>" + "".join(f"<li>{escape(p.words())}</li>" for p in plans) + "</ul>"))
    headings = {"sweep.png": "Firm cost and open sites", "sweep-heatmap.png": "Chosen sites over the grid",
                "tornado.png": "Swing of the firm cost per parameter"}
    sections += [(headings.get(n, n.removesuffix(".png").replace("sweep-", "along ")), f"{{{n}}}") for n in pictures]
    if tor is not None and len(tor):
        sections.append(("Tornado", table_html(tor)))
    cols = ["case", *params, "status", "objective", "best_bound", "mip_gap", "sites_open", "government_outlay",
            "unmet_demand", "note"]
    sections.append(("Every case", table_html(df, cols)))
    return sections


def print_sweep(console: Console, sweep: Sweep, finished: Finished) -> None:
    """The sweep on the console: cases by status, the cost's range, the plans, switching points,
    the tornado and the first failed cases.

    Parameters
    ----------
    console
        A rich console (:func:`siting.report.console.make_console`).
    sweep
        The finished sweep.
    finished
        What :func:`write_sweep` returned.
    """
    from rich.table import Table

    money = sweep.instance().settings.money_label
    df = finished.table
    counts = df["status"].value_counts()
    console.print("cases: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    solved = df[df["status"].isin(SOLVED)]
    if len(solved):
        lo, hi = solved.loc[solved["objective"].idxmin()], solved.loc[solved["objective"].idxmax()]
        console.print(f"firm cost from {lo['objective']:,.3f} ({lo['case']}) to {hi['objective']:,.3f} "
                      f"({hi['case']}) {money}/yr")
        plans = solved.groupby("sites_open", sort=False).size()
        console.print("plans: " + "; ".join(f"{p} in {n} case{'s' if n > 1 else ''}" for p, n in plans.items()))
    if finished.switches:
        console.print("[bold]switching points[/bold]")
        for s in finished.switches:
            console.print(f"  {s.words()}")
    elif len(solved) > 1 and (sweep.method == "oat" or len(sweep.axes) == 1) and len(finished.plans) <= 1:
        console.print("no switching point: every case opens the same sites")
    if len(finished.plans) > 1 and not (sweep.method == "oat" or len(sweep.axes) == 1):
        console.print("[bold]plans the cases chose[/bold]")
        for p in finished.plans:
            console.print(f"  {p.words()}", soft_wrap=True)
    if finished.tornado is not None and len(finished.tornado):
        t = Table(title=f"Swing of the firm cost ({money}/yr)", title_justify="left")
        for c in ("parameter", "base", "low", "cost at low", "high", "cost at high", "swing"):
            t.add_column(c, justify="left" if c == "parameter" else "right", overflow="fold")
        for _, r in finished.tornado.iterrows():
            t.add_row(r["parameter"], f"{r['base_value']:.6g}", f"{r['low_value']:.6g}", f"{r['at_low']:,.3f}",
                      f"{r['high_value']:.6g}", f"{r['at_high']:,.3f}", f"{r['swing']:,.3f}")
        console.print(t)
    errors = df[df["status"] == "error"]
    for _, r in errors.head(5).iterrows():
        console.print(f"[red]{r['case']} failed[/red]: {r['note']}")
    if len(errors) > 5:
        console.print(f"... and {len(errors) - 5} more failed cases (see the note column of sweep.csv)")


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def _safe(path: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in path)
