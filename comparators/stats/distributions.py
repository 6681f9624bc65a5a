"""The normal, t and chi-squared functions every statistic reads, from one source: scipy.special.

One spelling per quantity, so a z for a 95 % interval is the same number in a proportion's
interval, a pooled estimate and a Kaplan-Meier median. scipy.special (not scipy.stats) keeps
`python -m comparators pool` inside its start-up budget of 1 s.
"""

from __future__ import annotations

import math
from functools import lru_cache

from scipy import special


def normal_quantile(p: float) -> float:
    """Standard normal quantile; -inf/inf at 0/1, nan outside [0, 1]."""
    return float(special.ndtri(p))


def normal_cdf(x: float) -> float:
    """Standard normal distribution function."""
    return float(special.ndtr(x))


@lru_cache(maxsize=64)
def critical_value(level: float, df: int | None = None) -> float:
    """Two-sided critical value of a `level` interval: the normal quantile at 1 - (1 - level)/2,
    or Student's t with df degrees of freedom (Hartung-Knapp) when df is given."""
    q = 1 - (1 - level) / 2
    if df is None:
        return float(special.ndtri(q))
    return float(special.stdtrit(df, q))


def _check_df(df: float) -> float:
    df = float(df)
    if not (df > 0 and math.isfinite(df)):
        raise ValueError(f"chi-squared degrees of freedom must be positive, got {df!r}")
    return df


def chi2_upper_tail(x: float, df: float) -> float:
    """P(X > x) for X chi-squared with df degrees of freedom (the p-value of a Q statistic)."""
    return float(special.chdtrc(_check_df(df), x))


def chi2_quantile(p: float, df: float) -> float:
    """The x with P(X <= x) = p for X chi-squared with df degrees of freedom."""
    df = _check_df(df)
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        return math.nan
    return float(special.chdtri(df, 1.0 - p))

