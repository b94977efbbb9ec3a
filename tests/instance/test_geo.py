"""Geography: geodesic distances against outside truth, point and polygon layers, locality from geometry.

Distances are checked against Vincenty's inverse formula on the WGS84 ellipsoid, written out here
from the published iteration (T. Vincenty, Survey Review 23(176), 1975, pp. 88-93) and sharing no
code with pyproj, and against the worked example of GeographicLib's GeodSolve documentation.
"""

from __future__ import annotations

import math

import geopandas as gpd
import pytest
import yaml
from shapely.geometry import Point, Polygon

from siting.errors import InputError
from siting.instance.derive import derive
from siting.instance.geo import country_outlines, geodesic_km, labels_at, points
from siting.run import load_case
from tests.helpers import solve, write_instance

A, F = 6378137.0, 1 / 298.257223563  # WGS84 semi-major axis (m) and flattening
B = A * (1 - F)


def vincenty_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Vincenty's inverse method, iterated to 1e-13 rad in lambda; km."""
    u1 = math.atan((1 - F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - F) * math.tan(math.radians(lat2)))
    ll = math.radians(lon2 - lon1)
    lam = ll
    for _ in range(200):
        sin_s = math.hypot(math.cos(u2) * math.sin(lam),
                           math.cos(u1) * math.sin(u2) - math.sin(u1) * math.cos(u2) * math.cos(lam))
        cos_s = math.sin(u1) * math.sin(u2) + math.cos(u1) * math.cos(u2) * math.cos(lam)
        sigma = math.atan2(sin_s, cos_s)
        sin_a = math.cos(u1) * math.cos(u2) * math.sin(lam) / sin_s
        cos2_a = 1 - sin_a ** 2
        cos_2sm = cos_s - 2 * math.sin(u1) * math.sin(u2) / cos2_a
        c = F / 16 * cos2_a * (4 + F * (4 - 3 * cos2_a))
        prev = lam
        lam = ll + (1 - c) * F * sin_a * (sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm ** 2)))
        if abs(lam - prev) < 1e-13:
            break
    u_sq = cos2_a * (A ** 2 - B ** 2) / B ** 2
    aa = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    bb = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    d_sigma = bb * sin_s * (cos_2sm + bb / 4 * (cos_s * (-1 + 2 * cos_2sm ** 2)
                                                - bb / 6 * cos_2sm * (-3 + 4 * sin_s ** 2) * (-3 + 4 * cos_2sm ** 2)))
    return B * aa * (sigma - d_sigma) / 1000


# (name, lat1, lon1, lat2, lon2): the flagship's site points, Tokyo station and downtown Phoenix
PAIRS = [
    ("kumamoto-chitose", 32.88, 130.83, 42.8, 141.7),
    ("tokyo-phoenix", 35.68, 139.77, 33.45, -112.07),
    ("kumamoto-tainan", 32.88, 130.83, 23.11, 120.27),
    ("kumamoto-phoenix", 32.88, 130.83, 33.78, -112.16),
]


@pytest.mark.parametrize("name,lat1,lon1,lat2,lon2", PAIRS, ids=[p[0] for p in PAIRS])
def test_geodesic_distance_matches_vincenty_within_a_thousandth(name, lat1, lon1, lat2, lon2):
    ours = float(geodesic_km(lat1, lon1, lat2, lon2))
    assert ours == pytest.approx(vincenty_km(lat1, lon1, lat2, lon2), rel=1e-3)
    # both are ellipsoidal methods good to well under a metre on these lines
    assert abs(ours - vincenty_km(lat1, lon1, lat2, lon2)) < 0.001


def test_geodesic_distance_matches_the_published_geodsolve_example():
    """GeographicLib's GeodSolve manual: `echo 40.6 -73.8 51.6 -0.5 | GeodSolve -i` (JFK to LHR)
    prints s12 = 5551759.400 m."""
    assert float(geodesic_km(40.6, -73.8, 51.6, -0.5)) * 1000 == pytest.approx(5551759.400, abs=0.01)
    assert vincenty_km(40.6, -73.8, 51.6, -0.5) * 1000 == pytest.approx(5551759.400, abs=0.01)


