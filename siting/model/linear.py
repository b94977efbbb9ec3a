"""Fast construction of linear expressions and of row groups."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression


def lin(coefs: Iterable[float], variables: Iterable) -> LinearExpression:
    """Return sum(c * v) as one pre-built :class:`LinearExpression`, skipping zero coefficients.

    ``coefs`` should hold Python floats (or be a numpy array, converted here).

    Building the expression in one go avoids Pyomo's operator overloading, which is the slow part
    of writing large sums term by term.
    """
    if isinstance(coefs, np.ndarray):
        coefs = coefs.tolist()  # numpy scalars make every comparison and product slower
    return LinearExpression([MonomialTermExpression((c, v)) for c, v in zip(coefs, variables) if c])


def groups(keys: pd.DataFrame | pd.Series) -> dict:
    """Map each distinct key to the positional row numbers that carry it (in row order)."""
    if isinstance(keys, pd.Series):
        keys = keys.to_frame()
    codes = [tuple(r) if len(r) > 1 else r[0] for r in keys.itertuples(index=False, name=None)]
    out: dict = {}
    for pos, k in enumerate(codes):
        out.setdefault(k, []).append(pos)
    return out
