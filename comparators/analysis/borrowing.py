"""Borrowing strength across subtypes: one regimen class, subtypes as the units of a hierarchy.

For a regimen class (e.g. AI+ICI), every soft-tissue subtype with evidence in that class is one
unit (bone sarcomas and aggregate rows are no unit of a soft-tissue question); its data are the
responders and evaluable patients summed over the class's arms in that subtype, chosen exactly as
the benchmark page chooses them (``benchmark.comparator_rows``: the seed's own rows left out,
overlapping cohorts left out, and this cohort counted only when the options put it inside its
class pool, as on every other page). The units enter the binomial-normal
hierarchical model of ``stats.bayes_pooling`` (exact binomial likelihood, logit scale), so a
subtype with 2 patients is pulled towards the class mean and one with 74 barely moves.

EXNEX (Neuenschwander et al., Pharm Stat 2016;15:123-134) lets an outlying subtype escape the
pull: each unit is exchangeable with prior probability ``p_exchangeable``, otherwise it keeps its
own weakly informative prior; the posterior probability of exchangeability is reported.

Summing arms within a subtype ignores between-arm heterogeneity inside that subtype (the
benchmark page models it); here the question is between subtypes.

Any proportion endpoint whose counts are a subtype's own patients can be borrowed across
subtypes (`BORROWING_ENDPOINTS`: response, disease control, progression-free at 3 or 6 months,
each counted as analysis.endpoints counts it). Safety (grade >= 3 TRAE) cannot: it is reported
per arm for all its subtypes, so one arm's patients would enter several units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from comparators.analysis.benchmark import comparator_rows
from comparators.analysis.endpoints import endpoint_counts
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.labels import row_keys
from comparators.limits import MAX_BORROWING_SUBTYPES
from comparators.stats.bayes import BetaPrior
from comparators.stats.bayes_pooling import (
    BayesPosterior,
    BayesPrior,
    fit_bayes,
    predictive_beta_prior,
)
from comparators.vocab import (
    AGGREGATE_SUBTYPES,
    BONE_SUBTYPES,
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    REGIMEN_CLASSES,
)

#: Weakly informative defaults on the logit scale (documented on the page with every result).
MU_PRIOR_SD = 2.0  # normal(0, 2): 95 % of prior mass for the class mean between 2 % and 98 %
NEX_SD = 2.0  # non-exchangeable units: normal(0, 2), about one patient's information at 50 %
#: The endpoints whose counts are a subtype's own patients (the module's docstring says why
#: safety is not one).
BORROWING_ENDPOINTS = ("orr", "dcr", "pfs3", "pfs6")


class BorrowingError(InputError):
    """A class with too few subtypes, or options the model cannot use."""


def subtype_units(trials: pd.DataFrame, cohort: ThisCohort, regimen_class: str,
                  include_cohort: bool = False, endpoint: str = DEFAULT_ENDPOINT
                  ) -> pd.DataFrame:
    """One row per soft-tissue subtype with evidence for `regimen_class` on `endpoint`: arms,
    the endpoint's numerator (`responders`) and denominator (`evaluable`) summed over them, and
    whether this cohort is counted (only with `include_cohort`)."""
    return _units(trials, cohort, regimen_class, include_cohort, endpoint)[0]


def _units(trials: pd.DataFrame, cohort: ThisCohort, regimen_class: str, include_cohort: bool,
           endpoint: str) -> tuple[pd.DataFrame, list[str]]:
    """`subtype_units` and the notes on how the endpoint was counted."""
    if endpoint not in BORROWING_ENDPOINTS:
        raise BorrowingError(
            f"borrowing across subtypes is defined for {', '.join(BORROWING_ENDPOINTS)}, not "
            f"{endpoint!r}" + (": safety is reported per arm for all its subtypes, so one "
                               "arm's patients would count in several subtypes"
                               if endpoint == "grade3" else ""))
    # Every subtype's rows at once, as subtype_rows would give them one subtype at a time.
    own = cohort.rows if include_cohort else cohort.rows.iloc[0:0]
    rows = pd.concat([f for f in (own.assign(is_cohort=True),
                                  comparator_rows(trials, cohort).assign(is_cohort=False))
                      if not f.empty], ignore_index=True)
    members = rows[(rows["regimen_class"].astype(str) == regimen_class)
                   & ~rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES | BONE_SUBTYPES)]
    notes: list[str] = []
    if endpoint != DEFAULT_ENDPOINT:
        counted, notes = endpoint_counts(members.assign(key=row_keys(members)), endpoint)
        left_out = len(members) - len(counted)
        notes = [n for n in notes if not n.startswith("Not reported")]
        if left_out:
            arms = "arm does" if left_out == 1 else "arms do"
            notes.insert(0, f"{left_out} {regimen_class} {arms} not report the "
                            f"{ENDPOINTS[endpoint].name}: left out.")
        members = counted
    members = members[members["evaluable"].astype(int) > 0]
    out = [{"subtype": str(subtype), "arms": int(len(group)),
            "responders": int(group["responders"].astype(int).sum()),
            "evaluable": int(group["evaluable"].astype(int).sum()),
            "includes_cohort": bool(group["is_cohort"].any())}
           for subtype, group in sorted(members.groupby(members["subtype"].astype(str)))]
    return pd.DataFrame(out, columns=["subtype", "arms", "responders", "evaluable",
                                      "includes_cohort"]), notes


@dataclass(frozen=True)
class Borrowing:
    """Shrunken rate of the endpoint per subtype for one regimen class (fractions; intervals
    are central)."""

    regimen_class: str
    units: pd.DataFrame
    posterior: BayesPosterior
    exnex: bool
    level: float
    endpoint: str = DEFAULT_ENDPOINT
    notes: tuple[str, ...] = ()  # how the endpoint was counted, arms that do not report it

    @property
    def prior(self) -> str:
        return self.posterior.prior_text

    def to_frame(self) -> pd.DataFrame:
        """subtype, arms, responders, evaluable, observed, shrunk, low, high (+ p_exchangeable)."""
        frame = self.units.copy()
        frame["observed"] = frame["responders"] / frame["evaluable"]
        frame["shrunk"] = [s.median for s in self.posterior.studies]
        frame["low"] = [s.low for s in self.posterior.studies]
        frame["high"] = [s.high for s in self.posterior.studies]
        if self.exnex:
            frame["p_exchangeable"] = [s.p_exchangeable for s in self.posterior.studies]
        return frame

    def to_dict(self) -> dict[str, Any]:
        return {"regimen_class": self.regimen_class, "endpoint": self.endpoint,
                "exnex": self.exnex, "level": self.level,
                "prior": self.prior, "class_mean": self.posterior.estimate,
                "class_low": self.posterior.low, "class_high": self.posterior.high,
                "new_subtype_low": self.posterior.pi_low,
                "new_subtype_high": self.posterior.pi_high,
                "tau_median": self.posterior.tau_median,
                "units": self.to_frame().to_dict(orient="records")}

    def methods_text(self) -> str:
        p = self.posterior
        lev = f"{100 * self.level:g}%"
        e = ENDPOINTS[self.endpoint]
        text = (f"{e.name[:1].upper()}{e.name[1:]}s ({e.numerator} among {e.denominator}) of "
                f"{self.regimen_class} arms were summed within each of {p.k} subtypes and "
                "analysed with a binomial-normal hierarchical model with the subtypes as units "
                "(exact binomial likelihood on the logit scale; "
                f"{self.prior}), computed by numerical integration. Shrunken estimates are "
                f"posterior medians with central {lev} credible intervals. Bone sarcomas and "
                f"aggregate rows are not units; this cohort is "
                f"{'counted among' if self.units['includes_cohort'].any() else 'not one of'} "
                f"the {self.regimen_class} arms.")
        if self.exnex:
            text += (" Under EXNEX (Neuenschwander et al. 2016) each subtype is exchangeable "
                     "with the others only with the stated prior probability; the table gives "
                     "its posterior probability.")
        return text


def borrow_across_subtypes(
    trials: pd.DataFrame,
    cohort: ThisCohort,
    regimen_class: str = "AI+ICI",
    tau_prior: str = "half-normal",
    tau_scale: float = 1.0,
    exnex: bool = False,
    p_exchangeable: float = 0.5,
    level: float = 0.95,
    include_cohort: bool = False,
    endpoint: str = DEFAULT_ENDPOINT,
) -> Borrowing:
    """Fit the subtype-level hierarchical model (optionally EXNEX) for one regimen class and
    one of `BORROWING_ENDPOINTS`; this cohort is one of the class's arms only with
    `include_cohort` (the sidebar's "this cohort inside its class pool", as for the class
    pools)."""
    known = set(REGIMEN_CLASSES) | set(trials["regimen_class"].astype(str))
    if regimen_class not in known:
        raise BorrowingError(f"unknown regimen class {regimen_class!r}; choose one of "
                             f"{', '.join(REGIMEN_CLASSES)}")
    if exnex and not (isinstance(p_exchangeable, int | float) and math.isfinite(p_exchangeable)
                      and 0.05 <= p_exchangeable <= 0.95):
        raise BorrowingError("prior probability of exchangeability must be between 0.05 and "
                             f"0.95, got {p_exchangeable!r}")
    units, notes = _units(trials, cohort, regimen_class, include_cohort, endpoint)
    if len(units) < 2:
        raise BorrowingError(f"{regimen_class}: {ENDPOINTS[endpoint].short} evidence in "
                             f"{len(units)} subtype(s); borrowing needs at least 2")
    if len(units) > MAX_BORROWING_SUBTYPES:
        raise BorrowingError(f"at most {MAX_BORROWING_SUBTYPES} subtypes in one model "
                             "(limits.MAX_BORROWING_SUBTYPES)")
    prior = BayesPrior(tau_prior, tau_scale, 0.0, MU_PRIOR_SD)
    post = fit_bayes(units["responders"].to_numpy(), units["evaluable"].to_numpy(),
                      list(units["subtype"]), "logit", "binomial", prior, level,
                      p_exchangeable=p_exchangeable if exnex else 1.0, nex_mean=0.0,
                      nex_sd=NEX_SD)
    return Borrowing(regimen_class, units.reset_index(drop=True), post, bool(exnex), level,
                     endpoint, tuple(notes))


@dataclass(frozen=True)
class PredictivePrior:
    """A Beta prior for a new arm, moment-matched to a Bayesian pool's predictive distribution."""

    prior: BetaPrior
    posterior: BayesPosterior
    regimen_class: str
    k: int
    patients: int

    def describe(self) -> str:
        p = self.posterior
        return (f"{self.regimen_class}: predictive distribution of a new arm from a Bayesian "
                f"random-effects pool of {self.k} arms ({self.patients} patients; binomial "
                f"likelihood; {p.prior_text}), moment-matched to Beta({self.prior.a:.2f}, "
                f"{self.prior.b:.2f}), effective sample size {self.prior.effective_n:.1f}")


def class_predictive_prior(rows: pd.DataFrame, regimen_class: str,
                           tau_scale: float = 1.0) -> PredictivePrior:
    """The prior a Bayesian single-arm design can take from one class's comparator arms.

    `rows` are a benchmark's included rows (``SubtypeBenchmark.rows``); this cohort's own row
    is left out, as for the pooled comparator classes.
    """
    members = rows[(rows["regimen_class"] == regimen_class) & ~rows["is_cohort"]
                   & (rows["evaluable"].astype(int) > 0)]
    if members.empty:
        raise BorrowingError(f"no {regimen_class} comparator arm to build a prior from")
    x = members["responders"].astype(int).to_numpy()
    n = members["evaluable"].astype(int).to_numpy()
    post = fit_bayes(x, n, list(members["key"]), "logit", "binomial",
                      BayesPrior("half-normal", tau_scale, 0.0, MU_PRIOR_SD))
    return PredictivePrior(predictive_beta_prior(post), post, regimen_class, int(x.size),
                           int(n.sum()))
