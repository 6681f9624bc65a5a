"""A missing value reaches the user as the field's word, never as "None".

st.dataframe draws every missing cell (None, NaN, pd.NA) as the text "None", whatever the
column's format (checked in Chromium with Streamlit 1.67), unless the table sets a
`placeholder`. So the tables below either hold no missing cell at all and show the word the
field uses in its place: "–" where the seed paper's Table 2 prints a dash, "NR" for a
Kaplan-Meier median or limit not reached, "not estimable" for a rate of 0 evaluable patients,
"—" for a study reference that does not apply, and a blank I² (explained under the table) in
the Bayesian model, which defines no I²; or keep their counts numeric, to sort as numbers, with
the word as the placeholder: "–" for a count the catalog's source does not report or a number
an uploaded patient file leaves empty, "—" for a number an audit check does not use.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from apptest import open_page, page_text, shown_cells

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("id,subtype,regimen,ai_agent,ici_agent,line,best_response,best_pct_change,pfs_time,"
          "pfs_event,os_time,os_event,time_unit")


def assert_no_missing_cell(frame: pd.DataFrame, where: str) -> None:
    missing = frame.isna()
    assert not missing.to_numpy().any(), (where, frame[missing.any(axis=1)].to_dict("records"))


def table(at, column: str) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The one table on the page with `column` (AppTest gives tables no key)."""
    (hit,) = [d.value for d in at.dataframe if column in d.value.columns]
    return hit


def test_adverse_events_show_the_papers_dash_not_none() -> None:
    at = open_page("views/cohort.py")
    shown = table(at, "grade3_n")
    assert_no_missing_cell(shown, "ae_table")
    source = pd.read_csv(ROOT / "data" / "liu2023" / "adverse_events.csv")
    dashed = set(source.loc[source["grade3_n"].isna(), "event"])
    assert dashed  # Table 2 prints "–" for most events at grade >= 3
    for _, row in shown.iterrows():
        cells = (row["grade3_n"], row["grade3_percent"], row["grade3_printed"])
        if row["event"] in dashed:
            assert cells == ("–", "–", "–"), row.to_dict()
        else:
            counted = source.loc[source["event"] == row["event"], "grade3_n"].item()
            assert row["grade3_n"] == str(int(counted)), row.to_dict()
    assert "Table 2 prints a dash" in page_text(at)


def _upload_cohort() -> bytes:
    """ASPS: one PFS event in five (the curve stays at 80%: median and both limits not
    reached); UPS: three events; LMS: two patients not evaluable for response."""
    rows = [HEADER]
    rows += [f"A{i},ASPS,anlotinib+sintilimab,anlotinib,sintilimab,later-line,PR,-40,{t},{e},"
             f"{t + 1},0,months" for i, (t, e) in enumerate([(1, 1), (2, 0), (3, 0), (4, 0),
                                                                (5, 0)])]
    rows += [f"U{i},UPS,apatinib+camrelizumab,apatinib,camrelizumab,first-line,PD,25,{t},1,"
             f"{t + 2},0,months" for i, t in enumerate([2, 4, 6])]
    rows += [f"L{i},LMS,anlotinib+toripalimab,anlotinib,toripalimab,later-line,NE,,3,1,5,0,"
             "months" for i in range(2)]
    return "\n".join(rows).encode()


