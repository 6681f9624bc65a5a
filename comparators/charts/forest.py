"""Forest plot of a pooled-proportion fit: a pure function from the fitted result to Altair.

metafor's pipeline (escalc -> rma -> forest) in two steps here: `forest_rows` lays a fitted
`SubtypeBenchmark` out as one row per arm / class-pool diamond / overall diamond, grouped by
class and sorted by estimate; `forest_chart` draws those rows. Both are usable from a notebook.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import altair as alt
import pandas as pd

from comparators.analysis.benchmark import SubtypeBenchmark
from comparators.vocab import CLASS_COLOURS, HIGHLIGHT_COLOUR

ROW_HEIGHT = 22  # px per row: readable at 5 and at 40 studies
DIAMOND_HALF_HEIGHT = 0.38  # in row units


def _pct(x: float | None) -> str:
    return "" if x is None or pd.isna(x) else f"{100 * x:.1f}"


def forest_rows(
    bm: SubtypeBenchmark,
    labels: Mapping[str, str] | None = None,
    marks: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per line of the forest plot, top to bottom, read from a `SubtypeBenchmark`.

    Arms are grouped by regimen class, sorted by estimate within a class, each class closed by
    its `ClassPool` (the same object the class table, Across subtypes and the summary show; its
    label says whether this cohort is inside it); the pool of every included arm comes last.
    A class whose arms are all 0% or 100% is not estimable: its line shows the summed counts with
    their exact interval (`kind` "summed"). `labels` maps row keys to display labels
    ("Tawbi 2017 · pembrolizumab"); `marks` maps row keys to a verification symbol.
    """
    labels = dict(labels or {})
    marks = dict(marks or {})
    fit = bm.fit
    studies = pd.DataFrame([s.to_dict() for s in fit.studies])
    class_of = dict(zip(bm.rows["key"], bm.rows["regimen_class"], strict=True))
    studies["group"] = [class_of.get(s, "") for s in studies["study"]]
    weight = {k: s.weight for p in bm.class_pools.values() for k, s in
              zip(p.keys, p.fit.studies, strict=True)}
    rows: list[dict[str, object]] = []
    for group in dict.fromkeys(sorted(studies["group"], key=_class_order)):
        members = studies[studies["group"] == group].sort_values("estimate", ascending=False)
        for s in members.itertuples(index=False):
            label = labels.get(s.study, s.study) + marks.get(s.study, "")
            rows.append({
                "label": label, "study": s.study, "kind": "study", "group": group,
                "events": s.events, "n": s.n, "estimate": s.estimate, "low": s.low,
                "high": s.high, "weight": weight.get(s.study),
                "highlight": s.study == bm.cohort_key,
            })
        pool = bm.class_pools.get(group)
        if pool is not None and (pool.k > 1 or not pool.estimable):
            rows.append({
                "label": pool.label, "study": "", "group": group, "events": pool.events,
                "n": pool.n, "kind": "subgroup" if pool.estimable else "summed",
                "estimate": pool.estimate, "low": pool.low, "high": pool.high, "weight": None,
                "highlight": False,
            })
    rows.append({
        "label": f"All included arms (k = {fit.k})" + (", incl. this cohort" if bm.cohort_key
                                                       else ""),
        "study": "", "kind": "overall" if fit.estimable else "summed",
        "group": "All", "events": int(studies["events"].sum()), "n": int(studies["n"].sum()),
        "estimate": fit.estimate, "low": fit.low, "high": fit.high, "weight": None,
        "highlight": False,
    })
    if fit.pi_low is not None and fit.pi_high is not None:
        rows.append({
            "label": "Prediction interval (all arms)", "study": "", "kind": "pi", "group": "All",
            "events": None, "n": None, "estimate": None, "low": fit.pi_low,
            "high": fit.pi_high, "weight": None, "highlight": False,
        })
    frame = pd.DataFrame(rows)
    frame[["events", "n"]] = frame[["events", "n"]].astype("Int64")  # counts, never "5.0"
    frame["row"] = -pd.RangeIndex(len(frame))  # top row at y = 0
    frame["events_n"] = [
        "" if pd.isna(n) else f"{int(e)}/{int(n)}"
        for e, n in zip(frame["events"], frame["n"], strict=True)
    ]
    frame["estimate_ci"] = [
        f"{_pct(e)} [{_pct(lo)}, {_pct(hi)}]" if not pd.isna(e) else f"[{_pct(lo)}, {_pct(hi)}]"
        for e, lo, hi in zip(frame["estimate"], frame["low"], frame["high"], strict=True)
    ]
    frame["weight_text"] = [
        "" if w is None or pd.isna(w) else f"{w:.1f}%" for w in frame["weight"]
    ]
    # An arm outside every pool (this cohort, by default) has no weight but is still drawn.
    frame["size"] = pd.to_numeric(frame["weight"], errors="coerce").fillna(10.0)
    return frame


