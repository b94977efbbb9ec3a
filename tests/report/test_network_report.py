"""The chosen network as GeoPackage layers, its map, `siting map`, and the self-contained report."""

from __future__ import annotations

import hashlib
import json
import re

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import LineString

from siting.cli import main
from siting.instance.geo import geodesic_km
from siting.report.netmap import _flows, _shift, _world_cut
from siting.report.network import geopackage_bytes, network_layers, read_network
from tests.helpers import solve, write_instance

# One site at Kikuyo, a Japanese supplier (Imari, local by country) and a Taiwanese one (Hsinchu).
# Target 60% by value with prices 12 (local) and 10 (abroad), 100 wafers of one unit each:
# 12 L >= 0.6 (12 L + 10 (100 - L)) <=> L >= 600 / 10.8 = 55.56 units local, 44.44 abroad.
TABLES = {
    "sites": "id,country,lat,lon\nkumamoto,JP,32.88,130.83\nphoenix,US,33.78,-112.16",
    "products": "id\nchip",
    "modules": "site,product,wafers_per_module,capex_per_module,max_modules\nkumamoto,chip,100,100,1\n"
               "phoenix,chip,100,500,1",
    "markets": "id,country,lat,lon\nm,JP,35.68,139.77",
    "demand": "market,product,wafers_per_year\nm,chip,100",
    "inputs": "id,unit\nwafer,wafer",
    "bom": "product,input,units_per_wafer\nchip,wafer,1",
    "suppliers": "id,country,lat,lon\nlocal,JP,33.27,129.88\nabroad,TW,24.78,121.00\nidle,US,33.4,-112.0",
    "offers": "supplier,input,capacity_units_per_year,price_per_unit\nlocal,wafer,1000,12\nabroad,wafer,1000,10\n"
              "idle,wafer,1000,50",
    "local_targets": "site,target\nkumamoto,0.6",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return solve(write_instance(tmp_path_factory.mktemp("net"), TABLES))


def test_layers_hold_the_plan_with_local_status_and_geodesic_flows(run):
    layers = network_layers(run)
    sites = layers["sites"].set_index("id")
    assert sites["open"].to_dict() == {"kumamoto": True, "phoenix": False}
    assert sites.at["phoenix", "max_capacity_wafers_per_year"] == 100
    assert layers["suppliers"].set_index("id")["status"].to_dict() == {
        "local": "local", "abroad": "not local", "idle": "unused"}
    flows = layers["flows"].set_index(["kind", "origin"])
    local_units = 600 / 10.8
    assert flows.at[("input", "local"), "quantity_per_year"] == pytest.approx(local_units, rel=1e-9)
    assert flows.at[("input", "local"), "value_per_year"] == pytest.approx(12 * local_units, rel=1e-9)
    assert flows.at[("input", "abroad"), "value_per_year"] == pytest.approx(10 * (100 - local_units), rel=1e-9)
    assert flows.at[("product", "kumamoto"), "quantity_per_year"] == pytest.approx(100)
    line = flows.at[("input", "abroad"), "geometry"]
    start, end = line.coords[0], line.coords[-1]
    assert start == (121.0, 24.78) and end == (130.83, 32.88)
    # the line follows the geodesic: its pieces add up to the distance the freight was charged on
    xy = np.asarray(line.coords)
    pieces = geodesic_km(xy[:-1, 1], xy[:-1, 0], xy[1:, 1], xy[1:, 0]).sum()
    assert pieces == pytest.approx(flows.at[("input", "abroad"), "distance_km"], rel=1e-9)


def test_geopackage_round_trip_keeps_every_layer(run, tmp_path):
    layers = network_layers(run)
    path = tmp_path / "network.gpkg"
    path.write_bytes(geopackage_bytes(layers))
    back = read_network(path)
    for name, layer in layers.items():
        assert len(back[name]) == len(layer), name
        assert back[name].crs.to_epsg() == 4326
    assert back["suppliers"].set_index("id")["status"].to_dict() == \
        layers["suppliers"].set_index("id")["status"].to_dict()


def test_the_world_map_edge_keeps_a_pacific_network_in_one_piece():
    """Kikuyo (130.83), Chitose (141.7), Phoenix (-112.16): the widest empty band runs east from
    Phoenix to Kikuyo (242.99 degrees), so the map's edge is in its middle (9.34 E) and the network
    spans 360 - 242.99 = 117.01 degrees of longitude instead of 253.86."""
    lons = np.array([130.83, 141.7, -112.16])
    cut = _world_cut(lons, _flows(gpd.GeoDataFrame({"kind": [], "origin": [], "destination": [],
                                                     "value_per_year": []}, geometry=[])))
    assert cut == pytest.approx(-112.16 + 242.99 / 2, abs=1e-9)
    shifted = _shift(lons, cut)
    assert shifted.max() - shifted.min() == pytest.approx(117.01, abs=1e-9)


def test_the_world_map_edge_avoids_the_flow_lines():
    """Dresden (13.72), Kikuyo (130.83) and Phoenix (-112.16) leave three empty bands of longitude:
    Phoenix to Dresden over the Atlantic (125.88 degrees), Dresden to Kikuyo over Asia (117.11) and
    Kikuyo to Phoenix over the Pacific (117.01). Without lines the edge is in the widest, the
    Atlantic one (-112.16 + 62.94 = -49.22); the line Kikuyo -> Phoenix crosses the Pacific band and
    the line Dresden -> Phoenix (over Greenland) the Atlantic one, so with both the edge goes to
    the middle of the band no line crosses: 13.72 + 117.11 / 2 = 72.275."""
    lons = np.array([13.72, 130.83, -112.16])

    def line(a, b):
        from siting.instance.geo import geodesic_line

        return LineString(geodesic_line(a[0], a[1], b[0], b[1]))

    kikuyo, phoenix, dresden = (32.88, 130.83), (33.78, -112.16), (51.13, 13.72)
    flows = gpd.GeoDataFrame({"kind": ["product", "product"], "origin": ["k", "d"], "destination": ["p", "p"],
                              "value_per_year": [1.0, 1.0]}, geometry=[line(kikuyo, phoenix), line(dresden, phoenix)])
    assert _world_cut(lons, _flows(flows.iloc[:0])) == pytest.approx(-49.22, abs=1e-9)
    assert _world_cut(lons, _flows(flows)) == pytest.approx(72.275, abs=1e-9)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_solve_writes_map_and_report_and_siting_map_redraws(tmp_path):
    inst = write_instance(tmp_path / "inst", TABLES)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    width, height = _png_size((out / "map.png").read_bytes())
    assert width > 600 and height > 400
    manifest = json.loads((out / "manifest.json").read_text())
    for name in ("map.png", "network.gpkg", "report.html"):
        assert name in manifest["files"]
        assert manifest["sha256"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest(), name
    (out / "map.png").unlink()
    assert main(["map", str(out)]) == 0
    _png_size((out / "map.png").read_bytes())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sha256"]["map.png"] == hashlib.sha256((out / "map.png").read_bytes()).hexdigest()


def test_siting_map_on_a_folder_without_a_network_says_so(tmp_path, capsys):
    assert main(["map", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"{tmp_path} | has no network.gpkg (not the results of a solved run); "
        "give a folder that `siting solve` wrote with a solution")


def assert_self_contained(html: str) -> None:
    """Nothing in the page makes a browser fetch: every src is a data URI, no stylesheet or script links."""
    assert "<link" not in html and "<script src" not in html and "@import" not in html
    for src in re.findall(r'src="([^"]*)"', html):
        assert src.startswith("data:image/png;base64,"), src[:40]
    assert "url(" not in html


def test_report_is_one_self_contained_page_with_every_section(tmp_path):
    inst = write_instance(tmp_path / "inst", TABLES)
    out = tmp_path / "out"
    assert main(["solve", str(inst), "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    summary = json.loads((out / "summary.json").read_text())
    assert_self_contained(html)
    for heading in ("Plan", "Map", "Cost breakdown", "Supplier mix", "Local share", "Subsidies and government outlay",
                    "Shadow prices", "Solver", "Manifest"):
        assert f"<h2>{heading}</h2>" in html, heading
    assert html.count("data:image/png;base64,") == 1  # the map
    # the cost waterfall, the supplier mix and the local share, drawn inline
    assert [label for label in re.findall(r'<svg class="chart"[^>]*aria-label="([^"]*)"', html)] == [
        f"cost waterfall: firm cost {summary['objective']:,.1f} {summary['units']['money']} a year",
        "supplier mix by site and input", "local share against target"]
    assert f"best bound {summary['best_bound']:,.3f}" in html


def test_an_infeasible_run_still_gets_a_report_saying_what_must_give(tmp_path):
    inst = write_instance(tmp_path / "inst", TABLES)
    out = tmp_path / "out"
    # no local supply and no other site: Kumamoto cannot reach 60% and demand must be met
    assert main(["solve", str(inst), "--out", str(out), "--set", "offers.local/wafer.capacity_units_per_year=0",
                 "--set", "modules.phoenix/chip.max_modules=0"]) == 3
    html = (out / "report.html").read_text()
    assert_self_contained(html)
    assert '<p class="status bad"><b>infeasible</b>' in html
    headline = json.loads((out / "summary.json").read_text())["headline"]
    assert headline["text"].startswith("No plan: the solve ended infeasible; ") and "plan" not in headline
    assert "<h2>Findings</h2>" in html and "local share" in html
    assert not (out / "map.png").exists()
