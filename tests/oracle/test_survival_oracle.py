"""Kaplan-Meier and log-rank against R survival (one Rscript run for the whole module).

Data sets: R survival's own examples ``aml`` (by x) and ``lung`` (overall and by sex), exported
by the R script itself, plus seeded generated ones (ties, heavy censoring, uncensored sets with
flat stretches at S = 0.5 or 0.25, a curve ending flat at 0.5, a curve reaching 0). For every
data set (and group) and conf.type in log, log-log, plain the R side runs
``quantile(survfit(...), probs = c(.25, .5, .75))`` (estimate, lower, upper); grouped sets also
run ``survdiff``.

SPSS-style ("spss") has no R counterpart: the R script computes the documented rule itself
(comparators/stats/survival.py docstring: median +/- z * Greenwood SE of S(median) / density,
density from the last event time with S >= 0.55 and the first with S <= 0.45), from survfit's
own surv and std.err, and the app must match that independent implementation.

Tolerances: times 1e-9 (they are data times or midpoints of them); log-rank chi-square 1e-8
relative; SPSS-style limits 1e-6. A mismatch prints the data set.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.stats.survival import km_fit, logrank

CONF = ("log", "log-log", "plain")


def _generated() -> pd.DataFrame:
    rng = np.random.default_rng(12)
    rows = []

    def add(name: str, t: list[float], e: list[int], g: list[str] | None = None) -> None:
        for i, (ti, ei) in enumerate(zip(t, e, strict=True)):
            rows.append({"ds": name, "time": float(ti), "status": int(ei),
                         "grp": g[i] if g else "all"})

    add("uncensored_even", [1, 2, 3, 4], [1, 1, 1, 1])  # median 2.5 (midpoint rule)
    add("uncensored_8", list(range(1, 9)), [1] * 8)
    add("ends_flat_at_half", [1, 2, 3, 4], [1, 1, 0, 0])
    add("reaches_zero", [2, 3, 3, 5, 8], [1, 1, 0, 1, 1])
    for i in range(8):
        n = int(rng.integers(6, 80))
        t = np.round(rng.exponential(10, n), int(rng.choice([0, 1])))  # rounding -> ties
        t = np.maximum(t, 0.5)
        e = (rng.random(n) < rng.choice([0.4, 0.7, 1.0])).astype(int)
        g = list(rng.choice(["A", "B", "C"][: int(rng.integers(1, 4))], n))
        add(f"random{i}", list(t), list(e), g)
    return pd.DataFrame(rows)


R_SCRIPT = r"""
suppressMessages(library(survival))
data(aml, package = "survival"); data(cancer, package = "survival")
lung2 <- data.frame(time = lung$time, status = lung$status - 1, grp = as.character(lung$sex))
ex <- rbind(
  data.frame(ds = "aml", time = aml$time, status = aml$status, grp = as.character(aml$x)),
  data.frame(ds = "lung_sex", lung2),
  data.frame(ds = "lung_all", time = lung2$time, status = lung2$status, grp = "all"))
