"""Benchmark one subtype: this cohort beside every comparator that reported it.

Pipeline (metafor-style): `subtype_rows` picks the rows -> `benchmark_subtype` pools each regimen
class once (`pool_class`, the one place a class's pooled ORR is computed) -> a `SubtypeBenchmark`
carries the class pools, the headline comparisons (this cohort vs pooled AI+ICI, pooled AI+ICI vs
pooled ICI alone), the per-arm comparisons and the methods text written from what was fitted.
The forest plot, the class table, Across subtypes, the evidence summary, the planner's p0/p1 and
the CLI all read these objects, so a number has one source wherever it is shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from comparators.analysis.options import AnalysisOptions
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.labels import verification_marks
from comparators.stats.fisher import fisher_exact_p
from comparators.stats.pooling import PooledProportion, effect_sizes, pool_proportions
from comparators.stats.proportions import ProportionCI, proportion_ci
from comparators.vocab import (
    AGGREGATE_SUBTYPES,
    CI_METHODS,
    HKSJ_VARIANTS,
    MEASURE_NAMES,
    METHOD_NAMES,
    REGIMEN_CLASSES,
)

CLASS_ORDER = REGIMEN_CLASSES


class BenchmarkError(InputError):
    """No rows to benchmark, or options that cannot be combined."""


def row_key(study: str, arm: str) -> str:
    """The label a row carries through pooling, the forest plot and the tables."""
    return f"{study} · {arm}"


def comparator_rows(trials: pd.DataFrame, cohort: ThisCohort,
                    include_overlapping: bool = False) -> pd.DataFrame:
    """The catalog rows that stand beside this cohort: the seed study's own rows (which this
    cohort replaces) left out, and rows that re-count another study's patients
    (`overlaps_with`) too unless asked for."""
    rows = trials[~trials["study"].isin({cohort.study, cohort.replaces})]
    if not include_overlapping and "overlaps_with" in rows:
        rows = rows[rows["overlaps_with"].fillna("") == ""]
    return rows


def subtype_rows(
    trials: pd.DataFrame, cohort: ThisCohort, subtype: str, include_overlapping: bool = False
) -> pd.DataFrame:
    """Catalog rows for `subtype` with this cohort's row in place of the seed's own.

    Rows that re-count another study's patients (`overlaps_with`) are left out unless asked for.
    """
    comparators = comparator_rows(trials[trials["subtype"] == subtype], cohort,
                                  include_overlapping)
    own = cohort.rows[cohort.rows["subtype"] == subtype]
    # One copy of the (wide) rows: concat, then the added columns; concat of an empty frame
    # is deprecated behaviour in pandas.
    parts = [f for f in (own, comparators) if not f.empty]
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts or [own])[0].copy()
    rows["is_cohort"] = np.arange(len(rows)) < len(own)
    rows["key"] = [row_key(s, a) for s, a in zip(rows["study"], rows["arm"], strict=True)]
    rows["regimen_class"] = rows["regimen_class"].astype(str)
    return rows


def class_order(classes: Iterable[str]) -> list[str]:
    """Regimen classes in the vocabulary's order, unknown ones after them."""
    present = list(dict.fromkeys(str(c) for c in classes))
    return [c for c in CLASS_ORDER if c in present] + sorted(set(present) - set(CLASS_ORDER))


# --------------------------------------------------------------------------- one class pool


