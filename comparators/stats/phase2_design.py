"""Trial designs for single-arm phase II studies of response rate (time-to-event sizing for a
randomised comparison is stats.event_sizing).

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
from scipy.stats import binom

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import check_open_fraction, parse_level
from comparators.stats.distributions import critical_value
from comparators.stats.proportions import CI_CHOICES, proportion_ci

SIMON_NMAX_LIMIT = limits.SIMON_NMAX_LIMIT

DesignKind = Literal["optimal", "minimax"]


class DesignInputError(InputError):
    """Design parameters that cannot be used (message is meant for the user)."""


# --------------------------------------------------------------------------- helpers


def short_percent(x: float, digits: int = 1) -> str:
    """0.1 -> '10%', 0.125 -> '12.5%', 0.736 -> '73.6%' (digits only when needed)."""
    text = f"{100 * x:.{digits}f}"
    if "." in text:  # only zeros after the decimal point are insignificant
        text = text.rstrip("0").rstrip(".")
    return text + "%"


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


def _check_p0_p1(p0: object, p1: object) -> tuple[float, float]:
    p0f = check_open_fraction(p0, what="p0", error=DesignInputError)
    p1f = check_open_fraction(p1, what="p1", error=DesignInputError)
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
            f"Simon's {self.kind} two-stage design (p0 = {short_percent(self.p0)}, "
            f"p1 = {short_percent(self.p1)}, one-sided alpha {self.nominal_alpha:g}, "
            f"power {short_percent(1 - self.nominal_beta)}): "
            f"enrol {self.n1} patients in stage 1; {stop}; otherwise enrol {self.n2} more "
            f"({self.n} in total) and reject the drug if {self.r} or fewer of {self.n} respond. "
            f"Expected sample size under p0: {self.en0:.1f}; probability of early termination "
            f"under p0: {short_percent(self.pet0)}."
        )


@dataclass(frozen=True)
class SimonResult:
    """Optimal and minimax designs, plus the best design of the minimax size and of every
    larger size n <= nmax whose best design has a smaller EN(p0) than every smaller size
    (rows of clinfun's ``out`` matrix: the ones on the way from minimax to optimal)."""

    optimal: SimonDesign
    minimax: SimonDesign
    nmax: int
    frontier: tuple[tuple[int, int, int, int, float, float], ...]  # (r1, n1, r, n, en0, pet0)
    #: binomial terms the search summed (what limits.MAX_SIMON_TERMS bounds)
    terms: int = 0

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
        """The frontier: best design (minimum EN(p0)) of each size listed, as clinfun's ``out``."""
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


@dataclass(frozen=True)
class _FrontierTables:
    """Binomial pmf, sf and cdf for every n <= nmax under p0 and p1, and the r bound rs[n].

    The sf tables carry a column offset ``off`` so that they can be indexed with negative k:
    sf[n, off + k] = P(X_n > k).
    """

    off: int
    pmf0: np.ndarray
    pmf1: np.ndarray
    sf0: np.ndarray
    sf1: np.ndarray
    cdf0: np.ndarray
    cdf1: np.ndarray
    rs: np.ndarray


def _frontier_tables(p0: float, p1: float, beta: float, nmax: int) -> _FrontierTables:
    ks = np.arange(nmax + 1)
    ns = np.arange(nmax + 1)
    off = nmax + 1
    kk = np.arange(-off, nmax + 1)
    sf1 = binom.sf(kk[None, :], ns[:, None], p1)
    # rs[n]: largest r with P(X_n > r | p1) > 1 - beta. A two-stage design of size n rejects
    # only if X > r, so its power is at most P(X_n > r | p1): r <= rs[n] for any feasible design.
    ok = sf1[:, off:] > 1 - beta
    rs = np.where(ok.any(axis=1), ok.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1), -1)
    return _FrontierTables(
        off=off,
        pmf0=binom.pmf(ks[None, :], ns[:, None], p0),
        pmf1=binom.pmf(ks[None, :], ns[:, None], p1),
        sf0=binom.sf(kk[None, :], ns[:, None], p0),
        sf1=sf1,
        cdf0=binom.cdf(ks[None, :], ns[:, None], p0),
        cdf1=binom.cdf(ks[None, :], ns[:, None], p1),
        rs=rs,
    )