write.csv(ex, "r_examples.csv", row.names = FALSE)
d <- rbind(ex, read.csv("generated.csv", stringsAsFactors = FALSE))
rows <- list(); lr <- list()
spss <- function(f) {
  ev <- f$n.event > 0; t <- f$time[ev]; s <- f$surv[ev]
  med <- quantile(f, 0.5, conf.int = FALSE)
  if (is.na(med) || !any(s <= 0.45 + 1e-12)) return(c(NA, NA))
  u <- if (any(s >= 0.55 - 1e-12)) max(which(s >= 0.55 - 1e-12)) else 0
  l <- min(which(s <= 0.45 + 1e-12))
  su <- if (u == 0) 1 else s[u]; tu <- if (u == 0) 0 else t[u]
  dens <- (su - s[l]) / (t[l] - tu)
  i <- max(which(f$time <= med))
  se_s <- f$surv[i] * f$std.err[i]   # survfit's std.err is the SE of log S
  if (!is.finite(se_s)) return(c(NA, NA))
  z <- qnorm(0.975)
  c(med - z * se_s / dens, med + z * se_s / dens)
}
for (ds in unique(d$ds)) {
  s <- d[d$ds == ds, ]
  for (g in unique(s$grp)) {
    sg <- s[s$grp == g, ]
    for (ct in c("log", "log-log", "plain")) {
      f <- survfit(Surv(time, status) ~ 1, data = sg, conf.type = ct)
      q <- quantile(f, probs = c(0.25, 0.5, 0.75))
      sp <- spss(f)
      rows[[length(rows) + 1]] <- data.frame(ds = ds, grp = g, conf = ct,
        q25 = q$quantile[1], q50 = q$quantile[2], q75 = q$quantile[3],
        q25_lo = q$lower[1], q50_lo = q$lower[2], q75_lo = q$lower[3],
        q25_hi = q$upper[1], q50_hi = q$upper[2], q75_hi = q$upper[3],
        spss_lo = sp[1], spss_hi = sp[2])
    }
  }
  if (length(unique(s$grp)) > 1) {
    sd <- survdiff(Surv(time, status) ~ grp, data = s)
    lr[[length(lr) + 1]] <- data.frame(ds = ds, chisq = sd$chisq,
                                       df = length(sd$n) - 1,
                                       groups = paste(sub("^grp=", "", names(sd$n)),
                                                      collapse = ";"),
                                       obs = paste(sprintf("%.17g", sd$obs), collapse = ";"),
                                       exp = paste(sprintf("%.17g", sd$exp), collapse = ";"))
  }
}
write.csv(do.call(rbind, rows), "km.csv", row.names = FALSE)
write.csv(do.call(rbind, lr), "logrank.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def oracle() -> dict[str, pd.DataFrame]:
    gen = _generated()
    out = run_r(R_SCRIPT, {"generated": gen}, ["r_examples", "km", "logrank"])
    out["data"] = pd.concat([out["r_examples"], gen], ignore_index=True)
    out["data"]["grp"] = out["data"]["grp"].astype(str)
    out["km"]["grp"] = out["km"]["grp"].astype(str)
    return out


def _same(a: float | None, b: float, tol: float = 1e-9) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None
    return a is not None and math.isclose(a, b, abs_tol=tol, rel_tol=tol)


@pytest.mark.parametrize("conf", CONF)
def test_km_quantiles_and_limits_match_survfit(oracle: dict[str, pd.DataFrame],
                                               conf: str) -> None:
    data, km = oracle["data"], oracle["km"]
    mismatches = []
    for r in km[km["conf"] == conf].itertuples(index=False):
        sub = data[(data["ds"] == r.ds) & (data["grp"] == r.grp)]
        fit = km_fit(sub["time"], sub["status"], r.grp, conf_type=conf)  # type: ignore[arg-type]
        diffs = []
        for p, tag in ((0.25, "q25"), (0.5, "q50"), (0.75, "q75")):
            ours = fit.quantiles[p]
            theirs = (getattr(r, tag), getattr(r, f"{tag}_lo"), getattr(r, f"{tag}_hi"))
            for what, a, b in zip(("estimate", "lower", "upper"), ours, theirs, strict=True):
                if not _same(a, b):
                    diffs.append(f"{tag} {what}: app {a!r} R {b!r}")
        if not _same(fit.median, r.q50) or not _same(fit.median_low, r.q50_lo) \
                or not _same(fit.median_high, r.q50_hi):
            diffs.append("median fields differ from quantiles")
        if fit.conf_type != conf or fit.to_dict()["conf_type"] != conf:
            diffs.append("result does not say its conf type")
        if diffs:
            mismatches.append(f"{r.ds}/{r.grp} (times {list(sub['time'])}, events "
                              f"{list(sub['status'])}) conf={conf}: " + "; ".join(diffs))
            TALLY[(f"km {conf}", "MISMATCH")] += 1
        else:
            TALLY[(f"km {conf}", "agree")] += 1
    assert not mismatches, "\n".join(mismatches[:20])


def test_km_spss_interval_matches_the_documented_rule_in_r(
        oracle: dict[str, pd.DataFrame]) -> None:
    data, km = oracle["data"], oracle["km"]
    mismatches = []
    for r in km[km["conf"] == "log"].itertuples(index=False):
        sub = data[(data["ds"] == r.ds) & (data["grp"] == r.grp)]
        fit = km_fit(sub["time"], sub["status"], r.grp, conf_type="spss")
        ok = _same(fit.median_low, r.spss_lo, 1e-6) and _same(fit.median_high, r.spss_hi, 1e-6)
        ok = ok and fit.conf_type == "spss" and _same(fit.median, r.q50)
        if not ok:
            mismatches.append(f"{r.ds}/{r.grp}: app {fit.median_low}-{fit.median_high} "
                              f"R rule {r.spss_lo}-{r.spss_hi}")
        TALLY[("km spss (documented rule in R)", "agree" if ok else "MISMATCH")] += 1
    assert not mismatches, "\n".join(mismatches[:20])


def test_logrank_matches_survdiff(oracle: dict[str, pd.DataFrame]) -> None:
    data = oracle["data"]
    mismatches = []
    for r in oracle["logrank"].itertuples(index=False):
        sub = data[data["ds"] == r.ds]
        test = logrank(sub["time"], sub["status"], sub["grp"])
        chi2, dof = test.chi2, test.df
        ours = {g: (o, e) for g, o, e in zip(test.groups, test.observed, test.expected,
                                            strict=True)}
        r_obs_exp = {g: (float(o), float(e)) for g, o, e in
                     zip(str(r.groups).split(";"), str(r.obs).split(";"), str(r.exp).split(";"),
                         strict=True)}
        ok = (math.isclose(chi2, r.chisq, rel_tol=1e-8, abs_tol=1e-10) and dof == r.df
              and ours.keys() == r_obs_exp.keys()
              and all(ours[g][0] == r_obs_exp[g][0]
                      and math.isclose(ours[g][1], r_obs_exp[g][1], rel_tol=1e-10)
                      for g in ours))
        if not ok:
            mismatches.append(f"{r.ds}: app chi2 {chi2} df {dof}, R {r.chisq} df {r.df}")
        TALLY[("log-rank vs survdiff", "agree" if ok else "MISMATCH")] += 1
    assert len(oracle["logrank"]) >= 4
    assert not mismatches, "\n".join(mismatches)


LANDMARK_R = """
library(survival)
d <- read.csv("landmark_data.csv")
out <- list()
for (ct in c("log", "log-log", "plain")) {
  s <- summary(survfit(Surv(time, status) ~ 1, data = d, conf.type = ct),
               times = c(0, 0.5, 2, 5, 6), extend = TRUE)
  out[[ct]] <- data.frame(conf = ct, t = s$time, surv = s$surv, lower = s$lower,
                          upper = s$upper)
}
write.csv(do.call(rbind, out), "landmarks.csv", row.names = FALSE)
"""


def test_landmark_interval_matches_r_summary_including_s_at_1_and_0() -> None:
    # R's summary(survfit, times) gives the interval 1-1 while S = 1 and NA once S = 0 (the
    # last patient's event at 5): the app shows no interval there, not 0-0.
    data = pd.DataFrame({"time": [1.0, 2.0, 3.0, 5.0], "status": [1, 1, 0, 1]})
    r = run_r(LANDMARK_R, {"landmark_data": data}, ["landmarks"])["landmarks"]
    assert r["lower"].isna().sum() == 6  # t = 5 and 6 under each of the three types
    for row in r.itertuples(index=False):
        fit = km_fit(data["time"], data["status"], conf_type=row.conf)
        lm = fit.landmark(row.t)
        assert lm.survival == pytest.approx(row.surv, abs=1e-12)
        for ours, theirs in ((lm.low, row.lower), (lm.high, row.upper)):
            if math.isnan(theirs):
                assert ours is None, (row.conf, row.t)
            else:
                assert ours == pytest.approx(theirs, rel=1e-9), (row.conf, row.t)
        TALLY[("landmark S(t) interval vs summary.survfit", "agree")] += 1

