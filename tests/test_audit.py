"""The audit against the seed paper's own printed numbers and the known inconsistencies.

Known inconsistencies are listed in ../shared/reference/trial-facts.md ("The seed paper's own
numbers, recomputed") and were read off the paper (Liu et al., Sci Rep 2023).
"""

from comparators.evidence.audit import audit_seed, check_percentage, possible_percentages
from comparators.evidence.cohort import load_seed_cohort


def find(fragment: str):
    hits = [f for f in audit_seed(load_seed_cohort()) if fragment in f.claim]
    assert hits, fragment
    return hits[0]


def test_orr_13_of_27_is_48_1_and_consistent() -> None:
    f = find("ORR 48.1% (13/27)")
    assert (f.numerator, f.denominator, f.recomputed_pct, f.consistent) == (13, 27, 48.1, True)


def test_orr_printed_48_2_is_flagged() -> None:
    f = find("ORR 48.2%")
    assert not f.consistent and f.recomputed_pct == 48.1


def test_non_asps_dcr_90_percent_is_16_of_20() -> None:
    f = find("Non-ASPS: DCR 90%")
    assert not f.consistent
    assert (f.numerator, f.denominator, f.recomputed_pct) == (16, 20, 80.0)


def test_hypertension_grade_3_is_9_of_33_not_of_30() -> None:
    table = find("Hypertension, grade >= 3")
    assert not table.consistent and table.recomputed_pct == 30.0
    assert "not possible for any count out of 30" in table.explanation


def test_table_1_single_cases_printed_as_3_3_percent() -> None:
    f = find("Synovial sarcoma: 1 (3.3)")
    assert not f.consistent and f.recomputed_pct == 3.0
    # The results text prints the same cases as 3.0%, which is right.
    assert find("Synovial sarcoma and other single cases").consistent


def test_previous_chemotherapy_and_odynophagia() -> None:
    assert not find("Yes: 15 (45.4)").consistent
    odynophagia = find("Odynophagia, any grade")
    assert not odynophagia.consistent and "3.3% would be 1/30" in odynophagia.explanation


def test_discussion_claims() -> None:
    assert not find("DDLPS 36.3% (4/11)").consistent  # 4/11 = 36.4%
    lms = find("LMS 16%")
    assert not lms.consistent and lms.check == "granularity"
    assert find("UPS 40% (4/10)").consistent
    assert find("ASPS 57% (4 of 7)").consistent  # 57.1% printed without decimals


def test_citation_problems_are_listed() -> None:
    citations = [f for f in audit_seed(load_seed_cohort()) if f.check == "citation"]
    text = " ".join(f.explanation for f in citations)
    assert "ref 18 is You et al." in text and "osteosarcoma" in text and "ALTER0203" in text
    assert not any(f.consistent for f in citations)


def test_inconsistent_findings_come_first() -> None:
    flags = [f.consistent for f in audit_seed(load_seed_cohort())]
    assert flags == sorted(flags)
    assert flags[0] is False


def test_every_table_percentage_is_checked() -> None:
    findings = audit_seed(load_seed_cohort())
    assert sum(f.where.startswith("Table 1") for f in findings) == 28
    # Table 2: 35 any-grade entries plus 6 grade >= 3 entries.
    assert sum(f.where == "Table 2" for f in findings) == 41


def test_granularity_check() -> None:
    # Brown & Heathers 2017 (GRIM): a printed percentage must be reachable by a whole count k/n.
    assert possible_percentages("48.1", 27) == [13]
    assert possible_percentages("48.2", 27) == []
    assert possible_percentages("50", 30) == [15]
    f = check_percentage("x", "y", "16", None, 14)
    assert not f.consistent and f.recomputed_pct is None


def test_claims_about_other_trials_are_checked_against_the_catalog() -> None:
    from comparators.evidence.audit import audit_published

    source = {f.claim: f for f in audit_published() if f.check == "source"}
    atezo = source["Atezolizumab ASPS 37.2% (16 of 43)"]
    assert not atezo.consistent and "19/52" in atezo.explanation  # Chen, NEJM 2023
    lms = source["A091401: nivolumab + ipilimumab LMS 16%"]
    assert not lms.consistent and "nivolumab + ipilimumab 2/14" in lms.explanation
    assert source["SARC028: pembrolizumab UPS 40% (4/10)"].consistent
    seed_only = source["TQB2450 + anlotinib ASPS 75% (9 of 12)"]
    assert "Not independently confirmed" in seed_only.explanation


def _published() -> dict[str, object]:
    from comparators.evidence.audit import audit_published

    return {f.claim: f for f in audit_published()}


