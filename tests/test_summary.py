"""The evidence summary: every number is the benchmark engine's for the same inputs, the seed's
ASPS result is the paper's 5/7, and the exports are safe (escaped HTML, inert CSV formulas)."""

import csv
import io
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import docx
import pandas as pd
import pytest

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.audit import audit_published
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import ThisCohort, load_seed_cohort, published_cohort
from comparators.evidence.labels import arm_labels
from comparators.reports.export import safe_csv
from comparators.reports.summary import (
    build_summary,
    md_escape,
    summary_chart,
    to_docx,
    to_html,
    to_markdown,
)
from comparators.stats.proportions import proportion_ci

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "comparators", *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


@pytest.fixture(scope="module")
def engine(cat):
    """What the benchmark engine gives for ASPS with the published cohort, default model."""
    return benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def summarise(cat, cohort, subtypes=("ASPS",), **kwargs):
    names = dict(zip(cat.subtypes["code"], cat.subtypes["name"], strict=True))
    return build_summary(cat.trials, cat.references, audit_published(), cohort, list(subtypes),
                         subtype_names=names, claims=load_seed_cohort().claims, **kwargs)


def hypothetical(cat, label: str, arm: str | None = None) -> ThisCohort:
    """The seed's rows with ASPS edited to 6/7, as a what-if scenario would make them."""
    rows = published_cohort(cat.trials).rows.copy()
    asps = rows["subtype"] == "ASPS"
    rows.loc[asps, "responders"] = 6
    if arm is not None:
        rows["arm"] = arm
    rows["study"] = "LIU2023 (hypothetical)"
    return ThisCohort("LIU2023 (hypothetical)", label, rows, kind="hypothetical",
                      caveat="Hypothetical: edited from the published counts; not observed data.",
                      replaces="LIU2023")


# ------------------------------------------------------------------------------- Word via CLI


