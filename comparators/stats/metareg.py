"""Mixed-effects meta-regression, as metafor's ``rma(yi, vi, mods = ~ ..., method = ...)``.

The pipeline mirrors metafor: effect sizes (``pooling.effect_sizes`` ~ ``escalc``, with its
continuity rule), a design matrix from the moderators (``design_matrix`` ~ ``model.matrix``),
then a fitted model object (``fit_metareg`` ~ ``rma.uni`` with ``mods``) that is read through
its attributes, ``to_dict()`` and ``to_frame()``.

Model: y_i = x_i' beta + u_i + e_i, u_i ~ N(0, tau^2), e_i ~ N(0, v_i). Conventions, each as
metafor 3.8 computes it (checked against R in tests/oracle/test_metareg_oracle.py and against
the printed outputs of Viechtbauer 2010, J Stat Softw 36(3), in tests/test_metareg.py):

- design: "(Intercept)" first, then one column per numeric moderator (named as the moderator)
  and, for a categorical moderator, one column per level after the reference (treatment
  contrasts, named moderator + level, as R's model.matrix names them: ``linepretreated``,
  ``regimen_classICI``). The reference is the first level in code-point order (R's order in the
  C locale; R in another locale can order mixed-case or punctuated levels differently) unless
  the caller names another. Interactions are not modelled.
- tau^2: REML and ML at the GLOBAL maximum of the (restricted) likelihood: profiled at 0 and on
  a log-spaced grid scaled to the data, refined by a bounded 1-D search inside the bracket of the
  best grid point and polished by Fisher scoring (metafor's algorithm) only while it stays in the
  bracket, so a local maximum where one Fisher-scoring run can stop is never returned. DL:
  (QE - (k - p)) / tr(P) with fixed-effect weights, truncated at 0. PM: the tau^2 at which the
  generalised residual Q, y'P(tau^2)y, equals k - p (0 when Q(0) is already below it).
- tests: z tests and a chi^2(m) omnibus QM over the m = p - 1 moderator coefficients; with
  Knapp-Hartung (``hksj``) the variance of the coefficients is multiplied by
  s^2 = sum w_i (y_i - x_i'b)^2 / (k - p) (metafor test="knha"; the ad hoc variant,
  test="adhoc", never lets s^2 fall below 1), t tests with k - p df, and QM / m against
  F(m, k - p).
- heterogeneity: QE = y'P_0 y with fixed-effect weights (df k - p); residual I^2 =
  100 tau^2 / (tau^2 + v~) with v~ = (k - p) / tr(P_0); H^2 = tau^2 / v~ + 1.
- R^2 (pseudo-R^2): 100 (tau0^2 - tau^2) / tau0^2 truncated at 0, with tau0^2 from the
  intercept-only model fitted by the same method (``pooling.fit_model``); 0 when tau0^2 = 0.

Refusals (``MetaRegressionInputError``, an InputError, naming the limit) before any fit: more
than ``limits.MAX_STUDIES`` arms, ``limits.MAX_MODERATORS`` moderators,
``limits.MAX_MODERATOR_LEVELS`` levels of one moderator or ``limits.MAX_COEFFICIENTS``
coefficients; no more arms than coefficients (k <= p); a constant
moderator; a design whose columns are collinear (naming the first redundant term). Fewer than
``ARMS_PER_TERM`` arms per moderator coefficient is allowed with a WARNING note: few arms
support few moderators (Cochrane Handbook 10.11.5.1: at least ten studies per characteristic).
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

import comparators.limits as limits
from comparators.errors import InputError
from comparators.inputs import clean_text, is_missing, parse_level, parse_number
from comparators.stats.distributions import chi2_upper_tail, critical_value
from comparators.stats.effect_sizes import EffectSizes, PoolingInputError, effect_sizes
from comparators.stats.pooling import _read_csv_table, fit_model, read_pool_csv
from comparators.stats.serialise import json_number
from comparators.stats.tau2 import maximise_tau2, root_decreasing
from comparators.vocab import HKSJ_CHOICES, MEASURE_CHOICES, MODEL_CHOICES

if TYPE_CHECKING:
    import pandas as pd

#: tau^2 estimators of a meta-regression (metafor's names).
METAREG_METHODS: tuple[str, ...] = ("REML", "ML", "DL", "PM")
#: Below this many arms per moderator coefficient the result carries a warning.
ARMS_PER_TERM = 10
INTERCEPT = "(Intercept)"

Kind = Literal["numeric", "categorical"]


class MetaRegressionInputError(InputError):
    """Data, moderators or options a meta-regression cannot use; the message names the limit."""


# ---------------------------------------------------------------------------------------------
# Design matrix (model.matrix)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Moderator:
    """One moderator as it entered the model: its kind, levels (reference first) and terms."""

    name: str
    kind: Kind
    levels: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()

    @property
    def reference(self) -> str | None:
        return self.levels[0] if self.kind == "categorical" else None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.kind, "levels": list(self.levels),
                "reference": self.reference, "terms": list(self.terms)}


@dataclass(frozen=True, eq=False)  # numpy field: compare explicitly
class Design:
    """The design matrix X (k x p, intercept first) with its term names and moderators."""

    X: np.ndarray
    terms: tuple[str, ...]
    moderators: tuple[Moderator, ...]


def _refuse(message: str) -> MetaRegressionInputError:
    return MetaRegressionInputError(message)


def _column_kind(name: str, values: Sequence[object]) -> tuple[Kind, list[float] | list[str]]:
    """A moderator's values as numbers or as level texts; mixed or missing values refused."""
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind in "iuf":
        nums = arr.astype(float)
        bad = np.flatnonzero(~np.isfinite(nums))
        if bad.size:
            raise _refuse(f"moderator {name!r}, arm {bad[0] + 1}: value is missing or not "
                          "finite; every arm needs a value for every moderator")
        return "numeric", nums.tolist()
    kinds = set()
    for i, value in enumerate(values):
        if is_missing(value):
            raise _refuse(f"moderator {name!r}, arm {i + 1}: value is missing; every arm needs "
                          "a value for every moderator (fill it, or leave the arm out)")
        if isinstance(value, str):
            kinds.add("categorical")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            kinds.add("numeric")
        else:
            raise _refuse(f"moderator {name!r}, arm {i + 1}: {value!r} is neither a number "
                          "nor a category")
    if kinds == {"numeric"}:
        return "numeric", [float(v) for v in values]  # type: ignore[arg-type]
    if kinds == {"categorical"}:
        return "categorical", [clean_text(v, max_chars=200, where=f"moderator {name!r}, arm "
                                          f"{i + 1}", error=MetaRegressionInputError)
                               for i, v in enumerate(values)]
    raise _refuse(f"moderator {name!r} mixes numbers and text; a moderator is either numeric "
                  "or categorical")