def test_distances_are_not_planar_degrees():
    """Chitose-Kumamoto is 9.92 degrees of latitude and 10.87 of longitude apart: a planar 'distance'
    of 14.7 degrees x 111.32 km = 1,638 km overstates the geodesic (about 1,456 km) by over 10%."""
    planar = math.hypot(42.8 - 32.88, 141.7 - 130.83) * 111.32
    assert float(geodesic_km(32.88, 130.83, 42.8, 141.7)) < 0.92 * planar


def test_bundled_country_outlines_hold_the_flagship_countries():
    world = country_outlines()
    assert world.crs.to_epsg() == 4326
    for iso, (lat, lon) in {"JPN": (32.88, 130.83), "TWN": (23.11, 120.27), "USA": (33.78, -112.16)}.items():
        inside = world[world.contains(Point(lon, lat))]
        assert inside["iso_a3"].tolist() == [iso]


BOX = Polygon([(130.0, 32.0), (131.5, 32.0), (131.5, 34.0), (130.0, 34.0)])


def test_points_either_side_of_a_boundary():
    """Points 0.01 degree inside and outside the box's east edge (lon 131.5), and one on it."""
    pts = points(gpd.pd.DataFrame({"id": ["in", "out", "edge"], "lat": [33.0, 33.0, 33.0],
                                   "lon": [131.49, 131.51, 131.5]}))
    layer = gpd.GeoDataFrame({"region": ["box"]}, geometry=[BOX], crs="EPSG:4326")
    assert labels_at(pts, layer, "region") == [["box"], [], ["box"]]


def _geo_instance(tmp_path, rule: str, layers: dict, site_zones: str = ""):
    """One site at Kikuyo; supplier 'east-in' 0.01 degree west of the box's east edge, 'east-out'
    0.01 degree east of it; both JP with no region written."""
    tables = {
        "sites": f"id,country,lat,lon,hazard_zones\nkumamoto,JP,32.88,130.83,{site_zones}",
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1",
        "markets": "id,country,lat,lon\nm,JP,33,131",
        "demand": "market,product,wafers_per_year\nm,chip,100",
        "inputs": "id,unit\nwafer,wafer",
        "bom": "product,input,units_per_wafer\nchip,wafer,1",
        "suppliers": "id,country,lat,lon\neast-in,JP,33.0,131.49\neast-out,JP,33.0,131.51",
        "offers": "supplier,input,capacity_units_per_year,price_per_unit\n"
                  "east-in,wafer,60,10\neast-out,wafer,1000,10.5",
    }
    folder = write_instance(tmp_path, tables, settings={"local_rule": rule})
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    for name, gdf in layers.items():
        gdf.to_file(folder / f"{name}.geojson", driver="GeoJSON")
    spec["layers"] = {name: f"{name}.geojson" for name in layers}
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec))
    return folder


def test_region_from_a_polygon_layer_makes_only_the_inside_supplier_local(tmp_path):
    layer = gpd.GeoDataFrame({"region": ["kyushu-box"]}, geometry=[BOX], crs="EPSG:4326")
    inst = load_case(_geo_instance(tmp_path, "region", {"regions": layer}))
    assert inst["suppliers"].set_index("id")["region"].to_dict() == {"east-in": "kyushu-box", "east-out": ""}
    assert inst["sites"].at[2, "region"] == "kyushu-box"
    arcs = derive(inst).arcs.set_index("supplier")["local"]
    assert arcs.to_dict() == {"east-in": True, "east-out": False}


def test_a_region_written_in_the_table_wins_over_the_layer(tmp_path):
    layer = gpd.GeoDataFrame({"region": ["kyushu-box"]}, geometry=[BOX], crs="EPSG:4326")
    folder = _geo_instance(tmp_path, "region", {"regions": layer})
    inst = load_case(folder, ["suppliers.east-in.region=Kanto"])
    assert derive(inst).arcs.set_index("supplier")["local"].to_dict() == {"east-in": False, "east-out": False}