@pytest.fixture(scope="module")
def asps_docx(tmp_path_factory):
    out = tmp_path_factory.mktemp("summary") / "out.docx"
    result = run_cli("summary", "--subtype", "ASPS", "--format", "docx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    return docx.Document(str(out))


def all_text(document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def trials_table(document):
    """The trials table (its header starts with 'Study'), as lists of cell texts."""
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "Study")
    return [[c.text for c in r.cells] for r in table.rows]


def pools_table(document, subtype_index: int = 0):
    """A section's class-pool table (header starts with 'Class'), keyed by its first cell."""
    tables = [t for t in document.tables if t.rows[0].cells[0].text == "Class"]
    rows = [[c.text for c in r.cells] for r in tables[subtype_index].rows]
    return {r[0]: r for r in rows[1:]}


def test_docx_has_the_headings_table_figure_and_references(asps_docx) -> None:
    headings = [p.text for p in asps_docx.paragraphs if p.style.name.startswith(("Heading",
                                                                                   "Title"))]
    assert headings[0].startswith("Evidence summary")
    for expected in ("ASPS – alveolar soft part sarcoma", "Pooled ORR by regimen class (ASPS)",
                     "Trials used (ASPS)", "Data caveats (ASPS)", "Methods", "References"):
        assert expected in headings
    assert len(asps_docx.inline_shapes) == 2  # the forest plot and the PRISMA flow, as PNGs
    rows = trials_table(asps_docx)

    def row(name: str) -> list[str]:
        return next(r for r in rows if r[0].startswith(name))

    # Liu et al. 2023, Results: "Of the seven ASPS patients ... 5 (71.4%) achieved PR".
    assert row("Liu 2023 (this cohort)")[3] == "5/7"
    assert row("Liu 2023 (this cohort)")[4].startswith("71.4 ")
    assert row("Wilky 2019")[3] == "6/11"  # Wilky 2019: 6 of 11 evaluable ASPS
    assert row("Chen 2023")[3] == "19/52"  # Chen 2023 NEJM final analysis
    assert not any(r[0].startswith(("WILKY2019", "ATEZO-ASPS")) for r in rows)  # no bare ids
    text = all_text(asps_docx)
    assert "doi:10.1016/S1470-2045" in text
    assert "restricted maximum-likelihood" in text  # the methods paragraph


def test_docx_numbers_are_the_benchmark_engines(asps_docx, engine) -> None:
    text = all_text(asps_docx)
    ai_ici, ici = engine.class_pools["AI+ICI"], engine.class_pools["ICI"]
    lead = next(p.text for p in asps_docx.paragraphs if p.text.startswith("In ASPS, the ORR"))
    assert (f"{pct(ai_ici.estimate)} (95% CI {100 * ai_ici.low:.1f}–{100 * ai_ici.high:.1f}%; "
            f"{ai_ici.k} arms, {ai_ici.n} patients) for AI+ICI") in lead
    assert (f"{pct(ici.estimate)} (95% CI {100 * ici.low:.1f}–{100 * ici.high:.1f}%; "
            f"{ici.k} arms, {ici.n} patients) for ICI alone") in lead
    c = next(h for h in engine.headline if h.b == "ICI")
    assert f"a difference of {100 * c.difference:+.1f} percentage points" in lead
    wilson = proportion_ci(5, 7, "wilson", 0.95)
    assert f"5 of 7 (71.4%, 95% CI {100 * wilson.low:.1f}–{100 * wilson.high:.1f}%, Wilson)" \
        in lead
    pools = pools_table(asps_docx)
    fit = engine.fit
    assert pools["All included arms (incl. this cohort)"][4] == \
        f"{100 * fit.estimate:.1f} ({100 * fit.low:.1f}–{100 * fit.high:.1f})"
    for cls, name in (("ICI+ICI", "ICI+ICI"), ("AI", "AI alone")):
        pool = engine.class_pools[cls]
        assert pools[name][1:5] == [str(pool.k), str(pool.n), str(pool.events),
                                    f"{100 * pool.estimate:.1f} ({100 * pool.low:.1f}–"
                                    f"{100 * pool.high:.1f})"]
    assert f"Q = {engine.q_between:.2f} (df = {engine.q_between_df}" in text


# ------------------------------------------------------------------------------- CLI contract


def test_markdown_to_stdout_and_several_subtypes(engine) -> None:
    out = run_cli("summary", "--subtype", "asps", "--subtype", "UPS")
    assert out.returncode == 0, out.stderr
    assert "## ASPS – alveolar soft part sarcoma" in out.stdout
    assert "## UPS – undifferentiated pleomorphic sarcoma" in out.stdout
    fit = engine.fit  # the all-arms pool, in the class-pool table
    assert f"| {100 * fit.estimate:.1f} ({100 * fit.low:.1f}–{100 * fit.high:.1f}) |" \
        in out.stdout
    assert "| Liu 2023 (this cohort) | AI + ICI (real-world) | AI\\+ICI" not in out.stdout
    assert "| Liu 2023 (this cohort) | AI + ICI (real-world) | AI+ICI | 5/7 | 71.4 (" \
        in out.stdout  # decimals are not escaped in Markdown ("71\\.4")


def test_html_to_stdout_is_standalone() -> None:
    out = run_cli("summary", "--subtype", "ASPS", "--format", "html")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("<!DOCTYPE html>") and "<svg" in out.stdout
    tags = TagCollector.of(out.stdout)
    assert not tags.resources, tags.resources  # nothing loaded from elsewhere


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summary", "--subtype", "NOPE"], "known: AS, ASPS"),
        (["summary", "--subtype", "ASPS", "--format", "docx"], "give -o FILE"),
        (["summary", "--subtype", "ASPS", "--format", "pdf"], "invalid choice"),
        (["summary"], "required"),
    ],
)
def test_bad_summary_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = run_cli(*args)
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_json_payload_has_the_engine_numbers_as_fractions(engine) -> None:
    import json

    out = run_cli("summary", "--subtype", "ASPS", "--json")
    payload = json.loads(out.stdout)
    section = payload["sections"][0]
    assert section["pooled"]["estimate"] == pytest.approx(engine.fit.estimate)
    assert section["classes"]["AI+ICI"]["low"] == pytest.approx(engine.class_pools["AI+ICI"].low)
    assert payload["references"][0]["number"] == 1


# ------------------------------------------------------------------- against the benchmark page


# ------------------------------------------------------------------- labels and safe exports


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.resources: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name == "src" or (tag == "link" and name == "href"):
                self.resources.append((tag, value))
            assert not name.startswith("on"), (tag, name)

    @classmethod
    def of(cls, text: str) -> "TagCollector":
        parser = cls()
        parser.feed(text)
        return parser


def test_html_escapes_a_malicious_hypothetical_label(cat) -> None:
    label = "<script>alert(1)</script>"
    summary = summarise(cat, hypothetical(cat, label))
    svg = {"ASPS": __import__("comparators.reports.export", fromlist=["chart_svg"]).chart_svg(
        summary_chart(summary.sections[0]))}
    page = to_html(summary, svg)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "script" not in TagCollector.of(page).tags
    assert "HYPOTHETICAL scenario, not observed data" in page
    assert "<svg" in page  # the figure is inline
    # the scenario's numbers, labelled in the paragraph itself
    assert "[HYPOTHETICAL scenario, not observed data], 6 of 7 (85.7%" in page
    md = to_markdown(summary)
    assert "\\<script>" in md and "<script>" not in md.replace("\\<script>", "")
    assert md_escape("[x](javascript:alert(1))") == "\\[x\\](javascript\\:alert(1))"


