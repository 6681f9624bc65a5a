"""Pure Altair chart builders (and the small frames they draw) for the what-if and planning pages.

Each builder takes a result frame / object and returns an Altair chart; no streamlit here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from comparators.stats.bayes import BetaPosterior, BetaPrior

COHORT_COLOUR = "#c0392b"
OTHER_COLOUR = "#4c78a8"


def _title(title: str, subtitle: str | Sequence[str] | None) -> alt.TitleParams:
    if subtitle is None:
        return alt.TitleParams(title)
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return alt.TitleParams(title, subtitle=lines)


# --------------------------------------------------------------------------- what-if


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
                                        range=[OTHER_COLOUR, COHORT_COLOUR][:len(scenarios)]),
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
        title=_title(f"{title} counts", subtitle), width="container", height=alt.Step(30))


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
    points = base.mark_point(size=90, color=COHORT_COLOUR).encode(
        x="estimate:Q",
        fill=alt.Fill("complete:N", title="Coverage",
                      scale=alt.Scale(domain=["all target subtypes", "partial (subtypes missing)"],
                                      range=[COHORT_COLOUR, "white"]),
                      legend=alt.Legend(orient="top")),
    )
    layers: list[alt.Chart] = [rules, points]
    if crude is not None:
        layers.append(alt.Chart(pd.DataFrame({"crude": [100 * crude]})).mark_rule(
            strokeDash=[4, 4], color="grey").encode(
            x="crude:Q", tooltip=[alt.Tooltip("crude:Q", title="Crude ORR %", format=".1f")]))
    return alt.layer(*layers).properties(
        title=_title("ORR standardised to other case mixes", subtitle), width="container",
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
                                        range=["#9e9e9e", COHORT_COLOUR]),
                        legend=alt.Legend(orient="top")),
        strokeDash=alt.StrokeDash("curve:N", scale=alt.Scale(domain=["Prior", "Posterior"],
                                                             range=[[4, 3], [1, 0]]),
                                  legend=None),
    )
    above = alt.Chart(data[(data["curve"] == "Posterior") & (data["p"] > threshold)]).mark_area(
        opacity=0.25, color=COHORT_COLOUR).encode(x="pct:Q", y="density:Q")
    rule = alt.Chart(pd.DataFrame({"t": [100 * threshold]})).mark_rule(
        color="black", strokeDash=[2, 2]).encode(
        x="t:Q", tooltip=[alt.Tooltip("t:Q", title="Threshold %", format=".1f")])
    return alt.layer(above, lines, rule).properties(
        title=_title("Prior and posterior of the response rate", subtitle), width="container",
        height=340)


# --------------------------------------------------------------------------- planning


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
                                        range=[COHORT_COLOUR, OTHER_COLOUR, "#7f7f7f"])),
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
        title=_title("Operating characteristics over the true ORR", subtitle), width="container",
        height=420)


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
            color=COHORT_COLOUR).encode(x="n:Q", tooltip=[alt.Tooltip("n:Q", title="n needed")]))
    return alt.layer(*layers).properties(
        title=_title("Precision of the ORR estimate against sample size", subtitle),
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
    return [COHORT_COLOUR if label == highlight else next(others) for label in labels]


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
        title=_title("Progression-free survival implied by the reported medians", subtitle),
        width="container", height=480 + 20 * len(labels))
