"""What ``results.xlsx`` costs a solve, and why ``--xlsx`` is off by default.

For each instance, ``siting solve`` is run as a planner runs it (a fresh process each time, map and
report included), with and without ``--xlsx``, ``--repeat`` times each, alternating; the table
gives the median wall time of both and their difference. A second table times, in one process,
importing openpyxl and writing the workbook from the run's tables (median of ``--repeat``), beside
writing the same tables as CSV. Times on a shared machine are noisy: compare medians.

Usage: ``python benchmarks/xlsx.py [--instances jasm,network-2030] [--repeat 5] [--out benchmarks/out/xlsx.csv]``
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _table import write_rows  # noqa: E402  (benchmarks/ is on sys.path)


def _wall(instance: Path, out: Path, xlsx: bool) -> float:
    cmd = [sys.executable, "-m", "siting", "solve", str(instance), "-o", str(out), *(["--xlsx"] if xlsx else [])]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def _in_process(instance: Path, repeat: int) -> dict:
    code = f"""
import statistics, time
t = time.perf_counter(); import openpyxl; imported = time.perf_counter() - t
from siting.report.workbook import results_workbook
from siting.report.write import TABLE_FILES, summary_dict
from siting.run import run_case
from siting.solve import load_profile
run = run_case({str(instance)!r}, load_profile("default"))
tables = {{n: run.results.tables[n] for n in TABLE_FILES if n in run.results.tables}}
tables["shadow_prices"] = run.shadow
summary = summary_dict(run)
xlsx, csv = [], []
for _ in range({repeat}):
    t = time.perf_counter(); results_workbook(tables, summary); xlsx.append(time.perf_counter() - t)
    t = time.perf_counter(); [d.to_csv(index=False, float_format="%.10g") for d in tables.values()]
    csv.append(time.perf_counter() - t)
print(imported, statistics.median(xlsx), statistics.median(csv), sum(d.size for d in tables.values()))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return {"import_openpyxl_s": float(out[0]), "write_xlsx_s": float(out[1]), "write_csv_s": float(out[2]),
            "cells": int(out[3])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", default="jasm,network-2030")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "xlsx.csv"))
    args = parser.parse_args()
    rows = []
    print(f"{'instance':<14} {'solve s':>9} {'+xlsx s':>9} {'diff s':>8} {'import s':>9} {'xlsx s':>8} "
          f"{'csv s':>7} {'cells':>7}")
    for name in args.instances.split(","):
        instance = ROOT / "instances" / name
        plain, book = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for k in range(args.repeat):
                plain.append(_wall(instance, Path(tmp) / f"p{k}", False))
                book.append(_wall(instance, Path(tmp) / f"x{k}", True))
        inner = _in_process(instance, args.repeat)
        row = {"instance": name, "repeat": args.repeat, "solve_median_s": statistics.median(plain),
               "solve_xlsx_median_s": statistics.median(book),
               "difference_s": statistics.median(book) - statistics.median(plain), **inner}
        rows.append(row)
        print(f"{name:<14} {row['solve_median_s']:>9.2f} {row['solve_xlsx_median_s']:>9.2f} "
              f"{row['difference_s']:>8.2f} {row['import_openpyxl_s']:>9.2f} {row['write_xlsx_s']:>8.2f} "
              f"{row['write_csv_s']:>7.3f} {row['cells']:>7}")
    write_rows(args.out, rows)


if __name__ == "__main__":
    main()
