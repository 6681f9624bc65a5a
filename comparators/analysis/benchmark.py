"""Benchmark one subtype: this cohort beside every comparator that reported it.

Pipeline (metafor-style): `subtype_rows` picks the rows -> `benchmark_subtype` pools each regimen
class once (`pool_class`, the one place a class's pooled ORR is computed) -> a `SubtypeBenchmark`
carries the class pools, the headline comparisons (this cohort vs pooled AI+ICI, pooled AI+ICI vs
pooled ICI alone), the per-arm comparisons and the methods text written from what was fitted.
The forest plot, the class table, Across subtypes, the evidence summary, the planner's p0/p1 and
the CLI all read these objects, so a number has one source wherever it is shown.

Comparisons (the one place they are made): a difference and its evidence come from one
construction (stats.differences). Frequentist: the square-and-add interval of the two intervals
as shown (a pool's from its model, with HKSJ's t quantiles when chosen; this cohort's Wilson),
and the p-value that interval inverts, so p < 1 - level exactly when the interval excludes 0.
Bayesian: the posterior of the difference (credible interval, P(difference > 0)), no p-value.
This cohort is never compared with a pool that contains it: with the cohort inside its class
pool, it is compared with the pool of the other arms (`cohort_reference`), or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import numpy as np
import pandas as pd

from comparators.analysis.endpoints import DEFAULT_ENDPOINT, ENDPOINTS, arm_safety, endpoint_counts
from comparators.analysis.options import AnalysisOptions
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.labels import row_keys, verification_marks
from comparators.evidence.risk_of_bias import low_risk_filter
from comparators.stats.differences import (
    Difference,
    IntervalAt,
    Tabulated,
    interval_difference,
    jeffreys_posterior,
    model_interval,
    posterior_difference,
    square_and_add,
    tabulate_scale,
)
from comparators.stats.effect_sizes import back_transform, cochran_q
from comparators.stats.fisher import fisher_exact_p
from comparators.stats.pooled_result import PooledProportion
from comparators.stats.pooling import pool_proportions
from comparators.stats.proportions import ProportionCI, interval_bounds, proportion_ci
from comparators.stats.serialise import json_number
from comparators.vocab import (
    AGGREGATE_SUBTYPES,
    CI_CHOICES,
    HKSJ_CHOICES,
    MEASURE_CHOICES,
    MODEL_CHOICES,
    REGIMEN_CLASSES,
    is_soft_tissue_subtype,
)

CLASS_ORDER = REGIMEN_CLASSES


class BenchmarkError(InputError):
    """No rows to benchmark, or options that cannot be combined."""


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
    trials: pd.DataFrame, cohort: ThisCohort, subtype: str, include_overlapping: bool = False,
    labels: Mapping[str, str] | None = None, endpoint: str = DEFAULT_ENDPOINT,
) -> pd.DataFrame:
    """Catalog rows for `subtype` with this cohort's row in place of the seed's own.

    For the grade >= 3 TRAE `endpoint` each row also carries its arm's safety counts
    (analysis.endpoints.arm_safety: reported per arm, on the all-subtype row).

    Rows that re-count another study's patients (`overlaps_with`) are left out unless asked for.
    `labels` (evidence.labels.arm_labels: row key -> "Author Year · arm") names each row in the
    `label` column that every place reads; this cohort is named by its own label, and a row
    without one by its key.
    """
    comparators = comparator_rows(trials[trials["subtype"] == subtype], cohort,
                                  include_overlapping)
    own = cohort.rows[cohort.rows["subtype"] == subtype]
    # One copy of the (wide) rows: concat, then the added columns; concat of an empty frame
    # is deprecated behaviour in pandas.
    parts = [f for f in (own, comparators) if not f.empty]
    rows = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (parts or [own])[0].copy()
    rows["is_cohort"] = np.arange(len(rows)) < len(own)
    rows["key"] = row_keys(rows)
    names = dict(labels or {})
    own_name = " ".join(str(cohort.label).split())  # one line, as every chart and table shows
    rows["label"] = [own_name if own_row else names.get(k, k)
                     for k, own_row in zip(rows["key"], rows["is_cohort"], strict=True)]
    rows["regimen_class"] = rows["regimen_class"].astype(str)
    return arm_safety(rows, trials, cohort.rows) if endpoint == "grade3" else rows


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
    #: The pool of the other arms of this cohort's class: the options put this cohort inside
    #: its class pool, and it was left out of this one to be compared with it
    #: (`SubtypeBenchmark.cohort_reference`).
    leaves_out_cohort: bool = False

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
        """'AI+ICI pooled (k = 4)', 'AI+ICI pooled incl. this cohort (k = 5)', 'AI+ICI
        summed, not estimable (k = 3)', or, for the pool that leaves this cohort out of its
        own class, 'the other AI+ICI arms pooled (k = 4)'."""
        if self.leaves_out_cohort:
            return f"the other {self.regimen_class} arms pooled (k = {self.k})"
        what = "pooled" if self.estimable else "summed, not estimable"
        inside = " incl. this cohort" if self.includes_cohort else ""
        return f"{self.regimen_class} {what}{inside} (k = {self.k})"

    @property
    def label(self) -> str:
        """'AI+ICI pooled, comparators only (k = 4)' — what the forest and tables print."""
        what = "pooled" if self.estimable else "not estimable; summed counts"
        return f"{self.regimen_class} {what}, {self.scope} (k = {self.k})"

    def interval_at(self, ci_method: str) -> IntervalAt:
        """This pool's interval as a function of the confidence level, by the rule that gave
        `low` and `high`: the summed counts' exact interval when not estimable, the arm's own
        interval for k = 1, else the fitted model's estimate +- z (or HKSJ's t with k - 1 df)
        times its standard error, back-transformed. Frequentist models only."""
        if not self.estimable:
            return arm_interval(self.events, self.n, "clopper-pearson")
        if self.k == 1:
            arm = self.fit.studies[0]
            return arm_interval(arm.events, arm.n, ci_method)
        model = self.fit.fit
        if model is None:
            raise BenchmarkError(f"{self.regimen_class}: no fitted model to take intervals from")
        n = np.array([s.n for s in self.fit.studies])
        return model_interval(model.estimate, model.se, model.df,
                              lambda y: back_transform(y, model.measure, n))

    def posterior(self) -> Tabulated:
        """The posterior of this class's pooled ORR (Bayesian model): the posterior of mu on
        the model's scale, back-transformed. A class the model could not fit (every arm 0% or
        100%) enters as its summed counts under the Jeffreys prior."""
        post = getattr(self.fit, "posterior", None)
        if post is None:
            return jeffreys_posterior(self.events, self.n)
        n = np.array([s.n for s in self.fit.studies])
        return tabulate_scale(partial(post.cdf, "mu"), partial(post.quantile, "mu"),
                              lambda y: back_transform(y, post.measure, n))

    def to_dict(self) -> dict[str, Any]:
        f = self.fit
        return {"class": self.regimen_class, "k": int(self.k), "events": int(self.events),
                "n": int(self.n), "estimate": json_number(f.estimate), "low": json_number(f.low),
                "high": json_number(f.high), "tau2": json_number(f.tau2), "i2": json_number(f.i2),
                "includes_cohort": bool(self.includes_cohort), "estimable": self.estimable}


def arm_interval(events: int, n: int, method: str) -> IntervalAt:
    """One arm's (or summed counts') interval by `method` as a function of the level."""

    proportion_ci(events, n, method)  # the counts and method checked once, here

    def at(level: float) -> tuple[float, float]:
        return interval_bounds(events, n, method, level)

    return at


def pool_class(rows: pd.DataFrame, regimen_class: str, options: AnalysisOptions,
               include_cohort: bool | None = None) -> ClassPool | None:
    """Pool the arms of `regimen_class` in `rows` (one subtype's `subtype_rows`).

    This cohort is inside the pool only when `include_cohort` (default: the options'
    choice); rows whose key is in `options.exclude` never are. None when no arm is left.
    """
    inside = options.include_cohort if include_cohort is None else include_cohort
    # Column arrays, not a filtered copy of the (wide) rows frame: this runs for every class
    # of every subtype, and a frame copy cost more than the pooling itself.
    is_cohort = rows["is_cohort"].to_numpy(dtype=bool)
    keep = ((rows["regimen_class"].to_numpy() == regimen_class)
            & ~rows["key"].isin(options.exclude).to_numpy(dtype=bool))
    # "the other arms" only when the options put this cohort in its class pool and this pool,
    # of its own class, leaves it out: never a class that does not hold it
    leaves_out = bool(options.include_cohort and not inside and (keep & is_cohort).any())
    if not inside:
        keep &= ~is_cohort
    if not keep.any():
        return None
    events = rows["responders"].to_numpy(dtype=int)[keep]
    n = rows["evaluable"].to_numpy(dtype=int)[keep]
    keys = [str(k) for k in rows["key"].to_numpy()[keep]]
    fit = pool_proportions(events, n, studies=keys, **options.pool_kwargs())
    return ClassPool(regimen_class, fit, tuple(keys), int(events.sum()), int(n.sum()),
                     bool(is_cohort[keep].any()), leaves_out)


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class RateDifference:
    """A minus B in proportions, with its interval and the evidence from the same rule:
    `p` under a frequentist model (the p-value the interval inverts, or Fisher's for single
    arms), `prob_positive` = P(A - B > 0) under the Bayesian model (then `p` is None)."""

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
    test: str  # how the interval and p (or the posterior probability) were computed
    k_a: int = 1
    k_b: int = 1
    n_a: int = 0
    n_b: int = 0
    prob_positive: float | None = None
    b_label: str = ""  # how B is named where people read it ("D'Angelo 2018 · nivolumab")

    @property
    def evidence(self) -> str:
        """'p = 0.231', or 'P(difference > 0) = 0.874' under the Bayesian model."""
        if self.prob_positive is not None:
            return f"P(difference > 0) {probability_text(self.prob_positive)}"
        return p_text(self.p)

    def to_dict(self) -> dict[str, Any]:
        return {"what": self.what, "kind": self.kind, "a": self.a, "b": self.b,
                "b_label": self.b_label or self.b,
                "a_estimate": self.a_estimate, "b_estimate": self.b_estimate,
                "difference": self.difference, "low": self.low, "high": self.high,
                "p": self.p, "prob_positive": self.prob_positive, "evidence": self.evidence,
                "test": self.test, "k_a": self.k_a, "k_b": self.k_b, "n_a": self.n_a,
                "n_b": self.n_b}


def p_text(p: float | None) -> str:
    """'p = 0.231'; 'p < 0.0001' rather than 'p = 0.0000'; '–' when there is no test."""
    if p is None or pd.isna(p):
        return "–"
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}" if p < 0.001 else f"p = {p:.3f}"


def probability_text(prob: float) -> str:
    """'= 0.874'; '> 0.999' and '< 0.001' at the ends (a posterior probability is never
    exactly 0 or 1)."""
    if prob > 0.999:
        return "> 0.999"
    if prob < 0.001:
        return "< 0.001"
    return f"= {prob:.3f}"


def newcombe_difference(
    a: ProportionCI, b: ProportionCI
) -> tuple[float, float, float]:
    """Difference a - b with Newcombe's hybrid score interval (Stat Med 1998;17:873, method 10).

    Given Wilson limits for each proportion this is the square-and-add (MOVER) interval; fed a
    pooled class's CI it extends the same construction to a pooled estimate (Zou & Donner 2008).
    """
    return square_and_add(a.estimate, a.low, a.high, b.estimate, b.low, b.high)


def _shown_at(at: IntervalAt, level: float, shown: tuple[float, float]) -> IntervalAt:
    """`at`, returning at the options' level the interval exactly as shown (the same rule;
    tests/test_benchmark.py checks `at(level)` against it)."""
    return lambda lv: shown if lv == level else at(lv)


FREQUENTIST_DIFFERENCE = ("square-and-add interval of the two intervals; p is the p-value this "
                          "interval inverts (p < 1 - level exactly when it excludes 0)")
BAYESIAN_DIFFERENCE = ("posterior of the difference (numerical integration of the two "
                       "independent posteriors): central credible interval and P(difference > 0)")


def _difference(a: float, a_at: Callable[[], IntervalAt], a_post: Callable[[], Tabulated],
                b: float, b_at: Callable[[], IntervalAt], b_post: Callable[[], Tabulated],
                options: AnalysisOptions) -> tuple[Difference, str]:
    """A - B by the options' model: the posterior of the difference (Bayesian), else the
    square-and-add interval with the p-value it inverts (stats.differences). Each side's
    interval function (`*_at`) or posterior (`*_post`) is built only for the model used."""
    if options.method == "BAYES":
        return (posterior_difference(a_post(), b_post(), a, b, options.level),
                BAYESIAN_DIFFERENCE)
    return interval_difference(a, a_at(), b, b_at(), options.level), FREQUENTIST_DIFFERENCE


def _pool_interval(pool: ClassPool, options: AnalysisOptions) -> Callable[[], IntervalAt]:
    """The pool's interval function, giving at the options' level the interval as shown."""
    return lambda: _shown_at(pool.interval_at(options.ci_method), options.level,
                             (pool.low, pool.high))


def compare_pools(a: ClassPool, b: ClassPool, options: AnalysisOptions) -> RateDifference:
    """Pooled class A minus pooled class B (module `_difference`): each pool's interval as
    shown, recomputed at other levels by the same model (its z or HKSJ t quantiles) for p."""
    diff, test = _difference(a.estimate, _pool_interval(a, options), a.posterior,
                             b.estimate, _pool_interval(b, options), b.posterior, options)
    return RateDifference(f"{a.short} vs {b.short}", "headline", a.regimen_class, b.regimen_class,
                      a.estimate, b.estimate, diff.difference, diff.low, diff.high, diff.p,
                      test, a.k, b.k, a.n, b.n, diff.prob_positive, b.short)


def compare_cohort_with_pool(cohort: pd.Series, pool: ClassPool, label: str,
                             options: AnalysisOptions) -> RateDifference:
    """This cohort minus a pooled class that does not contain it: the cohort's Wilson
    interval (its Jeffreys posterior under the Bayesian model) against the pool's
    (module `_difference`)."""
    if pool.includes_cohort:  # a thing compared with a pool containing it is not a test
        raise BenchmarkError(f"{label} is inside the {pool.regimen_class} pool it would be "
                             "compared with")
    k1, n1 = int(cohort["responders"]), int(cohort["evaluable"])
    diff, test = _difference(k1 / n1, lambda: arm_interval(k1, n1, "wilson"),
                             lambda: jeffreys_posterior(k1, n1), pool.estimate,
                             _pool_interval(pool, options), pool.posterior, options)
    return RateDifference(f"{label} vs {pool.short}", "headline", label, pool.regimen_class,
                      k1 / n1, pool.estimate, diff.difference, diff.low, diff.high, diff.p,
                      test, 1, pool.k, n1, pool.n, diff.prob_positive, pool.short)


def compare_cohort_with_arm(cohort: pd.Series, arm: pd.Series,
                            options: AnalysisOptions) -> RateDifference:
    """This cohort minus one comparator arm: Newcombe's hybrid score interval and Fisher's
    exact test (frequentist), or the difference of the two arms' Jeffreys posteriors."""
    k1, n1 = int(cohort["responders"]), int(cohort["evaluable"])
    k2, n2 = int(arm["responders"]), int(arm["evaluable"])
    if options.method == "BAYES":
        diff = posterior_difference(jeffreys_posterior(k1, n1), jeffreys_posterior(k2, n2),
                                    k1 / n1, k2 / n2, options.level)
        d, lo, hi, p, prob = diff.difference, diff.low, diff.high, None, diff.prob_positive
        test = "difference of the two arms' Jeffreys posteriors: " + BAYESIAN_DIFFERENCE
    else:
        d, lo, hi = newcombe_difference(proportion_ci(k1, n1, "wilson", options.level),
                                        proportion_ci(k2, n2, "wilson", options.level))
        p, prob, test = fisher_exact_p(k1, n1, k2, n2), None, "Fisher exact test"
    key = str(arm["key"])
    name = str(arm["label"]) if "label" in arm else key
    return RateDifference(f"This cohort vs {name}", "trial", "This cohort", key, k1 / n1, k2 / n2,
                      d, lo, hi, p, test, 1, 1, n1, n2, prob, name)


