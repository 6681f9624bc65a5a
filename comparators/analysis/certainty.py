"""Certainty of the evidence (GRADE) for each regimen class's pooled ORR in one subtype.

Starting level. Every pool here is made of single-arm response rates: arms of uncontrolled phase
1-2 trials, arms of non-comparative randomised trials and retrospective series. For the question
"what ORR does this class give in this subtype" none of them is a randomised comparison, so the
body of evidence starts at **low**, the level GRADE gives non-randomised evidence (Balshem H, et
al. GRADE guidelines: 3. Rating the quality of evidence. J Clin Epidemiol 2011;64:401-406;
GRADE Handbook, section 5.2). It is rated down for risk of bias, inconsistency, indirectness,
imprecision and publication bias, and up for a large effect, by the explicit rules below; each
rule reads the fitted result objects (`analysis.benchmark.ClassPool`, its `PooledProportion` and
the catalog rows that went into it), never the options that were requested.

Rules (GRADE guidelines 4-9, J Clin Epidemiol 2011;64:407-415, 1277-1316):

- Risk of bias (guideline 4): the share of the pool's weight from studies whose MINORS overall
  judgement (`evidence.risk_of_bias`) is high or unclear. Serious from `ROB_SHARE`; very serious
  when the share from high-risk studies alone reaches it. "Some concerns" does not rate down on
  its own: the starting level already reflects a non-randomised design.
- Inconsistency (guideline 7): I² of the class pool (serious from `I2_SERIOUS`, very serious from
  `I2_VERY_SERIOUS`); serious too when the prediction interval crosses the decision threshold
  while the confidence interval does not (arms disagree about which side of it the ORR lies).
  One arm: not assessable, not rated down (imprecision carries it).
- Indirectness (guideline 8), against the question "this cohort's population and drugs": a
  concern when at least `INDIRECT_SHARE` of the weight comes from arms whose coded line of
  therapy differs from this cohort's, whose checkpoint target differs from this cohort's
  (classes with a checkpoint inhibitor), or whose reported population (`subtype_as_reported`)
  names none of the subtype's names. One concern: serious; two or more: very serious.
- Imprecision (guideline 6): serious when the patients fall short of `OIS_PATIENTS` (the size
  giving a ±`OIS_HALF_WIDTH` interval at an ORR of 50%) or the interval is wider than
  `WIDE_INTERVAL`; one level more when the interval crosses the decision threshold the user set.
- Publication bias (guideline 5): serious when registered arms of this class and subtype are
  known to have no reported results: records of the search log excluded at screening with "no
  results reported", matched by their `registered_class` and `registered_subtypes`; a
  registration for all soft-tissue sarcoma counts toward every soft-tissue subtype, one for all
  sarcomas toward every subtype. No funnel-plot test: with fewer than `FUNNEL_MIN_ARMS` arms
  such tests have too little power (Sterne JAC, et al. BMJ 2011;343:d4002), and for proportions
  funnel plots mislead even with more (Hunter JP, et al. J Clin Epidemiol 2014;67:897-903).
- Large effect (guideline 9): up one level when nothing was rated down and the whole interval
  lies at or above `LARGE_EFFECT_RATIO` times the decision threshold (the analogue of a relative
  risk above 2 against the threshold's rate).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd
from scipy import stats

from comparators.analysis.benchmark import ClassPool, SubtypeBenchmark
from comparators.evidence.catalog import Catalog, load_catalog
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.risk_of_bias import RiskOfBias, load_risk_of_bias
from comparators.evidence.search_log import SearchLog, load_search_log
from comparators.stats.phase2_design import short_percent
from comparators.vocab import (
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    is_soft_tissue_subtype,
)

#: GRADE's four levels, lowest first.
LEVELS: tuple[str, ...] = ("very low", "low", "moderate", "high")
#: Where non-randomised (single-arm) evidence starts.
START = "low"
DOMAINS: tuple[str, ...] = ("risk of bias", "inconsistency", "indirectness", "imprecision",
                            "publication bias", "large effect")
DOWN_RATINGS: dict[int, str] = {0: "not serious", -1: "serious", -2: "very serious"}
UP_RATINGS: dict[int, str] = {0: "none", 1: "large"}
#: GRADE's symbols for each level (⊕ filled, ◯ empty), as GRADEpro prints them.
SYMBOLS: dict[str, str] = {lv: "⊕" * (i + 1) + "◯" * (3 - i) for i, lv in enumerate(LEVELS)}

ROB_SHARE = 0.5
I2_SERIOUS = 50.0
I2_VERY_SERIOUS = 75.0
INDIRECT_SHARE = 0.5
OIS_HALF_WIDTH = 0.10
#: Patients for a ±10-point Wald 95% interval at an ORR of 50%: ceil(1.96² · 0.25 / 0.1²) = 97.
OIS_PATIENTS = math.ceil(float(stats.norm.ppf(0.975)) ** 2 * 0.25 / OIS_HALF_WIDTH ** 2)
WIDE_INTERVAL = 0.30
FUNNEL_MIN_ARMS = 10
LARGE_EFFECT_RATIO = 2.0


def _pct(x: float) -> str:
    return short_percent(x, digits=0)


@dataclass(frozen=True)
class DomainRating:
    """One GRADE domain's rating of one pool: the levels it moves (0, -1, -2 or +1) and why.

    `finding` is what this pool shows; `rules` are the clauses every pool rated by the rule
    shares (its thresholds, facts of the whole search), so a table can footnote them once."""

    domain: str
    change: int
    finding: str
    rules: tuple[str, ...] = ()
    #: the search-log ids of the records the reason names by their report (for machines: the
    #: JSON carries them; a reader reads the report's own name)
    records: tuple[str, ...] = ()

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(c for c in (self.finding, *self.rules) if c)

    @property
    def reason(self) -> str:
        return "; ".join(self.clauses)

    @property
    def rating(self) -> str:
        return (UP_RATINGS if self.domain == "large effect" else DOWN_RATINGS)[self.change]

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "rating": self.rating, "reason": self.reason,
                "records": list(self.records)}


@dataclass(frozen=True)
class Question:
    """What the evidence should be direct about: this cohort's line of therapy and checkpoint
    target (None when the cohort does not say)."""

    line: str | None = None
    ici_target: str | None = None
    label: str = "this cohort"


@dataclass(frozen=True)
class ArmWeight:
    """One arm of a pool with what the rules read: its weight share and catalog fields."""

    key: str
    study: str
    n: int
    share: float  # of the pool's weight, in [0, 1]
    line: str | None = None
    ici_target: str | None = None
    reported_as: str | None = None


@dataclass(frozen=True)
class ClassCertainty:
    """The GRADE certainty of one class's pooled ORR in one subtype."""

    regimen_class: str
    estimate: float
    low: float
    high: float
    k: int
    n: int
    events: int
    domains: tuple[DomainRating, ...]
    start: str = START
    #: False for a class whose arms all had 0% (or all 100%): summed counts, exact interval
    estimable: bool = True

    @property
    def certainty(self) -> str:
        index = LEVELS.index(self.start) + sum(d.change for d in self.domains)
        return LEVELS[max(0, min(len(LEVELS) - 1, index))]

    def domain(self, name: str) -> DomainRating:
        return next(d for d in self.domains if d.domain == name)

    def to_dict(self) -> dict[str, Any]:
        return {"class": self.regimen_class, "estimate": self.estimate, "low": self.low,
                "high": self.high, "k": int(self.k), "n": int(self.n),
                "certainty": self.certainty, "domains": [d.to_dict() for d in self.domains]}


