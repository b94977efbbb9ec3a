"""``map.png``: the chosen network on a map fitted to it.

The map uses a Lambert azimuthal equal-area projection centred on the network (the mean of its
places on the sphere), so a network that spans the Pacific stays in one piece, areas are true and
nothing is read off degree axes: a scale bar gives distance, a light graticule the latitudes and
longitudes. The frame holds every place and every flow line (a great circle bulges towards the
pole). Names are placed where they overlap neither another name nor a marker, or left out; the
zoom panel shows the most crowded part of the map, where the left-out names are given. The figure
is laid out by hand (no tight bounding box, which draws everything twice) and drawn once on the
Agg canvas.
"""

from __future__ import annotations

import io
import math
import textwrap
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath

SITE_COLOUR, LOCAL_COLOUR, FOREIGN_COLOUR, UNUSED_COLOUR = "#b71c1c", "#2e7d32", "#7b1fa2", "#9e9e9e"
MARKET_COLOUR = "#212121"
INPUT_FLOW, PRODUCT_FLOW = "#1565c0", "#ef6c00"
LAND, SEA, BORDER, GRID = "#f1efe8", "#dceaf5", "#8d8d8d", "#b0bec5"
OUTLINE_NOTE = "Country outlines: Natural Earth 1:110m (public domain); borders are indicative."
DPI = 110
WIDTH_IN = 11.0
#: Earth radius of the projection, km (the mean radius).
RADIUS_KM = 6371.0


def _centre(lons: np.ndarray, lats: np.ndarray) -> tuple[float, float]:
    """(lat, lon) of the mean of the places as unit vectors: the centre of the network on the sphere."""
    lam, phi = np.radians(lons), np.radians(lats)
    x, y, z = (np.mean(np.cos(phi) * np.cos(lam)), np.mean(np.cos(phi) * np.sin(lam)), np.mean(np.sin(phi)))
    return float(np.degrees(math.atan2(z, math.hypot(x, y)))), float(np.degrees(math.atan2(y, x)))


@lru_cache(maxsize=8)
def _transformer(lat0: float, lon0: float, kind: str):
    from pyproj import Transformer

    return Transformer.from_crs("EPSG:4326", f"+proj={kind} +lat_0={lat0} +lon_0={lon0} +R={RADIUS_KM * 1000} "
                                "+units=km +no_defs", always_xy=True)


def _angle(lons, lats, lat0: float, lon0: float) -> np.ndarray:
    """Angular distance in degrees of each (lon, lat) from the centre."""
    p1, p2 = np.radians(lat0), np.radians(np.asarray(lats, dtype=float))
    dl = np.radians(np.asarray(lons, dtype=float) - lon0)
    c = np.sin(p1) * np.sin(p2) + np.cos(p1) * np.cos(p2) * np.cos(dl)
    return np.degrees(np.arccos(np.clip(c, -1.0, 1.0)))


class _Projection:
    """The map's projection, in km: Lambert azimuthal equal-area centred on a regional network, or
    Equal Earth (an equal-area world map, north up) centred on the meridian opposite the widest
    empty band of longitudes for a network that spans a hemisphere, so that it stays in one piece."""

    def __init__(self, lat0: float, lon0: float, world: bool) -> None:
        self.lat0, self.lon0, self.world = round(lat0, 4), round(lon0, 4), world
        self.cut = float(np.mod(self.lon0 + 360.0, 360.0) - 180.0)  # the meridian opposite the centre
        self._t = _transformer(0.0 if world else self.lat0, self.lon0, "eqearth" if world else "laea")

    def __call__(self, lons, lats) -> tuple[np.ndarray, np.ndarray]:
        x, y = self._t.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def words(self) -> str:
        ns, ew = ("N" if self.lat0 >= 0 else "S"), ("E" if self.lon0 >= 0 else "W")
        lon = f"{abs(self.lon0):.0f}°{ew}"
        if self.world:
            return f"Equal Earth projection centred on {lon}"
        return f"Lambert azimuthal equal-area projection centred at {abs(self.lat0):.0f}°{ns} {lon}"

    def lines(self, lons: np.ndarray, lats: np.ndarray) -> list[np.ndarray]:
        """A line's projected pieces: split where it crosses the world map's edge (the cut)."""
        if not self.world:
            return [np.column_stack(self(lons, lats))]
        shifted = _shift(lons, self.cut)
        jumps = np.flatnonzero(np.abs(np.diff(shifted)) > 180) + 1
        return [np.column_stack(self(lo, la)) for lo, la in zip(np.split(lons, jumps), np.split(lats, jumps))
                if len(lo) > 1]


