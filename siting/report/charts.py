"""Pictures of analyses, as PNG bytes (matplotlib, drawn off screen).

Each function returns the PNG as bytes so that the caller writes it atomically beside the tables.
"""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache

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


def compare_bars(df: pd.DataFrame, money: str) -> bytes:
    """Per package: the policy maker's outlay a year beside the domestic capacity it buys."""
    names = df["package"].tolist()
    countries = sorted({c for c in df["policy_country"].fillna("") if c})
    who = countries[0] if len(countries) == 1 else "each package's policy country" if countries else ""
    y = np.arange(len(names))
    fig, (left, right) = plt.subplots(1, 2, sharey=True, figsize=(9, 0.55 * len(names) + 1.6))
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


SITE_COLOUR, LOCAL_COLOUR, FOREIGN_COLOUR, UNUSED_COLOUR = "#b71c1c", "#2e7d32", "#7b1fa2", "#9e9e9e"
INPUT_FLOW, PRODUCT_FLOW = "#1565c0", "#ef6c00"
OUTLINE_NOTE = "Country outlines: Natural Earth 1:110m (public domain); borders are indicative."


def _cut_meridian(lons: np.ndarray) -> float:
    """The meridian in the middle of the widest gap between the network's longitudes.

    Cutting the world there keeps a Pacific network (Japan, Taiwan, Arizona) in one piece instead
    of split across the 180th meridian.
    """
    lons = np.sort(np.mod(np.asarray(lons, dtype=float) + 180, 360) - 180)
    if len(lons) == 0:
        return -180.0
    gaps = np.diff(np.append(lons, lons[0] + 360))
    k = int(np.argmax(gaps))
    return float(np.mod(lons[k] + gaps[k] / 2 + 180, 360) - 180)


def _shift(lon, cut: float):
    """Longitudes moved into [cut, cut + 360)."""
    return np.mod(np.asarray(lon, dtype=float) - cut, 360) + cut


@lru_cache(maxsize=8)
def _world(cut: float) -> tuple:
    """Country outlines cut at ``cut``, moved into [cut, cut + 360), as matplotlib paths.

    Paths are drawn as one collection: geopandas' own plotting redraws the whole figure on every
    call, which doubled the time of a map.
    """
    import shapely
    from matplotlib.path import Path as MplPath
    from shapely.affinity import translate

    from siting.instance.geo import country_outlines

    world = country_outlines()
    geoms = list(world.clip(shapely.box(cut, -90, 180, 90)).geometry)
    if cut > -180:
        geoms += [translate(g, xoff=360) for g in world.clip(shapely.box(-180, -90, cut, 90)).geometry]
    paths = []
    for geom in geoms:
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
            paths.append(MplPath.make_compound_path(*(MplPath(r[:, :2], closed=True) for r in rings)))
    return tuple(paths)


def _line_parts(geom, cut: float) -> list[np.ndarray]:
    """A flow line's vertices as (lon, lat) arrays, shifted and split where they cross the cut."""
    xy = np.asarray(geom.coords)
    xy[:, 0] = _shift(xy[:, 0], cut)
    jumps = np.where(np.abs(np.diff(xy[:, 0])) > 180)[0]
    return np.split(xy, jumps + 1)


