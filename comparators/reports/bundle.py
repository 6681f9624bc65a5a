"""A reproduction bundle of one benchmark: what a reviewer needs to rerun its class pools
outside the app.

The .zip holds `rows.csv` (the arms the benchmark used, with the class pool each entered),
`options.json` (the options object and the subtype), `reproduce.R` (metafor: `escalc` + `rma`,
or `rma.glmm` for the GLMM, per class with the same measure, model, HKSJ variant, level and
continuity rule; a class of one arm gets its own interval, a class whose arms are all 0% or all
100% its summed counts' exact interval, as the app does), `reproduce.py` (this package's API),
`manifest.json` (package versions, catalog version, SHA-256 of every other file) and a README.
`Rscript reproduce.R` prints `{"classes": [...]}` with the keys of `benchmark --json`'s
`classes`. A Bayesian benchmark gets no R script: its pools are reproduced by the R package
bayesmeta, which the README names; no script here claims to reproduce them.

Nothing a user typed reaches the R or Python source: the scripts read labels and classes from
rows.csv, and the only values written into them are validated option choices and numbers.
"""

from __future__ import annotations

import hashlib
import io
import json
import platform
import zipfile
from importlib import metadata
from typing import Any

import pandas as pd

from comparators.analysis.benchmark import SubtypeBenchmark
from comparators.reports.export import safe_csv
from comparators.vocab import APP_VERSION

#: The app's measures as metafor's escalc names them.
METAFOR_MEASURES = {"logit": "PLO", "ft": "PFT", "arcsine": "PAS", "raw": "PR"}
#: Continuity rule: 0.5 only for 0%/100% arms, for logit and raw (escalc add = 1/2,
#: to = "only0"); never for Freeman-Tukey or arcsine.
CONTINUITY = {"PLO": "only0", "PR": "only0", "PFT": "none", "PAS": "none"}
ROW_COLUMNS = ("key", "study", "arm", "label", "subtype", "regimen_class", "responders",
               "evaluable", "is_cohort", "in_class_pool", "class_order")
PACKAGES = ("numpy", "scipy", "pandas", "altair", "vl-convert-python")


def bundle_rows(bm: SubtypeBenchmark) -> pd.DataFrame:
    """The arms the benchmark used, with 1 in `in_class_pool` when the arm is inside its class
    pool (this cohort is not, unless the options put it there) and the class's position."""
    rows = bm.rows
    pooled = {k for p in bm.class_pools.values() for k in p.keys}
    order = {c: i for i, c in enumerate(bm.class_pools, start=1)}
    labels = rows["label"] if "label" in rows else rows["key"]
    return pd.DataFrame({
        "key": rows["key"].astype(str), "study": rows["study"].astype(str),
        "arm": rows["arm"].astype(str), "label": labels.astype(str),
        "subtype": rows["subtype"].astype(str), "regimen_class": rows["regimen_class"],
        "responders": rows["responders"].astype(int), "evaluable": rows["evaluable"].astype(int),
        "is_cohort": rows["is_cohort"].astype(bool).astype(int),
        "in_class_pool": rows["key"].isin(pooled).astype(int),
        "class_order": [order.get(str(c), 0) for c in rows["regimen_class"]],
    }, columns=list(ROW_COLUMNS))


def r_test(method: str, hksj: bool, variant: str) -> str:
    """metafor's `test` for these options: z, knha (plain HKSJ), adhoc; t for a GLMM."""
    if not hksj:
        return "z"
    if method == "GLMM":
        return "t"
    return "knha" if variant == "plain" else "adhoc"


def reproduce_r(bm: SubtypeBenchmark) -> str:
    """The R script: metafor per class, the app's rules for one-arm and all-0%/100% classes."""
    o = bm.options
    measure = "PLO" if o.method == "GLMM" else METAFOR_MEASURES[o.measure]
    settings = "\n".join([
        f'MEASURE <- "{measure}"', f'METHOD <- "{o.method}"',
        f'TEST <- "{r_test(o.method, o.hksj, o.hksj_variant)}"',
        f"LEVEL <- {100 * o.level!r}", f'ARM_CI <- "{o.ci_method}"',
        f'TO <- "{CONTINUITY[measure]}"',
    ])
    return R_TEMPLATE.replace("@SETTINGS@", settings).replace("@MODEL@", o.model_text())


def reproduce_py(bm: SubtypeBenchmark) -> str:
    return PY_TEMPLATE


def manifest(files: dict[str, bytes], catalog_stamp: str) -> dict[str, Any]:
    versions: dict[str, str | None] = {"python": platform.python_version(),
                                       "comparators": APP_VERSION}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"catalog": catalog_stamp, "versions": versions,
            "sha256": {n: hashlib.sha256(b).hexdigest() for n, b in sorted(files.items())}}


