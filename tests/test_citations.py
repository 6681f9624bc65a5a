"""BibTeX and RIS exports parse, entry by entry, for every reference in the catalog."""

import re

import pandas as pd
import pytest

from comparators.evidence.catalog import REFERENCE_COLUMNS, load_catalog
from comparators.reports.citations import split_authors, to_bibtex, to_ris

UNESCAPE = [(r"\textbackslash{}", "\\"), (r"\textasciitilde{}", "~"),
            (r"\textasciicircum{}", "^"), (r"\{", "{"), (r"\}", "}"), (r"\&", "&"),
            (r"\%", "%"), (r"\$", "$"), (r"\#", "#"), (r"\_", "_")]


def parse_bibtex(text: str) -> dict[str, tuple[str, dict[str, str]]]:
    """A strict little BibTeX reader: @type{key, name = {braced value}, ...} with balanced
    braces (escaped braces do not count); fails on anything else."""
    entries: dict[str, tuple[str, dict[str, str]]] = {}
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            return entries
        head = re.compile(r"@(\w+)\{([A-Za-z0-9_:-]+),").match(text, i)
        assert head, f"no entry header at {text[i:i + 40]!r}"
        kind, key = head.groups()
        assert key not in entries, f"duplicate key {key}"
        i = head.end()
        fields: dict[str, str] = {}
        while True:
            while text[i].isspace():
                i += 1
            if text[i] == "}":
                i += 1
                break
            field = re.compile(r"(\w+) = \{").match(text, i)
            assert field, f"bad field in {key} at {text[i:i + 40]!r}"
            i, depth, start = field.end(), 1, field.end()
            while depth:
                ch = text[i]
                if ch == "\\":
                    i += 2
                    continue
                depth += {"{": 1, "}": -1}.get(ch, 0)
                i += 1
            fields[field.group(1)] = text[start:i - 1]
            if text[i] == ",":
                i += 1
        entries[key] = (kind, fields)


def unescape(value: str) -> str:
    if value.startswith("{") and value.endswith("}"):
        value = value[1:-1]
    for escaped, plain in UNESCAPE:
        value = value.replace(escaped, plain)
    return value


def parse_ris(text: str) -> list[dict[str, list[str]]]:
    records, current = [], None
    for line in text.splitlines():
        if not line.strip():
            continue
        match = re.fullmatch(r"([A-Z][A-Z0-9])  - (.*)", line)
        assert match, f"bad RIS line {line!r}"
        tag, value = match.groups()
        if tag == "TY":
            assert current is None, "TY before the previous record's ER"
            current = {}
        assert current is not None, f"{tag} outside a record"
        current.setdefault(tag, []).append(value)
        if tag == "ER":
            records.append(current)
            current = None
    assert current is None, "last record has no ER"
    return records


@pytest.fixture(scope="module")
def refs() -> pd.DataFrame:
    return load_catalog().references


def filled(value) -> str:
    return "" if pd.isna(value) else str(value)


def test_every_reference_is_a_parseable_bibtex_article(refs) -> None:
    entries = parse_bibtex(to_bibtex(refs))
    assert list(entries) == list(refs["ref"])
    for _, ref in refs.iterrows():
        kind, fields = entries[ref["ref"]]
        assert kind == "article"
        assert unescape(fields["title"]) == ref["title"]
        assert fields["title"].startswith("{")  # capitalisation protected
        # a field is written exactly when the catalog has it (a registry record has no year)
        assert unescape(fields.get("journal", "")) == filled(ref["journal"])
        assert fields.get("year", "") == filled(ref["year"])
        # a doi is written exactly when the catalog has one (never guessed)
        assert fields.get("doi", "") == filled(ref["doi"])
        if filled(ref["pages"]):
            assert unescape(fields["pages"]) == filled(ref["pages"]).replace("-", "--")
        if filled(ref["nct"]):
            assert fields["note"] == f"ClinicalTrials.gov: {ref['nct']}"
        if filled(ref["authors"]):
            assert " and " in fields["author"] or "," in fields["author"]


def test_tawbi_2017_in_full(refs) -> None:
    _, fields = parse_bibtex(to_bibtex(refs[refs["ref"] == "TAWBI2017"]))["TAWBI2017"]
    assert fields["author"] == "Tawbi, H. A. and Burgess, M. and Bolejack, V. and others"
    assert fields["doi"] == "10.1016/S1470-2045(17)30624-1"
    assert fields["pages"] == "1493--1501" and fields["volume"] == "18"


def test_special_characters_are_escaped_and_braces_balanced() -> None:
    title = "A {braced} 50% & $cost$ #1 under_score ~ ^ back\\slash"
    frame = pd.DataFrame([{c: None for c in REFERENCE_COLUMNS}
                          | {"ref": "X 1/2", "title": title, "journal": "J & K",
                             "year": "2020", "doi": "10.1000/a_b{c}"}])
    entries = parse_bibtex(to_bibtex(frame))
    (key, (_, fields)), = entries.items()
    assert key == "X12"
    assert unescape(fields["title"]) == title
    assert unescape(fields["journal"]) == "J & K"
    assert unescape(fields["doi"]) == "10.1000/a_b{c}"


def test_every_reference_is_a_ris_record(refs) -> None:
    records = parse_ris(to_ris(refs))
    assert len(records) == len(refs)
    for record, (_, ref) in zip(records, refs.iterrows(), strict=True):
        assert record["TY"] == ["JOUR"] and record["ER"] == [""]
        assert record["ID"] == [ref["ref"]]
        assert record["TI"] == [ref["title"]]
        assert record.get("JO", [""]) == [filled(ref["journal"])]
        assert record.get("PY", [""]) == [filled(ref["year"])]
        assert record.get("DO", [""]) == [filled(ref["doi"])]
        if filled(ref["pmid"]):
            assert record["AN"] == [f"PMID: {ref['pmid']}"]
        if filled(ref["nct"]):
            assert f"ClinicalTrials.gov: {ref['nct']}" in record["N1"]


def test_ris_authors_and_pages() -> None:
    frame = load_catalog().references
    (record,) = parse_ris(to_ris(frame[frame["ref"] == "TAWBI2017"]))
    assert record["AU"] == ["Tawbi, H. A.", "Burgess, M.", "Bolejack, V."]
    assert (record["SP"], record["EP"]) == (["1493"], ["1501"])


def test_split_authors() -> None:
    assert split_authors("Roulleaux Dugage M, Nassif EF, Italiano A, Bahleda R.") == (
        [("Roulleaux Dugage", "M"), ("Nassif", "EF"), ("Italiano", "A"), ("Bahleda", "R")], False)
    assert split_authors("D'Angelo SP, et al.") == ([("D'Angelo", "SP")], True)
    assert split_authors(None) == ([], False)
