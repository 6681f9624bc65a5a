"""Pooling median survival times (median PFS in months) across arms: published methods only.

Which method depends on what the arms report; the result names the method it used
(``PooledMedian.method`` / ``method_name`` / ``methods_text()``), so the methods paragraph is
generated from the result, never from the options asked for.

1. Arms that report a median with its confidence interval: inverse-variance pooling.

   ``scale="log"`` (the default): y_i = log(m_i) with
   se_i = (log U_i - log L_i) / (2 z), z = the normal quantile of the interval's level
   ((1 + c_i) / 2, c_i = 0.95 unless given), pooled by the random-effects model of
   ``pooling.fit_model`` (REML by default; any of its models and HKSJ variants) and
   back-transformed by exp: the pooled median is exp(mu) with interval exp(low)-exp(high),
   always positive. The log scale suits survival medians, whose intervals are skewed to the
   right (Kaplan-Meier intervals of the median come from log or log-log transformed
   survival); it is the ratio-of-medians scale of McGrath et al. (below).

   ``scale="months"``: the Wald approach of McGrath, Kimmelman, Ozturk, Steele and Benedetti
   (2025), "Meta-analysis of median survival times with inverse-variance weighting"
   (arXiv:2503.03065; R ``metamedian::metamedian_survival``): y_i = m_i with
   se_i = (U_i - L_i) / (2 z), pooled untransformed.

   An interval whose upper limit was not reached ("NR", ``high=None``) gives
   se_i = (m_i - L_i) / z from its lower half, as metamedian_survival does (on the log scale:
   (log m_i - log L_i) / z).

2. Arms that report a median without an interval: the median of medians (MM) or, with each
   arm's number of patients as weights, the weighted median of medians (WM) of McGrath, Zhao,
   Qin, Steele and Benedetti, "One-sample aggregate data meta-analysis of medians", Stat Med
   2019;38:969-984 (R ``metamedian::pool.med``). The estimate is the (weighted) median of the
   arm medians; the interval inverts the sign test: by default (``norm_approx=True``, as
   pool.med) the (weighted) quantiles at 0.5 -/+ min(0.5, z / (2 sqrt(k))), computed as R's
   ``quantile`` (type 7) and ``Hmisc::wtd.quantile`` (type "quantile") compute them; with
   ``norm_approx=False`` the exact order statistics [Y_(T+1), Y_(k-T)] with the smallest
   binomial coverage 1 - 2 P(Bin(k, 1/2) <= T) at or above the level (for the unweighted MM
   metamedian 1.2.1's code takes Y_(k-T-1) as the upper limit, one order statistic lower than
   the sign-test interval the paper describes; this module follows the paper).

``pool_medians`` chooses: inverse variance on the log scale when every arm has a usable
interval, otherwise WM over all arms when every arm gives its patients, otherwise MM.

Refusals (``MedianPoolingInputError``, naming the arm): a median of zero or below, or beyond
``limits.MAX_MONTHS`` (a median of "0 months" is a data-entry slip, and its log is undefined);
an interval that does not contain its median (L <= m <= U) or has no width; a lower limit of
zero on the log scale; an interval level outside 0.5-0.999; more than ``limits.MAX_STUDIES``
arms; one arm for the median of medians (an interval from one value is not defined).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import parse_level
from comparators.stats.distributions import critical_value
from comparators.stats.effect_sizes import EffectSizes
from comparators.stats.pooling import fit_model
from comparators.vocab import HKSJ_CHOICES, MODEL_CHOICES

Scale = Literal["log", "months"]

#: method code -> the name a methods paragraph uses
MEDIAN_METHODS: dict[str, str] = {
    "iv-log": "inverse-variance pooling of log-medians (standard errors from the reported "
              "confidence intervals), back-transformed by exponentiation",
    "iv-months": "inverse-variance pooling of medians with standard errors from the reported "
                 "confidence intervals (McGrath et al. 2025, Wald approach)",
    "mm": "median of medians (McGrath et al., Stat Med 2019)",
    "wm": "weighted median of medians, weighted by patients (McGrath et al., Stat Med 2019)",
}
_MODELS = ("FE", "DL", "PM", "ML", "REML")


class MedianPoolingInputError(InputError):
    """Medians or intervals that cannot be pooled; the message names the arm and the rule."""


@dataclass(frozen=True)
class ArmMedian:
    """One arm as it entered (or stayed out of) the pool."""

    study: str
    median: float
    low: float | None
    high: float | None
    n: int | None
    #: standard error on the pooling scale (log months or months); None without an interval
    se: float | None = None
    #: model weight in percent (inverse-variance methods)
    weight: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "median": self.median, "low": self.low,
                "high": self.high, "n": self.n, "se": self.se, "weight": self.weight}


@dataclass(frozen=True)
class PooledMedian:
    """A pooled median (months) with its interval and the method that produced it."""

    method: str
    k: int
    estimate: float
    low: float
    high: float
    level: float
    arms: tuple[ArmMedian, ...]
    #: inverse-variance only: the model (REML, DL, ...), heterogeneity and prediction interval
    model: str | None = None
    hksj_variant: str | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    tau2: float | None = None
    i2: float | None = None
    q: float | None = None
    q_df: int | None = None
    q_p: float | None = None
    #: median of medians: the interval's theoretical coverage (exact: at or above the level)
    coverage: float | None = None
    norm_approx: bool | None = None
    notes: tuple[str, ...] = ()
    unit: str = "months"

    @property
    def method_name(self) -> str:
        return MEDIAN_METHODS[self.method]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "method_name": self.method_name, "k": self.k,
            "estimate": self.estimate, "low": self.low, "high": self.high,
            "level": self.level, "unit": self.unit, "model": self.model,
            "hksj_variant": self.hksj_variant, "pi_low": self.pi_low, "pi_high": self.pi_high,
            "tau2": self.tau2, "i2": self.i2, "q": self.q, "q_df": self.q_df, "q_p": self.q_p,
            "coverage": self.coverage, "norm_approx": self.norm_approx,
            "arms": [a.to_dict() for a in self.arms], "notes": list(self.notes),
        }

    def methods_text(self) -> str:
        """The methods sentence for this result."""
        pct = f"{100 * self.level:g}%"
        if self.method in ("mm", "wm"):
            ci = ("the normal approximation to the sign test, as metamedian::pool.med"
                  if self.norm_approx else
                  f"the exact sign test (coverage {100 * (self.coverage or 0):.1f}%)")
            return (f"Median PFS was pooled across {self.k} arms by the {self.method_name}, "
                    f"with a {pct} confidence interval from {ci}.")
        model = MODEL_CHOICES.prose(self.model or "")
        scale = ("as log-medians by inverse-variance weighting (McGrath et al. 2025, on the "
                 "log scale), each arm's standard error derived from its reported "
                 "interval as (log upper - log lower) / (2 z), and back-transformed by "
                 "exponentiation" if self.method == "iv-log" else
                 "on the months scale, each arm's standard error derived from its reported "
                 "interval as (upper - lower) / (2 z) (McGrath et al. 2025)")
        kh = "" if self.hksj_variant is None else (
            f", with the Hartung-Knapp-Sidik-Jonkman interval ({self.hksj_variant})")
        return (f"Median PFS was pooled across {self.k} arms {scale}, using {model}{kh}; "
                f"{pct} confidence interval.")


def _refuse(message: str) -> MedianPoolingInputError:
    return MedianPoolingInputError(message)


def _names(studies: Sequence[str] | None, k: int) -> list[str]:
    names = [str(s) for s in studies] if studies is not None else [f"arm {i + 1}"
                                                                   for i in range(k)]
    if len(names) != k:
        raise _refuse(f"{len(names)} arm names for {k} medians")
    return names


def _floats(values: Sequence[Any] | None, k: int, what: str) -> list[float | None]:
    if values is None:
        return [None] * k
    out: list[float | None] = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating):
            raise _refuse(f"{what}: {v!r} is not a number")
        else:
            out.append(float(v))
    if len(out) != k:
        raise _refuse(f"{len(out)} values of {what} for {k} medians")
    return out


def _check_medians(medians: Sequence[float], names: list[str]) -> list[float]:
    limits.check_count("arms to pool", len(medians), limits.MAX_STUDIES, "pool a subset")
    out = []
    for name, m in zip(names, _floats(medians, len(names), "median"), strict=True):
        if m is None:
            raise _refuse(f"{name}: the median is missing")
        if not (math.isfinite(m) and m > 0):
            raise _refuse(f"{name}: a median of {m:g} months cannot be pooled (a median "
                          "survival time is above 0; 0 is usually a data-entry slip)")
        if m > limits.MAX_MONTHS:
            raise _refuse(f"{name}: a median of {m:g} months is more than the limit of "
                          f"{limits.MAX_MONTHS:g} months; check the unit")
        out.append(m)
    return out


def _arm_se(name: str, m: float, lo: float | None, hi: float | None, ci_level: float,
            scale: Scale) -> float:
    """The arm's standard error on the pooling scale from its reported interval."""
    if lo is None:
        raise _refuse(f"{name}: no lower confidence limit; an arm without an interval can "
                      "only enter the median of medians")
    if hi is not None and not hi <= limits.MAX_MONTHS:
        raise _refuse(f"{name}: upper limit {hi:g} is more than the limit of "
                      f"{limits.MAX_MONTHS:g} months; check the unit")
    if not (lo <= m and (hi is None or m <= hi)):
        shown = f"{lo:g}-{'NR' if hi is None else f'{hi:g}'}"
        raise _refuse(f"{name}: the interval {shown} does not contain the median {m:g}; check "
                      "the numbers (a transcription slip, or another endpoint's interval)")
    if scale == "log" and lo <= 0:
        raise _refuse(f"{name}: a lower limit of {lo:g} months has no logarithm; pool on the "
                      "months scale or correct the limit")
    z = critical_value(ci_level)
    f = math.log if scale == "log" else (lambda x: x)
    width = (f(hi) - f(lo)) / (2 * z) if hi is not None else (f(m) - f(lo)) / z
    if not width > 0:
        raise _refuse(f"{name}: the interval has no width (lower limit = "
                      f"{'upper limit' if hi is not None else 'median, upper not reached'}); "
                      "it carries no information about precision")
    return width


