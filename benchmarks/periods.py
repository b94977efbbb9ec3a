"""How the phased model grows with periods x scenarios.

The flagship (``instances/jasm``) and the synthetic network of ``scenarios.py`` get a periods table
of 1, 5, 10 and 20 one-year periods (every site with a lead time of one year and an instance-wide
ramp of 50% then 100%, so that lead times and ramps are exercised), with 1 and 8 random scenarios
(``scenarios.add_scenarios``). For each case one fresh process reads, checks, derives, builds and
compiles the model, then solves it under a time limit; the table gives the model's size, the times,
the peak memory of that process, and HiGHS's status and gap. Build time should grow linearly with
periods x scenarios (one copy of the second stage per period and scenario, one of the first stage
per period).

With ``--end-to-end N`` it times instead ``siting solve instances/jasm-phased`` as the user runs
it, from process start to exit (read, solve, runner-up, duals, every file written), N times with
the runner-up search and N times with ``--no-runner-up``, and prints each run and the medians (the
issue's target: under 15 s on 2 cores); the rows go to ``benchmarks/out/periods-end-to-end.csv``
with each run's pipeline seconds from its ``summary.json``.

Usage: ``python benchmarks/periods.py [--periods 1,5,10,20] [--scenarios 1,8] [--networks jasm,synthetic]
[--solve-limit S] [--out benchmarks/out/periods.csv]`` or ``python benchmarks/periods.py --end-to-end 5``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _table import write_rows  # noqa: E402  (benchmarks/ is on sys.path)
from scale import write_synthetic  # noqa: E402
from scenarios import BASE, add_scenarios  # noqa: E402


def add_periods(folder: Path, count: int, start: int = 2025) -> Path:
    """Give the instance in ``folder`` ``count`` one-year periods, a one-year lead time at every
    site and a 50%/100% ramp; tables without a period column hold their values in every period."""
    pd.DataFrame({"id": [f"y{start + k}" for k in range(count)], "start_year": [start + k for k in range(count)],
                  "years": [1] * count}).to_csv(folder / "periods.csv", index=False)
    sites = pd.read_csv(folder / "sites.csv")
    sites["lead_time_years"] = 1 if count > 1 else 0
    sites.to_csv(folder / "sites.csv", index=False)
    spec = yaml.safe_load((folder / "instance.yaml").read_text())
    spec["tables"] = {"periods": "periods.csv", **spec["tables"]}
    spec.setdefault("settings", {}).pop("period", None)
    if count > 1:
        spec["settings"]["ramp"] = "0.5;1"
    (folder / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def child(folder: str, solve_limit: float) -> None:
    """Run in a fresh process: time every step and print one JSON line."""
    from siting.instance.derive import derive
    from siting.model.build import build_model
    from siting.run import load_case
    from siting.solve import load_profile, solve_model

    t0 = time.perf_counter()
    inst = load_case(folder)
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
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "status": outcome.status, "mip_gap": outcome.mip_gap, "objective": outcome.objective,
    }))


def end_to_end(repeats: int, out: str) -> None:
    """Time ``siting solve instances/jasm-phased`` from process start to exit, with and without the
    runner-up search; print every run and the medians, and write the rows."""
    rows = []
    siting = [sys.executable, "-m", "siting"]
    with tempfile.TemporaryDirectory() as tmp:
        for flags in ([], ["--no-runner-up"]):
            for k in range(repeats):
                folder = Path(tmp) / f"run{len(rows)}"
                t0 = time.perf_counter()
                subprocess.run([*siting, "solve", str(ROOT / "instances" / "jasm-phased"), "--out", str(folder),
                                *flags], capture_output=True, text=True, check=True)
                wall = time.perf_counter() - t0
                times = json.loads((folder / "summary.json").read_text()).get("times", {})
                rows.append({"command": " ".join(["siting solve instances/jasm-phased", *flags]), "run": k + 1,
                             "wall_s": round(wall, 3), "pipeline_s": round(times.get("total", float("nan")), 3),
                             "solve_s": round(times.get("solve", float("nan")), 3),
                             "runner_up_s": round(times.get("runner_up", 0.0), 3)})
                print(f"{rows[-1]['command']:<50} run {k + 1}: {wall:6.2f}s end to end (pipeline "
                      f"{rows[-1]['pipeline_s']:.2f}s, runner-up {rows[-1]['runner_up_s']:.2f}s)", flush=True)
            median = statistics.median(r["wall_s"] for r in rows[-repeats:])
            print(f"{rows[-1]['command']:<50} median of {repeats}: {median:.2f}s (target: under 15 s)", flush=True)
    write_rows(out, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", default="1,5,10,20")
    parser.add_argument("--scenarios", default="1,8")
    parser.add_argument("--networks", default="jasm,synthetic", help="which of jasm and synthetic to run")
    parser.add_argument("--solve-limit", type=float, default=60.0, help="HiGHS time limit per solve, seconds")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "periods.csv"))
    parser.add_argument("--end-to-end", type=int, metavar="N",
                        help="time `siting solve instances/jasm-phased` N times end to end, with and without "
                             "--no-runner-up, instead of the size table")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]))
        return
    if args.end_to_end:
        end_to_end(args.end_to_end, str(Path(args.out).with_name("periods-end-to-end.csv")))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for network in args.networks.split(","):
            for scenarios in [int(c) for c in args.scenarios.split(",")]:
                for periods in [int(c) for c in args.periods.split(",")]:
                    folder = Path(tmp) / f"{network}-{scenarios}-{periods}"
                    if network == "jasm":
                        shutil.copytree(ROOT / "instances" / "jasm", folder)
                    else:
                        write_synthetic(folder, *BASE)
                    if scenarios > 1:
                        add_scenarios(folder, scenarios)
                    add_periods(folder, periods)
                    done = subprocess.run([sys.executable, __file__, "--child", str(folder), str(args.solve_limit)],
                                          capture_output=True, text=True, check=True)
                    row = {"network": network, "periods": periods, "scenarios": scenarios,
                           **json.loads(done.stdout.strip().splitlines()[-1])}
                    rows.append(row)
                    print(f"{network:>9} {periods:>3} periods {scenarios:>2} scenarios: {row['rows']:>7} rows "
                          f"{row['columns']:>7} columns {row['nonzeros']:>8} nonzeros | derive {row['derive_s']:5.2f}s "
                          f"build {row['build_s']:6.2f}s compile {row['compile_s']:5.2f}s solve {row['solve_s']:7.2f}s"
                          f" | {row['peak_mb']:6.0f} MB | {row['status']} gap {row['mip_gap'] or 0:.2e}", flush=True)
    write_rows(args.out, rows)


if __name__ == "__main__":
    main()
