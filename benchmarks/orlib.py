"""OR-Library capacitated warehouse location benchmark: published optima, overhead and memory.

For each instance the file is imported with the package's importer (``siting import orlib``) into
a temporary folder, then solved twice, each time in a fresh process so that peak memory belongs to
that one run:

- the tool: :func:`siting.run.run_case` with the ``exact`` profile (``benchmarks/_orlib_child.py``);
- the floor: the identical matrix built with numpy and passed straight to HiGHS, same options
  (``benchmarks/floor.py``).

It prints a table, writes a CSV (columns in ``benchmarks/README.md``) and optionally a markdown
table. Examples::

    python benchmarks/orlib.py                                  # cap41..cap134
    python benchmarks/orlib.py --large --only 'capa_8000|capb_5000' --update
    python benchmarks/orlib.py --large --time-limit 300 --markdown benchmarks/RESULTS-orlib.md
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import math
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CHILD = HERE / "_orlib_child.py"
FLOOR = HERE / "floor.py"
TOLERANCE = 1e-6

COLUMNS = [
    "instance", "optimum", "objective", "rel_diff", "status", "mip_gap", "best_bound",
    "load", "build", "solve", "extract", "overhead", "overhead_pct", "rss_mb",
    "floor_solve", "floor_rss_mb", "mem_ratio", "match",
    "solve_ratio", "floor_status", "floor_objective", "floor_mip_gap", "floor_build",
    "nodes", "floor_nodes", "time_limit", "repeats", "commit",
]


def git_revision() -> str:
    """The repository's commit, ``-dirty`` if the working tree has changes ('' if unknown)."""
    try:
        proc = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return proc.stdout.strip()


def read_optima(shared: Path) -> dict[str, float]:
    """Published optima by instance name, in the order of ``optima.csv``."""
    with open(shared / "optima.csv", newline="", encoding="utf-8") as fh:
        return {r["instance"]: float(r["optimal_value"]) for r in csv.DictReader(fh)}


def instance_names(optima: dict[str, float], large: bool, only: str | None) -> list[str]:
    """cap41..cap134, plus capa/capb/capc at each capacity with ``large``; filtered by ``only``."""
    names = [k for k in optima if re.fullmatch(r"cap\d+", k)]
    if large:
        names += [k for k in optima if re.fullmatch(r"cap[abc]_\d+", k)]
    if only:
        names = [k for k in names if re.search(only, k)]
    return names


def source_of(name: str, shared: Path) -> tuple[Path, float | None]:
    """The OR-Library file and the capacity to substitute (None for cap41..cap134)."""
    stem, _, cap = name.partition("_")
    return shared / f"{stem}.txt", (float(cap) if cap else None)


