"""What the screens and the diagnosis found: a rule no plan can meet, or a dead end.

This module sits below every layer (it imports nothing of the project), so that the pre-solve
screens (:mod:`siting.instance.screens`), the elastic re-solve (:mod:`siting.diagnose`) and the
decomposition (:mod:`siting.decompose`) all report in one form without depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A rule that no plan can meet, or a dead end, in the planner's words and numbers.

    The pre-solve screens and the elastic re-solve (:mod:`siting.diagnose`) both report in this
    form, so that ``summary.json`` lists what must give the same way whichever step found it.

    Attributes
    ----------
    kind
        "infeasible" (no plan meets the rule) or "warning" (a plan exists, but part of the
        instance can never be used).
    rule
        The rule family: demand, supplier_capacity, local_share, supplier_share, min_suppliers,
        concentration, firm_budget, resource (a site resource's limit), vacuous (a row the tables
        make do nothing) or ignored (a column no table has, such as a planner's notes) ("numerics"
        when a re-solve with every rule elastic needs no rule to give, so that the infeasibility is
        HiGHS's numerical trouble).
    message
        One sentence: what cannot be met, the best a plan can do, and what would fix it.
    where
        The rule's row: a site, a product, an input, a supplier and input, a group of sites.
    required, best, unit
        The rule's level and the best a plan reaches (a share, wafers, units or money per year;
        for a limit such as a budget or a supplier's capacity, what the best plan needs), in
        ``unit``.
    found_by
        "pre-solve screen" or "elastic re-solve".
    alternative
        True for a way out that keeps all demand that must be met, offered after a closest plan
        that gives on demand.
    """

    kind: str
    rule: str
    message: str
    where: str | None = None
    required: float | None = None
    best: float | None = None
    unit: str | None = None
    found_by: str = "pre-solve screen"
    alternative: bool = False

    def as_dict(self) -> dict:
        """The finding as ``summary.json`` and ``--json`` carry it."""
        return {"kind": self.kind, "rule": self.rule, "where": self.where, "required": self.required,
                "best": self.best, "unit": self.unit, "found_by": self.found_by, "alternative": self.alternative,
                "message": self.message}
