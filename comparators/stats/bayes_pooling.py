"""Bayesian random-effects pooling of proportions by numerical integration (no MCMC).

Two likelihoods, one posterior object (:class:`BayesPosterior`, modelled on bayesmeta's):

* ``likelihood="normal"`` - the normal-normal hierarchical model on the measure's scale
  (logit by default), with the same effect sizes and continuity rule as the frequentist models
  (``pooling.effect_sizes``): y_i ~ N(theta_i, v_i), theta_i ~ N(mu, tau^2). As in bayesmeta
  (Röver 2020, J Stat Softw 93(6)), mu is integrated analytically given tau (normal or flat
  prior: mu | tau, y is normal), and tau by quadrature (composite Gauss-Legendre on
  u = tau / (tau + c), which maps [0, inf) to [0, 1)). Marginals of mu, of each theta_i
  (shrinkage) and of a new arm's theta are mixtures of normals over the tau nodes; their
  quantiles are solved on the exact mixture CDF. With a flat mu prior this is bayesmeta's model.
* ``likelihood="binomial"`` - the binomial-normal model on the logit scale,
  x_i ~ Bin(n_i, expit(theta_i)): the exact binomial likelihood, so 0/n needs no continuity
  correction. Each study's likelihood in theta is represented piecewise-linearly on a fine theta
  grid (constant beyond its ends, where it tends to 0 or 1); its convolution with
  N(mu, tau^2) is then exact in closed form (E[max(X - a, 0)] = tau G((mu - a)/tau) with
  G(z) = z Phi(z) + phi(z)), also as tau -> 0. The posterior of (mu, tau) is computed on the
  grid mu x u (u as above, midpoint rule), and every marginal (mu, tau, theta_i, new arm) is a
  distribution on a grid. The grid keeps 4 nodes per sd of the sharpest study likelihood, so
  very large arms (n p (1 - p) beyond a few hundred) are refused with the limit named: use the
  normal likelihood there, where the two models agree anyway.

EXNEX (Neuenschwander, Wandel, Roychoudhury, Bailey 2016, Pharm Stat 15:123): with
``p_exchangeable`` < 1 each unit's theta is, with prior probability p_exchangeable, drawn from
the exchangeable N(mu, tau^2), else from its own weakly informative N(nex_mean, nex_sd^2); the
posterior probability of exchangeability is reported per unit. It uses the binomial likelihood.

Priors (:class:`BayesPrior`): tau half-normal (default, scale 1 on the logit scale, after Friede
et al. 2017 and Röver 2021 for few small studies), half-Cauchy, or (engine only, bayesmeta's
default, improper) uniform; mu flat (improper) or normal(mean, sd). Every result carries the
prior as text (``prior``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.signal import fftconvolve
from scipy.special import ndtr

import comparators.limits as limits
from comparators.stats.bayes import BetaPrior
from comparators.stats.effect_sizes import (
    PoolingInputError,
    as_counts,
    back_transform,
    check_choice,
    check_level,
    cochran_q,
    effect_sizes,
    validate_labels,
)
from comparators.stats.pooled_result import (
    PooledProportion,
    StudyEstimate,
    SubgroupResult,
    not_estimable_pool,
    not_estimable_reason,
    not_estimable_subgroup,
    study_interval,
)
from comparators.stats.serialise import json_number
from comparators.vocab import (
    LIKELIHOOD_CHOICES,
    MEASURE_CHOICES,
    TAU_PRIOR_CHOICES,
    bayes_method_labels,
)

SENSITIVITY_SCALES: tuple[float, ...] = (0.5, 1.0, 2.0)

# Bounds checked before any integration (a refusal names the limit); they live in limits.
MAX_STUDIES_NORMAL = limits.MAX_STUDIES
MAX_STUDIES_BINOMIAL = limits.MAX_STUDIES_BINOMIAL
MAX_N = limits.MAX_BAYES_ARM_N
MAX_TAU_SCALE = limits.MAX_TAU_SCALE
MAX_MU_SD = limits.MAX_MU_PRIOR_SD
MAX_MU_PRIOR_MEAN = limits.MAX_MU_PRIOR_MEAN

_PANELS, _PANEL_NODES = 8, 24  # composite Gauss-Legendre over the region that carries tau mass
_COARSE = 400  # coarse u grid that locates that region
_T_NODES = 64  # u nodes (midpoint rule) of the binomial grid
_J_MIN, _J_MAX = 121, 1201  # theta grid sizes of the binomial model
_GRID_CELLS = 40_000  # theta nodes x arms (memory: 64 tau nodes x this x 8 bytes per array)
_BISECT = 64  # bisection steps for mixture quantiles (bracket / 2^64: machine precision)
_GL_Z, _GL_W = np.polynomial.legendre.leggauss(_PANEL_NODES)


class BayesPoolingInputError(PoolingInputError):
    """Counts, priors or options the Bayesian model cannot use; the message says which."""


def _positive(value: Any, name: str, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BayesPoolingInputError(f"{name} must be a positive number, got {value!r}")
    if not 0 < value <= upper:
        raise BayesPoolingInputError(f"{name} must be above 0 and at most {upper:g}, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class BayesPrior:
    """Priors of the hierarchical model, on the measure's scale (logit unless said otherwise).

    tau ~ half-normal(tau_scale) | half-Cauchy(tau_scale) | uniform on [0, inf) (improper);
    mu ~ flat (mu_sd None, improper) or normal(mu_mean, mu_sd).
    """

    tau_prior: str = "half-normal"
    tau_scale: float = 1.0
    mu_mean: float = 0.0
    mu_sd: float | None = None

    def __post_init__(self) -> None:
        check_choice(self.tau_prior, TAU_PRIOR_CHOICES, "tau prior")
        object.__setattr__(self, "tau_scale", _positive(self.tau_scale, "tau scale",
                                                        MAX_TAU_SCALE))
        if isinstance(self.mu_mean, bool) or not isinstance(self.mu_mean, int | float) \
                or not math.isfinite(self.mu_mean) or abs(self.mu_mean) > MAX_MU_PRIOR_MEAN:
            raise BayesPoolingInputError(
                f"mu prior mean must be a finite number of at most {MAX_MU_PRIOR_MEAN:g} in size, "
                f"got {self.mu_mean!r}")
        if self.mu_sd is not None:
            object.__setattr__(self, "mu_sd", _positive(self.mu_sd, "mu prior sd", MAX_MU_SD))

    @property
    def proper(self) -> bool:
        return self.tau_prior != "uniform" and self.mu_sd is not None

    def log_tau_density(self, tau: np.ndarray) -> np.ndarray:
        """Log prior density of tau (up to a constant for the improper uniform)."""
        s = self.tau_scale
        if self.tau_prior == "half-normal":
            return -0.5 * (tau / s) ** 2 + math.log(2 / (s * math.sqrt(2 * math.pi)))
        if self.tau_prior == "half-cauchy":
            return -np.log1p((tau / s) ** 2) + math.log(2 / (math.pi * s))
        return np.zeros_like(tau)

    def describe(self, measure: str = "logit") -> str:
        """The prior in words, e.g. for every result and the methods paragraph."""
        scale = "logit" if measure == "logit" else f"{measure}-transformed"
        if self.tau_prior == "uniform":
            tau = "improper uniform prior on τ"
        else:
            tau = f"{TAU_PRIOR_CHOICES[self.tau_prior].label} prior on τ (scale {self.tau_scale:g})"
        mu = ("flat (improper uniform) prior on μ" if self.mu_sd is None else
              f"normal prior on μ (mean {self.mu_mean:g}, sd {self.mu_sd:g})")
        return f"{tau}; {mu}; on the {scale} scale"


DEFAULT_PRIOR = BayesPrior()


@dataclass(frozen=True)
class BayesOptions:
    """Everything the Bayesian model needs besides the counts (travels with the pipeline)."""

    prior: BayesPrior = DEFAULT_PRIOR
    likelihood: str = "normal"

    def __post_init__(self) -> None:
        check_choice(self.likelihood, LIKELIHOOD_CHOICES, "likelihood")

    def labels(self) -> tuple[str, str, str]:
        """(label, prose, short) of the model for the prior actually used (as MODEL_CHOICES)."""
        p = self.prior
        return bayes_method_labels(p.tau_prior, p.tau_scale, p.mu_sd, p.mu_mean,
                                   self.likelihood)


# ---------------------------------------------------------------------------------------------
# One-dimensional distributions the posterior is made of
# ---------------------------------------------------------------------------------------------


class _Dist:
    """cdf / ppf / pdf of one marginal posterior (vectorised)."""

    def cdf(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def pdf(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def ppf(self, p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def mean_sd(self) -> tuple[float, float]:
        raise NotImplementedError


class _NormalMixture(_Dist):
    """sum_g w_g N(m_g, s_g^2); quantiles by bisection on the exact mixture CDF."""

    def __init__(self, w: np.ndarray, m: np.ndarray, s: np.ndarray) -> None:
        self.w, self.m, self.s = w, m, s

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return (self.w * ndtr((x[..., None] - self.m) / self.s)).sum(-1)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        z = (x[..., None] - self.m) / self.s
        return (self.w * np.exp(-0.5 * z**2) / (self.s * math.sqrt(2 * math.pi))).sum(-1)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        p = np.atleast_1d(np.asarray(p, dtype=float))
        lo = np.full(p.shape, float(np.min(self.m - 40 * self.s)))
        hi = np.full(p.shape, float(np.max(self.m + 40 * self.s)))
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < p
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def mean_sd(self) -> tuple[float, float]:
        mean = float((self.w * self.m).sum())
        var = float((self.w * (self.s**2 + (self.m - mean) ** 2)).sum())
        return mean, math.sqrt(max(var, 0.0))


class _GridDist(_Dist):
    """Density given at increasing nodes, linear in between; zero outside the nodes."""

    def __init__(self, x: np.ndarray, density: np.ndarray) -> None:
        area = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(x))])
        self.x, self.d, self.c = x, density / area[-1], area / area[-1]

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        i = np.clip(np.searchsorted(self.x, x) - 1, 0, self.x.size - 2)
        h = np.clip(x - self.x[i], 0.0, self.x[i + 1] - self.x[i])
        slope = (self.d[i + 1] - self.d[i]) / (self.x[i + 1] - self.x[i])
        return np.clip(self.c[i] + self.d[i] * h + 0.5 * slope * h**2, 0.0, 1.0)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return np.interp(np.asarray(x, dtype=float), self.x, self.d, left=0.0, right=0.0)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        p = np.atleast_1d(np.asarray(p, dtype=float))
        i = np.clip(np.searchsorted(self.c, p) - 1, 0, self.x.size - 2)
        dx = self.x[i + 1] - self.x[i]
        a = 0.5 * (self.d[i + 1] - self.d[i]) / dx
        b, c = self.d[i], self.c[i] - p
        # Solve a h^2 + b h + c = 0 on the segment (the CDF is quadratic there).
        with np.errstate(invalid="ignore", divide="ignore"):
            disc = np.sqrt(np.maximum(b * b - 4 * a * c, 0.0))
            h = np.where(np.abs(a) * dx > 1e-12 * np.maximum(b, 1e-300),
                         (-b + disc) / (2 * a), -c / np.where(b > 0, b, np.inf))
        return self.x[i] + np.clip(np.nan_to_num(h), 0.0, dx)

    def mean_sd(self) -> tuple[float, float]:
        w = np.concatenate([[0.0], np.diff(self.x)])
        wt = 0.5 * (w + np.concatenate([w[1:], [0.0]]))
        mean = float((wt * self.d * self.x).sum())
        var = float((wt * self.d * (self.x - mean) ** 2).sum())
        return mean, math.sqrt(max(var, 0.0))


class _QuadDist(_Dist):
    """A density known in closed form (up to a constant) on [a, b], integrated by Gauss-Legendre.

    The CDF at any point is a fresh Gauss-Legendre integral, so quantiles are as exact as the
    root finder (used for tau in the normal-normal model, as bayesmeta integrates it).
    """

    def __init__(self, logpdf: Callable[[np.ndarray], np.ndarray], a: float, b: float) -> None:
        self.logpdf, self.a, self.b = logpdf, a, b
        self.nodes, self.wts = _gl_panels(a, b, _PANELS, _PANEL_NODES)
        lp = logpdf(self.nodes)
        self.shift = float(lp.max())
        self.z = float((self.wts * np.exp(lp - self.shift)).sum())

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = (x >= self.a) & (x < self.b)
        xs = np.where(inside, x, 0.5 * (self.a + self.b))
        return np.where(inside, np.exp(self.logpdf(xs) - self.shift) / self.z, 0.0)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.clip(np.atleast_1d(np.asarray(x, dtype=float)), self.a, self.b)
        z, w = _GL_Z, _GL_W
        # Integrate [a, x] panel by panel on the fixed panel edges (accuracy independent of x),
        # every panel and every x in one call of the density.
        edges = np.linspace(self.a, self.b, _PANELS + 1)
        top = np.clip(x[None, :], edges[:-1, None], edges[1:, None])  # (panels, len(x))
        half = (top - edges[:-1, None]) / 2
        pts = edges[:-1, None, None] + half[..., None] * (z + 1)
        vals = np.exp(self.logpdf(pts.ravel()).reshape(pts.shape) - self.shift)
        out = (half * (vals * w).sum(-1)).sum(0)
        return np.clip(out / self.z, 0.0, 1.0)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        p = np.atleast_1d(np.asarray(p, dtype=float))
        # Bracket between neighbouring nodes of the fixed rule, then bisect on the exact CDF.
        order = np.argsort(self.nodes)
        knots = np.concatenate([[self.a], self.nodes[order], [self.b]])
        mass = self.wts[order] * np.exp(self.logpdf(self.nodes[order]) - self.shift) / self.z
        approx = np.concatenate([[0.0], np.cumsum(mass), [1.0]])
        i = np.clip(np.searchsorted(approx, p), 1, knots.size - 1)
        lo, hi = knots[np.maximum(i - 2, 0)], knots[np.minimum(i + 1, knots.size - 1)]
        bad = (self.cdf(lo) > p) | (self.cdf(hi) < p)
        lo, hi = np.where(bad, self.a, lo), np.where(bad, self.b, hi)
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        return 0.5 * (lo + hi)

    def expect(self, g: Callable[[np.ndarray], np.ndarray]) -> float:
        vals = np.exp(self.logpdf(self.nodes) - self.shift)
        return float((self.wts * vals * g(self.nodes)).sum() / self.z)

    def mean_sd(self) -> tuple[float, float]:
        mean = self.expect(lambda u: u)
        return mean, math.sqrt(max(self.expect(lambda u: (u - mean) ** 2), 0.0))


class _Mapped(_Dist):
    """The distribution of tau = c u / (1 - u) when u has distribution `base` on [0, 1)."""

    def __init__(self, base: _Dist, c: float) -> None:
        self.base, self.c = base, c

    def _u(self, tau: np.ndarray) -> np.ndarray:
        tau = np.maximum(np.asarray(tau, dtype=float), 0.0)
        return tau / (tau + self.c)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.base.cdf(self._u(x))

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = self.base.pdf(self._u(x)) * self.c / (np.maximum(x, 0.0) + self.c) ** 2
        return np.where(x < 0, 0.0, out)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        u = np.clip(self.base.ppf(p), 0.0, 1 - 1e-15)
        return self.c * u / (1 - u)

    def mean_sd(self) -> tuple[float, float]:
        if isinstance(self.base, _QuadDist):
            c = self.c
            mean = self.base.expect(lambda u: c * u / (1 - u))
            var = self.base.expect(lambda u: (c * u / (1 - u) - mean) ** 2)
            return mean, math.sqrt(max(var, 0.0))
        u = self.base.ppf((np.arange(4000) + 0.5) / 4000)
        t = self.c * u / (1 - u)
        return float(t.mean()), float(t.std())


def _quantiles(dists: Sequence[_Dist], probs: np.ndarray) -> np.ndarray:
    """ppf of several distributions at the same probabilities (rows: distributions).

    Normal mixtures over the same tau nodes are solved together in one vectorised bisection.
    """
    mixes = [d for d in dists if isinstance(d, _NormalMixture)]
    out = np.empty((len(dists), probs.size))
    if mixes and all(d.w is mixes[0].w for d in mixes):
        w = mixes[0].w
        m = np.stack([d.m for d in mixes])[:, None, :]  # (D, 1, G)
        sd = np.stack([d.s for d in mixes])[:, None, :]
        lo = np.repeat(np.min(m - 40 * sd, axis=2), probs.size, axis=1)  # (D, P)
        hi = np.repeat(np.max(m + 40 * sd, axis=2), probs.size, axis=1)
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            below = (w * ndtr((mid[..., None] - m) / sd)).sum(-1) < probs
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        solved = iter(0.5 * (lo + hi))
        for i, d in enumerate(dists):
            if isinstance(d, _NormalMixture):
                out[i] = next(solved)
    for i, d in enumerate(dists):
        if not (mixes and isinstance(d, _NormalMixture) and d.w is mixes[0].w):
            out[i] = d.ppf(probs)
    return out


def _shortest(dist: _Dist, level: float) -> tuple[float, float]:
    """Shortest interval with the given posterior probability (bayesmeta's default type)."""
    def width(p_lo: float) -> float:
        lo, hi = dist.ppf(np.array([p_lo, p_lo + level]))
        return float(hi - lo)

    res = optimize.minimize_scalar(width, bounds=(0.0, 1 - level), method="bounded",
                                   options={"xatol": 1e-10})
    p_lo = min((0.0, 1 - level, float(res.x)), key=width)
    lo, hi = dist.ppf(np.array([p_lo, p_lo + level]))
    return float(lo), float(hi)


# ---------------------------------------------------------------------------------------------
# The posterior object
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShrunkStudy:
    """One arm's (or unit's) data and the posterior of its own theta_i."""

    study: str
    events: int | None
    n: int | None
    yi: float | None
    vi: float | None
    median: float  # proportion scale
    low: float
    high: float
    theta_median: float  # measure scale
    theta_low: float
    theta_high: float
    p_exchangeable: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "study": self.study, "events": self.events, "n": self.n, "yi": json_number(self.yi),
            "vi": json_number(self.vi), "shrunk_estimate": json_number(self.median),
            "shrunk_low": json_number(self.low), "shrunk_high": json_number(self.high),
            "theta_median": json_number(self.theta_median),
            "theta_low": json_number(self.theta_low),
            "theta_high": json_number(self.theta_high),
        }
        if self.p_exchangeable is not None:
            out["p_exchangeable"] = json_number(self.p_exchangeable)
        return out


