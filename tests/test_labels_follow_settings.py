"""Labels follow the settings: at a 90% level no page, chart or export says 95%,
and every export records the settings that produced it."""

from __future__ import annotations

import io
import json

import docx
import pytest
from apptest import chart_specs, open_page, page_text

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.analysis.options import AnalysisOptions
from comparators.charts.forest import forest_chart, forest_rows
from comparators.evidence.audit import audit_published
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.reports.export import chart_svg
from comparators.reports.summary import build_summary, chart_texts, to_docx, to_html, to_markdown

PAGES = ["views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py"]


@pytest.mark.parametrize("page", PAGES)
def test_no_page_says_95_at_a_90_level(page: str) -> None:
    at = open_page(page, query={"ci_level": "0.9"})
    assert at.selectbox(key="ci_level").value == 0.9
    seen = page_text(at) + json.dumps(chart_specs(at))
    seen += " ".join(" ".join(map(str, d.value.columns)) for d in at.dataframe)
    seen += " ".join(str(c.value) for c in at.code)
    assert "95%" not in seen, page


def test_exports_at_90_percent_name_the_level_and_the_settings() -> None:
    cat = load_catalog()
    cohort = published_cohort(cat.trials)
    options = AnalysisOptions(level=0.9, method="DL", hksj=True,
                              exclude=("SARC028 · pembrolizumab",))
    bm = benchmark_subtype(subtype_rows(cat.trials, cohort, "UPS"), options)
    title, subtitle, x_title = chart_texts(bm, "undifferentiated pleomorphic sarcoma", cohort)
    svg = chart_svg(forest_chart(forest_rows(bm), None, title, list(subtitle), x_title,
                                 options.interval_name))
    assert "90% CI" in svg and "95%" not in svg
    assert "SARC028 · pembrolizumab" in svg  # the exclusion is in the figure
    summary = build_summary(cat.trials, cat.references, audit_published(), cohort, ["UPS"],
                            options, catalog_stamp=cat.info.stamp())
    md, html = to_markdown(summary), to_html(summary)
    document = docx.Document(io.BytesIO(to_docx(summary)))
    words = "\n".join(p.text for p in document.paragraphs)
    for out in (md, html, words):
        assert "95%" not in out
        assert "90% CI" in out
        assert "HKSJ (ad hoc)" in out and "SARC028 · pembrolizumab" in out
        assert cat.info.catalog_version in out
    assert document.core_properties.author.startswith("Sarcoma AI+ICI explorer")
    frame = summary.to_frame()
    assert frame["settings"].iloc[0] == summary.stamp and "90%" in summary.stamp