@pytest.fixture(scope="module")
def uploaded():  # type: ignore[no-untyped-def]
    at = open_page("views/survival.py")
    at.file_uploader[0].set_value(("nr.csv", _upload_cohort(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_uploaded_median_pfs_not_reached_reads_nr(uploaded) -> None:  # type: ignore[no-untyped-def]
    counts = table(uploaded, "pfs_median_high").set_index("subtype")
    assert_no_missing_cell(counts.reset_index(), "upload_counts")
    assert tuple(counts.loc["ASPS", ["pfs_median_months", "pfs_median_low",
                                     "pfs_median_high"]]) == ("NR", "NR", "NR")
    # UPS: events at 2, 4 and 6 months, so S falls to 1/3 at 4: the median is 4 (R survfit)
    assert counts.loc["UPS", "pfs_median_months"] == "4.00"
    for cell in counts.loc["UPS", ["pfs_median_low", "pfs_median_high"]]:
        assert cell == "NR" or float(cell) >= 0, cell
    assert "NR: not reached" in page_text(uploaded)


def test_cohort_of_zero_evaluable_reads_not_estimable(uploaded) -> None:  # type: ignore[no-untyped-def]
    uploaded.switch_page("views/cohort.py")
    uploaded.run()
    assert not uploaded.exception
    active = table(uploaded, "ORR high %").set_index("subtype")
    assert_no_missing_cell(active.reset_index(), "active_table")
    assert tuple(active.loc["LMS", ["ORR %", "ORR low %", "ORR high %"]]) == (
        "not estimable",) * 3
    assert active.loc["ASPS", "ORR %"] == "100.0"  # 5 of 5 responded
    assert "The rate is not estimable" in page_text(uploaded)


def test_bayesian_i2_is_blank_with_its_reason_not_none() -> None:
    at = open_page("views/benchmark.py", {"subtype": "LMS", "method": "BAYES"})
    assert at.selectbox(key="method").value == "BAYES"
    classes = next(d.value for d in at.dataframe if "i2" in d.value.columns)
    assert_no_missing_cell(classes, "class table")
    assert set(classes["i2"]) == {""}  # the Bayesian model defines no I²
    assert "defines no I²" in page_text(at)
    for page in ("views/across.py", "views/summary.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception
        for frame in at.dataframe:
            assert_no_missing_cell(frame.value, f"{page} {list(frame.value.columns)[:4]}")


def test_summary_study_reference_that_does_not_apply_reads_a_dash() -> None:
    at = open_page("views/summary.py")
    trials = [d.value for d in at.dataframe if "study_ref_number" in d.value.columns]
    assert trials
    for frame in trials:
        assert not frame["study_ref_number"].isna().any()
        assert set(frame["study_ref_number"]) <= {"—"} | {str(n) for n in range(1, 500)}


@pytest.mark.parametrize(("page", "columns", "word", "caption"), [
    ("views/catalog.py", ("cr", "pr", "sd", "pd", "unconfirmed", "pfs_median_months"), "–",
     "–: not reported by the source"),
    ("views/audit.py", ("numerator", "denominator", "reported_pct", "recomputed_pct"), "—",
     "—: the check uses no such number"),
])
def test_numeric_columns_show_the_fields_word_and_sort_as_numbers(
        page: str, columns: tuple[str, ...], word: str, caption: str) -> None:
    at = open_page(page)
    shown = at.dataframe[0]
    for column in columns:
        cells = shown_cells(shown, column)
        assert "None" not in cells and word in cells, (page, column)  # some cells are missing
        assert pd.api.types.is_numeric_dtype(shown.value[column]), (page, column)
    assert caption in page_text(at)


def test_upload_preview_shows_empty_optional_cells_as_a_dash_and_keeps_numbers_numeric() -> None:
    # Empty cells the format allows: best % change of a patient not evaluable for response
    # (NE), and the optional age, sex and note.
    body = [HEADER + ",age,sex,note",
            "P1,ASPS,anlotinib+sintilimab,anlotinib,sintilimab,later-line,PR,-40,5,1,8,0,"
            "months,54,F,",
            "P2,UPS,apatinib+camrelizumab,apatinib,camrelizumab,first-line,NE,,3,1,6,1,"
            "months,,,left before the first scan",
            "P3,LMS,anlotinib+toripalimab,anlotinib,toripalimab,later-line,SD,-5,8,0,12,0,"
            "months,61,,"]
    at = open_page("views/survival.py")
    at.file_uploader[0].set_value(("optional.csv", "\n".join(body).encode(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    (preview,) = [d for d in at.dataframe if "pfs_months" in d.value.columns]
    for column, word in (("best_pct_change", "–"), ("age", "–"), ("sex", ""), ("note", "")):
        cells = shown_cells(preview, column)
        assert "None" not in cells and word in cells, (column, cells)  # a text cell stays blank
    for column in ("best_pct_change", "age", "pfs_months"):
        assert pd.api.types.is_numeric_dtype(preview.value[column]), column
    assert "–: no number in the file" in page_text(at)
