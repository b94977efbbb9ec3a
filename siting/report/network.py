"""The chosen network as geographic layers: sites, suppliers, markets and flows (GeoPackage).

The layers are built from a solved run's tables and the instance's coordinates, written as
``network.gpkg`` into the results folder, and read back by ``siting map RUN_DIR`` to redraw
``map.png`` without the instance. Flows are lines along the geodesic, so a GIS shows the route a
distance was measured on.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from shapely.geometry import LineString

from siting.instance.geo import WGS84, geodesic_line, points

LAYERS = ("sites", "suppliers", "markets", "flows")


def network_layers(run) -> dict[str, gpd.GeoDataFrame]:
    """The run's network as GeoDataFrames in WGS84.

    Returns
    -------
    dict
        ``sites`` (every candidate: ``open``, ``capacity_wafers_per_year``, ``max_capacity_wafers_per_year``,
        ``local_share``, ``local_target``), ``suppliers`` (``status``: local, not local or unused;
        ``purchases_per_year``), ``markets`` (``demand_wafers_per_year``, ``unmet_wafers_per_year``) and
        ``flows`` (one line per purchase arc and per route used: ``kind`` input or product,
        ``origin``, ``destination``, ``item``, ``quantity_per_year``, ``value_per_year``: purchases
        for inputs, operating + freight + tariffs for products, in the money unit).
    """
    inst, res, d = run.instance, run.results, run.data
    sites_in = inst["sites"].set_index("id")
    sites = res.tables["sites"].copy()
    most = (d.modules["wafers_per_module"] * d.modules["max_modules"]).groupby(d.modules["site"]).sum()
    sites["max_capacity_wafers_per_year"] = most.reindex(sites["site"]).fillna(0.0).values
    sites["name"] = sites_in["name"].reindex(sites["site"]).values
    sites["lat"] = sites_in["lat"].reindex(sites["site"]).values
    sites["lon"] = sites_in["lon"].reindex(sites["site"]).values
    sites["hazard_zones"] = [";".join(z) for z in sites_in["hazard_zones"].reindex(sites["site"])]
    sites = sites.rename(columns={"site": "id"})

    proc = res.tables["procurement"]
    sup = inst["suppliers"].copy()
    bought = proc.groupby("supplier")["purchases_per_year"].sum()
    local = proc.groupby("supplier")["local"].any()
    sup["purchases_per_year"] = bought.reindex(sup["id"]).fillna(0.0).values
    sup["status"] = np.where(sup["purchases_per_year"] <= 0, "unused",
                             np.where(local.reindex(sup["id"]).fillna(False).astype(bool).values, "local", "not local"))
    sup["flags"] = [";".join(f) for f in sup["flags"]]
    sup["hazard_zones"] = [";".join(z) for z in sup["hazard_zones"]]
    sup = sup[["id", "name", "country", "region", "lat", "lon", "status", "purchases_per_year", "flags",
               "hazard_zones"]]

    mk = inst["markets"].copy()
    unmet = res.tables["unmet"]
    mk["demand_wafers_per_year"] = unmet.groupby("market")["demand_wafers_per_year"].sum().reindex(mk["id"]).fillna(
        0.0).values
    mk["unmet_wafers_per_year"] = unmet.groupby("market")["unmet_wafers_per_year"].sum().reindex(mk["id"]).fillna(
        0.0).values
    mk = mk[["id", "name", "country", "region", "lat", "lon", "demand_wafers_per_year", "unmet_wafers_per_year"]]

    where = {**{r.id: (r.lat, r.lon) for r in sites.itertuples()},
             **{("u", r.id): (r.lat, r.lon) for r in sup.itertuples()},
             **{("m", r.id): (r.lat, r.lon) for r in mk.itertuples()}}
    rows = []
    for r in proc.itertuples():
        rows.append(("input", r.supplier, r.site, r.input, r.units_per_year, r.purchases_per_year, r.distance_km,
                     bool(r.local), where[("u", r.supplier)], where[r.site]))
    prod = res.tables["production"]
    for r in prod.itertuples():
        value = r.operating_per_year + r.freight_per_year + r.tariffs_per_year
        rows.append(("product", r.site, r.market, r.product, r.wafers_per_year, value, r.distance_km, False,
                     where[r.site], where[("m", r.market)]))
    cols = ["kind", "origin", "destination", "item", "quantity_per_year", "value_per_year", "distance_km", "local"]
    flows = pd.DataFrame([r[:8] for r in rows], columns=cols)
    lines = [LineString(geodesic_line(a[0], a[1], b[0], b[1])) for *_, a, b in rows]
    return {
        "sites": points(sites),
        "suppliers": points(sup),
        "markets": points(mk),
        "flows": gpd.GeoDataFrame(flows, geometry=lines, crs=WGS84),
    }


def geopackage_bytes(layers: dict[str, gpd.GeoDataFrame]) -> bytes:
    """The layers as one GeoPackage file, returned as bytes so the writer can place it atomically."""
    # GDAL stamps each layer with the current time unless told a date: a fixed one keeps two
    # identical runs byte-identical
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "network.gpkg"
        for name in LAYERS:
            layer = layers[name]
            # empty layers still need a geometry type, or GDAL refuses them
            kind = None if len(layer) else ("LineString" if name == "flows" else "Point")
            pyogrio.write_dataframe(layer, path, layer=name, driver="GPKG", geometry_type=kind)
        return path.read_bytes()


def read_network(path: str | os.PathLike) -> dict[str, gpd.GeoDataFrame]:
    """The layers of a ``network.gpkg`` written by :func:`geopackage_bytes`."""
    return {name: gpd.read_file(path, layer=name) for name in LAYERS}
