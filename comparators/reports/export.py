"""Exports that leave the app: chart images (offline, via vl-convert) and spreadsheet-safe CSV.

Every string bound for a native renderer (vl-convert's SVG/PNG, python-docx's lxml) passes
`renderable_text` first: vl-convert *panics* on a character XML 1.0 forbids (a C0 control such as
U+0001, U+FFFE, U+FFFF), and a Rust panic aborts the whole Python process - on a shared
Streamlit server, every visitor's session. lxml refuses the same characters with ValueError.
"""

from __future__ import annotations

import json
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


def chart_svg(chart: ChartLike) -> str:
    """SVG text of an Altair chart or a Vega-Lite spec dict (rendered offline)."""
    import vl_convert as vlc

    spec = renderable_spec(chart)
    refuse_unrenderable(spec)
    return vlc.vegalite_to_svg(spec)


def chart_png(chart: ChartLike, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    spec = renderable_spec(chart)
    refuse_unrenderable(spec)
    return vlc.vegalite_to_png(spec, scale=scale)


def chart_pdf(chart: ChartLike) -> bytes:
    """Vector PDF of an Altair chart or a Vega-Lite spec dict (rendered offline, text as
    embedded fonts), cleaned as the SVG and PNG are."""
    import vl_convert as vlc

    spec = renderable_spec(chart)
    refuse_unrenderable(spec)
    return vlc.vegalite_to_pdf(spec)


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
