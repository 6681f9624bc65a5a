"""The data audit: every percentage the seed paper prints, recomputed from its counts.

Three checks, each a `Finding`:
- arithmetic: numerator / denominator, rounded to the printed number of decimals, equals the print;
- granularity (GRIM-style, Brown & Heathers 2017): is the printed percentage possible at all for
  that denominator, i.e. is there any whole count k with round(100 k / n) equal to the print?
- source: the seed's claim about another trial against the catalog's (primary-source) row;
- survival: a median PFS or OS (months) the seed quotes for another trial against the value the
  source prints (data/liu2023/survival_claims.csv, or the catalog row's median PFS);
plus the citation problems curated in data/liu2023/citation_issues.csv.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from comparators.evidence.cohort import AE_DENOMINATOR, SEED_DIR, SeedCohort, load_seed_cohort


@dataclass(frozen=True)
class Finding:
    """One printed claim and what recomputing it shows."""

    where: str
    claim: str
    reported_pct: float | None
    numerator: int | None
    denominator: int | None
    recomputed_pct: float | None
    consistent: bool
    check: str  # arithmetic | granularity | source | survival | citation
    explanation: str
    reported_months: float | None = None  # survival checks: the seed's median, months
    published_months: float | None = None  # and the source's

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def _round_half_up(value: Decimal, decimals: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _as_printed(numerator: int, denominator: int, decimals: int) -> Decimal:
    return _round_half_up(Decimal(100 * numerator) / Decimal(denominator), decimals)


def possible_percentages(printed: str, denominator: int) -> list[int]:
    """Counts k in 0..n whose percentage prints as `printed` (empty: impossible for n)."""
    decimals, target = _decimals(printed), Decimal(printed)
    return [k for k in range(denominator + 1) if _as_printed(k, denominator, decimals) == target]


def check_percentage(
    where: str, claim: str, printed: str, numerator: int | None, denominator: int,
    note: str = "",
) -> Finding:
    """Recompute one printed percentage; without a numerator only granularity can be checked."""
    decimals = _decimals(printed)
    possible = possible_percentages(printed, denominator)
    if numerator is None:
        consistent = bool(possible)
        recomputed = None
        check = "granularity"
        auto = (
            f"{printed}% is possible for {denominator} patients ({possible[0]}/{denominator})"
            if possible
            else f"{printed}% is not possible for any count out of {denominator}"
        )
    else:
        exact = 100 * numerator / denominator
        recomputed = float(_as_printed(numerator, denominator, decimals))
        consistent = Decimal(printed) == _as_printed(numerator, denominator, decimals)
        check = "arithmetic"
        shown = f"{recomputed:.{decimals}f}"
        auto = f"{numerator}/{denominator} = {exact:.3f}%, printed as {shown}%"
        if not consistent:
            auto += f", not {printed}%"
            auto += (
                f"; {printed}% would be {', '.join(f'{k}/{denominator}' for k in possible)}"
                if possible
                else f"; {printed}% is not possible for any count out of {denominator}"
            )
    explanation = f"{note} ({auto})" if note else auto[0].upper() + auto[1:]
    return Finding(
        where=where, claim=claim, reported_pct=float(printed), numerator=numerator,
        denominator=denominator, recomputed_pct=recomputed, consistent=consistent, check=check,
        explanation=explanation,
    )


def _table_findings(cohort: SeedCohort) -> list[Finding]:
    findings = [
        check_percentage(
            f"Table 1, {row.section}",
            f"{row.characteristic}: {row.n} ({row.printed_pct}) of {row.denominator}",
            row.printed_pct, int(row.n), int(row.denominator),
        )
        for row in cohort.baseline.itertuples(index=False)
    ]
    for row in cohort.adverse_events.itertuples(index=False):
        for grade, n, printed in (
            ("any grade", row.any_grade_n, row.any_grade_printed_pct),
            ("grade >= 3", row.grade3_n, row.grade3_printed_pct),
        ):
            if pd.notna(n):
                findings.append(check_percentage(
                    row.locator, f"{row.event}, {grade}: {n} ({printed}) of {AE_DENOMINATOR}",
                    printed, int(n), AE_DENOMINATOR,
                ))
    return findings


def _optional_int(value: object) -> int | None:
    return None if pd.isna(value) else int(value)  # type: ignore[call-overload]


def _source_finding(claim: pd.Series, trials: pd.DataFrame) -> Finding | None:
    """Compare the seed's count for another trial with the catalog's row for that trial."""
    rows = trials[(trials["study"] == claim["study"]) & (trials["subtype"] == claim["subtype"])]
    if isinstance(claim.get("arm"), str) and claim["arm"]:
        rows = rows[rows["arm"] == claim["arm"]]
    if rows.empty:
        return None
    num, den = _optional_int(claim["numerator"]), _optional_int(claim["denominator"])
    matches = rows[(rows["responders"] == num) & (rows["evaluable"] == den)]
    if not matches.empty:
        row = matches.iloc[0]
        consistent = True
        explanation = (
            f"Matches the catalog: {row['arm']}, {row['responders']}/{row['evaluable']} "
            f"({row['verified']}; {row['locator']})"
        )
        if row["verified"] == "seed paper only":
            explanation = (
                "Not independently confirmed: the catalog's only source for "
                f"{row['responders']}/{row['evaluable']} is this claim itself"
            )
    else:
        row = rows.iloc[0]
        consistent = False
        seed = f"{num}/{den}" if num is not None else f"{claim['reported_pct']}%"
        explanation = (
            f"The seed paper says {seed}; the catalog holds {row['arm']} "
            f"{row['responders']}/{row['evaluable']} ({row['verified']}; {row['locator']})"
        )
        if isinstance(row.get("note"), str) and row["note"]:
            explanation += f". {row['note']}"
    return Finding(
        where=claim["where"], claim=claim["claim"], reported_pct=float(claim["reported_pct"]),
        numerator=num, denominator=den,
        recomputed_pct=(None if row["evaluable"] in (None, 0) or pd.isna(row["responders"])
                        else round(100 * row["responders"] / row["evaluable"], 1)),
        consistent=consistent, check="source", explanation=explanation,
    )


def load_survival_claims(folder: Path = SEED_DIR) -> pd.DataFrame:
    """The seed's medians (months) for other trials; printed values stay text to keep decimals."""
    return pd.read_csv(folder / "survival_claims.csv", dtype=str, keep_default_na=False)


