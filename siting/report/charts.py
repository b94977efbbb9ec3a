"""Pictures of analyses, as PNG bytes (matplotlib, drawn off screen); the map is
:mod:`siting.report.netmap`, the report's bar charts :mod:`siting.report.svg`.

Each function returns the PNG as bytes so that the caller writes it atomically beside the tables.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from siting.outcome import SOLVED  # noqa: E402  (the statuses with a plan)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no timestamp in the file, so the same sweep gives the same bytes
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _figure(**kw) -> Figure:
    """A figure drawn by the Agg canvas directly: no pyplot, whose import and figure manager cost
    a second of start-up and which keeps every figure alive until it is closed."""
    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def _fig_axes(*args, figsize, gridspec_kw=None, **kw):
    """A figure and its axes, as ``pyplot.subplots`` returns them."""
    fig = _figure(figsize=figsize)
    return fig, fig.subplots(*args, gridspec_kw=gridspec_kw, **kw)


def sweep_line(df: pd.DataFrame, path: str, sites: list[str], switches: list, money: str) -> bytes:
    """Objective along one parameter, with the open sites beneath and the switching points marked."""
    d = df[df["status"].isin(SOLVED)].copy()
    d["_x"] = d[path].astype(float)
    d = d.sort_values("_x")
    fig, (top, bottom) = _fig_axes(2, 1, sharex=True, figsize=(8, 4.8),
                                      gridspec_kw={"height_ratios": [3, max(1, len(sites)) * 0.35]})
    top.plot(d["_x"], d["objective"], marker="o", color="#1f4e79")
    top.set_ylabel(f"firm cost ({money}/yr)")
    top.ticklabel_format(axis="y", useOffset=False, style="plain")
    top.grid(alpha=0.3)
    for k, s in enumerate(sites):
        col = f"open_{s}"
        on = d[d[col].fillna(0).astype(int) == 1]["_x"]
        bottom.scatter(on, np.full(len(on), k), marker="s", s=60, color="#2e7d32")
    bottom.set_yticks(range(len(sites)), sites)
    bottom.set_ylim(-0.7, len(sites) - 0.3)
    bottom.set_xlabel(path)
    bottom.set_title("open sites", fontsize=9, loc="left")
    for sw in switches:
        for ax in (top, bottom):
            ax.axvline(sw.point, color="#c62828", linestyle="--", linewidth=1)
        top.annotate(f"{sw.point:.4g}", (sw.point, 1), xycoords=("data", "axes fraction"),
                     xytext=(3, -12), textcoords="offset points", color="#c62828", fontsize=8)
    fig.suptitle(f"Firm cost and open sites along {path}", fontsize=11)
    return _png(fig)


def sweep_heatmap(df: pd.DataFrame, x: str, y: str) -> bytes:
    """The chosen set of open sites over a two-parameter grid, one colour per set."""
    d = df.copy()
    d.loc[~d["status"].isin(SOLVED), "sites_open"] = "(no plan)"
    xs = sorted(d[x].astype(float).unique())
    ys = sorted(d[y].astype(float).unique())
    patterns = sorted(d["sites_open"].unique(), key=lambda p: (p == "(no plan)", p))
    code = {p: k for k, p in enumerate(patterns)}
    grid = np.full((len(ys), len(xs)), np.nan)
    for _, r in d.iterrows():
        grid[ys.index(float(r[y])), xs.index(float(r[x]))] = code[r["sites_open"]]
    cmap = colormaps["tab10"].resampled(max(len(patterns), 1))
    fig, ax = _fig_axes(figsize=(8, 5))
    ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(patterns) - 0.5,
              extent=(-0.5, len(xs) - 0.5, -0.5, len(ys) - 0.5))
    ax.set_xticks(range(len(xs)), [f"{v:.4g}" for v in xs], rotation=45 if len(xs) > 8 else 0)
    ax.set_yticks(range(len(ys)), [f"{v:.4g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    handles = [Rectangle((0, 0), 1, 1, color=cmap(code[p])) for p in patterns]
    ax.legend(handles, patterns, title="open sites", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title("Chosen open sites", fontsize=11)
    return _png(fig)


def tornado(swings: pd.DataFrame, base: float, money: str) -> bytes:
    """Objective at each parameter's lowest and highest value, around the base case.

    ``swings`` has columns ``parameter``, ``low_value``, ``high_value``, ``at_low``, ``at_high``.
    """
    s = swings.assign(swing=(swings["at_high"] - swings["at_low"]).abs()).sort_values("swing")
    fig, ax = _fig_axes(figsize=(8, 0.6 * len(s) + 1.5))
    for k, (_, r) in enumerate(s.iterrows()):
        for value, at, colour in ((r["low_value"], r["at_low"], "#1565c0"), (r["high_value"], r["at_high"], "#ef6c00")):
            if pd.isna(at):
                continue
            ax.barh(k, at - base, left=base, color=colour, height=0.6)
            ax.annotate(f"{value:,.6g}", (at, k), xytext=(3 if at >= base else -3, 0), textcoords="offset points",
                        ha="left" if at >= base else "right", va="center", fontsize=8)
    ax.axvline(base, color="black", linewidth=1)
    ax.margins(x=0.12)
    ax.set_yticks(range(len(s)), list(s["parameter"]))
    ax.set_xlabel(f"firm cost ({money}/yr); base case {base:,.1f}")
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in ("#1565c0", "#ef6c00")]
    ax.legend(handles, ["lowest value", "highest value"], fontsize=8, loc="lower right")
    ax.set_title("Swing of the firm cost per parameter (one at a time)", fontsize=11)
    return _png(fig)


def compare_bars(df: pd.DataFrame, money: str) -> bytes:
    """Per package: the policy maker's outlay a year beside the domestic capacity it buys."""
    names = df["package"].tolist()
    countries = sorted({c for c in df["policy_country"].fillna("") if c})
    who = countries[0] if len(countries) == 1 else "each package's policy country" if countries else ""
    y = np.arange(len(names))
    fig, (left, right) = _fig_axes(1, 2, sharey=True, figsize=(9, 0.55 * len(names) + 1.6))
    outlay = df["outlay_per_year"].fillna(0.0)
    cap = df["domestic_capacity"].fillna(0.0) / 1000.0
    left.barh(y, outlay, color="#b45f06")
    left.set_xlabel(f"outlay ({money}/yr)")
    left.set_yticks(y, names)
    left.invert_yaxis()
    right.barh(y, cap, color="#1f4e79")
    right.set_xlabel("domestic capacity (thousand wafers/yr)" if who else "no policy country set")
    for ax, values in ((left, outlay), (right, cap)):
        ax.grid(axis="x", alpha=0.3)
        for k, v in enumerate(values):
            ax.annotate(f"{v:,.0f}", (v, k), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        ax.set_xlim(0, max(float(values.max()), 1.0) * 1.18)
    fig.suptitle(f"Subsidy designs: outlay of {who or 'every government'} and the capacity built there",
                 fontsize=10)
    return _png(fig)


def _waterfall(ax, labels: list[str], values, total_label: str, digits: int = 1) -> tuple[float, float]:
    """Bars that build a total step by step (falls in green), then the total; returns (low, high)."""
    level, top, bottom = 0.0, 0.0, 0.0
    for k, v in enumerate(values):
        ax.bar(k, v, bottom=level, color="#2e7d32" if v < 0 else "#1f4e79", width=0.6)
        ax.annotate(f"{v:,.{digits}f}", (k, level + max(v, 0)), xytext=(0, 3), textcoords="offset points",
                    ha="center", fontsize=8)
        if k:
            ax.plot([k - 1.3, k - 0.7], [level, level], color="#757575", linewidth=0.8)
        level += v
        top, bottom = max(top, level), min(bottom, level)
    ax.bar(len(labels), level, color="#424242", width=0.6)
    ax.annotate(f"{level:,.{digits}f}", (len(labels), level), xytext=(0, 3), textcoords="offset points",
                ha="center", fontsize=8, fontweight="bold")
    ax.set_xticks(range(len(labels) + 1), [*labels, total_label], fontsize=8, rotation=30, ha="right")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.grid(axis="y", alpha=0.3)
    return bottom, top


def _fit(ax, bottom: float, top: float) -> None:
    span = (top - bottom) or 1.0
    ax.set_ylim(bottom - 0.05 * span if bottom < 0 else 0, top + 0.12 * span)


def landed_cost_waterfalls(df: pd.DataFrame, keys: tuple[str, str], titles: tuple[str, str], currency: str) -> bytes:
    """Two waterfalls side by side: each plan's landed cost per wafer built up category by category."""
    rows = df[df["category"] != "total"]
    fig, axes = _fig_axes(1, 2, sharey=True, figsize=(11, 4.6))
    low, high = 0.0, 0.0
    for ax, key, title in zip(axes, keys, titles):
        bottom, top = _waterfall(ax, rows["category"].tolist(), rows[f"{key}_per_wafer"].fillna(0.0).tolist(),
                                 "total", digits=0)
        low, high = min(low, bottom), max(high, top)
        ax.set_title(title, fontsize=9)
    _fit(axes[0], low, high)
    axes[0].set_ylabel(f"{currency} per wafer made")
    fig.suptitle("Landed cost per wafer: the optimum and the counterfactual", fontsize=10)
    return _png(fig)


def frontier(table: pd.DataFrame, measure_label: str, money: str, knee: int | None) -> bytes:
    """Expected cost against the risk measure, each point labelled by its open sites, the knee marked."""
    d = table[table["status"].isin(SOLVED)]
    fig, ax = _fig_axes(figsize=(8, 5))
    ax.plot(d["measure"], d["expected_cost"], marker="o", color="#1f4e79")
    previous = None
    for n, (_, r) in enumerate(d.iterrows()):
        sites = str(r["sites_open"]).replace(" ", ", ") or "(none)"
        # a plan already named at the previous point is not repeated; labels alternate above and below
        text = textwrap.fill(sites, 34) if sites != previous else "(same sites)"
        previous = sites
        ax.annotate(f"{r['point']}: {text}", (r["measure"], r["expected_cost"]), xytext=(6, 8 if n % 2 else -8),
                    textcoords="offset points", fontsize=7, va="bottom" if n % 2 else "top")
    if knee is not None and knee in d.index:
        ax.scatter([d.at[knee, "measure"]], [d.at[knee, "expected_cost"]], s=160, facecolors="none",
                   edgecolors="#c62828", linewidths=2, label="knee", zorder=3)
        ax.legend(fontsize=8)
    ax.set_xlabel(measure_label)
    ax.set_ylabel(f"expected cost ({money}/yr)")
    ax.ticklabel_format(axis="both", useOffset=False, style="plain")
    ax.grid(alpha=0.3)
    ax.set_title("Cost-risk frontier (epsilon-constraint)", fontsize=11)
    return _png(fig)


def schedule(sched: pd.DataFrame, flows: pd.DataFrame) -> bytes:
    """A phased plan as a Gantt-like chart: per site and product what is being built (from its first
    order to its first output) and producing, with the capacity and production by period beneath."""
    built = sched[sched.groupby(["site", "product"])["modules"].transform("max") > 0]
    keys = list(dict.fromkeys(zip(built["site"], built["product"])))
    start = dict(zip(flows["period"], flows["start_year"]))
    end = int(flows["start_year"].iloc[-1] + flows["years"].iloc[-1])
    fig, (top, bottom) = _fig_axes(2, 1, figsize=(9, 1.2 + 0.45 * max(len(keys), 1) + 3.0),
                                      gridspec_kw={"height_ratios": [max(len(keys), 1), 4]}, sharex=True)
    for k, key in enumerate(keys):
        rows = built[(built["site"] == key[0]) & (built["product"] == key[1])]
        ordered, producing = rows["first_ordered"].iloc[-1], rows["first_producing"].iloc[-1]
        if ordered:
            first_output = start.get(producing, end) if producing else end
            top.barh(k, first_output - start[ordered], left=start[ordered], color="#bdbdbd", hatch="//",
                     edgecolor="#757575", height=0.5, label="being built" if k == 0 else None)
            if producing:
                top.barh(k, end - first_output, left=first_output, color="#1f4e79", height=0.5,
                         label="producing" if k == 0 else None)
    top.set_yticks(range(len(keys)), [f"{s} {p}" for s, p in keys])
    top.invert_yaxis()
    top.set_title("Schedule: what is built where and when", fontsize=11)
    if keys:
        top.legend(fontsize=8, loc="lower right")
    years = [start[t] for t in flows["period"]] + [end]
    for (s, p), grp in built.groupby(["site", "product"], sort=False):
        cap = list(grp["capacity_wafers_per_year"]) + [grp["capacity_wafers_per_year"].iloc[-1]]
        made = list(grp["production_wafers_per_year"]) + [grp["production_wafers_per_year"].iloc[-1]]
        x = [start[t] for t in grp["period"]] + [end]
        line = bottom.step(x, cap, where="post", label=f"{s} {p} capacity")[0]
        bottom.step(x, made, where="post", linestyle="--", color=line.get_color(), label=f"{s} {p} production")
    bottom.set_xlim(years[0], end)
    bottom.set_xticks(years, [str(y) for y in years])
    bottom.set_ylabel("wafers a year")
    bottom.set_xlabel("year")
    if keys:
        bottom.legend(fontsize=7, ncol=2, loc="upper left")
    return _png(fig)


def alternatives_bars(df: pd.DataFrame, money: str) -> bytes:
    """Each plan's cost above the optimum (money a year and relative), labelled by its open sites."""
    names = [f"{r['rank']}. {str(r['open_sites']).replace(';', ' + ') or '(none)'}" for _, r in df.iterrows()]
    y = np.arange(len(names))
    fig, ax = _fig_axes(figsize=(8, 0.5 * len(names) + 1.5))
    diff = df["difference_per_year"].astype(float).fillna(0.0)
    ax.barh(y, diff, color=["#2e7d32"] + ["#1f4e79"] * (len(names) - 1))
    ax.set_yticks(y, [textwrap.shorten(n, 50) for n in names])
    ax.invert_yaxis()
    for k, (v, g) in enumerate(zip(diff, df["gap_to_optimum"].astype(float))):
        ax.annotate(f"+{v:,.1f} ({g:+.2%})", (v, k), xytext=(3, 0), textcoords="offset points", va="center",
                    fontsize=8)
    ax.set_xlim(0, max(float(diff.max()), 1e-9) * 1.3)
    ax.set_xlabel(f"cost above the optimum ({money}/yr)")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title("Near-optimal plans (1: the optimum)", fontsize=11)
    return _png(fig)


def regret_heatmap(matrix: pd.DataFrame, title: str, label: str) -> bytes:
    """A plans x scenarios matrix as a heat map, each cell written out."""
    values = matrix.to_numpy(dtype=float)
    fig, ax = _fig_axes(figsize=(1.1 * matrix.shape[1] + 3.5, 0.5 * matrix.shape[0] + 1.8))
    im = ax.imshow(values, cmap="OrRd", aspect="auto")
    ax.set_xticks(np.arange(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=35, ha="right", fontsize=8)
    ax.set_yticks(np.arange(matrix.shape[0]), [textwrap.shorten(str(i), 40) for i in matrix.index], fontsize=8)
    top = np.nanmax(values) if np.isfinite(values).any() else 0.0
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v):
            ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=7,
                    color="white" if top and v > 0.6 * top else "black")
    fig.colorbar(im, ax=ax, label=label)
    ax.set_title(title, fontsize=11)
    return _png(fig)


