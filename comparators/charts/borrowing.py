"""Shrinkage plot: the observed rate per subtype and where the hierarchical model moves it.

Pure: the frame of ``analysis.borrowing.Borrowing.to_frame()`` in, a Vega-Lite spec out.
"""

from __future__ import annotations

import pandas as pd

from comparators.charts.vegalite import field, top_level
from comparators.vocab import DEFAULT_ENDPOINT, ENDPOINTS, Endpoint

_OBSERVED = "#7f7f7f"
_SHRUNK = "#1f5f8b"


def shrinkage_chart(frame: pd.DataFrame, title: str, subtitle: str | list[str],
                    endpoint: Endpoint | None = None) -> dict:
    """One row per subtype: a hollow dot at the observed rate of `endpoint` (default ORR), an
    arrow to the shrunken rate (posterior median) and a line for its credible interval. Percent
    scale. A Vega-Lite spec written as dicts (rebuilt for every level and prior on Across
    subtypes)."""
    e = endpoint or ENDPOINTS[DEFAULT_ENDPOINT]
    data = frame.assign(
        observed=100 * frame["observed"], shrunk=100 * frame["shrunk"], low=100 * frame["low"],
        high=100 * frame["high"],
        counts=[f"{r}/{n} ({a} {'arm' if a == 1 else 'arms'})" for r, n, a in
                zip(frame["responders"], frame["evaluable"], frame["arms"], strict=True)],
    )
    data["direction"] = ["triangle-right" if s >= o else "triangle-left"
                         for s, o in zip(data["shrunk"], data["observed"], strict=True)]
    order = list(data.sort_values("shrunk", ascending=False)["subtype"])
    y = field("subtype", "nominal", sort=order, title=None)
    x_title = (f"{e.name[:1].upper()}{e.name[1:]} (%): observed (hollow) → shrunken (arrow), "
               "credible interval")
    counts = f"{e.counted}/{'evaluable' if e.code in ('orr', 'dcr') else 'n'}"
    tips = [("subtype", "Subtype", None), ("counts", counts, None),
            ("observed", "Observed %", ".1f"), ("shrunk", "Shrunken %", ".1f"),
            ("low", "Interval low %", ".1f"), ("high", "Interval high %", ".1f")]
    if "p_exchangeable" in data:
        tips.append(("p_exchangeable", "P(exchangeable)", ".2f"))
    tooltip = [field(name, "nominal", title=text) if fmt is None
               else field(name, title=text, format=fmt) for name, text, fmt in tips]
    interval = {"mark": {"type": "rule", "color": _SHRUNK, "opacity": 0.25, "strokeWidth": 6},
                "encoding": {"x": field("low", scale={"domain": [0, 100]}, title=x_title),
                             "x2": {"field": "high"}, "y": y}}
    shaft = {"mark": {"type": "rule", "color": _SHRUNK, "strokeWidth": 1.5},
             "encoding": {"x": field("observed"), "x2": {"field": "shrunk"}, "y": y}}
    observed = {"mark": {"type": "point", "color": _OBSERVED, "filled": False, "size": 70},
                "encoding": {"tooltip": tooltip, "x": field("observed"), "y": y}}
    head = {"mark": {"type": "point", "color": _SHRUNK, "filled": True, "size": 80},
            "encoding": {"shape": field("direction", "nominal", scale=None), "tooltip": tooltip,
                         "x": field("shrunk"), "y": y}}
    return top_level({"layer": [interval, shaft, observed, head], "height": {"step": 22},
                      "title": {"text": title, "subtitle": subtitle}, "width": "container"},
                     data)
