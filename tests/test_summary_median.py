"""The evidence summary of median PFS (reports.summary, endpoint median_pfs) as an engine
object: its figure is the Benchmark page's builder's spec, the cohort switch and the class
choice reach the lead and the table, and its data export is in months.

Arms and patients are read from data/trials.csv with pandas; the pooled medians are checked
against R in tests/oracle/test_median_benchmark_oracle.py."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from comparators.analysis.benchmark import subtype_rows
from comparators.analysis.median_pfs import benchmark_median
from comparators.analysis.options import AnalysisOptions
from comparators.charts.median_forest import median_forest_chart
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.evidence.labels import arm_labels
from comparators.reports.summary import MedianSection, build_summary, summary_figures

TRIALS = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "trials.csv")
MEDIAN = AnalysisOptions(endpoint="median_pfs")


def summary(subtypes: list[str], options: AnalysisOptions = MEDIAN, classes=None):
    cat = load_catalog()
    return build_summary(cat.trials, cat.references, None, published_cohort(cat.trials),
                         subtypes, options, classes, subtype_names=cat.subtype_names)


def test_the_figure_is_the_benchmark_pages_median_forest_spec() -> None:
    cat = load_catalog()
    cohort = published_cohort(cat.trials)
    page = benchmark_median(subtype_rows(cat.trials, cohort, "ASPS", False,
                                         arm_labels(cat.trials, cat.references), "median_pfs"),
                            MEDIAN, cohort)
    doc = summary(["ASPS"])
    (section,) = doc.sections
    assert isinstance(section, MedianSection)
    assert summary_figures(doc)["ASPS"] == median_forest_chart(page)
    assert not doc.findings  # no GRADE summary of findings for a median


def test_this_cohort_inside_its_pool_and_a_class_choice_reach_the_lead_and_table() -> None:
    sts = TRIALS[(TRIALS["subtype"] == "STS") & TRIALS["pfs_median_months"].notna()
                 & TRIALS["overlaps_with"].isna()]
    ai_ici = sts[sts["regimen_class"] == "AI+ICI"]
    assert "LIU2023" in set(ai_ici["study"])
    inside = summary(["STS"], AnalysisOptions(endpoint="median_pfs", include_cohort=True))
    (section,) = inside.sections
    first = section.pools[0]
    assert first[0] == "AI+ICI (incl. this cohort)" and first[1] == str(len(ai_ici))
    assert first[2] == str(int(ai_ici["evaluable"].sum()))
    only_ici = summary(["STS"], classes=["ICI"]).sections[0]
    assert " for ICI alone [" in only_ici.lead and "for AI+ICI" not in only_ici.lead
    assert [row[0] for row in only_ici.pools] == ["This cohort (Liu 2023)", "ICI alone"]


def test_the_data_export_is_in_months_and_writes_to_parquet() -> None:
    frame = summary(["ASPS"]).to_frame()
    arms = frame[frame["kind"] == "arm"]
    expected = TRIALS[(TRIALS["subtype"] == "ASPS") & (TRIALS["study"] != "LIU2023")
                      & TRIALS["pfs_median_months"].notna() & TRIALS["overlaps_with"].isna()]
    assert sorted(arms["median"]) == sorted(expected["pfs_median_months"])
    assert set(arms["unit"]) == {"months"}
    assert set(frame["kind"]) == {"arm", "pooled class (comparators only)"}
    frame.to_parquet(io.BytesIO(), index=False)


def test_a_hypothetical_cohort_is_labelled_and_cites_nothing() -> None:
    """An edited cohort's median is not the seed paper's: it is labelled, cites no reference,
    and its label (user text) reaches every renderer as escaped text."""
    from comparators.evidence.cohort import ThisCohort
    from comparators.reports.summary import to_html, to_markdown

    cat = load_catalog()
    rows = published_cohort(cat.trials).rows.copy()
    rows["study"] = "LIU2023 (hypothetical)"
    label = "<b>What-if</b> =HYPERLINK(\"x\")"
    cohort = ThisCohort("LIU2023 (hypothetical)", label, rows, kind="hypothetical",
                        caveat="Hypothetical: edited from the published counts.",
                        replaces="LIU2023")
    doc = build_summary(cat.trials, cat.references, None, cohort, ["STS"], MEDIAN,
                        subtype_names=cat.subtype_names)
    (section,) = doc.sections
    assert doc.data_label and f"[{doc.data_label}]: median PFS 8.90 months" in section.lead
    seed = {r.number for r in doc.references if r.key == "LIU2023"}
    own = section.trials[section.trials["is_cohort"]]
    assert own["ref_number"].isna().all() and not seed & {int(n) for n in
                                                           section.trials["ref_number"].dropna()}
    assert "<b>What-if</b>" not in to_html(doc) and "&lt;b&gt;What-if" in to_html(doc)
    assert "\\<b>What-if\\</b>" in to_markdown(doc)  # escaped: no markup
