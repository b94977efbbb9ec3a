"""``report.html``: one self-contained page a planner can hand on.

Every picture is embedded as a ``data:`` URI and the styles are inline, so the file opens anywhere,
offline, and fetches nothing. The page reads only what the run already wrote (``summary.json``'s
content, the manifest, the result tables and the map), so it cannot disagree with them.
"""

from __future__ import annotations

import base64
import json
import re
from html import escape

import numpy as np
import pandas as pd

from siting.report import svg
from siting.report.extract import expected_mix
from siting.report.labels import PERCENT, header

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1200px;
padding:1.2em 2em;color:#212121;line-height:1.4;box-sizing:border-box}
h1{font-size:1.5em;margin-bottom:.1em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.8em}
.status{font-size:1.05em;padding:.5em .8em;border-radius:4px;background:#e8f5e9}
.status.bad{background:#ffebee}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f5f5f5;vertical-align:bottom}
td{white-space:nowrap}td.t{white-space:normal;min-width:4em}td.n{white-space:nowrap}
td.t,th.t{text-align:left}img{max-width:100%;height:auto;display:block;margin:.5em 0}
pre{background:#fafafa;border:1px solid #eee;padding:.6em;font-size:.75em;overflow-x:auto}
.note{color:#616161;font-size:.85em}.wrap{overflow-x:auto}
.headline{font-size:1.05em;max-width:60em;border-left:4px solid #1f4e79;padding:.2em 0 .2em .9em}
"""


def _img(png: bytes | None, alt: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}">'


_NEGATIVE_ZERO = re.compile(r"-(?=0(\.0*)?%?$)")


def _cell(value, percent: bool = False, whole: bool = False) -> tuple[str, bool]:
    """Text of a cell and whether it is text (left-aligned); ``percent``: a share shown as a
    percentage; ``whole``: a count shown to the unit (wafers). A value that rounds to zero never
    shows a minus sign."""
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), True
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "", False
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if percent:
            text = f"{v:.0%}" if round(v * 100, 6).is_integer() else f"{v:.1%}" if abs(v) >= 1e-3 else f"{v:.4%}"
        elif whole or (v.is_integer() and abs(v) < 1e15):
            text = f"{v:,.0f}"
        else:
            text = f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
        return _NEGATIVE_ZERO.sub("", text), False
    return str(value), True


def table_html(df: pd.DataFrame | None, columns: list[str] | None = None, money: str | None = None) -> str:
    """A table as HTML (only ``columns`` that exist, in their order); 'none' when empty.

    With ``money`` (the money unit) the headers are words with units
    (:func:`siting.report.labels.header`) and shares show as percentages; without it, the
    columns' own names.
    """
    if df is None or len(df) == 0:
        return '<p class="note">none</p>'
    cols = columns or list(df.columns)
    cols = [c for c in cols if c in df.columns]
    names = [header(c, money) if money is not None else c for c in cols]
    percent = [money is not None and c in PERCENT for c in cols]
    whole = [money is not None and "wafers" in c for c in cols]
    years = [c in ("start_year", "year") for c in cols]  # a calendar year has no thousands separator
    head = "".join(f'<th class="t">{escape(n)}</th>' for n in names)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c, pct, count, year in zip(cols, percent, whole, years):
            text, is_text = (str(int(r[c])), False) if year and not pd.isna(r[c]) else _cell(r[c], pct, count)
            # names (one word, such as kumamoto-1) stay on one line; text of several words wraps
            kind = ("t n" if len(text) <= 24 and " " not in text else "t") if is_text else ""
            cells.append(f'<td class="{kind}">{escape(text)}</td>' if kind else f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _shadow(shadow: pd.DataFrame | None, money: str, scenarios: int) -> str:
    """Marginal values that are not zero (limits that bind), with a count of the others; with
    several scenarios one row per limit and scenario, each value probability-weighted."""
    if shadow is None or len(shadow) == 0:
        return '<p class="note">none (no duals were computed)</p>'
    binding = shadow[(shadow["more"].abs() > 1e-9) | ~(shadow["less"].abs() <= 1e-9)]
    rest = len(shadow) - len(binding)
    notes = ['"one unit more" and "one unit less": the change in the firm\'s cost with the limit one unit higher '
             'or lower (negative: a saving), in the row\'s unit (a unit: a wafer a year of capacity, a unit a year '
             'of a supplier\'s capacity, a percentage point of a local-share target). "marginal value": for a '
             'capacity, the saving from one unit more; for a local-share target, the cost of one point more. '
             'shadow_prices.csv says the same in its meaning column.']
    if scenarios > 1:
        notes.append("Each limit holds in every scenario, so there is one row per scenario; its values are "
                     "probability-weighted: that scenario's share of the change in the expected cost.")
    if rest:
        notes.append(f"{_plural(rest, 'row')} where neither one unit more nor one unit less changes the cost "
                     f"{'is' if rest == 1 else 'are'} left out here; shadow_prices.csv has every row.")
    cols = ["constraint", "site", "period", "product", "supplier", "input", *(["scenario"] if scenarios > 1 else []),
            "value", "more", "less", "unit"]
    if "period" in binding.columns and binding["period"].isna().all():
        cols.remove("period")
    table = binding.assign(constraint=binding["constraint"].str.replace("_", " "))
    return table_html(table, cols, money) + f'<p class="note">{" ".join(notes)}</p>'


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _scenarios(table: pd.DataFrame | None, money: str) -> str:
    """Each scenario's probability, the plan's cost in it and its unmet demand."""
    if table is None or len(table) < 2:
        return ""
    return ("<h2>Scenarios</h2><p class=\"note\">The plan's total annual cost and unmet demand in each "
            "scenario; the objective weighs them by probability (and the risk measure, if any).</p>"
            + table_html(table, ["scenario", "probability", "cost_per_year", "demand_wafers_per_year",
                                 "unmet_wafers_per_year"], money))


def _phased(tables: dict[str, pd.DataFrame], chart: bytes | None, money: str) -> str:
    """A phased plan's schedule (chart and table), its local-share path and its cash flows by period."""
    sched = tables["schedule"]
    built = sched.groupby(["site", "product"])["modules"].transform("max") > 0
    flows = tables["periods"]
    return ("<h2>Schedule</h2><p class=\"note\">Modules ordered by each period (cumulative), ordered in it, "
            "and the capacity producing and the expected production in wafers a year, after lead times and "
            "ramp-up.</p>"
            + (_img(chart, "schedule: what is built where and when") if chart else "")
            + table_html(sched[built], ["site", "product", "period", "start_year", "site_open", "modules",
                                        "modules_ordered", "capacity_wafers_per_year", "production_wafers_per_year"],
                         money)
            + "<h2>Local-share path</h2>" + table_html(tables.get("local_share"), None, money)
            + "<h2>Cash flows by period</h2><p class=\"note\">Each period's cash flow (its years' equivalent "
              "annual amounts, undiscounted) and its present value; the present values and the risk premium add "
              "up to the objective.</p>"
            + table_html(flows, ["period", "start_year", "years", "discount_weight", "capex_cash_flow",
                                 "operating_cash_flow", "purchases_cash_flow", "unmet_penalty_cash_flow",
                                 "subsidies_cash_flow", "cash_flow", "discounted"], money))


def _status(summary: dict) -> str:
    money = summary.get("units", {}).get("money", "")
    st = summary.get("status")
    parts = [f"<b>{escape(str(st))}</b>"]
    if summary.get("objective") is not None:
        parts.append(f"net present value of the firm's cost {summary['objective']:,.3f} {escape(money)}"
                     if "npv" in summary else f"firm cost {summary['objective']:,.3f} {escape(money)}/yr")
    if summary.get("best_bound") is not None:
        parts.append(f"best bound {summary['best_bound']:,.3f}")
    if summary.get("mip_gap") is not None:
        parts.append(f"MIP gap {summary['mip_gap']:.4%}")
    bad = st not in ("optimal",)
    return f'<p class="status{" bad" if bad else ""}">' + "; ".join(parts) + "</p>"


def report_page(summary: dict, manifest: dict, tables: dict[str, pd.DataFrame], map_png: bytes | None,
                pictures: dict[str, bytes] | None = None) -> str:
    """The HTML of ``report.html`` for one run.

    Parameters
    ----------
    summary
        The content of ``summary.json``.
    manifest
        The content of ``manifest.json`` (without the page's own hash, which cannot be inside it).
    tables
        The result tables by name (empty without a solution).
    map_png
        ``map.png``'s bytes, or None without a solution.
    pictures
        Other pictures the run wrote, by file name (a phased plan's ``schedule.png``).
    """
    money = summary.get("units", {}).get("money", "")
    name = summary.get("instance", {}).get("name", "")
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           f"<title>siting: {escape(name)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>{escape(name)}: fab siting and sourcing plan</h1>",
           _status(summary)]
    text = summary.get("headline", {}).get("text")
    if text and "sites" in tables:
        out.append(f'<p class="headline">{escape(text)}</p>')
    if "sites" in tables:
        sites = tables["sites"]
        scenarios = tables.get("scenarios")
        several = scenarios is not None and len(scenarios) > 1
        opened = ", ".join(sites.loc[sites["open"].astype(bool), "site"]) or "none"
        expected = "expected " if several else ""
        out.append(f"<h2>Plan</h2><p>Sites opened: <b>{escape(opened)}</b>. Government outlay "
                   f"{summary.get('government_outlay', 0):,.1f} {escape(money)}/yr "
                   f"({summary.get('government_outlay_total', 0):,.1f} {escape(money)} in total); "
                   f"{expected}unmet demand {summary.get('unmet_demand', 0):,.0f} wafers/yr."
                   + (" Production, utilisation and local shares are expected values over the scenarios."
                      if several else "") + "</p>")
        out.append(table_html(sites, ["site", "country", "region", "open", "capacity_wafers_per_year",
                                      "production_wafers_per_year", "utilisation", "local_share", "local_target",
                                      "capex_total", "subsidy_total", "subsidy_per_year"], money))
        cap = tables.get("capacity")
        if cap is not None and "period" in cap.columns and tables.get("schedule") is not None:
            cap = cap[cap["period"] == cap["period"].iloc[-1]]
        out.append(table_html(cap, ["site", "product", "modules", "max_modules", "capacity_wafers_per_year",
                                    "production_wafers_per_year", "utilisation"], money))
        out.append("<h2>Map</h2>" + _img(map_png, "map of the chosen network"))
        costs = summary.get("costs", {})
        out.append("<h2>Cost breakdown</h2>" + svg.cost_waterfall(costs, money))
        out.append(table_html(pd.DataFrame({"category": [c.replace("_", " ") for c in costs],
                                            "cost_per_year": list(costs.values())}), None, money))
        out.append(_scenarios(scenarios, money))
        mix = expected_mix(tables)
        if len(mix):
            out.append("<h2>Supplier mix</h2>" + svg.supplier_mix(mix))
        if sites["open"].astype(bool).any():
            out.append("<h2>Local share</h2>" + svg.local_share(sites))
        if tables.get("schedule") is not None:  # a phased plan
            out.append(_phased(tables, (pictures or {}).get("schedule.png"), money))
        subs = tables.get("subsidies")
        note = ""
        if subs is not None and tables.get("schedule") is not None:
            # a phased plan lists each instrument once per period; the ones that pay say the plan
            paying = subs[subs["payout_total"] > 0]
            note = (f'<p class="note">Instruments that pay nothing are left out here ({len(subs) - len(paying)} '
                    'rows, one per instrument and period); subsidies.csv has every row.</p>')
            subs = paying
        out.append("<h2>Subsidies and government outlay</h2>" + table_html(
            None if subs is None else subs.assign(kind=subs["kind"].str.replace("_", " ")), None, money) + note)
        out.append("<h2>Shadow prices</h2>" + _shadow(tables.get("shadow_prices"), money,
                                                      len(scenarios) if scenarios is not None else 1))
        checks = summary.get("checks", {})
        text = "passed" if checks.get("passed") else "FAILED: " + "; ".join(checks.get("violations", []))
        out.append(f"<h2>Solution check</h2><p>Checked against the instance's own tables: {escape(text)}</p>")
    findings = summary.get("screens", []) + summary.get("diagnosis", [])
    if findings:
        out.append("<h2>Findings</h2><ul>" + "".join(f"<li>{escape(str(f.get('message', f)))}</li>"
                                                     for f in findings) + "</ul>")
    solver = summary.get("solver", {})
    times = summary.get("times", {})
    out.append("<h2>Solver</h2>" + table_html(pd.DataFrame([{
        "status": summary.get("status"), "termination": summary.get("termination"),
        "objective": summary.get("objective"), "best bound": summary.get("best_bound"),
        "mip_gap": summary.get("mip_gap"), "nodes": solver.get("nodes"),
        "solver": f"{solver.get('name', '')} {solver.get('version', '')}",
        **{f"{k.replace('_', '-')} (s)": v for k, v in times.items()}}]), None, money))
    out.append(_manifest(manifest) + "</body></html>")
    return "\n".join(out) + "\n"


def _manifest(manifest: dict) -> str:
    return ("<h2>Manifest</h2><p class=\"note\">Everything needed to reproduce this run; the SHA-256 of "
            "each file lets anyone check the folder is whole.</p>"
            f"<details><summary>manifest.json</summary><pre>{escape(json.dumps(manifest, indent=2))}</pre>"
            "</details>")


def analysis_page(title: str, sections: list[tuple[str, str]], pictures: dict[str, bytes], manifest: dict) -> str:
    """A self-contained page for an analysis (sweep, compare, frontier).

    ``sections`` are (heading, HTML) pairs; a body that is exactly ``{name.png}`` is replaced by that
    picture from ``pictures``, embedded.
    """
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>siting: {escape(title)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>"]
    for heading, body in sections:
        key = body[1:-1] if body.startswith("{") and body.endswith("}") else None
        out.append(f"<h2>{escape(heading)}</h2>" + (_img(pictures[key], heading) if key in pictures else body))
    out.append(_manifest(manifest) + "</body></html>")
    return "\n".join(out) + "\n"
