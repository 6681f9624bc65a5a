"""Helpers for tests that break a copy of data/ on purpose: copy the folder, rewrite one CSV."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from pathlib import Path

from comparators.evidence.catalog import default_data_dir

Rows = list[dict[str, str]]


def read_rows(path: Path) -> Rows:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def data_copy(tmp_path: Path) -> Path:
    """A copy of the repository's data/ folder under tmp_path."""
    target = tmp_path / "data"
    shutil.copytree(default_data_dir(), target)
    return target


def rewrite(path: Path, change: Callable[[Rows], Rows]) -> None:
    """Rewrite the CSV at path with change(rows) (same columns as the first row returned)."""
    rows = change(read_rows(path))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def edit_first(match: dict[str, str], **values: str) -> Callable[[Rows], Rows]:
    """A change that sets `values` in the first row matching every (column, value) of match."""
    def change(rows: Rows) -> Rows:
        i = next(i for i, r in enumerate(rows) if all(r[k] == v for k, v in match.items()))
        rows[i].update(values)
        return rows
    return change
