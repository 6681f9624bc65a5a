"""Chart builders (and the small frames they draw) for the Plan page: operating
characteristics of two-stage designs, precision against sample size, and the PFS curves implied
by reported medians.

Each builder takes a result frame / object and returns a Vega-Lite spec (a dict, what Altair's
``to_dict()`` gives), written as plain dicts: composing the same charts from Altair objects
copied and checked every layer on every new design or level. No streamlit here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from comparators.charts.vegalite import (
    datum_is,
    field,
    layered,
    named_data,
    tip,
    title_spec,
    top_level,
)
from comparators.vocab import HIGHLIGHT_COLOUR, OTHER_COLOUR


def oc_chart(curves: Mapping[str, pd.DataFrame], p0: float, p1: float,
             subtitle: str | None = None) -> dict:
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
    curve_data, datasets = named_data(pd.concat(frames, ignore_index=True))
    marks, mark_rows = named_data(pd.DataFrame({"x": [100 * p0, 100 * p1], "label": ["p0", "p1"]}))
    lines = {"data": curve_data, "mark": {"type": "line"}, "encoding": {
        "x": field("p", title="True objective response rate (%)", scale={"domain": [0, 100]}),
        "y": field("probability", title="Probability", scale={"domain": [0, 1]}),
        "color": field("design", "nominal", title="Design", legend={"orient": "top"},
                       scale={"domain": list(curves),
                              "range": [HIGHLIGHT_COLOUR, OTHER_COLOUR, "#7f7f7f"]}),
        "strokeDash": field("quantity", "nominal", title=None, legend={"orient": "top"}),
        "tooltip": [tip("design", "nominal"), tip("quantity", "nominal"),
                    tip("p", title="True ORR %", fmt=".0f"), tip("probability", fmt=".3f"),
                    tip("en", title="Expected patients", fmt=".1f")]}}
    rules = {"data": marks, "mark": {"type": "rule", "color": "grey", "strokeDash": [2, 2]},
             "encoding": {"x": field("x"), "tooltip": [tip("label", "nominal"),
                                                       tip("x", title="%", fmt=".1f")]}}
    text = {"data": marks,
            "mark": {"type": "text", "dy": -6, "align": "left", "dx": 3, "color": "grey"},
            "encoding": {"x": field("x"), "y": {"value": 8}, "text": field("label", "nominal")}}
    return layered({"layer": [lines, rules, text], "height": 420, "width": "container",
                    "title": title_spec("Operating characteristics over the true ORR", subtitle)},
                   {**datasets, **mark_rows})


def precision_chart(
    table: pd.DataFrame, target: float | None = None, n_target: int | None = None,
    subtitle: str | None = None,
) -> dict:
    """CI half-width (percentage points) against sample size (`design.precision_table`)."""
    data = table.assign(hw=100 * table["half_width"], est=100 * table["estimate"],
                        lo=100 * table["low"], hi=100 * table["high"])
    line = {"mark": {"type": "line", "color": OTHER_COLOUR, "point": False}, "encoding": {
        "x": field("n", title="Evaluable patients (n)"),
        "y": field("hw", title="CI half-width (percentage points)"),
        "tooltip": [tip("n"), tip("responders"), tip("hw", title="half-width (pp)", fmt=".1f"),
                    tip("lo", title="low %", fmt=".1f"), tip("hi", title="high %", fmt=".1f")]}}
    props = {"height": 330, "width": "container",
             "title": title_spec("Precision of the ORR estimate against sample size", subtitle)}
    if target is None and n_target is None:  # one layer: its rows named at the top
        return top_level({"layer": [line], **props}, data)
    rows, datasets = named_data(data)
    layers = [{"data": rows, **line}]
    if target is not None:
        name, values = named_data([{"t": 100 * target}])
        datasets |= values
        layers.append({"data": name, "mark": {"type": "rule", "color": "grey",
                                              "strokeDash": [4, 4]},
                       "encoding": {"y": field("t")}})
    if n_target is not None:
        name, values = named_data([{"n": n_target}])
        datasets |= values
        layers.append({"data": name, "mark": {"type": "rule", "color": HIGHLIGHT_COLOUR},
                       "encoding": {"x": field("n"), "tooltip": [tip("n", title="n needed")]}})
    return layered({"layer": layers, **props}, datasets)


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
    others = itertools.cycle(["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#72b7b2", "#eeca3b",
                              "#9d755d", "#ff9da6", "#bab0ac", "#79706e"])
    return [HIGHLIGHT_COLOUR if label == highlight else next(others) for label in labels]


def survival_chart(curves: pd.DataFrame, highlight: str | None = None,
                   subtitle: str | Sequence[str] | None = None) -> dict:
    """Exponential PFS curves implied by the reported medians, this cohort highlighted."""
    labels = list(dict.fromkeys(curves["label"]))
    rows, datasets = named_data(curves)
    half, half_rows = named_data([{"y": 0.5}])
    lines = {"data": rows, "mark": {"type": "line"}, "encoding": {
        "x": field("months", title="Months"),
        "y": field("survival", title="Progression-free (exponential model)",
                   scale={"domain": [0, 1]}, axis={"format": "%"}),
        "color": field("label", "nominal", sort=labels, title=None,
                       scale={"domain": labels, "range": _palette(labels, highlight)},
                       legend={"orient": "bottom", "columns": 1, "labelLimit": 420}),
        "strokeWidth": {"condition": {"test": datum_is("label", highlight), "value": 3.5},
                        "value": 1.5},
        "tooltip": [tip("label", "nominal", "Arm"),
                    tip("median", title="Median PFS (months)", fmt=".2f"),
                    tip("months", fmt=".1f"), tip("survival", title="S(t)", fmt=".0%")]}}
    rule = {"data": half, "mark": {"type": "rule", "color": "grey", "strokeDash": [2, 2]},
            "encoding": {"y": field("y")}}
    return layered({"layer": [lines, rule], "height": 480 + 20 * len(labels), "width": "container",
                    "title": title_spec("Progression-free survival implied by the reported "
                                        "medians", subtitle)}, {**datasets, **half_rows})