def _draw_network(ax, layers: dict, cut: float, extent, label: bool, scale: float = 1.0,
                  suppliers_named: bool = False) -> None:
    from matplotlib.collections import PathCollection

    ax.add_collection(PathCollection(list(_world(round(cut, 6))), facecolor="#f1efe8", edgecolor="#8d8d8d",
                                     linewidth=0.4, zorder=0))
    flows = layers["flows"]
    for kind, colour in (("input", INPUT_FLOW), ("product", PRODUCT_FLOW)):
        f = flows[flows["kind"] == kind]
        top = float(f["value_per_year"].max()) if len(f) else 0.0
        for _, r in f.iterrows():
            width = 0.6 + 4.0 * (r["value_per_year"] / top if top > 0 else 0.0)
            for part in _line_parts(r.geometry, cut):
                ax.plot(part[:, 0], part[:, 1], color=colour, linewidth=width * scale, alpha=0.55, zorder=1,
                        solid_capstyle="round")
    mk = layers["markets"]
    ax.scatter(_shift(mk.geometry.x, cut), mk.geometry.y, marker="D", s=26 * scale, color="#212121", zorder=4)
    sup = layers["suppliers"]
    for status, colour in (("unused", UNUSED_COLOUR), ("not local", FOREIGN_COLOUR), ("local", LOCAL_COLOUR)):
        s = sup[sup["status"] == status]
        face = "none" if status == "unused" else colour
        ax.scatter(_shift(s.geometry.x, cut), s.geometry.y, marker="^", s=34 * scale, facecolors=face,
                   edgecolors=colour, linewidths=0.9, zorder=5)
        if suppliers_named and status != "unused":
            for _, r in s.iterrows():
                x = float(_shift(r.geometry.x, cut))
                if extent[0][0] <= x <= extent[0][1] and extent[1][0] <= r.geometry.y <= extent[1][1]:
                    ax.annotate(r["id"], (x, r.geometry.y), xytext=(4, -9), textcoords="offset points", fontsize=6,
                                color=colour, zorder=6)
    sites = layers["sites"]
    big = float(sites["max_capacity_wafers_per_year"].max() or 1.0)
    for _, r in sites.iterrows():
        cap = r["capacity_wafers_per_year"] if r["open"] else r["max_capacity_wafers_per_year"]
        size = (40 + 220 * cap / big) * scale
        x = float(_shift(r.geometry.x, cut))
        # hollow circles stay see-through, so suppliers and markets under a closed site show
        ax.scatter([x], [r.geometry.y], s=size, marker="o", facecolors=SITE_COLOUR if r["open"] else "none",
                   edgecolors=SITE_COLOUR, linewidths=1.6, zorder=3 if r["open"] else 2)
        if label:
            ax.annotate(r["id"], (x, r.geometry.y), xytext=(7, 5), textcoords="offset points", fontsize=8,
                        fontweight="bold" if r["open"] else "normal", color=SITE_COLOUR, zorder=6)
    (x0, x1), (y0, y1) = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / max(np.cos(np.radians((y0 + y1) / 2)), 0.2))


def _extent(lons: np.ndarray, lats: np.ndarray, pad: float):
    x0, x1, y0, y1 = lons.min(), lons.max(), lats.min(), lats.max()
    px, py = max((x1 - x0) * 0.08, pad), max((y1 - y0) * 0.12, pad)
    return (x0 - px, x1 + px), (max(y0 - py, -90), min(y1 + py, 90))


def _cluster(layers: dict, cut: float, whole_width: float):
    """The extent of an inset around the busiest open site, or None when nothing is crowded.

    A cluster is the open site (or, with none open, every site) with the suppliers and markets
    within 250 km; an inset is drawn when it has three or more places and spans less than a
    tenth of the map's width.
    """
    from siting.instance.geo import geodesic_km

    sites = layers["sites"]
    centres = sites[sites["open"].astype(bool)] if sites["open"].astype(bool).any() else sites
    others = pd.concat([layers["suppliers"].geometry, layers["markets"].geometry, sites.geometry])
    best = None
    for _, c in centres.iterrows():
        dist = geodesic_km(c.geometry.y, c.geometry.x, others.y.values, others.x.values)
        near = others[dist <= 250]
        if len(near) >= 3 and (best is None or len(near) > len(best)):
            best = near
    if best is None:
        return None
    lons, lats = _shift(best.x.values, cut), best.y.values
    (x0, x1), (y0, y1) = _extent(lons, lats, 0.4)
    if (x1 - x0) > whole_width / 10 or whole_width < 15:
        return None
    return (x0, x1), (y0, y1)


