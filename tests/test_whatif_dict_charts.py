"""The What-if page's charts, written as plain Vega-Lite dicts (comparators/charts/whatif.py),
give exactly the spec the Altair builders they replaced gave, on generated and real inputs, and
the Vega-Lite schema accepts them.

The Altair builders below are the former ones, kept here only as the reference: each test
builds the same chart with Altair and compares its `to_dict()` with the dict builder's spec.
"""

import altair as alt
import numpy as np
import pandas as pd
import pytest
import vl_convert as vlc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparators.analysis.benchmark import across_subtypes
from comparators.analysis.options import AnalysisOptions
from comparators.charts.vegalite import chart_title
from comparators.charts.whatif import (
    density_frame,
    posterior_chart,
    scenario_effect_chart,
    standardised_chart,
)
from comparators.evidence.casemix import casemix_presets, presets_frame
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.bayes import JEFFREYS, BetaPosterior, BetaPrior
from comparators.vocab import HIGHLIGHT_COLOUR, OTHER_COLOUR

# --- the former Altair builders (reference only) ------------------------------------------------


def altair_scenario_effect_chart(frame: pd.DataFrame, subtitle: str | None = None) -> alt.Chart:
    """Before vs after an edit: each estimate with its interval, one labelled line each.

    ``frame`` columns: quantity, scenario (the base cohort's name, then "hypothetical"),
    estimate, low, high (fractions). One y line per (quantity, scenario) with its own label, so
    lines never share a row or overprint their labels.
    """
    scenarios = list(dict.fromkeys(frame["scenario"]))
    data = frame.assign(**{c: 100 * frame[c] for c in ("estimate", "low", "high")})
    data["line"] = [f"{q} ({s})" for q, s in zip(data["quantity"], data["scenario"], strict=True)]
    present = set(data["line"])
    order = [f"{q} ({s})" for q in dict.fromkeys(data["quantity"]) for s in scenarios
             if f"{q} ({s})" in present]  # each quantity's lines together, base first
    base = alt.Chart(data).encode(
        y=alt.Y("line:N", title=None, sort=order, axis=alt.Axis(labelLimit=320)),
        color=alt.Color("scenario:N", title="Counts",
                        scale=alt.Scale(domain=scenarios,
                                        range=[OTHER_COLOUR, HIGHLIGHT_COLOUR][:len(scenarios)]),
                        legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("quantity:N", title="Estimate"),
                 alt.Tooltip("scenario:N", title="Counts"),
                 alt.Tooltip("estimate:Q", title="ORR %", format=".1f"),
                 alt.Tooltip("low:Q", title="low %", format=".1f"),
                 alt.Tooltip("high:Q", title="high %", format=".1f")],
    )
    rules = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", title="Objective response rate (%)", scale=alt.Scale(domain=[0, 100])),
        x2="high:Q")
    points = base.mark_point(filled=True, size=80).encode(x="estimate:Q")
    title = " vs ".join(s.capitalize() if i == 0 else s for i, s in enumerate(scenarios))
    return (rules + points).properties(
        title=chart_title(f"{title} counts", subtitle), width="container", height=alt.Step(30))


