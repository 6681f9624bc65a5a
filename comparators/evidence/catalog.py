"""The curated comparator catalog: trials, references and the subtype vocabulary.

Every cohort - the seed paper's, each comparator trial arm, a user's upload - is the same row
shape: one row per (study, arm, subtype) with counts. This module reads the three CSV tables in
``data/`` and the version files (``data/catalog.json``, ``data/catalog_history.csv``; read by
evidence.versions), validates them, and hands them out as a frozen :class:`Catalog`. A row's
verification level is not stored: it is derived on load from what the row's numbers were read
from (evidence.labels.verification_status). The same row-level checks are exposed as
:func:`validate_cohort_rows` for uploaded cohorts.

Every failure raises :class:`CatalogError` whose message names the file, the row (1-based data
row and the CSV line number) and the column, e.g.::

    trials.csv row 7 (line 8), column 'responders': 12 responders exceed 10 evaluable

Column meanings, allowed values and curation rules are documented in ``data/README.md``.
No streamlit import here; caching belongs to the views.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.evidence.columns import Column, collect, responders_within_evaluable
from comparators.evidence.labels import verification_status
from comparators.evidence.versions import (
    CatalogInfo,
    CatalogRelease,
    CatalogVersionError,
)
from comparators.evidence.versions import load_catalog_info as _load_info
from comparators.inputs import clean_text, is_missing, parse_choice
from comparators.vocab import (
    AGGREGATE_SUBTYPES,
    DESIGNS,
    ICI_TARGETS,
    LINE_CODES,
    REGIMEN_CLASSES,
    VERIFIED,
)

__all__ = [
    "AGGREGATE_SUBTYPES",
    "COUNT_COLUMNS",
    "DESIGNS",
    "ENDPOINT_GROUPS",
    "FLOAT_COLUMNS",
    "ICI_TARGETS",
    "LINE_CODES",
    "PFS_MONTH_COLUMNS",
    "PFS_RATE_COLUMNS",
    "REFERENCE_COLUMNS",
    "REFERENCE_KINDS",
    "REGIMEN_CLASSES",
    "REQUIRED_REFERENCE_FIELDS",
    "SOURCE_TYPES",
    "SUBTYPE_COLUMNS",
    "TRIAL_COLUMNS",
    "VERIFIED",
    "Catalog",
    "CatalogError",
    "CatalogInfo",
    "CatalogRelease",
    "EndpointGroup",
    "catalog_rows_json",
    "csv_cells",
    "cell_text",
    "default_data_dir",
    "is_own_report",
    "load_catalog",
    "load_catalog_info",
    "load_references",
    "publication_years",
    "reference_completeness",
    "read_csv_cells",
    "reference_links",
    "require_columns",
    "subtype_lookup",
    "trials_for",
    "validate_cohort_rows",
]

# --------------------------------------------------------------------------- vocabularies

TRIAL_COLUMNS: tuple[str, ...] = (
    "study",
    "arm",
    "regimen",
    "regimen_class",
    "ai_agent",
    "ici_agent",
    "ici_target",
    "design",
    "line",
    "subtype",
    "subtype_as_reported",
    "evaluable",
    "responders",
    "cr",
    "pr",
    "sd",
    "pd",
    "unconfirmed",
    "pfs_median_months",
    "pfs_low",
    "pfs_high",
    "ref",
    "locator",
    "derived",
    "note",
    "overlaps_with",
    "source_ref",
    "source_type",
    "data_cut",
    # Endpoints beyond response, each group with its own provenance (data/README.md).
    "line_coded",
    "pfs3_rate",
    "pfs3_n",
    "pfs6_rate",
    "pfs6_n",
    "pfs_rate_weeks",
    "pfs_rate_locator",
    "pfs_rate_derived",
    "pfs_rate_source_ref",
    "pfs_rate_note",
    "n_treated",
    "trae_g3",
    "discontinued_toxicity",
    "safety_locator",
    "safety_derived",
    "safety_source_ref",
    "safety_note",
)
REFERENCE_COLUMNS: tuple[str, ...] = (
    "ref",
    "authors",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "doi",
    "pmid",
    "nct",
    "url",
    "note",
    "kind",
    "searched",
)
SUBTYPE_COLUMNS: tuple[str, ...] = ("code", "name", "synonyms", "note")

COUNT_COLUMNS: tuple[str, ...] = ("evaluable", "responders", "cr", "pr", "sd", "pd", "unconfirmed",
                                   "pfs3_n", "pfs6_n", "n_treated", "trae_g3",
                                   "discontinued_toxicity")
#: Median PFS and its interval, in months.
PFS_MONTH_COLUMNS: tuple[str, ...] = ("pfs_median_months", "pfs_low", "pfs_high")
#: Progression-free rates at 3 and 6 months, as fractions.
PFS_RATE_COLUMNS: tuple[str, ...] = ("pfs3_rate", "pfs6_rate")
FLOAT_COLUMNS: tuple[str, ...] = PFS_MONTH_COLUMNS + PFS_RATE_COLUMNS
TEXT_COLUMNS: tuple[str, ...] = tuple(
    c for c in TRIAL_COLUMNS if c not in COUNT_COLUMNS and c not in FLOAT_COLUMNS
)


#: Columns an uploaded cohort must have; everything else in TRIAL_COLUMNS is optional there.
COHORT_REQUIRED_COLUMNS: tuple[str, ...] = ("study", "arm", "subtype", "evaluable", "responders")
#: Text columns that must be filled in every catalog row.
CATALOG_REQUIRED_TEXT: tuple[str, ...] = (
    "study",
    "arm",
    "regimen",
    "regimen_class",
    "design",
    "subtype",
    "ref",
    "locator",
    "source_ref",
    "source_type",
    "data_cut",
)
#: Columns load_catalog() adds to the trials, derived from the others (never stored).
DERIVED_TRIAL_COLUMNS: tuple[str, ...] = ("verified", "year")
#: The one value of `trials.derived` (empty when the counts are printed in the source), of the
#: endpoint groups' `*_derived` flags and of `pfs_rate_weeks`.
DERIVED_YES = "yes"


@dataclass(frozen=True)
class EndpointGroup:
    """Endpoint columns read together, with their own provenance columns
    (`<prefix>_locator`, `_derived`, `_source_ref`, `_note`; data/README.md, trials.csv)."""

    name: str
    prefix: str
    values: tuple[str, ...]

    @property
    def provenance(self) -> tuple[str, str, str, str]:
        p = self.prefix
        return f"{p}_locator", f"{p}_derived", f"{p}_source_ref", f"{p}_note"


PFS_RATE_GROUP = EndpointGroup("PFS rate", "pfs_rate", ("pfs3_rate", "pfs3_n", "pfs6_rate",
                                                        "pfs6_n"))
SAFETY_GROUP = EndpointGroup("safety", "safety", ("n_treated", "trae_g3",
                                                  "discontinued_toxicity"))
ENDPOINT_GROUPS: tuple[EndpointGroup, ...] = (PFS_RATE_GROUP, SAFETY_GROUP)

#: What a row's numbers were read from (`trials.source_type`; data/README.md, "Provenance").
SOURCE_TYPES: tuple[str, ...] = (
    "full paper",
    "conference abstract",
    "review table",
    "news summary",
    "registry results",
    "seed paper",
)
#: What kind of document a reference is (`references.kind`).
REFERENCE_KINDS: tuple[str, ...] = ("article", "review", "abstract", "news", "registry")
#: The kind of document each source type must be read from (`seed paper`: the seed article).
SOURCE_KIND: dict[str, str] = {
    "full paper": "article",
    "conference abstract": "abstract",
    "review table": "review",
    "news summary": "news",
    "registry results": "registry",
    "seed paper": "article",
}
#: The fields a complete reference of each kind has (data/README.md, references.csv). A missing
#: one is allowed only when `searched` says where it was looked for.
REQUIRED_REFERENCE_FIELDS: dict[str, tuple[str, ...]] = {
    "article": ("authors", "title", "journal", "year", "volume", "pages", "doi", "pmid"),
    "review": ("authors", "title", "journal", "year", "volume", "pages", "doi", "pmid"),
    "abstract": ("authors", "title", "journal", "year", "volume", "pages"),
    "news": ("authors", "title", "journal", "year", "url"),
    "registry": ("title", "journal", "nct"),
}
#: Vancouver (NLM) style: list up to six authors, then "et al." when there are more.
MAX_AUTHORS = 6
#: Bibliographic fields that print in every export, so hold no placeholder text.
PRINTED_FIELDS: tuple[str, ...] = ("authors", "title", "journal", "year", "volume", "issue",
                                   "pages")
_PLACEHOLDER_RE = re.compile(r"\bnot (?:recorded|shown|confirmed|found|known)\b|^\[.*\]$|\[[^]]*"
                             r"not [a-z]+[^]]*\]", re.IGNORECASE)
#: The seed paper's reference key: the only `source_ref` of a `seed paper` row.
SEED_REF = "LIU2023"
SEED_SOURCE_TYPE = "seed paper"

_NCT_RE = re.compile(r"^NCT\d{8}$")
_PMID_RE = re.compile(r"^\d{1,9}$")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


class CatalogError(InputError):
    """A table or an uploaded cohort that breaks the catalog's rules.

    ``problems`` lists every problem found (one line each); the message starts with the first.
    """

    def __init__(self, problems: str | Sequence[str]):
        items = [problems] if isinstance(problems, str) else list(problems)
        self.problems: list[str] = items
        if len(items) == 1:
            message = items[0]
        else:
            message = f"{items[0]}\n(and {len(items) - 1} more problem(s))\n" + "\n".join(items[1:])
        super().__init__(message)


# --------------------------------------------------------------------------- the catalog


@dataclass(frozen=True, eq=False)
class Catalog:
    """The validated tables. Treat the frames as read-only (copy before changing them)."""

    trials: pd.DataFrame
    references: pd.DataFrame
    subtypes: pd.DataFrame
    info: CatalogInfo | None = None
    #: '' for the curated catalog; a digest of the rows a user added (evidence.added_rows),
    #: so that results computed from this catalog are cached apart from the curated one's.
    added_digest: str = ""

    def stamp(self) -> str:
        """The catalog every export names: its version and literature check, and how many
        arms the user added to it ('catalog 4.0.0, literature last checked 2026-12-06, plus 2
        arms added by the user')."""
        stamp = self.info.stamp() if self.info else "catalog version unknown"
        added = self.added_arms
        return stamp + (f", plus {added} arm{'s' if added != 1 else ''} added by the user"
                        if added else "")

    @property
    def added_arms(self) -> int:
        """How many rows a user added (evidence.added_rows); 0 for the curated catalog."""
        flags = self.trials.get("added_by_user")
        return 0 if flags is None else int(flags.fillna(False).astype(bool).sum())

    @property
    def subtype_codes(self) -> frozenset[str]:
        return frozenset(self.subtypes["code"].astype(str))

    @property
    def subtype_names(self) -> dict[str, str]:
        """code -> name, e.g. "ASPS" -> "alveolar soft part sarcoma"."""
        return dict(zip(self.subtypes["code"], self.subtypes["name"], strict=True))

    @property
    def studies(self) -> list[str]:
        return list(dict.fromkeys(self.trials["study"].astype(str)))

    def reference(self, key: str) -> pd.Series:
        """The references row for ``key``; KeyError if unknown."""
        hit = self.references[self.references["ref"] == key]
        if hit.empty:
            raise KeyError(key)
        return hit.iloc[0]

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "trials": _frame_records(self.trials),
            "references": _frame_records(self.references),
            "subtypes": _frame_records(self.subtypes),
        }


