"""Single-proportion intervals against published values.

Sources:
- Liu et al., Sci Rep 2023 (doi 10.1038/s41598-023-30412-6), Abstract: ORR 13/27 = 48.1%
  (95% CI 30.7-66.0%), DCR 23/27 = 85.2% (95% CI 67.5-94.1%) - Wilson intervals.
- Newcombe RG. Two-sided confidence intervals for the single proportion: comparison of seven
  methods. Stat Med 1998;17:857-872, Table I (examples 81/263, 15/148, 0/20, 1/29): method 1
  (simple asymptotic = Wald), 3 (score = Wilson), 4 (score with continuity correction),
  5 (exact = Clopper-Pearson).
- Conover, Practical Nonparametric Statistics (3rd ed., 1999), binomial table: 5/25 exact
  95% limits 0.068-0.407.
- Jeffreys and Agresti-Coull (Brown, Cai & DasGupta, Stat Sci 2001) have no printed table we
  could cite; they are checked against statsmodels' independent implementation
  (statsmodels.stats.proportion.proportion_confint) plus the BCD boundary convention.
"""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comparators.stats.proportions import CI_CHOICES, ProportionInputError, proportion_ci

NEWCOMBE_TABLE_I = {
    # (k, n): {method: (low, high)} as printed to 4 decimals
    (81, 263): {
        "wald": (0.2522, 0.3638),
        "wilson": (0.2553, 0.3662),
        "wilson-cc": (0.2535, 0.3682),
        "clopper-pearson": (0.2527, 0.3676),
    },
    (15, 148): {
        "wald": (0.0527, 0.1500),
        "wilson": (0.0624, 0.1605),
        "wilson-cc": (0.0598, 0.1644),
        "clopper-pearson": (0.0578, 0.1617),
    },
    (0, 20): {
        "wilson": (0.0000, 0.1611),
        "wilson-cc": (0.0000, 0.2005),
        "clopper-pearson": (0.0000, 0.1684),
    },
    (1, 29): {
        "wilson": (0.0061, 0.1718),
        "wilson-cc": (0.0018, 0.1963),
        "clopper-pearson": (0.0009, 0.1776),
    },
}


@pytest.mark.parametrize(
    ("k", "n", "method", "expected"),
    [(k, n, m, v) for (k, n), row in NEWCOMBE_TABLE_I.items() for m, v in row.items()],
)
def test_newcombe_1998_table_1(k: int, n: int, method: str, expected: tuple) -> None:
    ci = proportion_ci(k, n, method)
    assert (round(ci.low, 4), round(ci.high, 4)) == expected


def test_seed_paper_orr_and_dcr_are_wilson_intervals() -> None:
    orr, dcr = proportion_ci(13, 27), proportion_ci(23, 27)
    assert (round(100 * orr.estimate, 1), round(100 * orr.low, 1), round(100 * orr.high, 1)) == (
        48.1, 30.7, 66.0)
    assert (round(100 * dcr.estimate, 1), round(100 * dcr.low, 1), round(100 * dcr.high, 1)) == (
        85.2, 67.5, 94.1)
    assert orr.as_percent() == "48.1% (95% CI 30.7–66.0%)"


def test_seed_paper_interval_is_not_clopper_pearson() -> None:
    # The facts file: Clopper-Pearson would print 28.7-68.1, so the paper used Wilson.
    ci = proportion_ci(13, 27, "clopper-pearson")
    assert (round(100 * ci.low, 1), round(100 * ci.high, 1)) == (28.7, 68.1)


def test_conover_exact_table() -> None:
    ci = proportion_ci(5, 25, "clopper-pearson")
    assert (round(ci.low, 3), round(ci.high, 3)) == (0.068, 0.407)


@pytest.mark.parametrize(("k", "n"), [(1, 29), (15, 148), (13, 27), (81, 263), (7, 7)])
def test_jeffreys_and_agresti_coull_match_statsmodels(k: int, n: int) -> None:
    from statsmodels.stats.proportion import proportion_confint

    for ours, theirs in (("jeffreys", "jeffreys"), ("agresti-coull", "agresti_coull")):
        low, high = proportion_confint(k, n, method=theirs)
        ci = proportion_ci(k, n, ours)
        if ours == "jeffreys" and k == n:
            high = 1.0  # Brown, Cai & DasGupta set the upper limit to 1 at k = n
        assert ci.low == pytest.approx(low, abs=1e-9)
        assert ci.high == pytest.approx(high, abs=1e-9)


def test_jeffreys_boundary_convention() -> None:
    assert proportion_ci(0, 20, "jeffreys").low == 0.0
    assert proportion_ci(20, 20, "jeffreys").high == 1.0


def test_level_changes_the_width() -> None:
    narrow, wide = proportion_ci(13, 27, level=0.80), proportion_ci(13, 27, level=0.99)
    assert wide.low < narrow.low < narrow.high < wide.high
    assert "(80% CI " in narrow.as_percent()


@pytest.mark.parametrize(
    ("k", "n", "level", "method", "message"),
    [
        (14, 13, 0.95, "wilson", "cannot exceed"),
        (-1, 5, 0.95, "wilson", "must not be negative"),
        (1.5, 5, 0.95, "wilson", "whole number"),
        (1, 0, 0.95, "wilson", "at least 1"),
        (1, 5, 1.2, "wilson", "between 0.5 and 0.999"),
        (1, 5, 0.95, "logit", "unknown CI method"),
        (float("nan"), 5, 0.95, "wilson", "whole number"),
        (True, 5, 0.95, "wilson", "whole number"),
    ],
)
def test_bad_input_is_refused_with_a_plain_message(k, n, level, method, message) -> None:
    with pytest.raises(ProportionInputError, match=message):
        proportion_ci(k, n, method, level)


counts = st.integers(min_value=1, max_value=2000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)


@given(counts, st.sampled_from(CI_CHOICES.codes), st.floats(min_value=0.5, max_value=0.999))
def test_bounds_are_ordered_inside_unit_interval(kn, method, level) -> None:
    k, n = kn
    ci = proportion_ci(k, n, method, level)
    assert 0.0 <= ci.low <= ci.estimate <= ci.high <= 1.0
    assert all(math.isfinite(v) for v in (ci.low, ci.high))


@given(st.integers(min_value=1, max_value=200), st.sampled_from(CI_CHOICES.codes))
def test_width_shrinks_as_n_grows_at_fixed_proportion(n, method) -> None:
    # Same observed proportion (k/n = 0.3) with four times the patients: a narrower interval.
    k = 3 * n
    small = proportion_ci(k, 10 * n, method)
    large = proportion_ci(4 * k, 40 * n, method)
    assert large.high - large.low < small.high - small.low


@pytest.mark.parametrize(("rate", "patients", "per", "count"), [
    (0.125, 20, 1, 3),  # 2.5 patients: half up, as a reader rounds (half-to-even would say 2)
    (0.175, 20, 1, 4),  # 3.5: half up and half-to-even agree
    (0.145, 100, 1, 15),  # 14.5 as printed; binary arithmetic gives 14.4999... and 14
    (12.5, 20, 100, 3),  # the same rate as a percentage
    (0.656, 33, 1, 22),  # Wilky 2019: 65.6% of 33 = 21.6
    (0, 9, 1, 0), (1, 9, 1, 9), (100, 9, 100, 9),
])
def test_a_printed_rate_becomes_whole_patients_rounded_half_up(rate, patients, per,
                                                               count) -> None:
    from comparators.stats.proportions import patients_from_rate

    assert patients_from_rate(rate, patients, per=per) == count
