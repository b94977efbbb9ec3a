"""Progressive hedging over MPI ranks (mpi-sppy), for scenario sets that outgrow one extensive form.

``siting solve INSTANCE --engine mpisppy --ranks N`` runs this module under ``mpiexec -n N``. Each
rank builds the model of its scenarios one at a time, through the same derive and build steps as
any solve (the scenario's multipliers alone, with probability 1, so that its objective is the first
stage + (1 - lambda) cost2[w] + lambda (eta + xi[w] / (1 - beta)), the scenario's term of the
extensive form's objective). The first-stage decisions (sites, modules, qualifications, take-up of
conditional offers, payouts and eta) are the nonanticipative ones. HiGHS cannot take PH's quadratic
proximal term, so mpi-sppy's piecewise-linear outer approximation of it is used (``linearize_proximal_terms``).

PH with integer decisions is a heuristic: its consensus first stage is rounded to a plan, and the
plan (sites and modules; qualifications re-optimised) is then evaluated across all scenarios by the
ordinary pipeline (``run_case`` with those decisions held), which gives the reported objective and
every check. The PH bound reported with it is
mpi-sppy's trivial bound (the wait-and-see bound, valid for the extensive form); the gap is
between the two.

Needs the optional extra ``mpi`` (``pip install 'siting[mpi]'``: mpi-sppy, mpi4py and the mpich
wheel, which brings ``mpiexec`` without a system MPI).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from siting.errors import InputError, Problem, SolverError
from siting.findings import Finding
from siting.outcome import Status

#: PH settings: iterations, penalty, convergence threshold, prox-linearisation tolerance.
PH_DEFAULTS = {"iterations": 50, "rho": 1.0, "convthresh": 1e-4, "prox_tolerance": 1e-3}


def _mpiexec() -> str:
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401
        import mpisppy  # noqa: F401
    except ImportError:
        found = None
    if found is None:
        raise InputError(Problem("--engine mpisppy", "needs mpi-sppy, mpi4py and an MPI launcher (mpiexec)",
                                 "install them with pip install 'siting[mpi]'"))
    return found


def run_ph(instance: str | Path, sets, ranks: int, options, ph: dict | None = None) -> dict:
    """Run PH in ``ranks`` MPI processes; return the rounded first-stage plan and PH's figures.

    ``options.time_limit`` (``--time-limit``) stops PH's iterations after that many seconds.

    Returns
    -------
    dict
        ``plan`` (variable name -> {index: value}, for ``run_case(first_stage=...)``), ``bound``
        (trivial bound), ``ph_objective`` (PH's expected objective, not nonanticipative),
        ``convergence``, ``iterations``, ``ranks``, ``seconds``.
    """
    if ranks < 1:
        raise InputError(Problem("--ranks", f"must be at least 1 (got {ranks})", "give 1 or more"))
    launcher = _mpiexec()
    settings = {**PH_DEFAULTS, **(ph or {})}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        spec = {"instance": str(Path(instance).resolve()), "sets": list(sets), "ph": settings,
                "threads": 1, "seed": options.random_seed, "time_limit": options.time_limit,
                "out": str(Path(tmp) / "plan.json")}
        (Path(tmp) / "spec.json").write_text(json.dumps(spec))
        done = subprocess.run([launcher, "-n", str(ranks), sys.executable, "-m", "siting.decompose",
                               str(Path(tmp) / "spec.json")], capture_output=True, text=True)
        if done.returncode != 0 or not Path(spec["out"]).is_file():
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise SolverError(Problem("--engine mpisppy", "progressive hedging failed: " + " / ".join(tail),
                                      "run again with --debug, or solve the extensive form (--engine ef)"))
        result = json.loads(Path(spec["out"]).read_text())
    # JSON gives an index back as a list where it was a tuple (a phased model's build_early[j, t])
    result["plan"] = {name: {(tuple(k) if isinstance(k, list) else int(k)): v for k, v in values}
                      for name, values in result["plan"].items()}
    result.update(ranks=ranks, seconds=time.perf_counter() - t0)
    return result


def solve_by_ph(raw, instance, options, sets, ranks: int, duals: bool = True, ph: dict | None = None):
    """PH over ``ranks`` processes, then the rounded plan evaluated across every scenario.

    Returns a new run: its status is ``feasible`` (PH proves nothing), its best bound PH's trivial
    bound and its gap the distance between the two; ``decomposition`` holds PH's own figures.
    """
    from siting.run import load_case, run_case

    st = load_case(raw, sets).settings
    if st.risk_limit is not None or st.objective != "cost":
        raise InputError(Problem("--engine mpisppy", "decomposes the risk-weighted cost only, not a risk limit or "
                                 "objective=risk", "use the extensive form (--engine ef) for those"))
    result = run_ph(instance, sets, ranks, options, ph)
    run = run_case(raw, options, sets, duals=duals, first_stage=consistent_plan(raw, sets, result["plan"]))
    out, diagnosis = run.outcome, run.diagnosis
    if out.has_solution:
        bound = float(result["bound"])
        out = replace(out, status=Status.FEASIBLE, best_bound=bound,
                      mip_gap=abs(out.objective - bound) / max(abs(out.objective), 1e-9),
                      termination=f"progressive hedging (mpi-sppy, {ranks} ranks), plan evaluated across all scenarios")
    elif out.status is Status.INFEASIBLE:
        # the elastic re-solve would explain the held plan, not the instance: say what happened
        diagnosis = [Finding("infeasible", "ph_plan", (
            "the plan progressive hedging rounded to cannot meet every rule in every scenario: raise --time-limit "
            "or the iterations, or solve the extensive form (--engine ef)"), found_by="progressive hedging")]
    decomposition = {"engine": "mpisppy", "ranks": ranks, "iterations": result["iterations"],
                     "convergence": result["convergence"], "bound": result["bound"],
                     "ph_objective": result["ph_objective"], "seconds": result["seconds"],
                     "plan_cost": out.objective, "gap": out.mip_gap}
    return replace(run, outcome=out, diagnosis=diagnosis, decomposition=decomposition)


def consistent_plan(raw, sets, plan: dict) -> dict:
    """Sites and modules from PH's rounded consensus, made consistent: a site is open exactly when
    it holds a module (rounding each decision on its own can open an empty site or put modules in a
    closed one). Qualifications are left to the evaluation, which re-optimises them for the plan."""
    from siting.instance.derive import derive
    from siting.instance.periods import previous_rows
    from siting.run import load_case

    data = derive(load_case(raw, sets))
    modules = {k: max(0, min(int(v), int(data.modules.at[k, "max_modules"])))
               for k, v in plan.get("modules", {}).items()}
    periods = data.periods
    if len(periods) > 1:
        # phased: what is built stays built, so each (site, product)'s count never falls over the
        # periods (rows of a key come in period order); a site is open by a period exactly when it
        # holds a module then
        prev = previous_rows(data.modules)
        for k in range(len(data.modules)):
            if prev[k] >= 0 and k in modules:
                modules[k] = max(modules[k], modules.get(int(prev[k]), 0))
    holding = {(data.modules.at[k, "site"], data.modules.at[k, "period"]) for k, n in modules.items() if n > 0}
    sites = list(data.sites["site"])
    build = {j: int((s, periods[-1]) in holding) for j, s in enumerate(sites)}
    out = {"build": build, "modules": modules}
    if len(periods) > 1:
        out["build_early"] = {(j, t): int((s, t) in holding) for j, s in enumerate(sites) for t in periods[:-1]}
    return out


@functools.lru_cache(maxsize=2)
def _case(instance: str, sets: tuple[str, ...]) -> tuple:
    """The checked instance and its scenario multipliers: once per process, not once per scenario."""
    from siting.instance.derive import derive
    from siting.run import load_case

    inst = load_case(instance, sets)
    return inst, derive(inst).factors


def scenario_creator(name: str, instance: str = "", sets=(), probability: dict | None = None):
    """The Pyomo model of scenario ``name`` alone, with its first stage attached as the root node."""
    import mpisppy.utils.sputils as sputils

    from siting.instance.derive import derive
    from siting.model.build import build_model
    from siting.model.families import first_stage

    inst, factors = _case(instance, tuple(sets))
    sm = build_model(derive(inst, factors.only(name)))
    m = sm.model
    # sites, modules, qualifications, take-up of conditional offers, payouts and eta (the table's first stage)
    sputils.attach_root_node(m, sm.costs.first_stage(), first_stage(m))
    m._mpisppy_probability = probability[name]
    return m


def _main(spec_path: str) -> None:
    from mpi4py import MPI
    from mpisppy.opt.ph import PH

    from siting.solve import new_highs

    new_highs()  # takes HiGHS's once-per-process banner off this rank's standard output
    spec = json.loads(Path(spec_path).read_text())
    _, factors = _case(spec["instance"], tuple(spec["sets"]))
    probability = dict(zip(factors.ids, map(float, factors.probability)))
    ph_settings = spec["ph"]
    options = {
        "solver_name": "appsi_highs", "PHIterLimit": int(ph_settings["iterations"]),
        "defaultPHrho": float(ph_settings["rho"]), "convthresh": float(ph_settings["convthresh"]),
        "verbose": False, "display_progress": False, "display_timing": False,
        "linearize_proximal_terms": True, "proximal_linearization_tolerance": float(ph_settings["prox_tolerance"]),
        "iter0_solver_options": {"threads": spec["threads"], "random_seed": spec["seed"]},
        "iterk_solver_options": {"threads": spec["threads"], "random_seed": spec["seed"]},
        # --time-limit bounds PH's iterations as a whole (the last iteration finishes first)
        "time_limit": spec.get("time_limit"),
    }
    ph = PH(options, list(factors.ids), scenario_creator,
            scenario_creator_kwargs={"instance": spec["instance"], "sets": spec["sets"], "probability": probability})
    conv, objective, bound = ph.ph_main()
    # the consensus first stage (the same xbar at every scenario of a two-stage tree), integer
    # decisions rounded to a plan
    scenario = next(iter(ph.local_scenarios.values()))
    plan: dict = {}
    for ndn_i, var in scenario._mpisppy_data.nonant_indices.items():
        if var.is_integer() or var.is_binary():
            value = scenario._mpisppy_model.xbars[ndn_i].value
            plan.setdefault(var.parent_component().local_name, []).append([var.index(), round(value)])
    if MPI.COMM_WORLD.Get_rank() == 0:
        Path(spec["out"]).write_text(json.dumps({
            "plan": plan, "bound": bound, "ph_objective": objective, "convergence": conv,
            "iterations": int(ph._PHIter)}))


if __name__ == "__main__":
    _main(sys.argv[1])
