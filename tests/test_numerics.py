"""comparators.stats.numerics against scipy.optimize, which it stands in for on the CLI's fast
path (`pool` starts within 1 s without scipy.optimize). Tolerances are what the
functions achieve (measured), not what pooling needs: the pooled results are checked against R
in tests/oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize

from comparators.stats import distributions
from comparators.stats import numerics as nm


def test_chi2_functions_refuse_bad_degrees_of_freedom() -> None:
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError, match="degrees of freedom"):
            distributions.chi2_upper_tail(1.0, bad)


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
