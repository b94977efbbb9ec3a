"""Geometry at the edge: points, polygon layers, geodesic distances and locality, as plain numbers.

Sites, suppliers and markets are points on the WGS84 ellipsoid (EPSG:4326, degrees). They come from
``lat``/``lon`` columns or from a GeoJSON/GeoPackage table (:func:`layer_to_table`). An instance may
also name polygon layers in ``instance.yaml``::

    layers:
      regions: regions.geojson          # a 'region' column; fills the region of points left empty
      hazard_zones: seismic.geojson     # a 'zone' column; marks the sites and suppliers inside

:func:`apply_layers` turns those polygons into the ``region`` and ``hazard_zones`` columns that the
locality rule and the concentration limits already read, so the model only ever sees numbers and
labels. Country outlines for maps ship with the package (:func:`country_outlines`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pyproj import CRS, Geod

from siting.errors import ProblemCollector

if TYPE_CHECKING:  # geopandas is imported where a function needs it: reading CSV tables does not
    import geopandas as gpd

_WGS84 = Geod(ellps="WGS84")
WGS84 = "EPSG:4326"
#: Natural Earth 1:110m admin-0 countries (public domain); see siting/data/README.md.
COUNTRIES_FILE = Path(__file__).resolve().parent.parent / "data" / "ne_110m_admin_0_countries.geojson"
#: Tables whose rows are points.
POINT_TABLES = ("sites", "suppliers", "markets")
#: Polygon layers an instance may name, and the column holding each polygon's label.
LAYER_COLUMNS = {"regions": "region", "hazard_zones": "zone"}


def geodesic_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Geodesic distance on the WGS84 ellipsoid, in km, element-wise.

    Parameters
    ----------
    lat1, lon1, lat2, lon2
        Arrays (or scalars) of degrees north and east.

    Examples
    --------
    >>> round(float(geodesic_km(0, 0, 0, 1)), 3)  # one degree of longitude on the equator
    111.319
    """
    lat1, lon1, lat2, lon2 = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (lat1, lon1, lat2, lon2)))
    if lat1.size == 0:
        return np.zeros(0)
    _, _, metres = _WGS84.inv(lon1, lat1, lon2, lat2)
    return np.asarray(metres, dtype=float) / 1000.0


def geodesic_line(lat1: float, lon1: float, lat2: float, lon2: float, n: int = 24) -> list[tuple[float, float]]:
    """``n`` + 2 (lon, lat) points along the geodesic from the first point to the second (for maps)."""
    inner = _WGS84.npts(lon1, lat1, lon2, lat2, n) if n > 0 else []
    return [(lon1, lat1), *inner, (lon2, lat2)]