def test_docx_and_markdown_label_a_synthetic_cohort(cat) -> None:
    cohort = hypothetical(cat, "Example cohort")
    cohort = ThisCohort(cohort.study, cohort.label, cohort.rows, kind="synthetic",
                        caveat="Generated example data.", replaces="")
    summary = summarise(cat, cohort)
    document = docx.Document(io.BytesIO(to_docx(summary)))
    text = all_text(document)
    assert "SYNTHETIC EXAMPLE DATA" in text and "[SYNTHETIC example data]" in text
    assert "SYNTHETIC example data" in to_markdown(summary)
    # the cohort row is labelled in the table too, not called a primary source
    row = next(r for r in trials_table(document) if "(this cohort)" in r[0])
    assert row[5] == "SYNTHETIC example data"


def test_exported_csv_neutralises_formulas(cat) -> None:
    formula = '=HYPERLINK("http://example.com","x")'
    summary = summarise(cat, hypothetical(cat, "@SUM(A1)", arm=formula))
    data = summary.to_frame()
    assert formula in set(data["arm"])
    text = safe_csv(data).decode("utf-8")
    # RFC 4180 CRLF line ends; the frame's own data_label column labels every row
    # (comparators.reports.export.safe_csv).
    assert text.startswith("settings,data_label,")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {r["data_label"] for r in rows} == {"HYPOTHETICAL scenario, not observed data"}
    arms = {r["arm"] for r in rows}
    assert "'" + formula in arms and formula not in arms
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values() if v)


def test_references_numbered_in_order_of_first_citation(cat) -> None:
    summary = summarise(cat, published_cohort(cat.trials), ("ASPS", "LMS"))
    assert [r.number for r in summary.references] == list(range(1, len(summary.references) + 1))
    text = " ".join(s.narrative + " " for s in summary.sections)
    import re

    first_seen: list[int] = []
    for group in re.findall(r"\[([\d,– ]+)\]", text):
        for part in group.split(","):
            a, _, b = part.strip().partition("–")
            for n in range(int(a), int(b or a) + 1):
                if n not in first_seen:
                    first_seen.append(n)
    assert first_seen == sorted(first_seen)
    # every arm's numbers cite what they were read from (a seed-only count the seed paper),
    # and the study's own report beside it only when that report stands behind them
    keys = {r.number: r.key for r in summary.references}
    rows = cat.trials.set_index(["study", "arm", "subtype"])
    for s in summary.sections:
        for r in s.trials.itertuples():
            source = rows.loc[(r.study, r.arm, r.subtype)]
            assert keys[int(r.ref_number)] == source["source_ref"]
            if pd.isna(r.study_ref_number):
                assert source["ref"] == source["source_ref"] or \
                    source["source_type"] == "seed paper"
            else:
                assert keys[int(r.study_ref_number)] == source["ref"]
                assert source["source_type"] != "seed paper"
    assert list(summary.references_table["ref"]) == [r.key for r in summary.references]


def test_audit_findings_are_read_through_the_audits_own_frame(cat, monkeypatch) -> None:
    # One reader of findings (evidence.audit.findings_frame, which keeps counts whole): the
    # summary takes Finding objects through it, and a frame of them gives the same caveats.
    import comparators.reports.summary as summary_module
    from comparators.evidence.audit import findings_frame

    read: list[int] = []

    def spy(findings):  # type: ignore[no-untyped-def]
        read.append(len(findings))
        return findings_frame(findings)

    monkeypatch.setattr(summary_module, "findings_frame", spy)
    findings = audit_published()
    from_objects = summarise(cat, published_cohort(cat.trials), ("ASPS", "LMS"))
    assert read == [len(findings)]
    frame = findings_frame(findings)
    assert frame["numerator"].dtype == "Int64"
    names = dict(zip(cat.subtypes["code"], cat.subtypes["name"], strict=True))
    from_frame = build_summary(cat.trials, cat.references, frame, published_cohort(cat.trials),
                               ["ASPS", "LMS"], subtype_names=names,
                               claims=load_seed_cohort().claims)
    assert read == [len(findings)]  # a frame is used as it is
    assert [s.caveats for s in from_frame.sections] == [
        s.caveats for s in from_objects.sections]


