"""Hand-built edit messages for the What-if editor: refused by row and column, never applied.

st.data_editor trusts the edit message from the browser: row key 99, an unknown column and
deleted_rows [50] raised inside the editor, key -1 edited the last row, and evaluable 4.5 was
stored as 4. The page now checks the message first (views/editing.py) and keeps its sound part.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from apptest import open_page  # noqa: E402

from comparators.evidence.catalog import load_catalog  # noqa: E402
from comparators.evidence.cohort import published_cohort  # noqa: E402
from comparators.evidence.scenario import apply_scenario, scenario_table  # noqa: E402
from views.common import SCENARIO_KEY  # noqa: E402
from views.editing import apply_edits, check_edits  # noqa: E402

PUBLISHED_COUNTS = {"ASPS": (7, 5), "AS": (2, 2), "LMS": (2, 1), "DDLPS": (3, 0)}
SOUND = {3: {"responders": 1}}  # DDLPS 0/3 -> 1/3: kept beside every refused part


@dataclass(frozen=True)
class Message:
    id: str
    state: object  # the whole edit message, or the parts merged with the sound edit
    refused: str | None  # text one error must contain (None: accepted without an error)
    expect: dict[str, tuple[int, int]] = field(default_factory=dict)  # subtype -> (n, k)
    whole: bool = False  # `state` is the whole message (no sound edit merged in)


MESSAGES = [
    Message("row-99", {"edited_rows": {99: {"evaluable": 3}}}, "Row key '99'", PUBLISHED_COUNTS),
    Message("unknown-column", {"edited_rows": {0: {"nope": 3}}}, "'nope' is not a column",
            PUBLISHED_COUNTS),
    Message("delete-row-50", {"deleted_rows": [50]}, "Row key '50' cannot be deleted",
            PUBLISHED_COUNTS),
    Message("key-minus-one", {"edited_rows": {-1: {"evaluable": 9}}}, "Row key '-1'",
            PUBLISHED_COUNTS),
    Message("delete-minus-one", {"deleted_rows": [-1]}, "Row key '-1' cannot be deleted",
            PUBLISHED_COUNTS),
    Message("fraction-evaluable", {"edited_rows": {0: {"evaluable": 4.5}}},
            "Row 1 (ASPS), column 'evaluable': 4.5 is not a whole number", PUBLISHED_COUNTS),
    Message("fraction-responders", {"edited_rows": {1: {"responders": 1.5}}},
            "Row 2 (AS), column 'responders'", PUBLISHED_COUNTS),
    Message("thousands", {"edited_rows": {0: {"evaluable": "1,500"}}}, "ambiguous",
            PUBLISHED_COUNTS),
    Message("text-number", {"edited_rows": {0: {"evaluable": "1e1"}}}, None,
            {"ASPS": (10, 5)}),
    Message("decimal-comma-whole", {"edited_rows": {0: {"evaluable": "9,0"}}}, None,
            {"ASPS": (9, 5)}),
    Message("list-value", {"edited_rows": {0: {"evaluable": [1, 2]}}}, "list is not a cell",
            PUBLISHED_COUNTS),
    Message("dict-subtype", {"edited_rows": {0: {"subtype": {"a": 1}}}}, "dict is not a cell",
            PUBLISHED_COUNTS),
    Message("bool-count", {"edited_rows": {0: {"evaluable": True}}}, "column 'evaluable'",
            PUBLISHED_COUNTS),
    Message("bool-key", {"edited_rows": {True: {"evaluable": 9}}}, "Row key 'True'",
            PUBLISHED_COUNTS),
    Message("text-key", {"edited_rows": {"x": {"evaluable": 9}}}, "Row key 'x'",
            PUBLISHED_COUNTS),
    Message("text-position-deleted", {"deleted_rows": ["0"]}, None,
            {k: v for k, v in PUBLISHED_COUNTS.items() if k != "ASPS"}),
    Message("added-unknown-column", {"added_rows": [{"nope": 1}]}, "Added row 1",
            PUBLISHED_COUNTS),
    Message("added-not-a-row", {"added_rows": [5]}, "Added row 1: int is not a row",
            PUBLISHED_COUNTS),
    Message("added-fraction", {"added_rows": [{"subtype": "UPS", "evaluable": 2.5,
                                               "responders": 1}]}, "Added row 1",
            PUBLISHED_COUNTS),
    Message("huge-count", {"edited_rows": {0: {"evaluable": 10**30}}}, "more than the limit",
            PUBLISHED_COUNTS),
    Message("not-a-message", "garbage", "not a table edit", PUBLISHED_COUNTS, whole=True),
    Message("parts-not-readable", {"edited_rows": [1, 2], "added_rows": {}, "deleted_rows": 7},
            "not readable", PUBLISHED_COUNTS, whole=True),
    Message("unknown-part", {"edited_rows": {}, "added_rows": [], "deleted_rows": [],
                             "evil": 1}, "'evil'", PUBLISHED_COUNTS, whole=True),
]


@pytest.fixture(scope="module")
def whatif():  # type: ignore[no-untyped-def]
    return open_page("views/whatif.py")


def counts(at) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    if SCENARIO_KEY not in at.session_state:
        return {}
    rows = at.session_state[SCENARIO_KEY].rows
    return {str(r["subtype"]): (int(r["evaluable"]), int(r["responders"]))
            for _, r in rows.iterrows() if r["subtype"] not in ("STS", "SARCOMA")}


@pytest.mark.parametrize("case", MESSAGES, ids=[m.id for m in MESSAGES])
def test_a_hand_built_message_is_refused_by_row_and_column(whatif, case: Message) -> None:  # type: ignore[no-untyped-def]
    at = whatif
    at.button(key="scenario_reset").click().run()
    assert not at.exception
    if case.whole:
        state = case.state
    else:
        parts = {"edited_rows": {}, "added_rows": [], "deleted_rows": [], **case.state}  # type: ignore[dict-item]
        parts["edited_rows"] = {**SOUND, **parts["edited_rows"]}
        state = parts
    at.session_state["scenario_editor"] = state
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    if case.refused is None:
        assert not errors, errors
    else:
        assert any(case.refused in e for e in errors), errors
    got = counts(at)
    if not case.whole:
        assert got.get("DDLPS") == (3, 1), got  # the sound edit beside it is kept
    for subtype, expected in case.expect.items():
        if case.whole or subtype != "DDLPS":
            assert got.get(subtype, PUBLISHED_COUNTS.get(subtype)) == expected, (subtype, got)
    # the page works on: after a reset, an ordinary edit applies
    at.button(key="scenario_reset").click().run()
    at.session_state["scenario_editor"] = {"edited_rows": {0: {"responders": 6}},
                                           "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert counts(at)["ASPS"][1] == 6


# ------------------------------------------------------------------------------ generated

VALUES = [0, 1, 3, 7, -1, 2.5, 1e300, float("inf"), float("nan"), None, True, "5", "1,500",
          "3,0", "x", "", [1], {"a": 1}, 10**20, "ASPS", "UPS", "STS", "nope", "\x00", "\u202e"]
KEYS = [0, 1, 2, 3, 4, -1, 99, "0", "x", None, True, 2.0, 10**9]
COLUMNS = ["subtype", "evaluable", "responders", "nope", "", None, 3, "_index"]


def random_message(rnd: random.Random) -> object:
    if rnd.random() < 0.05:
        return rnd.choice([None, "text", 5, [], {"edited_rows": "x"}])
    edited = {rnd.choice(KEYS): {rnd.choice(COLUMNS): rnd.choice(VALUES)
                                 for _ in range(rnd.randint(0, 3))}
              for _ in range(rnd.randint(0, 4))}
    added = [{rnd.choice(COLUMNS): rnd.choice(VALUES) for _ in range(rnd.randint(0, 3))}
             if rnd.random() < 0.9 else rnd.choice(VALUES) for _ in range(rnd.randint(0, 3))]
    deleted = [rnd.choice(KEYS) for _ in range(rnd.randint(0, 3))]
    return {"edited_rows": edited, "added_rows": added, "deleted_rows": deleted}


def test_generated_messages_never_raise_and_never_apply_a_fraction(
        record_property: Callable) -> None:
    record_property("inputs", 1_500)
    published = published_cohort(load_catalog().trials)
    known = set(load_catalog().subtype_codes) - {"STS", "SARCOMA"}
    table = scenario_table(published)
    rnd = random.Random(20)
    tried = 0
    for _ in range(1_500):
        message = random_message(rnd)
        check = check_edits(message, table, whole=("evaluable", "responders"),
                            max_added=len(known), row_names=list(table["subtype"]))
        edited = apply_edits(table, check.state)
        assert set(edited.columns) == set(table.columns)
        assert all(0 <= p < len(table) for p in check.state["deleted_rows"])
        cohort, _ = apply_scenario(edited, published, known)
        for column in ("evaluable", "responders"):
            values = pd.to_numeric(cohort.rows[column])
            assert (values >= 0).all() and (values == values.round()).all(), message
        tried += 1
    assert tried == 1_500