@dataclass(frozen=True, eq=False)  # distributions and arrays: compare explicitly
class BayesPosterior:
    """Posterior of a Bayesian random-effects model (bayesmeta-like).

    mu_* / tau_* / pred_* are on the measure's scale (pred = theta of a new arm); estimate,
    low, high, pi_low, pi_high and each study's median/low/high are back-transformed
    proportions. Intervals are central (equal-tailed) at `level`; ``interval(...,
    kind="shortest")`` gives bayesmeta's default shortest intervals.
    """

    likelihood: str
    measure: str
    prior: BayesPrior
    level: float
    k: int
    mu_median: float
    mu_low: float
    mu_high: float
    tau_median: float
    tau_low: float
    tau_high: float
    pred_median: float
    pred_low: float
    pred_high: float
    estimate: float
    low: float
    high: float
    pi_low: float
    pi_high: float
    studies: tuple[ShrunkStudy, ...]
    weights: np.ndarray  # percent; posterior-mean weights (normal), approximate (binomial)
    p_exchangeable: float | None = None  # EXNEX prior probability, None for plain models
    nex_prior: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()
    _mu: _Dist = field(default=None, repr=False)  # type: ignore[assignment]
    _tau: _Dist = field(default=None, repr=False)  # type: ignore[assignment]
    _pred: _Dist = field(default=None, repr=False)  # type: ignore[assignment]
    _theta: tuple[_Dist, ...] = field(default=(), repr=False)
    _data: tuple[Any, ...] | None = field(default=None, repr=False)  # what a refit needs
    _joint: tuple[np.ndarray, np.ndarray, float, np.ndarray] | None = field(default=None,
                                                                          repr=False)
    _n_all: np.ndarray | None = field(default=None, repr=False)

    # -- the prior, in words ---------------------------------------------------------------
    @property
    def prior_text(self) -> str:
        text = self.prior.describe(self.measure)
        if self.p_exchangeable is not None and self.nex_prior is not None:
            text += (f"; EXNEX: prior probability of exchangeability {self.p_exchangeable:g}, "
                     f"non-exchangeable units normal(mean {self.nex_prior[0]:g}, "
                     f"sd {self.nex_prior[1]:g})")
        return text

    @property
    def tau2_median(self) -> float:
        """Posterior median of tau^2 (= the square of tau's median: the map is monotone)."""
        return self.tau_median**2

    # -- density / distribution / quantile functions (bayesmeta's d/p/qposterior) ---------
    def density(self, what: str, x: Any) -> np.ndarray:
        """Marginal posterior density of `what` at x: 'mu' (the mean), 'tau' (the
        heterogeneity), 'pred' (a new arm's theta) or a study index as a string ('0', ...)."""
        return self._dist(what).pdf(np.asarray(x, dtype=float))

    def cdf(self, what: str, x: Any) -> np.ndarray:
        """Marginal posterior distribution function of `what` (as in `density`) at x."""
        return self._dist(what).cdf(np.asarray(x, dtype=float))

    def quantile(self, what: str, p: Any) -> np.ndarray:
        """Marginal posterior quantile of `what` (as in `density`) at probability p."""
        return self._dist(what).ppf(np.asarray(p, dtype=float))

    def joint_density(self, mu: Any, tau: Any) -> np.ndarray:
        """Joint posterior density p(mu, tau | data) (bayesmeta's dposterior(tau, mu)).

        Normal-normal: p(tau | y) N(mu; E[mu | tau, y], Var[mu | tau, y]), exact. Binomial:
        bilinear interpolation of the integration grid (zero outside it).
        """
        mu_a, tau_a = np.broadcast_arrays(np.asarray(mu, dtype=float),
                                          np.asarray(tau, dtype=float))
        flat_mu, flat_tau = mu_a.ravel(), np.maximum(tau_a.ravel(), 0.0)
        if self._joint is not None:
            from scipy.interpolate import RegularGridInterpolator

            u, nodes, c, dens = self._joint
            interp = RegularGridInterpolator((u, nodes), dens, bounds_error=False,
                                             fill_value=0.0)
            uu = flat_tau / (flat_tau + c)
            out = interp(np.column_stack([uu, flat_mu])) * c / (flat_tau + c) ** 2
        else:
            base = self._tau.base if isinstance(self._tau, _Mapped) else None
            model = getattr(getattr(base, "logpdf", None), "model", None)
            if model is None:
                raise BayesPoolingInputError("no joint density for this result")
            mean, var, _ = model.conditional(flat_tau)
            out = self._tau.pdf(flat_tau) * np.exp(-0.5 * (flat_mu - mean) ** 2 / var) / \
                np.sqrt(2 * math.pi * var)
        return np.where(tau_a.ravel() < 0, 0.0, out).reshape(mu_a.shape)

    def _dist(self, what: str) -> _Dist:
        named = {"mu": self._mu, "tau": self._tau, "pred": self._pred}
        if what in named:
            return named[what]
        if str(what).isdigit() and int(what) < len(self._theta):
            return self._theta[int(what)]
        raise BayesPoolingInputError(
            f"choose 'mu', 'tau', 'pred' or a study index 0-{len(self._theta) - 1}, got {what!r}")

    def summary(self, what: str) -> dict[str, float]:
        """Mean and sd of 'mu', 'tau', 'pred' or a study index as a string ('0', '1', ...)."""
        mean, sd = self._dist(what).mean_sd()
        return {"mean": mean, "sd": sd, "median": float(self.quantile(what, [0.5])[0])}

    def interval(self, what: str = "mu", level: float | None = None,
                 kind: str = "central") -> tuple[float, float]:
        """Credible interval of 'mu', 'tau', 'pred' or a study index, 'central' or 'shortest'."""
        lev = self.level if level is None else check_level(level)
        dist = self._dist(what)
        if kind == "shortest":
            return _shortest(dist, lev)
        if kind != "central":
            raise BayesPoolingInputError("interval kind must be 'central' or 'shortest'")
        lo, hi = dist.ppf(np.array([(1 - lev) / 2, (1 + lev) / 2]))
        return float(lo), float(hi)

    # -- probabilities on the proportion scale ---------------------------------------------
    def _to_scale(self, p: float) -> float:
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 < p < 1:
            raise BayesPoolingInputError(f"reference ORR must be between 0 and 1, got {p!r}")
        if self.measure == "logit":
            return math.log(p / (1 - p))
        if self.measure == "raw":
            return p
        if self.measure == "arcsine":
            return math.asin(math.sqrt(p))
        # ft: solve on the back-transformation used for the estimates (harmonic mean n)
        return float(optimize.brentq(
            lambda y: float(back_transform(np.array([y]), "ft", self._n_all)[0]) - p,
            0.0, math.pi / 2))

    def prob_above(self, reference: float) -> float:
        """P(pooled ORR > reference | data): the posterior probability that mu exceeds it."""
        return float(1 - self._mu.cdf(np.array([self._to_scale(reference)]))[0])

    def prob_new_arm_above(self, reference: float) -> float:
        """P(a new arm's true ORR > reference | data), from the predictive distribution."""
        return float(1 - self._pred.cdf(np.array([self._to_scale(reference)]))[0])

    # -- prior sensitivity ------------------------------------------------------------------
    def sensitivity(self, scales: Sequence[float] = SENSITIVITY_SCALES) -> pd.DataFrame:
        """Refit with the tau prior's scale set to each of `scales` (same family, same mu prior)."""
        if self._data is None:
            raise BayesPoolingInputError("this result cannot be refitted")
        if len(scales) > 10:
            raise BayesPoolingInputError("at most 10 prior scales in a sensitivity table")
        rows = []
        for s in scales:
            fit = _refit(self._data, replace(self.prior, tau_scale=s))
            rows.append({"tau_prior": fit.prior.tau_prior, "tau_scale": float(s),
                         "prior": fit.prior_text, "estimate": fit.estimate, "low": fit.low,
                         "high": fit.high, "pi_low": fit.pi_low, "pi_high": fit.pi_high,
                         "tau_median": fit.tau_median, "tau_low": fit.tau_low,
                         "tau_high": fit.tau_high})
        return pd.DataFrame(rows)

    # -- exports ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "k": self.k, "likelihood": self.likelihood, "measure": self.measure,
            "level": self.level, "prior": self.prior_text,
            "estimate": json_number(self.estimate), "low": json_number(self.low),
            "high": json_number(self.high),
            "pi_low": json_number(self.pi_low), "pi_high": json_number(self.pi_high),
            "mu_median": json_number(self.mu_median), "mu_low": json_number(self.mu_low),
            "mu_high": json_number(self.mu_high), "tau_median": json_number(self.tau_median),
            "tau_low": json_number(self.tau_low), "tau_high": json_number(self.tau_high),
            "tau2": json_number(self.tau2_median), "pred_median": json_number(self.pred_median),
            "pred_low": json_number(self.pred_low), "pred_high": json_number(self.pred_high),
            "studies": [s.to_dict() for s in self.studies], "notes": list(self.notes),
        }
        if self.p_exchangeable is not None:
            out["p_exchangeable_prior"] = self.p_exchangeable
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per study: data, shrunk estimate and its central credible interval."""
        return pd.DataFrame([s.to_dict() for s in self.studies])


# ---------------------------------------------------------------------------------------------
# Normal-normal model (bayesmeta)
# ---------------------------------------------------------------------------------------------


def _gl_panels(a: float, b: float, panels: int, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = (_GL_Z, _GL_W) if nodes == _PANEL_NODES else np.polynomial.legendre.leggauss(nodes)
    edges = np.linspace(a, b, panels + 1)
    half = np.diff(edges)[:, None] / 2
    mid = (edges[:-1] + edges[1:])[:, None] / 2
    return (mid + half * z).ravel(), (half * w).ravel()


class _NormalModel:
    """Conditional posterior of mu given tau, and the marginal log-likelihood of tau."""

    def __init__(self, y: np.ndarray, v: np.ndarray, prior: BayesPrior) -> None:
        self.y, self.v, self.prior = y, v, prior

    def conditional(self, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, variance of mu | tau, y; log p(y | tau) up to a constant) at each tau."""
        t2 = np.asarray(tau, dtype=float)[:, None] ** 2
        w = 1 / (self.v + t2)
        prec = w.sum(1)
        num = (w * self.y).sum(1)
        p = self.prior
        if p.mu_sd is not None:
            prec = prec + 1 / p.mu_sd**2
            num = num + p.mu_mean / p.mu_sd**2
        mean = num / prec
        rss = (w * (self.y - mean[:, None]) ** 2).sum(1)
        if p.mu_sd is not None:
            rss = rss + (mean - p.mu_mean) ** 2 / p.mu_sd**2
        loglik = 0.5 * (np.log(w).sum(1) - np.log(prec) - rss)
        return mean, 1 / prec, loglik

    def log_post_u(self, u: np.ndarray, c: float) -> np.ndarray:
        """Log posterior density of u = tau / (tau + c) (Jacobian included)."""
        tau = c * u / (1 - u)
        _, _, ll = self.conditional(tau)
        return ll + self.prior.log_tau_density(tau) + np.log(c) - 2 * np.log1p(-u)


