"""Forest plot of a pooled-proportion fit: pure functions from the fitted result to Vega-Lite.

metafor's pipeline (escalc -> rma -> forest) in two steps here: `forest_rows` lays a fitted
`SubtypeBenchmark` out as one row per arm / class-pool diamond / overall diamond, grouped by
class and sorted by estimate; `forest_chart` draws those rows. Both are usable from a notebook.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import pandas as pd

from comparators.analysis.benchmark import SubtypeBenchmark
from comparators.charts.vegalite import DEFAULT_CONFIG, dataset_name, field, top_level
from comparators.evidence.labels import mark_legend, verification_marks
from comparators.vocab import (
    CLASS_COLOURS,
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    HIGHLIGHT_COLOUR,
    Endpoint,
)

ROW_HEIGHT = 24  # px per row (a two-line cell in the narrow layout): readable at 5 and 40 studies
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
    their exact interval (`kind` "summed"). `labels` maps row keys to display labels (default:
    the benchmark's own, "Tawbi 2017 · pembrolizumab"); `marks` maps row keys to a
    verification symbol (default: evidence.labels.verification_marks of its rows), kept in the
    `mark` column so the figure carries the legend of the marks it shows.
    """
    labels = dict(bm.labels if labels is None else labels)
    marks = dict(verification_marks(bm.rows) if marks is None else marks)
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
                "label": label, "study": s.study, "mark": marks.get(s.study, ""),
                "kind": "study", "group": group,
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


#: Columns `forest_rows` adds only to draw the figure: the y position, the marker size and the
#: text columns printed beside the plot (each restates a data column).
FOREST_DRAWING_COLUMNS = ("row", "highlight", "size", "events_n", "estimate_ci", "weight_text")


def forest_data(rows: pd.DataFrame) -> pd.DataFrame:
    """The forest plot's numbers as a data file: `forest_rows` without its drawing columns,
    with `is_cohort` (the row drawn highlighted) in the summary's words."""
    return rows.assign(is_cohort=rows["highlight"].astype(bool)).drop(
        columns=list(FOREST_DRAWING_COLUMNS))


def _class_order(group: str) -> tuple[int, str]:
    order = list(CLASS_COLOURS)
    return (order.index(group) if group in order else len(order), group)


#: Column layouts (px) of the figure: the label column's width, then each number column's left
#: edge and the plot's right edge measured back from the figure's right edge. Below
#: NARROW_BELOW px (a column beside the sidebar, a single-column journal figure) the labels and
#: the ORR interval break into two lines at a smaller font.
NARROW_BELOW = 720
LAYOUT = {
    "wide": {"label": 250, "events_n": 270, "estimate_ci": 184, "weight_text": 48,
             "plot_end": 282, "font": 11},
    "narrow": {"label": 150, "events_n": 168, "estimate_ci": 106, "weight_text": 36,
               "plot_end": 176, "font": 10},
}
#: Characters per label line (two lines at most) in each layout.
LABEL_CHARS = {"wide": 42, "narrow": 27}
#: Characters per subtitle line (the settings, sources and marks' legend under the title).
SUBTITLE_CHARS = 72
#: Where the column headers stand (their bottom, in rows above the first row) and the top of
#: the plot, room for a two-line header.
HEADER_BOTTOM, TOP = 1.0, 2.0


def _by_width(key: str) -> dict:
    """An expression choosing LAYOUT[..][key] by the figure's width."""
    return {"expr": f"narrow ? {LAYOUT['narrow'][key]} : {LAYOUT['wide'][key]}"}


def _from_right(key: str) -> dict:
    return {"expr": f"width - (narrow ? {LAYOUT['narrow'][key]} : {LAYOUT['wide'][key]})"}


#: The plot's x scale: 0-100 % between the label column and the number columns.
X_SCALE = {"domain": [0, 100], "clamp": True,
           "range": [{"expr": f"narrow ? {LAYOUT['narrow']['label'] + 8} : "
                              f"{LAYOUT['wide']['label'] + 10}"}, _from_right("plot_end")]}


def _lines(text: str, width: int) -> str:
    """`text` in at most two lines of about `width` characters (a longer rest is elided), the
    lines joined by a newline, the text marks' line break (the rows reach the browser as Arrow,
    where a list is not the array a text mark splits into lines)."""
    keep = text.replace(" = ", "\u00a0=\u00a0")  # "k = 19" stays on one line
    lines = textwrap.wrap(keep, width, max_lines=2, placeholder="\u2026",
                          break_on_hyphens=False) or [""]
    return "\n".join(lines).replace("\u00a0", " ")


