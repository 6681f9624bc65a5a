"""Evidence summaries for grant writing: per subtype, numbers with CIs, trials, caveats, references.

Pipeline: `build_summary` takes the catalog, the audit findings, this cohort and the model
options (or the already fitted `SubtypeBenchmark` objects the benchmark page shows, so every
number is the same object's) and returns a frozen `EvidenceSummary`. Its `blocks()` are the
document in reading order (per subtype: the lead, the class-pool table, the details, the
figure, the trials, the caveats; the marks' legend and the methods once), and three renderers
draw the same blocks as Markdown (`to_markdown`), a standalone HTML page with inline SVG
figures (`to_html`) and a Word document with PNG figures (`to_docx`); `summary_chart` gives a
section's forest plot (the same chart the benchmark page draws). Figures are rendered by the
caller (reports.export), only when exporting.

All data-derived text is plain text inside the summary; each renderer escapes it for its format.
No streamlit import here.
"""

from __future__ import annotations

import html
import io
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import pandas as pd

from comparators.analysis.benchmark import (
    BenchmarkError,
    ClassPool,
    RateDifference,
    SubtypeBenchmark,
    benchmark_subtype,
    class_order,
    p_text,
    subtype_rows,
)
from comparators.analysis.certainty import (
    SubtypeCertainty,
    SummaryOfFindings,
    shipped_certainty,
    shipped_risk_of_bias,
    shipped_search_log,
    summary_of_findings,
)
from comparators.analysis.endpoints import SAFETY_NOTE
from comparators.analysis.median_pfs import (
    NO_CERTAINTY,
    MedianBenchmark,
    MedianClassPool,
    benchmark_median,
    interval_text,
    median_option_problem,
    months_text,
)
from comparators.analysis.options import AnalysisOptions
from comparators.charts.forest import forest_chart, forest_rows
from comparators.charts.median_forest import median_forest_chart
from comparators.charts.prisma import prisma_flow_chart
from comparators.charts.risk_of_bias import traffic_light_table
from comparators.errors import InputError
from comparators.evidence.audit import Finding, findings_frame
from comparators.evidence.catalog import AGGREGATE_SUBTYPES, reference_links
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.labels import (
    arm_labels,
    cell_text,
    first_surname,
    is_derived,
    mark_legend,
    row_key,
    study_labels,
    verification_marks,
)
from comparators.evidence.reference_values import load_reference_values
from comparators.evidence.risk_of_bias import RiskOfBias
from comparators.evidence.search_log import PrismaFlow, prisma_flow
from comparators.reports.citations import vancouver
from comparators.reports.export import renderable_text
from comparators.reports.markup import md_escape  # the one escaping helper (re-exported)
from comparators.stats.pooled_result import PooledProportion
from comparators.stats.proportions import percent
from comparators.vocab import (
    ALL_SUBTYPES_CODE,
    APP_VERSION,
    CI_CHOICES,
    CLASS_PHRASES,
    DATA_LABELS,
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    MARKS,
    MEDIAN_PFS,
    MODEL_CHOICES,
    VERIFIED_MARKS,
    Endpoint,
)

__all__ = [
    "SEARCH_FIGURE",
    "EvidenceSummary",
    "MedianSection",
    "Reference",
    "SubtypeSection",
    "SummaryError",
    "build_summary",
    "cohort_data_label",
    "model_description",
    "render_figures",
    "summarisable_subtypes",
    "summary_chart",
    "summary_figures",
    "to_docx",
    "to_html",
    "to_markdown",
]

TITLE = "Evidence summary: angiogenesis inhibitors and immune checkpoint inhibitors in sarcoma"
#: The figure key of the PRISMA flow diagram (the forest plots' keys are subtype codes, which
#: are upper case).
SEARCH_FIGURE = "search-flow"



class SummaryError(InputError):
    """Inputs that cannot be summarised (unknown subtype, nothing to pool)."""


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True)
class Reference:
    """One numbered reference (numbered in order of first citation)."""

    number: int
    key: str
    text: str  # Vancouver style, with doi / PMID / NCT
    links: dict[str, str] = field(default_factory=dict)


class _SectionProse:
    """The heading and prose every section kind shares (fields of the dataclasses below)."""

    subtype: str
    name: str
    lead: str
    details: str

    @property
    def heading(self) -> str:
        return _heading(self.subtype, self.name)

    @property
    def narrative(self) -> str:
        """The section's prose (lead, then details), for JSON and plain-text readers."""
        return " ".join(filter(None, [self.lead, self.details]))