@dataclass(frozen=True, eq=False)
class _LogPostU:
    """log p(u | y) of the normal-normal model; a class (not a closure) so results pickle."""

    model: _NormalModel
    c: float

    def __call__(self, u: np.ndarray) -> np.ndarray:
        return self.model.log_post_u(np.minimum(u, 1 - 1e-15), self.c)


def _fit_normal(y: np.ndarray, v: np.ndarray, prior: BayesPrior
                ) -> tuple[_Dist, _Dist, _Dist, list[_Dist], np.ndarray, list[str]]:
    model = _NormalModel(y, v, prior)
    notes: list[str] = []
    c = prior.tau_scale if prior.tau_prior != "uniform" else float(np.sqrt(np.median(v)))
    if prior.tau_prior == "uniform" and y.size < 3:
        raise BayesPoolingInputError(
            "an improper uniform prior on tau needs at least 3 studies; use a proper prior")
    # Locate the region of u that carries the posterior mass, then integrate it accurately.
    uc = (np.arange(_COARSE) + 0.5) / _COARSE
    lc = model.log_post_u(uc, c)
    keep = np.flatnonzero(lc > lc.max() - 40)
    a = max(0.0, (keep[0] - 1) / _COARSE)
    b = min(1.0, (keep[-1] + 2) / _COARSE)
    u, wu = _gl_panels(a, b, _PANELS, _PANEL_NODES)
    lp = model.log_post_u(u, c)
    wt = wu * np.exp(lp - lp.max())
    wt /= wt.sum()
    tau = c * u / (1 - u)
    mean, var, _ = model.conditional(tau)
    tau_dist = _Mapped(_QuadDist(_LogPostU(model, c), a, b), c)
    mu_dist = _NormalMixture(wt, mean, np.sqrt(var))
    pred_dist = _NormalMixture(wt, mean, np.sqrt(var + tau**2))
    thetas: list[_Dist] = []
    for yi, vi in zip(y, v, strict=True):
        shrink = vi / (vi + tau**2)  # weight of mu in theta_i's conditional mean
        m_i = shrink * mean + (1 - shrink) * yi
        s2_i = vi * (1 - shrink) + shrink**2 * var
        thetas.append(_NormalMixture(wt, m_i, np.sqrt(s2_i)))
    # bayesmeta's posterior weights: E[mu | y] = sum_i w_i y_i (+ prior weight).
    w_study = (wt[:, None] * (1 / (v + tau[:, None] ** 2)) * var[:, None]).sum(0)
    return mu_dist, tau_dist, pred_dist, thetas, 100 * w_study, notes


