"""The one vocabulary: subtype aggregates, ordered regimen classes and every label table.

Every module and page reads its names from here, so a label (a CI method, a model, a class) is
spelled the same in the app, the CLI and every export.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

# --- subtypes ----------------------------------------------------------------------------------
#: Subtype codes that aggregate several histologies (an arm's overall row), not one histology.
AGGREGATE_SUBTYPES: frozenset[str] = frozenset({"STS", "SARCOMA"})
#: Bone tumours (data/subtypes.csv notes them so): never units of a soft-tissue question.
BONE_SUBTYPES: frozenset[str] = frozenset({"OS", "EWING", "CHS", "CHORDOMA"})
#: The code an uploaded cohort's all-patients row gets.
ALL_SUBTYPES_CODE = "STS"


def is_soft_tissue_subtype(code: object) -> bool:
    """One soft-tissue histology, a unit of a soft-tissue question: neither an aggregate row
    nor a bone tumour."""
    return str(code) not in AGGREGATE_SUBTYPES | BONE_SUBTYPES


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
#: This cohort (or the highlighted arm) in every chart; the colour of anything else.
HIGHLIGHT_COLOUR = "#c0392b"
OTHER_COLOUR = "#4c78a8"
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

# --- choice tables -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Choice:
    """One value a user can choose: its code (as the CLI, links and results spell it) and the
    three ways text names it."""

    code: str
    #: Technical name: menus' help, notes under a result.
    label: str
    #: Short name: menu entries, headers, one-line settings stamps.
    short: str
    #: Wording for a methods paragraph.
    prose: str
    #: Display labels that links made before the app used codes carried for this choice.
    legacy: tuple[str, ...] = ()


class Choices(Mapping[str, Choice]):
    """An ordered, read-only table of choices keyed by code (menus list them in this order).

    ``label(code)``, ``short(code)`` and ``prose(code)`` return the code itself for a value the
    table does not know (e.g. a result's "exact" model), so text never fails on it.
    """

    def __init__(self, *choices: Choice) -> None:
        self._by_code = {c.code: c for c in choices}

    def __getitem__(self, code: str) -> Choice:
        return self._by_code[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_code)

    def __len__(self) -> int:
        return len(self._by_code)

    @property
    def codes(self) -> list[str]:
        return list(self._by_code)

    def label(self, code: str) -> str:
        choice = self._by_code.get(code)
        return choice.label if choice else code

    def short(self, code: str) -> str:
        choice = self._by_code.get(code)
        return choice.short if choice else code

    def prose(self, code: str) -> str:
        choice = self._by_code.get(code)
        return choice.prose if choice else code

    def legacy_codes(self) -> dict[str, str]:
        """Old display label -> code, for links made before the app used codes."""
        return {old: c.code for c in self._by_code.values() for old in c.legacy}

    def menu_help(self) -> str:
        """'code: label; ...' for a menu's help text."""
        return "; ".join(f"{c.code}: {c.label}" for c in self._by_code.values())


#: Confidence intervals for one proportion.
CI_CHOICES = Choices(
    Choice("wilson", "Wilson score", "Wilson", "the Wilson score interval", ("Wilson",)),
    Choice("clopper-pearson", "Clopper-Pearson exact", "Clopper-Pearson",
           "the Clopper-Pearson exact interval", ("Clopper-Pearson",)),
    Choice("jeffreys", "Jeffreys (equal-tailed Beta(0.5, 0.5) posterior)", "Jeffreys",
           "the Jeffreys interval (equal-tailed Beta(0.5, 0.5) posterior)", ("Jeffreys",)),
    Choice("agresti-coull", "Agresti-Coull", "Agresti-Coull", "the Agresti-Coull interval",
           ("Agresti-Coull",)),
    Choice("wilson-cc", "Wilson score with continuity correction", "Wilson-CC",
           "the Wilson score interval with continuity correction", ("Wilson-CC",)),
    Choice("wald", "Wald (normal approximation)", "Wald",
           "the Wald interval (normal approximation)", ("Wald",)),
)

#: Pooling: effect measures (labels name metafor's measure codes).
MEASURE_CHOICES = Choices(
    Choice("logit", "logit-transformed proportion (metafor PLO)", "logit",
           "logit-transformed proportions", ("Logit",)),
    Choice("ft", "Freeman-Tukey double arcsine (metafor PFT)", "Freeman-Tukey",
           "Freeman-Tukey double-arcsine-transformed proportions (back-transformed at the "
           "harmonic mean of the sample sizes)", ("Freeman-Tukey",)),
    Choice("arcsine", "arcsine square-root transformed proportion (metafor PAS)", "arcsine",
           "arcsine-square-root-transformed proportions", ("Arcsine",)),
    Choice("raw", "raw proportion (metafor PR)", "raw", "untransformed proportions",
           ("Raw proportion",)),
)


#: Bayesian pooling: the prior family of the between-study sd τ (stats.bayes_pooling.BayesPrior).
TAU_PRIOR_CHOICES = Choices(
    Choice("half-normal", "half-normal", "half-normal", "a half-normal prior on τ"),
    Choice("half-cauchy", "half-Cauchy", "half-Cauchy", "a half-Cauchy prior on τ"),
    Choice("uniform", "uniform (improper)", "uniform", "an improper uniform prior on τ"),
)
#: Bayesian pooling: the likelihood of each study's count (stats.bayes_pooling.BayesOptions).
LIKELIHOOD_CHOICES = Choices(
    Choice("normal", "normal-normal hierarchical model on the measure's scale", "normal",
           "a normal-normal hierarchical model"),
    Choice("binomial", "binomial-normal hierarchical model (exact binomial likelihood, logit "
           "scale)", "binomial",
           "a binomial-normal hierarchical model with the exact binomial likelihood"),
)


def bayes_method_labels(tau_prior: str = "half-normal", tau_scale: float = 1.0,
                        mu_sd: float | None = None, mu_mean: float = 0.0,
                        likelihood: str = "normal") -> tuple[str, str, str]:
    """(label, prose, short) of the Bayesian model for the prior used.

    The "BAYES" choice of MODEL_CHOICES carries these texts for the default prior; a result carries
    its own (stats.bayes_pooling.BayesPooledProportion.method_name / method_short).
    """
    tau = (f"{TAU_PRIOR_CHOICES.label(tau_prior)} τ prior, scale {tau_scale:g}"
           if tau_prior in ("half-normal", "half-cauchy") else "improper uniform τ prior")
    mu = "flat μ prior" if mu_sd is None else f"normal μ prior (mean {mu_mean:g}, sd {mu_sd:g})"
    model = ("binomial-normal hierarchical model" if likelihood == "binomial"
             else "normal-normal hierarchical model")
    technical = f"Bayesian random effects ({model}; {tau}; {mu}; numerical integration)"
    prose = (f"a Bayesian random-effects model ({model}"
             + (" with the exact binomial likelihood" if likelihood == "binomial" else "")
             + f"; {tau}; {mu}; posterior computed by numerical integration, not MCMC)")
    short = f"Bayesian random effects ({tau})"
    return technical, prose, short


def _bayes_choice() -> Choice:
    label, prose, short = bayes_method_labels()
    return Choice("BAYES", label, short, prose)


#: Pooling: models (the CLI's and the sidebar's --method).
MODEL_CHOICES = Choices(
    Choice("FE", "fixed (common) effect, inverse variance", "fixed-effect",
           "a fixed-effect (inverse-variance) model", ("Fixed effect",)),
    Choice("DL", "random effects, DerSimonian-Laird tau^2", "random-effects DerSimonian-Laird",
           "a random-effects model with the DerSimonian-Laird estimate of τ²",
           ("Random effects, DerSimonian-Laird",)),
    Choice("PM", "random effects, Paule-Mandel tau^2", "random-effects Paule-Mandel",
           "a random-effects model with the Paule-Mandel estimate of τ²",
           ("Random effects, Paule-Mandel",)),
    Choice("ML", "random effects, maximum-likelihood tau^2", "random-effects ML",
           "a random-effects model with the maximum-likelihood estimate of τ²",
           ("Random effects, ML",)),
    Choice("REML", "random effects, restricted maximum-likelihood tau^2", "random-effects REML",
           "a random-effects model with the restricted maximum-likelihood estimate of τ²",
           ("Random effects, REML",)),
    Choice("GLMM", "binomial-normal random-intercept logistic model (ML, adaptive "
           "Gauss-Hermite)", "binomial-normal GLMM",
           "a random-intercept logistic model (binomial-normal GLMM, maximum likelihood with "
           "7-point adaptive Gauss-Hermite quadrature)", ("GLMM (logistic random intercept)",)),
    _bayes_choice(),
)
#: Models fitted to effect sizes and their variances (rma.uni); GLMM and BAYES fit the counts.
EFFECT_SIZE_MODELS: tuple[str, ...] = ("FE", "DL", "PM", "ML", "REML")

#: Hartung-Knapp-Sidik-Jonkman variants (pool_proportions(hksj=True, hksj_variant=...)).
HKSJ_CHOICES = Choices(
    Choice("adhoc", "Hartung-Knapp-Sidik-Jonkman, ad hoc variant never narrower than the "
           "standard interval (metafor test=\"adhoc\")", "HKSJ (ad hoc)",
           "the Hartung-Knapp-Sidik-Jonkman interval, ad hoc variant (never narrower than the "
           "standard interval)"),
    Choice("plain", "Hartung-Knapp-Sidik-Jonkman, plain (metafor test=\"knha\"; can be "
           "narrower than the standard interval)", "HKSJ (plain)",
           "the Hartung-Knapp-Sidik-Jonkman interval, plain variant"),
)
#: What a pool's result is when random-effects pooling cannot estimate it (sparse-data rule).
NOT_ESTIMABLE = "not estimable by random-effects pooling"
EXACT_SUMMED = "summed counts with an exact Clopper-Pearson interval"

# --- Kaplan-Meier: confidence limits of the median (R survival's conf.type, plus SPSS) -------
_CROSSING = "limits where the band crosses 0.5 (Brookmeyer-Crowley)"
KM_CONF_CHOICES = Choices(
    Choice("log", f"log band (R survfit default), {_CROSSING}", "log",
           f"the log-transformed Greenwood band, {_CROSSING}"),
    Choice("log-log", f"log-log band (exponential Greenwood; SAS, lifelines), {_CROSSING}",
           "log-log", f"the log-log (exponential Greenwood) band, {_CROSSING}"),
    Choice("plain", f"plain (linear Greenwood) band, {_CROSSING}", "plain",
           f"the plain (linear Greenwood) band, {_CROSSING}"),
    Choice("spss", "SPSS-style symmetric interval: median +/- z * SE(median)", "SPSS-style",
           "an SPSS-style symmetric interval, median ± z·SE(median)", ("SPSS-style",)),
)
#: Time units a survival time may be given in, in days (a month is 365.25 / 12 days).
TIME_UNIT_DAYS: dict[str, float] = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12,
                                    "years": 365.25}

