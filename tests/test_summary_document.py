"""The evidence summary read as a reviewer reads it: the Word file for ASPS, UPS and LMS, written
by the CLI and read back with python-docx.

Each subtype opens with the two sentences a reviewer looks for (AI+ICI pooled against ICI
pooled; this cohort against pooled AI+ICI), then a compact table of the class pools, then the
details; the marks' legend and the methods paragraph appear once in the document; a data caveat
is not repeated; no internal wording ("no UPS row"), no "K = 2 or 3", no capital mid-sentence,
no "None". Markdown, HTML and Word are drawn from one block list, so their headings agree.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import docx
import pytest

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.audit import audit_published
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import load_seed_cohort, published_cohort
from comparators.reports.summary import build_summary, to_docx, to_html, to_markdown
from comparators.vocab import MARKS

ROOT = Path(__file__).resolve().parent.parent
SUBTYPES = ("ASPS", "UPS", "LMS")


@pytest.fixture(scope="module")
def document(tmp_path_factory):
    out = tmp_path_factory.mktemp("reviewer") / "summary.docx"
    args = [a for s in SUBTYPES for a in ("--subtype", s)]
    done = subprocess.run([sys.executable, "-m", "comparators", "summary", *args, "--format",
                           "docx", "-o", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return docx.Document(str(out))


def body(doc) -> list[tuple[str, object]]:
    """The document in reading order: ('p', paragraph) and ('t', table)."""
    out = []
    for child in doc.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            out.append(("p", docx.text.paragraph.Paragraph(child, doc)))
        elif tag == "tbl":
            out.append(("t", docx.table.Table(child, doc)))
    return out


def text_of(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def engine():
    cat = load_catalog()
    cohort = published_cohort(cat.trials)
    return {s: benchmark_subtype(subtype_rows(cat.trials, cohort, s)) for s in SUBTYPES}


def test_each_subtype_leads_with_the_two_answers_then_the_class_table(document, engine) -> None:
    items = body(document)
    for subtype in SUBTYPES:
        start = next(i for i, (kind, x) in enumerate(items)
                     if kind == "p" and x.style.name == "Heading 1"
                     and x.text.startswith(f"{subtype} –"))
        (kind, lead), (_, heading), (kind2, table) = items[start + 1], items[start + 2], \
            items[start + 3]
        assert kind == "p" and kind2 == "t"
        text = lead.text
        assert text.startswith(f"In {subtype}, the ORR was ")
        assert "for AI+ICI" in text and "for ICI alone" in text and "a difference of" in text
        if subtype == "UPS":  # Liu 2023 Table 1 lists 3 UPS patients without their responses
            assert "lists 3 UPS patients in its Table 1 but does not itemise" in text
        else:
            assert "In this cohort (Liu 2023)" in text and "from pooled AI+ICI" in text
        # two sentences, well under the old ~200-word paragraph
        assert len(text.split()) <= 110, len(text.split())
        assert len(re.findall(r"\.(?:\s+[A-Z]|$)", text)) == 2, text
        # the compact table of the class pools, with the engine's numbers
        assert heading.text == f"Pooled ORR by regimen class ({subtype})"
        rows = {r.cells[0].text: [c.text for c in r.cells] for r in table.rows}
        assert list(rows)[0] == "Class"
        bm = engine[subtype]
        for cls, pool in bm.class_pools.items():
            name = {"ICI": "ICI alone", "AI": "AI alone"}.get(cls, cls)
            assert rows[name][1] == str(pool.k) and rows[name][2] == str(pool.n)
            assert rows[name][4].startswith(f"{100 * pool.estimate:.1f} ({100 * pool.low:.1f}–")
        assert any(r.startswith("All included arms") for r in rows)


def test_legend_methods_and_caveats_appear_once(document) -> None:
    text = text_of(document)
    for symbol, mark in MARKS.items():
        assert text.count(mark.legend) <= 1, symbol
    assert sum(text.count(m.legend) for m in MARKS.values()) >= 3  # the legend is there
    assert text.count("were pooled per regimen class") == 1
    assert text.count("Arm-level intervals are") == 1
    methods = [p.text for p in document.paragraphs if p.text.startswith(("ASPS: ", "UPS: ",
                                                                          "LMS: "))]
    assert methods and all("continuity correction" in m for m in methods)
    bullets = [p.text for p in document.paragraphs if p.style.name == "List Bullet"]
    # each seed claim once: atezolizumab 16/43, A091401's LMS 16%, pazopanib's 11%
    for figure in ("16 of 43", "LMS 16%", "Pazopanib ORR 11%"):
        assert sum(figure in b for b in bullets) == 1, figure
    assert len(bullets) == len(set(bullets))


def test_no_internal_wording_or_empty_values(document) -> None:
    text = text_of(document)
    for bad in ("Differences: This", "K = 2 or 3", "no UPS row"):
        assert bad not in text, bad
    assert not re.search(r"\b(None|nan|NaN)\b", text)
    assert not re.search(r"[;,] [A-Z][a-z]+ cohort vs", text)  # no capital mid-sentence
    # one forest plot each, and the PRISMA flow diagram
    assert len(document.inline_shapes) == len(SUBTYPES) + 1


def test_markdown_html_and_word_share_one_structure() -> None:
    cat = load_catalog()
    summary = build_summary(cat.trials, cat.references, audit_published(),
                            published_cohort(cat.trials), list(SUBTYPES),
                            claims=load_seed_cohort().claims,
                            subtype_names=dict(zip(cat.subtypes["code"], cat.subtypes["name"],
                                                   strict=True)))
    headings = [b.text for b in summary.blocks() if b.kind == "heading"]
    md = [re.sub(r"^#+ ", "", line).replace("\\", "")
          for line in to_markdown(summary).splitlines() if re.match(r"^#{2,3} ", line)]
    html = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<h[23][^>]*>.*?</h[23]>",
                                                            to_html(summary))]
    word = [p.text for p in docx.Document(io.BytesIO(to_docx(summary))).paragraphs
            if p.style.name in {"Heading 1", "Heading 2"}]
    assert md == html == word == headings
    tables = [b for b in summary.blocks() if b.kind == "table"]
    # per subtype: the class pools, the GRADE summary of findings, the risk of bias of the
    # studies pooled, the trials used
    assert len(tables) == 4 * len(SUBTYPES)


# --------------------------------------------------------------------------- the PRISMA figure


def _search_counts() -> dict[str, int]:
    """The PRISMA counts, from data/search_records.csv itself (not from the engine)."""
    from collections import Counter

    from curated_tables import read_rows

    from comparators.evidence.catalog import default_data_dir

    records = read_rows(default_data_dir() / "search_records.csv")
    kinds = {s["search"]: s["source_kind"]
             for s in read_rows(default_data_dir() / "search_log.csv")}
    stages = Counter(r["stage"] for r in records)
    included = [r for r in records if r["stage"] == "included"]
    # PRISMA 2020 screens only what databases and registers found
    searched = [r for r in records if kinds[r["search"]] in ("database", "register")]
    return {"identified": len(records), "duplicates": stages["duplicate"],
            "screened": sum(r["stage"] != "duplicate" for r in searched),
            "screening": stages["excluded at screening"],
            "not retrieved": stages["not retrieved"], "excluded": stages["excluded"],
            "reports": len(included),
            "studies": len({s for r in included for s in r["studies"].split(";")})}


def _search_sentences(counts: dict[str, int]) -> list[str]:
    c = counts
    return [f"{c['identified']} records identified", f"{c['duplicates']} duplicates removed",
            f"{c['screened']} records screened, {c['screening']} excluded",
            f"{c['identified'] - c['duplicates'] - c['screening']} reports sought",
            f"{c['not retrieved']} not retrieved",
            f"{c['identified'] - c['duplicates'] - c['screening'] - c['not retrieved']} "
            f"assessed, {c['excluded']} excluded",
            f"{c['studies']} studies included in {c['reports']} reports"]


def test_word_carries_the_prisma_figure_with_the_search_counts(document) -> None:
    """After the methods: the heading, the flow diagram (a picture) and its caption, whose
    counts are those of the search log."""
    items = body(document)
    at = next(i for i, (kind, x) in enumerate(items)
              if kind == "p" and x.text == "How the catalog was found")
    assert items[at][1].style.name == "Heading 2"
    picture, caption = items[at + 1][1], items[at + 2][1]
    assert picture._p.xpath(".//pic:pic")  # the figure itself
    figure = len(SUBTYPES) + 1
    assert caption.text.startswith(f"Figure {figure}. How the comparator catalog was found "
                                   "(PRISMA 2020 flow diagram)")
    for sentence in _search_sentences(_search_counts()):
        assert sentence in caption.text, sentence
    methods = next(i for i, (kind, x) in enumerate(items) if kind == "p" and x.text == "Methods")
    references = next(i for i, (kind, x) in enumerate(items)
                      if kind == "p" and x.text == "References")
    assert methods < at < references


def test_html_draws_the_prisma_figure_with_the_search_counts(tmp_path) -> None:
    import html as html_module

    out = tmp_path / "summary.html"
    done = subprocess.run([sys.executable, "-m", "comparators", "summary", "--subtype", "UPS",
                           "--format", "html", "-o", str(out)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    figures = re.findall(r"<figure>(.*?)</figure>", page, flags=re.S)
    assert len(figures) == 2  # the forest plot of UPS, then the flow diagram
    flow = figures[1]
    assert flow.startswith("<svg")
    caption = html_module.unescape(re.search(r"<figcaption>(.*?)</figcaption>", flow)[1])
    assert caption.startswith("Figure 2. How the comparator catalog was found")
    counts = _search_counts()
    for sentence in _search_sentences(counts):
        assert sentence in caption, sentence
    # the diagram's own boxes print the same numbers
    drawn = html_module.unescape(re.sub(r"<[^>]+>", " ", flow.split("<figcaption>")[0]))
    drawn = drawn.replace("\u00a0", " ")
    assert f"Studies included in review (n = {counts['studies']})" in drawn
    assert f"Reports of included studies (n = {counts['reports']})" in drawn
    assert page.index("How the catalog was found") > page.index(">Methods<")
