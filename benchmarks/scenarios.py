"""The engines side by side as the number of scenarios grows.

One synthetic instance (``scale.write_synthetic``: sites in East Asia and North America, every site
able to make every product) gets 1, 10, 50 and 200 random scenarios: each takes one site down to a
random share of its capacity, one supplier to a random share of its capacity, and scales demand
by a random factor (probabilities from a Dirichlet draw, seeded). With ``--network`` the table adds
network-2030 with its qualification costs restored (US$1.5m per supplier and site, as in
instances/jasm) at a 1e-6 gap. For each count and engine (``ef``: the extensive form whole to
HiGHS; ``benders``: ``--engine benders``; ``ph``: ``--engine mpisppy`` on 2 MPI ranks, the PH hub
with a Lagrangian bound spoke, its best plan evaluated across all scenarios; ``ph3``: 3 ranks, with
an x-hat spoke as well) one fresh process reads, checks, derives, builds and solves to the
gap (default 1e-4) under a time limit. Columns, the same for every engine: ``seconds_to_gap`` (the
whole solve, empty when the gap was not reached), ``gap_at_limit`` (the gap when it stopped:
between the plan and the proven bound; for PH, between its plan and the hub's bound, the larger of
the Lagrangian spoke's and the wait-and-see bound), ``peak_mb`` (the process's peak resident memory,
with its MPI ranks for PH, each counted at the largest rank's peak), the objective and the bound.

Usage: ``python benchmarks/scenarios.py [--counts 1,10,50,200] [--engines ef,benders,ph]
[--gap 1e-4] [--solve-limit S] [--lam 0.2] [--network] [--out benchmarks/out/scenarios.csv]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
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


def network_with_qualification(folder: Path) -> Path:
    """network-2030 copied to ``folder`` with a qualification cost of US$1.5m per supplier and site."""
    shutil.copytree(ROOT / "instances" / "network-2030", folder)
    suppliers = pd.read_csv(folder / "suppliers.csv")
    suppliers["qualification_cost"] = 1.5
    suppliers.to_csv(folder / "suppliers.csv", index=False)
    return folder


def child(folder: str, solve_limit: float, lam: float | None, engine: str, gap: float) -> None:
    """Run in a fresh process: time every step and print one JSON line."""
    from siting.instance.read import read_instance
    from siting.run import run_case
    from siting.solve import load_profile

    options = load_profile("default", time_limit=solve_limit, mip_rel_gap=gap)
    sets = [] if lam is None else [f"settings.risk_weight={lam}"]
    t0 = time.perf_counter()
    ranks = {"ph": 2, "ph3": 3}.get(engine, 0)
    if ranks:
        from siting.decompose import solve_by_ph

        run = solve_by_ph(read_instance(folder), folder, options, sets, ranks=ranks, duals=False)
    else:
        run = run_case(folder, options, sets=sets, duals=False, engine=engine)
    seconds = time.perf_counter() - t0
    out = run.outcome
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rank_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if ranks else 0
    # PH's plan is not proven optimal (status feasible): its time "to the gap" is when its gap to
    # the hub's bound is within the asked gap
    reached = out.status == "optimal" or (ranks and out.mip_gap is not None and out.mip_gap <= gap)
    print(json.dumps({
        "status": out.status, "seconds_to_gap": round(seconds, 2) if reached else None,
        "gap_at_limit": out.mip_gap, "peak_mb": round((own + ranks * rank_peak) / 1024, 1),
        "objective": out.objective, "bound": out.best_bound, "total_s": round(seconds, 2),
        "build_s": round(run.times.get("build", 0.0), 2), "checks": len(run.violations),
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,10,50,200")
    parser.add_argument("--engines", default="ef,benders,ph", help="ef, benders, ph (PH on 2 MPI ranks), ph3 (3 ranks)")
    parser.add_argument("--gap", type=float, default=1e-4, help="relative gap every engine solves to")
    parser.add_argument("--solve-limit", type=float, default=120.0, help="time limit per solve, seconds")
    parser.add_argument("--lam", type=float, default=0.2, help="CVaR weight lambda (0: expected cost only)")
    parser.add_argument("--network", action="store_true",
                        help="add network-2030 with qualification costs restored, at a 1e-6 gap")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "scenarios.csv"))
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder, limit, lam, engine, gap = args.child
        child(folder, float(limit), None if lam == "-" else float(lam), engine, float(gap))
        return
    engines = args.engines.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for count in [int(c) for c in args.counts.split(",") if c]:
            folder = write_synthetic(Path(tmp) / f"w{count}", *BASE)
            cases.append((f"synthetic-{count}", count, add_scenarios(folder, count), str(args.lam), args.gap))
        if args.network:
            cases.append(("network-2030+qualification", 8, network_with_qualification(Path(tmp) / "network"), "-",
                          1e-6))
        for name, count, folder, lam, gap in cases:
            for engine in engines:
                done = subprocess.run([sys.executable, __file__, "--child", str(folder), str(args.solve_limit), lam,
                                       engine, str(gap)], capture_output=True, text=True)
                if done.returncode != 0:
                    print(f"{name} {engine}: failed: {done.stderr.strip().splitlines()[-1:]}", flush=True)
                    continue
                row = {"instance": name, "scenarios": count, "engine": engine, "gap": gap,
                       **json.loads(done.stdout.strip().splitlines()[-1])}
                rows.append(row)
                to_gap = f"{row['seconds_to_gap']:8.1f}s" if row["seconds_to_gap"] is not None else "        -"
                gap_text = f"{row['gap_at_limit']:9.2e}" if row["gap_at_limit"] is not None else " no bound"
                print(f"{name:>28} {engine:>8}: to gap {to_gap} | gap at limit {gap_text} | "
                      f"peak {row['peak_mb']:7.0f} MB | {row['status']} {row['objective']}", flush=True)
    write_rows(args.out, rows)


if __name__ == "__main__":
    main()
