"""Differences of two proportions: the interval and its evidence come from one construction.

Frequentist: the p-value is the one the square-and-add interval inverts, so at every level
p < 1 - level exactly when the interval excludes 0 (checked on every subtype's comparisons under
every model, with and without HKSJ). Bayesian: P(A - B > 0) and the credible interval of A - B
from numerical integration of two posteriors, checked against closed forms:
- two Beta posteriors with integer first parameter: P(A > B) = sum_{i=0}^{a_A - 1}
  B(a_B + i, b_A + b_B) / ((b_A + i) B(1 + i, b_A) B(a_B, b_B)) (E. Miller, "Formulas for
  Bayesian A/B testing", 2015, https://www.evanmiller.org/bayesian-ab-testing.html);
- two normal posteriors on the logit scale: P(expit(X) > expit(Y)) = P(X > Y)
  = Phi((m_x - m_y) / sqrt(s_x^2 + s_y^2)).
R (tests/oracle/test_difference_oracle.py) checks both rules on generated data.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from comparators.analysis.benchmark import arm_interval, benchmark_subtype, subtype_rows
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.reports.summary import summarisable_subtypes
from comparators.stats.differences import (
    P_FLOOR,
    difference_cdf,
    interval_difference,
    posterior_difference,
    square_and_add,
    tabulate_beta,
    tabulate_scale,
)


def beta_greater(a1: int, b1: float, a2: float, b2: float) -> float:
    """P(Beta(a1, b1) > Beta(a2, b2)) for integer a1 (Miller's closed form)."""
    total = 0.0
    for i in range(a1):
        total += math.exp(special.betaln(a2 + i, b1 + b2) - math.log(b1 + i)
                          - special.betaln(1 + i, b1) - special.betaln(a2, b2))
    return total


@pytest.mark.parametrize(("a1", "b1", "a2", "b2"),
                         [(6, 3, 2, 21), (1, 11, 1, 6), (15, 10, 20, 34), (2, 2, 2, 2),
                          (3, 40, 1.5, 9.5)])
def test_beta_posteriors_match_the_closed_form(a1, b1, a2, b2) -> None:
    got = posterior_difference(tabulate_beta(a1, b1), tabulate_beta(a2, b2), 0, 0, 0.95)
    assert got.prob_positive == pytest.approx(beta_greater(a1, b1, a2, b2), abs=2e-5)
    assert got.p is None


@pytest.mark.parametrize(("mx", "sx", "my", "sy"),
                         [(-1.0, 0.6, -2.2, 0.4), (0.3, 1.1, 0.1, 0.2), (-3.0, 0.5, -0.5, 0.9)])
def test_normal_posteriors_on_the_logit_scale_match_the_closed_form(mx, sx, my, sy) -> None:
    def tab(m, s):
        return tabulate_scale(lambda x: stats.norm.cdf(x, m, s), lambda p: stats.norm.ppf(p, m, s),
                              special.expit)

    got = posterior_difference(tab(mx, sx), tab(my, sy), 0, 0, 0.9)
    assert got.prob_positive == pytest.approx(stats.norm.cdf((mx - my) / math.hypot(sx, sy)),
                                              abs=1e-5)
    # the interval's limits are the 5% and 95% points of expit(X) - expit(Y), by quadrature

    def below(d: float) -> float:  # P(expit(X) - expit(Y) <= d)
        def inner(y: float) -> float:
            q = special.expit(y) + d
            fx = 0.0 if q <= 0 else 1.0 if q >= 1 else stats.norm.cdf(special.logit(q), mx, sx)
            return fx * stats.norm.pdf(y, my, sy)

        return integrate.quad(inner, my - 12 * sy, my + 12 * sy, limit=400)[0]

    assert below(got.low) == pytest.approx(0.05, abs=1e-5)
    assert below(got.high) == pytest.approx(0.95, abs=1e-5)


def test_difference_cdf_is_a_distribution_function() -> None:
    a, b = tabulate_beta(3.5, 5.5), tabulate_beta(1.5, 9.5)
    d = np.linspace(-1.2, 1.2, 241)
    f = difference_cdf(a, b, d)
    assert f[0] == pytest.approx(0, abs=1e-9) and f[-1] == pytest.approx(1, abs=1e-9)
    assert np.all(np.diff(f) >= -1e-12)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(5, 7, 33, 46), (1, 2, 1, 10), (0, 9, 4, 10),
                                                    (12, 20, 12, 20), (30, 31, 2, 40)])
