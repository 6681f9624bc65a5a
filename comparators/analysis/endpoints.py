"""The endpoints a benchmark can pool, each as a numerator over a denominator of a catalog row.

Every endpoint is a proportion of patients, so the one pooling pipeline (analysis.benchmark)
serves them all: `endpoint_counts` puts the chosen endpoint's numerator and denominator into the
row shape's `responders` and `evaluable` columns (the names the pipeline and the `benchmark
--json` contract read), and leaves out, with a note, the rows that do not report it.

Columns (data/README.md, "Endpoints beyond response"):

- `orr`: `responders` / `evaluable` (confirmed CR + PR).
- `dcr`: (`responders` + `sd`) / `evaluable`, i.e. (CR + PR + SD) / evaluable; rows without an
  SD count do not report it.
- `pfs3`, `pfs6`: the Kaplan-Meier progression-free rate at 3 (6) months times its PFS
  population `pfs3_n` (`pfs6_n`), rounded half up to whole patients
  (`stats.proportions.patients_from_rate`, the one rule for a printed rate's count of patients:
  12.5% of 20 is 3, as a reader rounds 2.5, not pandas' round-half-to-even 2): the rate is
  pooled as a binomial
  proportion of that population, which ignores censoring before the landmark (the usual
  approximation when only the printed rate is available). A rate printed at 12 (24) weeks counts
  as the 3- (6-) month rate (`pfs_rate_weeks = yes`), as the catalog enters it; the note counts
  them.
- `grade3`: patients with a grade >= 3 treatment-related adverse event (`trae_g3`) / patients
  treated (`n_treated`). Safety is reported per arm for all its treated patients, so a subtype's
  arm takes the values of its arm's all-subtype row (`arm_trae_g3`, `arm_n_treated`, filled by
  `arm_safety`), not a subtype's own count.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparators.errors import InputError
from comparators.stats.proportions import patients_from_rate
from comparators.vocab import AGGREGATE_SUBTYPES, DEFAULT_ENDPOINT, ENDPOINTS, Endpoint

__all__ = ["DEFAULT_ENDPOINT", "ENDPOINTS", "SAFETY_NOTE", "Endpoint", "EndpointError",
           "arm_safety", "endpoint", "endpoint_counts"]

#: Why a grade >= 3 TRAE rate is an arm's, not a subtype's: shown beside every safety benchmark
#: (the benchmark, Across subtypes, summary and What-if pages, and the summary's exports).
SAFETY_NOTE = ("Safety is reported per arm: each comparator arm's grade ≥ 3 treatment-related "
               "adverse event rate counts all its treated patients (its all-subtype row), not "
               "this subtype's alone; this cohort's is its whole safety population too.")


class EndpointError(InputError):
    """An endpoint outside the known codes; the message lists them."""


def endpoint(code: str) -> Endpoint:
    """The endpoint of `code` (any case), or EndpointError naming the valid codes."""
    hit = ENDPOINTS.get(str(code).strip().lower())
    if hit is None:
        raise EndpointError(f"unknown endpoint {str(code)[:40]!r} (choose from "
                            f"{', '.join(ENDPOINTS)})")
    return hit


def arm_safety(rows: pd.DataFrame, *sources: pd.DataFrame) -> pd.DataFrame:
    """`rows` with `arm_n_treated` and `arm_trae_g3`: each row's own safety counts when it has
    them (an arm of one histology), else those of its arm's all-subtype row in `sources` (the
    same study and arm, subtype STS or SARCOMA); empty when the arm reports none."""
    by_arm: dict[tuple[str, str], tuple[float, float]] = {}
    for source in sources:
        if "n_treated" not in source or "trae_g3" not in source:
            continue
        arm_rows = source[source["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
        for study, arm, n, g in zip(arm_rows["study"].astype(str), arm_rows["arm"].astype(str),
                                    _numbers(arm_rows, "n_treated"),
                                    _numbers(arm_rows, "trae_g3"), strict=True):
            if pd.notna(n) and pd.notna(g):
                by_arm[(study, arm)] = (n, g)
    own_n, own_g3 = _numbers(rows, "n_treated"), _numbers(rows, "trae_g3")
    own = (own_n.notna() & own_g3.notna()).to_numpy()
    found = [by_arm.get(k, (np.nan, np.nan)) for k in zip(
        rows["study"].astype(str), rows["arm"].astype(str), strict=True)]
    return rows.assign(
        arm_n_treated=np.where(own, own_n.to_numpy(), [f[0] for f in found]),
        arm_trae_g3=np.where(own, own_g3.to_numpy(), [f[1] for f in found]))


def _numbers(rows: pd.DataFrame, column: str) -> pd.Series:
    if column not in rows:
        return pd.Series(np.nan, index=rows.index, dtype=float)
    return pd.to_numeric(rows[column], errors="coerce").astype(float)


def endpoint_counts(rows: pd.DataFrame, code: str) -> tuple[pd.DataFrame, list[str]]:
    """The rows that report endpoint `code`, its numerator in `responders` and denominator in
    `evaluable` (ORR: the rows as they are), and notes: which rows were left out for not
    reporting it, and how the endpoint was counted."""
    e = endpoint(code)
    if e.code == "orr":
        return rows, []
    if not e.is_proportion:
        raise EndpointError(f"the {e.name} is a time in months, not a count of patients")
    notes: list[str] = []
    if e.code == "dcr":
        num = _numbers(rows, "responders") + _numbers(rows, "sd")
        den = _numbers(rows, "evaluable")
    elif e.code in ("pfs3", "pfs6"):
        den = _numbers(rows, f"{e.code}_n")
        rates = _numbers(rows, f"{e.code}_rate")
        num = pd.Series([patients_from_rate(r, int(n)) if pd.notna(r) and pd.notna(n)
                         else np.nan for r, n in zip(rates, den, strict=True)],
                        index=rows.index, dtype=float)
        weeks = (rows.get("pfs_rate_weeks", pd.Series("", index=rows.index)).fillna("")
                 .astype(str).str.strip().str.lower() == "yes") & num.notna()
        if weeks.any():
            count = int(weeks.sum())
            notes.append(f"{count} {'arm reports' if count == 1 else 'arms report'} the rate at "
                         f"{12 if e.code == 'pfs3' else 24} weeks, counted as "
                         f"{3 if e.code == 'pfs3' else 6} months.")
        notes.append(f"The {e.name} is pooled as a proportion: each arm's Kaplan-Meier rate "
                     "times its PFS population, rounded half up to whole patients (censoring "
                     "before the landmark is ignored).")
    else:  # grade3
        if "arm_trae_g3" not in rows:  # a caller's bug: the rows lack their arms' safety
            raise ValueError("rows without arm safety counts: make them with "
                             "subtype_rows(..., endpoint='grade3')")
        num, den = _numbers(rows, "arm_trae_g3"), _numbers(rows, "arm_n_treated")
        notes.append("Safety is reported per arm, for all its treated patients, not per "
                     "subtype: each arm's grade ≥ 3 treatment-related adverse events are those "
                     "of its all-subtype row (or of the arm itself when it treated one "
                     "histology), so patients of other subtypes are counted too.")
    reported = num.notna() & den.notna() & (den > 0)
    left_out = rows.loc[~reported]
    if len(left_out):
        names = [("this cohort" if bool(own) else str(lab))
                 for lab, own in zip(left_out.get("label", left_out.get("key")),
                                     left_out["is_cohort"], strict=True)]
        notes.insert(0, f"Not reported ({e.name}), left out: {', '.join(names)}.")
    out = rows.loc[reported].assign(responders=num[reported].astype(int),
                                    evaluable=den[reported].astype(int))
    return out.reset_index(drop=True), notes
