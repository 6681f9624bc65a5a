"""AppTest of the audit page: inconsistencies first, filters change the rows."""

from apptest import open_page, page_text

from comparators.evidence.cohort import load_seed_cohort


def test_audit_page_lists_inconsistencies_first() -> None:
    at = open_page("views/audit.py")
    table = at.dataframe[0].value
    assert not table.iloc[0]["consistent"]
    assert list(table["consistent"]) == sorted(table["consistent"])
    assert "Non-ASPS: DCR 90% (3 CR + 5 PR + 8 SD of 20)" in set(table["claim"])
    text = page_text(at)
    assert "Inconsistent" in text


def test_only_inconsistent_toggle_and_check_filter() -> None:
    at = open_page("views/audit.py")
    everything = len(at.dataframe[0].value)
    at.toggle(key="audit_only_bad").set_value(True).run()
    bad = at.dataframe[0].value
    assert 0 < len(bad) < everything and not bad["consistent"].any()
    at.multiselect(key="audit_checks").set_value(["citation"]).run()
    citations = at.dataframe[0].value
    listed = len(load_seed_cohort().citation_issues)  # data/liu2023/citation_issues.csv
    assert set(citations["check"]) == {"citation"} and len(citations) == listed
