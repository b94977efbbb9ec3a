"""Annualisation: the capital recovery factor and what instruments paid over time are worth per year.

Every cost and payout in the model is an equivalent annual amount over a site's economic lifetime L
at its discount rate r. A payment made once at the start is annualised with CRF(r, L); these
helpers turn the other payment profiles of subsidy instruments into the same basis.
"""

from __future__ import annotations


def crf(rate: float, years: float) -> float:
    """Capital recovery factor r(1+r)^L / ((1+r)^L - 1); 1/L when r = 0.

    Examples
    --------
    >>> round(crf(0.08, 10), 6)
    0.149029
    >>> crf(0.0, 1)
    1.0
    """
    if rate == 0:
        return 1.0 / years
    growth = (1 + rate) ** years
    return rate * growth / (growth - 1)


def grant_element(loan_rate: float, rate: float, years: float) -> float:
    """Share of a loan's principal that is a gift, at the borrower's discount rate.

    A principal P lent at ``loan_rate`` and repaid in equal instalments over ``years`` costs the
    borrower P CRF(loan_rate, T) a year; at its own rate r those instalments are worth
    P CRF(loan_rate, T) / CRF(r, T) today, so the loan is worth 1 - CRF(loan_rate, T) / CRF(r, T)
    of P to it. Annualised over T = L with CRF(r, L), that is P (CRF(r, L) - CRF(loan_rate, L)) a
    year: exactly the interest the firm saves.

    Examples
    --------
    >>> grant_element(0.08, 0.08, 10)
    0.0
    >>> round(grant_element(0.0, 0.08, 10), 4)  # an interest-free loan over 10 years at 8%
    0.329
    """
    return 1.0 - crf(loan_rate, years) / crf(rate, years)


def spread_factor(rate: float, lifetime: float, years: float) -> float:
    """Equivalent annual amount over ``lifetime`` per unit paid in total, spread evenly over ``years``.

    A total T paid as T / D a year for D years (D at most the lifetime) is worth
    (T / D) / CRF(r, D) today, and CRF(r, L) times that a year over the lifetime L. With D = L
    the factor is 1 / L: the yearly payment itself.

    Examples
    --------
    >>> round(spread_factor(0.08, 10, 10) * 10, 12)
    1.0
    >>> round(spread_factor(0.0, 10, 5), 12)  # no discounting: the total spread over 10 years
    0.1
    """
    years = min(years, lifetime)
    return crf(rate, lifetime) / (crf(rate, years) * years)
