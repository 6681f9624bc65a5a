"""The seed cohort (Liu et al., Sci Rep 2023) as counts, and the descriptive tables built on them.

The CSVs in data/liu2023/ store counts and the paper's printed percentages; every percentage
shown to a user is recomputed here from the counts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd

from comparators.evidence.seed import SEED_CITATION, SEED_STUDY  # noqa: F401 - re-exported
from comparators.stats.proportions import proportion_ci

SEED_DIR = Path(__file__).resolve().parents[2] / "data" / "liu2023"

AE_DENOMINATOR = 30  # Table 2: "Toxicity profile of 30 evaluable patients"


@dataclass(frozen=True)
class SeedCohort:
    """The published tables of the seed cohort, as counts."""

    baseline: pd.DataFrame
    response: pd.DataFrame
    outcomes: pd.DataFrame
    adverse_events: pd.DataFrame
    claims: pd.DataFrame
    citation_issues: pd.DataFrame

    def outcome(self, measure: str) -> pd.Series:
        """The published outcome whose name starts with `measure` ("Median follow-up"), with
        its value, low, high, unit, interval and locator (data/liu2023/outcomes.csv)."""
        hits = self.outcomes[self.outcomes["measure"].str.startswith(measure)]
        if hits.empty:
            raise KeyError(f"no published outcome named {measure!r}")
        return hits.iloc[0]


def load_seed_cohort(folder: Path = SEED_DIR) -> SeedCohort:
    """Read data/liu2023/*.csv. Printed percentages stay text so their decimals are kept."""

    def read(name: str, **kwargs: object) -> pd.DataFrame:
        return pd.read_csv(folder / name, keep_default_na=True, **kwargs)  # type: ignore[call-overload]

    pct_text = {"printed_pct": str, "any_grade_printed_pct": str, "grade3_printed_pct": str}
    return SeedCohort(
        baseline=read("baseline.csv", dtype={**pct_text, "n": int, "denominator": int}),
        response=read("response.csv"),
        outcomes=read("outcomes.csv"),
        adverse_events=read("adverse_events.csv", dtype=pct_text).astype(
            {"any_grade_n": "Int64", "grade3_n": "Int64"}
        ),
        claims=read("claims.csv", dtype={"reported_pct": str, "arm": str}).astype(
            {"numerator": "Int64", "denominator": "Int64"}
        ),
        citation_issues=read("citation_issues.csv"),
    )


def baseline_summary(baseline: pd.DataFrame) -> pd.DataFrame:
    """Table 1 with the percentage recomputed from n / N beside the printed one."""
    out = baseline[["section", "characteristic", "n", "denominator"]].copy()
    out["percent"] = (100 * out["n"] / out["denominator"]).round(1)
    out["printed_percent"] = baseline["printed_pct"]
    return out


def response_summary(
    response: pd.DataFrame, method: str = "wilson", level: float = 0.95
) -> pd.DataFrame:
    """One row per group: best-response counts, ORR and DCR (%) with their confidence intervals.

    ORR = (CR + PR) / evaluable; DCR = (CR + PR + SD) / evaluable (the paper's definitions).
    """
    rows = []
    for rec in response.itertuples(index=False):
        cr, pr, sd, pd_, n = (int(v) for v in (rec.cr, rec.pr, rec.sd, rec.pd, rec.evaluable))
        row: dict[str, object] = {"group": rec.group, "evaluable": n,
                                  "CR": cr, "PR": pr, "SD": sd, "PD": pd_}
        for label, k in (("ORR", cr + pr), ("DCR", cr + pr + sd)):
            ci = proportion_ci(k, n, method, level)
            row[f"{label} %"] = 100 * ci.estimate
            row[f"{label} low %"] = 100 * ci.low
            row[f"{label} high %"] = 100 * ci.high
        rows.append(row)
    return pd.DataFrame(rows)


def adverse_event_summary(
    adverse_events: pd.DataFrame, denominator: int = AE_DENOMINATOR
) -> pd.DataFrame:
    """Table 2 with any-grade and grade >= 3 rates recomputed over the evaluable patients."""
    out = adverse_events[["event", "any_grade_n", "grade3_n"]].copy()
    out["any_grade_percent"] = (100 * out["any_grade_n"] / denominator).astype(float).round(1)
    out["grade3_percent"] = (100 * out["grade3_n"] / denominator).astype(float).round(1)
    out["any_grade_printed"] = adverse_events["any_grade_printed_pct"]
    out["grade3_printed"] = adverse_events["grade3_printed_pct"]
    return out


@dataclass(frozen=True)
class ThisCohort:
    """The highlighted study everywhere in the app, in the shared row shape.

    `kind` says where it comes from: "published" (the seed paper), "uploaded" (a user's IPD,
    aggregated), "synthetic" (the generated example IPD) or "hypothetical" (a what-if edit).
    Anything but "published" is labelled with `caveat` wherever it is shown or exported.
    `replaces` names the catalog study whose rows it stands in for (a what-if edit of the seed
    replaces LIU2023; an uploaded cohort replaces nothing and is compared with it).
    A hypothetical cohort also names the real cohort it was edited from: `derived_from` is that
    cohort's digest (the scenario is valid only while that cohort is the one in use) and
    `derived_label` how captions name it.
    """

    study: str
    label: str
    rows: pd.DataFrame
    kind: str = "published"
    caveat: str = ""
    replaces: str = SEED_STUDY  # the catalog study this cohort stands in for ("" for none)
    derived_from: str = ""  # hypothetical: the digest of the real cohort it was edited from
    derived_label: str = ""  # hypothetical: that cohort's name in captions

    @property
    def is_real(self) -> bool:
        return self.kind in {"published", "uploaded"}

    @cached_property
    def digest(self) -> str:
        """A content digest of everything above (computed once per object): two cohorts
        with the same digest give the same numbers, so caches key on it."""
        h = hashlib.sha256(repr((self.study, self.label, self.kind, self.caveat,
                                 self.replaces, self.derived_from,
                                 self.derived_label)).encode())
        h.update(self.rows.to_csv(index=False).encode())
        h.update(repr(list(self.rows.dtypes.astype(str))).encode())
        return h.hexdigest()

    @property
    def source(self) -> str:
        """The digest of the real cohort behind this one (itself unless hypothetical)."""
        return self.derived_from if self.kind == "hypothetical" else self.digest

    def row(self, subtype: str) -> pd.Series | None:
        hits = self.rows[self.rows["subtype"] == subtype]
        return None if hits.empty else hits.iloc[0]


def published_cohort(trials: pd.DataFrame) -> ThisCohort:
    """The seed cohort's rows as the catalog holds them."""
    rows = trials[trials["study"] == SEED_STUDY].reset_index(drop=True)
    return ThisCohort(SEED_STUDY, "This cohort (Liu 2023)", rows)


def cohort_orr_table(
    rows: pd.DataFrame, method: str = "wilson", level: float = 0.95
) -> pd.DataFrame:
    """ORR (%) with its interval for each subtype row of a cohort in the shared row shape."""
    out = rows[["subtype", "evaluable", "responders", "cr", "pr", "sd", "pd"]].copy()
    # 0 evaluable (every patient NE) is legal data: no rate, shown as an empty cell
    cis = [proportion_ci(int(k), int(n), method, level) if int(n) > 0 else None
           for k, n in zip(out["responders"], out["evaluable"], strict=True)]
    nan = float("nan")
    out["ORR %"] = [nan if c is None else 100 * c.estimate for c in cis]
    out["ORR low %"] = [nan if c is None else 100 * c.low for c in cis]
    out["ORR high %"] = [nan if c is None else 100 * c.high for c in cis]
    return out


def itemised_counts(rows: pd.DataFrame, total: str = "STS") -> str:
    """How a cohort's response counts are itemised, from its rows: "ASPS 5/7, AS 2/2, LMS 1/2
    and DDLPS 0/3 of 27 response-evaluable patients; the other 13 evaluable patients
    (5 responders) are not itemised". The `total` row holds every evaluable patient."""
    whole = rows[rows["subtype"] == total]
    parts = rows[rows["subtype"] != total]
    counts = [f"{s} {int(k)}/{int(n)}" for s, k, n in
              zip(parts["subtype"], parts["responders"], parts["evaluable"], strict=True)]
    listed = (", ".join(counts[:-1]) + " and " + counts[-1]) if len(counts) > 1 else \
        "".join(counts)
    if whole.empty:
        return listed
    k_all, n_all = int(whole["responders"].iloc[0]), int(whole["evaluable"].iloc[0])
    k_rest = k_all - int(parts["responders"].sum())
    n_rest = n_all - int(parts["evaluable"].sum())
    rest = (f"; the other {n_rest} evaluable patients ({k_rest} responders) are not itemised"
            if n_rest > 0 else "")
    return f"{listed} of {n_all} response-evaluable patients{rest}"


def asps_mix(seed: SeedCohort, rows: pd.DataFrame) -> str:
    """What the seed paper says about its ASPS / non-ASPS mix, from its tables: the non-ASPS
    group's responses, and ASPS's share of the treated (Table 1) and of the evaluable."""
    non_asps = seed.response[seed.response["group"] == "Non-ASPS"].iloc[0]
    treated = seed.baseline[seed.baseline["subtype"] == "ASPS"].iloc[0]
    asps, whole = rows[rows["subtype"] == "ASPS"].iloc[0], rows[rows["subtype"] == "STS"].iloc[0]
    k_non = int(non_asps["cr"]) + int(non_asps["pr"])
    n_treated, n_all = int(treated["n"]), int(treated["denominator"])
    n_asps, n_eval = int(asps["evaluable"]), int(whole["evaluable"])
    return (f"all non-ASPS patients together respond {k_non}/{int(non_asps['evaluable'])}; "
            f"ASPS was {n_treated} of {n_all} treated ({100 * n_treated / n_all:.1f}%, "
            f"Table 1) and {n_asps} of {n_eval} evaluable ({100 * n_asps / n_eval:.1f}%)")
