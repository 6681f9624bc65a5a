"""The EORTC STBSG progression-free-rate reference values (data/reference_values.csv): the
published numbers are there with their sources, and a broken table is refused with the file,
row, line and column named."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from comparators.evidence.catalog import CatalogError, load_catalog, reference_completeness
from comparators.evidence.reference_values import (
    REFERENCE_VALUE_COLUMNS,
    REFERENCE_VALUE_LINES,
    load_reference_values,
)
from comparators.vocab import REFERENCE_VALUE_KINDS

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def values() -> pd.DataFrame:
    return load_reference_values()


def value(values: pd.DataFrame, source: str, subtype: str, line: str, months: int,
          kind: str, population: str | None = None) -> pd.Series:
    v = values[(values["source"] == source) & (values["subtype"] == subtype)
               & (values["line"] == line) & (values["months"] == months)
               & (values["kind"] == kind)]
    if population is not None:
        v = v[v["population"].str.contains(population, regex=False)]
    assert len(v) == 1, (source, subtype, line, months, kind, len(v))
    return v.iloc[0]


def test_van_glabbeke_2002(values: pd.DataFrame) -> None:
    """Van Glabbeke et al., Eur J Cancer 2002;38:543: second line, a 3-month progression-free
    rate >= 40% suggests activity, <= 20% inactivity; active agents reached 39% and 14% at 3 and
    6 months (146 patients), inactive regimens 21% and 8% (234); first line, a 6-month rate of
    30-56% depending on histology."""
    vg = "VANGLABBEKE2002"
    assert value(values, vg, "STS", "pretreated", 3, "activity threshold")["rate"] == 0.40
    assert value(values, vg, "STS", "pretreated", 3, "inactivity threshold")["rate"] == 0.20
    active = value(values, vg, "STS", "pretreated", 6, "reference rate", "active agent")
    assert (active["rate"], active["n_patients"]) == (0.14, 146)
    inactive = value(values, vg, "STS", "pretreated", 3, "reference rate", "inactive")
    assert (inactive["rate"], inactive["n_patients"]) == (0.21, 234)
    first = value(values, vg, "STS", "first line", 6, "activity threshold")
    assert (first["rate"], first["rate_upper"]) == (0.30, 0.56)
    assert value(values, vg, "SS", "first line", 3, "reference rate")["rate"] == 0.77
    assert value(values, vg, "UPS", "first line", 6, "reference rate")["rate"] == 0.38


def test_kantidakis_leiomyosarcoma_2021(values: pd.DataFrame) -> None:
    """Kantidakis et al., Eur J Cancer 2021;154:253: pooled LMS rates (first line 74%/58%,
    pre-treated 48%/28% at 3/6 months) and thresholds (first line 6-month >= 70%; pre-treated
    3-month >= 62%, 6-month >= 44%)."""
    k = "KANTIDAKIS2021"
    pooled = value(values, k, "LMS", "pretreated", 3, "reference rate")
    assert pooled[["rate", "low", "high", "n_trials"]].tolist() == [0.48, 0.41, 0.54, 16]
    assert value(values, k, "LMS", "first line", 6, "reference rate")["rate"] == 0.58
    assert value(values, k, "LMS", "first line", 6, "activity threshold")["rate"] == 0.70
    assert value(values, k, "LMS", "pretreated", 3, "activity threshold")["rate"] == 0.62
    assert value(values, k, "LMS", "pretreated", 6, "activity threshold")["rate"] == 0.44


def test_kantidakis_liposarcoma_and_synovial_sarcoma_2022(values: pd.DataFrame) -> None:
    """Kantidakis et al., Eur J Cancer 2022;174:261: LPS first line 69%/56%, pre-treated
    49%/28%; SS first line 74%/56%, pre-treated 45%/25%; to target: first-line LPS 79%/69%, SS
    82%/69%; pre-treated LPS 63%/44%, SS 60%/41%."""
    k = "KANTIDAKIS2022"
    expected = {
        ("LPS", "first line", 3, "reference rate"): 0.69,
        ("LPS", "pretreated", 6, "reference rate"): 0.28,
        ("SS", "first line", 6, "reference rate"): 0.56,
        ("SS", "pretreated", 3, "reference rate"): 0.45,
        ("LPS", "first line", 3, "activity threshold"): 0.79,
        ("SS", "first line", 3, "activity threshold"): 0.82,
        ("LPS", "pretreated", 6, "activity threshold"): 0.44,
        ("SS", "pretreated", 6, "activity threshold"): 0.41,
    }
    for (subtype, line, months, kind), rate in expected.items():
        assert value(values, k, subtype, line, months, kind)["rate"] == rate
    ss = value(values, k, "SS", "first line", 6, "reference rate")
    assert (ss["low"], ss["high"]) == (0.31, 0.78)


def test_every_value_is_sourced_and_quoted(values: pd.DataFrame) -> None:
    refs = load_catalog().references.set_index("ref")
    assert set(values["source"]) == {"VANGLABBEKE2002", "KANTIDAKIS2021", "KANTIDAKIS2022"}
    for key in set(values["source"]):
        assert refs.loc[key, "doi"], key  # every source is citable by its doi
        missing = reference_completeness(refs.loc[key])
        assert set(missing) <= {"pmid"}, (key, missing)  # and complete but for a PMID...
        if missing:  # ... whose absence says where it was looked for
            assert "pmid" in str(refs.loc[key, "searched"])
    for _, v in values.iterrows():  # every number is in the sentence the locator quotes
        for col in ("rate", "rate_upper", "low", "high"):
            if pd.notna(v[col]):
                assert re.search(rf"\b{100 * v[col]:.0f}\b", v["locator"]), (v["source"], col)
    assert set(values["line"]) <= set(REFERENCE_VALUE_LINES)
    assert set(values["kind"]) == set(REFERENCE_VALUE_KINDS)
    assert set(values["months"]) == {3, 6}


def broken(tmp_path: Path, row: int, **cells: str) -> list[str]:
    """The shipped data with one reference value changed; the problems raised on load."""
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("liu2023", "*.md"))
    table = pd.read_csv(data / "reference_values.csv", dtype=str, keep_default_na=False)
    for col, text in cells.items():
        table.loc[row - 1, col] = text
    table.to_csv(data / "reference_values.csv", index=False)
    with pytest.raises(CatalogError) as info:
        load_reference_values(data)
    return info.value.problems


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        ({"rate": "40"}, "rate", "40 is not a fraction between 0 and 1"),
        ({"rate": "0,40"}, None, None),  # a decimal comma reads as 0.40: loads, no problem
        ({"months": "12"}, "months", "12 is not a landmark"),
        ({"months": "3.5"}, "months", "'3.5' is not a whole number"),
        ({"kind": "benchmark"}, "kind", "unknown reference value kind 'benchmark'"),
        ({"line": "mixed"}, "line", "unknown line 'mixed'"),
        ({"subtype": "XYZ"}, "subtype", "unknown subtype code 'XYZ'"),
        ({"source": "NOSUCH"}, "source", "unknown reference 'NOSUCH'"),
        ({"locator": ""}, "locator", "required value is empty"),
        ({"low": "0.5", "high": "0.6"}, "low", "does not hold the rate 0.4"),
        ({"low": "0.3"}, "high", "an interval needs both low and high"),
        ({"rate_upper": "0.3"}, "rate_upper", "0.3 is not above the rate 0.4"),
        ({"n_patients": "0"}, "n_patients", "0; leave it empty"),
    ],
    ids=["percent-not-fraction", "decimal-comma", "landmark", "months-not-whole",
         "unknown-kind", "mixed-line", "unknown-subtype", "unknown-source", "no-locator",
         "interval-misses-rate", "half-interval", "range-downwards", "zero-patients"],
)
def test_broken_reference_values_are_refused(tmp_path: Path, cells: dict[str, str],
                                             column: str | None, words: str | None) -> None:
    if column is None:
        data = tmp_path / "data"
        shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("liu2023", "*.md"))
        table = pd.read_csv(data / "reference_values.csv", dtype=str, keep_default_na=False)
        table.loc[0, "rate"] = cells["rate"]
        table.to_csv(data / "reference_values.csv", index=False)
        assert load_reference_values(data).loc[0, "rate"] == 0.40
        return
    problems = broken(tmp_path, 1, **cells)
    assert problems[0].startswith(
        f"reference_values.csv row 1 (line 2), column '{column}'"), problems
    assert words in problems[0], problems


def test_duplicate_and_missing_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("liu2023", "*.md"))
    table = pd.read_csv(data / "reference_values.csv", dtype=str, keep_default_na=False)
    pd.concat([table, table.iloc[[0]]]).to_csv(data / "reference_values.csv", index=False)
    with pytest.raises(CatalogError, match=r"row 37 \(line 38\), columns 'source' to "
                                           r"'population': duplicate of row 1"):
        load_reference_values(data)
    table.drop(columns=["population"]).to_csv(data / "reference_values.csv", index=False)
    with pytest.raises(CatalogError, match="column 'population': required column is missing"):
        load_reference_values(data)
    assert list(REFERENCE_VALUE_COLUMNS) == list(table.columns)
