"""AppTest: the GRADE summary-of-findings table and the risk-of-bias traffic lights on the
benchmark and summary pages. Expectations come from the catalog (trials.csv,
risk_of_bias.csv), never from the page's earlier output."""

from __future__ import annotations

from apptest import chart_data, open_link, open_page, page_text, unfold

from comparators.evidence.catalog import load_catalog
from comparators.evidence.risk_of_bias import load_risk_of_bias

LEVELS = {"high", "moderate", "low", "very low"}


def comparator_classes(subtype: str) -> set[str]:
    t = load_catalog().trials
    rows = t[(t["subtype"] == subtype) & (t["study"] != "LIU2023")
             & (t["overlaps_with"].fillna("") == "")]
    return set(rows["regimen_class"].astype(str))


def sof_tables(at) -> list:
    return [d.value for d in at.dataframe if "Certainty" in d.value.columns]


def check_sof(table, subtype: str) -> None:
    assert set(table["Regimen class"]) == comparator_classes(subtype)
    for cell in table["Certainty"]:
        assert cell.split(" ", 1)[1] in LEVELS
    for domain in ("Risk of bias", "Inconsistency", "Indirectness", "Imprecision",
                   "Publication bias"):
        # the header may name the footnotes every row shares: "Risk of bias (a)"
        column, = (c for c in table.columns if c == domain or c.startswith(f"{domain} ("))
        assert all(str(c).split(" (")[0] in {"not serious", "serious", "very serious"}
                   for c in table[column])


def test_benchmark_page_shows_the_summary_of_findings_and_traffic_lights() -> None:
    at = open_page("views/benchmark.py")
    tables = sof_tables(at)
    assert len(tables) == 1
    check_sof(tables[0], "ASPS")
    text = page_text(at)
    assert "Certainty of the evidence (GRADE), ASPS" in text
    assert "No decision threshold set." in text
    # Traffic lights: built only once their expander is opened; then every pooled ASPS study
    # (and this cohort's) with its overall judgement.
    assert not any("judgement" in d.columns for d in chart_data(at))

    def footnotes() -> str:
        return "\n".join(str(t.value) for t in at.text)

    assert "a. Risk of bias" not in footnotes()  # the footnotes are folded too
    unfold(at, "lights_ASPS", "why_ASPS")
    assert "a. Risk of bias" in footnotes()
    lights = next(d for d in chart_data(at) if "judgement" in d.columns)
    overall = lights[lights["column"] == "Overall"].set_index("study")["judgement"]
    rob = load_risk_of_bias().overall_by_study()
    assert "LIU2023" in overall.index
    assert all(overall[s] == rob[s] for s in overall.index)


def test_reference_orr_is_the_decision_threshold() -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "reference": "20.0"})
    assert "Decision threshold: ORR 20%." in page_text(at)
    check_sof(sof_tables(at)[0], "LMS")
    footnotes = "\n".join(str(t.value) for t in unfold(at, "why_LMS").text)
    assert "the decision threshold 20%" in footnotes


def test_summary_page_shows_one_table_per_subtype() -> None:
    at = open_page("views/summary.py")
    check_sof(sof_tables(at)[0], "ASPS")
    at.multiselect(key="summary_subtypes").set_value(["UPS", "LMS"]).run()
    assert not at.exception
    tables = sof_tables(at)
    assert len(tables) == 2
    check_sof(tables[0], "UPS")
    check_sof(tables[1], "LMS")


def test_low_risk_of_bias_switch_says_when_nothing_is_left() -> None:
    at = open_page("views/benchmark.py")
    at.toggle(key="low_rob_only").set_value(True).run()
    assert not at.exception
    overall = load_risk_of_bias().overall_by_study()
    if not any(j == "low" for j in overall.values()):
        errors = [e.value for e in at.error]
        assert any("low risk of bias only leaves no comparator arm to pool" in e
                   and f"0 of the {len(overall)} studies" in e for e in errors), errors
    at.toggle(key="low_rob_only").set_value(False).run()
    assert sof_tables(at)


def bundle_buttons(at) -> list[str]:
    return [b.proto.label for b in at.get("download_button")
            if b.proto.label.startswith("Reproduction bundle")]


def test_both_pages_offer_the_reproduction_bundle() -> None:
    at = open_page("views/benchmark.py")
    assert bundle_buttons(at) == ["Reproduction bundle (ASPS, .zip)"]
    at = open_page("views/summary.py")
    at.multiselect(key="summary_subtypes").set_value(["UPS", "LMS"]).run()
    assert bundle_buttons(at) == ["Reproduction bundle (UPS, .zip)",
                                  "Reproduction bundle (LMS, .zip)"]