def _rejection_probabilities(tab: _FrontierTables, n1: int, n2s: np.ndarray, r1_lo: int,
                             r1max: int, R: int) -> tuple[np.ndarray, np.ndarray]:
    """P(X1 > r1, X > r) under p1 (power) and p0 (alpha), indexed [r1, n2, r], for
    r1 in r1_lo..r1max, the n2 in n2s (consecutive) and r in r1_lo..R-1."""
    off = tab.off
    S1 = tab.sf1[n2s[0] : n2s[-1] + 1]
    S0 = tab.sf0[n2s[0] : n2s[-1] + 1]
    rb = r1_lo  # r >= r1 >= r1_lo: the r window is rb .. R-1
    width = R - rb
    top = min(n1, R - 1)
    nr1 = r1max - r1_lo + 1
    # x1 > top exceed every r in the window, so they always go on to reject: P(X1 > top).
    acc1 = np.full((n2s.size, width), tab.sf1[n1, off + top])
    acc0 = np.full((n2s.size, width), tab.sf0[n1, off + top])
    pw = np.empty((nr1, n2s.size, width))
    al = np.empty((nr1, n2s.size, width))
    if r1_lo <= top <= r1max:  # r1 = top: only x1 > top go on, P(X1 > top, X > r) = acc
        pw[top - r1_lo] = acc1
        al[top - r1_lo] = acc0
    for x1 in range(top, r1_lo, -1):
        acc1 += tab.pmf1[n1, x1] * S1[:, off - x1 + rb : off - x1 + R]
        acc0 += tab.pmf0[n1, x1] * S0[:, off - x1 + rb : off - x1 + R]
        if x1 - 1 <= r1max:  # acc = P(X1 > x1 - 1, X > r): the design with r1 = x1 - 1
            pw[x1 - 1 - r1_lo] = acc1
            al[x1 - 1 - r1_lo] = acc0
    return pw, al


def _keep_best_designs(tab: _FrontierTables, n1: int, n2s: np.ndarray, r1_lo: int, r1max: int,
                       R: int, alpha: float, beta: float, en_cap: float,
                       best_ess: np.ndarray, best_row: list[_Row | None]) -> None:
    """Record in best_ess / best_row every design with this n1 that beats the best of its n."""
    pw, al = _rejection_probabilities(tab, n1, n2s, r1_lo, r1max, R)
    rb, width, nr1 = r1_lo, R - r1_lo, r1max - r1_lo + 1
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
    if not feasible.any():
        return
    pet = tab.cdf0[n1, r1_lo : r1max + 1]
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
    tab = _frontier_tables(p0, p1, beta, nmax)
    cdf0 = tab.cdf0
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
        R = int(tab.rs[max(n1 + 1, n_lo + 1) : nmax + 1].max()) + 1  # r window: .. R-1
        cont = np.nonzero(tab.cdf1[n1, :n1] < beta)[0]
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
        _keep_best_designs(tab, n1, np.arange(n2_lo, n2_hi + 1), r1_lo, r1max, R, alpha, beta,
                           en_cap, best_ess, best_row)

    if progress is not None:
        progress(1.0)
    return [row for row in best_row if row is not None]


def _most_powerful_power(p0: float, p1: float, alpha: float, n: int) -> float:
    """Power at p1 of the most powerful (randomised) level-alpha test of p0 against p1 > p0
    with n patients: reject when X > c, and with probability g when X = c (Neyman-Pearson)."""
    k = np.arange(n + 1)
    sf0 = binom.sf(k, n, p0)  # P(X > k | p0), falling in k
    c = int(np.argmax(sf0 <= alpha))  # the smallest c with P(X > c | p0) <= alpha
    g = (alpha - sf0[c]) / binom.pmf(c, n, p0)
    return float(binom.sf(c, n, p1) + min(1.0, g) * binom.pmf(c, n, p1))


def _smallest_feasible_n(p0: float, p1: float, alpha: float, beta: float,
                         nmax: int) -> int | None:
    """Smallest n <= nmax at which the most powerful level-alpha test reaches power > 1 - beta
    (None if none does). A two-stage design of size n is a test on n patients' outcomes, so no
    design with fewer patients exists (Neyman-Pearson); that power grows with n (bisection)."""
    if _most_powerful_power(p0, p1, alpha, nmax) <= 1 - beta:
        return None
    lo, hi = 2, nmax
    while lo < hi:
        mid = (lo + hi) // 2
        if _most_powerful_power(p0, p1, alpha, mid) > 1 - beta:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _single_stage_n(p0: float, p1: float, alpha: float, beta: float,
                    limit: int = 5000) -> int | None:
    """Patients of the exact single-stage design, None if it needs more than `limit`."""
    try:
        return single_stage_design(p0, p1, alpha, beta, nmax=limit).n
    except DesignInputError:
        return None


#: Elements of one block of temporaries in the size search (about 2 MB per array).
_BLOCK = 1 << 18
#: Terms of a binomial sum below this (under p0 and under p1) are left out: a thousand of them
#: change a probability by less than 1e-27, far below a double's resolution at alpha or power.
_NEGLIGIBLE = 1e-30


