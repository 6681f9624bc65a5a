"""A what-if scenario is tied to the cohort it was edited from.

Upload -> edit on What if -> "Stop using the upload": every page still showed the scenario built
from the upload, captioned "edited from the published counts" (wrong before the stop too). Now
the scenario names its cohort, and is dropped with a notice when that cohort is no longer the
one in use.
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from apptest import open_page, page_text  # noqa: E402

from views.common import SCENARIO_KEY, UPLOAD_KEY  # noqa: E402

VALID = (TESTS / "fixtures" / "ipd" / "valid.csv").read_bytes()
OTHER = VALID.replace(b"P4,AS,", b"P4,LMS,")  # another cohort: its AS patient is an LMS one
WHATIF, SURVIVAL = "views/whatif.py", "views/survival.py"


def use_upload(at, name: str, raw: bytes, label: str = "") -> None:  # type: ignore[no-untyped-def]
    at.switch_page(SURVIVAL)
    at.run()
    at.file_uploader[0].upload(name, raw, "text/csv").run()
    if label:
        at.text_input(key="upload_label").input(label).run()
    assert not at.exception, [e.value for e in at.exception]


def edit_first_row(at, responders: int) -> None:  # type: ignore[no-untyped-def]
    at.switch_page(WHATIF)
    at.run()
    at.session_state["scenario_editor"] = {
        "edited_rows": {0: {"responders": responders}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert SCENARIO_KEY in at.session_state


def warnings(at) -> str:  # type: ignore[no-untyped-def]
    return " ".join(w.value for w in at.warning)


def test_a_scenario_of_an_upload_names_it_and_goes_when_the_upload_is_stopped() -> None:
    at = open_page(SURVIVAL)
    use_upload(at, "hospital.csv", VALID, label="Hospital X")
    edit_first_row(at, 0)
    scenario = at.session_state[SCENARIO_KEY]
    assert scenario.derived_label == "Hospital X"
    assert "edited from Hospital X" in scenario.caveat
    assert "published" not in scenario.caveat
    text = page_text(at)
    assert "in place of Hospital X" in text and "in place of the published" not in text
    notes = " ".join(str(n) for n in scenario.rows["note"])
    assert "in Hospital X" in notes and "edited from the published" not in notes
    # Stop using the upload: the scenario goes with it, and the next page says so.
    at.switch_page(SURVIVAL)
    at.run()
    at.button(key="reset_upload").click().run()
    assert not at.exception
    assert UPLOAD_KEY not in at.session_state
    assert SCENARIO_KEY not in at.session_state
    assert "edited from Hospital X was dropped" in warnings(at)  # said where the user clicked
    # ... once: the next page shows the published cohort and does not repeat it
    at.switch_page("views/benchmark.py")
    at.run()
    assert SCENARIO_KEY not in at.session_state
    assert "was dropped" not in warnings(at) and "hypothetical" not in warnings(at).lower()


def test_a_scenario_of_the_published_counts_goes_when_an_upload_replaces_them() -> None:
    at = open_page(WHATIF)
    edit_first_row(at, 7)
    assert at.session_state[SCENARIO_KEY].derived_label == "the published counts"
    assert "Hypothetical: edited from the published counts" in at.session_state[
        SCENARIO_KEY].caveat
    use_upload(at, "mine.csv", VALID)
    assert SCENARIO_KEY not in at.session_state  # the survival page's banner dropped it
    at.switch_page(WHATIF)
    at.run()
    assert not at.exception
    assert SCENARIO_KEY not in at.session_state
    table = at.dataframe[0].value if at.dataframe else None
    assert at.session_state["whatif_editor_origin"].kind == "uploaded", table


def test_a_new_upload_drops_the_scenario_of_the_old_one_and_the_editor_restarts() -> None:
    at = open_page(SURVIVAL)
    use_upload(at, "first.csv", VALID)
    edit_first_row(at, 0)
    use_upload(at, "second.csv", OTHER)
    at.switch_page(WHATIF)
    at.run()
    assert not at.exception
    assert SCENARIO_KEY not in at.session_state
    origin = at.session_state["whatif_editor_origin"]
    assert origin.kind == "uploaded" and "second.csv" in origin.label
    assert "LMS" in set(origin.rows["subtype"]) and "AS" not in set(origin.rows["subtype"])


def test_a_scenario_stays_while_its_cohort_is_in_use() -> None:
    at = open_page(SURVIVAL)
    use_upload(at, "kept.csv", VALID)
    edit_first_row(at, 0)
    for page in ("views/benchmark.py", "views/summary.py", SURVIVAL, WHATIF):
        at.switch_page(page)
        at.run()
        assert not at.exception
        assert at.session_state[SCENARIO_KEY].kind == "hypothetical", page
        assert "was dropped" not in warnings(at)