# ---------------------------------------------------------------------------------------------
# Binomial-normal model and EXNEX on a grid
# ---------------------------------------------------------------------------------------------


def _ramp_expectation(mu: np.ndarray, tau: float, nodes: np.ndarray) -> np.ndarray:
    """E[max(X - a_j, 0)] for X ~ N(mu, tau^2), each mu (rows) and node a_j (columns)."""
    d = mu[:, None] - nodes[None, :]
    if tau <= 0:
        return np.maximum(d, 0.0)
    z = d / tau
    return tau * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))


def _hat_kernel(mu: np.ndarray, tau: float, nodes: np.ndarray) -> np.ndarray:
    """E[b_j(X)], X ~ N(mu, tau^2), for the piecewise-linear basis b_j on `nodes` (uniform).

    b_j are hat functions, with 'shoulders' at both ends that stay constant beyond the grid,
    so sum_j f(node_j) b_j is f's linear interpolant extended as a constant. Rows: mu; columns j.
    """
    step = nodes[1] - nodes[0]
    r = _ramp_expectation(mu, tau, nodes)
    k = np.empty_like(r)
    k[:, 1:-1] = (r[:, :-2] - 2 * r[:, 1:-1] + r[:, 2:]) / step
    k[:, 0] = 1 - (r[:, 0] - r[:, 1]) / step
    k[:, -1] = (r[:, -2] - r[:, -1]) / step
    return np.clip(k, 0.0, None)