class _BinomialTables:
    """pmf, cdf and upper tails of Bin(n, p0) and Bin(n, p1) for n = 0..nmax, flattened for
    gathers: pmf[n * (nmax + 1) + k], cdf[n * (nmax + 1) + k] (k <= n) and
    sf[n * ncol + off + k] = P(X_n > k) for k = -off..nmax (1 below 0, so no index is clipped).
    ``xlo[n]``/``xhi[n]``: the range of k outside which both pmfs are negligible."""

    def __init__(self, p0: float, p1: float, nmax: int) -> None:
        size = nmax + 1
        self.nmax, self.size = nmax, size
        self.off, self.ncol = size, 2 * size
        n_idx, k_idx = np.tril_indices(size)  # k <= n: the rest is 0 (pmf) or 1 (cdf)
        strict = k_idx < n_idx
        self.pmf: list[np.ndarray] = []
        self.cdf: list[np.ndarray] = []
        self.sf: list[np.ndarray] = []
        for p in (p0, p1):
            pmf = np.zeros((size, size))
            pmf[n_idx, k_idx] = binom.pmf(k_idx, n_idx, p)
            cdf = np.ones((size, size))
            cdf[n_idx, k_idx] = binom.cdf(k_idx, n_idx, p)
            sf = np.zeros((size, self.ncol))
            sf[:, : self.off] = 1.0
            sf[n_idx[strict], self.off + k_idx[strict]] = binom.sf(k_idx[strict], n_idx[strict], p)
            self.pmf.append(pmf.ravel())
            self.cdf.append(cdf.ravel())
            self.sf.append(sf.ravel())
        big = (np.maximum(self.pmf[0], self.pmf[1]) >= _NEGLIGIBLE).reshape(size, size)
        self.xlo = np.argmax(big, axis=1)
        self.xhi = nmax - np.argmax(big[:, ::-1], axis=1)


def _joint_tail(t: _BinomialTables, which: int, n1: np.ndarray, n2: np.ndarray, r1: np.ndarray,
                r: np.ndarray) -> np.ndarray:
    """P(X1 > r1, X1 + X2 > r) under p0 (which=0) or p1 (which=1), one per design."""
    lo = np.maximum(r1 + 1, t.xlo[n1])
    hi = np.minimum(n1, t.xhi[n1])
    width = max(1, int((hi - lo + 1).max(initial=0)))
    x1 = lo[:, None] + np.arange(width)[None, :]
    valid = x1 <= hi[:, None]
    x1 = np.where(valid, x1, lo[:, None])
    w = np.where(valid, t.pmf[which][(n1 * t.size)[:, None] + x1], 0.0)
    return np.einsum("ij,ij->i", w, t.sf[which][(n2 * t.ncol + t.off + r)[:, None] - x1])


def _largest_r_with_power(t: _BinomialTables, n1: np.ndarray, n2: np.ndarray, r1: np.ndarray,
                          lo: np.ndarray, hi: np.ndarray, power: float) -> np.ndarray:
    """Largest r in [lo, hi] with P(X1 > r1, X > r | p1) > power (true at lo), by bisection."""
    lo, hi = lo.copy(), hi.copy()
    while (todo := np.flatnonzero(lo < hi)).size:
        mid = (lo[todo] + hi[todo] + 1) // 2
        up = _joint_tail(t, 1, n1[todo], n2[todo], r1[todo], mid) > power
        lo[todo] = np.where(up, mid, lo[todo])
        hi[todo] = np.where(up, hi[todo], mid - 1)
    return lo


def _minimax_size(p0: float, p1: float, alpha: float, beta: float, nmax: int,
                  budget: _WorkBudget, report: Callable[[float], None],
                  ) -> tuple[_SizeSearch, _Row, tuple[np.ndarray, ...]] | None:
    """Every design of each size from the Neyman-Pearson bound up to the first size with a
    feasible design: (the search, its best design, every design of that size), or None."""
    first = _smallest_feasible_n(p0, p1, alpha, beta, nmax)
    if first is None:
        return None
    # Tables up to a little beyond the single-stage size (the minimax size is rarely larger),
    # grown by doubling should the search go further: tables up to nmax cost 0.4 s at 1000.
    single = _single_stage_n(p0, p1, alpha, beta, nmax)
    search = _SizeSearch(_BinomialTables(p0, p1, min(nmax, max(first, single or 0) + 20)),
                         alpha, beta)
    for n in range(first, nmax + 1):
        if n > search.t.nmax:
            search.grow(_BinomialTables(p0, p1, min(nmax, 2 * search.t.nmax)))
        best, state = search.designs(n, budget)
        if best is not None:
            return search, best, state
        report(0.5 * (n - first + 1) / (nmax - first + 1))
    return None


