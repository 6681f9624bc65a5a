"""The between-study variance tau^2: the search for the maximum of a (restricted) likelihood and
the root of a decreasing estimating equation, shared by the intercept-only pool
(stats.pooling) and the meta-regression (stats.metareg), which differ only in the likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from comparators.stats.numerics import minimize_bounded, root_bracketed

#: Log-spaced grid of tau^2 (times a data scale) profiled before the maximum is refined.
TAU2_GRID = np.logspace(-8, 3, 89)
_MAXITER = 200
_TOL = 1e-12


def maximise_tau2(loglik: Callable[[np.ndarray], np.ndarray],
                  fisher_step: Callable[[float], float],
                  y: np.ndarray, v: np.ndarray) -> float:
    """ML/REML tau^2 at the global maximum of `loglik` (vectorised over tau^2), truncated at 0.

    Why a profile first: with sparse counts the likelihood can have a local maximum at (or
    near) 0 and the global one far away (8 raw proportions where one Fisher-scoring run stops
    at 0 with logLik -0.784 while tau^2 = 0.0379 gives -0.418). So: evaluate the likelihood at
    0 and on a log-spaced grid scaled to the data (y the effect sizes, v their variances),
    bracket the best grid point by its neighbours, maximise inside the bracket (bounded
    Brent), then polish with Fisher scoring (`fisher_step`, metafor's algorithm) as long as the
    steps stay inside the bracket. tau^2 = 0 wins ties, as metafor truncates at 0.
    """
    scale = max(float(np.var(y)), float(np.median(v)), 1e-300)
    grid = np.concatenate([[0.0], scale * TAU2_GRID])
    ll = loglik(grid)
    j = int(np.nanargmax(ll))
    lo, hi = float(grid[max(j - 1, 0)]), float(grid[min(j + 1, grid.size - 1)])

    def minus_ll(t: float) -> float:
        return -float(loglik(np.array([t]))[0])

    if hi > lo:
        tau2 = float(minimize_bounded(minus_ll, lo, hi, xatol=1e-14 * max(hi, 1e-300) + 1e-300))
    else:
        tau2 = float(grid[j])
    best = -minus_ll(tau2)
    cur = tau2
    for _ in range(_MAXITER):
        new = cur + fisher_step(cur)
        if not (lo <= new <= hi) or not math.isfinite(new):
            break
        done = abs(new - cur) <= _TOL * max(1.0, cur)
        cur = new
        if done:
            break
    if -minus_ll(cur) >= best - 1e-12:
        tau2 = cur
    if j <= 1 and float(ll[0]) >= -minus_ll(tau2) - 1e-12 and fisher_step(0.0) <= 0:
        return 0.0
    return max(0.0, float(tau2))


def root_decreasing(f: Callable[[float], float], target: float, start: float) -> float:
    """Smallest tau^2 >= 0 with f(tau^2) = target for a decreasing f (the Paule-Mandel and
    Q-profile equations); 0 if f(0) <= target. `start` is a first guess of the upper bracket."""
    if f(0.0) <= target:
        return 0.0
    hi = max(start, 1e-4)
    for _ in range(200):
        if f(hi) < target:
            break
        hi *= 4
    else:  # pragma: no cover - only for pathological inputs
        return hi
    return float(root_bracketed(lambda t: f(t) - target, 0.0, hi, xtol=1e-14, rtol=1e-13,
                                maxiter=500))