@dataclass(frozen=True)
class SubtypeCertainty:
    """Every class pool's certainty in one subtype, with the threshold the ratings used."""

    subtype: str
    outcomes: tuple[ClassCertainty, ...]
    interval_name: str
    threshold: float | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    #: what was pooled (vocab.ENDPOINTS code): names the table's estimate and caption
    endpoint: str = DEFAULT_ENDPOINT

    def to_dict(self) -> dict[str, Any]:
        """The `certainty --json` contract (design.md), plus the threshold and start level."""
        return {"subtype": self.subtype, "start": START, "threshold": self.threshold,
                "outcomes": [o.to_dict() for o in self.outcomes], "notes": list(self.notes)}


# --------------------------------------------------------------------------- the rules


def rate_risk_of_bias(arms: Sequence[ArmWeight], overall: Mapping[str, str]) -> DomainRating:
    """Weight share from studies judged high or unclear overall (a study with no judgement,
    e.g. an arm a user added, counts as unclear)."""
    judged = [(a, overall.get(a.study, "unclear")) for a in arms]
    high = sum(a.share for a, j in judged if j == "high")
    doubtful = sum(a.share for a, j in judged if j in ("high", "unclear"))
    counts = ", ".join(f"{sum(j == lv for _, j in judged)} {lv}"
                       for lv in ("low", "some concerns", "high", "unclear"))
    change = -2 if high >= ROB_SHARE else -1 if doubtful >= ROB_SHARE else 0
    return DomainRating("risk of bias", change,
                        f"{_pct(doubtful)} of the weight from arms of studies at high or "
                        f"unclear risk of bias overall (arms by their study's MINORS "
                        f"judgement: {counts})",
                        (f"rated down when {_pct(ROB_SHARE)} of a pool's weight comes from "
                         "studies at high or unclear risk, twice when high risk alone reaches "
                         "it",))


