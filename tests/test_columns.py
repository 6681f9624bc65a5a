"""The declarative column specifications (comparators/evidence/columns.py) and parse_date: one
reading of a cell, bounds and wording per column, the same verdict through every validator."""

from __future__ import annotations

import pandas as pd
import pytest

from comparators import limits
from comparators.errors import InputError
from comparators.evidence.catalog import (
    TRIAL_COLUMNS,
    TRIAL_SPEC,
    CatalogError,
    validate_cohort_rows,
)
from comparators.evidence.cohort import published_cohort
from comparators.evidence.columns import Column
from comparators.evidence.ipd import IPD_SPEC, OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from comparators.evidence.scenario import SCENARIO_SPEC, apply_scenario, scenario_table
from comparators.inputs import ValueRefused, is_date, parse_date


@pytest.mark.parametrize(("raw", "partial", "ok"), [
    ("2024-02-29", False, True), ("2023-02-29", False, False), ("2024-13-01", False, False),
    ("2024-06", False, False), ("2024-06", True, True), ("2024-00", True, False),
    ("2024", True, True), ("2024", False, False), (" 2024-06-01 ", False, True),
    ("２０２４", True, False), ("2024-6-1", False, False), ("20240601", False, False),
    ("", False, False), (None, True, False), ("final", True, False),
])
def test_parse_date_rule(raw: object, partial: bool, ok: bool) -> None:
    assert is_date(raw, partial=partial) is ok
    if not ok:
        with pytest.raises(ValueRefused, match="is not a date"):
            parse_date(raw, partial=partial, row=3, column="date")


def test_parse_date_names_the_place_and_keeps_the_text() -> None:
    assert parse_date(" 2021-03 ", partial=True) == "2021-03"
    with pytest.raises(CatalogError) as info:
        parse_date("2021-02-30", where="t.csv row 1 (line 2), column 'data_cut'",
                   error=CatalogError)
    assert str(info.value) == ("t.csv row 1 (line 2), column 'data_cut': '2021-02-30' is not a "
                               "date YYYY-MM-DD")


def test_column_bounds_use_their_own_wording() -> None:
    months = Column("t", "number", low=0.0, out_of_range="{value:g} is negative")
    with pytest.raises(ValueRefused, match=r"^row 2, column 't': -1 is negative$"):
        months.read("-1", row=2)
    assert months.read("", row=2) is None  # optional
    with pytest.raises(ValueRefused, match="value is missing"):
        Column("t", "number", required=True).read("NA", row=2)
    count = Column("n", "count", maximum=10)
    with pytest.raises(ValueRefused, match="more than the limit of 10"):
        count.read("11", where="")
    with pytest.raises(ValueRefused, match="^id is missing$"):
        Column("id", required=True, if_empty="id is missing").read("  ", where="")


def test_every_column_of_each_row_shape_has_one_spec() -> None:
    assert [c.name for c in TRIAL_SPEC] == list(TRIAL_COLUMNS)
    assert set(IPD_SPEC) == set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS) - {"synthetic"}
    assert set(SCENARIO_SPEC) == {"subtype", "evaluable", "responders"}
    # the bounds come from comparators.limits
    assert (IPD_SPEC["age"].low, IPD_SPEC["age"].high) == limits.AGE_RANGE
    assert (IPD_SPEC["best_pct_change"].low,
            IPD_SPEC["best_pct_change"].high) == limits.PCT_CHANGE_RANGE
    assert SCENARIO_SPEC["evaluable"].maximum == limits.MAX_SCENARIO_PATIENTS


def test_catalog_reads_a_data_cut_with_parse_date() -> None:
    row = {"study": "X", "arm": "a", "subtype": "LMS", "evaluable": 10, "responders": 2}
    ok = validate_cohort_rows(pd.DataFrame([dict(row, data_cut="2020-02")]), "u.csv", {"LMS"})
    assert ok.loc[0, "data_cut"] == "2020-02"
    assert validate_cohort_rows(pd.DataFrame([dict(row, data_cut="final")]), "u.csv",
                                {"LMS"}).loc[0, "data_cut"] == "final"
    for bad in ("2020-02-30", "2020-13", "Final", "soon"):
        with pytest.raises(CatalogError) as info:
            validate_cohort_rows(pd.DataFrame([dict(row, data_cut=bad)]), "u.csv", {"LMS"})
        assert info.value.problems == [
            f"u.csv row 1 (line 2), column 'data_cut': {bad!r} is not a data cut (YYYY-MM-DD, "
            "YYYY-MM, YYYY or 'final')"]


def test_responders_above_evaluable_read_the_same_in_the_catalog_and_a_scenario() -> None:
    from comparators.evidence.catalog import load_catalog

    catalog = load_catalog()
    with pytest.raises(CatalogError) as info:
        validate_cohort_rows(pd.DataFrame([{"study": "X", "arm": "a", "subtype": "LMS",
                                            "evaluable": 3, "responders": 5}]),
                             "u.csv", {"LMS"})
    base = published_cohort(catalog.trials)
    table = scenario_table(base).astype(object)
    table.loc[0, ["evaluable", "responders"]] = [3, 5]
    _, problems = apply_scenario(table, base, catalog.subtype_codes)
    assert info.value.problems[0].endswith(": 5 responders exceed 3 evaluable")
    assert problems[0].message.startswith("5 responders exceed 3 evaluable;")


def test_unknown_subtype_lists_the_codes_in_a_stable_order() -> None:
    with pytest.raises(InputError, match=r"\(known: ASPS, LMS, UPS\)"):
        validate_cohort_rows(pd.DataFrame([{"study": "X", "arm": "a", "subtype": "zz",
                                            "evaluable": 3, "responders": 1}]),
                             "u.csv", {"UPS", "LMS", "ASPS"})
