"""Kaplan-Meier summaries: median with two kinds of interval, landmark rates, log-rank test.

The only module that imports lifelines (lazily, inside functions), so pages that never draw a
survival curve never pay for it.

Two intervals for the median are reported side by side, because papers use both:

* ``median_low`` / ``median_high`` - Brookmeyer-Crowley style: the times at which the pointwise
  confidence band of S(t) crosses 0.5 (``lifelines.utils.median_survival_times`` applied to the
  fitter's ``confidence_interval_``). lifelines' band is the exponential-Greenwood (log-log) band,
  the default of SAS PROC LIFETEST; ``conf_type="log"`` gives R ``survfit``'s default band instead.
* ``spss_low`` / ``spss_high`` - the symmetric interval median +/- z * SE(median) that SPSS prints
  in "Means and Medians for Survival Time" and that the seed paper reports (8.90, 95% CI
  5.98-11.82 months: symmetric, SE = (11.82 - 5.98) / (2 * 1.96) = 1.49).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from comparators.errors import InputError

ConfType = Literal["log-log", "log"]
CONF_TYPES: dict[str, str] = {
    "log-log": "log-log (exponential Greenwood) band crossing 0.5, Brookmeyer-Crowley",
    "log": "log (R survfit default) band crossing 0.5, Brookmeyer-Crowley",
}
SPSS_METHOD = (
    "median +/- z*SE, SE = Greenwood SE of S(median) / density; density = "
    "(S(u) - S(l)) / (l - u), u = last event time with S >= 0.55, l = first with S <= 0.45"
)
SPSS_EPS = 0.05
DEFAULT_MAX_TIME = 36_525.0  # 100 years in days: larger than any plausible follow-up in any unit


class SurvivalInputError(InputError):
    """Time-to-event input that cannot be analysed; the message names the row and column."""


# --------------------------------------------------------------------------------------------
# Result objects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandmarkResult:
    """S(t) at one time with its pointwise confidence interval."""

    time: float
    survival: float
    low: float
    high: float
    se: float
    n_at_risk: int
    conf_type: str
    level: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "survival": self.survival,
            "low": self.low,
            "high": self.high,
            "se": self.se,
            "n_at_risk": self.n_at_risk,
            "conf_type": self.conf_type,
            "level": self.level,
        }


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
            "level": self.level,
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
        """S(t) with a pointwise CI (default the fit's band: log-log, as lifelines)."""
        ctype = conf_type or self.conf_type  # type: ignore[assignment]
        if ctype not in CONF_TYPES:
            raise SurvivalInputError(
                f"conf_type must be one of {sorted(CONF_TYPES)}, got {ctype!r}"
            )
        if not math.isfinite(t) or t < 0:
            raise SurvivalInputError(f"landmark time must be a finite number >= 0, got {t!r}")
        tl = np.asarray(self.timeline, dtype=float)
        idx = max(int(np.searchsorted(tl, t, side="right")) - 1, 0)
        s = float(self.survival[idx])
        gw = _greenwood_sum(self, idx)
        z = float(norm.ppf(0.5 + self.level / 2))
        low, high = _band(s, gw, z, ctype)  # type: ignore[arg-type]
        if s <= 0:
            low = high = 0.0
        return LandmarkResult(
            time=float(t),
            survival=s,
            low=low,
            high=high,
            se=s * math.sqrt(gw) if math.isfinite(gw) else 0.0,
            n_at_risk=self.at_risk([t])[0],
            conf_type=ctype,  # type: ignore[arg-type]
            level=self.level,
        )


@dataclass(frozen=True)
class KMGroupResult:
    """Per-group Kaplan-Meier results plus a log-rank test across groups."""

    groups: tuple[KMResult, ...]
    group_col: str | None
    logrank_chi2: float | None
    logrank_df: int | None
    logrank_p: float | None
    level: float

    def __getitem__(self, label: str) -> KMResult:
        for g in self.groups:
            if g.label == label:
                return g
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        logrank = None
        if self.logrank_chi2 is not None:
            logrank = {"chi2": self.logrank_chi2, "df": self.logrank_df, "p": self.logrank_p}
        return {
            "group_col": self.group_col,
            "level": self.level,
            "groups": [g.to_dict() for g in self.groups],
            "logrank": logrank,
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
    """Pointwise CI of S from the Greenwood sum: log-log (lifelines) or log (R default).

    Undefined (NaN, as R's NA) once S has reached 0, so a curve that drops to 0 does not
    make its band "cross" 0.5 there.
    """
    if s <= 0 or not math.isfinite(gw):
        return math.nan, math.nan
    if s >= 1 or gw == 0:
        return 1.0, 1.0
    if conf_type == "log":
        se = math.sqrt(gw)
        return s * math.exp(-z * se), min(1.0, s * math.exp(z * se))
    # exponential Greenwood: log(-log S) +/- z * sqrt(gw) / |log S|
    theta = z * math.sqrt(gw) / math.log(s)
    return s ** math.exp(-theta), s ** math.exp(theta)


def _first_time_at_or_below(times: np.ndarray, values: np.ndarray, level: float) -> float:
    hit = np.nonzero(values <= level + 1e-12)[0]
    return float(times[hit[0]]) if len(hit) else math.inf


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
    z = float(norm.ppf(0.5 + level / 2))
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
    for i, (ti, ei) in enumerate(zip(t, e, strict=True), start=1):
        if not math.isfinite(ti) or ti < 0:
            raise SurvivalInputError(f"row {i}, column 'time': expected a number >= 0, got {ti!r}")
        if ei not in (0.0, 1.0):
            raise SurvivalInputError(f"row {i}, column 'event': expected 0 or 1, got {ei!r}")
    return t, e.astype(int)


def km_fit(
    time: Sequence[float] | np.ndarray | pd.Series,
    event: Sequence[int] | np.ndarray | pd.Series,
    label: str = "all",
    *,
    level: float = 0.95,
    conf_type: ConfType = "log-log",
) -> KMResult:
    """Fit one Kaplan-Meier curve (lifelines) and summarise its median two ways."""
    if conf_type not in CONF_TYPES:
        raise SurvivalInputError(
            f"conf_type must be one of {sorted(CONF_TYPES)}, got {conf_type!r}"
        )
    if not 0 < level < 1:
        raise SurvivalInputError(f"level must be in (0, 1), got {level!r}")
    t, e = _as_clean_arrays(time, event)

    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    kmf = KaplanMeierFitter(alpha=1 - level).fit(t, e, label=label)
    table = kmf.event_table
    timeline = table.index.to_numpy(dtype=float)
    surv = kmf.survival_function_[label].reindex(table.index).to_numpy(dtype=float)
    d = table["observed"].to_numpy(dtype=int)
    nrisk = table["at_risk"].to_numpy(dtype=int)
    ncens = table["censored"].to_numpy(dtype=int)
    if timeline[0] != 0.0:  # lifelines prepends 0 unless a time is 0; keep a time-0 row always
        timeline = np.concatenate([[0.0], timeline])
        surv = np.concatenate([[1.0], surv])
        d = np.concatenate([[0], d])
        nrisk = np.concatenate([[len(t)], nrisk])
        ncens = np.concatenate([[0], ncens])

    z = float(norm.ppf(0.5 + level / 2))
    if conf_type == "log-log":
        ci = kmf.confidence_interval_
        lo = ci.iloc[:, 0].reindex(timeline, method="ffill").fillna(1.0).to_numpy(dtype=float)
        hi = ci.iloc[:, 1].reindex(timeline, method="ffill").fillna(1.0).to_numpy(dtype=float)
        med_ci = median_survival_times(ci)
        m_low, m_high = float(med_ci.iloc[0, 0]), float(med_ci.iloc[0, 1])
    else:
        gw = np.cumsum(np.where(d > 0, d / np.maximum(nrisk * (nrisk - d), 1e-300), 0.0))
        gw = np.where((nrisk == d) & (d > 0), np.inf, gw)
        gw = np.maximum.accumulate(gw)
        bands = [_band(float(s), float(g), z, "log") for s, g in zip(surv, gw, strict=True)]
        lo = np.array([b[0] for b in bands])
        hi = np.array([b[1] for b in bands])
        # R print.survfit: the lower band's crossing of 0.5 is the lower limit, and so on
        m_low = _first_time_at_or_below(timeline, lo, 0.5)
        m_high = _first_time_at_or_below(timeline, hi, 0.5)

    median = _first_time_at_or_below(timeline, surv, 0.5)
    notes: list[str] = []
    se = _spss_median_se(timeline, surv, d, nrisk, median)
    spss_low = spss_high = None
    if not math.isfinite(median):
        notes.append("median not reached")
    elif se is None:
        notes.append("SPSS-style SE undefined (no event time with S <= 0.45)")
    else:
        spss_low, spss_high = spss_interval(median, se, level)
    if math.isfinite(median) and not math.isfinite(m_high):
        notes.append("upper confidence limit of the median not reached")
    if not math.isfinite(m_low):
        notes.append("lower confidence limit of the median not reached")

    def fin(x: float) -> float | None:
        return x if math.isfinite(x) else None

    return KMResult(
        label=str(label),
        n=int(len(t)),
        events=int(e.sum()),
        median=fin(median),
        median_low=fin(m_low),
        median_high=fin(m_high),
        median_ci_method=CONF_TYPES[conf_type],
        median_se_spss=se,
        spss_low=spss_low,
        spss_high=spss_high,
        level=level,
        conf_type=conf_type,
        note="; ".join(notes) or None,
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
) -> tuple[float, int, float]:
    """Log-rank chi-square, df and p across groups (lifelines multivariate_logrank_test)."""
    from lifelines.statistics import multivariate_logrank_test

    g = pd.Series(list(group)).astype(str)
    res = multivariate_logrank_test(np.asarray(time, float), g, np.asarray(event, int))
    return float(res.test_statistic), int(res.degrees_of_freedom), float(res.p_value)


def km_by_group(
    df: pd.DataFrame,
    time_col: str = "time",
    event_col: str = "event",
    group_col: str | None = None,
    *,
    level: float = 0.95,
    conf_type: ConfType = "log-log",
) -> KMGroupResult:
    """Kaplan-Meier per group (or overall) with a log-rank test when there are >= 2 groups."""
    data = validate_survival_frame(df, time_col, event_col, group_col)
    if group_col is None:
        one = km_fit(data[time_col], data[event_col], "all", level=level, conf_type=conf_type)
        return KMGroupResult((one,), None, None, None, None, level)
    labels = list(dict.fromkeys(data[group_col].astype(str)))
    fits = tuple(
        km_fit(sub[time_col], sub[event_col], lab, level=level, conf_type=conf_type)
        for lab in labels
        for sub in [data[data[group_col].astype(str) == lab]]
    )
    chi2 = dof = p = None
    if len(labels) >= 2:
        chi2, dof, p = logrank(data[time_col], data[event_col], data[group_col])
    return KMGroupResult(fits, group_col, chi2, dof, p, level)


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
        raise SurvivalInputError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"found {', '.join(repr(str(c)) for c in df.columns) or 'no columns'}"
        )
    if len(df) == 0:
        raise SurvivalInputError("no data rows (the file has a header only or is empty)")
    times: list[float] = []
    events: list[int] = []
    for row, (tv, ev) in enumerate(zip(df[time_col], df[event_col], strict=True), start=1):
        times.append(_parse_time(tv, row, time_col, max_time))
        events.append(_parse_event(ev, row, event_col))
    out = df.copy()
    out[time_col] = times
    out[event_col] = events
    if group_col:
        for row, gv in enumerate(df[group_col], start=1):
            if gv is None or (isinstance(gv, float) and math.isnan(gv)) or str(gv).strip() == "":
                raise SurvivalInputError(f"row {row}, column {group_col!r}: group is empty")
    return out


def _parse_time(value: object, row: int, col: str, max_time: float) -> float:
    try:
        t = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        raise SurvivalInputError(
            f"row {row}, column {col!r}: expected a number, got {value!r}"
        ) from None
    if math.isnan(t):
        raise SurvivalInputError(f"row {row}, column {col!r}: time is missing")
    if math.isinf(t):
        raise SurvivalInputError(f"row {row}, column {col!r}: time is infinite")
    if t < 0:
        raise SurvivalInputError(f"row {row}, column {col!r}: time must be >= 0, got {t:g}")
    if t > max_time:
        raise SurvivalInputError(
            f"row {row}, column {col!r}: time {t:g} is implausibly large (limit {max_time:g})"
        )
    return t


def _parse_event(value: object, row: int, col: str) -> int:
    text = str(value).strip()
    if isinstance(value, bool):
        return int(value)
    try:
        num = float(text)
    except ValueError:
        raise SurvivalInputError(
            f"row {row}, column {col!r}: expected 0 or 1, got {value!r}"
        ) from None
    if num not in (0.0, 1.0):
        raise SurvivalInputError(f"row {row}, column {col!r}: expected 0 or 1, got {text}")
    return int(num)


def read_survival_csv(
    path: str | Path,
    time_col: str = "time",
    event_col: str = "event",
    group_col: str | None = None,
    *,
    max_time: float = DEFAULT_MAX_TIME,
) -> pd.DataFrame:
    """Read a CSV of time-to-event data and validate it (see validate_survival_frame)."""
    p = Path(path)
    if not p.exists():
        raise SurvivalInputError(f"file not found: {p}")
    raw = p.read_bytes()
    if not raw.strip():
        raise SurvivalInputError(f"{p.name} is empty")
    if b"\x00" in raw[:4096] or raw[:4] == b"PK\x03\x04":
        raise SurvivalInputError(f"{p.name} is not a text CSV file (binary content)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    import io

    first = text.splitlines()[0] if text.splitlines() else ""
    sep = ";" if first.count(";") > first.count(",") else ","
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise SurvivalInputError(f"{p.name}: not a well-formed CSV ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    df = df.replace({"": np.nan})
    return validate_survival_frame(df, time_col, event_col, group_col, max_time=max_time)