def rate_inconsistency(k: int, i2: float | None, low: float, high: float,
                       pi_low: float | None, pi_high: float | None,
                       threshold: float | None) -> DomainRating:
    """I² and whether the prediction interval, but not the confidence interval, crosses the
    decision threshold."""
    if k < 2:
        return DomainRating("inconsistency", 0, "one arm: consistency cannot be assessed "
                                                "(not rated down; imprecision carries it)")
    parts = [f"I² {i2:.0f}%" if i2 is not None else "the model defines no I²"]
    change = 0
    if i2 is not None and i2 >= I2_VERY_SERIOUS:
        change = -2
    elif i2 is not None and i2 >= I2_SERIOUS:
        change = -1
    if pi_low is not None and pi_high is not None:
        parts.append(f"prediction interval {_pct(pi_low)}–{_pct(pi_high)}")
        if (threshold is not None and pi_low < threshold < pi_high
                and not low < threshold < high):
            change = min(change, -1)
            parts.append(f"which crosses the threshold {_pct(threshold)} that the confidence "
                         "interval does not")
    else:
        parts.append("no prediction interval")
    return DomainRating("inconsistency", change, ", ".join(parts),
                        (f"rated down from I² {I2_SERIOUS:.0f}%, twice from "
                         f"{I2_VERY_SERIOUS:.0f}%, and when the prediction interval crosses "
                         "the decision threshold that the confidence interval does not",))


def rate_indirectness(arms: Sequence[ArmWeight], question: Question,
                      subtype_terms: Sequence[str], has_checkpoint: bool) -> DomainRating:
    """Weight share of arms whose line, checkpoint target or reported population differs from
    the question's."""
    concerns: list[str] = []
    checked: list[str] = []

    def share(differs: Any) -> float:
        return sum(a.share for a in arms if differs(a))

    if question.line:
        s = share(lambda a: a.line is not None and a.line != question.line)
        unknown = share(lambda a: a.line is None)
        text = (f"{_pct(s)} of the weight from arms of another line than {question.label}'s "
                f"({question.line}); {_pct(unknown)} line not reported")
        (concerns if s >= INDIRECT_SHARE else checked).append(text)
    if question.ici_target and has_checkpoint:
        s = share(lambda a: a.ici_target is not None and a.ici_target != question.ici_target)
        text = f"{_pct(s)} with another checkpoint target than {question.ici_target}"
        (concerns if s >= INDIRECT_SHARE else checked).append(text)
    terms = [t.lower() for t in subtype_terms if t]
    if terms:
        s = share(lambda a: a.reported_as is not None
                  and not any(t in a.reported_as.lower() for t in terms))
        text = f"{_pct(s)} whose reported population names none of the subtype's names"
        (concerns if s >= INDIRECT_SHARE else checked).append(text)
    change = -2 if len(concerns) >= 2 else -1 if concerns else 0
    if not concerns and not checked:
        return DomainRating("indirectness", 0, "nothing to compare: the cohort gives no line "
                                               "or target and the subtype no names")
    return DomainRating("indirectness", change, "; ".join(concerns + checked),
                        (f"a concern when {_pct(INDIRECT_SHARE)} of a pool's weight differs "
                         "from the question; one concern rates down once, two or more twice",))


