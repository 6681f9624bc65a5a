"""Pooling against R metafor on generated data (one Rscript run for the whole module).

Data sets (seeded, generated below, never hand-edited): random ones with k = 1 .. 30 and
sarcoma-like ones (small arms, many 0 % arms, some 100 % arms, all-0 % and all-100 % pools, the
issue-12 example). For every data set, measure (logit, ft, arcsine, raw = metafor PLO, PFT, PAS,
PR) and model (FE, DL, PM, ML, REML) under each HKSJ variant (none = test "z", plain = "knha",
ad hoc = "adhoc") the R side runs ``escalc`` + ``rma`` (+ ``predict`` for the prediction
interval); GLMM runs ``rma.glmm(measure = "PLO", method = "ML")`` with test "z" and "t" (a GLMM
has no HK variance factor: both HKSJ variants are metafor's test "t").

Compared, on the transformed scale: estimate, SE, CI, prediction interval (not for FE), tau^2,
I^2 and Q.

Tolerances (why):
- FE, DL, PM, ML, REML: 1e-6 absolute plus 1e-6 relative on every number; R runs with
  control = list(threshold = 1e-10, tol = 1e-12, maxiter = 10000) so that its Fisher scoring and
  uniroot stop well inside that. I^2 (in percent) to 1e-4: where the optimum is tau^2 = 0, R's
  Fisher scoring approaches the boundary from above and stops at tau^2 ~ 1e-11 (I^2 ~ 1e-6 %).
- GLMM: 2e-3 absolute or 1 % relative (tau^2: 5e-3 absolute or 2 % relative); lme4 optimises
  the adaptive-quadrature deviance with bobyqa + Nelder-Mead and takes the SE from its own
  finite-difference Hessian, so agreement is to about 3 decimals (the documented metafor examples
  in test_pooling_metafor.py hold to 4); in very sparse sets with tau ~ 2-5 on the logit scale
  the two Hessians differ by up to ~1 % in the SE, so interval limits get 2e-3 plus 1 % of the
  SE times the critical value (2.1).
- GLMM Q: the app's Q is the descriptive Cochran Q of the continuity-corrected logits (as for
  the other models); rma.glmm's QE.Wld comes from a study-specific-intercept logistic model, in
  which 0 %/100 % arms contribute (almost) nothing. Compared only for sets without such arms.

Where the app deliberately differs from R, the test checks the documented rule instead:
- ML/REML: the app returns the GLOBAL maximum of the (restricted) likelihood. Where metafor's
  Fisher scoring stops at a local maximum, the app's log-likelihood must be higher than R's
  (counted as "app at a higher maximum"), never lower; the same is checked against metafor with
  its default control (threshold 1e-5), which stops early or at another maximum more often.
- k = 1: the app reports the single study (no model); compared for test "z" only, where metafor
  also reduces to the study's own estimate and interval.
- Pools whose arms are all 0 % or all 100 % are not estimable by random-effects pooling
  (pooling.py docstring): pool_proportions must return the summed counts with R's exact
  binom.test interval, and fit_glmm must raise GLMMNotFittedError. The normal-normal model fit
  itself (fit_model, same continuity correction as escalc) is still compared with rma.
- Proportions shown to users are clipped to [0, 1]: for raw proportions pool_proportions' low
  and high must equal R's ci.lb and ci.ub clipped to [0, 1].

A mismatch prints the data set (counts) and the numbers on both sides.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.stats.effect_sizes import effect_sizes
from comparators.stats.pooling import (
    GLMMNotFittedError,
    _loglik,
    fit_glmm,
    fit_model,
    pool_proportions,
)

MEASURES = {"logit": "PLO", "ft": "PFT", "arcsine": "PAS", "raw": "PR"}
MODELS = ("FE", "DL", "PM", "ML", "REML")
TESTS = {"z": None, "knha": "plain", "adhoc": "adhoc"}


def _datasets() -> list[tuple[str, list[int], list[int]]]:
    rng = np.random.default_rng(20261201)
    out: list[tuple[str, list[int], list[int]]] = []
    for i, k in enumerate([1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30]):
        n = rng.integers(8, 200, size=k)
        p = 1 / (1 + np.exp(-rng.normal(rng.normal(-0.8, 0.8), rng.choice([0.05, 0.4, 1.0]), k)))
        out.append((f"random{i}", list(map(int, rng.binomial(n, p))), list(map(int, n))))
    for i, k in enumerate([2, 3, 3, 4, 5, 6, 8, 10, 14, 20]):
        n = rng.integers(3, 35, size=k)
        p = rng.choice([0.0, 0.0, 0.05, 0.15, 0.3, 1.0], size=k)
        x = rng.binomial(n, p)
        x[0] = min(x[0] + 1, n[0])  # at least one arm with an event
        out.append((f"sarcoma{i}", list(map(int, x)), list(map(int, n))))
    out += [
        ("issue12", [4, 0, 0, 3, 0, 0, 0, 0], [5, 7, 7, 7, 100, 20, 60, 3]),
        ("ups_ai_ici_all0", [0, 0, 0], [5, 6, 5]),
        ("all0_k5", [0, 0, 0, 0, 0], [12, 3, 30, 8, 15]),
        ("all100_k3", [4, 7, 2], [4, 7, 2]),
        ("mixed100", [5, 6, 1, 9], [5, 6, 10, 20]),
        ("single0", [0], [9]),
    ]
    return out


DATASETS = _datasets()
BY_NAME = {name: (x, n) for name, x, n in DATASETS}


def _all_extreme(x: list[int], n: list[int]) -> bool:
    return len(x) >= 2 and (sum(x) == 0 or x == n)


R_SCRIPT = r"""
suppressMessages({library(metafor); library(lme4)})
d <- read.csv("datasets.csv", stringsAsFactors = FALSE)
ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
rows <- list()
add <- function(...) rows[[length(rows) + 1]] <<- data.frame(..., stringsAsFactors = FALSE)
blank <- function(ds, measure, method, test, err)
  add(ds = ds, measure = measure, method = method, test = test, ok = FALSE, beta = NA, se = NA,
      ci_lb = NA, ci_ub = NA, pi_lb = NA, pi_ub = NA, tau2 = NA, I2 = NA, QE = NA, ll = NA,
      warn = "", err = err)
