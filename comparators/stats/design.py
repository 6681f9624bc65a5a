"""Trial design for single-arm phase II studies of response rate, plus event-driven sizing.

Contents
--------
* Simon's two-stage designs (Simon R, Controlled Clin Trials 1989;10:1-10): :func:`simon_designs`
  returns the optimal design (minimum expected sample size under p0) and the minimax design
  (minimum maximum sample size, then minimum EN(p0)). The exact search reproduces R
  ``clinfun::ph2simon`` (Fortran routine ``f2bdry``), including its strict inequalities and
  its tie-breaking, so the designs equal the ones clinfun prints.
* :func:`oc_curve` - operating characteristics of a two-stage design over true response rates.
* :func:`single_stage_design` - the exact single-stage design of A'Hern (Stat Med 2001;20:859-866).
* :func:`precision_table` / :func:`n_for_half_width` - CI half-width against sample size.
* Event-driven sizing for a randomised time-to-event comparison: exponential hazards from
  medians, Schoenfeld's number of events (Biometrics 1983;39:499-503) and the number of patients
  needed to observe them under uniform accrual.

Rule convention (as clinfun and Simon): the drug is rejected if ``<= r1`` responses are seen in
the first ``n1`` patients, or ``<= r`` responses in all ``n``; it is declared promising if
``> r`` responses are seen in ``n``. Error rates: alpha = P(declare promising | p0),
power = P(declare promising | p1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import binom, norm

from comparators.errors import InputError
from comparators.inputs import parse_level
from comparators.stats.proportions import CI_METHODS, proportion_ci

SIMON_NMAX_LIMIT = 1000  # clinfun::ph2simon's own limit ("nmax cannot exceed 1000")

DesignKind = Literal["optimal", "minimax"]


class DesignInputError(InputError):
    """Design parameters that cannot be used (message is meant for the user)."""


# --------------------------------------------------------------------------- helpers


def _pct(x: float, digits: int = 1) -> str:
    """0.1 -> '10%', 0.125 -> '12.5%', 0.736 -> '73.6%' (digits only when needed)."""
    v = round(100 * x, digits)
    return f"{v:.{digits}f}".rstrip("0").rstrip(".") + "%"


def _check_rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignInputError(f"{name} must be a number between 0 and 1, got {value!r}")
    if not 0 < value < 1:
        raise DesignInputError(f"{name} must be strictly between 0 and 1, got {value!r}")
    return float(value)


def _check_error_rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignInputError(f"{name} must be a number in (0, 0.5], got {value!r}")
    if not 0 < value <= 0.5:
        raise DesignInputError(f"{name} must be in (0, 0.5] (e.g. 0.05 or 0.2), got {value!r}")
    return float(value)


def _check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DesignInputError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise DesignInputError(f"{name} must be a whole number, got {value!r}")
    v = int(value)
    if v < low or (high is not None and v > high):
        rng = f"at least {low}" if high is None else f"between {low} and {high}"
        raise DesignInputError(f"{name} must be {rng}, got {v}")
    return v


def _check_positive(name: str, value: object, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DesignInputError(f"{name} must be a finite number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "0 or more" if allow_zero else "greater than 0"
        raise DesignInputError(f"{name} must be {bound}, got {value!r}")
    return float(value)


def _check_p0_p1(p0: object, p1: object) -> tuple[float, float]:
    p0f, p1f = _check_rate("p0", p0), _check_rate("p1", p1)
    if p0f >= p1f:
        raise DesignInputError(
            f"p1 (the response rate worth pursuing, {p1f:g}) must be larger than "
            f"p0 (the uninteresting rate, {p0f:g})"
        )
    return p0f, p1f


# --------------------------------------------------------------------------- Simon two-stage


def two_stage_reject_prob(r1: int, n1: int, r: int, n: int, p: float | np.ndarray) -> np.ndarray:
    """P(declare promising) = P(X1 > r1 and X1 + X2 > r) for true response rate(s) ``p``.

    Simon 1989, eq. (1): 1 - [B(r1; p, n1) + sum_{x=r1+1}^{min(n1, r)} b(x; p, n1) B(r-x; p, n2)].
    """
    p_arr = np.atleast_1d(np.asarray(p, dtype=float))
    n2 = n - n1
    x1 = np.arange(r1 + 1, n1 + 1)
    if x1.size == 0:
        return np.zeros_like(p_arr)
    b1 = binom.pmf(x1[None, :], n1, p_arr[:, None])
    s2 = binom.sf(r - x1[None, :], n2, p_arr[:, None])  # P(X2 > r - x1); 1 when r - x1 < 0
    return np.asarray((b1 * s2).sum(axis=1))


@dataclass(frozen=True)
class SimonDesign:
    """One Simon two-stage design with its attained operating characteristics."""

    r1: int
    n1: int
    r: int
    n: int
    en0: float
    pet0: float
    alpha: float  # attained P(declare promising | p0)
    power: float  # attained P(declare promising | p1)
    p0: float
    p1: float
    kind: str  # "optimal" | "minimax"
    nominal_alpha: float
    nominal_beta: float

    @property
    def n2(self) -> int:
        return self.n - self.n1

    def to_dict(self) -> dict[str, float | int | str]:
        d: dict[str, float | int | str] = {
            "r1": self.r1,
            "n1": self.n1,
            "r": self.r,
            "n": self.n,
            "en0": self.en0,
            "pet0": self.pet0,
            "alpha": self.alpha,
            "power": self.power,
        }
        d.update(kind=self.kind, p0=self.p0, p1=self.p1, n2=self.n2)
        return d

    def sentence(self) -> str:
        """The design as it would be written in a protocol."""
        stop = (
            "stop for futility if no patient responds"
            if self.r1 == 0
            else f"stop for futility if {self.r1} or fewer respond"
        )
        return (
            f"Simon's {self.kind} two-stage design (p0 = {_pct(self.p0)}, p1 = {_pct(self.p1)}, "
            f"one-sided alpha {self.nominal_alpha:g}, power {_pct(1 - self.nominal_beta)}): "
            f"enrol {self.n1} patients in stage 1; {stop}; otherwise enrol {self.n2} more "
            f"({self.n} in total) and reject the drug if {self.r} or fewer of {self.n} respond. "
            f"Expected sample size under p0: {self.en0:.1f}; probability of early termination "
            f"under p0: {_pct(self.pet0)}."
        )


@dataclass(frozen=True)
class SimonResult:
    """Optimal and minimax designs, plus the best design for feasible maximum sizes n (clinfun's
    ``out`` matrix, for every n from the minimax size up to where simon_designs stops needing
    every n; beyond that, the n whose best design has a smaller EN(p0))."""

    optimal: SimonDesign
    minimax: SimonDesign
    nmax: int
    frontier: tuple[tuple[int, int, int, int, float, float], ...]  # (r1, n1, r, n, en0, pet0)

    @property
    def near_nmax(self) -> bool:
        """clinfun's warning: the optimal n is within 10 of nmax, so a larger nmax may find a
        design with smaller EN(p0)."""
        return self.optimal.n > self.nmax - 10

    @property
    def notes(self) -> tuple[str, ...]:
        if self.near_nmax:
            return (
                f"The optimal design's total size ({self.optimal.n}) is close to nmax "
                f"({self.nmax}); a larger nmax may give a smaller expected sample size.",
            )
        return ()

    def to_dict(self) -> dict[str, object]:
        return {
            "optimal": self.optimal.to_dict(),
            "minimax": self.minimax.to_dict(),
            "nmax": self.nmax,
            "notes": list(self.notes),
        }

    def to_frame(self) -> pd.DataFrame:
        """Best design (minimum EN(p0)) for each maximum sample size n, as clinfun's ``out``."""
        return pd.DataFrame(list(self.frontier), columns=["r1", "n1", "r", "n", "en0", "pet0"])