def rate_imprecision(low: float, high: float, n: int,
                     threshold: float | None) -> DomainRating:
    """Patients against the optimal information size, interval width, threshold crossing."""
    short = n < OIS_PATIENTS
    wide = high - low > WIDE_INTERVAL
    crosses = threshold is not None and low < threshold < high
    change = max(-2, -int(short or wide) - int(crosses))
    parts = [f"{n} patients ({'fewer than' if short else 'at least'} {OIS_PATIENTS})",
             f"interval {_pct(low)}–{_pct(high)}, {100 * (high - low):.0f} points wide "
             f"({'over' if wide else 'within'} {100 * WIDE_INTERVAL:.0f})"]
    if threshold is None:
        parts.append("no decision threshold set")
    else:
        parts.append(f"{'crosses' if crosses else 'does not cross'} the decision threshold "
                     f"{_pct(threshold)}")
    return DomainRating("imprecision", change, "; ".join(parts),
                        (f"rated down below {OIS_PATIENTS} patients (the size for a "
                         f"±{100 * OIS_HALF_WIDTH:.0f}-point interval at a rate of 50%) or for "
                         f"an interval wider than {100 * WIDE_INTERVAL:.0f} points, once more "
                         "when the interval crosses the decision threshold",))


def rate_publication_bias(k: int, unreported: Sequence[str],
                          unlinked: Sequence[str] = (), registered: int = 0,
                          records: Sequence[str] = ()) -> DomainRating:
    """Registered arms of this pool's class and subtype with no reported results (`unreported`,
    as `registrations_without_results` words them); why no funnel test is made. `unlinked`
    names the registrations without results that the search log links to no class or subtype,
    `registered` counts every registration without results it holds; `records` are the
    search-log ids of those named."""
    funnel = (f"no funnel-plot test below {FUNNEL_MIN_ARMS} arms: too few for one"
              if k < FUNNEL_MIN_ARMS else
              f"no funnel-plot test: with {FUNNEL_MIN_ARMS} or more arms it could be run, but "
              "funnel plots mislead for proportions")
    rules = [funnel]
    if unlinked:
        rules.append(f"the search log links {len(unlinked)} registered trial"
                     f"{'s' if len(unlinked) != 1 else ''} or listing"
                     f"{'s' if len(unlinked) != 1 else ''} with no results to no class or "
                     f"subtype, not counted: {'; '.join(unlinked)}")
    if unreported:
        return DomainRating("publication bias", -1, "registered arms of this class and subtype "
                                                    "with no reported results (search log "
                                                    f"records): {'; '.join(unreported)}",
                            tuple(rules), tuple(records))
    known = ("no registered arm of this class and subtype is known to lack results"
             + (f" (the search log holds {registered} registration"
                f"{'s' if registered != 1 else ''} without results, of other classes or "
                "subtypes)" if registered else ""))
    return DomainRating("publication bias", 0, "", (known, *rules), tuple(records))


def rate_large_effect(low: float, threshold: float | None,
                      rated_down: bool = False) -> DomainRating:
    """Up one level when nothing was rated down and the whole interval is at least twice the
    decision threshold."""
    if threshold is None or threshold <= 0:
        return DomainRating("large effect", 0, "no decision threshold set: not assessed")
    bar = LARGE_EFFECT_RATIO * threshold
    rule = (f"rated up one level when nothing was rated down and the interval's lower bound "
            f"is at least {LARGE_EFFECT_RATIO:g} × the threshold ({_pct(bar)})",)
    if low >= bar and rated_down:
        return DomainRating("large effect", 0, f"lower bound {_pct(low)} reaches it, but "
                                               "evidence rated down on another domain is not "
                                               "rated up", rule)
    if low >= bar:
        return DomainRating("large effect", 1, f"the interval's lower bound {_pct(low)} "
                                               "reaches it", rule)
    return DomainRating("large effect", 0, f"lower bound {_pct(low)} below it", rule)


# --------------------------------------------------------------------------- one pool, one subtype