class _Kernels:
    """E[b_j(mu_m + tau_t Z)] for mu at every node, every tau node: the matrices K_t[m, j].

    Interior columns depend on m - j only (a symmetric Toeplitz band, `base`), so products with
    K_t are FFT convolutions, batched over tau; the two shoulder columns are kept apart. No BLAS
    matrix products: on a loaded machine multithreaded BLAS stalls for small matrices.
    """

    def __init__(self, taus: np.ndarray, nodes: np.ndarray) -> None:
        j = nodes.size
        step = nodes[1] - nodes[0]
        offsets = np.arange(-(j - 1), j) * step
        self.j = j
        tau = np.asarray(taus, dtype=float)[:, None]

        def ramp(d: np.ndarray) -> np.ndarray:  # E[max(d + tau Z, 0)] for every tau (rows)
            z = d[None, :] / tau
            return tau * (z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi))

        # Same formulas as _hat_kernel, vectorised over tau.
        self.base = np.clip((ramp(offsets + step) - 2 * ramp(offsets) + ramp(offsets - step))
                            / step, 0.0, None)
        self.left = np.clip(1 - (ramp(nodes - nodes[0]) - ramp(nodes - nodes[1])) / step,
                            0.0, None)
        self.right = np.clip((ramp(nodes - nodes[-2]) - ramp(nodes - nodes[-1])) / step,
                             0.0, None)

    def forward(self, f: np.ndarray) -> np.ndarray:
        """out[t, m, i] = sum_j f[i, j] K_t[m, j] (f: rows i over theta nodes j)."""
        j = self.j
        inner = f.copy()
        inner[:, [0, -1]] = 0.0
        conv = fftconvolve(inner[None, :, :], self.base[:, None, :], axes=2)[..., j - 1:2 * j - 1]
        out = conv + f[None, :, 0:1] * self.left[:, None, :] + f[None, :, -1:] * self.right[:,
                                                                                           None, :]
        return np.transpose(out, (0, 2, 1))

    def backward(self, h: np.ndarray) -> np.ndarray:
        """out[i, j] = sum_t sum_m h[t, i, m] K_t[m, j] (h: tau x rows x mu nodes)."""
        j = self.j
        out = fftconvolve(h, self.base[:, None, :], axes=2)[..., j - 1:2 * j - 1].sum(0)
        out[:, 0] = np.einsum("tim,tm->i", h, self.left)
        out[:, -1] = np.einsum("tim,tm->i", h, self.right)
        return out


@dataclass(frozen=True)
class _GridFit:
    mu: _Dist
    tau: _Dist
    pred: _Dist
    thetas: list[_Dist]
    p_ex: np.ndarray | None
    weights: np.ndarray
    notes: list[str]
    joint: tuple[np.ndarray, np.ndarray, float, np.ndarray] | None = None


_GRID_LIMIT = 30.0  # logit bounds of the theta / mu grid (expit(-30) ~ 1e-13)
_EDGE_MASS = 1e-6  # posterior mass of mu per edge node that makes the grid widen


def _theta_grid(x: np.ndarray, m: np.ndarray, widen: tuple[float, float] = (0.0, 0.0)
                ) -> np.ndarray:
    """Nodes wide enough that each likelihood is flat beyond them, fine enough to resolve it."""
    pt = (x + 0.5) / (m + 1.0)
    centre = np.log(pt / (1 - pt))
    lim = _GRID_LIMIT
    lo = float(np.clip(centre.min() - 5 - 0.5 * math.log(m.max()) - widen[0], -lim, lim))
    hi = float(np.clip(centre.max() + 5 + 0.5 * math.log(m.max()) + widen[1], -lim, lim))
    sd_min = float(np.min(1 / np.sqrt(m * pt * (1 - pt))))
    step = min(0.08, sd_min / 4)  # 4 nodes per sd of the sharpest likelihood
    size = max(math.ceil((hi - lo) / step) + 1, _J_MIN)
    if size > _J_MAX or size * x.size > _GRID_CELLS:
        raise BayesPoolingInputError(
            f"the binomial model's grid would need {size:,} nodes for {x.size} arms (limits: "
            f"{_J_MAX:,} nodes, {_GRID_CELLS:,} nodes x arms): an arm with very many patients "
            "or, under a flat prior on mu, nearly all-0 % arms; use the normal likelihood or a "
            "normal prior on mu")
    return np.linspace(lo, hi, size)


def _fit_binomial(x: np.ndarray, m: np.ndarray, prior: BayesPrior, p_ex: float = 1.0,
                  nex: tuple[float, float] = (0.0, 2.0)) -> _GridFit:
    """The grid fit, widened where the posterior of mu reaches the grid's edge.

    With a flat prior on mu and (nearly) all-0 % or all-100 % arms, mu's posterior has a long
    tail (it decays like exp(mu * events)); the grid is widened by 8 logit units on that side
    until the edge carries no mass, up to +/- 30 on the logit scale.
    """
    widen = [0.0, 0.0]
    for _ in range(4):
        fit, edges = _fit_binomial_on(_theta_grid(x, m, (widen[0], widen[1])), x, m, prior,
                                      p_ex, nex)
        grow = [e > _EDGE_MASS for e in edges]
        if not any(grow):
            return fit
        widen = [w + 8.0 * g for w, g in zip(widen, grow, strict=True)]
    notes = [*fit.notes, "part of the posterior of mu lies at the edge of the integration grid "
             "(logit ±30); a proper (normal) prior on mu would bound it"]
    return replace(fit, notes=notes)


