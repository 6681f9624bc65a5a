"""Unit tests of the pure Altair builders in comparators/charts/survival.py.

Small hand-made inputs whose Kaplan-Meier numbers can be checked by hand, plus the SYNTHETIC
example IPD (data/example_ipd.csv) for the patient-level plots.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import altair as alt
import pandas as pd
import pytest

from comparators.charts import survival as sc
from comparators.evidence.ipd import read_ipd
from comparators.reports.export import chart_svg
from comparators.stats.survival import km_by_group, km_fit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "data" / "example_ipd.csv"


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return read_ipd(EXAMPLE)


@pytest.fixture(scope="module")
def two_groups() -> object:
    # group a: events at 1, 2, 3, censored at 4; group b: events at 2, 5, censored at 3, 6
    df = pd.DataFrame(
        {
            "time": [1, 2, 3, 4, 2, 3, 5, 6],
            "event": [1, 1, 1, 0, 1, 0, 1, 0],
            "group": ["a"] * 4 + ["b"] * 4,
        }
    )
    return km_by_group(df, "time", "event", "group")


def layer_marks(spec: dict) -> list[str]:
    return [layer["mark"]["type"] for layer in spec["layer"]]


def inline(spec: dict, layer: dict) -> list[dict]:
    """The rows a layer draws (Altair puts DataFrames in top-level named datasets)."""
    data = layer.get("data") or spec["data"]  # shared data is hoisted to the top level
    return spec["datasets"][data["name"]]


# ------------------------------------------------------------------------------ Kaplan-Meier


def test_km_chart_layers_axes_and_title(two_groups: object) -> None:
    chart = sc.km_chart(two_groups, "Progression-free survival", "weeks",
                        source="Source: test data", y_title="PFS probability")
    spec = chart
    alt.LayerChart.from_dict(spec)  # a layer chart the Vega-Lite schema accepts
    assert layer_marks(spec) == ["area", "line", "tick", "rule"]
    band, line, ticks, rule = spec["layer"]
    assert band["mark"]["interpolate"] == "step-after"
    assert band["encoding"]["y"]["field"] == "ci_low"
    assert band["encoding"]["y2"]["field"] == "ci_high"
    assert line["mark"]["interpolate"] == "step-after"
    assert line["encoding"]["x"]["title"] == "Time from start of treatment (weeks)"
    assert line["encoding"]["y"]["title"] == "PFS probability"
    assert ticks["transform"] == [{"filter": "datum.n_censored > 0"}]
    assert rule["mark"]["strokeDash"] and inline(spec, rule) == [{"survival": 0.5}]
    assert spec["title"]["text"] == "Progression-free survival"
    assert spec["title"]["subtitle"][0] == "Source: test data"
    assert sc.SYNTHETIC_LABEL not in spec["title"]["subtitle"]
    assert line["encoding"]["color"]["scale"]["domain"] == ["a", "b"]


def test_km_chart_curve_data_are_the_kaplan_meier_steps(two_groups: object) -> None:
    curves = sc.km_curve_frame(two_groups)
    a = curves[curves["group"] == "a"]
    # S(t) for a: 1, 3/4, 2/4, 1/4 at 0, 1, 2, 3; censored at 4 keeps 1/4
    assert a["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert a["survival"].round(4).tolist() == [1.0, 0.75, 0.5, 0.25, 0.25]
    assert a["n_censored"].tolist() == [0, 0, 0, 0, 1]


def test_km_chart_accepts_a_result_a_mapping_or_a_group_result(two_groups: object) -> None:
    one = km_fit([1, 2, 3], [1, 1, 0], "only")
    assert sc.km_curve_frame(one)["group"].unique().tolist() == ["only"]
    mapping = {"first": two_groups["a"], "second": two_groups["b"]}
    spec = sc.km_chart(mapping, "t")
    assert spec["layer"][1]["encoding"]["color"]["scale"]["domain"] == ["first", "second"]
    # a single curve gets no legend
    single = sc.km_chart(one, "t")
    assert single["layer"][1]["encoding"]["color"]["legend"] is None


def test_synthetic_flag_puts_the_label_in_the_subtitle(two_groups: object) -> None:
    spec = sc.km_chart(two_groups, "PFS", synthetic=True, source="Source: x")
    assert spec["title"]["subtitle"][:2] == [sc.SYNTHETIC_LABEL, "Source: x"]


def test_numbers_at_risk_table(two_groups: object) -> None:
    table = sc.numbers_at_risk(two_groups, [0, 2, 3.5, 6, 7])
    assert table.columns.tolist() == ["group", "0", "2", "3.5", "6", "7"]
    # at risk just before t: subjects with time >= t
    assert table.set_index("group").loc["a"].tolist() == [4, 3, 1, 0, 0]
    assert table.set_index("group").loc["b"].tolist() == [4, 4, 2, 1, 0]


def test_numbers_at_risk_chart_and_figure_share_the_time_axis(two_groups: object) -> None:
    times = sc.default_risk_times(6)
    assert times == [0.0, 3.0, 6.0]
    strip = sc.numbers_at_risk_chart(two_groups, times, x_max=8)
    assert strip["mark"]["type"] == "text"
    assert strip["encoding"]["x"]["scale"]["domain"] == [0, 8]
    figure = sc.km_figure(two_groups, "PFS", times, source="Source: x")
    top, bottom = figure["vconcat"]
    assert top["layer"][1]["encoding"]["x"]["scale"]["domain"] == [0, 6.0]
    assert bottom["encoding"]["x"]["scale"]["domain"] == [0, 6.0]


def test_default_risk_times() -> None:
    assert sc.default_risk_times(25.5) == [0, 3, 6, 9, 12, 15, 18, 21, 24]
    assert sc.default_risk_times(40)[:3] == [0, 6, 12]
    assert sc.default_risk_times(100)[:3] == [0, 12, 24]
    assert sc.default_risk_times(0) == [0.0]


# ------------------------------------------------------------------------------ patient plots


def test_waterfall_sorted_bars_colours_and_recist_lines(example: pd.DataFrame) -> None:
    spec = sc.waterfall_chart(example, source="Source: example")
    bars, rules = spec["layer"][0], spec["layer"][1]
    rows = inline(spec, bars)
    assert len(rows) == 27  # 27 evaluable (6 NE have no measurement)
    changes = [r["best_pct_change"] for r in rows]
    assert changes == sorted(changes, reverse=True)
    assert bars["encoding"]["x"]["sort"] == [r["patient"] for r in rows]
    assert bars["encoding"]["color"]["scale"]["domain"] == ["CR", "PR", "SD", "PD"]
    assert bars["encoding"]["y"]["title"] == (
        "Best change in sum of target lesions from baseline (%)")
    assert rules["mark"]["type"] == "rule" and rules["mark"]["strokeDash"]
    assert sorted(r["best_pct_change"] for r in inline(spec, rules)) == [-30.0, 20.0]
    tooltip_fields = {t["field"] for t in bars["encoding"]["tooltip"]}
    assert {"subtype", "best_response", "best_pct_change"} <= tooltip_fields
    # synthetic detected from the file's own column
    assert spec["title"]["subtitle"][0] == sc.SYNTHETIC_LABEL


def test_waterfall_leaves_out_not_evaluable_and_unmeasured(example: pd.DataFrame) -> None:
    frame = sc.waterfall_frame(example)
    assert "NE" not in set(frame["best_response"])
    assert frame.iloc[-1]["best_pct_change"] == -100.0  # a CR at the right end
    assert frame.iloc[0]["best_response"] == "PD"


def test_swimmer_bars_markers_and_order(example: pd.DataFrame) -> None:
    spec = sc.swimmer_chart(example, source="Source: example")
    bars, stars, arrows = spec["layer"]
    rows = inline(spec, bars)
    assert len(rows) == 33
    times = [r["pfs_months"] for r in rows]
    assert times == sorted(times, reverse=True)
    assert bars["encoding"]["x"]["title"] == "Progression-free survival (months)"
    assert stars["transform"][0] == {"filter": "datum.responder"}
    assert arrows["transform"][0] == {"filter": "datum.ongoing"}
    assert stars["encoding"]["shape"]["scale"]["range"] == [sc.STAR_PATH, "triangle-right"]
    assert sum(r["responder"] for r in rows) == 13
    assert sum(r["ongoing"] for r in rows) == int((example["pfs_event"] == 0).sum())
    assert spec["title"]["subtitle"][0] == sc.SYNTHETIC_LABEL


def test_patient_plots_without_synthetic_column_are_not_labelled(example: pd.DataFrame) -> None:
    real = example.drop(columns=["synthetic"])
    assert not sc.ipd_is_synthetic(real)
    for chart in (sc.waterfall_chart(real, source="Source: mine"),
                  sc.swimmer_chart(real, source="Source: mine")):
        assert sc.SYNTHETIC_LABEL not in chart["title"]["subtitle"]


def test_ipd_is_synthetic_reads_text_and_bool_columns() -> None:
    assert sc.ipd_is_synthetic(pd.DataFrame({"synthetic": ["false", "TRUE"]}))
    assert not sc.ipd_is_synthetic(pd.DataFrame({"synthetic": [False, False]}))
    assert not sc.ipd_is_synthetic(pd.DataFrame({"id": [1]}))


# ------------------------------------------------------------------------------ reconstruction


def test_reconstruction_chart_overlays_points_and_curve() -> None:
    points = pd.DataFrame({"time": [0, 1, 2, 3], "survival": [100, 80, 60, 40]})  # percent
    pseudo = km_fit([1, 1, 2, 2, 3, 3, 4, 4, 4, 4], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0], "pseudo")
    spec = sc.reconstruction_chart(points, pseudo, source="Source: Figure 2")
    line, dots = spec["layer"]
    assert line["mark"]["interpolate"] == "step-after"
    assert [r["survival"] for r in inline(spec, dots)] == [1.0, 0.8, 0.6, 0.4]
    assert line["encoding"]["x"]["title"] == "Time (months)"
    assert line["encoding"]["y"]["title"] == "Survival probability"
    assert "Source: Figure 2" in spec["title"]["subtitle"]


# ------------------------------------------------------------------------------ export, layering


def test_exported_svg_contains_title_and_synthetic_label(example: pd.DataFrame) -> None:
    km = km_by_group(example, "pfs_months", "pfs_event")
    svg = chart_svg(sc.km_chart(km, "Progression-free survival", synthetic=True,
                                source="Source: data/example_ipd.csv"))
    assert svg.lstrip().startswith("<svg")
    assert "Progression-free survival" in svg
    assert sc.SYNTHETIC_LABEL in svg
    waterfall_svg = chart_svg(sc.waterfall_chart(example, source="Source: example"))
    assert "waterfall plot" in waterfall_svg
    assert "partial response (RECIST 1.1)" in waterfall_svg
    figure_svg = chart_svg(sc.km_figure(km, "PFS with numbers at risk", [0, 6, 12]))
    assert "PFS with numbers at risk" in figure_svg and "Numbers at risk" in figure_svg


def test_module_imports_neither_streamlit_nor_lifelines() -> None:
    source = (ROOT / "comparators" / "charts" / "survival.py").read_text()
    assert "import streamlit" not in source
    probe = (
        "import sys; import comparators.charts.survival; "
        "print('streamlit' in sys.modules, 'lifelines' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.split()
    assert out == ["False", "False"]
