"""Headline differences against R on generated data (one Rscript run for the module).

Each data set (seeded, generated below) is two regimen classes of arms (A, B) and a cohort. The
app's comparisons (analysis.benchmark.compare_pools / compare_cohort_with_pool, the code the
pages run) are recomputed in R from R's own pieces:

Frequentist (REML and DL; metafor test "z", "knha" = plain HKSJ, "adhoc"): each class is
``rma(escalc("PLO"), method, test)`` with its interval at any level rebuilt from the fit's
estimate, SE and reference distribution (z, or t with metafor's ddf under HKSJ), checked
against ``predict(fit, level = 95, transf = transf.ilogit)``; a class of one arm is its Wilson
interval (``prop.test(correct = FALSE)``), a class whose arms are all 0 % is its summed counts'
Clopper-Pearson interval (``binom.test``); the cohort is its Wilson interval. The difference's
interval is the square-and-add (Newcombe / Zou-Donner) of the two intervals, and its p-value the
level at which that interval's limit reaches 0, found by ``uniroot`` on the level. Compared:
interval limits and p (1e-6; metafor's REML runs with threshold 1e-10).

Bayesian (normal-normal model on the logit scale, flat prior on mu, half-normal(1) prior on tau:
the app's default): R computes p(tau | y) on a fine grid of tau (bayesmeta's marginal
likelihood, written out), mu | tau, y normal; then P(mu_A > mu_B) (= P(ORR_A > ORR_B): the
inverse logit is increasing) as the double sum over the two grids of Phi((m_a - m_b) /
sqrt(s_a^2 + s_b^2)), and the cohort's P(ORR > ORR_B) under its Jeffreys Beta(x + 1/2,
n - x + 1/2) posterior by integrating over the mixture density of mu_B. The credible interval
of the difference is checked against 1,000,000 draws from the same R posteriors (seed 20261206).
Tolerances: probabilities 2e-4 (two independent quadratures of tau), interval limits 3e-3
(Monte Carlo quantiles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.analysis.benchmark import (
    compare_cohort_with_pool,
    compare_pools,
    pool_class,
)
from comparators.analysis.options import AnalysisOptions

TESTS = {"z": (False, "adhoc"), "knha": (True, "plain"), "adhoc": (True, "adhoc")}
METHODS = ("REML", "DL")


def _datasets() -> list[dict]:
    rng = np.random.default_rng(20261206)
    out = []
    for i, (ka, kb) in enumerate([(2, 5), (3, 4), (1, 3), (4, 1), (2, 2), (5, 6), (3, 3),
                                  (2, 4), (6, 2)]):
        def arms(k: int, p: float) -> tuple[list[int], list[int]]:
            n = rng.integers(4, 60, size=k)
            x = rng.binomial(n, np.clip(p + rng.normal(0, 0.08, k), 0.01, 0.95))
            return list(map(int, x)), list(map(int, n))

        (xa, na), (xb, nb) = arms(ka, rng.uniform(0.15, 0.7)), arms(kb, rng.uniform(0.05, 0.4))
        n_c = int(rng.integers(2, 30))
        out.append({"ds": f"random{i}", "xa": xa, "na": na, "xb": xb, "nb": nb,
                    "xc": int(rng.binomial(n_c, 0.45)), "nc": n_c})
    # sarcoma-like: a class of 0% arms (not estimable) and the LMS shape (k = 2 vs 5)
    out.append({"ds": "all0_b", "xa": [6, 1], "na": [11, 5], "xb": [0, 0, 0], "nb": [5, 6, 5],
                "xc": 5, "nc": 7})
    out.append({"ds": "lms_like", "xa": [1, 1], "na": [4, 6], "xb": [1, 0, 0, 0, 0],
                "nb": [15, 10, 12, 1, 5], "xc": 1, "nc": 2})
    return out


DATASETS = _datasets()


def _rows(d: dict) -> pd.DataFrame:
    arms = [("A", i, x, n) for i, (x, n) in enumerate(zip(d["xa"], d["na"], strict=True))]
    arms += [("B", i, x, n) for i, (x, n) in enumerate(zip(d["xb"], d["nb"], strict=True))]
    return pd.DataFrame({"regimen_class": [a[0] for a in arms],
                         "key": [f"{a[0]}{a[1]}" for a in arms],
                         "is_cohort": False, "responders": [a[2] for a in arms],
                         "evaluable": [a[3] for a in arms]})


def _app(d: dict, options: AnalysisOptions) -> dict[str, tuple[float, float, float | None,
                                                              float | None]]:
    rows = _rows(d)
    a, b = pool_class(rows, "A", options), pool_class(rows, "B", options)
    assert a is not None and b is not None
    cohort = pd.Series({"responders": d["xc"], "evaluable": d["nc"]})
    out = {}
    for what, c in (("pools", compare_pools(a, b, options)),
                    ("cohort", compare_cohort_with_pool(cohort, b, "This cohort", options))):
        out[what] = (c.low, c.high, c.p, c.prob_positive)
    return out


R_SCRIPT = r"""
suppressMessages(library(metafor))
d <- read.csv("arms.csv", stringsAsFactors = FALSE)
cohorts <- read.csv("cohorts.csv", stringsAsFactors = FALSE)
ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
ilogit <- function(x) 1 / (1 + exp(-x))
wilson <- function(x, n) function(L) suppressWarnings(
  as.numeric(prop.test(x, n, correct = FALSE, conf.level = L)$conf.int))