# --------------------------------------------------------------------------- the benchmark


@dataclass(frozen=True, eq=False)  # holds frames
class SubtypeBenchmark:
    """Everything the benchmark page, the summaries and the planner show for one subtype."""

    subtype: str
    options: AnalysisOptions
    rows: pd.DataFrame  # included rows, with key, label, is_cohort, regimen_class
    excluded: tuple[str, ...]  # keys left out by the user that were in this subtype
    fit: PooledProportion  # every included arm, this cohort too (secondary)
    class_pools: dict[str, ClassPool]
    cohort_key: str | None
    headline: tuple[RateDifference, ...]
    comparisons: tuple[RateDifference, ...]  # this cohort vs each comparator arm
    q_between: float | None
    q_between_df: int | None
    q_between_p: float | None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: row key -> the name people read ("D'Angelo 2018 · nivolumab"), every row of the subtype
    labels: Mapping[str, str] = field(default_factory=dict)
    #: the pool this cohort is compared with when its own class pool contains it: the other
    #: arms of that class (None when the class pool does not contain it, or has no other arm)
    cohort_reference: ClassPool | None = None

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

    def label(self, key: str) -> str:
        """How a row is named where people read it (its key when it has no label)."""
        return self.labels.get(key, key)

    def comparisons_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.comparisons])

    def class_table(self) -> pd.DataFrame:
        """Pooled ORR per regimen class, the pool this cohort is compared with when its class
        pool contains it, then the secondary pool of every included arm."""
        out = [p.to_dict() | {"scope": p.scope} for p in self.class_pools.values()]
        ref = self.cohort_reference
        if ref is not None:
            out.append(ref.to_dict() | {"scope": "comparators only: the pool this cohort is "
                                                 "compared with"})
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
        ref = self.cohort_reference
        return {
            "subtype": self.subtype, "endpoint": self.options.endpoint,
            "options": self.options.to_dict(), "cohort": cohort,
            "classes": [p.to_dict() for p in self.class_pools.values()],
            "cohort_reference": None if ref is None else ref.to_dict(),
            "overall": {"k": f.k, "events": int(self.rows["responders"].sum()),
                        "n": int(self.rows["evaluable"].sum()),
                        **{key: json_number(getattr(f, key)) for key in
                           ("estimate", "low", "high", "tau2", "i2", "pi_low", "pi_high")}},
            "q_between": json_number(self.q_between), "q_between_df": self.q_between_df,
            "q_between_p": json_number(self.q_between_p),
            "comparisons": [{"what": c.what, "difference": c.difference, "low": c.low,
                             "high": c.high, "p": c.p, "prob_positive": c.prob_positive,
                             "test": c.test} for c in self.headline],
            "arms": [{"key": str(k), "label": str(lab), "class": str(c), "is_cohort": bool(o),
                      "responders": int(x), "evaluable": int(n)}
                     for k, lab, c, o, x, n in zip(
                         self.rows["key"], self.rows["label"] if "label" in self.rows
                         else self.rows["key"], self.rows["regimen_class"],
                         self.rows["is_cohort"], self.rows["responders"],
                         self.rows["evaluable"], strict=True)],
            "excluded": list(self.excluded),
            "excluded_labels": [self.label(k) for k in self.excluded],
            "notes": list(self.notes),
        }

    # -- methods text: what is common to every subtype under these options, and what is not --

    def methods_general(self, subtypes: str | None = None) -> list[str]:
        """The sentences that depend only on the options and the model (the same for every
        subtype fitted with them); `subtypes` names the subtypes ('ASPS, UPS and LMS')."""
        o = self.options
        method, level = self.fit.method, o.level_text
        # A Bayesian fit names the prior it actually used (stats.bayes_pooling).
        model_name = getattr(self.fit, "method_name", None) or MODEL_CHOICES.prose(method)
        bayes = method == "BAYES"
        e = ENDPOINTS[o.endpoint]
        parts = [
            f"{e.name[0].upper()}{e.name[1:]}s ({e.numerator} among {e.denominator}) in "
            f"{subtypes or self.subtype} were pooled per "
            f"regimen class as {MEASURE_CHOICES.prose(self.fit.measure)} with {model_name}.",
            "This cohort was included in its regimen class's pool; it is compared with the "
            "pool of the other arms of that class, never with a pool that contains it."
            if o.include_cohort else
            "This cohort was kept out of its regimen class's pool so that it can be compared "
            "with it.",
        ]
        if bayes:
            parts.append(f"Pooled estimates are posterior medians with central {level} "
                         f"credible intervals; the predictive interval describes the {e.short} "
                         "expected in a new study.")
        elif method != "FE":
            if o.hksj:
                variant = self.fit.hksj_variant or o.hksj_variant
                parts.append(f"{level} confidence intervals for pooled estimates use the "
                             f"{HKSJ_CHOICES.label(variant)} (t distribution, k - 1 "
                             f"degrees of freedom).")
            else:
                parts.append(f"{level} confidence intervals for pooled estimates use the "
                             "normal (Wald) approximation.")
            parts.append(f"The prediction interval describes the {e.short} expected in a new "
                         "study.")
        if bayes:
            parts.append("Heterogeneity is reported as the posterior median of τ² (Cochran's "
                         "Q is descriptive; the model defines no I²). Each class has its own "
                         "posterior; classes are compared by the posterior of their "
                         "difference, not by a test for subgroup differences.")
        else:
            parts.append("Heterogeneity is reported as Cochran's Q, I² (with a Q-profile "
                         "confidence interval) and τ² for classes of two or more arms. "
                         "Regimen classes were compared with a test for subgroup differences "
                         "(Q between the class estimates, separate τ² per class, χ² "
                         "distribution).")
        parts.append(f"Arm-level intervals are {CI_CHOICES[o.ci_method].label} intervals.")
        if bayes:
            parts.append(
                "A difference between two classes, or between this cohort (or one arm) and a "
                "class, is summarised by the posterior of the difference: the two independent "
                f"posteriors (a class's posterior pooled {e.short}; an arm's Beta posterior "
                "under the "
                "Jeffreys prior) are combined by numerical integration, giving a central "
                f"{level} credible interval and the posterior probability that the difference "
                "is above 0. No p-values are computed.")
        else:
            alpha = f"{1 - o.level:.2f}".rstrip("0").rstrip(".")
            parts.append(
                "The difference between this cohort and a pooled class, and between two pooled "
                "classes, uses the square-and-add (Newcombe / Zou-Donner) interval built from "
                "the two intervals (this cohort's Wilson interval; each pool's interval from "
                "its model" + (", with the HKSJ t quantiles" if o.hksj and method != "FE"
                               else "") + "). Its p-value is the one this interval inverts: "
                "1 minus the confidence level at which the interval just reaches 0, so p < "
                f"{alpha} exactly when the {level} interval excludes 0. Differences from "
                "single arms use Newcombe's hybrid score interval and Fisher's exact test.")
        if o.low_risk_of_bias_only:
            parts.append("Sensitivity analysis: only comparator arms of studies judged low "
                         "risk of bias overall (MINORS, eight items for non-comparative "
                         "studies).")
        if o.primary_only:
            parts.append("Sensitivity analysis: only arms whose numbers were read from the "
                         "trial's own full paper (seed-paper-only, review-table, abstract, "
                         "registry and derived numbers left out).")
        return parts

    @property
    def corrected(self) -> list[str]:
        """Labels of the arms that needed the 0.5 continuity correction (0% or 100%)."""
        fits = [p.fit for p in self.class_pools.values()] + [self.fit]
        if self.cohort_reference is not None:
            fits.append(self.cohort_reference.fit)
        return sorted({self.label(s) for f in fits for s in f.corrected})

    def methods_specific(self) -> list[str]:
        """The sentences about this subtype's data: corrected arms, classes that are not
        estimable, arms the user left out (each named as everywhere else)."""
        parts = []
        if self.corrected:
            parts.append("A continuity correction of 0.5 was added only to arms with 0% or 100% "
                         f"responders ({', '.join(self.corrected)}).")
        not_estimable = [p.regimen_class for p in self.class_pools.values() if not p.estimable]
        if not_estimable:
            parts.append(f"Classes whose arms all had 0% (or all 100%) responders "
                         f"({', '.join(not_estimable)}) are not estimable by random-effects "
                         "pooling: their summed counts are given with an exact "
                         "(Clopper-Pearson) interval"
                         + (" and they are left out of the test for subgroup differences."
                            if self.options.method != "BAYES" else "."))
        if self.excluded:
            parts.append("Left out by the user: "
                         f"{', '.join(self.label(k) for k in self.excluded)}.")
        return parts

    def methods_paragraph(self) -> str:
        """Written from the fitted objects: what was pooled, how, and what was left out."""
        general = self.methods_general()
        specific = self.methods_specific()
        if (not self.corrected and self.fit.method not in {"GLMM", "BAYES"}
                and self.fit.measure in {"logit", "raw"}):
            specific.insert(0, "No continuity correction was needed.")
        closing = "Computed with the comparators package, validated against metafor."
        return " ".join(general + specific + [closing])


