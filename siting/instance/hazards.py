"""Scenarios generated from independent hazards: every joint combination, or a seeded sample.

A ``hazards`` table names independent hazards, each with the chance that it strikes in a year of
operation (or within a span of years, turned into a chance per year); ``hazard_effects`` says what
each does when it strikes, in the form of ``scenario_effects`` rows. From them this module builds
the ``scenarios`` and ``scenario_effects`` tables the rest of the pipeline reads, so that every
solve, analysis and engine sees one scenario set, written to the results for reproduction.

A scenario is a set of hazards that strike together; its id joins their ids with ``__`` in the
order of the hazards table (``nominal`` when none strikes). Either

* **joint**: every combination of the hazards, with probability prod p_h x prod (1 - p_h) over the
  hazards that strike and those that do not (combinations of probability 0 are left out); or
* **sample** (``settings.scenario_sample`` = N, ``scenario_seed`` = K): N independent draws of
  every hazard; draws that strike the same hazards are one scenario with probability count / N.
  The same N and K always draw the same scenarios (numpy's PCG64 generator).

Plain numpy and pandas, no Pyomo.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from siting.errors import ProblemCollector
from siting.instance.scenarios import NOMINAL, check_effects
from siting.instance.schema import TABLES

#: Most joint combinations enumerated; beyond it, the scenarios are sampled (12 hazards).
MAX_JOINT = 4096
#: What joins the ids of hazards that strike together into a scenario id (a valid id itself, so the
#: generated tables can be read back as an instance's scenarios).
JOIN = "__"
EFFECT_KEY = ("target", "by", "match", "item")


def per_year(probability: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The chance per year of a hazard given as ``probability`` within ``years`` years,
    assuming the same independent chance every year: 1 - (1 - p)^(1/years)."""
    return 1.0 - (1.0 - probability) ** (1.0 / years)


def scenario_id(hazards: list[str], strikes) -> str:
    """The id of the scenario in which the hazards flagged in ``strikes`` strike."""
    hit = [h for h, s in zip(hazards, strikes) if s]
    return JOIN.join(hit) if hit else NOMINAL


