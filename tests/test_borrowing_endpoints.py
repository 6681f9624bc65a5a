"""Borrowing across subtypes for every proportion endpoint counted on a subtype's own patients
(DCR, PFS-3, PFS-6 besides ORR), never for safety (reported per arm for all its subtypes).

The expected units are summed here from data/trials.csv with pandas by data/README.md's column
definitions (DCR = (responders + SD) / evaluable; PFS-3 = round(rate x PFS population) / PFS
population), never from the engine's output.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from apptest import open_page, page_text

from comparators.analysis.borrowing import (
    BORROWING_ENDPOINTS,
    BorrowingError,
    borrow_across_subtypes,
    subtype_units,
)
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort

DATA = Path(__file__).resolve().parent.parent / "data"
TRIALS = pd.read_csv(DATA / "trials.csv")
SUBTYPES = pd.read_csv(DATA / "subtypes.csv")
BONE = set(SUBTYPES.loc[SUBTYPES["note"].fillna("").str.lower().str.startswith(
    ("bone sarcoma", "bone tumour")), "code"])


@pytest.fixture(scope="module")
def evidence():
    trials = load_catalog().trials
    return trials, published_cohort(trials)


def expected_units(regimen_class: str, endpoint: str) -> dict[str, tuple[int, int, int]]:
    """subtype -> (arms, numerator, denominator) of the class's soft-tissue comparator arms
    that report `endpoint` (the seed's rows and overlapping cohorts left out)."""
    rows = TRIALS[(TRIALS["regimen_class"] == regimen_class) & (TRIALS["study"] != "LIU2023")
                  & TRIALS["overlaps_with"].isna()
                  & ~TRIALS["subtype"].isin(BONE | {"STS", "SARCOMA"})]
    out: dict[str, tuple[int, int, int]] = {}
    for r in rows.itertuples():
        if endpoint == "dcr":
            if pd.isna(r.sd):
                continue
            num, den = int(r.responders) + int(r.sd), int(r.evaluable)
        else:
            rate, n = getattr(r, f"{endpoint}_rate"), getattr(r, f"{endpoint}_n")
            if pd.isna(rate) or pd.isna(n):
                continue
            num, den = int(math.floor(rate * n + 0.5)), int(n)
        if den > 0:
            arms, x, n_sum = out.get(r.subtype, (0, 0, 0))
            out[r.subtype] = (arms + 1, x + num, n_sum + den)
    return out


@pytest.mark.parametrize(("regimen_class", "endpoint"),
                         [(c, e) for c in ("AI", "AI+ICI", "ICI", "ICI+ICI")
                          for e in ("dcr", "pfs3", "pfs6")])
def test_units_are_the_endpoint_counts_of_the_catalog(evidence, regimen_class: str,
                                                      endpoint: str) -> None:
    trials, cohort = evidence
    units = subtype_units(trials, cohort, regimen_class, endpoint=endpoint)
    got = {u.subtype: (u.arms, u.responders, u.evaluable) for u in units.itertuples()}
    assert got == expected_units(regimen_class, endpoint)


def test_dcr_borrowing_fits_and_names_its_endpoint(evidence) -> None:
    trials, cohort = evidence
    expected = expected_units("AI", "dcr")
    assert len(expected) >= 2  # the catalog's SD counts of AI arms, by subtype
    result = borrow_across_subtypes(trials, cohort, "AI", endpoint="dcr")
    frame = result.to_frame().set_index("subtype")
    for subtype, (_, x, n) in expected.items():
        assert frame.loc[subtype, "observed"] == pytest.approx(x / n)
        assert frame.loc[subtype, "low"] <= frame.loc[subtype, "shrunk"] <= \
            frame.loc[subtype, "high"]
    assert result.to_dict()["endpoint"] == "dcr"
    assert result.methods_text().startswith(
        "Disease control rates (complete and partial responses and stable disease among "
        "response-evaluable patients) of AI arms were summed within each of")
    assert any("do not report the disease control rate" in n for n in result.notes)


def test_safety_and_thin_evidence_are_refused_by_name(evidence) -> None:
    trials, cohort = evidence
    with pytest.raises(BorrowingError, match="safety is reported per arm"):
        borrow_across_subtypes(trials, cohort, "ICI", endpoint="grade3")
    assert "grade3" not in BORROWING_ENDPOINTS
    thin = [(c, e) for c in ("AI", "AI+ICI", "ICI", "ICI+ICI") for e in ("dcr", "pfs3", "pfs6")
            if len(expected_units(c, e)) < 2]
    assert thin  # the catalog has few subtype-level PFS rates
    regimen_class, endpoint = thin[0]
    with pytest.raises(BorrowingError, match="borrowing needs at least 2"):
        borrow_across_subtypes(trials, cohort, regimen_class, endpoint=endpoint)


def test_the_page_borrows_the_chosen_endpoint_or_says_which_it_pools() -> None:
    at = open_page("views/across.py", {"endpoint": "dcr", "borrow_class": "AI"})
    table = next(d.value for d in at.dataframe if "Shrunken DCR (%)" in d.value.columns)
    table = table.set_index("Subtype")
    for subtype, (arms, x, n) in expected_units("AI", "dcr").items():
        assert (table.loc[subtype, "Arms"], table.loc[subtype, "Controlled"],
                table.loc[subtype, "Evaluable"]) == (arms, x, n)
        assert table.loc[subtype, "Observed DCR (%)"] == pytest.approx(100 * x / n)
    assert "AI: DCR per subtype, observed and shrunken" in str(
        [c.proto.spec for c in at.get("vega_lite_chart")])
    at = open_page("views/across.py", {"endpoint": "grade3"})
    text = page_text(at)
    assert "This model pools the objective response rate: the grade ≥ 3 treatment-related " \
           "adverse event rate chosen in the sidebar is not counted on each subtype's own " \
           "patients (safety is reported per arm, for all its subtypes)." in text
    assert any("Shrunken ORR (%)" in d.value.columns for d in at.dataframe)