def _if_highlight(value: object) -> dict:
    """`alt.condition(alt.datum.highlight, alt.value(value), ...)` as the plain condition dict
    inside a typed value channel (alt.ColorValue(...)): Altair turns alt.value/alt.condition
    dicts into channels through a schema lookup that costs ~10 ms per use, most of the time
    this chart took to build."""
    return {"test": "datum.highlight", "value": value}


def _class_order(group: str) -> tuple[int, str]:
    order = list(CLASS_COLOURS)
    return (order.index(group) if group in order else len(order), group)


def forest_chart(
    rows: pd.DataFrame,
    reference: float | None = None,
    title: str = "Objective response rate",
    subtitle: str | list[str] = "",
    x_title: str = "Objective response rate (%)",
    interval: str = "95% CI",
) -> alt.TopLevelMixin:
    """Draw `forest_rows` output: labels | squares, CIs and diamonds | events/n, ORR, weight.

    `reference` (a fraction) draws a dashed vertical line, e.g. a historical ORR; `interval`
    names the interval in the column header and tooltips ("90% CI"), from the fit's options.
    """
    data = rows.copy()
    for col in ("estimate", "low", "high"):
        data[col] = 100 * data[col].astype(float)
    height = ROW_HEIGHT * (len(data) + 1)
    y_scale = alt.Scale(domain=[float(data["row"].min()) - 0.7, 0.7])
    y = alt.Y("row:Q", axis=None, scale=y_scale)
    # The rows are the top-level data that every panel inherits: Altair sanitises a layer's
    # own DataFrame once per layer (nine times here).
    base = alt.Chart().properties(height=height)
    colour = alt.Color(
        "group:N", title="Regimen class",
        scale=alt.Scale(domain=list(CLASS_COLOURS), range=list(CLASS_COLOURS.values())),
        legend=alt.Legend(orient="bottom"),
    )
    # Pooled rows in their class's colour, the overall ("All") row in near-black.
    colour_def = cast(dict, colour.to_dict(validate=False))  # a field definition: a dict
    class_colour = alt.ColorValue("#222", condition={"test": "(datum.group !== 'All')",
                                                     **colour_def})
    x_scale = alt.Scale(domain=[0, 100], clamp=True)
    x = alt.X("estimate:Q", title=x_title, scale=x_scale)
    studies = base.transform_filter(alt.datum.kind == "study")
    tooltip = [
        alt.Tooltip("label:N", title="Study"), alt.Tooltip("events_n:N", title="Responders/n"),
        alt.Tooltip("estimate_ci:N", title=f"ORR % [{interval}]"),
        alt.Tooltip("weight_text:N", title="Weight in its class pool"),
    ]
    ci = studies.mark_rule(strokeWidth=1.5).encode(
        x=alt.X("low:Q", title=x_title, scale=x_scale), x2="high:Q", y=y,
        color=alt.ColorValue("#555", condition=_if_highlight(HIGHLIGHT_COLOUR)),
    )
    squares = studies.mark_square(opacity=0.9).encode(
        x=x, y=y, color=colour,
        size=alt.Size("size:Q", legend=None, scale=alt.Scale(range=[30, 320])),
        stroke=alt.StrokeValue(None, condition=_if_highlight(HIGHLIGHT_COLOUR)),
        strokeWidth=alt.StrokeWidthValue(2), tooltip=tooltip,
    )
    diamonds = _diamonds(data[data["kind"].isin(["subgroup", "overall"])], x_scale, y_scale,
                         interval).encode(
        color=class_colour,
    )
    # Not estimable by random-effects pooling: the summed counts' exact interval, drawn as a
    # thick bar (not a diamond) so it is not read as a pooled estimate.
    summed = base.transform_filter(alt.datum.kind == "summed").mark_rule(
        strokeWidth=5, opacity=0.6).encode(
        x=alt.X("low:Q", scale=x_scale), x2="high:Q", y=y,
        color=class_colour,
        tooltip=[alt.Tooltip("label:N", title="Not estimable"),
                 alt.Tooltip("events_n:N", title="Summed responders/n"),
                 alt.Tooltip("estimate_ci:N", title=f"ORR % [exact {interval}]")],
    )
    pi = base.transform_filter(alt.datum.kind == "pi").mark_rule(
        strokeDash=[3, 2], strokeWidth=2, color="#222").encode(
        x=alt.X("low:Q", scale=x_scale), x2="high:Q", y=y,
        tooltip=[alt.Tooltip("estimate_ci:N", title="Prediction interval %")],
    )
    layers: list[alt.Chart] = [ci, squares, diamonds, summed, pi]
    if reference is not None:
        ref = pd.DataFrame({"reference": [100 * reference],
                            "text": [f"reference {100 * reference:.0f}%"]})
        layers.append(alt.Chart(ref).mark_rule(strokeDash=[6, 4], color="#888").encode(
            x=alt.X("reference:Q", scale=x_scale)))
        layers.append(alt.Chart(ref).mark_text(align="left", dx=3, dy=-6, color="#666",
                                               fontSize=10).encode(
            x=alt.X("reference:Q", scale=x_scale), y=alt.YValue(0), text="text:N"))
    plot = alt.layer(*layers).properties(width=360, height=height)

    def text_column(field: str, header: str, width: int) -> alt.LayerChart | alt.FacetChart:
        colour = alt.ColorValue("#222", condition=_if_highlight(HIGHLIGHT_COLOUR))
        plain = base.transform_filter(alt.datum.kind == "study").mark_text(
            align="left", fontSize=11).encode(x=alt.XValue(0), y=y, text=f"{field}:N",
                                              color=colour)
        bold = base.transform_filter(alt.datum.kind != "study").mark_text(
            align="left", fontSize=11, fontWeight="bold").encode(
            x=alt.XValue(0), y=y, text=f"{field}:N")
        return alt.layer(plain, bold).properties(
            width=width, title=alt.TitleParams(header, fontSize=11, anchor="start"))

    return alt.hconcat(
        text_column("label", "Study / arm", 230),
        plot,
        text_column("events_n", "Responders/n", 80),
        text_column("estimate_ci", f"ORR % [{interval}]", 130),
        text_column("weight_text", "Weight", 50),
        spacing=4, data=data,
    ).properties(
        title=alt.TitleParams(title, subtitle=subtitle, anchor="start"),
    ).configure_view(stroke=None)


