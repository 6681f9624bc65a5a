"""views.common.show_chart ships a spec's rows as Arrow bytes it made once; the browser must
receive the same tables (and the same spec) as from st.vega_lite_chart itself."""

import gc
import json

import pyarrow as pa
from streamlit.testing.v1 import AppTest


def _two_charts() -> None:
    import altair as alt
    import pandas as pd
    import streamlit as st

    from views.common import show_chart

    frame = pd.DataFrame({"x": [1.0, None, 3.5], "label": ["a", None, "c"],
                          "ok": [True, False, True]})
    layered = alt.layer(alt.Chart(frame).mark_point().encode(x="x:Q"),
                        alt.Chart(frame.head(2)).mark_rule().encode(x="x:Q")).to_dict()
    inline = {"data": {"values": [{"x": 1, "t": "q"}, {"x": 2, "t": None}]},
              "mark": "point", "encoding": {"x": {"field": "x", "type": "quantitative"}}}
    for i, spec in enumerate((layered, inline)):
        st.vega_lite_chart(spec, key=f"plain_{i}")
        show_chart(spec, key=f"shown_{i}")


def _tables(chart) -> list[pa.Table]:  # noqa: ANN001
    out = [pa.ipc.open_stream(d.data.data).read_all() for d in chart.proto.datasets]
    if chart.proto.data.data:
        out.append(pa.ipc.open_stream(chart.proto.data.data).read_all())
    return sorted(out, key=lambda t: (t.num_rows, t.column_names))


def test_show_chart_sends_what_streamlit_sends() -> None:
    at = AppTest.from_function(_two_charts).run()
    assert not at.exception
    charts = at.get("vega_lite_chart")
    assert len(charts) == 4
    for plain, shown in (charts[0:2], charts[2:4]):  # plain_0, shown_0; plain_1, shown_1
        assert [t.to_pylist() for t in _tables(plain)] == [t.to_pylist() for t in _tables(shown)]
        a, b = json.loads(plain.proto.spec), json.loads(shown.proto.spec)
        a.pop("data", None), b.pop("data", None)  # a dataset name instead of inline rows
        assert a == b
    at.run()  # a rerun finds the same rows by identity and sends the same bytes
    assert [_tables(c)[0].to_pylist() for c in at.get("vega_lite_chart")] == \
        [_tables(c)[0].to_pylist() for c in charts]


def test_long_lived_objects_are_frozen_once_per_new_import() -> None:
    from views import process

    before = gc.get_freeze_count()
    process.freeze_long_lived_objects()
    frozen = gc.get_freeze_count()
    assert frozen >= before and frozen > 0
    process.freeze_long_lived_objects()  # nothing new imported: no collection, no freeze
    assert gc.get_freeze_count() == frozen
    gc.unfreeze()
