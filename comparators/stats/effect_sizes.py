"""Per-study effect sizes of single proportions (metafor's escalc), their transformations and
back-transformations, the checks every proportion pool applies to its counts and options, and
Cochran's Q. Shared by the frequentist (stats.pooling) and Bayesian (stats.bayes_pooling) pools.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.special import expit

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import parse_level
from comparators.stats.distributions import chi2_upper_tail
from comparators.vocab import MEASURE_CHOICES

if TYPE_CHECKING:  # pandas only builds the optional DataFrame views; the CLI never needs it
    import pandas as pd


class PoolingInputError(InputError):
    """Counts, options or files that cannot be pooled; the message says what and where."""


@dataclass(frozen=True, eq=False)  # numpy fields: compare explicitly
class EffectSizes:
    """Per-study effect sizes on the transformed scale (metafor escalc output)."""

    measure: str
    yi: np.ndarray
    vi: np.ndarray
    events: np.ndarray | None = None
    n: np.ndarray | None = None
    corrected: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    @property
    def k(self) -> int:
        return int(self.yi.size)

    @classmethod
    def from_yi_vi(
        cls, yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray,
        measure: str = "generic",
    ) -> EffectSizes:
        """Wrap precomputed effect sizes (any measure) so they can be fitted with fit_model."""
        y = np.asarray(yi, dtype=float)
        v = np.asarray(vi, dtype=float)
        if y.ndim != 1 or y.shape != v.shape or y.size == 0:
            raise PoolingInputError("yi and vi must be non-empty sequences of the same length")
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
            raise PoolingInputError("yi must be finite and vi finite and positive")
        return cls(measure=measure, yi=y, vi=v, corrected=np.zeros(y.size, dtype=bool))

    def to_frame(self) -> pd.DataFrame:
        data: dict[str, Any] = {"yi": self.yi, "vi": self.vi}
        if self.events is not None and self.n is not None:
            data = {"events": self.events, "n": self.n, **data, "corrected": self.corrected}
        import pandas as pd

        return pd.DataFrame(data)


def _fast_counts(arr: Any) -> np.ndarray | None:
    """Integer array if arr is already a clean numeric vector of whole numbers, else None."""
    try:
        a = np.asarray(arr)
    except (ValueError, TypeError):
        return None
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iuf":
        return None
    if a.dtype.kind == "f" and not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return None
    if np.any(a < 0):
        return None
    return a.astype(np.int64)


def as_counts(events: Any, n: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate events/n as equal-length 1-D integer arrays; raise PoolingInputError."""
    fe, fn = _fast_counts(events), _fast_counts(n)
    if fe is not None and fn is not None and fe.size == fn.size and np.all(fn > 0) \
            and np.all(fe <= fn):
        return fe, fn  # vectorised fast path; the slow path below explains any problem
    ev = np.atleast_1d(np.asarray(events, dtype=object))
    nn = np.atleast_1d(np.asarray(n, dtype=object))
    if ev.ndim != 1 or nn.ndim != 1:
        raise PoolingInputError("events and n must be one-dimensional sequences of counts")
    if ev.size == 0:
        raise PoolingInputError("no studies to pool: events and n are empty")
    if ev.size != nn.size:
        raise PoolingInputError(
            f"events ({ev.size} values) and n ({nn.size} values) must have the same length"
        )
    out = []
    for name, arr in (("events", ev), ("n", nn)):
        vals = np.empty(arr.size, dtype=np.int64)
        for i, x in enumerate(arr):
            if isinstance(x, bool | np.bool_) or not isinstance(x, int | float | np.integer
                                                               | np.floating):
                raise PoolingInputError(f"study {i + 1}: {name} must be a whole number, got {x!r}")
            xf = float(x)
            if not math.isfinite(xf) or not xf.is_integer():
                raise PoolingInputError(f"study {i + 1}: {name} must be a whole number, got {x!r}")
            if xf < 0:
                raise PoolingInputError(
                    f"study {i + 1}: {name} must not be negative, got {int(xf)}")
            if xf > limits.MAX_COUNT:
                raise PoolingInputError(
                    f"study {i + 1}: {name} = {xf:.3g} is more than the limit of "
                    f"{limits.MAX_COUNT:,}; check the counts")
            vals[i] = int(xf)
        out.append(vals)
    ev_i, n_i = out
    for i in range(ev_i.size):
        if n_i[i] == 0:
            raise PoolingInputError(f"study {i + 1}: n must be at least 1")
        if ev_i[i] > n_i[i]:
            raise PoolingInputError(
                f"study {i + 1}: events ({ev_i[i]}) cannot exceed n ({n_i[i]})"
            )
    return ev_i, n_i


def check_choice(value: str, allowed: Collection[str], what: str) -> str:
    if value not in allowed:
        raise PoolingInputError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")
    return value