def run_child(cmd: list[str], timeout: float | None) -> dict:
    """Run a child script and return the JSON it printed last (or an error record)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "error", "error": f"no answer within {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"status": "error", "error": " / ".join(tail)}
    return json.loads(lines[-1])


def median_of(runs: list[dict], key: str) -> float | None:
    """Median of ``key`` over runs that have it."""
    vals = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def benchmark(name: str, optimum: float, shared: Path, time_limit: float | None, repeats: int,
              duals: bool) -> dict:
    """Import, solve with the tool and with the floor, and compare; one CSV row."""
    from siting.instance.orlib import import_orlib

    path, capacity = source_of(name, shared)
    timeout = None if time_limit is None else 3 * time_limit + 600
    tool_runs, floor_runs = [], []
    with tempfile.TemporaryDirectory(prefix=f"orlib-{name}-") as tmp:
        folder = import_orlib(path, Path(tmp) / name, capacity)
        limit = [] if time_limit is None else ["--time-limit", str(time_limit)]
        tool_cmd = [sys.executable, str(CHILD), str(folder), *limit]
        tool_cmd += [] if duals else ["--no-duals"]
        floor_cmd = [sys.executable, str(FLOOR), str(path), *limit] + (
            [] if capacity is None else ["--capacity", str(capacity)])
        for _ in range(repeats):
            tool_runs.append(run_child(tool_cmd, timeout))
            floor_runs.append(run_child(floor_cmd, timeout))
    tool, floor = tool_runs[0], floor_runs[0]
    row: dict = {"instance": name, "optimum": optimum, "status": tool.get("status"),
                 "time_limit": time_limit, "repeats": repeats, "commit": git_revision()}
    if "error" in tool:
        row["status"] = f"error: {tool['error']}"
    for key in ("objective", "best_bound", "mip_gap", "nodes"):
        row[key] = tool.get(key)
    for key in ("load", "build", "solve", "extract", "rss_mb"):
        row[key] = median_of(tool_runs, key)
    row["floor_status"] = (floor.get("status") if "error" not in floor
                           else f"error: {floor['error']}")
    row["floor_objective"] = floor.get("objective")
    row["floor_mip_gap"] = floor.get("mip_gap")
    row["floor_nodes"] = floor.get("nodes")
    row["floor_solve"] = median_of(floor_runs, "solve")
    row["floor_build"] = median_of(floor_runs, "build")
    row["floor_rss_mb"] = median_of(floor_runs, "rss_mb")
    obj = row["objective"]
    row["rel_diff"] = None if obj is None else (obj - optimum) / abs(optimum)
    row["match"] = row["rel_diff"] is not None and abs(row["rel_diff"]) <= TOLERANCE
    if None not in (row["load"], row["build"], row["extract"], row["solve"]):
        row["overhead"] = row["load"] + row["build"] + row["extract"]
        row["overhead_pct"] = 100 * row["overhead"] / row["solve"] if row["solve"] else None
    if row["rss_mb"] and row["floor_rss_mb"]:
        row["mem_ratio"] = row["rss_mb"] / row["floor_rss_mb"]
    if row["solve"] and row["floor_solve"]:
        row["solve_ratio"] = row["solve"] / row["floor_solve"]
    return row


def read_rows(path: Path) -> dict[str, dict]:
    """Rows of an earlier CSV by instance (values as text, converted where numeric)."""
    if not path.is_file():
        return {}
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            row: dict = {}
            for k, v in r.items():
                if v == "":
                    row[k] = None
                elif v in ("True", "False"):
                    row[k] = v == "True"
                else:
                    for kind in (int, float, str):
                        try:
                            row[k] = kind(v)
                            break
                        except ValueError:
                            continue
            out[r["instance"]] = row
    return out


def write_csv(path: Path, rows: list[dict]) -> None:
    """Write the rows with :data:`COLUMNS` as header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else repr(r[k]) if isinstance(r.get(k), float)
                            else r[k]) for k in COLUMNS})


