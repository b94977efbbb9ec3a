"""The ``siting`` command: parses arguments, calls one function, maps errors to exit codes.

Exit codes: 0 a solution (optimal, or feasible within a limit, with its gap); 2 bad input;
3 infeasible or unbounded; 4 no solution within the limit; 1 anything else; 130 stopped by Ctrl-C
(SIGINT) and 143 by SIGTERM, after whatever was finished is kept whole.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import traceback
import warnings
from pathlib import Path

from siting.errors import InputError, Problem, SitingError

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4
#: The signals that stop a command, and its exit code for each (128 + the signal's number).
STOP_SIGNALS: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}
STATUS_EXIT = {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
               "unbounded": EXIT_INFEASIBLE, "no_solution": EXIT_NO_SOLUTION, "error": EXIT_ERROR}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one `location | problem; fix` line and exit 2."""

    def error(self, message: str) -> None:
        raise InputError(Problem(self.prog, message, f"see `{self.prog} --help`"))


def _add_solver_flags(p: argparse.ArgumentParser, seed: bool = True, profile: str = "default") -> None:
    p.add_argument("--profile", default=profile,
                   help=f"solver profile: solvers/NAME.toml (default, exact, fast; here {profile})")
    p.add_argument("--time-limit", type=float, help="seconds HiGHS may run (per case in a sweep)")
    p.add_argument("--mip-gap", type=float, help="relative MIP gap at which HiGHS stops")
    p.add_argument("--threads", type=_threads, help="HiGHS threads (at most the cores of this machine)")
    if seed:
        p.add_argument("--seed", type=int, help="HiGHS random seed")


def machine_cores() -> int:
    """The cores this process may use: the bound of ``--threads`` and ``--workers``."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _bounded(flag: str, low: int, what: str):
    def parse(text: str) -> int:
        cores = machine_cores()
        try:
            value = int(text)
        except ValueError:
            raise InputError(Problem(flag, f"is '{text}', not a whole number",
                                     f"give {low} to {cores} (the cores of this machine)")) from None
        if value < low:
            raise InputError(Problem(flag, f"must be at least {low} (got {value})", f"give {low} to {cores}"))
        if value > cores:
            raise InputError(Problem(flag, f"is {value}, more {what} than this machine's {cores} cores",
                                     f"give {low} to {cores}"))
        return value
    return parse


_threads = _bounded("--threads", 0, "threads")
_workers = _bounded("--workers", 1, "worker processes")


def _whole(flag: str, low: int, fix: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise InputError(Problem(flag, f"is '{text}', not a whole number", fix)) from None
        if value < low:
            raise InputError(Problem(flag, f"must be at least {low} (got {value})", fix))
        return value
    return parse


def _add_scenario_flags(sub) -> None:
    """``--scenarios N`` and ``--sample-seed K`` on every command that takes ``--set``: the
    scenarios sampled from the instance's hazards (settings.scenario_sample and scenario_seed)."""
    for p in sub.choices.values():
        if any("--set" in a.option_strings for a in p._actions):
            p.add_argument("--scenarios", type=_whole("--scenarios", 1, "give the number of draws, e.g. 200"),
                           metavar="N", help="sample N draws of the instance's hazards as the scenarios "
                                             "(settings.scenario_sample; default: every joint combination)")
            p.add_argument("--sample-seed", type=_whole("--sample-seed", 0, "give a whole number of 0 or more"),
                           metavar="K", help="seed of the --scenarios sample (settings.scenario_seed, default 0)")


def _scenario_sets(args) -> None:
    """Turn ``--scenarios`` and ``--sample-seed`` into the overrides they stand for."""
    extra = []
    if getattr(args, "scenarios", None) is not None:
        extra.append(f"settings.scenario_sample={args.scenarios}")
    if getattr(args, "sample_seed", None) is not None:
        extra.append(f"settings.scenario_seed={args.sample_seed}")
    if extra:
        args.set = [*args.set, *extra]


def _add_move_flags(p) -> None:
    """breakeven's questions beyond the smallest change: moving the fab, and a minimum size."""
    p.add_argument("--instead-of", metavar="SITE",
                   help="also price moving the fab: SITE closed and --site open (exact, two solves)")
    p.add_argument("--min-capacity", type=float, metavar="WAFERS",
                   help="also price a minimum size at --site: at least WAFERS a year of capacity (exact, two solves)")


def _add_xlsx_flag(p) -> None:
    """``--xlsx``: results.xlsx beside the CSV tables (off by default: openpyxl costs a solve about
    half a second to import and write, which planners running the flagship often would pay)."""
    p.add_argument("--xlsx", action="store_true",
                   help="also write results.xlsx: every result table as a sheet, headers with units")


