"""Tests for comparators.stats.bayes, validated against published numbers.

Sources:
[LL08] Lee JJ, Liu DD. A predictive probability design for phase II cancer clinical trials.
       Clin Trials 2008;5:93-106, Table 1 worked example: Nmax = 40, p0 = 0.60, theta_T = 0.90,
       prior Beta(0.6, 0.4), 16 responses in the first 23 patients -> PP = 0.5656 (value quoted
       in the task brief); "the predictive probability is 56.6%. 12 responses in the remaining
       17 patients are required for success" (Genentech/phase1b R package, predprob() help,
       "The original Lee and Liu (Table 1) example").
[P1B]  Genentech/phase1b R package documentation: predprob() with thetaT 0.8 -> 70.8% and
       thetaT 0.95 -> 40.7% for the same data; postprob(x = 16, n = 23, p = 0.60,
       par = c(0.6, 0.4)): posterior Beta(16.6, 7.4), Pr(P_E > p | data) = 0.836.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate
from scipy.special import comb

from comparators.stats.bayes import (
    JEFFREYS,
    BayesInputError,
    BetaPosterior,
    BetaPrior,
    predictive_probability,
    prior_from_pooled,
)

LL_PRIOR = (0.6, 0.4)


def test_lee_liu_2008_worked_example():
    # [LL08] PP = 0.5656; success needs >= 12 responses among the remaining 17.
    res = predictive_probability(16, 23, 40, p0=0.60, theta_t=0.90, prior=LL_PRIOR)
    assert res.pp == pytest.approx(0.5656, abs=5e-5)
    assert res.min_future_responders == 12
    assert len(res.table) == 18  # y = 0 .. 17
    assert sum(row.prob_y for row in res.table) == pytest.approx(1.0)


@pytest.mark.parametrize(("theta_t", "pp_pct"), [(0.80, 70.8), (0.95, 40.7)])
def test_lee_liu_example_other_thresholds_phase1b(theta_t, pp_pct):
    # [P1B] predprob(x = 16, n = 23, Nmax = 40, p = 0.6, thetaT, parE = c(0.6, 0.4))
    res = predictive_probability(16, 23, 40, p0=0.60, theta_t=theta_t, prior=LL_PRIOR)
    assert round(100 * res.pp, 1) == pp_pct


def test_posterior_probability_phase1b_postprob():
    # [P1B] posterior Beta(16.6, 7.4); Pr(p > 0.6 | 16/23) = 0.836
    post = BetaPosterior.from_counts(16, 23, prior=LL_PRIOR)
    assert (post.a, post.b) == pytest.approx((16.6, 7.4))
    assert post.prob_above(0.60) == pytest.approx(0.836, abs=5e-4)


def _log_beta(s: float, t: float) -> float:
    return math.lgamma(s) + math.lgamma(t) - math.lgamma(s + t)


def _beta_tail(p0: float, a: float, b: float) -> float:
    """P(p > p0) for p ~ Beta(a, b), by numerical integration of the density."""

    def dens(t: float) -> float:
        return math.exp((a - 1) * math.log(t) + (b - 1) * math.log1p(-t) - _log_beta(a, b))

    return integrate.quad(dens, p0, 1)[0]


def test_predictive_table_row_by_row_from_first_principles():
    # Beta-binomial pmf written out with Beta functions (not scipy.stats.betabinom) and the
    # end-of-trial posterior probability by numerical integration of the Beta density.
    x, n, N, p0, a, b = 16, 23, 40, 0.6, 0.6, 0.4
    res = predictive_probability(x, n, N, p0, 0.9, prior=(a, b))
    m = N - n
    for row in res.table[::4]:
        y = row.y
        pmf = comb(m, y) * math.exp(
            _log_beta(a + x + y, b + n - x + m - y) - _log_beta(a + x, b + n - x)
        )
        assert row.prob_y == pytest.approx(pmf, rel=1e-9)
        tail = _beta_tail(p0, a + x + y, b + N - x - y)
        assert row.posterior_prob == pytest.approx(tail, abs=1e-8)
        assert row.success == (tail > 0.9)


def test_predictive_to_dict_contract():
    d = predictive_probability(16, 23, 40, 0.6, 0.9, prior=LL_PRIOR).to_dict()
    keys = {"pp", "responders", "n", "nmax", "p0", "theta_t", "prior_a", "prior_b", "table"}
    assert keys <= set(d)
    assert set(d["table"][0]) == {"y", "prob_y", "posterior_prob", "success"}
    assert (d["prior_a"], d["prior_b"]) == (0.6, 0.4)


def test_predictive_sentence():
    s = predictive_probability(16, 23, 40, 0.6, 0.9, prior=LL_PRIOR).sentence()
    assert "56.6%" in s and "at least 12 responses among the remaining 17" in s


def test_predictive_at_final_analysis_is_zero_or_one():
    post = BetaPosterior.from_counts(30, 40, prior=LL_PRIOR).prob_above(0.6)
    res = predictive_probability(30, 40, 40, 0.6, 0.9, prior=LL_PRIOR)
    assert res.pp == (1.0 if post > 0.9 else 0.0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 30),
    extra=st.integers(1, 30),
    frac=st.floats(0, 1),
    p0=st.floats(0.05, 0.9),
    theta=st.floats(0.5, 0.99),
)
def test_predictive_probability_properties(n, extra, frac, p0, theta):
    x = int(round(frac * n))
    N = n + extra
    res = predictive_probability(x, n, N, p0, theta)
    assert 0 <= res.pp <= 1
    # success region is an upper set in y (posterior probability increases with responses)
    flags = [row.success for row in res.table]
    assert flags == sorted(flags)
    # one more responder (same n) cannot lower the predictive probability
    if x < n:
        assert predictive_probability(x + 1, n, N, p0, theta).pp >= res.pp - 1e-12


def test_beta_posterior_summaries():
    post = BetaPosterior.from_counts(13, 27)  # Jeffreys default
    assert (post.prior_a, post.prior_b) == JEFFREYS
    assert post.mean == pytest.approx(13.5 / 28)
    lo, hi = post.credible_interval(0.95)
    # equal tails: 2.5% of posterior mass on each side
    assert post.prob_above(hi) == pytest.approx(0.025)
    assert 1 - post.prob_above(lo) == pytest.approx(0.025)
    grid = np.linspace(0, 1, 2001)
    assert np.trapezoid(post.density(grid), grid) == pytest.approx(1, abs=1e-4)
    d = post.to_dict()
    assert d["low"] == pytest.approx(lo) and d["a"] == 13.5


def test_jeffreys_interval_equals_proportions_module():
    # stats.proportions' Jeffreys CI is the equal-tailed Beta(0.5, 0.5) posterior interval
    from comparators.stats.proportions import proportion_ci

    ci = proportion_ci(13, 27, "jeffreys", 0.95)
    lo, hi = BetaPosterior.from_counts(13, 27).credible_interval(0.95)
    assert (lo, hi) == pytest.approx((ci.low, ci.high))


def test_prior_from_pooled_formula():
    pr = prior_from_pooled(0.3, n_effective=40, discount=0.5)
    assert isinstance(pr, BetaPrior)
    assert (pr.a, pr.b) == pytest.approx((0.5 + 0.5 * 40 * 0.3, 0.5 + 0.5 * 40 * 0.7))
    assert pr.effective_n == pytest.approx(21)
    assert prior_from_pooled(0.3, 40, discount=0) == JEFFREYS
    post = BetaPosterior.from_counts(5, 10, prior=pr)
    assert post.a == pytest.approx(pr.a + 5)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: predictive_probability(5, 3, 10, 0.2, 0.9), "cannot exceed patients so far"),
        (lambda: predictive_probability(1, 12, 10, 0.2, 0.9), "cannot exceed the maximum"),
        (lambda: predictive_probability(1, 5, 10, 1.2, 0.9), "p0 must be strictly between"),
        (lambda: predictive_probability(1, 5, 10, 0.2, 1.0), "theta_t must be strictly between"),
        (lambda: predictive_probability(1, 5, 10, 0.2, 0.9, prior=(0, 1)), "prior a"),
        (lambda: predictive_probability(1.5, 5, 10, 0.2, 0.9), "whole number"),
        (lambda: BetaPosterior.from_counts(3, 2), "cannot exceed"),
        (lambda: prior_from_pooled(1.3, 10), "pooled estimate"),
        (lambda: prior_from_pooled(0.3, 10, discount=2), "discount"),
    ],
)
def test_bad_input_messages(call, match):
    with pytest.raises(BayesInputError, match=match):
        call()
