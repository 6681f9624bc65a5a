"""analysis.metareg_across: the units are the arms the Across subtypes benchmarks pooled, with
their moderators read from data/trials.csv; the fit itself is stats.metareg (checked against
metafor in tests/oracle)."""

from __future__ import annotations

import pandas as pd
import pytest

from comparators.analysis.benchmark import across_subtypes
from comparators.analysis.metareg_across import across_metareg
from comparators.analysis.options import AnalysisOptions
from comparators.errors import InputError
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.evidence.labels import arm_labels
from comparators.stats.metareg import metareg_proportions


@pytest.fixture(scope="module")
def across():  # type: ignore[no-untyped-def]
    cat = load_catalog()
    return across_subtypes(cat.trials, published_cohort(cat.trials), AnalysisOptions(),
                           labels=arm_labels(cat.trials, cat.references))


def pooled_comparators(across) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    rows = pd.concat([bm.rows for bm in across.benchmarks.values()], ignore_index=True)
    return rows[~rows["is_cohort"].astype(bool)]


def test_units_are_the_pooled_comparator_arms_and_missing_lines_are_named(across) -> None:
    rows = pooled_comparators(across)
    fit = across_metareg(across, ["line"])
    assert fit.result.k == int(rows["line_coded"].notna().sum())
    assert len(fit.left_out) == int(rows["line_coded"].isna().sum())
    assert sorted(fit.arms["responders"]) == sorted(
        rows.loc[rows["line_coded"].notna(), "responders"].astype(int))


def test_regimen_class_alone_is_the_plain_fit_with_ici_as_reference(across) -> None:
    rows = pooled_comparators(across)
    fit = across_metareg(across, ["regimen_class"])
    direct = metareg_proportions(rows["responders"].astype(int).to_numpy(),
                                 rows["evaluable"].astype(int).to_numpy(),
                                 {"regimen_class": list(rows["regimen_class"].astype(str))},
                                 reference={"regimen_class": "ICI"})
    adjusted = fit.ai_ici_vs_ici
    assert adjusted is not None
    assert adjusted.estimate == pytest.approx(
        direct.coefficient("regimen_classAI+ICI").estimate, rel=1e-10)
    assert "regimen_classICI" not in fit.result.terms  # ICI is the reference level


def test_design_is_prospective_or_retrospective(across) -> None:
    fit = across_metareg(across, ["design"])
    assert set(fit.arms["moderator_design"]) == {"prospective", "retrospective"}
    rows = pooled_comparators(across)
    retro = rows["design"].str.contains("retrospective", case=False).sum()
    assert int((fit.arms["moderator_design"] == "retrospective").sum()) == int(retro)


def test_unknown_or_no_moderator_is_refused(across) -> None:
    with pytest.raises(InputError, match="choose moderators"):
        across_metareg(across, [])
    with pytest.raises(InputError, match="unknown: dose"):
        across_metareg(across, ["dose"])
