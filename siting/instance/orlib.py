"""Import Beasley's OR-Library capacitated warehouse location files as instances.

The reduction (MODEL.md, last section): one product, no inputs, one module per site whose capacity
is the warehouse's capacity and whose capex is its fixed cost, customers as markets whose demand
must be met, freight from a lane table, no subsidy, no risk, and CRF = 1 (discount rate 0,
lifetime 1 year). The OR-Library cost c_ij is the cost of serving *all* of customer j's demand
from warehouse i, so the lane cost per unit is c_ij / d_j; a customer's demand may be split.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from siting.errors import InputError, Problem


def parse_orlib(text: str, capacity: float | None = None, name: str = "orlib") -> dict:
    """Parse an OR-Library capacitated warehouse file.

    Parameters
    ----------
    text
        File content: ``m n``, then m lines ``capacity fixed_cost``, then for each customer its
        demand followed by m allocation costs. Line breaks carry no meaning.
    capacity
        Capacity to use where the file holds the word ``capacity`` (capa, capb, capc).

    Returns
    -------
    dict with ``m``, ``n``, ``capacity`` (list), ``fixed`` (list), ``demand`` (list) and
    ``cost`` (n lists of m costs).
    """
    tokens = text.split()
    where = name
    try:
        m, n = int(tokens[0]), int(tokens[1])
    except (IndexError, ValueError):
        raise InputError(Problem(where, "does not start with the numbers of warehouses and customers",
                                 "give an OR-Library capacitated warehouse location file")) from None
    expected = 2 + 2 * m + n * (1 + m)
    if len(tokens) != expected:
        raise InputError(Problem(where, f"has {len(tokens)} numbers, a {m} x {n} instance needs {expected}",
                                 "check that the file is complete"))
    bad = next((t for t in tokens[2:] if t.lower() != "capacity" and not _is_number(t)), None)
    if bad is not None:
        raise InputError(Problem(where, f"holds '{bad}', which is not a number",
                                 "give an OR-Library capacitated warehouse location file"))
    pos = 2
    caps, fixed = [], []
    for i in range(m):
        cap_tok, f_tok = tokens[pos], tokens[pos + 1]
        pos += 2
        if cap_tok.lower() == "capacity":
            if capacity is None:
                raise InputError(Problem(f"{where} warehouse {i + 1}", "capacity is the word 'capacity'",
                                         "give the capacity with --capacity (capa: 8000..14000, "
                                         "capb: 5000..8000, capc: 5000..7250)"))
            caps.append(float(capacity))
        else:
            caps.append(float(cap_tok))
        fixed.append(float(f_tok))
    demand, cost = [], []
    for _ in range(n):
        demand.append(float(tokens[pos]))
        cost.append([float(tokens[pos + 1 + i]) for i in range(m)])
        pos += 1 + m
    return {"m": m, "n": n, "capacity": caps, "fixed": fixed, "demand": demand, "cost": cost}


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def import_orlib(path: Path, out: Path, capacity: float | None = None) -> Path:
    """Write the instance folder ``out`` for the OR-Library file at ``path``."""
    if not path.is_file():
        raise InputError(Problem(str(path), "no such file", "give the path of an OR-Library cap file"))
    data = parse_orlib(path.read_text(encoding="utf-8", errors="replace"), capacity, path.name)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(Problem(f"-o {out}", f"cannot write there ({exc.strerror})",
                                 "choose a folder you can write to")) from None
    m, n = data["m"], data["n"]
    src = f"OR-Library {path.name}"
    wh = [f"w{i + 1}" for i in range(m)]
    cu = [f"c{j + 1}" for j in range(n)]
    place = {"country": "XX", "region": "", "lat": 0, "lon": 0}
    pd.DataFrame({"id": wh, **place, "fixed_cost": 0, "source": src}).to_csv(out / "sites.csv", index=False)
    pd.DataFrame({"id": ["unit"], "freight_per_wafer_km": [0], "source": [src]}).to_csv(
        out / "products.csv", index=False)
    pd.DataFrame({"site": wh, "product": "unit", "wafers_per_module": data["capacity"],
                  "capex_per_module": data["fixed"], "max_modules": 1, "operating_cost_per_wafer": 0,
                  "source": src}).to_csv(out / "modules.csv", index=False, float_format="%.17g")
    pd.DataFrame({"id": cu, **place, "source": src}).to_csv(out / "markets.csv", index=False)
    pd.DataFrame({"market": cu, "product": "unit", "wafers_per_year": data["demand"], "source": src}).to_csv(
        out / "demand.csv", index=False, float_format="%.17g")
    origin, dest, unit_cost = [], [], []
    for j in range(n):
        d = data["demand"][j]
        for i in range(m):
            origin.append(wh[i])
            dest.append(cu[j])
            unit_cost.append(data["cost"][j][i] / d if d > 0 else 0.0)
    pd.DataFrame({"origin": origin, "destination": dest, "item": "unit", "cost_per_unit": unit_cost}).to_csv(
        out / "lanes.csv", index=False, float_format="%.17g")
    spec = {
        "name": path.stem if capacity is None else f"{path.stem}_{capacity:g}",
        "description": (f"OR-Library capacitated warehouse location instance {path.name} "
                        f"({m} warehouses x {n} customers) by the reduction of MODEL.md: one product, "
                        "one module per site (capacity and fixed cost of the warehouse), lanes carry "
                        "c_ij / d_j per unit, demand must be met, CRF = 1."),
        "settings": {"currency": "USD", "money_unit": "one", "discount_rate": 0.0, "lifetime_years": 1},
        "tables": {t: f"{t}.csv" for t in ("sites", "products", "modules", "markets", "demand", "lanes")},
        "sources": [{"id": src, "title": "J.E. Beasley, OR-Library, capacitated warehouse location",
                     "note": "Beasley, EJOR 33 (1988)"}],
    }
    (out / "instance.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return out