@dataclass(frozen=True, eq=False)  # holds a fit with numpy arrays
class ClassPool:
    """One regimen class's pooled ORR in one subtype: the only place it is computed."""

    regimen_class: str
    fit: PooledProportion
    keys: tuple[str, ...]
    events: int
    n: int
    includes_cohort: bool

    @property
    def k(self) -> int:
        return self.fit.k

    @property
    def estimate(self) -> float:
        return self.fit.estimate

    @property
    def low(self) -> float:
        return self.fit.low

    @property
    def high(self) -> float:
        return self.fit.high

    @property
    def estimable(self) -> bool:
        """False when random-effects pooling cannot estimate it (every arm 0% or 100%)."""
        return bool(self.fit.estimable)

    @property
    def scope(self) -> str:
        return "incl. this cohort" if self.includes_cohort else "comparators only"

    @property
    def short(self) -> str:
        """'AI+ICI pooled (k = 4)', or 'AI+ICI summed, not estimable (k = 3)'."""
        what = "pooled" if self.estimable else "summed, not estimable"
        return f"{self.regimen_class} {what} (k = {self.k})"

    @property
    def label(self) -> str:
        """'AI+ICI pooled, comparators only (k = 4)' — what the forest and tables print."""
        what = "pooled" if self.estimable else "not estimable; summed counts"
        return f"{self.regimen_class} {what}, {self.scope} (k = {self.k})"

    def to_dict(self) -> dict[str, Any]:
        f = self.fit
        return {"class": self.regimen_class, "k": int(self.k), "events": int(self.events),
                "n": int(self.n), "estimate": _num(f.estimate), "low": _num(f.low),
                "high": _num(f.high), "tau2": _num(f.tau2), "i2": _num(f.i2),
                "includes_cohort": bool(self.includes_cohort), "estimable": self.estimable}


def _num(x: Any) -> float | None:
    if x is None or x is pd.NA:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None


def pool_class(rows: pd.DataFrame, regimen_class: str, options: AnalysisOptions
               ) -> ClassPool | None:
    """Pool the arms of `regimen_class` in `rows` (one subtype's `subtype_rows`).

    This cohort is inside the pool only when `options.include_cohort`; rows whose key is in
    `options.exclude` never are. None when no arm is left.
    """
    # Column arrays, not a filtered copy of the (wide) rows frame: this runs for every class
    # of every subtype, and a frame copy cost more than the pooling itself.
    is_cohort = rows["is_cohort"].to_numpy(dtype=bool)
    keep = ((rows["regimen_class"].to_numpy() == regimen_class)
            & ~rows["key"].isin(options.exclude).to_numpy(dtype=bool))
    if not options.include_cohort:
        keep &= ~is_cohort
    if not keep.any():
        return None
    events = rows["responders"].to_numpy(dtype=int)[keep]
    n = rows["evaluable"].to_numpy(dtype=int)[keep]
    keys = [str(k) for k in rows["key"].to_numpy()[keep]]
    fit = pool_proportions(events, n, studies=keys, **options.pool_kwargs())
    return ClassPool(regimen_class, fit, tuple(keys), int(events.sum()), int(n.sum()),
                     bool(is_cohort[keep].any()))


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Comparison:
    """A minus B in proportions, with its interval and a test."""

    what: str  # "This cohort vs AI+ICI pooled (k = 4)"
    kind: str  # "headline" | "trial"
    a: str
    b: str
    a_estimate: float
    b_estimate: float
    difference: float
    low: float
    high: float
    p: float | None
    test: str  # how p was computed
    k_a: int = 1
    k_b: int = 1
    n_a: int = 0
    n_b: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "kind": self.kind, "a": self.a, "b": self.b,
                "a_estimate": self.a_estimate, "b_estimate": self.b_estimate,
                "difference": self.difference, "low": self.low, "high": self.high,
                "p": self.p, "test": self.test, "k_a": self.k_a, "k_b": self.k_b,
                "n_a": self.n_a, "n_b": self.n_b}


def newcombe_difference(
    a: ProportionCI, b: ProportionCI
) -> tuple[float, float, float]:
    """Difference a - b with Newcombe's hybrid score interval (Stat Med 1998;17:873, method 10).

    Given Wilson limits for each proportion this is the square-and-add (MOVER) interval; fed a
    pooled class's CI it extends the same construction to a pooled estimate (Zou & Donner 2008).
    """
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return d, max(-1.0, low), min(1.0, high)


def _model_scale(pool: ClassPool) -> tuple[float, float] | None:
    """The pool's estimate and SE on the model scale (None when not estimable / no model)."""
    model = pool.fit.fit
    if not pool.estimable or model is None or not math.isfinite(model.se) or model.se <= 0:
        return None
    return float(model.estimate), float(model.se)


def _wald_p(a: tuple[float, float], b: tuple[float, float]) -> float:
    z = (a[0] - b[0]) / math.hypot(a[1], b[1])
    return float(2 * stats.norm.sf(abs(z)))


def _as_ci(pool: ClassPool) -> ProportionCI:
    return ProportionCI(pool.estimate, pool.low, pool.high, "pooled", pool.fit.level)