def _model_scale(pool: ClassPool) -> tuple[float, float] | None:
    """The pool's estimate and SE on the model scale (None when not estimable / no model)."""
    model = pool.fit.fit
    if not pool.estimable or model is None or not math.isfinite(model.se) or model.se <= 0:
        return None
    return float(model.estimate), float(model.se)


def _between_classes(pools: Iterable[ClassPool], bayes: bool
                     ) -> tuple[float | None, int | None, float | None, list[str]]:
    """Q between the estimable class pools (meta's test for subgroup differences); under the
    Bayesian model there is no such test (classes are compared by posterior probabilities)."""
    pools = list(pools)
    if bayes:
        note = ("Bayesian model: each class has its own posterior, and classes are compared by "
                "the posterior probability of their difference, so no test for subgroup "
                "differences is made.")
        return None, None, None, [note] if len(pools) > 1 else []
    usable, notes = [], []
    for p in pools:
        m = _model_scale(p)
        if m is None:
            notes.append(f"{p.regimen_class} is not estimable (every arm 0% or every arm 100%) "
                         "and is left out of the test for subgroup differences.")
        else:
            usable.append(m)
    if len(usable) < 2:
        return None, None, None, notes
    q, df, q_p = cochran_q([u[0] for u in usable], np.square([u[1] for u in usable]))
    return q, df, q_p, notes


