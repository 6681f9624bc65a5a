"""Reading the small curated side tables of ``data/`` (risk of bias, search log) the catalog's way.

The same CSV reader as the catalog, and every cell through the input boundary
(:mod:`comparators.inputs`): text is cleaned by ``clean_text`` (control characters, non-characters
and bidirectional overrides removed, line breaks made spaces, more than ``MAX_TEXT_CHARS``
refused), codes are matched by ``parse_choice`` and counts read by ``parse_count``, so a value in
these tables gets the verdict it gets in ``trials.csv``. A refusal becomes one problem line naming
the file, row, line and column (``"file.csv row 3 (line 4), column 'item': ..."``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from comparators.evidence.catalog import CatalogError, read_csv_cells
from comparators.evidence.columns import collect
from comparators.inputs import clean_text, parse_choice

__all__ = ["CuratedRow", "read_curated"]


class CuratedRow:
    """One data row: its cleaned text cells, where it is (for messages), and a place to collect
    the problems found in it."""

    def __init__(self, where: str, cells: Mapping[str, str], problems: list[str]):
        self.where = where
        self.cells = dict(cells)
        self._problems = problems

    def __getitem__(self, column: str) -> str:
        return self.cells[column]

    def at(self, column: str) -> str:
        """`"file.csv row 3 (line 4), column 'item'"`: the place a message names."""
        return f"{self.where}, column '{column}'"

    def problem(self, column: str, text: str) -> None:
        self._problems.append(f"{self.at(column)}: {text}")

    def problem_with(self, columns: Sequence[str], text: str) -> None:
        names = ", ".join(f"'{c}'" for c in columns)
        self._problems.append(f"{self.where}, columns {names}: {text}")

    def parse(self, parse: Callable[..., Any], column: str, **kwargs: Any) -> Any:
        """`parse(cell)` through the input boundary; None (and a problem) when refused."""
        return collect(parse, self.cells[column], self.at(column), self._problems, CatalogError,
                       **kwargs)

    def code(self, column: str, choices: Iterable[str] | Mapping[str, str], what: str) -> str:
        """The cell as a code of `choices` (any case, as the vocabulary spells it); the cell as
        written when refused (the problem is recorded)."""
        value = self.cells[column]
        return self.parse(parse_choice, column, choices=choices, what=what) or value

    def codes(self, column: str, choices: Iterable[str], what: str) -> tuple[str, ...]:
        """A ';'-separated list of codes, each read as :meth:`code` reads one."""
        choices = list(choices)
        return tuple(collect(parse_choice, part, self.at(column), self._problems, CatalogError,
                             choices=choices, what=what) or part.strip()
                     for part in self.cells[column].split(";") if part.strip())


def read_curated(directory: Path, name: str, columns: Sequence[str], problems: list[str],
                 numbers: Sequence[str] = ()) -> list[CuratedRow]:
    """Each data row of ``directory/name``: its cells of ``columns`` cleaned by ``clean_text``
    (a refused cell is recorded in `problems` and read as empty), except the `numbers` columns,
    left as written for ``parse_count``/``parse_number`` (cleaning first would turn "1\x002"
    into 12). A missing file or column is refused at once with :class:`CatalogError`."""
    raw, lines = read_csv_cells(directory / name)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise CatalogError([f"{name} header (line 1), column '{c}': required column is missing"
                            for c in missing])
    rows = []
    for i, rec in enumerate(raw.to_dict("records")):
        where = f"{name} row {i + 1} (line {lines[i]})"
        cells = {c: rec[c] if c in numbers else
                 collect(clean_text, rec[c], f"{where}, column '{c}'", problems, CatalogError)
                 or ""
                 for c in columns}
        rows.append(CuratedRow(where, cells, problems))
    return rows