def design_matrix(moderators: Mapping[str, Sequence[object]],
                  reference: Mapping[str, str] | None = None) -> Design:
    """The design matrix of ``~ m1 + m2 + ...`` with R's treatment contrasts.

    Each moderator is a sequence with one value per arm: all numbers (numeric) or all texts
    (categorical). ``reference`` names another reference level for a categorical moderator
    (R's ``relevel``); by default it is the first level in code-point order.
    """
    names = [clean_text(n, max_chars=200, where="moderator name",
                        error=MetaRegressionInputError) for n in moderators]
    limits.check_count("moderators", len(names), limits.MAX_MODERATORS,
                       "keep the moderators that answer the question")
    if not names:
        raise _refuse("a meta-regression needs at least one moderator")
    if any(not n for n in names):
        raise _refuse("a moderator name is empty")
    if len({n.casefold() for n in names}) < len(names):
        raise _refuse("a moderator is named twice; name each moderator once")
    reference = dict(reference or {})
    unknown = sorted(set(reference) - set(names))
    if unknown:
        raise _refuse(f"reference given for {unknown[0]!r}, which is not a moderator")
    lengths = {len(v) for v in moderators.values()}
    if len(lengths) != 1:
        raise _refuse("every moderator needs one value per arm (the columns differ in length)")
    k = lengths.pop()
    columns: list[np.ndarray] = [np.ones(k)]
    terms: list[str] = [INTERCEPT]
    mods: list[Moderator] = []
    for name, raw in zip(names, moderators.values(), strict=True):
        kind, values = _column_kind(name, raw)
        if kind == "numeric":
            x = np.asarray(values, dtype=float)
            if np.max(np.abs(x)) > limits.MAX_MODERATOR_SIZE:
                raise _refuse(f"moderator {name!r} has values up to {np.max(np.abs(x)):g}, more "
                              f"than the limit of {limits.MAX_MODERATOR_SIZE:g} in size; "
                              "rescale it (e.g. to thousands)")
            if np.ptp(x) == 0:
                raise _refuse(f"moderator {name!r} is constant (every arm has {x[0]:g}): it "
                              "cannot explain differences between arms; leave it out")
            columns.append(x)
            terms.append(name)
            mods.append(Moderator(name, "numeric", (), (name,)))
            continue
        levels = sorted({str(v) for v in values})
        limits.check_count(f"levels of moderator {name!r}", len(levels),
                           limits.MAX_MODERATOR_LEVELS, "merge rare levels")
        if len(levels) < 2:
            raise _refuse(f"moderator {name!r} is constant (every arm is {levels[0]!r}): it "
                          "cannot explain differences between arms; leave it out")
        ref = reference.get(name)
        if ref is not None:
            if ref not in levels:
                raise _refuse(f"reference {ref!r} is not a level of {name!r} (levels: "
                              f"{', '.join(levels)})")
            levels.remove(ref)
            levels.insert(0, ref)
        level_terms = tuple(f"{name}{lev}" for lev in levels[1:])
        for lev in levels[1:]:
            columns.append(np.array([1.0 if v == lev else 0.0 for v in values]))
        terms += level_terms
        mods.append(Moderator(name, "categorical", tuple(levels), level_terms))
    limits.check_count("coefficients (intercept, numeric moderators, levels after the reference)",
                       len(terms), limits.MAX_COEFFICIENTS,
                       "use fewer moderators, or merge levels of a categorical one")
    if len(set(terms)) < len(terms):
        raise _refuse("two moderator terms get the same name (a moderator named like another "
                      "moderator's name and level); rename one")
    return Design(np.column_stack(columns), tuple(terms), tuple(mods))


