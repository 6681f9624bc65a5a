"""Forest plot builder: rows, ordering, spec contents and offline export."""

import altair as alt
import pandas as pd
import pytest

from comparators.analysis.benchmark import benchmark_subtype
from comparators.charts.forest import forest_chart, forest_rows
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
    alt.HConcatChart.from_dict(chart)  # validates against the Vega-Lite schema, or raises
    spec = chart
    titles = [c.get("title", {}).get("text") for c in spec["hconcat"]]
    assert titles == ["Study / arm", None, "Responders/n", "ORR % [90% CI]", "Weight"]
    svg = chart_svg(chart)
    for label in ("LIU2023", "WILKY2019", "ATEZO", "reference 30%", "ORR in ASPS", "90% CI"):
        assert label in svg
    assert "95%" not in svg


def test_a_class_with_only_zero_arms_is_drawn_as_summed_counts() -> None:
    bm = benchmark_subtype(rows_frame([("A", "AI+ICI", 0, 5), ("B", "AI+ICI", 0, 6),
                                       ("C", "ICI", 3, 10), ("D", "ICI", 1, 10)]))
    rows = forest_rows(bm)
    line = rows[rows["group"] == "AI+ICI"].iloc[-1]
    if not bm.class_pools["AI+ICI"].estimable:
        assert line["kind"] == "summed" and line["events_n"] == "0/11"
        assert line["low"] == 0.0


@pytest.mark.parametrize("k", [5, 40])
def test_height_grows_with_the_number_of_studies(k) -> None:
    bm = benchmark_subtype(rows_frame([(f"S{i}", "ICI", i % 7, 10 + i) for i in range(k)]))
    rows = forest_rows(bm)
    spec = forest_chart(rows)
    plot = spec["hconcat"][1]
    assert plot["height"] == 22 * (len(rows) + 1)  # one 22-px line per row at any k


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
        expected = vlc.vegalite_to_svg(forest_chart(rows, reference, "t", ["s"], "x"))
        assert vlc.vegalite_to_svg(with_reference(plain, reference)) == expected, reference
    assert with_reference(plain, None) is plain
    assert "reference" not in str(plain)  # the cached spec itself is never changed