def test_caveats_name_the_audit_findings_and_weak_sources(cat) -> None:
    summary = summarise(cat, published_cohort(cat.trials), ("ASPS", "LMS"))
    asps, lms = summary.sections
    joined = "\n".join(asps.caveats)
    assert "16 of 43" in joined  # the seed's interim atezolizumab count vs the final 19/52
    # Every ASPS row that is not a primary source is named, by its reader-facing label, in
    # the one caveat of its verification level.
    labels = arm_labels(cat.trials, cat.references)
    rows = asps.benchmark.rows
    weak = rows[~rows["is_cohort"] & rows["verified"].isin(["seed paper only",
                                                             "secondary source"])]
    assert not weak.empty
    for _, r in weak.iterrows():
        (line,) = [c for c in asps.caveats if c.lower().startswith(r["verified"])]
        assert f"{labels[r['key']]} ({r['responders']}/{r['evaluable']})" in line
    derived = rows[~rows["is_cohort"] & (rows["derived"] == "yes")]
    assert not derived.empty
    (line,) = [c for c in asps.caveats if c.startswith("Derived counts")]
    for _, r in derived.iterrows():
        assert f"{labels[r['key']]} ({r['responders']}/{r['evaluable']})" in line
    primary = rows[~rows["is_cohort"] & (rows["verified"] == "primary source")
                   & (rows["derived"] != "yes")]
    for _, r in primary.iterrows():
        assert f"{labels[r['key']]} (" not in joined
    assert any("LMS 16%" in c for c in lms.caveats)  # the seed's 16% is not the LMS 2/14
    assert not any("LMS 16%" in c for c in asps.caveats)


def test_prefitted_benchmarks_are_used_as_given(cat, engine) -> None:
    glmm = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"),
                             AnalysisOptions(method="GLMM"))
    summary = summarise(cat, published_cohort(cat.trials), benchmarks={"ASPS": glmm})
    assert summary.sections[0].benchmark is glmm
    ai_ici = glmm.class_pools["AI+ICI"]
    assert summary.sections[0].lead.startswith(f"In ASPS, the ORR was {pct(ai_ici.estimate)}")
    assert "GLMM" in summary.model
    only = summarise(cat, published_cohort(cat.trials), classes=["ICI"])
    ici = engine.class_pools["ICI"]
    assert only.sections[0].lead.startswith(f"In ASPS, the ORR was {pct(ici.estimate)} "
                                            f"(95% CI {100 * ici.low:.1f}")
    assert "for ICI alone" in only.sections[0].lead and "AI+ICI" not in only.sections[0].lead
    assert [r[0] for r in only.sections[0].pools][1:] == ["ICI alone", "All included arms "
                                                          "(incl. this cohort)"]
    assert len(only.sections[0].trials) == len(engine.rows)  # the table keeps every arm


def test_frame_round_trips_through_parquet(cat) -> None:
    data = summarise(cat, published_cohort(cat.trials), ("ASPS", "UPS")).to_frame()
    buffer = io.BytesIO()
    data.to_parquet(buffer, index=False)
    back = pd.read_parquet(io.BytesIO(buffer.getvalue()))
    assert len(back) == len(data) and set(back["subtype"]) == {"ASPS", "UPS"}


def test_markdown_file_reads_naturally_but_nothing_in_it_links_or_formats() -> None:
    out = run_cli("summary", "--subtype", "ASPS")
    assert out.returncode == 0, out.stderr
    assert "doi:10." in out.stdout and "doi\\:" not in out.stdout  # CommonMark has no ":x["
    assert re.search(r"\[\d+(–\d+)?\]", out.stdout)  # citation brackets stay as typed
    # User text in a document: links, images, autolinks and HTML are still defused.
    assert md_escape("[x](javascript:alert(1))", document=True) == "[x\\](javascript:alert(1))"
    assert md_escape("![t](http://x/p.png)", document=True) == "\\![t\\](http\\://x/p.png)"
    assert md_escape("<img src=x>", document=True) == "\\<img src=x>"
    assert md_escape("www.evil.example", document=True) == "www\\.evil.example"


def test_the_figure_caption_names_the_pooled_endpoint(cat) -> None:  # noqa: ANN001
    """A grade >= 3 TRAE summary's figure is not captioned as an objective response rate."""
    from comparators.vocab import ENDPOINTS

    section = summarise(cat, published_cohort(cat.trials),
                        options=AnalysisOptions(endpoint="grade3")).sections[0]
    name = ENDPOINTS["grade3"].name
    assert section.caption.startswith(f"Figure 1. {name[:1].upper()}{name[1:]} in ASPS")
    assert "Objective response rate" not in section.caption