def _make_design(
    kind: str,
    row: tuple[int, int, int, int, float, float],
    p0: float,
    p1: float,
    alpha: float,
    beta: float,
) -> SimonDesign:
    r1, n1, r, n, en0, pet0 = row
    a, pw = two_stage_reject_prob(r1, n1, r, n, np.array([p0, p1]))
    return SimonDesign(
        r1=r1,
        n1=n1,
        r=r,
        n=n,
        en0=en0,
        pet0=pet0,
        alpha=float(a),
        power=float(pw),
        p0=p0,
        p1=p1,
        kind=kind,
        nominal_alpha=alpha,
        nominal_beta=beta,
    )


_Row = tuple[int, int, int, int, float, float]


def _simon_frontier(p0: float, p1: float, alpha: float, beta: float, nmax: int,
                    progress: Callable[[float], object] | None, n_lo: int = 0,
                    en_cap: float = math.inf) -> list[_Row]:
    """Best design (min EN(p0), clinfun's tie-breaking) for every n in (n_lo, nmax] that has a
    feasible design with EN(p0) < en_cap (with the defaults: every feasible n <= nmax).

    Vectorised: for each n1 the rejection probabilities for all (r1, n2, r) are accumulated over
    x1 with numpy slices; r1 is restricted to P(X1 <= r1 | p1) < beta (necessary for power) and
    r to values at which a single-stage test of size n could still have power > 1 - beta.
    With a finite en_cap, n1, n2 and r1 that cannot give EN(p0) = n1 + (1 - PET) n2 < en_cap
    are skipped (PET <= P(X1 <= r1max | p0), and PET grows with r1).
    """
    ks = np.arange(nmax + 1)
    ns = np.arange(nmax + 1)
    off = nmax + 1  # column offset so that sf tables can be indexed with negative k
    kk = np.arange(-off, nmax + 1)
    pmf0 = binom.pmf(ks[None, :], ns[:, None], p0)
    pmf1 = binom.pmf(ks[None, :], ns[:, None], p1)
    sf0 = binom.sf(kk[None, :], ns[:, None], p0)  # sf[n, off + k] = P(X_n > k)
    sf1 = binom.sf(kk[None, :], ns[:, None], p1)
    cdf0 = binom.cdf(ks[None, :], ns[:, None], p0)
    cdf1 = binom.cdf(ks[None, :], ns[:, None], p1)

    # rs[n]: largest r with P(X_n > r | p1) > 1 - beta. A two-stage design of size n rejects
    # only if X > r, so its power is at most P(X_n > r | p1): r <= rs[n] for any feasible design.
    ok = sf1[:, off:] > 1 - beta
    rs = np.where(ok.any(axis=1), ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), -1)

    best_ess = np.full(nmax + 1, np.inf)
    best_row: list[_Row | None] = [None] * (nmax + 1)
    work = np.array([n1 * (nmax - n1) for n1 in range(1, nmax)], dtype=float)
    total_work, done = float(work.sum()) or 1.0, 0.0

    for n1 in range(1, nmax):
        done += work[n1 - 1]
        if progress is not None:
            progress(done / total_work)
        if n1 >= en_cap:
            break  # EN(p0) > n1 for every design with this (or a larger) n1
        R = int(rs[max(n1 + 1, n_lo + 1) : nmax + 1].max()) + 1  # r window: .. R-1
        cont = np.nonzero(cdf1[n1, :n1] < beta)[0]
        if R <= 0 or cont.size == 0:
            continue
        r1max = min(int(cont[-1]), R - 1)  # r >= r1 is also required
        n2_lo, n2_hi = max(1, n_lo - n1 + 1), nmax - n1
        if math.isfinite(en_cap):
            free = 1 - cdf0[n1, r1max]  # 1 - the largest possible PET(p0)
            if free > 0:
                n2_hi = min(n2_hi, int(math.floor((en_cap - n1) / free)))
            # smallest r1 with n1 + (1 - PET(r1)) n2_lo < en_cap
            can = n1 + (1 - cdf0[n1, : r1max + 1]) * n2_lo < en_cap
            if not can.any():
                continue
            r1_lo = int(np.argmax(can))
        else:
            r1_lo = 0
        if n2_lo > n2_hi:
            continue
        n2s = np.arange(n2_lo, n2_hi + 1)
        S1 = sf1[n2_lo : n2_hi + 1]
        S0 = sf0[n2_lo : n2_hi + 1]
        rb = r1_lo  # r >= r1 >= r1_lo: the r window is rb .. R-1
        width = R - rb
        top = min(n1, R - 1)
        nr1 = r1max - r1_lo + 1
        # x1 > top exceed every r in the window, so they always go on to reject: P(X1 > top).
        acc1 = np.full((n2s.size, width), sf1[n1, off + top])
        acc0 = np.full((n2s.size, width), sf0[n1, off + top])
        pw = np.empty((nr1, n2s.size, width))
        al = np.empty((nr1, n2s.size, width))
        if r1_lo <= top <= r1max:  # r1 = top: only x1 > top go on, P(X1 > top, X > r) = acc
            pw[top - r1_lo] = acc1
            al[top - r1_lo] = acc0
        for x1 in range(top, r1_lo, -1):
            acc1 += pmf1[n1, x1] * S1[:, off - x1 + rb : off - x1 + R]
            acc0 += pmf0[n1, x1] * S0[:, off - x1 + rb : off - x1 + R]
            if x1 - 1 <= r1max:  # acc = P(X1 > x1 - 1, X > r): the design with r1 = x1 - 1
                pw[x1 - 1 - r1_lo] = acc1
                al[x1 - 1 - r1_lo] = acc0
        r = np.arange(rb, R)
        r1v = np.arange(r1_lo, r1max + 1)
        window = (r[None, None, :] >= r1v[:, None, None]) & (
            r[None, None, :] <= r1v[:, None, None] + n2s[None, :, None]
        )
        ok_pow = (pw > 1 - beta) & window
        any_ok = ok_pow.any(axis=2)
        r_pow = width - 1 - np.argmax(ok_pow[:, :, ::-1], axis=2)  # largest r with power
        a_at = np.take_along_axis(al, r_pow[:, :, None], axis=2)[:, :, 0]
        feasible = any_ok & (a_at < alpha)  # (r1, n2)
        if feasible.any():
            pet = cdf0[n1, r1_lo : r1max + 1]
            ess = n1 + (1 - pet)[:, None] * n2s[None, :]
            masked = np.where(feasible & (ess < en_cap), ess, np.inf)
            # smallest EN(p0) over r1; ties -> largest r1 (clinfun loops r1 downwards)
            j = nr1 - 1 - np.argmin(masked[::-1, :], axis=0)
            e = masked[j, np.arange(n2s.size)]
            for i2 in np.nonzero(np.isfinite(e))[0]:
                n = n1 + int(n2s[i2])
                if e[i2] < best_ess[n] and e[i2] < n:
                    jj = int(j[i2])
                    best_ess[n] = e[i2]
                    best_row[n] = (jj + r1_lo, n1, int(r_pow[jj, i2]) + rb, n, float(e[i2]),
                                   float(pet[jj]))

    if progress is not None:
        progress(1.0)
    return [row for row in best_row if row is not None]


