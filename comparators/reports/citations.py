"""References as BibTeX and RIS, for reference managers (Zotero, EndNote, Mendeley, LaTeX).

Input: rows in the shape of data/references.csv (ref, authors, title, journal, year, volume,
issue, pages, doi, pmid, nct, url, note, kind), e.g. `EvidenceSummary.references_table`. Only
what the row holds is written: a missing doi stays missing, never guessed. The entry type
follows the reference's kind: a journal article or review is `@article` / `TY  - JOUR`, a
conference abstract `@inproceedings` / `ABST`, a news item `@misc` / `NEWS`, a registry record
`@misc` / `DBASE`. ClinicalTrials.gov numbers go into a note.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from comparators.inputs import clean_text, is_missing

__all__ = ["ENTRY_TYPES", "bibtex_key", "entry_type", "split_authors", "to_bibtex", "to_ris",
           "vancouver"]

_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _text(value: Any) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text[:-2] if re.fullmatch(r"\d+\.0", text) else text


def bibtex_escape(text: str) -> str:
    """Text safe inside a braced BibTeX field: specials escaped, braces always balanced."""
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in text)


def bibtex_key(ref: str, used: set[str] | None = None) -> str:
    """A citation key of letters, digits, '-', '_' and ':' (unique within `used`)."""
    key = re.sub(r"[^A-Za-z0-9_:-]", "", ref) or "ref"
    if used is not None:
        base, i = key, 1
        while key in used:
            i += 1
            key = f"{base}-{i}"
        used.add(key)
    return key


def split_authors(authors: str) -> tuple[list[tuple[str, str]], bool]:
    """Vancouver author list -> [(family, initials)], and whether it ends with 'et al.'.

    'Tawbi HA, Burgess M, et al.' -> ([('Tawbi', 'HA'), ('Burgess', 'M')], True). A name with no
    initials is kept whole as the family name.
    """
    text = _text(authors)
    if not text:
        return [], False
    et_al = bool(re.search(r",?\s*et al\.?\s*$", text))
    text = re.sub(r",?\s*et al\.?\s*$", "", text)
    text = text.rstrip(". ")
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        tokens = part.split()
        if len(tokens) >= 2 and re.fullmatch(r"[A-Z]{1,4}", tokens[-1]):
            out.append((" ".join(tokens[:-1]), tokens[-1]))
        else:
            out.append((part.rstrip("."), ""))
    return out, et_al


def _dotted(initials: str) -> str:
    return " ".join(f"{c}." for c in initials)


#: reference kind -> (BibTeX entry type, the BibTeX field that holds `journal`, RIS type)
ENTRY_TYPES: dict[str, tuple[str, str, str]] = {
    "article": ("article", "journal", "JOUR"),
    "review": ("article", "journal", "JOUR"),
    "abstract": ("inproceedings", "booktitle", "ABST"),
    "news": ("misc", "howpublished", "NEWS"),
    "registry": ("misc", "howpublished", "DBASE"),
}


def entry_type(kind: str) -> tuple[str, str, str]:
    """(BibTeX type, journal field, RIS type) of a reference kind; an article when unknown."""
    return ENTRY_TYPES.get(kind, ENTRY_TYPES["article"])


def _rows(references: pd.DataFrame) -> list[dict[str, str]]:
    return [{k: _text(v) for k, v in rec.items()} for rec in references.to_dict("records")]


def to_bibtex(references: pd.DataFrame) -> str:
    """One entry per row (`@article{key, ...}` for papers; see ENTRY_TYPES), fields braced and
    escaped."""
    entries = []
    used: set[str] = set()
    for row in _rows(references):
        key = bibtex_key(row.get("ref", ""), used)
        bib_type, journal_field, _ = entry_type(row.get("kind", ""))
        fields: list[tuple[str, str]] = []
        names, et_al = split_authors(row.get("authors", ""))
        if names:
            people = [f"{family}, {_dotted(initials)}" if initials else f"{{{family}}}"
                      for family, initials in names]
            if et_al:
                people.append("others")
            fields.append(("author", " and ".join(people)))
        for name, column in (("title", "title"), (journal_field, "journal"), ("year", "year"),
                             ("volume", "volume"), ("number", "issue")):
            if row.get(column):
                fields.append((name, row[column]))
        if row.get("pages"):
            fields.append(("pages", row["pages"].replace("-", "--")))
        for name in ("doi", "pmid", "url"):
            if row.get(name):
                fields.append((name, row[name]))
        if row.get("nct"):
            fields.append(("note", f"ClinicalTrials.gov: {row['nct']}"))
        lines = [f"@{bib_type}{{{key},"]
        for i, (name, value) in enumerate(fields):
            value = bibtex_escape(value)
            if name == "title":
                value = f"{{{value}}}"  # keep the capitalisation as published
            comma = "," if i < len(fields) - 1 else ""
            lines.append(f"  {name} = {{{value}}}{comma}")
        lines.append("}")
        entries.append("\n".join(lines))
    return "\n\n".join(entries) + ("\n" if entries else "")


def to_ris(references: pd.DataFrame) -> str:
    """One RIS record per row (`TY  - JOUR` ... `ER  - `, the type from ENTRY_TYPES), one value
    per line."""
    records = []
    for row in _rows(references):
        lines = [f"TY  - {entry_type(row.get('kind', ''))[2]}"]
        if row.get("ref"):
            lines.append(f"ID  - {row['ref']}")
        names, et_al = split_authors(row.get("authors", ""))
        for family, initials in names:
            lines.append(f"AU  - {family}, {_dotted(initials)}" if initials else f"AU  - {family}")
        if et_al:
            lines.append("N1  - Further authors not listed (et al.)")
        for tag, column in (("TI", "title"), ("JO", "journal"), ("PY", "year"),
                            ("VL", "volume"), ("IS", "issue")):
            if row.get(column):
                lines.append(f"{tag}  - {row[column]}")
        pages = row.get("pages", "")
        if pages:
            start, _, end = pages.partition("-")
            lines.append(f"SP  - {start.strip()}")
            if end.strip():
                lines.append(f"EP  - {end.strip()}")
        if row.get("doi"):
            lines.append(f"DO  - {row['doi']}")
        if row.get("pmid"):
            lines.append(f"AN  - PMID: {row['pmid']}")
        if row.get("nct"):
            lines.append(f"N1  - ClinicalTrials.gov: {row['nct']}")
        if row.get("url"):
            lines.append(f"UR  - {row['url']}")
        elif row.get("doi"):
            lines.append(f"UR  - https://doi.org/{row['doi']}")
        lines.append("ER  - ")
        records.append("\n".join(lines))
    return "\n\n".join(records) + ("\n" if records else "")


def _field(row: Mapping[str, Any] | pd.Series, key: str, *, whole: bool = False) -> str:
    """A reference field as printed text ('' when absent or empty); `whole`: a number that a
    spreadsheet may have written as a float ('2017.0') printed whole ('2017')."""
    try:
        value = row[key]
    except (KeyError, IndexError):
        return ""
    if is_missing(value, markers=False):
        return ""
    text = clean_text(value, max_chars=10**6)
    return text.split(".")[0] if whole and re.fullmatch(r"\d+\.0+", text) else text


def vancouver(ref_row: Mapping[str, Any] | pd.Series) -> str:
    """Format a reference in Vancouver (NLM) style, by its kind.

    ``Tawbi HA, Burgess M, Bolejack V, Van Tine BA, Schuetze SM, Hu J, et al. Title. Lancet
    Oncol. 2017;18(11):1493-1501. doi:10.1016/... PMID: ...``; a conference abstract is marked
    ``[abstract]`` and a meeting abstract number without a volume prints as ``Abstract 1694P``;
    a registry record prints its identifier. Parts that are missing are left out (never a
    placeholder).
    """
    kind = _field(ref_row, "kind") or "article"
    authors = _field(ref_row, "authors")
    title = _field(ref_row, "title")
    journal = _field(ref_row, "journal")
    year = _field(ref_row, "year", whole=True)
    volume = _field(ref_row, "volume", whole=True)
    issue = _field(ref_row, "issue", whole=True)
    pages = _field(ref_row, "pages")
    doi = _field(ref_row, "doi")
    pmid = _field(ref_row, "pmid", whole=True)
    nct = _field(ref_row, "nct")

    parts: list[str] = []
    if authors:
        parts.append(authors if authors.endswith(".") else authors + ".")
    if title:
        title = title if title.endswith((".", "?", "!")) else title + "."
        parts.append(f"{title[:-1]} [abstract]{title[-1]}" if kind == "abstract" else title)
    if kind == "registry":
        parts.append(f"{journal or 'Registry'} identifier: {nct}." if nct else
                     f"{journal}." if journal else "")
        return " ".join(p for p in parts if p)
    source = journal.rstrip(".") + "." if journal else ""
    if year and not journal:
        source = f"Published {year}."
    elif year:
        detail = year
        if volume:
            detail += f";{volume}"
            if issue:
                detail += f"({issue})"
        if pages and kind == "abstract" and not volume:
            source = f"{source[:-1]}; {detail}. Abstract {pages}."
        else:
            if pages:
                detail += f":{pages}" if volume else f";{pages}"
            source = f"{source} {detail}."
    if source:
        parts.append(source)
    if doi:
        parts.append(f"doi:{doi}.")
    if pmid:
        parts.append(f"PMID: {pmid}.")
    if nct and not doi and not pmid:
        parts.append(f"ClinicalTrials.gov: {nct}.")
    return " ".join(parts)
