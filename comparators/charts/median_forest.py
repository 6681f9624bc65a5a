"""Forest plot of median PFS (months): each arm's reported median with its interval, each
regimen class's pooled median as a diamond, this cohort's own median highlighted. Pure: a
`MedianBenchmark` in, a Vega-Lite spec out, on a months axis from 0."""

from __future__ import annotations

import math
import textwrap

import pandas as pd

from comparators.analysis.median_pfs import MedianBenchmark, interval_text, months_text
from comparators.charts.vegalite import dataset_name, field, top_level
from comparators.vocab import CLASS_COLOURS, HIGHLIGHT_COLOUR

X_TITLE = "Median PFS (months)"
SUBTITLE_CHARS = 70  # a subtitle line that fits the figure beside the sidebar at 900 px


def median_forest_rows(bm: MedianBenchmark) -> pd.DataFrame:
    """One row per line, top to bottom: this cohort's median (when it has one and is not
    inside a pool), then per class its arms (longest median first) and its pooled diamond."""
    arms = bm.arms_frame()
    rows: list[dict[str, object]] = []

    def line(label: str, group: str, kind: str, median: float, low: float | None,
             high: float | None, highlight: bool = False, method: str = "") -> None:
        ci = interval_text(low, high)
        rows.append({"label": label, "group": group, "kind": kind, "estimate": median,
                     "low": low, "high": high, "nr": low is not None and high is None,
                     "highlight": highlight, "method": method,
                     "estimate_ci": months_text(median) + (f" [{ci}]" if ci else ""),
                     "line": f"{label}  {months_text(median)}" + (f" [{ci}]" if ci else "")})

    if bm.cohort.reported and not bm.options.include_cohort:
        c = bm.cohort
        line("This cohort", "This cohort", "cohort", float(c.estimate or 0), c.low, c.high,
             highlight=True)
    for regimen_class, pool in bm.class_pools.items():
        members = arms[(arms["class"] == regimen_class) & arms["key"].isin(pool.keys)]
        for r in members.sort_values("median", ascending=False).itertuples(index=False):
            line(str(r.label), regimen_class, "arm", float(r.median), _number(r.low),
                 _number(r.high), highlight=bool(r.is_cohort))
        if pool.pooled is not None:
            line(pool.label, regimen_class, "pool", pool.estimate, pool.low, pool.high,
                 method=pool.method_name)
    frame = pd.DataFrame(rows)
    frame["order"] = range(len(frame))
    return frame


