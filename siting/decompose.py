"""Progressive hedging over MPI ranks (mpi-sppy's hub and spokes), for scenario sets that outgrow one
extensive form.

``siting solve INSTANCE --engine mpisppy --ranks N`` runs this module under ``mpiexec -n N``. Each
rank builds the model of its scenarios one at a time, through the same derive and build steps as
any solve (the scenario's multipliers alone, with probability 1, so that its objective is the first
stage + (1 - lambda) cost2[w] + lambda (eta + xi[w] / (1 - beta)), the scenario's term of the
extensive form's objective). The first-stage decisions (sites, modules, qualifications, take-up of
conditional offers, payouts and eta) are the nonanticipative ones.

The ranks are split evenly among mpi-sppy's cylinders (``WheelSpinner``):

* the **PH hub** (``PHHub``): progressive hedging. HiGHS cannot take PH's quadratic proximal term,
  so mpi-sppy's piecewise-linear outer approximation of it is used (``linearize_proximal_terms``);
* a **Lagrangian bound spoke** (``LagrangianOuterBound``): with the hub's current weights W it
  solves every scenario's MIP with the linear term W x and no proximal term; the probability-weighted
  sum of the scenarios' proven lower bounds (HiGHS's dual bound, not the objective of the plan found)
  is a lower bound on the extensive form's optimum, because the weights sum to zero over the
  scenarios;
* from 3 ranks an **x-hat spoke** (``XhatShuffleInnerBound``): it fixes the first stage to one
  scenario's current PH solution after another and solves every scenario with it held, which gives
  feasible plans and their expected cost.

With CVaR in the objective, eta's weights are kept in the range where every scenario's
subproblem has a minimum (-lambda <= W <= lambda beta / (1 - beta), summing to zero over the
scenarios; see :func:`_cylinder_classes`): there they weigh each scenario's cost as CVaR's risk
envelope does, so the Lagrangian bound can take in the risk premium instead of leaving it out.

2 ranks (or an even number that is not a multiple of 3) run the hub and the Lagrangian spoke; a
multiple of 3 adds the x-hat spoke. The best outer bound the hub holds (the larger of PH's trivial
bound and the Lagrangian spoke's) is the reported best bound. The incumbent is checked by the
ordinary pipeline either way: the distinct plans among PH's consensus first stage rounded to a
plan, each scenario's own first stage at PH's last iteration (as mpi-sppy's xhatlooper tries
them) and the x-hat spoke's best plan if there is one are each evaluated across all scenarios by
``run_case`` with their sites and modules held (qualifications re-optimised, an exact solve; at
most ``PLAN_CANDIDATES`` of them), and the cheapest is the reported plan and objective. The gap
is (objective - bound) / |objective|: a valid gap, since the objective is a feasible plan's cost
and the bound is below the extensive form's optimum.

Needs the optional extra ``mpi`` (``pip install 'siting[mpi]'``: mpi-sppy, mpi4py and the mpich
wheel, which brings ``mpiexec`` without a system MPI). Across machines the same command runs with a
host file (MPICH's ``HYDRA_HOST_FILE``); the ranks read the instance from the same absolute path
and report back on standard output, so nothing but the instance has to be shared.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from siting.errors import InputError, Problem, SolverError
from siting.findings import Finding
from siting.outcome import Status

log = logging.getLogger(__name__)

#: PH settings: iterations, penalty, convergence threshold, prox-linearisation tolerance, and the
#: penalty of each first-stage decision as a multiple of its cost coefficient (mpi-sppy's CoeffRho:
#: a site's fixed cost moves its weight as fast as its cost matters; ``rho`` is the penalty of a
#: decision with no cost of its own, e.g. eta; 0 turns CoeffRho off and ``rho`` is used throughout).
PH_DEFAULTS = {"iterations": 50, "rho": 1.0, "convthresh": 1e-4, "prox_tolerance": 1e-3, "rho_multiplier": 1.0}

#: The most candidate plans evaluated across all scenarios after PH (each is one solve of every
#: scenario with the first stage held: under a second on network-2030).
PLAN_CANDIDATES = 10

#: The line of the ranks' standard output that carries the result back to the launching process
#: (standard output, not a file, so that ranks on other machines need no shared folder).
RESULT_MARK = "siting-ph-result "


def cylinders(ranks: int, scenarios: int) -> list[str]:
    """The cylinders ``ranks`` MPI processes run: mpi-sppy gives each the same number of ranks.

    Raises
    ------
    InputError
        Fewer than 2 ranks, a number that splits evenly neither in two nor in three, or more ranks
        per cylinder than there are scenarios (each rank of a cylinder needs a scenario of its own).
    """
    fix = "give 2 (PH hub and Lagrangian bound spoke) or 3 (and an x-hat spoke), or a multiple of them"
    if ranks < 2:
        raise InputError(Problem("--ranks", f"must be at least 2 for --engine mpisppy (got {ranks}): one rank for "
                                 "the PH hub, one for its Lagrangian bound spoke", fix))
    if ranks % 3 == 0:
        names = ["ph_hub", "lagrangian", "xhat_shuffle"]
    elif ranks % 2 == 0:
        names = ["ph_hub", "lagrangian"]
    else:
        raise InputError(Problem("--ranks", f"{ranks} ranks do not split evenly among mpi-sppy's cylinders "
                                 "(2: hub and Lagrangian bound; 3: and x-hat)", fix))
    per = ranks // len(names)
    if per > scenarios:
        raise InputError(Problem("--ranks", f"{ranks} ranks give each of the {len(names)} cylinders {per} ranks, "
                                 f"more than the {scenarios} scenarios",
                                 f"give at most {len(names) * scenarios} ranks"))
    return names


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


def run_ph(instance: str | Path, sets, ranks: int, options, ph: dict | None = None,
           scenarios: int | None = None, progress: Callable[[int, float, float], None] | None = None) -> dict:
    """Run the hub and spokes in ``ranks`` MPI processes; return the candidate plans and the bounds.

    ``options.time_limit`` (``--time-limit``) stops PH's iterations after that many seconds, and
    ``options.mip_rel_gap`` stops them once the x-hat spoke's plan is that close to the bound.
    ``progress(iteration, bound, incumbent)`` is called at each of the hub's iterations (the
    incumbent is the x-hat spoke's, inf without one).

    Returns
    -------
    dict
        ``plan`` (PH's rounded consensus: variable name -> {index: value}, for
        ``run_case(first_stage=...)``), ``scenario_plans`` (scenario name -> that scenario's own
        first stage at PH's last iteration, rounded, in the same form), ``xhat_plan`` (the x-hat
        spoke's best plan, or None),
        ``xhat_objective`` (its expected cost as the spoke evaluated it, or None), ``bound`` (the
        hub's best outer bound), ``trivial_bound`` (PH's wait-and-see bound), ``ph_objective``,
        ``convergence``, ``iterations``, ``cylinders``, ``ranks``, ``seconds``.
    """
    names = cylinders(ranks, scenarios if scenarios is not None else ranks)
    launcher = _mpiexec()
    settings = {**PH_DEFAULTS, **(ph or {})}
    spec = {"instance": str(Path(instance).resolve()), "sets": list(sets), "ph": settings, "cylinders": names,
            "threads": 1, "seed": options.random_seed, "time_limit": options.time_limit,
            "rel_gap": options.mip_rel_gap}
    t0 = time.perf_counter()
    output: list[str] = []
    # one stream (standard error into standard output) read as it comes, so that the hub's rows
    # show progress and neither pipe can fill up and stall the ranks
    # python -m mpi4py: an error on one rank aborts them all, instead of leaving the others waiting
    # the ranks run in a folder of their own: mpi-sppy's x-hat spokes write their log files
    # (xhatclp.log, xhateval.log) into the working folder, which is the planner's own
    with tempfile.TemporaryDirectory(prefix="siting-ph-") as scratch, subprocess.Popen(
            [launcher, "-n", str(ranks), sys.executable, "-m", "mpi4py", "-m", "siting.decompose", json.dumps(spec)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=scratch) as proc:
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            row = _hub_row(line)
            if row is not None:
                log.info("PH iteration %d: bound %s, incumbent %s", *row)
                if progress is not None:
                    progress(*row)
    lines = [line for line in output if line.startswith(RESULT_MARK)]
    if proc.returncode != 0 or not lines:
        tail = [line for line in output if line.strip()][-3:]
        raise SolverError(Problem("--engine mpisppy", "progressive hedging failed: " + " / ".join(tail),
                                  "run again with --debug, or solve the extensive form (--engine ef)"))
    result = json.loads(lines[-1][len(RESULT_MARK):])
    for key in ("plan", "xhat_plan"):
        if result.get(key) is not None:
            result[key] = _plan_from_json(result[key])
    result["scenario_plans"] = {k: _plan_from_json(v) for k, v in result.get("scenario_plans", {}).items()}
    result.update(ranks=ranks, cylinders=names, seconds=time.perf_counter() - t0)
    return result


def _hub_row(line: str) -> tuple[int, float, float] | None:
    """(iteration, best bound, best incumbent) from one of the hub's progress rows
    (``[  12.34]     7  L    34000.0000  inf  ...``), or None for any other line."""
    if not line.startswith("[") or "]" not in line:
        return None
    words = line.split("]", 1)[1].split()
    if len(words) < 5 or not words[0].isdigit():
        return None
    try:
        return int(words[0]), float(words[-4]), float(words[-3])
    except ValueError:
        return None


def _plan_from_json(plan: dict) -> dict:
    # JSON gives an index back as a list where it was a tuple (a phased model's build_early[j, t])
    return {name: {(tuple(k) if isinstance(k, list) else int(k)): v for k, v in values}
            for name, values in plan.items()}


def solve_by_ph(raw, instance, options, sets, ranks: int, duals: bool = True, ph: dict | None = None,
                progress: Callable[[int, float, float], None] | None = None):
    """The hub and spokes over ``ranks`` processes, then the candidate plans evaluated across every
    scenario; the cheapest is the run.

    Returns a new run: its status is ``feasible`` (the plan is not proven optimal), its best bound
    the hub's best outer bound and its gap the distance between the two; ``decomposition`` holds
    the hub's and spokes' figures.
    """
    from siting.instance.derive import derive
    from siting.run import attach_duals, load_case, run_case

    inst = load_case(raw, sets)
    st = inst.settings
    if st.risk_limit is not None or st.objective != "cost":
        raise InputError(Problem("--engine mpisppy", "decomposes the risk-weighted cost only, not a risk limit or "
                                 "objective=risk", "use the extensive form (--engine ef) for those"))
    data = derive(inst)
    scenarios = len(data.factors.ids)
    result = run_ph(instance, sets, ranks, options, ph, scenarios=scenarios, progress=progress)
    candidates = _candidates(raw, sets, data, result)
    evaluated = {}
    for source, plan in candidates.items():
        evaluated[source] = run_case(raw, options, sets, duals=False, first_stage=plan, keep_compiled=duals)
        log.info("plan from %s evaluated across all scenarios: %s", source, evaluated[source].outcome.objective)
    solved = {k: r for k, r in evaluated.items() if r.outcome.has_solution}
    source = min(solved, key=lambda k: solved[k].outcome.objective) if solved else next(iter(evaluated))
    # the candidates are priced without duals (most are discarded); the one kept gets them from its
    # own compiled model, without solving it again
    run = evaluated[source]
    if duals and run.outcome.has_solution and run.compiled is not None:
        attach_duals(run, run.compiled)
    # the compiled models were kept for those duals only (run_case keeps an infeasible case's for
    # its diagnosis, which stays)
    for other in evaluated.values():
        if other.outcome.status is not Status.INFEASIBLE:
            other.compiled = None
    out, diagnosis = run.outcome, run.diagnosis
    bound = float(result["bound"])
    if out.has_solution:
        out = replace(out, status=Status.FEASIBLE, best_bound=bound,
                      mip_gap=(out.objective - bound) / max(abs(out.objective), 1e-9),
                      termination=(f"progressive hedging (mpi-sppy hub and spokes: {', '.join(result['cylinders'])}; "
                                   f"{ranks} ranks), plan from {source.replace('_', ' ')} evaluated across all "
                                   "scenarios"))
    elif out.status is Status.INFEASIBLE:
        # the elastic re-solve would explain the held plan, not the instance: say what happened
        diagnosis = [Finding("infeasible", "ph_plan", (
            "the plan progressive hedging rounded to cannot meet every rule in every scenario: raise --time-limit "
            "or the iterations, or solve the extensive form (--engine ef)"), found_by="progressive hedging")]
    decomposition = {
        "engine": "mpisppy", "ranks": ranks, "cylinders": result["cylinders"], "iterations": result["iterations"],
        "convergence": result["convergence"], "bound": bound, "trivial_bound": result["trivial_bound"],
        "xhat_objective": result.get("xhat_objective"), "ph_objective": result["ph_objective"],
        "evaluated": {k: (r.outcome.objective if r.outcome.has_solution else None) for k, r in evaluated.items()},
        "plan_from": source, "plan_cost": out.objective, "gap": out.mip_gap, "seconds": result["seconds"]}
    return replace(run, outcome=out, diagnosis=diagnosis, decomposition=decomposition)


def _candidates(raw, sets, data, result: dict) -> dict[str, dict]:
    """The distinct plans among PH's rounded consensus, the x-hat spoke's best plan and each
    scenario's own first stage at PH's last iteration, at most :data:`PLAN_CANDIDATES` of them
    (the scenarios' plans shared by the most probability first), each named by the sources that
    gave it joined by ``+`` (``first+N more`` past three sources)."""
    probability = dict(zip(data.factors.ids, map(float, data.factors.probability)))
    groups: list[tuple[dict, list[str], float]] = []  # plan, its sources, their scenarios' probability
    sources = [("ph_consensus", result["plan"], 0.0), ("xhat", result.get("xhat_plan"), 0.0),
               *((f"scenario:{k}", v, probability.get(k, 0.0)) for k, v in result["scenario_plans"].items())]
    for name, raw_plan, p in sources:
        if raw_plan is None:
            continue
        plan = consistent_plan(raw, sets, raw_plan, data)
        same = next((g for g in groups if g[0] == plan), None)
        if same is None:
            groups.append((plan, [name], p))
        else:
            groups[groups.index(same)] = (plan, [*same[1], name], same[2] + p)
    # PH's consensus and the x-hat plan first, then the scenarios' plans by their probability
    groups.sort(key=lambda g: (not any(n in ("ph_consensus", "xhat") for n in g[1]), -g[2]))
    return {("+".join(names) if len(names) <= 3 else f"{names[0]}+{len(names) - 1} more"): plan
            for plan, names, _ in groups[:PLAN_CANDIDATES]}


def consistent_plan(raw, sets, plan: dict, data=None) -> dict:
    """Sites and modules from PH's rounded consensus, made consistent: a site is open exactly when
    it holds a module (rounding each decision on its own can open an empty site or put modules in a
    closed one). Qualifications are left to the evaluation, which re-optimises them for the plan.
    ``data`` is the derived instance, if the caller has it already."""
    from siting.instance.derive import derive
    from siting.instance.periods import previous_rows
    from siting.run import load_case

    if data is None:
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


def _integer_plan(scenario, value) -> dict:
    """The integer first-stage decisions of ``scenario`` (``value(var)`` of each, rounded), in the
    form :func:`_plan_from_json` reads back."""
    plan: dict = {}
    for ndn_i, var in scenario._mpisppy_data.nonant_indices.items():
        if var.is_integer() or var.is_binary():
            plan.setdefault(var.parent_component().local_name, []).append([var.index(), round(value(ndn_i, var))])
    return plan


def _config(spec: dict):
    """mpi-sppy's configuration of the hub and spokes: HiGHS with one thread and the seed, the
    profile's gap as the hub's stopping gap between the x-hat plan and the bound."""
    from mpisppy.utils import config

    ph = spec["ph"]
    cfg = config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.lagrangian_args()
    cfg.xhatshuffle_args()
    cfg.coeff_rho_args()
    cfg.solver_name = "appsi_highs"
    cfg.max_solver_threads = spec["threads"]
    cfg.solver_options = f"random_seed={spec['seed']}"
    cfg.default_rho = float(ph["rho"])
    cfg.coeff_rho_multiplier = float(ph["rho_multiplier"])
    cfg.max_iterations = int(ph["iterations"])
    cfg.intra_hub_conv_thresh = float(ph["convthresh"])
    cfg.linearize_proximal_terms = True
    cfg.proximal_linearization_tolerance = float(ph["prox_tolerance"])
    cfg.rel_gap = float(spec["rel_gap"])
    # --time-limit bounds PH's iterations as a whole (the last iteration finishes first)
    cfg.time_limit = None if spec.get("time_limit") is None else max(1, math.ceil(spec["time_limit"]))
    cfg.display_progress = False
    return cfg


def project_weights(weights: list[float], probability: list[float], low: float, high: float) -> list[float]:
    """The weights nearest to ``weights`` that lie in [low, high] and sum to zero weighted by
    ``probability``, nearest in the probability-weighted distance sum_w p_w (V_w - W_w)^2.

    Its optimality conditions make each V_w = clip(W_w + t, low, high) with one shift t for all;
    sum_w p_w clip(W_w + t, low, high) rises with t from low to high (low < 0 < high, probabilities
    summing to 1), so one t makes it zero, and bisection finds it to the doubles' precision.
    """
    def total(t: float) -> float:
        return sum(p * min(high, max(low, w + t)) for w, p in zip(weights, probability))

    a, b = low - max(weights), high - min(weights)  # every weight at low, at high
    for _ in range(200):
        t = 0.5 * (a + b)
        if total(t) > 0:
            b = t
        else:
            a = t
        if b - a <= 1e-15 * max(1.0, abs(a), abs(b)):
            break
    t = 0.5 * (a + b)
    return [min(high, max(low, w + t)) for w in weights]


def _bound_eta_weights(opt, lam: float, beta: float) -> None:
    """Move eta's weights W of every scenario of ``opt`` (an mpi-sppy PH object) into
    [-lambda, lambda beta / (1 - beta)], still summing to zero over the scenarios (0 without CVaR)."""
    keys = [(s, ndn_i) for s in opt.local_scenarios.values()
            for ndn_i, var in s._mpisppy_data.nonant_indices.items()
            if var.parent_component().local_name == "var_at_risk"]
    if lam <= 0:
        for s, ndn_i in keys:
            s._mpisppy_model.W[ndn_i]._value = 0.0
        return
    # every rank of the cylinder holds some scenarios: the projection needs them all
    mine = [(s._mpisppy_model.W[ndn_i]._value, s._mpisppy_probability) for s, ndn_i in keys]
    gathered = opt.comms["ROOT"].allgather(mine)
    everyone = [row for rows in gathered for row in rows]
    start = sum(len(rows) for rows in gathered[:opt.cylinder_rank])
    projected = project_weights([w for w, _ in everyone], [p for _, p in everyone], -lam, lam * beta / (1.0 - beta))
    for (s, ndn_i), w in zip(keys, projected[start:start + len(keys)]):
        s._mpisppy_model.W[ndn_i]._value = w


def _cylinder_classes(lam: float, beta: float) -> tuple[type, type]:
    """Two small changes to mpi-sppy's classes, made where mpi-sppy is imported (on the ranks).

    * ``BoundedEtaWeight``, PH with eta's weights W kept where every scenario's subproblem has a
      minimum. The Lagrangian subproblem of a scenario minimises (lambda + W) eta + lambda /
      (1 - beta) xi[w] over eta, with xi[w] >= cost2[w] - eta: bounded exactly for -lambda <= W <=
      lambda beta / (1 - beta), where its minimum is (lambda + W) cost2[w]: the weights then weigh
      each scenario's cost by p_w (1 + W_w / lambda), CVaR's own risk envelope. PH's updates (eta
      runs to thousands) leave that range at once; after each update eta's weights are moved back
      into it by :func:`project_weights` (one shift, then clipped, so that they still sum to zero
      over the scenarios, which makes any of them a valid Lagrangian weight).
    * ``FreshLagrangian``, the Lagrangian spoke with each scenario's bound reset to -inf before its
      solve: a subproblem that fails (unbounded, no bound in its limit) then makes that round's
      bound -inf, which the hub ignores, instead of leaving the scenario's previous bound in the sum.
    """
    from mpisppy.cylinders.lagrangian_bounder import LagrangianOuterBound
    from mpisppy.opt.ph import PH

    class BoundedEtaWeight(PH):
        def Update_W(self, verbose):
            super().Update_W(verbose)
            _bound_eta_weights(self, lam, beta)

    class FreshLagrangian(LagrangianOuterBound):
        def lagrangian(self, *args, **kwargs):
            for s in self.opt.local_scenarios.values():
                s._mpisppy_data.outer_bound = -math.inf
            return super().lagrangian(*args, **kwargs)

    return BoundedEtaWeight, FreshLagrangian


def _main(spec_text: str) -> None:
    import mpisppy.utils.cfg_vanilla as vanilla
    from mpi4py import MPI
    from mpisppy.spin_the_wheel import WheelSpinner

    from siting.solve import new_highs

    new_highs()  # takes HiGHS's once-per-process banner off this rank's standard output
    spec = json.loads(spec_text)
    inst, factors = _case(spec["instance"], tuple(spec["sets"]))
    names = list(factors.ids)
    kwargs = {"instance": spec["instance"], "sets": spec["sets"],
              "probability": dict(zip(names, map(float, factors.probability)))}
    cfg = _config(spec)
    beans = (cfg, scenario_creator, None, names)
    bounded_eta, fresh_lagrangian = _cylinder_classes(float(inst.settings.risk_weight),
                                                      float(inst.settings.cvar_level))
    hub = vanilla.ph_hub(*beans, scenario_creator_kwargs=kwargs)
    hub["opt_class"] = bounded_eta
    if cfg.coeff_rho_multiplier > 0:
        vanilla.add_coeff_rho(hub, cfg)
    lagrangian = vanilla.lagrangian_spoke(*beans, scenario_creator_kwargs=kwargs)
    lagrangian["spoke_class"] = fresh_lagrangian
    spokes = [lagrangian]
    if "xhat_shuffle" in spec["cylinders"]:
        spokes.append(vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kwargs))
    wheel = WheelSpinner(hub, spokes)
    wheel.spin()
    # each scenario's own first stage at PH's last iteration (what mpi-sppy's xhatlooper tries),
    # read before the x-hat step below can load another solution into the hub's models
    own = ({name: _integer_plan(s, lambda _i, var: var.value) for name, s in wheel.spcomm.opt.local_scenarios.items()}
           if wheel.on_hub() else {})

    # the x-hat spoke's best plan: on the rank that holds the incumbent (every rank takes part in
    # finding it), gathered to rank 0
    found: dict = {}

    def keep(_file_name, scenario, _bundling):
        found["plan"] = _integer_plan(scenario, lambda _i, var: var.value)

    try:
        wheel.write_first_stage_solution("", first_stage_solution_writer=keep)
    except RuntimeError:
        # raised on the incumbent's rank alone, after the collective step, when it cannot load
        # the plan back: then there is no x-hat plan, and the consensus is still evaluated
        log.warning("the x-hat spoke's plan could not be read back")
    xhat_plans = [p for p in MPI.COMM_WORLD.gather(found.get("plan"), root=0) or [] if p is not None]
    if not wheel.on_hub():
        return
    opt = wheel.spcomm.opt
    ph_objective = opt.Eobjective()  # a collective step of the hub's ranks
    scenario_plans = {k: v for part in opt.comms["ROOT"].gather(own, root=0) or [] for k, v in part.items()}
    if wheel.cylinder_rank != 0:
        return
    # global rank 0 is the hub's first rank: PH's consensus first stage (the same xbar at every
    # scenario of a two-stage tree), integer decisions rounded to a plan
    scenario = next(iter(opt.local_scenarios.values()))
    plan = _integer_plan(scenario, lambda i, _var: scenario._mpisppy_model.xbars[i].value)
    inner = wheel.BestInnerBound
    # the ranks' standard output is the channel back to the launching process (mpiexec forwards it
    # from every host), not a console
    sys.stdout.write(RESULT_MARK + json.dumps({
        "plan": plan, "xhat_plan": xhat_plans[0] if xhat_plans else None, "scenario_plans": scenario_plans,
        "xhat_objective": inner if xhat_plans and math.isfinite(inner) else None,
        "bound": wheel.BestOuterBound, "trivial_bound": opt.trivial_bound,
        "ph_objective": ph_objective, "convergence": opt.conv, "iterations": int(opt._PHIter)}) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    _main(sys.argv[1])
