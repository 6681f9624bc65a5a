"""Shared AppTest helpers: open the real entry point on a given page, with optional URL state."""

from __future__ import annotations

import csv
import io
import json
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pyarrow as pa
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ENTRY = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def open_page(page: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """Open the app (with `query` in the URL), then go to `page` as a user clicking the menu."""
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_link(page: str, query: dict[str, str]) -> AppTest:
    """Open a link straight onto `page`: the session's first run is that page.

    AppTest resolves a page before the first run by its file name, so this works for pages
    whose url_path is their file's stem (e.g. views/benchmark.py -> /benchmark).
    """
    at = AppTest.from_file(ENTRY, default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def unfold(at: AppTest, *keys: str) -> AppTest:
    """Open the folded expanders `keys` (views.common.folded builds their content only while
    open; every one on the page when no key is given), as a user's click does, and rerun."""
    for key in keys or [e.key for e in at.expander if e.key]:
        at.session_state[key] = True
    return at.run()


def page_text(at: AppTest) -> str:
    """Everything a user reads as text: markdown, captions, metrics, headers, alerts."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning",
                 "info", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def shown_cells(table: Any, column: str) -> list[str]:
    """A dataframe column's cells as a user reads them: a missing value as the table's
    `placeholder` (Streamlit draws "None" when the table sets none), a value as its text."""
    missing = table.proto.placeholder if table.proto.HasField("placeholder") else "None"
    return [missing if pd.isna(v) else str(v) for v in table.value[column]]


def shared_link(at: AppTest) -> dict[str, list[str]]:
    """The query of the sidebar's "Link to this view" (every value of each key)."""
    (code,) = [c.value for c in at.code if "catalog=" in c.value]
    return parse_qs(urlsplit(code).query)


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The rows each chart draws (Streamlit ships Altair data as Arrow datasets)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(dataset.data.data).read_pandas())
    return frames


#: Bytes of the files Streamlit stored for download buttons, by file id (the newest 2,000).
#: AppTest's in-memory media storage is dropped with its run, so the bytes are copied as
#: they are stored; the storage itself is unchanged.
_STORED: OrderedDict[str, bytes] = OrderedDict()
_store = MemoryMediaFileStorage.load_and_get_id


def _recording_store(self, data, mimetype, kind, filename=None):  # type: ignore[no-untyped-def]
    file_id = _store(self, data, mimetype, kind, filename)
    _STORED[file_id] = data if isinstance(data, bytes) else Path(data).read_bytes()
    _STORED.move_to_end(file_id)
    while len(_STORED) > 2000:
        _STORED.popitem(last=False)
    return file_id


MemoryMediaFileStorage.load_and_get_id = _recording_store  # type: ignore[method-assign]


def download_bytes(at: AppTest, key: str) -> bytes:
    """The bytes behind the download button with widget key `key`."""
    (button,) = [b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}")]
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    if file_id not in _STORED:
        raise AssertionError(f"no media for {key}")
    return _STORED[file_id]


#: What a spreadsheet reads as the start of a formula (written out here, not imported from the
#: app, so the check does not share the app's definition).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def assert_csv_cells_inert(data: bytes, where: str = "") -> None:
    """Read the CSV as a spreadsheet does (a bare CR outside quotes also ends a row): no cell
    starts a formula unless it is a number."""
    for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=None)):
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES) or _is_number(cell), (where, cell, row)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
