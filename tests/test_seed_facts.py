"""Seed facts the pages print are read from the data, by name, not typed into the pages.

Liu et al., Sci Rep 2023 (doi 10.1038/s41598-023-30412-6): median PFS 8.90 months (printed
interval 5.98-11.82, Abstract and Figure 3a); median follow-up 7.6 months (range 0.8-25.5);
median age 56 years (range 7-87, Table 1). Results and Discussion itemise responses for ASPS
5/7, AS 2/2, LMS 1/2 and DDLPS 0/3 of 27 evaluable patients with 13 responders in all, which
leaves 13 evaluable patients (5 responders) not itemised.
"""

from __future__ import annotations

import pandas as pd
import pytest

from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import (
    asps_mix,
    itemised_counts,
    load_seed_cohort,
    published_cohort,
)


def test_outcomes_are_found_by_name() -> None:
    seed = load_seed_cohort()
    pfs = seed.outcome("Median progression-free survival")
    assert (pfs["value"], pfs["low"], pfs["high"], pfs["unit"]) == (8.90, 5.98, 11.82, "months")
    follow = seed.outcome("Median follow-up")
    assert (follow["value"], follow["low"], follow["high"]) == (7.6, 0.8, 25.5)
    age = seed.outcome("Median age")
    assert (age["value"], age["low"], age["high"], age["unit"]) == (56, 7, 87, "years")
    with pytest.raises(KeyError, match="no published outcome"):
        seed.outcome("Median cost")


def test_the_published_itemisation_is_said_from_the_rows() -> None:
    rows = published_cohort(load_catalog().trials).rows
    assert itemised_counts(rows) == (
        "ASPS 5/7, AS 2/2, LMS 1/2 and DDLPS 0/3 of 27 response-evaluable patients; the other "
        "13 evaluable patients (5 responders) are not itemised")


def test_a_fully_itemised_cohort_has_no_remainder() -> None:
    rows = pd.DataFrame({"subtype": ["STS", "ASPS", "UPS"], "evaluable": [5, 3, 2],
                         "responders": [2, 2, 0]})
    assert itemised_counts(rows) == "ASPS 2/3 and UPS 0/2 of 5 response-evaluable patients"


def test_the_asps_mix_is_said_from_the_tables() -> None:
    # Results, Efficacy: non-ASPS 3 CR + 5 PR of 20; Table 1: ASPS 10 of 33 (30.3%); 7 of the 27
    # evaluable were ASPS (7/27 = 25.9%).
    rows = published_cohort(load_catalog().trials).rows
    assert asps_mix(load_seed_cohort(), rows) == (
        "all non-ASPS patients together respond 8/20; ASPS was 10 of 33 treated (30.3%, "
        "Table 1) and 7 of 27 evaluable (25.9%)")


@pytest.mark.parametrize("table", ["baseline", "response", "outcomes", "adverse_events"])
def test_every_seed_table_row_says_where_in_the_paper_it_was_read(table: str) -> None:
    # data/README.md: each of these tables carries a `locator` for every row
    rows = getattr(load_seed_cohort(), table)
    assert "locator" in rows.columns
    assert rows["locator"].notna().all() and (rows["locator"].astype(str).str.strip() != "").all()


def test_adverse_events_are_located_in_table_2() -> None:
    # Liu 2023, Table 2 "Toxicity profile of 30 evaluable patients" prints every one of the 35
    # treatment-related adverse events (any grade, and grade >= 3 where not a dash)
    events = load_seed_cohort().adverse_events
    assert len(events) == 35 and set(events["locator"]) == {"Table 2"}