pool_ci <- function(x, n, method, test) {
  if (length(x) >= 2 && (all(x == 0) || all(x == n)))
    return(list(est = sum(x) / sum(n),
                at = function(L) as.numeric(binom.test(sum(x), sum(n), conf.level = L)$conf.int)))
  if (length(x) == 1) return(list(est = x / n, at = wilson(x, n)))
  es <- escalc("PLO", xi = x, ni = n)
  fit <- rma(yi, vi, data = es, method = method, test = test, control = ctl)
  # metafor reads a level <= 0.5 as alpha, so the interval at any level is rebuilt from the
  # fit's estimate, SE (HK-adjusted under knha/adhoc) and reference distribution, and checked
  # against predict() at 95%
  at <- function(L) {
    q <- if (fit$test == "z") qnorm((1 + L) / 2) else qt((1 + L) / 2, fit$ddf)
    ilogit(as.numeric(fit$beta) + c(-1, 1) * q * fit$se)
  }
  p95 <- predict(fit, level = 95, transf = transf.ilogit)
  stopifnot(isTRUE(all.equal(at(0.95), c(p95$ci.lb, p95$ci.ub), tolerance = 1e-12)))
  list(est = ilogit(as.numeric(fit$beta)), at = at)
}
mover <- function(a, A, b, B) c(a - b - sqrt((a - A[1])^2 + (B[2] - b)^2),
                                a - b + sqrt((A[2] - a)^2 + (b - B[1])^2))
inverted_p <- function(a, fa, b, fb) {
  if (a == b) return(1)
  lim <- function(L) { m <- mover(a, fa(L), b, fb(L)); if (a > b) m[1] else -m[2] }
  if (lim(1 - 1e-10) > 0) return(1e-10)
  if (lim(1e-10) <= 0) return(1)  # exact intervals need not shrink to their estimate
  1 - uniroot(lim, c(1e-10, 1 - 1e-10), tol = 1e-14)$root
}
freq <- list()
for (ds in unique(d$ds)) {
  s <- d[d$ds == ds, ]; co <- cohorts[cohorts$ds == ds, ]
  A <- s[s$cls == "A", ]; B <- s[s$cls == "B", ]
  for (method in c("REML", "DL")) for (test in c("z", "knha", "adhoc")) {
    pa <- pool_ci(A$x, A$n, method, test); pb <- pool_ci(B$x, B$n, method, test)
    fc <- wilson(co$x, co$n)
    for (what in c("pools", "cohort")) {
      if (what == "pools") { a <- pa$est; fa <- pa$at } else { a <- co$x / co$n; fa <- fc }
      m <- mover(a, fa(0.95), pb$est, pb$at(0.95))
      freq[[length(freq) + 1]] <- data.frame(ds = ds, method = method, test = test,
        what = what, low = max(-1, m[1]), high = min(1, m[2]),
        p = inverted_p(a, fa, pb$est, pb$at), stringsAsFactors = FALSE)
    }
  }
}
write.csv(do.call(rbind, freq), "freq.csv", row.names = FALSE)

# Bayesian normal-normal model, flat mu prior, half-normal(1) tau prior, on a tau grid
tau <- seq(0, 8, length.out = 2001)
trap <- c(0.5, rep(1, length(tau) - 2), 0.5) * (tau[2] - tau[1])
posterior <- function(x, n) {
  es <- escalc("PLO", xi = x, ni = n); y <- es$yi; v <- es$vi
  parts <- sapply(tau, function(t) {
    w <- 1 / (v + t^2); m <- sum(w * y) / sum(w)
    c(-0.5 * log(sum(w)) + 0.5 * sum(log(w)) - 0.5 * sum(w * (y - m)^2), m, 1 / sum(w))
  })
  lp <- parts[1, ] + dnorm(tau, 0, 1, log = TRUE)
  wt <- exp(lp - max(lp)) * trap
  list(w = wt / sum(wt), m = parts[2, ], s = sqrt(parts[3, ]))
}
set.seed(20261206)
draw <- function(post, N) { i <- sample.int(length(post$w), N, replace = TRUE, prob = post$w)
                            rnorm(N, post$m[i], post$s[i]) }
