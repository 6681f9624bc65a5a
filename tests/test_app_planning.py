"""AppTest of the planning page: Simon designs, evidence-filled p0/p1, precision and PFS sizing.

Simon R, Control Clin Trials 1989;10:1-10, Table 1: p0 0.10, p1 0.30, alpha 0.05, beta 0.20 ->
optimal 1/10, 5/29 (EN0 15.0, PET0 0.74), minimax 1/15, 5/25 (EN0 19.5, PET0 0.55);
p0 0.20, p1 0.40 -> optimal 3/13, 12/43, minimax 4/18, 10/33.
A'Hern, Stat Med 2001;20:859-866: p0 0.10, p1 0.30 (alpha 0.05, power 0.80) -> n 25, r 6.
"""

from apptest import chart_specs, open_page, page_text

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.event_sizing import implied_hazard_ratio, schoenfeld_events

PAGE = "views/planning.py"


def asps_benchmark():
    trials = load_catalog().trials
    return benchmark_subtype(subtype_rows(trials, published_cohort(trials), "ASPS"))


def test_default_simon_designs_match_simon_1989() -> None:
    at = open_page(PAGE)
    table = at.dataframe[0].value.set_index("design")
    assert table.loc["optimal", "stage 1: stop if ≤ r1/n1"] == "1/10"
    assert table.loc["optimal", "overall: reject if ≤ r/n"] == "5/29"
    assert table.loc["minimax", "stage 1: stop if ≤ r1/n1"] == "1/15"
    assert table.loc["minimax", "overall: reject if ≤ r/n"] == "5/25"
    assert round(table.loc["optimal", "EN(p0)"], 1) == 15.0
    assert round(table.loc["minimax", "EN(p0)"], 1) == 19.5
    text = page_text(at)
    assert "**Optimal**: 1/10, 5/29" in text
    assert ("enrol 10 patients in stage 1; stop for futility if 1 or fewer respond; otherwise "
            "enrol 19 more (29 in total) and reject the drug if 5 or fewer of 29 respond") in text
    assert "enrol 25 patients; the drug is considered promising if 6 or more respond" in text


def test_oc_curve_is_drawn() -> None:
    at = open_page(PAGE)
    specs = {s["title"]["text"]: s for s in chart_specs(at)}
    spec = specs["Operating characteristics over the true ORR"]
    assert spec["layer"][0]["encoding"]["x"]["title"] == "True objective response rate (%)"
    assert "Progression-free survival implied by the reported medians" in specs
    assert "Precision of the ORR estimate against sample size" in specs


def test_design_inputs_come_from_the_url() -> None:
    at = open_page(PAGE, query={"plan_p0": "0.2", "plan_p1": "0.4"})
    table = at.dataframe[0].value.set_index("design")
    assert table.loc["optimal", "stage 1: stop if ≤ r1/n1"] == "3/13"
    assert table.loc["optimal", "overall: reject if ≤ r/n"] == "12/43"
    assert table.loc["minimax", "stage 1: stop if ≤ r1/n1"] == "4/18"
    assert table.loc["minimax", "overall: reject if ≤ r/n"] == "10/33"


def test_fill_from_the_evidence_uses_the_benchmark_numbers() -> None:
    at = open_page(PAGE)
    bench = asps_benchmark()
    at.button(key="plan_fill").click().run()
    assert not at.exception
    # Filled in as the inputs show them: three decimals (a short, reproducible link).
    assert at.number_input(key="plan_p0").value == round(bench.class_pools["ICI"].estimate, 3)
    assert at.number_input(key="plan_p1").value == round(5 / 7, 3)  # this cohort's ASPS 5/7
    assert not at.error, [e.value for e in at.error]
    # p1 from the pooled AI+ICI comparators instead, p0 from the AI class.
    at.radio(key="plan_p1_source").set_value("Pooled AI+ICI ORR").run()
    at.selectbox(key="plan_p0_class").set_value("AI").run()
    at.button(key="plan_fill").click().run()
    assert not at.exception
    assert at.number_input(key="plan_p0").value == round(bench.class_pools["AI"].estimate, 3)
    assert at.number_input(key="plan_p1").value == round(bench.class_pools["AI+ICI"].estimate, 3)
    table = at.dataframe[0].value
    assert len(table) == 2


def test_impossible_design_inputs_get_a_message_not_a_traceback() -> None:
    at = open_page(PAGE)
    at.number_input(key="plan_p1").set_value(0.05).run()
    assert not at.exception
    assert any("must be larger than" in e.value for e in at.error)


def test_pfs_sizing_from_reported_medians() -> None:
    at = open_page(PAGE)
    shown = {m.label: m.value for m in at.metric}
    # Default: this cohort's 8.90 months (Liu 2023, Fig. 3a) vs ALTER0203 anlotinib 6.27 months.
    hr = implied_hazard_ratio(6.27, 8.90)
    assert shown["Implied hazard ratio"] == f"{hr:.2f}" == "0.70"
    assert shown["Events needed (Schoenfeld)"] == str(int(-(-schoenfeld_events(hr) // 1)))
    assert "implies a hazard ratio of 0.70" in page_text(at)
