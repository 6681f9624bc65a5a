"""Meta-regression against R metafor on generated and catalog data (one Rscript run).

Data sets (seeded, generated below, never hand-edited): random ones with k = 4 .. 40 arms of
8-200 patients and 1-3 moderators (numeric, and categorical with 2-4 levels), sarcoma-like ones
(arms of 3-35 patients, many 0 % arms and some 100 % arms, so the continuity rule matters), and
the catalog's all-subtype (STS) arms (not re-counting patients, reference with a year) with
their regimen class, design (retrospective or prospective) and publication year. For
every data set, measure (logit, ft, arcsine, raw = metafor PLO, PFT, PAS, PR), tau^2 method
(REML, ML, DL, PM) and test (z, knha, adhoc) R runs ``escalc`` + ``rma(yi, vi, mods = ~ ...,
method, test)`` with character moderators (R's treatment contrasts, levels in C-locale order)
and ``predict`` at the column means of the design; the intercept-only ``rma`` gives the tau^2
behind R^2.

Compared, on the measure's scale: every coefficient (by R's term name: estimate, SE, CI, p),
tau^2, residual I^2, R^2, QM with its df and p, QE with its p, and the predicted value at the
design's column means with its confidence and prediction interval.

Tolerances (why): 1e-6 absolute plus 1e-6 relative on every number, p-values 1e-9 absolute
plus 1e-6 relative, I^2 and R^2 (percent) 1e-4; R runs with control = list(threshold = 1e-10,
tol = 1e-12, maxiter = 10000) so that its Fisher scoring and uniroot stop well inside that.

Where the app deliberately differs from R, the test checks the documented rule instead:
- ML/REML: the app returns the GLOBAL maximum of the (restricted) likelihood; where metafor's
  Fisher scoring stops at a local maximum the app's log-likelihood must be higher than R's
  (counted as "app at a higher maximum"), never lower.
- R^2 when the intercept-only tau^2 is 0: metafor sets R^2 = 0 only when that tau^2 is
  identically 0; its Fisher scoring can stop at ~1e-11 instead, and 100 (tau0^2 - tau^2) /
  tau0^2 is then noise. Compared only where R's intercept-only tau^2 exceeds 1e-8; below it
  the app's R^2 must be 0 with its own tau0^2 = 0 (counted as "R^2 at the boundary").

A mismatch prints the data set and the numbers on both sides.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.stats.effect_sizes import effect_sizes
from comparators.stats.metareg import (
    MetaRegressionInputError,
    _check_rank,
    design_matrix,
    fit_metareg,
)

MEASURES = {"logit": "PLO", "ft": "PFT", "arcsine": "PAS", "raw": "PR"}
METHODS = ("REML", "ML", "DL", "PM")
TESTS = {"z": None, "knha": "plain", "adhoc": "adhoc"}
LEVELS = {"design": ["prospective", "retrospective"],
          "line": ["first line", "mixed", "pretreated"],
          "regimen_class": ["AI", "AI+ICI", "ICI", "ICI+ICI"]}
NUMERIC = ("year", "dose", "age")


class DataSet:
    def __init__(self, name: str, events: list[int], n: list[int],
                 mods: dict[str, list]) -> None:
        self.name, self.events, self.n, self.mods = name, events, n, mods

    @property
    def formula(self) -> str:
        return " + ".join(self.mods)


def _moderator(rng: np.random.Generator, kind: str, k: int) -> tuple[str, list, np.ndarray]:
    """(name, values, standardised effect column) of one generated moderator."""
    if kind in NUMERIC:
        if kind == "year":
            x = rng.integers(2010, 2025, size=k).astype(float)
        elif kind == "dose":
            x = np.round(rng.uniform(0.5, 20.0, size=k), 2)
        else:
            x = np.round(rng.normal(55, 8, size=k), 1)
        return kind, [float(v) for v in x], (x - x.mean()) / (x.std() or 1.0)
    levels = LEVELS[kind]
    values = [levels[i % len(levels)] for i in range(k)]
    rng.shuffle(values)
    codes = np.array([levels.index(v) for v in values], dtype=float)
    return kind, values, codes - codes.mean()


def _generate(rng: np.random.Generator, name: str, k: int, kinds: list[str],
              sarcoma: bool) -> DataSet:
    for _ in range(200):
        mods, eta = {}, rng.normal(-1.6 if sarcoma else -0.8, 0.5) + rng.normal(
            0, rng.choice([0.05, 0.4, 0.9]), k)
        for kind in kinds:
            mname, values, col = _moderator(rng, kind, k)
            mods[mname] = values
            eta = eta + rng.normal(0, 0.5) * col
        n = rng.integers(3, 36, size=k) if sarcoma else rng.integers(8, 201, size=k)
        p = 1 / (1 + np.exp(-eta))
        if sarcoma:
            p = np.where(rng.random(k) < 0.3, 0.0, p)  # many 0 % arms
            p = np.where(rng.random(k) < 0.08, 1.0, p)  # and some 100 % arms
        x = rng.binomial(n, p)
        if x.sum() == 0 or np.all(x == n):
            continue
        try:
            _check_rank(design_matrix(mods))
        except MetaRegressionInputError:
            continue
        return DataSet(name, [int(v) for v in x], [int(v) for v in n], mods)
    raise AssertionError(f"could not generate {name}")  # pragma: no cover


SPECS = [
    (4, ["year"]), (5, ["design"]), (6, ["dose", "design"]), (7, ["line"]),
    (8, ["year", "age"]), (10, ["line"]), (12, ["dose", "line"]), (15, ["year", "dose", "design"]),
    (20, ["regimen_class", "year"]), (25, ["age", "line", "design"]), (30, ["year", "dose", "age"]),
    (40, ["dose", "regimen_class", "design"]), (40, ["year", "age", "line"]), (9, ["age"]),
]
SARCOMA_SPECS = [
    (5, ["year"]), (6, ["design"]), (8, ["line"]), (10, ["year", "design"]),
    (12, ["regimen_class"]), (14, ["line", "year"]), (18, ["regimen_class", "year"]),
    (22, ["line", "design", "year"]), (30, ["regimen_class", "design"]), (40, ["line", "year"]),
]


def _catalog_sets() -> list[DataSet]:
    from comparators.evidence.catalog import load_catalog

    catalog = load_catalog()
    rows = catalog.trials
    rows = rows[(rows["subtype"] == "STS") & rows["overlaps_with"].fillna("").eq("")]
    years = catalog.references.set_index("ref")["year"]
    rows = rows[rows["ref"].map(years).notna()]  # arms whose reference gives its year
    events = [int(v) for v in rows["responders"]]
    n = [int(v) for v in rows["evaluable"]]
    design = ["retrospective" if d == "retrospective" else "prospective" for d in rows["design"]]
    year = [float(years[r]) for r in rows["ref"]]
    regimen = list(rows["regimen_class"])
    return [DataSet("catalog_class", events, n, {"regimen_class": regimen}),
            DataSet("catalog_class_year", events, n, {"regimen_class": regimen, "year": year}),
            DataSet("catalog_design_year", events, n, {"design": design, "year": year})]


def _datasets() -> list[DataSet]:
    rng = np.random.default_rng(20261225)
    out = [_generate(rng, f"random{i}_k{k}", k, kinds, sarcoma=False)
           for i, (k, kinds) in enumerate(SPECS)]
    out += [_generate(rng, f"sarcoma{i}_k{k}", k, kinds, sarcoma=True)
            for i, (k, kinds) in enumerate(SARCOMA_SPECS)]
    return out + _catalog_sets()


DATASETS = _datasets()
BY_NAME = {d.name: d for d in DATASETS}

R_SCRIPT = r"""
suppressMessages(library(metafor))
invisible(Sys.setlocale("LC_COLLATE", "C"))  # levels in code-point order, as the app's
d <- read.csv("datasets.csv", stringsAsFactors = FALSE, check.names = FALSE)
f <- read.csv("formulas.csv", stringsAsFactors = FALSE)
ctl <- list(threshold = 1e-10, tol = 1e-12, maxiter = 10000, tau2.max = 1000)
fits <- list(); coefs <- list()
num <- function(v) if (is.null(v) || length(v) == 0) NA else as.numeric(v)[1]
for (i in seq_len(nrow(f))) {
  ds <- f$ds[i]
  s <- d[d$ds == ds, ]
  form <- as.formula(paste("~", f$mods[i]))
  for (measure in c("PLO", "PFT", "PAS", "PR")) {
    es <- escalc(measure, xi = xi, ni = ni, data = s)
    for (method in c("REML", "ML", "DL", "PM")) {
      null <- tryCatch(rma(yi, vi, data = es, method = method, control = ctl)$tau2,
                       error = function(e) NA)
      for (test in c("z", "knha", "adhoc")) {
        r <- tryCatch(suppressWarnings(rma(yi, vi, mods = form, data = es, method = method,
                                           test = test, control = ctl)),
                      error = function(e) e)
        key <- data.frame(ds = ds, measure = measure, method = method, test = test)
        if (inherits(r, "error")) {
          fits[[length(fits) + 1]] <- cbind(key, ok = FALSE, err = conditionMessage(r))
          next
        }
        pr <- predict(r, newmods = rbind(colMeans(model.matrix(r))[-1]))
        fits[[length(fits) + 1]] <- cbind(key, ok = TRUE, err = "",
          tau2 = num(r$tau2), I2 = num(r$I2), R2 = num(r$R2), tau2_null = num(null),
          QM = num(r$QM), QMdf1 = num(r$QMdf[1]), QMdf2 = num(r$QMdf[2]), QMp = num(r$QMp),
          QE = num(r$QE), QEp = num(r$QEp), ll = num(logLik(r)),
          pred = num(pr$pred), pred_se = num(pr$se), pred_lb = num(pr$ci.lb),
          pred_ub = num(pr$ci.ub), pi_lb = num(pr$pi.lb), pi_ub = num(pr$pi.ub))
        coefs[[length(coefs) + 1]] <- cbind(key, term = rownames(r$beta),
          b = as.numeric(r$beta), se = r$se, lb = r$ci.lb, ub = r$ci.ub, p = r$pval)
      }
    }
  }
}
write.csv(do.call(rbind, lapply(fits, function(x) { for (c in setdiff(names(fits[[1]]),
  names(x))) x[[c]] <- NA; x[names(fits[[1]])] })), "fits.csv", row.names = FALSE)
