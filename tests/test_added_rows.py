"""Arms a user adds (comparators/evidence/added_rows.py): the catalog's own validator with the
provenance trio required, bounds that name their limit, their own mark, and the analyses that
take them in. Expected values come from data/trials.csv, never from our own output."""

from __future__ import annotations

import hashlib

import pandas as pd
import pytest

from comparators import limits
from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.added_rows import (
    ADDED_COLUMN,
    added_row,
    added_rows_csv,
    combine_added_rows,
    read_added_rows,
    validate_added_rows,
    with_added_rows,
)
from comparators.evidence.catalog import (
    TRIAL_COLUMNS,
    CatalogError,
    default_data_dir,
    load_catalog,
    validate_cohort_rows,
)
from comparators.evidence.cohort import published_cohort
from comparators.evidence.labels import (
    ADDED_BY_USER,
    ADDED_MARK,
    MARKS,
    arm_labels,
    mark_legend,
    verification_mark,
    verification_marks,
)

CATALOG = load_catalog()
HEADER = ("study,arm,regimen,regimen_class,ici_target,subtype,evaluable,responders,source_ref,"
          "source_type,data_cut")
ARM = ("SMITH2025,axitinib + pembrolizumab,axitinib + pembrolizumab,AI+ICI,PD-1,ASPS,10,6,"
       "Smith J. ASCO 2025 abstract 11500,conference abstract,2025-01")
FORM = {"study": "SMITH2025", "arm": "cabozantinib + nivolumab", "regimen": "cabozantinib + "
        "nivolumab", "regimen_class": "AI+ICI", "subtype": "UPS", "evaluable": 12,
        "responders": 3, "source_ref": "Smith J. Lancet Oncol 2025", "source_type": "full paper",
        "data_cut": "2024-11-30"}


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode("utf-8")


def test_an_arm_from_a_csv_joins_the_pool_of_its_class_with_its_own_mark() -> None:
    rows = read_added_rows(csv_bytes(ARM), CATALOG, filename="mine.csv")
    assert list(rows[["study", "evaluable", "responders"]].iloc[0]) == ["SMITH2025", 10, 6]
    assert rows.loc[0, "verified"] == ADDED_BY_USER and bool(rows.loc[0, ADDED_COLUMN])
    combined = with_added_rows(CATALOG, rows)
    assert combined.added_digest and not CATALOG.added_digest
    assert combined.stamp() == CATALOG.stamp() + ", plus 1 arm added by the user"
    assert len(combined.trials) == len(CATALOG.trials) + 1
    assert not combined.trials[ADDED_COLUMN].iloc[:-1].any()

    def pooled(cat):
        labels = arm_labels(cat.trials, cat.references)
        rows = subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS", False, labels)
        return rows, benchmark_subtype(rows)

    before_rows, before = pooled(CATALOG)
    after_rows, after = pooled(combined)
    assert after.class_pools["AI+ICI"].k == before.class_pools["AI+ICI"].k + 1
    assert after.class_pools["ICI"].k == before.class_pools["ICI"].k  # other classes as they were
    marks = verification_marks(after_rows)
    assert marks["SMITH2025 · axitinib + pembrolizumab"] == ADDED_MARK
    assert ADDED_MARK not in verification_marks(before_rows).values()
    assert mark_legend([ADDED_MARK]) == [f"{ADDED_MARK} {MARKS[ADDED_MARK].legend}"]


def test_the_added_mark_wins_over_what_the_user_says_the_source_is() -> None:
    row = pd.Series({"verified": ADDED_BY_USER, "source_type": "full paper", "derived": ""})
    assert verification_mark(row) == ADDED_MARK
    assert verification_mark(row.drop("verified").set_axis(["source_type", "derived"])) == ""


@pytest.mark.parametrize("column", ["source_ref", "source_type", "data_cut"])
def test_provenance_is_required(column: str) -> None:
    fields = {k: v for k, v in FORM.items() if k != column}
    with pytest.raises(CatalogError) as info:
        added_row(fields, CATALOG)
    assert info.value.problems == [f"column '{column}': required value is empty"]


