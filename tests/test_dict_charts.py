"""The chart builders that write Vega-Lite as plain dicts (comparators/charts/vegalite.py) must
give specs that the Vega-Lite schema accepts and that render, for real data and for edge cases
(one subtype, missing estimates, a single arm)."""

import altair as alt
import pandas as pd
import pytest
import vl_convert as vlc

from comparators.analysis.benchmark import across_subtypes
from comparators.analysis.borrowing import borrow_across_subtypes
from comparators.analysis.options import AnalysisOptions
from comparators.charts.across import class_by_subtype_chart
from comparators.charts.borrowing import shrinkage_chart
from comparators.charts.vegalite import dataset_name, records
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort


@pytest.fixture(scope="module")
def evidence():  # noqa: ANN201
    cat = load_catalog()
    return cat.trials, published_cohort(cat.trials)


def test_class_by_subtype_spec_is_valid_and_renders(evidence) -> None:  # noqa: ANN001
    trials, cohort = evidence
    pools = across_subtypes(trials, cohort, AnalysisOptions(level=0.9)).pools_frame()
    for frame in (pools, pools.head(1)):
        spec = class_by_subtype_chart(frame.reset_index(drop=True), ["sub"], "90% CI")
        alt.LayerChart.from_dict(spec)  # raises on a spec the schema rejects
        svg = vlc.vegalite_to_svg({**spec, "width": 500})
        assert "90% CI" in svg and "Pooled ORR by regimen class" in svg


def test_shrinkage_spec_is_valid_and_renders(evidence) -> None:  # noqa: ANN001
    trials, cohort = evidence
    frame = borrow_across_subtypes(trials, cohort, "ICI", exnex=True).to_frame()
    spec = shrinkage_chart(frame, "ICI: shrunken", ["sub"])
    alt.LayerChart.from_dict(spec)
    svg = vlc.vegalite_to_svg({**spec, "width": 500})
    assert "ICI: shrunken" in svg


def test_records_and_names_follow_altair() -> None:
    frame = pd.DataFrame({"x": [1.5, float("nan")], "k": pd.array([3, None], dtype="Int64"),
                          "s": ["a", None]})
    spec = alt.Chart(frame).mark_point().encode(x="x:Q").to_dict()
    (name, values), = spec["datasets"].items()
    assert records(frame) == values
    assert dataset_name(values) == name