def network_map(layers: dict, title: str) -> bytes:
    """Map of the chosen network: sites (open filled, closed hollow, size by capacity), suppliers
    (local, not local, unused), markets, flows (width by value per year) and a zoomed panel where
    places crowd around an open site (Kyushu in the flagship).

    ``layers`` are those of :func:`siting.report.network.network_layers` (or read back from
    ``network.gpkg``).
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    every = pd.concat([layers[n].geometry for n in ("sites", "suppliers", "markets")])
    cut = _cut_meridian(every.x.values)
    lons, lats = _shift(every.x.values, cut), every.y.values
    # the map holds every place and every flow line (a great circle bulges towards the pole)
    line_lats = [np.asarray(g.coords)[:, 1] for g in layers["flows"].geometry]
    all_lats = np.concatenate([lats, *line_lats]) if line_lats else lats
    extent = _extent(lons, all_lats, 2.0)
    (x0, x1), (y0, y1) = extent
    ratio = (y1 - y0) / max(np.cos(np.radians((y0 + y1) / 2)), 0.2) / (x1 - x0)
    width = 11.0
    main_h = float(np.clip(width * ratio, 3.5, 8.0))
    fig = plt.figure(figsize=(width, main_h + 3.6))
    grid = fig.add_gridspec(2, 2, width_ratios=[1.5, 1], height_ratios=[main_h, 3.2], wspace=0.05, hspace=0.3)
    ax = fig.add_subplot(grid[0, :])
    ax.set_facecolor("#dceaf5")
    _draw_network(ax, layers, cut, extent, label=True)
    ax.set_xlabel("longitude (degrees east)" + ("; beyond 180 read minus 360" if x1 > 180 else ""))
    ax.set_ylabel("latitude (degrees north)")
    inset = _cluster(layers, cut, x1 - x0)
    if inset is not None:
        sub = fig.add_subplot(grid[1, 0])
        sub.set_facecolor("#dceaf5")
        _draw_network(sub, layers, cut, inset, label=True, scale=0.9, suppliers_named=True)
        sub.set_xticks([])
        sub.set_yticks([])
        sub.set_title("zoom on the grey box", fontsize=9)
        (ix0, ix1), (iy0, iy1) = inset
        ax.add_patch(Rectangle((ix0, iy0), ix1 - ix0, iy1 - iy0, fill=False, edgecolor="#424242", linewidth=1.2,
                               zorder=7))
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, color=SITE_COLOUR, label="site, open (size: capacity)"),
        Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor="white", color=SITE_COLOUR,
               label="site, closed (size: most capacity)"),
        Line2D([], [], marker="^", linestyle="", color=LOCAL_COLOUR, label="supplier, local to its site"),
        Line2D([], [], marker="^", linestyle="", color=FOREIGN_COLOUR, label="supplier, not local"),
        Line2D([], [], marker="^", linestyle="", markerfacecolor="none", color=UNUSED_COLOUR, label="supplier, unused"),
        Line2D([], [], marker="D", linestyle="", markersize=5, color="#212121", label="market"),
        Line2D([], [], color=INPUT_FLOW, linewidth=2.5, alpha=0.6, label="inputs bought (width: value)"),
        Line2D([], [], color=PRODUCT_FLOW, linewidth=2.5, alpha=0.6, label="wafers shipped (width: cost)"),
    ]
    legend_ax = fig.add_subplot(grid[1, 1] if inset is not None else grid[1, :])
    legend_ax.axis("off")
    legend_ax.legend(handles=handles, loc="center", fontsize=8, frameon=False)
    ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.005, OUTLINE_NOTE, fontsize=7, color="#616161")
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


def cost_waterfall(costs: dict[str, float], money: str) -> bytes:
    """The firm's annual cost built up category by category (subsidies step down), ending at the total."""
    names = [c for c, v in costs.items() if abs(v) > 1e-9]
    fig, ax = plt.subplots(figsize=(8, 3.8))
    bottom, top = _waterfall(ax, [n.replace("_", " ") for n in names], [costs[n] for n in names], "firm cost")
    _fit(ax, bottom, top)
    ax.set_ylabel(f"{money} per year")
    ax.set_title("Annual cost to the firm, by category", fontsize=11)
    return _png(fig)