def pool_arms(pool: ClassPool, rows: pd.DataFrame) -> list[ArmWeight]:
    """The pool's arms with their share of its weight (the fit's weights, in percent) and the
    catalog fields the rules read."""
    # only the columns the rules read: a wide rows frame made this the page's dearest step
    fields = ("study", "line_coded", "ici_target", "subtype_as_reported")
    by_key = {str(k): dict(zip(fields, values, strict=True)) for k, *values in
              zip(rows["key"], *(rows[f].tolist() if f in rows else [None] * len(rows)
                                 for f in fields), strict=True)}
    total = sum(max(s.weight, 0.0) for s in pool.fit.studies if math.isfinite(s.weight))
    out = []
    for s in pool.fit.studies:
        rec = by_key.get(str(s.study), {})
        weight = s.weight if math.isfinite(s.weight) and total > 0 else float(s.n)
        denominator = total if total > 0 else sum(x.n for x in pool.fit.studies)
        out.append(ArmWeight(str(s.study), str(rec.get("study") or s.study), int(s.n),
                             max(weight, 0.0) / denominator, _text(rec.get("line_coded")),
                             _text(rec.get("ici_target")), _text(rec.get("subtype_as_reported"))))
    return out


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def class_certainty(pool: ClassPool, rows: pd.DataFrame, overall: Mapping[str, str],
                    question: Question, subtype_terms: Sequence[str],
                    threshold: float | None = None,
                    registrations: Registrations | None = None) -> ClassCertainty:
    """Rate one class pool on every domain (`registrations`: the search log's registered
    trials without results, for this pool's subtype; none when not given)."""
    reg = registrations or Registrations({}, (), 0)
    cls = pool.regimen_class
    arms = pool_arms(pool, rows)
    f = pool.fit
    down = (
        rate_risk_of_bias(arms, overall),
        rate_inconsistency(pool.k, f.i2, pool.low, pool.high, f.pi_low, f.pi_high, threshold),
        rate_indirectness(arms, question, subtype_terms, "ICI" in pool.regimen_class),
        rate_imprecision(pool.low, pool.high, pool.n, threshold),
        rate_publication_bias(pool.k, reg.by_class.get(cls, ()), reg.unlinked, reg.total,
                              (*reg.records_by_class.get(cls, ()), *reg.unlinked_records)),
    )
    rated_down = any(d.change < 0 for d in down)
    domains = (*down, rate_large_effect(pool.low, threshold, rated_down))
    return ClassCertainty(pool.regimen_class, pool.estimate, pool.low, pool.high, pool.k,
                          pool.n, pool.events, domains, estimable=pool.estimable)


def question_of(cohort_rows: pd.DataFrame, subtype: str, label: str = "this cohort"
                ) -> Question:
    """The cohort's coded line and checkpoint target, from its row of this subtype (else its
    first row)."""
    if cohort_rows.empty:
        return Question(label=label)
    own = cohort_rows[cohort_rows["subtype"].astype(str) == subtype]
    rec = (own if not own.empty else cohort_rows).iloc[0]
    return Question(_text(rec.get("line_coded")), _text(rec.get("ici_target")), label)


def assess_certainty(bm: SubtypeBenchmark, rob: RiskOfBias, question: Question,
                     subtype_terms: Sequence[str] = (), threshold: float | None = None,
                     registrations: Registrations | None = None) -> SubtypeCertainty:
    """GRADE certainty of every class pool of one benchmark.

    `registrations` (`registrations_without_results`) names, per regimen class, the registered
    arms of this subtype known to have no results, and the registered records without results
    that the search log links to no subtype or class (reported, not counted).
    """
    if threshold is not None and not 0 <= threshold <= 1:
        raise ValueError(f"decision threshold {threshold!r} is not a proportion in [0, 1]")
    overall = rob.overall_by_study()
    outcomes = tuple(
        class_certainty(pool, bm.rows, overall, question, subtype_terms, threshold,
                        registrations)
        for pool in bm.class_pools.values())
    notes = []
    if bm.options.method == "BAYES":
        notes.append("Bayesian model: intervals are credible intervals; the rules read them as "
                     "they read confidence intervals.")
    return SubtypeCertainty(bm.subtype, outcomes, bm.options.interval_name, threshold,
                            tuple(notes), bm.options.endpoint)


