"""The figures every analysis row repeats, read from a solved run's results in one place.

A sweep's case, a compared package, a frontier point, a breakeven solve, an explanation and a
run's ``summary.json`` all report the same few things about a plan: which sites it opens (its
label), what governments pay out, the capacity built in the policy country and its local share,
and the outlay per wafer of that capacity. :func:`plan_figures` reads them once from the result
tables; the analyses take them from here rather than each reading (and spelling) them anew.

A plan's label is made only by :func:`plan_label`. Each output keeps the spelling its readers
know (a sweep's ``sites_open`` joins ids with ``+``, a comparison lists each site with its
capacity), and :func:`sites_in_label` is its inverse for a label read back from a file, so no
analysis parses a label it made itself.

Money is in the instance's money unit; ``_per_year`` is annualised like every cost, ``_total``
undiscounted; capacity is in 300 mm-equivalent wafers a year.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from siting.report.extract import Results


@dataclass(frozen=True)
class Outlay:
    """What governments pay out under a plan.

    Attributes
    ----------
    per_year
        Payouts, annualised like every cost (money unit a year).
    total
        Payouts, undiscounted (money unit).
    loan_principal_total
        Principal lent by concessional loans (repaid; their grant element counts in the payouts).
    """

    per_year: float
    total: float
    loan_principal_total: float


@dataclass(frozen=True)
class PlanFigures:
    """The figures of one solved plan that every analysis row repeats.

    The per-site sequences are aligned with the sites table (``site``, ``country``, ``open``,
    ``capacity``, ``local_share``), the others with the subsidies table (``provider``,
    ``payout_per_year``, ``payout_total``, ``loan_principal_total``). Build one with
    :func:`plan_figures`. Sums are numpy's over the table's order, as a pandas column sum is, so
    a figure is the same to the last digit whichever analysis reports it.
    """

    site: tuple[str, ...]
    country: tuple[str, ...]
    open: np.ndarray
    capacity: np.ndarray
    local_share: np.ndarray
    provider: np.ndarray
    payout_per_year: np.ndarray
    payout_total: np.ndarray
    loan_principal_total: np.ndarray

    @property
    def opened(self) -> list[tuple[str, float]]:
        """(site, capacity in wafers a year) of every open site, in the order of the sites table."""
        return [(s, float(c)) for s, c, o in zip(self.site, self.capacity, self.open) if o]

    def label(self, sep: str = "+", none: str = "none", unit: str | None = None) -> str:
        """The plan's label: see :func:`plan_label`."""
        return plan_label(self.opened, sep, none, unit)

    def outlay(self, country: str | None = None) -> Outlay:
        """Payouts of the instruments ``country`` provides (every instrument when it is None or "")."""
        # NaN counts as nothing, as in a pandas column sum: a loan's principal is NaN on other rows
        mine = self.provider == country if country else slice(None)
        return Outlay(float(np.nansum(self.payout_per_year[mine])), float(np.nansum(self.payout_total[mine])),
                      float(np.nansum(self.loan_principal_total[mine])))

    def _home(self, country: str) -> np.ndarray:
        return self.open & np.array([k == country for k in self.country], dtype=bool)

    def domestic_capacity(self, country: str | None) -> float:
        """Capacity built at the open sites in ``country`` (NaN without a policy country)."""
        return float(self.capacity[self._home(country)].sum()) if country else math.nan

    def domestic_local_share(self, country: str | None) -> float:
        """Local share at the open sites in ``country``, weighted by their capacity (NaN where they
        have none, or without a policy country)."""
        if not country:
            return math.nan
        home = self._home(country)
        share = self.local_share[home]
        weights = np.where(np.isnan(share), 0.0, self.capacity[home])
        total = weights.sum()
        return float((np.nan_to_num(share, nan=0.0) * weights).sum() / total) if total > 0 else math.nan

    def outlay_per_domestic_wafer(self, country: str | None, money_multiplier: float) -> float:
        """Outlay a year of ``country`` per wafer a year of capacity built there, in the currency
        (the money unit times ``money_multiplier``); NaN where nothing is built there."""
        return per_unit(self.outlay(country).per_year * money_multiplier, self.domestic_capacity(country))

    def site_columns(self, *prefixes: str) -> dict[str, float | int]:
        """Per-site columns ``open_<site>``, ``capacity_<site>`` and ``local_share_<site>`` (those
        named by ``prefixes``, in their order; all three without), as a sweep's rows carry them."""
        values = {"open": [int(o) for o in self.open.tolist()], "capacity": self.capacity.tolist(),
                  "local_share": self.local_share.tolist()}
        row: dict[str, float | int] = {}
        for prefix in prefixes or ("open", "capacity", "local_share"):
            row.update({f"{prefix}_{s}": v for s, v in zip(self.site, values[prefix])})
        return row


