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
    Registrations,
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
    assert "below 10 arms" in rating.reason
    clean = rate_publication_bias(4, [], ["NCT04447274"], registered=3)
    assert clean.change == 0 and "to no class or subtype, not counted: NCT04447274" in clean.reason
    assert "3 registrations without results" in clean.reason
    assert "mislead for proportions" in rate_publication_bias(12, []).reason
    # the pool's own finding is apart from the clauses every pool shares
    assert rating.finding.endswith("NCT00000001") and "below 10 arms" in rating.rules[0]


def _log(*links: tuple[str, str, str]):
    """A search log holding only registrations without results: (record, classes, subtypes)."""
    from comparators.evidence.search_log import Record, SearchLog

    return SearchLog((), tuple(
        Record(name, "S", "1.0.0", name, "", (), "excluded at screening",
               "no results reported", "", "b", "",
               tuple(filter(None, classes.split(";"))), tuple(filter(None, subtypes.split(";"))))
        for name, classes, subtypes in links))


def test_registrations_follow_their_class_and_subtype_links() -> None:
    from comparators.analysis.certainty import registrations_without_results

    log = _log(("R-UPS", "ICI;ICI+ICI", "UPS;MFS"), ("R-STS", "AI+ICI", "STS"),
               ("R-ALL", "AI", "SARCOMA"), ("R-OPEN", "ICI", ""))
    ups = registrations_without_results(log, "UPS")
    assert ups.by_class["ICI"] == ("R-UPS",) and ups.by_class["ICI+ICI"] == ("R-UPS",)
    assert "R-STS" in ups.by_class["AI+ICI"][0] and "whole-STS" in ups.by_class["AI+ICI"][0]
    assert "R-ALL" in ups.by_class["AI"][0]
    assert ups.unlinked == ("R-OPEN",) and ups.total == 4
    # A whole-STS registration counts toward soft-tissue subtypes only, not a bone sarcoma.
    assert "AI+ICI" in registrations_without_results(log, "LMS").by_class
    bone = registrations_without_results(log, "OS")
    assert "AI+ICI" not in bone.by_class and "AI" in bone.by_class
    assert "ICI" not in registrations_without_results(log, "LMS").by_class


def test_publication_bias_of_the_catalog_follows_the_search_log_links() -> None:
    """Expected ratings derived from data/search_records.csv itself: a pool is rated down
    exactly when a record without results names its class and its subtype (or all STS)."""
    from curated_tables import read_rows

    from comparators.evidence.catalog import default_data_dir
    from comparators.vocab import AGGREGATE_SUBTYPES, BONE_SUBTYPES

    records = [r for r in read_rows(default_data_dir() / "search_records.csv")
               if r["reason"] == "no results reported"]
    links = [(set(filter(None, r["registered_class"].split(";"))),
              set(filter(None, r["registered_subtypes"].split(";"))), r["record"])
             for r in records]
    report = {r["record"]: r["report"] for r in records}
    assert any(classes and subtypes for classes, subtypes, _ in links)
    rated = 0
    for subtype in ("ASPS", "UPS", "LMS"):
        payload = json.loads(_cli("certainty", "--subtype", subtype, "--json").stdout)
        soft = subtype not in BONE_SUBTYPES | AGGREGATE_SUBTYPES
        for o in payload["outcomes"]:
            named = [rec for classes, subtypes, rec in links if o["class"] in classes and (
                subtype in subtypes or "SARCOMA" in subtypes or (soft and "STS" in subtypes))]
            bias = next(d for d in o["domains"] if d["domain"] == "publication bias")
            assert bias["rating"] == ("serious" if named else "not serious"), (subtype, o)
            assert all(report[rec] in bias["reason"] for rec in named)
            assert set(named) <= set(bias["records"])
            assert "no funnel-plot test" in bias["reason"]
            via_sts = any(rec in bias["records"] and "STS" in subtypes and subtype not in subtypes
                          for classes, subtypes, rec in links if o["class"] in classes)
            assert ("whole-STS registration counts toward every soft-tissue subtype"
                    in bias["reason"]) == via_sts
            rated += bool(named)
    assert rated  # the shipped links rate at least one of these pools down


def test_removing_a_link_lifts_the_rating(tmp_path) -> None:
    """The same pool, rated from a copy of data/ whose registrations name no class: not serious."""
    from curated_tables import data_copy, rewrite

    from comparators.analysis.benchmark import subtype_rows
    from comparators.analysis.certainty import certainty_of
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort
    from comparators.evidence.risk_of_bias import load_risk_of_bias
    from comparators.evidence.search_log import load_search_log

    def rated(data) -> dict[str, str]:
        cat = load_catalog(data)
        cohort = published_cohort(cat.trials)
        bm = benchmark_subtype(subtype_rows(cat.trials, cohort, "UPS"), AnalysisOptions())
        sc = certainty_of(bm, cat, cohort, None, load_risk_of_bias(data, catalog=cat),
                          load_search_log(data, catalog=cat))
        return {o.regimen_class: o.domain("publication bias").rating for o in sc.outcomes}

    data = data_copy(tmp_path)
    before = rated(data)
    assert "serious" in before.values()
    rewrite(data / "search_records.csv",
            lambda rows: [{**r, "registered_class": ""} for r in rows])
    assert set(rated(data).values()) == {"not serious"}


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


