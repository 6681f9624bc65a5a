"""AppTest of the endpoint choice on the pooling pages: what the user reads follows the endpoint.

Expectations are read from data/trials.csv (the 6-month progression-free rates and the grade
>= 3 treatment-related adverse events, with their populations) and data/reference_values.csv,
never from the pages' own earlier output.
"""

from __future__ import annotations

import pandas as pd
import pytest
from apptest import chart_data, chart_specs, open_link, open_page, page_text, shared_link
from test_benchmark_endpoints import half_up

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.catalog import default_data_dir, load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.proportions import percent

SEED = "LIU2023"
ALL_SUBTYPES = {"STS", "SARCOMA"}


@pytest.fixture(scope="module")
def trials() -> pd.DataFrame:
    return pd.read_csv(default_data_dir() / "trials.csv")


def comparators(trials: pd.DataFrame, subtype: str) -> pd.DataFrame:
    return trials[(trials["subtype"] == subtype) & (trials["study"] != SEED)
                  & trials["overlaps_with"].isna()]


def class_table(at) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return next(d.value for d in at.dataframe if "scope" in d.value.columns).set_index("class")


def forest_headers(at) -> list[str]:  # type: ignore[no-untyped-def]
    """The forest's column headers as a wide window shows them (their rows are a dataset)."""
    headers = next(d for d in chart_data(at) if {"wide", "column"} <= set(d.columns))
    return [str(h) for h in headers["wide"]]


def forest_rows(at) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return next(d for d in chart_data(at) if "kind" in d.columns)


def test_pfs6_benchmark_names_the_endpoint_and_pools_the_printed_rates(trials) -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "endpoint": "pfs6"})
    assert at.selectbox(key="endpoint").value == "pfs6"
    # The seed paper prints no 6-month rate for its LMS patients.
    seed = trials[(trials["study"] == SEED) & (trials["subtype"] == "LMS")]
    assert seed["pfs6_rate"].isna().all()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["This cohort (Liu 2023): PFS-6"] == "not reported"
    # Each class pools rate x PFS population, rounded half up, of the arms that print a
    # 6-month rate.
    reported = comparators(trials, "LMS").dropna(subset=["pfs6_rate", "pfs6_n"])
    assert not reported.empty
    table = class_table(at)
    for cls, rows in reported.groupby("regimen_class"):
        assert table.loc[cls, "events"] == int(sum(map(half_up, rows["pfs6_rate"],
                                                       rows["pfs6_n"])))
        assert table.loc[cls, "n"] == int(rows["pfs6_n"].sum())
    text = page_text(at)
    assert "Pooled PFS-6 by regimen class" in text
    assert "Pooled ORR" not in text and ": ORR" not in text
    headers = forest_headers(at)
    assert "Progression-free/n" in headers and "Responders/n" not in headers
    assert any(h.startswith("PFS-6 % [") for h in headers)
    spec = chart_specs(at)[0]
    assert spec["title"]["text"] == "6-month progression-free rate in LMS"
    assert "6-month progression-free rate" in at.code[0].value  # the methods paragraph


def test_grade3_benchmark_shows_each_class_beside_this_cohort_per_arm(trials) -> None:
    at = open_link("views/benchmark.py", {"subtype": "ASPS", "endpoint": "grade3"})
    # The seed paper's safety is per arm: its all-subtype row.
    seed = trials[(trials["study"] == SEED) & trials["subtype"].isin(ALL_SUBTYPES)].iloc[0]
    k, n = int(seed["trae_g3"]), int(seed["n_treated"])
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["This cohort (Liu 2023): grade ≥ 3 TRAE"] == f"{100 * k / n:.1f}%"
    # what is counted among whom, in the words of the sidebar's endpoint menu
    assert (f"{k}/{n}: patients with a grade ≥ 3 treatment-related adverse event among "
            "patients treated (the arm's safety population)") in page_text(at)
    # Each ASPS arm's safety: its own counts, else those of its arm's all-subtype row.
    arm_rows = trials[trials["subtype"].isin(ALL_SUBTYPES)].set_index(["study", "arm"])
    expected: dict[str, list[int]] = {}
    for r in comparators(trials, "ASPS").itertuples():
        g3, treated = r.trae_g3, r.n_treated
        if pd.isna(g3) and (r.study, r.arm) in arm_rows.index:
            g3, treated = arm_rows.loc[(r.study, r.arm), ["trae_g3", "n_treated"]]
        if pd.notna(g3) and pd.notna(treated):
            counts = expected.setdefault(r.regimen_class, [0, 0])
            counts[0] += int(g3)
            counts[1] += int(treated)
    assert {"AI+ICI", "ICI"} <= set(expected)
    table = class_table(at)
    for cls, (events, total) in expected.items():
        assert (table.loc[cls, "events"], table.loc[cls, "n"]) == (events, total), cls
    assert set(table.index) - {"All included arms"} == set(expected)
    assert "Safety is reported per arm" in " ".join(i.value for i in at.info)
    assert "Grade ≥ 3 TRAE/n" in forest_headers(at)
    assert f"{k}/{n}" in set(forest_rows(at)["events_n"])