# --- evidence: verification and data kinds -----------------------------------------------------
#: A row's verification level, derived from what its numbers were read from (one rule:
#: evidence.labels.verification_status; data/README.md, "Verification").
VERIFIED: tuple[str, ...] = ("primary source", "secondary source", "seed paper only")
#: Cohort kinds that are not observed data, and how every output labels them.
DATA_LABELS: dict[str, str] = {
    "hypothetical": "HYPOTHETICAL scenario, not observed data",
    "synthetic": "SYNTHETIC example data",
    "uploaded": "UPLOADED cohort: user-supplied data, not peer reviewed",
}


@dataclass(frozen=True)
class Mark:
    """A symbol after a number that was not read from the trial's own full paper."""

    symbol: str
    #: What the row is: a verification level ("seed paper only"), a source type, or "derived".
    name: str
    #: Why that matters, for legends and caveats.
    meaning: str

    @property
    def legend(self) -> str:
        return f"{self.name}: {self.meaning}"


#: The verification marks in the legend's order (forest rows, class tables, summary sentences).
MARKS: dict[str, Mark] = {m.symbol: m for m in (
    Mark("†", "seed paper only", "the count appears only as the seed paper's claim, not "
         "confirmed in the trial's own publication"),
    Mark("‡", "secondary source", "read from a review table or a news summary, not from the "
         "trial's own report"),
    Mark("§", "conference abstract", "the trial's own meeting abstract, not its peer-reviewed "
         "paper"),
    Mark("¶", "registry results", "a registry results record, not a peer-reviewed "
         "publication"),
    Mark("*", "derived", "computed from the source's percentages or totals, not printed "
         "directly"),
    Mark("‖", "added by the user", "in this session (or with --extra-rows): numbers and source "
         "as the user entered them, not checked by the catalog's curators"),
)}
MARKS_BY_NAME: dict[str, Mark] = {m.name: m for m in MARKS.values()}
#: The mark of each verification level below "primary source" (a row of any level can also be
#: derived: MARKS["*"]).
VERIFIED_MARKS: dict[str, Mark] = {m.name: m for m in MARKS.values() if m.name in VERIFIED}