def test_hazard_layer_marks_sites_and_suppliers_inside_and_feeds_concentration(tmp_path):
    zone = gpd.GeoDataFrame({"zone": ["fault-box"]}, geometry=[BOX], crs="EPSG:4326")
    folder = _geo_instance(tmp_path, "country", {"hazard_zones": zone}, site_zones="coastal")
    (folder / "concentration.csv").write_text("group_type,group,max_share\nhazard_zone,fault-box,0.5\n")
    inst = load_case(folder)
    assert inst["sites"].at[2, "hazard_zones"] == ("coastal", "fault-box")
    assert inst["suppliers"].set_index("id")["hazard_zones"].to_dict() == {"east-in": ("fault-box",), "east-out": ()}
    assert derive(inst).concentration == [("hazard_zone=fault-box", 0.5, ("kumamoto",))]


def test_a_supplier_moved_outside_the_radius_stops_counting_as_local(tmp_path):
    """No target, so purchases follow price alone: 60 wafers from 'east-in' at 10 (its capacity)
    and 40 from 'east-out' at 10.5. With a 150 km radius both are local (east-in 64 km, east-out
    66 km from Kikuyo) and the local share is 1. Moving east-in to lat 34.5 puts it about 190 km
    away: the purchases stay the same (price alone decides) and the local share becomes
    420 / (600 + 420) = 0.41176."""
    folder = _geo_instance(tmp_path, "radius", {})
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    spec["settings"]["local_radius_km"] = 150
    del spec["layers"]
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec))
    near = solve(folder)
    assert near.results.tables["sites"].at[0, "local_share"] == pytest.approx(1.0)
    moved = solve(folder, sets=["suppliers.east-in.lat=34.5"])
    assert float(geodesic_km(32.88, 130.83, 34.5, 131.49)) > 150
    bought = moved.results.tables["procurement"].set_index("supplier")["units_per_year"]
    assert bought.to_dict() == {"east-in": pytest.approx(60), "east-out": pytest.approx(40)}
    assert moved.results.tables["sites"].at[0, "local_share"] == pytest.approx(420 / 1020, rel=1e-9)


def _sites_layer(tmp_path, gdf, name="sites.gpkg"):
    tables = {
        "products": "id\nchip",
        "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1",
        "markets": "id,country,lat,lon\nm,JP,33,131",
        "demand": "market,product,wafers_per_year\nm,chip,100",
    }
    folder = write_instance(tmp_path, tables)
    gdf.to_file(folder / name)
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    spec["tables"]["sites"] = name
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec))
    return folder


def test_sites_from_a_geopackage_in_another_crs_come_back_as_wgs84_degrees(tmp_path):
    """Kikuyo written in Web Mercator (EPSG:3857) metres is read back as 32.88 N, 130.83 E."""
    gdf = gpd.GeoDataFrame({"id": ["kumamoto"], "country": ["JP"]}, geometry=[Point(130.83, 32.88)],
                           crs="EPSG:4326").to_crs("EPSG:3857")
    inst = load_case(_sites_layer(tmp_path, gdf))
    row = inst["sites"].iloc[0]
    assert (row["lat"], row["lon"]) == (pytest.approx(32.88, abs=1e-9), pytest.approx(130.83, abs=1e-9))


def test_a_layer_without_a_crs_is_refused(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["kumamoto"], "country": ["JP"]}, geometry=[Point(130.83, 32.88)])
    with pytest.raises(InputError) as err:
        load_case(_sites_layer(tmp_path, gdf))
    assert str(err.value) == ("instance.yaml tables.sites (sites.gpkg) | has no coordinate reference system; "
                              "save the layer with its CRS, e.g. EPSG:4326 for latitude/longitude in degrees")


def test_a_layer_whose_coordinates_do_not_fit_its_crs_is_refused(tmp_path):
    """Metres labelled as degrees: x = 14,563,000 cannot be a longitude."""
    gdf = gpd.GeoDataFrame({"id": ["kumamoto"], "country": ["JP"]}, geometry=[Point(14563000, 3878000)],
                           crs="EPSG:4326")
    with pytest.raises(InputError) as err:
        load_case(_sites_layer(tmp_path, gdf))
    assert str(err.value) == ("instance.yaml tables.sites (sites.gpkg) | coordinates fall outside latitude "
                              "-90..90 and longitude -180..180 in EPSG:4326; check that the layer's CRS is "
                              "the one its coordinates are in")