def _check_rank(design: Design) -> None:
    """Refuse a design whose columns are collinear, naming the first redundant term."""
    X = design.X
    scaled = X / np.max(np.abs(X), axis=0)  # a year column (~2000) beside 0/1 dummies
    if np.linalg.matrix_rank(scaled) == X.shape[1]:
        return
    for j in range(2, X.shape[1] + 1):
        if np.linalg.matrix_rank(scaled[:, :j]) < j:
            raise _refuse(f"the moderators are collinear: term {design.terms[j - 1]!r} is a "
                          "linear combination of the intercept and the terms before it, so "
                          "its coefficient is not estimable; leave one moderator out")


# ---------------------------------------------------------------------------------------------
# Quantities at one tau^2
# ---------------------------------------------------------------------------------------------


class _At:
    """The weighted least-squares fit at one tau^2, from the QR of W^(1/2) X.

    With W = diag(1/(v + tau^2)) and W^(1/2) X = QR, metafor's
    P = W - W X (X'WX)^-1 X'W equals W^(1/2) (I - QQ') W^(1/2), so with e the residual of the
    weighted fit (on the W^(1/2) scale): y'Py = e'e, Py = W^(1/2) e, tr P = sum w_i (1 - h_i)
    (h the leverages) and tr PP = sum w^2 - 2 sum w^2 h + ||Q'WQ||_F^2. No k x k matrix.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, v: np.ndarray, tau2: float) -> None:
        self.tau2 = tau2
        self.w = 1.0 / (v + tau2)
        sw = np.sqrt(self.w)
        self.Q, self.R = np.linalg.qr(X * sw[:, None])
        qy = self.Q.T @ (y * sw)
        self.e = y * sw - self.Q @ qy
        self.beta = np.linalg.solve(self.R, qy)
        self.rss = float(self.e @ self.e)  # y'Py, the generalised residual Q
        self._v = v

    def log_det_xwx(self) -> float:
        return float(2 * np.sum(np.log(np.abs(np.diag(self.R)))))

    def loglik(self, reml: bool, log_det_xx: float) -> float:
        """metafor's ll.ML / ll.REML (with the same constants, so values compare with R)."""
        k, p = self.Q.shape
        base = -0.5 * float(np.sum(np.log(self._v + self.tau2))) - 0.5 * self.rss
        if not reml:
            return -0.5 * k * math.log(2 * math.pi) + base
        return (-0.5 * (k - p) * math.log(2 * math.pi) + 0.5 * log_det_xx + base
                - 0.5 * self.log_det_xwx())

    def tr_p(self) -> float:
        h = np.sum(self.Q**2, axis=1)
        return float(np.sum(self.w * (1 - h)))

    def fisher_step(self, reml: bool) -> float:
        """metafor's Fisher-scoring increment of tau^2 (ML or REML)."""
        w = self.w
        ypppy = float(np.sum(w * self.e**2))  # y'PPy = ||Py||^2
        if not reml:
            return (ypppy - float(w.sum())) / float(np.sum(w**2))
        h = np.sum(self.Q**2, axis=1)
        qwq = self.Q.T @ (w[:, None] * self.Q)
        tr_pp = float(np.sum(w**2) - 2 * np.sum(w**2 * h) + np.sum(qwq**2))
        return (ypppy - self.tr_p()) / tr_pp


