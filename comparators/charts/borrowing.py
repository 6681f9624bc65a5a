"""Shrinkage plot: observed ORR per subtype and where the hierarchical model moves it.

Pure Altair: the frame of ``analysis.borrowing.Borrowing.to_frame()`` in, a chart out.
"""

from __future__ import annotations

import altair as alt
import pandas as pd

_OBSERVED = "#7f7f7f"
_SHRUNK = "#1f5f8b"


def shrinkage_chart(frame: pd.DataFrame, title: str, subtitle: str | list[str]
                    ) -> alt.TopLevelMixin:
    """One row per subtype: a hollow dot at the observed ORR, an arrow to the shrunken ORR
    (posterior median) and a line for its credible interval. Percent scale."""
    data = frame.assign(
        observed=100 * frame["observed"], shrunk=100 * frame["shrunk"], low=100 * frame["low"],
        high=100 * frame["high"],
        counts=[f"{r}/{n} ({a} {'arm' if a == 1 else 'arms'})" for r, n, a in
                zip(frame["responders"], frame["evaluable"], frame["arms"], strict=True)],
    )
    data["direction"] = ["triangle-right" if s >= o else "triangle-left"
                         for s, o in zip(data["shrunk"], data["observed"], strict=True)]
    order = list(data.sort_values("shrunk", ascending=False)["subtype"])
    y = alt.Y("subtype:N", sort=order, title=None)
    x_title = "Objective response rate (%): observed (hollow) → shrunken (arrow), credible interval"
    tooltip = [alt.Tooltip("subtype:N", title="Subtype"),
               alt.Tooltip("counts:N", title="Responders/evaluable"),
               alt.Tooltip("observed:Q", title="Observed %", format=".1f"),
               alt.Tooltip("shrunk:Q", title="Shrunken %", format=".1f"),
               alt.Tooltip("low:Q", title="Interval low %", format=".1f"),
               alt.Tooltip("high:Q", title="Interval high %", format=".1f")]
    if "p_exchangeable" in data:
        tooltip.append(alt.Tooltip("p_exchangeable:Q", title="P(exchangeable)", format=".2f"))
    base = alt.Chart(data).encode(y=y)
    interval = base.mark_rule(strokeWidth=6, opacity=0.25, color=_SHRUNK).encode(
        x=alt.X("low:Q", title=x_title, scale=alt.Scale(domain=[0, 100])), x2="high:Q")
    shaft = base.mark_rule(strokeWidth=1.5, color=_SHRUNK).encode(x="observed:Q", x2="shrunk:Q")
    observed = base.mark_point(filled=False, size=70, color=_OBSERVED).encode(
        x="observed:Q", tooltip=tooltip)
    head = base.mark_point(filled=True, size=80, color=_SHRUNK).encode(
        x="shrunk:Q", shape=alt.Shape("direction:N", scale=None), tooltip=tooltip)
    layers = [interval, shaft, observed, head]
    return alt.layer(*layers).properties(
        title=alt.TitleParams(title, subtitle=subtitle), width="container",
        height=alt.Step(22),
    )