def test_sites_must_be_points(tmp_path):
    gdf = gpd.GeoDataFrame({"id": ["kumamoto"], "country": ["JP"]}, geometry=[BOX], crs="EPSG:4326")
    with pytest.raises(InputError) as err:
        load_case(_sites_layer(tmp_path, gdf, "sites.geojson"))
    assert str(err.value) == ("instance.yaml tables.sites (sites.geojson) | holds Polygon geometries; "
                              "give one point per row (a site, supplier or market is a place)")


def test_a_polygon_layer_needs_its_label_column(tmp_path):
    layer = gpd.GeoDataFrame({"name": ["fault-box"]}, geometry=[BOX], crs="EPSG:4326")
    with pytest.raises(InputError) as err:
        load_case(_geo_instance(tmp_path, "country", {"hazard_zones": layer}))
    assert str(err.value) == ("instance.yaml layers.hazard_zones (hazard_zones.geojson) | has no column 'zone'; "
                              "give each polygon its zone name in a column 'zone'")


def test_an_unknown_layer_is_named(tmp_path):
    layer = gpd.GeoDataFrame({"zone": ["x"]}, geometry=[BOX], crs="EPSG:4326")
    with pytest.raises(InputError) as err:
        load_case(_geo_instance(tmp_path, "country", {"hazard_zone": layer}))
    assert str(err.value) == "instance.yaml layers.hazard_zone | unknown layer; did you mean 'hazard_zones'?"


FREIGHT = {
    "sites": "id,country,lat,lon\nkumamoto,JP,32.88,130.83",
    "products": "id,freight_per_wafer_km,mode\nchip,0.5,",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1",
    "markets": "id,country,lat,lon\ntokyo,JP,35.68,139.77",
    "demand": "market,product,wafers_per_year\ntokyo,chip,100",
    "inputs": "id,unit,freight_per_unit_km,mode\nwafer,wafer,9,sea\nresist,litre,9,air",
    "bom": "product,input,units_per_wafer\nchip,wafer,1\nchip,resist,1",
    "suppliers": "id,country,lat,lon\nhsinchu,TW,24.78,121.00",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\nhsinchu,wafer,1000,10\nhsinchu,resist,1000,10",
    "freight_rates": "mode,item,rate_per_unit_km,route_factor\nsea,*,0.01,1.3\nair,resist,0.2,",
}


def test_freight_is_distance_times_the_rate_of_the_mode_and_a_lane_overrides_it(tmp_path):
    """Hsinchu to Kikuyo by Vincenty: wafers go by sea at 0.01 per unit-km over a route 1.3 times
    the geodesic; resist by air at 0.2 (no factor: 1); wafers out to Tokyo at the product's own
    0.5 per wafer-km (no mode). A lane of 3 per unit replaces the sea rate for wafers."""
    inst = load_case(write_instance(tmp_path, FREIGHT))
    d = derive(inst)
    km = vincenty_km(24.78, 121.00, 32.88, 130.83)
    arcs = d.arcs.set_index("input")["freight"]
    assert arcs["wafer"] == pytest.approx(km * 1.3 * 0.01, rel=1e-6)
    assert arcs["resist"] == pytest.approx(km * 0.2, rel=1e-6)
    assert d.routes.at[0, "freight"] == pytest.approx(vincenty_km(32.88, 130.83, 35.68, 139.77) * 0.5, rel=1e-6)
    (tmp_path / "lanes.csv").write_text("origin,destination,item,cost_per_unit\nhsinchu,kumamoto,wafer,3\n")
    laned = derive(load_case(tmp_path)).arcs.set_index("input")["freight"]
    assert laned["wafer"] == pytest.approx(3.0) and laned["resist"] == pytest.approx(km * 0.2, rel=1e-6)


def test_a_mode_without_a_rate_is_named(tmp_path):
    tables = dict(FREIGHT, inputs="id,unit,mode\nwafer,wafer,rail\nresist,litre,air")
    with pytest.raises(InputError) as err:
        load_case(write_instance(tmp_path, tables))
    assert str(err.value) == ("inputs.csv row 2 (id=wafer) column mode | 'rail' has no rate for wafer in "
                              "freight_rates; add a freight_rates row (mode=rail, item=wafer or *) or clear the mode")