def pool_medians_iv(medians: Sequence[float], lows: Sequence[float | None],
                    highs: Sequence[float | None], *, studies: Sequence[str] | None = None,
                    n: Sequence[int | None] | None = None,
                    ci_levels: float | Sequence[float] = 0.95, scale: Scale = "log",
                    method: str = "REML", hksj: bool = False, hksj_variant: str = "adhoc",
                    level: float = 0.95) -> PooledMedian:
    """Inverse-variance pooling of medians with standard errors from their intervals (see the
    module docstring; ``high=None`` is an upper limit not reached)."""
    if scale not in ("log", "months"):
        raise _refuse("scale is 'log' or 'months'")
    if method not in _MODELS:
        raise _refuse(f"unknown model {method!r}; choose one of {', '.join(_MODELS)}")
    if hksj_variant not in HKSJ_CHOICES:
        raise _refuse("hksj_variant is 'adhoc' or 'plain'")
    level = parse_level(level, error=MedianPoolingInputError)
    names = _names(studies, len(medians))
    m = _check_medians(medians, names)
    k = len(m)
    lo, hi = _floats(lows, k, "lower limit"), _floats(highs, k, "upper limit")
    levels = [ci_levels] * k if isinstance(ci_levels, int | float) else list(ci_levels)
    if len(levels) != k:
        raise _refuse(f"{len(levels)} interval levels for {k} medians")
    levels = [parse_level(c, where=f"{name}: interval level", error=MedianPoolingInputError)
              for name, c in zip(names, levels, strict=True)]
    se = [_arm_se(*arm, scale) for arm in zip(names, m, lo, hi, levels, strict=True)]
    y = np.log(m) if scale == "log" else np.array(m)
    fit = fit_model(EffectSizes.from_yi_vi(y, np.square(se), measure=f"median ({scale})"),
                    method, hksj=hksj, level=level, hksj_variant=hksj_variant)
    back = np.exp if scale == "log" else (lambda x: x)
    counts = _floats(n, k, "patients")
    arms = tuple(ArmMedian(name, mi, li, hi_, None if c is None else int(c), s, float(w))
                 for name, mi, li, hi_, c, s, w in zip(names, m, lo, hi, counts, se,
                                                       fit.weights, strict=True))
    notes = list(fit.notes)
    nr = [a.study for a in arms if a.high is None]
    if nr:
        notes.append("upper limit not reached (NR): standard error from the lower half of the "
                     "interval for " + ", ".join(nr))
    if scale == "log":
        notes.append("the pooled median is exp(pooled log-median): a geometric-mean-type "
                     "summary of the arm medians")
    return PooledMedian(
        method=f"iv-{scale}", k=k, estimate=float(back(fit.estimate)),
        low=float(back(fit.low)), high=float(back(fit.high)), level=level, arms=arms,
        model=method, hksj_variant=fit.hksj_variant,
        pi_low=_back(fit.pi_low, back), pi_high=_back(fit.pi_high, back), tau2=fit.tau2,
        i2=fit.i2, q=fit.q, q_df=fit.q_df, q_p=fit.q_p, notes=tuple(notes))