def test_added_rows_get_the_verdicts_of_the_catalog_validator() -> None:
    """The same bad cells give the same messages as validate_cohort_rows on the catalog's
    rows (one validator, one wording)."""
    bad = {"responders": 14, "data_cut": "2024-02-30", "subtype": "nonsense", "cr": "2.5"}
    frame = pd.DataFrame([{**FORM, **bad}])
    with pytest.raises(CatalogError) as ours:
        validate_added_rows(frame, CATALOG, source="u.csv")
    with pytest.raises(CatalogError) as catalogs:
        validate_cohort_rows(frame, "u.csv", CATALOG.subtype_codes)
    assert ours.value.problems == catalogs.value.problems
    assert len(ours.value.problems) == 4  # every problem, each naming its column


def test_an_arm_the_catalog_has_or_the_seed_study_is_refused() -> None:
    held = CATALOG.trials[CATALOG.trials["study"] != "LIU2023"].iloc[0]
    same = {**FORM, "study": held["study"], "arm": held["arm"], "subtype": held["subtype"]}
    with pytest.raises(CatalogError, match="the catalog already has"):
        added_row(same, CATALOG)
    with pytest.raises(CatalogError, match="seed paper's cohort"):
        added_row({**FORM, "study": "LIU2023"}, CATALOG)
    first = added_row(FORM, CATALOG)
    with pytest.raises(CatalogError, match="already among the arms you added"):
        combine_added_rows(first, added_row(FORM, CATALOG))


def test_unknown_columns_are_refused_and_derived_ones_recomputed() -> None:
    with pytest.raises(CatalogError, match="column 'resp': not a column of the catalog"):
        read_added_rows(csv_bytes(ARM + ",9", header=HEADER + ",resp"), CATALOG)
    # a re-upload of a downloaded catalog (with its derived columns) is read again
    stale = csv_bytes(ARM + ",primary source,1999,False",
                      header=HEADER + ",verified,year," + ADDED_COLUMN)
    again = read_added_rows(stale, CATALOG)
    assert again.loc[0, "verified"] == ADDED_BY_USER and pd.isna(again.loc[0, "year"])


def test_bounds_are_checked_before_the_rows_and_name_their_limit() -> None:
    arms = [ARM.replace("SMITH2025", f"S{i}") for i in range(limits.MAX_ADDED_ARMS + 1)]
    with pytest.raises(CatalogError, match=f"more than the limit of {limits.MAX_ADDED_ARMS}"):
        read_added_rows(csv_bytes(*arms), CATALOG)
    with pytest.raises(CatalogError, match="arms added in this session"):
        added_row(FORM, CATALOG, already=limits.MAX_ADDED_ARMS)
    big = b"x" * (limits.MAX_ADDED_BYTES + 1)
    with pytest.raises(CatalogError, match=f"limit of {limits.MAX_ADDED_BYTES:,}"):
        read_added_rows(big, CATALOG)
    every = ",".join(TRIAL_COLUMNS)
    rows_needed = limits.MAX_ADDED_CELLS // len(TRIAL_COLUMNS) + 1
    assert rows_needed <= limits.MAX_ADDED_ARMS  # the cell limit is the one that binds here
    wide = [",".join(f"S{i}" if c == "study" else "" for c in TRIAL_COLUMNS)
            for i in range(rows_needed)]
    with pytest.raises(CatalogError, match=f"cells .*limit of {limits.MAX_ADDED_CELLS:,}"):
        read_added_rows(csv_bytes(*wide, header=every), CATALOG)


def test_the_download_reads_back_as_the_same_arms_in_the_catalog_format() -> None:
    rows = combine_added_rows(read_added_rows(csv_bytes(ARM), CATALOG), added_row(FORM, CATALOG))
    text = added_rows_csv(rows)
    assert text.splitlines()[0] == ",".join(TRIAL_COLUMNS)  # data/trials.csv's header
    again = read_added_rows(text.encode("utf-8"), CATALOG)
    pd.testing.assert_frame_equal(again, rows)


def test_adding_arms_never_changes_the_curated_catalog_or_data() -> None:
    trials = default_data_dir() / "trials.csv"
    digest = hashlib.sha256(trials.read_bytes()).hexdigest()
    before = CATALOG.trials.copy()
    with_added_rows(CATALOG, added_row(FORM, CATALOG))
    pd.testing.assert_frame_equal(CATALOG.trials, before)
    assert hashlib.sha256(trials.read_bytes()).hexdigest() == digest
