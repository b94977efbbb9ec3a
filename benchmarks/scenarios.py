"""How the extensive form grows with the number of scenarios.

One synthetic instance (``scale.write_synthetic``: sites in East Asia and North America, every site
able to make every product) gets 1, 10, 50 and 200 random scenarios: each takes one site down to a
random share of its capacity, one supplier to a random share of its capacity, and scales demand
by a random factor (probabilities from a Dirichlet draw, seeded). For each count, one fresh
process reads, checks, derives, builds and compiles the model, then solves it under a time limit;
the table gives the model's size, the times and HiGHS's status and gap. The extensive form should
stay sparse: its nonzeros grow linearly with the scenarios (one copy of the second stage each),
and build time with them.

Usage: ``python benchmarks/scenarios.py [--counts 1,10,50,200] [--solve-limit S] [--lam 0.2]
[--out benchmarks/out/scenarios.csv]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _table import write_rows  # noqa: E402  (benchmarks/ is on sys.path)
from scale import write_synthetic  # noqa: E402

#: (sites, markets, products, inputs, suppliers per input) of the base instance.
BASE = (8, 20, 2, 3, 4)


def add_scenarios(folder: Path, count: int, seed: int = 0) -> Path:
    """Add ``count`` random scenarios to the instance in ``folder``."""
    rng = np.random.default_rng(seed)
    sites = pd.read_csv(folder / "sites.csv")["id"].tolist()
    suppliers = pd.read_csv(folder / "suppliers.csv")["id"].tolist()
    ids = [f"w{k}" for k in range(count)]
    p = rng.dirichlet(np.ones(count))
    p[-1] = 1.0 - p[:-1].sum()
    pd.DataFrame({"id": ids, "probability": [f"{x:.17g}" for x in p]}).to_csv(folder / "scenarios.csv", index=False)
    rows = []
    for w in ids:
        rows.append((w, "site", "id", str(rng.choice(sites)), round(rng.uniform(0, 1), 3)))
        rows.append((w, "supplier", "id", str(rng.choice(suppliers)), round(rng.uniform(0, 1), 3)))
        rows.append((w, "demand", "all", "", round(rng.uniform(0.7, 1.3), 3)))
    pd.DataFrame(rows, columns=["scenario", "target", "by", "match", "multiplier"]).to_csv(
        folder / "scenario_effects.csv", index=False)
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    spec["tables"].update(scenarios="scenarios.csv", scenario_effects="scenario_effects.csv")
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def child(folder: str, solve_limit: float, lam: float) -> None:
    """Run in a fresh process: time every step and print one JSON line."""
    from siting.instance.derive import derive
    from siting.model.build import build_model
    from siting.run import load_case
    from siting.solve import load_profile, solve_model

    t0 = time.perf_counter()
    inst = load_case(folder, [f"settings.risk_weight={lam}"])
    t1 = time.perf_counter()
    data = derive(inst)
    t2 = time.perf_counter()
    sm = build_model(data)
    t3 = time.perf_counter()
    outcome, compiled = solve_model(sm, load_profile("default", time_limit=solve_limit))
    print(json.dumps({
        "load_s": t1 - t0, "derive_s": t2 - t1, "build_s": t3 - t2, "compile_s": outcome.times["compile"],
        "solve_s": outcome.times["solve"], "rows": compiled.lp["num_row"], "columns": len(compiled.columns),
        "nonzeros": len(compiled.lp["value"]), "integers": int(compiled.integer.sum()),
        "status": outcome.status, "mip_gap": outcome.mip_gap, "objective": outcome.objective,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,10,50,200")
    parser.add_argument("--solve-limit", type=float, default=120.0, help="HiGHS time limit per solve, seconds")
    parser.add_argument("--lam", type=float, default=0.2, help="CVaR weight lambda (0: expected cost only)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "scenarios.csv"))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]), float(args.child[2]))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in [int(c) for c in args.counts.split(",")]:
            folder = write_synthetic(Path(tmp) / f"w{count}", *BASE)
            add_scenarios(folder, count)
            done = subprocess.run([sys.executable, __file__, "--child", str(folder), str(args.solve_limit),
                                   str(args.lam)], capture_output=True, text=True, check=True)
            row = {"scenarios": count, **json.loads(done.stdout.strip().splitlines()[-1])}
            rows.append(row)
            print(f"{count:>9} scenarios: {row['rows']:>8} rows {row['columns']:>8} columns "
                  f"{row['nonzeros']:>9} nonzeros"
                  f" | derive {row['derive_s']:6.2f}s build {row['build_s']:6.2f}s compile {row['compile_s']:6.2f}s"
                  f" solve {row['solve_s']:7.2f}s | {row['status']} gap {row['mip_gap'] or 0:.2e}", flush=True)
    write_rows(args.out, rows)


if __name__ == "__main__":
    main()
