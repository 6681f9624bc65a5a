"""Arms a user adds to the catalog: in the catalog's row shape, checked by its own validator.

A user may add comparator arms the catalog lacks (one from a form, or several from a CSV in the
shape of ``data/trials.csv``). Each must say what its numbers were read from (``source_ref``,
``source_type``, ``data_cut``) and passes :func:`evidence.catalog.validate_cohort_rows`, the rules
every curated row meets. Added rows carry ``added_by_user = True`` and the verification level
:data:`ADDED_BY_USER` (evidence.labels gives them their own mark), so every plot, table, caption
and export that shows a row's source mark shows that it was added by the user. They never enter
``data/``: the app keeps them in the session, the CLI reads them from ``--extra-rows FILE``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.evidence.catalog import (
    COUNT_COLUMNS,
    DERIVED_TRIAL_COLUMNS,
    TRIAL_COLUMNS,
    Catalog,
    CatalogError,
    csv_cells,
    validate_cohort_rows,
)
from comparators.evidence.labels import ADDED_BY_USER
from comparators.evidence.seed import SEED_STUDY

__all__ = [
    "ADDED_BY_USER",
    "ADDED_COLUMN",
    "ADDED_REQUIRED_TEXT",
    "added_row",
    "added_rows_csv",
    "catalog_format",
    "combine_added_rows",
    "read_added_rows",
    "validate_added_rows",
    "with_added_rows",
]

#: The column that marks a row as added by the user (True) in a catalog with added rows.
ADDED_COLUMN = "added_by_user"
#: What an added arm must fill: who and what it is, its class (pooling groups by it) and where
#: its numbers were read from; evaluable and responders are required counts of every row.
ADDED_REQUIRED_TEXT: tuple[str, ...] = ("study", "arm", "regimen", "regimen_class", "subtype",
                                        "source_ref", "source_type", "data_cut")
ADDED_REQUIRED_COLUMNS: tuple[str, ...] = ADDED_REQUIRED_TEXT + ("evaluable", "responders")
#: Columns of a downloaded catalog that are derived on load, accepted and recomputed.
_DERIVED = (*DERIVED_TRIAL_COLUMNS, ADDED_COLUMN)
_PROCEED = "add fewer arms at a time"


def read_added_rows(data: bytes | str | Path, catalog: Catalog, *,
                    filename: str | None = None, already: int = 0) -> pd.DataFrame:
    """Added arms from a CSV in the catalog's row shape (bytes, text or a file path), bounded
    (limits.MAX_ADDED_BYTES, MAX_ADDED_ARMS with the `already` added ones, MAX_ADDED_CELLS)
    before any row is checked, then validated as :func:`validate_added_rows` says."""
    if isinstance(data, Path):
        name = filename or data.name
        try:
            raw = limits.read_regular_file(data, limits.MAX_ADDED_BYTES)
        except InputError as exc:
            raise CatalogError(str(exc)) from None
    else:
        name = filename or "added arms"
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        limits.check_count(f"{name}: size in bytes", len(raw), limits.MAX_ADDED_BYTES,
                           "add fewer arms at a time")
        text = limits.decode_text(raw, name).text
    except InputError as exc:
        raise CatalogError(str(exc)) from None
    room = max(limits.MAX_ADDED_ARMS - already, 0)
    frame, lines = csv_cells(io.StringIO(text, newline=""), name, max_rows=room,
                             proceed=f"{limits.MAX_ADDED_ARMS:,} added arms per session; "
                                     f"{_PROCEED}")
    if frame.empty:
        raise CatalogError(f"{name}: a header but no rows")
    return validate_added_rows(frame, catalog, source=name, lines=lines, already=already)


def validate_added_rows(frame: pd.DataFrame, catalog: Catalog, *, source: str = "added arms",
                        lines: list[int] | None = None, already: int = 0) -> pd.DataFrame:
    """Rows a user adds, checked by the catalog's own row validator with the provenance trio
    required (ADDED_REQUIRED_TEXT), then against the catalog: no arm it already has, and not
    the seed study (which the cohort replaces). Returned in the catalog's column order with
    `verified` = ADDED_BY_USER, no publication `year` and `added_by_user` = True."""
    columns = [str(c).strip() for c in frame.columns]
    unknown = [c for c in columns if c not in TRIAL_COLUMNS and c not in _DERIVED]
    if unknown:
        raise CatalogError(f"{source} header (line 1), column '{unknown[0]}': not a column of "
                           "the catalog (data/README.md lists them)")
    try:
        limits.check_count(f"{source}: arms added in this session", already + len(frame),
                           limits.MAX_ADDED_ARMS, _PROCEED)
        limits.check_count(f"{source}: cells (rows x columns)", len(frame) * len(columns),
                           limits.MAX_ADDED_CELLS, _PROCEED)
    except InputError as exc:
        raise CatalogError(str(exc)) from None
    given = frame.set_axis(columns, axis=1).drop(columns=[c for c in _DERIVED if c in columns])
    rows = validate_cohort_rows(given, source, catalog.subtype_codes, lines=lines,
                                required_columns=ADDED_REQUIRED_COLUMNS,
                                required_text=ADDED_REQUIRED_TEXT)
    problems = _catalog_key_problems(rows, catalog, source,
                                     lines or [i + 2 for i in range(len(rows))])
    if problems:
        raise CatalogError(problems)
    rows = rows[list(TRIAL_COLUMNS)].copy()
    rows["verified"] = pd.array([ADDED_BY_USER] * len(rows), dtype="string")
    rows["year"] = pd.array([None] * len(rows), dtype="Int64")
    rows[ADDED_COLUMN] = pd.array([True] * len(rows), dtype="boolean")
    return rows


def _catalog_key_problems(rows: pd.DataFrame, catalog: Catalog, source: str,
                          lines: list[int]) -> list[str]:
    """An added arm is new: not a (study, arm, subtype) the catalog holds, not the seed study."""
    held = set(zip(catalog.trials["study"], catalog.trials["arm"], catalog.trials["subtype"],
                   strict=True))
    problems = []
    for i, key in enumerate(zip(rows["study"], rows["arm"], rows["subtype"], strict=True)):
        where = f"{source} row {i + 1} (line {lines[i]})"
        if key[0] == SEED_STUDY:
            problems.append(f"{where}, column 'study': {SEED_STUDY} is the seed paper's cohort, "
                            "shown as this cohort; give the added arm its own study id")
        elif key in held:
            problems.append(f"{where}, columns 'study', 'arm', 'subtype': the catalog already "
                            f"has {key[0]} · {key[1]} ({key[2]}); give the added arm another "
                            "arm name, or propose a correction to that row")
    return problems


def combine_added_rows(previous: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """The session's added rows followed by `new` ones; an arm added twice is refused."""
    if previous is None or previous.empty:
        return new.reset_index(drop=True)
    held = set(zip(previous["study"], previous["arm"], previous["subtype"], strict=True))
    for key in zip(new["study"], new["arm"], new["subtype"], strict=True):
        if key in held:
            raise CatalogError(f"{key[0]} · {key[1]} ({key[2]}) is already among the arms you "
                               "added; remove it first to replace it")
    try:
        limits.check_count("arms added in this session", len(previous) + len(new),
                           limits.MAX_ADDED_ARMS, _PROCEED)
    except InputError as exc:
        raise CatalogError(str(exc)) from None
    return pd.concat([previous, new], ignore_index=True)


