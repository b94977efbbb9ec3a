"""``report.html``: one self-contained page a planner can hand on.

Every picture is embedded as a ``data:`` URI and the styles are inline, so the file opens anywhere,
offline, and fetches nothing. The page reads only what the run already wrote (``summary.json``'s
content, the manifest, the result tables and the map), so it cannot disagree with them.
"""

from __future__ import annotations

import base64
import json
from html import escape

import pandas as pd

from siting.report import svg

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;max-width:1100px;
padding:1.2em 2em;color:#212121;line-height:1.4}
h1{font-size:1.5em;margin-bottom:.1em}h2{font-size:1.15em;border-bottom:1px solid #ccc;margin-top:1.8em}
.status{font-size:1.05em;padding:.5em .8em;border-radius:4px;background:#e8f5e9}
.status.bad{background:#ffebee}table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}th{background:#f5f5f5}
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


def _cell(value) -> tuple[str, bool]:
    """Text of a cell and whether it is text (left-aligned)."""
    if isinstance(value, bool):
        return ("yes" if value else "no"), True
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "", False
    if isinstance(value, (int, float)):
        v = float(value)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}", False
        return (f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"), False
    return str(value), True


def table_html(df: pd.DataFrame | None, columns: list[str] | None = None) -> str:
    """A table as HTML (only ``columns`` that exist, in their order); 'none' when empty."""
    if df is None or len(df) == 0:
        return '<p class="note">none</p>'
    cols = columns or list(df.columns)
    cols = [c for c in cols if c in df.columns]
    head = "".join(f'<th class="t">{escape(c)}</th>' for c in cols)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            text, is_text = _cell(r[c])
            cells.append(f'<td class="t">{escape(text)}</td>' if is_text else f"<td>{escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<div class="wrap"><table><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'


def _shadow(shadow: pd.DataFrame | None) -> str:
    """Shadow prices that are not zero (rows that bind), with a count of the others."""
    if shadow is None or len(shadow) == 0:
        return '<p class="note">none (no duals were computed)</p>'
    binding = shadow[(shadow["more"].abs() > 1e-9) | ~(shadow["less"].abs() <= 1e-9)]
    rest = len(shadow) - len(binding)
    note = (f'<p class="note">{rest} rows where neither one unit more nor one unit less changes the cost are left '
            'out here; shadow_prices.csv has every row. "more" and "less": change in the firm\'s cost per year '
            'with the limit one unit higher or lower (negative: a saving).</p>')
    return table_html(binding, ["constraint", "site", "product", "supplier", "input", "value", "more", "less", "unit",
                                "meaning"]) + (note if rest else "")


def _phased(tables: dict[str, pd.DataFrame], chart: bytes | None) -> str:
    """A phased plan's schedule (chart and table), its local-share path and its cash flows by period."""
    sched = tables["schedule"]
    built = sched.groupby(["site", "product"])["modules"].transform("max") > 0
    flows = tables["periods"]
    return ("<h2>Schedule</h2><p class=\"note\">Modules ordered by each period (cumulative), ordered in it, "
            "and the capacity producing and the expected production in wafers a year, after lead times and "
            "ramp-up.</p>"
            + (_img(chart, "schedule: what is built where and when") if chart else "")
            + table_html(sched[built], ["site", "product", "period", "start_year", "site_open", "modules",
                                        "modules_ordered", "capacity_wafers_per_year", "production_wafers_per_year"])
            + "<h2>Local-share path</h2>" + table_html(tables.get("local_share"))
            + "<h2>Cash flows by period</h2><p class=\"note\">Each period's cash flow (its years' equivalent "
              "annual amounts, undiscounted) and its present value; the present values and the risk premium add "
              "up to the objective.</p>"
            + table_html(flows, ["period", "start_year", "years", "discount_weight", "capex_cash_flow",
                                 "operating_cash_flow", "purchases_cash_flow", "unmet_penalty_cash_flow",
                                 "subsidies_cash_flow", "cash_flow", "discounted"]))


def _status(summary: dict) -> str:
    money = summary.get("units", {}).get("money", "")
    st = summary.get("status")
    parts = [f"<b>{escape(str(st))}</b>"]
    if summary.get("objective") is not None:
        parts.append(f"firm cost {summary['objective']:,.3f} {escape(money)}/yr")
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
    out = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>siting: {escape(name)}</title>",
           f"<style>{STYLE}</style></head><body>", f"<h1>{escape(name)}: fab siting and sourcing plan</h1>",
           _status(summary)]
    text = summary.get("headline", {}).get("text")
    if text and "sites" in tables:
        out.append(f'<p class="headline">{escape(text)}</p>')
    if "sites" in tables:
        sites = tables["sites"]
        opened = ", ".join(sites.loc[sites["open"].astype(bool), "site"]) or "none"
        out.append(f"<h2>Plan</h2><p>Sites opened: <b>{escape(opened)}</b>. Government outlay "
                   f"{summary.get('government_outlay', 0):,.1f} {escape(money)}/yr "
                   f"({summary.get('government_outlay_total', 0):,.1f} {escape(money)} in total); "
                   f"unmet demand {summary.get('unmet_demand', 0):,.0f} wafers/yr.</p>")
        out.append(table_html(sites, ["site", "country", "region", "open", "capacity_wafers_per_year",
                                  "production_wafers_per_year", "utilisation", "local_share", "local_target",
                                  "capex_total", "subsidy_total", "subsidy_per_year"]))
        out.append(table_html(tables.get("capacity"), ["site", "product", "modules", "max_modules",
                                                   "capacity_wafers_per_year", "production_wafers_per_year",
                                                   "utilisation"]))
        out.append("<h2>Map</h2>" + _img(map_png, "map of the chosen network"))
        costs = summary.get("costs", {})
        out.append("<h2>Cost breakdown</h2>" + svg.cost_waterfall(costs, money))
        out.append(table_html(pd.DataFrame({"category": list(costs), f"{money} per year": list(costs.values())})))
        mix = tables.get("supplier_mix")
        if mix is not None and len(mix):
            out.append("<h2>Supplier mix</h2>" + svg.supplier_mix(mix))
        if sites["open"].astype(bool).any():
            out.append("<h2>Local share</h2>" + svg.local_share(sites))
        if tables.get("schedule") is not None:  # a phased plan
            out.append(_phased(tables, (pictures or {}).get("schedule.png")))
        out.append(f"<h2>Subsidies and government outlay</h2>{table_html(tables.get('subsidies'))}")
        out.append("<h2>Shadow prices</h2>" + _shadow(tables.get("shadow_prices")))
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
        "MIP gap": summary.get("mip_gap"), "nodes": solver.get("nodes"),
        "solver": f"{solver.get('name', '')} {solver.get('version', '')}",
        **{f"{k} s": v for k, v in times.items()}}])))
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
