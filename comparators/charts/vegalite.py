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
from altair.utils.data import limit_rows, to_values

#: Altair's default theme, written into every spec it makes.
DEFAULT_CONFIG = {"view": {"continuousWidth": 300, "continuousHeight": 300}}


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as Altair writes them into a spec (NaN as null, numpy scalars as Python); more
    than Altair's 5,000 rows are refused as Altair refuses them (MaxRowsError)."""
    return cast(list, to_values(limit_rows(frame))["values"])


def dataset_name(values: list[dict]) -> str:
    """Altair's name for a dataset: a hash of its rows, so new rows get a new name."""
    text = json.dumps(values, sort_keys=True, default=str)
    return "data-" + hashlib.sha256(text.encode()).hexdigest()[:32]


def field(name: str, kind: str = "quantitative", **props: object) -> dict:
    """An encoding channel on a data field: {"field": ..., "type": ..., **props}."""
    return {"field": name, "type": kind, **props}


def tip(name: str, kind: str = "quantitative", title: str | None = None,
        fmt: str | None = None) -> dict:
    """A tooltip entry: a field with, when given, its title and number format."""
    return field(name, kind, **({"title": title} if title else {}),
                 **({"format": fmt} if fmt else {}))


def datum_is(name: str, value: str | None) -> str:
    """The test ``datum.name === value`` as Altair writes ``alt.datum.name == value``."""
    return f"(datum.{name} === {'null' if value is None else repr(value)})"


def top_level(spec: dict, frame: pd.DataFrame, config: dict | None = None) -> dict:
    """`spec` as a top-level chart of `frame`'s rows: the data as a named dataset, the schema
    URL and the view config, as Altair writes them."""
    values = records(frame)
    name = dataset_name(values)
    return {"config": config or DEFAULT_CONFIG, **spec, "data": {"name": name},
            "$schema": alt.SCHEMA_URL, "datasets": {name: values}}


def title_spec(title: str, subtitle: str | Sequence[str] | None) -> dict:
    """`chart_title(title, subtitle)` as the dict it writes into a spec."""
    if subtitle is None:
        return {"text": title}
    return {"text": title, "subtitle": [subtitle] if isinstance(subtitle, str) else list(subtitle)}


def named_data(frame: pd.DataFrame | list[dict]) -> tuple[dict, dict[str, list[dict]]]:
    """A layer's own rows as Altair writes them: the layer's ``data`` reference and the
    top-level ``datasets`` entry it names. A list of rows goes through a frame, as it did in
    Altair, so numpy numbers come out as Python's."""
    values = records(pd.DataFrame(frame) if isinstance(frame, list) else frame)
    name = dataset_name(values)
    return {"name": name}, {name: values}


def layered(spec: dict, datasets: dict[str, list[dict]]) -> dict:
    """`spec` (layers that each name their own rows) as a top-level chart: the datasets, the
    schema URL and the view config, as Altair writes a layer chart whose layers differ in data."""
    return {"config": DEFAULT_CONFIG, **spec, "$schema": alt.SCHEMA_URL, "datasets": datasets}


def chart_title(title: str, subtitle: str | Sequence[str] | None) -> alt.TitleParams:
    """A chart's title with its subtitle lines (the settings and sources behind it)."""
    if subtitle is None:
        return alt.TitleParams(title)
    lines = [subtitle] if isinstance(subtitle, str) else list(subtitle)
    return alt.TitleParams(title, subtitle=lines)
