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

# A cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets
# (OWASP "CSV injection"); a leading apostrophe makes it inert text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: What no rendered text may hold: the input boundary's unsafe characters (comparators.inputs),
#: so text a visitor typed and text bound for a renderer are cleaned by one rule.
UNRENDERABLE = UNSAFE_CHARACTERS
#: Longest string in a chart image: vl-convert measures text slowly (about 40 us per character
#: per trial width when a label must be truncated to fit), so 150 swimmer lanes named by
#: 1,000-character ids took 40 s. The longest in the app's own charts is 223 (a tooltip).
MAX_RENDER_CHARS = 300
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


def safe_csv(frame: pd.DataFrame, header_note: str | None = None) -> bytes:
    """CSV bytes with formulas neutralised; `header_note` (e.g. 'SYNTHETIC example data')
    becomes a first comment line so the label travels with the file."""
    # CRLF line ends (RFC 4180) make the writer quote any cell holding a bare CR or LF, so a
    # "\r=cmd" cell cannot start a new spreadsheet row with a live formula.
    body = neutralise_formulas(frame).to_csv(index=False, lineterminator="\r\n")
    if header_note:
        # The note is a cell like any other: one line, written by the CSV writer (quoted when
        # it holds a comma or quote) and formula-neutralised, so a file name such as
        # "x,=1+1.csv" in the caveat cannot become a live second cell.
        note = " ".join(str(header_note).split())  # one line, whatever the caveat holds
        line = pd.DataFrame([[f"# {note}"]]).pipe(neutralise_formulas)
        body = line.to_csv(index=False, header=False, lineterminator="\r\n") + body
    return body.encode("utf-8")
