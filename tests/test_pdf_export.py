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
import json, re, struct, sys
from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.charts.forest import forest_chart, forest_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.reports.export import chart_pdf, chart_png, chart_svg

cat = load_catalog()
bm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))
spec = forest_chart(forest_rows(bm), 0.3, "Title\x01 ASPS", ["Sub\ufffetitle"], "ORR", "95% CI")
out = {}
for width in ("single", "double"):
    pdf, png, svg = chart_pdf(spec, width), chart_png(spec, width), chart_svg(spec, width)
    box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)", pdf)
    phys = png.index(b"pHYs") + 4  # pixels per metre, x and y
    out[width] = {
        "head": pdf[:5].decode(), "fonts": len(re.findall(rb"/FontFile\d?\b", pdf)),
        "images": len(re.findall(rb"/Subtype\s*/Image", pdf)),
        "page_width": float(box[3]) - float(box[1]),
        "png_width": struct.unpack(">I", png[16:20])[0],
        "png_ppm": struct.unpack(">I", png[phys:phys + 4])[0],
        "svg_root": re.match(r"<svg[^>]*>", svg)[0], "svg": svg}
print(json.dumps(out))
"""

MM_PER_INCH = 25.4


def _render() -> dict:
    child = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                           timeout=300, cwd=ROOT)
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout)


def test_forest_pdf_png_svg_at_journal_widths_with_fonts_and_legend() -> None:
    """One column is 85 mm and two columns 175 mm (the common journal widths, e.g. Elsevier's
    single and double column); a PDF point is 1/72 inch, so the page is 240.9 or 496.1 pt wide;
    the PNG is 300 ppi. Hostile title characters are cleaned, not rendered."""
    out = _render()
    for width, mm in (("single", 85.0), ("double", 175.0)):
        figure = out[width]
        assert figure["head"] == "%PDF-"
        assert abs(figure["page_width"] - mm / MM_PER_INCH * 72) < 0.5, (width, figure)
        assert figure["fonts"] >= 1  # text drawn with embedded fonts, not outlines or a bitmap
        assert figure["images"] == 0  # no raster image inside: vector marks only
        assert abs(figure["png_width"] - mm / MM_PER_INCH * 300) <= 1, (width, figure)
        assert round(figure["png_ppm"] * MM_PER_INCH / 1000) == 300
        assert f'width="{mm:g}mm"' in figure["svg_root"], figure["svg_root"]
        # the legend of every mark the rows show travels with the figure (ASPS shows four)
        for legend in ("† seed paper only", "‡ secondary source", "§ conference abstract",
                       "* derived"):
            assert legend in figure["svg"], (width, legend)
        assert "Responders" in figure["svg"] and "Weight" in figure["svg"]


def test_every_figure_download_offers_pdf_beside_png_and_svg_at_a_journal_width() -> None:
    at = open_page("views/benchmark.py")
    keys = {b.key for b in at.get("download_button")}
    assert {"forest_png", "forest_svg", "forest_pdf"} <= keys
    widths = [w for w in at.get("button_group") if w.key == "forest_width"]
    assert len(widths) == 1
    assert widths[0].value == "double"  # the default: a two-column figure
