"""AppTest of the benchmark page: what the user sees changes with each control."""

import re

from apptest import chart_data, open_link, open_page, page_text

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort


def default_benchmark(subtype: str):
    """What the page pools by default, from data/trials.csv: k grows as trials are added, so
    the expected labels are derived from the catalog, not written down."""
    trials = load_catalog().trials
    return benchmark_subtype(subtype_rows(trials, published_cohort(trials), subtype))


def forest_data(at):
    """The forest's row table (the dataset with a 'kind' column)."""
    return next(d for d in chart_data(at) if "kind" in d.columns)


def test_asps_forest_shows_this_cohort_beside_comparators_with_class_diamonds() -> None:
    at = open_page("views/benchmark.py")
    assert at.selectbox(key="subtype").value == "ASPS"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["This cohort (Liu 2023)"] == "5/7"  # Liu 2023, Results: 5 PR of 7 ASPS
    rows = forest_data(at)
    cohort = rows[rows["highlight"]]
    assert list(cohort["events_n"]) == ["5/7"]
    classes = default_benchmark("ASPS").class_fits
    assert {f"AI+ICI pooled (k = {classes['AI+ICI'].k})",
            f"ICI pooled (k = {classes['ICI'].k})"} <= set(rows["label"])
    assert "WILKY2019 · axitinib + pembrolizumab" in set(rows["label"])
    assert "restricted maximum-likelihood" in at.code[0].value


def test_changing_model_subtype_and_exclusions_changes_the_numbers() -> None:
    at = open_page("views/benchmark.py")
    before = {m.label: m.value for m in at.metric}
    at.selectbox(key="method").set_value("GLMM").run()
    assert not at.exception
    glmm = {m.label: m.value for m in at.metric}
    k = default_benchmark("ASPS").fit.k
    label = f"Pooled ORR, all arms (k = {k})"
    assert glmm[label] != before[label]
    assert "random-intercept logistic" in at.code[0].value

    at.checkbox(key="include::ASPS::ATEZO-ASPS · atezolizumab").uncheck().run()
    labels = set(forest_data(at)["label"])
    assert "ATEZO-ASPS · atezolizumab" not in labels
    assert f"Pooled ORR, all arms (k = {k - 1})" in {m.label for m in at.metric}

    at.selectbox(key="subtype").set_value("UPS").run()
    ups = forest_data(at)
    assert "SARC028 · pembrolizumab" in set(ups["label"])
    assert {m.label: m.value for m in at.metric}["This cohort (Liu 2023)"] == "no data"


def test_reference_line_and_url_state() -> None:
    at = open_page("views/benchmark.py", query={"subtype": "LMS – leiomyosarcoma",
                                                 "reference": "20.0"})
    assert at.selectbox(key="subtype").value == "LMS"
    text = str(chart_data(at))
    assert "reference 20%" in text
    assert "1/2" in set(forest_data(at)["events_n"])  # Liu 2023: one of two LMS responded


def test_comparisons_table_has_newcombe_and_fisher_columns() -> None:
    at = open_page("views/benchmark.py")
    table = next(d.value for d in at.dataframe if "fisher_p" in d.value.columns)
    assert {"difference", "low", "high", "fisher_p"} <= set(table.columns)
    assert "Wilson score intervals" in at.code[0].value
    assert "Benchmark a subtype" in page_text(at)


def test_invalid_link_values_fall_back_to_defaults_with_a_notice() -> None:
    at = open_link("views/benchmark.py", {"subtype": "NOT-A-SUBTYPE", "method": "DROP TABLE",
                                          "ci_level": "2"})
    assert at.selectbox(key="subtype").value == "ASPS"
    assert at.selectbox(key="method").value == "REML"
    # the values are Markdown-escaped (they are user text); read them as shown
    notices = re.sub(r"\\(.)", r"\1", " ".join(w.value for w in at.warning))
    assert "not valid here" in notices and "subtype='NOT-A-SUBTYPE'" in notices
    assert "method='DROP TABLE'" in notices and "ci_level='2'" in notices
    # A valid link gives no notice.
    ok = open_link("views/benchmark.py", {"subtype": "UPS – undifferentiated pleomorphic sarcoma"})
    assert not any("not valid here" in w.value for w in ok.warning)
