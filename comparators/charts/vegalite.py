"""Helpers shared by the chart builders: titles, and Vega-Lite specs written as plain dicts.

Composing a chart from Altair objects copies it at every step (0.05-0.35 s per chart here); the
builders that run on every new fit or option write the same spec as dicts instead. These
helpers reproduce what Altair's ``to_dict()`` puts around the marks (the datasets, their names,
the default view config), so a dict-built spec equals the Altair one it replaced.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import cast

import altair as alt
import pandas as pd
from altair.utils.data import to_values

#: Altair's default theme, written into every spec it makes.
DEFAULT_CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300}}


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as Altair writes them into a spec (NaN as null, numpy scalars as Python)."""
    return cast(list, to_values(frame)["values"])


def dataset_name(values: list[dict]) -> str:
    """Altair's name for a dataset: a hash of its rows, so new rows get a new name."""
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def field(name: str, kind: str = "quantitative", **props: object) -> dict:
    """An encoding channel on a data field: {"field": ..., "type": ..., **props}."""
    return {"field": name, "type": kind, **props}


def top_level(spec: dict, frame: pd.DataFrame, config: dict | None = None) -> dict:
    """`spec` as a top-level chart of `frame`'s rows: the data as a named dataset, the schema
    URL and the view config, as Altair writes them."""
    values = records(frame)
    name = dataset_name(values)
    return {"config": config or DEFAULT_CONFIG, **spec, "data": {"name": name},
            "$schema": alt.SCHEMA_URL, "datasets": {name: values}}


def chart_title(title: str, subtitle: str | Sequence[str] | None) -> alt.TitleParams:
    """A chart's title with its subtitle lines (the settings and sources behind it)."""
    if subtitle is None:
        return alt.TitleParams(title)
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return alt.TitleParams(title, subtitle=lines)
