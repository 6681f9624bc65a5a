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