def _world_cut(lons: np.ndarray, flows: pd.DataFrame) -> float:
    """The edge of a world map: of the middles of the three widest empty bands of longitude, the
    one that the fewest flow lines cross (then the widest band), so the network stays in one piece."""
    ring = np.sort(np.mod(np.asarray(lons, dtype=float) + 180, 360) - 180)
    gaps = np.diff(np.append(ring, ring[0] + 360))
    best = None
    for k in np.argsort(-gaps, kind="stable")[:3]:
        cut = float(np.mod(ring[k] + gaps[k] / 2 + 180, 360) - 180)
        crossings = sum(int((np.abs(np.diff(_shift(c[:, 0], cut))) > 180).sum()) for c in flows["coords"])
        if best is None or crossings < best[0]:
            best = (crossings, cut)
    return best[1]


def _shift(lon, cut: float):
    """Longitudes moved into [cut, cut + 360)."""
    return np.mod(np.asarray(lon, dtype=float) - cut, 360) + cut


@lru_cache(maxsize=8)
def _world(lat0: float, lon0: float, world: bool) -> tuple:
    """Country outlines projected, as matplotlib paths. On a world map each outline is cut at the
    map's edge first (the meridian opposite the centre), so no country smears across the map; on a
    regional map, rings that reach more than 150 degrees from the centre (near the projection's one
    singular point, the antipode) are left out: they lie far outside any frame the places give."""
    import shapely

    from siting.instance.geo import country_outlines

    proj = _Projection(lat0, lon0, world)
    geoms = list(country_outlines().geometry)
    if world and proj.cut > -180:
        geoms = [g.intersection(box) for g in geoms
                 for box in (shapely.box(-180, -90, proj.cut - 1e-7, 90), shapely.box(proj.cut + 1e-7, -90, 180, 90))]
    rings_of = []
    for geom in geoms:
        for poly in getattr(geom, "geoms", [geom]):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rings_of.append([np.asarray(poly.exterior.coords)[:, :2]]
                            + [np.asarray(r.coords)[:, :2] for r in poly.interiors])
    flat = np.concatenate([r for rings in rings_of for r in rings])
    far = (np.zeros(len(flat), dtype=bool) if world
           else _angle(flat[:, 0], flat[:, 1], proj.lat0, proj.lon0) > 150)
    x, y = proj(flat[:, 0], flat[:, 1])
    paths, k = [], 0
    for rings in rings_of:
        parts = []
        skip = False
        for r in rings:
            n = len(r)
            skip = skip or bool(far[k:k + n].any())
            parts.append(MplPath(np.column_stack([x[k:k + n], y[k:k + n]]), closed=True))
            k += n
        if not skip:
            paths.append(MplPath.make_compound_path(*parts))
    return tuple(paths)


def _runs(lon: np.ndarray, lat: np.ndarray, keep: np.ndarray, proj: _Projection) -> list[np.ndarray]:
    """The projected pieces of a line where ``keep`` holds."""
    out, start = [], None
    for k, ok in enumerate([*keep, False]):
        if ok and start is None:
            start = k
        elif not ok and start is not None:
            if k - start > 1:
                out.append(np.column_stack(proj(lon[start:k], lat[start:k])))
            start = None
    return out


def _graticule(ax, proj: _Projection, step: float) -> None:
    """Meridians and parallels every ``step`` degrees, thin and light, in place of degree axes."""
    lines = []
    lat = np.linspace(-80, 80, 161)
    near = 180 if proj.world else 120
    for lon in np.arange(-180, 180, step):
        lons = np.full_like(lat, lon)
        lines += _runs(lons, lat, _angle(lons, lat, proj.lat0, proj.lon0) < near, proj)
    # parallels run from the map's edge round to it (on a world map), or where near the centre
    lon = np.linspace(proj.cut + 0.01, proj.cut + 359.99, 360)
    for la in np.arange(-80, 81, step):
        lats = np.full_like(lon, la)
        lines += _runs(lon, lats, _angle(lon, lats, proj.lat0, proj.lon0) < near, proj)
    ax.add_collection(LineCollection(lines, colors=GRID, linewidths=0.5, zorder=0.5, alpha=0.8))


def _nice(x: float) -> float:
    """1, 2 or 5 times a power of ten, at most ``x``."""
    p = 10 ** math.floor(math.log10(x))
    return max(m * p for m in (1, 2, 5) if m * p <= x)


