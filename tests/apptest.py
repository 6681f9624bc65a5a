"""Shared AppTest helpers: open the real entry point on a given page, with optional URL state."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
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


def page_text(at: AppTest) -> str:
    """Everything a user reads as text: markdown, captions, metrics, headers, alerts."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning",
                 "info", "success"):
        parts += [str(e.value) for e in at.get(kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def chart_specs(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]


def chart_data(at: AppTest) -> list[pd.DataFrame]:
    """The rows each chart draws (Streamlit ships Altair data as Arrow datasets)."""
    frames = []
    for chart in at.get("vega_lite_chart"):
        for dataset in chart.proto.datasets:
            frames.append(pa.ipc.open_stream(dataset.data.data).read_pandas())
    return frames