def _continuity_note(note: str) -> bool:
    """The pooling fit's note listing corrected arms by key (the methods text names them)."""
    return note.startswith("continuity correction")


def selected_arms(rows: pd.DataFrame, options: AnalysisOptions
                   ) -> tuple[tuple[str, ...], pd.DataFrame]:
    """The keys the options exclude and the rows left after them and the sensitivity filters."""
    excluded = tuple(k for k in rows["key"] if k in set(options.exclude))
    included = rows[~rows["key"].isin(excluded)].reset_index(drop=True)
    if options.primary_only:  # sensitivity: rows read from the trial's own full paper only
        marks = verification_marks(included)
        included = included[~included["key"].isin(marks)].reset_index(drop=True)
    if options.low_risk_of_bias_only:  # sensitivity: comparator arms at low risk of bias only
        keep, how_many = low_risk_filter(list(included["study"]))
        included = included[included["is_cohort"].to_numpy(dtype=bool) | keep
                            ].reset_index(drop=True)
        if not bool((~included["is_cohort"].astype(bool)).any()):
            raise BenchmarkError("low risk of bias only leaves no comparator arm to pool: "
                                 + how_many)
    if included.empty:
        raise BenchmarkError("no study arms left to pool: include at least one"
                             + (" (primary-source rows only)" if options.primary_only else ""))
    return excluded, included


