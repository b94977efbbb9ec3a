"""The ``siting`` command: parses arguments, calls one function, maps errors to exit codes.

Exit codes: 0 a solution (optimal, or feasible within a limit, with its gap); 2 bad input;
3 infeasible or unbounded; 4 no solution within the limit; 1 anything else; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from siting.errors import InputError, Problem, SitingError

EXIT_OK, EXIT_ERROR, EXIT_INPUT, EXIT_INFEASIBLE, EXIT_NO_SOLUTION = 0, 1, 2, 3, 4
STATUS_EXIT = {"optimal": EXIT_OK, "feasible": EXIT_OK, "infeasible": EXIT_INFEASIBLE,
               "unbounded": EXIT_INFEASIBLE, "no_solution": EXIT_NO_SOLUTION, "error": EXIT_ERROR}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one `location | problem; fix` line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(Problem(self.prog, message, f"see `{self.prog} --help`"))


def _add_solver_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", help="solver profile: solvers/NAME.toml (default, exact, fast)")
    p.add_argument("--time-limit", type=float, help="seconds HiGHS may run")
    p.add_argument("--mip-gap", type=float, help="relative MIP gap at which HiGHS stops")
    p.add_argument("--threads", type=int, help="HiGHS threads")
    p.add_argument("--seed", type=int, help="HiGHS random seed")


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
    _add_solver_flags(p)

    p = sub.add_parser("validate", help="check an instance and list every problem")
    p.add_argument("instance")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE")

    p = sub.add_parser("init", help="write a commented starter instance to fill in")
    p.add_argument("dir", help="folder to create")
    p.add_argument("--force", action="store_true", help="write into an existing non-empty folder")

    p = sub.add_parser("params", help="list every parameter --set can change")
    p.add_argument("instance")

    p = sub.add_parser("import", help="convert another format into an instance")
    imp = p.add_subparsers(dest="format", parser_class=_Parser, required=True)
    q = imp.add_parser("orlib", help="Beasley's OR-Library capacitated warehouse location file")
    q.add_argument("file")
    q.add_argument("--capacity", type=float, help="capacity for capa/capb/capc files")
    q.add_argument("-o", "--out", required=True, help="instance folder to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        args = _parser().parse_args(argv)
        return _dispatch(args, argv)
    except SitingError as exc:
        print(str(exc), file=sys.stderr)
        if debug:
            traceback.print_exc()
        return exc.exit_code
    except BrokenPipeError:  # output piped into `head` and the like: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python quiet at exit
        return EXIT_OK
    except KeyboardInterrupt:
        print("interrupted | nothing half-written was left behind; run the command again", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception as exc:  # a bug, not a planner's mistake: say so in one line
        print(f"internal error | {type(exc).__name__}: {exc}; please report it with --debug output",
              file=sys.stderr)
        if debug:
            traceback.print_exc()
        return EXIT_ERROR


def _dispatch(args, argv: list[str]) -> int:
    if args.command == "solve":
        return _solve(args, argv)
    if args.command == "validate":
        return _validate(args)
    if args.command == "init":
        from siting.instance.template import write_template

        folder = write_template(Path(args.dir), force=args.force)
        print(f"wrote a starter instance to {folder}; edit it, then run `siting validate {folder}`")
        return EXIT_OK
    if args.command == "params":
        from siting.instance.overrides import addressable_paths, parameter_unit
        from siting.instance.read import read_instance

        raw = read_instance(args.instance)
        for path, value in addressable_paths(raw).items():
            unit = parameter_unit(path, raw.settings)
            shown = "" if value in ("None", "nan") else value
            print(f"{path} = {shown}" + (f"  [{unit}]" if unit else ""))
        return EXIT_OK
    if args.command == "import":
        from siting.instance.orlib import import_orlib

        folder = import_orlib(Path(args.file), Path(args.out), capacity=args.capacity)
        print(f"wrote {folder}")
        return EXIT_OK
    raise InputError(Problem("siting", f"unknown command {args.command}", "see `siting --help`"))


def _validate(args) -> int:
    from siting.instance.derive import derive
    from siting.run import load_case

    inst = load_case(args.instance, args.set)
    d = derive(inst)
    print(f"{inst.name}: valid ({len(d.sites)} sites, {len(d.modules)} site-products, {len(d.demand)} demand rows, "
          f"{len(d.offers)} offers, {len(d.routes)} routes, {len(d.arcs)} supply arcs)")
    return EXIT_OK


def _solve(args, argv: list[str]) -> int:
    from siting.diagnose import diagnose
    from siting.instance.read import read_instance
    from siting.report.console import headline, make_console, print_run
    from siting.report.write import check_out_dir, default_out_dir, summary_dict, write_run
    from siting.run import run_case
    from siting.solve import load_profile

    options = load_profile(args.profile, time_limit=args.time_limit, mip_rel_gap=args.mip_gap,
                           threads=args.threads, random_seed=args.seed)
    raw = read_instance(args.instance)
    out = Path(args.out) if args.out else default_out_dir(raw.name)
    check_out_dir(out, raw.root)
    console = make_console()
    if sys.stdout.isatty() and not args.json:
        with console.status("solving with HiGHS (Ctrl-C stops it and keeps the best plan found)"):
            run = run_case(raw, options, sets=args.set, duals=not args.no_duals)
    else:
        run = run_case(raw, options, sets=args.set, duals=not args.no_duals)
    command = ["siting", *argv]
    if run.outcome.status == "infeasible" and not run.diagnosis:
        diagnose(run, options)
    write_run(run, out, command)
    if args.json:
        print(json.dumps(summary_dict(run, command), indent=2))
    else:
        print_run(run, console)
        console.print(f"results written to {out}/")
    code = STATUS_EXIT[run.outcome.status]
    if code != EXIT_OK:
        print(headline(run), file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
