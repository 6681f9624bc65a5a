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
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy.special import expit, logit

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import check_header, clean_text, parse_count
from comparators.stats.distributions import chi2_quantile, chi2_upper_tail, critical_value
from comparators.stats.effect_sizes import (
    EffectSizes,
    PoolingInputError,
    as_counts,
    back_transform,
    check_choice,
    check_level,
    cochran_q,
    effect_sizes,
    fixed_effect_stats,
    validate_labels,
)
from comparators.stats.pooled_result import (
    ModelFit,
    PooledProportion,
    StudyEstimate,
    SubgroupResult,
    not_estimable_pool,
    not_estimable_reason,
    not_estimable_subgroup,
    study_interval,
)
from comparators.stats.tau2 import maximise_tau2, root_decreasing
from comparators.vocab import EFFECT_SIZE_MODELS, HKSJ_CHOICES, MEASURE_CHOICES, MODEL_CHOICES

if TYPE_CHECKING:  # pandas only builds the optional DataFrame views; the CLI never needs it
    import pandas as pd

Measure = Literal["logit", "ft", "arcsine", "raw"]
Method = Literal["FE", "DL", "PM", "ML", "REML", "GLMM"]
HKSJVariant = Literal["adhoc", "plain"]


_GLMM_NAGQ = 7  # metafor rma.glmm default for measure PLO


class GLMMNotFittedError(PoolingInputError):
    """The binomial-normal GLMM cannot be fitted to these counts; the message names an
    alternative. Raised instead of silently switching to another model."""




# ---------------------------------------------------------------------------------------------
# Effect sizes (escalc)
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Back-transformations
# ---------------------------------------------------------------------------------------------


# ---------------------------------------------------------------------------------------------
# Fitted model (rma.uni / rma.glmm)
# ---------------------------------------------------------------------------------------------


def _gen_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Generalised Q statistic at a given tau^2 (decreasing in tau^2)."""
    w = 1 / (v + tau2)
    mu = (w * y).sum() / w.sum()
    return float((w * (y - mu) ** 2).sum())


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    _, _, q = fixed_effect_stats(y, v)
    c = w.sum() - (w**2).sum() / w.sum()
    return max(0.0, (q - (y.size - 1)) / c) if c > 0 else 0.0


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    # Paule-Mandel: generalised Q equal to its expectation k - 1. Q(tau^2) is strictly
    # decreasing, so the root is unique; the check below guards the bracketing numerically.
    k = y.size
    tau2 = root_decreasing(lambda t: _gen_q(t, y, v), k - 1, _tau2_dl(y, v) + np.var(y))
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


def _tau2_fisher(y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    """ML/REML tau^2 at the global maximum of the (restricted) likelihood, truncated at 0."""
    return maximise_tau2(lambda t: _loglik(t, y, v, reml),
                         lambda t: _fisher_step(t, y, v, reml), y, v)


# tau^2 does not depend on the level or the HKSJ choice: a page that redraws every subtype at
# a new level would otherwise rerun every REML search. Keyed by the data's bytes.
@lru_cache(maxsize=4096)
def _tau2_estimate(method: str, y_bytes: bytes, v_bytes: bytes) -> float:
    y, v = np.frombuffer(y_bytes), np.frombuffer(v_bytes)
    if method == "FE":
        return 0.0
    if method == "DL":
        return _tau2_dl(y, v)
    if method == "PM":
        return _tau2_pm(y, v)
    return _tau2_fisher(y, v, reml=(method == "REML"))


def _qprofile_ci(y: np.ndarray, v: np.ndarray, level: float, tau2: float) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (Viechtbauer 2007; metafor confint.rma.uni)."""
    k = y.size
    alpha = 1 - level
    f = lambda t: _gen_q(t, y, v)  # noqa: E731
    lo = root_decreasing(f, chi2_quantile(1 - alpha / 2, k - 1), tau2)
    hi = root_decreasing(f, chi2_quantile(alpha / 2, k - 1), tau2)
    return lo, hi