def test_a_study_named_with_a_middle_dot_keeps_its_whole_name(cat) -> None:  # noqa: ANN001
    """The figure's source line and the trials table name a study by its study label, whole,
    even when the name holds the ' · ' that joins study and arm in an arm's label."""
    from comparators.evidence.added_rows import read_added_rows, with_added_rows

    header = ("study,arm,regimen,regimen_class,ici_target,subtype,evaluable,responders,"
              "source_ref,source_type,data_cut")
    arm = ("Smith · Jones,axitinib + pembrolizumab,axitinib + pembrolizumab,AI+ICI,PD-1,ASPS,"
           "10,6,Smith J. ASCO 2025 abstract 11500,conference abstract,2025-01")
    added = with_added_rows(cat, read_added_rows(f"{header}\n{arm}\n".encode(), cat,
                                                 filename="mine.csv"))
    summary = summarise(added, published_cohort(added.trials))
    sources = summary.sections[0].caption.split("Sources: ", 1)[1]
    assert any(s.startswith("Smith · Jones") for s in sources.split(", "))
    rows = [line for line in to_markdown(summary).splitlines() if "axitinib + pembrolizumab |"
            in line and "Smith" in line]
    assert rows and all(line.startswith("| Smith · Jones") for line in rows), rows


@pytest.mark.parametrize("endpoint", ["orr", "median_pfs"])
def test_methods_name_the_risk_of_bias_tool_the_grade_start_and_the_prisma_figure(
        cat, endpoint: str) -> None:  # noqa: ANN001
    # The document shows MINORS tables (data/README.md: MINORS for non-comparative studies),
    # GRADE tables for rates (non-randomised evidence starts at low: Balshem et al., J Clin
    # Epidemiol 2011;64:401) and the PRISMA 2020 flow: the methods say what each one is.
    summary = summarise(cat, published_cohort(cat.trials), ("ASPS", "LMS"),
                        options=AnalysisOptions(endpoint=endpoint))
    blocks = summary.blocks()
    methods = blocks[[b.text for b in blocks].index("Methods") + 1].text
    assert methods == summary.methods
    assert "judged with MINORS (methodological index for non-randomized studies)" in methods
    assert all(not table.empty for table, _ in summary.risk_of_bias.values())
    flow_caption = next(b.text for b in blocks if b.kind == "figure"
                        and "PRISMA 2020" in b.text)
    figure = re.match(r"Figure (\d+)\. ", flow_caption)
    assert figure and figure.group(1) == "3"  # after the two subtypes' forest plots
    assert f"PRISMA 2020 flow diagram (Figure {figure.group(1)})" in methods
    rated = "rated with GRADE, starting at low for non-randomised, single-arm evidence"
    if endpoint == "orr":
        assert rated in methods and summary.findings
    else:  # no GRADE table for medians, and the methods say why instead
        assert rated not in methods and "(GRADE) is not rated for median PFS" in methods
        assert not summary.findings


def test_registered_trials_without_results_are_named_by_their_report(cat) -> None:  # noqa: ANN001
    # data/search_records.csv: a registration without results whose id is not its name
    # (IMMUNOSARC2-CRUK, registered for AI+ICI in ASPS) is named in the Word/HTML summary's
    # GRADE footnotes by its `report`; the certainty JSON keeps the id for machines.
    import json

    from curated_tables import read_rows

    from comparators.evidence.catalog import default_data_dir

    (rec,) = [r for r in read_rows(default_data_dir() / "search_records.csv")
              if r["record"] == "IMMUNOSARC2-CRUK"]
    assert rec["reason"] == "no results reported" and "ASPS" in rec["registered_subtypes"]
    assert rec["record"] not in rec["report"]
    summary = summarise(cat, published_cohort(cat.trials))
    footnotes = [line for line in summary.findings["ASPS"].lettered
                 if line.split(". ", 1)[1].startswith("Publication bias")]
    assert any(rec["report"] in line for line in footnotes)
    page = to_html(summary)
    assert rec["report"] in page and rec["record"] not in page
    assert rec["record"] not in to_markdown(summary)
    payload = json.loads(run_cli("certainty", "--subtype", "ASPS", "--json").stdout)
    (ai_ici,) = [o for o in payload["outcomes"] if o["class"] == "AI+ICI"]
    bias = next(d for d in ai_ici["domains"] if d["domain"] == "publication bias")
    assert rec["record"] in bias["records"] and rec["report"] in bias["reason"]
