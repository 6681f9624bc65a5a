"""Kaplan-Meier summaries as R survival computes them, landmark rates, log-rank test.

Pure numpy (no lifelines): the estimator, Greenwood variance, pointwise bands, quantiles and
the log-rank test follow R survival 3.x (``survfit``, ``survfit_confint``, ``quantile.survfit``,
``survdiff``), checked against Rscript in tests/oracle/.

Conventions (as R survival):

* Median and quartiles: the time where 1 - S(t) reaches p, with the midpoint rule when S(t)
  equals 1 - p over a flat stretch (uncensored 1, 2, 3, 4: median 2.5, as R and SAS), and the
  midpoint of that stretch and the last time when the curve ends flat at 1 - p.
* Confidence limits of a quantile: the same rule applied to the lower and upper pointwise band
  (Brookmeyer-Crowley inversion, as ``quantile.survfit``).
* ``conf_type``: "log" (R's default), "log-log", "plain" (R survival's three bands) or "spss":
  the symmetric interval median +/- z * SE(median) that SPSS prints and the seed paper reports
  (8.90, 95% CI 5.98-11.82 months); with "spss" the pointwise band is "plain" and the
  quartiles' limits come from that band. Every result carries the conf type it used.

SE(median), SPSS style
----------------------
SPSS's KM algorithm note (its "Statistical Algorithms", KM section) uses the large-sample
variance of a KM percentile with a crude uniform-kernel density estimate, as given in Klein &
Moeschberger, *Survival Analysis* (2nd ed., 2003), Sec. 4.5, Practical Note 3, and Collett,
*Modelling Survival Data in Medical Research* (1994), Sec. 2.4 (their eq. for se{t(p)}):

    Var(t_p) = Var_Greenwood(S(t_p)) / f(t_p)^2
    f(t_p)   = (S(u_p) - S(l_p)) / (l_p - u_p)
    u_p = max{ t_j : S(t_j) >= 1 - p + eps },   l_p = min{ t_j : S(t_j) <= 1 - p - eps }

with eps = 0.05, p = 0.5 for the median, t_j the distinct event times (u_p = 0 with S = 1 when
no event time qualifies). Var_Greenwood(S(t)) = S(t)^2 * sum_{t_j <= t} d_j / (n_j (n_j - d_j)).
The interval is median +/- z * SE, not truncated (SPSS prints a negative lower limit as is).
If no event time has S <= 0.45 the SE is undefined and the interval is None.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import (
    check_header,
    clean_text,
    is_missing,
    parse_choice,
    parse_event,
    parse_level,
    parse_number,
)
from comparators.stats.distributions import chi2_upper_tail, critical_value
from comparators.vocab import KM_CONF_CHOICES, TIME_UNIT_DAYS

ConfType = Literal["log", "log-log", "plain", "spss"]
_R_TOL = math.sqrt(np.finfo(float).eps)  # quantile.survfit's tolerance
SPSS_METHOD = (
    "median +/- z*SE, SE = Greenwood SE of S(median) / density; density = "
    "(S(u) - S(l)) / (l - u), u = last event time with S >= 0.55, l = first with S <= 0.45"
)
SPSS_EPS = 0.05
DEFAULT_MAX_TIME = 36_525.0  # 100 years in days: larger than any plausible follow-up in any unit


class SurvivalInputError(InputError):
    """Time-to-event input that cannot be analysed; the message names the row and column."""


class SurvivalColumnsError(SurvivalInputError):
    """A time, event or group column is not in the data (the caller knows how they are named)."""


# --------------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandmarkResult:
    """S(t) at one time with its pointwise confidence interval, as R survival's
    summary(survfit, times): 1 to 1 while S(t) = 1, no interval (None, R's NA) once S(t) = 0."""

    time: float
    survival: float
    low: float | None
    high: float | None
    se: float
    n_at_risk: int
    conf_type: str
    level: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class KMResult:
    """One Kaplan-Meier curve and its median summaries. Times are in the input's unit."""

    label: str
    n: int
    events: int
    median: float | None
    median_low: float | None
    median_high: float | None
    median_ci_method: str
    median_se_spss: float | None
    spss_low: float | None
    spss_high: float | None
    level: float
    conf_type: str
    note: str | None
    #: quartiles {0.25, 0.5, 0.75} -> (time, low, high), R quantile.survfit; None = not reached
    quantiles: dict[float, tuple[float | None, float | None, float | None]] = field(
        default_factory=dict, repr=False)
    #: the unit of every time in this result ("months" ...), or "as given" when the input had
    #: no time_unit column
    time_unit: str = "as given"
    # the step function (distinct observed times, with time 0 prepended)
    timeline: tuple[float, ...] = field(repr=False, default=())
    survival: tuple[float, ...] = field(repr=False, default=())
    ci_low: tuple[float, ...] = field(repr=False, default=())
    ci_high: tuple[float, ...] = field(repr=False, default=())
    n_at_risk: tuple[int, ...] = field(repr=False, default=())
    n_events: tuple[int, ...] = field(repr=False, default=())
    n_censored: tuple[int, ...] = field(repr=False, default=())

    def to_dict(self) -> dict[str, Any]:
        """The `km` CLI contract for one group (plus the SPSS-style interval and a note)."""
        return {
            "group": self.label,
            "n": self.n,
            "events": self.events,
            "median": self.median,
            "median_low": self.median_low,
            "median_high": self.median_high,
            "median_ci_method": self.median_ci_method,
            "median_spss_low": self.spss_low,
            "median_spss_high": self.spss_high,
            "median_spss_se": self.median_se_spss,
            "median_spss_method": SPSS_METHOD,
            "conf_type": self.conf_type,
            "level": self.level,
            "time_unit": self.time_unit,
            **{f"q{int(100 * p)}{suffix}": self.quantiles.get(p, (None, None, None))[i]
               for p in (0.25, 0.75) for i, suffix in enumerate(("", "_low", "_high"))},
            "note": self.note,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    def survival_table(self) -> pd.DataFrame:
        """Step-function table for plotting: timeline, survival, ci_low, ci_high, at risk."""
        return pd.DataFrame(
            {
                "timeline": self.timeline,
                "survival": self.survival,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "n_at_risk": self.n_at_risk,
                "n_events": self.n_events,
                "n_censored": self.n_censored,
            }
        )

    def survival_at(self, t: float) -> float:
        """S(t), right-continuous step function."""
        idx = int(np.searchsorted(np.asarray(self.timeline), t, side="right")) - 1
        return float(self.survival[max(idx, 0)])

    def at_risk(self, times: Iterable[float]) -> list[int]:
        """Numbers at risk just before each time (subjects with observed time >= t)."""
        tl = np.asarray(self.timeline, dtype=float)
        nr = np.asarray(self.n_at_risk, dtype=int)
        out: list[int] = []
        for t in times:
            t = float(t)
            if t <= 0:
                out.append(self.n)
                continue
            # risk set at t = at-risk count of the first recorded time >= t; 0 past the end
            idx = int(np.searchsorted(tl, t, side="left"))
            out.append(int(nr[idx]) if idx < len(tl) else 0)
        return out

    def landmark(self, t: float, conf_type: ConfType | None = None) -> LandmarkResult:
        """S(t) with a pointwise CI (default the fit's band; "spss" uses the plain band)."""
        ctype = conf_type or self.conf_type  # type: ignore[assignment]
        if ctype == "spss":
            ctype = "plain"
        if ctype not in KM_CONF_CHOICES:
            raise SurvivalInputError(
                f"conf_type must be one of {sorted(KM_CONF_CHOICES)}, got {ctype!r}"
            )
        if not math.isfinite(t) or t < 0:
            raise SurvivalInputError(f"landmark time must be a finite number >= 0, got {t!r}")
        tl = np.asarray(self.timeline, dtype=float)
        idx = max(int(np.searchsorted(tl, t, side="right")) - 1, 0)
        s = float(self.survival[idx])
        gw = _greenwood_sum(self, idx)
        z = critical_value(self.level)
        low, high = (1.0, 1.0) if s >= 1 else _band(s, gw, z, ctype)  # type: ignore[arg-type]
        return LandmarkResult(
            time=float(t),
            survival=s,
            low=low if math.isfinite(low) else None,
            high=high if math.isfinite(high) else None,
            se=s * math.sqrt(gw) if math.isfinite(gw) else 0.0,
            n_at_risk=self.at_risk([t])[0],
            conf_type=ctype,  # type: ignore[arg-type]
            level=self.level,
        )


@dataclass(frozen=True)
class LogRankResult:
    """The log-rank test across groups (R survdiff, rho = 0): chi-square, df, p, and the
    observed and expected events per group (groups in order of first appearance)."""

    chi2: float
    df: int
    p: float
    groups: tuple[str, ...]
    observed: tuple[float, ...]
    expected: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"chi2": self.chi2, "df": self.df, "p": self.p}


@dataclass(frozen=True)
class KMGroupResult:
    """Per-group Kaplan-Meier results plus a log-rank test across groups (None for one group,
    or when the test has no information)."""

    groups: tuple[KMResult, ...]
    group_col: str | None
    logrank: LogRankResult | None
    level: float
    conf_type: str = "log"
    time_unit: str = "as given"

    @property
    def logrank_chi2(self) -> float | None:
        return None if self.logrank is None else self.logrank.chi2

    @property
    def logrank_df(self) -> int | None:
        return None if self.logrank is None else self.logrank.df

    @property
    def logrank_p(self) -> float | None:
        return None if self.logrank is None else self.logrank.p

    def __getitem__(self, label: str) -> KMResult:
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group_col": self.group_col,
            "level": self.level,
            "conf_type": self.conf_type,
            "conf_type_label": KM_CONF_CHOICES[self.conf_type].label,
            "time_unit": self.time_unit,
            "groups": [g.to_dict() for g in self.groups],
            "logrank": None if self.logrank is None else self.logrank.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([g.to_dict() for g in self.groups])


# --------------------------------------------------------------------------------------------
# Core computations
# --------------------------------------------------------------------------------------------


def _greenwood_sum(res: KMResult, idx: int) -> float:
    """sum_{t_j <= timeline[idx]} d_j / (n_j (n_j - d_j)); inf once S has reached 0."""
    total = 0.0
    for k in range(idx + 1):
        d, n = res.n_events[k], res.n_at_risk[k]
        if d == 0:
            continue
        if n == d:
            return math.inf
        total += d / (n * (n - d))
    return total


def _band(s: float, gw: float, z: float, conf_type: ConfType) -> tuple[float, float]:
    """Pointwise CI of S from the Greenwood sum gw, as R survival's survfit_confint.

    NaN (R's NA) where R has NA: S = 0 for every type, S = 1 for log-log, and gw infinite.
    """
    low, high = _bands(np.array([s], dtype=float), np.array([gw], dtype=float), z, conf_type)
    return float(low[0]), float(high[0])


def _bands(s: np.ndarray, gw: np.ndarray, z: float,
           conf_type: ConfType) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_band` for every time at once (a curve has one value per distinct time)."""
    if conf_type == "spss":
        conf_type = "plain"
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        se = np.sqrt(gw)
        na = (s <= 0) | ~np.isfinite(se)
        if conf_type == "plain":
            half = z * se * s
            low, high = np.maximum(s - half, 0.0), np.minimum(s + half, 1.0)
        elif conf_type == "log":
            low, high = s * np.exp(-z * se), np.minimum(1.0, s * np.exp(z * se))
        else:  # log-log: log(-log S) +/- z * se / log S
            na |= s >= 1
            theta = z * se / np.log(s)
            loglog = np.log(-np.log(s))
            low = np.exp(-np.exp(loglog - theta))
            high = np.exp(-np.exp(loglog + theta))
    return np.where(na, np.nan, low), np.where(na, np.nan, high)


def _findq(x: np.ndarray, y: np.ndarray, p: float, tol: float = _R_TOL) -> float:
    """R survival's findq: the time at which the non-decreasing y (= 1 - S) reaches p.

    x, y start with (0, 0). Exact equality over a flat stretch gives the midpoint of the
    stretch (R approx(..., method="constant", f=1) at y + tol and y - tol); NaN entries (R's
    NA limits) are dropped as R's approx drops them.
    """
    if np.all(np.isnan(y)) or np.nanmax(y) < p:
        return math.nan
    xmax = float(x[-1])
    # duplicated(y): keep the first occurrence of every value (all NaNs count as one value)
    keep = np.zeros(y.size, dtype=bool)
    nan = np.isnan(y)
    finite_at = np.flatnonzero(~nan)
    keep[finite_at[np.unique(y[finite_at], return_index=True)[1]]] = True
    if nan.any():
        keep[int(np.argmax(nan))] = True
    xs, ys = x[keep], y[keep]
    idx = np.arange(ys.size)
    ok = ~np.isnan(ys)

    def approx(shift: float) -> int | None:
        xv, iv = ys[ok] + shift, idx[ok]
        if p < xv[0] or p > xv[-1]:
            return None
        return int(iv[int(np.searchsorted(xv, p, side="left"))])

    i1, i2 = approx(tol), approx(-tol)
    if p == 0:
        return float(xs[0])
    if not math.isnan(ys[-1]) and abs(p - ys[-1]) < tol and i1 is not None:
        return (float(xs[i1]) + xmax) / 2
    if i1 is None or i2 is None:
        return math.nan
    return (float(xs[i1]) + float(xs[i2])) / 2


def _km_quantile(times: np.ndarray, surv: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                 p: float) -> tuple[float, float, float]:
    """quantile.survfit for one p: (estimate, lower, upper); NaN = not reached."""
    x = np.concatenate([[0.0], times])
    est = _findq(x, np.concatenate([[0.0], 1 - surv]), p)
    low = _findq(x, np.concatenate([[0.0], 1 - lo]), p)
    high = _findq(x, np.concatenate([[0.0], 1 - hi]), p)
    return est, low, high


def _spss_median_se(
    timeline: np.ndarray, surv: np.ndarray, d: np.ndarray, nrisk: np.ndarray, median: float
) -> float | None:
    """SE of the KM median, SPSS / Klein-Moeschberger Practical Note 3 form (module docstring)."""
    event_idx = np.nonzero(d > 0)[0]
    if not math.isfinite(median) or len(event_idx) == 0:
        return None
    ev_t, ev_s = timeline[event_idx], surv[event_idx]
    upper_ok = ev_s >= 0.5 + SPSS_EPS - 1e-12
    u_t, u_s = (
        (float(ev_t[upper_ok][-1]), float(ev_s[upper_ok][-1])) if upper_ok.any() else (0.0, 1.0)
    )
    lower_ok = ev_s <= 0.5 - SPSS_EPS + 1e-12
    if not lower_ok.any():
        return None
    l_t, l_s = float(ev_t[lower_ok][0]), float(ev_s[lower_ok][0])
    if l_t <= u_t or u_s <= l_s:
        return None
    density = (u_s - l_s) / (l_t - u_t)
    m_idx = int(np.searchsorted(timeline, median, side="right")) - 1
    gw = 0.0
    for k in range(m_idx + 1):
        if d[k] == 0:
            continue
        if nrisk[k] == d[k]:
            return None
        gw += d[k] / (nrisk[k] * (nrisk[k] - d[k]))
    var_s = surv[m_idx] ** 2 * gw
    return math.sqrt(var_s) / density


def spss_interval(median: float, se: float, level: float = 0.95) -> tuple[float, float]:
    """median -/+ z*se (the symmetric interval SPSS prints)."""
    z = critical_value(level)
    return median - z * se, median + z * se


def _as_clean_arrays(
    time: Sequence[float] | np.ndarray | pd.Series, event: Sequence[int] | np.ndarray | pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float)
    if t.ndim != 1 or e.ndim != 1 or len(t) != len(e):
        raise SurvivalInputError("time and event must be 1-D and of equal length")
    if len(t) == 0:
        raise SurvivalInputError("no observations")
    bad_t = ~(np.isfinite(t) & (t >= 0))
    bad_e = ~np.isin(e, (0.0, 1.0))
    if bad_t.any() or bad_e.any():  # the first bad row, time before event as a reader reads
        i = int(np.argmax(bad_t | bad_e))
        if bad_t[i]:
            raise SurvivalInputError(
                f"row {i + 1}, column 'time': expected a number >= 0, got {float(t[i])!r}")
        raise SurvivalInputError(
            f"row {i + 1}, column 'event': expected 0 or 1, got {float(e[i])!r}")
    return t, e.astype(int)


def _km_table(t: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, ...]:
    """Distinct times with numbers at risk, events and censorings (survfit's rows)."""
    times, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=times.size).astype(int)
    tot = np.bincount(inv, minlength=times.size)
    c = tot - d
    nrisk = (t.size - np.concatenate([[0], np.cumsum(tot)[:-1]])).astype(int)
    return times, nrisk, d, c


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _step_function_from_zero(
    n: int, times: np.ndarray, surv: np.ndarray, d: np.ndarray, nrisk: np.ndarray,
    ncens: np.ndarray, lo: np.ndarray, hi: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """survfit's rows with a time-0 row added (plots and landmarks start at S = 1)."""
    if times[0] != 0.0:
        times = np.concatenate([[0.0], times])
        surv = np.concatenate([[1.0], surv])
        d = np.concatenate([[0], d])
        nrisk = np.concatenate([[n], nrisk])
        ncens = np.concatenate([[0], ncens])
        lo = np.concatenate([[1.0], lo])
        hi = np.concatenate([[1.0], hi])
    # plots draw the band as a step function: R's NA (S = 1 for log-log) is drawn as 1
    lo = np.where(np.isnan(lo) & (surv >= 1), 1.0, lo)
    hi = np.where(np.isnan(hi) & (surv >= 1), 1.0, hi)
    return times, surv, d, nrisk, ncens, lo, hi


def km_fit(
    time: Sequence[float] | np.ndarray | pd.Series,
    event: Sequence[int] | np.ndarray | pd.Series,
    label: str = "all",
    *,
    level: float = 0.95,
    conf_type: ConfType = "log",
    time_unit: str = "as given",
) -> KMResult:
    """Fit one Kaplan-Meier curve as R survfit does and summarise its median and quartiles.

    ``conf_type`` chooses the median's interval: "log" (R's default), "log-log", "plain", or
    "spss" (median +/- z * SE, the seed paper's form; the SPSS-style limits are reported for
    every conf type in spss_low / spss_high).
    """
    if conf_type not in KM_CONF_CHOICES:
        raise SurvivalInputError(
            f"conf_type must be one of {', '.join(KM_CONF_CHOICES)}, got {conf_type!r}"
        )
    level = parse_level(level, error=SurvivalInputError)
    t, e = _as_clean_arrays(time, event)
    times, nrisk_r, d_r, c_r = _km_table(t, e)
    with np.errstate(divide="ignore", invalid="ignore"):
        surv_r = np.cumprod(1 - d_r / nrisk_r)
        terms = np.where(d_r > 0, d_r / (nrisk_r * (nrisk_r - d_r).astype(float)), 0.0)
    gw_r = np.cumsum(terms)  # inf from the time S reaches 0 (n at risk = events), as R
    z = critical_value(level)
    lo_r, hi_r = _bands(surv_r, gw_r, z, conf_type)

    raw_q = {p: _km_quantile(times, surv_r, lo_r, hi_r, p) for p in (0.25, 0.5, 0.75)}
    quantiles = {p: (_finite(q), _finite(ql), _finite(qh)) for p, (q, ql, qh) in raw_q.items()}

    timeline, surv, d, nrisk, ncens, lo, hi = _step_function_from_zero(
        t.size, times, surv_r, d_r, nrisk_r, c_r, lo_r, hi_r)

    median, m_low, m_high = raw_q[0.5]
    notes: list[str] = []
    se = _spss_median_se(timeline, surv, d, nrisk, median)
    spss_low = spss_high = None
    if not math.isfinite(median):
        notes.append("median not reached")
    elif se is None:
        notes.append("SPSS-style SE undefined (no event time with S <= 0.45)")
    else:
        spss_low, spss_high = spss_interval(median, se, level)
    if conf_type == "spss":
        m_low = spss_low if spss_low is not None else math.nan
        m_high = spss_high if spss_high is not None else math.nan
        quantiles[0.5] = (_finite(median), _finite(m_low), _finite(m_high))
    else:
        if math.isfinite(median) and not math.isfinite(m_high):
            notes.append("upper confidence limit of the median not reached")
        if not math.isfinite(m_low):
            notes.append("lower confidence limit of the median not reached")

    return KMResult(
        label=str(label),
        n=int(len(t)),
        events=int(e.sum()),
        median=_finite(median),
        median_low=_finite(m_low),
        median_high=_finite(m_high),
        median_ci_method=KM_CONF_CHOICES[conf_type].label,
        median_se_spss=se,
        spss_low=spss_low,
        spss_high=spss_high,
        level=level,
        conf_type=conf_type,
        note="; ".join(notes) or None,
        quantiles=quantiles,
        time_unit=time_unit,
        timeline=tuple(float(x) for x in timeline),
        survival=tuple(float(x) for x in surv),
        ci_low=tuple(float(x) for x in lo),
        ci_high=tuple(float(x) for x in hi),
        n_at_risk=tuple(int(x) for x in nrisk),
        n_events=tuple(int(x) for x in d),
        n_censored=tuple(int(x) for x in ncens),
    )


def logrank(
    time: Sequence[float] | np.ndarray | pd.Series,
    event: Sequence[int] | np.ndarray | pd.Series,
    group: Sequence[object] | np.ndarray | pd.Series,
) -> LogRankResult:
    """Log-rank test across groups (R survdiff, rho = 0).

    chi2 = (O - E)' V^- (O - E) over the first G - 1 groups, with the hypergeometric variance
    V summed over the distinct event times. Computed from the numbers at risk and events per
    group at each distinct event time (sufficient statistics), so ties cost nothing extra: the
    work is (distinct event times) x (groups), not patients x event times.
    """
    tt = np.asarray(time, float)
    ee = np.asarray(event, int)
    labels = pd.Series(list(group)).astype(str).to_numpy()
    levels, first, g = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(first)  # groups in order of first appearance
    rank = np.argsort(order)
    g = rank[g]
    ng = levels.size
    is_event = ee == 1
    event_times = np.unique(tt[is_event])
    # at_risk[j, k]: patients of group k with time >= event_times[j]
    at_risk = np.empty((event_times.size, ng))
    for k in range(ng):
        times_k = np.sort(tt[g == k])
        at_risk[:, k] = times_k.size - np.searchsorted(times_k, event_times, side="left")
    cell = np.searchsorted(event_times, tt[is_event]) * ng + g[is_event]
    deaths = np.bincount(cell, minlength=event_times.size * ng).reshape(-1, ng).astype(float)
    n_tot, d_tot = at_risk.sum(axis=1), deaths.sum(axis=1)
    obs = deaths.sum(axis=0)
    exp = (d_tot / n_tot) @ at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(n_tot > 1, d_tot * (n_tot - d_tot) / (n_tot * n_tot * (n_tot - 1)), 0.0)
    var = np.diag((f * n_tot) @ at_risk) - (at_risk * f[:, None]).T @ at_risk
    diff = (obs - exp)[:-1]
    v = var[:-1, :-1]
    stat = float(diff @ np.linalg.pinv(v) @ diff)
    dof = int(np.linalg.matrix_rank(v))
    p = chi2_upper_tail(stat, dof) if dof > 0 else math.nan
    return LogRankResult(chi2=stat, df=dof, p=p, groups=tuple(str(x) for x in levels[order]),
                         observed=tuple(float(x) for x in obs),
                         expected=tuple(float(x) for x in exp))


def convert_time_units(
    df: pd.DataFrame, time_col: str, unit_col: str = "time_unit", to: str = "months",
) -> pd.DataFrame:
    """Convert each row's time from its ``unit_col`` (days|weeks|months|years) to ``to``.

    Raises SurvivalInputError naming the row (1-based over data rows) for an unknown unit.
    """
    if to not in TIME_UNIT_DAYS:
        raise SurvivalInputError(f"unit must be one of {', '.join(TIME_UNIT_DAYS)}, got {to!r}")
    spellings = {u: u for u in TIME_UNIT_DAYS} | {u[:-1]: u for u in TIME_UNIT_DAYS}  # day -> days
    factors = []
    for row, raw in enumerate(df[unit_col], start=1):
        unit = parse_choice(raw, spellings, what="time unit", row=row, column=unit_col,
                            error=SurvivalInputError)
        factors.append(TIME_UNIT_DAYS[unit] / TIME_UNIT_DAYS[to])
    out = df.copy()
    out[time_col] = out[time_col].astype(float) * np.asarray(factors)
    out[unit_col] = to
    return out


def km_by_group(
    df: pd.DataFrame,
    time_col: str = "time",
    event_col: str = "event",
    group_col: str | None = None,
    *,
    level: float = 0.95,
    conf_type: ConfType = "log",
    unit: str | None = None,
    unit_col: str = "time_unit",
) -> KMGroupResult:
    """Kaplan-Meier per group (or overall) with a log-rank test when there are >= 2 groups.

    If the frame has a ``unit_col`` column (days|weeks|months|years per row) every time is
    converted to ``unit`` (months when not given) before fitting, and results say which unit;
    without it times are used as given (and labelled ``unit`` if one was named).
    """
    data = validate_survival_frame(df, time_col, event_col, group_col)
    if unit is not None and unit not in TIME_UNIT_DAYS:
        raise SurvivalInputError(f"unit must be one of {', '.join(TIME_UNIT_DAYS)}, got {unit!r}")
    if unit_col in data.columns:
        target = unit or "months"
        data = convert_time_units(data, time_col, unit_col, target)
        label_unit = target
    else:
        label_unit = unit or "as given"
    if group_col is None:
        one = km_fit(data[time_col], data[event_col], "all", level=level, conf_type=conf_type,
                     time_unit=label_unit)
        return KMGroupResult((one,), None, None, level, conf_type, label_unit)
    labels = list(dict.fromkeys(data[group_col].astype(str)))
    if len(labels) > limits.MAX_GROUPS:  # each group is a fit and a curve: bound before fitting
        raise SurvivalInputError(str(limits.too_many(
            f"distinct groups in {group_col!r}", len(labels), limits.MAX_GROUPS,
            "group by a column with fewer values")))
    group_of = data[group_col].astype(str).to_numpy()
    times, events = data[time_col].to_numpy(), data[event_col].to_numpy()
    fits = tuple(
        km_fit(times[rows], events[rows], lab, level=level, conf_type=conf_type,
               time_unit=label_unit)
        for lab in labels
        for rows in [group_of == lab]
    )
    test = logrank(times, events, group_of) if len(labels) >= 2 else None
    if test is not None and test.df == 0:  # no information (e.g. every event at one time, all
        test = None  # at risk): no test, as R's survdiff, which stops on the singular variance
    return KMGroupResult(fits, group_col, test, level, conf_type, label_unit)


# --------------------------------------------------------------------------------------------
# Input validation
# --------------------------------------------------------------------------------------------


def validate_survival_frame(
    df: pd.DataFrame,
    time_col: str = "time",
    event_col: str = "event",
    group_col: str | None = None,
    *,
    max_time: float = DEFAULT_MAX_TIME,
) -> pd.DataFrame:
    """Return a clean copy (time float, event int) or raise SurvivalInputError naming row/column.

    Rows are numbered 1-based over the data rows (the header is not a row).
    """
    needed = [time_col, event_col] + ([group_col] if group_col else [])
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise SurvivalColumnsError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(str(c)) for c in df.columns) or 'no columns'}"
        )
    if len(df) == 0:
        raise SurvivalInputError("no data rows (the file has a header only or is empty)")
    if len(df) > limits.MAX_SURVIVAL_ROWS:
        raise SurvivalInputError(str(limits.too_many(
            "rows", len(df), limits.MAX_SURVIVAL_ROWS, "split the file")))
    times: list[float] = []
    events: list[int] = []
    for row, (tv, ev) in enumerate(zip(df[time_col], df[event_col], strict=True), start=1):
        times.append(_parse_time(tv, row, time_col, max_time))
        events.append(parse_event(ev, row=row, column=event_col, error=SurvivalInputError))
    out = df.copy()
    out[time_col] = times
    out[event_col] = events
    if group_col:
        groups = []
        for row, gv in enumerate(df[group_col], start=1):
            label = "" if is_missing(gv, markers=False) else clean_text(
                gv, max_chars=limits.MAX_CELL_CHARS, row=row, column=group_col,
                error=SurvivalInputError)
            if not label:
                raise SurvivalInputError(f"row {row}, column {group_col!r}: group is empty")
            groups.append(label)
        out[group_col] = groups  # group names reach charts and terminals: cleaned
    return out


def _parse_time(value: object, row: int, col: str, max_time: float) -> float:
    t = parse_number(value, row=row, column=col, error=SurvivalInputError)
    assert t is not None
    if t < 0:
        raise SurvivalInputError(f"row {row}, column {col!r}: time must be >= 0, got {t:g}")
    if t > max_time:
        raise SurvivalInputError(
            f"row {row}, column {col!r}: time {t:g} is implausibly large (limit {max_time:g})"
        )
    return t


#: Time and event columns read when none is named, in order of preference: the IPD upload
#: template's progression-free survival columns (data/ipd_template.csv, so the app's own
#: template works as it is), then the plain names of R survival's examples.
DEFAULT_TIME_EVENT: tuple[tuple[str, str], ...] = (("pfs_time", "pfs_event"), ("time", "event"))


def survival_columns(columns: Sequence[object], time_col: str | None = None,
                     event_col: str | None = None) -> tuple[str, str]:
    """The (time, event) columns to read: those named, else the first DEFAULT_TIME_EVENT pair
    with the most of its unnamed columns present in `columns` (a file with neither pair is
    then refused naming the columns of the pair it comes closest to)."""
    present = {str(c) for c in columns}

    def found(pair: tuple[str, str]) -> int:
        return sum(name in present for name, given in zip(pair, (time_col, event_col),
                                                          strict=True) if given is None)

    best = max(DEFAULT_TIME_EVENT, key=found)  # max keeps the first of equals
    return time_col or best[0], event_col or best[1]


def read_survival_csv(
    path: str | Path,
    time_col: str | None = None,
    event_col: str | None = None,
    group_col: str | None = None,
    *,
    max_time: float = DEFAULT_MAX_TIME,
) -> pd.DataFrame:
    """Read a CSV of time-to-event data and validate it (see validate_survival_frame); an
    unnamed time or event column is found by `survival_columns`."""
    p = Path(path)
    try:  # regular files only, bounded read: never a FIFO or /dev/zero
        raw = limits.read_regular_file(p)
    except InputError as exc:
        raise SurvivalInputError(str(exc)) from None
    if not raw.strip():
        raise SurvivalInputError(f"{p.name} is empty")
    try:  # UTF-8, UTF-16/32 with a byte-order mark, else Windows-1252; binary refused
        text = limits.decode_text(raw, p.name).text
    except InputError as exc:
        raise SurvivalInputError(str(exc)) from None
    import csv
    import io

    try:
        limits.check_text_table(text, p.name, limits.MAX_SURVIVAL_ROWS, "rows")
    except InputError as exc:
        raise SurvivalInputError(str(exc)) from None
    first = text.splitlines()[0] if text.splitlines() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    # pandas would rename a repeated name ("n", "n.1") and read the wrong column
    header = check_header(next(csv.reader([first], delimiter=sep), []),
                          where=f"{p.name} header", error=SurvivalInputError)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise SurvivalInputError(f"{p.name}: not a well-formed CSV ({exc})") from None
    df.columns = header if len(header) == len(df.columns) else [str(c).strip()
                                                                 for c in df.columns]
    df = df.replace({"": np.nan})
    time_col, event_col = survival_columns(list(df.columns), time_col, event_col)
    return validate_survival_frame(df, time_col, event_col, group_col, max_time=max_time)
