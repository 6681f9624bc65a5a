"""Layout in a real browser at 900 and 1,400 px: nothing a user reads is cut or off-screen.

Element boxes are compared with the viewport and the main column: every figure (the forest
plot keeps its Responders/n, ORR and Weight columns), every headline metric's label and value
(no "+3.3 p…"), and the columns a table must show without scrolling (the class table's I²).

The forest plot follows its column's width (charts/forest.py): beside the sidebar of a
900-pixel window (a column of about 440 px) its labels and intervals break into two lines.
A header broken into lines is read without its line breaks ("Responders/n", "ORR%[95%CI]").
"""

from __future__ import annotations

import pytest
from test_browser import browser, server  # noqa: F401 (the same fixtures, one per module)

pytestmark = pytest.mark.browser

WIDTHS = (900, 1400)
#: page -> {n: column headers the page's n-th table must show without being scrolled}
TABLES = {
    # the summary of findings (estimate with its interval, size, certainty), then the class pools
    "benchmark": {0: ["Regimen class", "ORR (95% CI)", "Patients (arms)", "Certainty"],
                  1: ["Class", "ORR %", "I² %"]},
    "across-subtypes": {0: ["Subtype", "Difference", "p"]},  # AI+ICI minus ICI
    "summary": {},
    "audit": {},
}
#: the same, in a 1,400-pixel window only (the audit's table is wide by nature)
WIDE_TABLES = {"audit": {0: ["Consistent", "Reported %", "Recomputed %", "Explanation"]}}

BOXES = r"""() => {
  const box = (e) => { const b = e.getBoundingClientRect();
                       return {left: b.left, right: b.right, width: b.width}; };
  const main = document.querySelector("[data-testid='stMainBlockContainer']");
  const cut = (e) => e.scrollWidth > e.clientWidth + 1;
  const md = (m, part) =>
    m.querySelector(`[data-testid='${part}'] [data-testid='stMarkdownContainer']`);
  return {
    viewport: window.innerWidth, main: box(main),
    charts: [...main.querySelectorAll("[data-testid='stVegaLiteChart']")].map((c) => {
      const svg = c.querySelector("svg.marks");
      const squeezed = (t) => t.textContent.replace(/\s/g, "");
      const texts = svg ? [...svg.querySelectorAll("text")]
        .filter((t) => ["Responders/n", "Weight"].includes(squeezed(t))
                       || squeezed(t).startsWith("ORR%["))
        .map((t) => ({text: squeezed(t), ...box(t)})) : [];
      return {chart: box(c), svg: svg && box(svg), headers: texts};
    }),
    metrics: [...main.querySelectorAll("[data-testid='stMetric']")].map((m) => ({
      box: box(m),
      label: m.querySelector("[data-testid='stMetricLabel'] p").textContent,
      labelCut: cut(md(m, "stMetricLabel")),
      value: m.querySelector("[data-testid='stMetricValue'] p").textContent,
      valueCut: cut(md(m, "stMetricValue")),
    })),
  };
}"""

HEADERS = """(n) => {
  const table = document.querySelectorAll("[data-testid='stMain'] [data-testid='stDataFrame']")[n];
  if (!table) return null;
  table.scrollIntoView();
  const grid = table.querySelector(".dvn-scroller");
  // The grid's accessible table lists the columns drawn in its visible region; a column is on
  // screen when its right edge (sum of widths so far) is within the grid's width.
  return {width: grid.clientWidth, scrolled: grid.scrollLeft,
          headers: [...table.querySelectorAll("th[role='columnheader']")]
                     .map((th) => th.textContent)};
}"""




def _open(browser, url: str, width: int):  # noqa: ANN001, ANN202, F811
    page = browser.new_page(viewport={"width": width, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    if "audit" not in url:  # the only page here without a figure
        # the first figure may sit in a closed expander: wait for one that is drawn
        page.wait_for_selector("[data-testid='stVegaLiteChart'] svg.marks >> visible=true",
                               timeout=30_000)
    page.wait_for_timeout(1000)  # every chart draws after the script ends
    return page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", [path for path in TABLES if path != "audit"])
def test_every_figure_fits_its_column(server: str, browser, path: str,  # noqa: F811
                                      width: int) -> None:
    page = _open(browser, f"{server}/{path}", width)
    try:
        seen = page.evaluate(BOXES)
        right = min(seen["viewport"], seen["main"]["right"]) + 1
        assert seen["charts"], "the page shows figures"
        for chart in seen["charts"]:
            assert chart["chart"]["right"] <= right, (width, chart["chart"], seen["main"])
            assert chart["svg"] and chart["svg"]["right"] <= right, (width, chart)
            for header in chart["headers"]:  # the forest plot's number columns
                assert header["right"] <= right, (width, header)
        if path in ("benchmark", "summary"):  # the pages that draw forest plots
            shown = {h["text"].split("[")[0] for c in seen["charts"] for h in c["headers"]}
            assert shown == {"Responders/n", "ORR%", "Weight"}, (width, shown)
    finally:
        page.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("path", list(TABLES))
def test_no_metric_is_cut_and_each_tables_answer_is_on_screen(server: str, browser, path: str,  # noqa: F811
                                                              width: int) -> None:
    page = _open(browser, f"{server}/{path}", width)
    try:
        seen = page.evaluate(BOXES)
        right = min(seen["viewport"], seen["main"]["right"]) + 1
        for metric in seen["metrics"]:
            assert metric["box"]["right"] <= right, (width, metric)
            assert not metric["labelCut"] and not metric["valueCut"], (width, metric)
        if path == "benchmark":
            assert len(seen["metrics"]) == 3 and seen["metrics"][1]["value"].endswith("points")
        wide = WIDE_TABLES.get(path, {}) if width >= 1400 else {}
        for n, wanted in {**TABLES[path], **wide}.items():
            page.evaluate(HEADERS, n)  # scrolled into view: the grid draws it
            page.wait_for_timeout(500)
            table = page.evaluate(HEADERS, n)
            assert table is not None, n
            assert table["scrolled"] == 0
            assert set(wanted) <= set(table["headers"]), (width, n, table)
    finally:
        page.close()
