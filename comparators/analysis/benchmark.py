"""Benchmark one subtype: this cohort beside every comparator that reported it.

Pipeline (metafor-style): `subtype_rows` picks the rows -> `benchmark_subtype` pools them by
regimen class -> a `SubtypeBenchmark` carries the fit, the comparisons of this cohort with each
comparator and each pooled class, and the methods paragraph. Pages, summaries and the planning
tools all read the same object, so every number on screen has one source.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
from scipy.stats import fisher_exact

from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.stats.pooling import PooledProportion, pool_proportions
from comparators.stats.proportions import CI_METHODS, ProportionCI, proportion_ci
from comparators.vocab import MEASURE_NAMES, METHOD_NAMES, REGIMEN_CLASSES

CLASS_ORDER = REGIMEN_CLASSES


class BenchmarkError(InputError):
    """No rows to benchmark, or options that cannot be combined."""


def row_key(study: str, arm: str) -> str:
    """The label a row carries through pooling, the forest plot and the tables."""
    return f"{study} · {arm}"


def subtype_rows(
    trials: pd.DataFrame, cohort: ThisCohort, subtype: str, include_overlapping: bool = False
) -> pd.DataFrame:
    """Catalog rows for `subtype` with this cohort's row in place of the seed's own.

    Rows that re-count another study's patients (`overlaps_with`) are left out unless asked for.
    """
    comparators = trials[(trials["subtype"] == subtype)
                         & ~trials["study"].isin({cohort.study, cohort.replaces})]
    if not include_overlapping and "overlaps_with" in comparators:
        comparators = comparators[comparators["overlaps_with"].fillna("") == ""]
    own = cohort.rows[cohort.rows["subtype"] == subtype]
    parts = [f for f in (own.assign(is_cohort=True), comparators.assign(is_cohort=False))
             if not f.empty]  # concat of an empty frame is deprecated behaviour in pandas
    rows = pd.concat(parts, ignore_index=True) if parts else own.assign(is_cohort=True)
    rows["key"] = [row_key(s, a) for s, a in zip(rows["study"], rows["arm"], strict=True)]
    rows["regimen_class"] = rows["regimen_class"].astype(str)
    return rows


@dataclass(frozen=True)
class Comparison:
    """This cohort minus one comparator (a trial arm or a pooled class), in proportions."""

    comparator: str
    kind: str  # "trial" | "pooled class"
    cohort_estimate: float
    comparator_estimate: float
    difference: float
    low: float
    high: float
    fisher_p: float | None
    note: str = ""


def newcombe_difference(
    a: ProportionCI, b: ProportionCI
) -> tuple[float, float, float]:
    """Difference a - b with Newcombe's hybrid score interval (Stat Med 1998;17:873, method 10).

    Given Wilson limits for each proportion this is the square-and-add (MOVER) interval; fed the
    pooled class's CI it extends the same construction to a pooled estimate (Zou & Donner 2008).
    """
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return d, max(-1.0, low), min(1.0, high)


@dataclass(frozen=True)
class SubtypeBenchmark:
    """Everything the benchmark page, the summaries and the planner show for one subtype."""

    subtype: str
    rows: pd.DataFrame  # included rows, with key, is_cohort, regimen_class
    excluded: tuple[str, ...]
    fit: PooledProportion
    class_fits: dict[str, PooledProportion]  # comparators only (this cohort left out)
    cohort_key: str | None
    comparisons: tuple[Comparison, ...]
    ci_method: str
    level: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cohort_row(self) -> pd.Series | None:
        hits = self.rows[self.rows["is_cohort"]]
        return None if hits.empty else hits.iloc[0]

    def comparisons_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.__dict__ for c in self.comparisons])

    def class_table(self) -> pd.DataFrame:
        """Pooled ORR per regimen class (comparators only) and overall (all included rows)."""
        out = [
            {"class": name, "k": fit.k, "patients": int(self.rows.loc[
                (self.rows["regimen_class"] == name) & ~self.rows["is_cohort"], "evaluable"].sum()),
             "estimate": fit.estimate, "low": fit.low, "high": fit.high, "tau2": fit.tau2,
             "i2": fit.i2}
            for name, fit in self.class_fits.items()
        ]
        out.append({"class": "All included rows", "k": self.fit.k,
                    "patients": int(self.rows["evaluable"].sum()),
                    "estimate": self.fit.estimate, "low": self.fit.low, "high": self.fit.high,
                    "tau2": self.fit.tau2, "i2": self.fit.i2})
        return pd.DataFrame(out)

    def methods_paragraph(self) -> str:
        fit = self.fit
        level = f"{100 * self.level:g}%"
        parts = [
            f"Objective response rates (complete plus partial responses among response-evaluable "
            f"patients) in {self.subtype} were pooled across {fit.k} "
            f"{'study arm' if fit.k == 1 else 'study arms'} as {MEASURE_NAMES[fit.measure]} "
            f"with {METHOD_NAMES[fit.method]}.",
        ]
        if fit.method != "FE":
            parts.append(
                f"{level} confidence intervals for pooled estimates use "
                + ("the Hartung-Knapp-Sidik-Jonkman adjustment (t distribution, k - 1 degrees "
                   "of freedom)" if fit.hksj else "the normal (Wald) approximation")
                + "; the prediction interval describes the ORR expected in a new study."
            )
        if fit.corrected:
            parts.append(f"A continuity correction of 0.5 was added only to the studies with 0% "
                         f"or 100% responders ({', '.join(fit.corrected)}).")
        else:
            parts.append("No continuity correction was applied.")
        parts.append(
            "Heterogeneity is reported as Cochran's Q, I² (with a Q-profile confidence interval) "
            "and τ²; pooled estimates by regimen class (AI+ICI, ICI, ICI+ICI, AI) were compared "
            "with a between-subgroup Q test."
        )
        parts.append(
            f"Study-level intervals are {CI_METHODS[self.ci_method]} intervals. Differences "
            "between this cohort and each comparator are given with Newcombe's hybrid score "
            "interval and Fisher's exact test; differences from a pooled class use the same "
            "square-and-add construction with the pooled interval."
        )
        parts.append("Computed with the comparators package, validated against metafor's "
                     "documented outputs.")
        return " ".join(parts)


def benchmark_subtype(
    rows: pd.DataFrame,
    measure: str = "logit",
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    ci_method: str = "wilson",
    exclude: Iterable[str] = (),
) -> SubtypeBenchmark:
    """Pool the included rows by regimen class and compare this cohort with the rest."""
    excluded = tuple(k for k in rows["key"] if k in set(exclude))
    included = rows[~rows["key"].isin(excluded)].reset_index(drop=True)
    if included.empty:
        raise BenchmarkError("no study arms left to pool: include at least one")
    subtype = str(included["subtype"].iloc[0])
    # A cohort whose patients in this subtype were all not evaluable is legal data: it is
    # shown as "0 evaluable" and left out of pooling and comparisons (a proportion needs n >= 1).
    evaluable = included["evaluable"].astype(int) > 0
    unevaluable = included[~evaluable]
    included = included[evaluable].reset_index(drop=True)
    if included.empty:
        raise BenchmarkError(f"no study arm has an evaluable {subtype} patient: nothing to pool")

    def pool(frame: pd.DataFrame, groups: bool) -> PooledProportion:
        return pool_proportions(
            frame["responders"].astype(int).to_numpy(), frame["evaluable"].astype(int).to_numpy(),
            studies=list(frame["key"]), measure=measure, method=method, hksj=hksj, level=level,
            groups=list(frame["regimen_class"]) if groups else None, study_ci=ci_method,
        )

    fit = pool(included, groups=included["regimen_class"].nunique() > 1)
    comparators = included[~included["is_cohort"]]
    present = [c for c in CLASS_ORDER if c in set(comparators["regimen_class"])]
    present += sorted(set(comparators["regimen_class"]) - set(present))
    class_fits = {c: pool(comparators[comparators["regimen_class"] == c], groups=False)
                  for c in present}

    cohort = included[included["is_cohort"]]
    comparisons: list[Comparison] = []
    cohort_key = None
    if not cohort.empty:
        c = cohort.iloc[0]
        cohort_key = str(c["key"])
        k1, n1 = int(c["responders"]), int(c["evaluable"])
        own = proportion_ci(k1, n1, "wilson", level)
        for r in comparators.itertuples(index=False):
            k2, n2 = int(r.responders), int(r.evaluable)
            d, lo, hi = newcombe_difference(own, proportion_ci(k2, n2, "wilson", level))
            p = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
            comparisons.append(Comparison(r.key, "trial", own.estimate, k2 / n2, d, lo, hi, p))
        for name, cf in class_fits.items():
            if cf.k < 2:
                continue  # a single trial is already compared above
            pooled = ProportionCI(cf.estimate, cf.low, cf.high, "pooled", level)
            d, lo, hi = newcombe_difference(own, pooled)
            members = comparators[comparators["regimen_class"] == name]
            k2, n2 = int(members["responders"].sum()), int(members["evaluable"].sum())
            p = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
            comparisons.append(Comparison(
                f"{name} pooled (k = {cf.k})", "pooled class", own.estimate, cf.estimate, d, lo,
                hi, p, note="Fisher p on summed counts (ignores between-trial heterogeneity)",
            ))
    notes = list(fit.notes)
    for r in unevaluable.itertuples(index=False):
        who = "This cohort" if bool(r.is_cohort) else str(r.key)
        notes.append(f"{who} has 0 evaluable {subtype} patients: left out of pooling"
                     + (" and comparisons." if bool(r.is_cohort) else "."))
    if cohort.empty and not bool(unevaluable["is_cohort"].any()):
        notes.append(f"This cohort has no {subtype} row (or it was excluded): nothing to "
                     "compare with.")
    return SubtypeBenchmark(subtype, included, excluded, fit, class_fits, cohort_key,
                            tuple(comparisons), ci_method, level, tuple(notes))


def pooled_by_class(
    trials: pd.DataFrame,
    cohort: ThisCohort,
    measure: str = "logit",
    method: str = "REML",
    hksj: bool = False,
    level: float = 0.95,
    classes: Iterable[str] = CLASS_ORDER,
    aggregates: Iterable[str] = ("STS", "SARCOMA"),
) -> pd.DataFrame:
    """Pooled ORR per (subtype, regimen class) across every subtype in the catalog.

    This cohort counts as AI+ICI evidence here (it is one). One row per pair with at least one
    arm; `k` and `patients` say how much evidence stands behind each estimate.
    """
    out = []
    skip = set(aggregates)
    for subtype in sorted(set(trials["subtype"]) - skip):
        rows = subtype_rows(trials, cohort, subtype)
        for name in classes:
            members = rows[(rows["regimen_class"] == name)
                           & (rows["evaluable"].astype(int) > 0)]  # 0 evaluable: not poolable
            if members.empty:
                continue
            fit = pool_proportions(
                members["responders"].astype(int).to_numpy(),
                members["evaluable"].astype(int).to_numpy(), studies=list(members["key"]),
                measure=measure, method=method, hksj=hksj, level=level,
            )
            out.append({"subtype": subtype, "class": name, "k": fit.k,
                        "patients": int(members["evaluable"].sum()),
                        "responders": int(members["responders"].sum()),
                        "estimate": fit.estimate, "low": fit.low, "high": fit.high,
                        "includes_cohort": bool(members["is_cohort"].any())})
    return pd.DataFrame(out)
