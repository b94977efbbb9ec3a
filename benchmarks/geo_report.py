"""Distances against reference values, and what the map, GeoPackage and report add to a solve.

Two tables:

* ``distances``: the geodesic distance ``siting`` uses (pyproj, WGS84) for the flagship's pairs
  and GeographicLib's published GeodSolve example, against Vincenty's inverse formula written out
  independently in ``tests/instance/test_geo.py``, and the planar-degrees error avoided;
* ``outputs``: seconds to build the network layers, the GeoPackage, ``map.png`` and the whole set
  of result files for the flagship, as a median over repeats, next to the solve itself.

Usage: ``python benchmarks/geo_report.py [--repeats 5] [--out benchmarks/out/geo_report.csv]``
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from siting.instance.geo import geodesic_km  # noqa: E402
from siting.report.netmap import network_map  # noqa: E402
from siting.report.network import geopackage_bytes, network_layers  # noqa: E402
from siting.report.write import result_texts  # noqa: E402
from siting.run import run_case  # noqa: E402
from siting.solve import load_profile  # noqa: E402
from tests.instance.test_geo import vincenty_km  # noqa: E402

PAIRS = [
    ("Kumamoto (Kikuyo) - Chitose", 32.88, 130.83, 42.8, 141.7, None),
    ("Tokyo - Phoenix", 35.68, 139.77, 33.45, -112.07, None),
    ("Kumamoto - Tainan", 32.88, 130.83, 23.11, 120.27, None),
    ("Kumamoto - Phoenix", 32.88, 130.83, 33.78, -112.16, None),
    ("JFK - LHR (GeodSolve manual)", 40.6, -73.8, 51.6, -0.5, 5551.759400),
]


def distances() -> list[dict]:
    rows = []
    for name, a, b, c, d, published in PAIRS:
        ours = float(geodesic_km(a, b, c, d))
        ref = published if published is not None else vincenty_km(a, b, c, d)
        planar = math.hypot(c - a, (d - b + 180) % 360 - 180) * 111.32
        rows.append({"pair": name, "siting_km": round(ours, 4), "reference_km": round(ref, 4),
                     "reference": "GeodSolve" if published else "Vincenty",
                     "difference_m": round((ours - ref) * 1000, 4),
                     "planar_degrees_km": round(planar, 1), "planar_error_pct": round(100 * (planar / ours - 1), 1)})
    return rows


def outputs(repeats: int) -> list[dict]:
    options = load_profile("default")
    times: dict[str, list[float]] = {k: [] for k in ("solve", "layers", "geopackage", "map", "all files")}
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = run_case(ROOT / "instances" / "jasm", options)
        t1 = time.perf_counter()
        layers = network_layers(run)
        t2 = time.perf_counter()
        geopackage_bytes(layers)
        t3 = time.perf_counter()
        network_map(layers, "jasm", run.instance.settings.money_label)
        t4 = time.perf_counter()
        result_texts(run)
        t5 = time.perf_counter()
        for key, dt in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            times[key].append(dt)
    return [{"step": k, "median_seconds": round(statistics.median(v), 3)} for k, v in times.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "geo_report.csv"))
    args = parser.parse_args()
    dist = distances()
    out = outputs(args.repeats)
    print(f"{'pair':32} {'siting km':>12} {'reference km':>13} {'ref':>9} {'diff m':>8} {'planar err':>10}")
    for r in dist:
        print(f"{r['pair']:32} {r['siting_km']:12.4f} {r['reference_km']:13.4f} {r['reference']:>9} "
              f"{r['difference_m']:8.4f} {r['planar_error_pct']:9.1f}%")
    print()
    print(f"{'flagship step':20} {'median s':>9}")
    for r in out:
        print(f"{r['step']:20} {r['median_seconds']:9.3f}")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "key", "value", "reference", "difference_m", "planar_error_pct"])
        for r in dist:
            w.writerow(["distance_km", r["pair"], r["siting_km"], r["reference_km"], r["difference_m"],
                        r["planar_error_pct"]])
        for r in out:
            w.writerow(["seconds", r["step"], r["median_seconds"], "", "", ""])
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