def programme_curve(curve: pd.DataFrame, budgets: pd.DataFrame, money: str) -> bytes:
    """Domestic fabs against the least outlay that buys them (a step: each step is one more fab,
    its width the fab's marginal cost), with the programme's budgets marked."""
    fig, ax = _fig_axes(figsize=(8, 5))
    if len(curve):
        right = max(curve["least_outlay"].max(), budgets["budget"].max() if len(budgets) else 0)
        x = np.concatenate([curve["least_outlay"].to_numpy(float), [right]])
        y = np.concatenate([curve["fabs"].to_numpy(float), [curve["fabs"].iloc[-1]]])
        ax.step(x, y, where="post", color="#1f4e79", label="most fabs for the outlay")
    for _, r in budgets.iterrows():
        ax.axvline(r["budget"], color="#999999", linestyle=":", linewidth=1)
        ax.annotate(f"{r['fabs']} fabs\n{r['investment']:,.0f} invested", (r["budget"], r["fabs"]),
                    xytext=(4, -4), textcoords="offset points", fontsize=7, va="top")
        ax.scatter([r["budget"]], [r["fabs"]], color="#c62828", zorder=3)
    ax.set_xlabel(f"programme budget ({money})")
    ax.set_ylabel("domestic fabs")
    ax.ticklabel_format(axis="x", useOffset=False, style="plain")
    ax.grid(alpha=0.3)
    ax.set_title("Fabs brought home against the budget (break-even offers, knapsack)", fontsize=11)
    return _png(fig)
