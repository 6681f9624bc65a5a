"""Pseudo-IPD from a published Kaplan-Meier curve: the Guyot et al. algorithm.

Guyot P, Ades AE, Ouwens MJNM, Welton NJ. Enhanced secondary analysis of survival data:
reconstructing the data from published Kaplan-Meier survival curves. BMC Med Res Methodol
2012;12:9. doi:10.1186/1471-2288-12-9.

Inputs are the digitised curve - (time, survival) points, T_k and S_k, k = 1..N, starting at
(0, 1) - and the numbers at risk printed under the plot at times t_risk[i], i = 1..n_int.
Per risk interval i the algorithm (the paper's "iterative KM" step, translated from its
published R code):

1. first guess of the number censored in the interval:
   n_cens = round(nrisk[i] * S[lower[i+1]] / S[lower[i]] - nrisk[i+1]);
2. spread those censorings evenly over the interval, then walk the digitised points, setting
   d_k = round(n_hat_k * (1 - S_k / KM_hat_last)) so the rebuilt KM follows the curve;
3. adjust n_cens by (n_hat at the next risk time - published nrisk) and repeat until they agree.

The last interval has no closing number at risk: its censoring rate is the average of the
earlier intervals, then (if the total number of events is given) n_cens is adjusted until the
total number of events matches. Events sit at digitised times; censorings at the midpoint of
the digitised step they fall in.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import parse_count, parse_number
from comparators.stats.survival import logrank


class ReconstructionError(InputError):
    """Digitised curve or risk table that cannot be reconstructed; the message says why."""


_MAX_ITER = 1000
#: A digitised curve may rise by this much (fraction of 1) between points from digitising
#: noise; a larger rise is a mistake (a wrong point, or fractions mixed with percentages).
RISE_TOLERANCE = 0.02


def _numbers(frame: pd.DataFrame, column: str, table: str,
             parse: Callable[..., float | int | None]) -> np.ndarray:
    """One column of a digitised table, every cell read through the input boundary."""
    return np.array([parse(v, where=f"{table} row {i}, column {column!r}",
                           error=ReconstructionError)
                     for i, v in enumerate(frame[column].tolist(), start=1)], dtype=float)


def _prepare_curve(curve_df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    for col in ("time", "survival"):
        if col not in curve_df.columns:
            raise ReconstructionError(f"curve: missing column {col!r} (need time, survival)")
    t = _numbers(curve_df, "time", "curve", parse_number)
    s = _numbers(curve_df, "survival", "curve", parse_number)
    for i, ti in enumerate(t, start=1):
        if ti < 0:
            raise ReconstructionError(f"curve row {i}, column 'time': expected a number >= 0")
    if len(t) == 0:
        raise ReconstructionError("curve: no points")
    limits.check_count("curve: digitised points", len(t), limits.MAX_CURVE_POINTS,
                       "keep one point per step of the curve")
    if s.max() > 1.5:  # digitised in percent
        by_time = s[np.argsort(t, kind="stable")]
        # a fall from above 10 to at most 1.5 in one step: fractions typed among percentages
        jumps = np.flatnonzero((by_time[:-1] > 10) & (by_time[1:] > 0) & (by_time[1:] <= 1.5))
        if jumps.size:
            raise ReconstructionError(
                f"curve: the survival column mixes percentages (e.g. {by_time[jumps[0]]:g}) and "
                f"fractions (e.g. {by_time[jumps[0] + 1]:g}); enter every point the same way")
        s = s / 100.0
    if s.min() < 0 or s.max() > 1 + 1e-9:
        raise ReconstructionError("curve: survival must lie in [0, 1] (or 0-100 %)")
    order = np.argsort(t, kind="stable")
    t, s = t[order], np.minimum(s[order], 1.0)
    rises = np.flatnonzero(s[1:] - np.minimum.accumulate(s)[:-1] > RISE_TOLERANCE)
    if rises.size:
        j = int(rises[0]) + 1
        raise ReconstructionError(
            f"curve: survival rises to {s[j]:.3g} at time {t[j]:g} after falling to "
            f"{np.minimum.accumulate(s)[j - 1]:.3g}; a Kaplan-Meier curve never rises, so check "
            "that point (and that every point is a fraction, or every point a percentage)")
    s = np.minimum.accumulate(s)  # digitising noise can make the curve rise; KM never does
    if t[0] > 0 or s[0] < 1:
        t, s = np.concatenate([[0.0], t]), np.concatenate([[1.0], s])
    return t, s


def reconstruct_ipd(
    curve_df: pd.DataFrame,
    risk_df: pd.DataFrame,
    total_events: int | None = None,
) -> ReconstructedIPD:
    """Guyot et al. (2012) reconstruction: pseudo-IPD (``.ipd``: time, event, one row per
    patient) and ``notes`` saying which given numbers it could not meet and by how much.

    curve_df: columns time, survival (fraction or %); risk_df: columns time, n_risk (the first
    risk time should be 0). total_events: optional published total number of events.
    A risk table the curve leaves no room for is refused (``_check_risk_table``).
    """
    t_s, surv = _prepare_curve(curve_df)
    for col in ("time", "n_risk"):
        if col not in risk_df.columns:
            raise ReconstructionError(f"risk table: missing column {col!r} (need time, n_risk)")
    t_risk = _numbers(risk_df, "time", "risk table", parse_number)
    n_risk_f = _numbers(risk_df, "n_risk", "risk table", parse_count)  # whole: 4.5 is refused
    if len(t_risk) == 0:
        raise ReconstructionError("risk table: no rows (the number at risk at time 0 is needed)")
    if np.any(np.diff(t_risk) <= 0):
        raise ReconstructionError("risk table: times must be strictly increasing")
    if np.any(np.diff(n_risk_f) > 0) or np.any(n_risk_f < 0):
        raise ReconstructionError("risk table: numbers at risk must be >= 0 and non-increasing")
    if t_risk[0] != 0:
        raise ReconstructionError("risk table: the first time must be 0 (the number randomised)")
    if n_risk_f[0] > limits.MAX_AT_RISK:  # the work grows with it: 10^9 took 12 s and 5.7 GB
        raise ReconstructionError(str(limits.too_many(
            "risk table: number at risk at time 0", int(n_risk_f[0]), limits.MAX_AT_RISK,
            "check the number (no single-arm sarcoma trial is that large)")))
    if len(t_risk) > limits.MAX_CURVE_POINTS:
        raise ReconstructionError(str(limits.too_many(
            "risk table: rows", len(t_risk), limits.MAX_CURVE_POINTS,
            "keep the times printed under the plot")))
    if t_s.max() <= 0:
        raise ReconstructionError(
            "curve: every digitised point is at time 0; add the points of the curve after "
            "time 0 (the corners of its steps)")
    keep = t_risk < t_s.max()
    t_risk, n_risk_f = t_risk[keep], n_risk_f[keep]
    n_risk = [int(round(x)) for x in n_risk_f]
    if n_risk[0] < 1:
        raise ReconstructionError("risk table: the number at risk at time 0 must be at least 1")
    if total_events is not None and (total_events < 0 or total_events > n_risk[0]):
        raise ReconstructionError("total_events must be between 0 and the number at risk at 0")
    _check_risk_table(t_s, surv, t_risk, n_risk)
    t_s, surv = _points_in_every_interval(t_s, surv, t_risk, n_risk)
    return _guyot(t_s, surv, t_risk, n_risk, total_events)


@dataclass(frozen=True, eq=False)  # holds a frame
class ReconstructedIPD:
    """Pseudo-IPD from a digitised curve, with what the reconstruction could not honour.

    ``notes`` says where the reconstruction departs from the numbers it was given (a number at
    risk the curve leaves no room for, a total of events it cannot reach) and by how much; an
    empty tuple means every number was met."""

    ipd: pd.DataFrame  # time, event: one row per patient
    notes: tuple[str, ...]
    events: int
    stated_events: int | None

    def to_frame(self) -> pd.DataFrame:
        return self.ipd.copy()


def _before(t_s: np.ndarray, surv: np.ndarray, t: float) -> float:
    """The curve just before time t (the last digitised point earlier than t; 1 at t = 0)."""
    i = int(np.searchsorted(t_s, t, side="left")) - 1
    return 1.0 if i < 0 else float(surv[i])


def _check_risk_table(t_s: np.ndarray, surv: np.ndarray, t_risk: np.ndarray,
                      n_risk: list[int]) -> None:
    """Refuse numbers at risk the curve leaves no room for.

    Kaplan-Meier never falls faster than the risk set empties: at risk at t <= at risk at an
    earlier time s times S(t-) / S(s-). A digitised curve is allowed RISE_TOLERANCE of noise
    (and one patient of rounding) before the table counts as contradicting it."""
    for i in range(1, len(n_risk)):
        for j in (i - 1, 0):  # the previous risk time, and time 0 (drift adds up)
            s_then, s_now = _before(t_s, surv, t_risk[j]), _before(t_s, surv, t_risk[i])
            ratio = min(1.0, (s_now + RISE_TOLERANCE) / s_then) if s_then > 0 else 0.0
            if n_risk[i] > n_risk[j] * ratio + 1:
                exact = min(1.0, s_now / s_then) if s_then > 0 else 0.0
                raise ReconstructionError(
                    f"risk table: {n_risk[i]} at risk at time {t_risk[i]:g}, but the curve "
                    f"falls from {s_then:.3g} to {s_now:.3g} after time {t_risk[j]:g}, so at "
                    f"most about {n_risk[j] * exact:.0f} of the {n_risk[j]} at risk then can "
                    "still be; check the numbers at risk and their times")


def _points_in_every_interval(t_s: np.ndarray, surv: np.ndarray, t_risk: np.ndarray,
                              n_risk: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Add the curve's value at a risk time whose interval has no digitised point although
    patients leave it (a flat stretch digitised by its two ends): the censorings need a step
    to sit in, and without one the iteration cannot move the number at risk."""
    add_t, add_s = [], []
    for i in range(len(t_risk) - 1):
        inside = np.any((t_s >= t_risk[i]) & (t_s < t_risk[i + 1]))
        if not inside and n_risk[i] > n_risk[i + 1]:
            add_t.append(float(t_risk[i]))
            add_s.append(_before(t_s, surv, float(t_risk[i])))
    if not add_t:
        return t_s, surv
    t_all, s_all = np.concatenate([t_s, add_t]), np.concatenate([surv, add_s])
    order = np.argsort(t_all, kind="stable")
    return t_all[order], s_all[order]


