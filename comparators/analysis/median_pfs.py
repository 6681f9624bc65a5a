"""Benchmark one subtype's median progression-free survival (months): the arms' reported
medians pooled per regimen class beside this cohort's own median.

The rows are `subtype_rows` (analysis.benchmark), the arms kept by the same options (left-out
arms, the low-risk-of-bias filter); each class's arms that report `pfs_median_months` (with
`pfs_low`/`pfs_high` where printed) are pooled once by `stats.medians.pool_medians`, which
chooses the published method the reporting allows (log-median inverse variance when every arm
prints an interval, else the (weighted) median of medians) and names it: the methods text is
read from those result objects. A class of one arm is that arm's own median and interval, not
a pool.

This cohort's value is its own: the median its rows carry for the subtype (the seed paper
prints one only for all its patients; an uploaded cohort's rows carry its Kaplan-Meier median),
else "not reported". Medians are not compared by a test here: a ratio of two medians from
different populations has no interval this package validates, so the page shows them side by
side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from comparators.analysis.benchmark import BenchmarkError, class_order, selected_arms
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.cohort import ThisCohort
from comparators.stats.medians import ArmMedian, PooledMedian, pool_medians
from comparators.stats.serialise import json_number
from comparators.vocab import ALL_SUBTYPES_CODE, ENDPOINTS, MEDIAN_PFS

__all__ = ["NO_CERTAINTY", "CohortMedian", "MedianBenchmark", "MedianClassPool", "benchmark_median",
           "median_option_problem", "months_text"]

#: Why no GRADE rating is given for a median (the page and the evidence summary say it).
NO_CERTAINTY = ("Certainty of the evidence (GRADE) is not rated for median PFS: this app's "
                "imprecision and inconsistency rules use thresholds in percentage points of a "
                "rate, which have no counterpart in months here.")
#: Models that pool medians (inverse variance); GLMM and the Bayesian model pool proportions.
MEDIAN_MODELS = ("FE", "DL", "PM", "ML", "REML")


def months_text(value: float | None) -> str:
    """A time as the catalog records medians (two decimals); 'NR' when not reached."""
    return "NR" if value is None or not math.isfinite(value) else f"{value:.2f}"


def interval_text(low: float | None, high: float | None) -> str:
    """'5.98–11.82', '5.00–NR' (upper limit not reached), or '' with no interval."""
    if low is None or not math.isfinite(low):
        return ""
    return f"{months_text(low)}–{months_text(high)}"


def median_option_problem(options: AnalysisOptions) -> str | None:
    """Why these options cannot pool a median (None when they can): the one rule the engine,
    the pages and the CLI apply."""
    if options.method not in MEDIAN_MODELS:
        return (f"median PFS is pooled by inverse variance ({', '.join(MEDIAN_MODELS)}) or the "
                f"median of medians; the {options.method} model pools proportions only")
    if options.primary_only:
        return ("the primary-source sensitivity analysis is defined for the response counts "
                "only: use it with the objective response rate")
    return None


def _number(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _interval_of(row: pd.Series) -> tuple[float | None, float | None]:
    """A row's interval of its median: the catalog's `pfs_low`/`pfs_high`, or an uploaded
    cohort's Kaplan-Meier `pfs_median_low`/`pfs_median_high`."""
    for low, high in (("pfs_low", "pfs_high"), ("pfs_median_low", "pfs_median_high")):
        lo = _number(row.get(low))
        if lo is not None:
            return lo, _number(row.get(high))
    return None, None


@dataclass(frozen=True)
class CohortMedian:
    """This cohort's median PFS in the subtype, where it comes from, or why there is none."""

    estimate: float | None
    low: float | None
    high: float | None
    source: str  # "printed in the seed paper", "not reported", ...
    not_reached: bool = False  # a Kaplan-Meier curve of the cohort that stayed above 0.5

    @property
    def reported(self) -> bool:
        return self.estimate is not None

    @property
    def value_text(self) -> str:
        """What a headline shows: '8.90 months', 'not reached' or 'not reported'."""
        if self.estimate is not None:
            return f"{months_text(self.estimate)} months"
        return "not reached" if self.not_reached else "not reported"

    @property
    def text(self) -> str:
        """'8.90 months (95% CI 5.98–11.82)', or why there is none (the source)."""
        if self.estimate is None:
            return self.source
        ci = interval_text(self.low, self.high)
        return f"{months_text(self.estimate)} months" + (f" (95% CI {ci})" if ci else "")

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high,
                "unit": "months", "source": self.source}