def fmt(x, spec: str) -> str:
    """Format a number, or '-' when missing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, spec)


TABLE = [  # header, key, format
    ("instance", "instance", ""), ("optimum", "optimum", ".3f"), ("objective", "objective", ".3f"),
    ("rel diff", "rel_diff", ".1e"), ("status", "status", ""), ("gap", "mip_gap", ".1e"),
    ("best bound", "best_bound", ".3f"), ("load s", "load", ".2f"), ("build s", "build", ".2f"),
    ("solve s", "solve", ".2f"), ("extract s", "extract", ".2f"),
    ("overhead %", "overhead_pct", ".0f"),
    ("RSS MB", "rss_mb", ".0f"), ("floor solve s", "floor_solve", ".2f"),
    ("floor RSS MB", "floor_rss_mb", ".0f"), ("mem x", "mem_ratio", ".1f"), ("match", "match", ""),
]


def table_lines(rows: list[dict], markdown: bool = False) -> list[str]:
    """The rows as a plain-text or markdown table."""
    cells = [[h for h, _, _ in TABLE]]
    for r in rows:
        cells.append([fmt(r.get(k), f) if f else str(r.get(k, "-")) for _, k, f in TABLE])
    if markdown:
        lines = ["| " + " | ".join(cells[0]) + " |", "|" + "---|" * len(TABLE)]
        lines += ["| " + " | ".join(c) + " |" for c in cells[1:]]
        return lines
    widths = [max(len(c[i]) for c in cells) for i in range(len(TABLE))]
    return ["  ".join(c[i].rjust(widths[i]) for i in range(len(TABLE))) for c in cells]


def summary_lines(rows: list[dict]) -> list[str]:
    """Match counts, overhead and memory ratios, tool vs floor solve time."""
    out = []
    for label, pick in (("small", lambda k: re.fullmatch(r"cap\d+", k)),
                        ("large", lambda k: re.fullmatch(r"cap[abc]_\d+", k))):
        sel = [r for r in rows if pick(r["instance"])]
        if not sel:
            continue
        good = sum(bool(r.get("match")) for r in sel)
        miss = [r["instance"] for r in sel if not r.get("match")]
        out.append(f"{good}/{len(sel)} {label} instances match the published optimum to "
                   f"{TOLERANCE:g} relative" + (f" (not: {', '.join(miss)})" if miss else ""))
        proven = sum(r.get("status") == "optimal" for r in sel)
        floor_proven = sum(r.get("floor_status") == "optimal" for r in sel)
        out.append(f"  {label}: {proven}/{len(sel)} proven optimal by the tool, "
                   f"{floor_proven}/{len(sel)} by the floor")
        for key, what in (("overhead_pct", "overhead (load+build+extract) as % of solve"),
                          ("mem_ratio", "peak memory tool / floor"),
                          ("solve_ratio", "solve time tool / floor")):
            vals = [r[key] for r in sel if r.get(key) is not None]
            if vals:
                out.append(f"  {label}: {what}: median {statistics.median(vals):.2f}, "
                           f"range {min(vals):.2f} .. {max(vals):.2f}")
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="regular expression; run the instances whose name it matches")
    ap.add_argument("--large", action="store_true",
                    help="also capa/capb/capc at their four capacities each (100 x 1000)")
    ap.add_argument("--time-limit", type=float, default=300.0,
                    help="seconds per solve for the large instances (default 300); the small "
                         "ones run without a limit")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of tool and floor per instance; times and memory are medians")
    ap.add_argument("--no-duals", action="store_true",
                    help="skip the tool's fixed-integer LP for shadow prices (on by default, as in "
                         "`siting solve`)")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "orlib.csv")
    ap.add_argument("--update", action="store_true",
                    help="keep the rows of --out for instances not run now")
    ap.add_argument("--markdown", type=Path, help="also write the table as markdown here")
    ap.add_argument("--report", action="store_true",
                    help="run nothing: print the table of --out (and write --markdown)")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared",
                    help="the shared folder holding benchmarks/orlib-cap (default ../shared)")
    args = ap.parse_args(argv)

    data = args.shared / "benchmarks" / "orlib-cap"
    optima = read_optima(data)
    names = instance_names(optima, args.large, args.only)
    if not names:
        print("no instance matches", file=sys.stderr)
        return 2
    rows = read_rows(args.out) if args.update or args.report else {}
    for k, name in enumerate([] if args.report else names, 1):
        limit = args.time_limit if re.fullmatch(r"cap[abc]_\d+", name) else None
        row = benchmark(name, optima[name], data, limit, args.repeat, duals=not args.no_duals)
        rows[name] = row
        print(f"[{k}/{len(names)}] {name}: {row['status']} obj {fmt(row['objective'], '.3f')} "
              f"(optimum {optima[name]:.3f}, match {row['match']}), solve "
              f"{fmt(row['solve'], '.2f')} s, floor {fmt(row['floor_solve'], '.2f')} s", flush=True)
        write_csv(args.out, [rows[k] for k in optima if k in rows])
    ordered = [rows[k] for k in optima if k in rows]
    print()
    print("\n".join(table_lines(ordered)))
    print()
    summary = summary_lines(ordered)
    print("\n".join(summary))
    if args.markdown:
        write_markdown(args.markdown, ordered, summary, argv if argv is not None else sys.argv[1:])
    return 0


def write_markdown(path: Path, rows: list[dict], summary: list[str], argv: list[str]) -> None:
    """Write the table with the date, machine, options and command."""
    import highspy

    import siting

    command = "python benchmarks/orlib.py " + " ".join(shlex.quote(a) for a in argv)
    lines = [
        "# OR-Library capacitated warehouse location: results", "",
        f"- date: {datetime.date.today().isoformat()}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}",
        f"- siting {getattr(siting, '__version__', '?')}, HiGHS {highspy.Highs().version()}; "
        "commits run: " + ", ".join(sorted({str(r["commit"]) for r in rows if r.get("commit")})),
        "- options (tool and floor): profile `exact`: threads 1, random_seed 0, mip_rel_gap 1e-9, "
        "mip_abs_gap 1e-9, presolve choose; small instances without a time limit, large ones with "
        "the limit in the time_limit column of the CSV",
        f"- command: `{command}`", "",
    ]
    lines += table_lines(rows, markdown=True)
    lines += ["", *[f"    {s}" for s in summary], ""]
    path.write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
