"""Beta-binomial Bayesian summaries of a response rate and Lee & Liu's predictive probability.

* :class:`BetaPosterior` - conjugate Beta(a, b) prior updated with k responders of n:
  posterior Beta(a + k, b + n - k); mean, equal-tailed credible interval, P(p > threshold),
  density on a grid.
* Priors: Jeffreys Beta(0.5, 0.5) (:data:`JEFFREYS`, the default) and
  :func:`prior_from_pooled`, a power-prior-style informative prior built from a pooled estimate.
* :func:`predictive_probability` - Lee JJ, Liu DD. A predictive probability design for phase II
  cancer clinical trials. Clin Trials 2008;5:93-106.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy.stats import beta as beta_dist
from scipy.stats import betabinom

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import check_open_fraction, parse_level

MAX_NMAX = limits.MAX_PREDICTIVE_NMAX


class BayesInputError(InputError):
    """Counts, priors or thresholds that cannot be used (message is meant for the user)."""


class BetaPrior(NamedTuple):
    """Beta(a, b) prior; unpacks as ``a, b`` so it can be passed wherever ``prior=(a, b)`` is."""

    a: float
    b: float

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    @property
    def effective_n(self) -> float:
        """Prior effective sample size a + b."""
        return self.a + self.b


JEFFREYS = BetaPrior(0.5, 0.5)


def _check_prior(prior: Sequence[float] | BetaPrior) -> BetaPrior:
    try:
        a, b = prior
    except (TypeError, ValueError):
        raise BayesInputError(f"prior must be a pair (a, b), got {prior!r}") from None
    for name, v in (("prior a", a), ("prior b", b)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v <= 0:
            raise BayesInputError(f"{name} must be a positive number, got {v!r}")
        low, high = limits.BETA_PRIOR_RANGE  # beyond it scipy's beta-binomial loses its digits
        if v > high:
            raise BayesInputError(
                f"{name} is {v:g} pseudo-patients, more than the limit of {high:,.0f}: a prior "
                "this strong leaves nothing for the data; use a smaller effective sample size")
        if v < low:
            raise BayesInputError(
                f"{name} is {v:g}, less than the limit of {low:g}: a Beta prior is as vague as "
                f"it usefully gets well before that (Jeffreys is Beta(0.5, 0.5))")
    return BetaPrior(float(a), float(b))


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BayesInputError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise BayesInputError(f"{name} must be a whole number, got {value!r}")
    if value < 0:
        raise BayesInputError(f"{name} must not be negative, got {int(value)}")
    return int(value)


def prior_from_pooled(
    estimate: float, n_effective: float, discount: float = 1.0, base: Sequence[float] = JEFFREYS
) -> BetaPrior:
    """Informative Beta prior from a pooled response rate, power-prior style.

    The historical evidence is treated as ``n_effective`` patients with response rate
    ``estimate`` and down-weighted by ``discount`` (the power-prior exponent a0 in [0, 1]):

        a = a_base + discount * n_effective * estimate
        b = b_base + discount * n_effective * (1 - estimate)

    with Beta(a_base, b_base) = Jeffreys Beta(0.5, 0.5) by default. ``discount = 0`` gives the
    base prior back; ``discount = 1`` counts the pooled patients as if they were in this trial.
    The prior's effective sample size is a_base + b_base + discount * n_effective.
    """
    p = estimate
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
        raise BayesInputError(f"pooled estimate must be between 0 and 1, got {estimate!r}")
    if (
        isinstance(n_effective, bool)
        or not isinstance(n_effective, int | float)
        or not math.isfinite(n_effective)
        or n_effective < 0
    ):
        raise BayesInputError(f"n_effective must be 0 or more, got {n_effective!r}")
    if (
        isinstance(discount, bool)
        or not isinstance(discount, int | float)
        or not (0 <= discount <= 1)
    ):
        raise BayesInputError(f"discount must be between 0 and 1, got {discount!r}")
    a0, b0 = _check_prior(base)
    w = float(discount) * float(n_effective)
    return BetaPrior(a0 + w * float(p), b0 + w * (1 - float(p)))


@dataclass(frozen=True)
class BetaPosterior:
    """Posterior Beta(a, b) for a response rate after ``responders`` of ``n`` with a Beta prior."""

    a: float
    b: float
    responders: int
    n: int
    prior_a: float
    prior_b: float

    @classmethod
    def from_counts(
        cls, responders: int, n: int, prior: Sequence[float] = JEFFREYS
    ) -> BetaPosterior:
        k, nn = _check_count("responders", responders), _check_count("evaluable", n)
        if k > nn:
            raise BayesInputError(f"responders ({k}) cannot exceed evaluable ({nn})")
        pa, pb = _check_prior(prior)
        return cls(a=pa + k, b=pb + nn - k, responders=k, n=nn, prior_a=pa, prior_b=pb)

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def credible_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed interval: the (1 - level)/2 and (1 + level)/2 posterior quantiles."""
        level = parse_level(level, error=BayesInputError)
        lo, hi = beta_dist.ppf([(1 - level) / 2, (1 + level) / 2], self.a, self.b)
        return float(lo), float(hi)

    def prob_above(self, threshold: float) -> float:
        """Posterior P(p > threshold)."""
        if (
            isinstance(threshold, bool)
            or not isinstance(threshold, int | float)
            or not (0 <= threshold <= 1)
        ):
            raise BayesInputError(f"threshold must be between 0 and 1, got {threshold!r}")
        return float(beta_dist.sf(threshold, self.a, self.b))

    def density(self, grid: Iterable[float] | np.ndarray) -> np.ndarray:
        """Posterior density at each point of ``grid`` (values in [0, 1])."""
        g = np.asarray(list(grid) if not isinstance(grid, np.ndarray) else grid, dtype=float)
        if g.size and (not np.all(np.isfinite(g)) or g.min() < 0 or g.max() > 1):
            raise BayesInputError("density grid values must be between 0 and 1")
        return np.asarray(beta_dist.pdf(g, self.a, self.b))

    def to_dict(self, level: float = 0.95) -> dict[str, float | int]:
        lo, hi = self.credible_interval(level)
        return {
            "a": self.a,
            "b": self.b,
            "responders": self.responders,
            "n": self.n,
            "prior_a": self.prior_a,
            "prior_b": self.prior_b,
            "mean": self.mean,
            "low": lo,
            "high": hi,
            "level": level,
        }


