"""The most a site could carry: the bounds the model's rows are written with instead of a blind big-M.

Arithmetic on the derived tables only (no Pyomo), so that the model's modules read them as data:
the largest capex a site could carry (a grant's cap at its rate), the most wafers it could make (a
production subsidy's cap, a utilisation condition) and the most it could spend on inputs that
count for local share (a local-share condition).
"""

from __future__ import annotations

import numpy as np

from siting.instance.derive import Derived


def max_capex(d: Derived, j: int) -> float:
    """Largest capex site row j could carry: F[s] + sum_p C[s,p] N[s,p]."""
    site = d.sites.at[j, "site"]
    rows = d.modules["site"].values == site
    return float(d.sites.at[j, "fixed_cost"]
                 + np.sum(d.modules["capex_per_module"].values[rows] * d.modules["max_modules"].values[rows]))


def module_rows(d: Derived, site: str, product: str = "") -> np.ndarray:
    """Rows of ``d.modules`` at ``site`` (of ``product``; empty: of every product)."""
    rows = d.modules["site"].values == site
    if product:
        rows &= d.modules["product"].values == product
    return np.flatnonzero(rows)


def most_output(d: Derived, site: str, product: str = "") -> float:
    """Most wafers a year site could make (of ``product``; empty: of every product)."""
    k = module_rows(d, site, product)
    return float(np.sum(d.modules["wafers_per_module"].values[k] * d.modules["max_modules"].values[k]))


def most_counted_spend(d: Derived, site: str, w: str, period: str | None = None) -> float:
    """Most a site could spend a year on inputs that count for local share in scenario w (and
    ``period``, on a phased instance).

    Each counted input's largest need at the site times the highest price any arc offers it there.
    """
    arcs = d.arcs
    rows = (arcs["site"].values == site) & (arcs["scenario"].values == w) & arcs["counts"].values
    at = (d.needs["site"] == site) & (d.needs["scenario"] == w)
    if period is not None and len(d.periods) > 1:
        rows &= arcs["period"].values == period
        at &= d.needs["period"] == period
    if not rows.any():
        return 0.0
    price = arcs.loc[rows].groupby("input")["price"].max()
    needs = d.needs[at].groupby("input")["most"].sum()
    return float((price * needs.reindex(price.index).fillna(0.0)).sum())
