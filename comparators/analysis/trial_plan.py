"""A randomised PFS comparison planned from reported medians: which catalog arms can be the
control, this cohort's own median, and the event-driven size of the trial.

The sizing (Schoenfeld events, patients for those events under exponential PFS and uniform
accrual) assumes the experimental arm does better; a pair of medians that implies the opposite
(hazard ratio at or above 1) is refused with the numbers that cause it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from comparators.evidence.cohort import ThisCohort
from comparators.evidence.scenario import AGGREGATE_SUBTYPES
from comparators.evidence.seed import SEED_STUDY
from comparators.stats.event_sizing import (
    EventDrivenSize,
    exponential_from_median,
    implied_hazard_ratio,
    patients_for_events,
    schoenfeld_events,
)
from comparators.stats.phase2_design import DesignInputError
from comparators.stats.proportions import percent

#: `pfs_median_months` is curated to two decimals (data/README.md): medians are shown so.
MEDIAN_DIGITS = 2
TIME_UNIT = "months"
#: The default control: the one randomised trial in the catalog with an STS-wide PFS median
#: for an angiogenesis inhibitor alone (ALTER0203, anlotinib vs placebo, phase 2b).
DEFAULT_CONTROL = ("ALTER0203", "STS")


def months(value: float) -> str:
    """A time in months at the precision the catalog records medians: '5.51 months'."""
    return f"{round(float(value), MEDIAN_DIGITS):g} {TIME_UNIT}"


@dataclass(frozen=True)
class ControlArm:
    """A catalog arm with a reported median PFS, offered as the control of a planned trial."""

    study: str
    arm: str
    subtype: str
    median: float

    @property
    def key(self) -> str:
        """How a link names the arm (stable: shared links carry it)."""
        return f"{self.study}|{self.arm}|{self.subtype}"

    @property
    def name(self) -> str:
        return f"{self.study} · {self.arm} · {self.subtype}"

    @property
    def label(self) -> str:
        return f"{self.name}: {months(self.median)}"

    @property
    def all_subtypes(self) -> bool:
        """The arm's median is for a mixed population (STS, SARCOMA), not one subtype."""
        return self.subtype in AGGREGATE_SUBTYPES


def control_arms(trials: pd.DataFrame) -> dict[str, ControlArm]:
    """Every comparator arm with a reported median PFS, by key, in catalog order."""
    rows = trials[trials["pfs_median_months"].notna() & (trials["study"] != SEED_STUDY)]
    arms = (ControlArm(str(r.study), str(r.arm), str(r.subtype), float(r.pfs_median_months))
            for r in rows.itertuples(index=False))
    return {arm.key: arm for arm in arms}


def default_control(arms: dict[str, ControlArm]) -> str | None:
    """The key of DEFAULT_CONTROL if the catalog has it, else the first arm's (None: none)."""
    study, subtype = DEFAULT_CONTROL
    chosen = (k for k, a in arms.items() if (a.study, a.subtype) == (study, subtype))
    return next(chosen, next(iter(arms), None))


def cohort_pfs_median(cohort: ThisCohort, trials: pd.DataFrame) -> float | None:
    """This cohort's all-subtypes median PFS in months. A scenario edited from the seed cohort
    keeps the seed's published median (its edits are response counts); an upload never
    borrows it."""
    candidates = [cohort.row("STS")]
    if cohort.replaces == SEED_STUDY:
        seed = trials[(trials["study"] == SEED_STUDY) & (trials["subtype"] == "STS")]
        candidates += [seed.iloc[0]] if not seed.empty else []
    for row in candidates:
        if row is not None and not pd.isna(row.get("pfs_median_months")):
            return float(row["pfs_median_months"])
    return None


@dataclass(frozen=True)
class PFSPlan:
    """A two-arm PFS trial sized from the control arm's and the experimental arm's medians."""

    control: ControlArm
    experimental_median: float
    hazard_ratio: float
    alpha: float
    power: float
    size: EventDrivenSize

    def sentence(self) -> str:
        s = self.size
        return (
            f"Under exponential PFS, a median of {months(self.experimental_median)} against "
            f"{months(self.control.median)} ({self.control.name}) implies a hazard ratio of "
            f"{self.hazard_ratio:.2f}; detecting it with two-sided alpha {self.alpha:g} and "
            f"{percent(self.power, 0)} power needs {s.events} events (Schoenfeld, Biometrics "
            f"1983;39:499-503). To observe them with uniform accrual over "
            f"{s.accrual_time:g} {TIME_UNIT} and {s.follow_up:g} {TIME_UNIT} of further "
            f"follow-up, enrol {s.patients} patients ({s.patients_experimental} experimental, "
            f"{s.patients_control} control); the probability of an observed event is "
            f"{percent(s.prob_event_control)} on control and "
            f"{percent(s.prob_event_experimental)} on the experimental arm."
        )


def plan_pfs_comparison(control: ControlArm, experimental_median: float, accrual: float,
                        follow_up: float, alpha: float = 0.05, power: float = 0.8) -> PFSPlan:
    """Size a 1:1 trial to show the experimental arm's longer median PFS against `control`.

    Refused (DesignInputError) when the experimental median is not longer than the control's:
    the hazard ratio would be 1 or more, and a trial sized for it would set out to show harm.
    """
    hr = implied_hazard_ratio(control.median, experimental_median)
    if not hr < 1 or math.isclose(hr, 1.0):
        raise DesignInputError(
            f"the experimental median ({months(experimental_median)}) is not longer than the "
            f"control's ({months(control.median)}, {control.name}), so the implied hazard "
            f"ratio is {hr:.2f}: the experimental arm would do no better. This sizing assumes "
            f"it does better; choose a control with a shorter median or an experimental "
            f"median above {months(control.median)}")
    events = schoenfeld_events(hr, alpha, power)
    size = patients_for_events(events, exponential_from_median(control.median),
                               exponential_from_median(experimental_median), accrual, follow_up)
    return PFSPlan(control, float(experimental_median), hr, float(alpha), float(power), size)
