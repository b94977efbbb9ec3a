"""Import SIPLIB's stochastic server location (SSLP) instances as siting instances.

An SSLP folder holds ``ScenarioN.dat`` files (Pyomo data: ``NumServers``, ``NumClients``,
``Capacity`` u, ``FixedCost[j]``, ``Revenue[i,j]``, ``Demand[i,j]``, ``ClientPresent[i]``) and a
``ScenarioStructure.dat`` with each scenario's probability. The problem: open servers x_j before
the scenario is known; then assign every present client to servers (y_ij, here continuous in
[0, 1]), with sum_i d_ij y_ij - z_j <= u x_j and the overflow z_j charged q0 (1000 by default);
minimise sum_j c_j x_j + E[- sum_ij q_ij y_ij + q0 sum_j z_j].

The reduction: servers are sites (one module that can serve every client, no capex, the fixed
cost c_j); one product ``service``; clients are markets demanding one unit that must be met, with
a scenario effect of 0 on the demand of each client absent from a scenario; each server's capacity
is a site resource of limit u, drawn d_ij by a unit served to client i (``resource_use`` by
market), with unbounded extra supply at q0 a unit (the overflow). Revenue enters as a serving cost
shifted to stay non-negative, Q - q_ij on the lane from server j to client i (Q the largest
revenue), and a production subsidy of Q per unit served at every server takes the shift back,
so that the objective is the SSLP objective itself. Discount rate 0 and a 1-year lifetime make
every annualisation 1. Places are placeholders (country XX at 0, 0): distances carry no cost.

In SSLP a client may also be assigned to a server without capacity for it, a closed one
included, every unit of its demand there an overflow: client i served that way from server j costs
q0 d_ij - q_ij. A site here produces only when open, so one more site, ``overflow``, always open
at no cost, serves any client at the cheapest such cost, Q + min_j (q0 d_ij - q_ij) on its lane.
An open server's own overflow (the resource's extra supply) costs the same, so the continuous
second stage is SSLP's exactly, and the objective is SSLP's with a continuous assignment.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import yaml

from siting.errors import InputError, Problem

#: The always-open site that serves a client as an overflow at a server without capacity for it.
OVERFLOW = "overflow"
#: The overflow penalty per unit of capacity beyond a server's (a parameter default of the SSLP model).
OVERFLOW_PENALTY = 1000.0
_PARAM = re.compile(r"param\s+(\w+)\s*(:(?!=))?(.*?):=(.*?);", re.S)


def parse_dat(text: str, where: str) -> dict:
    """The ``param`` statements of a Pyomo ``.dat`` file: a scalar, a list of key-value pairs, or
    a matrix (``param Name: col col := row v v ... ;``), as a number, a dict, or a dict of
    (row, column) -> value."""
    out: dict = {}
    for name, colon, head, body in _PARAM.findall(text):
        try:
            tokens = body.split()
            if colon:  # a matrix: the column labels before ':='
                cols = head.split()
                width = len(cols) + 1
                if len(tokens) % width:
                    raise ValueError
                out[name] = {(tokens[k], cols[c]): float(tokens[k + 1 + c])
                             for k in range(0, len(tokens), width) for c in range(len(cols))}
            elif len(tokens) == 1:
                out[name] = float(tokens[0])
            else:
                if len(tokens) % 2:
                    raise ValueError
                out[name] = {tokens[k]: tokens[k + 1] for k in range(0, len(tokens), 2)}
        except ValueError:
            raise InputError(Problem(f"{where} param {name}", "cannot be read as numbers",
                                     "give an SSLP .dat file as SIPLIB and mpi-sppy distribute it")) from None
    return out


def _scenario_files(folder: Path) -> tuple[Path, list[Path]]:
    data = folder / "scenariodata" if (folder / "scenariodata").is_dir() else folder
    files = sorted(data.glob("Scenario*.dat"), key=lambda p: (len(p.stem), p.stem))
    files = [f for f in files if f.stem != "ScenarioStructure"]
    if not files:
        raise InputError(Problem(str(folder), "holds no ScenarioN.dat files",
                                 "give an SSLP folder (its scenariodata/ or the folder above it)"))
    return data, files


def _probabilities(data: Path, names: list[str]) -> list[float]:
    """Each scenario's probability from ScenarioStructure.dat (equal when the file is absent)."""
    path = data / "ScenarioStructure.dat"
    if not path.is_file():
        return [1.0 / len(names)] * len(names)
    text = path.read_text(encoding="utf-8", errors="replace")
    cond = parse_dat(text, path.name).get("ConditionalProbability", {})
    leaf = parse_dat(text, path.name).get("ScenarioLeafNode", {})
    try:
        return [float(cond[leaf[n]]) for n in names]
    except (KeyError, ValueError):
        raise InputError(Problem(path.name, "does not give every scenario's probability",
                                 "give ConditionalProbability and ScenarioLeafNode for every scenario")) from None


def read_sslp(folder: Path) -> dict:
    """Read an SSLP folder: servers, clients, capacity, fixed costs, revenue and demand (from
    the first scenario; they are the same in every one), and per scenario its probability and the
    clients present."""
    data, files = _scenario_files(folder)
    names = [f.stem for f in files]
    first = None
    present = []
    for f in files:
        p = parse_dat(f.read_text(encoding="utf-8", errors="replace"), f.name)
        missing = [k for k in ("NumServers", "NumClients", "Capacity", "FixedCost", "Revenue", "Demand",
                               "ClientPresent") if k not in p]
        if missing:
            raise InputError(Problem(f.name, f"has no param {missing[0]}",
                                     "give an SSLP .dat file as SIPLIB and mpi-sppy distribute it"))
        if first is None:
            first = p
        present.append({c for c, v in p["ClientPresent"].items() if float(v) > 0.5})
    assert first is not None
    n_s, n_c = int(first["NumServers"]), int(first["NumClients"])
    return {"servers": [str(j) for j in range(1, n_s + 1)], "clients": [str(i) for i in range(1, n_c + 1)],
            "capacity": float(first["Capacity"]), "fixed": {j: float(v) for j, v in first["FixedCost"].items()},
            "revenue": first["Revenue"], "demand": first["Demand"], "scenarios": names,
            "probability": _probabilities(data, names), "present": present}


