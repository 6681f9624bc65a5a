"""One answer per question: for every subtype, the pooled AI+ICI and ICI ORR strings
are identical on the Benchmark page, Across subtypes, the evidence summary (its text and its
figure's data) and `python -m comparators benchmark --json`.

Nothing here is a hard-coded number: each place is read as a user (or a script) reads it and
compared with the others. The subtypes come from the catalog, so adding a trial adds a case.
"""

from __future__ import annotations

import contextlib
import io
import json

import pytest
from apptest import chart_data, open_page

from comparators.__main__ import main as cli
from comparators.evidence.catalog import load_catalog
from comparators.reports.summary import summarisable_subtypes

CLASSES = ("AI+ICI", "ICI")
SUBTYPES = summarisable_subtypes(load_catalog().trials)


def text(estimate: float, low: float, high: float) -> str:
    """Percent numbers as every page prints them (one decimal)."""
    return f"{estimate:.1f}|{low:.1f}|{high:.1f}"


def from_cli(subtype: str) -> dict[str, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli(["benchmark", "--subtype", subtype, "--json"]) == 0
    payload = json.loads(out.getvalue())
    return {c["class"]: text(100 * c["estimate"], 100 * c["low"], 100 * c["high"])
            for c in payload["classes"] if c["class"] in CLASSES}


@pytest.fixture(scope="module")
def benchmark_page() -> dict[str, dict[str, str]]:
    at = open_page("views/benchmark.py")
    out = {}
    for subtype in SUBTYPES:
        at.selectbox(key="subtype").set_value(subtype).run()
        assert not at.exception, subtype
        table = next(d.value for d in at.dataframe if "scope" in d.value.columns)
        out[subtype] = {r["class"]: text(r["estimate"], r["low"], r["high"])
                        for _, r in table.iterrows() if r["class"] in CLASSES}
    return out


@pytest.fixture(scope="module")
def across_page() -> dict[str, dict[str, str]]:
    at = open_page("views/across.py")
    at.toggle(key="meta_all").set_value(True).run()
    table = next(d.value for d in at.dataframe if "label" in d.value.columns)
    out: dict[str, dict[str, str]] = {}
    for _, r in table.iterrows():
        if r["class"] in CLASSES:
            out.setdefault(r["subtype"], {})[r["class"]] = text(r["estimate"], r["low"],
                                                                r["high"])
    return out


@pytest.fixture(scope="module")
def summary_page():
    at = open_page("views/summary.py")
    at.multiselect(key="summary_subtypes").set_value(SUBTYPES).run()
    assert not at.exception
    return at


def test_every_subtype_has_one_answer(benchmark_page, across_page, summary_page) -> None:
    narratives = [m.value for m in summary_page.markdown]
    figures = [d for d in chart_data(summary_page) if "kind" in d.columns]
    tables = [d.value for d in summary_page.dataframe if "Refs." in d.value.columns]
    assert len(figures) == len(tables) == len(SUBTYPES)
    checked = 0
    for subtype, figure, table in zip(SUBTYPES, figures, tables, strict=True):
        page = benchmark_page[subtype]
        assert across_page.get(subtype, {}) == page, subtype
        assert from_cli(subtype) == page, subtype
        lead = next(n for n in narratives if n.startswith(f"In {subtype}, the ORR was"))
        table = table.set_index("Class")
        for cls, numbers in page.items():
            est, low, high = numbers.split("|")
            # the lead and the section's class-pool table print the same numbers
            assert (f"{est}% (95% CI {low}–{high}%" in lead
                    or f"{est}% (exact 95% CI {low}–{high}%" in lead), (subtype, cls)
            name = {"ICI": "ICI alone"}.get(cls, cls)
            assert table.loc[name].iloc[3].startswith(f"{est} ({low}–{high})"), (subtype, cls)
            drawn = figure[(figure["group"] == cls) & figure["kind"].isin(["subgroup", "summed"])]
            if drawn.empty:  # a class of one arm: the arm itself is its pool
                drawn = figure[(figure["group"] == cls) & (figure["kind"] == "study")
                               & ~figure["highlight"].astype(bool)]
            r = drawn.iloc[0]
            assert text(r["estimate"], r["low"], r["high"]) == numbers  # the chart draws %
            checked += 1
    assert checked >= len(SUBTYPES)  # at least one class per subtype was compared