def plan_figures(results: Results) -> PlanFigures:
    """Read the figures of a solved plan from its result tables (``sites`` and ``subsidies``).

    Parameters
    ----------
    results
        A run's :class:`~siting.report.extract.Results`.

    Returns
    -------
    PlanFigures
        Every column read once: a sweep does this for each of its cases.
    """
    t, subs = results.tables["sites"], results.tables["subsidies"]
    return PlanFigures(
        site=tuple(t["site"].tolist()), country=tuple(t["country"].tolist()),
        open=t["open"].to_numpy(dtype=bool), capacity=t["capacity_wafers_per_year"].to_numpy(dtype=float),
        local_share=t["local_share"].to_numpy(dtype=float), provider=subs["provider_country"].to_numpy(dtype=object),
        payout_per_year=subs["payout_per_year"].to_numpy(dtype=float),
        payout_total=subs["payout_total"].to_numpy(dtype=float),
        loan_principal_total=subs["loan_principal_total"].to_numpy(dtype=float))


def plan_label(opened: Iterable[tuple[str, float]], sep: str = "+", none: str = "none",
               unit: str | None = None) -> str:
    """A plan's label: its open sites joined by ``sep``, ``none`` when it opens nothing.

    Parameters
    ----------
    opened
        (site, capacity in wafers a year) of each open site, in the order of the sites table.
    sep
        What joins the sites.
    none
        The label of a plan that opens no site.
    unit
        None: site ids only; otherwise each site followed by its capacity in brackets, rounded to
        a whole wafer and followed by ``unit`` ("" for the number alone).

    Returns
    -------
    str
        E.g. ``a+b``, or ``a (1,200 wafers/yr), b (800 wafers/yr)``.

    Examples
    --------
    >>> plan_label([("kumamoto", 1200.0), ("chitose", 800.4)])
    'kumamoto+chitose'
    >>> plan_label([("kumamoto", 1200.0)], sep="; ", unit="")
    'kumamoto (1,200)'
    >>> plan_label([], sep=" + ", none="nothing open")
    'nothing open'
    """
    if unit is None:
        parts = [s for s, _ in opened]
    else:
        parts = [f"{s} ({c:,.0f}{' ' + unit if unit else ''})" for s, c in opened]
    return sep.join(parts) or none


def sites_in_label(text: str, sep: str = "+", none: str = "none") -> list[str]:
    """The site ids of a label :func:`plan_label` made without capacities (e.g. read from a file).

    Examples
    --------
    >>> sites_in_label("kumamoto+chitose")
    ['kumamoto', 'chitose']
    >>> sites_in_label("none")
    []
    """
    text = text.strip()
    return [] if text in (none, "") else [s.strip() for s in text.split(sep)]


def per_unit(amount: float, quantity: float) -> float:
    """``amount`` per unit of ``quantity``; NaN where the quantity is zero, tiny or NaN.

    Examples
    --------
    >>> per_unit(10.0, 4.0)
    2.5
    >>> per_unit(10.0, 0.0)
    nan
    """
    return amount / quantity if quantity and not math.isnan(quantity) and abs(quantity) > 1e-12 else math.nan