@dataclass(frozen=True, eq=False)
class SubtypeSection(_SectionProse):
    """Everything the summary says about one subtype, in reading order: the lead (the two
    sentences a reviewer reads first), the compact table of class pools, the details, the
    figure, the trials table and the caveats. Its methods are in the document's."""

    subtype: str
    name: str
    benchmark: SubtypeBenchmark
    lead: str  # plain text: AI+ICI pooled against ICI pooled; this cohort against them
    pools: tuple[tuple[str, ...], ...]  # rows of the class-pool table (POOL_HEADER), as text
    pools_note: str  # under that table: the model and what a blank cell means
    details: str  # sensitivity analysis, the test between classes, arms left out
    trials: pd.DataFrame  # one row per included arm, this cohort first
    caveats: tuple[str, ...]
    forest: pd.DataFrame  # comparators.forest.forest_rows output
    chart_title: str
    chart_subtitle: tuple[str, ...]
    x_title: str
    figure_number: int = 0
    caption: str = ""  # "Figure 1. ... Sources: Tawbi 2017 [2], ..."
    #: beside the lead, as on the page: why safety is an arm's (grade >= 3 TRAE), the EORTC
    #: reference values of a progression-free rate
    endpoint_notes: tuple[str, ...] = ()

    @property
    def interval(self) -> str:
        return self.benchmark.options.interval_name

    @property
    def figure_interval(self) -> str:
        return self.benchmark.options.figure_interval_name


    @property
    def pool_header(self) -> tuple[str, ...]:
        e = endpoint_of(self.benchmark)
        return (POOL_HEADER[:3] + (e.counted, f"{e.short} % ({self.interval})")
                + POOL_HEADER[5:])

    def methods(self) -> str:
        """This subtype's sentences of the document's methods (what its data needed)."""
        return " ".join(self.benchmark.methods_specific())

    def frames(self) -> list[pd.DataFrame]:
        """The data behind the section: its arms, then its pooled estimates and differences
        (proportions as fractions)."""
        s = self
        arms = s.trials.assign(kind="arm")
        bm = s.benchmark
        pooled = [
            {"subtype": s.subtype, "kind": f"pooled class ({p.scope})",
             "regimen_class": name, "k": p.k, "responders": p.events, "evaluable": p.n,
             "estimate": p.estimate, "low": p.low, "high": p.high, "i2": p.fit.i2,
             "tau2": p.fit.tau2, "estimable": p.estimable}
            for name, p in bm.class_pools.items()
        ]
        fit = bm.fit
        pooled.append({"subtype": s.subtype, "kind": "pooled, all included arms",
                       "regimen_class": "All", "k": fit.k, "estimate": fit.estimate,
                       "low": fit.low, "high": fit.high, "i2": fit.i2, "tau2": fit.tau2,
                       "q_between": bm.q_between, "q_between_df": bm.q_between_df,
                       "q_between_p": bm.q_between_p})
        pooled += [{"subtype": s.subtype, "kind": "difference", "regimen_class": c.what,
                    "estimate": c.difference, "low": c.low, "high": c.high, "p": c.p,
                    "prob_positive": c.prob_positive}
                   for c in bm.headline]
        return [arms, pd.DataFrame(pooled)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the section's numbers (fractions), text and trials."""
        s, bm = self, self.benchmark
        return {
            "subtype": s.subtype, "name": s.name, "narrative": s.narrative,
            "pooled": _fit_dict(bm.fit),
            "classes": {c: p.to_dict() for c, p in bm.class_pools.items()},
            "comparisons": [c.to_dict() for c in bm.headline],
            "q_between": _num(bm.q_between), "q_between_df": bm.q_between_df,
            "q_between_p": _num(bm.q_between_p), "figure": s.figure_number,
            "lead": s.lead, "endpoint_notes": list(s.endpoint_notes), "details": s.details,
            "pools": [dict(zip(s.pool_header, row, strict=True)) for row in s.pools],
            "trials": [{k: _json(v) for k, v in r.items()}
                       for r in s.trials.to_dict("records")],
            "caveats": list(s.caveats), "methods": s.methods(),
        }


@dataclass(frozen=True, eq=False)
class EvidenceSummary:
    """The evidence summary of one or more subtypes; render with to_markdown/to_html/to_docx
    (all three walk `blocks()`, so they have the same structure)."""

    title: str
    cohort_label: str
    cohort_kind: str
    cohort_caveat: str
    data_label: str | None  # e.g. "HYPOTHETICAL scenario, not observed data"; None if published
    model: str  # one line: the model and interval options
    sections: tuple[SubtypeSection | MedianSection, ...]
    references: tuple[Reference, ...]
    references_table: pd.DataFrame  # the rows of references.csv cited, in citation order
    generated: str  # ISO date
    stamp: str = ""  # reproducibility: catalog version, app version, every setting
    legend: tuple[str, ...] = ()  # what each mark used in the document means, once
    methods: str = ""  # the methods paragraph common to every subtype, once
    #: subtype -> its GRADE summary of findings (analysis.certainty)
    findings: Mapping[str, SummaryOfFindings] = field(default_factory=dict)
    #: subtype -> (risk-of-bias table of the studies pooled, its note)
    risk_of_bias: Mapping[str, tuple[pd.DataFrame, str]] = field(default_factory=dict)
    #: how the catalog was found (PRISMA 2020 counts of the search log), drawn after the methods
    search_flow: PrismaFlow | None = None

    @property
    def figure_numbers(self) -> dict[str, int]:
        """Figure key (a subtype, or SEARCH_FIGURE) -> its number, in reading order."""
        numbers = {s.subtype: s.figure_number for s in self.sections}
        if self.search_flow is not None:
            numbers[SEARCH_FIGURE] = max(numbers.values(), default=0) + 1
        return numbers

    @property
    def search_caption(self) -> str:
        """The PRISMA figure's caption: every count the diagram prints, from the flow."""
        flow = self.search_flow
        if flow is None:
            return ""
        return f"Figure {self.figure_numbers[SEARCH_FIGURE]}. {search_flow_text(flow)}"

    @property
    def subtypes(self) -> list[str]:
        return [s.subtype for s in self.sections]

    @property
    def methods_by_subtype(self) -> list[tuple[str, str]]:
        """(subtype, sentences) for the subtypes whose data needed something of their own."""
        return [(s.subtype, s.methods()) for s in self.sections if s.methods()]

    def blocks(self) -> list[Block]:
        """The document as a sequence of blocks, the one structure every renderer draws."""
        return document_blocks(self)

    def to_frame(self) -> pd.DataFrame:
        """The data behind the summary: every arm and every pooled estimate, proportions as
        fractions, with the reference number each arm cites."""
        frames = [f for s in self.sections for f in s.frames()]
        # Columns empty in one part (a study reference no arm needs) are left out before the
        # concatenation and restored after it, so pandas does not guess dtypes from all-NA parts.
        columns = list(dict.fromkeys(c for f in frames for c in f.columns))
        out = pd.concat([f.dropna(axis=1, how="all") for f in frames],
                        ignore_index=True).reindex(columns=columns)
        for col in ("responders", "evaluable", "k", "ref_number", "study_ref_number",
                    "q_between_df"):
            if col in out:  # counts stay whole numbers in CSV/Parquet, not "5.0"
                out[col] = pd.to_numeric(out[col], errors="coerce").astype("Int64")
        if self.data_label:
            out.insert(0, "data_label", self.data_label)
        out.insert(0, "settings", self.stamp)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the numbers (fractions) per subtype, the text and the references."""
        sections = [s.to_dict() for s in self.sections]
        return {
            "title": self.title, "generated": self.generated, "cohort": {
                "label": self.cohort_label, "kind": self.cohort_kind,
                "caveat": self.cohort_caveat, "data_label": self.data_label},
            "model": self.model, "settings": self.stamp, "legend": list(self.legend),
            "methods": self.methods, "sections": sections,
            "references": [{"number": r.number, "key": r.key, "text": r.text, "links": r.links}
                           for r in self.references],
        }


def _heading(subtype: str, name: str) -> str:
    return f"{subtype} – {name}" if name and name != subtype else subtype


def _num(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _json(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        return value.item()
    return value


def _fit_dict(fit: PooledProportion) -> dict[str, Any]:
    return {"k": fit.k, "estimate": _num(fit.estimate), "low": _num(fit.low),
            "high": _num(fit.high), "i2": _num(fit.i2), "tau2": _num(fit.tau2)}


# --------------------------------------------------------------------------- text helpers


def _ci(low: float, high: float, level: float, kind: str = "CI") -> str:
    """'95% CI 30.7–66.0%'; kind 'CrI' for a Bayesian credible interval."""
    return f"{100 * level:g}% {kind} {100 * low:.1f}–{100 * high:.1f}%"


def _p(p: float | None) -> str:
    if p is None or pd.isna(p):
        return "p not available"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _class_refs(rows: pd.DataFrame, keys: Sequence[str], marks: Mapping[str, str],
                cites: _Citations) -> str:
    """' [1–3]†‡': the references a class's arms were read from (cited now, so numbered in
    reading order) and the marks of those arms, for a lead or a class table (rate or median)."""
    members = rows[rows["key"].isin(keys)]
    numbers = _cites(filter(None, (cites.cite(_read_from(r)) for _, r in members.iterrows())))
    mark = "".join(sorted({marks[k] for k in keys if marks.get(k)}))
    return (f" {numbers}" if numbers else "") + mark


def _cites(numbers: Iterable[int]) -> str:
    """[1, 3–5] from 1, 3, 4, 5 (ranges of three or more collapsed)."""
    nums = sorted(set(numbers))
    if not nums:
        return ""
    parts: list[str] = []
    start = prev = nums[0]
    for n in nums[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        if prev - start >= 2:
            parts.append(f"{start}–{prev}")
        else:
            parts += [str(i) for i in range(start, prev + 1)]
        if n is not None:
            start = prev = n
    return "[" + ", ".join(parts) + "]"


def model_description(options: AnalysisOptions) -> str:
    """One line naming the pooling model and the interval options."""
    return (f"{options.model_text()}; {options.level_text} "
            f"{'credible' if options.method == 'BAYES' else 'confidence'} intervals; "
            f"arm-level intervals {CI_CHOICES.short(options.ci_method)}")


def cohort_data_label(cohort: ThisCohort) -> str | None:
    """The label every output carries when this cohort is not the published one."""
    if cohort.kind == "published":
        return None
    return DATA_LABELS.get(cohort.kind, f"{cohort.kind.upper()} data, not the published cohort")


def with_study_names(table: pd.DataFrame, study_names: Mapping[str, str],
                     cohort: ThisCohort) -> pd.DataFrame:
    """A trials table with `study_label`, each study as readers know it ('Tawbi 2017'); an
    uploaded or edited cohort by the name its user gave it."""
    return table.assign(study_label=[
        cohort.label if own and cohort.kind != "published" else study_names.get(study, study)
        for study, own in zip(table["study"].astype(str), table["is_cohort"], strict=True)])


def summarisable_subtypes(trials: pd.DataFrame) -> list[str]:
    """Subtype codes with at least two arms in the catalog (as on the benchmark page)."""
    rows = trials[~trials["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    counts = rows["subtype"].astype(str).value_counts()
    return [str(c) for c in counts.index if counts[c] >= 2]


# --------------------------------------------------------------------------- building


def _read_from(row: Mapping[str, Any] | pd.Series) -> object:
    """The reference a row's numbers were read from (`source_ref`; a row without one, e.g. a
    user's, falls back to `ref`). Numbers are cited to it, never to a document that did not
    print them (a seed-only count cites the seed paper, not the trial's own paper)."""
    source = cell_text(row.get("source_ref"))
    return source or row.get("ref")


def _study_reference(row: Mapping[str, Any] | pd.Series) -> object:
    """The study's own reference when the numbers were read elsewhere and it stands behind
    them: not for seed-only rows, whose numbers the trial's paper does not confirm."""
    ref, source = cell_text(row.get("ref")), cell_text(row.get("source_ref"))
    if not ref or not source or ref == source or cell_text(row.get("source_type")) == \
            "seed paper":
        return None
    return ref


class _Citations:
    """Numbers references in order of first citation."""

    def __init__(self, references: pd.DataFrame):
        self._refs = {str(r["ref"]): r for _, r in references.iterrows()}
        self.order: list[str] = []

    def cite(self, key: object) -> int | None:
        if key is None or key is pd.NA or (isinstance(key, float) and math.isnan(key)):
            return None
        key = str(key)
        if key not in self._refs:
            return None
        if key not in self.order:
            self.order.append(key)
        return self.order.index(key) + 1

    def references(self) -> tuple[Reference, ...]:
        out = []
        for i, key in enumerate(self.order, start=1):
            row = self._refs[key]
            text = vancouver(row)
            nct = cell_text(row.get("nct"))
            if nct and nct not in text:
                text += f" ClinicalTrials.gov: {nct}."
            links = reference_links(row)
            url = cell_text(row.get("url"))
            if url and not (cell_text(row.get("doi")) or cell_text(row.get("pmid"))):
                text += f" Available from: {url}"
            out.append(Reference(i, key, text, links))
        return tuple(out)

    def table(self) -> pd.DataFrame:
        if not self.order:
            return pd.DataFrame(columns=["number", "ref"])
        frame = pd.DataFrame([self._refs[k] for k in self.order]).reset_index(drop=True)
        frame.insert(0, "number", range(1, len(frame) + 1))
        return frame


def _audit_caveats(
    findings: pd.DataFrame, claims: pd.DataFrame | None, studies: set[str],
    subtype: str, surnames: Mapping[str, str],
) -> list[str]:
    """Inconsistent audit findings that touch these studies in this subtype.

    A finding touches a study when the seed claim it checks is about that study (claims.csv's
    study and subtype columns), or, for findings with no such row (citation problems), when its
    text names the study id or the first author ("Chen et al.") of a reference those rows cite
    and its location names the subtype.
    """
    about: dict[tuple[str, str], tuple[str, str]] = {}
    if claims is not None and not claims.empty:
        for _, c in claims.iterrows():
            about[(str(c["where"]), str(c["claim"]))] = (cell_text(c.get("study")),
                                                        cell_text(c.get("subtype")))
    # Findings that quote the same figure of the same paragraph (two checks of one sentence:
    # its arithmetic and its source) become one caveat.
    groups: dict[tuple[str, frozenset[str]], list[pd.Series]] = {}
    for _, f in findings.iterrows():
        if bool(f.get("consistent", True)):
            continue
        key = (str(f["where"]), str(f["claim"]))
        text = f"{f['where']} {f['claim']} {f.get('explanation', '')}"
        if key in about:
            study, sub = about[key]
            touches = study in studies and (not sub or sub == subtype)
        else:
            named = any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text) for s in studies)
            named = named or any(re.search(rf"\b{re.escape(name)} et al", text)
                                 for name in surnames.values())
            in_subtype = re.search(rf"\b{re.escape(subtype)}\b", str(f["where"]))
            touches = named and in_subtype is not None
        if touches:
            figures = frozenset(re.findall(r"\d+(?:\.\d+)?%", str(f["claim"])))
            group = (str(f["where"]).split(" (")[0], figures) if figures else (
                str(f["where"]), frozenset({str(f["claim"])}))
            groups.setdefault(group, []).append(f)
    out: list[str] = []
    for members in groups.values():
        claims = list(dict.fromkeys(str(f["claim"]) for f in members))
        why = list(dict.fromkeys(cell_text(f.get("explanation")) for f in members))
        quoted = " and ".join(f"\u201c{c}\u201d" for c in claims)
        out.append(f"Seed paper, {members[0]['where']}: {quoted} — "
                   + " ".join(w.rstrip(".") + "." for w in why if w))
    return out


def chart_texts(bm: SubtypeBenchmark, name: str, cohort: ThisCohort,
                sources: str = "") -> tuple[str, tuple[str, ...], str]:
    """Title, subtitle and axis title of a subtype's forest plot (the page's and the summary's).

    Every piece comes from the fitted benchmark's options, so the level, model and scope shown
    are the ones that produced the numbers.
    """
    o = bm.options
    subtitle = [f"{name}; {o.model_text()}; arms: {CI_CHOICES[o.ci_method].short} "
                f"{o.arm_interval_name}; "
                f"class pools {'incl.' if o.include_cohort else 'without'} this cohort"]
    if bm.excluded:
        subtitle.append("Left out: " + ", ".join(bm.label(k) for k in bm.excluded))
    if not cohort.is_real:
        subtitle.append(f"{cohort.label}: {cohort.caveat}")
    if sources:  # one subtitle line per ~110 characters, so the figure keeps its width
        subtitle += textwrap.wrap(sources, 110, break_on_hyphens=False)
    name = endpoint_of(bm).name
    title = name[0].upper() + name[1:]
    return (f"{title} in {bm.subtype}", tuple(subtitle),
            f"{title} (%), {o.figure_interval_name}")


def endpoint_of(bm: SubtypeBenchmark) -> Endpoint:
    """The endpoint a benchmark pooled: every label of its tables, figures and sentences."""
    return ENDPOINTS[bm.options.endpoint]