def forest_chart(
    rows: pd.DataFrame,
    reference: float | None = None,
    title: str = "Objective response rate",
    subtitle: str | list[str] = "",
    x_title: str = "Objective response rate (%)",
    interval: str = "95% CI",
    legend: bool = True,
    endpoint: Endpoint = ENDPOINTS[DEFAULT_ENDPOINT],
) -> dict:
    """Draw `forest_rows` output: labels | squares, CIs and diamonds | events/n, ORR, weight.

    One layered view whose width follows its container (``"width": "container"``; an export
    sets a width): the text columns are text marks placed from the figure's edges and the
    0-100 % axis takes the width between them, so every column stays on screen in a column
    beside the sidebar at 900 px as in a wide window; below NARROW_BELOW px the labels and
    the ORR interval break into two lines. Returns the Vega-Lite spec (a dict, what Altair's
    ``to_dict()`` gives). Written as plain dicts: composing the same chart from Altair objects
    copied it at every step and took 0.2-0.35 s per fit.

    `reference` (a fraction) draws a dashed vertical line, e.g. a historical ORR; `interval`
    names the interval in the column header and tooltips ("90% CI"), from the fit's options;
    `endpoint` names what is counted and pooled in them ("Responders/n", "ORR %").
    With `legend`, the subtitle ends with the meaning of every verification mark the rows show
    (only those), so an exported PNG, SVG or PDF explains its own marks; a document that prints
    the legend once for all its figures passes legend=False.
    """
    subtitle = _subtitle_lines(subtitle, rows, legend)
    counts_header, value_header = f"{endpoint.counted}/n", f"{endpoint.short} % [{interval}]"
    data = _drawn_rows(rows)
    height = round(ROW_HEIGHT * (len(data) + TOP - 0.3))
    y = field("row", axis=None, scale={"domain": [float(data["row"].min()) - 0.7, TOP]})
    highlight = {"test": "datum.highlight", "value": HIGHLIGHT_COLOUR}
    diamond_rows = _diamond_points(data[data["kind"].isin(["subgroup", "overall"])])
    marks = _plot_layers(y, highlight, x_title, dataset_name(diamond_rows), counts_header,
                         value_header, f"{endpoint.short} % [exact {interval}]")
    texts, header_rows = _text_columns(counts_header, endpoint.short, interval, y["scale"],
                                       highlight)
    spec = top_level({
        "params": [{"name": "narrow", "expr": f"width < {NARROW_BELOW}"}],
        "layer": [*marks, *texts],
        "width": "container", "height": height,
        # the width is the whole figure's, axes and labels included; the height is the rows'
        "autosize": {"type": "fit-x", "contains": "padding"},
        "title": {"text": title, "anchor": "start", "subtitle": subtitle},
    }, data, config={"view": {**DEFAULT_CONFIG["view"], "stroke": None}})
    spec["datasets"][dataset_name(diamond_rows)] = diamond_rows  # beside the arms' rows
    spec["datasets"][dataset_name(header_rows)] = header_rows
    return with_reference(spec, reference)


def _subtitle_lines(subtitle: str | list[str], rows: pd.DataFrame, legend: bool) -> list[str] | str:
    """The subtitle, with the legend of every mark the rows show when `legend`, wrapped to fit
    the narrow layout (a title wider than the figure would be cut off)."""
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    if legend and "mark" in rows:
        lines += mark_legend([m for m in rows["mark"].dropna() if m])
    return [part for line in lines if line
            for part in textwrap.wrap(line, SUBTITLE_CHARS, break_on_hyphens=False)] or ""


def _drawn_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """`forest_rows` output as drawn: percentages, and the labels and intervals of both
    layouts (wide on one line, narrow on up to two)."""
    data = rows.drop(columns=["mark"], errors="ignore")
    for col in ("estimate", "low", "high"):
        data[col] = 100 * data[col].astype(float)
    for layout, chars in LABEL_CHARS.items():
        data[f"label_{layout}"] = [_lines(str(text), chars) for text in data["label"]]
    data["estimate_ci_narrow"] = [
        text if text.startswith("[") else text.replace(" ", "\n", 1)
        for text in data["estimate_ci"]]
    return data


