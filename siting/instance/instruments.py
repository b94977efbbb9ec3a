"""Subsidy instruments as the model sees them: one row per instrument and site it is offered at.

An instrument tied to a country or a region is offered at every candidate site there, each site
with its own payout and cap (a program budget limits the total). Every kind is brought to the
same form: ``payout`` is what the government pays (or, for a loan, gives) at one site in total,
undiscounted, and ``factor`` turns it into the equivalent annual amount the objective counts
(:mod:`siting.instance.finance`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siting.instance.finance import crf, grant_element, spread_factor

#: Kinds whose payout is a share of the site's capex.
CAPEX_SHARE = ("capex_grant", "tax_credit", "concessional_loan")

COLUMNS = ["id", "period", "kind", "site", "provider_country", "rate", "cap", "amount", "per_wafer_total", "product",
           "years", "factor", "grant_element", "min_local_share", "min_utilisation", "conditional", "program", "paid",
           "condition_years", "repay_share"]


def _num(x) -> float:
    return np.nan if x is None or pd.isna(x) else float(x)


def derive_instruments(instruments: pd.DataFrame, sites: pd.DataFrame, per_unit: float) -> pd.DataFrame:
    """One row per (instrument, site), with the terms in the model's form.

    Parameters
    ----------
    instruments
        The checked ``instruments`` table.
    sites
        Derived sites with ``site, country, region, discount_rate, lifetime_years``.
    per_unit
        Money units per currency unit (per-wafer amounts are quoted in currency).

    Returns
    -------
    DataFrame
        ``rate``: share of capex payable (for a loan, the share lent times its grant element);
        ``cap``: most payout at the site (for a loan, the cap on principal times the grant
        element; NaN: none); ``amount``: a lump sum; ``per_wafer_total``: payout per wafer a year
        of output over the subsidy's years (money unit); ``years``: those years (at most the
        lifetime); ``factor``: annual equivalent of one unit of payout (for ``paid = spread``, of
        one unit paid in ``paid_years`` yearly instalments); ``conditional``: whether
        the firm decides to take it up (it has a local-share or utilisation condition).
    """
    rows = []
    by_id = sites.set_index("site")
    for _, g in instruments.iterrows():
        if isinstance(g["site"], str) and g["site"]:
            at = [g["site"]]
        elif g["country"]:
            at = list(sites.loc[sites["country"] == g["country"], "site"])
        else:
            at = list(sites.loc[sites["region"] == g["region"], "site"])
        for s in at:
            r, life = float(by_id.at[s, "discount_rate"]), float(by_id.at[s, "lifetime_years"])
            kind = g["kind"]
            years = life if np.isnan(_num(g["years"])) else min(float(g["years"]), life)
            rate, cap, ge = _num(g["rate"]), _num(g["cap"]), np.nan
            factor = crf(r, life)
            if kind == "concessional_loan":
                term = life if np.isnan(_num(g["years"])) else float(g["years"])
                ge = grant_element(float(g["loan_rate"]), r, term)
                rate, cap = g["loan_share"] * ge, cap * ge
            paid = g["paid"] if isinstance(g.get("paid"), str) and g["paid"] else "on_order"
            if paid == "spread" and kind != "production_subsidy":
                # N equal yearly instalments, the first at the end of the year of order: worth
                # (1 / N) / CRF(r, N) of the payout then, annualised like capital over the life
                n = float(g["paid_years"])
                factor = factor / (crf(r, n) * n)
            per_wafer_total = np.nan
            if kind == "production_subsidy":
                per_wafer_total = float(g["per_wafer"]) * per_unit * years
                factor = spread_factor(r, life, years)
            theta, kappa = _num(g["min_local_share"]), _num(g["min_utilisation"])
            rows.append({
                "id": g["id"], "period": g["period"], "kind": kind, "site": s,
                "provider_country": g["provider_country"] or by_id.at[s, "country"],
                "rate": rate, "cap": cap, "amount": _num(g["amount"]), "per_wafer_total": per_wafer_total,
                "product": g["product"] if isinstance(g["product"], str) else "", "years": years,
                "factor": factor, "grant_element": ge, "min_local_share": theta, "min_utilisation": kappa,
                "conditional": not (np.isnan(theta) and np.isnan(kappa)),
                "program": g["program"] if isinstance(g["program"], str) else "",
                "paid": paid,
                "condition_years": _num(g.get("condition_years")),
                "repay_share": _num(g.get("repay_share")),
            })
    out = pd.DataFrame(rows, columns=COLUMNS)
    floats = ["rate", "cap", "amount", "per_wafer_total", "years", "factor", "grant_element", "min_local_share",
              "min_utilisation", "condition_years", "repay_share"]
    return out.astype({c: float for c in floats} | {"conditional": bool})
