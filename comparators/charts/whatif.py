"""Chart builders (and the small frames they draw) for the What-if page: an edit's effect,
case-mix standardisation, and the prior and posterior of a response rate.

Each builder takes a result frame / object and returns a Vega-Lite spec (a dict, what Altair's
``to_dict()`` gives), written as plain dicts: composing the same charts from Altair objects
copied and checked every layer on every new fit. No streamlit here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from comparators.charts.vegalite import field, layered, named_data, tip, title_spec, top_level
from comparators.stats.bayes import BetaPosterior, BetaPrior
from comparators.vocab import HIGHLIGHT_COLOUR, OTHER_COLOUR

#: The 0-100 % axis every chart here draws a rate on.
PERCENT_SCALE = {"domain": [0, 100]}


def scenario_effect_chart(frame: pd.DataFrame, subtitle: str | None = None) -> dict:
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
    shared = {
        "color": field("scenario", "nominal", title="Counts", legend={"orient": "top"},
                       scale={"domain": scenarios,
                              "range": [OTHER_COLOUR, HIGHLIGHT_COLOUR][:len(scenarios)]}),
        "tooltip": [tip("quantity", "nominal", "Estimate"),
                    tip("scenario", "nominal", "Counts"),
                    tip("estimate", "quantitative", "ORR %", ".1f"),
                    tip("low", "quantitative", "low %", ".1f"),
                    tip("high", "quantitative", "high %", ".1f")],
        "y": field("line", "nominal", title=None, sort=order, axis={"labelLimit": 320}),
    }
    rules = {"mark": {"type": "rule", "strokeWidth": 2},
             "encoding": {**shared, "x": field("low", scale=PERCENT_SCALE,
                                               title="Objective response rate (%)"),
                          "x2": {"field": "high"}}}
    points = {"mark": {"type": "point", "filled": True, "size": 80},
              "encoding": {**shared, "x": field("estimate")}}
    title = " vs ".join(s.capitalize() if i == 0 else s for i, s in enumerate(scenarios))
    return top_level({"layer": [rules, points], "height": {"step": 30},
                      "title": title_spec(f"{title} counts", subtitle), "width": "container"},
                     data)


#: The fill of a case mix's dot: solid when every target subtype has data here, hollow if not.
COVERAGE = {"all target subtypes": HIGHLIGHT_COLOUR, "partial (subtypes missing)": "white"}


def standardised_chart(frame: pd.DataFrame, crude: float | None = None,
                       subtitle: str | None = None) -> dict:
    """Dot plot with intervals of the standardised ORR per target mix (`casemix.presets_frame`).

    Mixes whose target subtypes are not all covered are drawn hollow and flagged in the tooltip.
    """
    data = frame.dropna(subset=["estimate"]).copy()
    for column in ("estimate", "low", "high"):
        data[column] = 100 * data[column]
    data["coverage %"] = 100 * data["coverage"]
    data["complete"] = np.where(data["coverage"] >= 1 - 1e-12, *COVERAGE)
    y = field("mix", "nominal", sort=list(data["mix"]), title=None, axis={"labelLimit": 320})
    tooltip = [tip("mix", "nominal", "Target mix"),
               tip("estimate", "quantitative", "Standardised ORR %", ".1f"),
               tip("low", "quantitative", "low %", ".1f"),
               tip("high", "quantitative", "high %", ".1f"),
               tip("coverage %", "quantitative", "Target mix covered %", ".0f"),
               tip("missing", "nominal", "No data for")]
    rules = {"mark": {"type": "rule", "color": OTHER_COLOUR, "strokeWidth": 2},
             "encoding": {"tooltip": tooltip, "y": y, "x2": {"field": "high"},
                          "x": field("low", scale=PERCENT_SCALE,
                                     title="Standardised objective response rate (%)")}}
    fill = field("complete", "nominal", title="Coverage", legend={"orient": "top"},
                 scale={"domain": list(COVERAGE), "range": list(COVERAGE.values())})
    points = {"mark": {"type": "point", "color": HIGHLIGHT_COLOUR, "size": 90},
              "encoding": {"fill": fill, "tooltip": tooltip, "x": field("estimate"), "y": y}}
    props = {"height": 170 + 34 * len(data), "width": "container",
             "title": title_spec("ORR standardised to other case mixes", subtitle)}
    if crude is None:  # the layers share their rows: named once, at the top
        return top_level({"layer": [rules, points], **props}, data)
    mixes, datasets = named_data(data)
    line, line_rows = named_data([{"crude": 100 * crude}])
    crude_rule = {"data": line, "mark": {"type": "rule", "color": "grey", "strokeDash": [4, 4]},
                  "encoding": {"x": field("crude"), "tooltip": [
                      tip("crude", "quantitative", "Crude ORR %", ".1f")]}}
    return layered({"layer": [{"data": mixes, **rules}, {"data": mixes, **points}, crude_rule],
                    **props}, {**datasets, **line_rows})


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
                    subtitle: str | None = None) -> dict:
    """Prior and posterior densities of the response rate with the threshold marked."""
    data = density.assign(pct=100 * density["p"])
    curves, datasets = named_data(data)
    shaded, shaded_rows = named_data(data[(data["curve"] == "Posterior")
                                          & (data["p"] > threshold)])
    line, line_rows = named_data([{"t": 100 * threshold}])
    curve = {"domain": ["Prior", "Posterior"]}
    lines = {"data": curves, "mark": {"type": "line"}, "encoding": {
        "x": field("pct", title="Response rate (%)", scale=PERCENT_SCALE),
        "y": field("density", title="Density"),
        "color": field("curve", "nominal", title=None, legend={"orient": "top"},
                       scale={**curve, "range": ["#9e9e9e", HIGHLIGHT_COLOUR]}),
        "strokeDash": field("curve", "nominal", legend=None,
                            scale={**curve, "range": [[4, 3], [1, 0]]})}}
    above = {"data": shaded, "mark": {"type": "area", "color": HIGHLIGHT_COLOUR, "opacity": 0.25},
             "encoding": {"x": field("pct"), "y": field("density")}}
    rule = {"data": line, "mark": {"type": "rule", "color": "black", "strokeDash": [2, 2]},
            "encoding": {"x": field("t"), "tooltip": [
                tip("t", "quantitative", "Threshold %", ".1f")]}}
    return layered({"layer": [above, lines, rule], "height": 340, "width": "container",
                    "title": title_spec("Prior and posterior of the response rate", subtitle)},
                   {**shaded_rows, **datasets, **line_rows})
