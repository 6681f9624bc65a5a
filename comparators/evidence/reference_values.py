"""The EORTC Soft Tissue and Bone Sarcoma Group's progression-free-rate reference values.

``data/reference_values.csv`` holds, one row per value, the 3- and 6-month progression-free
rates that suggest activity or inactivity of a new agent (Van Glabbeke et al., Eur J Cancer
2002) and the histology- and line-specific benchmarks that followed (Kantidakis et al., Eur J
Cancer 2021 for leiomyosarcoma, 2022 for liposarcoma and synovial sarcoma), each with the
reference it was read from, where in it, and the population it describes. Every value is
checked on load through the one input boundary (comparators/inputs.py); a problem raises
:class:`~comparators.evidence.catalog.CatalogError` naming the file, row, line and column.
Column meanings are in data/README.md ("reference_values.csv").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from comparators.evidence.catalog import (
    CatalogError,
    cell_text,
    default_data_dir,
    load_references,
    read_csv_cells,
    require_columns,
    subtype_codes,
)
from comparators.evidence.columns import collect
from comparators.inputs import clean_text, parse_choice, parse_count, parse_number
from comparators.vocab import REFERENCE_VALUE_KINDS

__all__ = [
    "REFERENCE_VALUE_COLUMNS",
    "REFERENCE_VALUE_LINES",
    "REFERENCE_VALUE_MONTHS",
    "load_reference_values",
]

REFERENCE_VALUES_FILE = "reference_values.csv"
REFERENCE_VALUE_COLUMNS: tuple[str, ...] = (
    "source", "subtype", "line", "months", "kind", "rate", "rate_upper", "low", "high",
    "population", "n_patients", "n_trials", "locator", "note",
)
#: The lines the reference values are given for (a subset of vocab.LINE_CODES).
REFERENCE_VALUE_LINES: tuple[str, ...] = ("first line", "pretreated")
#: The landmarks, in months.
REFERENCE_VALUE_MONTHS: tuple[int, ...] = (3, 6)
_RATES = ("rate", "rate_upper", "low", "high")
_COUNTS = ("months", "n_patients", "n_trials")
_REQUIRED = ("source", "subtype", "line", "months", "kind", "rate", "population", "locator")


def load_reference_values(data_dir: Path | None = None) -> pd.DataFrame:
    """Read and check ``reference_values.csv``: rates as fractions (Float64), months and
    numbers of patients and trials as Int64, text as string; one row per value, in file order.

    Raises CatalogError listing every problem (file, row, line, column and the rule broken).
    """
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    raw, lines = read_csv_cells(directory / REFERENCE_VALUES_FILE)
    require_columns(raw, REFERENCE_VALUE_COLUMNS, REFERENCE_VALUES_FILE)
    known_refs = set(load_references(directory)["ref"].astype(str))
    codes = sorted(subtype_codes(directory))
    problems: list[str] = []
    records = [_checked_row(rec, lines[i], i, known_refs, codes, problems)
               for i, rec in enumerate(raw.to_dict("records"))]
    problems += _duplicate_problems(records, lines)
    if problems:
        raise CatalogError(problems)
    frame = pd.DataFrame(records, columns=list(REFERENCE_VALUE_COLUMNS))
    for col in REFERENCE_VALUE_COLUMNS:
        dtype = "Float64" if col in _RATES else "Int64" if col in _COUNTS else "string"
        frame[col] = pd.array(list(frame[col]), dtype=dtype)
    return frame


def _checked_row(raw: Mapping[str, Any], line: int, index: int, known_refs: set[str],
                 codes: Sequence[str], problems: list[str]) -> dict[str, Any]:
    """One row parsed through comparators.inputs; its problems are appended to `problems`."""
    def where(column: str) -> str:
        return f"{REFERENCE_VALUES_FILE} row {index + 1} (line {line}), column '{column}'"

    rec: dict[str, Any] = {}
    for col in REFERENCE_VALUE_COLUMNS:
        cell = raw.get(col)
        if col in _RATES:
            rec[col] = collect(parse_number, cell, where(col), problems, CatalogError,
                               required=False)
        elif col in _COUNTS:
            rec[col] = collect(parse_count, cell, where(col), problems, CatalogError,
                               required=False)
        else:
            rec[col] = (collect(clean_text, cell, where(col), problems, CatalogError) or None
                        if cell_text(cell) is not None else None)
    for col, choices, what in (("subtype", codes, "subtype code"),
                               ("line", REFERENCE_VALUE_LINES, "line"),
                               ("kind", REFERENCE_VALUE_KINDS, "reference value kind")):
        if rec[col] is not None:
            rec[col] = collect(parse_choice, rec[col], where(col), problems, CatalogError,
                               choices=choices, what=what) or rec[col]
    for col in _REQUIRED:
        if rec[col] is None and not any(p.startswith(where(col)) for p in problems):
            problems.append(f"{where(col)}: required value is empty")
    problems += _value_problems(rec, where, known_refs)
    return rec


def _value_problems(rec: Mapping[str, Any], where: Any, known_refs: set[str]) -> list[str]:
    """Rates are fractions; an interval holds its rate; a range runs upwards; the landmark is
    3 or 6 months; counts are at least 1; the source is a reference."""
    problems = []
    for col in _RATES:
        if rec[col] is not None and not 0 <= rec[col] <= 1:
            problems.append(f"{where(col)}: {rec[col]:g} is not a fraction between 0 and 1 "
                            "(write 40% as 0.40)")
            return problems
    rate, upper, low, high = (rec[c] for c in _RATES)
    if (low is None) != (high is None):
        problems.append(f"{where('low' if low is None else 'high')}: an interval needs both "
                        "low and high")
    elif rate is not None and low is not None and not low <= rate <= high:
        problems.append(f"{where('low')}: the interval {low:g}-{high:g} does not hold the rate "
                        f"{rate:g}")
    if rate is not None and upper is not None and upper <= rate:
        problems.append(f"{where('rate_upper')}: {upper:g} is not above the rate {rate:g} (a "
                        "range runs from rate up to rate_upper)")
    if rec["months"] is not None and rec["months"] not in REFERENCE_VALUE_MONTHS:
        problems.append(f"{where('months')}: {rec['months']} is not a landmark of the reference "
                        "values (3 or 6 months)")
    for col in ("n_patients", "n_trials"):
        if rec[col] == 0:
            problems.append(f"{where(col)}: 0; leave it empty when not reported")
    if rec["source"] is not None and rec["source"] not in known_refs:
        problems.append(f"{where('source')}: unknown reference {rec['source']!r} (not in "
                        "references.csv)")
    return problems


def _duplicate_problems(records: Sequence[Mapping[str, Any]], lines: Sequence[int]) -> list[str]:
    """One value per (source, subtype, line, months, kind, population)."""
    seen: dict[tuple[Any, ...], int] = {}
    problems = []
    for i, rec in enumerate(records):
        key = tuple(rec[c] for c in ("source", "subtype", "line", "months", "kind",
                                     "population"))
        if key in seen:
            problems.append(f"{REFERENCE_VALUES_FILE} row {i + 1} (line {lines[i]}), columns "
                            f"'source' to 'population': duplicate of row {seen[key] + 1}")
        else:
            seen[key] = i
    return problems