def test_check_median_compares_at_the_printed_precision() -> None:
    from comparators.evidence.audit import check_median

    assert check_median("x", "y", "3", "3.0", "src").consistent  # '3 months' for 3.0
    wrong = check_median("x", "y", "14.9", "14.3", "src")
    assert not wrong.consistent and "14.3" in wrong.explanation
    assert (wrong.reported_months, wrong.published_months, wrong.check) == (14.9, 14.3, "survival")
    missing = check_median("x", "y", "3.7", None, "src")
    assert not missing.consistent and missing.published_months is None


def test_anlotinib_leiomyosarcoma_medians_are_alter0203s() -> None:
    # ALTER0203 leiomyosarcoma subgroup, ESMO 2019 abstract 1693P: 5.83 vs 1.43 months.
    found = _published()
    anlotinib = found["Anlotinib vs placebo in LMS: median PFS 5.83 months with anlotinib"]
    placebo = found["Anlotinib vs placebo in LMS: median PFS 1.43 months with placebo"]
    assert anlotinib.consistent and anlotinib.published_months == 5.83
    assert placebo.consistent and placebo.published_months == 1.43
    assert "ALTER0203" in anlotinib.explanation and "Chi 2018" in anlotinib.explanation


def test_sorafenib_and_pazopanib_angiosarcoma_medians() -> None:
    found = _published()
    # Ray-Coquard et al., Oncologist 2012: median PFS 1.8 (superficial) and 3.8 months (visceral).
    sorafenib = "Sorafenib in 'a phase 2 study including 40 patients with AS': "
    pfs = found[sorafenib + "median PFS 3.8 months"]
    assert pfs.consistent and pfs.published_months == 3.8 and "visceral" in pfs.explanation
    # Median OS 14.9 months is in neither Ray-Coquard 2012 (12.0/9.0) nor Maki 2009 (14.3).
    os_ = found[sorafenib + "median OS 14.9 months"]
    assert not os_.consistent and os_.published_months is None
    # Kollar et al., Acta Oncol 2017: AS median PFS three months, median OS 9.9 months.
    assert found["Pazopanib vascular sarcomas: median PFS of 3 months in AS"].consistent
    kollar_os = found["Pazopanib vascular sarcomas: median OS of 9.9 months in AS"]
    assert kollar_os.published_months == 9.9
    # Benson et al., Gynecol Oncol 2016: PFS 3.0 and OS 17.5 months, for all 44 uterine sarcomas.
    benson = found["Pazopanib in uterine LMS (retrospective analysis of two trials): "
                   "OS 17.5 months"]
    assert benson.consistent and "all 44" in benson.explanation


def test_regorafenib_leiomyosarcoma_medians_are_unverified() -> None:
    found = _published()
    for claim in ("Regorafenib vs placebo in LMS: median PFS 3.7 months with regorafenib",
                  "Regorafenib vs placebo in LMS: median PFS 1.8 months with placebo"):
        assert not found[claim].consistent and found[claim].published_months is None


def test_leiomyosarcoma_statements_about_checkpoint_inhibitors() -> None:
    found = {f.claim: f for f in _source_findings()}
    sarc028 = found["SARC028: none of the patients with LMS responded to pembrolizumab"]
    assert sarc028.consistent and "0/10" in sarc028.explanation  # Tawbi, ASCO 2017 abstract 11008
    benami = found["Nivolumab in uterine LMS (ref 23, Ben-Ami 2017): no response, "
                   "'a phase 2 evaluation of nivolumab that was stopped early for futility'"]
    assert benami.consistent and "0/12" in benami.explanation
    citations = " ".join(
        f.explanation for f in audit_seed(load_seed_cohort()) if f.check == "citation"
    )
    assert "S0505" in citations and "Santoro" in citations  # 'no benefit in LMS' (refs 16, 20)


def _source_findings() -> list:
    from comparators.evidence.audit import audit_published

    return [f for f in audit_published() if f.check == "source"]


def test_every_claim_row_is_in_the_cli_audit() -> None:
    """Every row of claims.csv, survival_claims.csv and citation_issues.csv reaches the CLI."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "comparators", "audit", "--json"], cwd=root, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert out.returncode == 0, out.stderr
    listed = {(f["where"], f["claim"]) for f in json.loads(out.stdout)["findings"]}
    seed = root / "data" / "liu2023"
    for name in ("claims.csv", "survival_claims.csv", "citation_issues.csv"):
        rows = pd.read_csv(seed / name, dtype=str, keep_default_na=False)
        keys = zip(rows["where"], rows["claim"], strict=True)
        missing = [key for key in keys if key not in listed]
        assert not missing, (name, missing)
