"""Forest plot builder: rows, ordering, spec contents and offline export."""

import re

import altair as alt
import pandas as pd
import pytest

from comparators.analysis.benchmark import benchmark_subtype
from comparators.charts.forest import NARROW_BELOW, ROW_HEIGHT, forest_chart, forest_rows
from comparators.reports.export import chart_svg


def rows_frame(counts: list[tuple[str, str, int, int]], cohort: str | None = None) -> pd.DataFrame:
    """subtype_rows-shaped rows from (study, class, responders, evaluable)."""
    return pd.DataFrame([
        {"study": s, "arm": "arm", "subtype": "ASPS", "regimen_class": c, "responders": k,
         "evaluable": n, "is_cohort": s == cohort, "key": f"{s} · arm"}
        for s, c, k, n in counts])


@pytest.fixture(scope="module")
def bm():
    # This cohort's ASPS 5/7 beside two AI+ICI arms and two ICI arms (counts from data/).
    return benchmark_subtype(rows_frame([
        ("LIU2023", "AI+ICI", 5, 7), ("WILKY2019", "AI+ICI", 6, 11),
        ("TQB2450", "AI+ICI", 9, 12), ("ATEZO", "ICI", 19, 52), ("SOMAIAH", "ICI", 5, 10)],
        cohort="LIU2023"))


def test_rows_are_grouped_by_class_sorted_and_closed_by_class_pools(bm) -> None:
    rows = forest_rows(bm)
    assert list(rows["kind"]) == ["study", "study", "study", "subgroup", "study", "study",
                                  "subgroup", "overall", "pi"]
    ai_ici = rows[(rows["group"] == "AI+ICI") & (rows["kind"] == "study")]
    assert list(ai_ici["estimate"]) == sorted(ai_ici["estimate"], reverse=True)
    assert rows.loc[rows["study"] == "LIU2023 · arm", "events_n"].item() == "5/7"
    assert rows["highlight"].sum() == 1
    # The class diamond is the class pool (comparators only), not a pool with this cohort.
    diamond = rows[(rows["kind"] == "subgroup") & (rows["group"] == "AI+ICI")].iloc[0]
    assert diamond["estimate"] == bm.class_pools["AI+ICI"].estimate
    assert diamond["label"] == "AI+ICI pooled, comparators only (k = 2)"
    assert diamond["events_n"] == "15/23"
    assert rows.loc[rows["kind"] == "overall", "label"].item().startswith("All included arms")


def test_labels_and_marks_replace_ids_on_screen(bm) -> None:
    rows = forest_rows(bm, labels={"TQB2450 · arm": "Liu 2022 · arm"}, marks={"TQB2450 · arm": "†"})
    assert "Liu 2022 · arm†" in set(rows["label"])


def test_chart_spec_has_columns_reference_line_and_exports_labels(bm) -> None:
    rows = forest_rows(bm)
    chart = forest_chart(rows, reference=0.3, title="ORR in ASPS", subtitle="test",
                         interval="90% CI")
    alt.LayerChart.from_dict(chart)  # validates against the Vega-Lite schema, or raises
    headers = chart["datasets"][chart["layer"][-3]["data"]["name"]]  # before the reference
    assert [h["wide"] for h in headers] == ["Study / arm", "Responders/n", "ORR % [90% CI]",
                                            "Weight"]
    svg = chart_svg(dict(chart, width=900))
    for label in ("LIU2023", "WILKY2019", "ATEZO", "reference 30%", "ORR in ASPS", "90% CI",
                  "Responders/n", "5/7", "71.4 [", "Weight"):
        assert label in svg, label
    assert "95%" not in svg


def _text_lines(svg: str) -> list[tuple[float, list[str]]]:
    """(left x, lines) of every text mark vl-convert drew (a broken cell has two lines)."""
    marks = re.findall(r'<text([^>]*roledescription="text mark"[^>]*?)(?<!/)>(.*?)</text>', svg)
    return [(float(re.search(r"translate\(([-\d.]+),", attrs)[1]),
             re.findall(r"<tspan[^>]*>(.*?)</tspan>", body) or [body]) for attrs, body in marks]


