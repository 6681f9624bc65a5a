"""GRADE certainty rules (analysis.certainty), from constructed result objects: each rule is
driven to every rating it can give, so each can fail. Thresholds are the GRADE guidance's
(Guyatt GH, et al. J Clin Epidemiol 2011;64, guidelines 4-9) and the module's documented
constants; the optimal information size is recomputed here from its definition."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pandas as pd
import pytest

from comparators.analysis.benchmark import benchmark_subtype
from comparators.analysis.certainty import (
    LEVELS,
    OIS_PATIENTS,
    SYMBOLS,
    ArmWeight,
    ClassCertainty,
    DomainRating,
    Question,
    assess_certainty,
    rate_imprecision,
    rate_inconsistency,
    rate_indirectness,
    rate_large_effect,
    rate_publication_bias,
    rate_risk_of_bias,
    summary_of_findings,
)
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.risk_of_bias import ITEMS, ItemJudgement, RiskOfBias, StudyRiskOfBias


def arm(study: str, share: float, line: str | None = "pretreated", target: str | None = "PD-1",
        reported: str | None = "alveolar soft part sarcoma") -> ArmWeight:
    return ArmWeight(f"{study} · x", study, 10, share, line, target, reported)


# --------------------------------------------------------------------------- risk of bias


def test_risk_of_bias_rates_on_the_weight_from_high_or_unclear_studies() -> None:
    arms = [arm("A", 0.6), arm("B", 0.4)]
    assert rate_risk_of_bias(arms, {"A": "unclear", "B": "low"}).change == -1
    assert rate_risk_of_bias(arms, {"A": "high", "B": "low"}).change == -2
    assert rate_risk_of_bias(arms, {"A": "some concerns", "B": "unclear"}).change == 0
    # A study with no judgement (a user's arm) counts as unclear.
    assert rate_risk_of_bias(arms, {"B": "low"}).change == -1
    reason = rate_risk_of_bias(arms, {"A": "unclear", "B": "low"}).reason
    assert reason.startswith("60% of the weight") and "1 low" in reason


# --------------------------------------------------------------------------- inconsistency


@pytest.mark.parametrize(("i2", "change"), [(10.0, 0), (49.9, 0), (50.0, -1), (74.0, -1),
                                             (75.0, -2), (95.0, -2)])
def test_inconsistency_follows_i2_bands(i2: float, change: int) -> None:
    assert rate_inconsistency(4, i2, 0.2, 0.4, 0.1, 0.6, None).change == change


def test_inconsistency_one_arm_is_not_rated_and_prediction_interval_can_rate_down() -> None:
    assert rate_inconsistency(1, None, 0.1, 0.7, None, None, 0.2).change == 0
    # The PI crosses 30% while the CI (35-50%) does not: arms disagree about the side.
    assert rate_inconsistency(5, 20.0, 0.35, 0.50, 0.20, 0.70, 0.30).change == -1
    # Both cross it: that is imprecision, not inconsistency.
    assert rate_inconsistency(5, 20.0, 0.25, 0.50, 0.20, 0.70, 0.30).change == 0
    bayes = rate_inconsistency(3, None, 0.2, 0.4, 0.1, 0.6, None)
    assert bayes.change == 0 and "no I²" in bayes.reason


# --------------------------------------------------------------------------- indirectness


def test_indirectness_counts_line_target_and_population_concerns() -> None:
    q = Question("mixed", "PD-1")
    terms = ["ASPS", "alveolar soft part sarcoma"]
    direct = [arm("A", 0.6, "mixed"), arm("B", 0.4, None)]
    assert rate_indirectness(direct, q, terms, True).change == 0
    other_line = [arm("A", 0.6, "pretreated"), arm("B", 0.4, "mixed")]
    assert rate_indirectness(other_line, q, terms, True).change == -1
    both = [arm("A", 0.6, "pretreated", "PD-L1"), arm("B", 0.4, "mixed")]
    assert rate_indirectness(both, q, terms, True).change == -2
    # A class without a checkpoint inhibitor is not judged on the checkpoint target.
    assert rate_indirectness(both, q, terms, False).change == -1
    population = [arm("A", 0.7, "mixed", reported="liposarcoma"), arm("B", 0.3, "mixed")]
    rating = rate_indirectness(population, q, terms, True)
    assert rating.change == -1 and "70% whose reported population" in rating.reason


# --------------------------------------------------------------------------- imprecision


def test_optimal_information_size_is_the_size_of_a_ten_point_interval() -> None:
    # n = z² p(1-p) / d² with z = 1.959964, p = 0.5, d = 0.10: 96.04, rounded up.
    assert OIS_PATIENTS == math.ceil(1.959964 ** 2 * 0.25 / 0.01) == 97


def test_imprecision_rates_size_width_and_threshold_crossing() -> None:
    assert rate_imprecision(0.20, 0.35, 200, None).change == 0
    assert rate_imprecision(0.20, 0.35, 60, None).change == -1  # too few patients
    assert rate_imprecision(0.10, 0.45, 200, None).change == -1  # too wide
    assert rate_imprecision(0.20, 0.35, 200, 0.25).change == -1  # crosses the threshold
    assert rate_imprecision(0.20, 0.35, 60, 0.25).change == -2
    assert rate_imprecision(0.20, 0.35, 200, 0.40).change == 0
    assert "crosses the decision threshold 25%" in rate_imprecision(0.2, 0.35, 60, 0.25).reason


# --------------------------------------------------------------------------- publication bias


def test_publication_bias_rates_registered_arms_without_results_and_says_why_no_funnel() -> None:
    rating = rate_publication_bias(4, ["NCT00000001"])
    assert rating.change == -1 and "NCT00000001" in rating.reason
    assert "fewer than 10" in rating.reason
    clean = rate_publication_bias(4, [], ["NCT04447274"])
    assert clean.change == 0 and "none linked" in clean.reason
    assert "mislead for proportions" in rate_publication_bias(12, []).reason


# --------------------------------------------------------------------------- large effect, level


def test_large_effect_rates_up_only_without_rating_down() -> None:
    assert rate_large_effect(0.45, 0.20).change == 1
    assert rate_large_effect(0.39, 0.20).change == 0
    assert rate_large_effect(0.45, 0.20, rated_down=True).change == 0
    assert rate_large_effect(0.45, None).change == 0


def _outcome(*changes: int) -> ClassCertainty:
    names = ["risk of bias", "inconsistency", "indirectness", "imprecision", "large effect"]
    return ClassCertainty("AI", 0.3, 0.2, 0.4, 3, 60, 18,
                          tuple(DomainRating(n, c, "r") for n, c in zip(names, changes,
                                                                         strict=False)))


def test_certainty_starts_low_and_moves_by_the_ratings() -> None:
    assert _outcome(0, 0, 0, 0).certainty == "low"
    assert _outcome(-1, 0, 0, 0).certainty == "very low"
    assert _outcome(-1, -1, -2, -2).certainty == "very low"  # bounded below
    assert _outcome(0, 0, 0, 0, 1).certainty == "moderate"
    assert set(SYMBOLS) == set(LEVELS) and SYMBOLS["low"] == "⊕⊕◯◯"


# --------------------------------------------------------------------------- from a benchmark


def _rob(judgements: dict[str, list[str]]) -> RiskOfBias:
    return RiskOfBias(tuple(
        StudyRiskOfBias(study, tuple(ItemJudgement(item, j, "s" if j != "unclear" else "", "R")
                                     for item, j in zip(ITEMS, js, strict=True)))
        for study, js in judgements.items()))


TERMS = ["ASPS", "alveolar soft part sarcoma"]


def _rows() -> pd.DataFrame:
    data = [("S1", "AI", 12, 40, "pretreated"), ("S2", "AI", 10, 36, "pretreated"),
            ("S3", "AI", 11, 38, "pretreated"), ("S4", "ICI", 2, 9, "mixed")]
    return pd.DataFrame({
        "study": [d[0] for d in data], "arm": "x", "subtype": "ASPS",
        "regimen_class": [d[1] for d in data], "responders": [d[2] for d in data],
        "evaluable": [d[3] for d in data], "line_coded": [d[4] for d in data],
        "ici_target": [None, None, None, "PD-1"],
        "subtype_as_reported": "alveolar soft part sarcoma", "is_cohort": False,
        "key": [f"{d[0]} · x" for d in data], "label": [d[0] for d in data]})


def test_assess_certainty_reads_the_fitted_pools() -> None:
    bm = benchmark_subtype(_rows(), AnalysisOptions())
    low = ["low"] * 8
    bad = ["unclear"] * 8
    rob = _rob({"S1": low, "S2": low, "S3": low, "S4": bad})
    sc = assess_certainty(bm, rob, Question("pretreated", "PD-1"), TERMS, threshold=0.10)
    by_class = {o.regimen_class: o for o in sc.outcomes}
    ai, ici = by_class["AI"], by_class["ICI"]
    assert (ai.k, ai.n, ici.k, ici.n) == (3, 114, 1, 9)
    assert ai.domain("risk of bias").rating == "not serious"
    assert ici.domain("risk of bias").rating == "serious"
    assert ai.domain("imprecision").rating == "not serious"  # 114 patients, clear of 10%
    assert ici.domain("imprecision").rating == "very serious"  # 9 patients, crosses 10%
    assert ai.domain("large effect").rating == "large"  # lower bound above 2 x 10%
    assert ai.certainty == "moderate" and ici.certainty == "very low"
    with pytest.raises(ValueError, match="not a proportion"):
        assess_certainty(bm, rob, Question(), threshold=20)


def test_summary_of_findings_has_a_footnote_for_every_rating() -> None:
    bm = benchmark_subtype(_rows(), AnalysisOptions())
    sc = assess_certainty(bm, _rob({s: ["low"] * 8 for s in ("S1", "S2", "S3", "S4")}),
                          Question("pretreated", "PD-1"), TERMS)
    sof = summary_of_findings(sc)
    assert sorted(sof.table["Regimen class"]) == ["AI", "ICI"]
    assert len(sof.footnotes) == 6 * len(sc.outcomes)
    for i, row in sof.table.iterrows():
        outcome = sc.outcomes[int(str(i))]
        for d in outcome.domains:
            cell = row[d.domain.capitalize()]
            number = int(cell.rsplit("(", 1)[1].rstrip(")"))
            assert cell.startswith(d.rating)
            assert d.reason in sof.footnotes[number - 1]
        assert row["Certainty"].endswith(outcome.certainty)


def test_summary_of_findings_names_the_endpoint_that_was_pooled() -> None:
    """The table's estimate column and caption come from the pooled endpoint, not "ORR"."""
    from comparators.vocab import ENDPOINTS

    bm = benchmark_subtype(_rows().assign(sd=[5, 4, 6, 1]), AnalysisOptions(endpoint="dcr"))
    sof = summary_of_findings(assess_certainty(bm, _rob({}), Question(), TERMS))
    assert ENDPOINTS["dcr"].short in sof.table.columns and "ORR" not in sof.table.columns
    assert ENDPOINTS["dcr"].name in sof.caption and "objective response" not in sof.caption