def compare_pools(a: ClassPool, b: ClassPool, level: float) -> Comparison:
    """Pooled class A minus pooled class B: square-and-add interval from the two pooled
    intervals; Wald z test of the two model-scale estimates (the two-group subgroup test);
    Fisher's exact test on the summed counts when either pool is not estimable."""
    d, lo, hi = newcombe_difference(_as_ci(a), _as_ci(b))
    ma, mb = _model_scale(a), _model_scale(b)
    if ma is not None and mb is not None:
        p, test = _wald_p(ma, mb), f"Wald z test on the {a.fit.measure} scale"
    else:
        p = fisher_exact_p(a.events, a.n, b.events, b.n)
        test = "Fisher exact test on summed counts (a pool is not estimable)"
    return Comparison(f"{a.short} vs {b.short}", "headline", a.regimen_class, b.regimen_class,
                      a.estimate, b.estimate, d, lo, hi, p, test, a.k, b.k, a.n, b.n)


def compare_cohort_with_pool(cohort: pd.Series, pool: ClassPool, label: str,
                             options: AnalysisOptions) -> Comparison:
    """This cohort minus a pooled class: Wilson interval of the cohort (Newcombe), the pooled
    interval of the class; Wald z test of the cohort's effect size (same measure and continuity
    rule) against the pooled model-scale estimate, Fisher on summed counts when not estimable."""
    k1, n1 = int(cohort["responders"]), int(cohort["evaluable"])
    own = proportion_ci(k1, n1, "wilson", options.level)
    d, lo, hi = newcombe_difference(own, _as_ci(pool))
    mb = _model_scale(pool)
    if mb is not None and not pool.includes_cohort:
        measure = "logit" if options.method in {"GLMM", "BAYES"} else options.measure
        es = effect_sizes(np.array([k1]), np.array([n1]), measure)
        p = _wald_p((float(es.yi[0]), math.sqrt(float(es.vi[0]))), mb)
        test = f"Wald z test on the {measure} scale"
    else:
        own_in_pool = pool.includes_cohort  # compare with the rest of the pool
        p = fisher_exact_p(k1, n1, pool.events - (k1 if own_in_pool else 0),
                           pool.n - (n1 if own_in_pool else 0))
        test = "Fisher exact test on summed counts"
    return Comparison(f"{label} vs {pool.short}", "headline",
                      label, pool.regimen_class, own.estimate, pool.estimate, d, lo, hi, p,
                      test, 1, pool.k, n1, pool.n)