def _scale_bar(ax, extent) -> None:
    (x0, x1), (y0, y1) = extent
    length = _nice((x1 - x0) / 5)
    x, y = x0 + (x1 - x0) * 0.03, y0 + (y1 - y0) * 0.05
    ax.plot([x, x + length], [y, y], color="#424242", linewidth=2.5, solid_capstyle="butt", zorder=8)
    ax.annotate(f"{length:,.0f} km", (x + length / 2, y), xytext=(0, 4), textcoords="offset points", ha="center",
                va="bottom", fontsize=7.5, color="#424242", zorder=8)


def _flows(flows) -> pd.DataFrame:
    """One line per kind, origin and destination: its vertices and its value a year (the mean
    over the scenarios' rows, which repeat a flow once per scenario)."""
    if not len(flows):
        return pd.DataFrame(columns=["kind", "value", "coords"])
    f = pd.DataFrame({"kind": flows["kind"].values, "origin": flows["origin"].values,
                      "destination": flows["destination"].values, "value": flows["value_per_year"].astype(float).values,
                      "coords": [np.asarray(g.coords)[:, :2] for g in flows.geometry]})
    g = f.groupby(["kind", "origin", "destination"], sort=False)
    return pd.DataFrame({"kind": g["kind"].first(), "value": g["value"].mean(), "coords": g["coords"].first()})


class _Labels:
    """Greedy label placement in display pixels: each name takes the first of eight places around
    its marker that overlaps no name or marker already there and stays inside the axes."""

    def __init__(self, ax, obstacles: list[tuple[float, float, float]]) -> None:
        self.ax = ax
        self.frame = ax.bbox.extents
        self.taken = [(x - r, y - r, x + r, y + r) for x, y, r in obstacles]
        self.hidden: list[str] = []
        self.placed: list[tuple[str, tuple[float, float, float, float]]] = []

    def _free(self, box) -> bool:
        fx0, fy0, fx1, fy1 = self.frame
        if box[0] < fx0 + 2 or box[1] < fy0 + 2 or box[2] > fx1 - 2 or box[3] > fy1 - 2:
            return False
        return not any(box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in self.taken)

    def place(self, x: float, y: float, text: str, radius: float, size: float, **style) -> bool:
        px, py = self.ax.transData.transform((x, y))
        w = 0.6 * size * len(text) * DPI / 72 + 2
        h = 1.25 * size * DPI / 72
        g = radius + 2
        for dx, dy, ha, va in ((g, 0, "left", "center"), (g * 0.8, g * 0.8, "left", "bottom"),
                               (-g * 0.8, g * 0.8, "right", "bottom"), (-g, 0, "right", "center"),
                               (g * 0.8, -g * 0.8, "left", "top"), (-g * 0.8, -g * 0.8, "right", "top"),
                               (0, g, "center", "bottom"), (0, -g, "center", "top")):
            left = px + dx - (w if ha == "right" else w / 2 if ha == "center" else 0)
            bottom = py + dy - (h if va == "top" else h / 2 if va == "center" else 0)
            box = (left, bottom, left + w, bottom + h)
            if self._free(box):
                self.taken.append(box)
                self.placed.append((text, box))
                self.ax.annotate(text, (x, y), xytext=(dx * 72 / DPI, dy * 72 / DPI), textcoords="offset points",
                                 ha=ha, va=va, fontsize=size, zorder=9, **style)
                return True
        self.hidden.append(text)
        return False


def _radius_px(area_pt2: float) -> float:
    """Radius in pixels of a scatter marker of ``area_pt2`` square points."""
    return math.sqrt(area_pt2) / 2 * DPI / 72


