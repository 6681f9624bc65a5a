"""The one vocabulary: subtype aggregates, ordered regimen classes and every label table.

Every module and page reads its names from here, so a label (a CI method, a model, a class) is
spelled the same in the app, the CLI and every export.
"""

from __future__ import annotations

# --- subtypes ----------------------------------------------------------------------------------
#: Subtype codes that aggregate several histologies (an arm's overall row), not one histology.
AGGREGATE_SUBTYPES: frozenset[str] = frozenset({"STS", "SARCOMA"})
#: Bone tumours (data/subtypes.csv notes them so): never units of a soft-tissue question.
BONE_SUBTYPES: frozenset[str] = frozenset({"OS", "EWING", "CHS", "CHORDOMA"})
#: The code an uploaded cohort's all-patients row gets.
ALL_SUBTYPES_CODE = "STS"

# --- regimen classes ---------------------------------------------------------------------------
#: Ordered: tables, legends and forest plots list classes in this order.
REGIMEN_CLASSES: tuple[str, ...] = ("AI+ICI", "ICI", "ICI+ICI", "AI")
CLASS_PHRASES: dict[str, str] = {
    "AI+ICI": "AI+ICI", "ICI": "ICI alone", "ICI+ICI": "ICI+ICI", "AI": "AI alone",
}
CLASS_COLOURS: dict[str, str] = {
    "AI+ICI": "#1f5f8b",
    "ICI": "#e08214",
    "ICI+ICI": "#7b3294",
    "AI": "#4d9221",
}
HIGHLIGHT_COLOUR = "#c0392b"
ICI_TARGETS: tuple[str, ...] = ("PD-1", "PD-L1", "CTLA-4", "PD-L1+CTLA-4", "PD-1+CTLA-4")
DESIGNS: tuple[str, ...] = (
    "prospective phase 1",
    "prospective phase 1b/2",
    "prospective phase 2",
    "randomised phase 2",
    "randomised phase 2b",
    "randomised phase 3",
    "retrospective",
)
#: The treatment line of a row's population, coded (data/README.md, `line_coded`): no previous
#: systemic therapy for advanced disease; all previously treated; or both kinds of patient.
LINE_CODES: tuple[str, ...] = ("first line", "pretreated", "mixed")
#: What an EORTC reference value is (data/reference_values.csv, `kind`): a progression-free
#: rate at or above which a new agent suggests activity, at or below which it suggests
#: inactivity, or the rate a reference population reached (the benchmark itself).
REFERENCE_VALUE_KINDS: tuple[str, ...] = ("activity threshold", "inactivity threshold",
                                          "reference rate")

# --- confidence intervals for one proportion ---------------------------------------------------
CI_METHODS: dict[str, str] = {
    "wilson": "Wilson score",
    "clopper-pearson": "Clopper-Pearson exact",
    "jeffreys": "Jeffreys (equal-tailed Beta(0.5, 0.5) posterior)",
    "agresti-coull": "Agresti-Coull",
    "wilson-cc": "Wilson score with continuity correction",
    "wald": "Wald (normal approximation)",
}
#: Short names for menus, headers and links.
CI_SHORT_NAMES: dict[str, str] = {
    "wilson": "Wilson",
    "clopper-pearson": "Clopper-Pearson",
    "jeffreys": "Jeffreys",
    "agresti-coull": "Agresti-Coull",
    "wilson-cc": "Wilson-CC",
    "wald": "Wald",
}

# --- pooling: effect measures ------------------------------------------------------------------
#: Technical names (metafor's measure codes).
MEASURES: dict[str, str] = {
    "logit": "logit-transformed proportion (metafor PLO)",
    "ft": "Freeman-Tukey double arcsine (metafor PFT)",
    "arcsine": "arcsine square-root transformed proportion (metafor PAS)",
    "raw": "raw proportion (metafor PR)",
}
#: Prose for methods paragraphs.
MEASURE_NAMES: dict[str, str] = {
    "logit": "logit-transformed proportions",
    "ft": "Freeman-Tukey double-arcsine-transformed proportions (back-transformed at the "
          "harmonic mean of the sample sizes)",
    "arcsine": "arcsine-square-root-transformed proportions",
    "raw": "untransformed proportions",
}
MEASURE_SHORT: dict[str, str] = {
    "logit": "logit", "ft": "Freeman-Tukey", "arcsine": "arcsine", "raw": "raw",
}

# --- pooling: models ---------------------------------------------------------------------------
METHODS: dict[str, str] = {
    "FE": "fixed (common) effect, inverse variance",
    "DL": "random effects, DerSimonian-Laird tau^2",
    "PM": "random effects, Paule-Mandel tau^2",
    "ML": "random effects, maximum-likelihood tau^2",
    "REML": "random effects, restricted maximum-likelihood tau^2",
    "GLMM": "binomial-normal random-intercept logistic model (ML, adaptive Gauss-Hermite)",
}
METHOD_NAMES: dict[str, str] = {
    "REML": "a random-effects model with the restricted maximum-likelihood estimate of τ²",
    "DL": "a random-effects model with the DerSimonian-Laird estimate of τ²",
    "PM": "a random-effects model with the Paule-Mandel estimate of τ²",
    "ML": "a random-effects model with the maximum-likelihood estimate of τ²",
    "FE": "a fixed-effect (inverse-variance) model",
    "GLMM": "a random-intercept logistic model (binomial-normal GLMM, maximum likelihood with "
            "7-point adaptive Gauss-Hermite quadrature)",
}
METHOD_SHORT: dict[str, str] = {
    "REML": "random-effects REML", "DL": "random-effects DerSimonian-Laird",
    "PM": "random-effects Paule-Mandel", "ML": "random-effects ML", "FE": "fixed-effect",
    "GLMM": "binomial-normal GLMM",
}


