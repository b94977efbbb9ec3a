"""Solve one instance folder with ``siting`` in a fresh process and print one JSON line.

Used by ``benchmarks/orlib.py`` so that the peak memory (``ru_maxrss``) it reports belongs to one
instance alone. The pipeline is the one every command uses (:func:`siting.run.run_case`) with
the ``exact`` solver profile::

    python benchmarks/_orlib_child.py FOLDER [--time-limit S] [--no-duals]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Run one case and print its outcome, stage times and peak memory as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--no-duals", action="store_true",
                    help="skip the fixed-integer LP for shadow prices (on by default)")
    args = ap.parse_args(argv)

    from siting.run import run_case
    from siting.solve import load_profile

    run = run_case(args.folder, load_profile("exact", time_limit=args.time_limit),
                   duals=not args.no_duals)
    o = run.outcome
    out = {
        "status": o.status, "termination": o.termination, "objective": o.objective,
        "best_bound": o.best_bound, "mip_gap": o.mip_gap, "nodes": o.nodes,
        **{k: float(v) for k, v in run.times.items()},
        "violations": len(run.violations),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