@dataclass(frozen=True)
class PredictiveRow:
    y: int  # future responders among the nmax - n patients still to come
    prob_y: float  # beta-binomial predictive probability of y
    posterior_prob: float  # P(p > p0 | x + y responders of nmax)
    success: bool  # posterior_prob > theta_t

    def to_dict(self) -> dict[str, float | int | bool]:
        return {
            "y": self.y,
            "prob_y": self.prob_y,
            "posterior_prob": self.posterior_prob,
            "success": self.success,
        }


@dataclass(frozen=True)
class PredictiveResult:
    """Lee & Liu predictive probability of trial success at the final analysis."""

    pp: float
    responders: int
    n: int
    nmax: int
    p0: float
    theta_t: float
    prior_a: float
    prior_b: float
    table: tuple[PredictiveRow, ...]

    @property
    def min_future_responders(self) -> int | None:
        """Fewest further responders (of nmax - n) that still give success; None if none do."""
        ys = [row.y for row in self.table if row.success]
        return min(ys) if ys else None

    def to_dict(self) -> dict[str, object]:
        return {
            "pp": self.pp,
            "responders": self.responders,
            "n": self.n,
            "nmax": self.nmax,
            "p0": self.p0,
            "theta_t": self.theta_t,
            "prior_a": self.prior_a,
            "prior_b": self.prior_b,
            "min_future_responders": self.min_future_responders,
            "table": [row.to_dict() for row in self.table],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([row.to_dict() for row in self.table])

    def sentence(self) -> str:
        m = self.nmax - self.n
        need = self.min_future_responders
        tail = (
            "no number of further responses can give success"
            if need is None
            else f"success needs at least {need} responses among the remaining {m} patients"
        )
        return (
            f"With {self.responders} responses in {self.n} patients and a Beta("
            f"{self.prior_a:g}, {self.prior_b:g}) prior, the predictive probability that the "
            f"trial ends with P(response rate > {self.p0:g}) > {self.theta_t:g} after "
            f"{self.nmax} patients is {100 * self.pp:.1f}%; {tail}."
        )


def predictive_probability(
    responders: int,
    n: int,
    nmax: int,
    p0: float,
    theta_t: float,
    prior: Sequence[float] = JEFFREYS,
) -> PredictiveResult:
    """Predictive probability of success (Lee & Liu 2008, Clin Trials 5:93-106, eq. for PP):

        PP = sum_{y=0}^{m} P(Y = y | x) * I[ P(p > p0 | x + y, nmax) > theta_T ],

    where x = ``responders`` of ``n`` so far, m = nmax - n patients remain,
    P(Y = y | x) = BetaBinomial(y; m, a + x, b + n - x) is the posterior predictive distribution
    of future responders under the Beta(a, b) prior, and
    P(p > p0 | x + y, nmax) = 1 - I_{p0}(a + x + y, b + nmax - x - y) is the posterior
    probability at the end of the trial (regularised incomplete beta I).
    """
    x, nn, N = (
        _check_count("responders", responders),
        _check_count("n", n),
        _check_count("nmax", nmax),
    )
    if x > nn:
        raise BayesInputError(f"responders ({x}) cannot exceed patients so far ({nn})")
    if nn > N:
        raise BayesInputError(f"patients so far ({nn}) cannot exceed the maximum nmax ({N})")
    if N == 0:
        raise BayesInputError("nmax must be at least 1")
    if N > MAX_NMAX:
        # The sum runs over every future count: cost and memory grow with nmax.
        raise BayesInputError(f"nmax ({N:,}) is larger than a phase II trial; the limit is "
                              f"{MAX_NMAX:,}")
    p0f = check_open_fraction(p0, what="p0", error=BayesInputError)
    tt = check_open_fraction(theta_t, what="theta_t", error=BayesInputError)
    a, b = _check_prior(prior)
    m = N - nn
    y = np.arange(m + 1)
    prob_y = betabinom.pmf(y, m, a + x, b + nn - x) if m > 0 else np.ones(1)
    post = beta_dist.sf(p0f, a + x + y, b + N - x - y)
    success = post > tt
    pp = float(np.sum(prob_y[success]))
    table = tuple(
        PredictiveRow(y=int(yi), prob_y=float(py), posterior_prob=float(bp), success=bool(s))
        for yi, py, bp, s in zip(y, prob_y, post, success, strict=True)
    )
    return PredictiveResult(
        pp=min(max(pp, 0.0), 1.0),
        responders=x,
        n=nn,
        nmax=N,
        p0=p0f,
        theta_t=tt,
        prior_a=a,
        prior_b=b,
        table=table,
    )