def _diamonds(pooled: pd.DataFrame, x_scale: alt.Scale, y_scale: alt.Scale,
              interval: str) -> alt.Chart:
    """Each pooled row as a diamond spanning its CI (an area between two polylines)."""
    points = []
    for r in pooled.itertuples(index=False):
        for x, half in ((r.low, 0.0), (r.estimate, DIAMOND_HALF_HEIGHT), (r.high, 0.0)):
            points.append({"label": r.label, "group": r.group, "x": x,
                           "top": r.row + half, "bottom": r.row - half,
                           "estimate_ci": r.estimate_ci})
    return alt.Chart(pd.DataFrame(points)).mark_area(opacity=0.9, orient="vertical").encode(
        x=alt.X("x:Q", scale=x_scale), y=alt.Y("top:Q", axis=None, scale=y_scale), y2="bottom:Q",
        detail="label:N",
        tooltip=[alt.Tooltip("label:N", title="Pooled"),
                 alt.Tooltip("estimate_ci:N", title=f"ORR % [{interval}]")],
    )


def with_reference(spec: dict, reference: float | None) -> dict:
    """`forest_chart(rows).to_dict()` with the dashed reference line of
    `forest_chart(rows, reference)` added to its plot, without rebuilding the chart.

    Building the Altair chart costs about a second on a loaded 2-core server, and the
    reference ORR is a free number a user types: caching the chart per reference made every
    new value a full rebuild. The spec without a reference is cached by its rows; the two
    reference layers (rule and label, the same marks and scale as forest_chart's) are plain
    dicts added here.
    """
    if reference is None:
        return spec
    # Copy only the path that changes (the spec may be a shared cached object; a deep copy
    # of its data costs more than the rest of a rerun).
    out = dict(spec, hconcat=list(spec["hconcat"]), datasets=dict(spec.get("datasets", {})))
    plot = out["hconcat"][1] = dict(out["hconcat"][1])  # labels | plot | events/n | ORR | weight
    plot["layer"] = list(plot["layer"])
    x = {"field": "reference", "type": "quantitative", "scale": {"domain": [0, 100],
                                                                  "clamp": True}}
    # a named dataset, like Altair's own, so Streamlit ships it as Arrow beside the others
    out["datasets"]["reference-line"] = [
        {"reference": 100 * reference, "text": f"reference {100 * reference:.0f}%"}]
    data = {"name": "reference-line"}
    plot["layer"] += [
        {"data": data, "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#888"},
         "encoding": {"x": x}},
        {"data": data, "mark": {"type": "text", "align": "left", "dx": 3,
                                "dy": -6, "color": "#666", "fontSize": 10},
         "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "text", "type": "nominal"}}},
    ]
    return out
