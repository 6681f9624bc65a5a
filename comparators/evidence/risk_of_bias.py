"""Risk of bias per study: MINORS' eight items for non-comparative studies.

MINORS (Slim et al., ANZ J Surg 2003;73:712-716) scores each item 0 (not reported), 1 (reported
but inadequate) or 2 (reported and adequate); the ideal global score of a non-comparative study
is 16. Each item's judgement is curated in ``data/risk_of_bias.csv`` with a one-line support
citing the record it was read in; the judgement words map one-to-one onto the MINORS points
(low = 2, high = 1, unclear = 0). The overall judgement is computed here, never typed: see
:func:`overall_judgement` and ``data/README.md`` ("Risk of bias").

The loader checks that every study in ``trials.csv`` has exactly the eight items, that items and
judgements come from the vocabulary below, that a support is given unless the item is unclear,
and that each support cites a record the study's catalog rows rely on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from comparators.evidence.catalog import Catalog, CatalogError, default_data_dir, load_catalog
from comparators.evidence.curated import CuratedRow, read_curated
from comparators.inputs import is_missing, parse_choice

__all__ = [
    "HIGH_UP_TO",
    "ITEMS",
    "JUDGEMENTS",
    "LOW_FROM",
    "OVERALL",
    "POINTS",
    "ROB_COLUMNS",
    "ROB_FILE",
    "TOOL",
    "UNCLEAR_AT",
    "ItemJudgement",
    "RiskOfBias",
    "StudyRiskOfBias",
    "judgement_counts",
    "low_risk_filter",
    "load_risk_of_bias",
    "overall_judgement",
    "rule_text",
    "study_sources",
]

ROB_FILE = "risk_of_bias.csv"
ROB_COLUMNS: tuple[str, ...] = ("study", "item", "judgement", "support", "source_ref")

TOOL = ("MINORS (methodological index for non-randomized studies), 8 items for non-comparative "
        "studies")

#: The eight MINORS items for non-comparative studies, in the instrument's order.
ITEMS: dict[str, str] = {
    "aim": "A clearly stated aim",
    "consecutive": "Inclusion of consecutive patients",
    "prospective": "Prospective collection of data",
    "endpoints": "Endpoints appropriate to the aim of the study",
    "unbiased_assessment": "Unbiased assessment of the study endpoint",
    "follow_up": "Follow-up period appropriate to the aim of the study",
    "loss_to_follow_up": "Loss to follow-up less than 5%",
    "study_size": "Prospective calculation of the study size",
}
#: Item judgements and their MINORS points: reported and adequate (2), reported but inadequate
#: (1), not reported (0).
POINTS: dict[str, int] = {"low": 2, "high": 1, "unclear": 0}
JUDGEMENTS: tuple[str, ...] = tuple(POINTS)
#: Overall judgements, best first.
OVERALL: tuple[str, ...] = ("low", "some concerns", "high", "unclear")
#: With this many items unclear the score mostly measures what the source read leaves out.
UNCLEAR_AT = 4
#: Global score bands (of 16): 14-16 low, 8-13 some concerns, 0-7 high.
LOW_FROM = 14
HIGH_UP_TO = 7


def overall_judgement(judgements: Iterable[str]) -> str:
    """The study's overall judgement from its eight item judgements (the documented rule)."""
    items = list(judgements)
    unknown = [j for j in items if j not in POINTS]
    if unknown:
        raise ValueError(f"unknown judgement {unknown[0]!r} (allowed: {' | '.join(JUDGEMENTS)})")
    if len(items) != len(ITEMS):
        raise ValueError(f"expected {len(ITEMS)} item judgements, got {len(items)}")
    if items.count("unclear") >= UNCLEAR_AT:
        return "unclear"
    score = sum(POINTS[j] for j in items)
    if score >= LOW_FROM:
        return "low"
    return "high" if score <= HIGH_UP_TO else "some concerns"


