"""The edit message of an ``st.data_editor``, checked before the editor applies it.

The browser sends ``{"edited_rows": {position: {column: value}}, "added_rows": [{column:
value}], "deleted_rows": [position]}``. The editor trusts it: a hand-built message naming row
99, an unknown column or ``deleted_rows: [50]`` raised inside the editor, position -1 edited the
last row, and 4.5 in a whole-number column was stored as 4. ``check_edits`` keeps the sound part
of a message and names every part it leaves out; a page that gets refusals rebuilds its table
from the sound part (``apply_edits``) and starts the editor afresh from it.

Not a page (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from comparators.errors import InputError
from comparators.inputs import MAX_EXACT_COUNT, clean_text, is_missing, parse_count, parse_number

EDIT_PARTS = ("edited_rows", "added_rows", "deleted_rows")


@dataclass(frozen=True)
class EditCheck:
    """The sound part of an edit message (in the editor's own shape) and what was left out."""

    state: dict[str, Any] = field(default_factory=lambda: {p: ({} if p == "edited_rows" else [])
                                                            for p in EDIT_PARTS})
    refused: tuple[str, ...] = ()
    #: True when a number arrived as text ("12", "1e1", "3,5") or a row position as anything
    #: but an int: the editor would read them its own way (int("1e1") fails, "0" is not a
    #: position), so the page applies the checked state.
    rewritten: bool = False

    @property
    def for_the_page(self) -> bool:
        """The page, not the editor, must apply this message (see `apply_edits`)."""
        return bool(self.refused) or self.rewritten


def _position(key: object, rows: int) -> int | None:
    """A row position the table has (0 .. rows - 1), else None; -1 is not "the last row"."""
    if isinstance(key, bool) or not isinstance(key, int | str):
        return None
    try:
        position = parse_count(key, maximum=max(rows - 1, 0))
    except InputError:
        return None
    return position if position is not None and position < rows else None


def _cell(column: object, value: object, columns: list[str], whole: set[str]) -> str | None:
    """Why this cell cannot be used (None if it can)."""
    if not isinstance(column, str) or column not in columns:
        name = clean_text(str(column), max_chars=10**4)[:40]
        return f"{name!r} is not a column of this table ({', '.join(columns)})"
    if value is not None and not isinstance(value, str | numbers.Number):
        return f"column {column!r}: {type(value).__name__} is not a cell value"
    if column in whole and not is_missing(value, markers=False):
        # The editor would truncate 4.5 to 4 or blank "1,500"; the sign and the size are for
        # the page's own checks, which name the row.
        try:
            number = parse_number(value, what="a whole number")
        except InputError as exc:
            return f"column {column!r}: {exc}"
        if number is not None and not number.is_integer():
            return f"column {column!r}: {value!r} is not a whole number"
        if number is not None and abs(number) > MAX_EXACT_COUNT:  # the editor drops it silently
            return f"column {column!r}: {number:g} is more than the limit of {MAX_EXACT_COUNT:,}"
    return None


def check_edits(state: object, frame: pd.DataFrame, whole: Iterable[str] = (),
                max_added: int = 1_000, row_names: Sequence[str] = ()) -> EditCheck:
    """The parts of `state` that fit `frame` (positions it has, its columns, whole numbers in
    the `whole` columns, at most `max_added` added rows) and a line for each part left out,
    naming the row as the user sees it ("Row 2 (AS)" with `row_names`)."""
    if state is None:
        return EditCheck()
    if not isinstance(state, Mapping):
        return EditCheck(refused=(f"an edit message that is not a table edit "
                                  f"({type(state).__name__}) was ignored",))
    columns, rows, wanted = [str(c) for c in frame.columns], len(frame), set(whole)
    refused: list[str] = [f"the edit message part {clean_text(str(k), max_chars=10**4)[:40]!r} "
                          "is not a table edit; ignored" for k in state if k not in EDIT_PARTS]
    edited: dict[int, dict[str, Any]] = {}
    raw_edited = state.get("edited_rows") or {}
    for key, changes in (raw_edited.items() if isinstance(raw_edited, Mapping) else ()):
        position = _position(key, rows)
        if position is None:
            refused.append(f"Row key {clean_text(str(key), max_chars=10**4)[:20]!r} is not a "
                           f"row of this table (rows 1 to {rows}); the edit was ignored")
            continue
        for column, value in (changes.items() if isinstance(changes, Mapping) else ()):
            why = _cell(column, value, columns, wanted)
            if why:
                name = f" ({row_names[position]})" if position < len(row_names) else ""
                refused.append(f"Row {position + 1}{name}, {why}; the edit was not applied")
            else:
                edited.setdefault(position, {})[column] = value
    raw_deleted = state.get("deleted_rows") or []
    deleted = []
    for key in (raw_deleted if isinstance(raw_deleted, list) else ()):
        position = _position(key, rows)
        if position is None:
            refused.append(f"Row key {clean_text(str(key), max_chars=10**4)[:20]!r} cannot be "
                           f"deleted: the table has rows 1 to {rows}")
        elif position not in deleted:
            deleted.append(position)
    raw_added = state.get("added_rows") or []
    added = []
    for i, row in enumerate(raw_added if isinstance(raw_added, list) else (), start=1):
        whys = ([f"{type(row).__name__} is not a row"] if not isinstance(row, Mapping) else
                [why for column, value in row.items()
                 if (why := _cell(column, value, columns, wanted))])
        if len(added) >= max_added:
            whys = [f"more than {max_added:,} added rows"]
        if whys:
            refused.append(f"Added row {i}: {'; '.join(whys)}; the row was not added")
        else:
            added.append(dict(row))
    for part, raw, kind in (("edited_rows", raw_edited, Mapping), ("deleted_rows", raw_deleted,
                                                                    list),
                            ("added_rows", raw_added, list)):
        if not isinstance(raw, kind):
            refused.append(f"the {part.replace('_', ' ')} of the edit message are not "
                           "readable; ignored")
    odd_positions = any(not isinstance(k, int) or isinstance(k, bool)
                        for k in [*edited_keys(raw_edited), *(raw_deleted if isinstance(
                            raw_deleted, list) else [])])
    numeric = wanted | {str(c) for c in frame.columns if frame[c].dtype.kind in "iuf"}
    cells = [v for changes in edited.values() for c, v in changes.items() if c in numeric]
    cells += [v for row in added for c, v in row.items() if c in numeric]
    return EditCheck({"edited_rows": edited, "added_rows": added, "deleted_rows": deleted},
                     tuple(refused), odd_positions or any(isinstance(v, str) for v in cells))


def edited_keys(raw: object) -> list[object]:
    return list(raw) if isinstance(raw, Mapping) else []


def apply_edits(frame: pd.DataFrame, state: Mapping[str, Any]) -> pd.DataFrame:
    """`frame` with a checked edit message applied as the editor applies it: cell edits by
    position, then deletions, then added rows labelled after the original rows. Values stay as
    sent (4.5 stays 4.5) so that the page's own validation names what is wrong."""
    out = frame.astype(object).copy()
    for position, changes in state.get("edited_rows", {}).items():
        for column, value in changes.items():
            out.iat[position, out.columns.get_loc(column)] = value
    out = out.drop(out.index[list(state.get("deleted_rows", []))])
    added = list(state.get("added_rows", []))
    if added:
        new = pd.DataFrame(added, columns=out.columns,
                           index=range(len(frame), len(frame) + len(added)), dtype=object)
        out = pd.concat([out, new])
    return out
