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

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comparators.evidence.catalog import Catalog, CatalogError, default_data_dir, load_catalog
from comparators.evidence.catalog import _is_iso_date as is_iso_date
from comparators.evidence.curated import read_curated, unprintable_cells

__all__ = [
    "BRANCHES",
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
                                   "stage", "reason", "duplicate_of", "basis", "note")

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
#: The reasons each stage allows (a duplicate names its original instead).
REASONS: dict[str, tuple[str, ...]] = {
    "excluded at screening": ("no results reported", "not a primary study"),
    "not retrieved": ("results not in the stored text", "report not found in the stored material",
                      "report not read; data taken from a review table"),
    "excluded": ("no usable response count", "regimen class not separable",
                 "no citable reference", "patients overlap another source"),
}

_PASS_RE = re.compile(r"^\d+\.\d+\.\d+$")


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
    given). Raises :class:`CatalogError` naming the file, row, line and column."""
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    catalog = catalog if catalog is not None else load_catalog(directory)
    searches = read_curated(directory, SEARCH_LOG_FILE, SEARCH_COLUMNS)
    records = read_curated(directory, RECORDS_FILE, RECORD_COLUMNS)
    problems: list[str] = []
    search_objs = _check_searches(searches, problems)
    kinds = {s.search: s.source_kind for s in search_objs}
    record_objs = _check_records(records, kinds, catalog, problems)
    found = Counter(r.search for r in record_objs)
    for (where, _), s in zip(searches, search_objs, strict=True):
        if s.records_found is not None and s.records_found < found[s.search]:
            problems.append(f"{where}, column 'records_found': {s.records_found} is fewer than "
                            f"the {found[s.search]} records {RECORDS_FILE} assigns to it")
    if problems:
        raise CatalogError(problems)
    return SearchLog(tuple(search_objs), tuple(record_objs))


def _check_searches(rows: Sequence[tuple[str, dict[str, str]]],
                    problems: list[str]) -> list[Search]:
    out: list[Search] = []
    seen: set[str] = set()
    for where, r in rows:
        problems += unprintable_cells(where, r)
        if not r["search"]:
            problems.append(f"{where}, column 'search': empty search id")
        elif r["search"] in seen:
            problems.append(f"{where}, column 'search': duplicate search id {r['search']!r}")
        seen.add(r["search"])
        if not _PASS_RE.match(r["pass"]):
            problems.append(f"{where}, column 'pass': {r['pass']!r} is not a catalog version "
                            "(MAJOR.MINOR.PATCH)")
        if not is_iso_date(r["date"]):
            problems.append(f"{where}, column 'date': {r['date']!r} is not a date YYYY-MM-DD")
        if r["source_kind"] not in SOURCE_KINDS:
            problems.append(f"{where}, column 'source_kind': unknown kind {r['source_kind']!r} "
                            f"(allowed: {' | '.join(SOURCE_KINDS)})")
        for column in ("label", "source", "looked_at"):
            if not r[column]:
                problems.append(f"{where}, column '{column}': empty")
        found: int | None = None
        if r["records_found"]:
            if re.fullmatch(r"\d{1,7}", r["records_found"]):
                found = int(r["records_found"])
            else:
                problems.append(f"{where}, column 'records_found': {r['records_found']!r} is not "
                                "a whole number (leave it empty when the pass did not record it)")
        elif not r["note"]:
            problems.append(f"{where}, column 'note': say why records_found is empty")
        out.append(Search(r["search"], r["pass"], r["date"], r["source_kind"], r["label"],
                          r["source"], r["looked_at"], found, r["note"]))
    return out


def _check_records(rows: Sequence[tuple[str, dict[str, str]]], kinds: Mapping[str, str],
                   catalog: Catalog, problems: list[str]) -> list[Record]:
    refs = set(map(str, catalog.references["ref"]))
    studies = set(catalog.studies)
    stage_of = {r["record"]: r["stage"] for _, r in rows}
    other_kinds = BRANCHES["other methods"]
    out: list[Record] = []
    seen: set[str] = set()
    included_refs: dict[str, str] = {}
    for where, r in rows:
        problems += unprintable_cells(where, r)
        stage, reason = r["stage"], r["reason"]
        if not r["record"]:
            problems.append(f"{where}, column 'record': empty record id")
        elif r["record"] in seen:
            problems.append(f"{where}, column 'record': duplicate record id {r['record']!r}")
        seen.add(r["record"])
        if r["search"] not in kinds:
            problems.append(f"{where}, column 'search': {r['search']!r} is not a search in "
                            f"{SEARCH_LOG_FILE}")
        if not _PASS_RE.match(r["pass"]):
            problems.append(f"{where}, column 'pass': {r['pass']!r} is not a catalog version")
        if not r["report"] or not r["basis"]:
            problems.append(f"{where}, columns 'report', 'basis': say what the record is and "
                            "where the curation notes name it")
        if stage not in STAGES:
            problems.append(f"{where}, column 'stage': unknown stage {stage!r} (allowed: "
                            f"{' | '.join(STAGES)})")
        elif stage in REASONS and reason not in REASONS[stage]:
            problems.append(f"{where}, column 'reason': {reason!r} is not a reason for "
                            f"'{stage}' (allowed: {' | '.join(REASONS[stage])})")
        elif stage not in REASONS and reason:
            problems.append(f"{where}, column 'reason': a '{stage}' record has no reason")
        if stage == "excluded at screening" and kinds.get(r["search"]) in other_kinds:
            problems.append(f"{where}, column 'stage': records found by other methods are not "
                            "screened as records (PRISMA 2020); use 'not retrieved' or "
                            "'excluded'")
        if stage == "duplicate":
            if stage_of.get(r["duplicate_of"]) in (None, "duplicate"):
                problems.append(f"{where}, column 'duplicate_of': {r['duplicate_of']!r} is not "
                                "a record that was kept")
        elif r["duplicate_of"]:
            problems.append(f"{where}, column 'duplicate_of': only a duplicate names another "
                            "record")
        if r["ref"] and r["ref"] not in refs:
            problems.append(f"{where}, column 'ref': {r['ref']!r} is not a key in "
                            "references.csv")
        listed = tuple(s for s in r["studies"].split(";") if s.strip()) if r["studies"] else ()
        listed = tuple(s.strip() for s in listed)
        if stage == "included":
            if not r["ref"]:
                problems.append(f"{where}, column 'ref': an included report is a catalog "
                                "reference")
            elif r["ref"] in included_refs:
                problems.append(f"{where}, column 'ref': {r['ref']!r} is already included as "
                                f"record {included_refs[r['ref']]!r}")
            else:
                included_refs[r["ref"]] = r["record"]
            if not listed:
                problems.append(f"{where}, column 'studies': name the catalog studies this "
                                "report is used for")
            for study in listed:
                if study not in studies:
                    problems.append(f"{where}, column 'studies': {study!r} is not a study in "
                                    "trials.csv")
        elif listed:
            problems.append(f"{where}, column 'studies': only an included report names studies")
        out.append(Record(r["record"], r["search"], r["pass"], r["report"], r["ref"], listed,
                          stage, reason, r["duplicate_of"], r["basis"], r["note"]))
    return out