def _compare_cohort(usable: pd.DataFrame, included: pd.DataFrame, pools: dict[str, ClassPool],
                    options: AnalysisOptions, subtype: str, notes: list[str],
                    ) -> tuple[str | None, list[RateDifference], list[RateDifference],
                               ClassPool | None]:
    """This cohort against the AI+ICI pool without it and against each other arm; a note
    (appended to ``notes``) when there is nothing to compare it with."""
    cohort = usable[usable["is_cohort"]]
    cohort_key = None if cohort.empty else str(cohort.iloc[0]["key"])
    headline: list[RateDifference] = []
    per_arm: list[RateDifference] = []
    reference = None
    if cohort_key is not None:
        c = cohort.iloc[0]
        target = pools.get("AI+ICI")
        if target is not None and target.includes_cohort:
            reference = target = pool_class(usable, "AI+ICI", options, include_cohort=False)
            if target is None:
                notes.append("This cohort is the only AI+ICI arm in its pool"
                             + (" (primary-source rows only)" if options.primary_only else "")
                             + ": there is no other AI+ICI arm to compare it with, so no "
                             "comparison is shown.")
        if target is not None:
            headline.append(compare_cohort_with_pool(c, target, "This cohort", options))
        per_arm = [compare_cohort_with_arm(c, arm, options)
                   for _, arm in usable[~usable["is_cohort"]].iterrows()]
    elif not bool(included["is_cohort"].any()) and options.endpoint == DEFAULT_ENDPOINT:
        notes.append(f"This cohort has no {subtype} patients with response data (or they "
                     "were left out): nothing to compare with.")
    return cohort_key, headline, per_arm, reference