def rate_phrase(bm: SubtypeBenchmark) -> str:
    """How a sentence names the pooled rate: 'ORR' (the field's usual word), else its name."""
    e = endpoint_of(bm)
    return e.short if e.code == DEFAULT_ENDPOINT else e.name


def _cohort_phrase(cohort: ThisCohort, data_label: str | None) -> str:
    label = cohort.label
    phrase = ("this" + label[4:]) if label.startswith("This ") else label
    return f"{phrase} [{data_label}]" if data_label else phrase


#: The class-pool table under each lead (the ORR header names the interval; SubtypeSection).
POOL_HEADER = ("Class", "Arms (k)", "Patients", "Responders", "ORR % (CI)", "I² %", "τ²",
               "Refs.")


def _interval_text(pool: ClassPool | PooledProportion, level: float, bayes: bool) -> str:
    """'95% CI 45.5–84.5%', 'exact 95% CI 0.0–20.6%' (not estimable) or '95% CrI …'."""
    if not pool.estimable:
        return "exact " + _ci(pool.low, pool.high, level)
    return _ci(pool.low, pool.high, level, "CrI" if bayes else "CI")


def _pool_phrase(pool: ClassPool, level: float, bayes: bool) -> str:
    """'68.1% (95% CI 45.5–84.5%; 3 arms, 46 patients)', as the lead reads a class pool."""
    arms = f"{pool.k} arm{'s' if pool.k != 1 else ''}"
    if not pool.estimable:
        return (f"{percent(pool.estimate)} ({_interval_text(pool, level, bayes)}; "
                f"{pool.events} of {pool.n} patients in {arms}, not estimable by pooling)")
    return (f"{percent(pool.estimate)} ({_interval_text(pool, level, bayes)}; {arms}, "
            f"{pool.n} patients)")


def _difference_text(c: RateDifference, level: float, bayes: bool) -> str:
    """'+28.1 percentage points (95% CI +3.6 to +46.7; p = 0.025)'."""
    kind = "CrI" if bayes else "CI"
    return (f"{100 * c.difference:+.1f} percentage points ({100 * level:g}% {kind} "
            f"{100 * c.low:+.1f} to {100 * c.high:+.1f}; {c.evidence})")


def _lead(bm: SubtypeBenchmark, reported: Sequence[str], refs: Mapping[str, str],
          cohort_sentence: str) -> str:
    """The two sentences a reviewer reads first: AI+ICI pooled against ICI pooled, then this
    cohort against pooled AI+ICI (or why it cannot be set beside it)."""
    level, bayes = bm.level, bm.options.method == "BAYES"
    rate = rate_phrase(bm)
    pools: dict[str, ClassPool] = {c: bm.class_pools[c] for c in ("AI+ICI", "ICI")
                                   if c in reported and c in bm.class_pools}

    def named(cls: str) -> str:
        inside = " (this cohort included)" if pools[cls].includes_cohort else ""
        return f"{CLASS_PHRASES.get(cls, cls)}{inside}{refs.get(cls, '')}"

    first = ""
    if len(pools) == 2:
        c = next((h for h in bm.headline if h.a == "AI+ICI" and h.b == "ICI"), None)
        first = (f"In {bm.subtype}, the {rate} was {_pool_phrase(pools['AI+ICI'], level, bayes)} "
                 f"for {named('AI+ICI')} and {_pool_phrase(pools['ICI'], level, bayes)} for "
                 f"{named('ICI')}" + (f": a difference of {_difference_text(c, level, bayes)}."
                                      if c is not None else "."))
    elif pools:
        (cls, pool), = pools.items()
        other = "ICI" if cls == "AI+ICI" else "AI+ICI"
        missing = (f"; no {CLASS_PHRASES.get(other, other)} arm reported {bm.subtype}"
                   if other in reported else "")
        first = (f"In {bm.subtype}, the {rate} was {_pool_phrase(pool, level, bayes)} for "
                 f"{named(cls)}{missing}.")
    elif (shown := [c for c in reported if c in bm.class_pools]):
        pool = bm.class_pools[shown[0]]
        first = (f"In {bm.subtype}, the {rate} was {_pool_phrase(pool, level, bayes)} for "
                 f"{CLASS_PHRASES.get(shown[0], shown[0])}{refs.get(shown[0], '')}.")
    else:
        first = (f"No comparator arm of the selected regimen classes "
                 f"({', '.join(reported) or 'none'}) reported {bm.subtype}.")
    return " ".join(filter(None, [first, cohort_sentence]))


def _cohort_sentence(bm: SubtypeBenchmark, reported: Sequence[str], phrase: str, cited: str,
                     unitemised: Mapping[str, int]) -> str:
    """This cohort's ORR and its difference from the pool it is compared with."""
    row, level = bm.cohort_row, bm.level
    upper = phrase[0].upper() + phrase[1:]
    e = endpoint_of(bm)
    if row is None and e.code != DEFAULT_ENDPOINT:
        return f"{upper}: {e.name} in {bm.subtype} not reported."
    if row is None:
        if bm.subtype in unitemised:
            n = unitemised[bm.subtype]
            return (f"{upper} lists {n} {bm.subtype} patient{'s' if n != 1 else ''} in its "
                    "Table 1 but does not itemise their responses, so it cannot be set beside "
                    "these.")
        return f"{upper} has no {bm.subtype} patients to set beside these."
    own = next(s for s in bm.fit.studies if s.study == str(row["key"]))
    k, n = int(row["responders"]), int(row["evaluable"])
    counted = (f"{k} of {n} ({percent(k / n)}, {_ci(own.low, own.high, level)}, "
               f"{CI_CHOICES.short(bm.ci_method)})")
    text = (f"In {phrase}{cited}, {counted} responded" if e.code == DEFAULT_ENDPOINT
            else f"In {phrase}{cited}, the {e.name} was {counted}")
    c = next((h for h in bm.headline if h.a == "This cohort"), None)
    if c is not None and "AI+ICI" in reported:
        target = (f"the other AI+ICI arms pooled (k = {c.k_b})" if bm.options.include_cohort
                  else "pooled AI+ICI")
        bayes = bm.options.method == "BAYES"
        return f"{text}: a difference of {_difference_text(c, level, bayes)} from {target}."
    if "AI+ICI" in bm.class_pools and c is None and "AI+ICI" in reported:
        return (f"{text}; it is the only AI+ICI arm in its pool, so there is nothing to "
                "compare it with.")
    return text + "."


def _pool_rows(bm: SubtypeBenchmark, reported: Sequence[str], refs: Mapping[str, str],
               cohort_refs: str) -> tuple[tuple[str, ...], ...]:
    """The compact table: this cohort, each reported class pool (and the pool this cohort is
    compared with when its own contains it), then every included arm pooled."""
    def cell(p: ClassPool | PooledProportion) -> str:
        tail = ", exact" if not p.estimable else ""
        return f"{100 * p.estimate:.1f} ({100 * p.low:.1f}–{100 * p.high:.1f}){tail}"

    def het(f: PooledProportion) -> tuple[str, str]:
        i2 = "" if f.i2 is None or pd.isna(f.i2) else f"{f.i2:.0f}"
        tau2 = "" if f.tau2 is None or pd.isna(f.tau2) or f.k < 2 else f"{f.tau2:.3f}"
        return i2, tau2

    rows: list[tuple[str, ...]] = []
    row = bm.cohort_row
    if row is not None:
        own = next(s for s in bm.fit.studies if s.study == str(row["key"]))
        rows.append((str(row["label"]) if "label" in row else "This cohort", "1",
                     str(int(row["evaluable"])), str(int(row["responders"])),
                     f"{100 * own.estimate:.1f} ({100 * own.low:.1f}–{100 * own.high:.1f})",
                     "", "", cohort_refs))
    for cls in reported:
        pool = bm.class_pools.get(cls)
        if pool is None:
            continue
        name = CLASS_PHRASES.get(cls, cls) + (" (incl. this cohort)" if pool.includes_cohort
                                              else "")
        rows.append((name, str(pool.k), str(pool.n), str(pool.events), cell(pool),
                     *het(pool.fit), refs.get(cls, "").strip()))
        ref = bm.cohort_reference
        if ref is not None and cls == ref.regimen_class:
            rows.append((f"{CLASS_PHRASES.get(cls, cls)}, other arms (compared with this "
                         "cohort)", str(ref.k), str(ref.n), str(ref.events), cell(ref),
                         *het(ref.fit), refs.get(cls, "").strip()))
    f = bm.fit
    rows.append(("All included arms" + (" (incl. this cohort)" if row is not None else ""),
                 str(f.k), str(int(bm.rows["evaluable"].sum())),
                 str(int(bm.rows["responders"].sum())), cell(f), *het(f), ""))
    return tuple(rows)


def _details(bm: SubtypeBenchmark, reported: Sequence[str]) -> str:
    """After the table: the primary-source sensitivity analysis, the test between classes and
    the arms the user left out."""
    parts = [_primary_only_sentence(bm, reported, bm.level)]
    if bm.q_between is not None:
        parts.append(f"Test for subgroup differences between the regimen classes: "
                     f"Q = {bm.q_between:.2f} (df = {bm.q_between_df}, "
                     f"{p_text(bm.q_between_p)}).")
    if bm.excluded:
        parts.append(f"Left out by the user: {', '.join(bm.label(k) for k in bm.excluded)}.")
    return " ".join(filter(None, parts))


def _primary_only_sentence(bm: SubtypeBenchmark, reported: Sequence[str], level: float) -> str:
    """The primary-source-only sensitivity result, when it differs from the main one."""
    if bm.options.primary_only:
        return ""
    try:
        primary = benchmark_subtype(bm.rows, replace(bm.options, primary_only=True))
    except BenchmarkError:
        primary = None
    pieces, differs = [], False
    bayes = bm.options.method == "BAYES"
    for cls in reported:
        main = bm.class_pools.get(cls)
        if main is None:
            continue
        alt_pool = primary.class_pools.get(cls) if primary is not None else None
        if alt_pool is None:
            pieces.append(f"no {CLASS_PHRASES.get(cls, cls)} arm")
            differs = True
            continue
        if (alt_pool.k, round(alt_pool.estimate, 6)) != (main.k, round(main.estimate, 6)):
            differs = True
        pieces.append(f"{CLASS_PHRASES.get(cls, cls)} {percent(alt_pool.estimate)} "
                      f"({_interval_text(alt_pool, level, bayes)}; k = {alt_pool.k})")
    if not differs:
        return ""
    return ("With only the numbers read from the trials' own full papers (sensitivity "
            "analysis): " + "; ".join(pieces) + ".")


