"""What a solve is: its status and its outcome, as values that nothing edits after the fact.

A decomposition or a diagnosis that has more to say about a solve makes a new outcome
(:func:`dataclasses.replace`) rather than changing the one the solver returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class Status(StrEnum):
    """How a solve ended.

    A member is its text (``Status.OPTIMAL == "optimal"``), so it prints, compares and is written
    to ``summary.json`` and the tables as the word.
    """

    OPTIMAL = "optimal"
    """HiGHS proved the plan optimal within the gap tolerance."""
    FEASIBLE = "feasible"
    """A plan, but the solve stopped early (time limit, interrupt) or proves nothing (PH): see the gap."""
    INFEASIBLE = "infeasible"
    """No plan meets every rule."""
    UNBOUNDED = "unbounded"
    """The cost falls without limit (a data error: a cost that pays)."""
    NO_SOLUTION = "no_solution"
    """The solve stopped before it found any plan."""
    ERROR = "error"
    """HiGHS failed."""

    @property
    def solved(self) -> bool:
        """Whether the solve returned a plan (optimal, or feasible with its gap)."""
        return self in (Status.OPTIMAL, Status.FEASIBLE)


#: Every status, as text.
STATUSES = tuple(s.value for s in Status)
#: The statuses that come with a plan (for filtering tables of cases: ``df["status"].isin(SOLVED)``).
SOLVED = tuple(s.value for s in Status if s.solved)


@dataclass(frozen=True)
class Outcome:
    """What a solve returned, and why it stopped.

    Attributes
    ----------
    status
        A :class:`Status` (text is accepted and turned into one).
    termination
        HiGHS's own model status, e.g. "Optimal", "Time limit reached", with what a later step
        (a decomposition, a diagnosis) adds to it.
    objective, best_bound, mip_gap
        Objective of the incumbent, best proven bound, relative gap (None without a solution).
    values
        Column values (None without a solution), in compiled column order.
    times
        Seconds: ``compile`` (counted in the run's build time), ``solve``.
    options
        The HiGHS options of the solve, by their HiGHS names.
    nodes
        Branch-and-bound nodes (None for an LP).
    numerics
        The numerics warnings of the compiled model (:func:`siting.solve.numerics_report`).
    """

    status: Status
    termination: str
    objective: float | None = None
    best_bound: float | None = None
    mip_gap: float | None = None
    values: np.ndarray | None = None
    times: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    nodes: int | None = None
    numerics: list = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))

    @property
    def has_solution(self) -> bool:
        """Whether the outcome holds a plan's values."""
        return self.values is not None