def readme(bm: SubtypeBenchmark, has_r: bool) -> str:
    o = bm.options
    lines = [
        f"Reproduction bundle: {bm.subtype}, pooled ORR by regimen class",
        "",
        f"Model: {o.model_text()}; level {o.level_text}; arm intervals {o.ci_method}.",
        f"Settings: {o.stamp()}.",
        "",
        "Files",
        "- rows.csv: the arms used (responders of evaluable patients); in_class_pool = 1 for",
        "  the arms inside their class pool, class_order = the class's position.",
        "- options.json: the options object that produced the numbers, and the subtype.",
        "- reproduce.py: the same pools through this package's API:",
        "    pip install comparators  (or run inside the app's repository)",
        "    python reproduce.py",
    ]
    if has_r:
        lines += [
            "- reproduce.R: the pools with R's metafor (escalc + rma, or rma.glmm for the",
            "  GLMM); a class of one arm gets that arm's own interval and a class whose arms",
            "  are all 0% or all 100% its summed counts' exact (Clopper-Pearson) interval, as",
            "  in the app:",
            "    Rscript reproduce.R    (needs install.packages(\"metafor\"))",
            "  Both print {\"classes\": [...]} with the keys of `python -m comparators",
            "  benchmark --json`'s classes.",
        ]
    else:
        lines += [
            "- No R script: this is a Bayesian pool. The R package bayesmeta (Röver C. J Stat",
            "  Softw 2020;93(6)) fits the same normal-normal model with the priors in",
            "  options.json; it was not installed where this bundle was built, so no script",
            "  here has been checked against it.",
        ]
    lines += ["- manifest.json: package versions, catalog version, SHA-256 of every file.", ""]
    return "\n".join(lines)


def bundle_files(bm: SubtypeBenchmark, catalog_stamp: str = "") -> dict[str, bytes]:
    """Every file of the bundle by name."""
    files = {
        "rows.csv": safe_csv(bundle_rows(bm)),
        "options.json": json.dumps({"subtype": bm.subtype, "options": bm.options.to_dict()},
                                   indent=2).encode("utf-8"),
        "reproduce.py": reproduce_py(bm).encode("utf-8"),
    }
    has_r = bm.options.method != "BAYES"
    if has_r:
        files["reproduce.R"] = reproduce_r(bm).encode("utf-8")
    files["README.txt"] = readme(bm, has_r).encode("utf-8")
    files["manifest.json"] = json.dumps(manifest(files, catalog_stamp), indent=2
                                        ).encode("utf-8")
    return files


def build_bundle(bm: SubtypeBenchmark, catalog_stamp: str = "") -> bytes:
    """The .zip of `bundle_files` (deterministic: fixed timestamps, sorted names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in sorted(bundle_files(bm, catalog_stamp).items()):
            info = zipfile.ZipInfo(f"reproduce_{bm.subtype}/{name}", (2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return buffer.getvalue()


R_TEMPLATE = r"""# Reproduces the class pools of a comparators benchmark with R's metafor.
# Model: @MODEL@. Run: Rscript reproduce.R (prints one JSON object).
suppressPackageStartupMessages(library(metafor))
@SETTINGS@

rows <- read.csv("rows.csv", stringsAsFactors = FALSE, check.names = FALSE)
rows <- rows[rows$in_class_pool == 1, ]
rows <- rows[order(rows$class_order), ]

# An arm's own interval (used for a class of one arm), as the app computes it.
arm_ci <- function(x, n, method, level) {
  a <- 1 - level; z <- qnorm(1 - a / 2); p <- x / n; z2 <- z^2
  ci <- switch(method,
    "wilson" = {
      centre <- (x + z2 / 2) / (n + z2)
      half <- z / (n + z2) * sqrt(x * (n - x) / n + z2 / 4)
      c(centre - half, centre + half)
    },
    "wilson-cc" = {  # Newcombe 1998, method 4
      d <- 2 * (n + z2); q <- 1 - p
      lo <- if (x > 0) (2 * n * p + z2 - 1 -
                        z * sqrt(z2 - 2 - 1 / n + 4 * p * (n * q + 1))) / d else 0
      hi <- if (x < n) (2 * n * p + z2 + 1 +
                        z * sqrt(z2 + 2 - 1 / n + 4 * p * (n * q - 1))) / d else 1
      c(lo, hi)
    },
    "clopper-pearson" = c(if (x == 0) 0 else qbeta(a / 2, x, n - x + 1),
                          if (x == n) 1 else qbeta(1 - a / 2, x + 1, n - x)),
    "jeffreys" = c(if (x == 0) 0 else qbeta(a / 2, x + 0.5, n - x + 0.5),
                   if (x == n) 1 else qbeta(1 - a / 2, x + 0.5, n - x + 0.5)),
    "agresti-coull" = {
      nt <- n + z2; pt <- (x + z2 / 2) / nt; h <- z * sqrt(pt * (1 - pt) / nt)
      c(pt - h, pt + h)
    },
    "wald" = { h <- z * sqrt(p * (1 - p) / n); c(p - h, p + h) })
  pmin(1, pmax(0, ci))
}

