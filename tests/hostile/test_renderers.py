"""No text reaches a native renderer unclean, and a visitor's text cannot abort the server.

vl-convert panics on a character XML 1.0 forbids (e.g. U+0001, U+FFFE) and the panic aborts the
Python process: on a shared Streamlit server a single control character in a file name, the
cohort name box or an IPD cell took every visitor's session down when a chart was exported.
Everything that renders runs in a child process here (tests/hostile/isolation.py), so an abort
fails the test instead of killing pytest; each hostile case is also rendered *unguarded* in a
child, which must abort, so every case provably draws the hostile text.
"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from isolation import run_child
from render_cases import CASES, FORBIDDEN

from comparators.reports.export import (
    MAX_RENDER_CHARS,
    refuse_unrenderable,
    renderable_spec,
    renderable_text,
)

# ------------------------------------------------------------------------------ the cleaner


def test_every_forbidden_code_point_and_nothing_else_is_removed() -> None:
    """All 1,114,112 code points: removed exactly when the definitions say so."""
    forbidden = set(FORBIDDEN)
    assert len(forbidden) == 29 + 33 + 2048 + 66 + 9
    kept_wrongly, removed_wrongly = [], []
    for cp in range(0x110000):
        out = renderable_text(chr(cp))
        if cp in forbidden and out:
            kept_wrongly.append(cp)
        elif cp not in forbidden and out != chr(cp):
            removed_wrongly.append(cp)
    assert not kept_wrongly and not removed_wrongly, (kept_wrongly[:10], removed_wrongly[:10])


def test_long_text_is_clipped_in_the_middle_keeping_both_ends() -> None:
    ids = [f"patient-{'x' * 500}-{i:03d}" for i in range(3)]
    clipped = [renderable_text(t, MAX_RENDER_CHARS) for t in ids]
    assert all(len(c) == MAX_RENDER_CHARS for c in clipped)
    assert len(set(clipped)) == 3 and clipped[1].startswith("patient-")
    assert clipped[1].endswith("-001") and "\u2026" in clipped[1]
    assert renderable_text("short", MAX_RENDER_CHARS) == "short"


def test_every_string_in_a_spec_is_cleaned_keys_and_nested_lists_too() -> None:
    spec = {"title": {"text": "T\x01", "subtitle": ["S\x02", "ok"]},
            "datasets": {"d\x03": [{"id\x04": "v\ufffe", "n": 3, "x": None, "t": ("a\x05",)}]},
            "encoding": {"y": {"field": "id\x04"}}}
    out = renderable_spec(spec)
    assert out == {"title": {"text": "T", "subtitle": ["S", "ok"]},
                   "datasets": {"d": [{"id": "v", "n": 3, "x": None, "t": ["a"]}]},
                   "encoding": {"y": {"field": "id"}}}
    refuse_unrenderable(out)


@pytest.mark.parametrize("bad", [{"t": "a\x01"}, {"k\uffff": 1}, [["x" * 301]], {"o": object()},
                                 {"s": {1, 2}}])
def test_the_renderer_refuses_a_spec_the_cleaning_missed(bad: object) -> None:
    with pytest.raises(ValueError, match="chart"):
        refuse_unrenderable(bad)


def test_the_apps_own_charts_are_unchanged_by_the_cleaning() -> None:
    """Valid data renders exactly as before: every chart built from the catalog, the seed
    cohort and the synthetic example IPD passes the cleaning untouched."""
    from legit_charts import every_legit_chart

    charts = every_legit_chart()
    assert len(charts) >= 20
    for name, chart in charts.items():
        spec = chart if isinstance(chart, dict) else chart.to_dict()
        before = json.dumps(spec, sort_keys=True, default=str)
        assert json.dumps(renderable_spec(chart), sort_keys=True) == before, name


def test_lxml_refuses_control_characters_so_word_needs_the_cleaner_too() -> None:
    from docx import Document

    with pytest.raises(ValueError, match="XML compatible"):
        Document().add_paragraph("Zebra\x01")


# ------------------------------------------------------------------------------ in a child


@pytest.mark.parametrize("case", CASES)
def test_export_of_hostile_text_survives(case: str) -> None:
    child = run_child(["render_cases.py", case, "guarded"])
    assert child.returncode == 0, child.describe()
    result = child.json()
    assert result["left"] == [], result
    assert result["visible"], result  # the visible part of the hostile text is still drawn
    assert all(size > 1000 for size in result["outputs"].values()), result


@pytest.mark.parametrize("case", CASES)
def test_the_case_draws_text_that_aborts_an_unguarded_renderer(case: str) -> None:
    """Without the cleaning the same chart kills the process (so the case above can fail)."""
    child = run_child(["render_cases.py", case, "raw"])
    assert child.aborted and "panicked" in child.stderr, child.describe()


def test_a_visitor_cannot_abort_the_server_through_any_export() -> None:
    """The real path: upload (hostile file name and cells), "Name of this cohort" box, use it,
    KM grouped by regimen, then every PNG/SVG download on every page and the summary's Word,
    HTML and Markdown."""
    child = run_child(["render_app.py"], timeout=900)
    assert child.returncode == 0, child.describe()
    result = child.json()
    # Text is cleaned where it enters (comparators.inputs.clean_text) and again before every
    # renderer; the direct cases above test the renderer's own cleaning alone.
    assert result["label"].startswith("Ze") and result["label"].endswith("bra"), result["label"]
    assert not set(map(ord, result["label"])) & set(FORBIDDEN), result["label"]
    assert result["errors"] == [], result["errors"]
    exported = result["exported"]
    for key in ("benchmark.py:forest_png", "benchmark.py:forest_svg", "across.py:meta_png",
                "across.py:borrow_svg", "whatif.py:dl_casemix_chart_png", "planning.py:dl_oc_svg",
                "planning.py:dl_pfs_png", "survival.py:dl_km_png", "survival.py:dl_km_svg",
                "survival.py:dl_waterfall_png", "survival.py:dl_swimmer_png",
                "survival.py:dl_swimmer_svg", "summary.py:dl_summary_docx",
                "summary.py:dl_summary_html", "summary.py:dl_summary_md"):
        assert f"views/{key}" in exported, (key, sorted(exported))
    assert result["left"] == {}, result["left"]


def test_word_file_of_a_hostile_summary_opens(tmp_path) -> None:  # noqa: ANN001
    """The .docx the summary case writes is a valid package (python-docx reads it back)."""
    child = run_child(["-c", (
        "import sys, render_cases as r\n"
        "from comparators.reports.summary import to_docx\n"
        "s, _ = r.summary()\n"
        f"open({str(tmp_path / 'h.docx')!r}, 'wb').write(to_docx(s))\n"
        "print('{}')")])
    assert child.returncode == 0, child.describe()
    from docx import Document

    raw = (tmp_path / "h.docx").read_bytes()
    text = "\n".join(p.text for p in Document(io.BytesIO(raw)).paragraphs)
    assert "Zebra cohort" in text
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        assert not set(map(ord, z.read("word/document.xml").decode())) & set(FORBIDDEN)
