"""Median PFS pooling (stats.medians): worked examples from the methods' definitions, the
refusal rules and the choice of method. R is compared on generated and catalog data in
tests/oracle/test_medians_oracle.py (rma for inverse variance; quantile, Hmisc::wtd.quantile
and the sign test for the median of medians)."""

from __future__ import annotations

import json
import math

import pytest

from comparators.errors import InputError
from comparators.stats.medians import (
    MedianPoolingInputError,
    median_of_medians,
    pool_medians,
    pool_medians_iv,
)

Z975 = 1.959963984540054

# The input of metamedian's documented pool.med example (its help page: "Storing data
# (study-specific difference of medians)"); the help page prints no output, so the expected
# values are worked out by hand from the method's definition below.
POOL_MED_EXAMPLE = [5.23, 3.10, 0.50, 0.78, 3.48, 0.59, 2.20, 5.06, 4.00]


def test_median_of_medians_on_the_pool_med_example_by_hand() -> None:
    # sorted: 0.50 0.59 0.78 2.20 3.10 3.48 4.00 5.06 5.23; median 3.10.
    # Normal approximation: half-width p = z / (2 sqrt(9)) = 0.326661; R's type-7 quantile at
    # 0.5 - p: h = 8 x 0.173339 = 1.386714 -> 0.59 + 0.386714 x (0.78 - 0.59);
    # at 0.5 + p: h = 6.613286 -> 4.00 + 0.613286 x (5.06 - 4.00).
    res = median_of_medians(POOL_MED_EXAMPLE)
    p = Z975 / 6
    assert res.method == "mm" and res.estimate == 3.10
    assert res.low == pytest.approx(0.59 + (8 * (0.5 - p) - 1) * 0.19, abs=1e-12)
    assert res.high == pytest.approx(4.00 + (8 * (0.5 + p) - 6) * 1.06, abs=1e-12)
    assert (round(res.low, 4), round(res.high, 4)) == (0.6635, 4.6501)
    assert res.coverage == 0.95 and res.norm_approx


def test_exact_sign_test_interval_by_hand() -> None:
    # k = 9: P(Bin(9, 1/2) <= 1) = 10/512, so T = 1 gives coverage 1 - 20/512 = 0.9609 (T = 2
    # gives 0.8203 < 0.95): the interval is [Y_(2), Y_(8)] = [0.59, 5.06].
    # (metamedian 1.2.1's code takes Y_(k - T - 1) = Y_(7) = 4.00 as the upper limit.)
    res = median_of_medians(POOL_MED_EXAMPLE, norm_approx=False)
    assert (res.low, res.estimate, res.high) == (0.59, 3.10, 5.06)
    assert res.coverage == pytest.approx(1 - 20 / 512)
    with pytest.raises(MedianPoolingInputError, match="too few for an exact 95% sign-test"):
        median_of_medians([3.0, 4.0, 5.0, 6.0, 7.0], norm_approx=False)  # best: 1 - 2/32


def test_weighted_median_of_medians_by_hand() -> None:
    # Hmisc's weighted median with weights 1, 1, 2 (total 4): position 1 + 3 x 0.5 = 2.5, the
    # values at cumulative weights 2 and 3 are 2 and 3 -> 2.5.
    res = median_of_medians([1.0, 2.0, 3.0], weights=[1, 1, 2])
    assert res.method == "wm" and res.estimate == 2.5
    with pytest.raises(MedianPoolingInputError, match="positive number of patients"):
        median_of_medians([1.0, 2.0, 3.0], weights=[1, 0, 2])


def test_log_median_pooling_by_hand() -> None:
    # Two arms with the same log-scale width: SE = (log 9 - log 4) / (2 z) for both, so the
    # fixed-effect pooled log-median is the mean of the logs: exp = sqrt(6 x 3) = sqrt(18).
    res = pool_medians_iv([6.0, 3.0], [4.0, 2.0], [9.0, 4.5], method="FE")
    se = math.log(9 / 4) / (2 * Z975)
    assert [a.se for a in res.arms] == pytest.approx([se, se])
    assert res.estimate == pytest.approx(math.sqrt(18))
    half = Z975 * se / math.sqrt(2)
    assert (res.low, res.high) == pytest.approx((math.sqrt(18) * math.exp(-half),
                                                 math.sqrt(18) * math.exp(half)))
    assert res.method == "iv-log" and "exponentiation" in res.methods_text()


