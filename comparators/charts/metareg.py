"""Bubble plot of a meta-regression (metafor's regplot): arms as circles sized by their model
weight, the fitted line with its confidence band (and prediction band) for a numeric moderator,
or the fitted value per level with its interval for a categorical one.

Pure: a ``stats.metareg.BubbleData`` in, a Vega-Lite spec (plain dicts) out.
"""

from __future__ import annotations

import pandas as pd

from comparators.charts.vegalite import field, top_level
from comparators.stats.metareg import BubbleData
from comparators.vocab import MEASURE_CHOICES

_FIT = "#1f5f8b"
_ARM = "#e08214"


def _only(part: str) -> list[dict]:
    return [{"filter": f"datum.part === '{part}'"}]


def bubble_chart(data: BubbleData, title: str | None = None) -> dict:
    """The bubble plot of one moderator; proportions in percent on the proportion scale."""
    pct = data.scale == "proportion"
    factor = 100.0 if pct else 1.0
    fit = data.fit.assign(part="fit", **{c: factor * data.fit[c] for c in
                                         ("estimate", "low", "high", "pi_low", "pi_high")})
    arms = data.points.assign(part="arm", y=factor * data.points["y"])
    if "events" in arms:
        arms["counts"] = [f"{e}/{n}" for e, n in zip(arms["events"], arms["n"], strict=True)]
    frame = pd.concat([arms, fit], ignore_index=True)
    numeric = data.moderator.kind == "numeric"
    y_title = ("Response rate (%)" if pct else
               f"Effect size ({MEASURE_CHOICES.short(data.measure)} scale)")
    x = field("x", "quantitative" if numeric else "nominal", title=data.moderator.name,
              **({} if numeric else {"sort": list(data.moderator.levels)}))
    y_fmt = ".1f" if pct else ".3f"
    arm_tips = [field("study", "nominal", title="Arm"), field("y", title=y_title, format=y_fmt),
                field("weight", title="Weight (%)", format=".1f")]
    if "counts" in arms:
        arm_tips.insert(1, field("counts", "nominal", title="Responders/evaluable"))
    points = {"transform": _only("arm"),
              "mark": {"type": "circle", "color": _ARM, "opacity": 0.6, "stroke": "#7f3f00"},
              "encoding": {"x": x, "y": field("y", title=y_title),
                           "size": field("weight", legend=None, scale={"range": [20, 600]}),
                           "tooltip": arm_tips}}
    fit_tips = [field("x", "quantitative" if numeric else "nominal",
                      title=data.moderator.name),
                field("estimate", title="Fitted", format=y_fmt),
                field("low", title="CI low", format=y_fmt),
                field("high", title="CI high", format=y_fmt)]
    if numeric:
        layers = [
            {"transform": _only("fit"), "mark": {"type": "area", "color": _FIT, "opacity": 0.08},
             "encoding": {"x": x, "y": field("pi_low"), "y2": {"field": "pi_high"}}},
            {"transform": _only("fit"), "mark": {"type": "area", "color": _FIT, "opacity": 0.2},
             "encoding": {"x": x, "y": field("low"), "y2": {"field": "high"}}},
            points,
            {"transform": _only("fit"), "mark": {"type": "line", "color": _FIT},
             "encoding": {"x": x, "y": field("estimate"), "tooltip": fit_tips}},
        ]
    else:
        layers = [
            points,
            {"transform": _only("fit"), "mark": {"type": "rule", "color": _FIT, "strokeWidth": 3},
             "encoding": {"x": x, "y": field("low"), "y2": {"field": "high"},
                          "tooltip": fit_tips}},
            {"transform": _only("fit"),
             "mark": {"type": "tick", "color": _FIT, "thickness": 3, "size": 28},
             "encoding": {"x": x, "y": field("estimate"), "tooltip": fit_tips}},
        ]
    band = "confidence band (dark) and prediction band (light)" if numeric else "interval"
    subtitle = (f"Circles: arms, area by weight; fitted {band} with the other moderators at "
                "their means")
    return top_level({"layer": layers, "width": "container", "height": 320,
                      "title": {"text": title or f"Meta-regression on {data.moderator.name}",
                                "subtitle": subtitle}}, frame)
