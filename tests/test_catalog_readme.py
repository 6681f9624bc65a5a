"""Counts in data/README.md that a reader could check against the shipped data are checked here,
from the raw CSVs, so none goes stale unnoticed; a count this file does not check has no place in
the README (it names the command or page that shows it instead)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pandas as pd

from comparators.evidence.risk_of_bias import overall_judgement

DATA = Path(__file__).resolve().parent.parent / "data"
README = (DATA / "README.md").read_text(encoding="utf-8")


def section(heading: str) -> str:
    """The text of the README's `## heading` section, up to the next `## `."""
    start = README.index(f"\n## {heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end != -1 else None]


def rows_per_study_table() -> list[str]:
    """The table as trials.csv gives it: a study's classes, row count, subtypes in row order
    (* for a number only the seed paper gives), source types and the studies it overlaps."""
    trials = pd.read_csv(DATA / "trials.csv", dtype=str, keep_default_na=False)
    lines = []
    for study, rows in trials.groupby("study", sort=False):
        subtypes = ", ".join(s + ("*" if kind == "seed paper" else "")
                             for s, kind in zip(rows["subtype"], rows["source_type"], strict=True))
        cells = [study, ", ".join(dict.fromkeys(rows["regimen_class"])), str(len(rows)),
                 subtypes, ", ".join(dict.fromkeys(rows["source_type"])),
                 ", ".join(dict.fromkeys(s for s in rows["overlaps_with"] if s))]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def test_rows_per_study_table_is_the_shipped_catalog() -> None:
    text = section("Rows per study")
    shown = [line.rstrip() for line in text.splitlines()
             if line.startswith("| ") and not line.startswith("| study ")]
    expected = rows_per_study_table()
    assert shown == expected, \
        "data/README.md, Rows per study, should read:\n" + "\n".join(expected)


def test_risk_of_bias_counts_are_the_shipped_judgements() -> None:
    match = re.search(
        r"In the shipped catalog: (\d+) studies, (\d+) item judgements \((\d+) low, (\d+) high, "
        r"(\d+) unclear\); overall (\d+)\s+low, (\d+) some concerns, (\d+) high, (\d+) unclear",
        section("Risk of bias (`risk_of_bias.csv`)"))
    assert match, "the risk-of-bias counts sentence is missing from data/README.md"
    rob = pd.read_csv(DATA / "risk_of_bias.csv", dtype=str, keep_default_na=False)
    items = Counter(rob["judgement"].str.strip().str.lower())
    overall = Counter(overall_judgement(list(g["judgement"].str.strip().str.lower()))
                      for _, g in rob.groupby(rob["study"].str.upper()))
    expected = [rob["study"].str.upper().nunique(), len(rob), items["low"], items["high"],
                items["unclear"], overall["low"], overall["some concerns"], overall["high"],
                overall["unclear"]]
    assert [int(n) for n in match.groups()] == expected


#: A count of catalog rows, references, values, studies, reports, records or judgements.
COUNT = re.compile(r"\b\d+\s+(?:of\s+\d+\s+)?(?:[a-z-]+\s+)?"
                   r"(?:rows|references|values|studies|reports|records|judgements)\b")


def test_no_count_is_pinned_to_a_catalog_version() -> None:
    # "49 of 71 references in 3.0.0": true once, read as today's, and never checked again.
    pinned = []
    for version in re.finditer(r"\d+\.\d+\.\d+", README):
        before = re.split(r"\.\s|\n\n", README[max(0, version.start() - 300):version.start()])
        after = re.split(r"\.\s|\n\n", README[version.end():version.end() + 300])
        sentence = before[-1] + version.group() + after[0]
        if COUNT.search(sentence):
            pinned.append(" ".join(sentence.split()))
    assert not pinned, pinned
