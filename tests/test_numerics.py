"""comparators.stats.numerics against scipy, the implementation it stands in for on the CLI's
fast path (issue 15: `pool` must start without importing scipy). Tolerances are what the
functions achieve (measured), not what pooling needs: the pooled results are checked against R
in tests/oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from comparators.stats import numerics as nm

DFS = [*range(1, 61), 75, 99, 100, 150, 299, 500, 999, 1000, 0.5, 2.5]


def test_norm_ppf_matches_ndtri_within_a_few_ulp() -> None:
    rng = np.random.default_rng(1)
    ps = np.concatenate([rng.random(20_000), 10.0 ** -rng.uniform(0, 300, 2_000),
                         1 - 10.0 ** -rng.uniform(1, 15, 2_000),
                         [1 - (1 - lv) / 2 for lv in (0.5, 0.8, 0.9, 0.95, 0.99, 0.999)]])
    ours = np.array([nm.norm_ppf(float(p)) for p in ps])
    np.testing.assert_allclose(ours, special.ndtri(ps), rtol=1.2e-15, atol=0)
    assert (nm.norm_ppf(0.0), nm.norm_ppf(1.0)) == (-math.inf, math.inf)
    assert math.isnan(nm.norm_ppf(1.5))


@pytest.mark.parametrize("df", DFS)
def test_chi2_tails_match_scipy(df: float) -> None:
    # Central 99.9 % to 1e-13: the largest differences there (5e-14) are scipy's own error
    # (checked with mpmath at 50 digits: ours within 2e-15 at those points). Far tails
    # (probabilities down to 1e-300) to 1e-12, where the common factor x^a e^-x / Gamma(a) has
    # an exponent of several hundred.
    for xs, rtol in ((stats.chi2.ppf(np.linspace(0.0005, 0.9995, 41), df), 1e-13),
                     (np.array([1e-8, 1e-3, 3.0 * df + 50, 10.0 * df + 50]), 1e-12)):
        sf = np.array([nm.chi2_sf(float(x), df) for x in xs])
        cdf = np.array([nm.chi2_cdf(float(x), df) for x in xs])
        ref_sf, ref_cdf = stats.chi2.sf(xs, df), stats.chi2.cdf(xs, df)
        keep_sf, keep_cdf = ref_sf > 1e-300, ref_cdf > 1e-300
        np.testing.assert_allclose(sf[keep_sf], ref_sf[keep_sf], rtol=rtol, atol=0)
        np.testing.assert_allclose(cdf[keep_cdf], ref_cdf[keep_cdf], rtol=rtol, atol=0)
    assert (nm.chi2_sf(0.0, df), nm.chi2_sf(math.inf, df)) == (1.0, 0.0)


@pytest.mark.parametrize("df", DFS)
def test_chi2_ppf_matches_scipy(df: float) -> None:
    ps = [1e-300, 1e-12, 1e-6, 0.001, 0.005, 0.025, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95,
          0.975, 0.99, 0.995, 0.999, 1 - 1e-9]
    ours = np.array([nm.chi2_ppf(p, df) for p in ps])
    ref = stats.chi2.ppf(ps, df)
    np.testing.assert_allclose(ours[ref > 0], ref[ref > 0], rtol=1e-12, atol=0)
    assert (nm.chi2_ppf(0.0, df), nm.chi2_ppf(1.0, df)) == (0.0, math.inf)


def test_chi2_refuses_bad_degrees_of_freedom() -> None:
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError, match="degrees of freedom"):
            nm.chi2_sf(1.0, bad)


def test_logistic_functions_match_scipy() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0, 10, 100_000), [-800.0, -40.0, 0.0, 40.0, 800.0]])
    np.testing.assert_allclose(nm.expit(x), special.expit(x), rtol=4.5e-16, atol=0)
    p = np.concatenate([rng.random(100_000), [1e-300, 0.3, 0.5, 0.65, 1 - 1e-16]])
    np.testing.assert_allclose(nm.logit(p), special.logit(p), rtol=4.5e-16, atol=1e-300)
    assert isinstance(nm.logit(0.25), float) and math.isclose(nm.logit(0.25), -math.log(3))


def test_root_bracketed_agrees_with_brentq() -> None:
    rng = np.random.default_rng(3)
    for _ in range(500):
        c, k = rng.uniform(-5, 5), rng.uniform(0.1, 10)

        def f(x: float, c: float = c, k: float = k) -> float:
            return math.tanh(k * (x - c)) + 0.3 * (x - c) ** 3

        ours = nm.root_bracketed(f, -10, 10, xtol=1e-14, rtol=1e-13)
        ref = optimize.brentq(f, -10, 10, xtol=1e-14, rtol=1e-13)
        assert abs(ours - ref) <= 2e-14 + 2e-13 * abs(ref), (c, k, ours, ref)
    with pytest.raises(ValueError, match="differ in sign"):
        nm.root_bracketed(lambda x: x * x + 1, -1.0, 1.0)


def test_minimize_bounded_agrees_with_scipy() -> None:
    rng = np.random.default_rng(4)
    for _ in range(500):
        c, k = rng.uniform(-1, 7), rng.uniform(0.1, 10)

        def f(x: float, c: float = c, k: float = k) -> float:
            return k * (x - c) ** 2 + 0.01 * math.cos(x)

        ours = nm.minimize_bounded(f, 0.0, 6.0, xatol=1e-10)
        ref = optimize.minimize_scalar(f, bounds=(0.0, 6.0), method="bounded",
                                       options={"xatol": 1e-10}).x
        assert abs(ours - ref) <= 1e-7, (c, k, ours, ref)
        assert 0.0 <= ours <= 6.0
