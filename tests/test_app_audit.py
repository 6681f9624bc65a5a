"""AppTest of the audit page: inconsistencies first, filters change the rows."""

import csv
import io
import re

from apptest import download_bytes, open_page, page_text

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


def test_the_audit_csv_writes_counts_as_whole_numbers() -> None:
    at = open_page("views/audit.py")
    header, *rows = csv.reader(io.StringIO(download_bytes(at, "dl_audit").decode("utf-8")))
    for column in ("numerator", "denominator"):
        cells = [row[header.index(column)] for row in rows]
        assert any(cells) and not all(cells), column  # some findings have no count
        assert all(re.fullmatch(r"\d*", c) for c in cells), (column, cells)
    # Table 1 of the seed paper: "Synovial sarcoma: 1 (3.3)" of the 33 patients
    synovial = next(r for r in rows if r[header.index("claim")].startswith("Synovial sarcoma"))
    assert (synovial[header.index("numerator")], synovial[header.index("denominator")]) == (
        "1", "33")