def cohort_median(cohort_rows: pd.DataFrame, subtype: str, kind: str) -> CohortMedian:
    """This cohort's median PFS for `subtype` from its own rows: the value its row carries
    (printed by the seed paper, or the Kaplan-Meier median of uploaded patients), else "not
    reported", naming the all-subtype median when the cohort reports only that."""
    where = {"published": "printed in the seed paper",
             "uploaded": "Kaplan-Meier median of the uploaded patients",
             "synthetic": "Kaplan-Meier median of the synthetic example patients"
             }.get(kind, "as in the cohort this scenario was edited from")
    hits = cohort_rows[cohort_rows["subtype"].astype(str) == subtype]
    if not hits.empty and _number(hits.iloc[0].get("pfs_median_months")) is not None:
        row = hits.iloc[0]
        return CohortMedian(_number(row["pfs_median_months"]), *_interval_of(row), where)
    if not hits.empty and str(hits.iloc[0].get("pfs_median_ci_method") or "").strip() not in (
            "", "nan", "<NA>"):  # a Kaplan-Meier curve was fitted: it never reached 0.5
        return CohortMedian(None, None, None, f"not reached for {subtype} ({where})",
                            not_reached=True)
    whole = cohort_rows[cohort_rows["subtype"].astype(str) == ALL_SUBTYPES_CODE]
    if subtype != ALL_SUBTYPES_CODE and not whole.empty:
        m = _number(whole.iloc[0].get("pfs_median_months"))
        if m is not None:
            all_of = CohortMedian(m, *_interval_of(whole.iloc[0]), where)
            return CohortMedian(None, None, None,
                                f"not reported for {subtype}; all subtypes: {all_of.text}, "
                                f"{where}")
    return CohortMedian(None, None, None, f"not reported for {subtype}")


@dataclass(frozen=True)
class MedianClassPool:
    """One regimen class's median PFS in one subtype: pooled (k >= 2), or one arm's own."""

    regimen_class: str
    keys: tuple[str, ...]
    n: int  # patients of the pooled arms (response-evaluable, as the catalog counts them)
    includes_cohort: bool
    pooled: PooledMedian | None  # None for a class of one arm
    arm: ArmMedian  # the first arm (the class itself when k = 1)

    @property
    def k(self) -> int:
        return len(self.keys)

    @property
    def estimate(self) -> float:
        return self.pooled.estimate if self.pooled is not None else self.arm.median

    @property
    def low(self) -> float | None:
        return self.pooled.low if self.pooled is not None else self.arm.low

    @property
    def high(self) -> float | None:
        return self.pooled.high if self.pooled is not None else self.arm.high

    @property
    def method(self) -> str:
        return self.pooled.method if self.pooled is not None else "single arm"

    @property
    def method_name(self) -> str:
        return (self.pooled.method_name if self.pooled is not None else
                "one arm: its own reported median (and interval, where printed), not pooled")

    @property
    def scope(self) -> str:
        return "incl. this cohort" if self.includes_cohort else "comparators only"

    @property
    def label(self) -> str:
        """'AI+ICI pooled, comparators only (k = 4)' or 'AI: one arm, comparators only (k = 1)'."""
        if self.pooled is None:
            inside = ", this cohort" if self.includes_cohort else ""
            return f"{self.regimen_class}: one arm{inside}, not pooled (k = 1)"
        return f"{self.regimen_class} pooled, {self.scope} (k = {self.k})"

    def methods_text(self) -> str:
        if self.pooled is not None:
            return self.pooled.methods_text()
        return ("A class of one arm is shown as that arm's reported median"
                + (" and interval." if self.arm.low is not None else " (no interval printed)."))

    def to_dict(self) -> dict[str, Any]:
        p = self.pooled
        return {"class": self.regimen_class, "k": self.k, "events": None, "n": self.n,
                "estimate": json_number(self.estimate), "low": json_number(self.low),
                "high": json_number(self.high),
                "tau2": None if p is None else json_number(p.tau2),
                "i2": None if p is None else json_number(p.i2),
                "includes_cohort": self.includes_cohort, "estimable": True,
                "unit": "months", "method": self.method, "method_name": self.method_name}