# --------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True, eq=False)  # holds frames
class SubtypeBenchmark:
    """Everything the benchmark page, the summaries and the planner show for one subtype."""

    subtype: str
    options: AnalysisOptions
    rows: pd.DataFrame  # included rows, with key, is_cohort, regimen_class
    excluded: tuple[str, ...]  # keys left out by the user that were in this subtype
    fit: PooledProportion  # every included arm, this cohort too (secondary)
    class_pools: dict[str, ClassPool]
    cohort_key: str | None
    headline: tuple[Comparison, ...]
    comparisons: tuple[Comparison, ...]  # this cohort vs each comparator arm
    q_between: float | None
    q_between_df: int | None
    q_between_p: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def level(self) -> float:
        return self.options.level

    @property
    def ci_method(self) -> str:
        return self.options.ci_method

    @property
    def class_fits(self) -> dict[str, PooledProportion]:
        return {c: p.fit for c, p in self.class_pools.items()}

    @cached_property  # read on every rerun of four pages; treat as read-only
    def cohort_row(self) -> pd.Series | None:
        hits = self.rows[self.rows["is_cohort"]]
        return None if hits.empty else hits.iloc[0]

    def comparisons_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.comparisons])

    def class_table(self) -> pd.DataFrame:
        """Pooled ORR per regimen class, then the secondary pool of every included arm."""
        out = [p.to_dict() | {"scope": p.scope} for p in self.class_pools.values()]
        f = self.fit
        out.append({"class": "All included arms", "k": f.k,
                    "events": int(self.rows["responders"].sum()),
                    "n": int(self.rows["evaluable"].sum()), "estimate": f.estimate,
                    "low": f.low, "high": f.high, "tau2": f.tau2, "i2": f.i2,
                    "includes_cohort": self.cohort_key is not None,
                    "estimable": bool(f.estimable),
                    "scope": "every included arm" + (" incl. this cohort"
                                                     if self.cohort_key else "")})
        return pd.DataFrame(out)

    def to_dict(self) -> dict[str, Any]:
        """The `benchmark --json` contract (design.md): exactly the page's numbers."""
        row = self.cohort_row
        cohort = None
        if row is not None:
            own = next(s for s in self.fit.studies if s.study == self.cohort_key)
            cohort = {"responders": int(row["responders"]), "evaluable": int(row["evaluable"]),
                      "estimate": own.estimate, "low": own.low, "high": own.high}
        f = self.fit
        return {
            "subtype": self.subtype, "options": self.options.to_dict(), "cohort": cohort,
            "classes": [p.to_dict() for p in self.class_pools.values()],
            "overall": {"k": f.k, "events": int(self.rows["responders"].sum()),
                        "n": int(self.rows["evaluable"].sum()), "estimate": _num(f.estimate),
                        "low": _num(f.low), "high": _num(f.high), "tau2": _num(f.tau2),
                        "i2": _num(f.i2), "pi_low": _num(f.pi_low), "pi_high": _num(f.pi_high)},
            "q_between": _num(self.q_between), "q_between_df": self.q_between_df,
            "q_between_p": _num(self.q_between_p),
            "comparisons": [{"what": c.what, "difference": c.difference, "low": c.low,
                             "high": c.high, "p": c.p, "test": c.test} for c in self.headline],
            "excluded": list(self.excluded), "notes": list(self.notes),
        }

    def methods_paragraph(self) -> str:
        """Written from the fitted objects: what was pooled, how, and what was left out."""
        o, fits = self.options, [p.fit for p in self.class_pools.values()] + [self.fit]
        pooled = [p for p in self.class_pools.values() if p.k > 1]
        method = self.fit.method
        level = o.level_text
        # A Bayesian fit names the prior it actually used (stats.bayes_pooling).
        model_name = getattr(self.fit, "method_name", None) or METHOD_NAMES.get(method, method)
        parts = [
            f"Objective response rates (complete plus partial responses among "
            f"response-evaluable patients) in {self.subtype} were pooled per regimen class "
            f"as {MEASURE_NAMES[self.fit.measure]} with {model_name}.",
            "This cohort was " + ("included in" if o.include_cohort else "kept out of")
            + " its regimen class's pool" + ("" if o.include_cohort else
                                              " so that it can be compared with it") + ".",
        ]
        if method == "BAYES":
            parts.append(f"Pooled estimates are posterior medians with central {level} credible "
                         "intervals; the predictive interval describes the ORR expected in a "
                         "new study.")
        elif method != "FE":
            if self.fit.hksj:
                variant = self.fit.hksj_variant or o.hksj_variant
                parts.append(f"{level} confidence intervals for pooled estimates use the "
                             f"{HKSJ_VARIANTS.get(variant, variant)} (t distribution, k - 1 "
                             f"degrees of freedom).")
            else:
                parts.append(f"{level} confidence intervals for pooled estimates use the normal "
                             "(Wald) approximation.")
            parts.append("The prediction interval describes the ORR expected in a new study.")
        corrected = sorted({s for f in fits for s in f.corrected})
        if corrected:
            parts.append("A continuity correction of 0.5 was added only to arms with 0% or 100% "
                         f"responders ({', '.join(corrected)}).")
        elif method not in {"GLMM", "BAYES"} and self.fit.measure in {"logit", "raw"}:
            parts.append("No continuity correction was needed.")
        not_estimable = [p.regimen_class for p in self.class_pools.values() if not p.estimable]
        if not_estimable:
            parts.append(f"Classes whose arms all had 0% (or all 100%) responders "
                         f"({', '.join(not_estimable)}) are not estimable by random-effects "
                         "pooling: their summed counts are given with an exact "
                         "(Clopper-Pearson) interval and they are left out of tests.")
        if pooled and method == "BAYES":
            parts.append("Heterogeneity is reported as the posterior median of τ² (Cochran's Q "
                         "is descriptive).")
        elif pooled:
            parts.append("Heterogeneity is reported as Cochran's Q, I² (with a Q-profile "
                         "confidence interval) and τ².")
        if self.q_between is not None:
            parts.append("Regimen classes were compared with a test for subgroup differences "
                         "(Q between the class estimates, separate τ² per class).")
        parts.append(
            f"Arm-level intervals are {CI_METHODS[o.ci_method]} intervals. The difference "
            "between this cohort and a pooled class, and between two pooled classes, uses the "
            "square-and-add (Newcombe / Zou-Donner) construction from the two intervals, with a "
            "Wald z test of the two estimates on the model scale; differences from single arms "
            "use Newcombe's hybrid score interval and Fisher's exact test.")
        if self.excluded:
            parts.append(f"Left out by the user: {', '.join(self.excluded)}.")
        if o.primary_only:
            parts.append("Sensitivity analysis: only arms whose numbers were read from the "
                         "trial's own full paper (seed-paper-only, review-table, abstract, "
                         "registry and derived numbers left out).")
        parts.append("Computed with the comparators package, validated against metafor.")
        return " ".join(parts)


