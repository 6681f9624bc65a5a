"""Event-driven sizing for a randomised time-to-event comparison: exponential hazards from
medians, Schoenfeld's number of events (Biometrics 1983;39:499-503) and the number of patients
needed to observe them under uniform accrual.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import comparators.limits as limits
from comparators.stats.distributions import normal_quantile
from comparators.stats.phase2_design import DesignInputError, short_percent


def _check_positive(name: str, value: object, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignInputError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise DesignInputError(f"{name} must be {bound}, got {value!r}")
    return float(value)



def exponential_from_median(median: float) -> float:
    """Hazard rate of an exponential distribution with the given median: ln 2 / median."""
    hazard = math.log(2) / _check_positive("median", median)
    if not math.isfinite(hazard):  # a median so small that ln 2 / median overflows
        raise DesignInputError(f"median must be a usable time greater than 0, got {median!r}")
    return hazard


def implied_hazard_ratio(median_control: float, median_experimental: float) -> float:
    """Experimental-to-control hazard ratio under exponential survival:
    (ln2 / m_E) / (ln2 / m_C) = m_C / m_E. Below 1 means the experimental arm does better."""
    return exponential_from_median(median_experimental) / exponential_from_median(median_control)


def schoenfeld_events(
    hr: float, alpha: float = 0.05, power: float = 0.8, allocation: float = 0.5, sides: int = 2
) -> float:
    """Schoenfeld (1983) number of events for a log-rank / Cox test of hazard ratio ``hr``:

        D = (z_{1 - alpha/sides} + z_{power})^2 / (a (1 - a) (ln hr)^2)

    with ``a`` the proportion randomised to the experimental arm (1:1 -> a = 0.5, giving the
    familiar 4 (z + z)^2 / (ln hr)^2). Returned unrounded; round up for a protocol.
    """
    hr = _check_positive("hazard ratio", hr)
    if hr == 1:
        raise DesignInputError("the hazard ratio must differ from 1 to size a trial")
    if not 0 < alpha < 1:
        raise DesignInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0 < power < 1:
        raise DesignInputError(f"power must be between 0 and 1, got {power!r}")
    if not 0 < allocation < 1:
        raise DesignInputError(f"allocation must be between 0 and 1, got {allocation!r}")
    if sides not in (1, 2):
        raise DesignInputError(f"sides must be 1 or 2, got {sides!r}")
    z = normal_quantile(1 - alpha / sides) + normal_quantile(power)
    events = z * z / (allocation * (1 - allocation) * math.log(hr) ** 2)
    if not events <= limits.MAX_TRIAL_EVENTS:
        raise DesignInputError(
            f"detecting a hazard ratio of {hr!r} needs about {events:.3g} events, more than the "
            f"limit of {limits.MAX_TRIAL_EVENTS:,}: a hazard ratio this close to 1 cannot be "
            "detected by a trial")
    return events


def _one_minus_mean_decay(x: float) -> float:
    """1 - (1 - exp(-x)) / x for x > 0, without cancellation for small x (series below 0.01)."""
    if x < 1e-2:  # x/2 - x^2/6 + x^3/24 - x^4/120 + x^5/720: error below x^6/5040
        return x * (0.5 - x * (1 / 6 - x * (1 / 24 - x * (1 / 120 - x / 720))))
    return 1 + math.expm1(-x) / x


def event_probability(hazard: float, accrual_time: float, follow_up: float) -> float:
    """P(event observed by the final analysis) for exponential(hazard) survival, uniform accrual
    over [0, accrual_time] and ``follow_up`` further time after accrual closes:

        1 - [exp(-h f) - exp(-h (A + f))] / (h A)     (A > 0),   1 - exp(-h f)   (A = 0).

    Written as q(hA) + (1 - q(hA)) (1 - exp(-h f)) with q(x) = 1 - (1 - exp(-x)) / x, two
    terms that are never negative (expm1 and a series for small x), so short accrual and
    follow-up give the small probability they imply instead of cancelling to 0, a negative
    number or 1.
    """
    h = _check_positive("hazard", hazard)
    a = _check_positive("accrual_time", accrual_time, allow_zero=True)
    f = _check_positive("follow_up", follow_up, allow_zero=True)
    if a == 0 and f == 0:
        raise DesignInputError("accrual_time and follow_up cannot both be 0")
    after_close = -math.expm1(-h * f)  # P(event within f)
    if a == 0:
        return after_close
    q = _one_minus_mean_decay(h * a)
    return min(1.0, q + (1 - q) * after_close)


@dataclass(frozen=True)
class EventDrivenSize:
    """Patients needed to observe a target number of events (exponential survival, uniform
    accrual)."""

    events: int
    hazard_control: float
    hazard_experimental: float
    accrual_time: float
    follow_up: float
    allocation: float
    prob_event_control: float
    prob_event_experimental: float
    prob_event: float
    patients: int
    patients_control: int
    patients_experimental: int

    @property
    def hazard_ratio(self) -> float:
        return self.hazard_experimental / self.hazard_control

    def to_dict(self) -> dict[str, float | int]:
        d = asdict(self)
        d["hazard_ratio"] = self.hazard_ratio
        return d

    def sentence(self) -> str:
        return (
            f"To observe {self.events} events with uniform accrual over {self.accrual_time:g} "
            f"and {self.follow_up:g} further of follow-up (same time unit as the medians), enrol "
            f"{self.patients} patients ({self.patients_experimental} experimental, "
            f"{self.patients_control} control); the probability of an observed event is "
            f"{short_percent(self.prob_event_control)} on control and "
            f"{short_percent(self.prob_event_experimental)} on the experimental arm "
            f"(hazard ratio {self.hazard_ratio:.2f})."
        )


def patients_for_events(
    events: float,
    hazard_control: float,
    hazard_experimental: float,
    accrual_time: float,
    follow_up: float,
    allocation: float = 0.5,
) -> EventDrivenSize:
    """Total patients N such that the expected number of events N * P(event) reaches ``events``,
    with P(event) = (1 - a) P_C + a P_E from :func:`event_probability` (a = experimental share).
    ``events`` is rounded up; N is rounded up and split by ``allocation`` (arms rounded up)."""
    ev = _check_positive("events", events)
    if not 0 < allocation < 1:
        raise DesignInputError(f"allocation must be between 0 and 1, got {allocation!r}")
    d = math.ceil(ev - 1e-9)
    pc = event_probability(hazard_control, accrual_time, follow_up)
    pe = event_probability(hazard_experimental, accrual_time, follow_up)
    pbar = (1 - allocation) * pc + allocation * pe
    needed = d / pbar if pbar > 0 else math.inf
    if not needed <= limits.MAX_TRIAL_PATIENTS:
        raise DesignInputError(
            f"observing {d} events with accrual {accrual_time:g} and follow-up {follow_up:g} "
            f"needs about {needed:.3g} patients (the probability of an event is {pbar:.3g}), "
            f"more than the limit of {limits.MAX_TRIAL_PATIENTS:,}: lengthen the accrual or the "
            "follow-up")
    total = math.ceil(needed - 1e-9)
    n_e = math.ceil(total * allocation - 1e-9)
    n_c = math.ceil(total * (1 - allocation) - 1e-9)
    return EventDrivenSize(
        events=d,
        hazard_control=float(hazard_control),
        hazard_experimental=float(hazard_experimental),
        accrual_time=float(accrual_time),
        follow_up=float(follow_up),
        allocation=float(allocation),
        prob_event_control=pc,
        prob_event_experimental=pe,
        prob_event=pbar,
        patients=n_c + n_e,
        patients_control=n_c,
        patients_experimental=n_e,
    )
