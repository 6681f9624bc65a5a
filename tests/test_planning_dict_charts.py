"""The Plan page's charts, written as plain Vega-Lite dicts (comparators/charts/planning.py),
give exactly the spec the Altair builders they replaced gave, on generated and real inputs, and
the Vega-Lite schema accepts them.

The Altair builders below are the former ones, kept here only as the reference: each test
builds the same chart with Altair and compares its `to_dict()` with the dict builder's spec.
"""

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparators.analysis.trial_plan import control_arms
from comparators.charts.planning import (
    _palette,
    exponential_curves,
    oc_chart,
    precision_chart,
    survival_chart,
)
from comparators.charts.vegalite import chart_title
from comparators.evidence.catalog import load_catalog
from comparators.stats.phase2_design import oc_curve, precision_table, simon_designs
from comparators.vocab import CI_CHOICES, HIGHLIGHT_COLOUR, OTHER_COLOUR

# --- the former Altair builders (reference only) ------------------------------------------------


def altair_oc_chart(curves: Mapping[str, pd.DataFrame], p0: float, p1: float,
             subtitle: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Operating characteristics of two-stage designs over the true ORR.

    ``curves`` maps a design name to `design.oc_curve(...)` output (p, prob_promising, pet, en).
    """
    frames = []
    for name, oc in curves.items():
        for col, label in (("prob_promising", "P(declared promising)"),
                           ("pet", "P(early stop after stage 1)")):
            frames.append(pd.DataFrame({"p": 100 * oc["p"], "probability": oc[col],
                                        "design": name, "quantity": label,
                                        "en": oc["en"]}))
    data = pd.concat(frames, ignore_index=True)
    lines = alt.Chart(data).mark_line().encode(
        x=alt.X("p:Q", title="True objective response rate (%)",
                scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("probability:Q", title="Probability", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("design:N", title="Design", legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=list(curves),
                                        range=[HIGHLIGHT_COLOUR, OTHER_COLOUR, "#7f7f7f"])),
        strokeDash=alt.StrokeDash("quantity:N", title=None, legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("design:N"), alt.Tooltip("quantity:N"),
                 alt.Tooltip("p:Q", title="True ORR %", format=".0f"),
                 alt.Tooltip("probability:Q", format=".3f"),
                 alt.Tooltip("en:Q", title="Expected patients", format=".1f")],
    )
    marks = pd.DataFrame({"x": [100 * p0, 100 * p1], "label": ["p0", "p1"]})
    rules = alt.Chart(marks).mark_rule(color="grey", strokeDash=[2, 2]).encode(
        x="x:Q", tooltip=[alt.Tooltip("label:N"), alt.Tooltip("x:Q", title="%", format=".1f")])
    text = alt.Chart(marks).mark_text(dy=-6, align="left", dx=3, color="grey").encode(
        x="x:Q", y=alt.value(8), text="label:N")
    return alt.layer(lines, rules, text).properties(
        title=chart_title("Operating characteristics over the true ORR", subtitle),
        width="container", height=420)


def altair_precision_chart(
    table: pd.DataFrame, target: float | None = None, n_target: int | None = None,
    subtitle: str | None = None,
) -> alt.LayerChart | alt.FacetChart:
    """CI half-width (percentage points) against sample size (`design.precision_table`)."""
    data = table.assign(hw=100 * table["half_width"], est=100 * table["estimate"],
                        lo=100 * table["low"], hi=100 * table["high"])
    line = alt.Chart(data).mark_line(point=False, color=OTHER_COLOUR).encode(
        x=alt.X("n:Q", title="Evaluable patients (n)"),
        y=alt.Y("hw:Q", title="CI half-width (percentage points)"),
        tooltip=[alt.Tooltip("n:Q"), alt.Tooltip("responders:Q"),
                 alt.Tooltip("hw:Q", title="half-width (pp)", format=".1f"),
                 alt.Tooltip("lo:Q", title="low %", format=".1f"),
                 alt.Tooltip("hi:Q", title="high %", format=".1f")],
    )
    layers: list[alt.Chart] = [line]
    if target is not None:
        layers.append(alt.Chart(pd.DataFrame({"t": [100 * target]})).mark_rule(
            color="grey", strokeDash=[4, 4]).encode(y="t:Q"))
    if n_target is not None:
        layers.append(alt.Chart(pd.DataFrame({"n": [n_target]})).mark_rule(
            color=HIGHLIGHT_COLOUR).encode(x="n:Q", tooltip=[alt.Tooltip("n:Q", title="n needed")]))
    return alt.layer(*layers).properties(
        title=chart_title("Precision of the ORR estimate against sample size", subtitle),
        width="container", height=330)


def altair_survival_chart(curves: pd.DataFrame, highlight: str | None = None,
                   subtitle: str | Sequence[str] | None = None) -> alt.LayerChart | alt.FacetChart:
    """Exponential PFS curves implied by the reported medians, this cohort highlighted."""
    labels = list(dict.fromkeys(curves["label"]))
    width = alt.condition(alt.datum.label == highlight, alt.value(3.5), alt.value(1.5))
    lines = alt.Chart(curves).mark_line().encode(
        x=alt.X("months:Q", title="Months"),
        y=alt.Y("survival:Q", title="Progression-free (exponential model)",
                scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("label:N", sort=labels, title=None,
                        scale=alt.Scale(domain=labels, range=_palette(labels, highlight)),
                        legend=alt.Legend(orient="bottom", columns=1, labelLimit=420)),
        strokeWidth=width,
        tooltip=[alt.Tooltip("label:N", title="Arm"),
                 alt.Tooltip("median:Q", title="Median PFS (months)", format=".2f"),
                 alt.Tooltip("months:Q", format=".1f"),
                 alt.Tooltip("survival:Q", title="S(t)", format=".0%")],
    )
    half = alt.Chart(pd.DataFrame({"y": [0.5]})).mark_rule(
        color="grey", strokeDash=[2, 2]).encode(y="y:Q")
    return alt.layer(lines, half).properties(
        title=chart_title("Progression-free survival implied by the reported medians", subtitle),
        width="container", height=480 + 20 * len(labels))


# --- generated inputs ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
# names with quotes and backslashes: the highlighted arm's name is written into an expression
names = st.text(alphabet=st.sampled_from("ab é'\"\\·(),"), min_size=1, max_size=10)
rates = st.floats(0, 1, allow_nan=False)
subtitles = st.one_of(st.none(), names, st.lists(names, min_size=1, max_size=3))


def _same(spec: dict, chart: alt.TopLevelMixin) -> None:
    assert spec == chart.to_dict()
    alt.LayerChart.from_dict(spec)  # raises on a spec the Vega-Lite schema rejects


@st.composite
def oc_curves(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    designs = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    size = draw(st.integers(1, 30))
    column = st.lists(rates, min_size=size, max_size=size)
    return {name: pd.DataFrame({"p": draw(column), "prob_promising": draw(column),
                                "pet": draw(column),
                                "en": [20 * x for x in draw(column)]}) for name in designs}


@SETTINGS
@given(oc_curves(), rates, rates, st.one_of(st.none(), names))
def test_oc_chart_equals_altair(curves: dict, p0: float, p1: float,
                                subtitle: str | None) -> None:
    _same(oc_chart(curves, p0, p1, subtitle), altair_oc_chart(curves, p0, p1, subtitle))


@SETTINGS
@given(st.floats(0.01, 0.99), st.integers(1, 40), st.integers(1, 40), st.sampled_from(
    list(CI_CHOICES)), st.one_of(st.none(), st.floats(0.01, 0.5)),
    st.one_of(st.none(), st.integers(1, 80), st.integers(1, 80).map(np.int64)),
    st.one_of(st.none(), names))
def test_precision_chart_equals_altair(p: float, start: int, count: int, method: str,
                                       target: float | None, n_target: int | None,
                                       subtitle: str | None) -> None:
    table = precision_table(p, range(start, start + count), 0.9, method)
    _same(precision_chart(table, target, n_target, subtitle),
          altair_precision_chart(table, target, n_target, subtitle))


@SETTINGS
@given(st.dictionaries(names, st.floats(0.5, 60), min_size=1, max_size=5), st.data(), subtitles)
def test_survival_chart_equals_altair(medians: dict, data: st.DataObject,
                                      subtitle: str | list | None) -> None:
    curves = exponential_curves(medians, points=data.draw(st.integers(2, 30)))
    highlight = data.draw(st.one_of(st.none(), names, st.sampled_from(list(medians))))
    _same(survival_chart(curves, highlight, subtitle),
          altair_survival_chart(curves, highlight, subtitle))


# --- real inputs: Simon's designs, the catalog's control arms -----------------------------------


def test_real_charts_equal_altair_and_render() -> None:
    for p0, p1 in ((0.1, 0.3), (0.05, 0.25), (0.2, 0.4)):
        designs = simon_designs(p0, p1, 0.05, 0.2, 60)
        opt, mm = designs.optimal, designs.minimax
        curves = {f"Optimal {opt.r1}/{opt.n1}, {opt.r}/{opt.n}": oc_curve(opt),
                  f"Minimax {mm.r1}/{mm.n1}, {mm.r}/{mm.n}": oc_curve(mm)}
        subtitle = f"p0 = {p0:.0%}, p1 = {p1:.0%}; solid: declared promising"
        _same(oc_chart(curves, p0, p1, subtitle), altair_oc_chart(curves, p0, p1, subtitle))
    for method in ("wilson", "clopper-pearson"):
        table = precision_table(0.3, list(range(5, 200)), 0.95, method)
        for target, n_target in ((0.15, 36), (None, None), (0.1, None)):
            _same(precision_chart(table, target, n_target, "95% (sidebar)"),
                  altair_precision_chart(table, target, n_target, "95% (sidebar)"))
    arms = control_arms(load_catalog().trials)
    medians = {"This cohort (median 8.9 mo)": 8.9,
               **{arm.label: arm.median for arm in list(arms.values())[:8]}}
    curves = exponential_curves(medians)
    lines = ["S(t) = exp(-ln2·t/median)", "Medians as reported in data/trials.csv"]
    spec = survival_chart(curves, next(iter(medians)), lines)
    _same(spec, altair_survival_chart(curves, next(iter(medians)), lines))
    svg = vlc.vegalite_to_svg({**spec, "width": 500})
    assert "Progression-free survival implied by the reported medians" in svg