def joint_outcomes(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every combination of ``len(p)`` independent hazards, nominal first: a boolean matrix
    (combination x hazard) and each combination's probability; combinations of probability 0 are
    left out."""
    combos = np.array(list(itertools.product((False, True), repeat=len(p))), dtype=bool).reshape(-1, len(p))
    combos = combos[:, ::-1]  # the first hazard varies fastest: nominal, h1, h2, h1+h2, ...
    prob = np.where(combos, p, 1.0 - p).prod(axis=1)
    keep = prob > 0
    return combos[keep], prob[keep]


def sampled_outcomes(p: np.ndarray, draws: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``draws`` seeded draws of independent hazards, identical outcomes merged: a boolean
    matrix (distinct outcome x hazard), in the order of the joint enumeration, and each
    outcome's share of the draws."""
    rng = np.random.default_rng(seed)
    hits = rng.random((draws, len(p))) < p
    # rows sorted with the last hazard most significant: the order of the joint enumeration
    rows, counts = np.unique(hits[:, ::-1], axis=0, return_counts=True)
    return rows[:, ::-1], counts / draws


def _problems(typed: dict[str, pd.DataFrame], settings, origins: dict[str, str], overridden: dict,
              found: ProblemCollector) -> bool:
    """Rules of the hazard tables; True if the scenarios can be generated."""
    hz = typed["hazards"]
    where = origins.get("hazards", "hazards.csv")
    sample_loc = overridden.get(("settings", "scenario_sample"), "instance.yaml settings.scenario_sample")
    if hz.empty:
        if settings.scenario_sample is not None:
            found.add(sample_loc, f"is {settings.scenario_sample}, but the instance has no hazards table to sample",
                      "add hazards.csv and hazard_effects.csv, or leave the sample out")
        return False
    for other in ("scenarios", "scenario_effects"):
        if len(typed[other]):
            found.add(where, f"is given together with {origins.get(other, other + '.csv')}",
                      "give either hazards (the scenarios are generated from them) or scenarios, not both")
    ids = [str(h) for h in hz["id"]]
    for row_no, h in zip(hz.index, ids):
        if h == NOMINAL:
            found.add(f"{where} row {row_no} (id={h}) column id", f"is '{NOMINAL}', the name of the scenario in "
                      "which no hazard strikes", "give the hazard another id")
        elif JOIN in h:
            found.add(f"{where} row {row_no} (id={h}) column id", f"contains '{JOIN}', which joins the hazards of a "
                      "generated scenario", f"give the hazard an id without '{JOIN}'")
    if settings.scenario_sample is None and 2 ** len(hz) > MAX_JOINT:
        found.add(where, f"has {len(hz)} hazards, which combine into {2 ** len(hz)} joint scenarios "
                  f"(more than {MAX_JOINT})", "sample them: --scenarios N (settings.scenario_sample)")
    check_effects(typed, "hazard_effects", origins, found)
    # any problem so far (an effect naming no hazard, a bad probability) leaves the scenarios ungenerated
    return not found.problems


def hazard_scenarios(typed: dict[str, pd.DataFrame], settings, origins: dict[str, str], overridden: dict,
                     found: ProblemCollector) -> dict[str, pd.DataFrame]:
    """The ``scenarios`` and ``scenario_effects`` tables generated from the hazards (empty
    without a hazards table, or when a problem was found, which is recorded in ``found``).

    Parameters
    ----------
    typed
        The typed tables of the instance.
    settings
        The instance's settings: ``scenario_sample`` (None: every joint combination) and
        ``scenario_seed``.
    origins, overridden
        Where tables and overridden values come from, for the messages.
    found
        Collects the problems.
    """
    if not _problems(typed, settings, origins, overridden, found):
        return {}
    hz = typed["hazards"]
    ids = [str(h) for h in hz["id"]]
    p = per_year(hz["probability"].to_numpy(dtype=float), hz["years"].to_numpy(dtype=float))
    if settings.scenario_sample is None:
        outcomes, prob = joint_outcomes(p)
        how = "every joint combination of the hazards"
        counts = None
    else:
        n, seed = settings.scenario_sample, settings.scenario_seed
        outcomes, prob = sampled_outcomes(p, n, seed)
        how = f"a sample of {n} draws of the hazards, seed {seed}"
        counts = np.rint(prob * n).astype(int)
    names = dict(zip(ids, hz["name"]))
    effects = typed["hazard_effects"]
    # each hazard's effect rows once, as plain tuples: thousands of scenarios reuse them
    rows_of: dict = {h: [] for h in ids}
    for h, *key, mult in zip(effects["hazard"], *(effects[c] for c in EFFECT_KEY), effects["multiplier"]):
        rows_of.setdefault(h, []).append((tuple(key), float(mult)))
    columns: dict = {c: [] for c in TABLES["scenario_effects"].names}
    scen_rows = []
    for k, strikes in enumerate(outcomes):
        sid = scenario_id(ids, strikes)
        hit = [h for h, s in zip(ids, strikes) if s]
        what = " and ".join(names[h] or h for h in hit) if hit else "no hazard strikes"
        if counts is not None:
            what += f" ({counts[k]} of {settings.scenario_sample} draws)"
        scen_rows.append({"id": sid, "name": "", "probability": float(prob[k]), "description": what,
                          "source": f"generated from hazards: {how}"})
        # rows of several hazards that hit the same value multiply, as in scenario_effects
        merged: dict = {}
        for h in hit:
            for key, mult in rows_of[h]:
                entry = merged.setdefault(key, [1.0, []])
                entry[0] *= mult
                entry[1].append(h)
        for key, (mult, by) in merged.items():
            columns["scenario"].append(sid)
            for c, v in zip(EFFECT_KEY, key):
                columns[c].append(v)
            columns["multiplier"].append(mult)
            columns["source"].append("hazards: " + ", ".join(by))
    scenarios = pd.DataFrame(scen_rows, columns=TABLES["scenarios"].names)
    scenario_effects = pd.DataFrame(columns)
    # typed tables are indexed by spreadsheet row (header on row 1)
    scenarios.index = pd.RangeIndex(2, 2 + len(scenarios))
    scenario_effects.index = pd.RangeIndex(2, 2 + len(scenario_effects))
    return {"scenarios": scenarios, "scenario_effects": scenario_effects}


def scenario_set(inst) -> dict | None:
    """How the scenarios of ``inst`` were generated (for ``summary.json``), or None when they
    were given as a table."""
    hz = inst["hazards"]
    if hz.empty:
        return None
    st = inst.settings
    out = {"hazards": [str(h) for h in hz["id"]], "scenarios": int(len(inst["scenarios"]))}
    if st.scenario_sample is None:
        out["method"] = "joint"
    else:
        out.update(method="sample", draws=st.scenario_sample, seed=st.scenario_seed)
    return out
