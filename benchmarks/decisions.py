"""Seconds per alternative, per robustness evaluation and per attributed change.

* alternatives: ``siting alternatives`` with no gap limit and K = 10 on each instance; the time
  from the start to the K-th plan (K = 1 is the optimum, solved through the whole pipeline) and
  the time of that plan's own re-solve (the compiled model with one more no-good cut, no rebuild);
* robustness: on network-2030, each candidate plan evaluated with its first stage fixed in the
  compiled model of the optimum (what ``siting robustness`` does) against the same evaluation
  rebuilt from the data (``run_case(first_stage=...)``), and the whole analysis on 1 and 2 workers;
* attribution: ``siting diff --attribute`` of two jasm runs differing in three cells, on 1 and 2
  workers (three replays, plus A and B solved again): seconds per attributed change.

Every figure is the median of ``--repeats`` runs on this machine as it is (other work shares its
cores: the figures are noisy). Prints a table and writes a CSV.

Usage: ``python benchmarks/decisions.py [--repeats 1] [--count 10] [--out benchmarks/out/decisions.csv]``
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _table import write_rows  # the script's folder, benchmarks/, is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

INSTANCES = ("jasm", "network-2030")
#: The three cells the attribution benchmark changes from A to B.
CHANGES = ("instruments.meti-kumamoto.rate=0.2", "sites.chitose.fixed_cost=1900", "sites.kumamoto.fixed_cost=2300")


def bench_alternatives(name: str, count: int, options) -> list[dict]:
    """One row per plan K: cumulative seconds to K plans, and K's own solve."""
    from siting.analysis.alternatives import alternatives
    from siting.instance.read import read_instance

    raw = read_instance(ROOT / "instances" / name)
    stamps = []
    t0 = time.perf_counter()
    result = alternatives(raw, options, within=1e9, count=count,
                          progress=lambda plan, _line: stamps.append(time.perf_counter() - t0) if plan else None)
    rows = []
    for k, (plan, at) in enumerate(zip(result.plans, stamps), start=1):
        rows.append({"measure": "alternatives", "instance": name, "k": k, "workers": 1, "seconds": at,
                     "seconds_own": stamps[k - 1] - (stamps[k - 2] if k > 1 else 0.0),
                     "note": f"{plan.run.outcome.status}, {result.table.iloc[k - 1]['gap_to_optimum']:+.2%}"})
    return rows


def bench_robustness(options, workers: int) -> list[dict]:
    """Per candidate: fixed-first-stage re-solve against a rebuild; and the whole analysis."""
    from siting.analysis import cuts
    from siting.analysis.robustness import robustness
    from siting.instance.read import read_instance
    from siting.run import resolve, run_case

    raw = read_instance(ROOT / "instances" / "network-2030")
    t0 = time.perf_counter()
    result = robustness(raw, options, alternatives_count=2, workers=workers)
    total = time.perf_counter() - t0
    rows = [{"measure": "robustness (whole analysis)", "instance": "network-2030", "k": len(result.candidates),
             "workers": workers, "seconds": total, "seconds_own": total / len(result.candidates),
             "note": f"{len(result.candidates)} plans x {result.cost.shape[1]} scenarios"}]
    if workers > 1:
        return rows
    base = run_case(raw, options, duals=False, keep_compiled=True)
    reuse, rebuild = [], []
    for c in result.candidates:
        t = time.perf_counter()
        resolve(base, cuts.fixed(base.compiled, c.values), options)
        reuse.append(time.perf_counter() - t)
        plan = {}
        for j in range(len(base.compiled.columns)):
            if base.compiled.integer[j]:
                col = base.compiled.columns[j]
                plan.setdefault(col.parent_component().local_name, {})[col.index()] = round(c.values[j])
        t = time.perf_counter()
        run_case(raw, options, duals=False, first_stage=plan)
        rebuild.append(time.perf_counter() - t)
    rows.append({"measure": "robustness evaluation, reused model", "instance": "network-2030", "k": len(reuse),
                 "workers": 1, "seconds": sum(reuse), "seconds_own": statistics.median(reuse), "note": "median"})
    rows.append({"measure": "robustness evaluation, rebuilt", "instance": "network-2030", "k": len(rebuild),
                 "workers": 1, "seconds": sum(rebuild), "seconds_own": statistics.median(rebuild), "note": "median"})
    return rows


def bench_attribution(options, workers: int, tmp: Path) -> list[dict]:
    """``diff --attribute`` of jasm against jasm with three cells changed."""
    from siting.analysis.diff import diff
    from siting.cli import main as cli

    inst = str(ROOT / "instances" / "jasm")
    a, b = tmp / "A", tmp / "B"
    if not (b / "manifest.json").is_file():
        cli(["solve", inst, "--out", str(a), "--no-duals", "--json"])
        cli(["solve", inst, "--out", str(b), "--no-duals", "--json",
             *[x for c in CHANGES for x in ("--set", c)]])
    t0 = time.perf_counter()
    result = diff(a, b, attribute_with=options, workers=workers)
    total = time.perf_counter() - t0
    n = len(result.attribution.table) - 1
    return [{"measure": "attribution", "instance": "jasm", "k": n, "workers": workers, "seconds": total,
             "seconds_own": total / n, "note": f"{n} changes + A and B solved again"}]


def _median(rows: list[list[dict]]) -> list[dict]:
    out = []
    for group in zip(*rows):
        row = dict(group[0])
        row["seconds"] = statistics.median(r["seconds"] for r in group)
        row["seconds_own"] = statistics.median(r["seconds_own"] for r in group)
        out.append(row)
    return out


def main() -> None:
    import contextlib
    import io

    from siting.solve import load_profile

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "decisions.csv"))
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    options = load_profile("exact")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in INSTANCES:
            rows += _median([bench_alternatives(name, args.count, options) for _ in range(args.repeats)])
        for workers in (1, 2):
            rows += _median([bench_robustness(options, workers) for _ in range(args.repeats)])
        for workers in (1, 2):
            with contextlib.redirect_stdout(io.StringIO()):
                runs = [bench_attribution(options, workers, Path(tmp)) for _ in range(args.repeats)]
            rows += _median(runs)
    print(f"{'measure':<38} {'instance':<13} {'k':>3} {'workers':>7} {'seconds':>9} {'per item':>9}  note")
    for r in rows:
        print(f"{r['measure']:<38} {r['instance']:<13} {r['k']:>3} {r['workers']:>7} {r['seconds']:>9.2f} "
              f"{r['seconds_own']:>9.2f}  {r['note']}")
    write_rows(args.out, rows)


if __name__ == "__main__":
    main()
