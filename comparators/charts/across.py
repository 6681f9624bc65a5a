"""The Across subtypes chart: pooled ORR per regimen class, one row per subtype, written as a
Vega-Lite spec in plain dicts (no streamlit here)."""

from __future__ import annotations

import pandas as pd

from comparators.charts.vegalite import field, top_level
from comparators.vocab import CLASS_COLOURS, DEFAULT_ENDPOINT, ENDPOINTS, Endpoint


def class_by_subtype_chart(
    pooled: pd.DataFrame, subtitle: str | list[str], interval: str = "95% CI",
    endpoint: Endpoint = ENDPOINTS[DEFAULT_ENDPOINT],
) -> dict:
    """Dot-and-whisker plot: pooled ORR per regimen class, one row per subtype (a Vega-Lite
    spec written as dicts: it is rebuilt for every new option on Across subtypes).

    `pooled` is `AcrossSubtypes.pools_frame()`; subtypes are sorted by the AI+ICI estimate.
    `interval` ("90% CI") names the whiskers, from the options that produced them;
    `endpoint` names the rate pooled (`AcrossSubtypes.options.endpoint`).
    """
    data = pooled.assign(
        estimate=100 * pooled["estimate"], low=100 * pooled["low"], high=100 * pooled["high"],
        patients=pooled["n"],
        label=[f"k = {k}, n = {n}" for k, n in zip(pooled["k"], pooled["n"], strict=True)],
        pool=pooled["label"] if "label" in pooled else "",
    )
    ai_ici = data[data["class"] == "AI+ICI"].sort_values("estimate", ascending=False)
    order = list(ai_ici["subtype"]) + sorted(set(data["subtype"]) - set(ai_ici["subtype"]))
    shared = {
        "color": field("class", "nominal", legend={"orient": "top"},
                       scale={"domain": list(CLASS_COLOURS), "range": list(CLASS_COLOURS.values())},
                       title="Regimen class"),
        "y": field("subtype", "nominal", sort=order, title=None),
        "yOffset": field("class", "nominal", sort=list(CLASS_COLOURS)),
    }

    def tip(name: str, title: str, kind: str = "nominal", **props: object) -> dict:
        return field(name, kind, title=title, **props)

    whiskers = {"mark": {"type": "rule", "strokeWidth": 1.5}, "encoding": {
        **shared, "x": field("low", scale={"domain": [0, 100]},
                             title=f"Pooled {endpoint.name} (%), {interval}"),
        "x2": {"field": "high"}}}
    dots = {"mark": {"type": "circle", "opacity": 1}, "encoding": {
        **shared,
        "size": field("patients", scale={"range": [30, 300]}, title="Patients (n)"),
        "tooltip": [tip("subtype", "Subtype"), tip("class", "Class"),
                    tip("estimate", f"Pooled {endpoint.short} %", "quantitative", format=".1f"),
                    tip("low", f"{interval} low %", "quantitative", format=".1f"),
                    tip("high", f"{interval} high %", "quantitative", format=".1f"),
                    tip("pool", "Pool"), tip("label", "Evidence")],
        "x": field("estimate")}}
    return top_level({"layer": [whiskers, dots], "height": {"step": 14},
                      "title": {"text": f"Pooled {endpoint.short} by regimen class and subtype",
                                "subtitle": subtitle},
                      "width": "container"}, data)