class _Guyot:
    """The state of Guyot et al.'s algorithm (module docstring) on a checked curve and risk
    table: numbers at risk, events and censorings per digitised point, walked interval by
    interval between the risk times."""

    def __init__(self, t_s: np.ndarray, surv: np.ndarray, t_risk: np.ndarray,
                 n_risk: list[int]) -> None:
        self.t_s, self.surv, self.t_risk, self.n_risk = t_s, surv, t_risk, n_risk
        n_t = len(t_s)
        # 0-based indices: lower[i] = first point with T >= t_risk[i];
        # upper[i] = last point with T < t_risk[i+1] (the last point for the last interval)
        self.lower = [int(i) for i in np.searchsorted(t_s, t_risk, side="left")]
        self.upper = [int(i) - 1 for i in np.searchsorted(t_s, t_risk[1:], side="left")] + [
            n_t - 1]
        self.n_int = len(n_risk)
        self.n_censor = [0] * self.n_int
        self.n_hat = [n_risk[0] + 1] * (n_t + 1)
        self.cen = [0] * n_t
        self.d = [0] * n_t
        self.km_hat = [1.0] * n_t
        self.last_i = [0] * self.n_int

    def spread(self, lo_idx: int, hi_idx: int, count: int, t_end: float) -> None:
        """Put `count` censorings evenly in (T[lo], t_end), counted per digitised step."""
        t_s, cen = self.t_s, self.cen
        n_t = len(t_s)
        for k in range(lo_idx, hi_idx + 1):
            cen[k] = 0
        if count <= 0:
            return
        cen_t = t_s[lo_idx] + np.arange(1, count + 1) * (t_end - t_s[lo_idx]) / (count + 1)
        breaks = t_s[lo_idx : hi_idx + 2] if hi_idx + 1 < n_t else np.append(t_s[lo_idx:], np.inf)
        # R hist(): right-closed bins (b_j, b_j+1], the first one also closed on the left
        idx = np.searchsorted(breaks, cen_t, side="left") - 1
        idx = np.clip(idx, 0, len(breaks) - 2)
        for j, c in enumerate(np.bincount(idx, minlength=len(breaks) - 1)):
            cen[lo_idx + j] += int(c)

    def walk_interval(self, i: int) -> int:
        """Events and numbers at risk across risk interval i (not the last) from its current
        censorings; returns the index of the last point with an event."""
        lower, upper, n_hat, d, km_hat = self.lower, self.upper, self.n_hat, self.d, self.km_hat
        surv, cen = self.surv, self.cen
        n_hat[lower[i]] = self.n_risk[i]
        last = self.last_i[i]
        for k in range(lower[i], upper[i] + 1):
            if i == 0 and k == lower[i]:
                d[k] = 0
                km_hat[k] = 1.0
            else:
                d[k] = round(n_hat[k] * (1 - surv[k] / km_hat[last])) if km_hat[last] > 0 else 0
                d[k] = min(max(d[k], 0), max(n_hat[k], 0))  # no more events than at risk
                km_hat[k] = (
                    km_hat[last] * (1 - d[k] / n_hat[k]) if n_hat[k] > 0 else km_hat[last]
                )
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if n_hat[k + 1] < 0:  # censor only those still at risk: never a negative number
                cen[k] = max(n_hat[k] - d[k], 0)
                n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if d[k] != 0:
                last = k
        return last

    def fit_interval(self, i: int) -> tuple[int, int] | None:
        """Adjust interval i's censorings until the next risk time's number at risk is met;
        (shortfall, i + 1) when the curve's drops leave fewer at risk than stated."""
        lower, upper, n_hat, n_risk, n_censor = (self.lower, self.upper, self.n_hat,
                                                  self.n_risk, self.n_censor)
        surv = self.surv
        ratio = surv[lower[i + 1]] / surv[lower[i]] if surv[lower[i]] > 0 else 0.0
        n_censor[i] = round(n_risk[i] * ratio - n_risk[i + 1])
        it = 0
        iterations = _iterations(upper[i] - lower[i] + 1)
        last = self.last_i[i]
        while n_hat[lower[i + 1]] > n_risk[i + 1] or (
            n_hat[lower[i + 1]] < n_risk[i + 1] and n_censor[i] > 0
        ):
            it += 1
            if it > iterations:
                raise ReconstructionError(
                    f"risk interval {i + 1} (from time {self.t_risk[i]:g}) did not converge; "
                    "check the numbers at risk against the curve"
                )
            if n_censor[i] <= 0:
                n_censor[i] = 0
            self.spread(lower[i], upper[i], n_censor[i], float(self.t_s[lower[i + 1]]))
            last = self.walk_interval(i)
            n_censor[i] += n_hat[lower[i + 1]] - n_risk[i + 1]
        short = None
        if n_hat[lower[i + 1]] < n_risk[i + 1]:
            short = (n_risk[i + 1] - n_hat[lower[i + 1]], i + 1)
            n_risk[i + 1] = n_hat[lower[i + 1]]
        self.last_i[i + 1] = last if self.n_int > 1 else 0
        return short

    def walk_last(self) -> None:
        """Events and numbers at risk across the last interval (after the last risk time)."""
        li = self.n_int - 1
        lo, hi = self.lower[li], self.upper[li]
        n_hat, d, km_hat, cen, surv = self.n_hat, self.d, self.km_hat, self.cen, self.surv
        n_hat[lo] = self.n_risk[li]
        last = self.last_i[li]
        for k in range(lo, hi + 1):
            if li == 0 and k == lo:
                d[k], km_hat[k] = 0, 1.0
            elif km_hat[last] > 0 and n_hat[k] > 0:
                d[k] = max(round(n_hat[k] * (1 - surv[k] / km_hat[last])), 0)
                d[k] = min(d[k], n_hat[k])
                km_hat[k] = km_hat[last] * (1 - d[k] / n_hat[k])
            else:
                d[k] = 0
            n_hat[k + 1] = n_hat[k] - d[k] - cen[k]
            if n_hat[k + 1] < 0:
                n_hat[k + 1] = 0
                cen[k] = n_hat[k] - d[k]
            if d[k] != 0:
                last = k

    def spread_last(self) -> None:
        li = self.n_int - 1
        lo, hi = self.lower[li], self.upper[li]
        if self.n_censor[li] <= 0:
            self.n_censor[li] = 0
        for k in range(lo, hi):
            self.cen[k] = 0
        if self.n_censor[li] > 0 and hi > lo:
            self.spread(lo, hi - 1, self.n_censor[li], float(self.t_s[hi]))

    def fit_last(self, total_events: int | None) -> str:
        """The last interval: censoring at the earlier intervals' rate, then adjusted to the
        stated total of events if given; returns why that total could not be met, if not."""
        li, t_s, n_censor, d = self.n_int - 1, self.t_s, self.n_censor, self.d
        lo, hi, upper = self.lower[li], self.upper[li], self.upper
        if self.n_int > 1:
            span_prev = t_s[upper[li - 1]] - t_s[self.lower[0]]
            rate = sum(n_censor[:li]) * (t_s[hi] - t_s[lo]) / span_prev if span_prev > 0 else 0
            n_censor[li] = min(round(rate), self.n_risk[li])
        else:
            n_censor[li] = 0
        self.spread_last()
        self.walk_last()
        reason = "even with no censoring after the last risk time the curve allows no more"
        if total_events is None:
            return reason
        sum_before = sum(d[: upper[li - 1] + 1]) if self.n_int > 1 else 0
        if self.n_int > 1 and sum_before >= total_events:
            for k in range(lo, hi + 1):
                d[k] = 0
            for k in range(lo, hi):
                self.cen[k] = 0
            return (f"the curve's drops before time {self.t_risk[li]:g} (the last risk time) "
                    f"already add up to {sum_before}")
        it, iterations = 0, _iterations(hi - lo + 1)
        sumd = sum(d[: hi + 1])
        while sumd > total_events or (sumd < total_events and n_censor[li] > 0):
            it += 1
            if it > iterations:
                return (f"the censoring after the last risk time did not settle "
                        f"within {iterations:,} adjustments")
            n_censor[li] += sumd - total_events
            self.spread_last()
            self.walk_last()
            sumd = sum(d[: hi + 1])
        return reason

    def ipd(self) -> pd.DataFrame:
        """One row per patient: events at their digitised times, censorings at the midpoint
        of their step, the rest censored at the curve's last time."""
        t_s, d, cen = self.t_s, self.d, self.cen
        times: list[float] = []
        events: list[int] = []
        for k in range(len(t_s)):
            if d[k] > 0:
                times += [float(t_s[k])] * d[k]
                events += [1] * d[k]
        for k in range(len(t_s) - 1):
            if cen[k] > 0:
                times += [float((t_s[k] + t_s[k + 1]) / 2)] * cen[k]
                events += [0] * cen[k]
        remaining = self.n_risk[0] - len(times)
        if remaining > 0:  # still at risk at the end of the curve: censored at the last time
            times += [float(t_s[-1])] * remaining
            events += [0] * remaining
        out = pd.DataFrame({"time": times, "event": events})
        return out.sort_values(["time", "event"], ascending=[True, False], ignore_index=True)


