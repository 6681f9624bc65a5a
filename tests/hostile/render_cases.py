"""Every chart export and the summary documents, built with hostile text in every field a visitor
controls. Runs in a child process (tests/hostile/test_renderers.py): rendering unclean text
aborts the process, and an abort must fail a test, not kill pytest.

    python render_cases.py CASE guarded   # through comparators.reports.export: must survive
    python render_cases.py CASE raw       # straight into vl-convert: must abort (so the case
                                          # really draws the hostile text)

The hostile set is generated from its definitions, not copied from the cleaner: every C0
control but tab/LF/CR, DEL and C1, every surrogate, every Unicode non-character. A case prints
one JSON line ({"case", "outputs": {format: bytes}, "left": [...]}) on success.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402


def forbidden_code_points() -> list[int]:
    """Code points no rendered text may hold, from their definitions (XML 1.0 Char production,
    Unicode's control, surrogate and non-character sets, and the bidirectional embedding,
    override and isolate controls, which make text display in another order than stored)."""
    c0 = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]
    c1 = list(range(0x7F, 0xA0))
    surrogates = list(range(0xD800, 0xE000))
    nonchars = list(range(0xFDD0, 0xFDF0)) + [p * 0x10000 + last for p in range(17)
                                              for last in (0xFFFE, 0xFFFF)]
    bidi = list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))
    return c0 + c1 + surrogates + nonchars + bidi


FORBIDDEN = forbidden_code_points()
#: XML 1.0 forbids these: one of them drawn by vl-convert aborts the process.
XML_FORBIDDEN = [c for c in FORBIDDEN if c < 0x20 or c in (0xFFFE, 0xFFFF)]
ROWS = 12  # patients; the forbidden set is spread over their cells (a cell holds <= 1,000)


def chunk(i: int, parts: int = ROWS) -> str:
    """The i-th of `parts` slices of the forbidden set; together they hold every code point."""
    size = -(-len(FORBIDDEN) // parts)
    return "".join(map(chr, FORBIDDEN[i * size:(i + 1) * size]))


def hostile(word: str) -> str:
    """A visible word with a control character inside (so the drawn text is hostile) and every
    XML-forbidden code point after it."""
    return word[:2] + "\x01" + word[2:] + "".join(map(chr, XML_FORBIDDEN)) + "\ufffe\udc80"


FILE_NAME = hostile("Xenon") + ".csv"
COHORT_LABEL = hostile("Zebra cohort")


def hostile_ipd() -> pd.DataFrame:
    """A validated IPD frame whose ids, regimens, agents and notes then get the forbidden set
    (set after validation: what the renderers must survive does not depend on what the input
    parsers let through)."""
    from comparators.evidence.ipd import validate_ipd

    valid = pd.read_csv(ROOT / "tests" / "fixtures" / "ipd" / "valid.csv", dtype=str)
    df = pd.concat([valid] * (ROWS // len(valid)), ignore_index=True)
    df["id"] = [f"P{i}" for i in range(ROWS)]
    df = validate_ipd(df)
    df["id"] = [f"Id{i:02d}" + chunk(i) for i in range(ROWS)]
    df["regimen"] = [f"Reg{i % 3}\x01" + chunk((i + 1) % ROWS) for i in range(ROWS)]
    df["ai_agent"] = [f"Ai{i % 2}\x02" + chunk((i + 2) % ROWS) for i in range(ROWS)]
    df["ici_agent"] = [f"Ici{i % 2}\x03" + chunk((i + 3) % ROWS) for i in range(ROWS)]
    df["note"] = [chunk((i + 4) % ROWS) for i in range(ROWS)]
    return df


def hostile_cohort():  # noqa: ANN201 - ThisCohort, imported lazily
    from comparators.evidence.cohort import ThisCohort
    from comparators.evidence.ipd import aggregate_ipd

    ipd = hostile_ipd()
    return ThisCohort(study="MY-COHORT", label=COHORT_LABEL, rows=aggregate_ipd(ipd, "MY-COHORT"),
                      kind="uploaded",
                      caveat=f"Aggregated from {len(ipd)} patients in {FILE_NAME}")


def _catalog():  # noqa: ANN202
    from comparators.evidence.catalog import load_catalog

    return load_catalog()


# ------------------------------------------------------------------------------ the charts


def forest() -> dict:
    from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
    from comparators.charts.forest import forest_chart, forest_rows
    from comparators.evidence.labels import arm_labels, verification_marks
    from comparators.reports.summary import chart_texts

    cat, cohort = _catalog(), hostile_cohort()
    bm = benchmark_subtype(subtype_rows(cat.trials, cohort, "STS"))
    labels = arm_labels(cat.trials, cat.references) | {
        f"{cohort.study} · {a}": cohort.label for a in cohort.rows["arm"]}
    rows = forest_rows(bm, labels=labels, marks=verification_marks(bm.rows))
    title, subtitle, x_title = chart_texts(bm, "All soft-tissue sarcoma", cohort,
                                           f"Sources: {FILE_NAME}")
    return forest_chart(rows, 0.2, title, list(subtitle), x_title, "95% CI")


def class_by_subtype() -> dict:
    from comparators.analysis.benchmark import across_subtypes
    from comparators.charts.across import class_by_subtype_chart

    cohort = hostile_cohort()
    pools = across_subtypes(_catalog().trials, cohort).pools_frame()
    return class_by_subtype_chart(pools.reset_index(drop=True),
                                  [f"{cohort.label}: {cohort.caveat}"], "95% CI")


def shrinkage() -> dict:
    from comparators.analysis.borrowing import borrow_across_subtypes
    from comparators.charts.borrowing import shrinkage_chart

    cohort = hostile_cohort()
    frame = borrow_across_subtypes(_catalog().trials, cohort, "ICI").to_frame()
    return shrinkage_chart(frame, f"ICI: {cohort.label}", [f"{cohort.label}: {cohort.caveat}"])


def _source() -> str:
    return f"Source: {FILE_NAME}, uploaded by the user (this session only)"


def km() -> object:
    from comparators.charts.survival import default_risk_times, km_figure
    from comparators.stats.survival import km_by_group

    ipd = hostile_ipd()
    data = ipd[["pfs_months", "pfs_event"]].assign(group=ipd["regimen"])
    fit = km_by_group(data, "pfs_months", "pfs_event", "group")
    times = default_risk_times(max(max(g.timeline) for g in fit.groups))
    return km_figure(fit, "Progression-free survival: Regimen", times, "months",
                     source=_source(), synthetic=False)


def waterfall() -> object:
    from comparators.charts.survival import waterfall_chart

    return waterfall_chart(hostile_ipd(), source=_source(), synthetic=False)


def swimmer() -> object:
    from comparators.charts.survival import swimmer_chart

    return swimmer_chart(hostile_ipd(), source=_source(), synthetic=False)


def guyot() -> object:
    from comparators.charts.survival import reconstruction_chart
    from comparators.stats.reconstruct import reconstruct_ipd
    from comparators.stats.survival import km_by_group

    curve = pd.DataFrame({"time": [0.0, 2, 4, 6, 8, 10], "survival": [1, 0.8, 0.6, 0.5, 0.4, 0.3]})
    risk = pd.DataFrame({"time": [0.0, 5.0], "n_risk": [40, 20]})
    pseudo = reconstruct_ipd(curve, risk, None).ipd
    return reconstruction_chart(curve, km_by_group(pseudo, "time", "event"),
                                source=f"Source: {hostile('Digitised by Yves')}")


def whatif() -> list:
    from comparators.charts.whatif import (
        density_frame,
        posterior_chart,
        scenario_effect_chart,
        standardised_chart,
    )
    from comparators.evidence.casemix import casemix_presets, presets_frame
    from comparators.stats.bayes import BetaPosterior

    cohort = hostile_cohort()
    effect = pd.DataFrame([
        {"quantity": "This cohort", "scenario": cohort.label, "estimate": 0.3, "low": 0.1,
         "high": 0.5},
        {"quantity": f"Pooled, {cohort.label}", "scenario": "hypothetical", "estimate": 0.2,
         "low": 0.1, "high": 0.3}])
    presets = casemix_presets(cohort.rows, _catalog().trials)
    mixes = presets_frame((p, p.standardise(0.95, "wilson")) for p in presets)
    post = BetaPosterior.from_counts(3, 10, (1.0, 1.0))
    return [scenario_effect_chart(effect, f"STS; {cohort.label}"),
            standardised_chart(mixes, 0.3, f"{cohort.label}; hollow: target subtypes missing"),
            posterior_chart(density_frame(post), 0.3, f"{cohort.label}, 3/10")]


def plan() -> list:
    from comparators.charts.planning import (
        exponential_curves,
        oc_chart,
        precision_chart,
        survival_chart,
    )
    from comparators.stats.phase2_design import oc_curve, precision_table, simon_designs

    label = hostile("Zebra cohort (median 8.9 mo)")
    designs = simon_designs(0.1, 0.3, 0.05, 0.2, 50)
    oc = {f"Optimal {label}": oc_curve(designs.optimal), "Minimax": oc_curve(designs.minimax)}
    prec = precision_table(0.3, list(range(5, 60)), 0.95, "wilson")
    frame = exponential_curves({label: 8.9, "Control (control)": 4.0})
    return [oc_chart(oc, 0.1, 0.3, f"p0 = 10%, {label}"),
            precision_chart(prec, 0.15, 36, f"Wilson, {label}"),
            survival_chart(frame, label, [label, "Medians as reported"])]


def adverse_events() -> object:
    from comparators.charts.cohort import adverse_event_chart
    from comparators.evidence.cohort import adverse_event_summary, load_seed_cohort

    summary = adverse_event_summary(load_seed_cohort().adverse_events)
    summary["event"] = [f"Ev{i}\x01" + chunk(i % ROWS) for i in range(len(summary))]
    return adverse_event_chart(summary, f"Source: {FILE_NAME}", 33)


def summary(case: str = "summary") -> tuple[object, dict]:
    """The evidence summary of a hostile cohort: its forest plot and the three documents; for
    "summary_median" its median PFS summary, the cohort inside its class pool (so its name is
    drawn on the median forest plot)."""
    from comparators.analysis.options import AnalysisOptions
    from comparators.evidence.audit import audit_published
    from comparators.reports.summary import build_summary, summary_chart

    cat = _catalog()
    options = (AnalysisOptions(endpoint="median_pfs", include_cohort=True)
               if case == "summary_median" else None)
    s = build_summary(cat.trials, cat.references, audit_published(), hostile_cohort(),
                      ["STS", "ASPS"], options)
    return s, {sec.subtype: summary_chart(sec) for sec in s.sections}


CHARTS: dict[str, Callable[[], object]] = {
    "forest": forest, "class_by_subtype": class_by_subtype, "shrinkage": shrinkage, "km": km,
    "waterfall": waterfall, "swimmer": swimmer, "guyot": guyot, "whatif": whatif,
    "plan": plan, "adverse_events": adverse_events,
}
SUMMARIES = ("summary", "summary_median")
CASES = [*CHARTS, *SUMMARIES]


def unrenderable_left(text: str) -> list[str]:
    left = set(map(ord, text)) & set(FORBIDDEN)
    return [f"U+{c:04X}" for c in sorted(left)]


def run_guarded(case: str) -> dict:
    from comparators.reports.export import chart_pdf, chart_png, chart_svg

    outputs: dict[str, int] = {}
    left: list[str] = []
    if case in SUMMARIES:
        import io
        import zipfile

        from comparators.reports.summary import to_docx, to_html, to_markdown

        s, specs = summary(case)
        pngs = {k: chart_png(v) for k, v in specs.items()}
        svgs = {k: chart_svg(v) for k, v in specs.items()}
        docx = to_docx(s, pngs)
        html, md = to_html(s, svgs), to_markdown(s)
        with zipfile.ZipFile(io.BytesIO(docx)) as z:
            document = z.read("word/document.xml").decode() + z.read("docProps/core.xml").decode()
        for name, text in (("docx", document), ("html", html), ("md", md),
                           *((f"svg {k}", v) for k, v in svgs.items())):
            outputs[name] = len(text)
            left += unrenderable_left(text)
        visible = "Zebra" in document and "Zebra" in html and "Zebra" in md
    else:
        built = CHARTS[case]()
        charts = built if isinstance(built, list) else [built]
        visible = True
        for i, chart in enumerate(charts):
            svg = chart_svg(chart)
            outputs[f"svg {i}"] = len(svg)
            outputs[f"png {i}"] = len(chart_png(chart))
            outputs[f"pdf {i}"] = len(chart_pdf(chart))
            left += unrenderable_left(svg)
            visible = visible and any(w in svg for w in ("Zebra", "Xenon", "Id0", "Reg", "Ev",
                                                         "Yves"))
    return {"case": case, "outputs": outputs, "left": left, "visible": visible}


def run_raw(case: str) -> dict:
    """The same charts straight into vl-convert, uncleaned (expected to abort)."""
    import vl_convert as vlc

    if case in SUMMARIES:
        charts = list(summary(case)[1].values())
    else:
        built = CHARTS[case]()
        charts = built if isinstance(built, list) else [built]
    for chart in charts:
        spec = chart if isinstance(chart, dict) else chart.to_dict()
        # Surrogates cannot cross into Rust (a Python error); leave them out to reach the panic.
        text = re.sub(r"\\ud[89a-f][0-9a-f]{2}", "", json.dumps(spec))
        vlc.vegalite_to_svg(json.loads(text))
    return {"case": case, "survived": True}


if __name__ == "__main__":
    name, mode = sys.argv[1], sys.argv[2]
    result = run_guarded(name) if mode == "guarded" else run_raw(name)
    print(json.dumps(result))
