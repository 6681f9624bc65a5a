"""Pooling of single proportions (responders / evaluable across studies), metafor-style.

The pipeline mirrors metafor: per-study effect sizes (``effect_sizes`` ~ ``escalc``), then a
fitted model object (``fit_model`` ~ ``rma.uni``, ``fit_glmm`` ~ ``rma.glmm``), then results
on the proportion scale (``pool_proportions`` -> ``PooledProportion``).

Conventions (checked against metafor 3.8 / lme4 behaviour and documented outputs, see
tests/test_pooling.py):

- measures: "logit" (metafor PLO), "ft" (PFT, Freeman-Tukey double arcsine, back-transformed
  with transf.ipft.hm at the harmonic mean of n), "arcsine" (PAS), "raw" (PR).
- continuity correction: ``cc`` (0.5) is added to events and non-events only for studies with
  0 or all events (metafor ``add=1/2, to="only0"``), for "logit" and "raw". It is never applied
  for "ft" and "arcsine" (their variances do not depend on p, as in metafor) nor for GLMM.
- tau^2 estimators: FE, DL, PM (= metafor's EB/PM for an intercept-only model), ML and REML
  (Fisher scoring, as metafor), GLMM (binomial-normal random-intercept logistic model, ML with
  7-point adaptive Gauss-Hermite quadrature as metafor's rma.glmm -> lme4::glmer(nAGQ=7);
  SE of the mean from the inverse Hessian of the deviance over (mean, tau), as lme4's vcov).
- hksj: Hartung-Knapp-Sidik-Jonkman with t(k-1) quantiles. ``hksj_variant="adhoc"`` (the default
  whenever hksj is on; metafor test="adhoc", meta adhoc.hakn.ci="se") truncates the HK variance
  factor at 1, so the interval is never narrower than the standard one; ``"plain"`` is metafor
  test="knha" without truncation.
- ML/REML: the (restricted) log-likelihood is profiled over tau^2 = 0 plus a log-spaced grid and
  the best grid point is refined, so the global maximum is returned even when the likelihood
  has several maxima (Fisher scoring from one start can stop at a local one).
- sparse data: a pool of k >= 2 arms that are all 0 % (or all 100 %) is not estimable by
  random-effects pooling; the result is flagged ``estimable=False`` and carries the summed
  counts with their exact Clopper-Pearson interval (no tau^2, I^2 or prediction interval), and
  such subgroups are left out of the test for subgroup differences.
- prediction interval: metafor predict.rma: mu +/- crit * sqrt(se^2 + tau^2), crit = z, or
  t(k-1) when hksj is used.
- I^2 = 100 tau^2 / (tau^2 + s^2) with metafor's "typical" within-study variance s^2 (for FE:
  (Q - df) / Q, truncated at 0); H^2 likewise. The I^2 CI is the Q-profile CI for tau^2
  (metafor confint.rma.uni) mapped through the same formula.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy.special import expit, logit

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import check_header, clean_text, parse_count, parse_level
from comparators.stats.distributions import chi2_quantile, chi2_upper_tail, critical_value
from comparators.stats.numerics import minimize_bounded, root_bracketed
from comparators.stats.proportions import ProportionCI, ProportionInputError, proportion_ci
from comparators.vocab import HKSJ_VARIANTS, MEASURES, METHOD_SHORT, METHODS, NOT_ESTIMABLE

if TYPE_CHECKING:  # pandas only builds the optional DataFrame views; the CLI never needs it
    import pandas as pd

Measure = Literal["logit", "ft", "arcsine", "raw"]
Method = Literal["FE", "DL", "PM", "ML", "REML", "GLMM"]
HKSJVariant = Literal["adhoc", "plain"]


_GLMM_NAGQ = 7  # metafor rma.glmm default for measure PLO
_TOL = 1e-12
_MAXITER = 200


class PoolingInputError(InputError):
    """Counts, options or files that cannot be pooled; the message says what and where."""


class GLMMNotFittedError(PoolingInputError):
    """The binomial-normal GLMM cannot be fitted to these counts; the message names an
    alternative. Raised instead of silently switching to another model."""


#: Log-spaced grid of tau^2 (times a data scale) profiled before refining ML/REML.
_TAU2_GRID = np.logspace(-8, 3, 89)


# ---------------------------------------------------------------------------------------------
# Effect sizes (escalc)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # numpy fields: compare explicitly
class EffectSizes:
    """Per-study effect sizes on the transformed scale (metafor escalc output)."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    events: np.ndarray | None = None
    n: np.ndarray | None = None
    corrected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @classmethod
    def from_yi_vi(
        cls, yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray,
        measure: str = "generic",
    ) -> EffectSizes:
        """Wrap precomputed effect sizes (any measure) so they can be fitted with fit_model."""
        y = np.asarray(yi, dtype=float)
        v = np.asarray(vi, dtype=float)
        if y.ndim != 1 or y.shape != v.shape or y.size == 0:
            raise PoolingInputError("yi and vi must be non-empty sequences of the same length")
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
            raise PoolingInputError("yi must be finite and vi finite and positive")
        return cls(measure=measure, yi=y, vi=v, corrected=np.zeros(y.size, dtype=bool))

    def to_frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {"yi": self.yi, "vi": self.vi}
        if self.events is not None and self.n is not None:
            data = {"events": self.events, "n": self.n, **data, "corrected": self.corrected}
        import pandas as pd

        return pd.DataFrame(data)


def _fast_counts(arr: Any) -> np.ndarray | None:
    """Integer array if arr is already a clean numeric vector of whole numbers, else None."""
    try:
        a = np.asarray(arr)
    except (ValueError, TypeError):
        return None
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iuf":
        return None
    if a.dtype.kind == "f" and not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return None
    if np.any(a < 0):
        return None
    return a.astype(np.int64)


