"""The map's layout: a projection fitted to the network, every flow inside the frame, names that do
not overlap, and the zoom panel on the most crowded part, on layers built by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
from shapely.geometry import LineString, Point

from siting.instance.geo import geodesic_line
from siting.report.netmap import network_map

# A crowd of six suppliers and two sites within 60 km of Osaka, one site each at Tainan and
# Phoenix, and markets at Tokyo and Los Angeles: the zoom panel belongs on Osaka, not Taiwan.
OSAKA = [("osaka-1", 34.69, 135.50), ("sakai", 34.57, 135.48), ("kobe", 34.69, 135.19), ("kyoto", 35.01, 135.77),
         ("nara", 34.68, 135.80), ("wakayama", 34.23, 135.17)]
SITES = [("kansai-a", 34.80, 135.35, True), ("kansai-b", 34.60, 135.60, True), ("tainan", 23.11, 120.27, False),
         ("phoenix", 33.78, -112.16, True)]
MARKETS = [("tokyo", 35.68, 139.77), ("los-angeles", 34.05, -118.24)]


def _layers() -> dict:
    def gdf(rows, **cols):
        return gpd.GeoDataFrame({"id": [r[0] for r in rows], **cols},
                                geometry=[Point(r[2], r[1]) for r in rows], crs="EPSG:4326")

    sites = gdf(SITES, open=[r[3] for r in SITES], capacity_wafers_per_year=[60000.0, 30000.0, 0.0, 120000.0],
                max_capacity_wafers_per_year=[120000.0] * 4)
    suppliers = gdf(OSAKA, status=["local", "local", "not local", "local", "unused", "local"])
    markets = gdf(MARKETS)
    where = {r[0]: (r[1], r[2]) for r in [*SITES, *OSAKA, *MARKETS]}
    arcs = [("input", "osaka-1", "kansai-a"), ("input", "kobe", "kansai-b"), ("input", "sakai", "phoenix"),
            ("product", "kansai-a", "tokyo"), ("product", "phoenix", "los-angeles"), ("product", "kansai-b",
                                                                                      "los-angeles")]
    flows = gpd.GeoDataFrame(
        {"kind": [a[0] for a in arcs], "origin": [a[1] for a in arcs], "destination": [a[2] for a in arcs],
         "value_per_year": [5.0, 2.0, 1.0, 9.0, 4.0, 3.0]},
        geometry=[LineString(geodesic_line(*where[a[1]], *where[a[2]])) for a in arcs], crs="EPSG:4326")
    return {"sites": sites, "suppliers": suppliers, "markets": markets, "flows": flows}


def test_map_fits_the_network_keeps_flows_inside_and_zooms_on_the_crowd():
    layout: dict = {}
    png = network_map(_layers(), "test", "USD million", layout=layout)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    # Japan to Arizona reaches far from the centre: a world map, in one piece over the Pacific
    assert layout["projection"].startswith("Equal Earth projection centred on")
    (x0, x1), (y0, y1) = layout["extent"]
    for line in layout["lines"]:
        assert (line[:, 0] >= x0).all() and (line[:, 0] <= x1).all()
        assert (line[:, 1] >= y0).all() and (line[:, 1] <= y1).all()
    places = layout["places"]
    # the Pacific lies inside the frame: Phoenix east of Osaka, not at the other edge
    assert places["phoenix"][0] > places["kansai-a"][0]
    (ix0, ix1), (iy0, iy1) = layout["inset"]

    def inside(name):
        x, y = places[name]
        return ix0 <= x <= ix1 and iy0 <= y <= iy1

    assert all(inside(name) for name, *_ in OSAKA) and inside("kansai-a") and inside("kansai-b")
    assert not inside("tainan") and not inside("phoenix")


def test_map_names_never_overlap_and_stay_in_their_panel():
    layout: dict = {}
    network_map(_layers(), "test", "USD million", layout=layout)
    named = [name for panel in layout["labels"] for name, _ in panel]
    # every site is named once somewhere (in the zoom panel when it lies in the grey box), or said
    # to be left out
    for name, *_ in SITES:
        assert name in named or name in layout["hidden"], name
    for panel in layout["labels"]:
        boxes = [box for _, box in panel]
        for k, a in enumerate(boxes):
            for b in boxes[k + 1:]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)


def test_a_regional_network_gets_an_azimuthal_map_around_it():
    layers = _layers()
    keep = ~layers["sites"]["id"].isin(["phoenix", "tainan"])
    layers["sites"] = layers["sites"][keep]
    layers["markets"] = layers["markets"][layers["markets"]["id"] == "tokyo"]
    layers["flows"] = layers["flows"][~layers["flows"]["destination"].isin(["phoenix", "los-angeles"])]
    layout: dict = {}
    network_map(layers, "test", "USD million", layout=layout)
    assert layout["projection"].startswith("Lambert azimuthal equal-area projection centred at 35°N 136°E")
    x = np.array([p[0] for p in layout["places"].values()])
    (x0, x1), _ = layout["extent"]
    # Osaka to Tokyo is about 400 km: the frame is a few hundred km wide, not a world
    assert 300 < x1 - x0 < 2000 and x.min() >= x0 and x.max() <= x1
