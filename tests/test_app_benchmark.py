"""AppTest of the benchmark page: what the user sees changes with each control.

Expectations come from the catalog (data/trials.csv) and the seed paper, never from the page's
own earlier output.
"""

import pytest
from apptest import chart_data, chart_specs, open_link, open_page, page_text

from comparators.evidence.catalog import load_catalog
from comparators.evidence.labels import arm_labels


def forest_data(at):
    """The forest's row table (the dataset with a 'kind' column)."""
    return next(d for d in chart_data(at) if "kind" in d.columns)


def class_table(at):
    return next(d.value for d in at.dataframe if "scope" in d.value.columns).set_index("class")


@pytest.fixture(scope="module")
def asps_comparators():
    t = load_catalog().trials
    rows = t[(t["subtype"] == "ASPS") & (t["study"] != "LIU2023")
             & (t["overlaps_with"].fillna("") == "")]
    return rows


def test_asps_forest_shows_this_cohort_beside_comparator_class_pools(asps_comparators) -> None:
    at = open_page("views/benchmark.py")
    assert at.selectbox(key="subtype").value == "ASPS"
    metrics = {m.label: m.value for m in at.metric}
    # Liu 2023, Results: 5 PR of 7 evaluable ASPS patients = 71.4%.
    assert metrics["This cohort (Liu 2023): ORR"] == "71.4%"
    rows = forest_data(at)
    assert list(rows.loc[rows["highlight"], "events_n"]) == ["5/7"]
    k_ai = int((asps_comparators["regimen_class"] == "AI+ICI").sum())
    assert f"AI+ICI pooled, comparators only (k = {k_ai})" in set(rows["label"])
    # Arms are labelled "Author Year · arm" (ids only in the data), with verification marks.
    labels = arm_labels(load_catalog().trials, load_catalog().references)
    wilky = labels["WILKY2019 · axitinib + pembrolizumab"]
    assert any(label.startswith(wilky) for label in rows["label"])
    assert not any(label.startswith("WILKY2019 ·") for label in rows["label"])
    assert "restricted maximum-likelihood" in at.code[0].value
    # The investigator's two questions are the headline.
    assert any(label.startswith("This cohort vs AI+ICI pooled") for label in metrics)
    assert any(label.startswith("AI+ICI pooled") and "vs ICI pooled" in label
               for label in metrics)


def test_model_exclusions_and_subtype_change_the_numbers() -> None:
    at = open_page("views/benchmark.py")
    before = class_table(at).loc["AI+ICI", "estimate"]
    at.selectbox(key="method").set_value("GLMM").run()
    assert not at.exception
    assert class_table(at).loc["AI+ICI", "estimate"] != before
    assert "random-intercept logistic" in at.code[0].value

    k = class_table(at).loc["AI+ICI", "k"]
    drop = next(r for r in forest_data(at).itertuples()
                if r.kind == "study" and r.group == "AI+ICI" and not r.highlight).study
    at.multiselect(key="exclude").set_value([drop]).run()
    assert class_table(at).loc["AI+ICI", "k"] == k - 1
    assert drop not in set(forest_data(at)["study"])
    assert f"Left out by the user: {drop}" in at.code[0].value
    subtitle = " ".join(str(s) for s in chart_specs(at)[0]["title"]["subtitle"])
    assert f"Left out: {drop}" in subtitle  # and so in the PNG/SVG export

    at.selectbox(key="subtype").set_value("UPS").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["This cohort (Liu 2023): ORR"] == "no data"


def test_a_link_with_cli_codes_opens_that_view() -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "method": "GLMM", "ci_level": "0.9",
                                          "reference": "20.0"})
    assert at.selectbox(key="subtype").value == "LMS"
    assert at.selectbox(key="method").value == "GLMM"
    assert "reference 20%" in str(chart_data(at))
    assert "1/2" in set(forest_data(at)["events_n"])  # Liu 2023: one of two LMS responded
    assert "90% CI" in page_text(at) + str(chart_specs(at))
    assert not any("not valid here" in w.value for w in at.warning)


def test_invalid_link_values_fall_back_with_a_notice_listing_the_valid_ones() -> None:
    at = open_link("views/benchmark.py", {"subtype": "NOT-A-SUBTYPE", "method": "DROP TABLE",
                                          "ci_level": "2"})
    assert at.selectbox(key="subtype").value == "ASPS"
    assert at.selectbox(key="method").value == "REML"
    # The notice is Markdown with the link's values escaped (reports.markup): read it as shown.
    notices = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "not valid here" in notices and "subtype='NOT-A-SUBTYPE'" in notices
    assert "method='DROP TABLE'" in notices and "ci_level='2'" in notices
    assert "method: FE, DL, PM, ML, REML, GLMM" in notices
    assert "ci_level: 0.95, 0.9, 0.8, 0.99" in notices


def test_comparisons_and_methods_name_their_tests() -> None:
    at = open_page("views/benchmark.py")
    table = next(d.value for d in at.dataframe if "test" in d.value.columns)
    assert {"difference", "low", "high", "p"} <= set(table.columns)
    assert "Wilson score intervals" in at.code[0].value
    assert "Benchmark a subtype" in page_text(at)
    assert "p = 0.0000" not in page_text(at)


def test_mark_legend_reads_as_written_not_as_markdown() -> None:
    """The legend line for derived numbers starts with its mark "*"; shown as Markdown it was a
    bullet list item (seen in the page screenshot) instead of "* derived: ...". In CommonMark a
    line starting with "* " is a list item; the escaped "\\* " is the literal star."""
    at = open_page("views/benchmark.py")
    # one caption, a Markdown line per mark
    legend = [line for c in at.caption for line in str(c.value).split("\n")
              if "derived:" in line]
    assert legend, "ASPS has a derived row, so its legend line is shown"
    for line in legend:
        assert not line.lstrip().startswith(("* ", "- ", "+ ")), line
        assert line.lstrip().startswith("\\* derived:"), line