def _typical_v(v: np.ndarray) -> float:
    """metafor's 'typical' within-study variance used for I^2 and H^2."""
    w = 1 / v
    k = v.size
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def _i2_h2(tau2: float, s2: float) -> tuple[float, float]:
    return 100 * tau2 / (tau2 + s2), (tau2 + s2) / s2


def _check_variant(hksj: bool, hksj_variant: str) -> str | None:
    check_choice(hksj_variant, HKSJ_CHOICES, "hksj_variant")
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
    method = check_choice(method, EFFECT_SIZE_MODELS, "method")
    level = check_level(level)
    variant = _check_variant(hksj, hksj_variant)
    y, v = es.yi, es.vi
    k = y.size
    notes: tuple[str, ...] = ()
    if k == 1:
        return _single_study_fit(es, method, hksj, level, notes)

    mu_fe, _, q = fixed_effect_stats(y, v)
    q_df = k - 1
    q_p = chi2_upper_tail(q, q_df)
    s2 = _typical_v(v)
    tau2 = _tau2_estimate(method, np.asarray(y, dtype=float).tobytes(),
                          np.asarray(v, dtype=float).tobytes())

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


def _check_glmm_estimable(x: np.ndarray, m: np.ndarray) -> None:
    """Raise GLMMNotFittedError when the counts leave the mean logit infinite or unidentified."""
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


def _maximise_glmm_likelihood(
    xf: np.ndarray, nf: np.ndarray, es: EffectSizes,
) -> tuple[float, float, Callable[[np.ndarray], float], float]:
    """(beta, tau) minimising the deviance, the deviance itself and the Hessian's step."""
    from scipy import optimize  # Nelder-Mead; imported here as only the GLMM needs it

    modes = np.zeros(xf.size)

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
    return float(theta[0]), float(theta[1]), dev, step_h


def _glmm_mean_variance(
    beta: float, tau: float, nf: np.ndarray, dev: Callable[[np.ndarray], float], step_h: float,
) -> tuple[float, float, tuple[str, ...]]:
    """tau (0 at the boundary), the variance of the mean logit and the notes on how it was got."""
    notes: tuple[str, ...] = ()
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
    return tau, var, notes


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
    level = check_level(level)
    variant = _check_variant(hksj, hksj_variant)
    x, m = as_counts(events, n)
    es = effect_sizes(x, m, "logit")
    k = x.size
    notes: tuple[str, ...] = ()
    if k == 1:
        return _single_study_fit(es, "GLMM", hksj, level, notes)
    _check_glmm_estimable(x, m)
    xf, nf = x.astype(float), m.astype(float)
    beta, tau, dev, step_h = _maximise_glmm_likelihood(xf, nf, es)
    tau, var, variance_notes = _glmm_mean_variance(beta, tau, nf, dev, step_h)
    notes += variance_notes
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
    _, _, q = fixed_effect_stats(y, v)
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


# ---------------------------------------------------------------------------------------------
# Results on the proportion scale
# ---------------------------------------------------------------------------------------------


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
    measure = check_choice(measure, MEASURE_CHOICES, "measure")
    method = check_choice(method, MODEL_CHOICES, "method")
    level = check_level(level)
    check_choice(hksj_variant, HKSJ_CHOICES, "hksj_variant")
    x, m = as_counts(events, n)
    k = x.size
    _check_work(k, m, method, groups)
    if method == "BAYES":  # lazy: the Bayesian model loads scipy.optimize and pandas
        from comparators.stats.bayes_pooling import pool_bayes

        return pool_bayes(x, m, studies, measure, level, groups, study_ci, bayes, hksj)
    names = validate_labels(studies, k, "studies", unique=True)
    glabels = validate_labels(groups, k, "groups", unique=False) if groups is not None else None

    subgroups: tuple[SubgroupResult, ...] = ()
    qb = qb_df = qb_p = None
    gnotes: list[str] = []
    if glabels is not None:
        subgroups, qb, qb_df, qb_p, gnotes = _subgroups(x, m, glabels, measure, method, hksj,
                                                         level, study_ci, hksj_variant)

    why = not_estimable_reason(x, m, method)
    if why is not None:
        model_note = (f"the {MODEL_CHOICES[method].short} model was not fitted; study weights are "
                      "shares of the patients")
        return PooledProportion(
            measure=measure, method=method, hksj=bool(hksj), subgroups=subgroups,
            q_between=qb, q_between_df=qb_df, q_between_p=qb_p, hksj_variant=None,
            **not_estimable_pool(why, x, m, names, study_ci, level, [model_note, *gnotes]))

    fit, es = _fit_any(x, m, measure, method, hksj, level, hksj_variant)
    return _fitted_pool(fit, es, x, m, names, study_ci, subgroups, (qb, qb_df, qb_p), gnotes)