def _as_counts(events: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate events/n as equal-length 1-D integer arrays; raise PoolingInputError."""
    fe, fn = _fast_counts(events), _fast_counts(n)
    if fe is not None and fn is not None and fe.size == fn.size and np.all(fn > 0) \
            and np.all(fe <= fn):
        return fe, fn  # vectorised fast path; the slow path below explains any problem
    ev = np.atleast_1d(np.asarray(events, dtype=object))
    nn = np.atleast_1d(np.asarray(n, dtype=object))
    if ev.ndim != 1 or nn.ndim != 1:
        raise PoolingInputError("events and n must be one-dimensional sequences of counts")
    if ev.size == 0:
        raise PoolingInputError("no studies to pool: events and n are empty")
    if ev.size != nn.size:
        raise PoolingInputError(
            f"events ({ev.size} values) and n ({nn.size} values) must have the same length"
        )
    out = []
    for name, arr in (("events", ev), ("n", nn)):
        vals = np.empty(arr.size, dtype=np.int64)
        for i, x in enumerate(arr):
            if isinstance(x, bool | np.bool_) or not isinstance(x, int | float | np.integer
                                                               | np.floating):
                raise PoolingInputError(f"study {i + 1}: {name} must be a whole number, got {x!r}")
            xf = float(x)
            if not math.isfinite(xf) or not xf.is_integer():
                raise PoolingInputError(f"study {i + 1}: {name} must be a whole number, got {x!r}")
            if xf < 0:
                raise PoolingInputError(
                    f"study {i + 1}: {name} must not be negative, got {int(xf)}")
            if xf > limits.MAX_COUNT:
                raise PoolingInputError(
                    f"study {i + 1}: {name} = {xf:.3g} is more than the limit of "
                    f"{limits.MAX_COUNT:,}; check the counts")
            vals[i] = int(xf)
        out.append(vals)
    ev_i, n_i = out
    for i in range(ev_i.size):
        if n_i[i] == 0:
            raise PoolingInputError(f"study {i + 1}: n must be at least 1")
        if ev_i[i] > n_i[i]:
            raise PoolingInputError(
                f"study {i + 1}: events ({ev_i[i]}) cannot exceed n ({n_i[i]})"
            )
    return ev_i, n_i


def _check_choice(value: str, allowed: dict[str, str], what: str) -> str:
    if value not in allowed:
        raise PoolingInputError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")
    return value


def effect_sizes(
    events: Sequence[int] | np.ndarray, n: Sequence[int] | np.ndarray,
    measure: str = "logit", cc: float = 0.5,
) -> EffectSizes:
    """Per-study transformed proportions and sampling variances (metafor escalc).

    cc is added to events and non-events only for studies with 0 or all events, and only for
    "logit" and "raw" (metafor add=1/2, to="only0"); "ft" and "arcsine" are never corrected.
    """
    measure = _check_choice(measure, MEASURES, "measure")
    if not (isinstance(cc, int | float) and math.isfinite(cc) and cc >= 0):
        raise PoolingInputError(f"cc must be a non-negative number, got {cc!r}")
    x, m = _as_counts(events, n)
    xf, nf = x.astype(float), m.astype(float)
    corrected = np.zeros(x.size, dtype=bool)
    if measure in ("logit", "raw") and cc > 0:
        corrected = (x == 0) | (x == m)
        xf = np.where(corrected, xf + cc, xf)
        nf = np.where(corrected, nf + 2 * cc, nf)
    if measure == "logit":
        if np.any((xf == 0) | (xf == nf)):
            raise PoolingInputError(
                "logit needs a continuity correction (cc > 0) for 0 %/100 % studies")
        yi = np.log(xf / (nf - xf))
        vi = 1 / xf + 1 / (nf - xf)
    elif measure == "raw":
        p = xf / nf
        yi, vi = p, p * (1 - p) / nf
        if np.any(vi <= 0):
            raise PoolingInputError(
                "raw proportions of 0 or 1 need a continuity correction (cc > 0)")
    elif measure == "arcsine":
        yi, vi = np.arcsin(np.sqrt(xf / nf)), 1 / (4 * nf)
    else:  # ft
        yi = 0.5 * (np.arcsin(np.sqrt(xf / (nf + 1))) + np.arcsin(np.sqrt((xf + 1) / (nf + 1))))
        vi = 1 / (4 * nf + 2)
    return EffectSizes(measure=measure, yi=yi, vi=vi, events=x, n=m, corrected=corrected)


# ---------------------------------------------------------------------------------------------
# Back-transformations
# ---------------------------------------------------------------------------------------------


def transf_pft(p: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Freeman-Tukey double arcsine of a proportion p at sample size n (metafor transf.pft)."""
    x = np.asarray(p, dtype=float) * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def transf_ipft(y: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Miller (1978) inverse of the double arcsine at sample size n (metafor transf.ipft)."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * y)
        inner = 1 - (s + (s - 1 / s) / n) ** 2
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(inner))
    z = np.where(np.isnan(z), np.nan, z)
    z = np.where(y > transf_pft(1.0, n), 1.0, z)
    z = np.where(y < transf_pft(0.0, n), 0.0, z)
    return z


def transf_ipft_hm(y: np.ndarray | float, n_all: np.ndarray) -> np.ndarray:
    """Inverse double arcsine at the harmonic mean of the sample sizes (transf.ipft.hm)."""
    hm = float(1 / np.mean(1 / np.asarray(n_all, dtype=float)))
    return transf_ipft(y, hm)


def back_transform(y: Any, measure: str, n: np.ndarray | None = None) -> np.ndarray:
    """Transformed scale -> proportion, clipped to [0, 1] (raw/arcsine can leave it)."""
    y = np.asarray(y, dtype=float)
    if measure == "logit":
        out = expit(y)
    elif measure == "ft":
        if n is None:
            raise ValueError("the Freeman-Tukey back-transformation needs the sample sizes")
        out = transf_ipft_hm(y, n)
    elif measure == "arcsine":
        out = np.sin(np.clip(y, 0, np.pi / 2)) ** 2
    elif measure == "raw":
        out = y
    else:
        return y
    return np.clip(out, 0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# Fitted model (rma.uni / rma.glmm)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # numpy fields: compare explicitly
class ModelFit:
    """A fitted intercept-only meta-analytic model on the transformed scale (like an rma object).

    estimate/se/low/high/pi_* are on the transformed scale; weights are percentages.
    """

    method: str
    measure: str
    k: int
    estimate: float
    se: float
    low: float
    high: float
    crit: float
    df: int | None
    hksj: bool
    level: float
    tau2: float | None
    tau2_low: float | None
    tau2_high: float | None
    q: float | None
    q_df: int
    q_p: float | None
    i2: float | None
    i2_low: float | None
    i2_high: float | None
    h2: float | None
    pi_low: float | None
    pi_high: float | None
    weights: np.ndarray
    notes: tuple[str, ...] = ()
    #: the HKSJ variant actually used ("adhoc" | "plain"), None without HKSJ
    hksj_variant: str | None = None

    @property
    def tau(self) -> float | None:
        return None if self.tau2 is None else math.sqrt(self.tau2)


def _fe_stats(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Fixed-effect mean, its variance and Cochran's Q."""
    w = 1 / v
    sw = w.sum()
    mu = float((w * y).sum() / sw)
    q = float((w * (y - mu) ** 2).sum())
    return mu, float(1 / sw), q


def cochran_q(y: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray
              ) -> tuple[float, int, float]:
    """Cochran's Q of estimates y (variances v) about their inverse-variance mean, its degrees
    of freedom k - 1 and chi-squared p-value. Given subgroup estimates and their squared
    standard errors it is the test for subgroup differences (meta's Q between)."""
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    _, _, q = _fe_stats(y, v)
    df = y.size - 1
    return q, df, chi2_upper_tail(q, df)


def _gen_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Generalised Q statistic at a given tau^2 (decreasing in tau^2)."""
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return float((w * (y - mu) ** 2).sum())


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    _, _, q = _fe_stats(y, v)
    c = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (q - (y.size - 1)) / c) if c > 0 else 0.0


def _root_decreasing(f: Any, target: float, start: float) -> float:
    """Smallest tau2 >= 0 with f(tau2) = target for a decreasing f; 0 if f(0) <= target."""
    if f(0.0) <= target:
        return 0.0
    hi = max(start, 1e-4)
    for _ in range(200):
        if f(hi) < target:
            break
        hi *= 4
    else:  # pragma: no cover - only for pathological inputs
        return hi
    return float(root_bracketed(lambda t: f(t) - target, 0.0, hi, xtol=1e-14, rtol=1e-13,
                                maxiter=500))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    # Paule-Mandel: generalised Q equal to its expectation k - 1. Q(tau^2) is strictly
    # decreasing, so the root is unique; the check below guards the bracketing numerically.
    k = y.size
    tau2 = _root_decreasing(lambda t: _gen_q(t, y, v), k - 1, _tau2_dl(y, v) + np.var(y))
    qt = _gen_q(tau2, y, v)
    if tau2 > 0 and not math.isclose(qt, k - 1, rel_tol=1e-6, abs_tol=1e-8):
        raise PoolingInputError(  # pragma: no cover - a numerical failure, not user input
            f"Paule-Mandel root not found (Q = {qt:.6g} at tau^2 = {tau2:.6g}, target {k - 1})")
    return tau2


def _loglik(tau2: np.ndarray | float, y: np.ndarray, v: np.ndarray, reml: bool) -> np.ndarray:
    """(Restricted) log-likelihood of the intercept-only normal-normal model at each tau^2.

    The same constants as metafor's logLik.rma (so values are comparable with R):
    ML   -k/2 log(2 pi) - 1/2 sum log(v + t) - 1/2 sum w (y - mu)^2
    REML -(k-1)/2 log(2 pi) + 1/2 log k - 1/2 sum log(v + t) - 1/2 log sum w - 1/2 sum w r^2
    """
    t = np.atleast_1d(np.asarray(tau2, dtype=float))[:, None]
    w = 1 / (v[None, :] + t)
    sw = w.sum(axis=1)
    mu = (w * y[None, :]).sum(axis=1) / sw
    rss = (w * (y[None, :] - mu[:, None]) ** 2).sum(axis=1)
    logdet = np.log(v[None, :] + t).sum(axis=1)
    k = y.size
    if reml:
        return (-0.5 * (k - 1) * math.log(2 * math.pi) + 0.5 * math.log(k) - 0.5 * logdet
                - 0.5 * np.log(sw) - 0.5 * rss)
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * logdet - 0.5 * rss


def _fisher_step(tau2: float, y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    """One Fisher-scoring increment for tau^2 (metafor's algorithm), vectorised."""
    w = 1 / (v + tau2)
    s1 = w.sum()
    mu = (w * y).sum() / s1
    r = y - mu
    s2 = (w**2).sum()
    if reml:
        # Score and information of the restricted likelihood with P = W - w w'/sum(w).
        ypppy = ((w * r) ** 2).sum()
        tr_p = s1 - s2 / s1
        tr_pp = s2 - 2 * (w**3).sum() / s1 + s2**2 / s1**2
        return float((ypppy - tr_p) / tr_pp)
    return float(((w * r) ** 2).sum() - s1) / s2


def _median(a: np.ndarray) -> float:
    """np.median of a finite 1-D array, the same value; np.median itself imports numpy.ma
    (~20 ms) on first use, a noticeable share of the CLI's start-up (issue 15)."""
    s = np.sort(a)
    mid = s.size // 2
    return float(s[mid]) if s.size % 2 else float((s[mid - 1] + s[mid]) / 2)


def _tau2_fisher(y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    """ML/REML tau^2 at the global maximum of the (restricted) likelihood, truncated at 0.

    Why a profile first: with sparse counts the likelihood can have a local maximum at (or
    near) 0 and the global one far away (issue 12: 8 raw proportions where one Fisher-scoring
    run stops at 0 with logLik -0.784 while tau^2 = 0.0379 gives -0.418). So: evaluate the
    likelihood at 0 and on a log-spaced grid scaled to the data, bracket the best grid point by
    its neighbours, maximise inside the bracket (bounded Brent), then polish with Fisher
    scoring as long as the steps stay inside the bracket.
    """
    scale = max(float(np.var(y)), _median(v), 1e-300)
    grid = np.concatenate([[0.0], scale * _TAU2_GRID])
    ll = _loglik(grid, y, v, reml)
    j = int(np.nanargmax(ll))
    lo = grid[max(j - 1, 0)]
    hi = grid[min(j + 1, grid.size - 1)]
    f = lambda t: -float(_loglik(t, y, v, reml)[0])  # noqa: E731
    if hi > lo:
        tau2 = float(minimize_bounded(f, float(lo), float(hi),
                                      xatol=1e-14 * max(hi, 1e-300) + 1e-300))
    else:
        tau2 = float(grid[j])
    best = -f(tau2)
    # Polish: Fisher scoring converges fast near the maximum; keep it only inside the bracket
    # and only if the likelihood does not fall.
    cur = tau2
    for _ in range(_MAXITER):
        new = cur + _fisher_step(cur, y, v, reml)
        if not (lo <= new <= hi) or not math.isfinite(new):
            break
        if abs(new - cur) <= _TOL * max(1.0, cur):
            cur = new
            break
        cur = new
    if -f(cur) >= best - 1e-12:
        tau2 = cur
    # The boundary: tau^2 = 0 wins ties (metafor truncates at 0).
    if j <= 1 and float(ll[0]) >= -f(tau2) - 1e-12 and _fisher_step(0.0, y, v, reml) <= 0:
        return 0.0
    return max(0.0, float(tau2))


def _qprofile_ci(y: np.ndarray, v: np.ndarray, level: float, tau2: float) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007; metafor confint.rma.uni)."""
    k = y.size
    alpha = 1 - level
    f = lambda t: _gen_q(t, y, v)  # noqa: E731
    lo = _root_decreasing(f, chi2_quantile(1 - alpha / 2, k - 1), tau2)
    hi = _root_decreasing(f, chi2_quantile(alpha / 2, k - 1), tau2)
    return lo, hi


def _typical_v(v: np.ndarray) -> float:
    """metafor's 'typical' within-study variance used for I^2 and H^2."""
    w = 1 / v
    k = v.size
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def _i2_h2(tau2: float, s2: float) -> tuple[float, float]:
    return 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2


def _check_level(level: float) -> float:
    return parse_level(level, error=PoolingInputError)


def _check_variant(hksj: bool, hksj_variant: str) -> str | None:
    _check_choice(hksj_variant, HKSJ_VARIANTS, "hksj_variant")
    return hksj_variant if hksj else None


def _single_study_fit(es: EffectSizes, method: str, hksj: bool, level: float,
                      notes: tuple[str, ...]) -> ModelFit:
    y, se = float(es.yi[0]), math.sqrt(float(es.vi[0]))
    crit = critical_value(level)
    return ModelFit(
        method=method, measure=es.measure, k=1, estimate=y, se=se, low=y - crit * se,
        high=y + crit * se, crit=crit, df=None, hksj=hksj, level=level,
        tau2=None, tau2_low=None, tau2_high=None, q=0.0, q_df=0, q_p=None, i2=None,
        i2_low=None, i2_high=None, h2=None, pi_low=None, pi_high=None,
        weights=np.array([100.0]),
        notes=notes + ("k = 1: no heterogeneity estimable; the result is the single study",),
    )


def fit_model(es: EffectSizes, method: str = "REML", hksj: bool = False,
              level: float = 0.95, hksj_variant: str = "adhoc") -> ModelFit:
    """Fit an intercept-only fixed- or random-effects model to effect sizes (rma.uni).

    With hksj, ``hksj_variant="adhoc"`` is metafor test="adhoc" (HK variance factor truncated
    at 1, never narrower than the standard interval); ``"plain"`` is test="knha".
    """
    method = _check_choice(method, {k: v for k, v in METHODS.items()
                                    if k not in ("GLMM", "BAYES")}, "method")
    level = _check_level(level)
    variant = _check_variant(hksj, hksj_variant)
    y, v = es.yi, es.vi
    k = y.size
    notes: tuple[str, ...] = ()
    if k == 1:
        return _single_study_fit(es, method, hksj, level, notes)

    mu_fe, _, q = _fe_stats(y, v)
    q_df = k - 1
    q_p = chi2_upper_tail(q, q_df)
    s2 = _typical_v(v)
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(y, v)
    elif method == "PM":
        tau2 = _tau2_pm(y, v)
    else:
        tau2 = _tau2_fisher(y, v, reml=(method == "REML"))

    w = 1 / (v + tau2)
    sw = w.sum()
    mu = float((w * y).sum() / sw)
    var = float(1 / sw)
    df: int | None = None
    if hksj:
        # Knapp-Hartung: weighted residual variance rescales the variance, t with k - 1 df.
        # The ad hoc variant never lets the factor fall below 1: with few homogeneous studies
        # the plain factor can be far below 1 and give an interval narrower than the Wald one.
        factor = float((w * (y - mu) ** 2).sum() / (k - 1))
        if variant == "adhoc":
            factor = max(1.0, factor)
        var = factor / float(sw)
        df = k - 1
        if method == "FE":
            notes += ("Hartung-Knapp adjustment is not meant for a fixed-effect model",)
    se = math.sqrt(var)
    crit = critical_value(level, df)

    tau2_lo, tau2_hi = _qprofile_ci(y, v, level, tau2)
    i2_lo, _ = _i2_h2(tau2_lo, s2)
    i2_hi, _ = _i2_h2(tau2_hi, s2)
    if method == "FE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
        pi_low = pi_high = None
        tau2_out: float | None = None
    else:
        i2, h2 = _i2_h2(tau2, s2)
        half = crit * math.sqrt(var + tau2)
        pi_low, pi_high = mu - half, mu + half
        tau2_out = float(tau2)
    return ModelFit(
        method=method, measure=es.measure, k=k, estimate=mu, se=se, low=mu - crit * se,
        high=mu + crit * se, crit=crit, df=df, hksj=hksj, level=level, tau2=tau2_out,
        tau2_low=tau2_lo, tau2_high=tau2_hi, q=q, q_df=q_df, q_p=q_p, i2=float(i2),
        i2_low=float(i2_lo), i2_high=float(i2_hi), h2=float(h2), pi_low=pi_low,
        pi_high=pi_high, weights=100 * w / sw, notes=notes, hksj_variant=variant,
    )


# --- GLMM ------------------------------------------------------------------------------------

_GH_Z, _GH_W = np.polynomial.hermite_e.hermegauss(_GLMM_NAGQ)
_GH_LOGW = np.log(_GH_W / math.sqrt(2 * math.pi)) + _GH_Z**2 / 2  # log(w_k / phi(z_k))


_BOUNDARY_ONLY = ("every study has 0 % or 100 % events (some of each), so the likelihood has "
                  "no finite maximum: the between-study variance runs off to infinity")


def _binom_ll(eta: np.ndarray, x: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood kernel x*eta - n*log(1 + e^eta), written as
    -x log(1 + e^-eta) - (n - x) log(1 + e^eta): two terms that do not cancel, so an arm with
    all (or no) events among millions keeps its precision (x*eta and n*log(1 + e^eta) are each
    ~1e8 there, and their difference lost every digit a Hessian needs)."""
    shared = np.log1p(np.exp(-np.abs(eta)))  # log(1 + e^eta) = max(eta, 0) + shared
    return -x * (np.maximum(-eta, 0.0) + shared) - (n - x) * (np.maximum(eta, 0.0) + shared)


def _glmm_deviance(beta: float, tau: float, x: np.ndarray, n: np.ndarray,
                   modes: np.ndarray | None = None) -> float:
    """-2 log-likelihood of the binomial-normal model by adaptive Gauss-Hermite quadrature.

    Random effect b_i = tau * u_i with u_i ~ N(0, 1); each integral is centred at the mode of
    log p(x_i | u) + log phi(u) and scaled by its curvature, as lme4 does for nAGQ > 1.
    ``modes``, if given, starts the search for the modes there and receives the modes found
    (an optimiser's next point is close by: a few Newton steps instead of a dozen).
    """

    tau = abs(tau)  # the likelihood is symmetric in tau
    if tau < 1e-10:
        return float(-2 * _binom_ll(np.full(x.shape, beta), x, n).sum())
    u = np.zeros(x.shape) if modes is None else modes.copy()

    def objective(uu: np.ndarray) -> np.ndarray:
        return _binom_ll(beta + tau * uu, x, n) - uu**2 / 2

    h0 = objective(u)
    for _ in range(200):
        # Damped Newton for the conditional modes: the objective is strictly concave but plain
        # Newton can oscillate for 0-event studies (p -> 0), so halve steps that do not improve.
        eta = beta + tau * u
        p, q = expit(eta), expit(-eta)
        # x - n p as x q - (n - x) p: with all events among millions, n - n p lost every digit
        grad = tau * (x * q - (n - x) * p) - u
        hess = tau**2 * n * p * q + 1
        step = grad / hess
        for _ in range(60):
            h1 = objective(u + step)
            worse = h1 < h0 - 1e-13 * np.abs(h0)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        u = u + step
        h0 = objective(u)
        if np.max(np.abs(step)) < 1e-11:
            break
    if modes is not None:
        modes[:] = u
    eta = beta + tau * u
    sigma = 1 / np.sqrt(tau**2 * n * expit(eta) * expit(-eta) + 1)
    nodes = u[:, None] + sigma[:, None] * _GH_Z[None, :]
    h = _binom_ll(beta + tau * nodes, x[:, None], n[:, None]) - nodes**2 / 2
    log_li = np.log(sigma) + np.logaddexp.reduce(h + _GH_LOGW[None, :], axis=1)
    return float(-2 * log_li.sum())


def _hessian(f: Any, theta: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian (lme4 uses the same step on (theta, beta))."""
    d = theta.size
    out = np.empty((d, d))
    f0 = f(theta)
    for i in range(d):
        ei = np.zeros(d)
        ei[i] = h
        out[i, i] = (f(theta + ei) - 2 * f0 + f(theta - ei)) / h**2
        for j in range(i + 1, d):
            ej = np.zeros(d)
            ej[j] = h
            val = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej)
                   + f(theta - ei - ej)) / (4 * h * h)
            out[i, j] = out[j, i] = val
    return out


def fit_glmm(events: Sequence[int] | np.ndarray, n: Sequence[int] | np.ndarray,
             hksj: bool = False, level: float = 0.95,
             hksj_variant: str = "adhoc") -> ModelFit:
    """Binomial-normal random-intercept logistic model (metafor rma.glmm, measure PLO).

    No continuity correction enters the likelihood. Q, I^2 and the weights are descriptive and
    come from the logit effect sizes (with cc) as metafor does for rma.glmm's I^2; the weights
    are inverse-variance weights 1/(v_i + tau^2), since a GLMM has no explicit study weights.

    The deviance is minimised from several starting points (tau = 0.1, 0.5, 1.5 around the
    pooled logit) and the best is kept. Raises GLMMNotFittedError, naming the alternative, when
    every study has 0 or all events or the optimiser fails: the model never silently becomes
    another one.
    """
    from scipy import optimize  # Nelder-Mead; scipy.optimize costs ~0.6 s to import

    level = _check_level(level)
    variant = _check_variant(hksj, hksj_variant)
    x, m = _as_counts(events, n)
    es = effect_sizes(x, m, "logit")
    k = x.size
    notes: tuple[str, ...] = ()
    if k == 1:
        return _single_study_fit(es, "GLMM", hksj, level, notes)
    if np.all(x == 0) or np.all(x == m):
        which = "0 events" if np.all(x == 0) else "all events"
        raise GLMMNotFittedError(
            f"GLMM cannot be fitted: every study has {which}, so the maximum-likelihood mean "
            "logit is infinite. Report the summed counts with an exact (Clopper-Pearson) "
            "interval (pool_proportions does this), or choose REML with a continuity correction")
    if np.all((x == 0) | (x == m)):
        raise GLMMNotFittedError(
            f"GLMM cannot be fitted: {_BOUNDARY_ONLY}. Report the arms separately, or choose "
            "REML with a continuity correction (its interval shows how little they agree)")

    xf, nf = x.astype(float), m.astype(float)
    modes = np.zeros(k)

    def dev(th: np.ndarray) -> float:
        if not np.all(np.isfinite(modes)):
            modes[:] = 0.0
        return _glmm_deviance(th[0], th[1], xf, nf, modes)

    beta0 = float(logit((xf.sum() + 0.5) / (nf.sum() + 1)))
    starts = [np.array([beta0, max(math.sqrt(_tau2_dl(es.yi, es.vi)), 0.3)])]
    starts += [np.array([beta0, t]) for t in (0.1, 0.5, 1.5)]
    # The deviance carries rounding of about 1e-16 of its size (1e9 with many arms of millions
    # of patients): the optimiser's tolerance and the Hessian's step grow with it so that
    # neither chases noise (both unchanged while the deviance is below 10^4). Fits converge in
    # well under 1,000 iterations; the cap bounds the work should one not.
    scale = max(1.0, abs(dev(starts[0])) / 1e4)
    fatol, step_h = 1e-11 * scale, 1e-4 * scale**0.25
    best = None
    for st in starts:
        res = optimize.minimize(dev, st, method="Nelder-Mead",
                                options={"xatol": 1e-9, "fatol": fatol, "maxiter": 1000})
        if math.isfinite(float(res.fun)) and (best is None or res.fun < best.fun - 1e-9):
            best = res
    if best is None or not np.all(np.isfinite(best.x)):
        raise GLMMNotFittedError(  # pragma: no cover - optimiser failure, not seen in tests
            "GLMM cannot be fitted: the likelihood could not be maximised for these counts; "
            "choose REML (normal-normal model on logits) instead")
    theta = np.array([best.x[0], abs(best.x[1])])
    # Polish with Newton steps on the finite-difference gradient/Hessian.
    for _ in range(5):
        if theta[1] < 1e-6:
            break
        g = np.array([(dev(theta + e) - dev(theta - e)) / 2e-5 for e in np.eye(2) * 1e-5])
        hmat = _hessian(dev, theta, step_h)
        try:
            step = np.linalg.solve(hmat, g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 0.1:
            break
        cand = theta - step
        cand[1] = abs(cand[1])
        if dev(cand) > dev(theta) + 1e-10:
            break
        theta = cand
        if np.max(np.abs(step)) < 1e-10:
            break
    beta, tau = float(theta[0]), float(theta[1])

    if tau < 1e-4:
        # Boundary: tau = 0, the model reduces to a common-effect logistic model.
        tau = 0.0
        p = expit(beta)
        var = float(1 / (nf * p * (1 - p)).sum())
        notes += ("GLMM: tau^2 estimated at 0 (no between-study heterogeneity)",)
    else:
        hmat = _hessian(dev, np.array([beta, tau]), step_h)
        try:
            cov = 2 * np.linalg.inv(hmat)  # deviance = -2 logL
            var = float(cov[0, 0])
        except np.linalg.LinAlgError:
            var = float("nan")
        if not (math.isfinite(var) and var > 0):
            p = expit(beta)
            var = float(1 / (nf * p * (1 - p)).sum())
            notes += ("GLMM: Hessian not positive definite; SE from the fixed part only",)
    tau2 = tau**2
    df: int | None = None
    if hksj:
        df = k - 1
        notes += ("GLMM with HKSJ: t distribution with k - 1 df (metafor rma.glmm test='t'); "
                  "a GLMM has no Hartung-Knapp variance factor, so the ad hoc and plain "
                  "variants coincide and the interval is never narrower than the z interval",)
    se = math.sqrt(var)
    crit = critical_value(level, df)
    y, v = es.yi, es.vi
    _, _, q = _fe_stats(y, v)
    s2 = _typical_v(v)
    i2, h2 = _i2_h2(tau2, s2)
    tlo, thi = _qprofile_ci(y, v, level, tau2)
    w = 1 / (v + tau2)
    half = crit * math.sqrt(var + tau2)
    return ModelFit(
        method="GLMM", measure="logit", k=k, estimate=beta, se=se, low=beta - crit * se,
        high=beta + crit * se, crit=crit, df=df, hksj=hksj, level=level, tau2=tau2,
        tau2_low=tlo, tau2_high=thi, q=q, q_df=k - 1, q_p=chi2_upper_tail(q, k - 1),
        i2=float(i2), i2_low=float(_i2_h2(tlo, s2)[0]), i2_high=float(_i2_h2(thi, s2)[0]),
        h2=float(h2), pi_low=beta - half, pi_high=beta + half, weights=100 * w / w.sum(),
        notes=notes, hksj_variant=variant,
    )


def _replace(fit: ModelFit, **changes: Any) -> ModelFit:
    from dataclasses import replace

    return replace(fit, **changes)


# ---------------------------------------------------------------------------------------------
# Results on the proportion scale
# ---------------------------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    """Plain float for JSON; None for missing/NaN."""
    if x is None:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


@dataclass(frozen=True)
class StudyEstimate:
    study: str
    events: int
    n: int
    estimate: float
    low: float
    high: float
    weight: float

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "events": int(self.events), "n": int(self.n),
                "estimate": _num(self.estimate), "low": _num(self.low),
                "high": _num(self.high), "weight": _num(self.weight)}


@dataclass(frozen=True)
class SubgroupResult:
    group: str
    k: int
    estimate: float
    low: float
    high: float
    tau2: float | None
    i2: float | None
    q: float | None
    #: False when every arm of the subgroup is 0 % (or 100 %): estimate/low/high are then the
    #: summed counts with their exact interval and the subgroup is left out of Q-between.
    estimable: bool = True
    events: int = 0
    n: int = 0
    method_used: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "k": int(self.k), "estimate": _num(self.estimate),
                "low": _num(self.low), "high": _num(self.high), "tau2": _num(self.tau2),
                "i2": _num(self.i2), "q": _num(self.q), "estimable": bool(self.estimable),
                "events": int(self.events), "n": int(self.n), "method_used": self.method_used,
                "notes": list(self.notes)}


@dataclass(frozen=True)
class PooledProportion:
    """A pooled proportion with its study table; proportions are fractions in [0, 1]."""

    k: int
    measure: str
    method: str
    hksj: bool
    level: float
    estimate: float
    low: float
    high: float
    pi_low: float | None
    pi_high: float | None
    tau2: float | None
    i2: float | None
    i2_low: float | None
    i2_high: float | None
    h2: float | None
    q: float | None
    q_df: int
    q_p: float | None
    studies: tuple[StudyEstimate, ...]
    subgroups: tuple[SubgroupResult, ...] = ()
    q_between: float | None = None
    q_between_df: int | None = None
    q_between_p: float | None = None
    corrected: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    fit: ModelFit | None = field(default=None, repr=False, compare=False)
    #: False when random-effects pooling cannot estimate the rate (every arm 0 % or every arm
    #: 100 %): estimate/low/high are then the summed counts and their exact interval.
    estimable: bool = True
    #: the model that actually produced estimate/low/high: a METHODS key, or "exact" (summed
    #: counts, Clopper-Pearson) for a pool that is not estimable, or "single study" for k = 1.
    method_used: str = ""
    #: the HKSJ variant actually used ("adhoc" | "plain"); None when no HKSJ interval was used.
    hksj_variant: str | None = None
    events: int = 0
    n: int = 0

    @property
    def tau(self) -> float | None:
        return None if self.tau2 is None else math.sqrt(self.tau2)

    def to_dict(self) -> dict[str, Any]:
        """The `pool` CLI contract (design.md), plus hksj, level, i2_low, i2_high, h2, notes,
        estimable, method_used, hksj_variant, events, n."""
        out: dict[str, Any] = {
            "k": int(self.k), "measure": self.measure, "method": self.method,
            "estimate": _num(self.estimate), "low": _num(self.low), "high": _num(self.high),
            "pi_low": _num(self.pi_low), "pi_high": _num(self.pi_high),
            "tau2": _num(self.tau2), "i2": _num(self.i2), "q": _num(self.q),
            "q_df": int(self.q_df), "q_p": _num(self.q_p),
            "studies": [s.to_dict() for s in self.studies],
        }
        if self.subgroups:
            out["subgroups"] = [g.to_dict() for g in self.subgroups]
            out["q_between"] = _num(self.q_between)
            out["q_between_df"] = None if self.q_between_df is None else int(self.q_between_df)
            out["q_between_p"] = _num(self.q_between_p)
        out.update({"hksj": bool(self.hksj), "level": float(self.level),
                    "i2_low": _num(self.i2_low), "i2_high": _num(self.i2_high),
                    "h2": _num(self.h2), "notes": list(self.notes),
                    "estimable": bool(self.estimable), "method_used": self.method_used,
                    "hksj_variant": self.hksj_variant, "events": int(self.events),
                    "n": int(self.n)})
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per study (estimate/low/high as fractions, weight in percent)."""
        import pandas as pd

        return pd.DataFrame([s.to_dict() for s in self.studies],
                            columns=["study", "events", "n", "estimate", "low", "high", "weight"])


def _fit_any(x: np.ndarray, m: np.ndarray, measure: str, method: str, hksj: bool,
             level: float, hksj_variant: str) -> tuple[ModelFit, EffectSizes]:
    if method == "GLMM":
        if measure != "logit":
            raise PoolingInputError("method GLMM models the logit of the proportion; "
                                    "use measure logit with GLMM")
        return (fit_glmm(x, m, hksj=hksj, level=level, hksj_variant=hksj_variant),
                effect_sizes(x, m, "logit"))
    es = effect_sizes(x, m, measure)
    return fit_model(es, method, hksj, level, hksj_variant), es


def _not_estimable(x: np.ndarray, m: np.ndarray, method: str = "") -> str | None:
    """Why a pool of k >= 2 arms cannot be estimated by random-effects pooling, or None.

    Every arm at 0 % (or at 100 %): the likelihood has no interior maximum (GLMM's mean logit
    is -inf/+inf) and the normal-normal models rest entirely on the continuity correction; with
    HKSJ their interval can even exclude the observed 0 %. The honest summary is the summed
    counts with an exact interval. For GLMM also arms all at 0 % or 100 % (some of each): its
    likelihood has no finite maximum either (tau runs off to infinity, so an optimiser stops
    anywhere: R's rma.glmm reports a mean logit of 29 for 0/10^6 and 10^6/10^6).
    """
    if x.size < 2:
        return None
    if np.all(x == 0):
        return "every arm has 0 responders"
    if np.all(x == m):
        return "every arm has 100 % responders"
    if method == "GLMM" and np.all((x == 0) | (x == m)):
        return ("every arm has 0 % or 100 % responders (some of each), so the GLMM has no "
                "finite maximum")
    return None


def _exact_summed(x: np.ndarray, m: np.ndarray, level: float) -> ProportionCI:
    return _study_ci(int(x.sum()), int(m.sum()), "clopper-pearson", level)


def _not_estimable_note(why: str, x: np.ndarray, m: np.ndarray, ci: ProportionCI,
                        what: str = "pool") -> str:
    lvl = f"{100 * ci.level:g}%"
    return (f"{what} {NOT_ESTIMABLE}: {why}; shown as the summed counts "
            f"{int(x.sum())}/{int(m.sum())} = {100 * ci.estimate:.1f}% with the exact "
            f"(Clopper-Pearson) {lvl} interval {100 * ci.low:.1f}-{100 * ci.high:.1f}%; "
            "no tau^2, I^2 or prediction interval")


def _caution_notes(k: int, method: str) -> list[str]:
    if method in ("DL", "PM", "ML", "REML", "GLMM") and k in (2, 3):
        return [f"k = {k}: tau^2 is barely estimable from {k} studies; treat tau^2, I^2 and "
                "the prediction interval with caution"]
    return []


def _to_prop(fit: ModelFit, m: np.ndarray) -> tuple[float, float, float, float | None,
                                                     float | None, tuple[str, ...]]:
    """Back-transform estimate, CI and PI; note clipping for raw/arcsine."""
    vals = [fit.estimate, fit.low, fit.high]
    pis = [fit.pi_low, fit.pi_high]
    raw = np.array(vals + [p if p is not None else np.nan for p in pis], dtype=float)
    bt = back_transform(raw, fit.measure, m)
    notes: tuple[str, ...] = ()
    if fit.measure in ("raw", "arcsine"):
        lim = (0.0, 1.0) if fit.measure == "raw" else (0.0, math.pi / 2)
        fin = raw[np.isfinite(raw)]
        if np.any(fin < lim[0]) or np.any(fin > lim[1]):
            notes += ("interval bounds outside [0, 1] on the proportion scale were truncated",)
    pl = None if fit.pi_low is None else float(bt[3])
    ph = None if fit.pi_high is None else float(bt[4])
    return float(bt[0]), float(bt[1]), float(bt[2]), pl, ph, notes


@lru_cache(maxsize=65536)
def _study_ci(x: int, n: int, method: str, level: float) -> ProportionCI:
    """proportion_ci, memoised: leave-one-out and big tables repeat the same (x, n) pairs."""
    try:
        return proportion_ci(x, n, method=method, level=level)
    except ProportionInputError as exc:
        raise PoolingInputError(str(exc)) from exc


def _validate_labels(labels: Sequence[Any] | None, k: int, what: str, unique: bool) -> list[str]:
    if labels is None:
        return [f"Study {i + 1}" for i in range(k)] if what == "studies" else []
    out = [str(s).strip() for s in labels]
    if len(out) != k:
        raise PoolingInputError(f"{what} has {len(out)} labels but there are {k} studies")
    for i, s in enumerate(out):
        if s == "" or s.lower() == "nan":
            raise PoolingInputError(f"study {i + 1}: {what} label is empty")
    if unique:
        seen: dict[str, int] = {}
        for i, s in enumerate(out):
            if s in seen:
                raise PoolingInputError(
                    f"study {i + 1}: duplicate study id {s!r} (also study {seen[s] + 1})")
            seen[s] = i
    return out


def pool_proportions(
    events: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    studies: Sequence[str] | None = None,
    measure: str = "logit",
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    groups: Sequence[str] | None = None,
    study_ci: str = "wilson",
    hksj_variant: HKSJVariant = "adhoc",
    bayes: Any = None,
) -> PooledProportion:
    """Pool single proportions (events of n per study) into one proportion with its CI.

    method="BAYES" is the Bayesian random-effects model of stats.bayes_pooling (priors and
    likelihood in ``bayes``, a BayesOptions; default half-normal(1) on tau, flat on mu, normal
    likelihood): the same result shape, numbers from the posterior.

    Sparse-data rule: k >= 2 arms that are all 0 % (or all 100 %) are not estimable by
    random-effects pooling; the result is flagged ``estimable=False`` and carries the summed
    counts with their exact Clopper-Pearson interval (see the module docstring).

    >>> r = pool_proportions([3, 6, 10, 1], [11, 17, 21, 6], measure="ft", method="FE")
    >>> round(r.estimate, 4)  # Miller (1978), as in metafor's analyses:miller1978
    0.3595
    """
    measure = _check_choice(measure, MEASURES, "measure")
    method = _check_choice(method, METHODS, "method")
    level = _check_level(level)
    _check_choice(hksj_variant, HKSJ_VARIANTS, "hksj_variant")
    x, m = _as_counts(events, n)
    k = x.size
    if k > limits.MAX_STUDIES:  # before any fit: GLMM on 100,000 studies took 32 s
        raise PoolingInputError(str(limits.too_many(
            "studies to pool", k, limits.MAX_STUDIES, "pool a subset, e.g. one subgroup")))
    if int(m.max()) > limits.MAX_COUNT:
        raise PoolingInputError(str(limits.too_many(
            "patients in one study", int(m.max()), limits.MAX_COUNT, "check the counts")))
    if method in ("GLMM", "BAYES") and groups is not None \
            and len(set(map(str, groups))) > limits.MAX_FITTED_GROUPS:
        raise PoolingInputError(str(limits.too_many(  # a fit per group, ~0.05 s each
            f"groups pooled by {'GLMM' if method == 'GLMM' else 'the Bayesian model'} "
            "(one fit each)",
            len(set(map(str, groups))), limits.MAX_FITTED_GROUPS,
            "choose REML, or pool fewer groups")))
    if method == "BAYES":  # lazy: bayes_pooling builds on this module
        from comparators.stats.bayes_pooling import pool_bayes

        return pool_bayes(x, m, studies, measure, level, groups, study_ci, bayes, hksj)
    names = _validate_labels(studies, k, "studies", unique=True)
    glabels = _validate_labels(groups, k, "groups", unique=False) if groups is not None else None

    subgroups: tuple[SubgroupResult, ...] = ()
    qb = qb_df = qb_p = None
    gnotes: list[str] = []
    if glabels is not None:
        subgroups, qb, qb_df, qb_p, gnotes = _subgroups(x, m, glabels, measure, method, hksj,
                                                         level, study_ci, hksj_variant)

    why = _not_estimable(x, m, method)
    if why is not None:
        ci = _exact_summed(x, m, level)
        study_rows = tuple(
            StudyEstimate(study=names[i], events=int(x[i]), n=int(m[i]),
                          estimate=c.estimate, low=c.low, high=c.high,
                          weight=float(100 * m[i] / m.sum()))
            for i in range(k) for c in [_study_ci(int(x[i]), int(m[i]), study_ci, level)])
        notes = [_not_estimable_note(why, x, m, ci),
                 f"the {METHOD_SHORT[method]} model was not fitted; study weights are shares of "
                 "the patients"]
        return PooledProportion(
            k=k, measure=measure, method=method, hksj=bool(hksj), level=level,
            estimate=ci.estimate, low=ci.low, high=ci.high, pi_low=None, pi_high=None,
            tau2=None, i2=None, i2_low=None, i2_high=None, h2=None, q=None, q_df=k - 1,
            q_p=None, studies=study_rows, subgroups=subgroups, q_between=qb,
            q_between_df=qb_df, q_between_p=qb_p, corrected=(),
            notes=tuple(dict.fromkeys(notes + gnotes)), fit=None, estimable=False,
            method_used="exact", hksj_variant=None, events=int(x.sum()), n=int(m.sum()))

    fit, es = _fit_any(x, m, measure, method, hksj, level, hksj_variant)
    notes = list(fit.notes)

    study_rows_l = []
    for i in range(k):
        ci = _study_ci(int(x[i]), int(m[i]), study_ci, level)
        study_rows_l.append(StudyEstimate(study=names[i], events=int(x[i]), n=int(m[i]),
                                          estimate=ci.estimate, low=ci.low, high=ci.high,
                                          weight=float(fit.weights[i])))

    if k == 1:
        s = study_rows_l[0]
        est, low, high, pl, ph = s.estimate, s.low, s.high, None, None
        notes[-1] = (f"k = 1: no heterogeneity estimable; the result is the single study "
                     f"with its {study_ci} interval")
        method_used = "single study"
    else:
        est, low, high, pl, ph, extra = _to_prop(fit, m)
        notes += list(extra)
        method_used = method
    notes += _caution_notes(k, method)
    if fit.hksj_variant is not None and method != "GLMM":
        notes.append(f"{HKSJ_VARIANTS[fit.hksj_variant]}: t distribution with {k - 1} df")
    corrected = tuple(names[i] for i in np.flatnonzero(es.corrected)) if method != "GLMM" else ()
    if corrected:
        notes.append("continuity correction 0.5 added to events and non-events of: "
                     + ", ".join(corrected))
    if measure == "ft":
        hm = 1 / np.mean(1 / m)
        notes.append(f"Freeman-Tukey back-transformation at the harmonic mean n = {hm:.1f}")
    if method == "GLMM" and k > 1:
        notes.append("GLMM weights are approximate inverse-variance weights 1/(v_i + tau^2) "
                     "on the logit scale")
    notes += gnotes

    is_fe = method == "FE"
    return PooledProportion(
        k=k, measure=measure, method=method, hksj=bool(hksj), level=level,
        estimate=est, low=low, high=high,
        pi_low=None if is_fe else pl, pi_high=None if is_fe else ph,
        tau2=None if is_fe else fit.tau2, i2=fit.i2, i2_low=fit.i2_low, i2_high=fit.i2_high,
        h2=fit.h2, q=fit.q, q_df=fit.q_df, q_p=fit.q_p, studies=tuple(study_rows_l),
        subgroups=subgroups, q_between=qb, q_between_df=qb_df, q_between_p=qb_p,
        corrected=corrected, notes=tuple(dict.fromkeys(notes)), fit=fit, estimable=True,
        method_used=method_used, hksj_variant=fit.hksj_variant if k > 1 else None,
        events=int(x.sum()), n=int(m.sum()),
    )


_SubgroupOut = tuple[tuple[SubgroupResult, ...], float | None, int | None, float | None,
                     list[str]]


def _subgroups(x: np.ndarray, m: np.ndarray, glabels: list[str], measure: str, method: str,
               hksj: bool, level: float, study_ci: str, hksj_variant: str) -> _SubgroupOut:
    """Separate model per subgroup (separate tau^2) and the Q-between test of their estimates.

    Q_between = sum_g (theta_g - theta_bar)^2 / se_g^2 with theta_bar their inverse-variance
    mean, chi^2 with G - 1 df: meta's 'Test for subgroup differences' for the chosen model.
    Subgroups that are not estimable (all arms 0 % or 100 %) are left out of the test: their
    model-based estimate would rest on the continuity correction alone.
    """
    order = list(dict.fromkeys(glabels))
    rows = []
    thetas, ses = [], []
    notes: list[str] = []
    left_out: list[str] = []
    for g in order:
        idx = np.array([i for i, lab in enumerate(glabels) if lab == g])
        xs, ms = x[idx], m[idx]
        why = _not_estimable(xs, ms, method)
        if why is not None:
            ci = _exact_summed(xs, ms, level)
            note = _not_estimable_note(why, xs, ms, ci, what=f"subgroup {g}:")
            rows.append(SubgroupResult(group=g, k=int(idx.size), estimate=ci.estimate,
                                       low=ci.low, high=ci.high, tau2=None, i2=None, q=None,
                                       estimable=False, events=int(xs.sum()),
                                       n=int(ms.sum()), method_used="exact", notes=(note,)))
            notes.append(note)
            left_out.append(g)
            continue
        fit, _ = _fit_any(xs, ms, measure, method, hksj, level, hksj_variant)
        if fit.k == 1:
            ci = _study_ci(int(xs[0]), int(ms[0]), study_ci, level)
            est, low, high = ci.estimate, ci.low, ci.high
        else:
            est, low, high, _, _, _ = _to_prop(fit, ms)
        sg_notes = tuple(_caution_notes(fit.k, method))
        rows.append(SubgroupResult(group=g, k=fit.k, estimate=est, low=low, high=high,
                                   tau2=None if method == "FE" else fit.tau2, i2=fit.i2,
                                   q=fit.q, estimable=True, events=int(xs.sum()),
                                   n=int(ms.sum()),
                                   method_used=method if fit.k > 1 else "single study",
                                   notes=sg_notes))
        thetas.append(fit.estimate)
        ses.append(fit.se)
    if left_out:
        notes.append("left out of the test for subgroup differences (not estimable): "
                     + ", ".join(left_out))
    if len(thetas) < 2:
        notes.append("fewer than two estimable subgroups: no test for subgroup differences"
                     if left_out else "only one subgroup: no test for subgroup differences")
        return tuple(rows), None, None, None, notes
    if measure == "ft":
        notes.append("subgroup estimates are back-transformed at each subgroup's harmonic mean n")
    qb, dfb, qb_p = cochran_q(thetas, np.square(ses))
    return tuple(rows), qb, dfb, qb_p, notes


# ---------------------------------------------------------------------------------------------
# Leave-one-out
# ---------------------------------------------------------------------------------------------


def leave_one_out(
    events: Sequence[int] | np.ndarray,
    n: Sequence[int] | np.ndarray,
    studies: Sequence[str] | None = None,
    measure: str = "logit",
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    hksj_variant: HKSJVariant = "adhoc",
) -> pd.DataFrame:
    """Re-pool with each study left out in turn (metafor leave1out); one row per omitted study."""
    measure = _check_choice(measure, MEASURES, "measure")
    method = _check_choice(method, METHODS, "method")
    level = _check_level(level)
    x, m = _as_counts(events, n)
    names = _validate_labels(studies, x.size, "studies", unique=True)
    cols = ["omitted", "k", "estimate", "low", "high", "pi_low", "pi_high", "tau2", "i2", "q",
            "q_p"]
    if x.size < 2:
        raise PoolingInputError("leave-one-out needs at least 2 studies")
    rows = []
    for i in range(x.size):
        keep = np.arange(x.size) != i
        r = pool_proportions(x[keep], m[keep], [nm for j, nm in enumerate(names) if j != i],
                             measure=measure, method=method, hksj=hksj, level=level,
                             hksj_variant=hksj_variant)
        rows.append([names[i], r.k, r.estimate, r.low, r.high, r.pi_low, r.pi_high, r.tau2,
                     r.i2, r.q, r.q_p])
    import pandas as pd

    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------------
# CSV input
# ---------------------------------------------------------------------------------------------


_NOT_CSV = "the file is not a readable CSV"


def _read_csv_table(source: Any) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of a CSV given as bytes, text or a file object.

    The standard library's csv module with the conventions pandas.read_csv(dtype=str,
    keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig") gave this reader before
    (pandas costs ~0.5 s to import, on every `pool` call): bytes decoded by limits.decode_text
    (UTF-8, a byte-order mark's encoding, else Windows-1252); blank and
    whitespace-only lines skipped; cells kept as text, spaces after a comma dropped; a short row
    padded with empty cells; a row longer than the header, or a quoted cell never closed, is not
    a readable CSV; an empty header name becomes "Unnamed: i" and a repeated one gets ".1".
    """
    data = source.read() if hasattr(source, "read") else source
    if isinstance(data, bytes | bytearray):
        try:  # UTF-8, UTF-16/32 with a byte-order mark, else Windows-1252; binary refused
            text = limits.decode_text(bytes(data), "the file").text
        except InputError as exc:
            raise PoolingInputError(f"{_NOT_CSV}: {exc}") from None
    elif isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        raise PoolingInputError(f"cannot read a CSV from {type(source).__name__}; give a file "
                                "path, bytes or a file object")
    lines = io.StringIO(text, newline="").readlines()
    try:
        rows = _csv_rows(lines, strict=True)
    except csv.Error as exc:
        if "end of data" in str(exc):  # EOF inside a quoted cell
            raise PoolingInputError(f"{_NOT_CSV}: a quoted cell is never closed (a \" "
                                    "without its closing \")") from None
        try:  # e.g. "3"x: text after a closing quote, which pandas accepted as 3x
            rows = _csv_rows(lines, strict=False)
        except csv.Error as exc2:
            raise PoolingInputError(f"{_NOT_CSV}: {exc2}") from None
    if not rows:
        raise PoolingInputError("the file is empty: expected a header row study,events,n "
                                "and at least one data row")
    header = rows[0][1]
    width = len(header)
    records = []
    for line_no, row in rows[1:]:
        if len(row) > width:
            raise PoolingInputError(
                f"{_NOT_CSV}: expected {width} fields in line {line_no}, saw {len(row)}")
        records.append(row + [""] * (width - len(row)))
    names = [name or f"Unnamed: {i}" for i, name in enumerate(header)]
    return check_header(names, error=PoolingInputError), records


def _csv_rows(lines: list[str], strict: bool) -> list[tuple[int, list[str]]]:
    """(last physical line number, cells) of each row that is not blank or whitespace-only."""
    reader = csv.reader(lines, skipinitialspace=True, strict=strict)
    rows = []
    consumed = 0
    for row in reader:
        raw = lines[consumed:reader.line_num]
        consumed = reader.line_num
        if not row or (len(row) == 1 and not "".join(raw).strip()):
            continue
        rows.append((reader.line_num, row))
    return rows


def read_pool_csv(
    path_or_buffer: str | os.PathLike[str] | io.IOBase | bytes | Any,
) -> tuple[list[str], np.ndarray, np.ndarray, list[str] | None]:
    """Read and validate a CSV with columns study,events,n and optional group.

    Returns (studies, events, n, groups or None). Any problem raises PoolingInputError naming
    the 1-based data row (the header is not counted) and the column.
    """
    name = "the file"
    if isinstance(path_or_buffer, str | os.PathLike):
        name = os.path.basename(os.fspath(path_or_buffer))
        try:  # regular files only, bounded read: never a FIFO or /dev/zero
            path_or_buffer = limits.read_regular_file(path_or_buffer)
        except InputError as exc:
            raise PoolingInputError(str(exc)) from None
    if isinstance(path_or_buffer, bytes):
        try:
            path_or_buffer = limits.decode_text(path_or_buffer, name).text
            limits.check_text_table(path_or_buffer, name, limits.MAX_STUDIES, "study rows")
        except InputError as exc:
            raise PoolingInputError(str(exc)) from None
    header, records = _read_csv_table(path_or_buffer)
    columns = [c.strip().lower() for c in header]
    missing = [c for c in ("study", "events", "n") if c not in columns]
    if missing:
        raise PoolingInputError(
            f"missing column(s) {', '.join(missing)}: the file needs columns study,events,n "
            f"(optional group); found {', '.join(columns) or 'none'}")
    if not records:
        raise PoolingInputError("the file has a header but no data rows")
    has_group = "group" in columns
    studies: list[str] = []
    seen: dict[str, int] = {}
    ev = np.empty(len(records), dtype=np.int64)
    nn = np.empty(len(records), dtype=np.int64)
    groups: list[str] = []
    for r, row in enumerate(records, start=1):
        rec = dict(zip(columns, row, strict=True))
        sid = clean_text(rec["study"], max_chars=limits.MAX_CELL_CHARS,
                         where=f"row {r}, column study", error=PoolingInputError)
        if sid == "":
            raise PoolingInputError(f"row {r}, column study: the study id is empty")
        if sid in seen:
            raise PoolingInputError(
                f"row {r}, column study: duplicate study id {sid!r} "
                f"(first seen in row {seen[sid]})")
        seen[sid] = r
        vals = {}
        for col in ("events", "n"):
            count = parse_count(rec[col], maximum=limits.MAX_COUNT,
                                where=f"row {r}, column {col}", error=PoolingInputError)
            assert count is not None
            vals[col] = count
        if vals["n"] == 0:
            raise PoolingInputError(f"row {r}, column n: n must be at least 1")
        if vals["events"] > vals["n"]:
            raise PoolingInputError(
                f"row {r}, column events: events ({vals['events']}) cannot exceed "
                f"n ({vals['n']})")
        if has_group:
            g = clean_text(rec["group"], max_chars=limits.MAX_CELL_CHARS,
                           where=f"row {r}, column group", error=PoolingInputError)
            if g == "":
                raise PoolingInputError(f"row {r}, column group: the group is empty")
            groups.append(g)
        studies.append(sid)
        ev[r - 1], nn[r - 1] = vals["events"], vals["n"]
    return studies, ev, nn, (groups if has_group else None)