def default_data_dir() -> Path:
    """The repository's ``data/`` folder, located relative to this file."""
    return Path(__file__).resolve().parents[2] / "data"


@lru_cache(maxsize=4)
def subtype_codes(data_dir: Path | None = None) -> frozenset[str]:
    """The controlled subtype vocabulary (data/subtypes.csv), e.g. for validating uploads."""
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    raw, lines = read_csv_cells(directory / "subtypes.csv")
    return frozenset(_validate_subtypes(raw, "subtypes.csv", lines)["code"])


def load_catalog_info(data_dir: Path | None = None) -> CatalogInfo:
    """Read and check ``catalog.json`` (``catalog_version`` as MAJOR.MINOR.PATCH,
    ``literature_last_checked`` as a real YYYY-MM-DD date) and the version history
    ``catalog_history.csv`` (evidence.versions)."""
    try:
        return _load_info(data_dir if data_dir is not None else default_data_dir())
    except CatalogVersionError as exc:
        raise CatalogError(str(exc).split("\n")) from None


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Read and validate ``trials.csv``, ``references.csv``, ``subtypes.csv``, ``catalog.json``
    and ``catalog_history.csv``; add each row's derived ``verified`` level and publication
    ``year``.

    Raises :class:`CatalogError` naming file, row, line and column for the first problems found.
    """
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    info = load_catalog_info(directory)

    subtypes_raw, sub_lines = read_csv_cells(directory / "subtypes.csv")
    subtypes = _validate_subtypes(subtypes_raw, "subtypes.csv", sub_lines)

    references = load_references(directory)

    trials_raw, trial_lines = read_csv_cells(directory / "trials.csv")
    require_columns(trials_raw, TRIAL_COLUMNS, "trials.csv")
    trials = validate_cohort_rows(
        trials_raw,
        "trials.csv",
        set(subtypes["code"]),
        lines=trial_lines,
        required_columns=TRIAL_COLUMNS,
        required_text=CATALOG_REQUIRED_TEXT,
        known_refs=set(references["ref"]),
    )
    _check_provenance(trials, references, "trials.csv", trial_lines)
    trials["verified"] = pd.array(verification_levels(trials, references), dtype="string")
    trials["year"] = pd.array(publication_years(trials, references), dtype="Int64")
    return Catalog(trials=trials, references=references, subtypes=subtypes, info=info)


def load_references(data_dir: Path | None = None) -> pd.DataFrame:
    """Read and validate ``references.csv`` alone (for tables that cite it, such as the EORTC
    reference values)."""
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    refs_raw, ref_lines = read_csv_cells(directory / "references.csv")
    return _validate_references(refs_raw, "references.csv", ref_lines)


def is_own_report(ref_row: Mapping[str, Any] | pd.Series,
                  source_row: Mapping[str, Any] | pd.Series) -> bool:
    """Whether the document a row was read from is the study's own report: the row's reference
    itself, or another report of the same registered trial (same NCT number), such as the
    meeting abstract of a trial whose main reference is its paper."""
    if cell_text(_get(ref_row, "ref")) == cell_text(_get(source_row, "ref")):
        return True
    nct = cell_text(_get(ref_row, "nct"))
    return nct is not None and nct == cell_text(_get(source_row, "nct"))


def verification_levels(trials: pd.DataFrame, references: pd.DataFrame) -> list[str]:
    """Each row's `verified` level by the one rule (evidence.labels.verification_status)."""
    refs = {str(r["ref"]): r for r in references.to_dict("records")}
    out = []
    for ref, source, kind in zip(trials["ref"], trials["source_ref"], trials["source_type"],
                                 strict=True):
        own = is_own_report(refs.get(str(ref), {}), refs.get(str(source), {}))
        out.append(verification_status(kind, own))
    return out


