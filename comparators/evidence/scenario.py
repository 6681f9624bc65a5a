"""What-if scenarios: this cohort's subtype counts, edited, as a hypothetical `ThisCohort`.

Pipeline: `scenario_table(cohort)` gives the editable counts (one row per subtype, the
all-subtypes row left out) -> the user edits them -> `apply_scenario(edited, base, known)`
validates every row and returns a hypothetical `ThisCohort` in the shared row shape plus the
problems it refused, each naming the row and the column.

The all-subtypes row (STS) is *not* the sum of the subtype rows: the seed cohort itemises only
some subtypes (ASPS 7, AS 2, LMS 2, DDLPS 3 of 27 evaluable). So the scenario keeps the base STS
row and adds the edits' deltas (new minus old counts per subtype) to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.columns import Column, responders_within_evaluable
from comparators.inputs import is_missing
from comparators.vocab import AGGREGATE_SUBTYPES

SCENARIO_COLUMNS = ["subtype", "evaluable", "responders"]
HYPOTHETICAL_LABEL = "This cohort (hypothetical scenario)"
HYPOTHETICAL_CAVEAT = "Hypothetical: edited from the published counts; not observed data."


def source_name(cohort: ThisCohort) -> str:
    """How captions name the real cohort a scenario is edited from."""
    if cohort.kind == "hypothetical":
        return cohort.derived_label or "an earlier cohort"
    return "the published counts" if cohort.kind == "published" else cohort.label


def scenario_caveat(source: str) -> str:
    return (HYPOTHETICAL_CAVEAT if source == "the published counts" else
            f"Hypothetical: edited from {source}; not observed data.")
# Columns that no longer describe a row once its counts are edited.
_DETAIL_COLUMNS = ("cr", "pr", "sd", "pd", "unconfirmed", "pfs_median_months", "pfs_low",
                   "pfs_high")


@dataclass(frozen=True)
class ScenarioProblem:
    """One refused edit: `row` is 1-based as the user sees it in the editor."""

    row: int
    subtype: str
    column: str
    message: str

    def text(self) -> str:
        where = f"Row {self.row}" + (f" ({self.subtype})" if self.subtype else "")
        return f"{where}, column '{self.column}': {self.message}"

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "subtype": self.subtype, "column": self.column,
                "message": self.message}


def scenario_table(cohort: ThisCohort) -> pd.DataFrame:
    """The editable counts: one row per itemised subtype (aggregate rows left out)."""
    rows = cohort.rows[~cohort.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    out = pd.DataFrame({
        "subtype": rows["subtype"].astype(str).to_numpy(),
        "evaluable": rows["evaluable"].astype(int).to_numpy(),
        "responders": rows["responders"].astype(int).to_numpy(),
    })
    return out.reset_index(drop=True)


def _is_blank(value: object) -> bool:
    return is_missing(value, markers=False)


MAX_PATIENTS = limits.MAX_SCENARIO_PATIENTS
#: How each edited cell is read (evidence.columns); messages name no place, the problem does.
SCENARIO_SPEC: dict[str, Column] = {c.name: c for c in (
    Column("subtype", max_chars=40),
    Column("evaluable", "count", required=True, maximum=MAX_PATIENTS),
    Column("responders", "count", required=True, maximum=MAX_PATIENTS),
)}
#: One accepted row: (subtype code, evaluable, responders).
Counts = tuple[str, int, int]


def _subtype_problem(code: str, known: set[str]) -> str | None:
    """Why a subtype code cannot be a row of the scenario, or None."""
    if not code:
        return "a subtype code is required"
    if code in AGGREGATE_SUBTYPES:
        return (f"'{code}' is the all-subtypes row, which is recomputed from the subtype rows; "
                "edit a subtype instead")
    if code not in known:
        return (f"unknown subtype code {code!r} "
                "(use a code from the subtype vocabulary, e.g. ASPS, LMS, DDLPS)")
    return None


def _check_row(
    position: int, record: dict[str, object], known: set[str]
) -> tuple[Counts | None, list[ScenarioProblem]]:
    problems: list[ScenarioProblem] = []
    try:
        code = (SCENARIO_SPEC["subtype"].text(record.get("subtype"), where="") or "").upper()
    except InputError as exc:
        code = ""
        problems.append(ScenarioProblem(position, code, "subtype", str(exc)))
    else:
        why = _subtype_problem(code, known)
        if why:
            problems.append(ScenarioProblem(position, code, "subtype", why))
    counts: dict[str, int] = {}
    for column in ("evaluable", "responders"):
        try:
            counts[column] = SCENARIO_SPEC[column].read(record.get(column), where="")
        except InputError as exc:
            problems.append(ScenarioProblem(position, code, column, str(exc)))
    too_many = responders_within_evaluable(counts.get("responders"), counts.get("evaluable"))
    if too_many:
        problems.append(ScenarioProblem(position, code, "responders", too_many))
    if problems:
        return None, problems
    return (code, counts["evaluable"], counts["responders"]), []


def _edited_row(template: pd.Series, subtype: str, evaluable: int, responders: int,
                note: str) -> dict[str, object]:
    row = template.to_dict()
    changed = (int(template["evaluable"]), int(template["responders"])) != (evaluable, responders)
    row.update(subtype=subtype, evaluable=evaluable, responders=responders)
    if changed or str(template["subtype"]) != subtype:
        for column in _DETAIL_COLUMNS:
            if column in row:
                row[column] = pd.NA
        row["note"] = note
    return row


def apply_scenario(
    edited: pd.DataFrame, base: ThisCohort, known_subtypes: Iterable[str]
) -> tuple[ThisCohort, list[ScenarioProblem]]:
    """Validate the edited table against `base` and build the hypothetical cohort.

    Every row is checked (subtype code known, counts whole numbers >= 0, responders <=
    evaluable, no subtype twice). A refused row keeps its previous value (the base row at the
    same position) or, if it was added, is left out; the valid rows are kept. The all-subtypes
    row is the base STS row plus the deltas of the subtype edits.
    """
    known = {str(c).upper() for c in known_subtypes} - AGGREGATE_SUBTYPES
    before = scenario_table(base)
    accepted, problems = _accepted_rows(edited, before, known)
    source = source_name(base)
    totals, total_problems = _all_subtype_rows(base, before, accepted, source)
    rows = totals + _subtype_rows(base, accepted, source)
    columns = list(base.rows.columns)
    out = pd.DataFrame(rows, columns=columns)
    for column, dtype in base.rows.dtypes.items():
        try:
            out[column] = out[column].astype(dtype)
        except (TypeError, ValueError):
            pass  # keep the inferred dtype rather than fail on an odd column
    study = base.study if base.kind == "hypothetical" else f"{base.study} (hypothetical)"
    out["study"] = study
    cohort = ThisCohort(
        study=study,
        label=HYPOTHETICAL_LABEL,
        rows=out.reset_index(drop=True),
        kind="hypothetical",
        caveat=scenario_caveat(source),
        replaces=base.replaces or base.study,
        derived_from=base.source,
        derived_label=source,
    )
    return cohort, problems + total_problems


def _accepted_rows(edited: pd.DataFrame, before: pd.DataFrame,
                   known: set[str]) -> tuple[list[Counts], list[ScenarioProblem]]:
    """The edited rows that pass, each subtype once; a refused row falls back to the row it
    replaced (when that subtype is not already taken) or is left out, and says which."""
    problems: list[ScenarioProblem] = []
    accepted: list[Counts] = []
    seen: set[str] = set()
    # st.data_editor keeps the original rows' index labels (0 .. len - 1), gives added rows
    # labels from len upwards and drops deleted rows, so the label says which row it was.
    for position, (label, rec) in enumerate(edited.iterrows(), start=1):
        record = {c: rec.get(c) for c in SCENARIO_COLUMNS}
        original = (isinstance(label, int | np.integer) and not isinstance(label, bool)
                    and 0 <= int(label) < len(before))
        if not original and all(_is_blank(v) for v in record.values()):
            continue  # a freshly added, still empty row: nothing to check yet
        value, row_problems = _check_row(position, record, known)
        if value is not None and value[0] in seen:
            row_problems = [ScenarioProblem(position, value[0], "subtype",
                                            f"{value[0]} appears twice; each subtype once")]
            value = None
        if row_problems:
            fallback = None
            if original:
                prev = before.loc[int(label)]
                fallback = (str(prev["subtype"]), int(prev["evaluable"]),
                            int(prev["responders"]))
            kept = ("kept its previous value "
                    f"{fallback[0]} {fallback[2]}/{fallback[1]}" if fallback
                    and fallback[0] not in seen else "left out")
            if fallback is not None and fallback[0] in seen:
                fallback = None
            problems += [ScenarioProblem(p.row, p.subtype, p.column, f"{p.message}; the row "
                                         f"{kept}") for p in row_problems]
            value = fallback
        if value is not None:
            accepted.append(value)
            seen.add(value[0])
    return accepted, problems


def _subtype_rows(base: ThisCohort, accepted: list[Counts],
                  source: str) -> list[dict[str, object]]:
    """The accepted subtype rows in the row shape, each noting what it was edited from."""
    base_rows = base.rows[~base.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    template_by_code = {str(r["subtype"]): r for _, r in base_rows.reset_index(drop=True)
                        .iterrows()}
    aggregate = base.rows[base.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    template_any = aggregate.iloc[0] if not aggregate.empty else base.rows.iloc[0]
    rows: list[dict[str, object]] = []
    for code, n, k in accepted:
        template = template_by_code.get(code)
        if template is not None:
            was = f"{int(template['responders'])}/{int(template['evaluable'])}"
            was = (f"{was} (an earlier edit of {source})" if base.kind == "hypothetical" else
                   f"the published {was}" if base.kind == "published" else f"{was} in {source}")
            note = f"Hypothetical: edited from {was} to {k}/{n}; not observed data."
            rows.append(_edited_row(template, code, n, k, note))
        else:
            row = _edited_row(template_any, code, n, k,
                              f"Hypothetical: subtype row added in a what-if scenario "
                              f"({k}/{n}); not observed data.")
            if "subtype_as_reported" in row:
                row["subtype_as_reported"] = f"{code} (hypothetical)"
            rows.append(row)
    return rows


def _all_subtype_rows(base: ThisCohort, before: pd.DataFrame, accepted: list[Counts],
                      source: str) -> tuple[list[dict[str, object]], list[ScenarioProblem]]:
    """The base cohort's all-subtype rows plus the edits' deltas (they are not the sum of the
    subtype rows); an impossible result keeps the base counts and says so."""
    old = {str(r["subtype"]): (int(r["evaluable"]), int(r["responders"]))
           for _, r in before.iterrows()}
    new = {code: (n, k) for code, n, k in accepted}
    d_n = sum(v[0] for v in new.values()) - sum(v[0] for v in old.values())
    d_k = sum(v[1] for v in new.values()) - sum(v[1] for v in old.values())
    aggregate = base.rows[base.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    problems: list[ScenarioProblem] = []
    total_rows: list[dict[str, object]] = []
    for _, agg in aggregate.iterrows():
        row = agg.to_dict()
        n, k = int(agg["evaluable"]) + d_n, int(agg["responders"]) + d_k
        if n < 0 or k < 0 or k > n:
            problems.append(ScenarioProblem(0, str(agg["subtype"]), "responders",
                                            f"the recomputed all-subtypes row would be {k}/{n}; "
                                            f"kept the counts of {source}"))
            n, k = int(agg["evaluable"]), int(agg["responders"])
        if (n, k) != (int(agg["evaluable"]), int(agg["responders"])):
            for column in ("cr", "pr", "sd", "pd", "unconfirmed"):
                if column in row:
                    row[column] = pd.NA
            row["note"] = (
                f"Hypothetical: the {agg['subtype']} row of {source} "
                f"({int(agg['responders'])}/{int(agg['evaluable'])}) plus the edits' deltas "
                f"({d_k:+d} responders, {d_n:+d} evaluable) = {k}/{n}. Not the sum of the "
                "subtype rows, which do not cover every patient. Median PFS is unchanged (the "
                "scenario edits responses only)."
            )
        row.update(evaluable=n, responders=k)
        total_rows.append(row)
    return total_rows, problems


def same_counts(a: ThisCohort, b: ThisCohort) -> bool:
    """True when two cohorts have the same subtype counts (a scenario with no effective edit)."""
    def key(c: ThisCohort) -> list[tuple[str, int, int]]:
        t = scenario_table(c)
        return sorted(zip(t["subtype"], t["evaluable"], t["responders"], strict=True))
    return key(a) == key(b)