def _tau2_likelihood(X: np.ndarray, y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    """ML/REML tau^2 at the global maximum (see the module docstring), truncated at 0."""
    log_det_xx = float(np.linalg.slogdet(X.T @ X)[1])

    def loglik(taus: np.ndarray) -> np.ndarray:
        return np.array([_At(X, y, v, float(t)).loglik(reml, log_det_xx) for t in taus])

    return maximise_tau2(loglik, lambda t: _At(X, y, v, t).fisher_step(reml), y, v)


def _tau2_dl(X: np.ndarray, y: np.ndarray, v: np.ndarray) -> float:
    at = _At(X, y, v, 0.0)
    k, p = X.shape
    return max(0.0, (at.rss - (k - p)) / at.tr_p())


def _tau2_pm(X: np.ndarray, y: np.ndarray, v: np.ndarray) -> float:
    k, p = X.shape
    return root_decreasing(lambda t: _At(X, y, v, t).rss, k - p,
                            _tau2_dl(X, y, v) + float(np.var(y)))


def estimate_tau2(X: np.ndarray, y: np.ndarray, v: np.ndarray, method: str) -> float:
    """Residual tau^2 of the mixed-effects model with design X by metafor's `method`."""
    if method == "DL":
        return _tau2_dl(X, y, v)
    if method == "PM":
        return _tau2_pm(X, y, v)
    return _tau2_likelihood(X, y, v, reml=(method == "REML"))


# ---------------------------------------------------------------------------------------------
# The fitted model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coefficient:
    """One model coefficient on the measure's scale with its test (z, or t under KH)."""

    term: str
    estimate: float
    se: float
    low: float
    high: float
    p: float
    statistic: float

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "estimate": json_number(self.estimate),
                "se": json_number(self.se), "low": json_number(self.low),
                "high": json_number(self.high), "p": json_number(self.p)}


@dataclass(frozen=True)
class Prediction:
    """A fitted value x0'b with its confidence and prediction intervals (predict.rma)."""

    estimate: float
    se: float
    low: float
    high: float
    pi_low: float
    pi_high: float


