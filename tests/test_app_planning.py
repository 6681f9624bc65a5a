"""AppTest of the planning page: Simon designs, evidence-filled p0/p1, precision and PFS sizing.

Simon R, Control Clin Trials 1989;10:1-10, Table 1: p0 0.10, p1 0.30, alpha 0.05, beta 0.20 ->
optimal 1/10, 5/29 (EN0 15.0, PET0 0.74), minimax 1/15, 5/25 (EN0 19.5, PET0 0.55);
p0 0.20, p1 0.40 -> optimal 3/13, 12/43, minimax 4/18, 10/33.
A'Hern, Stat Med 2001;20:859-866: p0 0.10, p1 0.30 (alpha 0.05, power 0.80) -> n 25, r 6.
"""

from pathlib import Path

import pytest
from apptest import chart_specs, open_page, page_text

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.event_sizing import implied_hazard_ratio, schoenfeld_events
from comparators.stats.phase2_design import SINGLE_STAGE_RULES, single_stage_design

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


# --- PFS sizing with an uploaded cohort (what a user saw: "a median of 5.50975 months", a trial
# sized for HR 1.14 without a word, "over 24 and 12 further of follow-up") ------------------------

VALID_IPD = (Path(__file__).parent / "fixtures" / "ipd" / "valid.csv").read_text()
# P3 progresses at 167 days = 5.48665 months (30.4375 days a month), after P2 (2.1) and P5
# (3.0): at risk 3 then, S = 4/5 · 3/4 · 2/3 = 0.4 crosses 0.5, so the median is 5.48665 months.
DAYS_IPD = (VALID_IPD.replace(
    "P3,LMS,anlotinib+toripalimab,anlotinib,toripalimab,later-line,SD,-5,8.0,1,12.5,0,months",
    "P3,LMS,anlotinib+toripalimab,anlotinib,toripalimab,later-line,SD,-5,167,1,400,0,days")
    + "P5,UPS,apatinib+camrelizumab,apatinib,camrelizumab,first-line,PD,30,3.0,1,9.0,1,months\n")


def uploaded_plan():  # type: ignore[no-untyped-def]
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("days.csv", DAYS_IPD.encode(), "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    return at


def test_an_uploaded_median_is_shown_at_the_catalog_precision_with_its_unit() -> None:
    at = uploaded_plan()
    assert 167 / 30.4375 == pytest.approx(5.48665, abs=1e-5)
    assert at.number_input(key="pfs_experimental").value == 5.49
    text = page_text(at)
    assert "median is 5.49 months" in text
    assert "5.4866" not in text and "5.487" not in text


def test_a_plan_where_the_experimental_arm_does_worse_is_refused_not_sized() -> None:
    at = uploaded_plan()  # 5.49 months against ALTER0203's 6.27: HR = 6.27 / 5.49 = 1.14
    assert 6.27 / 5.49 == pytest.approx(1.142, abs=1e-3)
    warning = " ".join(w.value for w in at.warning)
    assert ("the experimental median (5.49 months) is not longer than the control's "
            "(6.27 months, ALTER0203 · anlotinib · STS), so the implied hazard ratio is 1.14"
            in warning), warning
    labels = {m.label for m in at.metric}
    assert "Patients to enrol" not in labels and "Events needed (Schoenfeld)" not in labels
    # A control with a shorter median (A091401 nivolumab, 1.70 months) is sized as before.
    at.selectbox(key="pfs_control").set_value("A091401|nivolumab|STS").run()
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Implied hazard ratio"] == f"{implied_hazard_ratio(1.70, 5.49):.2f}" == "0.31"


def test_the_sizing_sentence_names_its_units() -> None:
    at = open_page(PAGE)
    text = page_text(at)
    assert "uniform accrual over 24 months and 12 months of further follow-up, enrol" in text
    assert "a median of 8.9 months against 6.27 months (ALTER0203 · anlotinib · STS)" in text
    at.number_input(key="pfs_follow").set_value(6.5).run()
    assert "over 24 months and 6.5 months of further follow-up" in page_text(at)


def test_single_stage_rule_is_a_choice_that_travels_in_the_link() -> None:
    """Issue 22 item 15: A'Hern's printed tables accept attained values that round to the
    nominal ones, so at p0 0.15 / p1 0.25 (alpha 0.05, power 80 %) the table rule needs fewer
    patients than the exact rule; the page offers both and says which it used."""
    query = {"plan_p0": "0.15", "plan_p1": "0.25", "plan_alpha": "0.05", "plan_beta": "0.2"}
    shown = {}
    for rule in ("exact", "table"):
        at = open_page(PAGE, query={**query, "plan_single_rule": rule})
        assert not at.exception
        assert at.radio(key="plan_single_rule").value == rule
        want = single_stage_design(0.15, 0.25, 0.05, 0.2, rule=rule)
        patients = next(m for m in at.metric if m.label == "Patients")
        assert int(patients.value) == want.n
        shown[rule] = want.n
        assert SINGLE_STAGE_RULES[rule] in page_text(at)  # the sentence names its rule
    assert shown["table"] < shown["exact"]