def _number(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def months_domain(rows: pd.DataFrame) -> list[float]:
    """[0, a round number of months past the longest median or limit]."""
    values = [v for col in ("estimate", "low", "high") for v in rows[col] if _number(v)]
    top = max([float(v) for v in values] + [1.0])
    step = 6 if top > 12 else 3
    return [0, step * math.ceil(1.05 * top / step)]


def median_forest_chart(bm: MedianBenchmark, title: str = "", subtitle: str = "") -> dict:
    """The median PFS forest plot: squares and intervals for arms, diamonds for class pools,
    an upper limit not reached (NR) drawn to the axis end with an open arrow head."""
    rows = median_forest_rows(bm)
    domain = months_domain(rows)
    data = rows.assign(high_drawn=[domain[1] if nr else h for nr, h in
                                   zip(rows["nr"], rows["high"], strict=True)])
    scale = {"domain": domain, "nice": False, "zero": True}
    y = field("line", "nominal", sort={"field": "order"}, title=None,
              axis={"labelLimit": 420, "labelFontSize": 11})
    # the legend names only the groups the figure draws, each in its fixed colour
    colours = {**CLASS_COLOURS, "This cohort": HIGHLIGHT_COLOUR}
    drawn = [g for g in colours if g in set(rows["group"])]
    colour = field("group", "nominal", title="Regimen class",
                   scale={"domain": drawn, "range": [colours[g] for g in drawn]},
                   legend={"orient": "bottom", "columns": 3})
    tooltip = [field("label", "nominal", title="Arm or pool"),
               field("estimate_ci", "nominal", title=f"{X_TITLE} [interval]"),
               field("method", "nominal", title="Pooled by")]

    def kind_is(*kinds: str) -> list[dict]:
        test = " || ".join(f"datum.kind === '{k}'" for k in kinds)
        return [{"filter": f"({test})"}]

    x = field("estimate", scale=scale, title=X_TITLE)
    layers = [
        {"mark": {"type": "rule", "strokeWidth": 1.5},
         "encoding": {"x": field("low", scale=scale, title=X_TITLE), "x2": {"field": "high_drawn"},
                      "y": y, "color": colour},
         "transform": [{"filter": "isValid(datum.low)"}]},
        {"mark": {"type": "point", "shape": "triangle-right", "filled": False, "size": 60},
         "encoding": {"x": field("high_drawn", scale=scale), "y": y, "color": colour},
         "transform": [{"filter": "datum.nr"}]},
        {"mark": {"type": "square", "size": 90, "opacity": 0.9},
         "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip,
                      "stroke": {"condition": {"test": "datum.highlight",
                                               "value": HIGHLIGHT_COLOUR}, "value": None},
                      "strokeWidth": {"value": 2}},
         "transform": kind_is("arm", "cohort")},
        {"mark": {"type": "point", "shape": "diamond", "filled": True, "size": 260},
         "encoding": {"x": x, "y": y, "color": colour, "tooltip": tooltip},
         "transform": kind_is("pool")},
    ]
    legend = ("Squares: arms' reported medians with their intervals (▷: upper limit not "
              "reached); diamonds: each class's pooled median, by the method named in its "
              "tooltip and the methods text.")
    # short lines: a figure in a narrow window cuts a long subtitle line off
    subtitle_lines = [part for line in (subtitle, legend) if line
                      for part in textwrap.wrap(line, SUBTITLE_CHARS)]
    return top_level({
        "layer": layers, "width": "container", "height": {"step": 22},
        "title": {"text": title or f"Median progression-free survival, {bm.subtype}",
                  "anchor": "start", "subtitle": subtitle_lines},
    }, data)


def with_months_reference(spec: dict, months: float | None, label: str = "reference") -> dict:
    """`spec` with a dashed vertical line at `months` (a typed reference median), labelled
    '{label} 6 months', the months axis widened to show it; the spec itself is not changed
    (it may be a shared cached object)."""
    if months is None:
        return spec
    layers = [dict(layer) for layer in spec["layer"]]
    top = max(months_domain(pd.DataFrame({"estimate": [months], "low": [None], "high": [None]})
                            )[1], _x_domain(layers)[1])
    scale = {"domain": [0, top], "nice": False, "zero": True}
    for layer in layers:  # one shared axis: every x channel gets the widened domain
        enc = layer.get("encoding")
        if enc and "scale" in enc.get("x", {}):
            layer["encoding"] = dict(enc, x=dict(enc["x"], scale=scale))
    line = [{"reference": float(months), "text": f"{label} {months:g} months"}]
    data = {"name": dataset_name(line)}
    x = {"field": "reference", "type": "quantitative", "scale": scale}
    layers += [
        {"data": data, "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#888"},
         "encoding": {"x": x}},
        {"data": data, "mark": {"type": "text", "align": "left", "dx": 3, "dy": -6,
                                "color": "#666", "fontSize": 10},
         "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "text", "type": "nominal"}}},
    ]
    return dict(spec, layer=layers, datasets={**spec.get("datasets", {}), data["name"]: line})


def _x_domain(layers: list[dict]) -> list[float]:
    for layer in layers:
        scale = layer.get("encoding", {}).get("x", {}).get("scale")
        if scale and "domain" in scale:
            return list(scale["domain"])
    return [0, 1]
