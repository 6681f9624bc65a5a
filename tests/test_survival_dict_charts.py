"""The Survival page's charts, written as plain Vega-Lite dicts (comparators/charts/survival.py),
give exactly the spec the Altair builders they replaced gave, on generated and real inputs, and
the Vega-Lite schema accepts them.

The Altair builders below are the former ones, kept here only as the reference: each test
builds the same chart with Altair and compares its `to_dict()` with the dict builder's spec.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparators.charts import survival as sc
from comparators.charts.survival import (
    MARKER_ONGOING,
    MARKER_RESPONDER,
    RECIST_PD,
    RECIST_PR,
    RESPONSE_COLOURS,
    RESPONSE_ORDER,
    STAR_PATH,
    SYNTHETIC_LABEL,
    KMInput,
    _km_mapping,
    _max_time,
    ipd_is_synthetic,
    km_curve_frame,
    numbers_at_risk,
    swimmer_frame,
    waterfall_frame,
)
from comparators.evidence.ipd import read_ipd
from comparators.stats.reconstruct import reconstruct_ipd
from comparators.stats.survival import km_by_group

ROOT = Path(__file__).resolve().parents[1]

# --- the former Altair builders (reference only) ------------------------------------------------


ALTAIR_FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def altair_title(title: str, source: str, synthetic: bool, *extra: str) -> alt.TitleParams:
    lines = ([SYNTHETIC_LABEL] if synthetic else []) + [source] + [e for e in extra if e]
    return alt.TitleParams(title, subtitle=lines, anchor="start")


# Fit the width to the container (Streamlit) or to `width` (export); the height stays the plot's
# own, so titles, legends and rotated labels never squeeze the data area.
ALTAIR_FIT_X = alt.AutoSizeParams(type="fit-x", contains="padding")


def altair_km_chart(
    km_results: KMInput,
    title: str,
    time_unit: str = "months",
    *,
    source: str = "Source: not stated",
    synthetic: bool = False,
    y_title: str = "Survival probability",
    x_max: float | None = None,
    width: int = 560,
    height: int = 320,
) -> alt.LayerChart:
    """Kaplan-Meier step curves with pointwise confidence bands, censor ticks and S = 0.5."""
    km = _km_mapping(km_results)
    curves = km_curve_frame(km)
    labels = list(km)
    levels = {f"{100 * r.level:g}%" for r in km.values()}
    # "spss" is an interval for the median only; its pointwise band is the plain one
    conf = {"plain" if r.conf_type == "spss" else r.conf_type for r in km.values()}
    x_max = x_max if x_max is not None else _max_time(km)
    x_scale = alt.Scale(domain=[0, max(x_max, 1e-9)], nice=False)
    x = alt.X("time:Q", title=f"Time from start of treatment ({time_unit})", scale=x_scale)
    y_scale = alt.Scale(domain=[0, 1])
    single = len(labels) == 1
    colour = alt.Color(
        "group:N",
        title="Group",
        scale=alt.Scale(domain=labels, scheme="tableau10"),
        legend=None if single else alt.Legend(
            orient="right", symbolType="stroke", symbolStrokeWidth=3, symbolOpacity=1,
            labelLimit=0,
        ),
    )
    base = alt.Chart(curves)
    band = (
        base.transform_filter("isValid(datum.ci_low) && isValid(datum.ci_high)")
        .mark_area(interpolate="step-after", opacity=0.18)
        .encode(x=x, y=alt.Y("ci_low:Q", scale=y_scale), y2="ci_high:Q", color=colour)
    )
    tooltip = [
        alt.Tooltip("group:N", title="Group"),
        alt.Tooltip("time:Q", title=f"Time ({time_unit})", format=".1f"),
        alt.Tooltip("survival:Q", title="S(t)", format=".3f"),
        alt.Tooltip("ci_low:Q", title="CI low", format=".3f"),
        alt.Tooltip("ci_high:Q", title="CI high", format=".3f"),
        alt.Tooltip("n_at_risk:Q", title="At risk"),
        alt.Tooltip("n_events:Q", title="Events"),
        alt.Tooltip("n_censored:Q", title="Censored"),
    ]
    line = base.mark_line(interpolate="step-after", strokeWidth=2).encode(
        x=x,
        y=alt.Y("survival:Q", title=y_title, scale=y_scale, axis=alt.Axis(format=".0%")),
        color=colour,
        tooltip=tooltip,
    )
    censor = (
        base.transform_filter("datum.n_censored > 0")
        .mark_tick(orient="vertical", size=10, thickness=1.5)
        .encode(x=x, y=alt.Y("survival:Q", scale=y_scale), color=colour, tooltip=tooltip)
    )
    half = (
        alt.Chart(pd.DataFrame({"survival": [0.5]}))
        .mark_rule(strokeDash=[5, 4], color="#666666", strokeWidth=1)
        .encode(y=alt.Y("survival:Q", scale=y_scale))
    )
    how = (
        f"Shaded: {'/'.join(sorted(levels))} pointwise confidence band "
        f"({'/'.join(sorted(conf))}); ticks: censored; dashed line: S = 0.5 (median)"
    )
    return alt.LayerChart(
        layer=[band, line, censor, half],
        title=altair_title(title, source, synthetic, how), width=width, height=height,
        autosize=ALTAIR_FIT_X,
    )


def altair_numbers_at_risk_chart(
    km_results: KMInput,
    times: Sequence[float],
    time_unit: str = "months",
    *,
    x_max: float | None = None,
    width: int = 560,
) -> alt.Chart:
    """The numbers-at-risk table as a text strip on the same time axis as ``km_chart``."""
    km = _km_mapping(km_results)
    long = numbers_at_risk(km, times).melt(id_vars="group", var_name="t", value_name="n")
    long["time"] = long["t"].astype(float)
    x_max = x_max if x_max is not None else _max_time(km)
    return (
        alt.Chart(long)
        .mark_text(fontSize=11)
        .encode(
            x=alt.X(
                "time:Q",
                title=f"Numbers at risk by time ({time_unit})",
                scale=alt.Scale(domain=[0, max(x_max, 1e-9)], nice=False),
            ),
            y=alt.Y("group:N", title=None, sort=list(km),
                    axis=alt.Axis(labelPadding=16, ticks=False, domain=False)),
            text="n:Q",
            color=alt.Color("group:N", scale=alt.Scale(domain=list(km), scheme="tableau10"),
                            legend=None),
        )
        .properties(width=width, height=alt.Step(18))
    )


def altair_km_figure(
    km_results: KMInput,
    title: str,
    times: Sequence[float],
    time_unit: str = "months",
    *,
    source: str = "Source: not stated",
    synthetic: bool = False,
    y_title: str = "Survival probability",
    width: int = 560,
) -> alt.VConcatChart:
    """``km_chart`` with its numbers-at-risk strip underneath (for PNG/SVG export)."""
    km = _km_mapping(km_results)
    x_max = max(_max_time(km), max(times, default=0.0))
    top = altair_km_chart(km, title, time_unit, source=source, synthetic=synthetic, y_title=y_title,
                   x_max=x_max, width=width)
    top.autosize = alt.Undefined  # only the top level may size itself
    bottom = altair_numbers_at_risk_chart(km, times, time_unit, x_max=x_max, width=width)
    return alt.vconcat(top, bottom, spacing=12).resolve_scale(color="independent").properties(
        autosize=alt.AutoSizeParams(type="pad", contains="padding")
    )


def altair_response_colour(domain: Sequence[str]) -> alt.Color:
    return alt.Color(
        "best_response:N",
        title="Best response (RECIST 1.1)",
        scale=alt.Scale(domain=list(domain), range=[RESPONSE_COLOURS[r] for r in domain]),
        legend=alt.Legend(orient="top", labelLimit=0),
    )


def altair_waterfall_chart(
    ipd: pd.DataFrame,
    *,
    source: str = "Source: not stated",
    synthetic: bool | None = None,
    title: str = "Best change in target lesions per evaluable patient (waterfall plot)",
    width: int = 560,
    height: int = 300,
) -> alt.LayerChart:
    """One bar per evaluable patient, sorted by best % change, coloured by best response;
    dashed RECIST 1.1 lines at -30 % (partial response) and +20 % (progression)."""
    synthetic = ipd_is_synthetic(ipd) if synthetic is None else synthetic
    data = waterfall_frame(ipd)
    order = data["patient"].tolist()
    domain = [r for r in RESPONSE_ORDER if r != "NE"]
    low = min(-100.0, float(data["best_pct_change"].min()) if len(data) else -100.0)
    high = max(60.0, float(data["best_pct_change"].max()) + 5 if len(data) else 60.0)
    y_scale = alt.Scale(domain=[low, high])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X(
                "patient:N",
                sort=order,
                title="Patient (subtype · id), sorted by best change",
                axis=alt.Axis(labelAngle=-90, labelFontSize=9),
            ),
            y=alt.Y(
                "best_pct_change:Q",
                title="Best change in sum of target lesions from baseline (%)",
                scale=y_scale,
            ),
            color=altair_response_colour(domain),
            tooltip=[
                alt.Tooltip("id:N", title="Patient"),
                alt.Tooltip("subtype:N", title="Subtype"),
                *([alt.Tooltip("regimen:N", title="Regimen")] if "regimen" in data else []),
                alt.Tooltip("best_response:N", title="Best response"),
                alt.Tooltip("best_pct_change:Q", title="Best change (%)", format=".1f"),
            ],
        )
    )
    rules_data = pd.DataFrame(
        {
            "best_pct_change": [RECIST_PR, RECIST_PD],
            "label": ["-30%: partial response (RECIST 1.1)", "+20%: progression (RECIST 1.1)"],
        }
    )
    rules = (
        alt.Chart(rules_data)
        .mark_rule(strokeDash=[6, 4], color="#333333", strokeWidth=1)
        .encode(y=alt.Y("best_pct_change:Q", scale=y_scale))
    )
    # +20 % labelled on the right (where the bars shrink), -30 % on the left (where they grow)
    label_pd = (
        alt.Chart(rules_data.iloc[[1]])
        .mark_text(align="right", baseline="bottom", dy=-2, fontSize=10, color="#333333")
        .encode(y=alt.Y("best_pct_change:Q", scale=y_scale), x=alt.value(width - 2),
                text="label:N")
    )
    label_pr = (
        alt.Chart(rules_data.iloc[[0]])
        .mark_text(align="left", baseline="top", dy=3, fontSize=10, color="#333333")
        .encode(y=alt.Y("best_pct_change:Q", scale=y_scale), x=alt.value(2), text="label:N")
    )
    n = len(data)
    return alt.LayerChart(
        layer=[bars, rules, label_pd, label_pr],
        title=altair_title(
            title, source, synthetic,
            f"{n} evaluable patient{'s' if n != 1 else ''} with a measured best change "
            "(not evaluable patients omitted); CR drawn at -100%",
        ),
        width=width,
        height=height,
        autosize=ALTAIR_FIT_X,
    )


def altair_swimmer_chart(
    ipd: pd.DataFrame,
    *,
    source: str = "Source: not stated",
    synthetic: bool | None = None,
    title: str = "Progression-free survival per patient (swimmer plot)",
    time_col: str = "pfs_months",
    event_col: str = "pfs_event",
    time_unit: str = "months",
    width: int = 560,
) -> alt.LayerChart:
    """One bar per patient (PFS time), coloured by best response; a star marks responders
    (CR/PR) and an arrow patients without progression at last follow-up (pfs_event == 0).

    The IPD format has no date of response, so the star sits just past the end of the bar: it
    marks the patient, not the time of response.
    """
    synthetic = ipd_is_synthetic(ipd) if synthetic is None else synthetic
    data = swimmer_frame(ipd, time_col, event_col)
    order = data["patient"].tolist()
    domain = [r for r in RESPONSE_ORDER if r in set(data["best_response"])] or ["CR"]
    x_max = float(data["pfs_months"].max()) if len(data) else 1.0
    x_scale = alt.Scale(domain=[0, x_max * 1.08 + 0.5], nice=False)
    y = alt.Y("patient:N", sort=order, title="Patient (subtype · id)",
              axis=alt.Axis(labelFontSize=10, labelOverlap=False))
    tooltip = [
        alt.Tooltip("id:N", title="Patient"),
        alt.Tooltip("subtype:N", title="Subtype"),
        *([alt.Tooltip("regimen:N", title="Regimen")] if "regimen" in data else []),
        alt.Tooltip("best_response:N", title="Best response"),
        alt.Tooltip("pfs_months:Q", title=f"PFS ({time_unit})", format=".1f"),
        alt.Tooltip("ongoing:N", title="No progression at last follow-up"),
    ]
    bars = (
        alt.Chart(data)
        .mark_bar(height={"band": 0.7})
        .encode(
            y=y,
            x=alt.X("pfs_months:Q", title=f"Progression-free survival ({time_unit})",
                    scale=x_scale),
            color=altair_response_colour(domain),
            tooltip=tooltip,
        )
    )
    shape = alt.Shape(
        "marker:N",
        title="Marker",
        scale=alt.Scale(domain=[MARKER_RESPONDER, MARKER_ONGOING],
                        range=[STAR_PATH, "triangle-right"]),
        legend=alt.Legend(orient="top", labelLimit=0),
    )
    stars = (
        alt.Chart(data)
        .transform_filter("datum.responder")
        .transform_calculate(marker=f"'{MARKER_RESPONDER}'")
        .mark_point(filled=True, size=80, color="#111111", opacity=1)
        .encode(y=y, x=alt.X("pfs_months:Q", scale=x_scale), xOffset=alt.value(22),
                shape=shape, tooltip=tooltip)
    )
    arrows = (
        alt.Chart(data)
        .transform_filter("datum.ongoing")
        .transform_calculate(marker=f"'{MARKER_ONGOING}'")
        .mark_point(filled=True, size=50, color="#111111", opacity=1)
        .encode(y=y, x=alt.X("pfs_months:Q", scale=x_scale), xOffset=alt.value(7),
                shape=shape, tooltip=tooltip)
    )
    n, responders, ongoing = len(data), int(data["responder"].sum()), int(data["ongoing"].sum())
    return alt.LayerChart(
        layer=[bars, stars, arrows],
        title=altair_title(
            title, source, synthetic,
            f"{n} patients; {responders} responders (star: the format has no response date, so it "
            f"marks the patient, not the time); {ongoing} without progression at last follow-up "
            "(arrow)",
        ),
        width=width,
        height=alt.Step(16),
        autosize=ALTAIR_FIT_X,
    )


def altair_reconstruction_chart(
    digitised_points: pd.DataFrame,
    reconstructed_km: KMInput,
    *,
    source: str = "Source: digitised published curve",
    synthetic: bool = False,
    time_unit: str = "months",
    title: str = "Reconstructed Kaplan-Meier curve over the digitised points (Guyot 2012)",
    width: int = 560,
    height: int = 300,
) -> alt.LayerChart:
    """The KM curve of the reconstructed pseudo-IPD (step line) over the digitised points."""
    pts = pd.DataFrame(
        {
            "time": pd.to_numeric(digitised_points["time"], errors="coerce"),
            "survival": pd.to_numeric(digitised_points["survival"], errors="coerce"),
        }
    ).dropna()
    if len(pts) and pts["survival"].max() > 1.5:  # digitised in percent
        pts["survival"] = pts["survival"] / 100.0
    pts["series"] = "Digitised points"
    km = _km_mapping(reconstructed_km)
    curve = km_curve_frame(km)[["time", "survival"]].copy()
    curve["series"] = "KM of the reconstructed pseudo-IPD"
    x_max = max(float(pts["time"].max()) if len(pts) else 0.0, _max_time(km), 1e-9)
    x = alt.X("time:Q", title=f"Time ({time_unit})", scale=alt.Scale(domain=[0, x_max], nice=False))
    y_scale = alt.Scale(domain=[0, 1])
    colour = alt.Color(
        "series:N",
        title=None,
        scale=alt.Scale(domain=["Digitised points", "KM of the reconstructed pseudo-IPD"],
                        range=["#d94801", "#08519c"]),
        legend=alt.Legend(orient="top", labelLimit=0),
    )
    line = (
        alt.Chart(curve)
        .mark_line(interpolate="step-after", strokeWidth=2)
        .encode(
            x=x,
            y=alt.Y("survival:Q", title="Survival probability", scale=y_scale,
                    axis=alt.Axis(format=".0%")),
            color=colour,
        )
    )
    points = (
        alt.Chart(pts)
        .mark_point(filled=True, size=30)
        .encode(
            x=x,
            y=alt.Y("survival:Q", scale=y_scale),
            color=colour,
            tooltip=[alt.Tooltip("time:Q", title=f"Time ({time_unit})", format=".2f"),
                     alt.Tooltip("survival:Q", title="S(t) digitised", format=".3f")],
        )
    )
    n = sum(r.n for r in km.values())
    return alt.LayerChart(
        layer=[line, points],
        title=altair_title(title, source, synthetic,
                     f"{len(pts)} digitised points; pseudo-IPD of {n} patients"),
        width=width,
        height=height,
        autosize=ALTAIR_FIT_X,
    )



# --- generated inputs ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
names = st.text(alphabet=st.sampled_from("abé '\"·()"), min_size=1, max_size=8)


def _same(spec: dict, chart: alt.TopLevelMixin, kind: type = alt.LayerChart) -> None:
    assert spec == chart.to_dict()
    kind.from_dict(spec)  # raises on a spec the Vega-Lite schema rejects


@st.composite
def patients(draw: st.DrawFn, groups: bool = True) -> pd.DataFrame:
    n = draw(st.integers(1, 25))
    rows = []
    for i in range(n):
        rows.append({
            "id": f"P{i:03d}", "subtype": draw(st.sampled_from(["ASPS", "UPS", "LMS"])),
            "regimen": draw(names), "best_response": draw(st.sampled_from(RESPONSE_ORDER)),
            "best_pct_change": draw(st.one_of(st.none(), st.floats(-100, 150))),
            "pfs_months": draw(st.floats(0.1, 40)), "pfs_event": draw(st.integers(0, 1))})
    frame = pd.DataFrame(rows)
    frame["best_pct_change"] = frame["best_pct_change"].astype(float)
    if draw(st.booleans()):
        frame = frame.drop(columns="regimen")
    if draw(st.booleans()):
        frame["synthetic"] = True
    return frame


def _km(frame: pd.DataFrame, grouped: bool, level: float, conf_type: str) -> KMInput:
    data = frame[["pfs_months", "pfs_event"]].copy()
    if grouped:
        data["group"] = frame["subtype"]
    return km_by_group(data, "pfs_months", "pfs_event", "group" if grouped else None,
                       level=level, conf_type=conf_type)


kms = st.tuples(patients(), st.booleans(), st.sampled_from([0.9, 0.95]),
                st.sampled_from(["log", "plain", "log-log"]))


@SETTINGS
@given(kms, st.booleans(), st.one_of(st.none(), st.floats(1, 60)))
def test_km_chart_equals_altair(km_args: tuple, synthetic: bool, x_max: float | None) -> None:
    km = _km(*km_args)
    _same(sc.km_chart(km, "PFS", "weeks", source="Source: x", synthetic=synthetic, x_max=x_max),
          altair_km_chart(km, "PFS", "weeks", source="Source: x", synthetic=synthetic,
                          x_max=x_max))


@SETTINGS
@given(kms, st.floats(1, 60), st.booleans())
def test_km_figure_and_risk_strip_equal_altair(km_args: tuple, x_max: float,
                                               synthetic: bool) -> None:
    km = _km(*km_args)
    times = sc.default_risk_times(x_max)
    _same(sc.numbers_at_risk_chart(km, times, x_max=x_max),
          altair_numbers_at_risk_chart(km, times, x_max=x_max), alt.Chart)
    _same(sc.km_figure(km, "PFS", times, source="Source: y", synthetic=synthetic),
          altair_km_figure(km, "PFS", times, source="Source: y", synthetic=synthetic),
          alt.VConcatChart)


@SETTINGS
@given(patients(), st.one_of(st.none(), st.booleans()))
def test_patient_plots_equal_altair(ipd: pd.DataFrame, synthetic: bool | None) -> None:
    _same(sc.waterfall_chart(ipd, source="Source: z", synthetic=synthetic),
          altair_waterfall_chart(ipd, source="Source: z", synthetic=synthetic))
    _same(sc.swimmer_chart(ipd, source="Source: z", synthetic=synthetic),
          altair_swimmer_chart(ipd, source="Source: z", synthetic=synthetic))


@SETTINGS
@given(st.lists(st.floats(0.05, 1), min_size=2, max_size=8), st.integers(10, 80),
       st.booleans())
def test_reconstruction_chart_equals_altair(drops: list, n: int, percent: bool) -> None:
    survival = np.minimum.accumulate(np.concatenate([[1.0], sorted(drops, reverse=True)]))
    curve = pd.DataFrame({"time": np.arange(len(survival)) * 2.0,
                          "survival": survival * (100 if percent else 1)})
    risk = pd.DataFrame({"time": [0.0], "n_risk": [n]})
    pseudo = km_by_group(reconstruct_ipd(curve.assign(survival=survival), risk, None).ipd,
                         "time", "event")
    _same(sc.reconstruction_chart(curve, pseudo, source="Source: digitised"),
          altair_reconstruction_chart(curve, pseudo, source="Source: digitised"))


# --- real inputs: the synthetic example IPD, by every grouping the page offers ------------------


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return read_ipd(ROOT / "data" / "example_ipd.csv")


def test_real_charts_equal_altair_and_render(example: pd.DataFrame) -> None:
    source = "Source: data/example_ipd.csv"
    for group in (None, "subtype", "regimen", "ai_agent"):
        data = example[["pfs_months", "pfs_event"]].copy()
        if group:
            data["group"] = example[group]
        fit = km_by_group(data, "pfs_months", "pfs_event", "group" if group else None)
        times = sc.default_risk_times(max(max(g.timeline) for g in fit.groups))
        _same(sc.km_chart(fit, "PFS", source=source, synthetic=True),
              altair_km_chart(fit, "PFS", source=source, synthetic=True))
        figure = sc.km_figure(fit, "PFS", times, source=source, synthetic=True)
        _same(figure, altair_km_figure(fit, "PFS", times, source=source, synthetic=True),
              alt.VConcatChart)
    _same(sc.waterfall_chart(example, source=source),
          altair_waterfall_chart(example, source=source))
    _same(sc.swimmer_chart(example, source=source), altair_swimmer_chart(example, source=source))
    svg = vlc.vegalite_to_svg(figure)
    assert "Numbers at risk by time (months)" in svg
