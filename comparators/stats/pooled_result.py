"""What a proportion pool returns: the fitted model (ModelFit), the result on the proportion
scale (PooledProportion with its studies and subgroups), and the one "not estimable" branch
(every arm 0 % or every arm 100 %: summed counts with their exact interval) that the
frequentist and Bayesian pools share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from comparators.stats.effect_sizes import PoolingInputError
from comparators.stats.proportions import ProportionCI, ProportionInputError, proportion_ci
from comparators.stats.serialise import json_number
from comparators.vocab import NOT_ESTIMABLE

if TYPE_CHECKING:
    import pandas as pd


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


@lru_cache(maxsize=65536)
def study_interval(x: int, n: int, method: str, level: float) -> ProportionCI:
    """proportion_ci, memoised: leave-one-out and big tables repeat the same (x, n) pairs."""
    try:
        return proportion_ci(x, n, method=method, level=level)
    except ProportionInputError as exc:
        raise PoolingInputError(str(exc)) from exc


def summed_exact_ci(x: np.ndarray, m: np.ndarray, level: float) -> ProportionCI:
    return study_interval(int(x.sum()), int(m.sum()), "clopper-pearson", level)


def not_estimable_reason(x: np.ndarray, m: np.ndarray, method: str = "") -> str | None:
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


def not_estimable_note(why: str, x: np.ndarray, m: np.ndarray, ci: ProportionCI,
                        what: str = "pool") -> str:
    lvl = f"{100 * ci.level:g}%"
    return (f"{what} {NOT_ESTIMABLE}: {why}; shown as the summed counts "
            f"{int(x.sum())}/{int(m.sum())} = {100 * ci.estimate:.1f}% with the exact "
            f"(Clopper-Pearson) {lvl} interval {100 * ci.low:.1f}-{100 * ci.high:.1f}%; "
            "no tau^2, I^2 or prediction interval")


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
                "estimate": json_number(self.estimate), "low": json_number(self.low),
                "high": json_number(self.high), "weight": json_number(self.weight)}


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
        return {"group": self.group, "k": int(self.k), "estimate": json_number(self.estimate),
                "low": json_number(self.low), "high": json_number(self.high),
                "tau2": json_number(self.tau2), "i2": json_number(self.i2),
                "q": json_number(self.q), "estimable": bool(self.estimable),
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
    #: the model that actually produced estimate/low/high: a MODEL_CHOICES key, or "exact" (summed
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
            "estimate": json_number(self.estimate), "low": json_number(self.low),
            "high": json_number(self.high),
            "pi_low": json_number(self.pi_low), "pi_high": json_number(self.pi_high),
            "tau2": json_number(self.tau2), "i2": json_number(self.i2), "q": json_number(self.q),
            "q_df": int(self.q_df), "q_p": json_number(self.q_p),
            "studies": [s.to_dict() for s in self.studies],
        }
        if self.subgroups:
            out["subgroups"] = [g.to_dict() for g in self.subgroups]
            out["q_between"] = json_number(self.q_between)
            out["q_between_df"] = None if self.q_between_df is None else int(self.q_between_df)
            out["q_between_p"] = json_number(self.q_between_p)
        out.update({"hksj": bool(self.hksj), "level": float(self.level),
                    "i2_low": json_number(self.i2_low), "i2_high": json_number(self.i2_high),
                    "h2": json_number(self.h2), "notes": list(self.notes),
                    "estimable": bool(self.estimable), "method_used": self.method_used,
                    "hksj_variant": self.hksj_variant, "events": int(self.events),
                    "n": int(self.n)})
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per study (estimate/low/high as fractions, weight in percent)."""
        import pandas as pd

        return pd.DataFrame([s.to_dict() for s in self.studies],
                            columns=["study", "events", "n", "estimate", "low", "high", "weight"])


def not_estimable_subgroup(group: str, why: str, x: np.ndarray, m: np.ndarray,
                           level: float) -> SubgroupResult:
    """A subgroup that cannot be pooled (see not_estimable_reason): its summed counts with the
    exact interval, left out of the test for subgroup differences; its note says why."""
    ci = summed_exact_ci(x, m, level)
    note = not_estimable_note(why, x, m, ci, what=f"subgroup {group}:")
    return SubgroupResult(group=group, k=int(x.size), estimate=ci.estimate, low=ci.low,
                          high=ci.high, tau2=None, i2=None, q=None, estimable=False,
                          events=int(x.sum()), n=int(m.sum()), method_used="exact",
                          notes=(note,))


def not_estimable_pool(why: str, x: np.ndarray, m: np.ndarray, names: list[str],
                       study_ci: str, level: float, notes: list[str]) -> dict[str, Any]:
    """The PooledProportion fields of a pool that cannot be estimated: the summed counts with
    their exact interval, no model statistics, study weights as shares of the patients;
    `notes` (the model's own, then the subgroups') follow the note that says why."""
    ci = summed_exact_ci(x, m, level)
    rows = tuple(
        StudyEstimate(study=names[i], events=int(x[i]), n=int(m[i]), estimate=c.estimate,
                      low=c.low, high=c.high, weight=float(100 * m[i] / m.sum()))
        for i in range(x.size) for c in [study_interval(int(x[i]), int(m[i]), study_ci, level)])
    return {"k": int(x.size), "level": level, "estimate": ci.estimate, "low": ci.low,
            "high": ci.high, "pi_low": None, "pi_high": None, "tau2": None, "i2": None,
            "i2_low": None, "i2_high": None, "h2": None, "q": None, "q_df": int(x.size) - 1,
            "q_p": None, "studies": rows, "corrected": (),
            "notes": tuple(dict.fromkeys([not_estimable_note(why, x, m, ci), *notes])),
            "fit": None, "estimable": False, "method_used": "exact", "events": int(x.sum()),
            "n": int(m.sum())}
