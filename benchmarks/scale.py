"""How model building grows with the data: synthetic siting instances of increasing size.

For each size a synthetic instance is written (sites, markets, products, inputs, suppliers per
input), then one fresh process reads, checks, derives, builds and compiles it, optionally solves
it under a time limit, and reports its times, the model's size and its peak memory. Build time
should grow with the number of routes and supply arcs (the data), not with the product of all set
sizes.

Usage: ``python benchmarks/scale.py [--sizes small,medium,large] [--solve-limit S] [--out benchmarks/out/scale.csv]``
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent

#: name -> (sites, markets, products, inputs, suppliers per input)
SIZES = {
    "small": (10, 50, 2, 5, 5),
    "medium": (30, 300, 3, 10, 10),
    "large": (100, 1000, 2, 20, 50),
}


def write_synthetic(folder: Path, sites: int, markets: int, products: int, inputs: int, per_input: int,
                    seed: int = 0) -> Path:
    """Write a synthetic instance: random points in East Asia and North America, every site able to
    make every product, every input needed by every product, ``per_input`` suppliers per input."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    def points(n: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
        east = rng.random(n) < 0.6
        lat = np.where(east, rng.uniform(22, 43, n), rng.uniform(28, 45, n))
        lon = np.where(east, rng.uniform(120, 142, n), rng.uniform(-122, -75, n))
        return lat.round(3), lon.round(3), ["JP" if e else "US" for e in east]

    lat, lon, country = points(sites)
    site_ids = [f"s{k}" for k in range(sites)]
    pd.DataFrame({"id": site_ids, "country": country, "lat": lat, "lon": lon,
                  "fixed_cost": rng.uniform(500, 2000, sites).round(1)}).to_csv(folder / "sites.csv", index=False)
    prod_ids = [f"p{k}" for k in range(products)]
    pd.DataFrame({"id": prod_ids, "freight_per_wafer_km": 0.005}).to_csv(folder / "products.csv", index=False)
    mods = [(s, p) for s in site_ids for p in prod_ids]
    pd.DataFrame({"site": [s for s, _ in mods], "product": [p for _, p in mods],
                  "wafers_per_module": 60000, "capex_per_module": rng.uniform(500, 700, len(mods)).round(1),
                  "max_modules": 4, "operating_cost_per_wafer": rng.uniform(700, 1300, len(mods)).round(0)}
                 ).to_csv(folder / "modules.csv", index=False)
    mlat, mlon, mcountry = points(markets)
    market_ids = [f"m{k}" for k in range(markets)]
    pd.DataFrame({"id": market_ids, "country": mcountry, "lat": mlat, "lon": mlon}).to_csv(
        folder / "markets.csv", index=False)
    total = 60000 * 4 * sites * 0.3
    dem = [(m, p) for m in market_ids for p in prod_ids]
    pd.DataFrame({"market": [m for m, _ in dem], "product": [p for _, p in dem],
                  "wafers_per_year": (rng.dirichlet(np.ones(len(dem))) * total).round(0) + 1,
                  "penalty_per_wafer": 8000}).to_csv(folder / "demand.csv", index=False)
    in_ids = [f"i{k}" for k in range(inputs)]
    pd.DataFrame({"id": in_ids, "freight_per_unit_km": 0.0005}).to_csv(folder / "inputs.csv", index=False)
    pd.DataFrame({"product": [p for p in prod_ids for _ in in_ids], "input": in_ids * products,
                  "units_per_wafer": rng.uniform(0.5, 2.0, products * inputs).round(3)}
                 ).to_csv(folder / "bom.csv", index=False)
    slat, slon, scountry = points(inputs * per_input)
    sup_ids = [f"u{k}" for k in range(inputs * per_input)]
    pd.DataFrame({"id": sup_ids, "country": scountry, "lat": slat, "lon": slon,
                  "qualification_cost": 1.0}).to_csv(folder / "suppliers.csv", index=False)
    need = 60000 * 4 * sites * 2.0
    pd.DataFrame({"supplier": sup_ids, "input": [i for i in in_ids for _ in range(per_input)],
                  "capacity_units_per_year": (need / per_input * rng.uniform(0.5, 2.0, len(sup_ids))).round(0),
                  "price_per_unit": rng.uniform(50, 150, len(sup_ids)).round(2)}
                 ).to_csv(folder / "offers.csv", index=False)
    tables = ["sites", "products", "modules", "markets", "demand", "inputs", "bom", "suppliers", "offers"]
    spec = {"name": folder.name, "settings": {"currency": "USD", "money_unit": "million"},
            "tables": {t: f"{t}.csv" for t in tables}}
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def child(folder: str, solve_limit: float | None) -> None:
    """Run in a fresh process: time every step and report peak memory as JSON on stdout."""
    from siting.instance.derive import derive
    from siting.model.build import build_model
    from siting.run import load_case
    from siting.solve import compile_model, load_profile, solve_model

    t0 = time.perf_counter()
    inst = load_case(folder)
    t1 = time.perf_counter()
    data = derive(inst)
    t2 = time.perf_counter()
    sm = build_model(data)
    t3 = time.perf_counter()
    compiled = compile_model(sm)
    t4 = time.perf_counter()
    out = {"load": t1 - t0, "derive": t2 - t1, "build": t3 - t2, "compile": t4 - t3,
           "routes": len(data.routes), "arcs": len(data.arcs), "columns": len(compiled.columns),
           "rows": int(compiled.lp["num_row"]), "nonzeros": int(len(compiled.lp["value"]))}
    if solve_limit:
        outcome, _ = solve_model(sm, load_profile("default", time_limit=solve_limit))
        out.update(status=outcome.status, solve=outcome.times["solve"], gap=outcome.mip_gap)
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,medium,large")
    parser.add_argument("--solve-limit", type=float, default=None, help="also solve, with this time limit (s)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "scale.csv")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.solve_limit)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes.split(","):
            folder = write_synthetic(Path(tmp) / name, *SIZES[name])
            cmd = [sys.executable, __file__, "--child", str(folder)]
            if args.solve_limit:
                cmd += ["--solve-limit", str(args.solve_limit)]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if done.returncode != 0:
                raise SystemExit(f"{name}: {done.stderr.strip().splitlines()[-1]}")
            rows.append({"size": name, "shape": "x".join(map(str, SIZES[name])), **json.loads(done.stdout)})
    cols = [c for c in ("size", "shape", "routes", "arcs", "columns", "rows", "nonzeros", "load", "derive",
                        "build", "compile", "solve", "status", "gap", "peak_mb") if any(c in r for r in rows)]
    print(" ".join(f"{c:>10}" for c in cols))
    for r in rows:
        print(" ".join(f"{r.get(c, ''):>10.3f}" if isinstance(r.get(c), float) else f"{str(r.get(c, '')):>10}"
                       for c in cols))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
