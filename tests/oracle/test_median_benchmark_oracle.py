"""The benchmark's median PFS class pools (analysis.median_pfs) against R, from the catalog file.

R reads ``data/trials.csv`` itself and picks each case's arms by the rules the benchmark states
(the subtype's rows, the seed study's own rows left out, rows that re-count another study's
patients left out unless asked for, arms the user leaves out by key "STUDY · arm", rows with a
median), groups them by regimen class and pools each class by the rule ``pool_medians``
documents: one arm is its own median and interval; every arm with a lower limit -> metafor
``rma(log m, sei = (log U - log L) / (2 z), method, test)`` (an upper limit not reached:
(log m - log L) / z), exponentiated; otherwise the weighted median of medians with the arms'
evaluable patients as weights (``Hmisc::wtd.quantile`` at 0.5 -/+ min(0.5, z / (2 sqrt(k))), as
metamedian::pool.med). The app's class pools, as the page and the CLI show them, must agree.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.analysis.benchmark import subtype_rows
from comparators.analysis.median_pfs import benchmark_median
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort

TRIALS_CSV = Path(__file__).resolve().parents[2] / "data" / "trials.csv"

#: (case id, subtype, arms left out, include overlapping, model, HKSJ)
CASES = [
    ("asps", "ASPS", (), False, "REML", False),
    ("as", "AS", (), False, "REML", False),
    ("as_iv", "AS", ("TAPPAS · pazopanib",), False, "REML", False),
    ("as_iv_dl_hksj", "AS", ("TAPPAS · pazopanib",), False, "DL", True),
    ("as_iv_fe", "AS", ("TAPPAS · pazopanib",), False, "FE", False),
    ("os", "OS", (), False, "REML", False),
    ("ups_overlapping", "UPS", (), True, "REML", False),
    ("ddlps_overlapping", "DDLPS", (), True, "REML", False),
    ("sts", "STS", (), False, "REML", False),
    ("sts_pm", "STS", (), False, "PM", False),
]

R_SCRIPT = r"""
suppressMessages({library(metafor); library(Hmisc)})
trials <- read.csv(TRIALS, stringsAsFactors = FALSE, check.names = FALSE)
cases <- read.csv("cases.csv", stringsAsFactors = FALSE)
z <- qnorm(0.975)
ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000)
out <- list()
for (i in seq_len(nrow(cases))) {
  cs <- cases[i, ]
  excluded <- if (is.na(cs$exclude) || cs$exclude == "") character(0) else
    strsplit(cs$exclude, "|", fixed = TRUE)[[1]]
  ov <- trials$overlaps_with
  keep <- trials$subtype == cs$subtype & trials$study != "LIU2023" &
    !is.na(trials$pfs_median_months) &
    !(paste(trials$study, "\u00b7", trials$arm) %in% excluded) &
    (cs$overlapping == 1 | is.na(ov) | ov == "")
  s <- trials[keep, ]
  for (cls in unique(s$regimen_class)) {
    a <- s[s$regimen_class == cls, ]
    k <- nrow(a)
    m <- a$pfs_median_months; lo <- a$pfs_low; hi <- a$pfs_high
    if (k == 1) {
      r <- data.frame(method = "single arm", est = m, lb = lo, ub = hi)
    } else if (all(!is.na(lo))) {
      sei <- ifelse(is.na(hi), (log(m) - log(lo)) / z, (log(hi) - log(lo)) / (2 * z))
      f <- rma(yi = log(m), sei = sei, method = cs$model,
               test = if (cs$hksj == 1) "adhoc" else "z", control = ctl)
      r <- data.frame(method = "iv-log", est = exp(as.numeric(f$beta)), lb = exp(f$ci.lb),
                      ub = exp(f$ci.ub))
    } else {
      p <- min(0.5, z / (2 * sqrt(k)))
      q <- unname(wtd.quantile(m, weights = a$evaluable, probs = c(0.5 - p, 0.5, 0.5 + p)))
      r <- data.frame(method = "wm", est = q[2], lb = q[1], ub = q[3])
    }
    out[[length(out) + 1]] <- cbind(data.frame(case = cs$case, class = cls, k = k), r)
  }
}
write.csv(do.call(rbind, out), "pools.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def r_pools() -> pd.DataFrame:
    cases = pd.DataFrame([{"case": c, "subtype": s, "exclude": "|".join(x),
                           "overlapping": int(o), "model": m, "hksj": int(h)}
                          for c, s, x, o, m, h in CASES])
    script = R_SCRIPT.replace("TRIALS", f'"{TRIALS_CSV}"')
    return run_r(script, {"cases": cases}, ["pools"])["pools"]


def _same(a: float | None, b: float) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a is not None and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-6)


