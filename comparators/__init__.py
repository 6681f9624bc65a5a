"""The explorer's engine: pure, typed statistics and data for the sarcoma AI+ICI explorer.

Nothing here imports streamlit; everything is usable from a notebook or the CLI
(`python -m comparators`). The pipeline, one sub-package per stage:

- ``stats``: numbers in, frozen results out (proportions, pooling, GLMM, Bayes, trial design,
  survival, reconstruction); knows nothing of trials or cohorts.
- ``evidence``: the one row shape and what produces or checks rows (catalog, seed cohort, IPD,
  scenarios, case mix, audit).
- ``analysis``: questions asked of the evidence (benchmark a subtype, across subtypes).
- ``charts``: chart builders, a result in and a chart out (an Altair chart, or a Vega-Lite spec
  written as plain dicts where it is rebuilt on every option); ``reports``: evidence summaries,
  citations, exports.
- ``vocab`` (every choice table and label), ``limits`` (every bound on an input) and
  ``errors`` (``InputError``, the one base class).

The names below are what a notebook needs: load the evidence, ask a question, compute one
statistic, draw or write the answer. Everything else is reached by its module
(``from comparators.stats.pooling import effect_sizes``). Names load lazily (PEP 562), so
``import comparators`` stays cheap: ``comparators.pool_proportions`` imports only the pooling
module.
"""

from __future__ import annotations

import importlib
from typing import Any

from comparators.errors import InputError

_PUBLIC: dict[str, str] = {
    # the evidence
    "load_catalog": "evidence.catalog",
    "Catalog": "evidence.catalog",
    "trials_for": "evidence.catalog",
    "load_seed_cohort": "evidence.cohort",
    "published_cohort": "evidence.cohort",
    "ThisCohort": "evidence.cohort",
    "read_ipd": "evidence.ipd",
    "aggregate_ipd": "evidence.ipd",
    "apply_scenario": "evidence.scenario",
    "audit_published": "evidence.audit",
    "load_risk_of_bias": "evidence.risk_of_bias",
    "load_reference_values": "evidence.reference_values",
    "arm_labels": "evidence.labels",
    "row_key": "evidence.labels",
    # questions asked of it
    "AnalysisOptions": "analysis.options",
    "subtype_rows": "analysis.benchmark",
    "benchmark_subtype": "analysis.benchmark",
    "SubtypeBenchmark": "analysis.benchmark",
    "across_subtypes": "analysis.benchmark",
    "AcrossSubtypes": "analysis.benchmark",
    "borrow_across_subtypes": "analysis.borrowing",
    # one statistic
    "proportion_ci": "stats.proportions",
    "ProportionCI": "stats.proportions",
    "pool_proportions": "stats.pooling",
    "PooledProportion": "stats.pooled_result",
    "metareg_proportions": "stats.metareg",
    "pool_medians": "stats.medians",
    "km_fit": "stats.survival",
    "km_by_group": "stats.survival",
    "logrank": "stats.survival",
    "reconstruct_ipd": "stats.reconstruct",
    "simon_designs": "stats.phase2_design",
    "single_stage_design": "stats.phase2_design",
    "precision_table": "stats.phase2_design",
    "schoenfeld_events": "stats.event_sizing",
    "predictive_probability": "stats.bayes",
    # the answer drawn or written
    "forest_chart": "charts.forest",
    "km_chart": "charts.survival",
    "build_summary": "reports.summary",
    "to_markdown": "reports.summary",
    "to_html": "reports.summary",
    "to_docx": "reports.summary",
}

__all__ = ["InputError", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'comparators' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"comparators.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