def with_added_rows(catalog: Catalog, rows: pd.DataFrame | None) -> Catalog:
    """The catalog with the user's added rows after its own (itself when there are none); its
    `added_digest` names the added rows, so results from it are cached apart."""
    if rows is None or rows.empty:
        return catalog
    curated = catalog.trials.assign(**{ADDED_COLUMN: pd.array([False] * len(catalog.trials),
                                                              dtype="boolean")})
    trials = pd.concat([curated, rows[list(curated.columns)]], ignore_index=True)
    for column, dtype in curated.dtypes.items():
        trials[column] = trials[column].astype(dtype)
    digest = hashlib.sha256(added_rows_csv(rows).encode("utf-8")).hexdigest()[:16]
    return Catalog(trials=trials, references=catalog.references, subtypes=catalog.subtypes,
                   info=catalog.info, added_digest=digest)


def catalog_format(rows: pd.DataFrame) -> pd.DataFrame:
    """The added rows as ``data/trials.csv`` holds rows: its columns, in its order, empty cells
    empty and counts whole (ready to propose for inclusion in the catalog)."""
    out = rows[list(TRIAL_COLUMNS)].astype(object).where(rows[list(TRIAL_COLUMNS)].notna(), "")
    for column in COUNT_COLUMNS:
        out[column] = [v if v == "" else int(v) for v in out[column]]
    return out


def added_rows_csv(rows: pd.DataFrame) -> str:
    """:func:`catalog_format` as CSV text."""
    return str(catalog_format(rows).to_csv(index=False, lineterminator="\n"))


def added_row(fields: Mapping[str, Any], catalog: Catalog, *, already: int = 0) -> pd.DataFrame:
    """One arm typed into a form (column -> value; empty values may be left out), validated as
    an added row; a refusal names the column ("column 'data_cut': ...")."""
    source = "the arm"
    record = {column: None for column in ADDED_REQUIRED_COLUMNS} | dict(fields)
    try:
        return validate_added_rows(pd.DataFrame([record]), catalog, source=source, lines=[1],
                                   already=already)
    except CatalogError as exc:
        prefix = f"{source} row 1 (line 1), "
        raise CatalogError([p.replace(prefix, "", 1) for p in exc.problems]) from None