def subtype_terms(catalog: Catalog, subtype: str) -> list[str]:
    """The subtype's code, name and synonyms (subtypes.csv): what a reported population
    should name."""
    hit = catalog.subtypes[catalog.subtypes["code"].astype(str) == subtype]
    if hit.empty:
        return [subtype]
    rec = hit.iloc[0]
    synonyms = [] if _text(rec.get("synonyms")) is None else str(rec["synonyms"]).split(";")
    return [subtype, str(rec["name"]), *(s.strip() for s in synonyms if s.strip())]


@dataclass(frozen=True)
class Registrations:
    """What the search log says of registered trials without results, for one subtype."""

    #: regimen class -> the registered arms of that class covering the subtype, as the
    #: publication-bias reason names them: by the record's report, as a reader knows it
    by_class: Mapping[str, tuple[str, ...]]
    #: records without results that the log links to no class or no subtype (their reports)
    unlinked: tuple[str, ...]
    #: every record without results in the log
    total: int
    #: regimen class -> the search-log ids of the records `by_class` names (JSON carries them)
    records_by_class: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: the search-log ids of the `unlinked` records
    unlinked_records: tuple[str, ...] = ()


#: A registration for a whole aggregate counts toward the subtypes it covers, and says so.
_COVERS = {"STS": "registered for all soft-tissue sarcoma: a whole-STS registration counts "
                  "toward every soft-tissue subtype",
           "SARCOMA": "registered for all sarcomas: such a registration counts toward every "
                      "subtype"}


def registrations_without_results(log: SearchLog, subtype: str) -> Registrations:
    """The records the search log left out at screening because no results were reported
    (trial registrations, listings, trial-in-progress abstracts), matched to `subtype` through
    their `registered_class` and `registered_subtypes`: a registration for this subtype, for
    all soft-tissue sarcoma (when `subtype` is a soft-tissue subtype) or for all sarcomas."""
    soft_tissue = is_soft_tissue_subtype(subtype)
    covering = {"SARCOMA"} | ({"STS"} if soft_tissue else set())
    records = [r for r in log.records if r.without_results]
    by_class: dict[str, tuple[str, ...]] = {}
    ids: dict[str, tuple[str, ...]] = {}
    for cls in dict.fromkeys(c for r in records for c in r.registered_classes):
        of_class = [r for r in records if cls in r.registered_classes]
        own = [r for r in of_class if subtype in r.registered_subtypes]
        named, found = [r.report for r in own], [r.record for r in own]
        for aggregate in sorted(covering - {subtype}):
            via = [r for r in of_class if aggregate in r.registered_subtypes
                   and subtype not in r.registered_subtypes]
            if via:  # a report's name may hold commas: the names are joined by 'and'
                named.append(f"{' and '.join(r.report for r in via)} ({_COVERS[aggregate]})")
                found += [r.record for r in via]
        if named:
            by_class[cls], ids[cls] = tuple(named), tuple(found)
    unlinked = [r for r in records if not (r.registered_classes and r.registered_subtypes)]
    return Registrations(by_class, tuple(r.report for r in unlinked), len(records), ids,
                         tuple(r.record for r in unlinked))


def certainty_of(bm: SubtypeBenchmark, catalog: Catalog, cohort: ThisCohort,
                 threshold: float | None = None, rob: RiskOfBias | None = None,
                 log: SearchLog | None = None) -> SubtypeCertainty:
    """`assess_certainty` with the catalog's risk of bias, search log and subtype names, and
    this cohort as the question (what the CLI, the pages and the summary call)."""
    rob = rob if rob is not None else load_risk_of_bias(catalog=catalog)
    log = log if log is not None else load_search_log(catalog=catalog)
    registrations = registrations_without_results(log, bm.subtype)
    return assess_certainty(bm, rob, question_of(cohort.rows, bm.subtype),
                            subtype_terms(catalog, bm.subtype), threshold, registrations)


@lru_cache(maxsize=1)
def _shipped() -> tuple[Catalog, RiskOfBias, SearchLog]:
    """The shipped catalog's tables, read once (shared read-only)."""
    catalog = load_catalog()
    return catalog, load_risk_of_bias(catalog=catalog), load_search_log(catalog=catalog)


def shipped_risk_of_bias() -> RiskOfBias:
    """The shipped catalog's risk-of-bias judgements (read once)."""
    return _shipped()[1]


def shipped_search_log() -> SearchLog:
    """The shipped catalog's search log (read once)."""
    return _shipped()[2]


