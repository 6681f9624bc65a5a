"""AppTest of the What-if page: the scenario editor, case mix and the Bayesian view.

Published counts (Liu et al., Sci Rep 2023, Results 'Efficacy'): ASPS 5/7, AS 2/2, LMS 1/2,
DDLPS 0/3, all evaluable 13/27 (Wilson 95% CI 30.7-66.0%, Abstract).
"""

import math
import time

import pytest
from apptest import chart_specs, open_page, page_text

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.bayes import JEFFREYS, predictive_probability
from views.common import SCENARIO_KEY

PAGE = "views/whatif.py"


def edit(at, edited_rows, added_rows=(), deleted_rows=()):
    at.session_state["scenario_editor"] = {
        "edited_rows": edited_rows, "added_rows": list(added_rows),
        "deleted_rows": list(deleted_rows)}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def pooled_asps(cohort) -> float:
    trials = load_catalog().trials
    return benchmark_subtype(subtype_rows(trials, cohort, "ASPS")).fit.estimate


def test_page_shows_the_published_counts_and_pooled_estimate() -> None:
    at = open_page(PAGE)
    editor = at.dataframe[0].value
    assert editor.to_records(index=False).tolist() == [
        ("ASPS", 7, 5), ("AS", 2, 2), ("LMS", 2, 1), ("DDLPS", 3, 0)]
    shown = metrics(at)
    assert shown["This cohort, published"] == "71.4%"
    published = pooled_asps(published_cohort(load_catalog().trials))
    assert shown["Pooled ASPS ORR, all included arms"] == f"{100 * published:.1f}%"
    assert SCENARIO_KEY not in at.session_state
    assert not at.warning or "hypothetical" not in at.warning[0].value.lower()


def test_editing_a_count_changes_the_pooled_estimate_and_every_page() -> None:
    at = open_page(PAGE)
    before = metrics(at)["Pooled ASPS ORR, all included arms"]
    start = time.perf_counter()
    edit(at, {0: {"responders": 7}})
    elapsed = time.perf_counter() - start
    shown = metrics(at)
    assert shown["This cohort, hypothetical"] == "100.0%"
    after = shown["Pooled ASPS ORR, all included arms"]
    assert after != before
    scenario = at.session_state[SCENARIO_KEY]
    assert scenario.kind == "hypothetical"
    assert scenario.label == "This cohort (hypothetical scenario)"
    # The number shown is the benchmark's fit with the scenario in place of LIU2023
    # (views.common.subtype_benchmark pools subtype_rows(catalog, this_cohort(), subtype)).
    assert after == f"{100 * pooled_asps(scenario):.1f}%"
    assert "hypothetical" in " ".join(w.value for w in at.warning).lower()  # the banner
    assert elapsed < 5, f"rerun after an edit took {elapsed:.2f} s"
    # Another page sees the scenario through this_cohort().
    at.switch_page("views/benchmark.py")
    at.run()
    assert not at.exception
    assert at.session_state[SCENARIO_KEY].kind == "hypothetical"
    assert int(at.session_state[SCENARIO_KEY].row("ASPS")["responders"]) == 7
    # Coming back, the edit is still in force (the editor restarts from the scenario).
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert metrics(at)["This cohort, hypothetical"] == "100.0%"
    assert at.dataframe[0].value.iloc[0].tolist() == ["ASPS", 7, 7]


def test_impossible_edits_are_refused_by_row_and_column_and_the_rest_kept() -> None:
    at = open_page(PAGE)
    edit(at, {0: {"responders": 6}, 1: {"responders": 3}, 2: {"evaluable": -1}})
    errors = [e.value for e in at.error]
    assert any("Row 2 (AS)" in e and "column 'responders'" in e and "exceed" in e
               for e in errors), errors
    assert any("Row 3 (LMS)" in e and "column 'evaluable'" in e and "negative" in e
               for e in errors), errors
    scenario = at.session_state[SCENARIO_KEY]
    assert int(scenario.row("ASPS")["responders"]) == 6  # the valid edit is kept
    assert int(scenario.row("AS")["responders"]) == 2  # refused rows keep their values
    assert int(scenario.row("LMS")["evaluable"]) == 2
    assert metrics(at)["This cohort, hypothetical"] == "85.7%"


def test_unknown_subtype_in_an_added_row_is_refused() -> None:
    at = open_page(PAGE)
    edit(at, {}, added_rows=[{"subtype": "NOPE", "evaluable": 3, "responders": 1}])
    assert any("Row 5" in e.value and "column 'subtype'" in e.value for e in at.error)
    assert SCENARIO_KEY not in at.session_state  # nothing valid changed


def test_reset_restores_the_published_counts() -> None:
    at = open_page(PAGE)
    edit(at, {0: {"responders": 7}})
    assert SCENARIO_KEY in at.session_state
    at.button(key="scenario_reset").click().run()
    assert not at.exception
    assert SCENARIO_KEY not in at.session_state
    assert metrics(at)["This cohort, published"] == "71.4%"
    assert "This cohort, hypothetical" not in metrics(at)
    assert at.dataframe[0].value.iloc[0].tolist() == ["ASPS", 7, 5]


def test_case_mix_table_and_chart() -> None:
    at = open_page(PAGE)
    table = at.dataframe[1].value.set_index("mix")
    assert table.loc["This cohort's own mix", "estimate"] == 48.1
    assert (table.loc["This cohort's own mix", "low"],
            table.loc["This cohort's own mix", "high"]) == (30.7, 66.0)
    assert table.loc["Without ASPS", "estimate"] == 40.0
    assert table.loc["SARC028 mix", "missing"] == "UPS, SS"
    assert "SARC028 mix: standardised ORR 25.0%" in page_text(at)
    titles = [s["title"]["text"] for s in chart_specs(at)]
    assert "ORR standardised to other case mixes" in titles
    # The case mix follows the scenario.
    edit(at, {0: {"responders": 7}})
    table = at.dataframe[1].value.set_index("mix")
    assert table.loc["This cohort's own mix", "estimate"] == round(100 * 15 / 27, 1)


def test_bayesian_view_and_predictive_probability() -> None:
    at = open_page(PAGE)
    shown = metrics(at)
    assert shown["P(ORR > 30%)"] == "98.9%"  # Beta(5.5, 2.5) tail above 0.3
    expected = predictive_probability(5, 7, 30, 0.30, 0.90, JEFFREYS)
    assert shown["Predictive probability of success"] == f"{100 * expected.pp:.1f}%"
    assert expected.sentence() in page_text(at)
    assert len(at.get("latex")) == 3
    at.radio(key="bayes_prior").set_value("Pooled comparator class").run()
    assert not at.exception
    assert "Beta(" in page_text(at) and "discount" in page_text(at)
    at.number_input(key="pp_nmax").set_value(5).run()  # fewer than the 7 already treated
    assert not at.exception
    assert any("cannot exceed" in e.value for e in at.error)


@pytest.mark.parametrize("query", [{"whatif_subtype": "LMS"}])
def test_subtype_from_the_url(query) -> None:
    at = open_page(PAGE, query=query)
    assert at.selectbox(key="whatif_subtype").value == "LMS"
    assert metrics(at)["This cohort, published"] == "50.0%"
    assert not math.isnan(float(metrics(at)["Pooled LMS ORR, all included arms"].rstrip("%")))