def _back(x: float | None, back: Any) -> float | None:
    return None if x is None else float(back(x))


# --- median of medians -------------------------------------------------------------------------


def _quantile7(sorted_x: np.ndarray, p: float) -> float:
    """R's quantile(x, p) (type 7) of sorted values."""
    h = (sorted_x.size - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, sorted_x.size - 1)
    return float(sorted_x[lo] + (h - lo) * (sorted_x[hi] - sorted_x[lo]))


def _weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """Hmisc::wtd.quantile(x, weights = w, probs = p) with type = "quantile" (its default):
    ties merged with their weights summed, then linear interpolation between the values at
    the cumulative-weight positions floor(1 + (W - 1) p) and the next one."""
    values, inverse = np.unique(x, return_inverse=True)
    wts = np.bincount(inverse, weights=w)
    total = float(wts.sum())
    cum = np.cumsum(wts)
    order = 1 + (total - 1) * p
    low = max(math.floor(order), 1)
    high = min(low + 1, total)
    frac = order % 1

    def at(position: float) -> float:  # approx(cum, values, method="constant", f=1, rule=2)
        j = int(np.searchsorted(cum, position, side="left"))
        return float(values[min(j, values.size - 1)])

    return (1 - frac) * at(low) + frac * at(high)


def median_of_medians(medians: Sequence[float], *, weights: Sequence[float] | None = None,
                      studies: Sequence[str] | None = None, level: float = 0.95,
                      norm_approx: bool = True,
                      lows: Sequence[float | None] | None = None,
                      highs: Sequence[float | None] | None = None) -> PooledMedian:
    """McGrath et al. (2019) median of medians, weighted by ``weights`` (patients) when given;
    see the module docstring for the interval. ``lows``/``highs`` are only carried into the
    arm table."""
    level = parse_level(level, error=MedianPoolingInputError)
    names = _names(studies, len(medians))
    m = _check_medians(medians, names)
    k = len(m)
    if k < 2:
        raise _refuse("one arm: the median of medians needs at least 2 arms (report the arm's "
                      "own median and interval)")
    w = None
    if weights is not None:
        wl = _floats(weights, k, "weights")
        bad = [nm for nm, wi in zip(names, wl, strict=True) if wi is None or not wi > 0]
        if bad:
            raise _refuse(f"{bad[0]}: the weighted median of medians needs a positive number "
                          "of patients for every arm")
        w = np.array(wl, dtype=float)
    x = np.array(m)
    xs = np.sort(x)
    coverage = level
    if norm_approx:
        half = min(0.5, critical_value(level) / (2 * math.sqrt(k)))
        probs = (0.5 - half, 0.5, 0.5 + half)
        if w is None:
            low, est, high = (_quantile7(xs, q) for q in probs)
        else:
            low, est, high = (_weighted_quantile(x, w, q) for q in probs)
    else:
        low, est, high, coverage = _exact_sign_interval(x, xs, w, level)
    counts = _floats(weights, k, "patients") if weights is not None else [None] * k
    lo_, hi_ = _floats(lows, k, "lower limit"), _floats(highs, k, "upper limit")
    arms = tuple(ArmMedian(name, mi, li, hi, None if c is None else int(c))
                 for name, mi, li, hi, c in zip(names, m, lo_, hi_, counts, strict=True))
    notes = []
    if norm_approx and k < 16:
        notes.append(f"k = {k}: the sign-test interval of the median of medians spans most of "
                     "the arm medians with so few arms")
    return PooledMedian(method="mm" if w is None else "wm", k=k, estimate=est, low=low,
                        high=high, level=level, arms=arms, coverage=coverage,
                        norm_approx=norm_approx, notes=tuple(notes))