def benchmark_subtype(rows: pd.DataFrame, options: AnalysisOptions | None = None
                      ) -> SubtypeBenchmark:
    """Pool each regimen class once and compare this cohort with the rest.

    This cohort is compared only with a pool that does not contain it: its class pool when the
    options keep it out, else the pool of the other arms of its class (`cohort_reference`);
    when no other arm is left, no comparison is made and a note says why.
    """
    options = options or AnalysisOptions()
    labels = (dict(zip(rows["key"].astype(str), rows["label"].astype(str), strict=True))
              if "label" in rows else {})
    excluded, included = selected_arms(rows, options)
    subtype = str(included["subtype"].iloc[0])
    notes: list[str] = []
    if not ENDPOINTS[options.endpoint].is_proportion:
        raise BenchmarkError(f"the {ENDPOINTS[options.endpoint].name} is a time in months, not a "
                             "proportion: it is pooled by analysis.median_pfs (the benchmark "
                             "page and `benchmark --endpoint median_pfs`), not here")
    if options.endpoint != DEFAULT_ENDPOINT:
        if options.primary_only:  # the marks say where the response counts were read
            raise BenchmarkError("the primary-source sensitivity analysis is defined for the "
                                 "response counts only: use it with the objective response "
                                 "rate")
        included, endpoint_notes = endpoint_counts(included, options.endpoint)
        notes += endpoint_notes
        if included.empty:
            raise BenchmarkError(f"no {subtype} arm reports the "
                                 f"{ENDPOINTS[options.endpoint].name}: nothing to pool")
    # An arm (or this cohort) whose patients were all not evaluable is legal data: shown as
    # "0 evaluable" and left out of pooling and comparisons (a proportion needs n >= 1).
    usable = included[included["evaluable"].astype(int) > 0].reset_index(drop=True)
    for key, own, n in zip(included["key"], included["is_cohort"], included["evaluable"],
                           strict=True):
        if int(n) == 0:
            notes.append(f"{'This cohort' if own else labels.get(key, key)} has 0 evaluable "
                         f"{subtype} patients: left out of pooling"
                         + (" and comparisons." if own else "."))
    if usable.empty:
        raise BenchmarkError(f"no study arm has an evaluable {subtype} patient: nothing to pool")
    fit = pool_proportions(usable["responders"].astype(int).to_numpy(),
                           usable["evaluable"].astype(int).to_numpy(),
                           studies=list(usable["key"]), **options.pool_kwargs())
    pools = {c: pool for c in class_order(usable["regimen_class"])
             if (pool := pool_class(usable, c, options)) is not None}
    q, q_df, q_p, qnotes = _between_classes(pools.values(), options.method == "BAYES")
    notes += qnotes

    cohort_key, headline, per_arm, reference = _compare_cohort(
        usable, included, pools, options, subtype, notes)
    if "AI+ICI" in pools and "ICI" in pools:
        headline.append(compare_pools(pools["AI+ICI"], pools["ICI"], options))
    notes += [n for n in fit.notes if n not in notes and not _continuity_note(n)]
    small = [f"{p.regimen_class} (k = {p.k})" for p in pools.values()
             if p.k in (2, 3) and p.fit.tau2 is not None]
    if small:
        notes.append(f"{', '.join(small)}: with two or three arms τ² is barely estimable; "
                     "read these pooled intervals with caution.")
    return SubtypeBenchmark(subtype, options, usable, excluded, fit, pools, cohort_key,
                            tuple(headline), tuple(per_arm), q, q_df, q_p, tuple(notes),
                            labels, reference)