def _in_lead_or_methods(note: str) -> bool:
    """Benchmark notes the document says elsewhere (the lead, the details or the methods):
    this cohort's missing subtype, the classes left out of (or the absence of) the test
    between classes, the HKSJ variant and the prior."""
    return note.startswith(("This cohort has no", "This cohort is the only", "Bayesian model:",
                            "prior:", "Hartung-Knapp")) or "test for subgroup differences" in note


def _verification_caveats(comparators: pd.DataFrame, labels: Mapping[str, str],
                          marks: Mapping[str, str]) -> list[str]:
    """One caveat per verification level and one for derived counts, naming their arms."""
    def arm(r: pd.Series) -> str:
        return (f"{labels.get(str(r['key']), str(r['key']))} "
                f"({int(r['responders'])}/{int(r['evaluable'])})")

    out = []
    for level, verified_mark in VERIFIED_MARKS.items():
        hits = [arm(r) for _, r in comparators.iterrows() if cell_text(r.get("verified")) == level]
        if hits:
            mark = next((marks[str(r["key"])] for _, r in comparators.iterrows()
                         if cell_text(r.get("verified")) == level and marks.get(str(r["key"]))),
                        "")
            out.append(f"{level[0].upper() + level[1:]}{' (' + mark + ')' if mark else ''}: "
                       f"{'; '.join(hits)} — {verified_mark.meaning}.")
    derived = [arm(r) for _, r in comparators.iterrows() if is_derived(r.get("derived"))]
    if derived:
        out.append(f"Derived counts (*): {'; '.join(derived)} — {MARKS['*'].meaning}.")
    return out


def _section(
    bm: SubtypeBenchmark, name: str, cohort: ThisCohort, data_label: str | None,
    classes: Sequence[str] | None, cites: _Citations, findings: pd.DataFrame,
    claims: pd.DataFrame | None, surnames: Mapping[str, str], labels: Mapping[str, str],
    unitemised: Mapping[str, int], figure_number: int, study_names: Mapping[str, str],
    eortc: Sequence[ReferenceLine] = (),
) -> SubtypeSection:
    fit, rows = bm.fit, bm.rows
    studies = {s.study: s for s in fit.studies}
    comparators = rows[~rows["is_cohort"]]
    marks = verification_marks(rows)

    # Table order: this cohort first, then comparators by class (as the forest) and ORR.
    order = class_order(comparators["regimen_class"])
    comparators = comparators.assign(
        _class=[order.index(c) for c in comparators["regimen_class"]],
        _orr=[studies[k].estimate for k in comparators["key"]],
    ).sort_values(["_class", "_orr"], ascending=[True, False]).drop(columns=["_class", "_orr"])

    reported = [c for c in bm.class_pools if classes is None or c in set(classes)]
    # Citations are numbered in reading order: the lead's two classes, this cohort, then the
    # table's other classes and the trials table.
    refs: dict[str, str] = {}

    def cite_class(cls: str) -> None:
        refs[cls] = _class_refs(rows, bm.class_pools[cls].keys, marks, cites)

    for first in [c for c in ("AI+ICI", "ICI") if c in reported]:
        cite_class(first)
    cohort_row = bm.cohort_row
    # Only the published cohort's numbers come from its reference; an edited, synthetic or
    # uploaded cohort's do not, so it cites nothing.
    cited = (cites.cite(_read_from(cohort_row))
             if cohort_row is not None and data_label is None else None)
    cohort_refs = f"[{cited}]" if cited else ""
    phrase = _cohort_phrase(cohort, data_label)
    lead = _lead(bm, reported, refs, _cohort_sentence(
        bm, reported, phrase, f" {cohort_refs}" if cohort_refs else "", unitemised))
    endpoint_notes = _endpoint_notes(bm, eortc, cites)  # read right after the lead
    for cls in reported:
        if cls not in refs:
            cite_class(cls)
    pools = _pool_rows(bm, reported, refs, cohort_refs)
    bayes = bm.options.method == "BAYES"
    inside = "inside" if bm.options.include_cohort else "outside"
    pools_note = (f"{endpoint_of(bm).short} with its {bm.options.interval_name}, pooled per "
                  f"class with {bm.options.model_text()} (this cohort {inside} its class "
                  "pool); 'exact': "
                  "summed counts of a class whose arms all had 0% or all 100% responders. "
                  "Blank I² or τ²: not estimable (one arm, or such a class)"
                  + ("; the Bayesian model reports the posterior median of τ² and defines no I²"
                     if bayes else "") + ".")
    details = _details(bm, reported)

    # The trials table (cite any reference not yet cited, in table order).
    trials = _trials_table(bm, pd.concat([rows[rows["is_cohort"]], comparators]), studies,
                           labels, marks, cites, data_label)

    # Caveats: audit findings on these studies (one per quoted figure), the arms by
    # verification level, then the benchmark's notes that nothing else in the document says.
    names = set(rows["study"].astype(str)) | ({cohort.replaces} if cohort.replaces else set())
    used = {str(r) for r in rows["ref"].dropna()}
    caveats = _audit_caveats(findings, claims, names, bm.subtype,
                             {k: v for k, v in surnames.items() if k in used})
    caveats += _verification_caveats(comparators, labels, marks)
    if cohort_row is not None and data_label:
        caveats.insert(0, f"{cohort.label}: {data_label}. {cohort.caveat}".strip())
    caveats += [n[:1].upper() + n[1:] for n in bm.notes if not _in_lead_or_methods(n)]

    forest = forest_rows(bm, labels=labels, marks=marks)
    title, subtitle, x_title, caption = _figure_texts(bm, name, cohort, comparators, study_names,
                                                      marks, cites, figure_number)
    return SubtypeSection(
        subtype=bm.subtype, name=name, benchmark=bm, lead=lead, pools=pools,
        pools_note=pools_note, details=details, trials=trials, caveats=tuple(caveats),
        forest=forest, chart_title=title, chart_subtitle=subtitle, x_title=x_title,
        figure_number=figure_number, caption=caption, endpoint_notes=endpoint_notes,
    )


def _endpoint_notes(bm: SubtypeBenchmark, eortc: Sequence[ReferenceLine],
                    cites: _Citations) -> tuple[str, ...]:
    """What the page says beside the lead for this endpoint: the safety note (grade >= 3
    TRAE) and the sentence naming the EORTC reference values, citing their sources."""
    notes = [SAFETY_NOTE] if endpoint_of(bm).code == "grade3" else []
    if eortc:
        numbers = _cites(filter(None, (cites.cite(line.source) for line in eortc)))
        sentence = reference_sentence(bm, eortc)
        notes.append(f"{sentence[:-1]} {numbers}." if numbers else sentence)
    return tuple(notes)


def _trials_table(bm: SubtypeBenchmark, ordered: pd.DataFrame, studies: Mapping[str, Any],
                  labels: Mapping[str, str], marks: Mapping[str, str], cites: _Citations,
                  data_label: str | None) -> pd.DataFrame:
    """One row per arm in table order, each citing what its numbers were read from."""
    table = []
    for _, r in ordered.iterrows():
        est = studies[str(r["key"])]
        is_cohort = bool(r["is_cohort"])
        verified = cell_text(r.get("verified"))
        if is_cohort and data_label:
            verified = data_label
        table.append({
            "subtype": bm.subtype, "study": str(r["study"]),
            "label": labels.get(str(r["key"]), str(r["key"])), "arm": str(r["arm"]),
            "regimen_class": str(r["regimen_class"]), "is_cohort": is_cohort,
            "responders": int(r["responders"]), "evaluable": int(r["evaluable"]),
            "estimate": est.estimate, "low": est.low, "high": est.high, "weight": est.weight,
            "verified": verified, "mark": marks.get(str(r["key"]), ""),
            "source_type": cell_text(r.get("source_type")),
            "ref": None if is_cohort and data_label else (cell_text(r.get("ref")) or None),
            "source_ref": None if is_cohort and data_label else
            (cell_text(_read_from(r)) or None),
            # the numbers cite what they were read from; the study's own report, when another
            # document stands behind them, is cited beside it
            "ref_number": None if is_cohort and data_label else cites.cite(_read_from(r)),
            "study_ref_number": None if is_cohort and data_label else
            cites.cite(_study_reference(r)),
            "locator": cell_text(r.get("locator")), "note": cell_text(r.get("note")),
        })
    trials = pd.DataFrame(table)
    for col in ("ref_number", "study_ref_number"):
        trials[col] = trials[col].astype("Int64")
    return trials


def _figure_texts(bm: SubtypeBenchmark, name: str, cohort: ThisCohort,
                  comparators: pd.DataFrame, study_names: Mapping[str, str],
                  marks: Mapping[str, str], cites: _Citations,
                  figure_number: int) -> tuple[str, tuple[str, ...], str, str]:
    """The forest figure's title, subtitle and axis title, and its caption naming the sources
    of every comparator study."""
    sources = _figure_sources(comparators, study_names, marks, cites)
    title, subtitle, x_title = chart_texts(bm, name, cohort, sources)
    what = endpoint_of(bm).name
    caption = (f"Figure {figure_number}. {what[:1].upper()}{what[1:]} in {bm.subtype} "
               f"({name}): each arm with its {bm.options.arm_interval_name} "
               f"({CI_CHOICES.short(bm.ci_method)}), class pools ({bm.options.model_text()}; "
               f"{'including' if bm.options.include_cohort else 'without'} this cohort) and "
               f"the pool of all included arms. {sources}."
               + (" Marks as in the legend at the top." if marks else ""))
    return title, subtitle, x_title, caption


def _figure_sources(comparators: pd.DataFrame, study_names: Mapping[str, str],
                    marks: Mapping[str, str], cites: _Citations) -> str:
    """'Sources: Tawbi 2017 [2], ...': every comparator study of a figure with the
    references its numbers were read from."""
    cited_sources = []
    for study, arms in comparators.groupby("study", sort=False):
        numbers = [n for n in (cites.cite(_read_from(r)) for _, r in arms.iterrows()) if n]
        who = study_names.get(str(study), str(study))
        who += "".join(sorted({marks[k] for k in arms["key"] if marks.get(k)}))
        cited_sources.append(f"{who} {_cites(numbers)}" if numbers else who)
    return "Sources: " + ", ".join(cited_sources) if cited_sources else ""


@dataclass(frozen=True, eq=False)  # holds frames
class _Context:
    """What every section of one summary reads: the audit's findings and the seed's claims,
    the names of subtypes, arms, studies and first authors, and the one citation list."""

    findings: pd.DataFrame
    claims: pd.DataFrame | None
    unitemised: Mapping[str, int]  # subtype -> patients the seed lists but does not itemise
    data_label: str | None
    names: Mapping[str, str]
    surnames: Mapping[str, str]
    labels: Mapping[str, str]
    study_names: Mapping[str, str]
    cites: _Citations