def _letters(text: str) -> list[str]:
    return text.rsplit("(", 1)[1].rstrip(")").split(", ") if text.endswith(")") else []


def test_summary_of_findings_letters_every_reason_and_gives_each_footnote_once() -> None:
    bm = benchmark_subtype(_rows(), AnalysisOptions())
    sc = assess_certainty(bm, _rob({s: ["low"] * 8 for s in ("S1", "S2", "S3", "S4")}),
                          Question("pretreated", "PD-1"), TERMS,
                          registrations=Registrations(
                              {"AI": ("NCT00000001",), "ICI": ("NCT00000001",)},
                              ("NCT00000002",), 2))
    sof = summary_of_findings(sc)
    assert sorted(sof.table["Regimen class"]) == ["AI", "ICI"]
    assert len(set(sof.footnotes)) == len(sof.footnotes)  # each footnote once
    letter = {line.split(". ", 1)[0]: note for line, note in zip(sof.lettered, sof.footnotes,
                                                                   strict=True)}
    for i, row in sof.table.iterrows():
        outcome = sc.outcomes[int(str(i))]
        for d, column in zip(outcome.domains, sof.table.columns[4:], strict=True):
            assert column.startswith(d.domain.capitalize())
            cell = row[column]
            assert cell.split(" (")[0] == d.rating
            cited = [letter[x] for x in _letters(cell) + _letters(column)]
            # every clause of the reason is a footnote this cell or its column names
            assert sorted(cited) == sorted(f"{d.domain.capitalize()}: {c}." for c in d.clauses)
        assert row["Certainty"].endswith(outcome.certainty)
        assert row["Patients (arms)"] == f"{outcome.n} ({outcome.k})"
        assert row[sof.table.columns[1]] == (f"{100 * outcome.estimate:.1f}% "
                                             f"({100 * outcome.low:.1f}–{100 * outcome.high:.1f}%)")
    # the registration both pools share, and the unlinked one, are one footnote each
    assert sum("NCT00000001" in n for n in sof.footnotes) == 1
    assert sum("NCT00000002" in n for n in sof.footnotes) == 1
    assert len(sof.table.columns) == 10
    # a rule both pools are rated by is one footnote, named from the column's header
    assert sum(n.startswith("Risk of bias: rated down when") for n in sof.footnotes) == 1
    assert _letters(next(c for c in sof.table.columns if c.startswith("Risk of bias")))


def test_summary_of_findings_marks_a_class_not_estimable_by_pooling() -> None:
    rows = _rows()
    rows.loc[rows["regimen_class"] == "AI", "responders"] = 0  # every AI arm 0%
    bm = benchmark_subtype(rows, AnalysisOptions())
    assert not bm.class_pools["AI"].estimable
    sof = summary_of_findings(assess_certainty(bm, _rob({}), Question(), TERMS))
    cells = dict(zip(sof.table["Regimen class"], sof.table[sof.table.columns[1]], strict=True))
    assert cells["AI"].endswith(", exact)") and not cells["ICI"].endswith(", exact)")
    assert "'exact'" in sof.caption


def test_summary_of_findings_names_the_endpoint_that_was_pooled() -> None:
    """The table's estimate column and caption come from the pooled endpoint, not "ORR"."""
    from comparators.vocab import ENDPOINTS

    bm = benchmark_subtype(_rows().assign(sd=[5, 4, 6, 1]), AnalysisOptions(endpoint="dcr"))
    sof = summary_of_findings(assess_certainty(bm, _rob({}), Question(), TERMS))
    assert sof.table.columns[1] == f"{ENDPOINTS['dcr'].short} ({bm.options.interval_name})"
    assert not any("ORR" in c for c in sof.table.columns)
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
            assert set(d) == {"domain", "rating", "reason", "records"} and d["reason"]


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
    # each study named as the document's trials table names it ('Tawbi 2017 (SARC028)'), not
    # by its catalog id
    trials = summary.sections[0].trials
    name = dict(zip(trials["study"].astype(str), trials["study_label"].astype(str), strict=False))
    pooled = set(summary.sections[0].benchmark.rows["study"])
    assert set(studies) == {name[s] for s in pooled}
    assert all(studies[name[s]].endswith(overall[s]) for s in pooled)
    assert "SARC028" not in studies and "Tawbi 2017 (SARC028)" in studies


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