write.csv(do.call(rbind, coefs), "coefs.csv", row.names = FALSE)
"""


@pytest.fixture(scope="module")
def metafor() -> tuple[pd.DataFrame, pd.DataFrame]:
    rows = []
    for ds in DATASETS:
        for i in range(len(ds.events)):
            rows.append({"ds": ds.name, "xi": ds.events[i], "ni": ds.n[i],
                         **{m: v[i] for m, v in ds.mods.items()}})
    frame = pd.DataFrame(rows)
    formulas = pd.DataFrame([{"ds": ds.name, "mods": ds.formula} for ds in DATASETS])
    out = run_r(R_SCRIPT, {"datasets": frame, "formulas": formulas}, ["fits", "coefs"])
    return out["fits"], out["coefs"]


def _close(a: float | None, b: float, abs_tol: float, rel_tol: float = 1e-6) -> bool:
    if b is None or (isinstance(b, float) and math.isnan(b)):
        return a is None or (isinstance(a, float) and math.isnan(a))
    return a is not None and math.isclose(a, b, abs_tol=abs_tol, rel_tol=rel_tol)


def _report(ds: DataSet, measure: str, method: str, test: str, diffs: list[str]) -> str:
    return (f"{ds.name} ~ {ds.formula} events={ds.events} n={ds.n} mods={ds.mods} "
            f"measure={measure} method={method} test={test}: " + "; ".join(diffs))


@pytest.mark.parametrize("method", METHODS)
def test_metareg_matches_metafor(metafor: tuple[pd.DataFrame, pd.DataFrame],
                                 method: str) -> None:
    fits, coefs = metafor
    coef_index = coefs.set_index(["ds", "measure", "method", "test"]).sort_index()
    mismatches: list[str] = []
    for row in fits[fits["method"] == method].itertuples(index=False):
        ds = BY_NAME[row.ds]
        measure = {v: k for k, v in MEASURES.items()}[row.measure]
        variant = TESTS[row.test]
        what = f"metareg {method} test={row.test}"
        if not row.ok:
            mismatches.append(_report(ds, measure, method, row.test, [f"R failed: {row.err}"]))
            continue
        es = effect_sizes(ds.events, ds.n, measure)
        fit = fit_metareg(es.yi, es.vi, ds.mods, method=method, hksj=variant is not None,
                          hksj_variant=variant or "adhoc", measure=measure)
        diffs: list[str] = []
        if method in ("ML", "REML") and fit.loglik > row.ll + 1e-6:
            TALLY[(what, "app at a higher maximum than metafor")] += 1
            continue
        if method in ("ML", "REML") and fit.loglik < row.ll - 1e-6:
            diffs.append(f"logLik app {fit.loglik:.8f} < R {row.ll:.8f}")
        r_coefs = coef_index.loc[(row.ds, row.measure, method, row.test)]
        r_terms = ["(Intercept)" if t == "intrcpt" else t for t in r_coefs["term"]]
        if list(fit.terms) != r_terms:
            diffs.append(f"terms: app {fit.terms} R {r_terms}")
        fields: dict[str, tuple[float | None, float, float]] = {}
        for c, rc in zip(fit.coefficients, r_coefs.itertuples(index=False), strict=False):
            fields |= {f"{c.term} estimate": (c.estimate, rc.b, 1e-6),
                       f"{c.term} se": (c.se, rc.se, 1e-6), f"{c.term} low": (c.low, rc.lb, 1e-6),
                       f"{c.term} high": (c.high, rc.ub, 1e-6), f"{c.term} p": (c.p, rc.p, 1e-9)}
        pred = fit.predict_rows(fit.X.mean(axis=0))[0]
        fields |= {"tau2": (fit.tau2, row.tau2, 1e-6), "I2": (fit.i2, row.I2, 1e-4),
                   "QM": (fit.qm, row.QM, 1e-6), "QM p": (fit.qm_p, row.QMp, 1e-9),
                   "QM df": (fit.qm_df, row.QMdf1, 0), "QE": (fit.qe, row.QE, 1e-6),
                   "QE p": (fit.qe_p, row.QEp, 1e-9), "pred": (pred.estimate, row.pred, 1e-6),
                   "pred se": (pred.se, row.pred_se, 1e-6),
                   "pred low": (pred.low, row.pred_lb, 1e-6),
                   "pred high": (pred.high, row.pred_ub, 1e-6),
                   "pi low": (pred.pi_low, row.pi_lb, 1e-6),
                   "pi high": (pred.pi_high, row.pi_ub, 1e-6)}
        if variant is not None:
            fields["QM df2"] = (fit.qm_df2, row.QMdf2, 0)
        if row.tau2_null > 1e-8:
            fields["R2"] = (fit.r2, row.R2, 1e-4)
        else:
            assert fit.tau2_null == 0 and fit.r2 == 0, _report(ds, measure, method, row.test,
                                                               ["R^2 at the boundary"])
            TALLY[("metareg R^2", "at the boundary (documented rule)")] += 1
        for field, (a, b, tol) in fields.items():
            if not _close(None if a is None else float(a), b, tol):
                diffs.append(f"{field}: app {a!r} R {b!r}")
        if diffs:
            mismatches.append(_report(ds, measure, method, row.test, diffs))
            TALLY[(what, "MISMATCH")] += 1
        else:
            TALLY[(what, "data sets x measures agreeing")] += 1
            TALLY[(what, "quantities agreeing")] += len(fields) + 1  # + the term names
    assert not mismatches, "\n".join(mismatches[:30])


def test_every_fit_ran_in_r(metafor: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    fits, _ = metafor
    expected = len(DATASETS) * len(MEASURES) * len(METHODS) * len(TESTS)
    assert len(fits) == expected
    assert fits["ok"].all(), fits[~fits["ok"]][["ds", "measure", "method", "test", "err"]]
    assert {d.name for d in DATASETS} == set(fits["ds"])
    assert max(len(d.events) for d in DATASETS) == 40 and min(len(d.events)
                                                              for d in DATASETS) == 4
