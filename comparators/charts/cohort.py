"""Pure Altair chart builders for the cohort's descriptive results (no streamlit here)."""

from __future__ import annotations

import altair as alt
import pandas as pd


def adverse_event_chart(summary: pd.DataFrame, source: str, denominator: int) -> alt.Chart:
    """Horizontal bars of any-grade vs grade >= 3 rates per adverse event (Table 2).

    `summary` is the frame from `cohort.adverse_event_summary`.
    """
    long = summary.melt(
        id_vars=["event"],
        value_vars=["any_grade_percent", "grade3_percent"],
        var_name="grade",
        value_name="percent",
    ).dropna(subset=["percent"])
    long["grade"] = long["grade"].map(
        {"any_grade_percent": "Any grade", "grade3_percent": "Grade >= 3"}
    )
    order = summary.sort_values("any_grade_n", ascending=False)["event"].tolist()
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("event:N", sort=order, title=None),
            yOffset=alt.YOffset("grade:N"),
            x=alt.X(
                "percent:Q",
                title=f"Patients with the event (% of {denominator} evaluable)",
                scale=alt.Scale(domain=[0, 100]),
            ),
            color=alt.Color(
                "grade:N",
                title="Severity",
                scale=alt.Scale(domain=["Any grade", "Grade >= 3"], range=["#8fb3d9", "#c0392b"]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("event:N", title="Adverse event"),
                alt.Tooltip("grade:N", title="Severity"),
                alt.Tooltip("percent:Q", title="% of patients", format=".1f"),
            ],
        )
        .properties(
            title=alt.TitleParams(
                "Treatment-related adverse events (CTCAE v5.0)", subtitle=[source]
            ),
            width="container",
            height=alt.Step(9),
        )
    )


def class_by_subtype_chart(
    pooled: pd.DataFrame, subtitle: str | list[str], interval: str = "95% CI"
) -> alt.TopLevelMixin:
    """Dot-and-whisker plot: pooled ORR per regimen class, one row per subtype.

    `pooled` is `AcrossSubtypes.pools_frame()`; subtypes are sorted by the AI+ICI estimate.
    `interval` ("90% CI") names the whiskers, from the options that produced them.
    """
    from comparators.vocab import CLASS_COLOURS

    data = pooled.assign(
        estimate=100 * pooled["estimate"], low=100 * pooled["low"], high=100 * pooled["high"],
        label=[f"k = {k}, n = {n}" for k, n in zip(pooled["k"], pooled["patients"], strict=True)],
        pool=pooled["label"] if "label" in pooled else "",
    )
    ai_ici = data[data["class"] == "AI+ICI"].sort_values("estimate", ascending=False)
    order = list(ai_ici["subtype"]) + sorted(set(data["subtype"]) - set(ai_ici["subtype"]))
    y = alt.Y("subtype:N", sort=order, title=None)
    offset = alt.YOffset("class:N", sort=list(CLASS_COLOURS))
    colour = alt.Color("class:N", title="Regimen class",
                       scale=alt.Scale(domain=list(CLASS_COLOURS),
                                       range=list(CLASS_COLOURS.values())),
                       legend=alt.Legend(orient="top"))
    base = alt.Chart(data).encode(y=y, yOffset=offset, color=colour)
    whiskers = base.mark_rule(strokeWidth=1.5).encode(
        x=alt.X("low:Q", title=f"Pooled objective response rate (%), {interval}",
                scale=alt.Scale(domain=[0, 100])), x2="high:Q")
    dots = base.mark_circle(opacity=1).encode(
        x="estimate:Q",
        size=alt.Size("patients:Q", title="Evaluable patients",
                      scale=alt.Scale(range=[30, 300])),
        tooltip=[alt.Tooltip("subtype:N", title="Subtype"), alt.Tooltip("class:N", title="Class"),
                 alt.Tooltip("estimate:Q", title="Pooled ORR %", format=".1f"),
                 alt.Tooltip("low:Q", title=f"{interval} low %", format=".1f"),
                 alt.Tooltip("high:Q", title=f"{interval} high %", format=".1f"),
                 alt.Tooltip("pool:N", title="Pool"),
                 alt.Tooltip("label:N", title="Evidence")],
    )
    return alt.layer(whiskers, dots).properties(
        title=alt.TitleParams("Pooled ORR by regimen class and subtype", subtitle=subtitle),
        width="container", height=alt.Step(14),
    )