def test_median_class_pools_match_r_from_the_catalog_file(r_pools: pd.DataFrame) -> None:
    catalog = load_catalog()
    cohort = published_cohort(catalog.trials)
    mismatches, compared = [], 0
    for case, subtype, exclude, overlapping, model, hksj in CASES:
        options = AnalysisOptions(endpoint="median_pfs", exclude=exclude,
                                  include_overlapping=overlapping, method=model, hksj=hksj)
        bm = benchmark_median(subtype_rows(catalog.trials, cohort, subtype, overlapping),
                              options, cohort)
        want = r_pools[r_pools["case"] == case].set_index("class")
        assert set(bm.class_pools) == set(want.index), case
        for cls, pool in bm.class_pools.items():
            r = want.loc[cls]
            got = (pool.k, pool.method, pool.estimate, pool.low, pool.high)
            ok = (got[0] == r["k"] and got[1] == r["method"] and _same(got[2], r["est"])
                  and _same(got[3], r["lb"]) and _same(got[4], r["ub"]))
            compared += 1
            if ok:
                TALLY[("median PFS class pools (benchmark)", f"{pool.method} agreeing")] += 1
            else:
                mismatches.append(f"{case} {cls}: app {got} R {tuple(r)}")
    assert not mismatches, "\n".join(mismatches)
    # every branch of the rule was exercised: one arm, log-median inverse variance, WM
    assert {"single arm", "iv-log", "wm"} <= set(r_pools["method"])
    assert compared == len(r_pools)


def _months(x: float) -> str:
    return "NR" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def test_summary_leads_state_the_r_pools(r_pools: pd.DataFrame) -> None:
    """The evidence summary's lead (reports.summary, endpoint median_pfs) states each class's
    median, interval and k as R computes them from the catalog file; the all-subtype section
    states this cohort's printed median (Liu 2023: 8.90 months, 95% CI 5.98–11.82)."""
    from comparators.reports.summary import build_summary

    catalog = load_catalog()
    cohort = published_cohort(catalog.trials)
    cases = {"asps": "ASPS", "as": "AS", "sts": "STS"}
    summary = build_summary(catalog.trials, catalog.references, None, cohort,
                            list(cases.values()), AnalysisOptions(endpoint="median_pfs"),
                            subtype_names=catalog.subtype_names)
    leads = {s.subtype: s.lead for s in summary.sections}
    stated = 0
    for case, subtype in cases.items():
        for r in r_pools[r_pools["case"] == case].itertuples(index=False):
            ci = "" if pd.isna(r.lb) else f"{_months(r.lb)}–{_months(r.ub)}"
            phrase = (f"{_months(r.est)} months (95% CI {ci}; {r.k} arms" if r.k > 1 else
                      f"{_months(r.est)} months ("
                      + (f"reported interval {ci}" if ci else "no interval printed")
                      + "; 1 arm, not pooled)")
            assert phrase in leads[subtype], (subtype, phrase)
            if r.k > 1:  # the method is named from the result: R's branch, in words
                named = {"wm": "weighted median of medians", "iv-log": "log-medians"}
                assert f"pooled by the {named[r.method]}" in leads[subtype], subtype
            stated += 1
    assert stated == len(r_pools[r_pools["case"].isin(list(cases))])
    assert "median PFS 8.90 months (95% CI 5.98–11.82), printed in the seed paper" in \
        leads["STS"]
