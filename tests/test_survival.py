"""comparators.stats.survival checked against published output.

Sources of the expected numbers (none are copied from this module's own output):

* R `survival` package, AML data (Miller 1997, "Survival Analysis"; `?aml`):
  print(survfit(Surv(time, status) ~ x, data = aml)) with R's default conf.type = "log":
      x=Maintained    11  7  median 31  0.95LCL 18  0.95UCL NA
      x=Nonmaintained 12 11  median 23  0.95LCL  8  0.95UCL NA
  survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.0653
  summary(survfit(...)) for the Maintained arm (time n.risk n.event survival std.err lower upper):
       9 11 1 0.909 0.0867 0.7541 1.000
      13 10 1 0.818 0.1163 0.6192 1.000
      18  8 1 0.716 0.1397 0.4884 1.000
      23  7 1 0.614 0.1526 0.3769 0.999
      31  5 1 0.491 0.1642 0.2549 0.946
      34  4 1 0.368 0.1627 0.1549 0.875
      48  2 1 0.184 0.1535 0.0359 0.944
  The data, as printed by with(aml, Surv(time, status)):
      9 13 13+ 18 23 28+ 31 34 45+ 48 161+ | 5 5 8 8 12 16+ 23 27 30 33 43 45
* R `survival`, NCCTG lung data (Loprinzi et al. 1994), loaded here from lifelines' copy
  (status recoded 1 = death, 0 = censored):
  survfit(Surv(time, status) ~ 1, data = lung): n 228, events 165, median 310 (285, 363)
  survfit(SurvObj ~ sex, data = lung, conf.type = "log-log"):
      sex=1 138 112 median 270 (210, 306); sex=2 90 53 median 426 (345, 524)
* Seed paper (Liu et al., Sci Rep 2023): median PFS 8.90 months, 95% CI 5.98-11.82.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from comparators.stats.survival import (
    KMResult,
    SurvivalInputError,
    km_by_group,
    km_fit,
    read_survival_csv,
    spss_interval,
)

AML_MAINT_T = [9, 13, 13, 18, 23, 28, 31, 34, 45, 48, 161]
AML_MAINT_E = [1, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0]
AML_NON_T = [5, 5, 8, 8, 12, 16, 23, 27, 30, 33, 43, 45]
AML_NON_E = [1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1]


@pytest.fixture(scope="module")
def aml() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "time": AML_MAINT_T + AML_NON_T,
            "status": AML_MAINT_E + AML_NON_E,
            "x": ["Maintained"] * 11 + ["Nonmaintained"] * 12,
        }
    )


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    from lifelines.datasets import load_lung

    return load_lung()


# ---------------------------------------------------------------- medians and their CIs


def test_aml_medians_match_r_default_log_interval(aml: pd.DataFrame) -> None:
    res = km_by_group(aml, "time", "status", "x", conf_type="log")
    m, n = res["Maintained"], res["Nonmaintained"]
    assert (m.n, m.events, m.median, m.median_low, m.median_high) == (11, 7, 31, 18, None)
    assert (n.n, n.events, n.median, n.median_low, n.median_high) == (12, 11, 23, 8, None)
    assert "upper confidence limit" in (m.note or "")


def test_aml_logrank_matches_survdiff(aml: pd.DataFrame) -> None:
    res = km_by_group(aml, "time", "status", "x")
    assert res.logrank_df == 1
    assert res.logrank_chi2 == pytest.approx(3.4, abs=0.05)
    assert res.logrank_p == pytest.approx(0.0653, abs=5e-5)


def test_lung_overall_median_matches_r(lung: pd.DataFrame) -> None:
    fit = km_fit(lung["time"], lung["status"], conf_type="log")
    assert (fit.n, fit.events, fit.median) == (228, 165, 310)
    assert (fit.median_low, fit.median_high) == (285, 363)


def test_lung_by_sex_loglog_matches_r_loglog(lung: pd.DataFrame) -> None:
    res = km_by_group(lung, "time", "status", "sex", conf_type="log-log")
    one, two = res["1"], res["2"]
    assert (one.n, one.events, one.median, one.median_low, one.median_high) == (
        138,
        112,
        270,
        210,
        306,
    )
    assert (two.n, two.events, two.median, two.median_low, two.median_high) == (
        90,
        53,
        426,
        345,
        524,
    )
    assert "log-log" in one.median_ci_method


# ---------------------------------------------------------------- landmark, at risk, table


@pytest.mark.parametrize(
    "t, surv, se, low, high",
    [
        (9, 0.909, 0.0867, 0.7541, 1.000),
        (23, 0.614, 0.1526, 0.3769, 0.999),
        (31, 0.491, 0.1642, 0.2549, 0.946),
        (48, 0.184, 0.1535, 0.0359, 0.944),
    ],
)
def test_landmark_log_band_matches_r_summary(
    t: float, surv: float, se: float, low: float, high: float
) -> None:
    fit = km_fit(AML_MAINT_T, AML_MAINT_E, "Maintained")
    lm = fit.landmark(t, conf_type="log")
    assert lm.survival == pytest.approx(surv, abs=5e-4)
    assert lm.se == pytest.approx(se, abs=5e-5)
    assert lm.low == pytest.approx(low, abs=5e-5)
    assert lm.high == pytest.approx(high, abs=5e-4)


def test_landmark_between_steps_and_loglog_band() -> None:
    fit = km_fit(AML_MAINT_T, AML_MAINT_E, "Maintained", conf_type="log-log")
    lm = fit.landmark(32)  # S is flat between 31 and 34
    assert lm.survival == pytest.approx(0.491, abs=5e-4)
    assert lm.conf_type == "log-log"
    assert 0 < lm.low < lm.survival < lm.high < 1


def test_numbers_at_risk_match_r_summary() -> None:
    fit = km_fit(AML_MAINT_T, AML_MAINT_E, "Maintained")
    # n.risk column of summary(survfit): 11 at 9, 10 at 13, 8 at 18, 5 at 31, 2 at 48
    assert fit.at_risk([0, 9, 13, 18, 31, 48, 200]) == [11, 11, 10, 8, 5, 2, 0]


def test_survival_table_is_a_step_function() -> None:
    tab = km_fit(AML_MAINT_T, AML_MAINT_E).survival_table()
    assert list(tab.columns[:4]) == ["timeline", "survival", "ci_low", "ci_high"]
    assert tab["timeline"].iloc[0] == 0 and tab["survival"].iloc[0] == 1
    assert tab["survival"].is_monotonic_decreasing
    assert (tab["ci_low"] <= tab["survival"] + 1e-12).all()


# ---------------------------------------------------------------- SPSS-style interval


def test_spss_interval_reproduces_seed_paper_arithmetic() -> None:
    # Seed paper: 8.90 (95% CI 5.98-11.82) is symmetric -> SE = (11.82 - 5.98) / (2 * 1.96)
    se = (11.82 - 5.98) / (2 * 1.959964)
    assert (8.90 - 5.98) == pytest.approx(11.82 - 8.90, abs=1e-9)
    assert se == pytest.approx(1.49, abs=0.005)
    low, high = spss_interval(8.90, 1.49)
    assert (round(low, 2), round(high, 2)) == (5.98, 11.82)


def test_spss_median_se_hand_worked_on_aml_maintained() -> None:
    # Hand calculation (Klein & Moeschberger Practical Note 4.3 / Collett 2.4 form) from the
    # printed R summary above: median = 31 (first S <= 0.5, S = 0.491);
    # u = last event time with S >= 0.55 -> 23 (S = 0.6136); l = first with S <= 0.45 -> 34
    # (S = 0.3682); density = (0.6136 - 0.3682) / (34 - 23) = 0.022314;
    # SE = Greenwood SE of S(31) / density = 0.1642 / 0.022314 = 7.358;
    # 95% CI = 31 +/- 1.96 * 7.358 = 16.58 to 45.42.
    fit = km_fit(AML_MAINT_T, AML_MAINT_E, "Maintained")
    assert fit.median == 31
    assert fit.median_se_spss == pytest.approx(7.358, abs=0.005)
    assert fit.spss_low == pytest.approx(16.58, abs=0.01)
    assert fit.spss_high == pytest.approx(45.42, abs=0.01)
    assert fit.spss_high - fit.median == pytest.approx(fit.median - fit.spss_low)


def test_spss_interval_none_when_median_not_reached() -> None:
    fit = km_fit([1, 2, 3, 4, 5, 6], [1, 0, 0, 0, 0, 0], "few events")
    assert fit.median is None and fit.spss_low is None and fit.spss_high is None
    assert "median not reached" in (fit.note or "")
    d = fit.to_dict()
    assert d["median"] is None and d["median_spss_low"] is None


def test_to_dict_matches_km_contract(aml: pd.DataFrame) -> None:
    out = km_by_group(aml, "time", "status", "x").to_dict()
    assert set(out) >= {"groups", "logrank"}
    for g in out["groups"]:
        assert {
            "n",
            "events",
            "median",
            "median_low",
            "median_high",
            "median_ci_method",
            "median_spss_low",
            "median_spss_high",
        } <= set(g)
    assert out["logrank"]["df"] == 1
    ungrouped = km_by_group(aml, "time", "status").to_dict()
    assert ungrouped["logrank"] is None and len(ungrouped["groups"]) == 1


# ---------------------------------------------------------------- input validation


def _csv(tmp_path, text: str, name: str = "s.csv"):  # type: ignore[no-untyped-def]
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("time,event\n1,1\n-2,0\n", "row 2, column 'time'"),
        ("time,event\n1,1\n2,0\nNaN,1\n", "row 3, column 'time': value is missing"),
        ("time,event\n1,1\ninf,0\n", "row 2, column 'time': value is infinite"),
        ("time,event\n1,1\n2,2\n", "row 2, column 'event': expected 0 or 1, got 2"),
        ("time,event\n1,yes\n", "row 1, column 'event'"),
        ("time,event\n99999999,1\n", "implausibly large"),
        ("time,status\n1,1\n", "missing column(s) 'event'"),
        ("time,event\n", "no data rows"),
        ("", "is empty"),
    ],
)
def test_read_survival_csv_errors_name_row_and_column(tmp_path, text: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SurvivalInputError, match=None) as exc:
        read_survival_csv(_csv(tmp_path, text), "time", "event")
    assert fragment in str(exc.value)


def test_read_survival_csv_semicolon_and_group(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = _csv(tmp_path, "time;event;arm\n1;1;A\n2;0;B\n3;1;A\n")
    df = read_survival_csv(p, "time", "event", "arm")
    assert list(df["time"]) == [1.0, 2.0, 3.0] and list(df["event"]) == [1, 0, 1]
    with pytest.raises(SurvivalInputError, match="row 2, column 'arm'"):
        read_survival_csv(
            _csv(tmp_path, "time,event,arm\n1,1,A\n2,0,\n", "g.csv"), "time", "event", "arm"
        )


# ---------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.1, 100, allow_nan=False), st.integers(0, 1)),
        min_size=1,
        max_size=40,
    )
)
def test_km_properties(obs: list[tuple[float, int]]) -> None:
    t = [o[0] for o in obs]
    e = [o[1] for o in obs]
    fit = km_fit(t, e)
    assert isinstance(fit, KMResult)
    surv = fit.survival
    assert all(a >= b - 1e-12 for a, b in zip(surv, surv[1:], strict=False))
    if fit.median is not None:
        assert min(t) <= fit.median <= max(t)
        if fit.median_low is not None:
            assert fit.median_low <= fit.median
        if fit.median_high is not None:
            assert fit.median_high >= fit.median
    if fit.median_se_spss is not None:
        assert math.isfinite(fit.median_se_spss) and fit.median_se_spss >= 0
