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
  known to have no reported results. No funnel-plot test: with fewer than `FUNNEL_MIN_ARMS` arms
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
from comparators.vocab import DEFAULT_ENDPOINT, ENDPOINTS

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
    """One GRADE domain's rating of one pool: the levels it moves (0, -1, -2 or +1) and why."""

    domain: str
    change: int
    reason: str

    @property
    def rating(self) -> str:
        return (UP_RATINGS if self.domain == "large effect" else DOWN_RATINGS)[self.change]

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "rating": self.rating, "reason": self.reason}


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
                        f"judgement: {counts}; rated down from {_pct(ROB_SHARE)}, twice when "
                        "high risk alone reaches it)")


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
        parts.append(f"prediction interval {_pct(pi_low)}-{_pct(pi_high)}")
        if (threshold is not None and pi_low < threshold < pi_high
                and not low < threshold < high):
            change = min(change, -1)
            parts.append(f"which crosses the threshold {_pct(threshold)} that the confidence "
                         "interval does not")
    else:
        parts.append("no prediction interval")
    return DomainRating("inconsistency", change,
                        f"{', '.join(parts)} (rated down from I² {I2_SERIOUS:.0f}%, twice from "
                        f"{I2_VERY_SERIOUS:.0f}%)")


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
    said = "; ".join(concerns + checked)
    return DomainRating("indirectness", change,
                        f"{said} (a concern from {_pct(INDIRECT_SHARE)}; one concern rates "
                        "down once, two or more twice)")


def rate_imprecision(low: float, high: float, n: int,
                     threshold: float | None) -> DomainRating:
    """Patients against the optimal information size, interval width, threshold crossing."""
    short = n < OIS_PATIENTS
    wide = high - low > WIDE_INTERVAL
    crosses = threshold is not None and low < threshold < high
    change = max(-2, -int(short or wide) - int(crosses))
    parts = [f"{n} patients ({'fewer than' if short else 'at least'} {OIS_PATIENTS}, the size "
             f"for a ±{100 * OIS_HALF_WIDTH:.0f}-point interval)",
             f"interval {_pct(low)}-{_pct(high)}, {100 * (high - low):.0f} points wide "
             f"({'over' if wide else 'within'} {100 * WIDE_INTERVAL:.0f})"]
    if threshold is None:
        parts.append("no decision threshold set")
    else:
        parts.append(f"{'crosses' if crosses else 'does not cross'} the decision threshold "
                     f"{_pct(threshold)}")
    return DomainRating("imprecision", change, "; ".join(parts))


def rate_publication_bias(k: int, unreported: Sequence[str],
                          unlinked: Sequence[str] = ()) -> DomainRating:
    """Registered arms of this pool with no reported results; why no funnel test is made."""
    funnel = (f"no funnel-plot test: {k} arm{'s' if k != 1 else ''}, fewer than "
              f"{FUNNEL_MIN_ARMS}, too few for one" if k < FUNNEL_MIN_ARMS else
              f"no funnel-plot test: with {k} arms it could be run, but funnel plots mislead "
              "for proportions")
    if unreported:
        text = (f"registered arms with no reported results: {', '.join(unreported)}; {funnel}")
        return DomainRating("publication bias", -1, text)
    known = (f"the search log names {len(unlinked)} registered trial"
             f"{'s' if len(unlinked) != 1 else ''} or listing{'s' if len(unlinked) != 1 else ''}"
             f" with no results ({', '.join(unlinked)}), none linked to this subtype and class"
             if unlinked else "no registered arm without results is known")
    return DomainRating("publication bias", 0, f"{known}; {funnel}")


def rate_large_effect(low: float, threshold: float | None,
                      rated_down: bool = False) -> DomainRating:
    """Up one level when nothing was rated down and the whole interval is at least twice the
    decision threshold."""
    if threshold is None or threshold <= 0:
        return DomainRating("large effect", 0, "no decision threshold set: not assessed")
    bar = LARGE_EFFECT_RATIO * threshold
    if low >= bar and rated_down:
        return DomainRating("large effect", 0, f"lower bound {_pct(low)} is at least "
                                               f"{LARGE_EFFECT_RATIO:g} × the threshold "
                                               f"({_pct(bar)}), but evidence rated down on "
                                               "another domain is not rated up")
    if low >= bar:
        return DomainRating("large effect", 1, f"the interval's lower bound {_pct(low)} is at "
                                               f"least {LARGE_EFFECT_RATIO:g} × the threshold "
                                               f"({_pct(bar)})")
    return DomainRating("large effect", 0, f"lower bound {_pct(low)} below "
                                           f"{LARGE_EFFECT_RATIO:g} × the threshold ({_pct(bar)})")


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
                    unreported: Sequence[str] = (), unlinked: Sequence[str] = ()
                    ) -> ClassCertainty:
    """Rate one class pool on every domain."""
    arms = pool_arms(pool, rows)
    f = pool.fit
    down = (
        rate_risk_of_bias(arms, overall),
        rate_inconsistency(pool.k, f.i2, pool.low, pool.high, f.pi_low, f.pi_high, threshold),
        rate_indirectness(arms, question, subtype_terms, "ICI" in pool.regimen_class),
        rate_imprecision(pool.low, pool.high, pool.n, threshold),
        rate_publication_bias(pool.k, unreported, unlinked),
    )
    rated_down = any(d.change < 0 for d in down)
    domains = (*down, rate_large_effect(pool.low, threshold, rated_down))
    return ClassCertainty(pool.regimen_class, pool.estimate, pool.low, pool.high, pool.k,
                          pool.n, pool.events, domains)


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
                     unreported: Mapping[str, Sequence[str]] | None = None,
                     unlinked: Sequence[str] = ()) -> SubtypeCertainty:
    """GRADE certainty of every class pool of one benchmark.

    `unreported` maps a regimen class to the registered arms of this subtype known to have no
    results; `unlinked` names registered records without results that the search log links to
    no subtype or class (reported, not counted).
    """
    if threshold is not None and not 0 <= threshold <= 1:
        raise ValueError(f"decision threshold {threshold!r} is not a proportion in [0, 1]")
    overall = rob.overall_by_study()
    outcomes = tuple(
        class_certainty(pool, bm.rows, overall, question, subtype_terms, threshold,
                        (unreported or {}).get(c, ()), unlinked)
        for c, pool in bm.class_pools.items())
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