def test_upper_limit_not_reached_uses_the_lower_half_as_metamedian_survival() -> None:
    # metamedian_survival (McGrath et al. 2025): SE = (median - lower) / z when the upper limit
    # is missing; on the log scale (log median - log lower) / z.
    months = pool_medians_iv([6.0, 8.0], [4.0, 5.0], [None, 12.0], scale="months",
                             method="FE")
    assert months.arms[0].se == pytest.approx(2.0 / Z975)
    assert months.arms[1].se == pytest.approx(7.0 / (2 * Z975))
    logs = pool_medians_iv([6.0, 8.0], [4.0, 5.0], [None, 12.0], method="FE")
    assert logs.arms[0].se == pytest.approx(math.log(1.5) / Z975)
    assert "not reached" in " ".join(logs.notes)


def test_interval_level_enters_the_standard_error() -> None:
    at90 = pool_medians_iv([6.0], [4.0], [9.0], ci_levels=0.90)
    z90 = 1.6448536269514722
    assert at90.arms[0].se == pytest.approx(math.log(9 / 4) / (2 * z90))


@pytest.mark.parametrize(("args", "needle"), [
    (([0.0, 5.0], [0.0, 4.0], [1.0, 6.0]), "median of 0 months cannot be pooled"),
    (([-2.0, 5.0], [1.0, 4.0], [3.0, 6.0]), "median of -2 months"),
    (([300.0, 5.0], [200.0, 4.0], [400.0, 6.0]), "limit of 240 months"),
    (([5.0, 6.0], [5.5, 4.0], [8.0, 7.0]), "the interval 5.5-8 does not contain the median 5"),
    (([5.0, 6.0], [3.0, 4.0], [4.5, 7.0]), "does not contain the median 5"),
    (([5.0, 6.0], [5.0, 4.0], [None, 7.0]), "no width"),
    (([5.0, 6.0], [0.0, 4.0], [8.0, 7.0]), "has no logarithm"),
    (([5.0, 6.0], [None, 4.0], [8.0, 7.0]), "no lower confidence limit"),
    (([5.0, math.nan], [4.0, 4.0], [8.0, 7.0]), "the median is missing"),
])
def test_refusals_name_the_arm_and_the_rule(args: tuple, needle: str) -> None:
    with pytest.raises(MedianPoolingInputError, match=needle):
        pool_medians_iv(*args, studies=["ARM-A", "ARM-B"])


def test_refusals_of_options() -> None:
    with pytest.raises(InputError, match="between 0.5 and 0.999"):
        pool_medians_iv([5.0], [4.0], [6.0], ci_levels=95)
    with pytest.raises(MedianPoolingInputError, match="at least 2 arms"):
        median_of_medians([5.0])
    with pytest.raises(MedianPoolingInputError, match="unknown model"):
        pool_medians_iv([5.0], [4.0], [6.0], method="GLMM")
    # on the months scale a lower limit of 0 is allowed (only the log needs it above 0)
    assert pool_medians_iv([5.0, 6.0], [0.0, 4.0], [8.0, 7.0], scale="months").k == 2


def test_pool_medians_chooses_the_method_the_reporting_allows() -> None:
    medians, lows, highs, n = [8.9, 4.2, 6.0, 3.5], [5.98, 2.8, 4.1, 2.0], [11.82, 6.9, None,
                                                                              5.1], [27, 40, 30, 50]
    assert pool_medians(medians, lows, highs, n=n).method == "iv-log"
    missing = [5.98, None, 4.1, 2.0]
    wm = pool_medians(medians, missing, highs, n=n, studies=["A", "B", "C", "D"])
    assert wm.method == "wm" and wm.notes[0].startswith("no confidence interval for B")
    assert wm.estimate == median_of_medians(medians, weights=n).estimate
    mm = pool_medians(medians, missing, highs, n=[27, None, 30, 50])
    assert mm.method == "mm" and "median of medians (McGrath et al., Stat Med 2019)" in (
        mm.methods_text())
    payload = wm.to_dict()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["method"] == "wm" and payload["unit"] == "months" and len(payload["arms"]) == 4
