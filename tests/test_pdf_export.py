"""Vector PDF export of figures (reports.export.chart_pdf). Rendering runs in a child process:
vl-convert aborts the process on text the cleaner missed, and an abort must fail the test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from apptest import open_page

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, re, sys
from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.charts.forest import forest_chart, forest_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.reports.export import chart_pdf

cat = load_catalog()
bm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))
spec = forest_chart(forest_rows(bm), None, "Title\x01 ASPS", ["Sub\ufffetitle"], "ORR", "95% CI")
pdf = chart_pdf(spec)
print(json.dumps({"head": pdf[:5].decode(), "fonts": pdf.count(b"/FontFile"),
                  "images": len(re.findall(rb"/Subtype\s*/Image", pdf)), "size": len(pdf)}))
"""


def test_forest_pdf_is_vector_with_embedded_fonts_and_survives_hostile_titles() -> None:
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
    assert child.returncode == 0, child.stderr[-2000:]
    out = json.loads(child.stdout)
    assert out["head"] == "%PDF-"
    assert out["fonts"] >= 1  # text drawn with embedded fonts, not outlines or a bitmap
    assert out["images"] == 0  # no raster image inside: vector marks only


def test_every_figure_download_offers_pdf_beside_png_and_svg() -> None:
    at = open_page("views/benchmark.py")
    keys = {b.key for b in at.get("download_button")}
    assert {"forest_png", "forest_svg", "forest_pdf"} <= keys