def rule_text() -> str:
    """The overall rule in words, from the constants the code uses."""
    top = 2 * len(ITEMS)
    return (f"Items score low = 2, high = 1, unclear = 0 (MINORS: reported and adequate, reported "
            f"but inadequate, not reported). Overall: unclear when {UNCLEAR_AT} or more of the "
            f"{len(ITEMS)} items are unclear; otherwise low for a score of {LOW_FROM}-{top}, some "
            f"concerns for {HIGH_UP_TO + 1}-{LOW_FROM - 1}, high for 0-{HIGH_UP_TO}.")


@dataclass(frozen=True)
class ItemJudgement:
    item: str
    judgement: str
    support: str
    source_ref: str

    @property
    def label(self) -> str:
        return ITEMS[self.item]

    @property
    def points(self) -> int:
        return POINTS[self.judgement]

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "label": self.label, "judgement": self.judgement,
                "points": self.points, "support": self.support, "source_ref": self.source_ref}


@dataclass(frozen=True)
class StudyRiskOfBias:
    study: str
    items: tuple[ItemJudgement, ...]

    @property
    def score(self) -> int:
        """MINORS global score (of 16)."""
        return sum(i.points for i in self.items)

    @property
    def unclear_items(self) -> int:
        return sum(i.judgement == "unclear" for i in self.items)

    @property
    def overall(self) -> str:
        return overall_judgement(i.judgement for i in self.items)

    def judgement(self, item: str) -> str:
        return next(i.judgement for i in self.items if i.item == item)

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "items": [i.to_dict() for i in self.items],
                "overall": self.overall, "score": self.score,
                "unclear_items": self.unclear_items}


@dataclass(frozen=True)
class RiskOfBias:
    """Every study's judgements, in the catalog's study order."""

    studies: tuple[StudyRiskOfBias, ...]
    tool: str = TOOL

    def study(self, study_id: str) -> StudyRiskOfBias:
        """One study's judgements; KeyError naming the study if it has none."""
        for s in self.studies:
            if s.study == study_id:
                return s
        raise KeyError(study_id)

    def overall_by_study(self) -> dict[str, str]:
        return {s.study: s.overall for s in self.studies}

    def to_dict(self, study: str | None = None) -> dict[str, Any]:
        chosen = [self.study(study)] if study is not None else list(self.studies)
        return {"tool": self.tool, "rule": rule_text(), "studies": [s.to_dict() for s in chosen]}


def study_sources(catalog: Catalog) -> dict[str, frozenset[str]]:
    """study -> the reference keys its rows rely on: each row's `ref` and `source_ref`, the keys
    its `locator` names, and those of the study it `overlaps_with` (another cut of the same
    trial reports the same design)."""
    keys = sorted(map(str, catalog.references["ref"]), key=len, reverse=True)
    own: dict[str, set[str]] = {}
    overlaps: dict[str, set[str]] = {}
    for rec in catalog.trials.to_dict("records"):
        study = str(rec["study"])
        found = own.setdefault(study, set())
        found.update(str(rec[c]) for c in ("ref", "source_ref") if not _is_missing(rec[c]))
        locator = "" if _is_missing(rec["locator"]) else str(rec["locator"])
        found.update(k for k in keys if re.search(rf"(?<![\w-]){re.escape(k)}(?![\w-])", locator))
        if not _is_missing(rec["overlaps_with"]):
            overlaps.setdefault(study, set()).add(str(rec["overlaps_with"]))
    out: dict[str, frozenset[str]] = {}
    for study, found in own.items():
        extra = set().union(*(own.get(o, set()) for o in overlaps.get(study, set())))
        out[study] = frozenset(found | extra)
    return out