def _exact_sign_interval(x: np.ndarray, xs: np.ndarray, w: np.ndarray | None,
                         level: float) -> tuple[float, float, float, float]:
    """[Y_(T+1), Y_(k-T)] with the smallest exact coverage 1 - 2 P(Bin(k, 1/2) <= T) >= level."""
    k = xs.size
    cdf, term = [], 0.0
    for t in range(k // 2 + 1):  # P(Bin(k, 1/2) <= t), exact in floats for k <= 1000
        term += math.comb(k, t)
        cdf.append(term / 2.0**k)
    coverages = [1 - 2 * c for c in cdf]
    ok = [t for t, c in enumerate(coverages) if c >= level]
    if not ok:
        raise _refuse(f"{k} arms are too few for an exact {100 * level:g}% sign-test interval "
                      f"(the highest exact coverage is {100 * coverages[0]:.1f}%); use the "
                      "normal approximation")
    t = max(ok)
    if w is None:
        return float(xs[t]), _quantile7(xs, 0.5), float(xs[k - t - 1]), coverages[t]
    ind = t + 1  # metamedian's weighted form: quantiles at ind/k and (k - ind + 1)/k
    return (_weighted_quantile(x, w, ind / k), _weighted_quantile(x, w, 0.5),
            _weighted_quantile(x, w, (k - ind + 1) / k), coverages[t])


# --- choosing the method ----------------------------------------------------------------------


def pool_medians(medians: Sequence[float], lows: Sequence[float | None] | None = None,
                 highs: Sequence[float | None] | None = None, *,
                 n: Sequence[int | None] | None = None, studies: Sequence[str] | None = None,
                 ci_levels: float | Sequence[float] = 0.95, method: str = "REML",
                 hksj: bool = False, hksj_variant: str = "adhoc",
                 level: float = 0.95) -> PooledMedian:
    """Pool with the method the arms' reporting allows (see the module docstring): log-scale
    inverse variance when every arm has a lower limit, else the weighted median of medians
    when every arm gives its patients, else the median of medians."""
    k = len(medians)
    lo = _floats(lows, k, "lower limit")
    names = _names(studies, k)
    if k and all(v is not None for v in lo):
        return pool_medians_iv(medians, lo, _floats(highs, k, "upper limit"), studies=names,
                               n=n, ci_levels=ci_levels, method=method, hksj=hksj,
                               hksj_variant=hksj_variant, level=level)
    counts = _floats(n, k, "patients")
    without = [nm for nm, v in zip(names, lo, strict=True) if v is None]
    use_n = all(c is not None and c > 0 for c in counts)
    result = median_of_medians(medians, weights=counts if use_n else None,  # type: ignore[arg-type]
                               studies=names, level=level, lows=lows, highs=highs)
    note = (f"no confidence interval for {', '.join(without)}: pooled by the "
            f"{result.method_name} instead of inverse variance")
    return replace(result, notes=(note, *result.notes))