def test_primary_only_with_another_endpoint_is_a_page_message_not_an_exception() -> None:
    at = open_link("views/benchmark.py", {"subtype": "ASPS", "endpoint": "pfs6",
                                          "primary_only": "true"})
    assert not at.exception
    (error,) = at.error
    assert "6-month progression-free rate" in error.value
    assert "Primary-source rows only" in error.value


def test_eortc_reference_values_are_labelled_lines_and_named_in_a_sentence() -> None:
    values = pd.read_csv(default_data_dir() / "reference_values.csv")
    chosen = values[(values["source"] == "KANTIDAKIS2021") & (values["subtype"] == "LMS")
                    & (values["line"] == "pretreated") & (values["months"] == 6)
                    & (values["kind"] == "activity threshold")].iloc[0]
    at = open_link("views/benchmark.py", {"subtype": "LMS", "endpoint": "pfs6",
                                          "eortc_refs": "KANTIDAKIS2021-LMS-pretreated-activity"})
    lines = [d for d in chart_data(at) if "reference" in d.columns]
    assert len(lines) == 1
    assert lines[0]["reference"].iloc[0] == pytest.approx(100 * chosen["rate"])
    assert lines[0]["text"].iloc[0].startswith("Kantidakis 2021 activity (LMS, pretreated)")
    sentence = " ".join(str(c.value) for c in at.caption)
    assert f"activity threshold {100 * chosen['rate']:.0f}%" in sentence
    # Offered only for a progression-free rate, at its landmark.
    labels = at.multiselect(key="eortc_refs").options
    assert all(": " in o for o in labels)
    assert len(labels) == int(((values["months"] == 6)
                               & values["subtype"].isin(["STS", "LMS"])).sum())
    at = open_link("views/benchmark.py", {"subtype": "LMS", "endpoint": "grade3"})
    assert not [m for m in at.multiselect if m.key == "eortc_refs"]


def test_across_subtypes_and_summary_follow_the_endpoint(trials) -> None:
    at = open_page("views/across.py", {"endpoint": "pfs6", "meta_all": "true"})
    text = page_text(at)
    assert "Pooled 6-month progression-free rate of angiogenesis" in text
    assert "Pooled PFS-6 by subtype and class" in text
    pools = next(d.value for d in at.dataframe if "label" in d.value.columns)
    lms = comparators(trials, "LMS").dropna(subset=["pfs6_rate"])
    row = pools[(pools["subtype"] == "LMS") & (pools["class"] == "ICI")].iloc[0]
    assert row["n"] == int(lms.loc[lms["regimen_class"] == "ICI", "pfs6_n"].sum())
    chart = chart_specs(at)[0]
    assert chart["title"]["text"] == "Pooled PFS-6 by regimen class and subtype"

    at = open_page("views/summary.py", {"endpoint": "grade3"})
    seed = trials[(trials["study"] == SEED) & trials["subtype"].isin(ALL_SUBTYPES)].iloc[0]
    text = page_text(at)
    assert (f"the grade ≥ 3 treatment-related adverse event rate was {int(seed['trae_g3'])} "
            f"of {int(seed['n_treated'])}") in text
    assert "Safety is reported per arm" in text
    assert "the ORR was" not in text

    at = open_page("views/summary.py", {"endpoint": "pfs6", "summary_subtypes": "LMS"})
    text = page_text(at)
    assert "6-month progression-free rate in LMS not reported" in text
    assert "EORTC reference values for the 6-month progression-free rate" in text
    assert "Kantidakis 2021" in text and "Van Glabbeke 2002" in text