def load_risk_of_bias(data_dir: Path | None = None, catalog: Catalog | None = None) -> RiskOfBias:
    """Read and validate ``risk_of_bias.csv`` against the catalog (loaded from the same folder
    unless given). Cells are read through the input boundary (see ``evidence.curated``); raises
    :class:`CatalogError` naming the row, line and column."""
    directory = Path(data_dir) if data_dir is not None else default_data_dir()
    catalog = catalog if catalog is not None else load_catalog(directory)
    problems: list[str] = []
    rows = read_curated(directory, ROB_FILE, ROB_COLUMNS, problems)
    sources = study_sources(catalog)
    known_refs = set(map(str, catalog.references["ref"]))
    by_study: dict[str, dict[str, ItemJudgement]] = {}
    first_row: dict[tuple[str, str], int] = {}
    for i, row in enumerate(rows):
        judged = _read_judgement(row, sources, known_refs)
        if judged is None:
            continue
        study, item = judged
        if (study, item.item) in first_row:
            row.problem("item", f"{item.item!r} is judged twice for {study} (first in row "
                                f"{first_row[(study, item.item)] + 1})")
            continue
        first_row[(study, item.item)] = i
        by_study.setdefault(study, {})[item.item] = item
    for study in catalog.studies:
        absent = [item for item in ITEMS if item not in by_study.get(study, {})]
        if absent:
            problems.append(f"{ROB_FILE}: study {study} (in trials.csv) has no judgement for "
                            f"{', '.join(repr(a) for a in absent)}")
    if problems:
        raise CatalogError(problems)
    return RiskOfBias(tuple(
        StudyRiskOfBias(study, tuple(by_study[study][item] for item in ITEMS))
        for study in catalog.studies))


def _read_judgement(row: CuratedRow, sources: Mapping[str, frozenset[str]],
                    known_refs: set[str]) -> tuple[str, ItemJudgement] | None:
    """(study, judgement) from one row, or None when the row is unusable (its problems are
    recorded)."""
    study = row.parse(parse_choice, "study", choices=sorted(sources), what="study")
    item = row.parse(parse_choice, "item", choices=tuple(ITEMS), what="item")
    judgement = row.parse(parse_choice, "judgement", choices=JUDGEMENTS, what="judgement")
    support, source = row["support"], row["source_ref"]
    if not support and judgement not in (None, "unclear"):
        row.problem("support", f"a {judgement!r} judgement needs a support (quote or cite what "
                               "it rests on)")
    if support and not source:
        row.problem("source_ref", "a support needs the reference it was read in")
    if source and source not in known_refs:
        row.problem("source_ref", f"{source!r} is not a key in references.csv")
    elif source and study is not None and source not in sources[study]:
        row.problem("source_ref", f"{source!r} is not a record {study}'s catalog rows rely on "
                                  f"(allowed: {', '.join(sorted(sources[study]))})")
    if study is None or item is None or judgement is None:
        return None
    return study, ItemJudgement(item, judgement, support, source)


def _is_missing(value: object) -> bool:
    """An empty catalog cell (the catalog's reading: no "NA"-style markers in text)."""
    return is_missing(value, markers=False)


def judgement_counts(rob: RiskOfBias, studies: Sequence[str] | None = None) -> dict[str, int]:
    """How many item judgements of each kind (all studies, or those named)."""
    chosen = rob.studies if studies is None else tuple(rob.study(s) for s in studies)
    counts = dict.fromkeys(JUDGEMENTS, 0)
    for s in chosen:
        for i in s.items:
            counts[i.judgement] += 1
    return counts


@lru_cache(maxsize=1)
def _shipped_overall() -> tuple[tuple[str, str], ...]:
    return tuple(load_risk_of_bias().overall_by_study().items())


def low_risk_filter(studies: Sequence[str]) -> tuple[list[bool], str]:
    """Which of `studies` are judged low risk of bias overall (the shipped judgements; a study
    with none, e.g. a user's, is not), and a sentence saying how many studies are."""
    overall = dict(_shipped_overall())
    keep = [overall.get(str(s)) == "low" for s in studies]
    low = sum(j == "low" for j in overall.values())
    return keep, (f"{low} of the {len(overall)} studies in the catalog "
                  f"{'is' if low == 1 else 'are'} judged low risk of bias overall (MINORS)")