def _check_provenance(trials: pd.DataFrame, references: pd.DataFrame, source: str,
                      lines: Sequence[int]) -> None:
    """Catalog-level rules that need the whole table and the references: a `seed paper` row is
    read from the seed paper; each row's source is the kind of document its `source_type`
    says; `overlaps_with` names another study present."""
    problems: list[str] = []
    studies = set(trials["study"].dropna().astype(str))
    kinds = dict(zip(references["ref"].astype(str), references["kind"], strict=True))
    for i, rec in enumerate(trials.to_dict("records")):
        def where(column: str, i: int = i) -> str:
            return f"{source} row {i + 1} (line {lines[i]}), column '{column}'"
        stype = cell_text(rec["source_type"])
        sref, overlap = cell_text(rec["source_ref"]), cell_text(rec["overlaps_with"])
        if stype == SEED_SOURCE_TYPE and sref is not None and sref != SEED_REF:
            problems.append(
                f"{where('source_ref')}: a '{SEED_SOURCE_TYPE}' row must be read from "
                f"{SEED_REF}, not {sref!r}"
            )
        elif stype in SOURCE_KIND and sref in kinds and kinds[sref] != SOURCE_KIND[stype]:
            problems.append(
                f"{where('source_type')}: {stype!r} but {sref!r} is a(n) {kinds[sref]} in "
                f"references.csv (a {stype} is read from a(n) {SOURCE_KIND[stype]})"
            )
        if overlap is not None and overlap not in studies:
            problems.append(f"{where('overlaps_with')}: {overlap!r} is not a study in {source}")
        elif overlap is not None and overlap == cell_text(rec["study"]):
            problems.append(f"{where('overlaps_with')}: a study cannot overlap itself")
    if problems:
        raise CatalogError(problems)


# --------------------------------------------------------------------------- row validation

_MONTHS_NEGATIVE = "{value:g} is negative (months cannot be negative)"
_NOT_A_FRACTION = "{value:g} is not a fraction between 0 and 1 (write 65.6% as 0.656)"

