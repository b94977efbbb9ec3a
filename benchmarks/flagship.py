"""End-to-end time of the flagship solve, process start to exit, beside the pipeline's own times.

Runs ``siting solve instances/jasm`` (map and report included) in a fresh process N times and
reports, per run and as medians: the wall time from process start to exit, the CPU time of the
process (``user``, and ``cpu`` = user + system, which a busy machine inflates less than the wall
time), and the tool's own times from ``summary.json`` (load, build, solve, extract; ``total`` is
their sum, the pipeline's own time; ``runner_up`` is the headline's extra solve, outside it).
One more run under ``python -X importtime`` gives the import time by package (the sum
of each module's own import time, so the packages add up to the whole; ``-X importtime`` itself
slows imports a little).

Targets: wall time under 3 s on a 2-core machine, and at most 2.5 times the pipeline's own time.
The load average is printed with the figures: on a shared machine the wall time is noisy.

Usage: ``python benchmarks/flagship.py [--repeat N] [--instance DIR] [--out benchmarks/out/flagship.csv]``
(the import breakdown goes beside it, ``flagship-imports.csv``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAGES = ("load", "build", "solve", "extract", "total")
WALL_TARGET, RATIO_TARGET = 3.0, 2.5


def _command(instance: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "siting.cli", "solve", str(instance), "--out", str(out)]


def _child_cpu() -> tuple[float, float]:
    """(user, user + system) CPU seconds of the finished child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime, usage.ru_utime + usage.ru_stime


def run_once(instance: Path, out: Path) -> dict:
    """One solve in a fresh process: wall and CPU time, and the tool's own times."""
    user0, cpu0 = _child_cpu()
    start = time.perf_counter()
    done = subprocess.run(_command(instance, out), capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - start
    user1, cpu1 = _child_cpu()
    user, cpu = user1 - user0, cpu1 - cpu0
    if done.returncode != 0:
        raise SystemExit(f"solve failed ({done.returncode}): {done.stderr.strip()}")
    summary = json.loads((out / "summary.json").read_text())
    row = {"wall": wall, "user": user, "cpu": cpu, **{k: summary["times"][k] for k in STAGES},
           "runner_up": summary["times"].get("runner_up", 0.0)}
    row["ratio"] = wall / row["total"]
    row.update(status=summary["status"], objective=summary["objective"], mip_gap=summary["mip_gap"],
               load_avg=os.getloadavg()[0])
    return row


def import_breakdown(instance: Path, out: Path) -> tuple[list[tuple[str, float]], float]:
    """Seconds of import by top-level package (each module's own time, summed), and the total."""
    done = subprocess.run([sys.executable, "-X", "importtime", *_command(instance, out)[1:]],
                          capture_output=True, text=True, cwd=ROOT)
    by_package: dict[str, float] = defaultdict(float)
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|( *)(\S+)$", line)
        if m:
            by_package[m.group(3).split(".")[0]] += int(m.group(1)) / 1e6
    total = sum(by_package.values())
    return sorted(by_package.items(), key=lambda kv: -kv[1]), total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes to time (default 5)")
    parser.add_argument("--instance", type=Path, default=ROOT / "instances" / "jasm")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "flagship.csv")
    parser.add_argument("--top", type=int, default=12, help="packages listed in the import table (default 12)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            rows.append(run_once(args.instance, Path(tmp) / f"run{k}"))
        packages, import_total = import_breakdown(args.instance, Path(tmp) / "imports")
    load_after = os.getloadavg()

    cols = ["wall", "user", "cpu", *STAGES, "runner_up", "ratio"]
    print(f"{'run':>6} " + " ".join(f"{c:>8}" for c in cols) + "   status      objective")
    for k, r in enumerate(rows):
        print(f"{k:>6} " + " ".join(f"{r[c]:8.3f}" for c in cols) + f"   {r['status']:<8} {r['objective']:12.3f}")
    med = {c: statistics.median(r[c] for r in rows) for c in cols}
    print(f"{'median':>6} " + " ".join(f"{med[c]:8.3f}" for c in cols))
    print(f"\nimports (one run under -X importtime): {import_total:.3f} s in all")
    print(f"{'package':<16} {'seconds':>8} {'share':>7}")
    for name, secs in packages[:args.top]:
        print(f"{name:<16} {secs:8.3f} {secs / import_total:7.1%}")
    rest = sum(s for _, s in packages[args.top:])
    print(f"{'(the rest)':<16} {rest:8.3f} {rest / import_total:7.1%}")
    print(f"\nload average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} cores")
    ratio = statistics.median(r["ratio"] for r in rows)
    print(f"process start to exit: median {med['wall']:.2f} s over {len(rows)} runs "
          f"({'meets' if med['wall'] < WALL_TARGET else 'MISSES'} the {WALL_TARGET:g} s target); "
          f"{ratio:.2f}x the pipeline's own {med['total']:.2f} s "
          f"({'meets' if ratio <= RATIO_TARGET else 'MISSES'} the {RATIO_TARGET:g}x target)")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["run", *cols, "status", "objective", "mip_gap", "load_avg"])
        writer.writeheader()
        for k, r in enumerate(rows):
            writer.writerow({"run": k, **r})
        writer.writerow({"run": "median", **med})
    imports_csv = args.out.with_name(args.out.stem + "-imports.csv")
    with imports_csv.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["package", "seconds", "share"])
        for name, secs in packages:
            writer.writerow([name, f"{secs:.4f}", f"{secs / import_total:.4f}"])
    print(f"wrote {args.out} and {imports_csv}")


if __name__ == "__main__":
    main()
