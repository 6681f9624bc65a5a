"""AppTest of the evidence summary page with median PFS (months) chosen: what the user reads
(the lead, the line saying why there is no GRADE table, the class table, the median forest
plot) and the Word and HTML files Prepare builds (the lead and the figure in each).

Expected arm counts and this cohort's median are read from data/trials.csv with pandas, not
from the engine (the pooled medians are checked against R in tests/oracle)."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pandas as pd
from apptest import chart_data, download_bytes, open_page, page_text

from comparators.analysis.median_pfs import NO_CERTAINTY

TRIALS = pd.read_csv(Path(__file__).resolve().parent.parent / "data" / "trials.csv")


def asps_arms_with_a_median() -> pd.DataFrame:
    rows = TRIALS[(TRIALS["subtype"] == "ASPS") & (TRIALS["study"] != "LIU2023")
                  & TRIALS["overlaps_with"].isna()]
    return rows[rows["pfs_median_months"].notna()]


def lead(at) -> str:
    (text,) = [m.value for m in at.markdown
               if m.value.startswith("In ASPS, the median progression-free survival was")]
    return text


def test_the_summary_page_shows_median_pfs_per_class_and_this_cohorts_note() -> None:
    at = open_page("views/summary.py", {"endpoint": "median_pfs"})
    assert not at.error and not at.info, [e.value for e in [*at.error, *at.info]]
    text = lead(at)
    arms = asps_arms_with_a_median()
    for cls, group in arms.groupby("regimen_class"):
        k = len(group)
        assert (f"{k} arms)" if k > 1 else "1 arm, not pooled)") in text, cls
    # Liu 2023 prints one median for all its patients (8.90 months, 95% CI 5.98-11.82)
    assert "not reported for ASPS; all subtypes: 8.90 months (95% CI 5.98–11.82)" in text
    shown = page_text(at)
    assert NO_CERTAINTY in shown and "Certainty of the evidence, GRADE" not in shown
    pools = next(d.value for d in at.dataframe if "Pooled by" in d.value.columns)
    assert list(pools["Arms (k)"].astype(int)) == \
        [len(g) for _, g in sorted(arms.groupby("regimen_class"),
                                   key=lambda kv: ["AI+ICI", "ICI", "ICI+ICI", "AI"].index(kv[0]))]
    forest = next(d for d in chart_data(at) if "nr" in d.columns)  # the median forest's rows
    assert set(forest.loc[forest["kind"] == "arm", "estimate"]) == \
        set(arms["pfs_median_months"].astype(float))


def test_prepare_builds_word_and_html_with_the_lead_and_the_median_forest() -> None:
    at = open_page("views/summary.py", {"endpoint": "median_pfs"})
    expected = lead(at).replace("\\[", "[").replace("\\]", "]")
    at.button(key="summary_prepare").click().run()
    assert not at.exception
    (status,) = at.status
    assert status.label == "Word and HTML files ready"
    document = docx.Document(io.BytesIO(download_bytes(at, "dl_summary_docx")))
    paragraphs = [p.text for p in document.paragraphs]
    assert expected in paragraphs
    assert len(document.inline_shapes) == 2  # the median forest plot and the PRISMA flow
    assert any(p.startswith("Figure 1. Median progression-free survival in ASPS")
               for p in paragraphs)
    html = download_bytes(at, "dl_summary_html").decode("utf-8")
    assert html.count("<figure><svg") == 2
    assert "Median progression-free survival, ASPS" in html  # the forest plot's own title
    assert "In ASPS, the median progression-free survival was" in html


def test_the_summary_and_the_benchmark_page_show_the_same_medians() -> None:
    """One statistic, one answer: the Summary page's class table and the Benchmark page's
    read the same pooled medians."""
    bench = open_page("views/benchmark.py", {"endpoint": "median_pfs", "subtype": "ASPS"})
    table = next(d.value for d in bench.dataframe if "method_name" in d.value.columns)
    page = {(str(r["class"]), f"{r['estimate']} ({r['low']}–{r['high']})")
            for _, r in table.iterrows()}
    summary = open_page("views/summary.py", {"endpoint": "median_pfs"})
    pools = next(d.value for d in summary.dataframe if "Pooled by" in d.value.columns)
    names = {"AI+ICI": "AI+ICI", "ICI alone": "ICI", "ICI+ICI": "ICI+ICI", "AI alone": "AI"}
    shown = {(names[str(r["Class"])], str(r["Median PFS, months (95% CI)"]))
             for _, r in pools.iterrows()}
    assert shown == page and len(page) >= 3