#: The app's version, printed in every export's reproducibility stamp (pyproject.toml agrees).
APP_VERSION = "0.2.0"


#: What a benchmark can pool: proportions of patients (analysis.endpoints reads the rows), and
#: the median PFS in months (analysis.median_pfs pools the arms' reported medians).
@dataclass(frozen=True)
class Endpoint:
    """An endpoint: its code, how a sentence and a header name it, what it counts, and its unit
    ("proportion" of patients, or "months" for a median time)."""

    code: str
    name: str  # "3-month progression-free rate": how a sentence names it
    short: str  # "PFS-3": how a column header or axis names it
    numerator: str  # what is counted, in words
    denominator: str
    counted: str  # "Responders": a column header naming the numerator's patients
    unit: str = "proportion"

    @property
    def is_proportion(self) -> bool:
        """A proportion of patients (pooled by analysis.benchmark), not a time."""
        return self.unit == "proportion"


ENDPOINTS: dict[str, Endpoint] = {e.code: e for e in (
    Endpoint("orr", "objective response rate", "ORR",
             "complete plus partial responses", "response-evaluable patients", "Responders"),
    Endpoint("dcr", "disease control rate", "DCR",
             "complete and partial responses and stable disease", "response-evaluable patients",
             "Controlled"),
    Endpoint("pfs3", "3-month progression-free rate", "PFS-3",
             "patients progression-free at 3 months (Kaplan-Meier rate times the PFS "
             "population, rounded half up)", "the PFS population", "Progression-free"),
    Endpoint("pfs6", "6-month progression-free rate", "PFS-6",
             "patients progression-free at 6 months (Kaplan-Meier rate times the PFS "
             "population, rounded half up)", "the PFS population", "Progression-free"),
    Endpoint("grade3", "grade ≥ 3 treatment-related adverse event rate", "grade ≥ 3 TRAE",
             "patients with a grade ≥ 3 treatment-related adverse event",
             "patients treated (the arm's safety population)", "Grade ≥ 3 TRAE"),
    Endpoint("median_pfs", "median progression-free survival", "median PFS",
             "the Kaplan-Meier median time to progression or death, in months, with its "
             "reported interval", "the arm's patients", "Patients", unit="months"),
)}
#: The endpoint pooled as a median time (months), not as a proportion.
MEDIAN_PFS = "median_pfs"
DEFAULT_ENDPOINT = "orr"