def _draw(ax, layers: dict, proj: _Projection, extent, flows: pd.DataFrame, scale: float, names: str,
          skip_box=None) -> _Labels:
    """Draw the network into ``ax`` with ``extent`` ((x0, x1), (y0, y1) km); name the sites (and,
    with ``names="all"``, the suppliers used and the markets) where there is room. Returns the
    names placed and left out. Places inside ``skip_box`` are not named (the zoom panel names them)."""
    ax.set_facecolor(SEA)
    ax.add_collection(PathCollection(list(_world(proj.lat0, proj.lon0, proj.world)), facecolor=LAND, edgecolor=BORDER,
                                     linewidth=0.4, zorder=0))
    (x0, x1), (y0, y1) = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xticks([])
    ax.set_yticks([])
    span = max(x1 - x0, y1 - y0)
    _graticule(ax, proj, 5.0 if span < 2500 else 10.0 if span < 9000 else 20.0)
    for kind, colour in (("input", INPUT_FLOW), ("product", PRODUCT_FLOW)):
        f = flows[flows["kind"] == kind]
        if not len(f):
            continue
        top = float(f["value"].max())
        segs, widths = [], []
        for c, v in zip(f["coords"], f["value"]):
            parts = proj.lines(c[:, 0], c[:, 1])
            segs += parts
            widths += [(0.6 + 4.0 * (v / top if top > 0 else 0.0)) * scale] * len(parts)
        ax.add_collection(LineCollection(segs, colors=colour, linewidths=widths, alpha=0.55, zorder=1,
                                         capstyle="round"))
    obstacles: list[tuple[float, float, float]] = []
    to_px = ax.transData.transform
    mk = layers["markets"]
    mx, my = proj(mk.geometry.x.values, mk.geometry.y.values)
    ax.scatter(mx, my, marker="D", s=26 * scale, color=MARKET_COLOUR, zorder=4)
    obstacles += [(*to_px((a, b)), _radius_px(26 * scale)) for a, b in zip(mx, my)]
    sup = layers["suppliers"]
    sx, sy = proj(sup.geometry.x.values, sup.geometry.y.values)
    status = sup["status"].values
    for st, colour in (("unused", UNUSED_COLOUR), ("not local", FOREIGN_COLOUR), ("local", LOCAL_COLOUR)):
        k = status == st
        ax.scatter(sx[k], sy[k], marker="^", s=34 * scale, facecolors="none" if st == "unused" else colour,
                   edgecolors=colour, linewidths=0.9, zorder=5)
    obstacles += [(*to_px((a, b)), _radius_px(34 * scale)) for a, b in zip(sx, sy)]
    sites = layers["sites"]
    big = float(sites["max_capacity_wafers_per_year"].max() or 1.0)
    tx, ty = proj(sites.geometry.x.values, sites.geometry.y.values)
    is_open = sites["open"].astype(bool).values
    cap = np.where(is_open, sites["capacity_wafers_per_year"].astype(float), sites["max_capacity_wafers_per_year"])
    sizes = (40 + 220 * cap / big) * scale
    # hollow circles stay see-through, so suppliers and markets under a closed site show
    ax.scatter(tx[~is_open], ty[~is_open], s=sizes[~is_open], marker="o", facecolors="none", edgecolors=SITE_COLOUR,
               linewidths=1.6, zorder=2)
    ax.scatter(tx[is_open], ty[is_open], s=sizes[is_open], marker="o", facecolors=SITE_COLOUR,
               edgecolors=SITE_COLOUR, linewidths=1.6, zorder=3)
    obstacles += [(*to_px((a, b)), _radius_px(s)) for a, b, s in zip(tx, ty, sizes)]
    labels = _Labels(ax, obstacles)

    def inside(x, y) -> bool:
        return x0 <= x <= x1 and y0 <= y <= y1 and not (
            skip_box is not None and skip_box[0][0] <= x <= skip_box[0][1] and skip_box[1][0] <= y <= skip_box[1][1])

    order = np.lexsort((-cap, ~is_open))  # open sites first, the largest first
    for k in order:
        if inside(tx[k], ty[k]):
            labels.place(tx[k], ty[k], str(sites["id"].iloc[k]), _radius_px(sizes[k]), 8.5 * min(scale, 1.0),
                         color=SITE_COLOUR, fontweight="bold" if is_open[k] else "normal")
    if names == "all":
        for st, colour in (("local", LOCAL_COLOUR), ("not local", FOREIGN_COLOUR)):
            for k in np.flatnonzero(status == st):
                if inside(sx[k], sy[k]):
                    labels.place(sx[k], sy[k], str(sup["id"].iloc[k]), _radius_px(34 * scale), 6.5, color=colour)
        for k in range(len(mk)):
            if inside(mx[k], my[k]):
                labels.place(mx[k], my[k], str(mk["id"].iloc[k]), _radius_px(26 * scale), 6.5, color=MARKET_COLOUR,
                             fontstyle="italic")
    return labels