def _summary_context(trials: pd.DataFrame, references: pd.DataFrame,
                     audit_findings: Iterable[Finding] | pd.DataFrame | None,
                     cohort: ThisCohort, claims: pd.DataFrame | None,
                     subtype_names: Mapping[str, str] | None) -> _Context:
    from comparators.evidence.cohort import load_seed_cohort

    seed = load_seed_cohort() if claims is None or cohort.kind == "published" else None
    if claims is None and seed is not None:
        claims = seed.claims
    unitemised: dict[str, int] = {}
    if cohort.kind == "published" and seed is not None:
        hist = seed.baseline[seed.baseline["subtype"].notna()]
        unitemised = {str(s): int(n) for s, n in zip(hist["subtype"], hist["n"], strict=True)}
    findings = (audit_findings if isinstance(audit_findings, pd.DataFrame)
                else findings_frame(list(audit_findings or ())))
    surnames = {str(r["ref"]): first_surname(r.get("authors"))
                for _, r in references.iterrows() if first_surname(r.get("authors"))}
    labels = arm_labels(trials, references)
    if cohort.kind != "published":  # an upload or scenario is named as the user named it
        labels.update({row_key(cohort.study, str(a)): cohort.label for a in cohort.rows["arm"]})
    return _Context(findings, claims, unitemised, cohort_data_label(cohort),
                    dict(subtype_names or {}), surnames, labels,
                    study_labels(trials, references), _Citations(references))


def _subtype_section(code: str, number: int, ctx: _Context, trials: pd.DataFrame,
                     references: pd.DataFrame, cohort: ThisCohort, options: AnalysisOptions,
                     classes: Sequence[str] | None,
                     given: SubtypeBenchmark | MedianBenchmark | None,
                     reference_values: pd.DataFrame | None,
                     chosen_references: Sequence[str]) -> SubtypeSection | MedianSection:
    """One subtype's section, from the given fit or one fitted here with `options`."""
    name = ctx.names.get(code, code)
    try:
        rows = None if given is not None else subtype_rows(
            trials, cohort, code, options.include_overlapping, ctx.labels, options.endpoint)
        if options.endpoint == MEDIAN_PFS:
            mb = given if given is not None else benchmark_median(rows, options, cohort)
            assert isinstance(mb, MedianBenchmark)
            return _median_section(mb, name, cohort, ctx.data_label, classes, ctx.cites,
                                   ctx.findings, ctx.claims, ctx.surnames, number,
                                   ctx.study_names)
        bm = given if given is not None else benchmark_subtype(rows, options)
    except BenchmarkError as err:
        raise SummaryError(f"{code}: {err}") from err
    assert isinstance(bm, SubtypeBenchmark)
    offered = ([] if reference_values is None else
               reference_lines(reference_values, references, bm.options.endpoint, code))
    eortc = [line for line in offered if line.id in set(chosen_references)] or offered
    section = _section(bm, name, cohort, ctx.data_label, classes, ctx.cites, ctx.findings,
                       ctx.claims, ctx.surnames, ctx.labels, ctx.unitemised, number,
                       ctx.study_names, eortc)
    return replace(section, trials=with_study_names(section.trials, ctx.study_names, cohort))


def build_summary(
    trials: pd.DataFrame,
    references: pd.DataFrame,
    audit_findings: Iterable[Finding] | pd.DataFrame | None,
    cohort: ThisCohort,
    subtypes: Sequence[str],
    options: AnalysisOptions | None = None,
    classes: Sequence[str] | None = None,
    *,
    benchmarks: Mapping[str, SubtypeBenchmark | MedianBenchmark] | None = None,
    subtype_names: Mapping[str, str] | None = None,
    claims: pd.DataFrame | None = None,
    generated: date | None = None,
    catalog_stamp: str = "",
    search_flow: PrismaFlow | None = None,
    reference_values: pd.DataFrame | None = None,
    chosen_references: Sequence[str] = (),
) -> EvidenceSummary:
    """The evidence summary of `subtypes` (in that order).

    `benchmarks` passes the already fitted objects (the benchmark page's cached ones), so the
    numbers are the very objects the page shows; subtypes missing from it are fitted here with
    `options`. `audit_findings`: `Finding`s or their frame (evidence.audit); `claims`: the seed
    paper's claims table (data/liu2023/claims.csv; read when None) that ties each finding to a
    study. `classes` limits the regimen classes the narrative reports (the table, the figure
    and the overall estimate keep every included arm). `catalog_stamp` names the catalog
    version and literature check date for the reproducibility line. `search_flow` is the
    PRISMA flow the methods draw (the shipped search log's when None). For a progression-free
    rate each section names the EORTC reference values (`reference_values`, the checked
    data/reference_values.csv; read when None) whose ids are in `chosen_references`, or every
    one offered for its subtype when none of them is. For median PFS (months) each section is
    a `MedianSection` (`_median_section`), with no GRADE summary of findings.
    """
    options = options or AnalysisOptions()
    if options.endpoint == MEDIAN_PFS and (problem := median_option_problem(options)):
        raise SummaryError(problem)
    if reference_values is None and options.endpoint in LANDMARK_MONTHS:
        reference_values = load_reference_values()
    if not subtypes:
        raise SummaryError("choose at least one subtype")
    known = {str(c).upper(): str(c) for c in trials["subtype"].dropna().astype(str)}
    ctx = _summary_context(trials, references, audit_findings, cohort, claims, subtype_names)
    sections: list[SubtypeSection | MedianSection] = []
    for number, raw in enumerate(dict.fromkeys(subtypes), start=1):
        code = known.get(str(raw).upper())
        if code is None:
            raise SummaryError(f"unknown subtype {raw!r}: no arm in the catalog reports it")
        sections.append(_subtype_section(
            code, number, ctx, trials, references, cohort, options, classes,
            (benchmarks or {}).get(code), reference_values, chosen_references))
    median = options.endpoint == MEDIAN_PFS
    cites, study_names = ctx.cites, ctx.study_names
    used = sections[0].benchmark.options
    stamp = "; ".join(filter(None, [catalog_stamp, f"app {APP_VERSION}",
                                    f"subtypes: {', '.join(s.subtype for s in sections)}",
                                    used.stamp()]))
    used_marks = {m for s in sections for m in s.trials["mark"] if m}
    rob = shipped_risk_of_bias()
    certainties = [shipped_certainty(s.benchmark, cohort) for s in sections
                   if isinstance(s, SubtypeSection)]
    summary = EvidenceSummary(
        title=TITLE, cohort_label=cohort.label, cohort_kind=cohort.kind,
        cohort_caveat=cohort.caveat, data_label=ctx.data_label,
        model=_median_model(used) if median else model_description(used),
        sections=tuple(sections), references=cites.references(),
        references_table=cites.table(),
        generated=(generated or date.today()).isoformat(), stamp=stamp,
        legend=tuple(mark_legend(list(used_marks))), methods=_methods(sections),
        findings={c.subtype: summary_of_findings(c) for c in certainties},
        risk_of_bias={s.subtype: traffic_light_table(rob, list(s.benchmark.rows["study"]),
                                                     study_names)
                      for s in sections},
        search_flow=search_flow if search_flow is not None else prisma_flow(shipped_search_log()),
    )
    return replace(summary, methods=" ".join(filter(None, [
        summary.methods, _appraisal_methods(summary, rob, certainties)])))


def _appraisal_methods(summary: EvidenceSummary, rob: RiskOfBias,
                       certainties: Sequence[SubtypeCertainty]) -> str:
    """The methods' sentences on what the document's risk-of-bias tables, GRADE tables and
    PRISMA figure are, each from the object it shows: the tool of the risk-of-bias judgements,
    the start level of the certainty ratings, the figure number of the flow."""
    parts = []
    if any(not table.empty for table, _ in summary.risk_of_bias.values()):
        parts.append(f"The risk of bias of each study pooled was judged with {rob.tool}.")
    starts = list(dict.fromkeys(o.start for c in certainties for o in c.outcomes))
    if starts and summary.findings:
        parts.append(f"The certainty of each class pool was rated with GRADE, starting at "
                     f"{_and(starts)} for non-randomised, single-arm evidence and moving by "
                     "the rules the summary-of-findings footnotes give.")
    if summary.search_flow is not None:
        parts.append("How the comparator catalog was found is reported as a PRISMA 2020 flow "
                     f"diagram (Figure {summary.figure_numbers[SEARCH_FIGURE]}).")
    return " ".join(parts)


def search_flow_text(flow: PrismaFlow) -> str:
    """What the PRISMA 2020 diagram of the search shows, box by box, with its counts."""
    db, other = flow.databases, flow.other

    def total(counts: Iterable[Any]) -> int:
        return sum(c.n for c in counts)

    def itemised(counts: Sequence[Any]) -> str:
        return f" ({'; '.join(f'{c.label} {c.n}' for c in counts)})" if counts else ""

    excluded = [*db.excluded, *other.excluded]
    return (f"How the comparator catalog was found (PRISMA 2020 flow diagram): "
            f"{db.identified_total + other.identified_total} records identified "
            f"({db.identified_total} from databases and registers, {other.identified_total} by "
            f"other methods); {db.duplicates + other.duplicates} duplicates removed; "
            f"{db.screened} records screened, {total(db.excluded_screening)} excluded"
            f"{itemised(db.excluded_screening)}; {db.sought + other.sought} reports sought "
            f"({db.sought} + {other.sought}), "
            f"{total(db.not_retrieved) + total(other.not_retrieved)} not retrieved; "
            f"{db.assessed + other.assessed} assessed, {total(excluded)} excluded; "
            f"{flow.studies} studies included in {flow.reports} reports. {flow.note()}").strip()