#: Columns read as codes, in the order their codes are checked (the subtype's vocabulary is
#: data/subtypes.csv, passed in at run time).
CODED_COLUMNS: tuple[Column, ...] = (
    Column("subtype", "choice", what="subtype code"),
    Column("regimen_class", "choice", choices=REGIMEN_CLASSES, what="regimen class"),
    Column("ici_target", "choice", choices=ICI_TARGETS, what="ICI target"),
    Column("design", "choice", choices=DESIGNS, what="design"),
    Column("derived", "choice", choices=(DERIVED_YES,), what="derived flag"),
    Column("pfs_rate_derived", "choice", choices=(DERIVED_YES,), what="derived flag"),
    Column("safety_derived", "choice", choices=(DERIVED_YES,), what="derived flag"),
    Column("pfs_rate_weeks", "choice", choices=(DERIVED_YES,), what="weeks flag"),
    Column("line_coded", "choice", choices=LINE_CODES, what="line code"),
    Column("source_type", "choice", choices=SOURCE_TYPES, what="source type"),
    Column("data_cut", "date", partial=True, choices=("final",),
           what="a data cut (YYYY-MM-DD, YYYY-MM, YYYY or 'final')"),
)
_CODED = {c.name: c for c in CODED_COLUMNS}
#: Every column of the row shape: how its cells are read (evidence.columns).
TRIAL_SPEC: tuple[Column, ...] = tuple(
    _CODED.get(name) or (
        Column(name, "count") if name in COUNT_COLUMNS else
        Column(name, "number", low=0.0, high=1.0, out_of_range=_NOT_A_FRACTION)
        if name in PFS_RATE_COLUMNS else
        Column(name, "number", low=0.0, out_of_range=_MONTHS_NEGATIVE)
        if name in PFS_MONTH_COLUMNS else Column(name))
    for name in TRIAL_COLUMNS)
_SPEC = {c.name: c for c in TRIAL_SPEC}

Row = dict[str, Any]
#: where(column) -> "file.csv row 3 (line 4), column 'x'": the place a message names.
Where = Callable[[str], str]


def validate_cohort_rows(
    df: pd.DataFrame,
    source: str,
    subtypes: set[str] | frozenset[str],
    *,
    lines: Sequence[int] | None = None,
    required_columns: Sequence[str] = COHORT_REQUIRED_COLUMNS,
    required_text: Sequence[str] = ("study", "arm", "subtype"),
    known_refs: set[str] | None = None,
) -> pd.DataFrame:
    """Check rows in the catalog's row shape and return a cleaned copy.

    ``source`` is the file name used in messages (e.g. ``"upload.csv"``). ``lines`` gives the
    CSV line number of each row; by default row *i* (1-based) is on line *i + 1* (one header
    line). Counts become nullable ``Int64``, PFS columns ``Float64``, text columns ``string``
    with ``<NA>`` for empty cells. Optional columns of the row shape that are missing are added
    empty. Subtype codes are matched case-insensitively and returned in canonical form.

    Each cell is read as :data:`TRIAL_SPEC` says (counts whole and non-negative, PFS months not
    negative, PFS rates fractions, codes from their vocabularies, data_cut shaped YYYY-MM-DD,
    YYYY-MM, YYYY or 'final'); ``required_text`` must be filled. Then the named checks of
    :data:`ROW_CHECKS` (one row) and :data:`TABLE_CHECKS` (the whole table): ici_target empty
    exactly when regimen_class is AI; known ref and source references (when ``known_refs`` is
    given); the endpoint groups' provenance, patient numbers and order; evaluable and responders
    given and the response counts consistent; pfs_low <= median <= pfs_high; safety on the arm's
    all-subtype row; no duplicate (study, arm, subtype).
    """
    frame, lines = _prepared_frame(df, source, required_columns, lines)
    context = _RowContext(known_refs, "ici_target" in required_columns)
    problems: list[str] = []
    rows: list[Row] = []
    for i, rec in enumerate(frame.to_dict("records")):
        def where(column: str, i: int = i) -> str:
            return f"{source} row {i + 1} (line {lines[i]}), column '{column}'"

        row, refused = _read_row(rec, where, problems, required_text, subtypes)
        for check in ROW_CHECKS:
            problems += check(row, where, context, refused)
        rows.append(row)
    for table_check in TABLE_CHECKS:
        problems += table_check(rows, source, lines)
    if problems:
        raise CatalogError(problems)
    return _typed_frame(rows, frame)


def _prepared_frame(df: pd.DataFrame, source: str, required_columns: Sequence[str],
                    lines: Sequence[int] | None) -> tuple[pd.DataFrame, Sequence[int]]:
    """A copy with stripped column names and every column of the row shape; the line numbers."""
    if not isinstance(df, pd.DataFrame):
        raise CatalogError(f"{source}: expected a table (DataFrame), got {type(df).__name__}")
    frame = df.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    require_columns(frame, required_columns, source)
    if lines is None:
        lines = [i + 2 for i in range(len(frame))]
    if len(lines) != len(frame):
        raise ValueError("lines must have one entry per row")
    for col in TRIAL_COLUMNS:
        if col not in frame.columns:
            frame[col] = None
    return frame, lines


def _read_row(rec: Mapping[str, Any], where: Where, problems: list[str],
              required_text: Sequence[str], subtypes: Iterable[str]
              ) -> tuple[Row, frozenset[str]]:
    """One row's cells as the spec reads them (text, then counts, then numbers), the required
    text checked, the codes matched; and the columns whose cells were refused."""
    row: Row = {}
    before = len(problems)
    refused: set[str] = set()
    for group in (TEXT_COLUMNS, COUNT_COLUMNS, FLOAT_COLUMNS):
        for name in group:
            spec = _SPEC[name]
            read = spec.text if spec.is_text else spec.read
            row[name] = collect(read, rec.get(name), where(name), problems, CatalogError)
            if len(problems) > before:
                refused.add(name)
                before = len(problems)
    for name in required_text:
        if row[name] is None:
            problems.append(f"{where(name)}: {_SPEC[name].if_empty}")
    for spec in CODED_COLUMNS:
        if row[spec.name] is not None:  # codes in any case, returned as the vocabulary has them
            choices = sorted(subtypes) if spec.name == "subtype" else None
            row[spec.name] = collect(spec.code, row[spec.name], where(spec.name), problems,
                                     CatalogError, choices=choices) or row[spec.name]
    return row, frozenset(refused)