def _plot_layers(y: dict, highlight: dict, x_title: str, diamond_name: str, counts_header: str,
                 value_header: str, exact_header: str) -> list[dict]:
    """The plot's marks: arms' intervals and squares, pooled diamonds, the exact interval of a
    pool that is not estimable, and the prediction interval."""
    colour = field("group", "nominal", title="Regimen class",
                    scale={"domain": list(CLASS_COLOURS), "range": list(CLASS_COLOURS.values())},
                    legend={"orient": "bottom"})
    # Pooled rows in their class's colour, the overall ("All") row in near-black.
    class_colour = {"condition": {"test": "(datum.group !== 'All')", **colour}, "value": "#222"}

    def kind_is(kind: str) -> list[dict]:
        return [{"filter": f"(datum.kind === '{kind}')"}]

    def tooltip(*fields: tuple[str, str]) -> list[dict]:
        return [field(name, "nominal", title=text) for name, text in fields]

    ci = {"mark": {"type": "rule", "strokeWidth": 1.5},
          "encoding": {"color": {"condition": highlight, "value": "#555"},
                       "x": field("low", scale=X_SCALE, title=x_title),
                       "x2": {"field": "high"}, "y": y},
          "transform": kind_is("study")}
    squares = {"mark": {"type": "square", "opacity": 0.9},
               "encoding": {"color": colour,
                            "size": field("size", legend=None, scale={"range": [30, 320]}),
                            "stroke": {"condition": highlight, "value": None},
                            "strokeWidth": {"value": 2},
                            "tooltip": tooltip(("label", "Study"), ("events_n", counts_header),
                                               ("estimate_ci", value_header),
                                               ("weight_text", "Weight in its class pool")),
                            "x": field("estimate", scale=X_SCALE, title=x_title), "y": y},
               "transform": kind_is("study")}
    diamonds = {"data": {"name": diamond_name},
                "mark": {"type": "area", "opacity": 0.9, "orient": "vertical"},
                "encoding": {"color": class_colour, "detail": field("label", "nominal"),
                             "tooltip": tooltip(("label", "Pooled"),
                                                ("estimate_ci", value_header)),
                             "x": field("x", scale=X_SCALE),
                             "y": field("top", axis=None, scale=y["scale"]),
                             "y2": {"field": "bottom"}}}
    # Not estimable by random-effects pooling: the summed counts' exact interval, drawn as a
    # thick bar (not a diamond) so it is not read as a pooled estimate.
    summed = {"mark": {"type": "rule", "opacity": 0.6, "strokeWidth": 5},
              "encoding": {"color": class_colour,
                           "tooltip": tooltip(("label", "Not estimable"),
                                              ("events_n", f"Summed {counts_header}"),
                                              ("estimate_ci", exact_header)),
                           "x": field("low", scale=X_SCALE), "x2": {"field": "high"}, "y": y},
              "transform": kind_is("summed")}
    pi = {"mark": {"type": "rule", "color": "#222", "strokeDash": [3, 2], "strokeWidth": 2},
          "encoding": {"tooltip": tooltip(("estimate_ci", "Prediction interval %")),
                       "x": field("low", scale=X_SCALE), "x2": {"field": "high"}, "y": y},
          "transform": kind_is("pi")}
    return [ci, squares, diamonds, summed, pi]


