"""Forest plot builder: rows, ordering, spec contents and offline export."""

import pytest

from comparators.charts.forest import forest_chart, forest_rows
from comparators.reports.export import chart_svg
from comparators.stats.pooling import pool_proportions


@pytest.fixture(scope="module")
def fit():
    # This cohort's ASPS 5/7 beside three AI+ICI arms and one ICI arm (data/trials.csv).
    return pool_proportions(
        [5, 6, 9, 19], [7, 11, 12, 52],
        studies=["LIU2023", "WILKY2019", "TQB2450", "ATEZO"],
        groups=["AI+ICI", "AI+ICI", "AI+ICI", "ICI"],
    )


def test_rows_are_grouped_by_class_sorted_and_closed_by_diamonds(fit) -> None:
    classes = {"LIU2023": "AI+ICI", "WILKY2019": "AI+ICI", "TQB2450": "AI+ICI", "ATEZO": "ICI"}
    rows = forest_rows(fit, classes, highlight="LIU2023")
    assert list(rows["kind"]) == ["study", "study", "study", "subgroup", "study", "overall", "pi"]
    ai_ici = rows[(rows["group"] == "AI+ICI") & (rows["kind"] == "study")]
    assert list(ai_ici["estimate"]) == sorted(ai_ici["estimate"], reverse=True)
    assert rows.loc[rows["study"] == "LIU2023", "events_n"].item() == "5/7"
    assert rows["highlight"].sum() == 1
    assert rows.loc[rows["kind"] == "overall", "label"].item() == "Overall (k = 4)"


def test_chart_spec_has_columns_reference_line_and_exports_labels(fit) -> None:
    rows = forest_rows(fit, {"ATEZO": "ICI"}, highlight="LIU2023")
    chart = forest_chart(rows, reference=0.3, title="ORR in ASPS", subtitle="test")
    spec = chart.to_dict()
    titles = [c.get("title", {}).get("text") for c in spec["hconcat"]]
    assert titles == ["Study / arm", None, "Responders/n", "ORR % [95% CI]", "Weight"]
    svg = chart_svg(chart)
    for label in ("LIU2023", "WILKY2019", "ATEZO", "reference 30%", "ORR in ASPS"):
        assert label in svg


@pytest.mark.parametrize("k", [5, 40])
def test_height_grows_with_the_number_of_studies(k) -> None:
    fit = pool_proportions([i % 7 for i in range(k)], [10 + i for i in range(k)],
                           studies=[f"S{i}" for i in range(k)])
    rows = forest_rows(fit)
    spec = forest_chart(rows).to_dict()
    plot = spec["hconcat"][1]
    assert plot["height"] == 22 * (len(rows) + 1)  # one 22-px line per row at any k


def test_reference_added_to_a_cached_spec_draws_exactly_forest_charts_reference() -> None:
    """views/benchmark.py caches the chart without a reference and adds the typed reference
    with with_reference (issue 15: a new value rebuilt the whole chart, ~1 s per rerun); the
    rendered SVG must be the one forest_chart(rows, reference) draws."""
    import vl_convert as vlc

    from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
    from comparators.charts.forest import forest_chart, forest_rows, with_reference
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort

    cat = load_catalog()
    bm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))
    rows = forest_rows(bm.fit, dict(zip(bm.rows["key"], bm.rows["regimen_class"], strict=True)),
                       highlight=bm.cohort_key)
    plain = forest_chart(rows, None, "t", ["s"], "x").to_dict()
    for reference in (0.37, 0.0, 1.0):
        expected = vlc.vegalite_to_svg(forest_chart(rows, reference, "t", ["s"], "x").to_dict())
        assert vlc.vegalite_to_svg(with_reference(plain, reference)) == expected, reference
    assert with_reference(plain, None) is plain
    assert "reference" not in str(plain)  # the cached spec itself is never changed