def effect_sizes(
    events: Sequence[int] | np.ndarray, n: Sequence[int] | np.ndarray,
    measure: str = "logit", cc: float = 0.5,
) -> EffectSizes:
    """Per-study transformed proportions and sampling variances (metafor escalc).

    cc is added to events and non-events only for studies with 0 or all events, and only for
    "logit" and "raw" (metafor add=1/2, to="only0"); "ft" and "arcsine" are never corrected.
    """
    measure = check_choice(measure, MEASURE_CHOICES, "measure")
    if not (isinstance(cc, int | float) and math.isfinite(cc) and cc >= 0):
        raise PoolingInputError(f"cc must be a non-negative number, got {cc!r}")
    x, m = as_counts(events, n)
    xf, nf = x.astype(float), m.astype(float)
    corrected = np.zeros(x.size, dtype=bool)
    if measure in ("logit", "raw") and cc > 0:
        corrected = (x == 0) | (x == m)
        xf = np.where(corrected, xf + cc, xf)
        nf = np.where(corrected, nf + 2 * cc, nf)
    if measure == "logit":
        if np.any((xf == 0) | (xf == nf)):
            raise PoolingInputError(
                "logit needs a continuity correction (cc > 0) for 0 %/100 % studies")
        yi = np.log(xf / (nf - xf))
        vi = 1 / xf + 1 / (nf - xf)
    elif measure == "raw":
        p = xf / nf
        yi, vi = p, p * (1 - p) / nf
        if np.any(vi <= 0):
            raise PoolingInputError(
                "raw proportions of 0 or 1 need a continuity correction (cc > 0)")
    elif measure == "arcsine":
        yi, vi = np.arcsin(np.sqrt(xf / nf)), 1 / (4 * nf)
    else:  # ft
        yi = 0.5 * (np.arcsin(np.sqrt(xf / (nf + 1))) + np.arcsin(np.sqrt((xf + 1) / (nf + 1))))
        vi = 1 / (4 * nf + 2)
    return EffectSizes(measure=measure, yi=yi, vi=vi, events=x, n=m, corrected=corrected)


def transf_pft(p: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Freeman-Tukey double arcsine of a proportion p at sample size n (metafor transf.pft)."""
    x = np.asarray(p, dtype=float) * n
    return 0.5 * (np.arcsin(np.sqrt(x / (n + 1))) + np.arcsin(np.sqrt((x + 1) / (n + 1))))


def transf_ipft(y: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Miller (1978) inverse of the double arcsine at sample size n (metafor transf.ipft)."""
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.sin(2 * y)
        inner = 1 - (s + (s - 1 / s) / n) ** 2
        z = 0.5 * (1 - np.sign(np.cos(2 * y)) * np.sqrt(inner))
    z = np.where(np.isnan(z), np.nan, z)
    z = np.where(y > transf_pft(1.0, n), 1.0, z)
    z = np.where(y < transf_pft(0.0, n), 0.0, z)
    return z


def transf_ipft_hm(y: np.ndarray | float, n_all: np.ndarray) -> np.ndarray:
    """Inverse double arcsine at the harmonic mean of the sample sizes (transf.ipft.hm)."""
    hm = float(1 / np.mean(1 / np.asarray(n_all, dtype=float)))
    return transf_ipft(y, hm)


def back_transform(y: Any, measure: str, n: np.ndarray | None = None) -> np.ndarray:
    """Transformed scale -> proportion, clipped to [0, 1] (raw/arcsine can leave it)."""
    y = np.asarray(y, dtype=float)
    if measure == "logit":
        out = expit(y)
    elif measure == "ft":
        if n is None:
            raise ValueError("the Freeman-Tukey back-transformation needs the sample sizes")
        out = transf_ipft_hm(y, n)
    elif measure == "arcsine":
        out = np.sin(np.clip(y, 0, np.pi / 2)) ** 2
    elif measure == "raw":
        out = y
    else:
        return y
    return np.clip(out, 0.0, 1.0)


def fixed_effect_stats(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """Fixed-effect mean, its variance and Cochran's Q."""
    w = 1 / v
    sw = w.sum()
    mu = float((w * y).sum() / sw)
    q = float((w * (y - mu) ** 2).sum())
    return mu, float(1 / sw), q


def cochran_q(y: Sequence[float] | np.ndarray, v: Sequence[float] | np.ndarray
              ) -> tuple[float, int, float]:
    """Cochran's Q of estimates y (variances v) about their inverse-variance mean, its degrees
    of freedom k - 1 and chi-squared p-value. Given subgroup estimates and their squared
    standard errors it is the test for subgroup differences (meta's Q between)."""
    y, v = np.asarray(y, dtype=float), np.asarray(v, dtype=float)
    _, _, q = fixed_effect_stats(y, v)
    df = y.size - 1
    return q, df, chi2_upper_tail(q, df)


def check_level(level: float) -> float:
    return parse_level(level, error=PoolingInputError)


def validate_labels(labels: Sequence[Any] | None, k: int, what: str, unique: bool) -> list[str]:
    if labels is None:
        return [f"Study {i + 1}" for i in range(k)] if what == "studies" else []
    out = [str(s).strip() for s in labels]
    if len(out) != k:
        raise PoolingInputError(f"{what} has {len(out)} labels but there are {k} studies")
    for i, s in enumerate(out):
        if s == "" or s.lower() == "nan":
            raise PoolingInputError(f"study {i + 1}: {what} label is empty")
    if unique:
        seen: dict[str, int] = {}
        for i, s in enumerate(out):
            if s in seen:
                raise PoolingInputError(
                    f"study {i + 1}: duplicate study id {s!r} (also study {seen[s] + 1})")
            seen[s] = i
    return out