class _WorkBudget:
    """Terms summed so far by one search, checked before each step against the limit."""

    def __init__(self, p0: float, p1: float, nmax: int) -> None:
        self.spent, self.what = 0, f"p0 = {p0:g} vs p1 = {p1:g} with nmax {nmax}"

    def spend(self, terms: int) -> None:
        self.spent += terms
        if self.spent > limits.MAX_SIMON_TERMS:
            raise DesignInputError(
                f"The exact Simon search for {self.what} would sum more than "
                f"{limits.MAX_SIMON_TERMS:,} binomial terms (the limit on one search); lower "
                "nmax or widen the gap between p0 and p1")


def _window_tails(t: _BinomialTables, n1: np.ndarray, n2: np.ndarray, xlo: np.ndarray,
                  top: np.ndarray, nx: np.ndarray, span: int, row_k: np.ndarray,
                  row_r: np.ndarray, power: float) -> tuple[np.ndarray, np.ndarray]:
    """For each row (n1, r of its window): how many x1 columns have power above ``power``, and
    P(X1 >= xlo + i, X > r | p0) for every column i."""
    off, ncol, col = t.off, t.ncol, np.arange(span)
    passing = np.empty(row_k.size, dtype=np.int64)
    alphas = np.empty((row_k.size, span))
    # [row, i] = P(X1 >= xlo + i, X > r | p), in blocks of rows to bound the temporaries
    for a in range(0, row_k.size, max(1, _BLOCK // span)):
        rows = slice(a, a + max(1, _BLOCK // span))
        rk = row_k[rows]
        valid = col[None, :] < nx[rk][:, None]
        x1 = np.where(valid, xlo[rk][:, None] + col[None, :], xlo[rk][:, None])
        pmf_at = (n1[rk] * t.size)[:, None] + x1
        sf_at = (n2[rk] * ncol + off + row_r[rows])[:, None] - x1
        tail_at = (n1 * ncol + off + top)[rk][:, None]
        for which in (1, 0):
            terms = np.where(valid, t.pmf[which][pmf_at], 0.0) * t.sf[which][sf_at]
            tails = np.cumsum(terms[:, ::-1], axis=1)[:, ::-1] + t.sf[which][tail_at]
            if which == 1:  # each row's powers fall with x1: those above 1 - beta lead
                passing[rows] = ((tails > power) & valid).sum(axis=1)
            else:
                alphas[rows] = tails
    return passing, alphas


class _SizeSearch:
    """Every design of one total size n at a time (the minimax phase of simon_designs)."""

    def __init__(self, t: _BinomialTables, alpha: float, beta: float) -> None:
        self.alpha, self.power = alpha, 1 - beta
        self.rstar_top = np.full(0, -1)  # r* of (n1, r1max) at the last size searched
        self.grow(t)

    def grow(self, t: _BinomialTables) -> None:
        """Use tables for larger sizes (every r* found so far still holds)."""
        self.t, beta = t, 1 - self.power
        n = np.arange(t.size)
        # r1max[n1]: largest r1 < n1 with P(X1 <= r1 | p1) < beta; stopping more often cannot
        # leave power > 1 - beta (-1: no r1)
        ok = (t.cdf[1].reshape(t.size, t.size) < beta) & (n[None, :] < n[:, None])
        self.r1max = np.where(ok.any(axis=1), t.nmax - np.argmax(ok[:, ::-1], axis=1), -1)
        # rs[n]: largest r with P(X_n > r | p1) > 1 - beta; a design of size n rejects only if
        # X > r, so r <= rs[n]
        sf1 = t.sf[1].reshape(t.size, t.ncol)[:, t.off : t.off + t.size]
        okr = sf1 > 1 - beta
        self.rs = np.where(okr.any(axis=1), t.nmax - np.argmax(okr[:, ::-1], axis=1), -1)
        self.rstar_top = np.concatenate([self.rstar_top,
                                         np.full(t.size - self.rstar_top.size, -1)])

    def designs(self, n: int, budget: _WorkBudget) -> tuple[_Row | None, tuple[np.ndarray, ...]]:
        """The best design of size n (clinfun's ties) and, for every (n1, r1 <= r1max(n1)), its
        final boundary r and whether the design is feasible.

        For one n1, r*(r1) (the largest r with power > 1 - beta) falls as r1 grows, so every
        r* lies in [r*(r1max), rs[n]]: a window of a few r. P(X1 >= x1, X > r | p) for every x1
        and every r of the window is one reversed cumulative sum; r1 = x1 - 1 reads it off.
        r*(n1, r1max) grows by 0 or 1 from one n to the next (one more patient), so it is
        carried over instead of searched again.
        """
        t, power, off, ncol = self.t, self.power, self.t.off, self.t.ncol
        empty = tuple(np.empty(0, dtype=int) for _ in range(3)) + (np.empty(0, bool),
                                                                  np.empty(0))
        n1 = np.arange(1, n)
        n1 = n1[self.r1max[n1] >= 0]
        if n1.size == 0 or self.rs[n] < 0:
            return None, empty
        m, n2 = self.r1max[n1], n - n1
        whi = np.minimum(self.rs[n], m + n2)  # clinfun: r <= r1 + n2
        prev = self.rstar_top[n1]
        wlo = prev.copy()
        grow = (prev >= m) & (prev + 1 <= whi)
        if grow.any():
            i = np.flatnonzero(grow)
            wlo[i] += _joint_tail(t, 1, n1[i], n2[i], m[i], prev[i] + 1) > power
        if (new := np.flatnonzero(prev < m)).size:  # power(r1max, r1max) > 1 - beta always
            wlo[new] = _largest_r_with_power(t, n1[new], n2[new], m[new], m[new], whi[new], power)
        self.rstar_top[n1] = wlo
        width = whi - wlo + 1
        xlo = np.maximum(1, t.xlo[n1])
        top = np.minimum(np.minimum(n1, whi), t.xhi[n1])  # x1 > top: X > r for every r
        nx = np.maximum(top - xlo + 1, 0)
        span = max(1, int(nx.max()))
        budget.spend(2 * int(width.sum()) * span)
        # one row per (n1, r of its window); columns x1 = xlo, xlo + 1, ...
        row_k = np.repeat(np.arange(n1.size), width)
        row_start = np.concatenate([[0], np.cumsum(width)[:-1]])
        row_r = wlo[row_k] + np.arange(row_k.size) - row_start[row_k]
        passing, alphas = _window_tails(t, n1, n2, xlo, top, nx, span, row_k, row_r, power)
        # every (n1, r1) with r1 <= r1max(n1)
        k = np.repeat(np.arange(n1.size), m + 1)
        r1 = np.arange(k.size) - np.repeat(np.concatenate([[0], np.cumsum(m + 1)[:-1]]), m + 1)
        i = np.clip(r1 + 1 - xlo[k], 0, np.maximum(nx[k] - 1, 0))
        # rows of n1 (r rising) whose power exceeds 1 - beta for this r1 come first: count
        # them for every (n1, r1) with one sorted search
        stride = span + 2
        keys = row_k * stride - passing
        count = np.searchsorted(keys, k * stride - i, side="left") - row_start[k]
        beyond = r1 >= top[k]  # every x1 > r1 rejects whatever X2: power P(X1 > r1)
        count = np.where(beyond, width[k], count)
        last = r1 + n2[k]
        r = np.minimum(wlo[k] + count - 1, last)
        # r = r1 + n2 below the window: X > r implies X1 > r1, a single-stage tail
        diag = last < wlo[k]
        r = np.where(diag, last, r)
        alpha_in = alphas[row_start[k] + np.clip(r - wlo[k], 0, width[k] - 1), i]
        alpha_beyond = t.sf[0][n1[k] * ncol + off + r1]
        alpha_diag = t.sf[0][n * ncol + off + np.minimum(last, t.nmax)]
        attained = np.where(diag, alpha_diag, np.where(beyond, alpha_beyond, alpha_in))
        feasible = attained < self.alpha
        pet = t.cdf[0][n1[k] * t.size + r1]
        en = n1[k] + (1 - pet) * n2[k]
        best = _best(en, feasible & (en < n), n1[k], r1, r, pet, n)
        return best, (n1[k], r1, r, feasible, pet)


def _best(en: np.ndarray, ok: np.ndarray, n1: np.ndarray, r1: np.ndarray, r: np.ndarray,
          pet: np.ndarray, n: int) -> _Row | None:
    """Smallest EN(p0) among designs of size n; ties: smallest n1, then largest r1 (clinfun)."""
    if not ok.any():
        return None
    e = np.where(ok, en, np.inf)
    tied = np.flatnonzero(e == e.min())
    j = tied[np.lexsort((-r1[tied], n1[tied]))[0]]
    return (int(r1[j]), int(n1[j]), int(r[j]), n, float(e[j]), float(pet[j]))


class _PairScan:
    """Sizes above the minimax: (n1, r1) pairs scanned over n while they can beat the best
    EN(p0). For a fixed (n1, r1), EN(p0) = n1 + (1 - PET) n2 grows with n2, so only its first
    feasible n2 can be optimal or give a size a smaller best EN(p0) than every smaller size:
    a pair leaves the scan once feasible, or once its EN(p0) reaches the best so far. Its r*
    grows by 0 or 1 per added patient: one power and one alpha per pair and size."""

    def __init__(self, t: _BinomialTables, n1: np.ndarray, r1: np.ndarray, r: np.ndarray,
                 pet: np.ndarray) -> None:
        self.t = t
        lo = r1 + 1
        length = np.maximum(np.minimum(n1, t.xhi[n1]) - lo + 1, 1)
        order = np.argsort(length, kind="stable")
        # groups of similar length, each one padded gather per size
        cuts = sorted({order.size * q // 16 for q in range(17)})  # bounds each step's temporaries
        self.groups: list[list[np.ndarray]] = []
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            g = order[a:b]
            span = np.arange(int(length[g].max()))
            valid = span[None, :] < length[g][:, None]  # padding: weight 0
            at = (n1[g] * t.size + lo[g])[:, None] + np.where(valid, span[None, :], 0)
            w0 = np.where(valid, t.pmf[0][at], 0.0)
            w1 = np.where(valid, t.pmf[1][at], 0.0)
            self.groups.append([n1[g], r1[g], r[g], pet[g], lo[g], w0, w1])

    @property
    def pairs(self) -> int:
        return sum(g[0].size for g in self.groups)

    def work(self) -> int:
        """Terms of the next step at most (the alpha of a pair whose r does not grow is not
        needed)."""
        return sum(g[5].size for g in self.groups) * 2

    def step(self, n: int, alpha: float, power: float, cap: float) -> _Row | None:
        """Advance every pair to size n; the best design of size n that beats `cap`."""
        t, found = self.t, []
        for g in self.groups:
            n1, r1, r, pet, lo, w0, w1 = g[:7]
            n2 = n - n1
            span = np.arange(w0.shape[1])[None, :]  # x1 = lo + span
            base = n2 * t.ncol + t.off - lo  # + r - span: the column of P(X2 > r - x1)
            up = r + 1
            pw = np.einsum("ij,ij->i", w1, t.sf[1][(base + up)[:, None] - span])
            grew = (up <= r1 + n2) & (pw > power)
            r = np.where(grew, up, r)
            # A pair still in the scan had alpha >= alpha at its r; one more patient only
            # raises alpha at the same r, so only a pair whose r grew can have become feasible.
            feasible = np.zeros(n1.size, dtype=bool)
            if (i := np.flatnonzero(grew)).size:
                attained = np.einsum("ij,ij->i", w0[i],
                                     t.sf[0][(base[i] + r[i])[:, None] - span])
                feasible[i] = attained < alpha
            en = n1 + (1 - pet) * n2
            g[2] = r
            g[7:] = [feasible]
            found.append((en, feasible & (en < cap) & (en < n), n1, r1, r, pet))
        en, ok, n1, r1, r, pet = (np.concatenate(parts) for parts in zip(*found, strict=True))
        best = _best(en, ok, n1, r1, r, pet, n)
        if best is not None:
            cap = best[4]
        groups, self.groups = self.groups, []
        while groups:  # one group at a time: its filtered copy replaces it before the next
            g = groups.pop()
            n1, pet, feasible = g[0], g[3], g.pop()
            live = ~feasible & (n1 + (1 - pet) * (n + 1 - n1) < cap)
            if live.any():
                self.groups.append(g if live.all() else [a[live] for a in g])
        return best


def _sizes_beyond_minimax(p0: float, p1: float, alpha: float, beta: float, nmax: int,
                          search: _SizeSearch, minimax_best: _Row,
                          state: tuple[np.ndarray, ...], budget: _WorkBudget,
                          report: Callable[[float], None]) -> list[_Row]:
    """The minimax design and, after it, every larger size's best design that lowers EN(p0)."""
    n, rows = minimax_best[3], [minimax_best]
    cap = rows[0][4]
    s_n1, s_r1, s_r, s_feasible, s_pet = state
    live = ~s_feasible & (s_n1 + (1 - s_pet) * (n + 1 - s_n1) < cap)
    if live.any():
        # a pair leaves the scan once n1 + (1 - PET) n2 reaches cap: no size beyond that is
        # needed, so the tables go no further
        with np.errstate(divide="ignore"):
            ends = s_n1[live] + (cap - s_n1[live]) / (1 - s_pet[live])
        stop = nmax if not np.all(np.isfinite(ends)) else min(nmax, int(ends.max()) + 1)
        t = search.t if stop <= search.t.nmax else _BinomialTables(p0, p1, stop)
        scan = _PairScan(t, s_n1[live], s_r1[live], s_r[live], s_pet[live])
        pairs = scan.pairs
        while n < nmax and scan.groups:
            n += 1
            budget.spend(scan.work())
            best = scan.step(n, alpha, 1 - beta, cap)
            if best is not None:
                rows.append(best)
                cap = best[4]
            report(0.5 + 0.5 * (1 - scan.pairs / pairs))
    return rows


def simon_designs(
    p0: float,
    p1: float,
    alpha: float = 0.05,
    beta: float = 0.2,
    nmax: int = 100,
    progress: Callable[[float], object] | None = None,
) -> SimonResult:
    """Simon's optimal and minimax two-stage designs by exact search (= clinfun ph2simon).

    For every total size n, every stage-1 size n1 < n and every stage-1 boundary r1, the final
    boundary r is the largest r with power > 1 - beta (power and alpha both fall as r grows, so
    this r also has the smallest alpha); the design is feasible if its alpha < alpha. Among
    feasible designs with the same n the one with the smallest EN(p0) is kept (ties: the
    smallest n1, then the largest r1 - clinfun's loop order). Minimax = the smallest feasible n;
    optimal = the smallest EN(p0) over n (ties: smallest n). Inequalities are strict, as in
    clinfun's ``f2bdry``.

    How the search stays within about a second at nmax = 1000 (every figure in bench/):
    1. no design exists below the size at which the most powerful level-alpha test reaches the
       power (Neyman-Pearson), so sizes start there, and a design that cannot exist at nmax is
       refused at once;
    2. from there, every design of each size n is searched (``_SizeSearch``: for one n1 the
       final boundaries of all r1 lie in a window of a few r, one cumulative sum each) up to
       the first size with a feasible design, the minimax size;
    3. larger sizes only matter through designs whose EN(p0) beats the best so far, and for a
       fixed (n1, r1) only through its first feasible n2 (``_PairScan``); the scan ends when no
       pair can beat the best EN(p0).
    Terms of the binomial sums below 1e-30 are left out. The optimal and minimax designs are
    clinfun's (checked against the exhaustive search and a literal port of clinfun's Fortran).
    ``frontier`` holds the best design of the minimax size and of every larger size whose best
    design has a smaller EN(p0) than every smaller size (clinfun's ``out`` lists every size).

    The work is counted before each step against ``limits.MAX_SIMON_TERMS``; beyond it the
    search is refused with the limit named (no accepted input reaches it; see the tests).
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

    def report(fraction: float) -> None:
        if progress is not None:
            progress(min(1.0, fraction))

    budget = _WorkBudget(p0, p1, nmax)
    found = _minimax_size(p0, p1, alpha, beta, nmax, budget, report)
    if found is None:
        report(1.0)
        single_n = _single_stage_n(p0, p1, alpha, beta)
        hint = f" (a single-stage design needs {single_n} patients)" if single_n else ""
        raise DesignInputError(
            f"No two-stage design with at most {nmax} patients reaches alpha < {alpha:g} and "
            f"power > {1 - beta:g} for p0 = {p0:g} vs p1 = {p1:g}{hint}. Increase nmax or "
            f"widen the gap between p0 and p1."
        )
    rows = _sizes_beyond_minimax(p0, p1, alpha, beta, nmax, *found, budget, report)
    report(1.0)
    minimax_row = rows[0]
    en_min = min(row[4] for row in rows)
    optimal_row = next(row for row in rows if row[4] == en_min)
    return SimonResult(
        optimal=_make_design("optimal", optimal_row, p0, p1, alpha, beta),
        minimax=_make_design("minimax", minimax_row, p0, p1, alpha, beta),
        nmax=nmax,
        frontier=tuple(rows),
        terms=budget.spent,
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


#: How a single-stage design meets its nominal alpha and power (single_stage_design's `rule`).
SINGLE_STAGE_RULES: dict[str, str] = {
    "exact": "attained alpha at most the nominal alpha and attained power at least the nominal "
             "power",
    "table": "attained alpha and power that round to the nominal values at three decimals, "
             "the rule of A'Hern's printed tables",
}


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
    rule: str = "exact"  # a SINGLE_STAGE_RULES key

    @property
    def reject_if_at_most(self) -> int:
        """Simon/clinfun convention: the drug is rejected if <= this many respond."""
        return self.r - 1

    def to_dict(self) -> dict[str, float | int | str]:
        d = asdict(self)
        d["reject_if_at_most"] = self.reject_if_at_most
        return d

    def sentence(self) -> str:
        return (
            f"A'Hern exact single-stage design (p0 = {short_percent(self.p0)}, "
            f"p1 = {short_percent(self.p1)}, one-sided alpha {self.nominal_alpha:g}, "
            f"power {short_percent(1 - self.nominal_beta)}): "
            f"enrol {self.n} patients; the drug is considered promising if {self.r} or more "
            f"respond and rejected if {self.reject_if_at_most} or fewer respond. Attained "
            f"alpha {self.alpha:.3f}; attained power {short_percent(self.power)}. Rule: "
            f"{SINGLE_STAGE_RULES[self.rule]}."
        )


#: Just under half a unit of the third decimal: what "rounds to the nominal value" allows.
_TABLE_ROUNDING = 0.0005 - 1e-12


def _smallest_r_at_level(n: np.ndarray, p0: float, alpha: float) -> np.ndarray:
    """For each n, the smallest r with P(X >= r | p0) <= alpha (r = n + 1 always qualifies).

    From the quantile (P(X >= r) <= alpha iff P(X <= r - 1) >= 1 - alpha), then checked
    against the upper tail itself, which may round differently by one step either way."""
    guess = np.nan_to_num(binom.ppf(1 - alpha, n, p0), nan=0.0).astype(np.int64) + 1
    r = np.clip(guess[:, None] + np.arange(-2, 3)[None, :], 0, (n + 1)[:, None])
    ok = binom.sf(r - 1, n[:, None], p0) <= alpha
    first = np.argmax(ok, axis=1)
    found = r[np.arange(n.size), first]
    minimal = (first > 0) | (found == 0) | (found <= r[:, 0])
    if not (ok.any(axis=1) & minimal).all():  # the quantile was further off: count upwards
        for j in np.flatnonzero(~(ok.any(axis=1) & minimal)):
            k = np.arange(int(n[j]) + 2)
            found[j] = int(np.argmax(binom.sf(k - 1, n[j], p0) <= alpha))
    return found


def single_stage_design(
    p0: float, p1: float, alpha: float = 0.05, beta: float = 0.2, nmax: int = 5000,
    rule: str = "exact",
) -> SingleStageDesign:
    """A'Hern (2001): the smallest n for which some r has P(X >= r | p0) <= alpha and
    P(X >= r | p1) >= 1 - beta (exact binomial). For each n the smallest r meeting the alpha
    constraint is taken, since it maximises power.

    ``rule="exact"`` holds both constraints exactly; ``rule="table"`` accepts attained values
    that round to the nominal ones at three decimals (alpha < nominal + 0.0005, power >=
    nominal - 0.0005), the rule behind A'Hern's printed tables, whose cells can therefore be
    a few patients smaller than the exact rule's.
    """
    p0, p1 = _check_p0_p1(p0, p1)
    alpha = _check_error_rate("alpha", alpha)
    beta = _check_error_rate("beta", beta)
    nmax = _check_int("nmax", nmax, 1, 100_000)
    if rule not in SINGLE_STAGE_RULES:
        raise DesignInputError(f"rule must be one of {', '.join(SINGLE_STAGE_RULES)}, "
                               f"got {rule!r}")
    # what the rule accepts: 0.0505 would print as 0.051 and 0.7995 as 0.800
    slack = _TABLE_ROUNDING if rule == "table" else 0.0
    alpha_ok, power_ok = alpha + slack, 1 - beta - slack
    # Neyman-Pearson: if even the randomised most powerful test on nmax patients falls short,
    # no design exists (searching every n up to 5000 to find that out cost seconds).
    if _most_powerful_power(p0, p1, alpha_ok, nmax) >= power_ok:
        n = np.arange(1, nmax + 1)
        r = _smallest_r_at_level(n, p0, alpha_ok)
        power = binom.sf(r - 1, n, p1)
        hit = np.flatnonzero((r <= n) & (power >= power_ok))
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
                rule=rule,
            )
    raise DesignInputError(
        f"No single-stage design with at most {nmax} patients reaches alpha <= {alpha:g} and "
        f"power >= {1 - beta:g} for p0 = {p0:g} vs p1 = {p1:g}."
    )


# --------------------------------------------------------------------------- precision


def _check_method_level(method: str, level: float) -> tuple[str, float]:
    if method not in CI_CHOICES:
        raise DesignInputError(
            f"unknown CI method {method!r}; choose one of {', '.join(CI_CHOICES)}"
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
    p = check_open_fraction(p, what="p", error=DesignInputError) if p not in (0, 1) else float(p)
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
    p = check_open_fraction(p, what="p", error=DesignInputError) if p not in (0, 1) else float(p)
    method, level = _check_method_level(method, level)
    if (
        isinstance(half_width, bool)
        or not isinstance(half_width, int | float)
        or not (0 < half_width < 0.5)
    ):
        raise DesignInputError(f"half_width must be between 0 and 0.5, got {half_width!r}")
    z = critical_value(level)
    wald = z * z * max(p * (1 - p), 1e-12) / half_width**2
    n = max(1, int(wald / 4))
    while n <= n_max:
        if _half_width(p, n, level, method)[3] <= half_width:
            return n
        n += 1
    raise DesignInputError(
        f"no n up to {n_max} gives a half-width of {half_width:g}; choose a wider target"
    )