def _between_classes(pools: Iterable[ClassPool]) -> tuple[float | None, int | None,
                                                           float | None, list[str]]:
    """Q between the estimable class pools (meta's test for subgroup differences)."""
    usable, notes = [], []
    for p in pools:
        m = _model_scale(p)
        if m is None:
            notes.append(f"{p.regimen_class} left out of the test for subgroup differences "
                         "(not estimable).")
        else:
            usable.append(m)
    if len(usable) < 2:
        return None, None, None, notes
    th = np.array([u[0] for u in usable])
    w = 1 / np.array([u[1] for u in usable]) ** 2
    q = float((w * (th - (w * th).sum() / w.sum()) ** 2).sum())
    df = len(usable) - 1
    return q, df, float(stats.chi2.sf(q, df)), notes


def benchmark_subtype(rows: pd.DataFrame, options: AnalysisOptions | None = None
                      ) -> SubtypeBenchmark:
    """Pool each regimen class once and compare this cohort with the rest."""
    options = options or AnalysisOptions()
    excluded = tuple(k for k in rows["key"] if k in set(options.exclude))
    included = rows[~rows["key"].isin(excluded)].reset_index(drop=True)
    if options.primary_only:  # sensitivity: rows read from the trial's own full paper only
        marks = verification_marks(included)
        included = included[~included["key"].isin(marks)].reset_index(drop=True)
    if included.empty:
        raise BenchmarkError("no study arms left to pool: include at least one"
                             + (" (primary-source rows only)" if options.primary_only else ""))
    subtype = str(included["subtype"].iloc[0])
    # An arm (or this cohort) whose patients were all not evaluable is legal data: shown as
    # "0 evaluable" and left out of pooling and comparisons (a proportion needs n >= 1).
    usable = included[included["evaluable"].astype(int) > 0].reset_index(drop=True)
    notes: list[str] = []
    for key, own, n in zip(included["key"], included["is_cohort"], included["evaluable"],
                           strict=True):
        if int(n) == 0:
            notes.append(f"{'This cohort' if own else key} has 0 evaluable {subtype} patients: "
                         "left out of pooling" + (" and comparisons." if own else "."))
    if usable.empty:
        raise BenchmarkError(f"no study arm has an evaluable {subtype} patient: nothing to pool")
    fit = pool_proportions(usable["responders"].astype(int).to_numpy(),
                           usable["evaluable"].astype(int).to_numpy(),
                           studies=list(usable["key"]), **options.pool_kwargs())
    pools = {c: pool for c in class_order(usable["regimen_class"])
             if (pool := pool_class(usable, c, options)) is not None}
    q, q_df, q_p, qnotes = _between_classes(pools.values())
    notes += qnotes

    cohort = usable[usable["is_cohort"]]
    cohort_key = None if cohort.empty else str(cohort.iloc[0]["key"])
    headline: list[Comparison] = []
    per_arm: list[Comparison] = []
    if cohort_key is not None:
        c = cohort.iloc[0]
        if "AI+ICI" in pools:
            headline.append(compare_cohort_with_pool(c, pools["AI+ICI"], "This cohort", options))
        k1, n1 = int(c["responders"]), int(c["evaluable"])
        own = proportion_ci(k1, n1, "wilson", options.level)
        others = usable[~usable["is_cohort"]]
        for key, k2, n2 in zip(others["key"], others["responders"].astype(int),
                               others["evaluable"].astype(int), strict=True):
            d, lo, hi = newcombe_difference(own, proportion_ci(k2, n2, "wilson", options.level))
            p = fisher_exact_p(k1, n1, k2, n2)
            per_arm.append(Comparison(f"This cohort vs {key}", "trial", "This cohort",
                                      str(key), own.estimate, k2 / n2, d, lo, hi, p,
                                      "Fisher exact test", 1, 1, n1, n2))
    elif not bool(included["is_cohort"].any()):
        notes.append(f"This cohort has no {subtype} row (or it was left out): nothing to "
                     "compare with.")
    if "AI+ICI" in pools and "ICI" in pools:
        headline.append(compare_pools(pools["AI+ICI"], pools["ICI"], options.level))
    notes += [n for n in fit.notes if n not in notes]
    small = [p.regimen_class for p in pools.values() if p.k in (2, 3) and p.fit.tau2 is not None]
    if small:
        notes.append(f"k = 2 or 3 ({', '.join(small)}): τ² is barely estimable from so few "
                     "arms; read the pooled interval with caution.")
    return SubtypeBenchmark(subtype, options, usable, excluded, fit, pools, cohort_key,
                            tuple(headline), tuple(per_arm), q, q_df, q_p, tuple(notes))


