"""Column headers a planner reads: words with units instead of the CSV files' column names.

The CSV files keep their names (units in the name, one convention for every table); the report
shows the same columns as ``capacity (wafers/yr)`` or ``subsidy (USD million)``, and shares as
percentages (:data:`PERCENT`).
"""

from __future__ import annotations

#: Columns holding a share (0.6 means 60%); the report shows them as percentages.
PERCENT = frozenset({"utilisation", "local_share", "local_target", "share", "target", "achieved", "probability",
                     "mip_gap", "gap_to_optimum"})

#: Headers in words; ``{m}`` is the money unit (e.g. ``USD million``), ``{c}`` the currency.
LABELS = {
    "capacity_wafers_per_year": "capacity (wafers/yr)",
    "production_wafers_per_year": "production (wafers/yr)",
    "demand_wafers_per_year": "demand (wafers/yr)",
    "unmet_wafers_per_year": "unmet (wafers/yr)",
    "utilisation": "utilisation",
    "local_share": "local share",
    "local_target": "local-share target",
    "capex_total": "capex ({m})",
    "subsidy_total": "subsidy ({m})",
    "subsidy_per_year": "subsidy ({m}/yr)",
    "max_modules": "most modules",
    "provider_country": "paid by",
    "payout_total": "payout ({m})",
    "payout_per_year": "payout ({m}/yr)",
    "loan_principal_total": "loan principal ({m})",
    "start_year": "start year",
    "site_open": "site open",
    "modules_ordered": "modules ordered in the period",
    "modules": "modules",
    "discount_weight": "discount weight (years)",
    "inputs_counted": "inputs counted",
    "local_spend_per_year": "local purchases ({m}/yr)",
    "total_spend_per_year": "all purchases ({m}/yr)",
    "cost_per_year": "cost ({m}/yr)",
    "cash_flow": "cash flow ({m})",
    "discounted": "present value ({m})",
    "value": "marginal value",
    "more": "one unit more",
    "less": "one unit less",
    "constraint": "limit",
    "penalty_per_year": "penalty ({m}/yr)",
    "units_per_year": "units/yr",
}


def header(column: str, money: str) -> str:
    """The report's header of ``column``: its words and unit (``money``: the money unit)."""
    if column in LABELS:
        return LABELS[column].format(m=money)
    for suffix, unit in (("_cash_flow", " cash flow ({m})"), ("_discounted", " present value ({m})"),
                         ("_per_year", " ({m}/yr)")):
        if column.endswith(suffix):
            return column[: -len(suffix)].replace("_", " ") + unit.format(m=money)
    return column.replace("_", " ")