def altair_standardised_chart(frame: pd.DataFrame, crude: float | None = None,
                       subtitle: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Dot plot with intervals of the standardised ORR per target mix (`casemix.presets_frame`).

    Mixes whose target subtypes are not all covered are drawn hollow and flagged in the tooltip.
    """
    data = frame.dropna(subset=["estimate"]).copy()
    for column in ("estimate", "low", "high"):
        data[column] = 100 * data[column]
    data["coverage %"] = 100 * data["coverage"]
    data["complete"] = np.where(data["coverage"] >= 1 - 1e-12, "all target subtypes",
                                "partial (subtypes missing)")
    order = list(data["mix"])
    base = alt.Chart(data).encode(
        y=alt.Y("mix:N", sort=order, title=None, axis=alt.Axis(labelLimit=320)),
        tooltip=[alt.Tooltip("mix:N", title="Target mix"),
                 alt.Tooltip("estimate:Q", title="Standardised ORR %", format=".1f"),
                 alt.Tooltip("low:Q", title="low %", format=".1f"),
                 alt.Tooltip("high:Q", title="high %", format=".1f"),
                 alt.Tooltip("coverage %:Q", title="Target mix covered %", format=".0f"),
                 alt.Tooltip("missing:N", title="No data for")],
    )
    rules = base.mark_rule(strokeWidth=2, color=OTHER_COLOUR).encode(
        x=alt.X("low:Q", title="Standardised objective response rate (%)",
                scale=alt.Scale(domain=[0, 100])),
        x2="high:Q")
    points = base.mark_point(size=90, color=HIGHLIGHT_COLOUR).encode(
        x="estimate:Q",
        fill=alt.Fill("complete:N", title="Coverage",
                      scale=alt.Scale(domain=["all target subtypes", "partial (subtypes missing)"],
                                      range=[HIGHLIGHT_COLOUR, "white"]),
                      legend=alt.Legend(orient="top")),
    )
    layers: list[alt.Chart] = [rules, points]
    if crude is not None:
        layers.append(alt.Chart(pd.DataFrame({"crude": [100 * crude]})).mark_rule(
            strokeDash=[4, 4], color="grey").encode(
            x="crude:Q", tooltip=[alt.Tooltip("crude:Q", title="Crude ORR %", format=".1f")]))
    return alt.layer(*layers).properties(
        title=chart_title("ORR standardised to other case mixes", subtitle), width="container",
        height=170 + 34 * len(data))


def altair_posterior_chart(density: pd.DataFrame, threshold: float,
                    subtitle: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Prior and posterior densities of the response rate with the threshold marked."""
    data = density.assign(pct=100 * density["p"])
    lines = alt.Chart(data).mark_line().encode(
        x=alt.X("pct:Q", title="Response rate (%)", scale=alt.Scale(domain=[0, 100])),
        y=alt.Y("density:Q", title="Density"),
        color=alt.Color("curve:N", title=None,
                        scale=alt.Scale(domain=["Prior", "Posterior"],
                                        range=["#9e9e9e", HIGHLIGHT_COLOUR]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("curve:N", scale=alt.Scale(domain=["Prior", "Posterior"],
                                                             range=[[4, 3], [1, 0]]),
                                  legend=None),
    )
    above = alt.Chart(data[(data["curve"] == "Posterior") & (data["p"] > threshold)]).mark_area(
        opacity=0.25, color=HIGHLIGHT_COLOUR).encode(x="pct:Q", y="density:Q")
    rule = alt.Chart(pd.DataFrame({"t": [100 * threshold]})).mark_rule(
        color="black", strokeDash=[2, 2]).encode(
        x="t:Q", tooltip=[alt.Tooltip("t:Q", title="Threshold %", format=".1f")])
    return alt.layer(above, lines, rule).properties(
        title=chart_title("Prior and posterior of the response rate", subtitle), width="container",
        height=340)


# --- generated inputs ---------------------------------------------------------------------------

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
names = st.text(min_size=1, max_size=12)
rates = st.floats(0, 1, allow_nan=False)
subtitles = st.one_of(st.none(), names)


def _same(spec: dict, chart: alt.TopLevelMixin) -> None:
    assert spec == chart.to_dict()
    alt.LayerChart.from_dict(spec)  # raises on a spec the Vega-Lite schema rejects


@st.composite
def effect_frames(draw: st.DrawFn) -> pd.DataFrame:
    scenarios = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    quantities = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    rows = []
    for q in quantities:
        for s in scenarios:
            if draw(st.booleans()) or not rows:
                low, est, high = sorted(draw(st.lists(rates, min_size=3, max_size=3)))
                rows.append({"quantity": q, "scenario": s, "estimate": est, "low": low,
                             "high": high})
    return pd.DataFrame(rows)


@st.composite
def mix_frames(draw: st.DrawFn) -> pd.DataFrame:
    mixes = draw(st.lists(names, min_size=1, max_size=6, unique=True))
    rows = []
    for mix in mixes:
        low, est, high = sorted(draw(st.lists(rates, min_size=3, max_size=3)))
        missing = draw(st.booleans())
        rows.append({"mix": mix, "estimate": float("nan") if missing and draw(st.booleans())
                     else est, "low": low, "high": high,
                     "coverage": draw(st.floats(0, 0.99)) if missing else 1.0,
                     "missing": draw(names) if missing else "",
                     "patients": draw(st.integers(1, 99)),
                     "assumption": draw(names)})
    return pd.DataFrame(rows)


@SETTINGS
@given(effect_frames(), subtitles)
def test_scenario_effect_chart_equals_altair(frame: pd.DataFrame, subtitle: str | None) -> None:
    _same(scenario_effect_chart(frame, subtitle), altair_scenario_effect_chart(frame, subtitle))


@SETTINGS
@given(mix_frames(), st.one_of(st.none(), rates), subtitles)
def test_standardised_chart_equals_altair(frame: pd.DataFrame, crude: float | None,
                                          subtitle: str | None) -> None:
    _same(standardised_chart(frame, crude, subtitle),
          altair_standardised_chart(frame, crude, subtitle))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 60), st.integers(0, 60), st.floats(0.05, 20), st.floats(0.05, 20), rates,
       subtitles)
def test_posterior_chart_equals_altair(k: int, extra: int, a: float, b: float, threshold: float,
                                       subtitle: str | None) -> None:
    post = BetaPosterior.from_counts(k, k + extra, BetaPrior(a, b))
    density = density_frame(post, points=41)
    _same(posterior_chart(density, threshold, subtitle),
          altair_posterior_chart(density, threshold, subtitle))


# --- real inputs: the catalog, the published cohort, its case mixes ----------------------------


@pytest.fixture(scope="module")
def evidence():  # noqa: ANN201
    cat = load_catalog()
    return cat.trials, published_cohort(cat.trials)


def _effect(name: str, bench) -> list[dict]:  # noqa: ANN001
    """The effect chart's rows of one benchmark, as the What-if page lays them out."""
    study = next((s for s in bench.fit.studies if s.study == bench.cohort_key), None)
    rows = [{"quantity": "This cohort", "scenario": name, "estimate": study.estimate,
             "low": study.low, "high": study.high}] if study is not None else []
    return rows + [{"quantity": f"Pooled, k = {bench.fit.k}", "scenario": name,
                    "estimate": bench.fit.estimate, "low": bench.fit.low,
                    "high": bench.fit.high}]


def test_real_charts_equal_altair_and_render(evidence) -> None:  # noqa: ANN001
    trials, cohort = evidence
    benchmarks = {level: across_subtypes(trials, cohort, AnalysisOptions(level=level)).benchmarks
                  for level in (0.9, 0.95)}
    for subtype, bench in benchmarks[0.95].items():
        frame = pd.DataFrame(_effect("published", bench)
                             + _effect("hypothetical", benchmarks[0.9][subtype]))
        subtitle = f"{subtype}; 95% CI intervals"
        _same(scenario_effect_chart(frame, subtitle),
              altair_scenario_effect_chart(frame, subtitle))
    presets = casemix_presets(cohort.rows, trials)
    for level, method in ((0.95, "wilson"), (0.9, "logit")):
        mixes = presets_frame((p, p.standardise(level, method)) for p in presets)
        for crude in (None, 0.3):
            _same(standardised_chart(mixes, crude, "hollow: target subtypes missing"),
                  altair_standardised_chart(mixes, crude, "hollow: target subtypes missing"))
    for prior in (JEFFREYS, BetaPrior(1, 1)):
        density = density_frame(BetaPosterior.from_counts(5, 7, prior))
        for threshold in (0.0, 0.3, 0.9995):
            _same(posterior_chart(density, threshold, "ASPS, 5/7"),
                  altair_posterior_chart(density, threshold, "ASPS, 5/7"))
    svg = vlc.vegalite_to_svg({**posterior_chart(density, 0.3, "ASPS, 5/7"), "width": 500})
    assert "Prior and posterior of the response rate" in svg