def landed_cost_waterfalls(df: pd.DataFrame, keys: tuple[str, str], titles: tuple[str, str], currency: str,
                           heading: str = "Landed cost per wafer: the optimum and the counterfactual",
                           unit: str = "per wafer made") -> bytes:
    """Two waterfalls side by side: each plan's landed cost per wafer built up category by category."""
    rows = df[df["category"] != "total"]
    fig, axes = plt.subplots(1, 2, sharey=True, figsize=(11, 4.6))
    low, high = 0.0, 0.0
    for ax, key, title in zip(axes, keys, titles):
        bottom, top = _waterfall(ax, rows["category"].tolist(), rows[f"{key}_per_wafer"].fillna(0.0).tolist(),
                                 "total", digits=0)
        low, high = min(low, bottom), max(high, top)
        ax.set_title(title, fontsize=9)
    _fit(axes[0], low, high)
    axes[0].set_ylabel(f"{currency} {unit}")
    fig.suptitle(heading, fontsize=10)
    return _png(fig)


def supplier_mix(mix: pd.DataFrame) -> bytes:
    """Share of each supplier in each input at each open site, as stacked bars (local suppliers hatched
    green, others purple shades)."""
    bars = list(dict.fromkeys(zip(mix["site"], mix["input"])))
    fig, ax = plt.subplots(figsize=(8, 0.42 * len(bars) + 1.4))
    local_cm, other_cm = plt.get_cmap("Greens"), plt.get_cmap("Purples")
    for k, (s, i) in enumerate(bars):
        rows = mix[(mix["site"] == s) & (mix["input"] == i)].sort_values(["local", "share"], ascending=False)
        left = 0.0
        for n, r in enumerate(rows.itertuples()):
            colour = (local_cm if r.local else other_cm)(0.75 - 0.2 * (n % 3))
            ax.barh(k, r.share, left=left, color=colour, edgecolor="white", height=0.7)
            if r.share >= 0.12:
                ax.annotate(str(r.supplier), (left + r.share / 2, k), ha="center", va="center", fontsize=6.5,
                            color="white")
            left += r.share
    ax.set_yticks(range(len(bars)), [f"{s} / {i}" for s, i in bars], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the input's units")
    handles = [plt.Rectangle((0, 0), 1, 1, color=local_cm(0.75)), plt.Rectangle((0, 0), 1, 1, color=other_cm(0.75))]
    ax.legend(handles, ["local supplier", "not local"], fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title("Supplier mix by site and input", fontsize=11)
    return _png(fig)


def local_share(sites: pd.DataFrame) -> bytes:
    """Local share achieved at each open site against its target."""
    s = sites[sites["open"].astype(bool)]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(s) + 1.4))
    y = np.arange(len(s))
    ax.barh(y, s["local_share"].fillna(0.0), color="#2e7d32", height=0.5, label="achieved")
    for k, (share, target) in enumerate(zip(s["local_share"], s["local_target"])):
        if not pd.isna(target):
            ax.plot([target, target], [k - 0.4, k + 0.4], color="#c62828", linewidth=2.5,
                    label="target" if k == 0 or "target" not in ax.get_legend_handles_labels()[1] else None)
        ax.annotate("nothing bought" if pd.isna(share) else f"{share:.1%}", (0 if pd.isna(share) else share, k),
                    xytext=(4, 0), textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(y, list(s["site"]))
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("value share of purchases from local suppliers")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Local share against target", fontsize=11)
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


def schedule(sched: pd.DataFrame, flows: pd.DataFrame) -> bytes:
    """A phased plan as a Gantt-like chart: per site and product what is being built (from its first
    order to its first output) and producing, with the capacity and production by period beneath."""
    built = sched[sched.groupby(["site", "product"])["modules"].transform("max") > 0]
    keys = list(dict.fromkeys(zip(built["site"], built["product"])))
    start = dict(zip(flows["period"], flows["start_year"]))
    end = int(flows["start_year"].iloc[-1] + flows["years"].iloc[-1])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 1.2 + 0.45 * max(len(keys), 1) + 3.0),
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
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.5))
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
    fig, ax = plt.subplots(figsize=(1.1 * matrix.shape[1] + 3.5, 0.5 * matrix.shape[0] + 1.8))
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
    fig, ax = plt.subplots(figsize=(8, 5))
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
