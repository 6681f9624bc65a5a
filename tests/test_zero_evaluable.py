"""A cohort with zero evaluable patients in a subtype is legal data.

Every patient of a subtype can be not evaluable (NE) for response: the upload is valid, and after
the upload (or a what-if edit with evaluable 0) every page must render without an
exception or an error, show the subtype as "0 evaluable" where the cohort's rows are shown, and
leave it out of pooling with a note. Before the fix 6 of 10 pages failed with
"PoolingInputError: study 1: n must be at least 1".
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
import pytest
from apptest import open_page, page_text
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py")
VALID = (ROOT / "tests" / "fixtures" / "ipd" / "valid.csv").read_bytes()


def upload_with_ne(only_asps: bool) -> bytes:
    """valid.csv (P1 ASPS PR, P2 UPS PD, P3 LMS SD, P4 AS CR) with NE responses."""
    df = pd.read_csv(io.BytesIO(VALID), dtype=str, keep_default_na=False)
    rows = df["subtype"] == "ASPS" if only_asps else df["subtype"] != ""
    df.loc[rows, "best_response"] = "NE"
    df.loc[rows, "best_pct_change"] = ""
    return df.to_csv(index=False).encode()


def use_upload(data: bytes) -> AppTest:
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("all_ne.csv", data, "text/csv")
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert not at.exception
    return at


def visit_every_page(at: AppTest) -> dict[str, str]:
    texts = {}
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        texts[page] = page_text(at)
    return texts


@pytest.mark.parametrize("only_asps", [True, False], ids=["only-asps-patient-ne", "all-ne"])
def test_upload_with_no_evaluable_patient_breaks_no_page(only_asps: bool) -> None:
    texts = visit_every_page(use_upload(upload_with_ne(only_asps)))
    assert "0 evaluable" in texts["views/cohort.py"]
    assert "ASPS" in texts["views/cohort.py"].split("0 evaluable")[1].splitlines()[0]
    # the benchmark page's default subtype is ASPS: the cohort is named and left out
    assert ("This cohort has 0 evaluable ASPS patients: left out of pooling and comparisons"
            in texts["views/benchmark.py"])
    if not only_asps:
        assert "This cohort has 0 evaluable patients" in texts["views/whatif.py"]


def test_whatif_edit_to_zero_evaluable_breaks_no_page() -> None:
    at = open_page("views/whatif.py")
    at.session_state["scenario_editor"] = {  # row 0 is ASPS (5/7 as published)
        "edited_rows": {0: {"evaluable": 0, "responders": 0}}, "added_rows": [],
        "deleted_rows": []}
    at.run()
    assert not at.exception
    assert not [e.value for e in at.error if e.value.startswith("Row ")]
    texts = visit_every_page(at)
    assert "This cohort has 0 evaluable ASPS patients" in texts["views/benchmark.py"]