def bayes_method_labels(tau_prior: str = "half-normal", tau_scale: float = 1.0,
                        mu_sd: float | None = None, mu_mean: float = 0.0,
                        likelihood: str = "normal") -> tuple[str, str, str]:
    """(METHODS, METHOD_NAMES, METHOD_SHORT) texts of the Bayesian model for the prior used.

    The "BAYES" entries of the tables below are these texts for the default prior; a result
    carries its own (stats.bayes_pooling.BayesPooledProportion.method_name / method_short).
    """
    family = {"half-normal": "half-normal", "half-cauchy": "half-Cauchy"}.get(
        tau_prior, "improper uniform")
    tau = f"{family} τ prior, scale {tau_scale:g}" if tau_prior in (
        "half-normal", "half-cauchy") else "improper uniform τ prior"
    mu = "flat μ prior" if mu_sd is None else f"normal μ prior (mean {mu_mean:g}, sd {mu_sd:g})"
    model = ("binomial-normal hierarchical model" if likelihood == "binomial"
             else "normal-normal hierarchical model")
    technical = f"Bayesian random effects ({model}; {tau}; {mu}; numerical integration)"
    prose = (f"a Bayesian random-effects model ({model}"
             + (" with the exact binomial likelihood" if likelihood == "binomial" else "")
             + f"; {tau}; {mu}; posterior computed by numerical integration, not MCMC)")
    short = f"Bayesian random effects ({tau})"
    return technical, prose, short


_BAYES_DEFAULT = bayes_method_labels()
METHODS["BAYES"] = _BAYES_DEFAULT[0]
METHOD_NAMES["BAYES"] = _BAYES_DEFAULT[1]
METHOD_SHORT["BAYES"] = _BAYES_DEFAULT[2]

#: Hartung-Knapp-Sidik-Jonkman variants (pool_proportions(hksj=True, hksj_variant=...)).
HKSJ_VARIANTS: dict[str, str] = {
    "adhoc": "Hartung-Knapp-Sidik-Jonkman, ad hoc variant never narrower than the standard "
             "interval (metafor test=\"adhoc\")",
    "plain": "Hartung-Knapp-Sidik-Jonkman, plain (metafor test=\"knha\"; can be narrower than "
             "the standard interval)",
}
HKSJ_SHORT: dict[str, str] = {"adhoc": "HKSJ (ad hoc)", "plain": "HKSJ (plain)"}
#: What a pool's result is when random-effects pooling cannot estimate it (sparse-data rule).
NOT_ESTIMABLE = "not estimable by random-effects pooling"
EXACT_SUMMED = "summed counts with an exact Clopper-Pearson interval"

# --- Kaplan-Meier: confidence limits of the median (R survival's conf.type, plus SPSS) -------
KM_CONF_TYPES: dict[str, str] = {
    "log": "log band (R survfit default), limits where the band crosses 0.5 (Brookmeyer-Crowley)",
    "log-log": "log-log band (exponential Greenwood; SAS, lifelines), limits where the band "
               "crosses 0.5 (Brookmeyer-Crowley)",
    "plain": "plain (linear Greenwood) band, limits where the band crosses 0.5 "
             "(Brookmeyer-Crowley)",
    "spss": "SPSS-style symmetric interval: median +/- z * SE(median)",
}
KM_CONF_SHORT: dict[str, str] = {"log": "log", "log-log": "log-log", "plain": "plain",
                                 "spss": "SPSS-style"}

# --- evidence: verification and data kinds -----------------------------------------------------
#: A row's verification level, derived from what its numbers were read from (one rule:
#: evidence.labels.verification_status; data/README.md, "Verification").
VERIFIED: tuple[str, ...] = ("primary source", "secondary source", "seed paper only")
#: What a row's `verified` value means, for caveats (data/README.md).
VERIFIED_MEANING: dict[str, str] = {
    "seed paper only": "the only source for these counts is the seed paper's own claim; not "
                       "confirmed in the trial's publication",
    "secondary source": "counts taken from a review table or a news summary, not from the "
                        "trial's own report",
}
#: What `derived = yes` means (a row of any verification level can be derived).
DERIVED_MEANING = ("counts derived (computed) from the source's percentages or totals, not "
                   "printed directly")
#: Cohort kinds that are not observed data, and how every output labels them.
DATA_LABELS: dict[str, str] = {
    "hypothetical": "HYPOTHETICAL scenario, not observed data",
    "synthetic": "SYNTHETIC example data",
    "uploaded": "UPLOADED cohort: user-supplied data, not peer reviewed",
}

# --- verification marks (forest rows, class tables, summary sentences) -------------------------
#: A symbol after a number that was not read from the trial's own full paper, and its legend.
MARK_MEANING: dict[str, str] = {
    "†": "seed paper only: the count appears only as the seed paper's claim, not confirmed in "
         "the trial's own publication",
    "‡": "secondary source: read from a review table or a news summary, not from the trial's "
         "own report",
    "§": "conference abstract: the trial's own meeting abstract, not its peer-reviewed paper",
    "¶": "registry results record, not a peer-reviewed publication",
    "*": "derived: computed from the source's percentages or totals, not printed directly",
}

#: The app's version, printed in every export's reproducibility stamp (pyproject.toml agrees).
APP_VERSION = "0.2.0"