def _extent(xs: np.ndarray, ys: np.ndarray, pad: float, ratio: float | None = None):
    """((x0, x1), (y0, y1)) around the points with ``pad`` (a share of the span, at least 50 km),
    widened to the height-to-width ``ratio`` of its axes when given."""
    x0, x1, y0, y1 = xs.min(), xs.max(), ys.min(), ys.max()
    px, py = max((x1 - x0) * pad, 50.0), max((y1 - y0) * pad, 50.0)
    x0, x1, y0, y1 = x0 - px, x1 + px, y0 - py, y1 + py
    if ratio is not None:
        w, h = x1 - x0, y1 - y0
        if h / w < ratio:
            grow = (w * ratio - h) / 2
            y0, y1 = y0 - grow, y1 + grow
        else:
            grow = (h / ratio - w) / 2
            x0, x1 = x0 - grow, x1 + grow
    return (float(x0), float(x1)), (float(y0), float(y1))


def _crowded(xs: np.ndarray, ys: np.ndarray, extent, priority: np.ndarray):
    """The centre and radius of the most crowded part of the map, or None when no part is crowded.

    Crowded: the most places within a radius of 4% of the map's diagonal of one place (ties go to
    the place with the higher ``priority``, open sites first), and at least four of them.
    """
    (x0, x1), (y0, y1) = extent
    r = 0.04 * math.hypot(x1 - x0, y1 - y0)
    d = np.hypot(xs[:, None] - xs[None, :], ys[:, None] - ys[None, :])
    counts = (d <= r).sum(axis=1)
    best = int(np.lexsort((-priority, -counts))[0])
    if counts[best] < 4:
        return None
    return best, r