# --------------------------------------------------------------------------- across subtypes


@dataclass(frozen=True, eq=False)
class AcrossSubtypes:
    """Every subtype's benchmark under one set of options (the Across subtypes page)."""

    options: AnalysisOptions
    benchmarks: dict[str, SubtypeBenchmark]

    def pools_frame(self) -> pd.DataFrame:
        """One row per (subtype, class): the very `ClassPool`s the benchmark page shows."""
        out = [{"subtype": s} | p.to_dict() | {"label": p.label}
               for s, bm in self.benchmarks.items() for p in bm.class_pools.values()]
        return pd.DataFrame(out, columns=["subtype", "class", "k", "events", "n", "estimate",
                                          "low", "high", "tau2", "i2", "includes_cohort",
                                          "estimable", "label"])

    def differences_frame(self, a: str = "AI+ICI", b: str = "ICI") -> pd.DataFrame:
        """Per soft-tissue subtype, pooled `a` minus pooled `b` with its interval, test and k
        (bone sarcomas left out, as the borrowing model leaves them out of its units)."""
        out = []
        for s, bm in self.benchmarks.items():
            if not is_soft_tissue_subtype(s):
                continue
            hit = [c for c in bm.headline if c.a == a and c.b == b]
            if hit:
                c = hit[0]
                out.append({"subtype": s, "k_" + a: c.k_a, "k_" + b: c.k_b,
                            "n_" + a: c.n_a, "n_" + b: c.n_b, "estimate_" + a: c.a_estimate,
                            "estimate_" + b: c.b_estimate, "difference": c.difference,
                            "low": c.low, "high": c.high, "p": c.p,
                            "prob_positive": c.prob_positive, "evidence": c.evidence,
                            "test": c.test})
        return pd.DataFrame(out)


def across_subtypes(trials: pd.DataFrame, cohort: ThisCohort,
                    options: AnalysisOptions | None = None,
                    subtypes: Iterable[str] | None = None,
                    benchmark: Callable[[str], SubtypeBenchmark] | None = None,
                    labels: Mapping[str, str] | None = None,
                    ) -> AcrossSubtypes:
    """`benchmark_subtype` for every subtype in the catalog (aggregates left out).

    `benchmark(code)` may supply each subtype's fit (the app passes its cached one, so this
    page and the benchmark page share fits); by default it is fitted here, with `labels`
    naming the rows (`subtype_rows`).
    """
    options = options or AnalysisOptions()
    codes = sorted(set(trials["subtype"].astype(str)) - AGGREGATE_SUBTYPES) \
        if subtypes is None else list(subtypes)

    def fit(code: str) -> SubtypeBenchmark:
        return benchmark_subtype(subtype_rows(trials, cohort, code, options.include_overlapping,
                                              labels, options.endpoint), options)

    out: dict[str, SubtypeBenchmark] = {}
    for code in codes:
        try:
            out[code] = (benchmark or fit)(code)
        except BenchmarkError:
            continue  # no row, every arm left out, or none with evaluable patients
    return AcrossSubtypes(options, out)

