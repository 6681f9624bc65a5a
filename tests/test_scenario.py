"""Tests of comparators.evidence.scenario: the editable subtype counts and the hypothetical cohort.

Published counts: Liu et al., Sci Rep 2023 (doi 10.1038/s41598-023-30412-6), Results 'Efficacy'
and Discussion: all evaluable 13/27, ASPS 5/7, AS 2/2, LMS 1/2, DDLPS 0/3 (data/trials.csv rows
LIU2023). Expected values below are exact arithmetic on those counts.
"""

import pandas as pd
import pytest

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.evidence.scenario import (
    HYPOTHETICAL_CAVEAT,
    HYPOTHETICAL_LABEL,
    apply_scenario,
    same_counts,
    scenario_table,
)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def base(catalog):
    return published_cohort(catalog.trials)


def test_scenario_table_lists_the_itemised_subtypes_without_the_total(base) -> None:
    table = scenario_table(base)
    assert list(table.columns) == ["subtype", "evaluable", "responders"]
    assert table.to_records(index=False).tolist() == [
        ("ASPS", 7, 5), ("AS", 2, 2), ("LMS", 2, 1), ("DDLPS", 3, 0)]
    assert "STS" not in set(table["subtype"])


def test_an_unedited_table_reproduces_the_published_counts(base, catalog) -> None:
    cohort, problems = apply_scenario(scenario_table(base), base, catalog.subtype_codes)
    assert problems == []
    assert same_counts(cohort, base)
    sts = cohort.row("STS")
    assert (int(sts["evaluable"]), int(sts["responders"])) == (27, 13)


def test_edit_builds_a_labelled_hypothetical_cohort(base, catalog) -> None:
    edited = scenario_table(base)
    edited.loc[0, "responders"] = 7  # ASPS 5/7 -> 7/7
    cohort, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert problems == []
    assert cohort.kind == "hypothetical" and not cohort.is_real
    assert cohort.study == "LIU2023 (hypothetical)"
    assert cohort.label == HYPOTHETICAL_LABEL
    assert cohort.caveat == HYPOTHETICAL_CAVEAT
    assert cohort.replaces == "LIU2023"
    # The base rows' columns are kept (regimen, regimen_class, ...).
    assert list(cohort.rows.columns) == list(base.rows.columns)
    asps = cohort.row("ASPS")
    assert (int(asps["evaluable"]), int(asps["responders"])) == (7, 7)
    assert asps["regimen_class"] == "AI+ICI"
    assert pd.isna(asps["pr"])  # the published 5 PR no longer describe 7 responders
    assert "edited from the published 5/7 to 7/7" in asps["note"]
    # STS: published 13/27 plus the delta (+2 responders) = 15/27, said in its note.
    sts = cohort.row("STS")
    assert (int(sts["evaluable"]), int(sts["responders"])) == (27, 15)
    assert "plus the edits' deltas" in sts["note"]
    assert float(sts["pfs_median_months"]) == 8.90


def test_the_total_is_base_plus_deltas_not_the_sum_of_rows(base, catalog) -> None:
    edited = scenario_table(base)
    edited = edited[edited["subtype"] != "DDLPS"]  # delete DDLPS 0/3
    edited.loc[10] = ["UPS", 3, 1]  # add a UPS row (data_editor labels added rows from len)
    cohort, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert problems == []
    sts = cohort.row("STS")
    # 13/27 - 0/3 + 1/3 = 14/27; the subtype rows sum to only 9/14.
    assert (int(sts["evaluable"]), int(sts["responders"])) == (27, 14)
    assert cohort.row("DDLPS") is None
    ups = cohort.row("UPS")
    assert (int(ups["evaluable"]), int(ups["responders"])) == (3, 1)
    assert ups["regimen_class"] == "AI+ICI" and "added in a what-if" in ups["note"]


@pytest.mark.parametrize(
    ("row", "column", "value", "fragment"),
    [
        (1, "responders", 3, "3 responders exceed 2 evaluable"),
        (2, "evaluable", -1, "must not be negative"),
        (0, "responders", 2.5, "whole number"),
        (3, "subtype", "XYZ", "unknown subtype code"),
        (3, "subtype", "STS", "all-subtypes row"),
        (3, "subtype", "ASPS", "appears twice"),
    ],
)
def test_invalid_rows_are_refused_by_row_and_column_and_the_rest_kept(
    base, catalog, row, column, value, fragment
) -> None:
    edited = scenario_table(base).astype(object)
    edited.loc[row, column] = value
    other = 0 if row != 0 else 1
    edited.loc[other, "evaluable"] = 9  # a valid edit elsewhere must survive
    cohort, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert len(problems) == 1
    problem = problems[0]
    assert (problem.row, problem.column) == (row + 1, column)
    assert fragment in problem.message
    assert f"Row {row + 1}" in problem.text() and f"column '{column}'" in problem.text()
    # The refused row keeps its previous (published) value ...
    published = scenario_table(base).iloc[row]
    kept = cohort.row(published["subtype"])
    assert (int(kept["evaluable"]), int(kept["responders"])) == (
        published["evaluable"], published["responders"])
    # ... and the valid edit is kept.
    assert int(cohort.row(scenario_table(base).iloc[other]["subtype"])["evaluable"]) == 9


def test_an_invalid_added_row_is_left_out(base, catalog) -> None:
    edited = scenario_table(base)
    edited.loc[4] = ["UPS", 2, 5]
    cohort, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert [(p.row, p.column) for p in problems] == [(5, "responders")]
    assert "left out" in problems[0].message
    assert cohort.row("UPS") is None
    assert same_counts(cohort, base)


def test_an_empty_added_row_is_ignored_until_filled(base, catalog) -> None:
    edited = scenario_table(base).astype(object)
    edited.loc[4] = [None, None, None]
    _, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert problems == []


def test_lower_case_codes_are_accepted(base, catalog) -> None:
    edited = scenario_table(base).astype(object)
    edited.loc[4] = ["ups", 3, 0]
    cohort, problems = apply_scenario(edited, base, catalog.subtype_codes)
    assert problems == [] and cohort.row("UPS") is not None


def test_the_benchmark_pools_the_hypothetical_row(base, catalog) -> None:
    edited = scenario_table(base)
    edited.loc[0, "responders"] = 7
    cohort, _ = apply_scenario(edited, base, catalog.subtype_codes)
    rows = subtype_rows(catalog.trials, cohort, "ASPS")
    # The hypothetical row replaces LIU2023's: one cohort row, 7/7, no published LIU2023 row.
    own = rows[rows["is_cohort"]]
    assert len(own) == 1 and int(own["responders"].iloc[0]) == 7
    assert "LIU2023" not in set(rows.loc[~rows["is_cohort"], "study"])
    before = benchmark_subtype(subtype_rows(catalog.trials, base, "ASPS")).fit.estimate
    after = benchmark_subtype(rows).fit.estimate
    assert after > before


def test_editing_a_hypothetical_cohort_accumulates(base, catalog) -> None:
    first = scenario_table(base)
    first.loc[0, "responders"] = 6
    step1, _ = apply_scenario(first, base, catalog.subtype_codes)
    second = scenario_table(step1)
    second.loc[1, "evaluable"] = 4  # AS 2/2 -> 2/4
    step2, _ = apply_scenario(second, step1, catalog.subtype_codes)
    assert step2.study == "LIU2023 (hypothetical)"
    sts = step2.row("STS")
    assert (int(sts["evaluable"]), int(sts["responders"])) == (29, 14)
