"""Cases per second of a 100-case sweep of the flagship instance.

Compares ways of solving the same cases (the METI grant rate at Chitose from 0 to 0.99):

* ``rebuild``: every case from the files, as 100 separate ``siting solve --set`` would
  (read, check, derive, build, solve, extract, check the solution), in one process;
* ``sweep, no patch``: ``siting sweep --no-patch`` in one worker: the instance read once, tables
  that a case does not change typed once, every case derived, built and compiled;
* ``sweep, patched, cold``: ``siting sweep --no-warm-start``: the model learned from probes and
  patched per case (:mod:`siting.analysis.patch`), no starting plan;
* ``sweep, patched``: the default, each case starting HiGHS from the base case's plan;
* ``sweep, patched, 2 workers``: the default on two local processes.

Per-case overhead is everything but HiGHS's own time (``case_seconds - solve_seconds``), as a
median and as a share of HiGHS's time; ``setup_s`` is what a sweep does once before its cases
(the base case's solve for the starting plan, the probes), and ``wall_share`` the whole run's
time beyond HiGHS's, setup included, as a share of HiGHS's time. The issue's targets are a
per-case overhead of at most 10% of HiGHS's time and a speed-up of at least 1.8x from one to two
workers.

Usage: ``python benchmarks/sweep.py [--cases 100] [--ways rebuild,no-patch,cold,patched,two] [--repeat N]
[--out benchmarks/out/sweep.csv]``. With ``--repeat`` the ways run in turn N times; the table and the
CSV end with each way's medians, and each ratio is given per run and as the median of the runs.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from siting.analysis import sweep as sw  # noqa: E402
from siting.instance.overrides import addressable_paths  # noqa: E402
from siting.instance.read import read_instance  # noqa: E402
from siting.run import run_case  # noqa: E402
from siting.solve import load_profile  # noqa: E402

PARAM = "instruments.meti-chitose.rate"
WAYS = ("rebuild", "no-patch", "cold", "patched", "two")


def measure(name: str, cases: list, records: list[dict], wall: float, setup: float = 0.0) -> dict:
    solve = [r["row"]["solve_seconds"] for r in records]
    case = [r["row"]["case_seconds"] for r in records]
    over = [c - s for c, s in zip(case, solve)]
    objectives = [r["row"].get("objective") for r in records]
    patched = sum(r["row"].get("model") == "patched" for r in records)
    return {"way": name, "cases": len(cases), "patched": patched, "wall_s": wall, "setup_s": setup,
            "cases_per_s": len(cases) / wall, "highs_median_s": statistics.median(solve),
            "overhead_median_s": statistics.median(over), "overhead_share": sum(over) / sum(solve),
            "wall_share": (wall - sum(solve)) / sum(solve),
            "objective_sum": sum(o for o in objectives if o is not None)}


def rebuild(instance: Path, cases: list) -> dict:
    options = load_profile("default")
    records = []
    start = time.perf_counter()
    for sets in cases:
        t0 = time.perf_counter()
        run = run_case(instance, options, sets=list(sets), duals=False)
        row = {"solve_seconds": run.times["solve"], "case_seconds": time.perf_counter() - t0,
               "objective": run.outcome.objective}
        records.append({"row": row})
    return measure("rebuild", cases, records, time.perf_counter() - start)


def sweep(instance: Path, axes: list, cases: list, workers: int, warm: bool, patch: bool, name: str) -> dict:
    raw = read_instance(instance)
    with tempfile.TemporaryDirectory() as tmp:
        s = sw.Sweep(raw=raw, axes=axes, method="grid", cases=cases, options=load_profile("default"),
                     out=Path(tmp) / "s", warm_start=warm, patch=patch)
        start = time.perf_counter()
        # as `siting sweep` runs it: the workers start, the values are checked and the model probed
        # (what is done once, timed apart as the setup), then the cases
        with sw.local_workers(workers, len(cases)) as pool:
            sw.start_base_plan(s, pool)
            sw.check_values(s)
            todo = sw.prepare(s)
            sw.prepare_solvers(s, todo, pool)
            setup = time.perf_counter() - start
            sw.solve_cases(s, todo, workers=workers, pool=pool)
        wall = time.perf_counter() - start
        return measure(name, cases, list(s.records.values()), wall, setup)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--instance", type=Path, default=ROOT / "instances" / "jasm")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "sweep.csv")
    parser.add_argument("--ways", default=",".join(WAYS), help=f"which ways to run, of {','.join(WAYS)}")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every way; the table ends with medians")
    args = parser.parse_args()
    raw = read_instance(args.instance)
    step = 0.99 / (args.cases - 1)
    axes = [sw.parse_axis(f"{PARAM}=0:0.99:{step:.12g}", addressable_paths(raw))]
    cases = sw.plan_cases(axes, "grid")[: args.cases]
    cols = ["run", "way", "cases", "patched", "wall_s", "setup_s", "cases_per_s", "highs_median_s",
            "overhead_median_s", "overhead_share", "wall_share", "objective_sum"]

    def show(r: dict) -> None:
        print(f"{r['run']:<7}{r['way']:<26}" + "".join(
            f"{r[c]:>18.4f}" if isinstance(r[c], float) else f"{r[c]:>18}" for c in cols[2:]), flush=True)

    print(f"{'run':<7}{'way':<26}" + "".join(f"{c:>18}" for c in cols[2:]), flush=True)
    ways = {"rebuild": lambda: rebuild(args.instance, cases),
            "no-patch": lambda: sweep(args.instance, axes, cases, 1, True, False, "sweep, no patch"),
            "cold": lambda: sweep(args.instance, axes, cases, 1, False, True, "sweep, patched, cold"),
            "patched": lambda: sweep(args.instance, axes, cases, 1, True, True, "sweep, patched"),
            "two": lambda: sweep(args.instance, axes, cases, 2, True, True, "sweep, patched, 2 workers")}
    chosen = args.ways.split(",")
    unknown = [w for w in chosen if w not in ways]
    if unknown:
        parser.error(f"unknown way {unknown[0]}; choose from {','.join(WAYS)}")
    rows, runs = [], []
    for run in range(1, args.repeat + 1):
        # the ways of one run follow each other, so that a change in the machine's speed between
        # runs shows in the spread of the ratios rather than in one way's figures
        by = {}
        for name in chosen:
            r = {"run": run, **ways[name]()}
            rows.append(r)
            by[r["way"]] = r
            show(r)
        runs.append(by)
    medians = []
    for name in dict.fromkeys(r["way"] for r in rows):
        mine = [r for r in rows if r["way"] == name]
        medians.append({"run": "median", "way": name, **{c: statistics.median(r[c] for r in mine) for c in cols[2:]}})
    if args.repeat > 1:
        for r in medians:
            show(r)
    rows += medians

    def ratios(a: str, b: str, column: str = "cases_per_s") -> list[float]:
        return [by[a][column] / by[b][column] for by in runs if a in by and b in by]

    def said(values: list[float]) -> str:
        if len(values) == 1:
            return f"{values[0]:.2f}x"
        return f"median {statistics.median(values):.2f}x (runs: {', '.join(f'{v:.2f}' for v in values)})"

    one = "sweep, patched"
    if ratios("sweep, patched, 2 workers", one):
        print(f"2 workers against 1: {said(ratios('sweep, patched, 2 workers', one))} (target 1.8x)")
    if any(one in by for by in runs):
        share = [by[one]["overhead_share"] for by in runs if one in by]
        print(f"patched sweep: per-case overhead {statistics.median(share):.1%} of HiGHS's time (target at most "
              f"10%), {statistics.median(by[one]['wall_share'] for by in runs if one in by):.0%} with the setup")
    for other in ("rebuild", "sweep, no patch"):
        if ratios(one, other):
            print(f"patched sweep against {other}: {said(ratios(one, other))}")
    if ratios(one, "sweep, patched, cold"):
        cold = [by["sweep, patched, cold"]["highs_median_s"] for by in runs if "sweep, patched, cold" in by]
        warm = [by[one]["highs_median_s"] for by in runs if one in by]
        print(f"starting from the base plan: HiGHS median {statistics.median(cold):.3f} -> "
              f"{statistics.median(warm):.3f} s per case")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=cols)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
