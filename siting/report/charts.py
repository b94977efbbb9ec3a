"""Pictures of analyses, as PNG bytes (matplotlib, drawn off screen).

Each function returns the PNG as bytes so that the caller writes it atomically beside the tables.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SOLVED = ("optimal", "feasible")


def _png(fig) -> bytes:
    buf = io.BytesIO()
    # no timestamp in the file, so the same sweep gives the same bytes
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def sweep_line(df: pd.DataFrame, path: str, sites: list[str], switches: list, money: str) -> bytes:
    """Objective along one parameter, with the open sites beneath and the switching points marked."""
    d = df[df["status"].isin(SOLVED)].copy()
    d["_x"] = d[path].astype(float)
    d = d.sort_values("_x")
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 4.8),
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
    cmap = plt.get_cmap("tab10", max(len(patterns), 1))
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.imshow(grid, origin="lower", aspect="auto", cmap=cmap, vmin=-0.5, vmax=len(patterns) - 0.5,
              extent=(-0.5, len(xs) - 0.5, -0.5, len(ys) - 0.5))
    ax.set_xticks(range(len(xs)), [f"{v:.4g}" for v in xs], rotation=45 if len(xs) > 8 else 0)
    ax.set_yticks(range(len(ys)), [f"{v:.4g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(code[p])) for p in patterns]
    ax.legend(handles, patterns, title="open sites", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    ax.set_title("Chosen open sites", fontsize=11)
    return _png(fig)


def tornado(swings: pd.DataFrame, base: float, money: str) -> bytes:
    """Objective at each parameter's lowest and highest value, around the base case.

    ``swings`` has columns ``parameter``, ``low_value``, ``high_value``, ``at_low``, ``at_high``.
    """
    s = swings.assign(swing=(swings["at_high"] - swings["at_low"]).abs()).sort_values("swing")
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(s) + 1.5))
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
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in ("#1565c0", "#ef6c00")]
    ax.legend(handles, ["lowest value", "highest value"], fontsize=8, loc="lower right")
    ax.set_title("Swing of the firm cost per parameter (one at a time)", fontsize=11)
    return _png(fig)


def frontier(table: pd.DataFrame, measure_label: str, money: str, knee: int | None) -> bytes:
    """Expected cost against the risk measure, each point labelled by its open sites, the knee marked."""
    d = table[table["status"].isin(SOLVED)]
    fig, ax = plt.subplots(figsize=(8, 5))
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