def _typed_frame(rows: Sequence[Row], frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as columns of nullable types, with the input's extra columns kept as given."""
    out = pd.DataFrame(index=range(len(rows)))
    for col in TRIAL_COLUMNS:
        dtype = ("Int64" if col in COUNT_COLUMNS else "Float64" if col in FLOAT_COLUMNS
                 else "string")
        out[col] = pd.array([row[col] for row in rows], dtype=dtype)
    for col in (c for c in frame.columns if c not in TRIAL_COLUMNS):
        out[col] = frame[col].to_numpy()
    return out


@dataclass(frozen=True)
class _RowContext:
    """What the row checks need beyond the row: the known reference keys (None: not checked)
    and whether an ICI regimen must name its target."""

    known_refs: set[str] | None
    ici_target_required: bool


def _ici_target_problems(row: Row, where: Where, context: _RowContext,
                         refused: frozenset[str]) -> list[str]:
    """ici_target empty exactly when the regimen has no ICI (class AI)."""
    rclass, target = row["regimen_class"], row["ici_target"]
    if rclass not in REGIMEN_CLASSES or (target is not None and target not in ICI_TARGETS):
        return []
    if rclass == "AI" and target is not None:
        return [f"{where('ici_target')}: {target!r} given for an AI-only regimen"]
    if rclass != "AI" and target is None and context.ici_target_required:
        return [f"{where('ici_target')}: empty for a regimen with an ICI ({rclass})"]
    return []


def _unknown_reference_problems(row: Row, where: Where, context: _RowContext,
                                refused: frozenset[str]) -> list[str]:
    """Every reference key a row names is in references.csv (when the keys are known)."""
    if context.known_refs is None:
        return []
    return [f"{where(col)}: unknown reference {row[col]!r} (not in references.csv)"
            for col in ("ref", "source_ref", "pfs_rate_source_ref", "safety_source_ref")
            if row[col] is not None and row[col] not in context.known_refs]


def _endpoint_group_problems(row: Row, where: Where, context: _RowContext,
                             refused: frozenset[str]) -> list[str]:
    return _endpoint_problems(row, where)


def _response_count_problems(row: Row, where: Where, context: _RowContext,
                             refused: frozenset[str]) -> list[str]:
    """Evaluable and responders given; responders (and unconfirmed ones), cr, pr, sd and pd
    within the evaluable patients; cr + pr = responders."""
    problems = [f"{where(col)}: required count is empty" for col in ("evaluable", "responders")
                if row[col] is None and col not in refused]
    ev, resp, unconf = row["evaluable"], row["responders"], row["unconfirmed"]
    cr, pr, sd, pd_ = (row[c] for c in ("cr", "pr", "sd", "pd"))
    too_many = responders_within_evaluable(resp, ev)
    if too_many:
        problems.append(f"{where('responders')}: {too_many}")
    if ev is not None and resp is not None and unconf is not None and resp + unconf > ev:
        problems.append(f"{where('unconfirmed')}: {resp} responders + {unconf} unconfirmed "
                        f"exceed {ev} evaluable")
    if cr is not None and pr is not None and resp is not None and cr + pr != resp:
        problems.append(f"{where('responders')}: cr {cr} + pr {pr} = {cr + pr}, not {resp} "
                        "responders")
    problems += [f"{where(col)}: {part} exceeds {resp} responders"
                 for col, part in (("cr", cr), ("pr", pr))
                 if part is not None and resp is not None and part > resp]
    if None not in (cr, pr, sd, pd_) and ev is not None and cr + pr + sd + pd_ > ev:
        problems.append(f"{where('pd')}: cr + pr + sd + pd = {cr + pr + sd + pd_} exceed {ev} "
                        "evaluable")
    problems += [f"{where(col)}: {row[col]} exceed {ev} evaluable" for col in ("sd", "pd")
                 if row[col] is not None and ev is not None and row[col] > ev]
    return problems


def _pfs_interval_problems(row: Row, where: Where, context: _RowContext,
                           refused: frozenset[str]) -> list[str]:
    """A PFS interval has a median, and pfs_low <= median <= pfs_high."""
    med, low, high = (row[c] for c in PFS_MONTH_COLUMNS)
    problems = []
    if (low is not None or high is not None) and med is None:
        problems.append(f"{where('pfs_median_months')}: a PFS interval is given without a "
                        "median")
    if med is not None and low is not None and low > med:
        problems.append(f"{where('pfs_low')}: lower limit {low:g} is above the median {med:g}")
    if med is not None and high is not None and high < med:
        problems.append(f"{where('pfs_high')}: upper limit {high:g} is below the median "
                        f"{med:g}")
    if med is None and low is not None and high is not None and low > high:
        problems.append(f"{where('pfs_low')}: lower limit {low:g} is above the upper limit "
                        f"{high:g}")
    return problems


#: The checks of one row, in the order their problems are listed.
ROW_CHECKS: tuple[Callable[[Row, Where, _RowContext, frozenset[str]], list[str]], ...] = (
    _ici_target_problems,
    _unknown_reference_problems,
    _endpoint_group_problems,
    _response_count_problems,
    _pfs_interval_problems,
)


def _duplicate_key_problems(rows: Sequence[Row], source: str,
                            lines: Sequence[int]) -> list[str]:
    """No (study, arm, subtype) twice."""
    problems = []
    seen: dict[tuple[str | None, str | None, str | None], int] = {}
    for i, row in enumerate(rows):
        key = (row["study"], row["arm"], row["subtype"])
        if None in key:
            continue
        if key in seen:
            j = seen[key]
            problems.append(f"{source} row {i + 1} (line {lines[i]}), columns 'study', 'arm', "
                            f"'subtype': duplicate of row {j + 1} (line {lines[j]}): {key}")
        else:
            seen[key] = i
    return problems


def _endpoint_problems(row: Mapping[str, Any], where: Any) -> list[str]:
    """One row's endpoint groups: each group's provenance, the PFS rates' patient numbers and
    order, and the safety counts within the patients treated. `where(column)` names the place."""
    problems: list[str] = []
    for group in ENDPOINT_GROUPS:
        problems += _group_provenance_problems(group, row, where)
    for rate, n in (("pfs3_rate", "pfs3_n"), ("pfs6_rate", "pfs6_n")):
        if row[rate] is not None and row[n] is None:
            problems.append(f"{where(n)}: empty, but {rate} is given (the number of patients "
                            "the rate is of is required)")
        elif row[rate] is None and row[n] is not None:
            problems.append(f"{where(n)}: given without {rate}")
        elif row[n] == 0:
            problems.append(f"{where(n)}: a rate of 0 patients; {n} must be at least 1")
    if None not in (row["pfs3_rate"], row["pfs6_rate"]) and row["pfs6_rate"] > row["pfs3_rate"]:
        problems.append(f"{where('pfs6_rate')}: {row['pfs6_rate']:g} at 6 months is above "
                        f"{row['pfs3_rate']:g} at 3 months (a progression-free rate cannot rise)")
    treated = row["n_treated"]
    events = {"trae_g3": "patients with a grade >= 3 treatment-related adverse event",
              "discontinued_toxicity": "patients who discontinued for toxicity"}
    given = [col for col in events if row[col] is not None]
    if treated is None and given:
        problems.append(f"{where('n_treated')}: empty, but {given[0]} is given (the patients "
                        "treated are required)")
    elif treated is not None and not given:
        problems.append(f"{where('n_treated')}: given without trae_g3 or discontinued_toxicity")
    elif treated == 0:
        problems.append(f"{where('n_treated')}: 0 patients treated; must be at least 1")
    for col in given:
        if treated is not None and row[col] > treated:
            problems.append(f"{where(col)}: {row[col]} {events[col]} exceed {treated} treated "
                            "(n_treated)")
    return problems


def _group_provenance_problems(group: EndpointGroup, row: Mapping[str, Any],
                               where: Any) -> list[str]:
    """An endpoint group with values says where they are (locator) and, when derived or read
    from another document than the row's counts, why (note); without values it has no
    provenance but may keep a note on what was searched."""
    locator, derived, source_ref, note = group.provenance
    has_values = any(row[c] is not None for c in group.values)
    flags = [locator, derived, source_ref] + (["pfs_rate_weeks"] if group is PFS_RATE_GROUP
                                               else [])
    if not has_values:
        return [f"{where(col)}: given, but the row has no {group.name} value "
                f"({', '.join(group.values)})" for col in flags if row[col] is not None]
    problems: list[str] = []
    if row[locator] is None:
        problems.append(f"{where(locator)}: required when a {group.name} value is given (the "
                        "table, figure or sentence it was read from)")
    if row[derived] is not None and row[note] is None:
        problems.append(f"{where(note)}: empty, but {derived} = yes (the note shows the "
                        "arithmetic)")
    if row[source_ref] is not None and row[source_ref] == row["source_ref"]:
        problems.append(f"{where(source_ref)}: {row[source_ref]!r} is the row's own source_ref; "
                        "leave it empty")
    elif row[source_ref] is not None and row[note] is None:
        problems.append(f"{where(note)}: empty, but the {group.name} values were read from "
                        f"{row[source_ref]!r}, not the row's source (say which report and cut)")
    return problems


def _safety_placement_problems(rows: Sequence[Row], source: str,
                               lines: Sequence[int]) -> list[str]:
    """Safety is reported for an arm's patients, not per subtype: it belongs on the arm's
    all-subtype row (STS or SARCOMA), or on the only row of an arm of one histology."""
    rows_per_arm: dict[tuple[str | None, str | None], int] = {}
    for row in rows:
        arm = (row["study"], row["arm"])
        rows_per_arm[arm] = rows_per_arm.get(arm, 0) + 1
    problems = []
    for i, row in enumerate(rows):
        filled = [c for c in SAFETY_GROUP.values if row[c] is not None]
        arm_rows = rows_per_arm[(row["study"], row["arm"])]
        if filled and row["subtype"] not in AGGREGATE_SUBTYPES and arm_rows > 1:
            problems.append(
                f"{source} row {i + 1} (line {lines[i]}), column '{filled[0]}': safety on a "
                f"{row['subtype']} subtype row; safety is reported per arm, so it belongs on the "
                f"arm's STS or SARCOMA row (this arm has {arm_rows} rows)"
            )
    return problems


#: The checks of the whole table, after the rows', in the order their problems are listed.
TABLE_CHECKS: tuple[Callable[[Sequence[Row], str, Sequence[int]], list[str]], ...] = (
    _safety_placement_problems,
    _duplicate_key_problems,
)


def publication_years(trials: pd.DataFrame, references: pd.DataFrame) -> list[int | None]:
    """Each row's publication year (data/README.md, `year`): the year of the row's `ref`, or of
    its `source_ref` when `ref` has none, counting only a report of the study itself - never a
    review table, nor the seed paper where it is cited for another study's numbers. None when
    neither gives a year."""
    refs = {str(r["ref"]): r for r in references.to_dict("records")}
    years: list[int | None] = []
    for ref, source, stype in zip(trials["ref"], trials["source_ref"], trials["source_type"],
                                  strict=True):
        year = None
        for key in (ref, source):
            rec = refs.get(str(key))
            if rec is None or cell_text(rec.get("kind")) == "review" or (
                    key == SEED_REF and stype == SEED_SOURCE_TYPE):
                continue
            text = _int_text(cell_text(rec.get("year")))
            if text:
                year = int(text)
                break
        years.append(year)
    return years


# --------------------------------------------------------------------------- queries


def trials_for(catalog: Catalog, subtype: str | None = None) -> pd.DataFrame:
    """Rows for one subtype code (case-insensitive), or all rows; a copy in file order."""
    trials = catalog.trials
    if subtype is None:
        return trials.copy()
    code = _canonical_code(catalog, subtype)
    return trials[trials["subtype"] == code].reset_index(drop=True).copy()


def catalog_rows_json(
    catalog: Catalog, subtype: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{"rows": [...]}`` with the data's column names.

    JSON-safe: None for missing cells, counts as ints, PFS as floats.
    """
    return {"rows": _frame_records(trials_for(catalog, subtype))}


def subtype_lookup(subtypes: pd.DataFrame) -> dict[str, str]:
    """Lower-cased code, name and every synonym -> code (for mapping free-text uploads).

    A synonym claimed by two codes is dropped (ambiguous) rather than guessed.
    """
    lookup: dict[str, str] = {}
    ambiguous: set[str] = set()
    for rec in subtypes.to_dict("records"):
        code = str(rec["code"])
        keys = {code, str(rec.get("name") or "")}
        keys.update(s for s in str(rec.get("synonyms") or "").split(";"))
        for key in keys:
            k = key.strip().lower()
            if not k:
                continue
            if k in lookup and lookup[k] != code:
                ambiguous.add(k)
            lookup[k] = code
    for k in ambiguous:
        lookup.pop(k, None)
    return lookup


def reference_links(ref_row: Mapping[str, Any] | pd.Series) -> dict[str, str]:
    """URLs for the identifiers present: keys ``doi``, ``pubmed``, ``clinicaltrials`` (and
    ``url`` when the row has one). Missing identifiers are simply absent."""
    links: dict[str, str] = {}
    doi = cell_text(_get(ref_row, "doi"))
    pmid = cell_text(_get(ref_row, "pmid"))
    nct = cell_text(_get(ref_row, "nct"))
    url = cell_text(_get(ref_row, "url"))
    if doi:
        links["doi"] = f"https://doi.org/{doi}"
    if pmid:
        links["pubmed"] = f"https://pubmed.ncbi.nlm.nih.gov/{_int_text(pmid)}/"
    if nct:
        links["clinicaltrials"] = f"https://clinicaltrials.gov/study/{nct}"
    if url:
        links["url"] = url
    return links




# --------------------------------------------------------------------------- helpers


def read_csv_cells(path: Path) -> tuple[pd.DataFrame, list[int]]:
    """Read a CSV file as text cells; also return the starting line number of every data row."""
    name = path.name
    if not path.is_file():
        raise CatalogError(f"{name}: file not found at {path}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return csv_cells(fh, name)
    except UnicodeDecodeError as exc:
        raise CatalogError(f"{name}: not UTF-8 text ({exc})") from exc


def csv_cells(lines_in: Iterable[str], name: str, *, max_rows: int | None = None,
              proceed: str = "split the file") -> tuple[pd.DataFrame, list[int]]:
    """CSV text as text cells and the starting line number of every data row; blank lines are
    skipped; more than `max_rows` data rows is refused as soon as the next one is read."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    last_line = 0
    reader = csv.reader(lines_in)
    try:
        for record in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not record or all(not cell.strip() for cell in record):
                continue
            if header is None:
                header = [h.strip() for h in record]
                continue
            if len(record) != len(header):
                raise CatalogError(
                    f"{name} row {len(rows) + 1} (line {start}): has {len(record)} cells, "
                    f"the header has {len(header)} columns"
                )
            if max_rows is not None and len(rows) >= max_rows:
                raise CatalogError(str(limits.too_many(f"{name}: rows", len(rows) + 1,
                                                       max_rows, proceed)))
            rows.append(record)
            lines.append(start)
    except csv.Error as exc:
        raise CatalogError(f"{name}: unreadable CSV ({exc})") from exc
    if header is None:
        raise CatalogError(f"{name}: empty file (no header line)")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise CatalogError(f"{name} header (line 1), column '{dupes[0]}': column appears twice")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return frame, lines


def require_columns(frame: pd.DataFrame, required: Iterable[str], source: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise CatalogError(
            [f"{source} header (line 1), column '{c}': required column is missing" for c in missing]
        )


def _validate_subtypes(raw: pd.DataFrame, source: str, lines: Sequence[int]) -> pd.DataFrame:
    require_columns(raw, SUBTYPE_COLUMNS, source)
    problems: list[str] = []
    seen: dict[str, int] = {}
    out = pd.DataFrame(
        {c: pd.array([cell_text(v) for v in raw[c]], dtype="string") for c in SUBTYPE_COLUMNS}
    )
    for i, rec in enumerate(out.to_dict("records")):
        code = rec["code"]
        where = f"{source} row {i + 1} (line {lines[i]})"
        if code is None or code is pd.NA:
            problems.append(f"{where}, column 'code': empty code")
            continue
        if not re.fullmatch(r"[A-Z][A-Z0-9_-]*", str(code)):
            problems.append(f"{where}, column 'code': {code!r} is not an upper-case code")
        if rec["name"] is None or rec["name"] is pd.NA:
            problems.append(f"{where}, column 'name': empty name")
        if code in seen:
            problems.append(f"{where}, column 'code': duplicate of row {seen[code] + 1} ({code!r})")
        seen[str(code)] = i
    if problems:
        raise CatalogError(problems)
    return out


def _validate_references(raw: pd.DataFrame, source: str, lines: Sequence[int]) -> pd.DataFrame:
    require_columns(raw, REFERENCE_COLUMNS, source)
    problems: list[str] = []
    seen: dict[str, int] = {}
    out = pd.DataFrame(
        {c: pd.array([cell_text(v) for v in raw[c]], dtype="string") for c in REFERENCE_COLUMNS}
    )
    for i, rec in enumerate(out.to_dict("records")):
        rec = {k: (None if v is pd.NA else v) for k, v in rec.items()}
        where = f"{source} row {i + 1} (line {lines[i]})"
        key = rec["ref"]
        if key is None:
            problems.append(f"{where}, column 'ref': empty reference key")
            continue
        if key in seen:
            problems.append(f"{where}, column 'ref': duplicate of row {seen[key] + 1} ({key!r})")
        seen[key] = i
        doi, pmid, nct = rec["doi"], rec["pmid"], rec["nct"]
        # A stable URL (e.g. a university repository record) stands in only where no doi, PMID
        # or NCT could be confirmed; citing the paper under another study's key would mislead.
        if not (doi or pmid or nct or rec["url"]):
            problems.append(
                f"{where}, columns 'doi', 'pmid', 'nct', 'url': reference {key!r} has no doi, "
                "pmid, nct or url (at least one is required)"
            )
        if doi and not _DOI_RE.match(doi):
            problems.append(
                f"{where}, column 'doi': {doi!r} does not look like a DOI (10.xxxx/...)"
            )
        if pmid and not _PMID_RE.match(_int_text(pmid)):
            problems.append(f"{where}, column 'pmid': {pmid!r} is not a PubMed id (digits)")
        if nct and not _NCT_RE.match(nct):
            problems.append(f"{where}, column 'nct': {nct!r} is not an NCT number (NCT + 8 digits)")
        year = rec["year"]
        if year and not re.fullmatch(r"(19|20)\d\d", _int_text(year)):
            problems.append(f"{where}, column 'year': {year!r} is not a year")
        if rec["kind"] is not None:
            collect(parse_choice, rec["kind"], f"{where}, column 'kind'", problems,
                    CatalogError, choices=REFERENCE_KINDS, what="reference kind")
        else:
            problems.append(f"{where}, column 'kind': required value is empty "
                            f"({' | '.join(REFERENCE_KINDS)})")
        problems += [f"{where}, {p}" for p in _reference_problems(rec)]
    if problems:
        raise CatalogError(problems)
    return out


def reference_completeness(ref_row: Mapping[str, Any] | pd.Series) -> tuple[str, ...]:
    """The fields a reference of its kind should have but does not (REQUIRED_REFERENCE_FIELDS);
    an author list that stops at fewer than six names with 'et al.' counts as missing authors.
    () for a complete reference or an unknown kind."""
    kind = cell_text(_get(ref_row, "kind"))
    missing = [f for f in REQUIRED_REFERENCE_FIELDS.get(kind or "", ())
               if not cell_text(_get(ref_row, f))]
    names, et_al = _author_names(cell_text(_get(ref_row, "authors")) or "")
    if "authors" not in missing and et_al and len(names) < MAX_AUTHORS \
            and "authors" in REQUIRED_REFERENCE_FIELDS.get(kind or "", ()):
        missing.append("authors")
    return tuple(missing)


def searched_fields(searched: str | None) -> tuple[dict[str, str], list[str]]:
    """`searched` as {field: where it was looked for}, and the problems with its shape.

    The cell is one or more 'field[, field]: where looked' parts joined by ' | ', e.g.
    'doi, pmid: PubMed and the journal page searched 2026-12-06: not printed'.
    """
    covered: dict[str, str] = {}
    problems: list[str] = []
    for part in (p.strip() for p in (searched or "").split(" | ")):
        if not part:
            continue
        head, sep, where = part.partition(":")
        fields = [f.strip() for f in head.split(",")]
        if not sep or not where.strip() or not all(f in REFERENCE_COLUMNS for f in fields):
            problems.append(f"column 'searched': {part[:60]!r} is not 'field[, field]: where it "
                            "was looked for'")
            continue
        covered.update({f: where.strip() for f in fields})
    return covered, problems


def _author_names(authors: str) -> tuple[list[str], bool]:
    """Vancouver author list -> its names and whether it ends with 'et al.'."""
    et_al = bool(re.search(r",?\s*et al\.?\s*$", authors))
    text = re.sub(r",?\s*et al\.?\s*$", "", authors).strip().rstrip(".")
    return [n.strip() for n in text.split(",") if n.strip()], et_al


def _reference_problems(rec: Mapping[str, Any]) -> list[str]:
    """No placeholder text in a printed field; a Vancouver author list; every field a reference
    of its kind lacks accounted for by `searched` (and `searched` names no field present)."""
    problems: list[str] = []
    for col in PRINTED_FIELDS:
        value = cell_text(rec.get(col))
        if value and _PLACEHOLDER_RE.search(value):
            problems.append(f"column '{col}': {value[:60]!r} is placeholder text (leave the "
                            "field empty and say in 'searched' where it was looked for)")
    names, et_al = _author_names(cell_text(rec.get("authors")) or "")
    if len(names) > MAX_AUTHORS:
        problems.append(f"column 'authors': {len(names)} names; Vancouver lists the first "
                        f"{MAX_AUTHORS}, then 'et al.'")
    covered, shape = searched_fields(cell_text(rec.get("searched")))
    problems += shape
    for field in reference_completeness(rec):
        if field not in covered:
            problems.append(f"column '{field}': missing for a(n) {rec.get('kind')} reference; "
                            "fill it, or say in 'searched' where it was looked for")
    for field in covered:
        if field != "authors" and cell_text(rec.get(field)):
            problems.append(f"column 'searched': names '{field}', which is filled")
    return problems








def _is_missing(value: Any) -> bool:
    return is_missing(value, markers=False)


def cell_text(value: Any) -> str | None:
    """A text cell, cleaned (inputs.clean_text); None when empty."""
    if _is_missing(value):
        return None
    return clean_text(value, max_chars=10**6) or None




def _int_text(value: str | None) -> str:
    """'2017.0' -> '2017' (for cells that pandas may have turned into floats)."""
    if not value:
        return ""
    if re.fullmatch(r"\d+\.0+", value):
        return value.split(".")[0]
    return value


def _get(row: Mapping[str, Any] | pd.Series, key: str) -> Any:
    try:
        return row[key]
    except (KeyError, IndexError):
        return None


def _canonical_code(catalog: Catalog, subtype: str) -> str:
    return parse_choice(subtype, sorted(catalog.subtype_codes), what="subtype code",
                        where="subtypes.csv", error=CatalogError)


def _json_value(value: Any) -> Any:
    if _is_missing(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return value
    if isinstance(value, int | str | bool):
        return value
    return str(value)


def _frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = list(frame.columns)
    return [
        {c: _json_value(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def catalog_table(
    catalog: Catalog, ci_method: str = "wilson", level: float = 0.95
) -> pd.DataFrame:
    """The trial rows as a user reads them: ORR with its interval and links to each source."""
    from comparators.stats.proportions import proportion_ci

    refs = catalog.references.set_index("ref")
    out = catalog.trials.copy()
    cis = [proportion_ci(int(k), int(n), ci_method, level)
           for k, n in zip(out["responders"], out["evaluable"], strict=True)]
    out.insert(out.columns.get_loc("responders") + 1, "orr_pct", [100 * c.estimate for c in cis])
    out.insert(out.columns.get_loc("orr_pct") + 1, "orr_low_pct", [100 * c.low for c in cis])
    out.insert(out.columns.get_loc("orr_low_pct") + 1, "orr_high_pct", [100 * c.high for c in cis])
    # an added row's ref may name no reference of the catalog: no links then
    links = [reference_links(refs.loc[r]) if r in refs.index else {} for r in out["ref"]]
    for name in ("doi", "pubmed", "clinicaltrials", "url"):
        out[f"{name}_link"] = [link.get(name) for link in links]
    return out