def check_median(
    where: str, claim: str, printed: str, published: str | None, source: str, note: str = "",
) -> Finding:
    """A printed median against the source's, compared at the printed number of decimals."""
    if published is None:
        consistent = False
        auto = f"the seed prints {printed} months; no source value was read for it"
    else:
        shown = _round_half_up(Decimal(published), _decimals(printed))
        consistent = shown == Decimal(printed)
        auto = f"the seed prints {printed} months; {source} prints {published} months"
        if not consistent:
            auto += f" ({shown} at the seed's precision)"
    return Finding(
        where=where, claim=claim, reported_pct=None, numerator=None, denominator=None,
        recomputed_pct=None, consistent=consistent, check="survival",
        explanation=f"{note} ({auto})" if note else auto[0].upper() + auto[1:],
        reported_months=float(printed),
        published_months=None if published is None else float(published),
    )


def _catalog_median(claim: pd.Series, trials: pd.DataFrame | None) -> tuple[str, str] | None:
    """The catalog row's median PFS for the claim's (study, arm, subtype), with its source."""
    if trials is None or claim["measure"] != "median PFS" or not claim["study"]:
        return None
    rows = trials[(trials["study"] == claim["study"]) & (trials["subtype"] == claim["subtype"])]
    if claim["arm"]:
        rows = rows[rows["arm"] == claim["arm"]]
    rows = rows[rows["pfs_median_months"].notna()]
    if rows.empty:
        return None
    row = rows.iloc[0]
    where = f"the catalog's {row['study']} {row['arm']} {row['subtype']} row ({row['locator']})"
    return f"{row['pfs_median_months']:g}", where


def _survival_findings(claims: pd.DataFrame, trials: pd.DataFrame | None) -> list[Finding]:
    findings = []
    for _, claim in claims.iterrows():
        published: str | None = claim["published_months"] or None
        source = f"{claim['published_ref']} ({claim['published_locator']})"
        from_catalog = _catalog_median(claim, trials)
        if from_catalog is not None:
            published, source = from_catalog
        findings.append(check_median(
            claim["where"], claim["claim"], claim["reported_months"], published, source,
            claim["explanation"],
        ))
    return findings


def audit_seed(
    cohort: SeedCohort, trials: pd.DataFrame | None = None,
    survival_claims: pd.DataFrame | None = None,
) -> list[Finding]:
    """Every finding about the seed paper, inconsistent ones first.

    `trials` is the comparator catalog (data/trials.csv); without it the source checks are
    skipped. `survival_claims` (load_survival_claims()) adds the checks of quoted medians.
    """
    findings = _table_findings(cohort)
    for _, claim in cohort.claims.iterrows():
        note = claim["explanation"] if isinstance(claim["explanation"], str) else ""
        findings.append(check_percentage(
            claim["where"], claim["claim"], claim["reported_pct"],
            _optional_int(claim["numerator"]), int(claim["denominator"]), note,
        ))
        if trials is not None and isinstance(claim["study"], str) and claim["study"] != "LIU2023":
            source = _source_finding(claim, trials)
            if source is not None:
                findings.append(source)
    if survival_claims is not None:
        findings += _survival_findings(survival_claims, trials)
    findings += [
        Finding(row.where, row.claim, None, None, None, None, False, "citation", row.explanation)
        for row in cohort.citation_issues.itertuples(index=False)
    ]
    return sorted(findings, key=lambda f: f.consistent)  # stable: keeps the paper's order


def findings_frame(findings: list[Finding]) -> pd.DataFrame:
    """One row per finding; counts stay whole numbers where some findings have none (a
    float column would print and export 1 as 1.0)."""
    frame = pd.DataFrame([f.to_dict() for f in findings],
                         columns=[f.name for f in fields(Finding)])
    return frame.astype({"numerator": "Int64", "denominator": "Int64"})


def audit_published() -> list[Finding]:
    """The audit of the shipped data: the seed paper against the comparator catalog."""
    from comparators.evidence.catalog import load_catalog

    return audit_seed(load_seed_cohort(), load_catalog().trials, load_survival_claims())