def _fit_binomial_on(nodes: np.ndarray, x: np.ndarray, m: np.ndarray, prior: BayesPrior,
                     p_ex: float, nex: tuple[float, float]
                     ) -> tuple[_GridFit, tuple[float, float]]:
    notes: list[str] = []
    j = nodes.size
    step = nodes[1] - nodes[0]
    # Each study's likelihood in theta on the nodes, scaled to a maximum of 1 (a constant per
    # study, so it cancels in every posterior quantity, EXNEX included).
    logf = x[:, None] * nodes[None, :] - m[:, None] * np.logaddexp(0.0, nodes)[None, :]
    f = np.exp(logf - logf.max(1, keepdims=True))  # (k, J)
    c = prior.tau_scale if prior.tau_prior != "uniform" else 1.0
    u = (np.arange(_T_NODES) + 0.5) / _T_NODES
    taus = c * u / (1 - u)
    log_tau = prior.log_tau_density(taus) + np.log(c) - 2 * np.log1p(-u)
    if prior.mu_sd is None:
        log_mu = np.zeros(j)
    else:
        log_mu = -0.5 * ((nodes - prior.mu_mean) / prior.mu_sd) ** 2
    exnex = p_ex < 1.0
    if exnex:
        k_nex = _hat_kernel(np.array([nex[0]]), nex[1], nodes)[0]  # (J,)
        l_nex = f @ k_nex  # (k,)
    kernels = _Kernels(taus, nodes)
    lik = np.maximum(kernels.forward(f), 1e-300)  # (tau, mu, k): marginal likelihood per study
    mix = p_ex * lik + (1 - p_ex) * l_nex[None, None, :] if exnex else lik
    logpost = np.log(mix).sum(2) + log_mu[None, :] + log_tau[:, None]
    w = np.exp(logpost - logpost.max())
    w /= w.sum()  # joint posterior mass on the (tau, mu) grid (uniform steps in u and mu)
    mass_mu = w.sum(0)
    mass_u = w.sum(1)
    edges = (float(mass_mu[:2].sum()), float(mass_mu[-2:].sum()))
    mu_dist = _GridDist(nodes, mass_mu / step)
    ug = np.concatenate([[0.0], u, [1.0]])
    du = np.concatenate([[mass_u[0]], mass_u, [mass_u[-1] * 0.0]]) * _T_NODES
    tau_dist = _Mapped(_GridDist(ug, du), c)
    pred_mass = np.clip(kernels.backward(w[:, None, :])[0], 0.0, None)
    wk = np.transpose(w[:, :, None] / mix, (0, 2, 1))  # (tau, k, mu): posterior / likelihood
    p_ex_post = None
    if exnex:
        p_ex_post = (w[:, :, None] * (p_ex * lik / mix)).sum((0, 1))
        theta_mass = f * kernels.backward(p_ex * wk)
        theta_mass += f * ((1 - p_ex) * wk.sum((0, 2)))[:, None] * k_nex[None, :]
    else:
        theta_mass = f * kernels.backward(wk)
    theta_mass = np.clip(theta_mass, 0.0, None)
    thetas: list[_Dist] = [_GridDist(nodes, theta_mass[i] / step) for i in range(x.size)]
    pred_dist = _GridDist(nodes, pred_mass / step)
    # Approximate inverse-variance weights at the posterior median of tau (as for GLMM).
    t_med = float(tau_dist.ppf(np.array([0.5]))[0])
    pt = (x + 0.5) / (m + 1.0)
    vi = 1 / (m * pt * (1 - pt))
    wi = 1 / (vi + t_med**2)
    # Joint density of (u, mu) at the grid nodes: mass / (du * dmu).
    joint = (u, nodes, c, w * _T_NODES / step)
    return (_GridFit(mu_dist, tau_dist, pred_dist, thetas, p_ex_post, 100 * wi / wi.sum(),
                     notes, joint), edges)


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _check_options(prior: BayesPrior | None, likelihood: str) -> BayesPrior:
    if prior is None:
        prior = DEFAULT_PRIOR
    if not isinstance(prior, BayesPrior):
        raise BayesPoolingInputError("prior must be a BayesPrior")
    check_choice(likelihood, LIKELIHOOD_CHOICES, "likelihood")
    return prior


def fit_bayes(
    events: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    studies: Sequence[str] | None = None,
    measure: str = "logit",
    likelihood: str = "normal",
    prior: BayesPrior | None = None,
    level: float = 0.95,
    p_exchangeable: float = 1.0,
    nex_mean: float = 0.0,
    nex_sd: float = 2.0,
) -> BayesPosterior:
    """Bayesian random-effects pooling of single proportions (events of n per study).

    ``likelihood="normal"``: the normal-normal model on `measure` with metafor's effect sizes
    (continuity correction 0.5 only for 0 %/100 % studies, as the frequentist models);
    ``"binomial"``: the binomial-normal model on the logit scale (no correction).
    ``p_exchangeable`` < 1 (binomial only) fits EXNEX with non-exchangeable prior
    N(nex_mean, nex_sd^2) on the logit scale; the default nex_sd = 2 carries about one patient's
    information at ORR 50 % (variance 1 / (p (1 - p)) = 4; Neuenschwander et al. 2016).
    """
    prior = _check_options(prior, likelihood)
    measure = check_choice(measure, MEASURE_CHOICES, "measure")
    level = check_level(level)
    x, m = as_counts(events, n)
    k = x.size
    names = validate_labels(studies, k, "studies", unique=True)
    if np.any(m > MAX_N):
        raise BayesPoolingInputError(f"n must be at most {MAX_N:,} per study")
    nex_sd = _check_exnex(p_exchangeable, nex_mean, nex_sd)
    if likelihood == "normal":
        fit = _normal_marginals(x, m, names, measure, prior, p_exchangeable)
    else:
        fit = _binomial_marginals(x, m, measure, prior, p_exchangeable, nex_mean, nex_sd)
    notes = list(fit.notes)
    mu_d, tau_d, pred_d, theta_d = fit.mu, fit.tau, fit.pred, fit.thetas
    lo_p, hi_p = (1 - level) / 2, (1 + level) / 2
    qs = _quantiles([mu_d, tau_d, pred_d, *theta_d], np.array([0.5, lo_p, hi_p]))
    mu_q, tau_q, pred_q = qs[0], qs[1], qs[2]
    bt = back_transform(np.concatenate([mu_q, pred_q]), measure, m)
    rows = _shrunk_studies(qs[3:], x, m, names, measure, fit)
    if k == 1:
        notes.append("k = 1: the heterogeneity and the predictive interval rest on the prior")

    return BayesPosterior(
        likelihood=likelihood, measure=measure, prior=prior, level=level, k=k,
        mu_median=float(mu_q[0]), mu_low=float(mu_q[1]), mu_high=float(mu_q[2]),
        tau_median=float(tau_q[0]), tau_low=float(tau_q[1]), tau_high=float(tau_q[2]),
        pred_median=float(pred_q[0]), pred_low=float(pred_q[1]), pred_high=float(pred_q[2]),
        estimate=float(bt[0]), low=float(bt[1]), high=float(bt[2]), pi_low=float(bt[4]),
        pi_high=float(bt[5]), studies=rows, weights=np.asarray(fit.weights, dtype=float),
        p_exchangeable=None if p_exchangeable >= 1 else float(p_exchangeable),
        nex_prior=None if p_exchangeable >= 1 else (float(nex_mean), nex_sd),
        notes=tuple(dict.fromkeys(notes)), _mu=mu_d, _tau=tau_d, _pred=pred_d,
        _theta=tuple(theta_d), _n_all=m, _joint=fit.joint,
        _data=("pool", x, m, tuple(names), measure, likelihood, level, p_exchangeable, nex_mean,
               nex_sd),
    )


class _Marginals(NamedTuple):
    """A fitted model's marginal posteriors, weights and notes, with the per-study effect
    sizes (normal likelihood) and posterior probabilities of exchangeability (EXNEX)."""

    mu: _Dist
    tau: _Dist
    pred: _Dist
    thetas: Sequence[_Dist]
    weights: np.ndarray
    notes: list[str]
    yi: list[float | None]
    vi: list[float | None]
    p_ex: np.ndarray | None
    joint: tuple[np.ndarray, np.ndarray, float, np.ndarray] | None