def _en_lower_bound(p0: float, p1: float, beta: float, n: int) -> float:
    """A lower bound on EN(p0) of every feasible two-stage design with total size >= n.

    Power > 1 - beta needs P(X1 <= r1 | p1) < beta, so PET(p0) = P(X1 <= r1 | p0) is at most
    pet_max(n1) = P(X1 <= r1max(n1) | p0) with r1max the largest such r1 (r1 >= 0). Hence
    EN = n1 + (1 - PET) n2 >= min over n1 < n of n1 + (1 - pet_max(n1)) (n - n1) for size n,
    and this bound does not decrease with n (n1 >= n contribute at least n1 >= n).
    """
    n1 = np.arange(1, n)
    k = np.arange(n)
    ok = (binom.cdf(k[None, :], n1[:, None], p1) < beta) & (k[None, :] < n1[:, None])
    has = ok.any(axis=1)
    r1max = np.where(has, ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), 0)
    pet_max = binom.cdf(r1max, n1, p0)
    vals = (n1 + (1 - pet_max) * (n - n1))[has]
    return float(min(vals.min(), n)) if vals.size else float(n)


def _most_powerful_power(p0: float, p1: float, alpha: float, n: int) -> float:
    """Power at p1 of the most powerful (randomised) level-alpha test of p0 against p1 > p0
    with n patients: reject when X > c, and with probability g when X = c (Neyman-Pearson)."""
    k = np.arange(n + 1)
    sf0 = binom.sf(k, n, p0)  # P(X > k | p0), falling in k
    c = int(np.argmax(sf0 <= alpha))  # the smallest c with P(X > c | p0) <= alpha
    g = (alpha - sf0[c]) / binom.pmf(c, n, p0)
    return float(binom.sf(c, n, p1) + min(1.0, g) * binom.pmf(c, n, p1))


