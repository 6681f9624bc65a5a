"""PRISMA 2020 flow diagram of the catalog (new systematic review; databases and registers beside
other methods), drawn from :class:`~comparators.evidence.search_log.PrismaFlow`.

Pure: the flow in, a Vega-Lite spec (dict) out. The boxes, their wording and the arrows follow
the PRISMA 2020 template (Page MJ, et al. BMJ 2021;372:n71): identification, screening and
included phases down the left; records removed, excluded and not retrieved to the right of the
box they leave. Every number printed is a count in the flow object.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from comparators.charts.vegalite import field, top_level
from comparators.evidence.search_log import BranchFlow, Count, PrismaFlow

_CHAR_W = 6.1  # px per character at the 11 px font, for wrapping
_LINE_H = 14
_PAD = 8
_GAP = 28  # vertical gap between rows (room for an arrow)
_PHASE_W = 26
_MAIN_W, _SIDE_W, _COL_GAP, _BLOCK_GAP = 250, 290, 26, 44
_INCLUDED_H = 84  # tall enough for the rotated phase label beside it
_HEADER_FILL, _PHASE_FILL, _BOX_FILL, _STROKE = "#f5d76e", "#a9cce3", "#ffffff", "#34495e"


@dataclass
class _Box:
    x: float
    y: float
    w: float
    lines: list[str]
    fill: str = _BOX_FILL
    bold_first: bool = False
    align: str = "left"
    h: float = 0.0

    def __post_init__(self) -> None:
        self.h = self.h or len(self.lines) * _LINE_H + 2 * _PAD


_NBSP = "\u00a0"  # keeps "(n = 3)" on one line; leading spaces would collapse in SVG
_BULLET = "\u2022" + _NBSP


def _n(n: int) -> str:
    return f"(n{_NBSP}={_NBSP}{n})"


def _wrap(text: str, width_px: float, item: bool = False) -> list[str]:
    """`text` broken into lines that fit `width_px`; an item gets a bullet and a hanging indent."""
    width = max(12, int((width_px - 2 * _PAD) / _CHAR_W))
    if not item:
        return textwrap.wrap(text, width) or [""]
    return textwrap.wrap(text, width, initial_indent=_BULLET,
                         subsequent_indent=_NBSP * 4) or [_BULLET]


def _list_box(x: float, w: float, head: str, counts: tuple[Count, ...], total: int) -> _Box:
    lines = _wrap(f"{head} {_n(total)}", w)
    for c in counts:
        lines += _wrap(f"{c.label} {_n(c.n)}", w, item=True)
    return _Box(x, 0, w, lines)


def prisma_flow_chart(flow: PrismaFlow, title: str = "How the comparator catalog was found "
                                                     "(PRISMA 2020)") -> dict:
    """The PRISMA 2020 flow diagram for new systematic reviews with databases, registers and
    other sources, as a Vega-Lite spec."""
    rows, width = _prisma_rows(flow)
    frame, total_h = _placed_parts(rows)
    subtitle = textwrap.wrap(flow.note(), 170)
    return top_level({"layer": _prisma_layers(width, total_h),
                      "width": width, "height": total_h,
                      "title": {"text": title, "subtitle": subtitle, "anchor": "start"},
                      "config": {"view": {"stroke": None}}}, frame,
                     config={"view": {"continuousWidth": 300, "continuousHeight": 300,
                                      "stroke": None}})


def _prisma_rows(flow: PrismaFlow) -> tuple[list[list[_Box]], float]:
    """The diagram's boxes, row by row (tops still unset), and the diagram's width."""
    left_main = _PHASE_W + 14
    left_side = left_main + _MAIN_W + _COL_GAP
    right_main = left_side + _SIDE_W + _BLOCK_GAP
    right_side = right_main + _MAIN_W + _COL_GAP
    width = right_side + _SIDE_W
    db, other = flow.databases, flow.other

    rows: list[list[_Box]] = []
    headers = [_Box(left_main, 0, left_side + _SIDE_W - left_main,
                    ["Identification of studies via databases and registers"], _HEADER_FILL,
                    align="center"),
               _Box(right_main, 0, width - right_main,
                    ["Identification of studies via other methods"], _HEADER_FILL,
                    align="center")]
    rows.append(headers)
    ident = [_identified_box(left_main, db), _identified_box(right_main, other),
             _Box(left_side, 0, _SIDE_W, ["Records removed before screening:"]
                  + _wrap(f"Duplicate records removed {_n(db.duplicates)}", _SIDE_W, item=True))]
    if other.duplicates:
        ident.append(_Box(right_side, 0, _SIDE_W, _wrap(
            f"Duplicates of records already identified {_n(other.duplicates)}", _SIDE_W)))
    rows.append(ident)
    rows.append(_step(left_main, left_side, "Records screened", db.screened,
                      "Records excluded", db.excluded_screening, db.sought))
    columns = ((left_main, left_side, db), (right_main, right_side, other))
    rows.append([box for x, side, b in columns for box in _step(
        x, side, "Reports sought for retrieval", b.sought, "Reports not retrieved",
        b.not_retrieved, b.assessed)])
    rows.append([box for x, side, b in columns for box in _step(
        x, side, "Reports assessed for eligibility", b.assessed, "Reports excluded:",
        b.excluded, b.included)])
    rows.append([_Box(left_main, 0, _MAIN_W, [
        f"Studies included in review {_n(flow.studies)}",
        f"Reports of included studies {_n(flow.reports)}"], h=_INCLUDED_H)])
    return rows, width


def _placed_parts(rows: list[list[_Box]]) -> tuple[pd.DataFrame, float]:
    """Boxes, phase bands and arrows as one frame of parts once the rows are stacked, and the
    total height."""
    y = 0.0
    for row in rows:  # each row as tall as its tallest box; boxes of a row share a top
        height = max(b.h for b in row)
        for b in row:
            b.y = y
        y += height + _GAP
    total_h = y - _GAP
    boxes = [b for row in rows for b in row]
    phases = [("Identification", rows[1]), ("Screening", rows[2] + rows[3] + rows[4]),
              ("Included", rows[5])]
    parts = [_box_part(b) for b in boxes]
    for label, members in phases:
        top, bottom = min(b.y for b in members), max(b.y + b.h for b in members)
        parts.append({"part": "phase", "x": 0, "x2": _PHASE_W, "y": top, "y2": bottom,
                      "tx": _PHASE_W / 2, "ty": (top + bottom) / 2, "text": [label],
                      "fill": _PHASE_FILL, "align": "center"})
    parts += _arrows(rows)
    return pd.DataFrame(parts), total_h


def _prisma_layers(width: float, total_h: float) -> list[dict]:
    """Rectangles, box and phase text, arrow lines and heads, on identity scales."""
    x_scale = {"domain": [0, width], "range": [0, width], "nice": False, "zero": False}
    y_scale = {"domain": [0, total_h], "range": [0, total_h], "nice": False, "zero": False}

    def only(*names: str) -> list[dict]:
        return [{"filter": {"field": "part", "oneOf": list(names)}}]

    def xy(x: str, y: str) -> dict:
        return {"x": field(x, scale=x_scale, axis=None), "y": field(y, scale=y_scale, axis=None)}

    rects = {"transform": only("box", "phase"),
             "mark": {"type": "rect", "stroke": _STROKE, "strokeWidth": 1},
             "encoding": {**xy("x", "y"), "x2": {"field": "x2"}, "y2": {"field": "y2"},
                          "fill": field("fill", "nominal", scale=None)}}
    texts = []
    for align in ("left", "center"):
        texts.append({"transform": only("box") + [{"filter": {"field": "align", "equal": align}}],
                      "mark": {"type": "text", "align": align, "baseline": "top", "fontSize": 11,
                               "lineHeight": _LINE_H, "color": "#1b2631"},
                      "encoding": {**xy("tx", "ty"), "text": {"field": "text"}}})
    phase_text = {"transform": only("phase"),
                  "mark": {"type": "text", "angle": 270, "align": "center", "baseline": "middle",
                           "fontSize": 12, "fontWeight": "bold", "color": "#1b2631"},
                  "encoding": {**xy("tx", "ty"), "text": {"field": "text"}}}
    lines = {"transform": only("arrow"), "mark": {"type": "rule", "color": _STROKE},
             "encoding": {**xy("x", "y"), "x2": {"field": "x2"}, "y2": {"field": "y2"}}}
    heads = {"transform": only("head"),
             "mark": {"type": "point", "filled": True, "color": _STROKE, "size": 40,
                      "opacity": 1},
             "encoding": {**xy("x", "y"), "shape": field("shape", "nominal", scale=None)}}
    return [rects, *texts, phase_text, lines, heads]


def _step(x: float, side_x: float, label: str, n: int, side_label: str,
          side_counts: tuple[Count, ...], n_next: int) -> list[_Box]:
    """A box of the main column and, beside it, the box of what left the flow there (the
    difference between this box and the next, itemised by reason)."""
    return [_Box(x, 0, _MAIN_W, _wrap(f"{label} {_n(n)}", _MAIN_W)),
            _list_box(side_x, _SIDE_W, side_label, side_counts, n - n_next)]


def _identified_box(x: float, branch: BranchFlow) -> _Box:
    lines = ["Records identified from:"]
    for c in branch.identified:
        lines += _wrap(f"{c.label} {_n(c.n)}", _MAIN_W, item=True)
    return _Box(x, 0, _MAIN_W, lines)


def _box_part(b: _Box) -> dict:
    tx = b.x + b.w / 2 if b.align == "center" else b.x + _PAD
    return {"part": "box", "x": b.x, "x2": b.x + b.w, "y": b.y, "y2": b.y + b.h, "tx": tx,
            "ty": b.y + _PAD, "text": b.lines, "fill": b.fill, "align": b.align}


def _arrows(rows: list[list[_Box]]) -> list[dict]:
    """Down each main column from row to row, and right from a main box to its side box."""
    out: list[dict] = []

    def arrow(x: float, y: float, x2: float, y2: float, shape: str) -> None:
        out.append({"part": "arrow", "x": x, "y": y, "x2": x2, "y2": y2})
        out.append({"part": "head", "x": x2, "y": y2, "shape": shape})

    body = rows[1:]  # below the headers
    mains_x = sorted({b.x for b in body[0] if b.lines[0] == "Records identified from:"})
    for column_x in mains_x:
        column = [b for row in body for b in row if b.x == column_x]
        for upper, lower in zip(column, column[1:], strict=False):
            cx = upper.x + upper.w / 2
            arrow(cx, upper.y + upper.h, cx, lower.y - 4, "triangle-down")
        for main in column:
            side = [b for row in body for b in row
                    if b.y == main.y and b.x == main.x + main.w + _COL_GAP]
            for s in side:
                mid = main.y + min(main.h, s.h) / 2
                arrow(main.x + main.w, mid, s.x - 4, mid, "triangle-right")
    included = body[-1][0]
    right_assessed = [b for b in body[-2] if b.x == mains_x[-1]]
    for b in right_assessed:  # other methods' assessed reports join the included box
        cx = b.x + b.w / 2
        mid = included.y + included.h / 2
        out.append({"part": "arrow", "x": cx, "y": b.y + b.h, "x2": cx, "y2": mid})
        arrow(cx, mid, included.x + included.w + 4, mid, "triangle-left")
    return out
