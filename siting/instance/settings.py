"""Instance-wide settings and the top level of ``instance.yaml``, as validated, frozen models."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

MONEY_UNITS = {"one": 1.0, "thousand": 1e3, "million": 1e6, "billion": 1e9}


class Settings(BaseModel):
    """Settings that apply to the whole instance.

    Every field can be changed from the command line with ``--set settings.FIELD=VALUE``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = Field("USD", description="Currency of every amount, e.g. USD, JPY.")
    money_unit: Literal["one", "thousand", "million", "billion"] = Field(
        "million", description="Size of capital amounts and of every result: USD million by default."
    )
    discount_rate: float = Field(0.08, ge=0, lt=1, description="Discount rate r per year.")
    lifetime_years: float = Field(10, ge=1, le=100, description="Economic lifetime L of capital.")
    unmet_penalty_per_wafer: float | None = Field(
        None, ge=0,
        description="Cost per wafer of demand left unmet (currency per wafer); empty: demand must be met.",
    )
    local_rule: Literal["country", "region", "radius"] = Field(
        "country", description="What 'local to a site' means: same country, same region, or a radius."
    )
    local_radius_km: float | None = Field(None, gt=0, description="Radius for local_rule=radius, km.")
    firm_budget: float | None = Field(
        None, ge=0, description="Most total capex (fixed costs + modules) the firm may spend, money unit."
    )
    max_supplier_share: float | None = Field(
        None, gt=0, le=1, description="Default largest share of one supplier per input and site."
    )
    min_suppliers: int | None = Field(
        None, ge=1, description="Default qualified suppliers needed per critical input at an open site."
    )
    period: str = Field("base", description="Label of the single planning period (instances without a periods "
                                            "table).")
    ramp: str = Field(
        "", description="Share of nominal output in the 1st, 2nd, ... year of a module's operation, ';'-separated "
                        "(e.g. 0.3;0.7;1), full output after the last; empty: full output at once. Phased "
                        "instances; modules.ramp overrides it."
    )
    capex_over_build: bool = Field(
        False, description="Phased instances: pay a site's fixed cost and its modules' capex in equal yearly parts "
                           "over the lead time (the build) instead of all in the year of order; each part counts as "
                           "capital from its year."
    )
    policy_country: str = Field(
        "", description="Country of the policy maker whose outlay and domestic capacity analyses count; "
                        "empty: every government's outlay, no domestic capacity."
    )
    risk_weight: float = Field(
        0.0, ge=0, le=1,
        description="Weight lambda of CVaR in the objective (1 - lambda) E[cost2] + lambda CVaR(cost2); 0: expected "
                    "cost only.",
    )
    cvar_level: float = Field(
        0.95, ge=0, lt=1, description="Level beta of CVaR: the mean cost of the worst (1 - beta) of probability."
    )
    local_share_scenarios: str = Field(
        "all", description="Scenarios local-share targets bind in: all, or the id of one scenario (e.g. nominal)."
    )
    risk_measure: Literal["cvar", "unmet", "worst"] = Field(
        "cvar", description="Risk measure that risk_limit caps and objective=risk minimises: CVaR of the total cost, "
                            "expected unmet wafers, or the worst scenario's total cost."
    )
    risk_limit: float | None = Field(
        None, description="Most the risk measure may reach (money unit per year, or wafers per year for unmet); "
                          "empty: no limit."
    )
    scenario_sample: int | None = Field(
        None, ge=1, le=1_000_000,
        description="Draws of a seeded sample of the hazards (--scenarios N); empty: every joint combination.",
    )
    scenario_seed: int = Field(
        0, ge=0, description="Seed of the sample of the hazards (--sample-seed K): the same seed, the same draws.",
    )
    objective: Literal["cost", "risk"] = Field(
        "cost", description="What a solve minimises: cost (the risk-weighted firm cost) or risk (the risk measure)."
    )

    @property
    def money_multiplier(self) -> float:
        """Currency units per money unit (1e6 for 'million')."""
        return MONEY_UNITS[self.money_unit]

    @property
    def money_label(self) -> str:
        """E.g. 'USD million'."""
        return self.currency if self.money_unit == "one" else f"{self.currency} {self.money_unit}"


class Source(BaseModel):
    """A publication that figures in the instance come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str = ""
    url: str = ""
    date: str = ""
    note: str = ""


@lru_cache(maxsize=1)
def numeric_fields() -> tuple[str, ...]:
    """The settings that hold a number (float or int, possibly empty)."""
    out = []
    for name, info in Settings.model_fields.items():
        kinds = get_args(info.annotation) or (info.annotation,)
        if any(k in (float, int) for k in kinds):
            out.append(name)
    return tuple(out)