@dataclass(frozen=True, eq=False)  # holds a frame
class MedianBenchmark:
    """Median PFS per regimen class in one subtype, beside this cohort's own median."""

    subtype: str
    options: AnalysisOptions
    rows: pd.DataFrame  # the arms that report a median (this cohort's row too, if it has one)
    excluded: tuple[str, ...]
    class_pools: dict[str, MedianClassPool]
    cohort: CohortMedian
    notes: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return MEDIAN_PFS

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    def arms_frame(self) -> pd.DataFrame:
        """One row per arm with a median: key, label, class, median, interval, patients."""
        return pd.DataFrame({
            "key": self.rows["key"].astype(str), "label": self.rows["label"].astype(str),
            "class": self.rows["regimen_class"].astype(str),
            "is_cohort": self.rows["is_cohort"].astype(bool),
            "median": self.rows["median"], "low": self.rows["median_low"],
            "high": self.rows["median_high"], "n": self.rows["evaluable"]}
        ).reset_index(drop=True)

    def class_table(self) -> pd.DataFrame:
        """One row per class: the numbers the forest's diamonds and the class table show."""
        return pd.DataFrame([p.to_dict() | {"scope": p.scope, "label": p.label}
                             for p in self.class_pools.values()])

    def methods_paragraph(self) -> str:
        """Written from the pooled results: each class's method as its result names it."""
        parts = [f"Median progression-free survival (months) in {self.subtype}: the arms' "
                 "reported Kaplan-Meier medians were pooled per regimen class with the method "
                 "their reporting allows (McGrath et al.)."]
        for pool in self.class_pools.values():
            parts.append(f"{pool.regimen_class} (k = {pool.k}): {pool.methods_text()}")
        parts.append(
            "This cohort was included in its regimen class's pool." if self.options.include_cohort
            else "This cohort was kept out of the class pools and is shown beside them.")
        parts.append(f"This cohort's median PFS: {self.cohort.text}"
                     + (f" ({self.cohort.source})." if self.cohort.reported else "."))
        if self.excluded:
            parts.append("Left out by the user: "
                         f"{', '.join(self.label(k) for k in self.excluded)}.")
        parts.append("Computed with the comparators package; log-median inverse-variance "
                     "pooling and the median of medians validated against R.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The `benchmark --json` shape, in months (`unit`); there are no events, and medians
        are not compared by a test (`comparisons` is empty)."""
        arms = self.arms_frame()
        return {
            "subtype": self.subtype, "endpoint": MEDIAN_PFS, "unit": "months",
            "options": self.options.to_dict(),
            "cohort": self.cohort.to_dict() if self.cohort.reported else None,
            "cohort_note": self.cohort.source,
            "classes": [p.to_dict() for p in self.class_pools.values()],
            "cohort_reference": None, "overall": None,
            "q_between": None, "q_between_df": None, "q_between_p": None,
            "comparisons": [],
            "arms": [{"key": r.key, "label": r.label, "class": r["class"],
                      "is_cohort": bool(r.is_cohort), "median": json_number(r["median"]),
                      "low": json_number(r.low), "high": json_number(r.high),
                      "n": None if pd.isna(r.n) else int(r.n)}
                     for _, r in arms.iterrows()],
            "excluded": list(self.excluded),
            "excluded_labels": [self.label(k) for k in self.excluded],
            "methods": self.methods_paragraph(),
            "notes": list(self.notes),
        }


def _with_medians(rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` with `median`, `median_low`, `median_high` read from whichever columns carry them
    (catalog or uploaded cohort); rows without a median dropped."""
    intervals = [_interval_of(r) for _, r in rows.iterrows()]
    out = rows.assign(
        median=[_number(v) for v in rows.get("pfs_median_months",
                                              pd.Series(np.nan, index=rows.index))],
        median_low=[i[0] for i in intervals], median_high=[i[1] for i in intervals])
    return out[out["median"].notna()].reset_index(drop=True)


def _pool_class(rows: pd.DataFrame, regimen_class: str, options: AnalysisOptions,
                labels: dict[str, str]) -> MedianClassPool | None:
    """The class's arms with a median pooled once (one arm: its own median); the arms are
    named as people read them, so the result's notes name them so."""
    keep = rows["regimen_class"].astype(str) == regimen_class
    if not options.include_cohort:
        keep &= ~rows["is_cohort"].astype(bool)
    arms = rows[keep]
    if arms.empty:
        return None
    keys = tuple(str(k) for k in arms["key"])
    n = [None if pd.isna(v) else int(v) for v in arms["evaluable"]]
    names = [labels.get(k, k) for k in keys]
    first = ArmMedian(names[0], float(arms["median"].iloc[0]),
                      _number(arms["median_low"].iloc[0]), _number(arms["median_high"].iloc[0]),
                      n[0])
    pooled = None
    if len(arms) > 1:
        pooled = pool_medians(
            list(arms["median"].astype(float)), [_number(v) for v in arms["median_low"]],
            [_number(v) for v in arms["median_high"]], n=n, studies=names,
            method=options.method, hksj=options.hksj, hksj_variant=options.hksj_variant,
            level=options.level)
    return MedianClassPool(regimen_class, keys, sum(v or 0 for v in n),
                           bool(arms["is_cohort"].astype(bool).any()), pooled, first)


def benchmark_median(rows: pd.DataFrame, options: AnalysisOptions | None = None,
                     cohort: ThisCohort | None = None) -> MedianBenchmark:
    """Pool each regimen class's reported medians once (`rows`: one subtype's `subtype_rows`);
    this cohort's median is read from its own rows (`cohort`; without it, from its row in
    `rows`, taken as the published cohort's)."""
    options = options or AnalysisOptions(endpoint=MEDIAN_PFS)
    problem = median_option_problem(options)
    if problem:
        raise BenchmarkError(problem)
    labels = (dict(zip(rows["key"].astype(str), rows["label"].astype(str), strict=True))
              if "label" in rows else {})
    excluded, included = selected_arms(rows, options)
    subtype = str(included["subtype"].iloc[0])
    own = included[included["is_cohort"].astype(bool)]
    value = cohort_median(own if cohort is None else cohort.rows, subtype,
                          "published" if cohort is None else cohort.kind)
    with_median = _with_medians(included)
    left_out = [("this cohort" if bool(c) else labels.get(str(k), str(k)))
                for k, c in zip(included["key"], included["is_cohort"], strict=True)
                if str(k) not in set(with_median["key"].astype(str))]
    notes = []
    if left_out:
        notes.append(f"Not reported ({ENDPOINTS[MEDIAN_PFS].name}), left out: "
                     f"{', '.join(left_out)}.")
    if not bool((~with_median["is_cohort"].astype(bool)).any()):
        raise BenchmarkError(f"no {subtype} comparator arm reports the "
                             f"{ENDPOINTS[MEDIAN_PFS].name}: nothing to pool")
    pools = {c: pool for c in class_order(with_median["regimen_class"])
             if (pool := _pool_class(with_median, c, options, labels)) is not None}
    for pool in pools.values():
        if pool.pooled is not None:
            notes += [f"{pool.regimen_class}: {n}" for n in pool.pooled.notes]
    notes.append("Medians are shown side by side, not tested against each other: arms of "
                 "different populations, lines and follow-up give no validated interval for "
                 "a ratio of medians here.")
    return MedianBenchmark(subtype, options, with_median, excluded, pools, value,
                           tuple(notes), labels)