def test_plan_takes_p0_and_p1_from_the_chosen_endpoint() -> None:
    at = open_page("views/planning.py", {"endpoint": "grade3", "plan_subtype": "ASPS",
                                         "plan_p0_class": "ICI"})
    assert at.selectbox(key="plan_p0_class").label == "p0 = pooled grade ≥ 3 TRAE of the " \
                                                     "comparator class"
    # p0: the engine's pooled ICI grade >= 3 TRAE rate in ASPS (the benchmark's own object).
    cat = load_catalog()
    options = AnalysisOptions(endpoint="grade3")
    bm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS",
                                        endpoint="grade3"), options)
    assert (f"ICI pooled, comparators only (k = {bm.class_pools['ICI'].k}): "
            f"{percent(bm.class_pools['ICI'].estimate)}") in page_text(at)
    # A toxicity rate is not filled into an efficacy design.
    assert at.button(key="plan_fill").disabled
    assert "toxicity rate" in " ".join(i.value for i in at.info)
    at = open_page("views/planning.py", {"endpoint": "dcr", "plan_subtype": "ASPS"})
    assert at.selectbox(key="plan_p0_class").label == "p0 = pooled DCR of the comparator class"
    assert not at.button(key="plan_fill").disabled


def test_a_link_keeps_the_endpoint_and_reopens_the_same_numbers() -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "endpoint": "PFS6",
                                          "eortc_refs": "KANTIDAKIS2021-LMS-pretreated-activity"})
    assert at.selectbox(key="endpoint").value == "pfs6"  # a code in any case
    link = shared_link(at)
    assert link["endpoint"] == ["pfs6"] and link["subtype"] == ["LMS"]
    assert len(link["eortc_refs"]) == 1
    before = class_table(at)[["k", "events", "n", "estimate"]]
    again = open_link("views/benchmark.py", {k: v[-1] for k, v in link.items()})
    assert again.selectbox(key="endpoint").value == "pfs6"
    assert again.multiselect(key="eortc_refs").value == at.multiselect(key="eortc_refs").value
    pd.testing.assert_frame_equal(class_table(again)[["k", "events", "n", "estimate"]], before)
    assert shared_link(again) == link
    assert not any("not valid here" in w.value for w in again.warning)


def test_across_meta_regression_gives_the_adjusted_difference_and_the_few_arms_warning() -> None:
    from comparators.analysis.benchmark import across_subtypes
    from comparators.analysis.metareg_across import across_metareg
    from comparators.evidence.labels import arm_labels

    cat = load_catalog()
    across = across_subtypes(cat.trials, published_cohort(cat.trials), AnalysisOptions(),
                             labels=arm_labels(cat.trials, cat.references))
    at = open_page("views/across.py")
    assert at.multiselect(key="metareg_mods").value == ["regimen_class"]
    alone = across_metareg(across, ["regimen_class"]).result
    assert alone.k >= 10 * (len(alone.coefficients) - 1)  # enough arms: no warning
    assert not [w for w in at.warning if "arms per coefficient" in w.value]
    moderators = ["line", "year", "design", "regimen_class"]
    at.multiselect(key="metareg_mods").set_value(moderators).run()
    assert not at.exception
    fit = across_metareg(across, moderators)
    adjusted = fit.ai_ici_vs_ici
    assert adjusted is not None
    (metric,) = [m for m in at.metric if m.label.startswith("AI+ICI vs ICI alone")]
    assert metric.label.endswith("(adjusted)")
    assert metric.value == f"{adjusted.estimate:+.3f}"
    assert fit.result.k < 10 * (len(fit.result.coefficients) - 1)
    assert [w for w in at.warning if "arms per coefficient" in w.value]
    # Arms without a coded line of therapy are named, not silently dropped.
    t = cat.trials
    assert t["line_coded"].isna().any() and fit.left_out
    assert f"({len(fit.left_out)} arms)" in page_text(at)
    bubble = [s for s in chart_specs(at) if "Meta-regression" not in str(s.get("title", ""))
              and "against" in str(s.get("title", {}).get("text", ""))]
    assert bubble and bubble[0]["title"]["text"] == "ORR against " \
        "line of therapy (first line / pretreated / mixed)"
