"""BibTeX and RIS exports parse, entry by entry, for every reference in the catalog."""

import io
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


#: data/README.md, references.csv `kind` -> (BibTeX type, its journal field, RIS type)
EXPECTED_TYPES = {
    "article": ("article", "journal", "JOUR"), "review": ("article", "journal", "JOUR"),
    "abstract": ("inproceedings", "booktitle", "ABST"),
    "news": ("misc", "howpublished", "NEWS"), "registry": ("misc", "howpublished", "DBASE"),
}


def test_every_reference_is_a_parseable_bibtex_entry(refs) -> None:
    entries = parse_bibtex(to_bibtex(refs))
    assert list(entries) == list(refs["ref"])
    for _, ref in refs.iterrows():
        kind, fields = entries[ref["ref"]]
        bib_type, journal_field, _ = EXPECTED_TYPES[ref["kind"]]
        assert kind == bib_type
        # a field is written exactly when the catalog has it (never guessed, no placeholder)
        assert unescape(fields.get("title", "")) == filled(ref["title"])
        if filled(ref["title"]):
            assert fields["title"].startswith("{")  # capitalisation protected
        assert unescape(fields.get(journal_field, "")) == filled(ref["journal"])
        assert fields.get("year", "") == filled(ref["year"])
        assert fields.get("doi", "") == filled(ref["doi"])
        if filled(ref["pages"]):
            assert unescape(fields["pages"]) == filled(ref["pages"]).replace("-", "--")
        if filled(ref["nct"]):
            assert fields["note"] == f"ClinicalTrials.gov: {ref['nct']}"
        if filled(ref["authors"]):
            assert " and " in fields["author"] or "," in fields["author"]
        for value in fields.values():
            assert "not recorded" not in value and not value.startswith("{[")


def test_tawbi_2017_in_full(refs) -> None:
    _, fields = parse_bibtex(to_bibtex(refs[refs["ref"] == "TAWBI2017"]))["TAWBI2017"]
    # Lancet Oncol 2017;18(11):1493-1501: six authors, then "others" (BibTeX's et al.)
    assert fields["author"] == ("Tawbi, H. A. and Burgess, M. and Bolejack, V. and "
                                "Van Tine, B. A. and Schuetze, S. M. and Hu, J. and others")
    assert fields["doi"] == "10.1016/S1470-2045(17)30624-1"
    assert fields["pages"] == "1493--1501" and fields["volume"] == "18"
    assert fields["number"] == "11" and fields["pmid"] == "28988646"


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
        assert record["TY"] == [EXPECTED_TYPES[ref["kind"]][2]] and record["ER"] == [""]
        assert record["ID"] == [ref["ref"]]
        assert record.get("TI", [""]) == [filled(ref["title"])]
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
    assert record["AU"] == ["Tawbi, H. A.", "Burgess, M.", "Bolejack, V.", "Van Tine, B. A.",
                            "Schuetze, S. M.", "Hu, J."]
    assert (record["SP"], record["EP"]) == (["1493"], ["1501"])


def test_split_authors() -> None:
    assert split_authors("Roulleaux Dugage M, Nassif EF, Italiano A, Bahleda R.") == (
        [("Roulleaux Dugage", "M"), ("Nassif", "EF"), ("Italiano", "A"), ("Bahleda", "R")], False)
    assert split_authors("D'Angelo SP, et al.") == ([("D'Angelo", "SP")], True)
    assert split_authors(None) == ([], False)


# --------------------------------------------------------------------------- in the summary


@pytest.fixture(scope="module")
def every_subtype():
    """One evidence summary of every subtype the catalog can summarise, with its rows."""
    from comparators.evidence.audit import audit_published
    from comparators.evidence.cohort import published_cohort
    from comparators.reports.summary import build_summary, summarisable_subtypes

    cat = load_catalog()
    subtypes = summarisable_subtypes(cat.trials)
    summary = build_summary(cat.trials, cat.references, audit_published(),
                            published_cohort(cat.trials), subtypes,
                            subtype_names=cat.subtype_names)
    return cat, summary


def cited_numbers(markdown: str) -> set[int]:
    """Every reference number the rendered Markdown cites: bracketed citations in the text and
    captions ("[1, 3–5]") and the trials tables' Ref. cells ("4 (study 17)")."""
    numbers: set[int] = set()
    for group in re.findall(r"\[([\d,–\s]+)\]", markdown):
        for part in group.split(","):
            a, _, b = part.strip().partition("–")
            numbers.update(range(int(a), int(b or a) + 1))
    in_trials = False  # the trials tables (header "| Study | ... | Ref. |") end in a Ref. cell
    for line in markdown.splitlines():
        if line.startswith("| "):
            if line.startswith("| Study"):
                in_trials = True
            elif in_trials:
                ref_cell = line.rstrip(" |").rsplit(" | ", 1)[-1]
                numbers.update(int(n) for n in re.findall(r"\d+", ref_cell))
        elif not line.startswith("|"):
            in_trials = False
    return numbers


def test_every_listed_reference_is_cited_in_the_summary(every_subtype) -> None:
    """No reference is listed without being cited in the text, a caption or a table."""
    from comparators.reports.summary import to_markdown

    _, summary = every_subtype
    markdown = to_markdown(summary)
    body = markdown.split("\n## References\n")[0]
    listed = {r.number for r in summary.references}
    assert listed == set(range(1, len(listed) + 1))
    assert cited_numbers(body) == listed
    assert list(summary.references_table["ref"]) == [r.key for r in summary.references]


def test_numbers_cite_what_they_were_read_from(every_subtype) -> None:
    """A 'seed paper only' count cites the seed paper, never the trial's own paper; a number
    read from a review or news item cites that document."""
    cat, summary = every_subtype
    keys = {r.number: r.key for r in summary.references}
    rows = cat.trials.set_index(["study", "arm", "subtype"])
    seen_seed = 0
    for section in summary.sections:
        for r in section.trials[~section.trials["is_cohort"]].itertuples():
            row = rows.loc[(r.study, r.arm, r.subtype)]
            assert keys[int(r.ref_number)] == row["source_ref"]
            if row["source_type"] == "seed paper":
                seen_seed += 1
                assert keys[int(r.ref_number)] == "LIU2023" and pd.isna(r.study_ref_number)
    assert seen_seed  # the catalog has seed-only rows in summarised subtypes


def test_no_placeholder_text_in_any_export(every_subtype) -> None:
    import docx

    from comparators.reports.summary import to_docx, to_html, to_markdown

    _, summary = every_subtype
    document = docx.Document(io.BytesIO(to_docx(summary)))
    word = "\n".join(p.text for p in document.paragraphs)
    for name, text in (("md", to_markdown(summary)), ("html", to_html(summary)),
                       ("docx", word), ("bib", to_bibtex(summary.references_table)),
                       ("ris", to_ris(summary.references_table))):
        for bad in ("not recorded", "[title", "[journal", "not shown in the part read"):
            assert bad not in text, (name, bad)