def _check_exnex(p_exchangeable: Any, nex_mean: Any, nex_sd: Any) -> float:
    """The EXNEX options checked; returns the non-exchangeable prior sd."""
    if isinstance(p_exchangeable, bool) or not isinstance(p_exchangeable, int | float) \
            or not 0 < p_exchangeable <= 1:
        raise BayesPoolingInputError(
            f"prior probability of exchangeability must be in (0, 1], got {p_exchangeable!r}")
    sd = _positive(nex_sd, "non-exchangeable prior sd", 10.0)
    if not (isinstance(nex_mean, int | float) and math.isfinite(nex_mean)
            and abs(nex_mean) <= 20):
        raise BayesPoolingInputError(
            f"non-exchangeable prior mean must be within ±20 on the logit scale, got "
            f"{nex_mean!r}")
    return sd


def _normal_marginals(x: np.ndarray, m: np.ndarray, names: list[str], measure: str,
                      prior: BayesPrior, p_exchangeable: float) -> _Marginals:
    """The normal-normal model on the measure's scale (metafor's effect sizes)."""
    k = x.size
    if k > MAX_STUDIES_NORMAL:
        raise BayesPoolingInputError(
            f"at most {MAX_STUDIES_NORMAL:,} studies for the normal-normal model")
    if p_exchangeable < 1:
        raise BayesPoolingInputError("EXNEX uses the binomial likelihood")
    es = effect_sizes(x, m, measure)
    y, v = es.yi, es.vi
    mu_d, tau_d, pred_d, theta_d, weights, extra = _fit_normal(y, v, prior)
    notes = list(extra)
    corrected = [names[i] for i in np.flatnonzero(es.corrected)]
    if corrected:
        notes.append("continuity correction 0.5 added to events and non-events of: "
                     + ", ".join(corrected))
    return _Marginals(mu_d, tau_d, pred_d, theta_d, weights, notes,
                      [float(a) for a in y], [float(a) for a in v], None, None)


def _binomial_marginals(x: np.ndarray, m: np.ndarray, measure: str, prior: BayesPrior,
                        p_exchangeable: float, nex_mean: float, nex_sd: float) -> _Marginals:
    """The binomial-normal model on the logit scale (EXNEX when p_exchangeable < 1)."""
    k = x.size
    if measure != "logit":
        raise BayesPoolingInputError("the binomial likelihood models the logit of the "
                                     "proportion; use measure logit")
    if k > MAX_STUDIES_BINOMIAL:
        raise BayesPoolingInputError(
            f"at most {MAX_STUDIES_BINOMIAL} studies for the binomial-normal model")
    if prior.mu_sd is None and (np.all(x == 0) or np.all(x == m)):
        raise BayesPoolingInputError(
            "with every study at 0 % (or 100 %) the posterior under a flat prior on mu is "
            "improper; give mu a normal prior (e.g. --mu-prior-sd 2)")
    if prior.tau_prior == "uniform":
        raise BayesPoolingInputError("the binomial model needs a proper prior on tau")
    g = _fit_binomial(x, m, prior, float(p_exchangeable), (float(nex_mean), nex_sd))
    notes = [*g.notes, "weights are approximate inverse-variance weights 1/(v_i + tau^2) "
             "at the posterior median of tau"]
    return _Marginals(g.mu, g.tau, g.pred, g.thetas, g.weights, notes, [None] * k,
                      [None] * k, g.p_ex, g.joint)


def _shrunk_studies(theta_q: np.ndarray, x: np.ndarray, m: np.ndarray, names: list[str],
                    measure: str, fit: _Marginals) -> tuple[ShrunkStudy, ...]:
    """Each study's shrunken estimate (median and interval of its theta), both scales."""
    rows = []
    for i in range(x.size):
        q = theta_q[i]
        b = back_transform(q, measure, m)
        rows.append(ShrunkStudy(
            study=names[i], events=int(x[i]), n=int(m[i]), yi=fit.yi[i], vi=fit.vi[i],
            median=float(b[0]), low=float(b[1]), high=float(b[2]), theta_median=float(q[0]),
            theta_low=float(q[1]), theta_high=float(q[2]),
            p_exchangeable=None if fit.p_ex is None else float(fit.p_ex[i])))
    return tuple(rows)


def bayes_meta(
    yi: Sequence[float] | np.ndarray,
    sei: Sequence[float] | np.ndarray,
    studies: Sequence[str] | None = None,
    prior: BayesPrior | None = None,
    level: float = 0.95,
) -> BayesPosterior:
    """The normal-normal model for generic estimates and standard errors (bayesmeta(y, sigma)).

    Proportion-scale fields are left as the identity (measure 'generic').
    """
    prior = _check_options(prior, "normal")
    level = check_level(level)
    y = np.asarray(yi, dtype=float)
    s = np.asarray(sei, dtype=float)
    if y.ndim != 1 or y.shape != s.shape or y.size == 0:
        raise BayesPoolingInputError("yi and sei must be non-empty sequences of the same length")
    if y.size > MAX_STUDIES_NORMAL:
        raise BayesPoolingInputError(f"at most {MAX_STUDIES_NORMAL:,} studies")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise BayesPoolingInputError("yi must be finite and sei finite and positive")
    names = validate_labels(studies, y.size, "studies", unique=True)
    v = s**2
    mu_d, tau_d, pred_d, theta_d, weights, notes = _fit_normal(y, v, prior)
    probs = np.array([0.5, (1 - level) / 2, (1 + level) / 2])
    qs = _quantiles([mu_d, tau_d, pred_d, *theta_d], probs)
    mu_q, tau_q, pred_q = qs[0], qs[1], qs[2]
    rows = []
    for i in range(y.size):
        q = qs[3 + i]
        rows.append(ShrunkStudy(names[i], None, None, float(y[i]), float(v[i]), float(q[0]),
                                float(q[1]), float(q[2]), float(q[0]), float(q[1]),
                                float(q[2])))

    return BayesPosterior(
        likelihood="normal", measure="generic", prior=prior, level=level, k=int(y.size),
        mu_median=float(mu_q[0]), mu_low=float(mu_q[1]), mu_high=float(mu_q[2]),
        tau_median=float(tau_q[0]), tau_low=float(tau_q[1]), tau_high=float(tau_q[2]),
        pred_median=float(pred_q[0]), pred_low=float(pred_q[1]), pred_high=float(pred_q[2]),
        estimate=float(mu_q[0]), low=float(mu_q[1]), high=float(mu_q[2]),
        pi_low=float(pred_q[1]), pi_high=float(pred_q[2]), studies=tuple(rows),
        weights=weights, notes=tuple(notes), _mu=mu_d, _tau=tau_d, _pred=pred_d,
        _theta=tuple(theta_d), _data=("meta", y, s, tuple(names), level),
    )


def _refit(data: tuple[Any, ...], prior: BayesPrior) -> BayesPosterior:
    """The same model and data under another prior (the sensitivity table)."""
    if data[0] == "meta":
        _, y, s, names, level = data
        return bayes_meta(y, s, list(names), prior, level)
    _, x, m, names, measure, likelihood, level, p_ex, nex_mean, nex_sd = data
    return fit_bayes(x, m, list(names), measure, likelihood, prior, level, p_ex, nex_mean,
                      nex_sd)


