"""What if this cohort's grade >= 3 treatment-related adverse event rate were another?

`hypothetical_toxicity` reads the rate a user sets (patients with an event of patients treated,
or a percentage of patients treated) through the one input boundary, each bound checked before
anything is computed. `compare_toxicity` sets it beside the class pools of a subtype's grade >= 3
TRAE benchmark (the very `ClassPool`s the Benchmark page shows for that endpoint: each arm's
safety is its all-subtype row's, analysis.endpoints) with the comparisons' one construction
(`analysis.benchmark.compare_cohort_with_pool`), never against a pool holding this cohort's own
observed rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from comparators.analysis.benchmark import (
    ClassPool,
    RateDifference,
    SubtypeBenchmark,
    compare_cohort_with_pool,
)
from comparators.analysis.endpoints import SAFETY_NOTE
from comparators.errors import InputError
from comparators.inputs import parse_count, parse_number, refuse
from comparators.limits import MAX_SCENARIO_PATIENTS
from comparators.stats.proportions import patients_from_rate, percent, proportion_ci
from comparators.vocab import ENDPOINTS

__all__ = ["TOXICITY_ENTRIES", "HypotheticalToxicity", "ToxicityComparison", "ToxicityInputError",
           "compare_toxicity", "hypothetical_toxicity"]

#: How a rate may be entered: code (what a link carries) -> what it means.
TOXICITY_ENTRIES = {"count": "patients with an event, of those treated",
                    "percent": "a percentage of those treated"}


class ToxicityInputError(InputError):
    """A hypothetical rate outside its bounds; the message names the value and the limit."""


@dataclass(frozen=True)
class HypotheticalToxicity:
    """x of n patients treated with a grade >= 3 TRAE; `percent` is the entry when the rate
    was given as a percentage (x is then that share of n, rounded half up to whole patients by
    the one rule that also counts a printed PFS rate's patients,
    stats.proportions.patients_from_rate)."""

    events: int
    patients: int
    percent: float | None = None

    @property
    def estimate(self) -> float:
        return self.events / self.patients

    def describe(self) -> str:
        """'15 of 30 patients treated', or '50% of 30 patients treated = 15 patients'."""
        if self.percent is None:
            return f"{self.events} of {self.patients} patients treated"
        return (f"{self.percent:g}% of {self.patients} patients treated = {self.events} "
                f"patient{'s' if self.events != 1 else ''}")


def hypothetical_toxicity(patients: object, events: object = None,
                          percent_treated: object = None) -> HypotheticalToxicity:
    """The rate a user set: `events` of `patients`, or `percent_treated` % of `patients`
    (exactly one of the two). Patients treated: 1 to MAX_SCENARIO_PATIENTS."""
    error = ToxicityInputError
    n = parse_count(patients, where="Patients treated", maximum=MAX_SCENARIO_PATIENTS,
                    error=error)
    assert n is not None
    if n == 0:
        refuse("must be at least 1 (a rate needs patients treated)", value=patients,
               rule="no patients", where="Patients treated", error=error)
    if (events is None) == (percent_treated is None):
        raise error("give the patients with a grade ≥ 3 TRAE or their percentage, not both "
                    "or neither")
    if events is not None:
        k = parse_count(events, where="Patients with a grade ≥ 3 TRAE", error=error,
                        maximum=MAX_SCENARIO_PATIENTS)
        assert k is not None
        if k > n:
            refuse(f"{k:,} is more than the {n:,} patients treated", value=events,
                   rule="events > patients", where="Patients with a grade ≥ 3 TRAE",
                   error=error)
        return HypotheticalToxicity(k, n)
    share = parse_number(percent_treated, where="Grade ≥ 3 TRAE (%)", error=error,
                         what="a percentage")
    assert share is not None
    if not 0 <= share <= 100:
        refuse(f"{share:g} is outside 0 to 100", value=percent_treated, rule="percent range",
               where="Grade ≥ 3 TRAE (%)", error=error)
    return HypotheticalToxicity(patients_from_rate(share, n, per=100), n, share)


@dataclass(frozen=True)
class ToxicityComparison:
    """The hypothetical rate beside each regimen class's pooled grade >= 3 TRAE rate."""

    subtype: str
    hypothetical: HypotheticalToxicity
    low: float  # the hypothetical rate's Wilson interval at the benchmark's level
    high: float
    level_text: str  # '95%'
    interval: str  # what the differences' intervals are: '95% CI' (or CrI, Bayesian model)
    observed: tuple[int, int] | None  # this cohort's reported counts, if any
    pools: tuple[ClassPool, ...]  # each compared pool, none holding this cohort
    differences: tuple[RateDifference, ...]  # hypothetical minus each pool, in that order
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per class pool: its pooled rate and the hypothetical rate minus it
        (fractions)."""
        return pd.DataFrame([
            {"pool": d.b_label, "class": p.regimen_class, "k": p.k, "events": p.events,
             "n": p.n, "pooled": p.estimate, "pooled_low": p.low, "pooled_high": p.high,
             "difference": d.difference, "low": d.low, "high": d.high, "p": d.p,
             "prob_positive": d.prob_positive, "evidence": d.evidence, "test": d.test}
            for p, d in zip(self.pools, self.differences, strict=True)],
            columns=["pool", "class", "k", "events", "n", "pooled", "pooled_low",
                     "pooled_high", "difference", "low", "high", "p", "prob_positive",
                     "evidence", "test"])

    def sentence(self) -> str:
        """The comparison in words, with every interval and test."""
        h = self.hypothetical
        head = (f"A hypothetical grade ≥ 3 TRAE rate of {h.describe()} is "
                f"{percent(h.estimate)} ({self.level_text} CI {percent(self.low)}–"
                f"{percent(self.high)}, Wilson)")
        if not self.differences:
            return head + "; no comparator class reports safety here."
        parts = [f"{100 * d.difference:+.1f} points from {d.b_label} ({percent(d.b_estimate)}; "
                 f"{self.interval} {100 * d.low:+.1f} to {100 * d.high:+.1f}, {d.evidence})"
                 for d in self.differences]
        return head + ": " + "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        h = self.hypothetical
        return {"subtype": self.subtype, "events": h.events, "patients": h.patients,
                "percent": h.percent, "estimate": h.estimate, "low": self.low,
                "high": self.high, "observed": None if self.observed is None else
                {"events": self.observed[0], "patients": self.observed[1]},
                "comparisons": self.to_frame().to_dict("records"), "notes": list(self.notes)}


def compare_toxicity(hypothetical: HypotheticalToxicity,
                     bm: SubtypeBenchmark) -> ToxicityComparison:
    """`hypothetical` against each class pool of `bm`, a grade >= 3 TRAE benchmark. A class
    pool that holds this cohort (the cohort inside its class pool) is replaced by the pool of
    the other arms of that class, as on the Benchmark page; with no other arm it is left out
    and a note says so."""
    if bm.options.endpoint != "grade3":  # a caller's bug: the pools must be safety pools
        raise ValueError(f"a {ENDPOINTS[bm.options.endpoint].name} benchmark has no safety "
                         "pools: fit it with endpoint='grade3'")
    h = hypothetical
    as_cohort = pd.Series({"responders": h.events, "evaluable": h.patients})
    pools, differences, notes = [], [], [SAFETY_NOTE]
    for name, pool in bm.class_pools.items():
        compared = bm.cohort_reference if pool.includes_cohort else pool
        if compared is None:
            notes.append(f"The {name} pool holds only this cohort's observed rate: there is no "
                         f"other {name} arm to compare the hypothetical rate with.")
            continue
        pools.append(compared)
        differences.append(compare_cohort_with_pool(as_cohort, compared, "Hypothetical rate",
                                                    bm.options))
    row = bm.cohort_row
    observed = None if row is None else (int(row["responders"]), int(row["evaluable"]))
    ci = proportion_ci(h.events, h.patients, "wilson", bm.options.level)
    return ToxicityComparison(bm.subtype, h, ci.low, ci.high, bm.options.level_text,
                              bm.options.interval_name, observed,
                              tuple(pools), tuple(differences), tuple(notes))
