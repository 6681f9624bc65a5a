"""Exports that leave the app: chart images (offline, via vl-convert) and spreadsheet-safe CSV.

Every string bound for a native renderer (vl-convert's SVG/PNG, python-docx's lxml) passes
`renderable_text` first: vl-convert *panics* on a character XML 1.0 forbids (a C0 control such as
U+0001, U+FFFE, U+FFFF), and a Rust panic aborts the whole Python process - on a shared
Streamlit server, every visitor's session. lxml refuses the same characters with ValueError.
"""

from __future__ import annotations

import json
import re
from typing import Any

import altair as alt
import pandas as pd

from comparators.inputs import UNSAFE_CHARACTERS
from comparators.limits import MAX_RENDER_CHARS

# A cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets
# (OWASP "CSV injection"); a leading apostrophe makes it inert text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: What no rendered text may hold: the input boundary's unsafe characters (comparators.inputs),
#: so text a visitor typed and text bound for a renderer are cleaned by one rule.
UNRENDERABLE = UNSAFE_CHARACTERS
ELLIPSIS = "\u2026"

ChartLike = alt.TopLevelMixin | dict


def renderable_text(text: str, max_chars: int | None = None) -> str:
    """`text` without the code points in UNRENDERABLE; longer than `max_chars`, its middle is
    replaced by an ellipsis (keeping the end keeps ids such as "...-017" and "...-018" apart)."""
    out = UNRENDERABLE.sub("", text)
    if max_chars is not None and len(out) > max_chars:
        head = (max_chars - 1) // 2
        out = out[:head] + ELLIPSIS + out[len(out) - (max_chars - 1 - head):]
    return out


def renderable_spec(chart: ChartLike) -> dict:
    """A copy of the chart's Vega-Lite spec in which every string (titles, labels, data values,
    field names, tooltips, legends, datasets) is `renderable_text`, clipped to MAX_RENDER_CHARS.

    The spec goes through JSON first, so whatever the builder put in (tuples, numpy scalars,
    str subclasses) is plain JSON data when it is cleaned, and nothing escapes the walk. The
    same clipping applies to keys and values, so a field name still matches its data.
    """
    spec = chart if isinstance(chart, dict) else chart.to_dict()
    plain = json.loads(json.dumps(spec, default=_json_scalar))

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return renderable_text(value, MAX_RENDER_CHARS)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(plain)


def _json_scalar(value: object) -> object:
    """A numpy scalar as the Python number it holds; anything else as its text."""
    item = getattr(value, "item", None)
    return item() if callable(item) else str(value)


def refuse_unrenderable(spec: Any) -> None:
    """The renderer's own guard: raise ValueError for a spec still holding an unrenderable or
    over-long string or a non-JSON value (a bug in the cleaning must raise here, not abort the
    process inside vl-convert)."""
    stack = [spec]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if UNRENDERABLE.search(value) or len(value) > MAX_RENDER_CHARS:
                raise ValueError(f"chart text not cleaned for rendering: {value[:40]!r}")
        elif isinstance(value, dict):
            stack += [*value.keys(), *value.values()]
        elif isinstance(value, list):
            stack += value
        elif not (value is None or isinstance(value, bool | int | float)):
            raise ValueError(f"chart spec holds a {type(value).__name__}, not JSON data")


#: Journal figure widths in mm: one column and two (the full text width).
FIGURE_WIDTHS_MM = {"single": 85.0, "double": 175.0}
DEFAULT_FIGURE_WIDTH = "double"
#: A figure whose width follows its container (the forest plot) is drawn this many pixels
#: wide per mm of page: 420 px for one column, where its narrow layout fits, and the 11-px
#: type prints at about 6 pt (11 * 25.4 / 72 / 4.94 mm).
DRAWING_PX_PER_MM = 420 / 85
POINTS_PER_MM = 72 / 25.4
PNG_PPI = 300


def print_spec(chart: ChartLike, width: str = DEFAULT_FIGURE_WIDTH) -> dict:
    """The chart's spec cleaned for rendering (`renderable_spec`), a width that follows the
    container set to the journal `width`'s drawing width; refused if still unrenderable."""
    spec = renderable_spec(chart)
    if spec.get("width") == "container":
        spec["width"] = round(FIGURE_WIDTHS_MM[width] * DRAWING_PX_PER_MM)
    refuse_unrenderable(spec)
    return spec


