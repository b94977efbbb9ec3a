"""Disruption scenarios: their checks, and the multiplier each scenario puts on each value.

A scenario (``scenarios.csv``) has a probability; its effects (``scenario_effects.csv``) scale
values of the base instance in that scenario: the capacity a site can use (availability in
[0, 1]), a supplier's capacity (availability in [0, 1]), demand, suppliers' prices and freight.
Each effect selects what it hits by id, country, region or hazard zone (or all), and optionally by
product or input; where several effects hit the same value their multipliers multiply.

The result is a :class:`ScenarioFactors`: one column per scenario and one row per row of the
base tables that :mod:`siting.instance.derive` builds on (modules, demand, offers). Plain numpy
and pandas, no Pyomo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from siting.errors import ProblemCollector, suggest
from siting.instance.countries import country_problem
from siting.instance.schema import TABLES, key_label

NOMINAL = "nominal"
#: The one scenario of the expected-value problem (probability-weighted mean of every multiplier).
EXPECTED = "expected-value"
#: How far the probabilities may sum from 1.
PROBABILITY_TOLERANCE = 1e-6
#: Which table's rows each target selects among, and whether its item is a product or an input.
TARGET_ENTITIES = {"site": ("sites", "product"), "supplier": ("suppliers", "input"),
                   "demand": ("markets", "product"), "price": ("suppliers", "input"),
                   "freight": (("sites", "suppliers"), None)}


@dataclass(frozen=True)
class ScenarioFactors:
    """Per-scenario multipliers on the base rows of the derived tables.

    Attributes
    ----------
    ids, probability
        Scenario ids and their probabilities (summing to 1).
    site, freight_out
        Rows of the derived ``modules`` (site, product) x scenarios: share of capacity available,
        and the factor on outbound freight from the site.
    demand
        Rows of the derived ``demand`` (market, product, before scenarios) x scenarios.
    capacity, price, freight_in
        Rows of ``offers`` (supplier, input) x scenarios: share of the supplier's capacity
        available, factor on its price, and on inbound freight from it.
    binds
        Scenarios in which local-share targets bind.
    """

    ids: tuple[str, ...]
    probability: np.ndarray
    site: np.ndarray
    freight_out: np.ndarray
    demand: np.ndarray
    capacity: np.ndarray
    price: np.ndarray
    freight_in: np.ndarray
    binds: tuple[str, ...]

    _MATRICES = ("site", "freight_out", "demand", "capacity", "price", "freight_in")

    def expected(self, label: str = EXPECTED) -> ScenarioFactors:
        """One scenario holding the probability-weighted mean of every multiplier: the data of the
        expected-value problem. Local-share targets bind in it if they bind in any scenario."""
        p = self.probability
        means = {name: getattr(self, name) @ p for name in self._MATRICES}
        return replace(self, ids=(label,), probability=np.ones(1),
                       **{k: v.reshape(-1, 1) for k, v in means.items()}, binds=(label,) if self.binds else ())

    def only(self, scenario: str) -> ScenarioFactors:
        """Scenario ``scenario`` alone with probability 1 (a wait-and-see problem)."""
        j = self.ids.index(scenario)
        return replace(self, ids=(scenario,), probability=np.ones(1),
                       **{k: getattr(self, k)[:, [j]] for k in self._MATRICES},
                       binds=(scenario,) if scenario in self.binds else ())


def scenario_table(inst) -> pd.DataFrame:
    """Scenario ids and probabilities: the scenarios table, or the nominal scenario alone."""
    sc = inst["scenarios"]
    if sc.empty:
        return pd.DataFrame({"id": [NOMINAL], "probability": [1.0]})
    return pd.DataFrame({"id": sc["id"].values, "probability": sc["probability"].astype(float).values})


def _entities(inst, table: str) -> pd.DataFrame:
    """id, country, region, hazard_zones of every row of a table of places, indexed by id."""
    df = inst[table]
    zones = df["hazard_zones"] if "hazard_zones" in df.columns else pd.Series([()] * len(df), index=df.index)
    return pd.DataFrame({"id": df["id"].values, "country": df["country"].values, "region": df["region"].values,
                         "hazard_zones": list(zones.values)}, index=df["id"].values)


def _hit(by: str, match: str, ent: pd.DataFrame) -> np.ndarray:
    if by == "all":
        return np.ones(len(ent), dtype=bool)
    if by == "hazard_zone":
        return np.array([match in z for z in ent["hazard_zones"]], dtype=bool)
    return np.array(ent[by].values == match, dtype=bool)


def _multipliers(inst, target: str, owner: str, owners: pd.Series, items: pd.Series,
                 ids: tuple[str, ...]) -> np.ndarray:
    """Multiplier of each (owner, item) row in each scenario, for effects of ``target`` on ``owner`` rows."""
    out = np.ones((len(owners), len(ids)))
    effects = inst["scenario_effects"]
    effects = effects[effects["target"] == target]
    if effects.empty or not len(owners):
        return out
    ent = _entities(inst, owner).reindex(owners.values)
    for _, e in effects.iterrows():
        hit = _hit(e["by"], e["match"], ent)
        if e["item"] not in ("*", "", None):
            hit &= items.values == e["item"]
        out[hit, ids.index(e["scenario"])] *= float(e["multiplier"])
    return out


def scenario_factors(inst, modules: pd.DataFrame, demand: pd.DataFrame, offers: pd.DataFrame) -> ScenarioFactors:
    """The multipliers of every scenario on the base rows of ``modules``, ``demand`` and ``offers``."""
    sc = scenario_table(inst)
    ids = tuple(sc["id"])
    setting = inst.settings.local_share_scenarios
    binds = ids if setting == "all" else tuple(w for w in ids if w == setting)
    return ScenarioFactors(
        ids=ids, probability=sc["probability"].values.astype(float),
        site=_multipliers(inst, "site", "sites", modules["site"], modules["product"], ids),
        freight_out=_multipliers(inst, "freight", "sites", modules["site"], modules["product"], ids),
        demand=_multipliers(inst, "demand", "markets", demand["market"], demand["product"], ids),
        capacity=_multipliers(inst, "supplier", "suppliers", offers["supplier"], offers["input"], ids),
        price=_multipliers(inst, "price", "suppliers", offers["supplier"], offers["input"], ids),
        freight_in=_multipliers(inst, "freight", "suppliers", offers["supplier"], offers["input"], ids),
        binds=binds,
    )


def check_scenarios(typed: dict[str, pd.DataFrame], settings, origins: dict[str, str], overridden: dict,
                    found: ProblemCollector) -> None:
    """Rules of the scenario tables that one column alone cannot state."""
    sc = typed["scenarios"]
    where_sc = origins.get("scenarios", "scenarios.csv")
    if len(sc) and sc["probability"].notna().all():
        total = float(sc["probability"].sum())
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            rest = 1.0 - total
            fix = (f"make them sum to 1, e.g. add a scenario 'nominal' (no effects) with probability {rest:.6g}"
                   if rest > 0 and NOMINAL not in set(sc["id"]) else "make them sum to 1")
            found.add(f"{where_sc} column probability", f"probabilities sum to {total:.6g}, not 1", fix)
    ids = set(sc["id"]) if len(sc) else {NOMINAL}
    choice = settings.local_share_scenarios
    if choice != "all" and choice not in ids:
        loc = overridden.get(("settings", "local_share_scenarios"), "instance.yaml settings.local_share_scenarios")
        found.add(loc, f"is '{choice}', which is not a scenario",
                  suggest(choice, sorted(ids) + ["all"], "give all or the id of a scenario"))
    if settings.risk_measure == "unmet" and settings.risk_limit is not None and settings.risk_limit < 0:
        loc = overridden.get(("settings", "risk_limit"), "instance.yaml settings.risk_limit")
        found.add(loc, f"is {settings.risk_limit:g}, but unmet demand cannot be negative",
                  "give a limit of 0 or more wafers per year")
    effects = typed["scenario_effects"]
    where = origins.get("scenario_effects", "scenario_effects.csv")
    table = TABLES["scenario_effects"]
    products, inputs = set(typed["products"]["id"]), set(typed["inputs"]["id"])
    for row_no, e in effects.iterrows():
        if not isinstance(e["target"], str) or not isinstance(e["by"], str) or pd.isna(e["multiplier"]):
            continue  # an invalid choice or number was reported already

        def loc(column: str, e=e, row_no=row_no) -> str:
            return f"{where} row {row_no} {key_label(table, e.to_dict())} column {column}"

        target, by, match = e["target"], e["by"], e["match"] or "*"
        if target in ("site", "supplier") and e["multiplier"] > 1:
            found.add(loc("multiplier"), f"is {e['multiplier']:g}; an availability must be in [0, 1]",
                      "give the share of capacity left in the scenario, e.g. 0.5")
        item = e["item"]
        kind = TARGET_ENTITIES[target][1]
        if kind == "product" and item in inputs:
            found.add(loc("item"), f"is '{item}', an input; a {target} effect applies to a product",
                      "give a product id or *")
        if kind == "input" and item in products:
            found.add(loc("item"), f"is '{item}', a product; a {target} effect applies to an input",
                      "give an input id or *")
        owners = TARGET_ENTITIES[target][0]
        owners = (owners,) if isinstance(owners, str) else owners
        if by == "all":
            if match != "*":
                found.add(loc("match"), f"is '{match}' but by is all", "leave match empty or write *")
            continue
        if match == "*":
            found.add(loc("match"), f"is empty but by is {by}", f"give the {by.replace('_', ' ')} to select")
            continue
        if by == "hazard_zone" and owners == ("markets",):
            found.add(loc("by"), "is hazard_zone, but markets have no hazard zones",
                      "select markets by id, country, region or all")
            continue
        if by == "country" and country_problem(match):
            continue  # not a country code: reported with the country columns
        values: set = set()
        for t in owners:
            df = typed[t]
            if by == "hazard_zone":
                if "hazard_zones" in df.columns:
                    values.update(z for zones in df["hazard_zones"] for z in zones)
            else:
                values.update(df[by])
        if match not in values:
            names = " or ".join(owners)
            found.add(loc("match"), f"'{match}' selects no row of {names} (no {by.replace('_', ' ')} '{match}')",
                      suggest(match, sorted(v for v in values if v), f"give a {by.replace('_', ' ')} of {names}"))
