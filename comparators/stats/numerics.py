"""The few scalar functions the default pooling path needs, without scipy.

Why this module exists: ``python -m comparators pool FILE --json`` should answer in about the
time the interpreter takes to start (issue 15: <= 0.5 s wall). With scipy 1.17 importing
``scipy.special`` alone costs ~0.3 s (its array-API layer pulls in numpy.f2py, numpy.testing and
numpy.ma), ``scipy.optimize`` ~0.6 s and ``scipy.stats`` ~1 s, against ~0.1 s for numpy. A
REML/DL/PM/ML/FE pool with a z interval needs only a normal quantile, the chi-squared tail and
quantile, one bracketed root and one bounded 1-D minimum, which are written here with the
standard library (and numpy for the vectorised logistic functions). Paths that need more (t
quantiles for HKSJ, beta quantiles for exact intervals, Nelder-Mead for the GLMM, the Bayesian
models) still import scipy, lazily.

Accuracy: each function is compared with scipy over wide grids in tests/test_numerics.py
(normal quantile within 2 ulp, chi-squared tail and quantile to ~1e-13 relative, root and
minimum to the requested tolerance); the R oracle (tests/oracle) checks the pooled results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np

_EPS = 2.220446049250313e-16
_STD_NORMAL = NormalDist()
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


# --- normal ------------------------------------------------------------------------------------


def norm_ppf(p: float) -> float:
    """Standard normal quantile (Wichura's AS 241 via statistics.NormalDist; -inf/inf at 0/1)."""
    if p == 0.0:
        return -math.inf
    if p == 1.0:
        return math.inf
    if not 0.0 < p < 1.0:
        return math.nan
    return _STD_NORMAL.inv_cdf(p)


# --- logistic ----------------------------------------------------------------------------------


def expit(x: Any) -> Any:
    """Logistic function 1 / (1 + exp(-x)), elementwise (the formula scipy.special.expit uses)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def logit(p: Any) -> Any:
    """log(p / (1 - p)), elementwise; log1p form near p = 1/2 where the ratio loses digits."""
    p = np.asarray(p, dtype=float)
    s = 2.0 * (p - 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where((p < 0.3) | (p > 0.65), np.log(p / (1.0 - p)),
                       np.log1p(s) - np.log1p(-s))
    return out[()] if out.ndim == 0 else out


# --- chi-squared (regularised incomplete gamma) -----------------------------------------------


def _stirling_tail(a: float) -> float:
    """lgamma(a) - ((a - 1/2) log a - a + log(2 pi)/2) for a >= 15 (error < 3e-16)."""
    r = 1.0 / a
    r2 = r * r
    return r * (1 / 12 - r2 * (1 / 360 - r2 * (1 / 1260 - r2 * (1 / 1680 - r2 / 1188))))


def _log_gamma_kernel(a: float, x: float) -> float:
    """log(x^a e^-x / Gamma(a)), the common factor of P(a, x) and Q(a, x).

    For large a the direct form a log x - x - lgamma(a) subtracts numbers of size a log a; the
    equivalent a (log1p(t) - t) + log(a / 2 pi) / 2 - stirling(a), t = (x - a) / a, keeps the
    error near eps |x - a| instead.
    """
    if a < 15.0:
        return a * math.log(x) - x - math.lgamma(a)
    t = (x - a) / a
    log_ratio = math.log(x / a) if t < -0.5 else math.log1p(t)  # log(x / a)
    return a * (log_ratio - t) + 0.5 * math.log(a) - _HALF_LOG_2PI - _stirling_tail(a)


def _gamma_p_series(a: float, x: float) -> float:
    """P(a, x) by its power series; for x < a + 1."""
    term = total = 1.0 / a
    ap = a
    for _ in range(100_000):
        ap += 1.0
        term *= x / ap
        total += term
        if term < total * _EPS:
            break
    return total * math.exp(_log_gamma_kernel(a, x))


def _gamma_q_fraction(a: float, x: float) -> float:
    """Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 100_000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h * math.exp(_log_gamma_kernel(a, x))


def _gamma_pq(a: float, x: float) -> tuple[float, float]:
    """(P(a, x), Q(a, x)), each computed directly where it is the smaller tail."""
    if x <= 0.0:
        return 0.0, 1.0
    if math.isinf(x):
        return 1.0, 0.0
    if x < a + 1.0:
        p = _gamma_p_series(a, x)
        return p, 1.0 - p
    q = _gamma_q_fraction(a, x)
    return 1.0 - q, q


def _check_df(df: float) -> float:
    df = float(df)
    if not (df > 0 and math.isfinite(df)):
        raise ValueError(f"chi-squared degrees of freedom must be positive, got {df!r}")
    return df


def chi2_sf(x: float, df: float) -> float:
    """Upper tail P(X > x) of the chi-squared distribution with df degrees of freedom."""
    df = _check_df(df)
    if math.isnan(x):
        return math.nan
    return _gamma_pq(0.5 * df, 0.5 * x)[1]


def chi2_cdf(x: float, df: float) -> float:
    """Lower tail P(X <= x) of the chi-squared distribution with df degrees of freedom."""
    df = _check_df(df)
    if math.isnan(x):
        return math.nan
    return _gamma_pq(0.5 * df, 0.5 * x)[0]


def chi2_ppf(p: float, df: float) -> float:
    """Quantile of the chi-squared distribution: the x with chi2_cdf(x, df) = p.

    Safeguarded Newton on the log of the smaller tail (the lower one for p <= 1/2, else the
    upper one with target 1 - p), from the Wilson-Hilferty approximation. The log keeps Newton
    fast far in the tails, where the tail itself is nearly flat; a step that leaves the bracket
    known so far is replaced by bisection (geometric once the bracket is finite and positive).
    """
    df = _check_df(df)
    if math.isnan(p) or not 0.0 <= p <= 1.0:
        return math.nan
    if p == 0.0:
        return 0.0
    if p == 1.0:
        return math.inf
    a = 0.5 * df
    lower = p <= 0.5
    log_target = math.log(p if lower else 1.0 - p)
    # Start: Wilson-Hilferty on the chi-squared scale, or the small-x form P ~ y^a / Gamma(a+1).
    c = 2.0 / (9.0 * df)
    wh = 1.0 - c + norm_ppf(p) * math.sqrt(c)
    y = 0.5 * df * wh**3 if wh > 0 else 0.0
    if y < 1e-3 * a:
        y = math.exp((math.log(p) + math.lgamma(a + 1.0)) / a) if lower else max(y, a)
    lo, hi = 0.0, math.inf  # on y = x / 2
    for _ in range(400):
        if y <= 0.0:  # the quantile underflows (p ~ 1e-300 with df = 1)
            return 0.0
        pp, qq = _gamma_pq(a, y)
        tail = pp if lower else qq
        new = math.nan
        if tail > 0.0:
            h = math.log(tail) - log_target  # increasing in y (lower tail) or decreasing
            if h == 0.0:
                return 2.0 * y
            if (h < 0.0) == lower:
                lo = y
            else:
                hi = y
            slope = math.exp(_log_gamma_kernel(a, y)) / y / tail  # d log P / dy = -d log Q / dy
            if slope > 0.0 and math.isfinite(slope):
                new = y - h / slope if lower else y + h / slope
        elif lower:  # P underflowed: y is far too small
            lo = y
        else:  # Q underflowed: y is far too large
            hi = y
        if not lo < new < hi:
            if math.isinf(hi):
                new = 2.0 * y
            elif lo > 0.0:
                new = math.sqrt(lo * hi)
            else:
                new = 0.5 * hi
        if abs(new - y) <= 4.0 * _EPS * new:
            return 2.0 * new
        y = new
    return 2.0 * y  # pragma: no cover - Newton converges in a handful of steps


# --- root and minimum of a scalar function -----------------------------------------------------


def root_bracketed(f: Callable[[float], float], a: float, b: float, xtol: float = 2e-12,
                   rtol: float = 8.9e-16, maxiter: int = 500) -> float:
    """A root of f in [a, b] where f(a) and f(b) differ in sign (Brent 1973, ch. 4).

    Inverse quadratic interpolation or secant steps while they shrink the bracket fast enough,
    bisection otherwise; stops when the bracket is below xtol + rtol * |x|.
    """
    fa, fb = f(a), f(b)
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    if (fa > 0.0) == (fb > 0.0):
        raise ValueError("root_bracketed: f(a) and f(b) must differ in sign")
    c, fc = a, fa
    step = last = b - a
    for _ in range(maxiter):
        if (fb > 0.0) == (fc > 0.0):  # keep the root between b and c
            c, fc = a, fa
            step = last = b - a
        if abs(fc) < abs(fb):  # b is the best estimate so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 0.5 * (xtol + rtol * abs(b))
        half = 0.5 * (c - b)
        if abs(half) <= tol or fb == 0.0:
            return b
        if abs(last) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant
                p = 2.0 * half * s
                q = 1.0 - s
            else:  # inverse quadratic interpolation through a, b, c
                qa, rb = fa / fc, fb / fc
                p = s * (2.0 * half * qa * (qa - rb) - (b - a) * (rb - 1.0))
                q = (qa - 1.0) * (rb - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * half * q - abs(tol * q), abs(last * q)):
                last, step = step, p / q
            else:
                step = last = half
        else:
            step = last = half
        a, fa = b, fb
        b += step if abs(step) > tol else math.copysign(tol, half)
        fb = f(b)
    raise RuntimeError(f"root_bracketed: no convergence in {maxiter} iterations")


def minimize_bounded(f: Callable[[float], float], lo: float, hi: float, xatol: float = 1e-5,
                     maxiter: int = 500) -> float:
    """The x in [lo, hi] minimising f: golden-section search with parabolic steps (Brent 1973,
    ch. 5), to an absolute tolerance of about xatol (plus sqrt(eps) |x|)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"minimize_bounded: bad bounds ({lo!r}, {hi!r})")
    golden = 0.5 * (3.0 - math.sqrt(5.0))
    sqrt_eps = math.sqrt(2.2e-16)
    a, b = float(lo), float(hi)
    x = w = v = a + golden * (b - a)
    fx = fw = fv = f(x)
    d = e = 0.0
    for _ in range(maxiter):
        mid = 0.5 * (a + b)
        tol = sqrt_eps * abs(x) + xatol / 3.0
        tol2 = 2.0 * tol
        if abs(x - mid) <= tol2 - 0.5 * (b - a):
            break
        use_golden = True
        if abs(e) > tol:  # try a parabola through x, w, v
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            e_prev, e = e, d
            if abs(p) < abs(0.5 * q * e_prev) and q * (a - x) < p < q * (b - x):
                d = p / q
                u = x + d
                if u - a < tol2 or b - u < tol2:
                    d = tol if mid >= x else -tol
                use_golden = False
        if use_golden:
            e = (a - x) if x >= mid else (b - x)
            d = golden * e
        u = x + (d if abs(d) >= tol else math.copysign(tol, d) if d != 0 else tol)
        fu = f(u)
        if fu <= fx:
            if u >= x:
                a = x
            else:
                b = x
            v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv, w, fw = w, fw, u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu
    return x