def registered_without_results(log: SearchLog) -> list[str]:
    """Records the search log left out at screening because no results were reported (trial
    registrations, listings, trial-in-progress abstracts). The log links none of them to a
    subtype or class."""
    return [r.record for r in log.records
            if r.stage == "excluded at screening" and r.reason == "no results reported"]


def certainty_of(bm: SubtypeBenchmark, catalog: Catalog, cohort: ThisCohort,
                 threshold: float | None = None, rob: RiskOfBias | None = None,
                 log: SearchLog | None = None) -> SubtypeCertainty:
    """`assess_certainty` with the catalog's risk of bias, search log and subtype names, and
    this cohort as the question (what the CLI, the pages and the summary call)."""
    rob = rob if rob is not None else load_risk_of_bias(catalog=catalog)
    log = log if log is not None else load_search_log(catalog=catalog)
    return assess_certainty(bm, rob, question_of(cohort.rows, bm.subtype),
                            subtype_terms(catalog, bm.subtype), threshold,
                            unlinked=registered_without_results(log))


@lru_cache(maxsize=1)
def _shipped() -> tuple[Catalog, RiskOfBias, SearchLog]:
    """The shipped catalog's tables, read once (shared read-only)."""
    catalog = load_catalog()
    return catalog, load_risk_of_bias(catalog=catalog), load_search_log(catalog=catalog)


def shipped_risk_of_bias() -> RiskOfBias:
    """The shipped catalog's risk-of-bias judgements (read once)."""
    return _shipped()[1]


def shipped_certainty(bm: SubtypeBenchmark, cohort: ThisCohort,
                      threshold: float | None = None) -> SubtypeCertainty:
    """`certainty_of` against the shipped catalog's risk of bias and search log (arms a user
    added have no judgement and count as unclear)."""
    catalog, rob, log = _shipped()
    return certainty_of(bm, catalog, cohort, threshold, rob, log)


# --------------------------------------------------------------------------- summary of findings


@dataclass(frozen=True)
class SummaryOfFindings:
    """A GRADE summary-of-findings table: one row per class pool, a footnote per rating."""

    table: pd.DataFrame
    footnotes: tuple[str, ...]
    caption: str


SOF_DOMAINS: tuple[str, ...] = DOMAINS


def summary_of_findings(sc: SubtypeCertainty) -> SummaryOfFindings:
    """Rows: class, ORR, interval, arms, patients, each domain's rating with its footnote
    number, certainty. Every rating has a footnote giving its reason."""
    rows, notes = [], []
    what = ENDPOINTS[sc.endpoint]
    for o in sc.outcomes:
        row: dict[str, Any] = {"Regimen class": o.regimen_class,
                               what.short: f"{100 * o.estimate:.1f}%",
                               sc.interval_name: f"{100 * o.low:.1f}–{100 * o.high:.1f}%",
                               "Arms": o.k, "Patients": o.n}
        for d in o.domains:
            notes.append(f"{sc.subtype} {o.regimen_class}, {d.domain} ({d.rating}): {d.reason}.")
            row[d.domain.capitalize()] = f"{d.rating} ({len(notes)})"
        row["Certainty"] = f"{SYMBOLS[o.certainty]} {o.certainty}"
        rows.append(row)
    # the answer first (estimate, interval, certainty), then what it rests on: a narrow
    # window shows the answer without scrolling
    columns = ["Regimen class", what.short, sc.interval_name, "Certainty", "Arms", "Patients",
               *[d.capitalize() for d in SOF_DOMAINS]]
    caption = (f"Summary of findings, {sc.subtype}: pooled {what.name} by regimen "
               f"class. GRADE certainty starts at {START} (non-randomised, single-arm evidence) "
               "and moves by the rules in the footnotes."
               + (f" Decision threshold: {what.short} {100 * sc.threshold:g}%."
                  if sc.threshold is not None
                  else " No decision threshold set.")
               + "".join(f" {note}" for note in sc.notes))
    return SummaryOfFindings(pd.DataFrame(rows, columns=columns), tuple(notes), caption)
