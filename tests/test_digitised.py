"""The worked example's 'digitised' curve: the corners of every Kaplan-Meier step, as a person
clicking along a published figure would read them, with the numbers at risk under the axis.

Expected values worked by hand from four patients (times 1, 2, 3+, 4; + censored):
S = 1, 0.75 at 1, 0.5 at 2, 0.5 at 3 (a censoring, no drop) and 0 at 4; at risk 4 at time 0
and 3 at time 2; 3 events.
"""

from __future__ import annotations

import pandas as pd

from comparators.analysis.digitised import digitise
from comparators.stats.survival import km_by_group

FOUR = pd.DataFrame({"time": [1.0, 2.0, 3.0, 4.0], "event": [1, 1, 0, 1]})


def test_every_drop_is_read_at_its_top_and_its_bottom() -> None:
    km = km_by_group(FOUR, "time", "event").groups[0]
    got = digitise(km, [0.0, 2.0, 4.0])
    assert list(got.curve.itertuples(index=False, name=None)) == [
        (0.0, 1.0), (1.0, 1.0), (1.0, 0.75), (2.0, 0.75), (2.0, 0.5), (3.0, 0.5), (4.0, 0.5),
        (4.0, 0.0)]
    # at risk at 4 is left out: no one is at risk after the last time on the axis
    assert got.risk.to_dict("list") == {"time": [0.0, 2.0], "n_risk": [4, 3]}
    assert got.events == 3


def test_points_are_rounded_as_a_digitiser_reads_them() -> None:
    km = km_by_group(pd.DataFrame({"time": [1 / 3, 2 / 3, 1.0], "event": [1, 1, 1]}),
                     "time", "event").groups[0]
    curve = digitise(km, [0.0]).curve
    assert list(curve["time"]) == [0.0, 0.33, 0.33, 0.67, 0.67, 1.0, 1.0]
    assert list(curve["survival"]) == [1.0, 1.0, 0.667, 0.667, 0.333, 0.333, 0.0]