def import_sslp(folder: Path, out: Path, penalty: float = OVERFLOW_PENALTY) -> Path:
    """Write the instance folder ``out`` for the SSLP folder ``folder`` (see the module's text)."""
    if not folder.is_dir():
        raise InputError(Problem(str(folder), "no such folder", "give an SSLP folder, e.g. sslp_5_25_50"))
    d = read_sslp(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(f"-o {out}", f"cannot write there ({exc.strerror})",
                                 "choose a folder you can write to")) from None
    src = f"SIPLIB {folder.name}"
    servers = [f"s{j}" for j in d["servers"]]
    clients = [f"c{i}" for i in d["clients"]]
    place = {"country": "XX", "region": "", "lat": 0, "lon": 0}
    top = max(d["revenue"].values())

    def csv(name: str, frame: pd.DataFrame) -> None:
        frame.to_csv(out / f"{name}.csv", index=False, float_format="%.17g")

    csv("sites", pd.DataFrame({"id": [*servers, OVERFLOW], **place,
                               "fixed_cost": [*(d["fixed"][j] for j in d["servers"]), 0.0],
                               "status": [*([""] * len(servers)), "open"],
                               "source": [*([src] * len(servers)), "overflow at a server without capacity for it"]}))
    csv("products", pd.DataFrame({"id": ["service"], "source": [src]}))
    csv("modules", pd.DataFrame({"site": [*servers, OVERFLOW], "product": "service",
                                 "wafers_per_module": float(len(clients)), "capex_per_module": 0.0, "max_modules": 1,
                                 "source": src}))
    csv("markets", pd.DataFrame({"id": clients, **place, "source": src}))
    csv("demand", pd.DataFrame({"market": clients, "product": "service", "wafers_per_year": 1.0, "source": src}))
    pairs = [(i, j) for j in d["servers"] for i in d["clients"]]
    overflow = [top + min(penalty * d["demand"][i, j] - d["revenue"][i, j] for j in d["servers"])
                for i in d["clients"]]
    csv("lanes", pd.DataFrame({
        "origin": [*(f"s{j}" for i, j in pairs), *([OVERFLOW] * len(clients))],
        "destination": [*(f"c{i}" for i, j in pairs), *clients], "item": "service",
        "cost_per_unit": [*(top - d["revenue"][i, j] for i, j in pairs), *overflow],
        "source": [*([f"{src}: {top:g} - revenue"] * len(pairs)),
                   *([f"{src}: {top:g} + the least overflow cost {penalty:g} x demand - revenue"] * len(clients))]}))
    csv("resources", pd.DataFrame({"id": [f"{s}-capacity" for s in servers], "site": servers, "kind": "capacity",
                                   "limit": d["capacity"], "extra_cost": penalty,
                                   "source": f"{src}: capacity, overflow at {penalty:g} a unit"}))
    use = [(i, j) for i, j in pairs if d["demand"][i, j] > 0]
    csv("resource_use", pd.DataFrame({"resource": [f"s{j}-capacity" for i, j in use], "product": "service",
                                      "market": [f"c{i}" for i, j in use],
                                      "per_wafer": [d["demand"][i, j] for i, j in use], "source": src}))
    csv("instruments", pd.DataFrame({"id": ["revenue-shift"], "kind": ["production_subsidy"], "country": ["XX"],
                                     "per_wafer": [top],
                                     "source": [f"the constant {top:g} per client served, taken back from the lanes"]}))
    csv("scenarios", pd.DataFrame({"id": d["scenarios"], "probability": d["probability"], "source": src}))
    absent = [(w, f"c{i}") for w, here in zip(d["scenarios"], d["present"]) for i in d["clients"] if i not in here]
    csv("scenario_effects", pd.DataFrame({"scenario": [w for w, _ in absent], "target": "demand", "by": "id",
                                          "match": [c for _, c in absent], "multiplier": 0.0,
                                          "source": f"{src}: client absent"}))
    tables = ("sites", "products", "modules", "markets", "demand", "lanes", "resources", "resource_use",
              "instruments", "scenarios", "scenario_effects")
    spec = {
        "name": folder.name,
        "description": (f"SIPLIB stochastic server location instance {folder.name} ({len(servers)} servers, "
                        f"{len(clients)} clients, {len(d['scenarios'])} scenarios) with a continuous assignment: "
                        "servers as sites, clients as markets present per scenario, server capacity as a site "
                        f"resource with overflow at {penalty:g}, revenue as the serving cost {top:g} - q_ij with "
                        f"the constant {top:g} per client served paid back, so the objective is SSLP's."),
        "settings": {"currency": "USD", "money_unit": "one", "discount_rate": 0.0, "lifetime_years": 1},
        "tables": {t: f"{t}.csv" for t in tables},
        "sources": [{"id": src, "title": "SIPLIB stochastic server location (S. Ahmed)",
                     "note": "Ntaimo and Sen, J. Global Optimization 32 (2005)"}],
    }
    (out / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return out
