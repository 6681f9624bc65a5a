"""Median pooling against R on generated and catalog data (one Rscript run).

Inverse variance (stats.medians.pool_medians_iv): R computes each arm's standard error from its
reported interval itself, (log U - log L) / (2 qnorm((1 + level) / 2)) on the log scale or
(U - L) / (2 z) on the months scale (metamedian_survival's rule; an upper limit not reached
gives (m - L) / z, or its log form), then runs ``rma(yi, sei = ..., method, test)`` and
``predict``; the app's results, back-transformed by exp on the log scale, are compared with
exp of R's. Models FE, DL, PM, ML, REML; tests z, knha (plain HKSJ), adhoc.

Median of medians (stats.medians.median_of_medians): R computes what metamedian::pool.med
computes, with the same functions (``quantile`` type 7 for MM, ``Hmisc::wtd.quantile`` for
WM, probabilities 0.5 -/+ min(0.5, qnorm(0.975) / (2 sqrt(k)))); the exact sign-test interval
is written in R from ``qbinom``: r = qbinom(0.025, k, 1/2), interval [Y_(r), Y_(k-r+1)] with
coverage 1 - 2 pbinom(r - 1, k, 1/2) (weighted: the quantiles at r/k and (k - r + 1)/k, as
pool.med). metamedian itself is not installable here; see stats/medians.py for the one place
its unweighted exact interval differs from the sign-test interval.

Data: generated arms (seeded) with log-normal medians of 1-40 months, intervals rounded to two
decimals as papers print them, some skewed, some with the upper limit not reached, some at
90 % or 99 % level; medians rounded to one decimal for the median of medians, so ties occur;
and the catalog's arms with a median PFS (with their interval where the row gives one).

Tolerances: 1e-6 absolute plus 1e-6 relative on the pooling scale (R with control =
list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)); 1e-12 for quantiles. ML/REML: where
metafor stops at a local maximum, the app's log-likelihood must be higher (counted).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.stats.effect_sizes import EffectSizes
from comparators.stats.medians import median_of_medians, pool_medians_iv
from comparators.stats.pooling import _loglik

MODELS = ("FE", "DL", "PM", "ML", "REML")
TESTS = {"z": None, "knha": "plain", "adhoc": "adhoc"}


def _iv_sets() -> list[pd.DataFrame]:
    rng = np.random.default_rng(20261226)
    sets = []
    for i, k in enumerate([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40]):
        m = np.round(np.exp(rng.normal(math.log(5), rng.choice([0.1, 0.5, 0.9]), k)), 2)
        m = np.clip(m, 0.5, 120)
        se = rng.uniform(0.08, 0.6, k)
        level = rng.choice([0.95, 0.95, 0.95, 0.9, 0.99], k)
        z = np.array([_z(c) for c in level])
        lo = np.round(m * np.exp(-z * se * rng.uniform(0.7, 1.3, k)), 2)
        hi = np.round(m * np.exp(z * se * rng.uniform(0.7, 1.3, k)), 2)
        hi = np.where(rng.random(k) < 0.15, np.nan, hi)  # upper limit not reached
        lo = np.minimum(lo, m - 0.01)
        hi = np.where(np.isnan(hi), np.nan, np.maximum(hi, m + 0.01))
        sets.append(pd.DataFrame({"ds": f"iv{i}_k{k}", "m": m, "lo": lo, "hi": hi,
                                  "level": level}))
    return sets + _catalog_iv()


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def _catalog_iv() -> list[pd.DataFrame]:
    from comparators.evidence.catalog import load_catalog

    trials = load_catalog().trials
    rows = trials[trials["pfs_median_months"].notna() & trials["pfs_low"].notna()]
    frame = pd.DataFrame({"ds": "catalog_iv", "m": rows["pfs_median_months"].astype(float),
                          "lo": rows["pfs_low"].astype(float),
                          "hi": rows["pfs_high"].astype(float), "level": 0.95})
    sts = frame[(rows["subtype"] == "STS").to_numpy()].assign(ds="catalog_iv_sts")
    return [frame.reset_index(drop=True), sts.reset_index(drop=True)]


def _mm_sets() -> list[pd.DataFrame]:
    rng = np.random.default_rng(20261227)
    sets = []
    for i, k in enumerate([2, 3, 4, 5, 6, 7, 9, 10, 13, 17, 24, 31, 40]):
        m = np.round(np.exp(rng.normal(math.log(6), 0.6, k)), 1)  # ties
        n = rng.integers(8, 200, k)
        sets.append(pd.DataFrame({"ds": f"mm{i}_k{k}", "m": m, "n": n}))
    from comparators.evidence.catalog import load_catalog

    trials = load_catalog().trials
    rows = trials[trials["pfs_median_months"].notna() & trials["evaluable"].notna()]
    sets.append(pd.DataFrame({"ds": "catalog_mm", "m": rows["pfs_median_months"].astype(float),
                              "n": rows["evaluable"].astype(int)}))
    return sets


IV_SETS = _iv_sets()
MM_SETS = _mm_sets()

R_SCRIPT = r"""
suppressMessages({library(metafor); library(Hmisc)})
iv <- read.csv("iv.csv"); mm <- read.csv("mm.csv")
ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000, tau2.max = 1000)
num <- function(v) if (is.null(v) || length(v) == 0) NA else as.numeric(v)[1]
out <- list()
for (ds in unique(iv$ds)) {
  s <- iv[iv$ds == ds, ]
  z <- qnorm(0.5 + s$level / 2)
  for (scale in c("log", "months")) {
    f <- if (scale == "log") log else identity
    yi <- f(s$m)
    sei <- ifelse(is.na(s$hi), (f(s$m) - f(s$lo)) / z, (f(s$hi) - f(s$lo)) / (2 * z))
    for (method in c("FE", "DL", "PM", "ML", "REML")) for (test in c("z", "knha", "adhoc")) {
      if (nrow(s) == 1 && test != "z") next
      r <- suppressWarnings(rma(yi = yi, sei = sei, method = method, test = test,
                                control = ctl))
      p <- predict(r)
      out[[length(out) + 1]] <- data.frame(ds = ds, scale = scale, method = method,
        test = test, beta = num(r$beta), se = num(r$se), lb = num(r$ci.lb), ub = num(r$ci.ub),
        pi_lb = num(p$pi.lb), pi_ub = num(p$pi.ub), tau2 = num(r$tau2), I2 = num(r$I2),
        QE = num(r$QE), ll = num(logLik(r)))
    }
  }
}
write.csv(do.call(rbind, out), "iv_out.csv", row.names = FALSE)
res <- list()
for (ds in unique(mm$ds)) {
  s <- mm[mm$ds == ds, ]
  k <- nrow(s)
  prob <- min(0.5, qnorm(0.5 * 0.95 + 0.5) / (2 * sqrt(k)))
  probs <- c(0.5 - prob, 0.5, 0.5 + prob)
  q <- unname(quantile(s$m, probs = probs))
  res[[length(res) + 1]] <- data.frame(ds = ds, kind = "mm", lb = q[1], est = q[2], ub = q[3],
                                       cov = 0.95)
  q <- unname(wtd.quantile(s$m, weights = s$n, probs = probs))
  res[[length(res) + 1]] <- data.frame(ds = ds, kind = "wm", lb = q[1], est = q[2], ub = q[3],
                                       cov = 0.95)
  r <- qbinom(0.025, k, 0.5)
  if (r >= 1) {
    cov <- 1 - 2 * pbinom(r - 1, k, 0.5)
    y <- sort(s$m)
    res[[length(res) + 1]] <- data.frame(ds = ds, kind = "mm_exact", lb = y[r],
      est = unname(quantile(s$m, 0.5)), ub = y[k - r + 1], cov = cov)
    q <- unname(wtd.quantile(s$m, weights = s$n, probs = c(r / k, 0.5, (k - r + 1) / k)))
    res[[length(res) + 1]] <- data.frame(ds = ds, kind = "wm_exact", lb = q[1], est = q[2],
                                         ub = q[3], cov = cov)
  }
}
write.csv(do.call(rbind, res), "mm_out.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def r_results() -> dict[str, pd.DataFrame]:
    return run_r(R_SCRIPT, {"iv": pd.concat(IV_SETS), "mm": pd.concat(MM_SETS)},
                 ["iv_out", "mm_out"])


def _close(a: float | None, b: float, tol: float = 1e-6) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None
    return a is not None and math.isclose(a, b, abs_tol=tol, rel_tol=1e-6)


@pytest.mark.parametrize("scale", ["log", "months"])
def test_inverse_variance_median_pooling_matches_rma(r_results: dict[str, pd.DataFrame],
                                                     scale: str) -> None:
    sets = {s["ds"].iloc[0]: s for s in IV_SETS}
    back = math.exp if scale == "log" else (lambda x: x)
    mismatches = []
    for row in r_results["iv_out"][lambda f: f["scale"] == scale].itertuples(index=False):
        s = sets[row.ds]
        variant = TESTS[row.test]
        res = pool_medians_iv(list(s["m"]), list(s["lo"]), [None if math.isnan(h) else h
                                                            for h in s["hi"]],
                              ci_levels=list(s["level"]), scale=scale, method=row.method,
                              hksj=variant is not None, hksj_variant=variant or "adhoc")
        what = f"median pooling iv-{scale} {row.method} test={row.test}"
        if row.method in ("ML", "REML") and len(s) > 1:
            y = np.log(s["m"]) if scale == "log" else s["m"].to_numpy()
            v = np.square([a.se for a in res.arms])
            es = EffectSizes.from_yi_vi(y, v)
            ours = float(_loglik(res.tau2 or 0.0, es.yi, es.vi, row.method == "REML")[0])
            if ours > row.ll + 1e-6:
                TALLY[(what, "app at a higher maximum than metafor")] += 1
                continue
        fields = {"estimate": (res.estimate, back(row.beta)), "low": (res.low, back(row.lb)),
                  "high": (res.high, back(row.ub))}
        if len(s) > 1:
            fields |= {"I2": (res.i2, row.I2), "Q": (res.q, row.QE)}
            if row.method != "FE":
                fields |= {"tau2": (res.tau2, row.tau2), "pi_low": (res.pi_low, back(row.pi_lb)),
                           "pi_high": (res.pi_high, back(row.pi_ub))}
        diffs = [f"{k}: app {a!r} R {b!r}" for k, (a, b) in fields.items()
                 if not _close(a, b, 1e-4 if k == "I2" else 1e-6)]
        if diffs:
            mismatches.append(f"{row.ds} {scale} {row.method} {row.test}: {'; '.join(diffs)}")
            TALLY[(what, "MISMATCH")] += 1
        else:
            TALLY[("median pooling iv-" + scale, "data sets x models x tests agreeing")] += 1
            TALLY[("median pooling iv-" + scale, "quantities agreeing")] += len(fields)
    assert not mismatches, "\n".join(mismatches[:30])
    expected = sum(len(MODELS) * (1 if len(s) == 1 else len(TESTS)) for s in IV_SETS)
    assert len(r_results["iv_out"][lambda f: f["scale"] == scale]) == expected


def test_median_of_medians_matches_r_quantiles(r_results: dict[str, pd.DataFrame]) -> None:
    sets = {s["ds"].iloc[0]: s for s in MM_SETS}
    mismatches = []
    out = r_results["mm_out"]
    for row in out.itertuples(index=False):
        s = sets[row.ds]
        exact = row.kind.endswith("exact")
        weights = list(s["n"]) if row.kind.startswith("wm") else None
        res = median_of_medians(list(s["m"]), weights=weights, norm_approx=not exact)
        got = (res.low, res.estimate, res.high, res.coverage)
        want = (row.lb, row.est, row.ub, row.cov)
        if not all(math.isclose(a, b, abs_tol=1e-12, rel_tol=1e-12)  # type: ignore[arg-type]
                   for a, b in zip(got, want, strict=True)):
            mismatches.append(f"{row.ds} {row.kind}: app {got} R {want} m={list(s['m'])} "
                              f"n={list(s['n'])}")
        else:
            TALLY[(f"median of medians ({row.kind})", "data sets agreeing")] += 1
    assert not mismatches, "\n".join(mismatches)
    assert set(out["kind"]) == {"mm", "wm", "mm_exact", "wm_exact"}
    # the exact interval needs k >= 6 at 95 %: the app refuses where R's qbinom gives r = 0
    small = [s for s in MM_SETS if len(s) < 6]
    assert small and all(s["ds"].iloc[0] not in set(out[out["kind"] == "mm_exact"]["ds"])
                         for s in small)
