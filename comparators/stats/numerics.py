"""A bracketed root and a bounded 1-D minimum (Brent 1973), written out because the `pool`
command's start-up budget (1 s) cannot pay for importing scipy.optimize (about 1 s on its own here);
each is compared with scipy.optimize in tests/test_numerics.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

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
