"""Guyot et al. (BMC Med Res Methodol 2012;12:9) reconstruction, checked on the NCCTG lung data.

Published reference values (R `survival`, lung data, Loprinzi et al. 1994):
* survfit(SurvObj ~ sex, data = lung, conf.type = "log-log"):
      sex=1 n 138, events 112, median 270; sex=2 n 90, events 53, median 426
* coxph(Surv(time, status) ~ sex, data = lung):
      coef -0.5310, exp(coef) 0.5880, se 0.1672, p 0.00149; lower .95 0.4237, upper .95 0.816;
      Score (logrank) test = 10.33 on 1 df (survdiff: Chisq = 10.3 on 1 df)

"Digitising" = sampling the true Kaplan-Meier step function at its event times (a perfect
digitiser), with numbers at risk at 0, 200, 400, 600 and 800 days and the published total
events. Stated tolerances for the reconstruction: sample size exact; total events within 2;
median within 2% of the published median; log hazard ratio within 0.05 of log(0.588) and the
HR's CI within 0.05 of the published limits. The Guyot paper itself reports reconstructions
from real digitised figures with no per-curve numbers we could type in here, so the check is
against the R output of the original data, not against a table of the paper.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from comparators.stats.reconstruct import ReconstructionError, compare_with, reconstruct_ipd
from comparators.stats.survival import km_fit

RISK_TIMES = [0, 200, 400, 600, 800]
PUBLISHED = {1: {"n": 138, "events": 112, "median": 270}, 2: {"n": 90, "events": 53, "median": 426}}


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung

    return load_lung().rename(columns={"status": "event"})


def _digitise(time: pd.Series, event: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    fit = km_fit(time, event)
    tab = fit.survival_table()
    keep = (tab["n_events"] > 0) | (tab.index == 0) | (tab.index == len(tab) - 1)
    curve = tab.loc[keep, ["timeline", "survival"]].rename(columns={"timeline": "time"})
    risk = pd.DataFrame({"time": RISK_TIMES, "n_risk": fit.at_risk(RISK_TIMES)})
    return curve, risk


@pytest.fixture(scope="module")
def reconstructed(lung: pd.DataFrame) -> dict[int, pd.DataFrame]:
    out = {}
    for sex in (1, 2):
        arm = lung[lung["sex"] == sex]
        curve, risk = _digitise(arm["time"], arm["event"])
        out[sex] = reconstruct_ipd(curve, risk, total_events=PUBLISHED[sex]["events"]).ipd
    return out


def test_compare_with_on_original_data_matches_r_coxph(lung: pd.DataFrame) -> None:
    res = compare_with(lung[lung["sex"] == 1], lung[lung["sex"] == 2])
    assert res.hr == pytest.approx(0.5880, abs=5e-5)
    assert res.hr_low == pytest.approx(0.4237, abs=5e-5)
    assert res.hr_high == pytest.approx(0.816, abs=5e-4)
    assert res.cox_p == pytest.approx(0.00149, abs=5e-6)
    assert res.logrank_chi2 == pytest.approx(10.33, abs=5e-3)
    assert set(res.to_dict()) >= {"hr", "hr_low", "hr_high", "logrank_p"}


@pytest.mark.parametrize("sex", [1, 2])
def test_reconstruction_reproduces_size_events_and_median(
    reconstructed: dict[int, pd.DataFrame], sex: int
) -> None:
    ipd = reconstructed[sex]
    pub = PUBLISHED[sex]
    assert len(ipd) == pub["n"]
    assert abs(int(ipd["event"].sum()) - pub["events"]) <= 2
    med = km_fit(ipd["time"], ipd["event"]).median
    assert med is not None and abs(med - pub["median"]) <= 0.02 * pub["median"]


def test_reconstruction_reproduces_hazard_ratio(reconstructed: dict[int, pd.DataFrame]) -> None:
    res = compare_with(reconstructed[1], reconstructed[2])
    assert abs(math.log(res.hr) - math.log(0.5880)) < 0.05
    assert abs(res.hr_low - 0.4237) < 0.05 and abs(res.hr_high - 0.816) < 0.05
    assert res.logrank_p < 0.01  # published: p = 0.001


def test_reconstruction_without_total_events(lung: pd.DataFrame) -> None:
    arm = lung[lung["sex"] == 2]
    curve, risk = _digitise(arm["time"], arm["event"])
    ipd = reconstruct_ipd(curve, risk).ipd
    assert len(ipd) == 90
    assert abs(int(ipd["event"].sum()) - 53) <= 3


def test_curve_in_percent_and_noisy_digitisation(lung: pd.DataFrame) -> None:
    arm = lung[lung["sex"] == 1]
    curve, risk = _digitise(arm["time"], arm["event"])
    noisy = curve.copy()
    rng = np.random.default_rng(0)
    noisy["survival"] = 100 * (noisy["survival"] + rng.normal(0, 0.003, len(noisy))).clip(0, 1)
    ipd = reconstruct_ipd(noisy, risk, total_events=112).ipd
    med = km_fit(ipd["time"], ipd["event"]).median
    assert len(ipd) == 138 and med is not None and abs(med - 270) <= 0.05 * 270


@pytest.mark.parametrize(
    "curve, risk, fragment",
    [
        (pd.DataFrame({"t": [0, 1]}), pd.DataFrame({"time": [0], "n_risk": [5]}), "missing column"),
        (
            pd.DataFrame({"time": [0, 1], "survival": [1, 0.5]}),
            pd.DataFrame({"time": [0, 1], "n_risk": [5, 7]}),
            "non-increasing",
        ),
        (
            pd.DataFrame({"time": [0, 1], "survival": [1, 0.5]}),
            pd.DataFrame({"time": [1], "n_risk": [5]}),
            "first time must be 0",
        ),
        (
            pd.DataFrame({"time": [0, -1], "survival": [1, 0.5]}),
            pd.DataFrame({"time": [0], "n_risk": [5]}),
            "curve row 2",
        ),
    ],
)
def test_bad_inputs(curve: pd.DataFrame, risk: pd.DataFrame, fragment: str) -> None:
    with pytest.raises(ReconstructionError) as exc:
        reconstruct_ipd(curve, risk)
    assert fragment in str(exc.value)
