"""Confidence intervals for a single binomial proportion (k responders of n evaluable).

The seed paper (Liu et al., Sci Rep 2023) reports Wilson score intervals, so Wilson is the
default. Formulas follow Newcombe (Stat Med 1998;17:857-872, methods 1-4) and Brown, Cai &
DasGupta (Stat Sci 2001;16:101-133) for Jeffreys and Agresti-Coull.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from comparators.errors import InputError
from comparators.inputs import parse_count, parse_level
from comparators.stats.distributions import critical_value
from comparators.vocab import CI_CHOICES

CIMethod = Literal["wilson", "clopper-pearson", "jeffreys", "agresti-coull", "wilson-cc", "wald"]



class ProportionInputError(InputError):
    """Counts or options that cannot describe a binomial proportion."""


@dataclass(frozen=True)
class ProportionCI:
    """A proportion k/n with its two-sided confidence interval; all values are fractions."""

    estimate: float
    low: float
    high: float
    method: str
    level: float

    def to_dict(self) -> dict[str, float | str]:
        return asdict(self)

    def as_percent(self, digits: int = 1) -> str:
        """'48.1% (95% CI 30.7–66.0%)' - the way papers print it."""
        pct = 100 * self.level
        level = f"{pct:.0f}" if pct.is_integer() else f"{pct:g}"
        return (
            f"{100 * self.estimate:.{digits}f}% ({level}% CI "
            f"{100 * self.low:.{digits}f}–{100 * self.high:.{digits}f}%)"
        )


def percent(x: float | None, digits: int = 1) -> str:
    """A fraction as the pages print it: 0.4815 -> '48.1%'; missing (None/NaN) -> '–'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{100 * x:.{digits}f}%"


def patients_from_rate(rate: float, patients: int, *, per: int = 1) -> int:
    """The whole number of patients a printed rate stands for: `rate` of `patients` (`rate` a
    fraction, or a percentage with ``per=100``), rounded half up as a reader rounds, never to
    even: 12.5% of 20 is 2.5, so 3 patients. The rate is taken as printed (its shortest
    decimal form), so 14.5% of 100 is 14.5 patients, not binary arithmetic's 14.4999..., and
    is 15. Every place that turns a rate into a count (a PFS rate times its population, a
    hypothetical percentage of patients treated) calls this one rule.

    >>> [patients_from_rate(0.125, 20), patients_from_rate(0.145, 100)]
    [3, 15]
    >>> patients_from_rate(50, 7, per=100)  # 3.5 patients
    4
    """
    exact = Decimal(repr(float(rate))) * int(patients) / per
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))


def check_counts(k: object, n: object) -> tuple[int, int]:
    """Return (k, n) as ints or raise ProportionInputError saying what is wrong."""
    k = parse_count(k, where="responders", error=ProportionInputError)
    n = parse_count(n, where="evaluable", error=ProportionInputError)
    assert k is not None and n is not None
    if n == 0:
        raise ProportionInputError("evaluable must be at least 1 to estimate a proportion")
    if k > n:
        raise ProportionInputError(f"responders ({k}) cannot exceed evaluable ({n})")
    return k, n


def _check_level(level: float) -> float:
    return parse_level(level, error=ProportionInputError)


def proportion_ci(k: int, n: int, method: str = "wilson", level: float = 0.95) -> ProportionCI:
    """Two-sided confidence interval for k successes in n trials.

    >>> proportion_ci(13, 27).as_percent()  # Liu 2023, ORR
    '48.1% (95% CI 30.7–66.0%)'
    """
    k, n = check_counts(k, n)
    level = _check_level(level)
    if method not in CI_CHOICES:
        raise ProportionInputError(
            f"unknown CI method {method!r}; choose one of {', '.join(CI_CHOICES)}"
        )
    low, high = interval_bounds(k, n, method, level)
    return ProportionCI(estimate=k / n, low=low, high=high, method=method, level=level)


def interval_bounds(k: int, n: int, method: str, level: float) -> tuple[float, float]:
    """The (low, high) of `proportion_ci` at any level in (0, 1), for levels chosen by code
    rather than typed by a user (the level at which a difference's interval reaches zero,
    stats.differences): counts and method must already be valid."""
    alpha = 1 - level
    p = k / n
    low, high = _BOUNDS[method](k, n, p, critical_value(level), alpha)
    # Guard against floating-point excursions (e.g. 1e-17 below zero) at the edges.
    return max(0.0, min(low, p)), min(1.0, max(high, p))


def _beta_quantile(a: float, b: float, q: float) -> float:
    """Quantile q of Beta(a, b). scipy is imported here, on first use: the entry point imports
    this module for its menu labels and should not pay for scipy on a cold start."""
    from scipy.special import betaincinv

    return float(betaincinv(a, b, q))


def wilson_bounds(p: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score bounds for a proportion p observed on n (n may be an effective, fractional
    sample size, as for a standardised rate), clipped to [0, 1]."""
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _wilson(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    return wilson_bounds(p, n, z)


def _wilson_cc(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    # Newcombe 1998, method 4.
    z2, q = z * z, 1 - p
    denom = 2 * (n + z2)
    low = 0.0
    if k > 0:
        low = (2 * n * p + z2 - 1 - z * math.sqrt(z2 - 2 - 1 / n + 4 * p * (n * q + 1))) / denom
    high = 1.0
    if k < n:
        high = (2 * n * p + z2 + 1 + z * math.sqrt(z2 + 2 - 1 / n + 4 * p * (n * q - 1))) / denom
    return low, high


def _clopper_pearson(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    low = 0.0 if k == 0 else _beta_quantile(k, n - k + 1, alpha / 2)
    high = 1.0 if k == n else _beta_quantile(k + 1, n - k, 1 - alpha / 2)
    return low, high


def _jeffreys(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    # Brown, Cai & DasGupta 2001: lower bound 0 at k = 0, upper bound 1 at k = n.
    low = 0.0 if k == 0 else _beta_quantile(k + 0.5, n - k + 0.5, alpha / 2)
    high = 1.0 if k == n else _beta_quantile(k + 0.5, n - k + 0.5, 1 - alpha / 2)
    return low, high


def _agresti_coull(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    n_tilde = n + z * z
    p_tilde = (k + z * z / 2) / n_tilde
    half = z * math.sqrt(p_tilde * (1 - p_tilde) / n_tilde)
    return p_tilde - half, p_tilde + half


def _wald(k: int, n: int, p: float, z: float, alpha: float) -> tuple[float, float]:
    half = z * math.sqrt(p * (1 - p) / n)
    return p - half, p + half


_BOUNDS = {
    "wilson": _wilson,
    "wilson-cc": _wilson_cc,
    "clopper-pearson": _clopper_pearson,
    "jeffreys": _jeffreys,
    "agresti-coull": _agresti_coull,
    "wald": _wald,
}