@dataclass(frozen=True, eq=False)  # numpy fields: compare explicitly
class MetaRegression:
    """A fitted mixed-effects meta-regression (like metafor's rma.uni object with mods).

    Coefficients, intervals and tau^2 are on the measure's scale (e.g. logits); i2 and r2 are
    percentages, as metafor prints them.
    """

    k: int
    measure: str
    method: str
    #: "z", "knha" (Knapp-Hartung) or "adhoc" (Knapp-Hartung, variance factor at least 1)
    test: str
    level: float
    moderators: tuple[Moderator, ...]
    coefficients: tuple[Coefficient, ...]
    vcov: np.ndarray = field(repr=False)
    tau2: float = 0.0
    tau2_null: float = 0.0
    i2: float = 0.0
    h2: float = 1.0
    r2: float | None = None
    qm: float | None = None
    qm_df: int = 0
    qm_df2: int | None = None
    qm_p: float | None = None
    qe: float = 0.0
    qe_df: int = 0
    qe_p: float = 1.0
    df: int | None = None
    crit: float = 0.0
    #: metafor's logLik at tau^2: ML for method ML, REML otherwise
    loglik: float = 0.0
    #: the Knapp-Hartung variance factor s^2 actually applied (1 without KH)
    s2w: float = 1.0
    yi: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    vi: np.ndarray = field(default_factory=lambda: np.zeros(0), repr=False)
    X: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)), repr=False)
    studies: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: responders and patients per arm when the effect sizes came from counts
    events: np.ndarray | None = field(default=None, repr=False)
    n: np.ndarray | None = field(default=None, repr=False)

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(c.term for c in self.coefficients)

    @property
    def p(self) -> int:
        return len(self.coefficients)

    @property
    def hksj(self) -> bool:
        return self.test != "z"

    @property
    def hksj_variant(self) -> str | None:
        return {"knha": "plain", "adhoc": "adhoc"}.get(self.test)

    @property
    def weights(self) -> np.ndarray:
        """Model weights 1/(v_i + tau^2) as percentages (metafor weights.rma)."""
        w = 1 / (self.vi + self.tau2)
        return 100 * w / w.sum()

    def coefficient(self, term: str) -> Coefficient:
        for c in self.coefficients:
            if c.term == term:
                return c
        raise KeyError(f"no term {term!r} (terms: {', '.join(self.terms)})")

    def _test(self, estimate: float, se: float) -> tuple[float, float]:
        """(statistic, two-sided p) for one linear combination."""
        stat = estimate / se if se > 0 else math.nan
        if not math.isfinite(stat):
            return stat, math.nan
        if self.df is None:
            return stat, math.erfc(abs(stat) / math.sqrt(2))
        from scipy.special import stdtr  # t tails only under Knapp-Hartung

        return stat, float(2 * stdtr(self.df, -abs(stat)))

    def predict_rows(self, rows: np.ndarray) -> list[Prediction]:
        """Fitted values for design rows (each with the intercept column first)."""
        beta = np.array([c.estimate for c in self.coefficients])
        out = []
        for x0 in np.atleast_2d(np.asarray(rows, dtype=float)):
            est = float(x0 @ beta)
            se = math.sqrt(max(float(x0 @ self.vcov @ x0), 0.0))
            half_pi = self.crit * math.sqrt(se**2 + self.tau2)
            out.append(Prediction(est, se, est - self.crit * se, est + self.crit * se,
                                  est - half_pi, est + half_pi))
        return out

    def contrast(self, weights: Mapping[str, float], label: str = "") -> Coefficient:
        """A linear combination of coefficients (e.g. {"classAI+ICI": 1, "classICI": -1}: the
        adjusted AI+ICI vs ICI difference) with its interval and test, as metafor's
        anova(res, X = ...)."""
        c = np.zeros(self.p)
        for term, wt in weights.items():
            c[self.terms.index(self.coefficient(term).term)] = float(wt)
        est = float(c @ np.array([co.estimate for co in self.coefficients]))
        se = math.sqrt(max(float(c @ self.vcov @ c), 0.0))
        stat, p = self._test(est, se)
        name = label or " ".join(f"{'+' if w >= 0 else '-'} {abs(w):g}*{t}"
                                 for t, w in weights.items()).lstrip("+ ")
        return Coefficient(name, est, se, est - self.crit * se, est + self.crit * se, p, stat)

    def to_dict(self) -> dict[str, Any]:
        """The `metareg` CLI contract (design.md) plus the test, heterogeneity and notes."""
        return {
            "k": int(self.k), "measure": self.measure, "method": self.method,
            "moderators": [m.name for m in self.moderators],
            "coefficients": [c.to_dict() for c in self.coefficients],
            "tau2": json_number(self.tau2), "i2": json_number(self.i2), "r2": json_number(self.r2),
            "qm": json_number(self.qm), "qm_df": int(self.qm_df), "qm_p": json_number(self.qm_p),
            "qm_df2": self.qm_df2, "qm_test": "F" if self.df is not None else "chi2",
            "test": self.test, "hksj": self.hksj, "hksj_variant": self.hksj_variant,
            "level": float(self.level), "h2": json_number(self.h2),
            "tau2_null": json_number(self.tau2_null),
            "qe": json_number(self.qe), "qe_df": int(self.qe_df), "qe_p": json_number(self.qe_p),
            "moderator_types": [m.to_dict() for m in self.moderators],
            "notes": list(self.notes),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient: term, estimate, se, statistic, p, low, high."""
        import pandas as pd

        return pd.DataFrame([{**c.to_dict(), "statistic": c.statistic}
                             for c in self.coefficients],
                            columns=["term", "estimate", "se", "statistic", "p", "low", "high"])

    def methods_text(self) -> str:
        """The methods sentence, generated from what was fitted."""
        measure = (MEASURE_CHOICES[self.measure].prose if self.measure in MEASURE_CHOICES
                   else f"{self.measure} effect sizes")
        tau = MODEL_CHOICES.prose(self.method).replace("a random-effects model with ",
                                                                 "")
        mods = "; ".join(
            m.name if m.kind == "numeric" else
            f"{m.name} (categorical, reference {m.reference!r})" for m in self.moderators)
        test = ("Wald-type z tests and a chi-squared omnibus test" if self.df is None else
                f"the Knapp-Hartung adjustment ({'ad hoc variant, variance factor at least 1' if self.test == 'adhoc' else 'metafor test = knha'}): "  # noqa: E501
                f"t tests and an F omnibus test with {self.df} df")
        return (f"Mixed-effects meta-regression of {measure} on {mods} (k = {self.k} arms, "
                f"{self.p} coefficients), with {tau} for the residual heterogeneity and {test}; "
                "categorical moderators as treatment contrasts against their reference level "
                "(as R's model.matrix, metafor rma with mods).")


def _coefficients(terms: Sequence[str], beta: np.ndarray, vb: np.ndarray, crit: float,
                  df: int | None) -> tuple[Coefficient, ...]:
    se = np.sqrt(np.clip(np.diag(vb), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    if df is None:
        p = np.array([math.erfc(abs(s) / math.sqrt(2)) if math.isfinite(s) else math.nan
                      for s in stat])
    else:
        from scipy.special import stdtr

        p = 2 * stdtr(df, -np.abs(stat))
    return tuple(Coefficient(t, float(b), float(s), float(b - crit * s), float(b + crit * s),
                             float(pv), float(z))
                 for t, b, s, pv, z in zip(terms, beta, se, p, stat, strict=True))


def _omnibus(beta: np.ndarray, vb: np.ndarray, df: int | None,
             k: int) -> tuple[float | None, float | None]:
    """QM over the moderator coefficients: chi^2(m), or QM / m against F(m, k - p) under KH."""
    m = beta.size - 1
    try:
        chol = np.linalg.cholesky(vb[1:, 1:])
    except np.linalg.LinAlgError:  # a zero KH factor (a perfect fit): metafor gives NA too
        return None, None
    z = np.linalg.solve(chol, beta[1:])
    qm = float(z @ z)
    if df is None:
        return qm, chi2_upper_tail(qm, m)
    from scipy.special import fdtrc

    qm /= m
    return qm, float(fdtrc(m, df, qm))


def _checked_yi_vi(yi: Any, vi: Any) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(yi, dtype=float)
    v = np.asarray(vi, dtype=float)
    if y.ndim != 1 or y.shape != v.shape or y.size == 0:
        raise _refuse("yi and vi must be non-empty sequences of the same length")
    limits.check_count("arms in a meta-regression", y.size, limits.MAX_STUDIES,
                       "fit a subset")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise _refuse("yi must be finite and vi finite and positive")
    return y, v


def fit_metareg(yi: Sequence[float] | np.ndarray, vi: Sequence[float] | np.ndarray,
                moderators: Mapping[str, Sequence[object]], *, method: str = "REML",
                hksj: bool = False, hksj_variant: str = "adhoc", level: float = 0.95,
                measure: str = "generic", studies: Sequence[str] | None = None,
                reference: Mapping[str, str] | None = None) -> MetaRegression:
    """Fit ``rma(yi, vi, mods = ~ m1 + m2 + ..., method = method, test = ...)``.

    ``hksj`` with ``hksj_variant="plain"`` is metafor test="knha", ``"adhoc"`` test="adhoc"
    (the app's default wherever HKSJ is offered); without ``hksj`` test="z".
    """
    if method not in METAREG_METHODS:
        raise _refuse(f"unknown method {method!r}; choose one of {', '.join(METAREG_METHODS)}")
    if hksj_variant not in HKSJ_CHOICES:
        raise _refuse(f"unknown hksj_variant {hksj_variant!r}; choose adhoc or plain")
    level = parse_level(level, error=MetaRegressionInputError)
    y, v = _checked_yi_vi(yi, vi)
    k = y.size
    if any(len(vals) != k for vals in moderators.values()):
        raise _refuse(f"every moderator needs one value per arm ({k} arms)")
    design = design_matrix(moderators, reference)
    X = design.X
    p = X.shape[1]
    if k <= p:
        raise _refuse(f"{k} arms cannot estimate {p} coefficients (the intercept and "
                      f"{p - 1} moderator term{'s' if p > 2 else ''}): a meta-regression needs "
                      "more arms than coefficients; use fewer moderators or levels")
    _check_rank(design)
    names = tuple(str(s) for s in studies) if studies is not None else tuple(
        f"Study {i + 1}" for i in range(k))
    if len(names) != k:
        raise _refuse(f"studies has {len(names)} labels but there are {k} arms")

    tau2 = estimate_tau2(X, y, v, method)
    at = _At(X, y, v, tau2)
    beta = at.beta
    r_inv = np.linalg.inv(at.R)
    vb = r_inv @ r_inv.T
    test, df, s2w = "z", None, 1.0
    if hksj:
        test = "knha" if hksj_variant == "plain" else "adhoc"
        s2w = at.rss / (k - p) if at.rss > np.finfo(float).eps else 0.0
        if test == "adhoc":
            s2w = max(1.0, s2w)
        vb = s2w * vb
        df = k - p
    crit = critical_value(level, df)
    coefficients = _coefficients(design.terms, beta, vb, crit, df)
    qm, qm_p = _omnibus(beta, vb, df, k)

    fe = _At(X, y, v, 0.0)
    qe = max(0.0, fe.rss)
    vt = (k - p) / fe.tr_p()
    tau2_null = float(fit_model(EffectSizes.from_yi_vi(y, v, measure), method).tau2 or 0.0)
    r2 = 0.0 if tau2_null == 0 else max(0.0, 100 * (tau2_null - tau2) / tau2_null)
    loglik = at.loglik(method != "ML", float(np.linalg.slogdet(X.T @ X)[1]))
    return MetaRegression(
        k=k, measure=measure, method=method, test=test, level=level,
        moderators=design.moderators, coefficients=coefficients, vcov=vb, tau2=float(tau2),
        tau2_null=tau2_null, i2=100 * tau2 / (vt + tau2), h2=tau2 / vt + 1, r2=r2, qm=qm,
        qm_df=p - 1, qm_df2=df, qm_p=qm_p, qe=qe, qe_df=k - p, qe_p=chi2_upper_tail(qe, k - p),
        df=df, crit=crit, loglik=loglik, s2w=s2w, yi=y, vi=v, X=X, studies=names,
        notes=tuple(_notes(k, p, test, df, s2w)))


def _notes(k: int, p: int, test: str, df: int | None, s2w: float) -> list[str]:
    notes = []
    m = p - 1
    if k < ARMS_PER_TERM * m:
        notes.append(
            f"WARNING: {k} arms for {m} moderator coefficient{'s' if m > 1 else ''}, fewer "
            f"than {ARMS_PER_TERM} arms per coefficient (Cochrane Handbook 10.11.5.1): the "
            "coefficients are unstable and an association can arise by chance; treat the "
            "meta-regression as exploratory")
    if df is not None:
        variant = ("ad hoc variant: variance factor at least 1" if test == "adhoc" else
                   "metafor test = knha")
        notes.append(f"Knapp-Hartung adjustment ({variant}; factor {s2w:.3g}): t tests and "
                     f"intervals with {df} df, omnibus test F({p - 1}, {df})")
    return notes


# ---------------------------------------------------------------------------------------------
# Proportions (events of n per arm)
# ---------------------------------------------------------------------------------------------


def metareg_proportions(events: Sequence[int] | np.ndarray, n: Sequence[int] | np.ndarray,
                        moderators: Mapping[str, Sequence[object]], *,
                        studies: Sequence[str] | None = None, measure: str = "logit",
                        method: str = "REML", hksj: bool = False, hksj_variant: str = "adhoc",
                        level: float = 0.95,
                        reference: Mapping[str, str] | None = None) -> MetaRegression:
    """Meta-regression of single proportions: ``escalc(measure, xi, ni)`` (pooling's
    ``effect_sizes``, with its continuity rule: 0.5 added to 0 %/100 % arms for logit and raw)
    then ``rma(yi, vi, mods = ...)``. Coefficients are on the measure's scale."""
    if measure not in MEASURE_CHOICES:
        raise _refuse(f"unknown measure {measure!r}; choose one of {', '.join(MEASURE_CHOICES)}")
    k = len(events) if hasattr(events, "__len__") else 0
    limits.check_count("arms in a meta-regression", k, limits.MAX_STUDIES, "fit a subset")
    try:
        es = effect_sizes(events, n, measure)
    except PoolingInputError as exc:
        raise _refuse(str(exc)) from None
    assert es.events is not None and es.n is not None
    if np.all(es.events == 0) or np.all(es.events == es.n):
        which = "0 %" if np.all(es.events == 0) else "100 %"
        raise _refuse(f"every arm is {which}: there is no variation in the rates for "
                      "moderators to explain (a regression on continuity corrections alone)")
    fit = fit_metareg(es.yi, es.vi, moderators, method=method, hksj=hksj,
                      hksj_variant=hksj_variant, level=level, measure=measure,
                      studies=studies, reference=reference)
    notes = list(fit.notes)
    corrected = [fit.studies[i] for i in np.flatnonzero(es.corrected)]
    if corrected:
        notes.append("continuity correction 0.5 added to events and non-events of: "
                     + ", ".join(corrected))
    notes.append(f"coefficients are differences on the {measure} scale "
                 f"({MEASURE_CHOICES[measure].label}) per unit of a numeric moderator or against "
                 "the reference level of a categorical one")
    return replace(fit, notes=tuple(notes), events=es.events, n=es.n)


# ---------------------------------------------------------------------------------------------
# Bubble plot data (regplot)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BubbleData:
    """Points (one per arm) and the fitted line or per-level fits for one moderator.

    ``points``: study, x, y, weight (% model weight), and events/n when known. ``fit``: x,
    estimate, low, high, pi_low, pi_high (a grid for a numeric moderator, one row per level
    for a categorical one); the other moderators' columns are held at their means, as
    metafor's regplot does. ``scale`` is "measure" or "proportion" (back-transformed).
    """

    moderator: Moderator
    points: pd.DataFrame
    fit: pd.DataFrame
    scale: str
    measure: str


def bubble_data(result: MetaRegression, moderator: str, scale: str = "measure",
                grid: int = 101) -> BubbleData:
    """The data of a bubble plot of ``result`` against one moderator (pure)."""
    import pandas as pd

    from comparators.stats.pooling import back_transform

    mod = next((m for m in result.moderators if m.name == moderator), None)
    if mod is None:
        raise _refuse(f"{moderator!r} is not a moderator of this model (moderators: "
                      f"{', '.join(m.name for m in result.moderators)})")
    if scale not in ("measure", "proportion"):
        raise _refuse("scale is 'measure' or 'proportion'")
    if scale == "proportion" and (result.n is None or result.measure not in MEASURE_CHOICES):
        raise _refuse("the proportion scale needs a meta-regression of proportions")
    grid = int(min(max(grid, 2), 1001))
    cols = [result.terms.index(t) for t in mod.terms]
    means = result.X.mean(axis=0)
    if mod.kind == "numeric":
        xs = result.X[:, cols[0]]
        x_fit: list[Any] = list(np.linspace(xs.min(), xs.max(), grid))
        rows = np.tile(means, (len(x_fit), 1))
        rows[:, cols[0]] = x_fit
        x_points: list[Any] = list(xs)
    else:
        x_fit = list(mod.levels)
        rows = np.tile(means, (len(x_fit), 1))
        rows[:, cols] = 0.0
        for i in range(1, len(x_fit)):
            rows[i, cols[i - 1]] = 1.0
        level_of = {t: lev for t, lev in zip(mod.terms, mod.levels[1:], strict=True)}
        x_points = [next((level_of[result.terms[c]] for c in cols if row[c] == 1.0),
                         mod.levels[0]) for row in result.X]
    preds = result.predict_rows(rows)
    fit = pd.DataFrame({"x": x_fit, "estimate": [q.estimate for q in preds],
                        "low": [q.low for q in preds], "high": [q.high for q in preds],
                        "pi_low": [q.pi_low for q in preds],
                        "pi_high": [q.pi_high for q in preds]})
    points = pd.DataFrame({"study": list(result.studies), "x": x_points, "y": result.yi,
                           "weight": result.weights})
    if result.events is not None and result.n is not None:
        points["events"], points["n"] = result.events, result.n
    if scale == "proportion":
        for col in ("estimate", "low", "high", "pi_low", "pi_high"):
            fit[col] = back_transform(fit[col].to_numpy(), result.measure, result.n)
        points["y"] = back_transform(points["y"].to_numpy(), result.measure, result.n)
    return BubbleData(mod, points, fit, scale, result.measure)


# ---------------------------------------------------------------------------------------------
# CSV input (a `pool` file with moderator columns)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaRegressionData:
    """A `metareg` file read and checked: arms, counts and one typed column per moderator."""

    studies: list[str]
    events: np.ndarray
    n: np.ndarray
    moderators: dict[str, list[float] | list[str]]


_RESERVED = ("study", "events", "n")


def read_metareg_csv(path_or_buffer: str | os.PathLike[str] | bytes,
                     moderators: Sequence[str]) -> MetaRegressionData:
    """Read a CSV shaped like `pool`'s (study,events,n) with one column per moderator.

    A moderator column is numeric when every cell is a number (``inputs.parse_number``) and
    categorical when none is (cells through ``inputs.clean_text``); a column that mixes the two,
    or has an empty cell, is refused naming the row and the column.
    """
    wanted = [clean_text(m, max_chars=200, where="--moderator", error=MetaRegressionInputError)
              for m in moderators]
    limits.check_count("moderators", len(wanted), limits.MAX_MODERATORS,
                       "keep the moderators that answer the question")
    if len({w.casefold() for w in wanted}) < len(wanted):
        raise _refuse("a moderator is named twice; name each moderator once")
    for w in wanted:
        if w.casefold() in _RESERVED:
            raise _refuse(f"{w!r} is one of the file's count columns (study, events, n), not "
                          "a moderator")
    raw = limits.read_regular_file(path_or_buffer) if isinstance(
        path_or_buffer, str | os.PathLike) else path_or_buffer
    try:
        studies, events, n, _ = read_pool_csv(raw)
        header, records = _read_csv_table(raw)
    except PoolingInputError as exc:
        raise _refuse(str(exc)) from None
    by_key = {h.strip().casefold(): i for i, h in enumerate(header)}
    columns: dict[str, list[float] | list[str]] = {}
    for w in wanted:
        if w.casefold() not in by_key:
            raise _refuse(f"no column {w!r} in the file (columns: {', '.join(header)})")
        j = by_key[w.casefold()]
        name = header[j].strip()
        columns[name] = _moderator_cells([rec[j] for rec in records], name)
    return MetaRegressionData(studies, events, n, columns)


def _moderator_cells(cells: list[str], column: str) -> list[float] | list[str]:
    numbers_: list[float] = []
    first_text: tuple[int, str] | None = None
    for r, cell in enumerate(cells, start=1):
        if is_missing(cell):
            raise _refuse(f"row {r}, column {column!r}: value is missing; every arm needs a "
                          "value for every moderator (fill it, or delete the row)")
        try:
            value = parse_number(cell, row=r, column=column, error=MetaRegressionInputError)
        except MetaRegressionInputError:
            first_text = first_text or (r, cell)
            continue
        assert value is not None
        numbers_.append(value)
    if first_text is None:
        return numbers_
    if numbers_:
        r, cell = first_text
        raise _refuse(f"row {r}, column {column!r}: {clean_text(cell, max_chars=200)!r} is not "
                      "a number, but other rows of this column are; a moderator is either "
                      "numeric or categorical")
    return [clean_text(c, max_chars=limits.MAX_CELL_CHARS, row=r, column=column,
                       error=MetaRegressionInputError) for r, c in enumerate(cells, start=1)]