def shipped_certainty(bm: SubtypeBenchmark, cohort: ThisCohort,
                      threshold: float | None = None) -> SubtypeCertainty:
    """`certainty_of` against the shipped catalog's risk of bias and search log (arms a user
    added have no judgement and count as unclear)."""
    catalog, rob, log = _shipped()
    return certainty_of(bm, catalog, cohort, threshold, rob, log)


# --------------------------------------------------------------------------- summary of findings


def footnote_letter(index: int) -> str:
    """a, b, ..., z, aa, ab, ... for footnotes 0, 1, ..."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


@dataclass(frozen=True)
class SummaryOfFindings:
    """A GRADE summary-of-findings table: one row per class pool, every rating referring by
    letter to the footnotes giving its reasons; a footnote several ratings share is given once."""

    table: pd.DataFrame
    footnotes: tuple[str, ...]  # footnotes[i] is lettered footnote_letter(i)
    caption: str

    @property
    def lettered(self) -> tuple[str, ...]:
        """'a. Risk of bias: ...', the footnotes as a reader finds them under the table."""
        return tuple(f"{footnote_letter(i)}. {note}" for i, note in enumerate(self.footnotes))


SOF_DOMAINS: tuple[str, ...] = DOMAINS
#: The column that gives a pool's size: patients, with the arms pooled in brackets.
SOF_SIZE = "Patients (arms)"


def summary_of_findings(sc: SubtypeCertainty) -> SummaryOfFindings:
    """Rows: class, estimate with its interval, patients (arms), certainty, then each domain's
    rating with the letters of its footnotes. Every clause of every reason is a footnote and
    identical clauses are one footnote; a clause every row of a domain shares (its rule's
    thresholds, a fact of the whole search) is referred to once, from the column's header."""
    notes: dict[str, str] = {}  # footnote text -> its letter, in reading order

    def letters(domain: str, clauses: Sequence[str]) -> str:
        return ", ".join(notes.setdefault(f"{domain.capitalize()}: {c}.",
                                          footnote_letter(len(notes))) for c in clauses)

    what = ENDPOINTS[sc.endpoint]
    estimate = f"{what.short} ({sc.interval_name})"
    shared = {d: [c for c in sc.outcomes[0].domain(d).clauses
                  if all(c in o.domain(d).clauses for o in sc.outcomes[1:])]
              if len(sc.outcomes) > 1 else [] for d in SOF_DOMAINS}
    header = {d: d.capitalize() + (f" ({letters(d, shared[d])})" if shared[d] else "")
              for d in SOF_DOMAINS}
    rows: list[dict[str, Any]] = []
    for o in sc.outcomes:
        row: dict[str, Any] = {
            "Regimen class": o.regimen_class,
            estimate: f"{100 * o.estimate:.1f}% ({100 * o.low:.1f}–{100 * o.high:.1f}%"
                      + ("" if o.estimable else ", exact") + ")",
            SOF_SIZE: f"{o.n} ({o.k})",
            "Certainty": f"{SYMBOLS[o.certainty]} {o.certainty}"}
        for d in o.domains:
            own = letters(d.domain, [c for c in d.clauses if c not in shared[d.domain]])
            row[header[d.domain]] = f"{d.rating} ({own})" if own else d.rating
        rows.append(row)
    columns = ["Regimen class", estimate, SOF_SIZE, "Certainty",
               *[header[d] for d in SOF_DOMAINS]]
    caption = (f"Summary of findings, {sc.subtype}: pooled {what.name} by regimen "
               f"class. GRADE certainty starts at {START} (non-randomised, single-arm evidence) "
               "and moves by the rules in the footnotes. Letters name the footnotes: after a "
               "domain, those of every row; after a rating, that pool's."
               + ("" if all(o.estimable for o in sc.outcomes) else
                  " 'exact': the summed counts of a class whose arms all had 0% or all 100%, "
                  "with an exact interval (not estimable by pooling).")
               + (f" Decision threshold: {what.short} {100 * sc.threshold:g}%."
                  if sc.threshold is not None
                  else " No decision threshold set.")
               + "".join(f" {note}" for note in sc.notes))
    return SummaryOfFindings(pd.DataFrame(rows, columns=columns), tuple(notes), caption)
