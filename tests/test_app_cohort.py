"""AppTest of the landing page and the cohort page: what a user sees."""

import csv
import io
from pathlib import Path

import pandas as pd
from apptest import chart_data, chart_specs, download_bytes, open_page, page_text


def test_landing_page_says_what_the_app_is() -> None:
    at = open_page()
    text = page_text(at)
    assert "Sarcoma AI + ICI explorer" in text
    assert "doi:10.1038/s41598-023-30412-6" in text


def test_cohort_page_shows_the_papers_wilson_intervals() -> None:
    # Liu et al., Sci Rep 2023, Abstract: ORR 48.1% (95% CI 30.7-66.0%), DCR 85.2% (67.5-94.1%).
    at = open_page("views/cohort.py")
    text = page_text(at)
    assert "Objective response rate 48.1%" in text
    assert "95% CI 30.7–66.0%" in text
    assert "95% CI 67.5–94.1%" in text
    responses = at.dataframe[0].value
    assert responses.iloc[0]["ORR, % (95% CI)"] == "48.1 (30.7–66.0)"
    assert list(responses["group"]) == ["All evaluable patients", "ASPS", "Non-ASPS"]
    # Results, Efficacy: ASPS 5 PR + 2 SD of 7; non-ASPS 3 CR + 5 PR + 8 SD of 20.
    assert responses.iloc[1][["evaluable", "PR", "SD"]].tolist() == [7, 5, 2]
    assert responses.iloc[2][["evaluable", "CR", "PR", "SD"]].tolist() == [20, 3, 5, 8]


def test_changing_the_ci_method_changes_the_numbers() -> None:
    at = open_page("views/cohort.py")
    at.selectbox(key="ci_method").set_value("clopper-pearson").run()
    assert not at.exception
    text = page_text(at)
    # Clopper-Pearson for 13/27 is 28.7-68.1% (trial-facts.md, recomputed).
    assert "95% CI 28.7–68.1%" in text
    assert "30.7–66.0" not in text
    assert at.dataframe[0].value.iloc[0]["ORR, % (95% CI)"] == "48.1 (28.7–68.1)"


def test_confidence_level_is_applied_and_labelled() -> None:
    at = open_page("views/cohort.py")
    at.selectbox(key="ci_level").set_value(0.90).run()
    columns = at.dataframe[0].value.columns
    assert "ORR, % (90% CI)" in columns
    assert "90% CI" in page_text(at)


def test_ci_method_from_the_url_is_used() -> None:
    at = open_page("views/cohort.py", query={"ci_method": "Jeffreys", "ci_level": "90%"})
    assert at.selectbox(key="ci_method").value == "jeffreys"
    assert at.selectbox(key="ci_level").value == 0.90
    assert "Jeffreys (equal-tailed" in page_text(at)
    assert "30.7–66.0" not in page_text(at)


def test_invalid_url_value_falls_back_to_the_default() -> None:
    at = open_page("views/cohort.py", query={"ci_method": "<script>"})
    assert at.selectbox(key="ci_method").value == "wilson"
    assert "95% CI 30.7–66.0%" in page_text(at)


def test_baseline_and_adverse_event_tables_recompute_percentages() -> None:
    at = open_page("views/cohort.py")
    baseline = at.dataframe[1].value
    assert len(baseline) == 28
    hist = baseline[baseline["section"] == "Histology"]
    assert len(hist) == 14 and hist["n"].sum() == 33  # Table 1: 14 histologies, N = 33
    # Table 1 prints 3.3 for single cases; 1/33 recomputes to 3.0.
    single = hist[hist["n"] == 1].iloc[0]
    assert (single["percent"], single["printed_percent"], single["matches print"]) == (
        3.0, "3.3", False)
    events = at.dataframe[2].value
    assert len(events) == 35  # Table 2 lists 35 treatment-related adverse events
    hypertension = events[events["event"] == "Hypertension"].iloc[0]
    # grade >= 3 is text: Table 2's dash where it prints one (tests/test_missing_cells.py)
    assert (hypertension["any_grade_percent"], hypertension["grade3_percent"]) == (50.0, "30.0")
    # the header names where the rows were read: their locator in data/liu2023
    (where,) = set(pd.read_csv(Path(__file__).parent.parent / "data" / "liu2023"
                               / "adverse_events.csv")["locator"])
    assert f"Treatment-related adverse events ({where}, 30 evaluable patients)" in [
        h.value for h in at.header]


def test_adverse_event_chart_has_both_grades_and_a_source() -> None:
    at = open_page("views/cohort.py")
    (spec,) = chart_specs(at)
    assert spec["encoding"]["x"]["title"] == "Patients with the event (% of 30 evaluable)"
    assert "Table 2" in " ".join(spec["title"]["subtitle"])
    data = chart_data(at)[0]
    assert set(data["grade"]) == {"Any grade", "Grade >= 3"}
    assert len(data) == 35 + 6  # every event any grade, plus the six with grade >= 3 counts


def test_an_uploaded_cohort_is_shown_as_the_active_cohort() -> None:
    fixture = Path(__file__).parent / "fixtures" / "ipd" / "valid.csv"
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("my_cohort.csv", fixture.read_bytes(), "text/csv").run()
    at.switch_page("views/cohort.py")
    at.run()
    assert not at.exception
    text = page_text(at).replace("\\", "")  # Markdown-escaped file name, read as shown
    assert "Active cohort: Uploaded cohort (my_cohort.csv)" in text
    active = next(d.value for d in at.dataframe if "ORR %" in d.value.columns)
    assert "STS" in set(active["subtype"])
    # its download says which cohort, from which file, with which intervals, on every row
    header, *rows = csv.reader(io.StringIO(download_bytes(at, "dl_active").decode("utf-8")))
    stamps = {row[header.index("provenance")] for row in rows}
    assert len(rows) == len(active) and len(stamps) == 1
    (stamp,) = stamps
    assert "Uploaded cohort (my_cohort.csv)" in stamp and "uploaded" in stamp
    assert "Wilson, 95% CI" in stamp  # the default interval (design.md: the seed paper's)


def test_a_what_if_edit_reaches_the_benchmark_forest() -> None:
    # Liu 2023: ASPS 5/7. A hypothetical 7/7 must appear in the benchmark forest, labelled.
    from apptest import chart_data

    at = open_page("views/whatif.py")
    at.session_state["scenario_editor"] = {
        "edited_rows": {0: {"responders": 7}}, "added_rows": [], "deleted_rows": []}
    at.run()
    at.switch_page("views/benchmark.py")
    at.run()
    assert not at.exception
    rows = next(d for d in chart_data(at) if "kind" in d.columns)
    highlighted = rows[rows["highlight"]]
    assert list(highlighted["events_n"]) == ["7/7"]
    assert "hypothetical" in highlighted["label"].iloc[0].lower()
    assert any("Hypothetical" in w.value for w in at.warning)