def _text_columns(counts_header: str, value_name: str, interval: str, y_scale: dict,
                  highlight: dict) -> tuple[list[dict], list]:
    """The text marks of the label and number columns (plain for arms, bold for pooled lines)
    and their headers, with the headers' rows (a dataset of their own).

    Each column stands at a distance from the figure's left or right edge set by the layout
    (LAYOUT); a cell broken into two lines is moved up half a line so it stays centred on
    its row.
    """
    columns: dict[str, dict | int] = {
        "label": 0, "events_n": _from_right("events_n"),
        "estimate_ci": _from_right("estimate_ci"), "weight_text": _from_right("weight_text")}
    narrow_of = {"label": "label_narrow", "estimate_ci": "estimate_ci_narrow"}
    font = {"fontSize": _by_width("font"), "lineHeight": {"expr": "narrow ? 11 : 12"},
            "lineBreak": "\n"}
    layers: list[dict] = []
    for column, x in columns.items():
        wide = "label_wide" if column == "label" else column
        place = [{"calculate": f"narrow ? datum.{narrow_of.get(column, column)} : datum.{wide}",
                  "as": "shown"},
                 {"calculate": f"datum.row + (indexof(datum.shown, '\\n') >= 0 ? "
                               f"{6 / ROW_HEIGHT:.4f} : 0)", "as": "text_y"}]
        text = {"text": field("shown", "nominal"),
                "y": field("text_y", axis=None, scale=y_scale)}
        mark = {"type": "text", "align": "left", "baseline": "middle", "x": x, **font}
        layers += [
            {"mark": mark, "transform": [{"filter": "(datum.kind === 'study')"}, *place],
             "encoding": {"color": {"condition": highlight, "value": "#222"}, **text}},
            {"mark": {**mark, "fontWeight": "bold"},
             "transform": [{"filter": "(datum.kind !== 'study')"}, *place], "encoding": text},
        ]
    wide_header = {"label": "Study / arm", "events_n": counts_header,
                   "estimate_ci": f"{value_name} % [{interval}]", "weight_text": "Weight"}
    narrow_header = {**wide_header, "events_n": _two_lines(counts_header),
                     "estimate_ci": f"{value_name} %\n[{interval}]"}
    header_rows = [{"wide": wide_header[c], "narrow": narrow_header[c], "column": c,
                    "y": HEADER_BOTTOM} for c in columns]
    layers += [
        {"data": {"name": dataset_name(header_rows)},
         "transform": [{"filter": f"datum.column === '{c}'"},
                       {"calculate": "narrow ? datum.narrow : datum.wide", "as": "shown"}],
         "mark": {"type": "text", "align": "left", "baseline": "bottom", "x": x,
                  "fontWeight": "bold", **font},
         "encoding": {"text": field("shown", "nominal"),
                      "y": field("y", axis=None, scale=y_scale)}}
        for c, x in columns.items()]
    return layers, header_rows


def _two_lines(counts_header: str) -> str:
    """The counts header on two lines for a narrow figure, broken after its last hyphen or
    space ('Progression-' / 'free/n', 'Grade ≥ 3' / 'TRAE/n'), else before '/n': one long line
    ran into the next column."""
    what = counts_header.removesuffix("/n")
    for sep in ("-", " "):
        if sep in what:
            head, _, tail = what.rpartition(sep)
            return f"{head}{sep.strip()}\n{tail}/n"
    return f"{what}\n/n"


def _diamond_points(pooled: pd.DataFrame) -> list[dict]:
    """Each pooled row as a diamond spanning its CI (an area between two polylines)."""
    return [{"label": r.label, "group": r.group, "x": x, "top": r.row + half,
             "bottom": r.row - half, "estimate_ci": r.estimate_ci}
            for r in pooled.itertuples(index=False)
            for x, half in ((r.low, 0.0), (r.estimate, DIAMOND_HALF_HEIGHT), (r.high, 0.0))]


def with_reference(spec: dict, reference: float | None, label: str = "reference") -> dict:
    """`forest_chart(rows)` with the dashed reference line of `forest_chart(rows, reference)`
    added to its plot, without rebuilding the chart.

    The reference ORR is a free number a user types: a spec cached per reference would be one
    more cached chart for every value anyone types. The spec without a reference is cached by
    its rows; the two reference layers (rule and label, the same marks and scale as
    forest_chart's) are added here. `label` names the line ("EORTC 2002 activity"); each
    further line's label sits one line lower, so labels of close values stay readable.
    """
    if reference is None:
        return spec
    # Copy only the path that changes (the spec may be a shared cached object; a deep copy
    # of its data costs more than the rest of a rerun).
    out = dict(spec, layer=list(spec["layer"]), datasets=dict(spec.get("datasets", {})))
    x = {"field": "reference", "type": "quantitative", "scale": X_SCALE}
    # a named dataset, like the others, so Streamlit ships it as Arrow beside them
    line = [{"reference": 100 * reference, "text": f"{label} {100 * reference:.0f}%"}]
    earlier = sum(1 for layer in spec["layer"]  # reference labels already drawn
                  if layer.get("encoding", {}).get("x", {}).get("field") == "reference"
                  and layer.get("mark", {}).get("type") == "text")
    data = {"name": dataset_name(line)}
    out["datasets"][data["name"]] = line
    out["layer"] += [
        {"data": data, "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#888"},
         "encoding": {"x": x}},
        {"data": data, "mark": {"type": "text", "align": "left", "dx": 3,
                                "dy": -6 + 12 * earlier, "color": "#666", "fontSize": 10},
         "encoding": {"x": x, "y": {"value": 0}, "text": {"field": "text", "type": "nominal"}}},
    ]
    return out