# --------------------------------------------------------------------------- across subtypes


@dataclass(frozen=True, eq=False)
class AcrossSubtypes:
    """Every subtype's benchmark under one set of options (the Across subtypes page)."""

    options: AnalysisOptions
    benchmarks: dict[str, SubtypeBenchmark]

    def pools_frame(self) -> pd.DataFrame:
        """One row per (subtype, class): the very `ClassPool`s the benchmark page shows."""
        out = [{"subtype": s} | p.to_dict() | {"patients": p.n, "responders": p.events,
                                               "label": p.label}
               for s, bm in self.benchmarks.items() for p in bm.class_pools.values()]
        return pd.DataFrame(out, columns=["subtype", "class", "k", "events", "n", "estimate",
                                          "low", "high", "tau2", "i2", "includes_cohort",
                                          "estimable", "patients", "responders", "label"])

    def differences_frame(self, a: str = "AI+ICI", b: str = "ICI") -> pd.DataFrame:
        """Per subtype, pooled `a` minus pooled `b` with its interval, test and k."""
        out = []
        for s, bm in self.benchmarks.items():
            hit = [c for c in bm.headline if c.a == a and c.b == b]
            if hit:
                c = hit[0]
                out.append({"subtype": s, "k_" + a: c.k_a, "k_" + b: c.k_b,
                            "n_" + a: c.n_a, "n_" + b: c.n_b, "estimate_" + a: c.a_estimate,
                            "estimate_" + b: c.b_estimate, "difference": c.difference,
                            "low": c.low, "high": c.high, "p": c.p, "test": c.test})
        return pd.DataFrame(out)


def across_subtypes(trials: pd.DataFrame, cohort: ThisCohort,
                    options: AnalysisOptions | None = None,
                    subtypes: Iterable[str] | None = None,
                    benchmark: Callable[[str], SubtypeBenchmark] | None = None
                    ) -> AcrossSubtypes:
    """`benchmark_subtype` for every subtype in the catalog (aggregates left out).

    `benchmark(code)` may supply each subtype's fit (the app passes its cached one, so this
    page and the benchmark page share fits); by default it is fitted here.
    """
    options = options or AnalysisOptions()
    codes = sorted(set(trials["subtype"].astype(str)) - AGGREGATE_SUBTYPES) \
        if subtypes is None else list(subtypes)

    def fit(code: str) -> SubtypeBenchmark:
        return benchmark_subtype(subtype_rows(trials, cohort, code, options.include_overlapping),
                                 options)

    out: dict[str, SubtypeBenchmark] = {}
    for code in codes:
        try:
            out[code] = (benchmark or fit)(code)
        except BenchmarkError:
            continue  # no row, every arm left out, or none with evaluable patients
    return AcrossSubtypes(options, out)

