"""Altair chart builders (and the small frames they draw) for the Plan page: operating
characteristics of two-stage designs, precision against sample size, and the PFS curves implied
by reported medians.

Each builder takes a result frame / object and returns an Altair chart; no streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from comparators.charts.vegalite import chart_title
from comparators.vocab import HIGHLIGHT_COLOUR, OTHER_COLOUR


def oc_chart(curves: Mapping[str, pd.DataFrame], p0: float, p1: float,
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


def precision_chart(
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


def exponential_curves(medians: Mapping[str, float], t_max: float | None = None,
                       points: int = 121) -> pd.DataFrame:
    """S(t) = exp(-ln 2 * t / median) for each labelled median (months), long format."""
    if not medians:
        return pd.DataFrame(columns=["label", "months", "survival", "median"])
    top = t_max or 2.5 * max(medians.values())
    grid = np.linspace(0, top, points)
    frames = [pd.DataFrame({"label": label, "months": grid,
                            "survival": np.exp(-math.log(2) * grid / m), "median": m})
              for label, m in medians.items() if m and m > 0]
    return pd.concat(frames, ignore_index=True)


def _palette(labels: Sequence[str], highlight: str | None) -> list[str]:
    """The highlighted cohort in the cohort colour, the rest in Tableau 10 order."""
    others = iter(["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#eeca3b",
                   "#9d755d", "#ff9da6", "#bab0ac", "#79706e"] * 3)
    return [HIGHLIGHT_COLOUR if label == highlight else next(others) for label in labels]


def survival_chart(curves: pd.DataFrame, highlight: str | None = None,
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