bayes <- list()
for (ds in unique(d$ds)) {
  s <- d[d$ds == ds, ]; co <- cohorts[cohorts$ds == ds, ]
  A <- s[s$cls == "A", ]; B <- s[s$cls == "B", ]
  if (all(B$x == 0) || all(A$x == 0)) next
  pa <- posterior(A$x, A$n); pb <- posterior(B$x, B$n)
  keep_a <- pa$w > 1e-14; keep_b <- pb$w > 1e-14
  z <- outer(pa$m[keep_a], pb$m[keep_b], "-") /
    sqrt(outer(pa$s[keep_a]^2, pb$s[keep_b]^2, "+"))
  prob_pools <- sum(outer(pa$w[keep_a], pb$w[keep_b]) * pnorm(z))
  u <- seq(min(pb$m[keep_b] - 12 * pb$s[keep_b]), max(pb$m[keep_b] + 12 * pb$s[keep_b]),
           length.out = 20001)
  dens <- as.numeric(dnorm(outer(u, pb$m[keep_b], "-") / rep(pb$s[keep_b], each = length(u))) %*%
                     (pb$w[keep_b] / pb$s[keep_b]))
  tail <- pbeta(ilogit(u), co$x + 0.5, co$n - co$x + 0.5, lower.tail = FALSE)
  prob_cohort <- sum(dens * tail) * (u[2] - u[1])
  N <- 1e6
  ob <- ilogit(draw(pb, N))
  dp <- ilogit(draw(pa, N)) - ob
  dc <- rbeta(N, co$x + 0.5, co$n - co$x + 0.5) - ob
  bayes[[length(bayes) + 1]] <- data.frame(ds = ds, what = c("pools", "cohort"),
    prob = c(prob_pools, prob_cohort),
    low = c(quantile(dp, 0.025), quantile(dc, 0.025)),
    high = c(quantile(dp, 0.975), quantile(dc, 0.975)), stringsAsFactors = FALSE)
}
write.csv(do.call(rbind, bayes), "bayes.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def r_results() -> dict[str, pd.DataFrame]:
    arms = pd.DataFrame(
        [{"ds": d["ds"], "cls": cls, "x": x, "n": n} for d in DATASETS
         for cls, xs, ns in (("A", d["xa"], d["na"]), ("B", d["xb"], d["nb"]))
         for x, n in zip(xs, ns, strict=True)])
    cohorts = pd.DataFrame([{"ds": d["ds"], "x": d["xc"], "n": d["nc"]} for d in DATASETS])
    return run_r(R_SCRIPT, {"arms": arms, "cohorts": cohorts}, ["freq", "bayes"])


def test_frequentist_differences_and_p_match_r(r_results) -> None:
    by_name = {d["ds"]: d for d in DATASETS}
    mismatches = []
    for method in METHODS:
        for test, (hksj, variant) in TESTS.items():
            options = AnalysisOptions(method=method, hksj=hksj, hksj_variant=variant)
            rows = r_results["freq"]
            rows = rows[(rows["method"] == method) & (rows["test"] == test)]
            for r in rows.itertuples(index=False):
                low, high, p, prob = _app(by_name[r.ds], options)[r.what]
                assert prob is None
                ok = (abs(low - r.low) < 1e-6 and abs(high - r.high) < 1e-6
                      and abs(p - r.p) < 1e-6)
                TALLY[(f"difference {method} {test}", "agrees" if ok else "differs")] += 1
                if not ok:
                    mismatches.append(f"{r.ds} {method} {test} {r.what}: app "
                                      f"({low:.7f}, {high:.7f}, p {p:.7f}) vs R ({r.low:.7f}, "
                                      f"{r.high:.7f}, p {r.p:.7f})")
    assert len(r_results["freq"]) == len(DATASETS) * len(METHODS) * len(TESTS) * 2
    assert not mismatches, "\n".join(mismatches)


def test_bayesian_posterior_probabilities_and_intervals_match_r(r_results) -> None:
    by_name = {d["ds"]: d for d in DATASETS}
    options = AnalysisOptions(method="BAYES")
    mismatches = []
    for r in r_results["bayes"].itertuples(index=False):
        low, high, p, prob = _app(by_name[r.ds], options)[r.what]
        assert p is None
        ok = abs(prob - r.prob) < 2e-4 and abs(low - r.low) < 3e-3 and abs(high - r.high) < 3e-3
        TALLY[("difference Bayesian", "agrees" if ok else "differs")] += 1
        if not ok:
            mismatches.append(f"{r.ds} {r.what}: app P {prob:.5f} ({low:.4f}, {high:.4f}) vs R "
                              f"P {r.prob:.5f} ({r.low:.4f}, {r.high:.4f})")
    assert len(r_results["bayes"]) >= 2 * (len(DATASETS) - 1)
    assert not mismatches, "\n".join(mismatches)