def _drawn_svg(chart: ChartLike, width: str) -> tuple[str, float, float]:
    """The chart drawn as SVG (offline), with its width and height in pixels."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(print_spec(chart, width))
    root = re.match(r'<svg[^>]*? width="([\d.]+)" height="([\d.]+)"', svg)
    if root is None:  # vl-convert always sizes its root; a bug if not
        raise ValueError("the rendered SVG has no width and height")
    return svg, float(root[1]), float(root[2])


def _resized(svg: str, width: str, height: str) -> str:
    """`svg` with its root's width and height replaced (the viewBox keeps the drawing)."""
    return re.sub(r'^(<svg[^>]*?) width="[\d.]+" height="[\d.]+"',
                  lambda m: f'{m[1]} width="{width}" height="{height}"', svg, count=1)


def chart_svg(chart: ChartLike, width: str = DEFAULT_FIGURE_WIDTH) -> str:
    """SVG text of an Altair chart or a Vega-Lite spec dict (rendered offline), sized in mm
    to the journal `width` (FIGURE_WIDTHS_MM)."""
    svg, w, h = _drawn_svg(chart, width)
    mm = FIGURE_WIDTHS_MM[width]
    return _resized(svg, f"{mm:g}mm", f"{mm * h / w:.2f}mm")


def chart_png(chart: ChartLike, width: str = DEFAULT_FIGURE_WIDTH) -> bytes:
    """PNG of the chart at PNG_PPI, as wide as the journal `width`."""
    import vl_convert as vlc

    svg, w, _ = _drawn_svg(chart, width)
    pixels = FIGURE_WIDTHS_MM[width] / 25.4 * PNG_PPI
    # vl-convert multiplies `scale` by ppi / 72 (its pixels are points at 72 ppi)
    return vlc.svg_to_png(svg, scale=pixels / w * 72 / PNG_PPI, ppi=PNG_PPI)


def chart_pdf(chart: ChartLike, width: str = DEFAULT_FIGURE_WIDTH) -> bytes:
    """Vector PDF of the chart, its page as wide as the journal `width`, text drawn with
    embedded fonts, cleaned as the SVG and PNG are.

    The drawing is scaled to the page through the SVG's size: the PDF writer reads a
    unitless SVG length as one point.
    """
    import vl_convert as vlc

    svg, w, h = _drawn_svg(chart, width)
    points = FIGURE_WIDTHS_MM[width] * POINTS_PER_MM
    return vlc.svg_to_pdf(_resized(svg, f"{points:.2f}", f"{points * h / w:.2f}"))


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy in which every text cell that a spreadsheet would evaluate is made inert."""

    def inert(value: object) -> object:
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(inert)
    out.columns = [inert(c) for c in out.columns]
    return out


#: The column every stamped CSV export carries its reproducibility stamp in.
STAMP_COLUMN = "provenance"


def safe_csv(frame: pd.DataFrame, stamp: str | None = None) -> bytes:
    """The one CSV writer of the app and the CLI: UTF-8, a header row, then the data rows,
    with every cell a spreadsheet would evaluate made inert.

    `stamp` (the export's settings and catalog version, and a caveat such as "SYNTHETIC
    example data" when the data are not observed) becomes the last column, `provenance`,
    repeated on every row. The stamp goes in a column because the readers' defaults leave no
    other place for it: pandas' `read_csv` does not skip comment lines unless told
    (`comment=` is off by default), R's `read.csv` has `comment.char = ""`, and a sidecar file
    would turn the download into a zip that neither reads. A column reads with both defaults,
    stays with every row a user filters or pastes elsewhere, and needs no second file.
    A frame with no rows has no row to carry it (the stamp is left out, the header stays).
    """
    data = frame
    if stamp:
        if STAMP_COLUMN in frame.columns:  # a bug in the caller, not user input
            raise ValueError(f"the frame already has a {STAMP_COLUMN!r} column")
        data = frame.assign(**{STAMP_COLUMN: " ".join(str(stamp).split())})  # one line
    # CRLF line ends (RFC 4180) make the writer quote any cell holding a bare CR or LF, so a
    # "\r=cmd" cell cannot start a new spreadsheet row with a live formula; a stamp naming a
    # file such as "x,=1+1.csv" is a cell like any other, quoted and neutralised.
    body = neutralise_formulas(data).to_csv(index=False, lineterminator="\r\n")
    return body.encode("utf-8")