def network_map(layers: dict, title: str, money: str = "", layout: dict | None = None) -> bytes:
    """Map of the chosen network as PNG bytes.

    Sites (open filled, closed hollow, area by capacity), suppliers (local, not local, unused),
    markets and flows (width by value a year) on a map fitted to the network, with a zoom panel on
    its most crowded part and a legend that says what each mark means.

    Parameters
    ----------
    layers
        The layers of :func:`siting.report.network.network_layers` (or read back from ``network.gpkg``).
    title
        The map's title (instance, status, cost).
    money
        The money unit of the flows' values (named in the legend).
    layout
        If given, filled with what was decided (for tests): ``projection``, ``extent`` and
        ``inset`` (((x0, x1), (y0, y1)) in km, ``inset`` None without a zoom panel), ``lines``
        (every flow line's projected vertices), ``places`` (id -> projected (x, y)), ``labels``
        (per panel, each name with its box in pixels) and ``hidden`` (names left out).
    """
    sites, sup, mk = layers["sites"], layers["suppliers"], layers["markets"]
    every = pd.concat([sites.geometry, sup.geometry, mk.geometry])
    lons, lats = every.x.values, every.y.values
    lat0, lon0 = _centre(lons, lats)
    # a network that reaches more than 40 degrees from its centre gets a world map
    world = bool(_angle(lons, lats, lat0, lon0).max() > 40)
    flows = _flows(layers["flows"])
    if world:
        lon0 = float(np.mod(_world_cut(lons, flows) + 360.0, 360.0) - 180.0)
    proj = _Projection(lat0, lon0, world)
    px, py = proj(lons, lats)
    line_xy = [part for c in flows["coords"] for part in proj.lines(c[:, 0], c[:, 1])] if len(flows) else []
    all_x = np.concatenate([px, *[ln[:, 0] for ln in line_xy]])
    all_y = np.concatenate([py, *[ln[:, 1] for ln in line_xy]])
    # the main map's height follows the network's shape, within limits; its extent fills the frame
    raw = _extent(all_x, all_y, 0.06)
    ratio = float(np.clip((raw[1][1] - raw[1][0]) / (raw[0][1] - raw[0][0]), 0.35, 0.75))
    extent = _extent(all_x, all_y, 0.06, ratio)
    margin, top_h, bottom_h, gap = 0.25, 0.7, 3.4, 0.35
    main_w = WIDTH_IN - 2 * margin
    main_h = main_w * ratio
    height = top_h + main_h + gap + bottom_h + 0.25
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    FigureCanvasAgg(fig)

    def rect(left, bottom, w, h):
        return [left / WIDTH_IN, bottom / height, w / WIDTH_IN, h / height]

    ax = fig.add_axes(rect(margin, bottom_h + gap + 0.25, main_w, main_h))
    fig.text(0.5, 1 - 0.2 / height, title, ha="center", va="top", fontsize=11)
    fig.text(0.5, 1 - 0.45 / height, proj.words() + "; grey lines: latitude and longitude", ha="center",
             va="top", fontsize=8, color="#616161")
    priority = np.concatenate([np.where(sites["open"].astype(bool).values, 2, 1), np.zeros(len(sup) + len(mk))])
    crowd = _crowded(px, py, extent, priority)
    inset = None
    inset_w, inset_h = 6.2, bottom_h
    if crowd is not None:
        k, r = crowd
        near = np.hypot(px - px[k], py - py[k]) <= 2.5 * r
        inset = _extent(px[near], py[near], 0.08, inset_h / inset_w)
        if inset[0][1] - inset[0][0] > 0.4 * (extent[0][1] - extent[0][0]):
            inset = None  # not much of a zoom
    panels = [_draw(ax, layers, proj, extent, flows, 1.0, names="sites", skip_box=inset)]
    _scale_bar(ax, extent)
    if inset is not None:
        sub = fig.add_axes(rect(margin, 0.25, inset_w, inset_h))
        panels.append(_draw(sub, layers, proj, inset, flows, 0.9, names="all"))
        _scale_bar(sub, inset)
        sub.set_title("zoom on the grey box: the most crowded part of the map", fontsize=8.5)
        (ix0, ix1), (iy0, iy1) = inset
        ax.add_patch(Rectangle((ix0, iy0), ix1 - ix0, iy1 - iy0, fill=False, edgecolor="#424242", linewidth=1.2,
                               zorder=7))
        for spine in sub.spines.values():
            spine.set_edgecolor("#424242")
            spine.set_linewidth(1.2)
    legend_left = margin + (inset_w + 0.3 if inset is not None else 0)
    legend_ax = fig.add_axes(rect(legend_left, 0.25, WIDTH_IN - legend_left - margin, bottom_h))
    legend_ax.axis("off")
    legend_ax.legend(handles=_legend(layers, flows, money), loc="upper left", fontsize=8, frameon=False,
                     title="How to read the map", title_fontsize=8.5, alignment="left")
    notes = [OUTLINE_NOTE]
    hidden = [name for p in panels for name in p.hidden]
    if layout is not None:
        ids = [*sites["id"], *sup["id"], *mk["id"]]
        layout.update(projection=proj.words(), extent=extent, inset=inset, lines=line_xy,
                      places=dict(zip(ids, zip(px, py))), labels=[p.placed for p in panels], hidden=hidden)
    if hidden:
        notes.insert(0, textwrap.fill(f"Not named for want of room: {', '.join(dict.fromkeys(hidden))}.", 90,
                                      break_on_hyphens=False))
    legend_ax.text(0, 0.0, "\n".join(notes), fontsize=7, color="#616161", va="bottom", wrap=True,
                   transform=legend_ax.transAxes)
    buf = io.BytesIO()
    # no timestamp in the file, so the same network gives the same bytes
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _legend(layers: dict, flows: pd.DataFrame, money: str) -> list:
    sites = layers["sites"]
    opened = sites[sites["open"].astype(bool)]
    biggest = float(opened["capacity_wafers_per_year"].max()) if len(opened) else 0.0
    widest = {k: float(flows.loc[flows["kind"] == k, "value"].max()) if (flows["kind"] == k).any() else 0.0
              for k in ("input", "product")}
    wrap = textwrap.TextWrapper(width=48, subsequent_indent="  ", break_on_hyphens=False)
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=9, color=SITE_COLOUR,
               label=f"site, open (area: capacity; largest {biggest:,.0f} wafers/yr)"),
        Line2D([], [], marker="o", linestyle="", markersize=9, markerfacecolor="white", color=SITE_COLOUR,
               label="site, closed (area: the most it could build)"),
        Line2D([], [], marker="^", linestyle="", color=LOCAL_COLOUR,
               label="supplier used, local to the site it serves"),
        Line2D([], [], marker="^", linestyle="", color=FOREIGN_COLOUR, label="supplier used, not local"),
        Line2D([], [], marker="^", linestyle="", markerfacecolor="none", color=UNUSED_COLOUR,
               label="supplier not used"),
        Line2D([], [], marker="D", linestyle="", markersize=5, color=MARKET_COLOUR, label="market (customers' demand)"),
        Line2D([], [], color=INPUT_FLOW, linewidth=2.5, alpha=0.6,
               label=f"inputs bought, supplier to site (width: value; widest {widest['input']:,.1f} {money}/yr)"),
        Line2D([], [], color=PRODUCT_FLOW, linewidth=2.5, alpha=0.6,
               label=f"wafers shipped, site to market (width: cost; widest {widest['product']:,.1f} {money}/yr)"),
    ]
    for h in handles:
        h.set_label(wrap.fill(h.get_label()))
    return handles