def _guyot(t_s: np.ndarray, surv: np.ndarray, t_risk: np.ndarray, n_risk: list[int],
           total_events: int | None) -> ReconstructedIPD:
    """The algorithm of Guyot et al. (module docstring) on a checked curve and risk table."""
    stated = list(n_risk)
    notes: list[str] = []
    g = _Guyot(t_s, surv, t_risk, n_risk)
    short = [s for i in range(g.n_int - 1) if (s := g.fit_interval(i)) is not None]
    if short:
        gap, j = max(short)
        where = (f"at time {t_risk[j]:g}" if len(short) == 1 else
                 f"at {len(short)} of the {g.n_int - 1} risk times after 0 (largest gap at "
                 f"time {t_risk[j]:g})")
        notes.append(
            f"risk table: fewer at risk than stated {where}: {stated[j]} stated, "
            f"{g.n_risk[j]} reconstructed ({gap} fewer); the curve's drops before then leave "
            "no more")
    reason = g.fit_last(total_events)
    out = g.ipd()
    got = int(out["event"].sum())
    if total_events is not None and got != total_events:
        notes.append(
            f"total events: {total_events} stated, {got} reconstructed "
            f"({abs(got - total_events)} {'fewer' if got < total_events else 'more'}): "
            f"{reason}")
    return ReconstructedIPD(ipd=out, notes=tuple(notes), events=got,
                            stated_events=total_events)


