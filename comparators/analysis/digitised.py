"""A Kaplan-Meier curve as a digitiser would read it off a figure: the points clicked along
the steps, the numbers at risk printed under the axis and the total number of events. The
worked example of the Guyot reconstruction starts from this, so its answer is known."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from comparators.stats.survival import KMResult

#: Digitisers read times to two decimals and survival to three.
TIME_DIGITS, SURVIVAL_DIGITS = 2, 3


@dataclass(frozen=True)
class DigitisedCurve:
    """Input tables of `reconstruct_ipd`: curve (time, survival), risk (time, n_risk), events."""

    curve: pd.DataFrame
    risk: pd.DataFrame
    events: int


def digitise(km: KMResult, risk_times: Sequence[float]) -> DigitisedCurve:
    """The corners of every step of `km` (top and bottom of each drop), rounded as read, and
    its numbers at risk at `risk_times` while anyone is at risk before the last time."""
    points: list[tuple[float, float]] = []
    previous = 1.0
    for t, s, d in zip(km.timeline, km.survival, km.n_events, strict=True):
        if d > 0 and points:
            points.append((t, previous))  # the top of the drop
        points.append((t, s))
        previous = s
    curve = pd.DataFrame(points, columns=["time", "survival"]).round(
        {"time": TIME_DIGITS, "survival": SURVIVAL_DIGITS}).drop_duplicates(ignore_index=True)
    last = max(km.timeline)
    risk = pd.DataFrame({"time": list(risk_times), "n_risk": km.at_risk(risk_times)})
    risk = risk[(risk["n_risk"] > 0) & (risk["time"] < last)].reset_index(drop=True)
    return DigitisedCurve(curve, risk, km.events)