@pytest.mark.parametrize("width", [420, 900])
def test_every_column_is_drawn_inside_the_figures_width(bm, width) -> None:
    """The figure follows its width: the number columns are drawn and every text line ends
    inside the figure (measured at 6.2 px per character, wider than the font's digits); the
    narrow layout breaks the ORR interval into two lines."""
    rows = forest_rows(bm)
    svg = chart_svg(dict(forest_chart(rows), width=width))
    assert f'width="{width}"' in svg  # the whole figure, axes and labels included
    texts = _text_lines(svg)
    drawn = {line for _, lines in texts for line in lines}
    assert {"5/7", "Weight", "Study / arm"} <= drawn
    assert ("Responders/n" in drawn) == (width >= NARROW_BELOW)
    assert all(x + 6.2 * len(line) <= width for x, lines in texts for line in lines
               if x > 0), [(x, lines) for x, lines in texts if x > 0][:3]
    interval = [lines for _, lines in texts if "[" in lines[-1] and
                lines[0][0].isdigit()]
    assert interval and all(len(lines) == (2 if width < NARROW_BELOW else 1)
                            for lines in interval), interval[:2]


@pytest.mark.parametrize("k", [5, 40])
def test_height_grows_with_the_number_of_studies(k) -> None:
    bm = benchmark_subtype(rows_frame([(f"S{i}", "ICI", i % 7, 10 + i) for i in range(k)]))
    rows = forest_rows(bm)
    spec = forest_chart(rows)
    assert spec["height"] == round(ROW_HEIGHT * (len(rows) + 1.7))  # one line per row, headers


def test_reference_added_to_a_cached_spec_draws_exactly_forest_charts_reference() -> None:
    """views/benchmark.py caches the chart without a reference and adds the typed reference
    with with_reference (so a new value does not rebuild the whole chart); the
    rendered SVG must be the one forest_chart(rows, reference) draws."""
    import vl_convert as vlc

    from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
    from comparators.charts.forest import forest_chart, forest_rows, with_reference
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort

    cat = load_catalog()
    bm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))
    rows = forest_rows(bm)
    plain = forest_chart(rows, None, "t", ["s"], "x")
    for reference in (0.37, 0.0, 1.0):
        expected = vlc.vegalite_to_svg(dict(forest_chart(rows, reference, "t", ["s"], "x"),
                                            width=700))
        added = dict(with_reference(plain, reference), width=700)
        assert vlc.vegalite_to_svg(added) == expected, reference
    assert with_reference(plain, None) is plain
    assert "reference" not in str(plain)  # the cached spec itself is never changed


@pytest.mark.parametrize("endpoint", ["orr", "dcr", "pfs3", "pfs6", "grade3"])
def test_the_counts_header_ends_before_the_next_column_at_every_endpoint(bm, endpoint) -> None:
    """At a narrow width the counts header ('Progression-free/n') ran into the column of
    rates beside it: each of its lines must end before that column starts (5 px per letter:
    the narrow layout's headers are 10 px text, mostly lower-case letters; a screenshot shows
    'Progression-' ending 2 px before the next column)."""
    from comparators.vocab import ENDPOINTS

    e = ENDPOINTS[endpoint]
    svg = chart_svg(dict(forest_chart(forest_rows(bm), endpoint=e), width=420))
    texts = _text_lines(svg)
    value_x = min(x for x, lines in texts if lines[0].startswith(f"{e.short} %"))
    counts = [(x, lines) for x, lines in texts if lines[-1].endswith("/n")]
    assert counts, texts[:5]
    assert all(x + 5 * len(line) <= value_x for x, lines in counts for line in lines), counts
