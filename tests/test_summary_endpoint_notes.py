"""The evidence summary's exports (Markdown, HTML, Word, JSON) carry what the page says beside
each lead for the chosen endpoint: the safety note for the grade >= 3 TRAE rate, and for a
progression-free rate the EORTC reference values (data/reference_values.csv; Van Glabbeke et
al., Eur J Cancer 2002;38:543; Kantidakis et al., Eur J Cancer 2021;154:253 for
leiomyosarcoma), with their sources in the numbered references.

The expected rates are read here from data/reference_values.csv with pandas, not from the
engine. No figure is rendered (no native renderer runs in this process).
"""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import docx
import pandas as pd
import pytest

from comparators.analysis.endpoints import SAFETY_NOTE
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.audit import audit_published
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import load_seed_cohort, published_cohort
from comparators.evidence.reference_values import load_reference_values
from comparators.reports.summary import (
    build_summary,
    reference_lines,
    to_docx,
    to_html,
    to_markdown,
)

DATA = Path(__file__).resolve().parents[1] / "data"
VALUES = pd.read_csv(DATA / "reference_values.csv")
REFERENCES = pd.read_csv(DATA / "references.csv")


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def summarise(cat, subtype: str, endpoint: str, **kwargs):
    return build_summary(cat.trials, cat.references, audit_published(),
                         published_cohort(cat.trials), [subtype],
                         AnalysisOptions(endpoint=endpoint), claims=load_seed_cohort().claims,
                         subtype_names=cat.subtype_names, **kwargs)


def exported_texts(summary) -> dict[str, str]:
    """Each export as the plain text a reader sees (Markdown unescaped, HTML without tags)."""
    md = re.sub(r"\\(.)", r"\1", to_markdown(summary))
    page = html.unescape(re.sub(r"<[^>]+>", " ", to_html(summary)))
    word = docx.Document(io.BytesIO(to_docx(summary)))
    paragraphs = [p.text for p in word.paragraphs]
    return {"md": md, "html": " ".join(page.split()), "docx": "\n".join(paragraphs)}


def percent(rate: float) -> str:
    return f"{100 * rate:.0f}"


def lms_six_months() -> pd.DataFrame:
    """The 6-month values offered for LMS: all soft-tissue sarcoma and LMS's own."""
    return VALUES[(VALUES["months"] == 6) & VALUES["subtype"].isin(["STS", "LMS"])]


def test_every_export_carries_the_safety_note_for_grade3(cat) -> None:
    summary = summarise(cat, "ASPS", "grade3")
    (section,) = summary.sections
    assert section.endpoint_notes == (SAFETY_NOTE,)
    for kind, text in exported_texts(summary).items():
        assert SAFETY_NOTE in " ".join(text.split()), kind
        # beside the lead, before the class-pool table, as on the page
        assert text.index("Safety is reported per arm: each comparator arm") < \
            text.index("Pooled grade ≥ 3 TRAE by regimen class"), kind
    assert summary.to_dict()["sections"][0]["endpoint_notes"] == [SAFETY_NOTE]


def test_orr_exports_carry_no_endpoint_note(cat) -> None:
    summary = summarise(cat, "ASPS", "orr")
    assert summary.sections[0].endpoint_notes == ()
    text = exported_texts(summary)["md"]
    assert "EORTC reference values" not in text and SAFETY_NOTE not in text


def test_every_export_names_the_eortc_reference_values_for_pfs6(cat) -> None:
    summary = summarise(cat, "LMS", "pfs6")
    (note,) = summary.sections[0].endpoint_notes
    expected = lms_six_months()
    assert len(expected) >= 4  # Van Glabbeke's all-STS values and Kantidakis' LMS ones
    numbers = {r.key: r.number for r in summary.references}
    for source in set(expected["source"]):  # each source numbered in the references
        assert source in numbers
        assert f"{numbers[source]}" in note.rsplit("[", 1)[1]
    for kind, text in exported_texts(summary).items():
        flat = " ".join(text.split())
        assert "EORTC reference values for the 6-month progression-free rate:" in flat, kind
        sentence = flat[flat.index("EORTC reference values"):]
        sentence = sentence[:sentence.index("].") + 2]
        for r in expected.itertuples():
            upper = "" if pd.isna(r.rate_upper) else f"–{percent(r.rate_upper)}"
            assert f"{r.kind} {percent(r.rate)}{upper}% ({r.population};" in sentence, (kind, r)
        assert "Van Glabbeke 2002" in sentence and "Kantidakis 2021" in sentence
        assert "Van Glabbeke M, Verweij J" in flat  # the numbered reference itself


def test_the_reference_values_chosen_on_the_benchmark_page_are_the_ones_named(cat) -> None:
    offered = reference_lines(load_reference_values(), cat.references, "pfs6", "LMS")
    kantidakis = [line for line in offered if line.source == "KANTIDAKIS2021"]
    chosen = kantidakis[0]
    summary = summarise(cat, "LMS", "pfs6", chosen_references=[chosen.id])
    (note,) = summary.sections[0].endpoint_notes
    assert chosen.sentence in note and "Van Glabbeke 2002" not in note
    assert "VANGLABBEKE2002" not in {r.key for r in summary.references}
    # a chosen id that this subtype does not offer falls back to every value offered
    fallback = summarise(cat, "LMS", "pfs6", chosen_references=["no-such-value"])
    assert fallback.sections[0].endpoint_notes[0].count("Glabbeke 2002") >= 2
