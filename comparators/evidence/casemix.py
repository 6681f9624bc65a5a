"""Case-mix standardisation of an objective response rate across sarcoma subtypes.

Direct standardisation (Fleiss, Levin & Paik, *Statistical Methods for Rates and Proportions*,
3rd ed. 2003, ch. 19): with subtype-specific response rates p_s = k_s / n_s from this cohort
and target weights w_s (summing to 1),

    p_std = sum_s w_s p_s,        Var(p_std) = sum_s w_s^2 p_s (1 - p_s) / n_s.

Interval (``method``):

* ``"wilson"`` (default): a Wilson score interval computed with the *effective sample size*
  n_eff = p_std (1 - p_std) / Var(p_std), truncated at the number of patients in the strata
  used (Korn & Graubard, Survey Methodology 1998;24:193-201, who truncate the design effect at
  1). With one stratum, or with the cohort's own mix, this is the ordinary Wilson interval of
  the crude rate (13/27: 30.7-66.0%, the seed paper's printed interval). When every stratum is
  0% or 100% the variance is 0 and n_eff is the number of patients.
* ``"logit"``: logit(p_std) +/- z * SE / (p_std (1 - p_std)) (delta method), back-transformed;
  at 0% or 100% it falls back to the Wilson-type interval (and says so).

Subtypes of the target mix with no response data in the cohort are **reported as missing**:
the estimate then covers only the strata with data (their weights re-scaled to sum to 1) and
``coverage`` says which share of the target mix that is.

What is known about the seed cohort (Liu et al., Sci Rep 2023): response counts are itemised
only for ASPS (5/7), AS (2/2), LMS (1/2) and DDLPS (0/3), plus the all-evaluable total 13/27 and
the non-ASPS group 8/20 (Results, Efficacy). So :func:`cohort_strata` builds the strata from
the itemised subtype rows plus a remainder stratum ("other, not itemised": 13 - 8 = 5 of 27 -
14 = 13 patients), and the presets re-weight only what the counts support: ASPS versus
non-ASPS to another trial's ASPS share, another trial's subtype mix (with its uncovered
subtypes listed), or the cohort's own mix with one subtype left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from comparators.errors import InputError
from comparators.inputs import parse_level
from comparators.stats.distributions import critical_value
from comparators.stats.proportions import wilson_bounds
from comparators.vocab import AGGREGATE_SUBTYPES

OTHER = "OTHER"
NON_ASPS = "NON-ASPS"
STRATUM_NAMES = {OTHER: "other subtypes (not itemised)", NON_ASPS: "all non-ASPS subtypes"}
CASEMIX_METHODS = {
    "wilson": "Wilson score interval with the effective sample size p(1 - p) / Var "
              "(truncated at the patients in the strata; Korn & Graubard 1998)",
    "logit": "logit (delta-method) interval, back-transformed",
}


class CaseMixError(InputError):
    """Counts or weights that cannot be standardised (message is meant for the user)."""


def stratum_name(code: str) -> str:
    return STRATUM_NAMES.get(code, code)


@dataclass(frozen=True)
class StandardisedRate:
    """A directly standardised response rate; proportions are fractions in [0, 1]."""

    label: str
    estimate: float  # nan when no target stratum has data
    low: float
    high: float
    se: float
    level: float
    method: str
    coverage: float  # share of the target weight on strata with data
    missing: tuple[str, ...]  # target strata with no response data in the cohort
    n_effective: float
    patients: int  # evaluable patients in the strata used
    strata: pd.DataFrame = field(repr=False, compare=False)
    notes: tuple[str, ...] = ()
    #: the interval actually computed: ``method``, or "wilson" where the logit interval is
    #: undefined (0 % or 100 %, zero variance) and the Wilson-type one is shown instead
    method_used: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing

    def to_frame(self) -> pd.DataFrame:
        """One row per target stratum: weight, counts, rate, contribution w_s p_s."""
        return self.strata.copy()

    def to_dict(self) -> dict[str, object]:
        def num(x: float) -> float | None:
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

        return {
            "label": self.label, "estimate": num(self.estimate), "low": num(self.low),
            "high": num(self.high), "se": num(self.se), "level": self.level,
            "method": self.method, "method_used": self.method_used or self.method,
            "coverage": self.coverage, "missing": list(self.missing),
            "n_effective": num(self.n_effective), "patients": self.patients,
            "notes": list(self.notes),
            "strata": self.strata.astype(object).where(self.strata.notna(), None)
            .to_dict(orient="records"),
        }

    def sentence(self) -> str:
        if math.isnan(self.estimate):
            return (f"{self.label}: no subtype of the target mix has response data in this "
                    f"cohort (missing: {', '.join(map(stratum_name, self.missing))}).")
        level = f"{100 * self.level:g}%"
        text = (f"{self.label}: standardised ORR {100 * self.estimate:.1f}% ({level} CI "
                f"{100 * self.low:.1f}–{100 * self.high:.1f}%)")
        if self.missing:
            text += (f", covering {100 * self.coverage:.0f}% of the target mix (no data for "
                     f"{', '.join(map(stratum_name, self.missing))})")
        return text + "."


def _target_mix(target_weights: Mapping[str, float]) -> tuple[dict[str, float], float]:
    """The positive weights by subtype code (repeated codes added up) and their sum."""
    weights: dict[str, float] = {}
    for code, w in target_weights.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or not math.isfinite(w) or w < 0:
            raise CaseMixError(f"weight of {code} must be a number >= 0, got {w!r}")
        if w > 0:
            weights[str(code)] = weights.get(str(code), 0.0) + float(w)
    total_w = sum(weights.values())
    if total_w <= 0:
        raise CaseMixError("the target mix needs at least one subtype with a positive weight")
    return weights, total_w


def _counts_by_subtype(subtype_counts: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """(responders, evaluable) per subtype; each row checked, each subtype once."""
    counts: dict[str, tuple[int, int]] = {}
    for i, rec in enumerate(subtype_counts.itertuples(index=False), start=1):
        code = str(rec.subtype)
        k, n = rec.responders, rec.evaluable
        if pd.isna(k) or pd.isna(n) or int(k) < 0 or int(n) < 0 or int(k) > int(n):
            raise CaseMixError(f"row {i} ({code}): responders and evaluable must be counts "
                               f"with responders <= evaluable, got {k}/{n}")
        if code in counts:
            raise CaseMixError(f"row {i}: subtype {code} appears twice")
        counts[code] = (int(k), int(n))
    return counts


def standardise_orr(
    subtype_counts: pd.DataFrame,
    target_weights: Mapping[str, float],
    level: float = 0.95,
    method: str = "wilson",
    label: str = "Standardised ORR",
) -> StandardisedRate:
    """Direct standardisation of the response rates in ``subtype_counts`` (columns subtype,
    responders, evaluable) to ``target_weights`` ({subtype: weight}, re-scaled to sum to 1)."""
    if method not in CASEMIX_METHODS:
        raise CaseMixError(f"unknown interval method {method!r}; choose one of "
                           f"{', '.join(CASEMIX_METHODS)}")
    level = parse_level(level, error=CaseMixError)
    for column in ("subtype", "responders", "evaluable"):
        if column not in subtype_counts:
            raise CaseMixError(f"subtype counts need a '{column}' column")
    weights, total_w = _target_mix(target_weights)
    counts = _counts_by_subtype(subtype_counts)

    covered = {c: w for c, w in weights.items() if counts.get(c, (0, 0))[1] > 0}
    missing = tuple(c for c in weights if c not in covered)
    coverage = sum(covered.values()) / total_w
    z = critical_value(level)
    rows, notes = [], []
    cw = sum(covered.values())
    est = var = 0.0
    patients = 0
    for code, w in weights.items():
        k, n = counts.get(code, (0, 0))
        if code in covered:
            ws = w / cw
            p = k / n
            est += ws * p
            var += ws * ws * p * (1 - p) / n
            patients += n
            rows.append({"subtype": code, "stratum": stratum_name(code),
                         "target_weight": w / total_w, "weight_used": ws, "responders": k,
                         "evaluable": n, "rate": p, "contribution": ws * p})
        else:
            rows.append({"subtype": code, "stratum": stratum_name(code),
                         "target_weight": w / total_w, "weight_used": 0.0, "responders": None,
                         "evaluable": None, "rate": None, "contribution": None})
    strata = pd.DataFrame(rows, columns=["subtype", "stratum", "target_weight", "weight_used",
                                         "responders", "evaluable", "rate", "contribution"])
    if not covered:
        nan = float("nan")
        return StandardisedRate(label, nan, nan, nan, nan, level, method, 0.0, missing, nan, 0,
                                strata, ("no target subtype has response data",))
    if missing:
        notes.append(f"No response data for {', '.join(map(stratum_name, missing))}: the "
                     f"estimate covers {100 * coverage:.0f}% of the target mix.")
    se = math.sqrt(var)
    n_eff = float(patients) if var <= 0 else min(est * (1 - est) / var, float(patients))
    method_used = method
    if method == "logit" and 0 < est < 1 and var > 0:
        half = z * se / (est * (1 - est))
        lg = math.log(est / (1 - est))
        low, high = (1 / (1 + math.exp(-(lg - half))), 1 / (1 + math.exp(-(lg + half))))
    else:
        if method == "logit":
            notes.append("The logit interval is undefined at 0% or 100% (or with zero "
                         "variance); the Wilson-type interval is shown instead.")
            method_used = "wilson"
        low, high = wilson_bounds(est, n_eff, z)
    return StandardisedRate(label, est, low, high, se, level, method, coverage, missing, n_eff,
                            patients, strata, tuple(notes), method_used=method_used)


# --------------------------------------------------------------------------- strata


def cohort_strata(rows: pd.DataFrame, itemise: Iterable[str] | None = None) -> pd.DataFrame:
    """Strata of a cohort in the shared row shape: the itemised subtype rows plus the rest.

    ``itemise=None`` keeps every subtype row and adds OTHER (the all-subtypes row minus the
    itemised rows) when it has patients; ``itemise=("ASPS",)`` gives ASPS and NON-ASPS.
    Columns: subtype, responders, evaluable.
    """
    codes = rows["subtype"].astype(str)
    total = rows[codes.isin(AGGREGATE_SUBTYPES)]
    subtypes = rows[~codes.isin(AGGREGATE_SUBTYPES)]
    keep = None if itemise is None else set(itemise)
    if keep is not None:
        subtypes = subtypes[subtypes["subtype"].astype(str).isin(keep)]
    out = pd.DataFrame({"subtype": subtypes["subtype"].astype(str).to_numpy(),
                        "responders": subtypes["responders"].astype(int).to_numpy(),
                        "evaluable": subtypes["evaluable"].astype(int).to_numpy()})
    if not total.empty:
        t = total.iloc[0]
        rest_n = int(t["evaluable"]) - int(out["evaluable"].sum())
        rest_k = int(t["responders"]) - int(out["responders"].sum())
        if rest_n < 0 or rest_k < 0 or rest_k > rest_n:
            raise CaseMixError(f"the subtype rows ({int(out['responders'].sum())}/"
                               f"{int(out['evaluable'].sum())}) do not fit inside the "
                               f"all-subtypes row ({int(t['responders'])}/{int(t['evaluable'])})")
        rest = NON_ASPS if keep == {"ASPS"} else OTHER
        if rest_n > 0:
            out.loc[len(out)] = [rest, rest_k, rest_n]
    return out.reset_index(drop=True)


def own_weights(strata: pd.DataFrame) -> dict[str, float]:
    """The cohort's own mix: each stratum's share of the evaluable patients."""
    n = strata["evaluable"].astype(float)
    return dict(zip(strata["subtype"], n / n.sum(), strict=True))


@dataclass(frozen=True)
class CaseMixPreset:
    """A target mix, the strata it applies to, and what it assumes (shown on screen)."""

    name: str
    weights: dict[str, float]
    strata: pd.DataFrame = field(repr=False)
    assumption: str
    source: str = ""

    def standardise(self, level: float = 0.95, method: str = "wilson") -> StandardisedRate:
        return standardise_orr(self.strata, self.weights, level, method, self.name)


def asps_share_preset(strata_asps: pd.DataFrame, share: float, name: str,
                      source: str = "") -> CaseMixPreset:
    """ASPS vs non-ASPS re-weighted to an ASPS share in [0, 1]."""
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise CaseMixError(f"the ASPS share must be between 0 and 1, got {share!r}")
    return CaseMixPreset(
        name, {"ASPS": float(share), NON_ASPS: 1 - float(share)}, strata_asps,
        f"ASPS {100 * share:.1f}% of the evaluable patients; this cohort's ASPS and non-ASPS "
        "rates (5/7 and 8/20 as published) are assumed to hold in that mix; the non-ASPS "
        "subtypes keep this cohort's internal mix.", source)


def arm_asps_shares(trials: pd.DataFrame) -> pd.DataFrame:
    """ASPS share of each comparator arm with an all-subtypes row, where it is known.

    Known when the arm has an ASPS row (share = ASPS evaluable / arm evaluable) or when its
    subtype rows add up to the whole arm (fully itemised, e.g. SARC028's four cohorts of 10:
    share 0 without an ASPS row). Rows re-counting another study (``overlaps_with``) are skipped.
    """
    t = trials
    if "overlaps_with" in t:
        t = t[t["overlaps_with"].fillna("") == ""]
    out = []
    for (study, arm), g in t.groupby(["study", "arm"], sort=False):
        codes = g["subtype"].astype(str)
        total = g[codes.isin(AGGREGATE_SUBTYPES)]
        if total.empty:
            continue
        n = int(total["evaluable"].iloc[0])
        parts = g[~codes.isin(AGGREGATE_SUBTYPES)]
        asps = int(parts.loc[parts["subtype"] == "ASPS", "evaluable"].sum())
        itemised = int(parts["evaluable"].sum()) == n
        if n > 0 and ((parts["subtype"] == "ASPS").any() or itemised):
            out.append({"study": str(study), "arm": str(arm), "asps": asps, "evaluable": n,
                        "share": asps / n,
                        "basis": "fully itemised subtype rows" if itemised
                        else "ASPS row / arm total"})
    return pd.DataFrame(out, columns=["study", "arm", "asps", "evaluable", "share", "basis"])


def subtype_mix(trials: pd.DataFrame, study: str) -> dict[str, float]:
    """A study's subtype mix from its subtype rows (aggregate and overlapping rows left out)."""
    t = trials[(trials["study"] == study)
               & ~trials["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    if "overlaps_with" in t:
        t = t[t["overlaps_with"].fillna("") == ""]
    if t.empty:
        raise CaseMixError(f"{study} has no subtype rows")
    n = t.groupby("subtype", sort=False)["evaluable"].sum().astype(float)
    return {str(k): float(v) for k, v in (n / n.sum()).items()}


def casemix_presets(
    cohort_rows: pd.DataFrame, trials: pd.DataFrame, leave_out: str = "ASPS",
    cohort_study: str = "LIU2023",
) -> list[CaseMixPreset]:
    """The presets the what-if page offers, built only from counts that are known."""
    fine = cohort_strata(cohort_rows)
    coarse = cohort_strata(cohort_rows, itemise=("ASPS",))
    presets = [CaseMixPreset(
        "This cohort's own mix", own_weights(fine), fine,
        "Weights are this cohort's own evaluable shares, so the result equals the crude ORR.",
        "this cohort")]
    if leave_out in set(fine["subtype"]):
        rest = fine[fine["subtype"] != leave_out]
        row = fine[fine["subtype"] == leave_out].iloc[0]
        presets.append(CaseMixPreset(
            f"Without {stratum_name(leave_out)}", own_weights(rest), rest,
            f"{stratum_name(leave_out)} ({int(row['responders'])}/{int(row['evaluable'])}) left "
            "out; the other strata keep their own shares (= the crude ORR of the rest).",
            "this cohort"))
    if "ASPS" in set(coarse["subtype"]):
        for rec in arm_asps_shares(trials).itertuples(index=False):
            if rec.study == cohort_study:
                continue
            presets.append(asps_share_preset(
                coarse, rec.share, f"ASPS share of {rec.study} ({rec.asps}/{rec.evaluable})",
                f"{rec.study} · {rec.arm} ({rec.basis})"))
    if "SARC028" in set(trials["study"]):
        mix = subtype_mix(trials, "SARC028")
        presets.append(CaseMixPreset(
            "SARC028 mix", mix, fine,
            "SARC028's soft-tissue arm: four cohorts of 10 (UPS, liposarcoma coded DDLPS, LMS, "
            "SS). This cohort has response data only for DDLPS (0/3) and LMS (1/2): UPS and SS "
            "are missing, so the estimate covers half of the target mix.",
            "SARC028 (Tawbi, Lancet Oncol 2017)"))
    return presets


def presets_frame(results: Iterable[tuple[CaseMixPreset, StandardisedRate]]) -> pd.DataFrame:
    """One row per preset for the table and the dot plot."""
    rows = []
    for preset, r in results:
        rows.append({"mix": preset.name, "estimate": r.estimate, "low": r.low, "high": r.high,
                     "coverage": r.coverage, "missing": ", ".join(map(stratum_name, r.missing)),
                     "patients": r.patients, "n_effective": r.n_effective,
                     "assumption": preset.assumption, "source": preset.source})
    return pd.DataFrame(rows, columns=["mix", "estimate", "low", "high", "coverage", "missing",
                                       "patients", "n_effective", "assumption", "source"])
