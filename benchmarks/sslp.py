"""SIPLIB SSLP, a second outside truth for scenarios: our extensive form against the published optima.

Each folder of the SSLP collection is imported with ``siting import sslp`` and solved as one
extensive form (``exact`` profile, one thread). Our second stage is continuous (a client's
assignment may be split), a relaxation of SSLP's integer assignment, so in this minimisation our
optimum can only be at or below the published integer optimum; it should equal the continuous
column of the collection's README and open the published servers.

Columns: instance, scenarios, published (integer) optimum and servers, the continuous reference,
``ef_*`` (status, objective, gap, seconds, servers open), ``servers_match``, ``at_or_below_published``
(the relaxation's direction holds) and ``ef_minus_continuous``. Other engines add their columns
after the ``ef_*`` ones (``<engine>_status``, ``_objective``, ``_gap``, ``_seconds``), one function
per engine in ``ENGINES``. Timings are of this machine as it is (shared cores: noisy).

Engines: ``ef`` (always), ``benders`` (``--engine benders``, proven to the profile's gap) and ``ph``
(``--engine mpisppy`` on 2 ranks: the PH hub with a Lagrangian bound spoke; its ``_gap`` is between
its best plan evaluated across all scenarios and the hub's bound, its ``_objective`` that plan's cost;
``ph3``: 3 ranks, with an x-hat spoke). ``<engine>_minus_ef`` is the engine's objective less the
extensive form's (0 when it found the optimum).

Usage: ``python benchmarks/sslp.py SSLP_FOLDER [--out benchmarks/out/sslp.csv] [--only sslp_5_25_50]
[--engines ef,benders,ph]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from _table import write_rows  # the script's folder, benchmarks/, is first on sys.path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: instance -> (published integer optimum, its open servers, the README's continuous-assignment optimum)
PUBLISHED = {
    "sslp_5_25_50": (-121.60, (1, 3), -121.60),
    "sslp_15_45_5": (-262.40, (1, 4, 8, 11), -265.569),
    "sslp_15_45_10": (-260.50, (1, 4, 8, 11, 15), -261.905),
    "sslp_15_45_15": (-253.60, (1, 4, 8, 11, 15), -254.708),
}


def solve_ef(folder: Path, engine: str = "ef") -> dict:
    """The extensive form (or ``engine``: ``benders``) through the one pipeline."""
    from siting.run import run_case
    from siting.solve import load_profile

    t0 = time.perf_counter()
    run = run_case(folder, load_profile("exact"), duals=False, engine=engine)
    return _row(run, time.perf_counter() - t0)


def solve_ph(folder: Path, ranks: int = 2) -> dict:
    """mpi-sppy's hub and spokes on ``ranks`` MPI processes (PH hub, Lagrangian bound spoke, and an
    x-hat spoke from 3 ranks); its best plan evaluated across all scenarios, its gap to the hub's bound."""
    from siting.decompose import solve_by_ph
    from siting.instance.read import read_instance
    from siting.solve import load_profile

    t0 = time.perf_counter()
    run = solve_by_ph(read_instance(folder), folder, load_profile("exact"), [], ranks=ranks, duals=False)
    return _row(run, time.perf_counter() - t0)


def _row(run, seconds: float) -> dict:
    from siting.instance.sslp import OVERFLOW

    sites = run.results.tables["sites"] if run.results is not None else None
    servers = (tuple(sorted(int(s[1:]) for s in sites.loc[sites["open"], "site"] if s != OVERFLOW))
               if sites is not None else ())
    return {"status": run.outcome.status, "objective": run.outcome.objective, "gap": run.outcome.mip_gap,
            "seconds": round(seconds, 2), "servers": servers, "violations": len(run.violations)}


#: engine name -> function(instance folder) -> dict with status, objective, gap, seconds, servers
#: (``ph``: progressive hedging on 2 MPI ranks, ``ph3`` on 3 with the x-hat spoke; both need the ``mpi`` extra)
ENGINES = {"ef": solve_ef, "benders": lambda folder: solve_ef(folder, "benders"), "ph": solve_ph,
           "ph3": lambda folder: solve_ph(folder, 3)}


def main() -> int:
    """Import, solve and tabulate every SSLP instance found in the folder given."""
    from siting.instance.sslp import import_sslp

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", help="the SSLP collection (a folder of sslp_* folders)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "sslp.csv"))
    ap.add_argument("--only", action="append", default=[], help="an instance to run (repeatable)")
    ap.add_argument("--engines", default="ef,benders,ph", help="engines to run after ef: benders, ph, ph3")
    args = ap.parse_args()
    engines = {name: ENGINES[name] for name in ["ef", *args.engines.split(",")] if name in ENGINES}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (published, servers, continuous) in PUBLISHED.items():
            source = Path(args.folder) / name
            if (args.only and name not in args.only) or not source.is_dir():
                continue
            inst = import_sslp(source, Path(tmp) / name)
            n_scen = sum(1 for _ in (source / "scenariodata").glob("Scenario[0-9]*.dat"))
            row = {"instance": name, "scenarios": n_scen, "published_optimum": published,
                   "published_servers": " ".join(map(str, servers)), "continuous_reference": continuous}
            for engine, solve in engines.items():
                got = solve(inst)
                row.update({f"{engine}_status": got["status"], f"{engine}_objective": got["objective"],
                            f"{engine}_gap": got["gap"], f"{engine}_seconds": got["seconds"],
                            f"{engine}_servers": " ".join(map(str, got["servers"]))})
            ef = row["ef_objective"]
            row["servers_match"] = row["ef_servers"] == row["published_servers"]
            row["at_or_below_published"] = ef is not None and ef <= published + 1e-6
            row["ef_minus_continuous"] = None if ef is None else round(ef - continuous, 4)
            for engine in engines:
                if engine != "ef" and ef is not None and row[f"{engine}_objective"] is not None:
                    # at or above 0 for a feasible plan of the same problem (within the ef's gap)
                    row[f"{engine}_minus_ef"] = round(row[f"{engine}_objective"] - ef, 4)
            rows.append(row)
            print(" | ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if not rows:
        print(f"no SSLP instance found in {args.folder}", file=sys.stderr)
        return 2
    write_rows(args.out, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
