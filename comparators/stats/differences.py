"""The difference between two proportions, with the interval and the evidence that belong to it.

Two rules, one per kind of model; each gives the interval and the evidence from the same
construction, so they can never disagree.

* Frequentist (`interval_difference`). Each side is a proportion with its interval as a
  function of the confidence level (`IntervalAt`): a pooled class's interval from its fitted
  model (z or, with HKSJ, t with its own df), an arm's Wilson interval, a summed count's exact
  interval. The difference's interval is Newcombe's square-and-add construction of the two
  (Newcombe, Stat Med 1998;17:873, method 10; for pooled intervals the MOVER of Zou & Donner,
  Stat Med 2008;27:1693):

      low  = d - sqrt((a - a_low)^2 + (b_high - b)^2)
      high = d + sqrt((a_high - a)^2 + (b - b_low)^2),   d = a - b.

  The p-value is the one this interval inverts: p = 1 - L*, where L* is the confidence level at
  which the interval's limit nearest zero reaches zero (found by root-finding on the level,
  each side's interval recomputed at that level from the same estimates, standard errors and
  reference distributions). So p < 1 - level exactly when the interval at `level` excludes 0,
  at every level; with HKSJ the t quantiles that widen the interval raise p with it.
* Bayesian (`posterior_difference`). Each side is a posterior distribution of the proportion
  (`Tabulated`, its CDF on a grid); the difference of two independent posteriors is integrated
  numerically: P(A - B <= d) = integral of F_A(d + b) dF_B(b), by the midpoint rule over the
  cells of B's grid with F_A interpolated on its own grid. Its central credible interval and
  P(A - B > 0) come from that one distribution.

Numbers in, frozen results out; nothing here knows about trials or cohorts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import optimize, special, stats

from comparators.stats.distributions import critical_value, normal_quantile

#: level -> (low, high) of one proportion's two-sided interval at that confidence level
IntervalAt = Callable[[float], tuple[float, float]]

#: Search range for the level at which an interval reaches zero; a p below P_FLOOR is reported
#: as P_FLOOR (every page prints it as "p < 0.0001").
P_FLOOR = 1e-10
GRID_POINTS = 1501  # points of a tabulated model-scale posterior CDF (P to ~1e-6)
BETA_POINTS = 1001  # quantile points of a Beta posterior (P(A > B) exact to ~5e-6)
_TAIL = 1e-10  # tabulated posteriors span their 1e-10 and 1 - 1e-10 quantiles


@dataclass(frozen=True)
class Difference:
    """A - B with its interval and the evidence from the same construction.

    `p` (frequentist) is the p-value the interval inverts; `prob_positive` (Bayesian) is the
    posterior probability P(A - B > 0). Exactly one of them is set.
    """

    difference: float
    low: float
    high: float
    level: float
    p: float | None = None
    prob_positive: float | None = None


def square_and_add(a: float, a_low: float, a_high: float, b: float, b_low: float,
                   b_high: float) -> tuple[float, float, float]:
    """d = a - b and Newcombe's square-and-add interval from the two intervals, in [-1, 1]."""
    d = a - b
    low = d - math.sqrt((a - a_low) ** 2 + (b_high - b) ** 2)
    high = d + math.sqrt((a_high - a) ** 2 + (b - b_low) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def interval_difference(a: float, a_interval: IntervalAt, b: float, b_interval: IntervalAt,
                        level: float) -> Difference:
    """A - B with the square-and-add interval at `level` and the p-value that interval inverts
    (module docstring). `a` and `b` are the point estimates the intervals surround."""
    d, low, high = square_and_add(a, *a_interval(level), b, *b_interval(level))
    return Difference(d, low, high, level, p=_inverted_p(a, a_interval, b, b_interval))


def _inverted_p(a: float, a_interval: IntervalAt, b: float, b_interval: IntervalAt) -> float:
    """1 - the level at which the square-and-add interval's limit nearest 0 reaches 0."""
    d = a - b
    if d == 0:
        return 1.0

    def limit(level: float) -> float:  # the limit on zero's side; crosses 0 as level grows
        _, low, high = square_and_add(a, *a_interval(level), b, *b_interval(level))
        return low if d > 0 else -high

    top = 1 - P_FLOOR
    if limit(top) > 0:  # excludes 0 even at the widest level searched
        return P_FLOOR
    if limit(P_FLOOR) <= 0:  # the intervals do not shrink to their estimates
        return 1.0
    level = optimize.brentq(limit, P_FLOOR, top, xtol=1e-13, rtol=1e-13)
    return float(min(1.0, max(P_FLOOR, 1 - level)))


def model_interval(estimate: float, se: float, df: int | None,
                   back: Callable[[np.ndarray], np.ndarray]) -> IntervalAt:
    """The interval of a pooled estimate at any level: estimate +- q * se on the model scale
    (q the normal quantile, or Student's t with `df` degrees of freedom, as with HKSJ), then
    `back` to the proportion scale."""

    def at(level: float) -> tuple[float, float]:
        crit = critical_value(level, df)
        low, high = back(np.array([estimate - crit * se, estimate + crit * se]))
        return float(low), float(high)

    return at


# --------------------------------------------------------------------------- posteriors


@dataclass(frozen=True, eq=False)  # numpy arrays
class Tabulated:
    """A distribution of a proportion given by its CDF at increasing points of [0, 1].

    Between points the CDF is linear; `cdf[0]` is the mass at or below `x[0]` and
    `1 - cdf[-1]` the mass above `x[-1]` (both about 1e-10 unless the model's scale is clipped
    at 0 or 1, when they are the atoms there).
    """

    x: np.ndarray
    cdf: np.ndarray

    def __post_init__(self) -> None:
        x, f = np.asarray(self.x, dtype=float), np.asarray(self.cdf, dtype=float)
        # Clipping to [0, 1] maps several points to one: keep the highest CDF at each x.
        keep = np.append(x[1:] > x[:-1], True)
        object.__setattr__(self, "x", x[keep])
        object.__setattr__(self, "cdf", np.maximum.accumulate(np.clip(f[keep], 0.0, 1.0)))

    def at(self, q: np.ndarray) -> np.ndarray:
        """F(q) (right-continuous: the mass at or below q)."""
        return np.interp(q, self.x, self.cdf, left=0.0, right=1.0)

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(points, masses) that add to 1: each grid cell's midpoint and mass, and the two end
        masses at the end points."""
        mid = 0.5 * (self.x[1:] + self.x[:-1])
        mass = np.diff(self.cdf)
        points = np.concatenate([[self.x[0]], mid, [self.x[-1]]])
        masses = np.concatenate([[self.cdf[0]], mass, [1.0 - self.cdf[-1]]])
        return points, masses


def tabulate_beta(a: float, b: float, points: int = BETA_POINTS) -> Tabulated:
    """Beta(a, b) on a grid of its quantiles (dense where the mass is, also next to a pole at 0
    or 1 when a or b < 1)."""
    z = np.linspace(normal_quantile(_TAIL), normal_quantile(1 - _TAIL), points)
    u = special.ndtr(z)
    return Tabulated(stats.beta.ppf(u, a, b), u)


def tabulate_scale(cdf: Callable[[np.ndarray], np.ndarray],
                   quantile: Callable[[np.ndarray], np.ndarray],
                   back: Callable[[np.ndarray], np.ndarray],
                   points: int = GRID_POINTS) -> Tabulated:
    """A posterior known on a model scale (cdf and quantile function there), on the proportion
    scale: an even grid of the model scale between its 1e-10 and 1 - 1e-10 quantiles, mapped
    by `back` (monotone increasing, e.g. the inverse logit)."""
    lo, hi = (float(v) for v in quantile(np.array([_TAIL, 1 - _TAIL])))
    grid = np.linspace(lo, hi, points)
    return Tabulated(back(grid), cdf(grid))


def difference_cdf(a: Tabulated, b: Tabulated, d: np.ndarray) -> np.ndarray:
    """P(A - B <= d) for independent A and B, at each d."""
    points, masses = b.cells()
    d = np.atleast_1d(np.asarray(d, dtype=float))
    return (a.at(d[:, None] + points[None, :]) * masses[None, :]).sum(axis=1)


def posterior_difference(a: Tabulated, b: Tabulated, a_estimate: float, b_estimate: float,
                         level: float) -> Difference:
    """A - B for independent posteriors: `a_estimate - b_estimate` (the two point estimates
    shown), the central credible interval of A - B and P(A - B > 0)."""
    probs = np.array([(1 - level) / 2, (1 + level) / 2])
    lo, hi = np.full(2, -1.0), np.full(2, 1.0)
    for _ in range(48):  # bisection on [-1, 1]: 2^-47 ~ 1e-14
        mid = 0.5 * (lo + hi)
        below = difference_cdf(a, b, mid) < probs
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    low, high = 0.5 * (lo + hi)
    positive = float(1.0 - difference_cdf(a, b, np.array([0.0]))[0])
    return Difference(a_estimate - b_estimate, float(low), float(high), level,
                      prob_positive=min(1.0, max(0.0, positive)))


@lru_cache(maxsize=512)  # the same arm is compared again on every page and option
def jeffreys_posterior(events: int, n: int) -> Tabulated:
    """The posterior of one arm's proportion under the Jeffreys Beta(1/2, 1/2) prior (its
    central interval is the Jeffreys interval). Shared, read-only."""
    return tabulate_beta(events + 0.5, n - events + 0.5)


__all__ = [
    "Difference", "IntervalAt", "P_FLOOR", "Tabulated", "difference_cdf", "interval_difference",
    "jeffreys_posterior", "model_interval", "posterior_difference", "square_and_add",
    "tabulate_beta", "tabulate_scale",
]
