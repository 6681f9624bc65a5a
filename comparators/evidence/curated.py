"""Reading the small curated side tables of ``data/`` (risk of bias, search log) the catalog's way.

Each row comes back as stripped text with the place to name in a message,
``"file.csv row 3 (line 4)"``, after the same CSV reader the catalog uses; a missing column or a
character no renderer can draw is refused with :class:`CatalogError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from comparators.evidence.catalog import CatalogError
from comparators.evidence.catalog import _read_csv as read_csv

#: C0/C1 controls, DEL, lone surrogates and the Unicode non-characters: text holding one cannot
#: go into a chart, a document or a terminal.
UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
    + "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
    + "]")


def read_curated(directory: Path, name: str,
                 columns: Sequence[str]) -> list[tuple[str, dict[str, str]]]:
    """(where, row) for each data row of ``directory/name``, the cells of ``columns`` stripped."""
    raw, lines = read_csv(directory / name)
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise CatalogError([f"{name} header (line 1), column '{c}': required column is missing"
                            for c in missing])
    return [(f"{name} row {i + 1} (line {lines[i]})", {c: str(rec[c]).strip() for c in columns})
            for i, rec in enumerate(raw.to_dict("records"))]


def unprintable_cells(where: str, row: Mapping[str, str]) -> list[str]:
    """One problem per cell holding a character in :data:`UNPRINTABLE`."""
    return [f"{where}, column '{c}': unprintable character in {v[:40]!r}"
            for c, v in row.items() if UNPRINTABLE.search(v)]
