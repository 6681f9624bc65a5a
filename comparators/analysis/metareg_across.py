"""Meta-regression over every subtype's arms (the Across subtypes page): does the rate of the
chosen endpoint depend on line of therapy, publication year, design or regimen class?

The units are the arms each subtype's benchmark pooled (`AcrossSubtypes`: the same rows, the
same endpoint counts, the same exclusions), one arm-by-subtype row each; this cohort is a unit
only when the options put it inside its class pool. Arms without a value of a chosen moderator
are left out and named. The fit is `stats.metareg.metareg_proportions` (metafor's
``rma(yi, vi, mods = ~ ...)``); regimen class has ICI alone as its reference level, so the
AI+ICI coefficient is the AI+ICI vs ICI difference adjusted for the other moderators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from comparators.analysis.benchmark import AcrossSubtypes
from comparators.errors import InputError
from comparators.stats.metareg import Coefficient, MetaRegression, metareg_proportions

__all__ = ["ACROSS_MODERATORS", "AcrossMetaRegression", "across_metareg"]

#: The moderators offered (column of the rows -> how the page names it).
ACROSS_MODERATORS: dict[str, str] = {
    "line": "line of therapy (first line / pretreated / mixed)",
    "year": "publication year",
    "design": "design (prospective / retrospective)",
    "regimen_class": "regimen class (reference: ICI alone)",
}
_REFERENCE = {"regimen_class": "ICI"}


@dataclass(frozen=True, eq=False)  # holds a frame
class AcrossMetaRegression:
    """The fit, the arms it used (with their moderator values) and the arms left out."""

    result: MetaRegression
    arms: pd.DataFrame
    left_out: tuple[str, ...]
    endpoint: str

    @property
    def ai_ici_vs_ici(self) -> Coefficient | None:
        """AI+ICI minus ICI alone on the measure's scale, adjusted for the other moderators
        (None when regimen class is not a moderator or either class has no arm)."""
        term = "regimen_classAI+ICI"
        return self.result.coefficient(term) if term in self.result.terms else None


def _moderator_values(rows: pd.DataFrame, name: str) -> pd.Series:
    if name == "line":
        return rows["line_coded"].astype("string")
    if name == "year":
        return pd.to_numeric(rows["year"], errors="coerce")
    if name == "design":
        design = rows["design"].astype("string").str.lower()
        return design.map(lambda d: pd.NA if pd.isna(d) else
                          "retrospective" if "retrospective" in d else "prospective")
    return rows["regimen_class"].astype("string")


def across_metareg(across: AcrossSubtypes, moderators: Sequence[str]) -> AcrossMetaRegression:
    """Fit the meta-regression of every subtype's pooled arms on `moderators`."""
    unknown = [m for m in moderators if m not in ACROSS_MODERATORS]
    if unknown or not moderators:
        raise InputError(f"choose moderators among {', '.join(ACROSS_MODERATORS)}"
                         + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
    o = across.options
    moderators = list(dict.fromkeys(moderators))
    frames = [bm.rows.assign(subtype=code) for code, bm in across.benchmarks.items()]
    if not frames:
        raise InputError("no subtype has arms to regress")
    rows = pd.concat(frames, ignore_index=True)
    if not o.include_cohort:
        rows = rows[~rows["is_cohort"].astype(bool)]
    values = pd.DataFrame({m: _moderator_values(rows, m) for m in moderators},
                          index=rows.index)
    complete = values.notna().all(axis=1)
    names = [f"{lab} ({s})" for lab, s in zip(rows["label"], rows["subtype"], strict=True)]
    left_out = tuple(n for n, ok in zip(names, complete, strict=True) if not ok)
    used, values = rows[complete], values[complete]
    mods: dict[str, list[object]] = {
        m: [float(v) for v in values[m]] if m == "year" else [str(v) for v in values[m]]
        for m in moderators}
    reference = {m: r for m, r in _REFERENCE.items() if m in mods and r in set(mods[m])}
    result = metareg_proportions(
        used["responders"].astype(int).to_numpy(), used["evaluable"].astype(int).to_numpy(),
        mods, studies=[n for n, ok in zip(names, complete, strict=True) if ok],
        measure=o.measure if o.measure in ("logit", "raw", "ft", "arcsine") else "logit",
        method=o.method if o.method in ("REML", "ML", "DL", "PM") else "REML",
        hksj=o.hksj, hksj_variant=o.hksj_variant, level=o.level, reference=reference)
    arms = used[["label", "subtype", "responders", "evaluable"]].join(
        values.rename(columns=lambda m: f"moderator_{m}"))
    return AcrossMetaRegression(result, arms.reset_index(drop=True), left_out, o.endpoint)