def points(table: pd.DataFrame, id_column: str = "id") -> gpd.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of a typed point table, one row per row of ``table``.

    Examples
    --------
    >>> g = points(pd.DataFrame({"id": ["a"], "lat": [32.88], "lon": [130.83]}))
    >>> g.crs.to_string(), g.geometry.iloc[0].x
    ('EPSG:4326', 130.83)
    """
    import geopandas as gpd

    lon = pd.to_numeric(table["lon"], errors="coerce").astype(float).values
    lat = pd.to_numeric(table["lat"], errors="coerce").astype(float).values
    return gpd.GeoDataFrame(table.copy(), geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


@lru_cache(maxsize=1)
def _countries() -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.read_file(COUNTRIES_FILE)


def country_outlines() -> gpd.GeoDataFrame:
    """Country outlines (Natural Earth 1:110m, public domain) shipped with the package.

    Borders are as Natural Earth draws them; contested borders are indicative only.
    """
    return _countries().copy()


def to_wgs84(gdf: gpd.GeoDataFrame, where: str, found: ProblemCollector) -> gpd.GeoDataFrame | None:
    """``gdf`` in WGS84 degrees, or None after recording why it cannot be.

    A layer must state its coordinate reference system (GeoJSON always does: RFC 7946 fixes it to
    WGS84); any stated system is transformed. Coordinates outside [-90, 90] x [-180, 180] after
    the transformation mean the stated system is not the one the numbers are in.
    """
    if gdf.crs is None:
        found.add(where, "has no coordinate reference system",
                  "save the layer with its CRS, e.g. EPSG:4326 for latitude/longitude in degrees")
        return None
    try:
        out = gdf if CRS.from_user_input(gdf.crs).equals(CRS(WGS84)) else gdf.to_crs(WGS84)
    except Exception as exc:  # pyproj raises several kinds for a system it cannot transform
        found.add(where, f"its CRS {gdf.crs} cannot be transformed to WGS84 ({type(exc).__name__})",
                  "save the layer in EPSG:4326")
        return None
    if len(out) and not out.geometry.is_empty.all():
        minx, miny, maxx, maxy = out.total_bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90) or not np.isfinite(
                [minx, miny, maxx, maxy]).all():
            found.add(where, f"coordinates fall outside latitude -90..90 and longitude -180..180 in {gdf.crs}",
                      "check that the layer's CRS is the one its coordinates are in")
            return None
    return out


def layer_to_table(gdf: gpd.GeoDataFrame, where: str, found: ProblemCollector) -> pd.DataFrame | None:
    """A point layer as a table of text cells with ``lat`` and ``lon`` columns, like a CSV table.

    Rows are numbered from 2, as a spreadsheet shows the rows of the same table.
    """
    gdf = to_wgs84(gdf, where, found)
    if gdf is None:
        return None
    kinds = set(gdf.geometry.geom_type.dropna())
    if kinds - {"Point"}:
        found.add(where, f"holds {', '.join(sorted(kinds - {'Point'}))} geometries",
                  "give one point per row (a site, supplier or market is a place)")
        return None
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).fillna("").astype(str)
    for col in df.columns:
        df[col] = df[col].str.strip()
    df.index = pd.RangeIndex(2, 2 + len(df))
    x = np.where(missing, np.nan, gdf.geometry.x.where(~missing.values))
    y = np.where(missing, np.nan, gdf.geometry.y.where(~missing.values))
    df["lon"] = ["" if np.isnan(v) else repr(float(v)) for v in x]
    df["lat"] = ["" if np.isnan(v) else repr(float(v)) for v in y]
    return df


def check_polygon_layer(name: str, gdf: gpd.GeoDataFrame, where: str,
                        found: ProblemCollector) -> gpd.GeoDataFrame | None:
    """A named polygon layer in WGS84 with its label column as text, or None after recording why not."""
    if name not in LAYER_COLUMNS:
        found.add(where, "unknown layer", "layers are: " + ", ".join(LAYER_COLUMNS))
        return None
    column = LAYER_COLUMNS[name]
    if column not in gdf.columns:
        found.add(where, f"has no column '{column}'", f"give each polygon its {column} name in a column '{column}'")
        return None
    gdf = to_wgs84(gdf, where, found)
    if gdf is None:
        return None
    kinds = set(gdf.geometry.geom_type.dropna())
    if kinds - {"Polygon", "MultiPolygon"}:
        found.add(where, f"holds {', '.join(sorted(kinds - {'Polygon', 'MultiPolygon'}))} geometries",
                  "give polygons: a layer marks the places inside it")
        return None
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty].copy()
    gdf[column] = gdf[column].fillna("").astype(str).str.strip()
    return gdf[[column, gdf.geometry.name]].reset_index(drop=True)


def labels_at(pts: gpd.GeoDataFrame, polygons: gpd.GeoDataFrame, column: str) -> list[list[str]]:
    """For each point, the labels of the polygons that contain it or have it on their edge, in layer order."""
    out: list[list[str]] = [[] for _ in range(len(pts))]
    if len(pts) == 0 or len(polygons) == 0:
        return out
    import geopandas as gpd

    hit = gpd.sjoin(pts[[pts.geometry.name]].reset_index(drop=True), polygons, how="inner",
                    predicate="intersects")
    for k, label in sorted(zip(hit.index, hit["index_right"]), key=lambda t: (t[0], t[1])):
        name = polygons.at[label, column]
        if name and name not in out[k]:
            out[k].append(name)
    return out


def apply_layers(typed: dict[str, pd.DataFrame], layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Fill ``region`` and ``hazard_zones`` of the point tables from polygon layers, in place.

    A point with an empty ``region`` takes the label of the first ``regions`` polygon containing
    it (a region written in the table wins: it is the planner's own statement). Sites and
    suppliers get every ``hazard_zones`` polygon containing them added to their ``hazard_zones``.
    Points on a boundary count as inside.
    """
    if not layers:
        return
    for tname in POINT_TABLES:
        df = typed.get(tname)
        if df is None or df.empty:
            continue
        ok = df["lat"].notna() & df["lon"].notna()
        pts = points(df[ok])
        if "regions" in layers:
            found = labels_at(pts, layers["regions"], "region")
            region = df["region"].copy()
            for row_no, labels in zip(df.index[ok], found):
                if labels and not region.at[row_no]:
                    region.at[row_no] = labels[0]
            typed[tname] = df = df.assign(region=region)
        if "hazard_zones" in layers and "hazard_zones" in df.columns:
            found = labels_at(pts, layers["hazard_zones"], "zone")
            zones = df["hazard_zones"].copy()
            for row_no, labels in zip(df.index[ok], found):
                zones.at[row_no] = tuple(zones.at[row_no]) + tuple(z for z in labels if z not in zones.at[row_no])
            typed[tname] = df.assign(hazard_zones=zones)