# --------------------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "comparators", *args], capture_output=True,
                          text=True, timeout=120)


def test_certainty_cli_json_shape() -> None:
    out = _cli("certainty", "--subtype", "ASPS", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["subtype"] == "ASPS"
    bench = json.loads(_cli("benchmark", "--subtype", "ASPS", "--json").stdout)
    assert [o["class"] for o in payload["outcomes"]] == [c["class"] for c in bench["classes"]]
    for o, c in zip(payload["outcomes"], bench["classes"], strict=True):
        assert {"class", "estimate", "low", "high", "k", "n", "certainty", "domains"} <= set(o)
        assert (o["estimate"], o["low"], o["high"], o["k"], o["n"]) == (
            c["estimate"], c["low"], c["high"], c["k"], c["n"])
        assert o["certainty"] in {"high", "moderate", "low", "very low"}
        assert [d["domain"] for d in o["domains"]][:5] == [
            "risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias"]
        for d in o["domains"]:
            assert set(d) == {"domain", "rating", "reason"} and d["reason"]


def test_certainty_cli_threshold_and_bad_input() -> None:
    out = _cli("certainty", "--subtype", "LMS", "--threshold", "0.1", "--json")
    assert json.loads(out.stdout)["threshold"] == 0.1
    bad = _cli("certainty", "--subtype", "LMS", "--threshold", "20")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    unknown = _cli("certainty", "--subtype", "NOPE")
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr


def test_word_summary_carries_the_summary_of_findings() -> None:
    import io

    import docx

    from comparators.evidence.audit import audit_published
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort
    from comparators.reports.summary import build_summary, to_docx

    cat = load_catalog()
    summary = build_summary(cat.trials, cat.references, audit_published(),
                            published_cohort(cat.trials), ["UPS"])
    sof = summary.findings["UPS"]
    document = docx.Document(io.BytesIO(to_docx(summary)))
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert list(sof.table.columns) in headers
    table = document.tables[headers.index(list(sof.table.columns))]
    assert [c.text for c in table.rows[1].cells] == [str(v) for v in sof.table.iloc[0]]
    text = "\n".join(p.text for p in document.paragraphs)
    assert all(note in text for note in sof.footnotes)
    # the risk of bias of every study pooled, as risk_of_bias.csv judges it
    from comparators.evidence.risk_of_bias import load_risk_of_bias

    overall = load_risk_of_bias().overall_by_study()
    rob = next(t for t in document.tables if t.rows[0].cells[0].text == "Study (MINORS)")
    studies = {r.cells[0].text: r.cells[-1].text for r in rob.rows[1:]}
    pooled = set(summary.sections[0].benchmark.rows["study"])
    assert set(studies) == pooled
    assert all(cell.endswith(overall[s]) for s, cell in studies.items())


# --------------------------------------------------------------------------- low risk of bias only


def test_low_risk_of_bias_only_pools_only_low_risk_studies(monkeypatch) -> None:
    from comparators.evidence import risk_of_bias

    judged = (("S1", "low"), ("S2", "some concerns"), ("S3", "low"), ("S4", "unclear"))
    monkeypatch.setattr(risk_of_bias, "_shipped_overall", lambda: judged)
    bm = benchmark_subtype(_rows(), AnalysisOptions(low_risk_of_bias_only=True))
    assert set(bm.rows["study"]) == {"S1", "S3"}
    assert bm.class_pools["AI"].k == 2 and "ICI" not in bm.class_pools
    assert "low risk of bias overall" in bm.methods_paragraph()
    assert "low risk of bias only" in bm.options.stamp()


def test_low_risk_of_bias_only_says_plainly_when_nothing_is_left() -> None:
    from comparators.evidence.risk_of_bias import load_risk_of_bias

    overall = load_risk_of_bias().overall_by_study()
    low = sum(j == "low" for j in overall.values())
    out = _cli("benchmark", "--subtype", "ASPS", "--low-rob-only", "--json")
    if low == 0:  # the shipped judgements: no study is low risk overall
        assert out.returncode == 2
        assert out.stderr.strip() == (
            "error: low risk of bias only leaves no comparator arm to pool: "
            f"0 of the {len(overall)} studies in the catalog are judged low risk of bias "
            "overall (MINORS)")
    else:
        arms = json.loads(out.stdout)["arms"] if out.returncode == 0 else []
        assert all(a["is_cohort"] or overall[a["key"].split(" · ")[0]] == "low" for a in arms)