def predictive_beta_prior(posterior: BayesPosterior) -> BetaPrior:
    """A Beta(a, b) prior for a new arm's response rate, moment-matched to the predictive.

    The predictive distribution of a new arm's theta is back-transformed to the proportion
    scale; its mean m and variance s^2 (by quadrature over 4,000 equal-probability points) give
    a = m (m (1 - m) / s^2 - 1), b = (1 - m) (m (1 - m) / s^2 - 1), the Beta with the same mean
    and variance (effective sample size a + b). Used as the prior of a Bayesian single-arm design.
    """
    if posterior.measure == "generic":
        raise BayesPoolingInputError("a Beta prior needs a posterior of proportions")
    p = (np.arange(4000) + 0.5) / 4000
    props = back_transform(posterior.quantile("pred", p), posterior.measure, posterior._n_all)
    mean, var = float(props.mean()), float(props.var())
    if not 0 < mean < 1 or var <= 0 or var >= mean * (1 - mean):
        raise BayesPoolingInputError("the predictive distribution has no Beta equivalent")
    common = mean * (1 - mean) / var - 1
    return BetaPrior(mean * common, (1 - mean) * common)


# ---------------------------------------------------------------------------------------------
# The frequentist pipeline's result shape (pool_proportions(..., method="BAYES"))
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BayesPooledProportion(PooledProportion):
    """A PooledProportion whose numbers come from the Bayesian model.

    estimate = posterior median of mu back-transformed; low/high = central credible interval;
    pi_low/pi_high = the predictive interval of a new arm; tau2 = posterior median of tau^2.
    q/q_df/q_p are Cochran's Q on the same effect sizes (descriptive, model-free); i2 and h2 are
    None (they need a tau^2 point estimate that the Bayesian model does not make).
    """

    posterior: BayesPosterior | None = field(default=None, repr=False, compare=False)
    options: BayesOptions = field(default_factory=BayesOptions)

    @property
    def prior(self) -> str:
        return "" if self.posterior is None else self.posterior.prior_text

    @property
    def method_name(self) -> str:
        """Methods-paragraph text for the prior actually used (as MODEL_CHOICES' prose)."""
        return self.options.labels()[1]

    @property
    def method_short(self) -> str:
        return self.options.labels()[2]

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        post = self.posterior
        if post is None:
            return out
        out.update({"likelihood": post.likelihood, "prior": post.prior_text,
                    "tau_median": json_number(post.tau_median),
                    "tau_low": json_number(post.tau_low),
                    "tau_high": json_number(post.tau_high)})
        for row, shrunk in zip(out["studies"], post.studies, strict=True):
            row.update({"shrunk_estimate": json_number(shrunk.median),
                        "shrunk_low": json_number(shrunk.low),
                        "shrunk_high": json_number(shrunk.high)})
        return out


def _cochran_q(x: np.ndarray, m: np.ndarray, measure: str) -> tuple[float | None, int,
                                                                     float | None]:
    if x.size < 2:
        return None, 0, None
    es = effect_sizes(x, m, measure)
    return cochran_q(es.yi, es.vi)


def _bayes_subgroups(x: np.ndarray, m: np.ndarray, glabels: Sequence[str], measure: str,
                     opts: BayesOptions, level: float,
                     prior_ok: bool) -> tuple[tuple[SubgroupResult, ...], list[str]]:
    """One Bayesian model per subgroup (the not-estimable rule per subgroup) and their notes."""
    out: list[SubgroupResult] = []
    gnotes: list[str] = []
    for g in dict.fromkeys(glabels):
        idx = np.array([i for i, lab in enumerate(glabels) if lab == g])
        xs, ms = x[idx], m[idx]
        why = None if prior_ok else not_estimable_reason(xs, ms)
        if why is not None:
            out.append(not_estimable_subgroup(g, why, xs, ms, level))
            gnotes.extend(out[-1].notes)
            continue
        sub = fit_bayes(xs, ms, None, measure, opts.likelihood, opts.prior, level)
        sq, _, _ = _cochran_q(xs, ms, measure)
        out.append(SubgroupResult(group=g, k=int(idx.size), estimate=sub.estimate,
                                  low=sub.low, high=sub.high, tau2=sub.tau2_median,
                                  i2=None, q=sq, estimable=True, events=int(xs.sum()),
                                  n=int(ms.sum()), method_used="BAYES"))
    gnotes.append("separate Bayesian model per subgroup; no test for subgroup differences "
                  "(the between-subgroup Q test is frequentist and is not reported)")
    return tuple(out), gnotes


def pool_bayes(
    events: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    studies: Sequence[str] | None = None,
    measure: str = "logit",
    level: float = 0.95,
    groups: Sequence[str] | None = None,
    study_ci: str = "wilson",
    options: BayesOptions | None = None,
    hksj: bool = False,
) -> BayesPooledProportion:
    """pool_proportions(..., method="BAYES"): the Bayesian model in the PooledProportion shape.

    The pipeline's sparse-data rule holds here too: k >= 2 arms all at 0 % (or all at 100 %)
    are not estimable (summed counts, exact interval) unless the likelihood is binomial and mu
    has a proper prior, when the posterior is well defined (it then rests on that prior).
    """
    opts = options if options is not None else BayesOptions()
    if not isinstance(opts, BayesOptions):
        raise BayesPoolingInputError("bayes options must be a BayesOptions")
    measure = check_choice(measure, MEASURE_CHOICES, "measure")
    level = check_level(level)
    x, m = as_counts(events, n)
    k = x.size
    names = validate_labels(studies, k, "studies", unique=True)
    glabels = validate_labels(groups, k, "groups", unique=False) if groups is not None else None
    prior_ok = opts.likelihood == "binomial" and opts.prior.mu_sd is not None
    subgroups: tuple[SubgroupResult, ...] = ()
    gnotes: list[str] = []
    if glabels is not None:
        subgroups, gnotes = _bayes_subgroups(x, m, glabels, measure, opts, level, prior_ok)
    why = None if prior_ok else not_estimable_reason(x, m)
    if why is not None:
        model_note = ("the Bayesian model was not fitted (with a binomial likelihood and a "
                      "normal prior on mu it can be); study weights are shares of the patients")
        return BayesPooledProportion(
            measure=measure, method="BAYES", hksj=False, subgroups=subgroups, posterior=None,
            options=opts,
            **not_estimable_pool(why, x, m, names, study_ci, level, [model_note, *gnotes]))

    post = fit_bayes(x, m, names, measure, opts.likelihood, opts.prior, level)
    notes = list(post.notes)
    if hksj:
        notes.append("the Hartung-Knapp-Sidik-Jonkman adjustment does not apply to the Bayesian "
                     "model; credible intervals are shown")
    notes.append(f"prior: {post.prior_text}")
    if measure == "ft":
        notes.append(f"Freeman-Tukey back-transformation at the harmonic mean n = "
                     f"{1 / np.mean(1 / m):.1f}")
    q, q_df, q_p = _cochran_q(x, m, measure)
    rows = tuple(
        StudyEstimate(study=names[i], events=int(x[i]), n=int(m[i]), estimate=c.estimate,
                      low=c.low, high=c.high, weight=float(post.weights[i]))
        for i in range(k) for c in [study_interval(int(x[i]), int(m[i]), study_ci, level)])
    corrected: tuple[str, ...] = ()
    if opts.likelihood == "normal":
        es = effect_sizes(x, m, measure)
        corrected = tuple(names[i] for i in np.flatnonzero(es.corrected))
    return BayesPooledProportion(
        k=k, measure=measure, method="BAYES", hksj=False, level=level,
        estimate=post.estimate, low=post.low, high=post.high, pi_low=post.pi_low,
        pi_high=post.pi_high, tau2=post.tau2_median, i2=None, i2_low=None, i2_high=None,
        h2=None, q=q, q_df=q_df if q is not None else 0, q_p=q_p, studies=rows,
        subgroups=subgroups, corrected=corrected, notes=tuple(dict.fromkeys(notes + gnotes)),
        fit=None, estimable=True, method_used="BAYES", events=int(x.sum()), n=int(m.sum()),
        posterior=post, options=opts,
    )


__all__ = [
    "DEFAULT_PRIOR", "BayesOptions", "BayesPooledProportion",
    "BayesPoolingInputError", "BayesPosterior", "BayesPrior", "ShrunkStudy", "bayes_meta",
    "fit_bayes", "pool_bayes", "predictive_beta_prior",
]
