"""Planning a randomised PFS comparison from two medians (analysis.trial_plan).

Schoenfeld (Biometrics 1983;39:499-503), 1:1, two-sided alpha 0.05, power 0.80: a hazard ratio
of 0.70 needs 4 (1.95996 + 0.84162)^2 / ln(0.7)^2 = 31.40 / 0.12722 = 246.8, so 247 events
(worked by hand from the formula in the paper).
"""

from __future__ import annotations

import pytest

from comparators.analysis.trial_plan import (
    ControlArm,
    control_arms,
    default_control,
    months,
    plan_pfs_comparison,
)
from comparators.evidence.catalog import load_catalog
from comparators.stats.phase2_design import DesignInputError

CONTROL = ControlArm("TRIAL", "drug", "STS", 7.0)


def test_hr_0_7_needs_247_events() -> None:
    plan = plan_pfs_comparison(CONTROL, 10.0, accrual=24, follow_up=12)
    assert plan.hazard_ratio == pytest.approx(0.7)
    assert plan.size.events == 247
    assert ("uniform accrual over 24 months and 12 months of further follow-up, enrol "
            f"{plan.size.patients} patients") in plan.sentence()
    assert "a median of 10 months against 7 months (TRIAL · drug · STS)" in plan.sentence()


@pytest.mark.parametrize("experimental", [7.0, 6.0, 0.5])
def test_an_experimental_arm_no_better_than_control_is_refused(experimental: float) -> None:
    with pytest.raises(DesignInputError, match="would do no better"):
        plan_pfs_comparison(CONTROL, experimental, accrual=24, follow_up=12)


def test_medians_read_at_the_catalog_precision() -> None:
    assert months(5.50975) == "5.51 months"
    assert months(8.90) == "8.9 months"
    assert months(35.2) == "35.2 months"


def test_the_default_control_is_alter0203_sts_and_keys_are_stable() -> None:
    arms = control_arms(load_catalog().trials)
    key = default_control(arms)
    assert key == "ALTER0203|anlotinib|STS"
    assert arms[key].median == 6.27  # ALTER0203 (Chi 2018), anlotinib arm, data/trials.csv
    assert not any(k.startswith("LIU2023|") for k in arms)  # this cohort is not a control
    assert default_control({}) is None
