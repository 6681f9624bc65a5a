"""Altair chart builders for this cohort's descriptive results (no streamlit here)."""

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