clip <- function(p) pmin(1, pmax(0, p))
back <- function(y, n) switch(MEASURE, PLO = transf.ilogit(y),
                              PFT = transf.ipft.hm(y, targs = list(ni = n)),
                              PAS = transf.iarcsin(y), PR = y)

pool_class <- function(x, n) {
  k <- length(x)
  if (k == 1) {
    ci <- arm_ci(x, n, ARM_CI, LEVEL / 100)
    return(list(estimate = x / n, low = ci[1], high = ci[2], tau2 = NA, i2 = NA, estimable = TRUE))
  }
  if (all(x == 0) || all(x == n)) {  # not estimable: summed counts, exact interval
    ci <- binom.test(sum(x), sum(n), conf.level = LEVEL / 100)$conf.int
    return(list(estimate = sum(x) / sum(n), low = ci[1], high = ci[2], tau2 = NA, i2 = NA,
                estimable = FALSE))
  }
  if (METHOD == "GLMM") {
    fit <- rma.glmm(measure = "PLO", xi = x, ni = n, method = "ML", test = TEST, level = LEVEL)
  } else {
    es <- escalc(MEASURE, xi = x, ni = n, add = 1 / 2, to = TO)
    fit <- rma(yi, vi, data = es, method = METHOD, test = TEST, level = LEVEL,
               control = list(threshold = 1e-10, tol = 1e-12, maxiter = 10000))
  }
  list(estimate = clip(back(fit$beta[1], n)), low = clip(back(fit$ci.lb, n)),
       high = clip(back(fit$ci.ub, n)), tau2 = if (METHOD == "FE") NA else fit$tau2,
       i2 = fit$I2, estimable = TRUE)
}

num <- function(v) if (length(v) == 0 || is.na(v)) "null" else formatC(v, digits = 17, format = "g")
jstr <- function(s) paste0("\"", gsub("([\"\\\\])", "\\\\\\1", s), "\"")
lgl <- function(b) if (isTRUE(b)) "true" else "false"

out <- character(0)
for (cls in unique(rows$regimen_class)) {
  s <- rows[rows$regimen_class == cls, ]
  r <- pool_class(s$responders, s$evaluable)
  out <- c(out, paste0("{\"class\": ", jstr(cls), ", \"k\": ", nrow(s),
                       ", \"events\": ", sum(s$responders), ", \"n\": ", sum(s$evaluable),
                       ", \"estimate\": ", num(r$estimate), ", \"low\": ", num(r$low),
                       ", \"high\": ", num(r$high), ", \"tau2\": ", num(r$tau2),
                       ", \"i2\": ", num(r$i2),
                       ", \"includes_cohort\": ", lgl(any(s$is_cohort == 1)),
                       ", \"estimable\": ", lgl(r$estimable), "}"))
}
cat(paste0("{\"classes\": [", paste(out, collapse = ", "), "], \"metafor\": ",
           jstr(as.character(packageVersion("metafor"))), "}\n"))
"""

PY_TEMPLATE = '''"""Reproduces the class pools of a comparators benchmark with the package's
own API. Run: python reproduce.py (prints one JSON object with the keys of `benchmark --json`'s
classes)."""

import json
from dataclasses import replace
from pathlib import Path

import pandas as pd

from comparators.analysis.benchmark import benchmark_subtype
from comparators.analysis.options import AnalysisOptions

here = Path(__file__).resolve().parent
saved = json.loads((here / "options.json").read_text(encoding="utf-8"))
options = AnalysisOptions(**{**saved["options"], "exclude": tuple(saved["options"]["exclude"])})
# rows.csv holds only the rows these choices kept: no row is left out a second time.
options = replace(options, exclude=(), primary_only=False, low_risk_of_bias_only=False)
rows = pd.read_csv(here / "rows.csv", keep_default_na=False)
rows["is_cohort"] = rows["is_cohort"].astype(bool)
bm = benchmark_subtype(rows, options)
print(json.dumps({"classes": [p.to_dict() for p in bm.class_pools.values()]}))
'''
