"""Exports that leave the app: chart images (offline, via vl-convert) and spreadsheet-safe CSV."""

from __future__ import annotations

import altair as alt
import pandas as pd

# A cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets
# (OWASP "CSV injection"); a leading apostrophe makes it inert text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


ChartLike = alt.TopLevelMixin | dict


def _spec(chart: ChartLike) -> dict:
    return chart if isinstance(chart, dict) else chart.to_dict()


def chart_svg(chart: ChartLike) -> str:
    """SVG text of an Altair chart or a Vega-Lite spec dict (rendered offline)."""
    import vl_convert as vlc

    return vlc.vegalite_to_svg(_spec(chart))


def chart_png(chart: ChartLike, scale: float = 2.0) -> bytes:
    import vl_convert as vlc

    return vlc.vegalite_to_png(_spec(chart), scale=scale)


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