def _iterations(points: int) -> int:
    """Adjustments of one interval's censoring before giving up: each walks its points, so
    the walks of one loop stay within limits.MAX_GUYOT_STEPS (and at most _MAX_ITER)."""
    return max(1, min(_MAX_ITER, limits.MAX_GUYOT_STEPS // max(points, 1)))


@dataclass(frozen=True)
class SurvivalComparison:
    """Two-arm comparison of (pseudo-)IPD: log-rank test and Cox hazard ratio (b vs a)."""

    n_a: int
    n_b: int
    events_a: int
    events_b: int
    logrank_chi2: float
    logrank_p: float
    hr: float
    hr_low: float
    hr_high: float
    cox_p: float
    level: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


def compare_with(ipd_a: pd.DataFrame, ipd_b: pd.DataFrame, *, level: float = 0.95,
                 names: tuple[str, str] = ("ipd_a", "ipd_b")) -> SurvivalComparison:
    """Log-rank test and Cox PH hazard ratio of arm b relative to arm a (lifelines, Efron ties).

    Refused (ReconstructionError) when an arm has no events or the hazard ratio has no finite
    estimate; ``names`` are the arms' names in those messages."""
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError, ConvergenceWarning

    for name, ipd in zip(names, (ipd_a, ipd_b), strict=True):
        if not {"time", "event"} <= set(ipd.columns) or len(ipd) == 0:
            raise ReconstructionError(f"{name} needs rows with columns time, event")
        if int(ipd["event"].sum()) == 0:
            raise ReconstructionError(
                f"{name} has no events: a hazard ratio needs events in both arms")
    data = pd.DataFrame(
        {
            "time": np.concatenate([ipd_a["time"], ipd_b["time"]]).astype(float),
            "event": np.concatenate([ipd_a["event"], ipd_b["event"]]).astype(int),
            "arm_b": np.r_[np.zeros(len(ipd_a)), np.ones(len(ipd_b))],
        }
    )
    lr = logrank(data["time"], data["event"], data["arm_b"])
    try:
        with warnings.catch_warnings():  # its convergence is judged below, from the estimate
            warnings.simplefilter("ignore", ConvergenceWarning)
            cph = CoxPHFitter(alpha=1 - level).fit(data, "time", "event")
    except ConvergenceError:
        raise ReconstructionError("the Cox model could not be fitted to these two arms (too "
                                  "few events, or no overlap)") from None
    summ = cph.summary.loc["arm_b"]
    low_col = [c for c in summ.index if c.startswith("exp(coef) lower")][0]
    high_col = [c for c in summ.index if c.startswith("exp(coef) upper")][0]
    numbers = [float(summ[c]) for c in ("exp(coef)", low_col, high_col, "p")]
    numbers += [lr.chi2, lr.p]
    # A hazard ratio whose interval reaches 0 or infinity (one arm's events all before the
    # other's, lifelines stops at a huge coefficient) is no estimate: say so instead.
    if not all(math.isfinite(v) for v in numbers) or not 0 < numbers[1] <= numbers[2] < 1e12 \
            or abs(float(summ["coef"])) > 20:
        raise ReconstructionError(
            "the hazard ratio cannot be estimated from these two arms: the Cox model's "
            "coefficient runs off (the arms' events barely overlap in time)")
    return SurvivalComparison(
        n_a=len(ipd_a),
        n_b=len(ipd_b),
        events_a=int(ipd_a["event"].sum()),
        events_b=int(ipd_b["event"].sum()),
        logrank_chi2=lr.chi2,
        logrank_p=lr.p,
        hr=float(summ["exp(coef)"]),
        hr_low=float(summ[low_col]),
        hr_high=float(summ[high_col]),
        cox_p=float(summ["p"]),
        level=level,
    )