num <- function(v) if (is.null(v) || length(v) == 0) NA else as.numeric(v)[1]
res <- function(ds, measure, method, test, r, w) {
  p <- predict(r)
  add(ds = ds, measure = measure, method = method, test = test, ok = TRUE,
      beta = num(r$beta), se = num(r$se), ci_lb = num(r$ci.lb), ci_ub = num(r$ci.ub),
      pi_lb = num(p$pi.lb), pi_ub = num(p$pi.ub),
      tau2 = num(r$tau2), I2 = num(r$I2),
      QE = if (is.null(r$QE)) num(r$QE.Wld) else num(r$QE), ll = num(logLik(r)),
      warn = paste(w, collapse = " | "), err = "")
}
for (ds in unique(d$ds)) {
  s <- d[d$ds == ds, ]
  for (measure in c("PLO", "PFT", "PAS", "PR")) {
    es <- escalc(measure, xi = s$xi, ni = s$ni)
    for (method in c("FE", "DL", "PM", "ML", "REML")) for (test in c("z", "knha", "adhoc")) {
      w <- character(0)
      r <- tryCatch(withCallingHandlers(
        rma(yi, vi, data = es, method = method, test = test, control = ctl),
        warning = function(e) { w <<- c(w, conditionMessage(e)); invokeRestart("muffleWarning") }),
        error = function(e) e)
      if (inherits(r, "error")) blank(ds, measure, method, test, conditionMessage(r))
      else res(ds, measure, method, test, r, w)
    }
    for (method in c("ML", "REML")) {  # metafor's default control: one Fisher-scoring run
      w <- character(0)
      r <- tryCatch(withCallingHandlers(rma(yi, vi, data = es, method = method),
        warning = function(e) { w <<- c(w, conditionMessage(e)); invokeRestart("muffleWarning") }),
        error = function(e) e)
      if (!inherits(r, "error")) res(ds, measure, paste0(method, "_default"), "z", r, w)
    }
  }
  for (test in c("z", "t")) {
    w <- character(0)
    r <- tryCatch(withCallingHandlers(
      rma.glmm(measure = "PLO", xi = s$xi, ni = s$ni, method = "ML", test = test),
      warning = function(e) { w <<- c(w, conditionMessage(e)); invokeRestart("muffleWarning") }),
      error = function(e) e)
    if (inherits(r, "error")) blank(ds, "PLO", "GLMM", test, conditionMessage(r))
    else res(ds, "PLO", "GLMM", test, r, w)
  }
  b <- binom.test(sum(s$xi), sum(s$ni))$conf.int
  add(ds = ds, measure = "", method = "CP", test = "", ok = TRUE, beta = sum(s$xi) / sum(s$ni),
      se = NA, ci_lb = b[1], ci_ub = b[2], pi_lb = NA, pi_ub = NA, tau2 = NA, I2 = NA,
      QE = NA, ll = NA, warn = "", err = "")
}
write.csv(do.call(rbind, rows), "metafor.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def metafor() -> pd.DataFrame:
    frame = pd.DataFrame(
        [{"ds": name, "xi": xi, "ni": ni} for name, x, n in DATASETS
         for xi, ni in zip(x, n, strict=True)])
    out = run_r(R_SCRIPT, {"datasets": frame}, ["metafor"])["metafor"]
    out["warn"] = out["warn"].fillna("")
    out["measure"] = out["measure"].fillna("")
    return out


def _close(a: float | None, b: float, abs_tol: float, rel_tol: float) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a is not None and math.isclose(a, b, abs_tol=abs_tol, rel_tol=rel_tol)


def _fields(fit, rrow: pd.Series, model: str) -> dict[str, tuple[float | None, float]]:  # noqa: ANN001
    out = {"estimate": (fit.estimate, rrow.beta), "se": (fit.se, rrow.se),
           "low": (fit.low, rrow.ci_lb), "high": (fit.high, rrow.ci_ub),
           "Q": (fit.q, rrow.QE)}
    if fit.k > 1:
        out["I2"] = (fit.i2, rrow.I2)
    if model != "FE" and fit.k > 1:
        out |= {"tau2": (fit.tau2, rrow.tau2), "pi_low": (fit.pi_low, rrow.pi_lb),
                "pi_high": (fit.pi_high, rrow.pi_ub)}
    return out


def _report(name: str, measure: str, model: str, test: str, diffs: list[str]) -> str:
    x, n = BY_NAME[name]
    return (f"{name} events={x} n={n} measure={measure} model={model} test={test}: "
            + "; ".join(diffs))


@pytest.mark.parametrize("model", MODELS)
def test_rma_models_match_metafor(metafor: pd.DataFrame, model: str) -> None:
    mismatches: list[str] = []
    rows = metafor[metafor["method"] == model]
    for rrow in rows.itertuples(index=False):
        x, n = BY_NAME[rrow.ds]
        measure = {v: k for k, v in MEASURES.items()}[rrow.measure]
        variant = TESTS[rrow.test]
        if len(x) == 1 and variant is not None:
            continue  # documented: k = 1 is the single study; compared for test "z" only
        if not rrow.ok:
            mismatches.append(_report(rrow.ds, measure, model, rrow.test,
                                      [f"R failed: {rrow.err}"]))
            continue
        es = effect_sizes(x, n, measure)
        fit = fit_model(es, model, hksj=variant is not None, level=0.95,
                        hksj_variant=variant or "adhoc")
        key = ("pooling " + model, "agree")
        diffs = []
        if model in ("ML", "REML") and len(x) > 1:
            ours = float(_loglik(fit.tau2 or 0.0, es.yi, es.vi, model == "REML")[0])
            if ours > rrow.ll + 1e-6:
                TALLY[("pooling " + model, "app at a higher maximum than metafor")] += 1
                continue
            if ours < rrow.ll - 1e-6:
                diffs.append(f"logLik app {ours:.8f} < R {rrow.ll:.8f}")
        for field, (a, b) in _fields(fit, rrow, model).items():
            if not _close(a, b, 1e-4 if field == "I2" else 1e-6, 1e-6):
                diffs.append(f"{field}: app {a!r} R {b!r}")
        if measure == "raw" and len(x) > 1 and not _all_extreme(x, n):
            pooled = pool_proportions(x, n, measure="raw", method=model,
                                      hksj=variant is not None, hksj_variant=variant or "adhoc")
            for a, b in ((pooled.low, rrow.ci_lb), (pooled.high, rrow.ci_ub)):
                if not _close(a, min(1.0, max(0.0, b)), 1e-6, 1e-6):
                    diffs.append(f"clipped raw CI: app {a!r} R clip({b!r})")
        if diffs:
            key = ("pooling " + model, "MISMATCH")
            mismatches.append(_report(rrow.ds, measure, model, rrow.test, diffs))
        TALLY[key] += 1
    assert not mismatches, "\n".join(mismatches[:40])


@pytest.mark.parametrize("model", ["ML", "REML"])
def test_ml_reml_likelihood_never_below_metafor_default(metafor: pd.DataFrame,
                                                        model: str) -> None:
    # metafor's default rma() (threshold 1e-5, one Fisher-scoring run from its start value) can
    # stop at a local maximum and says so in a warning; the app's (restricted) log-likelihood
    # at its tau^2 must never be below metafor's.
    rows = metafor[(metafor["method"] == f"{model}_default") & metafor["ok"]]
    assert len(rows) > 100
    below = []
    for rrow in rows.itertuples(index=False):
        x, n = BY_NAME[rrow.ds]
        if len(x) < 2:
            continue
        measure = {v: k for k, v in MEASURES.items()}[rrow.measure]
        es = effect_sizes(x, n, measure)
        fit = fit_model(es, model)
        ours = float(_loglik(fit.tau2 or 0.0, es.yi, es.vi, model == "REML")[0])
        if ours < rrow.ll - 1e-8:
            below.append(_report(rrow.ds, measure, model, "z", [f"logLik {ours} < {rrow.ll}"]))
        if ours > rrow.ll + 1e-3:
            outcome = "app logLik higher by > 1e-3 (metafor default at another maximum)"
        elif ours > rrow.ll + 1e-6:
            outcome = "app logLik higher by 1e-6..1e-3 (metafor default stopped early)"
        else:
            outcome = "same maximum"
        TALLY[(f"pooling {model} vs metafor default control", outcome)] += 1
    assert not below, "\n".join(below)


def test_glmm_matches_rma_glmm(metafor: pd.DataFrame) -> None:
    mismatches: list[str] = []
    for rrow in metafor[metafor["method"] == "GLMM"].itertuples(index=False):
        x, n = BY_NAME[rrow.ds]
        hksj = rrow.test == "t"
        if _all_extreme(x, n):
            # documented rule: no silent fallback; the app raises and names the alternative
            with pytest.raises(GLMMNotFittedError, match="exact"):
                fit_glmm(x, n, hksj=hksj)
            TALLY[("pooling GLMM", "documented rule (all 0 %/100 %: not fitted)")] += 1
            continue
        if len(x) == 1:
            continue  # rma.glmm refuses k = 1 (more parameters than studies); the app shows
            # the single study
        if not rrow.ok:
            mismatches.append(_report(rrow.ds, "logit", "GLMM", rrow.test,
                                      [f"R failed: {rrow.err}"]))
            continue
        for variant in (("adhoc", "plain") if hksj else ("adhoc",)):
            fit = fit_glmm(x, n, hksj=hksj, hksj_variant=variant)
            diffs = []
            tols = {"tau2": (5e-3, 2e-2)}
            extreme = any(xi in (0, ni) for xi, ni in zip(x, n, strict=True))
            for field, (a, b) in _fields(fit, rrow, "GLMM").items():
                if field == "Q" and extreme:
                    continue  # documented difference, see the module docstring
                at, rt = tols.get(field, (2e-3, 1e-2))
                if field in ("low", "high", "pi_low", "pi_high"):
                    at = 2e-3 + 0.01 * 2.1 * rrow.se  # the SE's 1 % times the critical value
                if field == "I2":
                    at = 0.5  # percent; follows tau^2
                if not _close(a, b, at, rt):
                    diffs.append(f"{field}: app {a!r} R {b!r}")
            if diffs:
                mismatches.append(_report(rrow.ds, "logit", "GLMM",
                                          f"{rrow.test}/{variant}", diffs))
                TALLY[("pooling GLMM", "MISMATCH")] += 1
            else:
                TALLY[("pooling GLMM", "agree")] += 1
    assert not mismatches, "\n".join(mismatches[:40])


def test_not_estimable_pools_report_exact_summed_counts(metafor: pd.DataFrame) -> None:
    cp = metafor[metafor["method"] == "CP"].set_index("ds")
    checked = 0
    for name, x, n in DATASETS:
        if not _all_extreme(x, n):
            continue
        for method in (*MODELS, "GLMM"):
            for hksj in (False, True):
                res = pool_proportions(x, n, method=method, hksj=hksj)
                r = cp.loc[name]
                assert not res.estimable, name
                assert (res.tau2, res.i2, res.pi_low, res.pi_high) == (None, None, None, None)
                assert math.isclose(res.estimate, r.beta, abs_tol=1e-12)
                assert math.isclose(res.low, r.ci_lb, abs_tol=1e-9), (name, res.low, r.ci_lb)
                assert math.isclose(res.high, r.ci_ub, abs_tol=1e-9), (name, res.high, r.ci_ub)
                checked += 1
                TALLY[("pooling not estimable vs binom.test", "agree")] += 1
    assert checked >= 3 * 12


def test_adhoc_never_narrower_than_standard_interval(metafor: pd.DataFrame) -> None:
    # metafor's own adhoc rows against its own z rows: the property the default relies on
    idx = metafor.set_index(["ds", "measure", "method", "test"])
    for name, x, _ in DATASETS:
        if len(x) < 2:
            continue
        for code in MEASURES.values():
            for model in MODELS:
                z = idx.loc[(name, code, model, "z")]
                a = idx.loc[(name, code, model, "adhoc")]
                if z.ok and a.ok:
                    assert a.ci_ub - a.ci_lb >= z.ci_ub - z.ci_lb - 1e-12
