"""Altair chart builders (and the small frames they draw) for the What-if page: an edit's effect,
case-mix standardisation, and the prior and posterior of a response rate.

Each builder takes a result frame / object and returns an Altair chart; no streamlit here.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from comparators.charts.vegalite import chart_title
from comparators.stats.bayes import BetaPosterior, BetaPrior
from comparators.vocab import HIGHLIGHT_COLOUR, OTHER_COLOUR


def scenario_effect_chart(frame: pd.DataFrame, subtitle: str | None = None) -> alt.Chart:
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


def standardised_chart(frame: pd.DataFrame, crude: float | None = None,
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


def density_frame(posterior: BetaPosterior, points: int = 401) -> pd.DataFrame:
    """Prior and posterior Beta densities on a grid over (0, 1), long format (p, density, curve)."""
    grid = np.linspace(0.0005, 0.9995, points)
    prior = BetaPosterior.from_counts(0, 0, BetaPrior(posterior.prior_a, posterior.prior_b))
    frames = []
    for name, dist in (("Prior", prior), ("Posterior", posterior)):
        dens = dist.density(grid)
        frames.append(pd.DataFrame({"p": grid, "density": dens, "curve": name}))
    out = pd.concat(frames, ignore_index=True)
    cap = float(out.loc[out["curve"] == "Posterior", "density"].max()) * 1.5
    out["density"] = out["density"].clip(upper=max(cap, 1.0))  # Jeffreys is infinite at 0 and 1
    return out


def posterior_chart(density: pd.DataFrame, threshold: float,
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