def _and(items: Sequence[str]) -> str:
    """'ASPS', 'ASPS and UPS', 'ASPS, UPS and LMS'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _methods(sections: Sequence[SubtypeSection | MedianSection]) -> str:
    """The methods paragraph common to every subtype (they share one set of options); what a
    subtype's data needed of its own is the section's `methods`."""
    if isinstance(sections[0], MedianSection):
        return ("Median progression-free survival (months) was summarised per subtype and "
                "regimen class from the arms' reported Kaplan-Meier medians and intervals "
                "(McGrath et al.); each subtype's methods below are written from its pooled "
                "results. " + NO_CERTAINTY)
    bm = sections[0].benchmark
    parts = bm.methods_general(_and([s.subtype for s in sections]))
    if (not any(isinstance(s, SubtypeSection) and s.benchmark.corrected for s in sections)
            and bm.fit.method not in {"GLMM", "BAYES"} and bm.fit.measure in {"logit", "raw"}):
        parts.append("No continuity correction was needed.")
    parts.append("Computed with the comparators package, validated against metafor.")
    return " ".join(parts)


def summary_chart(section: SubtypeSection | MedianSection) -> dict:
    """The section's forest plot (a Vega-Lite spec), as the benchmark page draws it, without
    the legend of its marks: the document prints that legend once for every figure."""
    if isinstance(section, MedianSection):
        return median_forest_chart(section.benchmark)
    return forest_chart(section.forest, None, section.chart_title, list(section.chart_subtitle),
                        section.x_title, section.figure_interval, legend=False,
                        endpoint=endpoint_of(section.benchmark))


def summary_figures(summary: EvidenceSummary,
                    specs: Mapping[str, dict] | None = None) -> dict[str, dict]:
    """Figure key -> Vega-Lite spec of every figure of the document: each section's forest
    plot (keyed by subtype) and the PRISMA flow diagram (SEARCH_FIGURE). A spec in `specs`
    (the page's cached one) is used as it is; only the others are built."""
    given = specs or {}
    out = {s.subtype: given.get(s.subtype) or summary_chart(s) for s in summary.sections}
    if summary.search_flow is not None:
        out[SEARCH_FIGURE] = given.get(SEARCH_FIGURE) or prisma_flow_chart(summary.search_flow)
    return out


def render_figures(summary: EvidenceSummary, fmt: str = "png",
                   specs: Mapping[str, dict] | None = None) -> dict[str, Any]:
    """Figure key -> PNG bytes (fmt "png") or SVG text ("svg") of every figure of the document
    (`summary_figures`), each through the one cleaned-spec path (reports.export).

    `specs` passes Vega-Lite dicts already built (the page's cached ones); the others are
    built here (each builder's output is validated against the schema in its tests).
    vl-convert releases the GIL, so the figures render in parallel threads.
    """
    from concurrent.futures import ThreadPoolExecutor

    from comparators.reports.export import chart_png, chart_svg

    if fmt not in {"png", "svg"}:
        raise ValueError(f"figure format must be png or svg, not {fmt!r}")
    built = summary_figures(summary, specs)
    render = chart_png if fmt == "png" else chart_svg
    with ThreadPoolExecutor(max_workers=min(4, max(1, len(built)))) as pool:
        results = dict(zip(built, pool.map(render, built.values()), strict=True))
    return results


# --------------------------------------------------------------------------- renderers

TABLE_HEADER = ("Study", "Arm", "Class", "Responders/evaluable", "ORR % (CI)", "Source",
                "Ref.")


def table_header(e: Endpoint) -> tuple[str, ...]:
    """The trials table's header, naming the endpoint's numerator and rate."""
    return (TABLE_HEADER[:3] + (f"{e.counted}/{'evaluable' if e.code in ('orr', 'dcr') else 'n'}",
                                f"{e.short} % (CI)") + TABLE_HEADER[5:])


def _table_cells(section: SubtypeSection) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in section.trials.itertuples(index=False):
        name = r.study_label
        study = f"{name} (this cohort)" if r.is_cohort else f"{name}{r.mark}"
        ref = "" if pd.isna(r.ref_number) else str(int(r.ref_number))
        if ref and not pd.isna(r.study_ref_number):
            ref += f" (study {int(r.study_ref_number)})"
        source = r.verified if r.is_cohort else (r.source_type or r.verified)
        out.append((study, r.arm, r.regimen_class, f"{r.responders}/{r.evaluable}",
                    f"{100 * r.estimate:.1f} ({100 * r.low:.1f}–{100 * r.high:.1f})",
                    source, ref))
    return out


def _table_note(section: SubtypeSection) -> str:
    """The note under a trials table: the interval and what the reference numbers are."""
    return (f"{endpoint_of(section.benchmark).short} with "
            f"{section.benchmark.options.arm_interval_name} per arm "
            f"({CI_CHOICES.short(section.benchmark.ci_method)}); Ref. = the reference the "
            "numbers were read from (with the study's own report, when that is another "
            "document).")


# --------------------------------------------------------------------------- document model


@dataclass(frozen=True)
class Block:
    """One element of the document, in reading order; the three renderers draw the same list.

    kind: title | label | meta | small | heading (level 1 or 2) | paragraph | table (header,
    rows, emphasised rows) | note | figure (subtype, caption in text) | bullets (items) |
    references (items). Text is plain; each renderer escapes it for its format.
    """

    kind: str
    text: str = ""
    level: int = 1
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    emphasis: tuple[bool, ...] = ()
    items: tuple[str, ...] = ()
    key: str = ""  # a section's subtype: its anchor, and which figure


def _table_block(frame: pd.DataFrame) -> Block:
    return Block("table", header=tuple(map(str, frame.columns)),
                 rows=tuple(tuple(str(v) for v in r) for r in frame.itertuples(index=False)))


def certainty_blocks(subtype: str, sof: SummaryOfFindings | None,
                     rob: tuple[pd.DataFrame, str] | None = None) -> list[Block]:
    """The summary-of-findings table, its caption and lettered footnotes, then the risk of
    bias of the studies pooled."""
    out: list[Block] = []
    if sof is not None:
        out += [Block("heading", f"Certainty of the evidence, GRADE ({subtype})", 2),
                _table_block(sof.table), Block("note", sof.caption),
                *(Block("note", line) for line in sof.lettered)]
    if rob is not None and not rob[0].empty:
        out += [Block("heading", f"Risk of bias of the studies pooled ({subtype})", 2),
                _table_block(rob[0]), Block("note", rob[1])]
    return out


def document_blocks(summary: EvidenceSummary) -> list[Block]:
    """The evidence summary in reading order: title, labels and settings, the marks' legend
    once, then per subtype its lead, class-pool table, details, figure, trials and caveats;
    the methods once (with what each subtype needed of its own); the references."""
    out = [Block("title", summary.title)]
    if summary.data_label:
        out.append(Block("label", f"{summary.cohort_label}: {summary.cohort_caveat}",
                         header=(summary.data_label,)))
    out += [Block("meta", f"Generated {summary.generated}. Model: {summary.model}."),
            Block("small", f"Reproducibility: {summary.stamp}.")]
    if summary.legend:
        out.append(Block("note", "Marks after a study or a class: " + "; ".join(summary.legend)
                         + "."))
    for s in summary.sections:
        if isinstance(s, MedianSection):
            out += _median_blocks(s, summary.risk_of_bias.get(s.subtype))
            continue
        out += [Block("heading", s.heading, 1, key=s.subtype), Block("paragraph", s.lead),
                *(Block("paragraph", note) for note in s.endpoint_notes),
                Block("heading", f"Pooled {endpoint_of(s.benchmark).short} by regimen class "
                                 f"({s.subtype})", 2),
                Block("table", header=s.pool_header, rows=s.pools,
                      emphasis=tuple(i == 0 and s.benchmark.cohort_row is not None
                                     for i in range(len(s.pools)))),
                Block("note", s.pools_note)]
        if s.details:
            out.append(Block("paragraph", s.details))
        out += certainty_blocks(s.subtype, summary.findings.get(s.subtype),
                                summary.risk_of_bias.get(s.subtype))
        out.append(Block("figure", s.caption, key=s.subtype))
        cells = _table_cells(s)
        out += [Block("heading", f"Trials used ({s.subtype})", 2),
                Block("table", header=table_header(endpoint_of(s.benchmark)),
                      rows=tuple(cells),
                      emphasis=tuple(bool(c) for c in s.trials["is_cohort"])),
                Block("note", _table_note(s))]
        if s.caveats:
            out += [Block("heading", f"Data caveats ({s.subtype})", 2),
                    Block("bullets", items=s.caveats)]
    out += [Block("heading", "Methods", 1), Block("paragraph", summary.methods)]
    out += [Block("paragraph", f"{subtype}: {text}")
            for subtype, text in summary.methods_by_subtype]
    if summary.search_flow is not None:
        out += [Block("heading", "How the catalog was found", 2),
                Block("figure", summary.search_caption, key=SEARCH_FIGURE)]
    out += [Block("heading", "References", 1),
            Block("references", items=tuple(f"{r.number}. {r.text}"
                                            for r in summary.references))]
    return out


# --------------------------------------------------------------------------- renderers


def to_markdown(summary: EvidenceSummary, figures: Mapping[str, str] | None = None) -> str:
    """The summary as Markdown; `figures` optionally maps subtype -> image path to link.

    Text is escaped for CommonMark/GFM renderers (the file leaves the app), so the raw file
    reads naturally ("[1–3]", "doi:10.1038/…") while nothing in it can format or link."""

    def e(text: object) -> str:
        return md_escape(renderable_text(str(text)), document=True)

    numbers = summary.figure_numbers
    lines: list[str] = []
    for b in summary.blocks():
        if b.kind == "title":
            lines += [f"# {e(b.text)}", ""]
        elif b.kind == "label":
            lines += [f"> **{e(b.header[0])}** — {e(b.text)}", ""]
        elif b.kind == "heading":
            lines += [f"{'#' * (b.level + 1)} {e(b.text)}", ""]
        elif b.kind == "table":
            lines += ["| " + " | ".join(e(h) for h in b.header) + " |",
                      "|" + "|".join("---" for _ in b.header) + "|"]
            lines += ["| " + " | ".join(e(c) for c in row) + " |" for row in b.rows]
            lines.append("")
        elif b.kind == "figure":
            if figures and b.key in figures:
                lines += [f"![Figure {numbers[b.key]}]({figures[b.key]})", ""]
            lines += [f"*{e(b.text)}*", ""]
        elif b.kind == "bullets":
            lines += [f"- {e(item)}" for item in b.items] + [""]
        elif b.kind == "references":
            lines += [e(item) for item in b.items] + [""]
        else:  # meta, small, note, paragraph
            lines += [e(b.text), ""]
    return "\n".join(lines)


_SVG_BAD_TAGS = {"script", "foreignobject", "iframe", "object", "embed"}


def _inline_svg(svg: str) -> str | None:
    """The SVG element for inlining, or None if it carries anything active (scripts, event
    handlers, javascript: links) or does not parse."""
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", svg).strip()
    text = re.sub(r"^<!DOCTYPE[^>]*>", "", text).strip()
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in _SVG_BAD_TAGS:
            return None
        for name, value in el.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return None
            if local == "href" and value.strip().lower().startswith(("javascript:", "data:text")):
                return None
    return text if root.tag.rsplit("}", 1)[-1] == "svg" else None


HTML_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; }
.label { background: #fff3cd; border: 1px solid #e0b84c; padding: .6rem .8rem; }
table { border-collapse: collapse; font-size: .85rem; margin: .5rem 0; }
th, td { border: 1px solid #bbb; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f0f0f0; } tr.cohort td { font-weight: bold; color: #c0392b; }
figure { margin: 1rem 0; overflow-x: auto; } figcaption { font-size: .85rem; color: #555; }
.caveats li, .refs li { font-size: .9rem; margin-bottom: .3rem; }
.meta { color: #555; font-size: .9rem; }
"""


def to_html(summary: EvidenceSummary, figures: Mapping[str, str] | None = None) -> str:
    """A standalone HTML page (no external resources): escaped text, inline SVG figures.

    `figures` maps subtype -> SVG text (comparators.export.chart_svg); an SVG that carries
    anything active is left out with a note.
    """
    def e(text: object) -> str:
        return html.escape(renderable_text(str(text)))

    figures = figures or {}
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(summary.title)}</title>", f"<style>{HTML_STYLE}</style>", "</head>",
           "<body>"]
    for b in summary.blocks():
        if b.kind == "title":
            out.append(f"<h1>{e(b.text)}</h1>")
        elif b.kind == "label":
            out.append(f'<p class="label"><strong>{e(b.header[0])}</strong> — {e(b.text)}</p>')
        elif b.kind == "heading":
            anchor = f' id="{e(b.key)}"' if b.key else ""
            out.append(f"<h{b.level + 1}{anchor}>{e(b.text)}</h{b.level + 1}>")
        elif b.kind == "table":
            out += ["<table>", "<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in b.header)
                    + "</tr></thead>", "<tbody>"]
            for row, strong in zip(b.rows, b.emphasis or (False,) * len(b.rows), strict=True):
                cls = ' class="cohort"' if strong else ""
                out.append(f"<tr{cls}>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
            out += ["</tbody>", "</table>"]
        elif b.kind == "figure":
            if b.key in figures:
                svg = _inline_svg(figures[b.key])
                body = svg if svg is not None else "<p>(figure left out: it did not pass the " \
                                                   "safety check)</p>"
                out.append(f"<figure>{body}<figcaption>{e(b.text)}</figcaption></figure>")
        elif b.kind == "bullets":
            out += ['<ul class="caveats">'] + [f"<li>{e(i)}</li>" for i in b.items] + ["</ul>"]
        elif b.kind == "references":
            out.append('<ol class="refs">')
            for r in summary.references:
                links = " ".join(f'<a href="{e(url)}">{e(name)}</a>'
                                 for name, url in r.links.items()
                                 if url.startswith(("https://", "http://")))
                out.append(f"<li>{e(r.text)} {links}</li>")
            out.append("</ol>")
        elif b.kind in {"meta", "small", "note"}:
            out.append(f'<p class="meta">{e(b.text)}</p>')
        else:
            out.append(f"<p>{e(b.text)}</p>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def to_docx(summary: EvidenceSummary, figures_png: Mapping[str, bytes] | None = None) -> bytes:
    """A Word document of the same blocks: headings, paragraphs, tables, the figures (PNG)
    with their captions, the caveats as a bulleted list, methods and references.

    Every string passes `renderable_text` (t below): lxml refuses the control characters XML
    forbids, and a cohort name or an uploaded cell can hold one."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Inches, Pt, RGBColor

    t = renderable_text

    figures_png = figures_png or {}
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    props = doc.core_properties
    props.title = t(summary.title)
    props.author = props.last_modified_by = f"Sarcoma AI+ICI explorer {APP_VERSION}"
    props.subject = t("Evidence summary: " + ", ".join(summary.subtypes))
    props.keywords = "soft-tissue sarcoma; angiogenesis inhibitor; immune checkpoint inhibitor"
    # Word limits core properties to 255 characters; the full stamp is in the document body.
    props.comments = t("; ".join(filter(None, [summary.data_label, summary.stamp])))[:255]

    def small(text: str, size: float = 8.5, italic: bool = False) -> None:
        run = doc.add_paragraph().add_run(t(text))
        run.font.size = Pt(size)
        run.italic = italic

    for b in summary.blocks():
        if b.kind == "title":
            doc.add_heading(t(b.text), level=0)
        elif b.kind == "label":
            p = doc.add_paragraph()
            run = p.add_run(t(b.header[0].upper()))
            run.bold = True
            run.font.color.rgb = RGBColor(0xC0, 0x39, 0x2B)
            p.add_run(t(f" — {b.text}"))
        elif b.kind == "meta":
            doc.add_paragraph().add_run(t(b.text)).italic = True
        elif b.kind in {"small", "note"}:
            small(b.text)
        elif b.kind == "heading":
            doc.add_heading(t(b.text), level=b.level)
        elif b.kind == "table":
            table = doc.add_table(rows=1 + len(b.rows), cols=len(b.header))
            table.style = "Table Grid"
            for j, h in enumerate(b.header):
                table.rows[0].cells[j].text = t(h)
                for run in table.rows[0].cells[j].paragraphs[0].runs:
                    run.bold = True
            for i, (row, strong) in enumerate(
                    zip(b.rows, b.emphasis or (False,) * len(b.rows), strict=True), start=1):
                for j, value in enumerate(row):
                    cell = table.rows[i].cells[j]
                    cell.text = t(value)
                    for run in cell.paragraphs[0].runs:
                        run.font.size = Pt(8.5)
                        run.bold = bool(strong)
        elif b.kind == "figure":
            if b.key in figures_png:
                doc.add_picture(io.BytesIO(figures_png[b.key]), width=Inches(6.5))
                doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
                small(b.text, 9, italic=True)
        elif b.kind == "bullets":
            for item in b.items:
                doc.add_paragraph(t(item), style="List Bullet")
        elif b.kind == "references":
            for item in b.items:
                p = doc.add_paragraph(t(item))
                p.paragraph_format.left_indent = Inches(0.3)
                p.paragraph_format.first_line_indent = Inches(-0.3)
        else:
            doc.add_paragraph(t(b.text))
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- reference values

#: The landmark (months) of each progression-free-rate endpoint, as reference_values.csv has it.
LANDMARK_MONTHS = {"pfs3": 3, "pfs6": 6}


@dataclass(frozen=True)
class ReferenceLine:
    """One EORTC reference value offered for a forest plot: its id (link value), the rate
    (a fraction), how the chart labels it, and how a sentence names it with its source."""

    id: str
    rate: float
    chart_label: str
    sentence: str
    source: str = ""  # its key in references.csv


def reference_lines(values: pd.DataFrame, references: pd.DataFrame, endpoint: str,
                    subtype: str) -> list[ReferenceLine]:
    """The reference values (evidence.reference_values) for a progression-free-rate endpoint
    at its landmark, for all soft-tissue sarcoma and for `subtype`; [] for other endpoints."""
    months = LANDMARK_MONTHS.get(endpoint)
    if months is None:
        return []
    authors = dict(zip(references["ref"].astype(str), references["authors"].astype(str),
                       strict=True))
    years = dict(zip(references["ref"].astype(str), references["year"].astype(str),
                     strict=True))
    out: list[ReferenceLine] = []
    for r in values.itertuples(index=False):
        if int(r.months) != months or str(r.subtype) not in {"STS", subtype}:
            continue
        source = str(r.source)
        first = authors.get(source, source).split(",")[0].rsplit(" ", 1)[0]
        cite = f"{first} {years.get(source, '')}".strip()
        upper = "" if pd.isna(r.rate_upper) else f"–{100 * float(r.rate_upper):.0f}"
        rate = f"{100 * float(r.rate):.0f}{upper}%"
        kind = str(r.kind)
        base = f"{source}-{r.subtype}-{str(r.line).replace(' ', '')}-{kind.split()[0]}"
        rid = base + ("" if base not in {o.id for o in out}
                      else f"-{sum(o.id.startswith(base) for o in out) + 1}")
        out.append(ReferenceLine(
            rid, float(r.rate), f"{cite} {kind.split()[0]} ({r.subtype}, {r.line})",
            f"{kind} {rate} ({r.population}; {cite})", source))
    return out


def reference_sentence(bm: SubtypeBenchmark, lines: Sequence[ReferenceLine]) -> str:
    """The sentence that names the chosen reference values beside the pooled rate."""
    if not lines:
        return ""
    e = endpoint_of(bm)
    return (f"EORTC reference values for the {e.name}: "
            + "; ".join(line.sentence for line in lines) + ".")


# --------------------------------------------------------------------------- median PFS

#: The class table of a median PFS section (the interval's name is added per section).
MEDIAN_POOL_HEADER = ("Class", "Arms (k)", "Patients", "Median PFS, months", "Pooled by",
                      "I² %", "τ²", "Refs.")
MEDIAN_TABLE_HEADER = ("Study", "Arm", "Class", "Patients", "Median PFS, months (interval)",
                       "Source", "Ref.")


@dataclass(frozen=True, eq=False)
class MedianSection(_SectionProse):
    """What the summary says about one subtype's median PFS (months): the lead, the class
    table, the forest figure, the arms and the caveats, all read from one `MedianBenchmark`.
    No GRADE summary of findings (`NO_CERTAINTY` says why) and no test between classes."""

    subtype: str
    name: str
    benchmark: MedianBenchmark
    lead: str
    pools: tuple[tuple[str, ...], ...]
    pools_note: str
    details: str
    trials: pd.DataFrame  # one row per arm with a median, this cohort first
    caveats: tuple[str, ...]
    figure_number: int = 0
    caption: str = ""
    endpoint_notes: tuple[str, ...] = (NO_CERTAINTY,)


    @property
    def pool_header(self) -> tuple[str, ...]:
        interval = self.benchmark.options.interval_name
        return (MEDIAN_POOL_HEADER[:3] + (f"{MEDIAN_POOL_HEADER[3]} ({interval})",)
                + MEDIAN_POOL_HEADER[4:])

    def methods(self) -> str:
        """Written from the pooled results: each class's method as its result names it."""
        return self.benchmark.methods_paragraph()

    def frames(self) -> list[pd.DataFrame]:
        """The arms' medians, then the class pools, in months."""
        pools = self.benchmark.class_table().assign(subtype=self.subtype)
        pools.insert(1, "kind", [f"pooled class ({s})" for s in pools["scope"]])
        return [self.trials.assign(kind="arm", unit="months"),
                pools.rename(columns={"class": "regimen_class"})]

    def to_dict(self) -> dict[str, Any]:
        """The keys of a rate's section (no overall pool, no test between classes, no
        comparisons: None or empty), numbers in months, plus this cohort's own median."""
        bm = self.benchmark
        return {
            "subtype": self.subtype, "name": self.name, "narrative": self.narrative,
            "endpoint": bm.endpoint, "unit": "months", "pooled": None,
            "classes": {c: p.to_dict() for c, p in bm.class_pools.items()},
            "comparisons": [], "q_between": None, "q_between_df": None, "q_between_p": None,
            "figure": self.figure_number, "lead": self.lead,
            "endpoint_notes": list(self.endpoint_notes), "details": self.details,
            "cohort": bm.cohort.to_dict() if bm.cohort.reported else None,
            "cohort_note": bm.cohort.source,
            "pools": [dict(zip(self.pool_header, row, strict=True)) for row in self.pools],
            "trials": [{k: _json(v) for k, v in r.items()}
                       for r in self.trials.to_dict("records")],
            "caveats": list(self.caveats), "methods": self.methods(),
        }


def _median_model(options: AnalysisOptions) -> str:
    """The model line of a median PFS summary (no effect measure or arm interval method)."""
    return (f"median PFS per regimen class by the method each class's reporting allows: "
            f"log-median inverse variance ({MODEL_CHOICES.short(options.method)}"
            f"{', HKSJ' if options.hksj and options.method != 'FE' else ''}) when every arm "
            f"prints an interval, else the weighted median of medians (McGrath et al.); "
            f"{options.level_text} confidence intervals")


def _median_cell(low: float | None, high: float | None, estimate: float) -> str:
    ci = interval_text(low, high)
    return months_text(estimate) + (f" ({ci})" if ci else "")


def _median_phrase(pool: MedianClassPool, interval: str, named: bool) -> str:
    """'35.20 months (95% CI 12.40–35.20; 2 arms)', naming the pooling method unless the
    lead names it once for every class (`named`)."""
    ci = interval_text(pool.low, pool.high)
    if pool.pooled is None:
        ci_text = f"reported interval {ci}" if ci else "no interval printed"
        return f"{months_text(pool.estimate)} months ({ci_text}; 1 arm, not pooled)"
    method = "" if named else f" pooled by the {pool.method_name}"
    return f"{months_text(pool.estimate)} months ({interval} {ci}; {pool.k} arms{method})"


def _median_section(
    bm: MedianBenchmark, name: str, cohort: ThisCohort, data_label: str | None,
    classes: Sequence[str] | None, cites: _Citations, findings: pd.DataFrame,
    claims: pd.DataFrame | None, surnames: Mapping[str, str], figure_number: int,
    study_names: Mapping[str, str],
) -> MedianSection:
    """A subtype's median PFS section, citing every arm's source through the summary's
    citations in reading order (the lead's classes, this cohort, then the arms table)."""
    rows = bm.rows
    marks = verification_marks(rows)
    reported = [c for c in bm.class_pools if classes is None or c in set(classes)]
    refs: dict[str, str] = {}
    for cls in reported:
        refs[cls] = _class_refs(rows, bm.class_pools[cls].keys, marks, cites)
    # The published cohort's median (its subtype's, else the all-subtype one its note names)
    # cites what it was read from; an edited, synthetic or uploaded cohort's cites nothing.
    own = cohort.rows[cohort.rows["subtype"].astype(str).isin([bm.subtype, ALL_SUBTYPES_CODE])
                      & pd.to_numeric(cohort.rows.get("pfs_median_months", pd.Series(
                          None, index=cohort.rows.index, dtype=float)), errors="coerce").notna()]
    cited = cites.cite(_read_from(own.iloc[0])) if data_label is None and not own.empty else None
    cohort_refs = f" [{cited}]" if cited else ""
    lead = _median_lead(bm, reported, refs, classes, _cohort_phrase(cohort, data_label),
                        cohort_refs)
    pools = _median_pool_rows(bm, reported, refs, cohort.label, cohort_refs.strip())
    inside = "inside" if bm.options.include_cohort else "outside"
    pools_note = (f"Median PFS in months with its {bm.options.interval_name} per class pool (a "
                  "class of one arm: that arm's reported interval); NR: upper limit not "
                  "reached. Blank I² or τ²: not part of the method (median of medians, one "
                  f"arm). This cohort {inside} its class pool. Medians are set side by side, "
                  "not tested against each other.")
    details = (f"Left out by the user: {', '.join(bm.label(k) for k in bm.excluded)}."
               if bm.excluded else "")
    arms = with_study_names(_median_arms(bm, marks, cites, data_label), study_names, cohort)
    studies = set(rows["study"].astype(str)) | ({cohort.replaces} if cohort.replaces else set())
    used = {str(r) for r in rows["ref"].dropna()}
    caveats = _audit_caveats(findings, claims, studies, bm.subtype,
                             {k: v for k, v in surnames.items() if k in used})
    caveats += [n[:1].upper() + n[1:] for n in bm.notes]
    sources = _figure_sources(rows[~rows["is_cohort"].astype(bool)], study_names, marks, cites)
    caption = (f"Figure {figure_number}. Median progression-free survival in {bm.subtype} "
               f"({name}), months: each arm's reported median with its interval (▷: upper limit "
               f"not reached) and each class's pooled median (diamond; its method in the "
               f"methods). {sources}." + (" Marks as in the legend at the top." if marks else ""))
    return MedianSection(bm.subtype, name, bm, lead, pools, pools_note, details, arms,
                         tuple(caveats), figure_number, caption)


def _median_lead(bm: MedianBenchmark, reported: Sequence[str], refs: Mapping[str, str],
                 classes: Sequence[str] | None, phrase: str, cohort_refs: str) -> str:
    """Each reported class's median with its interval, k and method (named once when every
    pooled class used the same one), then this cohort's own median or why there is none."""
    if reported:
        methods = {bm.class_pools[c].method_name for c in reported
                   if bm.class_pools[c].pooled is not None}
        one = len(methods) == 1
        pools = [f"{_median_phrase(bm.class_pools[c], bm.options.interval_name, one)} for "
                 f"{CLASS_PHRASES.get(c, c)}{refs[c]}" for c in reported]
        first = (f"In {bm.subtype}, the median progression-free survival was "
                 f"{_and(pools)}." + (f" Each class of two or more arms was pooled by the "
                                      f"{methods.pop()}." if one else ""))
    else:
        first = (f"No comparator arm of the selected regimen classes "
                 f"({', '.join(classes or ()) or 'none'}) reports a median PFS in {bm.subtype}.")
    upper = phrase[0].upper() + phrase[1:]
    own = (f"{upper}{cohort_refs}: median PFS {bm.cohort.text}, {bm.cohort.source}."
           if bm.cohort.reported else f"{upper}: median PFS {bm.cohort.source}{cohort_refs}.")
    return f"{first} {own}"


def _median_pool_rows(bm: MedianBenchmark, reported: Sequence[str], refs: Mapping[str, str],
                      cohort_label: str, cohort_refs: str) -> tuple[tuple[str, ...], ...]:
    """The class table (MEDIAN_POOL_HEADER): this cohort beside the pools, then each class."""
    table: list[tuple[str, ...]] = []
    c = bm.cohort
    if c.reported and not bm.options.include_cohort:
        own_n = bm.rows.loc[bm.rows["is_cohort"].astype(bool), "evaluable"].dropna()
        table.append((cohort_label, "1", str(int(own_n.iloc[0])) if len(own_n) else "",
                      _median_cell(c.low, c.high, c.estimate or 0.0), c.source, "", "",
                      cohort_refs))
    for cls in reported:
        p = bm.class_pools[cls]
        fit = p.pooled
        i2 = "" if fit is None or fit.i2 is None else f"{fit.i2:.0f}"
        tau2 = "" if fit is None or fit.tau2 is None else f"{fit.tau2:.3f}"
        table.append((CLASS_PHRASES.get(cls, cls) + (" (incl. this cohort)"
                                                     if p.includes_cohort else ""),
                      str(p.k), str(p.n), _median_cell(p.low, p.high, p.estimate),
                      p.method_name, i2, tau2, refs[cls].strip()))
    return tuple(table)


def _median_arms(bm: MedianBenchmark, marks: Mapping[str, str], cites: _Citations,
                 data_label: str | None) -> pd.DataFrame:
    """One row per arm with a median (this cohort first, then by class and longest median),
    each citing what its numbers were read from."""
    rows = bm.rows
    order = class_order(rows["regimen_class"])
    ordered = rows.assign(_class=[order.index(c) for c in rows["regimen_class"]],
                          _own=~rows["is_cohort"].astype(bool)).sort_values(
        ["_own", "_class", "median"], ascending=[True, True, False])
    arms = pd.DataFrame([{
        "subtype": bm.subtype, "study": str(r["study"]), "label": bm.label(str(r["key"])),
        "arm": str(r["arm"]), "regimen_class": str(r["regimen_class"]),
        "is_cohort": bool(r["is_cohort"]),
        "patients": None if pd.isna(r.get("evaluable")) else int(r["evaluable"]),
        "median": float(r["median"]), "low": r["median_low"], "high": r["median_high"],
        "verified": data_label if bool(r["is_cohort"]) and data_label else
        cell_text(r.get("verified")),
        "mark": marks.get(str(r["key"]), ""), "source_type": cell_text(r.get("source_type")),
        "ref_number": None if bool(r["is_cohort"]) and data_label else cites.cite(_read_from(r)),
        "study_ref_number": None if bool(r["is_cohort"]) and data_label else
        cites.cite(_study_reference(r)),
        "locator": cell_text(r.get("locator")), "note": cell_text(r.get("note")),
    } for _, r in ordered.iterrows()])
    for col in ("ref_number", "study_ref_number", "patients"):
        arms[col] = arms[col].astype("Int64")
    return arms


def _median_blocks(s: MedianSection, rob: tuple[pd.DataFrame, str] | None) -> list[Block]:
    """A median PFS section in reading order, from the summary's own block kinds."""
    cells = [((f"{r.study_label} (this cohort)" if r.is_cohort else f"{r.study_label}{r.mark}"),
              r.arm, r.regimen_class, "" if pd.isna(r.patients) else str(r.patients),
              _median_cell(_float(r.low), _float(r.high), r.median),
              r.verified if r.is_cohort else (r.source_type or r.verified),
              "" if pd.isna(r.ref_number) else str(int(r.ref_number))
              + ("" if pd.isna(r.study_ref_number) else f" (study {int(r.study_ref_number)})"))
             for r in s.trials.itertuples(index=False)]
    out = [Block("heading", s.heading, 1, key=s.subtype), Block("paragraph", s.lead),
           *(Block("paragraph", note) for note in s.endpoint_notes),
           Block("heading", f"Median PFS by regimen class ({s.subtype})", 2),
           Block("table", header=s.pool_header, rows=s.pools,
                 emphasis=tuple(i == 0 and s.benchmark.cohort.reported
                                and not s.benchmark.options.include_cohort
                                for i in range(len(s.pools)))),
           Block("note", s.pools_note)]
    if s.details:
        out.append(Block("paragraph", s.details))
    out += certainty_blocks(s.subtype, None, rob)
    out += [Block("figure", s.caption, key=s.subtype),
            Block("heading", f"Trials used ({s.subtype})", 2),
            Block("table", header=MEDIAN_TABLE_HEADER, rows=tuple(cells),
                  emphasis=tuple(bool(c) for c in s.trials["is_cohort"])),
            Block("note", "Each arm's reported Kaplan-Meier median PFS with its printed "
                          "interval; Ref. = the reference the numbers were read from.")]
    if s.caveats:
        out += [Block("heading", f"Data caveats ({s.subtype})", 2),
                Block("bullets", items=s.caveats)]
    return out


def _float(value: object) -> float | None:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None