def _model_notes(fit: ModelFit, m: np.ndarray, corrected: tuple[str, ...]) -> list[str]:
    """What a reader of the pooled result needs to know about how the model was fitted."""
    k, method = fit.k, fit.method
    notes = _caution_notes(k, method)
    if fit.hksj_variant is not None and method != "GLMM":
        notes.append(f"{HKSJ_CHOICES[fit.hksj_variant].label}: t distribution with {k - 1} df")
    if corrected:
        notes.append("continuity correction 0.5 added to events and non-events of: "
                     + ", ".join(corrected))
    if fit.measure == "ft":
        hm = 1 / np.mean(1 / m)
        notes.append(f"Freeman-Tukey back-transformation at the harmonic mean n = {hm:.1f}")
    if method == "GLMM" and k > 1:
        notes.append("GLMM weights are approximate inverse-variance weights 1/(v_i + tau^2) "
                     "on the logit scale")
    return notes


def _check_work(k: int, m: np.ndarray, method: str, groups: Sequence[str] | None) -> None:
    """The bounds checked before any fit; a refusal names the limit."""
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


def _fitted_pool(fit: ModelFit, es: EffectSizes, x: np.ndarray, m: np.ndarray,
                 names: list[str], study_ci: str, subgroups: tuple[SubgroupResult, ...],
                 between: tuple[float | None, int | None, float | None],
                 gnotes: list[str]) -> PooledProportion:
    """A fitted model's result on the proportion scale, with its study rows and notes."""
    k, method, measure, level = x.size, fit.method, fit.measure, fit.level
    notes = list(fit.notes)
    study_rows_l = []
    for i in range(k):
        ci = study_interval(int(x[i]), int(m[i]), study_ci, level)
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
    corrected = tuple(names[i] for i in np.flatnonzero(es.corrected)) if method != "GLMM" else ()
    notes += _model_notes(fit, m, corrected) + gnotes
    qb, qb_df, qb_p = between
    is_fe = method == "FE"
    return PooledProportion(
        k=k, measure=measure, method=method, hksj=bool(fit.hksj), level=level,
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
        why = not_estimable_reason(xs, ms, method)
        if why is not None:
            rows.append(not_estimable_subgroup(g, why, xs, ms, level))
            notes.extend(rows[-1].notes)
            left_out.append(g)
            continue
        fit, _ = _fit_any(xs, ms, measure, method, hksj, level, hksj_variant)
        if fit.k == 1:
            ci = study_interval(int(xs[0]), int(ms[0]), study_ci, level)
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
    measure = check_choice(measure, MEASURE_CHOICES, "measure")
    method = check_choice(method, MODEL_CHOICES, "method")
    level = check_level(level)
    x, m = as_counts(events, n)
    names = validate_labels(studies, x.size, "studies", unique=True)
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

    The standard library's csv module (reading the file needs no pandas), with the
    conventions of pandas.read_csv(dtype=str, keep_default_na=False, skipinitialspace=True,
    encoding="utf-8-sig"): bytes decoded by limits.decode_text
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