def test_p_is_the_level_at_which_the_interval_reaches_zero(x1, n1, x2, n2) -> None:
    a_at, b_at = arm_interval(x1, n1, "wilson"), arm_interval(x2, n2, "wilson")
    diff = interval_difference(x1 / n1, a_at, x2 / n2, b_at, 0.95)
    if x1 / n1 == x2 / n2:
        assert diff.p == 1.0
        return
    _, low, high = square_and_add(x1 / n1, *a_at(1 - diff.p), x2 / n2, *b_at(1 - diff.p))
    if diff.p == P_FLOOR:  # the interval excludes 0 at every level searched
        assert low > 0 or high < 0
    else:
        assert min(abs(low), abs(high)) == pytest.approx(0, abs=1e-9)
    for level in (0.5, 0.8, 0.9, 0.95, 0.99):
        d, low, high = square_and_add(x1 / n1, *a_at(level), x2 / n2, *b_at(level))
        assert (diff.p < 1 - level) == (low > 0 or high < 0), level


CATALOG = load_catalog()
COHORT = published_cohort(CATALOG.trials)
MODELS = [AnalysisOptions(method=m, hksj=h, measure=s, hksj_variant=v)
          for m, s in (("REML", "logit"), ("DL", "ft"), ("FE", "logit"), ("GLMM", "logit"),
                       ("PM", "arcsine"), ("ML", "raw"))
          for h, v in ((False, "adhoc"), (True, "adhoc"), (True, "plain"))]


@pytest.mark.parametrize("options", MODELS, ids=lambda o: o.model_text())
def test_every_headline_p_agrees_with_its_interval(options) -> None:
    """Every subtype: each pool's interval function reproduces the interval shown, and each
    headline p is below 1 - level exactly when its interval excludes 0, at several levels."""
    checked = 0
    for code in summarisable_subtypes(CATALOG.trials):
        bm = benchmark_subtype(subtype_rows(CATALOG.trials, COHORT, code), options)
        for pool in bm.class_pools.values():
            low, high = pool.interval_at(options.ci_method)(options.level)
            assert (low, high) == pytest.approx((pool.low, pool.high), abs=1e-9), pool.label
        for c in bm.headline:
            assert c.p is not None and 0 < c.p <= 1
            assert (c.p < 1 - options.level) == (c.low > 0 or c.high < 0), (code, c.what)
            checked += 1
    assert checked >= 5


def test_hksj_widens_the_interval_and_raises_p_with_it() -> None:
    rows = subtype_rows(CATALOG.trials, COHORT, "LMS")
    wald = benchmark_subtype(rows, AnalysisOptions())
    hksj = benchmark_subtype(rows, AnalysisOptions(hksj=True))
    for before, after in zip(wald.headline, hksj.headline, strict=True):
        assert after.high - after.low > before.high - before.low
        assert after.p > before.p, before.what


def test_bayesian_comparisons_give_posterior_probabilities_not_p() -> None:
    rows = subtype_rows(CATALOG.trials, COHORT, "LMS")
    bm = benchmark_subtype(rows, AnalysisOptions(method="BAYES"))
    assert bm.headline and bm.comparisons
    for c in bm.headline + bm.comparisons:
        assert c.p is None and 0 < c.prob_positive < 1
        assert c.evidence.startswith("P(difference > 0)")
        assert c.low < c.difference < c.high
    assert bm.q_between is None
    assert not any("not estimable" in n for n in bm.notes)  # every class was estimated
    assert any("no test for subgroup differences" in n for n in bm.notes)
    assert "No p-values are computed" in bm.methods_paragraph()
