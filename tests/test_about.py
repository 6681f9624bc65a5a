"""The About page: a how-to naming every page, what the catalog covers (counted here from the
catalog, never typed), a research-use disclaimer, and how to cite the app from the repository's
CITATION.cff, which is valid Citation File Format 1.2.0 (validated against the format's own
schema, tests/fixtures/cff/) and offered as a download."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import yaml
from apptest import open_page, page_text

from comparators.evidence.catalog import load_catalog
from comparators.evidence.seed import SEED_DOI
from comparators.vocab import APP_VERSION

ROOT = Path(__file__).resolve().parent.parent
CFF = ROOT / "CITATION.cff"


def test_citation_file_is_valid_cff_and_names_this_version() -> None:
    data = yaml.safe_load(CFF.read_text(encoding="utf-8"))
    schema = json.loads((ROOT / "tests/fixtures/cff/schema-1.2.0.json").read_text())
    jsonschema.validate(data, schema)  # raises on any violation
    assert data["cff-version"] == "1.2.0"
    assert data["version"] == APP_VERSION
    assert data["type"] == "software" and data["title"]
    (seed,) = [r for r in data["references"] if r.get("doi") == SEED_DOI]
    assert seed["year"] == 2023 and len(seed["authors"]) == 6  # Liu et al., six authors


def test_about_shows_how_to_coverage_disclaimer_and_citation() -> None:
    at = open_page()  # the landing page
    assert not at.exception
    text = page_text(at)
    # disclaimer
    assert "Research use only" in text and "must not be used to make treatment decisions" in text
    # how-to: every page of the menu answers a question in the table
    titles = re.findall(r'\btitle="([^"]+)"', (ROOT / "streamlit_app.py").read_text())
    (table,) = [t.value for t in at.table if "Question" in t.value.columns]
    assert set(table["Page"]) == set(titles) - {"About"}
    # coverage, counted from the catalog here
    t = load_catalog().trials
    comparators = t[t["study"] != "LIU2023"]
    arms = set(zip(comparators["study"], comparators["arm"], strict=True))
    assert f"{comparators['study'].nunique()} comparator studies" in text
    assert f"{len(arms)} study arms, {len(comparators)} arm-by-subtype rows" in text
    for cls in ("AI+ICI", "ICI", "ICI+ICI", "AI"):
        k = len({(s, a) for s, a, c in zip(comparators["study"], comparators["arm"],
                                           comparators["regimen_class"], strict=True)
                 if c == cls})
        assert f"{cls} {k} arm" in text
    single = comparators[~comparators["subtype"].isin(["STS", "SARCOMA"])]
    assert f"{single['subtype'].nunique()} subtypes" in text
    # citation: the file itself, shown and offered
    codes = [c.value for c in at.main.code]
    assert CFF.read_text(encoding="utf-8").strip() in [c.strip() for c in codes]
    assert "Download CITATION.cff" in [b.label for b in at.get("download_button")]


def test_about_counts_follow_the_catalog_not_typed_numbers() -> None:
    source = (ROOT / "views/home.py").read_text()
    # no count of studies, arms or subtypes is written into the page
    assert not re.search(r"\b\d+ (comparator studies|study arms|subtypes)\b", source)
