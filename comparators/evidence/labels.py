"""How rows are named where people read them: "Author Year · arm", verification levels and marks.

Internal ids (TQB2450-ANLO) stay the keys and appear in tooltips; readers see the first author
and year of the study's main publication. A row's verification level is derived from what its
numbers were read from (`verification_status`, the one rule), and a mark after a label says the
number was not read from the trial's own full paper, or that the row was added by the user
(vocab.MARKS has the legend).
"""

from __future__ import annotations

import math
import re

import pandas as pd

from comparators.evidence.seed import SEED_STUDY
from comparators.vocab import MARKS, MARKS_BY_NAME

#: Source types that are secondary whatever they report (data/README.md, "Provenance").
SECONDARY_SOURCE_TYPES = frozenset({"review table", "news summary"})
SEED_SOURCE_TYPE = "seed paper"
#: The verification level of a row a user added in the app or with --extra-rows
#: (evidence.added_rows): nobody but the user has read its source.
ADDED_BY_USER = "added by the user"
#: Its mark (vocab.MARKS has its legend).
ADDED_MARK = MARKS_BY_NAME[ADDED_BY_USER].symbol


def row_key(study: object, arm: object) -> str:
    """'STUDY · arm': the one identifier of a row through pooling, links, --exclude and files."""
    return f"{study} · {arm}"


def row_keys(rows: pd.DataFrame) -> pd.Series:
    """The row key of every row of `rows` (columns study and arm), aligned with its index."""
    return pd.Series([row_key(s, a) for s, a in zip(rows["study"], rows["arm"], strict=True)],
                     index=rows.index, dtype=object)


def cell_text(value: object) -> str:
    """A table cell as text: '' for missing (None, <NA>, NaN), else trimmed."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def first_surname(authors: object) -> str:
    """'Tawbi' from 'Tawbi HA, Burgess M, ...' (Vancouver author lists)."""
    text = cell_text(authors)
    if not text:
        return ""
    tokens = text.split(",")[0].strip().split()
    if len(tokens) >= 2 and re.fullmatch(r"[A-Z]{1,3}", tokens[-1]):
        tokens = tokens[:-1]
    return " ".join(tokens)


def study_labels(trials: pd.DataFrame, references: pd.DataFrame) -> dict[str, str]:
    """study id -> 'Tawbi 2017' from the study's main reference: 'Author (ID)' when it has no
    year, the id when it names no author."""
    refs = {str(r["ref"]): r for _, r in references.iterrows()}
    out: dict[str, str] = {}
    journals: dict[str, str] = {}
    n = len(trials)
    source_refs = trials["source_ref"] if "source_ref" in trials else [None] * n
    source_types = trials["source_type"] if "source_type" in trials else [None] * n
    for study, ref, source, kind in zip(trials["study"].astype(str), trials["ref"], source_refs,
                                        source_types, strict=True):
        if study in out:
            continue
        r = refs.get(cell_text(ref))
        if cell_text(ref) == SEED_STUDY and study != SEED_STUDY:
            r = None  # cited via the seed paper: not the seed's authors' own study
        if cell_text(kind) in SECONDARY_SOURCE_TYPES and cell_text(ref) == cell_text(source):
            r = None  # only a review or a news item is cited: its authors did not run the trial
        surname = first_surname(r.get("authors")) if r is not None else ""
        year = cell_text(r.get("year")) if r is not None else ""
        year = year[:-2] if year.endswith(".0") else year
        # "Author Year"; without a year the id tells the reader which study it is.
        out[study] = (f"{surname} {year}" if year else f"{surname} ({study})") if surname \
            else study
        journals[study] = cell_text(r.get("journal")) if r is not None else ""
    # Same first author and year: add the journal when that tells them apart ("Liu 2023, Sci
    # Rep"), else the id (a trial and its expansion cohort in one paper).
    groups: dict[str, list[str]] = {}
    for study, label in out.items():
        groups.setdefault(label, []).append(study)
    for label, studies in groups.items():
        if len(studies) < 2 or label in studies:
            continue
        by_journal = {journals[s] for s in studies}
        for s in studies:
            distinct = len(by_journal) == len(studies) and journals[s]
            out[s] = f"{label}, {journals[s]}" if distinct else f"{label} ({s})"
    return out


def arm_labels(trials: pd.DataFrame, references: pd.DataFrame) -> dict[str, str]:
    """row key ('STUDY · arm') -> 'Author Year · arm': the one name of an arm wherever people
    read it (forest plot, tables, methods text, leave-out menu, summary, CLI). The key stays
    the identifier (links, --exclude, data files)."""
    names = study_labels(trials, references)
    return {row_key(s, a): f"{names.get(str(s), str(s))} · {a}"
            for s, a in zip(trials["study"].astype(str), trials["arm"].astype(str), strict=True)}


def verification_status(source_type: object, own_report: bool) -> str:
    """The row's verification level, from what its numbers were read from.

    'seed paper only' when only the seed paper's discussion gives them; 'secondary source' when
    they were read from a review table or a news summary, or from any document that is not the
    study's own report; 'primary source' when they were read from the study's own paper,
    conference abstract or registry results. `own_report`: the source is the study's own report
    (evidence.catalog.is_own_report).
    """
    kind = cell_text(source_type)
    if kind == SEED_SOURCE_TYPE:
        return "seed paper only"
    if kind in SECONDARY_SOURCE_TYPES or not own_report:
        return "secondary source"
    return "primary source"


def is_derived(value: object) -> bool:
    """Whether a row's `derived` cell says its counts are arithmetic on printed numbers."""
    return cell_text(value).lower() == "yes"


def verification_mark(row: pd.Series) -> str:
    """The symbol for a row whose numbers were not read from the trial's own full paper.

    Read from the row's `verified` level (itself derived from `source_type`), its
    `source_type` and its `derived` flag, in that order of precedence.
    """
    if bool(row.get("is_cohort", False)):
        return ""
    verified = cell_text(row.get("verified"))
    if verified == ADDED_BY_USER or cell_text(row.get("added_by_user")) == "True":
        return ADDED_MARK
    source = cell_text(row.get("source_type"))
    if verified == "seed paper only" or source == SEED_SOURCE_TYPE:
        return "†"
    if verified == "secondary source" or source in SECONDARY_SOURCE_TYPES:
        return "‡"
    if source == "conference abstract":
        return "§"
    if source == "registry results":
        return "¶"
    if is_derived(row.get("derived")):
        return "*"
    return ""


def verification_marks(rows: pd.DataFrame) -> dict[str, str]:
    """row key -> mark (only rows that carry one)."""
    out = {str(r["key"]): verification_mark(r) for _, r in rows.iterrows()}
    return {k: v for k, v in out.items() if v}


def mark_legend(marks: dict[str, str] | list[str]) -> list[str]:
    """'† seed paper only: ...' for each mark used, in the legend's order."""
    used = set(marks.values()) if isinstance(marks, dict) else set(marks)
    return [f"{m.symbol} {m.legend}" for m in MARKS.values() if m.symbol in used]