def _single_stage_n(p0: float, p1: float, alpha: float, beta: float,
                    limit: int = 5000) -> int | None:
    """Patients of the exact single-stage design, None beyond `limit` (checked first with the
    Neyman-Pearson bound: the search up to 5000 costs seconds when nothing is found)."""
    if _most_powerful_power(p0, p1, alpha, limit) <= 1 - beta:
        return None
    try:
        return single_stage_design(p0, p1, alpha, beta, nmax=limit).n
    except DesignInputError:
        return None


def simon_designs(
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    nmax: int = 100,
    progress: Callable[[float], object] | None = None,
) -> SimonResult:
    """Simon's optimal and minimax two-stage designs by exact enumeration (= clinfun ph2simon).

    For every total size n, every stage-1 size n1 < n and every stage-1 boundary r1, the final
    boundary r is the largest r with power > 1 - beta (power and alpha both fall as r grows, so
    this r also has the smallest alpha); the design is feasible if its alpha < alpha. Among
    feasible designs with the same n the one with the smallest EN(p0) is kept (ties: the
    smallest n1, then the largest r1 - clinfun's loop order). Minimax = the smallest feasible n;
    optimal = the smallest EN(p0) over n (ties: smallest n). Inequalities are strict, as in
    clinfun's ``f2bdry``.

    Why it is fast up to nmax = 1000: every design of every n is searched only up to a window
    that contains the minimax design (the smallest feasible n, from about the single-stage size
    upwards). Beyond it, only designs whose EN(p0) is below the best found are searched, and only
    up to the n where a lower bound on EN(p0) (``_en_lower_bound``) exceeds it, since no larger
    design can then be optimal. The optimal and minimax designs are therefore exactly clinfun's;
    ``frontier`` holds the best design of every n in the window, and beyond it of every n whose
    best design beats the window's best EN(p0) (clinfun's ``out`` lists every n up to nmax).

    ``progress``, if given, is called with a non-decreasing fraction in [0, 1].
    """
    p0, p1 = _check_p0_p1(p0, p1)
    alpha = _check_error_rate("alpha", alpha)
    beta = _check_error_rate("beta", beta)
    if isinstance(nmax, int | float) and not isinstance(nmax, bool) and nmax > SIMON_NMAX_LIMIT:
        raise DesignInputError(
            f"nmax must be at most {SIMON_NMAX_LIMIT} (the limit of clinfun::ph2simon and of "
            f"this search), got {nmax:g}")
    nmax = _check_int("nmax", nmax, 2, SIMON_NMAX_LIMIT)

    single_n = _single_stage_n(p0, p1, alpha, beta)
    start = nmax if single_n is None else single_n
    # A two-stage design with at most nmax patients is a test on nmax patients' outcomes, so
    # its power cannot exceed the most powerful level-alpha test's (Neyman-Pearson lemma). When
    # even that test falls short, no design exists: say so at once instead of enumerating every
    # design up to nmax (~30 s for p0 0.5 vs p1 0.501 at nmax 500, issue 15).
    feasible = _most_powerful_power(p0, p1, alpha, nmax) > 1 - beta
    last = [0.0]

    def report(lo: float, hi: float) -> Callable[[float], object] | None:
        if progress is None:
            return None

        def inner(f: float) -> None:
            value = min(1.0, max(last[0], lo + f * (hi - lo)))  # never goes back
            last[0] = value
            progress(value)

        return inner

    # Phase A: every design of every n up to a window that contains the minimax design (the
    # smallest feasible n), growing the window from about the single-stage size.
    window = min(nmax, max(20, start + 5))
    rows = _simon_frontier(p0, p1, alpha, beta, window, report(0.0, 0.5)) if feasible else []
    while feasible and not rows and window < nmax:
        lo, window = window, min(nmax, int(1.25 * window) + 5)
        rows = _simon_frontier(p0, p1, alpha, beta, window, report(0.0, 0.5), n_lo=lo)
    # Phase B: larger n only matter if they can beat the best EN(p0) so far; the lower bound
    # says up to which n they can, and only designs with a smaller EN(p0) are searched.
    if rows and window < nmax:
        en_best = min(row[4] for row in rows)
        stop = window + 1
        while stop <= nmax and _en_lower_bound(p0, p1, beta, stop) <= en_best:
            stop = min(nmax + 1, stop + max(1, stop // 8))
        if stop > window + 1:
            rows += _simon_frontier(p0, p1, alpha, beta, min(nmax, stop), report(0.5, 1.0),
                                    n_lo=window, en_cap=en_best)
    if progress is not None:
        progress(1.0)
    if not rows:
        hint = f" (a single-stage design needs {single_n} patients)" if single_n else ""
        raise DesignInputError(
            f"No two-stage design with at most {nmax} patients reaches alpha < {alpha:g} and "
            f"power > {1 - beta:g} for p0 = {p0:g} vs p1 = {p1:g}{hint}. Increase nmax or "
            f"widen the gap between p0 and p1."
        )
    minimax_row = rows[0]
    en_min = min(row[4] for row in rows)
    optimal_row = next(row for row in rows if row[4] == en_min)
    return SimonResult(
        optimal=_make_design("optimal", optimal_row, p0, p1, alpha, beta),
        minimax=_make_design("minimax", minimax_row, p0, p1, alpha, beta),
        nmax=nmax,
        frontier=tuple(rows),
    )


def oc_curve(
    design: SimonDesign, p_grid: Iterable[float] | np.ndarray | None = None
) -> pd.DataFrame:
    """Operating characteristics of a two-stage design over true response rates.

    Columns: ``p`` (true response rate), ``prob_promising`` (P(> r responses in n), i.e. the
    drug is declared promising), ``pet`` (P(<= r1 in n1), early termination), ``en`` (expected
    number of patients, n1 + (1 - pet) * n2). Default grid: 0 to 1 by 0.01.
    """
    grid = np.linspace(0, 1, 101) if p_grid is None else np.asarray(list(p_grid), dtype=float)
    if grid.ndim != 1 or grid.size == 0:
        raise DesignInputError("p_grid must be a non-empty list of response rates")
    if not np.all(np.isfinite(grid)) or grid.min() < 0 or grid.max() > 1:
        raise DesignInputError("every response rate in p_grid must be between 0 and 1")
    reject = two_stage_reject_prob(design.r1, design.n1, design.r, design.n, grid)
    pet = binom.cdf(design.r1, design.n1, grid)
    return pd.DataFrame(
        {
            "p": grid,
            "prob_promising": reject,
            "pet": pet,
            "en": design.n1 + (1 - pet) * design.n2,
        }
    )


# --------------------------------------------------------------------------- single stage


@dataclass(frozen=True)
class SingleStageDesign:
    """A'Hern exact single-stage design: the drug is promising if >= ``r`` of ``n`` respond."""

    n: int
    r: int  # responses needed to declare the drug promising (reject H0)
    alpha: float  # attained P(X >= r | p0)
    power: float  # attained P(X >= r | p1)
    p0: float
    p1: float
    nominal_alpha: float
    nominal_beta: float

    @property
    def reject_if_at_most(self) -> int:
        """Simon/clinfun convention: the drug is rejected if <= this many respond."""
        return self.r - 1

    def to_dict(self) -> dict[str, float | int]:
        d = asdict(self)
        d["reject_if_at_most"] = self.reject_if_at_most
        return d

    def sentence(self) -> str:
        return (
            f"A'Hern exact single-stage design (p0 = {_pct(self.p0)}, p1 = {_pct(self.p1)}, "
            f"one-sided alpha {self.nominal_alpha:g}, power {_pct(1 - self.nominal_beta)}): "
            f"enrol {self.n} patients; the drug is considered promising if {self.r} or more "
            f"respond and rejected if {self.reject_if_at_most} or fewer respond. Attained "
            f"alpha {self.alpha:.3f}; attained power {_pct(self.power)}."
        )


def single_stage_design(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, nmax: int = 5000
) -> SingleStageDesign:
    """A'Hern (2001): the smallest n for which some r has P(X >= r | p0) <= alpha and
    P(X >= r | p1) >= 1 - beta (exact binomial). For each n the smallest r meeting the alpha
    constraint is taken, since it maximises power."""
    p0, p1 = _check_p0_p1(p0, p1)
    alpha = _check_error_rate("alpha", alpha)
    beta = _check_error_rate("beta", beta)
    nmax = _check_int("nmax", nmax, 1, 100_000)
    chunk = 256
    for start in range(1, nmax + 1, chunk):
        n = np.arange(start, min(start + chunk, nmax + 1))
        k = np.arange(0, n[-1] + 2)
        # tail0[n, r] = P(X >= r | p0) = sf(r - 1)
        tail0 = binom.sf(k[None, :] - 1, n[:, None], p0)
        valid = (tail0 <= alpha) & (k[None, :] <= n[:, None] + 1)
        r = np.argmax(valid, axis=1)  # smallest r meeting alpha (r = n + 1 always does)
        power = binom.sf(r - 1, n, p1)
        hit = np.nonzero((r <= n) & (power >= 1 - beta))[0]
        if hit.size:
            i = int(hit[0])
            nn, rr = int(n[i]), int(r[i])
            return SingleStageDesign(
                n=nn,
                r=rr,
                alpha=float(binom.sf(rr - 1, nn, p0)),
                power=float(power[i]),
                p0=p0,
                p1=p1,
                nominal_alpha=alpha,
                nominal_beta=beta,
            )
    raise DesignInputError(
        f"No single-stage design with at most {nmax} patients reaches alpha <= {alpha:g} and "
        f"power >= {1 - beta:g} for p0 = {p0:g} vs p1 = {p1:g}."
    )


# --------------------------------------------------------------------------- precision


def _check_method_level(method: str, level: float) -> tuple[str, float]:
    if method not in CI_METHODS:
        raise DesignInputError(
            f"unknown CI method {method!r}; choose one of {', '.join(CI_METHODS)}"
        )
    return method, parse_level(level, error=DesignInputError)


def _half_width(p: float, n: int, level: float, method: str) -> tuple[int, float, float, float]:
    k = int(round(p * n))
    ci = proportion_ci(k, n, method=method, level=level)
    return k, ci.low, ci.high, (ci.high - ci.low) / 2


def precision_table(
    p: float, ns: Sequence[int] | Iterable[int], level: float = 0.95, method: str = "wilson"
) -> pd.DataFrame:
    """Confidence-interval half-width against sample size at an anticipated response rate p.

    For each n the interval is computed for k = round(p * n) responders with
    :func:`comparators.proportions.proportion_ci`; ``half_width`` = (high - low) / 2.
    Columns: n, responders, estimate, low, high, half_width.
    """
    p = _check_rate("p", p) if p not in (0, 1) else float(p)
    method, level = _check_method_level(method, level)
    rows = []
    for n in ns:
        n_i = _check_int("n", n, 1)
        k, low, high, hw = _half_width(p, n_i, level, method)
        rows.append(
            {
                "n": n_i,
                "responders": k,
                "estimate": k / n_i,
                "low": low,
                "high": high,
                "half_width": hw,
            }
        )
    if not rows:
        raise DesignInputError("give at least one sample size")
    return pd.DataFrame(rows)


def n_for_half_width(
    p: float, half_width: float, level: float = 0.95, method: str = "wilson", n_max: int = 100_000
) -> int:
    """Smallest n whose interval (k = round(p * n)) has half-width <= ``half_width``.

    The search starts below the Wald-formula answer z^2 p (1 - p) / h^2 (at a quarter of it,
    where every method's half-width is still about twice the target) and scans upwards.
    """
    p = _check_rate("p", p) if p not in (0, 1) else float(p)
    method, level = _check_method_level(method, level)
    if (
        isinstance(half_width, bool)
        or not isinstance(half_width, int | float)
        or not (0 < half_width < 0.5)
    ):
        raise DesignInputError(f"half_width must be between 0 and 0.5, got {half_width!r}")
    z = float(norm.ppf(1 - (1 - level) / 2))
    wald = z * z * max(p * (1 - p), 1e-12) / half_width**2
    n = max(1, int(wald / 4))
    while n <= n_max:
        if _half_width(p, n, level, method)[3] <= half_width:
            return n
        n += 1
    raise DesignInputError(
        f"no n up to {n_max} gives a half-width of {half_width:g}; choose a wider target"
    )


# --------------------------------------------------------------------------- time to event


def exponential_from_median(median: float) -> float:
    """Hazard rate of an exponential distribution with the given median: ln 2 / median."""
    return math.log(2) / _check_positive("median", median)


def implied_hazard_ratio(median_control: float, median_experimental: float) -> float:
    """Experimental-to-control hazard ratio under exponential survival:
    (ln2 / m_E) / (ln2 / m_C) = m_C / m_E. Below 1 means the experimental arm does better."""
    return exponential_from_median(median_experimental) / exponential_from_median(median_control)


def schoenfeld_events(
    hr: float, alpha: float = 0.05, power: float = 0.8, allocation: float = 0.5, sides: int = 2
) -> float:
    """Schoenfeld (1983) number of events for a log-rank / Cox test of hazard ratio ``hr``:

        D = (z_{1 - alpha/sides} + z_{power})^2 / (a (1 - a) (ln hr)^2)

    with ``a`` the proportion randomised to the experimental arm (1:1 -> a = 0.5, giving the
    familiar 4 (z + z)^2 / (ln hr)^2). Returned unrounded; round up for a protocol.
    """
    hr = _check_positive("hazard ratio", hr)
    if hr == 1:
        raise DesignInputError("the hazard ratio must differ from 1 to size a trial")
    if not 0 < alpha < 1:
        raise DesignInputError(f"alpha must be between 0 and 1, got {alpha!r}")
    if not 0 < power < 1:
        raise DesignInputError(f"power must be between 0 and 1, got {power!r}")
    if not 0 < allocation < 1:
        raise DesignInputError(f"allocation must be between 0 and 1, got {allocation!r}")
    if sides not in (1, 2):
        raise DesignInputError(f"sides must be 1 or 2, got {sides!r}")
    z = float(norm.ppf(1 - alpha / sides) + norm.ppf(power))
    return z * z / (allocation * (1 - allocation) * math.log(hr) ** 2)


def event_probability(hazard: float, accrual_time: float, follow_up: float) -> float:
    """P(event observed by the final analysis) for exponential(hazard) survival, uniform accrual
    over [0, accrual_time] and ``follow_up`` further time after accrual closes:

        1 - [exp(-h f) - exp(-h (A + f))] / (h A)     (A > 0),   1 - exp(-h f)   (A = 0).
    """
    h = _check_positive("hazard", hazard)
    a = _check_positive("accrual_time", accrual_time, allow_zero=True)
    f = _check_positive("follow_up", follow_up, allow_zero=True)
    if a == 0 and f == 0:
        raise DesignInputError("accrual_time and follow_up cannot both be 0")
    if a == 0:
        return 1 - math.exp(-h * f)
    return 1 - (math.exp(-h * f) - math.exp(-h * (a + f))) / (h * a)


@dataclass(frozen=True)
class EventDrivenSize:
    """Patients needed to observe a target number of events (exponential survival, uniform
    accrual)."""

    events: int
    hazard_control: float
    hazard_experimental: float
    accrual_time: float
    follow_up: float
    allocation: float
    prob_event_control: float
    prob_event_experimental: float
    prob_event: float
    patients: int
    patients_control: int
    patients_experimental: int

    @property
    def hazard_ratio(self) -> float:
        return self.hazard_experimental / self.hazard_control

    def to_dict(self) -> dict[str, float | int]:
        d = asdict(self)
        d["hazard_ratio"] = self.hazard_ratio
        return d

    def sentence(self) -> str:
        return (
            f"To observe {self.events} events with uniform accrual over {self.accrual_time:g} "
            f"and {self.follow_up:g} further of follow-up (same time unit as the medians), enrol "
            f"{self.patients} patients ({self.patients_experimental} experimental, "
            f"{self.patients_control} control); the probability of an observed event is "
            f"{_pct(self.prob_event_control)} on control and "
            f"{_pct(self.prob_event_experimental)} on the experimental arm "
            f"(hazard ratio {self.hazard_ratio:.2f})."
        )


def patients_for_events(
    events: float,
    hazard_control: float,
    hazard_experimental: float,
    accrual_time: float,
    follow_up: float,
    allocation: float = 0.5,
) -> EventDrivenSize:
    """Total patients N such that the expected number of events N * P(event) reaches ``events``,
    with P(event) = (1 - a) P_C + a P_E from :func:`event_probability` (a = experimental share).
    ``events`` is rounded up; N is rounded up and split by ``allocation`` (arms rounded up)."""
    ev = _check_positive("events", events)
    if not 0 < allocation < 1:
        raise DesignInputError(f"allocation must be between 0 and 1, got {allocation!r}")
    d = math.ceil(ev - 1e-9)
    pc = event_probability(hazard_control, accrual_time, follow_up)
    pe = event_probability(hazard_experimental, accrual_time, follow_up)
    pbar = (1 - allocation) * pc + allocation * pe
    total = math.ceil(d / pbar - 1e-9)
    n_e = math.ceil(total * allocation - 1e-9)
    n_c = math.ceil(total * (1 - allocation) - 1e-9)
    return EventDrivenSize(
        events=d,
        hazard_control=float(hazard_control),
        hazard_experimental=float(hazard_experimental),
        accrual_time=float(accrual_time),
        follow_up=float(follow_up),
        allocation=float(allocation),
        prob_event_control=pc,
        prob_event_experimental=pe,
        prob_event=pbar,
        patients=n_c + n_e,
        patients_control=n_c,
        patients_experimental=n_e,
    )
