"""The model's families: every variable and every row family, in one table.

A new variable or row family is registered here, once; the steps that handle every family alike
read this table instead of keeping their own lists:

* :func:`siting.solve.compile_model` orders the columns by :data:`VARIABLES` (:func:`column_order`),
  and the numerics warnings name input columns by ``cost_source`` and :attr:`RowFamily.sources`;
* :func:`siting.solve.solve_model` frees the Pyomo objects of the ``compiled_only`` rows;
* :func:`siting.report.extract.read_solution` reads every variable that follows a derived table's
  rows (:func:`by_row`), filling the rows without a column with ``default``;
  :func:`siting.report.extract.clean_solution` rounds the ``integer`` ones;
* :mod:`siting.analysis.patch` finds the same families among a compiled model's columns;
* :mod:`siting.decompose` makes the ``first``-stage variables nonanticipative (:func:`first_stage`);
* :mod:`siting.elastic` gives slack to the rows with an ``elastic`` family, and frees the ``freed`` ones.

What stays with each family is what only it knows: its rows in ``siting/model/``, its cost terms
in :func:`siting.model.objective.register_costs`, its table in the results, and for an elastic
family the level its slack is measured against (:mod:`siting.elastic`) and its words
(:mod:`siting.diagnose`).

Adding a variable ``x`` indexed by the rows of the derived table ``widgets``: declare it in its
``model/`` module and add ``Variable("x", "widgets", "second", integer=False, costs=("operating",),
cost_source="widgets.cost")`` to :data:`VARIABLES` (the position is its place in the column order);
add a field ``x`` to :class:`siting.report.extract.Solution` and, if it has a cost, its terms to the
registry. ``tests/model/test_families.py`` fails for a variable or row family a model holds that this
table does not list.

This module imports nothing of Pyomo: it reads a model by its components' names only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variable:
    """One variable family of the model.

    Attributes
    ----------
    name
        The Pyomo component's name (``model.<name>``).
    table
        The derived table whose rows it follows, index k = row k (None: indexed otherwise, e.g. by
        scenario, or a single number).
    stage
        "first" (decided before the scenario is known: nonanticipative in a decomposition) or
        "second" (one value per scenario).
    integer
        Binary or integer (rounded when read back).
    default
        The value of a row of ``table`` that has no column (a row the model leaves out).
    costs
        The cost categories (:data:`siting.model.objective.CATEGORIES`) its objective terms fall in.
    cost_source
        The input columns its objective coefficient comes from (named by the numerics warnings).
    listed
        In the compiler's column order. False keeps a family out of it, so that its columns follow
        every listed one in the order the rows meet them (``build_early``: the column order of
        phased models is kept as it was).
    solution
        Whether :func:`siting.report.extract.read_solution` reads it by row into the
        :class:`~siting.report.extract.Solution` field of its name (needs ``table``).
    """

    name: str
    table: str | None
    stage: str
    integer: bool
    default: float = 0.0
    costs: tuple[str, ...] = ()
    cost_source: str | None = None
    listed: bool = True
    solution: bool = True


@dataclass(frozen=True)
class RowFamily:
    """One constraint family of the model.

    Attributes
    ----------
    name
        The Pyomo component's name.
    sources
        The input columns its coefficients come from (named by the numerics warnings); None:
        structural (ones and minus ones).
    elastic
        The business rule it states, for a row the diagnosis lets give (:mod:`siting.elastic`);
        None: physics or a definition, always hard.
    freed
        Dropped from the elastic re-solve: a valid inequality only while the rules hold.
    compiled_only
        Its Pyomo objects are freed once compiled: only HiGHS needs it (results come from
        variables, shadow prices from other rows, and a re-solve is exact without it).
    """

    name: str
    sources: str | None = None
    elastic: str | None = None
    freed: bool = False
    compiled_only: bool = False


#: Every variable family, in the compiled column order (MODEL.md's first stage, then the second,
#: then the risk measure's).
VARIABLES: tuple[Variable, ...] = (
    Variable("build", "sites", "first", True, costs=("capex",), cost_source="sites.fixed_cost"),
    Variable("modules", "modules", "first", True, costs=("capex",), cost_source="modules.capex_per_module"),
    Variable("qualify", "qualifications", "first", True, costs=("qualification",), cost_source="qualification.cost"),
    # an unconditional instrument has no take-up column: it is taken
    Variable("take", "instruments", "first", True, default=1.0),
    Variable("payout", "instruments", "first", False, costs=("subsidies",),
             cost_source="instruments (payouts, annualised)"),
    Variable("produce", "routes", "second", False, costs=("operating", "freight", "tariffs"),
             cost_source="modules.operating_cost_per_wafer, lanes and tariffs"),
    Variable("output", None, "second", False, solution=False),
    Variable("purchase", "arcs", "second", False, costs=("purchases", "freight", "tariffs"),
             cost_source="offers.price_per_unit, lanes and tariffs"),
    Variable("unmet", "demand", "second", False, costs=("unmet_penalty",), cost_source="demand.penalty_per_wafer"),
    # wafer_payout[k, w]: read into ``payout`` as its expectation over the scenarios
    Variable("wafer_payout", "instruments", "second", False, costs=("subsidies",),
             cost_source="instruments (production subsidies, annualised)", solution=False),
    Variable("var_at_risk", None, "first", False, costs=("risk",), solution=False),
    Variable("tail_excess", None, "second", False, costs=("risk",), solution=False),
    Variable("worst_cost", None, "first", False, solution=False),
    # phased: site j open by an early period t; read as ``build_by_period``
    Variable("build_early", None, "first", True, listed=False, solution=False),
    # phased, continued production with repay_share: fallen short in period u and scenario w, and
    # the share repaid then (read as ``repaid``)
    Variable("repay_short", None, "second", True, listed=False, solution=False),
    Variable("repayment", None, "second", False, costs=("subsidies",), cost_source="instruments.repay_share",
             listed=False, solution=False),
    # extra supply of a site resource, per row of ``resources`` (one scenario each): unlisted, so
    # the column order of models with resources is kept as it was; the results recompute it from
    # production (``report/resources.py``)
    Variable("resource_extra", "resources", "second", False, costs=("operating",),
             cost_source="resources.extra_cost", listed=False, solution=False),
)

#: Every row family: the business rules the diagnosis lets give first, in the order its findings
#: are listed, then physics and definitions.
ROWS: tuple[RowFamily, ...] = (
    RowFamily("demand_balance", "demand.wafers_per_year", elastic="demand"),
    RowFamily("local_share", "local_targets.target and offers.price_per_unit", elastic="local_share"),
    RowFamily("supplier_share", "settings.max_supplier_share", elastic="supplier_share"),
    RowFamily("min_suppliers", elastic="min_suppliers"),
    RowFamily("concentration", "modules.wafers_per_module", elastic="concentration"),
    RowFamily("firm_budget", "modules.capex_per_module and sites.fixed_cost", elastic="firm_budget"),
    RowFamily("supplier_capacity", "offers.capacity", elastic="supplier_capacity"),
    RowFamily("resource_limit", "resources.limit and resource_use.per_wafer", elastic="resource"),
    # investment
    RowFamily("module_site", "modules.max_modules"),
    RowFamily("build_stays"),
    RowFamily("modules_stay"),
    RowFamily("site_needs_module"),
    RowFamily("site_needs_module_early"),
    # operations
    RowFamily("capacity", "modules.wafers_per_module"),
    RowFamily("route_link", "demand.wafers_per_year", compiled_only=True),
    RowFamily("demand_cover", "demand.wafers_per_year", freed=True),
    # procurement
    RowFamily("output_balance", "bom.units_per_wafer"),
    RowFamily("input_balance", "bom.units_per_wafer"),
    RowFamily("qualification_link", "offers.capacity", compiled_only=True),
    RowFamily("qualify_site"),
    RowFamily("qualify_stays"),
    # subsidies
    RowFamily("grant_rate", "instruments.rate and modules.capex_per_module"),
    RowFamily("grant_cap", "instruments.cap"),
    RowFamily("lump_sum", "instruments.amount"),
    RowFamily("grants_within_capex", "modules.capex_per_module and sites.fixed_cost"),
    RowFamily("shared_cap"),
    RowFamily("lump_on_opening"),
    RowFamily("wafer_rate", "instruments.per_wafer and years"),
    RowFamily("wafer_cap", "instruments.cap"),
    RowFamily("take_site"),
    RowFamily("condition_local", "instruments.min_local_share and offers.price_per_unit"),
    RowFamily("condition_utilisation", "instruments.min_utilisation and modules.wafers_per_module"),
    # phased: a utilisation condition held for condition_years after the start of production
    RowFamily("condition_continued", "instruments.min_utilisation and modules.wafers_per_module"),
    # phased: falling short of it only with the grant taken, and the share repaid then
    RowFamily("short_needs_take"),
    RowFamily("repay_link", "instruments.repay_share, rate and cap"),
    RowFamily("program_budget", "programs.budget"),
    # risk
    RowFamily("cvar_tail"),
    RowFamily("worst_tail"),
    RowFamily("risk_limit"),
)

VARIABLE = {v.name: v for v in VARIABLES}
ROW = {r.name: r for r in ROWS}

#: Row family -> the input columns its coefficients come from.
ROW_SOURCES = {r.name: r.sources for r in ROWS if r.sources}
#: Variable family -> the input columns its objective coefficient comes from.
COST_SOURCES = {v.name: v.cost_source for v in VARIABLES if v.cost_source}
#: Row families only HiGHS needs (freed from Pyomo once compiled).
COMPILED_ONLY = tuple(r.name for r in ROWS if r.compiled_only)
#: Row family -> the rule it states, for the rows the diagnosis lets give, in the order findings are listed.
ELASTIC = {r.name: r.elastic for r in ROWS if r.elastic}
#: Valid inequalities implied by rules that must hold: dropped once the rules may give.
FREED = tuple(r.name for r in ROWS if r.freed)


def by_row() -> tuple[Variable, ...]:
    """The variables read back by row of their derived table, in column order."""
    return tuple(v for v in VARIABLES if v.solution and v.table is not None)


def rounded() -> tuple[str, ...]:
    """Names of the integer variables among :func:`by_row` (rounded when read back)."""
    return tuple(v.name for v in by_row() if v.integer)


def column_order(model: Any) -> list:
    """The model's variable components in the compiled column order (those it has, listed ones)."""
    return [getattr(model, v.name) for v in VARIABLES if v.listed and hasattr(model, v.name)]


def first_stage(model: Any) -> list:
    """The model's first-stage variable components that have at least one index, in column order:
    what a decomposition makes nonanticipative."""
    return [getattr(model, v.name) for v in VARIABLES
            if v.stage == "first" and hasattr(model, v.name) and len(getattr(model, v.name))]