def _add_ranks_flag(p: argparse.ArgumentParser) -> None:
    """``--ranks N``: MPI processes of ``--engine mpisppy``, split evenly among mpi-sppy's cylinders
    (whether N splits is checked with the scenarios, in :func:`siting.decompose.cylinders`)."""
    p.add_argument("--ranks", type=_whole("--ranks", 2, "give 2 (PH hub and Lagrangian bound spoke) or 3 (and an "
                                                        "x-hat spoke), or a multiple of them"),
                   default=2, help="MPI processes for --engine mpisppy (default 2): 2 run the PH hub and a Lagrangian "
                                   "bound spoke, a multiple of 3 adds an x-hat spoke; an even number or a multiple "
                                   "of 3")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="siting", description="Fab siting and supplier sourcing with Pyomo and HiGHS.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, required=True)

    p = sub.add_parser("solve", help="solve an instance and write its results")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--out", "-o", help="results folder (default results/<instance name>/)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a parameter, e.g. sites.kumamoto.fixed_cost=900 (repeatable)")
    p.add_argument("--json", action="store_true", help="print summary.json instead of the tables")
    p.add_argument("--no-duals", action="store_true", help="skip the fixed-integer LP for shadow prices")
    p.add_argument("--no-runner-up", action="store_true",
                   help="skip the one extra solve that finds the runner-up plan (other open sites) and the exact "
                        "lump sum that would flip the choice to it, which the headline reports")
    p.add_argument("--risk-report", action="store_true",
                   help="add the value of the stochastic solution (VSS) and of perfect information (EVPI): "
                        "2 + one solve per scenario more")
    p.add_argument("--engine", default="ef", choices=["ef", "benders", "mpisppy"],
                   help="ef: one extensive form (default); benders: Benders decomposition, a master MIP of the "
                        "first stage and one LP per scenario, to the profile's gap; mpisppy: progressive hedging "
                        "over MPI ranks with a Lagrangian bound spoke, the best plan then evaluated across all "
                        "scenarios")
    _add_ranks_flag(p)
    p.add_argument("--confidence", type=_whole("--confidence", 2, "give the number of independent samples, e.g. 10"),
                   metavar="M", help="with --scenarios N: a 95%% confidence interval on the plan's optimality gap "
                                     "from M independent samples (2 M more solves)")
    _add_xlsx_flag(p)
    _add_solver_flags(p)

    p = sub.add_parser("sweep", help="solve many variants of an instance (grid, one at a time, Latin hypercube)")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--param", action="append", default=[], metavar="PATH=SPEC", required=True,
                   help="a parameter and its values: a list 0.4,0.5; a range 0:0.5:0.05; "
                        "a band around the instance's value -20%%:+20%%:10%% (repeatable)")
    p.add_argument("--method", default="grid", choices=["grid", "oat", "lhs"],
                   help="grid: every combination; oat: one parameter at a time; lhs: Latin hypercube")
    p.add_argument("--samples", type=int, help="number of cases for --method lhs")
    p.add_argument("--seed", type=int, default=0, help="seed of the Latin hypercube (HiGHS's seed is the profile's)")
    p.add_argument("--workers", type=_workers, help="local worker processes (default and most: the cores)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="an override for every case (repeatable)")
    p.add_argument("--no-patch", action="store_true",
                   help="build every case's model from its data instead of patching the base case's")
    p.add_argument("--no-warm-start", action="store_true",
                   help="do not start HiGHS from the base case's plan (by default every case does)")
    p.add_argument("--refine", type=float, metavar="TOL",
                   help="bisect each switching point to this tolerance (extra solves)")
    p.add_argument("--out", "-o", help="sweep folder (default results/<instance name>-sweep/)")
    _add_solver_flags(p, seed=False)

    p = sub.add_parser("compare", help="solve every subsidy package of a designs file side by side")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--designs", required=True, help="designs YAML naming the policy packages")
    p.add_argument("--workers", type=_workers, default=1, help="local worker processes (default 1, at most the cores)")
    p.add_argument("--out", "-o", help="folder for compare.csv and compare.png (default results/<name>-compare/)")
    _add_solver_flags(p)

    p = sub.add_parser("breakeven", help="the smallest offer that makes a site open (or what an open site could lose)")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--site", required=True, help="the site, e.g. chitose")
    p.add_argument("--instrument", default="lump", help="lump (exact, two solves), grant-rate or per-wafer (bisection)")
    p.add_argument("--tolerance", type=float, help="bisection tolerance (rate, or currency per wafer)")
    _add_move_flags(p)
    p.add_argument("--paid", default="on_order", help="when the offer pays on a phased instance: on_order (the "
                   "period the site opens, default) or on_start (its first producing period)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override (repeatable)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON (the offer is the field offer)")
    # an offer is a difference of two optima: both are proven to the exact profile's gap
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("explain", help="why not here? the optimum beside the plan with a site forced the other way")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--site", required=True, help="the site, e.g. phoenix")
    p.add_argument("--instead-of", metavar="SITE",
                   help="the counterfactual is the fab moved: --site holding what the optimum builds at SITE, "
                        "SITE closed")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override (repeatable)")
    p.add_argument("--out", "-o",
                   help="folder for explain.csv and explain.png (default results/<name>-explain-<site>/)")
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("alternatives", help="the cheapest distinct plans within a gap of the optimum")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--within", default="2%", help="largest cost above the optimum, e.g. 2%% or 0.02 (default 2%%)")
    p.add_argument("--count", type=int, default=5, help="most plans, the optimum included (default 5)")
    p.add_argument("--by", default="sites", choices=["sites", "modules"],
                   help="plans differ in their open sites (default) or in their modules by site and product")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override (repeatable)")
    p.add_argument("--out", "-o", help="folder for alternatives.csv (default results/<name>-alternatives/)")
    p.add_argument("--json", action="store_true", help="print the plans as one JSON document")
    # the plans' order and lump sums are differences of optima: each solve proven to the exact profile's gap
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("robustness", help="candidate plans held fixed in every scenario: cost, regret, minimax regret")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook (with scenarios)")
    p.add_argument("--plans", action="append", default=[], metavar="SITES",
                   help="a plan named by its open sites, e.g. kumamoto-1+tainan (the other sites closed; repeatable)")
    p.add_argument("--alternatives", type=int, default=2, metavar="K",
                   help="near-optimal alternatives to add besides the optimum (default 2; 0: none)")
    p.add_argument("--within", default="5%", help="largest cost above the optimum of those alternatives (default 5%%)")
    p.add_argument("--sweep", metavar="DIR",
                   help="a sweep's results folder: how often each site opens across its cases")
    p.add_argument("--workers", type=int, default=1,
                   help="local worker processes for the scenarios solved alone (default 1)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override (repeatable)")
    p.add_argument("--out", "-o", help="folder for robustness.csv (default results/<name>-robustness/)")
    p.add_argument("--json", action="store_true", help="print the matrices and summaries as one JSON document")
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("diff", help="what changed between two results folders, and which input change moved what")
    p.add_argument("run_a", help="a results folder of `siting solve` (the earlier run)")
    p.add_argument("run_b", help="a results folder of `siting solve` (the later run)")
    p.add_argument("--attribute", action="store_true",
                   help="replay the input changes one at a time from A towards B: which moved which decision")
    p.add_argument("--threshold", type=float, default=0.05,
                   help="smallest change in a supplier's share worth listing (default 0.05: 5 points)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes for the replays (default 1)")
    p.add_argument("--out", "-o", help="folder for diff.csv (default results/diff-<A>-<B>/)")
    p.add_argument("--json", action="store_true", help="print the differences as one JSON document")
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("map", help="draw map.png again from a results folder")
    p.add_argument("run_dir", help="a results folder written by `siting solve`")

    p = sub.add_parser("frontier", help="the cost-risk frontier: expected cost against a risk measure")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--measure", default="cvar", choices=["cvar", "unmet", "worst"],
                   help="cvar: CVaR of the total cost; unmet: expected unmet wafers; worst: worst scenario's cost")
    p.add_argument("--points", type=int, default=5, help="points on the frontier, both ends included (default 5)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override for every point")
    p.add_argument("--out", "-o", help="frontier folder (default results/<instance name>-frontier/)")
    _add_solver_flags(p)

    p = sub.add_parser("validate", help="check an instance, list every problem, run the screens and build the model")
    p.add_argument("instance")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")
    p.add_argument("--json", action="store_true", help="print the verdict, the table and model sizes as JSON")

    p = sub.add_parser("init", help="write a commented starter instance to fill in")
    p.add_argument("dir", help="folder to create")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty folder")
    p.add_argument("--xlsx", action="store_true",
                   help="write the starter as one workbook (DIR/NAME.xlsx: a settings sheet and a sheet per table) "
                        "instead of instance.yaml and CSV files")

    p = sub.add_parser("params", help="list every parameter --set can change")
    p.add_argument("instance")
    p.add_argument("--json", action="store_true", help="print the parameters as a JSON list of path, value, unit")

    p = sub.add_parser("import", help="convert another format into an instance")
    imp = p.add_subparsers(dest="format", parser_class=_Parser, required=True)
    q = imp.add_parser("orlib", help="Beasley's OR-Library capacitated warehouse location file")
    q.add_argument("file")
    q.add_argument("--capacity", type=float, help="capacity for capa/capb/capc files")
    q.add_argument("-o", "--out", required=True, help="instance folder to write")
    q = imp.add_parser("sslp", help="SIPLIB stochastic server location folder (ScenarioN.dat files)")
    q.add_argument("folder", help="an SSLP folder, e.g. sslp_5_25_50 (or its scenariodata/)")
    q.add_argument("--penalty", type=float, default=1000.0, help="overflow cost per unit of server capacity "
                                                                  "(SSLP's q0, default 1000)")
    q.add_argument("-o", "--out", required=True, help="instance folder to write")

    p = sub.add_parser("induce", help="the cheapest package of offers that makes the firm's optimum open target sites")
    p.add_argument("instance", help="instance folder, its instance.yaml, or an .xlsx workbook")
    p.add_argument("--target", required=True, help="the sites to bring, comma-separated, e.g. kumamoto,chitose")
    p.add_argument("--instrument", default="lump",
                   help="lump (exact, cutting planes) or grant-rate (bisection on top of the lump sums)")
    p.add_argument("--country", help="the courting country: only target sites there may be funded "
                                     "(default: settings.policy_country, else every target site)")
    p.add_argument("--tolerance", type=float, default=1e-4, help="relative tolerance of the rate bisection")
    p.add_argument("--paid", default="on_order", help="when an offer pays on a phased instance: on_order (the "
                   "period the site opens, default) or on_start (its first producing period)")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE", help="an override (repeatable)")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    # the cuts are differences of optima: proven to the exact profile's gap
    _add_solver_flags(p, profile="exact")

    p = sub.add_parser("programme", help="which projects a government should fund, with how much, within budgets")
    p.add_argument("programme", help="programme YAML: country, instrument, budgets, projects")
    p.add_argument("--budget", action="extend", nargs="+", type=float, metavar="B",
                   help="budgets in the projects' money unit, e.g. --budget 0 20000 50000 (replace the file's)")
    p.add_argument("--objective", choices=["capacity", "fabs", "investment", "local-share"],
                   help="what the allocation maximises (default: the file's, else fabs)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes for the break-even solves")
    p.add_argument("--out", "-o", help="programme folder (default results/<file name>-programme/)")
    _add_solver_flags(p, profile="exact")
    _add_scenario_flags(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        warnings.showwarning = _one_line_warning
    with _stop_signals() as stopped:
        try:
            code = _main(argv, debug)
        except KeyboardInterrupt as exc:  # a signal while an error was being reported
            code = _stop_code(exc)
    if stopped and code not in STOP_SIGNALS.values() and code != EXIT_INPUT:
        # a signal that HiGHS turned into the end of its solve: what was finished is written whole,
        # and the exit code still says the command was stopped
        print(f"interrupted | stopped by {signal.Signals(stopped[0]).name}; what was finished is kept whole",
              file=sys.stderr)
        return STOP_SIGNALS[stopped[0]]
    return code


class Stopped(KeyboardInterrupt):
    """SIGINT or SIGTERM arrived. A KeyboardInterrupt, so that whatever stops cleanly on Ctrl-C
    (worker pools, HiGHS, the results writer) stops the same way on SIGTERM."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


#: The stop signals received while the current command runs (see :class:`_stop_signals`).
_RECEIVED: list[int] = []


def _stop_code(exc: BaseException | None = None) -> int:
    """130 or 143: the exit code of the signal that stopped the command (Ctrl-C if none was seen)."""
    signum = getattr(exc, "signum", None) or (_RECEIVED[0] if _RECEIVED else signal.SIGINT)
    return STOP_SIGNALS[signum]


class _stop_signals:
    """While a command runs, SIGINT and SIGTERM raise :class:`Stopped`, the first time each
    arrives (a repeat while stopping is noted, not raised, so that removing what was half-written
    completes). Yields the list of signals received."""

    def __enter__(self) -> list[int]:
        _RECEIVED.clear()
        self.received = _RECEIVED
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        return self.received

    def _handle(self, signum, frame) -> None:
        first = signum not in self.received
        self.received.append(signum)
        if first:
            raise Stopped(signum)

    def __exit__(self, *exc) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _main(argv: list[str], debug: bool) -> int:
    try:
        args = _parser().parse_args(argv)
        _scenario_sets(args)
        return _dispatch(args, argv)
    except SitingError as exc:
        print(str(exc), file=sys.stderr)
        if debug:
            traceback.print_exc()
        if "--json" in argv:  # a program reading standard output still gets one JSON document
            print(json.dumps(_error_document(exc), indent=2))
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python quiet at exit
        return EXIT_OK
    except KeyboardInterrupt as exc:
        code = _stop_code(exc)
        name = "SIGTERM" if code == 143 else "SIGINT"
        print(f"interrupted | stopped by {name}; nothing half-written was left behind; run the command again",
              file=sys.stderr)
        return code
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # a bug, not a planner's mistake: say so in one line
        print(f"internal error | {type(exc).__name__}: {exc}; please report it with --debug output",
              file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_ERROR


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A library's warning as one line of our own, without the file and line of the code that
    raised it (``--debug`` keeps Python's form)."""
    text = str(message).strip().splitlines()
    logging.getLogger("siting").warning("%s", text[0] if text else category.__name__)


def _error_document(exc: SitingError) -> dict:
    """What ``--json`` prints when a command fails: the exit code and the problems, as on standard error."""
    problems = getattr(exc, "problems", None) or [Problem("siting", str(exc))]
    return {"status": "error", "exit_code": exc.exit_code,
            "problems": [{"location": p.location, "problem": p.problem, "fix": p.fix} for p in problems]}


def _dispatch(args, argv: list[str]) -> int:
    if args.command == "solve":
        return _solve(args, argv)
    if args.command == "validate":
        return _validate(args)
    if args.command == "compare":
        return _compare(args, argv)
    if args.command == "breakeven":
        return _breakeven(args)
    if args.command == "explain":
        return _explain(args, argv)
    if args.command == "induce":
        return _induce(args)
    if args.command == "programme":
        return _programme(args, argv)
    if args.command == "sweep":
        return _sweep(args, argv)
    if args.command == "alternatives":
        return _alternatives(args, argv)
    if args.command == "robustness":
        return _robustness(args, argv)
    if args.command == "diff":
        return _diff(args, argv)
    if args.command == "map":
        from siting.report.write import redraw_map

        print(f"wrote {redraw_map(Path(args.run_dir))}")
        return EXIT_OK
    if args.command == "frontier":
        return _frontier(args, argv)
    if args.command == "init":
        from siting.instance.template import write_template

        folder = write_template(Path(args.dir), force=args.force, xlsx=args.xlsx)
        what = f"a starter workbook to {folder / (folder.name + '.xlsx')}" if args.xlsx else \
            f"a starter instance to {folder}"
        print(f"wrote {what}; edit it, then run `siting validate {folder}`")
        return EXIT_OK
    if args.command == "params":
        return _params(args)
    if args.command == "import":
        return _import(args)
    raise InputError(Problem("siting", f"unknown command {args.command}", "see `siting --help`"))


def _import(args) -> int:
    if args.format == "sslp":
        from siting.instance.sslp import import_sslp

        folder = import_sslp(Path(args.folder), Path(args.out), penalty=args.penalty)
    else:
        from siting.instance.orlib import import_orlib

        folder = import_orlib(Path(args.file), Path(args.out), capacity=args.capacity)
    print(f"wrote {folder}")
    return EXIT_OK


def _params(args) -> int:
    from siting.instance.overrides import addressable_paths, parameter_unit
    from siting.instance.read import read_instance

    raw = read_instance(args.instance)
    rows = []
    paths = addressable_paths(raw)
    defaults = raw.spec.get("currencies") or {}
    for path, value in paths.items():
        shown = "" if value in ("None", "nan") else value
        # money in a row's own currency (its currency cell, or its table's default) is shown in it
        row = path.rpartition(".")[0]
        currency = paths.get(f"{row}.currency") or (defaults.get(row.split(".")[0]) if isinstance(defaults, dict)
                                                     else None)
        settings = {**raw.settings, "currency": currency} if currency else raw.settings
        rows.append({"path": path, "value": shown, "unit": parameter_unit(path, settings) or ""})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for r in rows:
        print(f"{r['path']} = {r['value']}" + (f"  [{r['unit']}]" if r["unit"] else ""))
    return EXIT_OK


def _validate(args) -> int:
    """Check the instance, run the pre-solve screens, then build and compile the model without
    solving it: the screens' warnings (rules the tables make vacuous included) and the numerics
    warnings go to standard output; a screen or a compile that proves no plan exists is reported on
    standard error with exit 3, as `siting solve` would. Exit 0 only when every step passes."""
    from siting.instance.derive import derive
    from siting.instance.read import read_instance
    from siting.instance.screens import screen
    from siting.run import build_case, load_case

    # tables that cannot be read whole are listed with every other problem, not alone
    inst = load_case(read_instance(args.instance, partial=True), args.set)
    d = derive(inst)
    findings = screen(d)
    blocking = [f for f in findings if f.kind == "infeasible"]
    built = None if blocking else build_case(d)  # a screen that proves no plan exists stops a solve before the build
    failed = bool(blocking) or (built is not None and built.infeasible is not None)
    if args.json:
        sizes = {"sites": len(d.sites), "site_products": len(d.modules), "demand_rows": len(d.demand),
                 "offers": len(d.offers), "routes": len(d.routes), "supply_arcs": len(d.arcs)}
        model = None if built is None else {**built.sizes(), "infeasible": built.infeasible,
                                            "numerics": list(built.numerics), "seconds": built.seconds}
        print(json.dumps({"instance": inst.name, "valid": True, "sizes": sizes,
                          "screens": [f.as_dict() for f in findings], "model": model}, indent=2))
        return EXIT_INFEASIBLE if failed else EXIT_OK
    if not failed:
        m = built.sizes()
        print(f"{inst.name}: valid ({len(d.sites)} sites, {len(d.modules)} site-products, {len(d.demand)} demand "
              f"rows, {len(d.offers)} offers, {len(d.routes)} routes, {len(d.arcs)} supply arcs; model built: "
              f"{m['columns']:,} columns ({m['integer_columns']:,} integer), {m['rows']:,} rows, "
              f"{m['nonzeros']:,} nonzeros)")
    for f in findings:
        if f.kind != "infeasible":
            print(f"{f.kind}: {f.message}")
    for line in built.numerics if built is not None else ():
        print(f"warning: numerics: {line}")
    for f in blocking:
        print(f"{inst.name}: infeasible (pre-solve screen): {f.message}", file=sys.stderr)
    if built is not None and built.infeasible is not None:
        print(f"{inst.name}: infeasible (building the model): {built.infeasible}", file=sys.stderr)
    return EXIT_INFEASIBLE if failed else EXIT_OK


def _solve(args, argv: list[str]) -> int:
    from siting.instance.read import read_instance
    from siting.report.console import headline, make_console, print_run
    from siting.report.write import check_out_dir, default_out_dir, summary_dict, write_run
    from siting.run import run_case
    from siting.solve import load_profile

    options = load_profile(args.profile, time_limit=args.time_limit, mip_rel_gap=args.mip_gap,
                           threads=args.threads, random_seed=args.seed)
    raw = read_instance(args.instance)
    out = Path(args.out) if args.out else default_out_dir(raw.name)
    check_out_dir(out, raw.inputs)
    if args.confidence:
        _check_sampled(raw, args.set)
    console = make_console()
    if args.engine == "mpisppy":
        from siting.decompose import solve_by_ph

        if sys.stdout.isatty() and not args.json:
            with console.status(f"progressive hedging on {args.ranks} MPI ranks") as shown:
                def progress(iteration: int, bound: float, incumbent: float) -> None:
                    found = f", best plan {incumbent:,.3f}" if math.isfinite(incumbent) else ""
                    shown.update(f"progressive hedging on {args.ranks} MPI ranks: iteration {iteration}, "
                                 f"bound {bound:,.3f}{found}")

                run = solve_by_ph(raw, args.instance, options, args.set, args.ranks, duals=not args.no_duals,
                                  progress=progress)
        else:
            run = solve_by_ph(raw, args.instance, options, args.set, args.ranks, duals=not args.no_duals)
        _runner_up(run, options, args)
    elif sys.stdout.isatty() and not args.json:
        how = "by Benders decomposition" if args.engine == "benders" else "with HiGHS"
        with console.status(f"solving {how} (Ctrl-C stops it and keeps the best plan found)"):
            run = run_case(raw, options, sets=args.set, duals=not args.no_duals, keep_compiled=not args.no_runner_up,
                           engine=args.engine)
            _runner_up(run, options, args)
    else:
        run = run_case(raw, options, sets=args.set, duals=not args.no_duals, keep_compiled=not args.no_runner_up,
                       engine=args.engine)
        _runner_up(run, options, args)
    command = ["siting", *argv]
    if run.outcome.status == "infeasible" and not run.diagnosis:
        from siting.diagnose import diagnose

        diagnose(run, options)
    if args.risk_report and run.results is not None:
        from siting.analysis.risk import risk_report

        if run.instance.settings.objective != "cost":
            raise InputError(Problem("--risk-report", "needs settings.objective=cost (the risk-weighted firm cost)",
                                     "leave settings.objective at cost"))
        run.risk_report = risk_report(raw, options, args.set, run)
    if args.confidence and run.results is not None:
        from siting.analysis.confidence import gap_interval

        run.confidence = gap_interval(raw, options, args.set, run, args.confidence)
    write_run(run, out, command, reads=raw.inputs, xlsx=args.xlsx)
    if args.json:
        print(json.dumps(summary_dict(run, command), indent=2))
    else:
        print_run(run, console)
        console.print(f"results written to {out}/")
    code = STATUS_EXIT[run.outcome.status]
    if code != EXIT_OK:
        print(headline(run), file=sys.stderr)
    return code


def _check_sampled(raw, sets: list[str]) -> None:
    """--confidence needs hazards sampled (checked before the solve, which it would follow)."""
    hazards = raw.tables.get("hazards")
    sampled = any(s.startswith("settings.scenario_sample=") for s in sets) or (
        isinstance(raw.settings, dict) and raw.settings.get("scenario_sample") not in (None, ""))
    if hazards is None or not len(hazards) or not sampled:
        raise InputError(Problem("--confidence", "needs a sampled scenario set",
                                 "give the instance a hazards table and sample it with --scenarios N"))


def _runner_up(run, options, args) -> None:
    """The runner-up plan for the headline: one more solve of the compiled model with the optimum's
    open sites cut off (its seconds are kept as ``times.runner_up``, outside the pipeline's total)."""
    if args.no_runner_up or run.results is None:
        return
    if run.compiled is None:  # progressive hedging builds no one compiled model to cut
        run.runner_up = {"searched": False, "reason": f"--engine {args.engine} has no compiled model to re-solve"}
        return
    import time

    from siting.analysis.alternatives import runner_up

    t0 = time.perf_counter()
    run.runner_up = runner_up(run, options)
    run.times["runner_up"] = time.perf_counter() - t0
    run.compiled = None  # the matrices are not needed any more


def _options(args):
    from siting.solve import load_profile

    return load_profile(args.profile, time_limit=args.time_limit, mip_rel_gap=args.mip_gap, threads=args.threads,
                        random_seed=getattr(args, "seed", None))


def _compare(args, argv: list[str]) -> int:
    from siting.analysis.compare import compare, print_comparison, write_comparison
    from siting.instance.designs import read_designs
    from siting.instance.read import read_instance
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir
    from siting.run import load_case

    raw = read_instance(args.instance)
    packages = read_designs(args.designs)
    out = Path(args.out) if args.out else default_out_dir(raw.name + "-compare")
    check_out_dir(out, (*raw.inputs, Path(args.designs)))
    console = make_console()
    console.print(f"{len(packages)} packages: {', '.join(p.name for p in packages)}", soft_wrap=True)
    df = compare(raw, packages, _options(args), workers=args.workers)
    base = load_case(raw)
    files = write_comparison(df, out, base, _options(args), ["siting", *argv], Path(args.designs))
    print_comparison(console, df, base.settings.money_label, base.settings.currency)
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK if df["status"].isin(("optimal", "feasible")).all() else EXIT_ERROR


def _with_sets(args):
    from siting.instance.overrides import apply_overrides
    from siting.instance.read import read_instance

    return apply_overrides(read_instance(args.instance), args.set)


def _breakeven(args) -> int:
    from siting.analysis.breakeven import breakeven
    from siting.report.console import make_console

    if args.tolerance is not None and not args.tolerance > 0:
        raise InputError(Problem("--tolerance", f"must be above zero (got {args.tolerance})", "e.g. 0.0001"))
    answer = breakeven(_with_sets(args), args.site, _options(args), args.instrument, args.tolerance,
                       args.instead_of, args.min_capacity, args.paid)
    if args.json:
        from siting.report.write import json_safe

        print(json.dumps(json_safe(answer.as_dict()), indent=2))
        return EXIT_OK
    console = make_console()
    for line in [*answer.words(), *answer.more_words()]:
        console.print(line, soft_wrap=True)
    console.print(f"solves used ({len(answer.solves)}):")
    for s in answer.solves:
        gap = "-" if s["mip_gap"] is None else f"{s['mip_gap']:.4%}"
        console.print(f"  {s['what']}: {s['status']}, firm cost {s['objective']:,.3f} {answer.money}"
                      f"{'' if answer.phased else '/yr'} "
                      f"(gap {gap}); opens {s['sites_open']}", soft_wrap=True)
    return EXIT_OK


def _induce(args) -> int:
    from siting.analysis.induce import induce
    from siting.report.console import make_console

    if not args.tolerance > 0:
        raise InputError(Problem("--tolerance", f"must be above zero (got {args.tolerance})", "e.g. 0.0001"))
    target = [t.strip() for t in args.target.split(",") if t.strip()]
    console = make_console()
    err = make_console()
    err.file = sys.stderr
    show = None if args.json or not sys.stderr.isatty() else \
        (lambda r: err.print(f"  firm solve {r['iteration']}: opens {', '.join(r['response']) or 'nothing'}"))
    answer = induce(_with_sets(args), target, _options(args), args.instrument, args.country, args.tolerance, show,
                    args.paid)
    code = EXIT_OK if answer.status == "induced" else EXIT_INFEASIBLE
    if args.json:
        from siting.report.write import json_safe

        print(json.dumps(json_safe(answer.as_dict()), indent=2))
        return code
    for line in answer.words():
        console.print(line, soft_wrap=True, markup=False)
    console.print(f"firm solves ({len(answer.iterations)}):")
    for r in answer.iterations:
        faced = ", ".join(f"{s} {v:,.3f}" for s, v in r.get("offers", {}).items()) or \
            (f"rate scale {r['rate_scale']:.6g}" if "rate_scale" in r else "none")
        cut = f"; cut {r['cut']['text']}" if r.get("cut") else ""
        console.print(f"  {r['iteration']}: offers {faced}: opens {', '.join(r['response']) or 'nothing'} at "
                      f"{r['firm_cost']:,.3f} {answer.unit}{cut}", soft_wrap=True, markup=False)
    if answer.offers:
        console.print("as --set overrides (where the instance holds instruments of these ids): "
                      + " ".join(f"--set {s}" for s in answer.sets()), soft_wrap=True, markup=False)
    return code


def _programme(args, argv: list[str]) -> int:
    from rich.table import Table

    from siting.analysis import programme as pg
    from siting.analysis.allocate import fab_curve
    from siting.instance.programme import read_programme
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir
    from siting.run import load_case

    if args.workers < 1:
        raise InputError(Problem("--workers", f"must be at least 1 (got {args.workers})", "give 1 or more"))
    for b in args.budget or []:
        if not b >= 0:
            raise InputError(Problem("--budget", f"is {b}; a budget must be >= 0", "give 0 or more"))
    programme = read_programme(args.programme)
    budgets = sorted(set(args.budget or programme.budgets or [0.0]))
    objective = args.objective or programme.objective
    out = Path(args.out) if args.out else default_out_dir(Path(args.programme).stem + "-programme")
    raws = [pg.project_raw(p) for p in programme.projects]
    check_out_dir(out, (programme.path, *(f for raw in raws for f in raw.inputs),
                        *(p.designs for p in programme.projects if p.designs is not None)))
    base = load_case(raws[0])
    money = base.settings.money_label
    solver = _options(args)
    items = pg.plan_items(programme, solver)
    console = make_console()
    console.print(f"{len(programme.projects)} projects, {len(items)} options to price with {args.workers} "
                  f"worker{'s' if args.workers > 1 else ''}", soft_wrap=True)
    started = __import__("time").perf_counter()
    options = pg.price_all(items, args.workers, progress=lambda r: console.print(
        f"  {r['option']}: {r['status']}" + ("" if r.get("offer") is None else f", offer {r['offer']:,.3f} {money}"),
        soft_wrap=True, markup=False))
    priced = __import__("time").perf_counter() - started
    table, chosen = pg.budget_table(options, budgets, objective, solver)
    curve = fab_curve(options, solver)
    files = pg.write_programme(out, programme, options, table, chosen, curve, base, solver, ["siting", *argv], money)
    t = Table(title=f"Allocation maximising {objective} ({money})", title_justify="left")
    for c in ("budget", "fabs", "capacity (wafers/yr)", "investment", "outlay", "funded"):
        t.add_column(c, justify="left" if c == "funded" else "right", overflow="fold")
    for _, r in table.iterrows():
        t.add_row(f"{r['budget']:,.0f}", str(r["fabs"]), f"{r['capacity_wafers_per_year']:,.0f}",
                  f"{r['investment']:,.0f}", f"{r['outlay']:,.3f}", r["funded"] or "-")
    console.print(t)
    least = Table(title=f"Least outlay for each number of domestic fabs ({money})", title_justify="left")
    for col in ("fabs", "least outlay", "marginal cost", "investment"):
        least.add_column(col, justify="right")
    for _, r in curve.iterrows():
        marginal = "-" if r["marginal_cost"] is None or r["marginal_cost"] != r["marginal_cost"] \
            else f"{r['marginal_cost']:,.3f}"
        least.add_row(str(r["fabs"]), f"{r['least_outlay']:,.3f}", marginal, f"{r['investment']:,.0f}")
    console.print(least)
    bad = options[options["status"] == "error"]
    for _, r in bad.iterrows():
        console.print(f"[red]{r['option']} failed[/red]: {r['note']}", soft_wrap=True)
    console.print(f"options priced in {priced:.1f} s; results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_ERROR if len(bad) else EXIT_OK


def _explain(args, argv: list[str]) -> int:
    from siting.analysis.explain import explain, print_explanation, write_explanation
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir

    raw = _with_sets(args)
    out = Path(args.out) if args.out else default_out_dir(f"{raw.name}-explain-{args.site}")
    check_out_dir(out, raw.inputs)
    answer, df = explain(raw, args.site, _options(args), args.instead_of)
    files = write_explanation(answer, df, out, _options(args), ["siting", *argv])
    console = make_console()
    print_explanation(console, answer, df)
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK
def _progress_lines(quiet: bool):
    """A progress callback that prints each step to standard error (on a terminal, and not with --json)."""
    from siting.report.console import make_console

    err = make_console()
    err.file = sys.stderr
    show = not quiet and sys.stderr.isatty()
    return lambda _item, line: err.print(f"  {line}", soft_wrap=True) if show else None


def _alternatives(args, argv: list[str]) -> int:
    from siting.analysis.alternatives import alternatives, parse_within, write_alternatives
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir, json_safe


    within = parse_within(args.within)
    raw = _with_sets(args)
    out = Path(args.out) if args.out else default_out_dir(f"{raw.name}-alternatives")
    check_out_dir(out, raw.inputs)
    result = alternatives(raw, _options(args), within=within, count=args.count, by=args.by,
                          progress=_progress_lines(args.json))
    files = write_alternatives(result, out, _options(args), ["siting", *argv])
    if args.json:
        print(json.dumps(json_safe(result.as_dict()), indent=2))
        return EXIT_OK
    console = make_console()
    for line in result.words():
        console.print(line, soft_wrap=True)
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK


def _robustness(args, argv: list[str]) -> int:  # noqa: PLR0915 - a command's console output, in one place
    from rich.table import Table

    from siting.analysis.alternatives import parse_within
    from siting.analysis.robustness import robustness, write_robustness
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir, json_safe

    within = parse_within(args.within)
    if args.workers < 1:
        raise InputError(Problem("--workers", f"must be at least 1 (got {args.workers})", "give 1 or more"))
    if args.alternatives < 0:
        raise InputError(Problem("--alternatives", f"must be 0 or more (got {args.alternatives})", "give 0 or more"))
    raw = _with_sets(args)
    out = Path(args.out) if args.out else default_out_dir(f"{raw.name}-robustness")
    check_out_dir(out, raw.inputs)
    result = robustness(raw, _options(args), named=args.plans, alternatives_count=args.alternatives, within=within,
                        sweep=Path(args.sweep) if args.sweep else None, workers=args.workers,
                        progress=_progress_lines(args.json))
    from siting.run import load_case

    files = write_robustness(result, load_case(raw), out, _options(args), ["siting", *argv])
    if args.json:
        print(json.dumps(json_safe(result.as_dict()), indent=2))
        return EXIT_OK
    console = make_console()
    m = result.money
    tab = result.table
    labels = [f"P{k + 1}" for k in range(len(tab))]
    t = Table(title=f"Candidate plans ({m}{result.per}); bold: the minimax-regret plan", title_justify="left")
    for c in ("", "plan", "sites", "expected", "worst", f"CVaR {result.beta:.0%}", "exp. regret", "max regret",
              "in"):
        t.add_column(c, justify="right" if c not in ("", "plan", "sites", "in") else "left",
                     overflow="fold")
    for label, (_, r) in zip(labels, tab.iterrows()):
        t.add_row(label, r["plan"], r["open_sites"].replace(";", "+") or "none", f"{r['expected_cost']:,.1f}",
                  f"{r['worst_case']:,.1f}", f"{r['cvar']:,.1f}", f"{r['expected_regret']:,.1f}",
                  f"{r['max_regret']:,.1f}", r["max_regret_scenario"], style="bold" if r["minimax_regret"] else None)
    console.print(t)
    g = Table(title=f"Regret ({m}{result.per}): cost in the scenario minus that scenario's best plan",
              title_justify="left")
    g.add_column("scenario")
    g.add_column("best", justify="right")
    for label in labels:
        g.add_column(label, justify="right")
    for w in result.regret.columns:
        g.add_row(str(w), f"{result.best[w]:,.0f}", *[f"{v:,.0f}" for v in result.regret[w]])
    console.print(g)
    for line in result.words()[:1]:
        console.print(line, soft_wrap=True)
    f = result.frequency
    console.print("sites open in the scenarios' own optima: " + ", ".join(
        f"{s} {n}/{len(result.regret.columns)}" for s, n in zip(f["site"], f["scenario_optima"]) if n), soft_wrap=True)
    if "sweep_cases_share" in f:
        console.print("share of the sweep's cases opening each site: " + ", ".join(
            f"{s} {v:.0%}" for s, v in zip(f["site"], f["sweep_cases_share"])), soft_wrap=True)
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK


def _diff(args, argv: list[str]) -> int:
    from siting.analysis.diff import diff, write_diff
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir, json_safe, manifest_base

    if args.workers < 1:
        raise InputError(Problem("--workers", f"must be at least 1 (got {args.workers})", "give 1 or more"))
    if not 0 <= args.threshold <= 1:
        raise InputError(Problem("--threshold", f"must be a share from 0 to 1 (got {args.threshold})", "e.g. 0.05"))
    a, b = Path(args.run_a), Path(args.run_b)
    out = Path(args.out) if args.out else default_out_dir(f"diff-{a.resolve().name}-{b.resolve().name}")
    check_out_dir(out)
    options = _options(args)
    result = diff(a, b, args.threshold, options if args.attribute else None, workers=args.workers,
                  progress=_progress_lines(args.json))
    from siting.analysis.diff import read_run, rebuild
    from siting.run import load_case

    inst = load_case(rebuild(read_run(a)))
    manifest = manifest_base(inst, options, ["siting", *argv])
    manifest["runs"] = {"a": str(a), "b": str(b)}
    files = write_diff(result, out, manifest)
    if args.json:
        print(json.dumps(json_safe(result.as_dict()), indent=2))
        return EXIT_OK
    console = make_console()
    _print_diff(console, result)
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK


def _print_diff(console, result) -> None:
    from rich.markup import escape

    if len(result.runs):
        console.print("[bold]runs[/bold]")
        for _, r in result.runs.iterrows():
            console.print(escape(f"  {r['item']}: {r['a']} -> {r['b']}"), soft_wrap=True)
    console.print(f"[bold]inputs changed[/bold] ({len(result.inputs)})")
    for _, r in result.inputs.iterrows():
        where = f"{r['table']} {r['key']} {r['column']}" if r["key"] else f"{r['table']} {r['column']}"
        console.print(escape(f"  {where}: {r['a'] or '(none)'} -> {r['b'] or '(none)'}"), soft_wrap=True)
    console.print(f"[bold]outputs changed[/bold] ({len(result.outputs)})")
    for _, r in result.outputs.iterrows():
        key = f" {r['key']}" if r["key"] else ""
        if r["difference"] is None or r["difference"] != r["difference"]:
            console.print(escape(f"  {r['section']}: {r['item']}{key}" + (f" ({r['a']} -> {r['b']})"
                                 if r["section"] == "solve" else "")), soft_wrap=True)
        else:
            console.print(escape(f"  {r['section']}: {r['item']}{key} {r['a']:,.4g} -> {r['b']:,.4g} "
                                 f"({r['difference']:+,.4g})"), soft_wrap=True)
    if result.attribution is not None:
        console.print("[bold]which change moved what[/bold] (replayed one at a time from A)")
        for line in result.attribution.words():
            console.print(escape(f"  {line}"), soft_wrap=True)


def _frontier(args, argv: list[str]) -> int:
    from rich.table import Table

    from siting.analysis.frontier import compute_frontier, write_frontier
    from siting.instance.read import read_instance
    from siting.report.console import make_console
    from siting.report.write import check_out_dir, default_out_dir
    from siting.run import load_case

    if args.points < 2:
        raise InputError(Problem("--points", f"must be at least 2 (got {args.points})", "give 2 or more"))
    options = _options(args)
    raw = read_instance(args.instance)
    base = load_case(raw, args.set)
    out = Path(args.out) if args.out else default_out_dir(raw.name + "-frontier")
    check_out_dir(out, raw.inputs)
    console = make_console()
    st = base.settings
    unit = "wafers/yr" if args.measure == "unmet" else f"{st.money_label}/yr"
    label = {"cvar": f"CVaR {st.cvar_level:.0%} of total cost", "unmet": "expected unmet demand",
             "worst": "worst-scenario cost"}[args.measure]
    console.print(f"{args.points} points + the least-risk solve, {label} ({unit})")
    result = compute_frontier(raw, options, args.set, args.measure, args.points,
                              progress=lambda r: console.print(f"  point {r['point']}: {r['status']}"))
    table = result.table
    files = write_frontier(result, out, base, options, ["siting", *argv], label, unit)
    t = Table(title=f"Cost-risk frontier ({st.money_label}/yr)", title_justify="left")
    for c in ("point", "limit", "status", "expected cost", label, "sites open"):
        t.add_column(c, justify="left" if c in ("status", "sites open") else "right")
    for _, r in table.iterrows():
        lim = "-" if r["limit"] is None or r["limit"] != r["limit"] else f"{r['limit']:,.3f}"
        solved = r["status"] in ("optimal", "feasible")
        t.add_row(str(r["point"]), lim, r["status"], f"{r['expected_cost']:,.3f}" if solved else "-",
                  f"{r['measure']:,.3f}" if solved else "-", r.get("sites_open", "") if solved else "")
    console.print(t)
    if result.knee is not None:
        k = table.loc[result.knee]
        console.print(f"knee: point {k['point']} ({k['sites_open']}): expected cost {k['expected_cost']:,.3f}, "
                      f"{label} {k['measure']:,.3f} {unit}")
    else:
        console.print("no knee: fewer than three distinct points on the frontier")
    console.print(f"results written to {out}/ ({', '.join(files)})", soft_wrap=True)
    return EXIT_OK if table["status"].isin(("optimal", "feasible")).all() else EXIT_ERROR


def _sweep(args, argv: list[str]) -> int:
    from siting.analysis import sweep as sw
    from siting.report.console import make_console
    from siting.solve import load_profile

    # --seed is the Latin hypercube's here; HiGHS's seed is the profile's
    options = load_profile(args.profile, time_limit=args.time_limit, mip_rel_gap=args.mip_gap, threads=args.threads)
    if args.scheduler is not None:
        sw.check_scheduler_address(args.scheduler)
    if args.refine is not None and not args.refine > 0:
        raise InputError(Problem("--refine", f"must be above zero (got {args.refine})", "give a tolerance, e.g. 0.001"))
    sweep = sw.plan_sweep(args.instance, args.param, options, method=args.method, samples=args.samples,
                          seed=args.seed, fixed=tuple(args.set), out=Path(args.out) if args.out else None,
                          warm_start=not args.no_warm_start, patch=not args.no_patch)
    console = make_console()
    bar = _CaseBar()

    def started(s) -> None:
        where = f"on the Dask scheduler {s.scheduler}" if s.scheduler else \
            f"with {s.workers} worker{'s' if s.workers > 1 else ''}"
        console.print(f"{s.total} cases ({args.method}); {s.solved} already solved in {sweep.out}/, "
                      f"{s.to_solve} to solve {where}", soft_wrap=True)
        bar.start(s.to_solve, s.failed)

    try:
        with bar:
            finished = sw.run_sweep(sweep, ["siting", *argv], workers=args.workers, scheduler=args.scheduler,
                                    refine_tolerance=args.refine, started=started, progress=bar.tick)
    except sw.Interrupted as exc:
        print(f"interrupted | {exc.saved} of {exc.total} cases are saved in {sweep.out}/cases; "
              "run the same command again to solve the rest", file=sys.stderr)
        return _stop_code(exc)
    for line in sw.patch_notes(sweep):
        console.print(line, soft_wrap=True)
    sw.print_sweep(console, sweep, finished)
    console.print(f"results written to {sweep.out}/ ({', '.join(finished.files)})", soft_wrap=True)
    return EXIT_ERROR if (finished.table["status"] == "error").any() else EXIT_OK


class _CaseBar:
    """The sweep's progress bar on standard error (on a terminal): cases done, failed, time left."""

    def __init__(self):
        from rich import progress as bar

        from siting.report.console import make_console

        err = make_console()
        err.file = sys.stderr
        self.failed, self.task = 0, None
        self.progress = bar.Progress(bar.TextColumn("cases"), bar.BarColumn(), bar.MofNCompleteColumn(),
                                     bar.TextColumn("{task.fields[failed]} failed"), bar.TimeElapsedColumn(),
                                     bar.TextColumn("left"), bar.TimeRemainingColumn(), console=err,
                                     disable=not sys.stderr.isatty())

    def __enter__(self) -> _CaseBar:
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def start(self, total: int, failed: int) -> None:
        self.failed = failed
        self.progress.start()
        self.task = self.progress.add_task("sweep", total=total, failed=failed)

    def tick(self, record: dict) -> None:
        self.failed += record["row"].get("status") == "error"
        self.progress.update(self.task, advance=1, failed=self.failed)


if __name__ == "__main__":
    sys.exit(main())
