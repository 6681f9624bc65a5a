"""How the catalog was found: the curated search log and its PRISMA 2020 flow.

``data/search_log.csv`` lists the searches each curation pass recorded (what was searched or
looked at, when, and the number of records found where a pass recorded one);
``data/search_records.csv`` lists every record (candidate report) the curation notes name, the
search that found it and what became of it: included, a duplicate, excluded at screening, not
retrieved, or excluded after assessment, each with a reason from a fixed vocabulary.

:func:`prisma_flow` counts the records into the boxes of the PRISMA 2020 flow diagram for new
systematic reviews that searched databases and registers and used other methods (Page MJ, et al.
BMJ 2021;372:n71). Nothing is counted that the log does not hold: where a pass did not record how
many records a search returned, a search's records are the candidate reports its notes name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comparators.evidence.catalog import Catalog, CatalogError, default_data_dir, load_catalog
from comparators.evidence.curated import CuratedRow, read_curated
from comparators.evidence.versions import parse_version
from comparators.inputs import is_date, is_missing, parse_count
from comparators.vocab import REGIMEN_CLASSES

__all__ = [
    "BRANCHES",
    "NO_RESULTS",
    "REASONS",
    "RECORDS_FILE",
    "RECORD_COLUMNS",
    "SEARCH_COLUMNS",
    "SEARCH_LOG_FILE",
    "SOURCE_KINDS",
    "STAGES",
    "BranchFlow",
    "Count",
    "PrismaFlow",
    "SearchLog",
    "load_search_log",
    "prisma_flow",
]

SEARCH_LOG_FILE = "search_log.csv"
RECORDS_FILE = "search_records.csv"
SEARCH_COLUMNS: tuple[str, ...] = ("search", "pass", "date", "source_kind", "label", "source",
                                   "looked_at", "records_found", "note")
RECORD_COLUMNS: tuple[str, ...] = ("record", "search", "pass", "report", "ref", "studies",
                                   "stage", "reason", "duplicate_of", "basis", "note",
                                   "registered_class", "registered_subtypes")

#: Where a search looked, as PRISMA 2020 names it, and the diagram column it feeds.
SOURCE_KINDS: dict[str, str] = {"database": "Databases", "register": "Registers",
                                "website": "Websites", "citation": "Citation searching"}
BRANCHES: dict[str, tuple[str, ...]] = {
    "databases and registers": ("database", "register"),
    "other methods": ("website", "citation"),
}
#: What became of a record, in the order the diagram meets it.
STAGES: tuple[str, ...] = ("duplicate", "excluded at screening", "not retrieved", "excluded",
                           "included")
#: The screening reason of a registered trial (or listing) with no results: the only records
#: that carry `registered_class` and `registered_subtypes`.
NO_RESULTS = "no results reported"

#: The reasons each stage allows (a duplicate names its original instead).
REASONS: dict[str, tuple[str, ...]] = {
    "excluded at screening": (NO_RESULTS, "not a primary study"),
    "not retrieved": ("results not in the stored text", "report not found in the stored material",
                      "report not read; data taken from a review table"),
    "excluded": ("no usable response count", "regimen class not separable",
                 "no citable reference", "patients overlap another source"),
}

#: More records than this from one search is a typo, not a count.
MAX_RECORDS_FOUND = 10**7


@dataclass(frozen=True)
class Search:
    search: str
    pass_: str
    date: str
    source_kind: str
    label: str
    source: str
    looked_at: str
    records_found: int | None
    note: str


@dataclass(frozen=True)
class Record:
    record: str
    search: str
    pass_: str
    report: str
    ref: str
    studies: tuple[str, ...]
    stage: str
    reason: str
    duplicate_of: str
    basis: str
    note: str
    #: for a registration with no results: the regimen classes and subtype codes it registered
    #: (empty when the record does not say)
    registered_classes: tuple[str, ...] = ()
    registered_subtypes: tuple[str, ...] = ()

    @property
    def without_results(self) -> bool:
        """A registered trial, listing or trial-in-progress abstract with no results."""
        return self.stage == "excluded at screening" and self.reason == NO_RESULTS


@dataclass(frozen=True)
class SearchLog:
    searches: tuple[Search, ...]
    records: tuple[Record, ...]

    def search(self, search_id: str) -> Search:
        return next(s for s in self.searches if s.search == search_id)

    def branch_of(self, record: Record) -> str:
        kind = self.search(record.search).source_kind
        return next(b for b, kinds in BRANCHES.items() if kind in kinds)


@dataclass(frozen=True)
class Count:
    """One labelled number in a box of the diagram."""

    label: str
    n: int

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "n": self.n}


@dataclass(frozen=True)
class BranchFlow:
    """One column of the PRISMA 2020 diagram (databases and registers, or other methods)."""

    branch: str
    identified: tuple[Count, ...]
    duplicates: int
    excluded_screening: tuple[Count, ...]
    not_retrieved: tuple[Count, ...]
    excluded: tuple[Count, ...]
    included: int

    @property
    def identified_total(self) -> int:
        return sum(c.n for c in self.identified)

    @property
    def screened(self) -> int:
        return self.identified_total - self.duplicates

    @property
    def sought(self) -> int:
        """Reports sought for retrieval."""
        return self.screened - sum(c.n for c in self.excluded_screening)

    @property
    def assessed(self) -> int:
        """Reports assessed for eligibility."""
        return self.sought - sum(c.n for c in self.not_retrieved)

    def to_dict(self) -> dict[str, Any]:
        return {"branch": self.branch, "identified": [c.to_dict() for c in self.identified],
                "identified_total": self.identified_total, "duplicates": self.duplicates,
                "screened": self.screened,
                "excluded_screening": [c.to_dict() for c in self.excluded_screening],
                "sought": self.sought, "not_retrieved": [c.to_dict() for c in self.not_retrieved],
                "assessed": self.assessed, "excluded": [c.to_dict() for c in self.excluded],
                "included": self.included}


@dataclass(frozen=True)
class PrismaFlow:
    """The PRISMA 2020 counts of the catalog, computed from the search log."""

    databases: BranchFlow
    other: BranchFlow
    studies: int
    reports: int
    first_search: str
    last_search: str
    counted_from_notes: bool

    @property
    def branches(self) -> tuple[BranchFlow, BranchFlow]:
        return (self.databases, self.other)

    def note(self) -> str:
        """What the numbers are, for a caption."""
        text = (f"Searches {self.first_search} to {self.last_search} over the stored public "
                "material. ")
        if self.counted_from_notes:
            text += ("The curation passes did not record how many records each search returned; "
                     "records identified are the candidate reports the curation notes name, so "
                     "every count is a lower bound of what was looked at.")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"databases_and_registers": self.databases.to_dict(),
                "other_methods": self.other.to_dict(), "studies_included": self.studies,
                "reports_included": self.reports, "first_search": self.first_search,
                "last_search": self.last_search, "note": self.note()}


def prisma_flow(log: SearchLog | None = None) -> PrismaFlow:
    """Count the search log into the PRISMA 2020 boxes (the repository's log by default)."""
    log = log if log is not None else load_search_log()
    branches = []
    for branch, kinds in BRANCHES.items():
        records = [r for r in log.records if log.branch_of(r) == branch]
        by_label = Counter((log.search(r.search).source_kind, log.search(r.search).label)
                           for r in records)
        # Every kind of source PRISMA names for the column is shown, searched or not (n = 0).
        identified = [Count(f"{SOURCE_KINDS[kind]}: {label}", by_label[(kind, label)])
                      if label else Count(SOURCE_KINDS[kind], 0)
                      for kind in kinds for label in (_labels(log, kind) or [""])]
        branches.append(BranchFlow(
            branch=branch, identified=tuple(identified),
            duplicates=sum(r.stage == "duplicate" for r in records),
            excluded_screening=_reasons(records, "excluded at screening"),
            not_retrieved=_reasons(records, "not retrieved"),
            excluded=_reasons(records, "excluded"),
            included=sum(r.stage == "included" for r in records)))
    included = [r for r in log.records if r.stage == "included"]
    dates = sorted(s.date for s in log.searches)
    return PrismaFlow(
        databases=branches[0], other=branches[1],
        studies=len({s for r in included for s in r.studies}), reports=len(included),
        first_search=dates[0], last_search=dates[-1],
        counted_from_notes=any(s.records_found is None for s in log.searches))


def _labels(log: SearchLog, kind: str) -> list[str]:
    return list(dict.fromkeys(s.label for s in log.searches if s.source_kind == kind))


def _reasons(records: Sequence[Record], stage: str) -> tuple[Count, ...]:
    counts = Counter(r.reason for r in records if r.stage == stage)
    return tuple(Count(reason, counts[reason]) for reason in REASONS[stage] if counts[reason])


# --------------------------------------------------------------------------- loading


def load_search_log(data_dir: Path | None = None, catalog: Catalog | None = None) -> SearchLog:
    """Read and validate both tables against the catalog (loaded from the same folder unless
    given). Cells are read through the input boundary (see ``evidence.curated``); raises
    :class:`CatalogError` naming the file, row, line and column."""
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    catalog = catalog if catalog is not None else load_catalog(directory)
    problems: list[str] = []
    versions = [r.version for r in catalog.info.history] if catalog.info else []
    search_rows = read_curated(directory, SEARCH_LOG_FILE, SEARCH_COLUMNS, problems,
                               numbers=("records_found",))
    searches = [_read_search(row, versions) for row in search_rows]
    _unique(search_rows, "search")
    kinds = {s.search: s.source_kind for s in searches}
    record_rows = read_curated(directory, RECORDS_FILE, RECORD_COLUMNS, problems)
    _unique(record_rows, "record")
    records = [_read_record(row, kinds, versions, catalog) for row in record_rows]
    _check_links(record_rows, records)
    found = Counter(r.search for r in records)
    for row, s in zip(search_rows, searches, strict=True):
        if s.records_found is not None and s.records_found < found[s.search]:
            row.problem("records_found", f"{s.records_found} is fewer than the "
                                         f"{found[s.search]} records {RECORDS_FILE} assigns to it")
    if problems:
        raise CatalogError(problems)
    return SearchLog(tuple(searches), tuple(records))


def _unique(rows: Sequence[CuratedRow], column: str) -> None:
    seen: set[str] = set()
    for row in rows:
        if not row[column]:
            row.problem(column, f"empty {column} id")
        elif row[column] in seen:
            row.problem(column, f"duplicate {column} id {row[column]!r}")
        seen.add(row[column])


def _pass(row: CuratedRow, versions: Sequence[str]) -> str:
    """The curation pass: a catalog version in catalog_history.csv (any version when the
    catalog was given without its history)."""
    if parse_version(row["pass"]) is None:
        row.problem("pass", f"{row['pass']!r} is not a catalog version (MAJOR.MINOR.PATCH)")
    elif versions and row["pass"] not in versions:
        row.problem("pass", f"{row['pass']!r} is not a version in catalog_history.csv "
                            f"({', '.join(versions)})")
    return row["pass"]


def _read_search(row: CuratedRow, versions: Sequence[str]) -> Search:
    if not is_date(row["date"]):
        row.problem("date", f"{row['date']!r} is not a date YYYY-MM-DD")
    kind = row.code("source_kind", tuple(SOURCE_KINDS), "source kind")
    for column in ("label", "source", "looked_at"):
        if not row[column]:
            row.problem(column, "empty")
    found = row.parse(parse_count, "records_found", required=False, maximum=MAX_RECORDS_FOUND)
    if found is None and is_missing(row["records_found"]) and not row["note"]:
        row.problem("note", "say why records_found is empty")
    return Search(row["search"], _pass(row, versions), row["date"], kind, row["label"],
                  row["source"], row["looked_at"], found, row["note"])


def _read_record(row: CuratedRow, kinds: Mapping[str, str], versions: Sequence[str],
                 catalog: Catalog) -> Record:
    if row["search"] not in kinds:
        row.problem("search", f"{row['search']!r} is not a search in {SEARCH_LOG_FILE}")
    if not row["report"] or not row["basis"]:
        row.problem_with(("report", "basis"), "say what the record is and where the curation "
                                              "notes name it")
    stage = row.code("stage", STAGES, "stage")
    reason = row["reason"]
    if stage in REASONS:
        reason = row.code("reason", REASONS[stage], f"reason for '{stage}'")
    elif stage in STAGES and reason:
        row.problem("reason", f"a '{stage}' record has no reason")
    if stage == "excluded at screening" and kinds.get(row["search"]) in BRANCHES["other methods"]:
        row.problem("stage", "records found by other methods are not screened as records "
                             "(PRISMA 2020); use 'not retrieved' or 'excluded'")
    if row["ref"] and row["ref"] not in set(map(str, catalog.references["ref"])):
        row.problem("ref", f"{row['ref']!r} is not a key in references.csv")
    studies = row.codes("studies", catalog.studies, "study")
    if stage == "included":
        if not row["ref"]:
            row.problem("ref", "an included report is a catalog reference")
        if not studies:
            row.problem("studies", "name the catalog studies this report is used for")
    elif studies:
        row.problem("studies", "only an included report names studies")
    classes = row.codes("registered_class", REGIMEN_CLASSES, "regimen class")
    subtypes = row.codes("registered_subtypes", catalog.subtype_codes, "subtype")
    if (classes or subtypes) and not (stage == "excluded at screening" and reason == NO_RESULTS):
        row.problem_with(("registered_class", "registered_subtypes"),
                         f"only a record excluded at screening with '{NO_RESULTS}' names what "
                         "was registered")
    return Record(row["record"], row["search"], _pass(row, versions), row["report"], row["ref"],
                  studies, stage, reason, row["duplicate_of"], row["basis"], row["note"],
                  classes, subtypes)


def _check_links(rows: Sequence[CuratedRow], records: Sequence[Record]) -> None:
    """A duplicate names a kept record; a catalog reference is included once."""
    stage_of = {r.record: r.stage for r in records}
    included_as: dict[str, str] = {}
    for row, r in zip(rows, records, strict=True):
        if r.stage == "duplicate":
            if stage_of.get(r.duplicate_of) in (None, "duplicate"):
                row.problem("duplicate_of", f"{r.duplicate_of!r} is not a record that was kept")
        elif r.duplicate_of:
            row.problem("duplicate_of", "only a duplicate names another record")
        if r.stage == "included" and r.ref:
            if r.ref in included_as:
                row.problem("ref", f"{r.ref!r} is already included as record "
                                   f"{included_as[r.ref]!r}")
            else:
                included_as[r.ref] = r.record
