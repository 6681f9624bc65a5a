"""Unit tests of comparators.evidence.casemix (direct standardisation of response rates).

Formula: Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions, 3rd ed. (2003),
ch. 19: p_std = sum w_s p_s, Var = sum w_s^2 p_s (1 - p_s) / n_s. The numbers are exact
arithmetic on the seed paper's counts (Liu et al., Sci Rep 2023, doi 10.1038/s41598-023-30412-6,
Results 'Efficacy' and Discussion): all evaluable 13/27, ASPS 5/7, non-ASPS 8/20, AS 2/2,
LMS 1/2, DDLPS 0/3; the rest (not itemised) 13 - 8 = 5 of 27 - 14 = 13. Comparator shares come
from data/trials.csv (SARC028: four cohorts of 10 - UPS, liposarcoma, LMS, SS - Tawbi, Lancet
Oncol 2017; WILKY2019: 11 ASPS of 32 evaluable, Wilky, Lancet Oncol 2019).
"""

import math

import pandas as pd
import pytest

from comparators.evidence.casemix import (
    NON_ASPS,
    OTHER,
    CaseMixError,
    arm_asps_shares,
    asps_share_preset,
    casemix_presets,
    cohort_strata,
    own_weights,
    presets_frame,
    standardise_orr,
    subtype_mix,
)
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.proportions import proportion_ci


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def rows(catalog):
    return published_cohort(catalog.trials).rows


def test_strata_from_what_the_paper_itemises(rows) -> None:
    fine = cohort_strata(rows)
    assert fine.to_records(index=False).tolist() == [
        ("ASPS", 5, 7), ("AS", 2, 2), ("LMS", 1, 2), ("DDLPS", 0, 3), (OTHER, 5, 13)]
    coarse = cohort_strata(rows, itemise=("ASPS",))
    # The non-ASPS stratum equals the paper's non-ASPS group: 3 CR + 5 PR of 20 evaluable.
    assert coarse.to_records(index=False).tolist() == [("ASPS", 5, 7), (NON_ASPS, 8, 20)]


def test_own_mix_gives_the_crude_rate_and_the_papers_wilson_interval(rows) -> None:
    coarse = cohort_strata(rows, itemise=("ASPS",))
    r = standardise_orr(coarse, own_weights(coarse))
    assert r.estimate == pytest.approx(13 / 27, abs=1e-12)
    # Var = (7/27)^2 (5/7)(2/7)/7 + (20/27)^2 (0.4)(0.6)/20 = 10/5103 + 33.6/5103 = 43.6/5103.
    assert r.se ** 2 == pytest.approx(43.6 / 5103, rel=1e-12)
    # n_eff = (13/27)(14/27) / Var = 1274/43.6 = 29.2, truncated at the 27 patients, so the
    # interval is the plain Wilson interval of 13/27: 30.7-66.0% (Liu 2023, Abstract).
    assert r.n_effective == 27
    assert (round(100 * r.low, 1), round(100 * r.high, 1)) == (30.7, 66.0)
    assert r.complete and r.coverage == 1.0
    assert "48.1% (95% CI 30.7–66.0%)" in r.sentence()


def test_asps_share_zero_is_the_non_asps_rate(rows) -> None:
    coarse = cohort_strata(rows, itemise=("ASPS",))
    r = standardise_orr(coarse, {"ASPS": 0.0, NON_ASPS: 1.0})
    assert r.estimate == pytest.approx(0.40)
    wilson = proportion_ci(8, 20, "wilson")  # one stratum: the Wilson interval of 8/20
    assert (r.low, r.high) == pytest.approx((wilson.low, wilson.high), abs=1e-12)
    assert (round(100 * r.low, 1), round(100 * r.high, 1)) == (21.9, 61.3)


def test_wilky_asps_share(rows) -> None:
    coarse = cohort_strata(rows, itemise=("ASPS",))
    r = standardise_orr(coarse, {"ASPS": 11, NON_ASPS: 21})  # weights are re-scaled
    # (11/32)(5/7) + (21/32)(8/20) = 275/1120 + 294/1120 = 569/1120
    assert r.estimate == pytest.approx(569 / 1120, abs=1e-12)
    var = (11 / 32) ** 2 * (5 / 7) * (2 / 7) / 7 + (21 / 32) ** 2 * 0.4 * 0.6 / 20
    assert r.se == pytest.approx(math.sqrt(var), rel=1e-12)
    frame = r.to_frame()
    assert list(frame["contribution"]) == pytest.approx([55 / 224, 21 / 80])


def test_logit_interval_by_hand(rows) -> None:
    coarse = cohort_strata(rows, itemise=("ASPS",))
    r = standardise_orr(coarse, own_weights(coarse), method="logit")
    p, se = 13 / 27, math.sqrt(43.6 / 5103)
    half = 1.959963984540054 * se / (p * (1 - p))
    expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    lg = math.log(13 / 14)
    assert (r.low, r.high) == pytest.approx((expit(lg - half), expit(lg + half)), rel=1e-9)
    assert (round(100 * r.low, 1), round(100 * r.high, 1)) == (31.0, 65.7)


def test_missing_subtypes_are_reported_not_dropped(rows, catalog) -> None:
    mix = subtype_mix(catalog.trials, "SARC028")
    assert mix == {"UPS": 0.25, "DDLPS": 0.25, "LMS": 0.25, "SS": 0.25}
    r = standardise_orr(cohort_strata(rows), mix)
    assert r.missing == ("UPS", "SS")
    assert r.coverage == 0.5 and not r.complete
    # Over the covered half: 0.5 * 0/3 + 0.5 * 1/2 = 0.25; Var = 0.25 * 0.25 / 2 = 1/32.
    assert r.estimate == pytest.approx(0.25)
    assert r.se ** 2 == pytest.approx(1 / 32)
    assert r.patients == 5 and r.n_effective == 5  # 0.1875 / (1/32) = 6, truncated at 5
    assert "covering 50% of the target mix (no data for UPS, SS)" in r.sentence()
    frame = r.to_frame()
    assert frame.loc[frame["subtype"] == "UPS", "evaluable"].isna().all()


def test_nothing_covered_gives_no_estimate(rows) -> None:
    r = standardise_orr(cohort_strata(rows), {"UPS": 1, "SS": 1})
    assert math.isnan(r.estimate) and r.coverage == 0 and r.missing == ("UPS", "SS")
    assert "no subtype of the target mix has response data" in r.sentence()
    assert r.to_dict()["estimate"] is None


def test_leave_one_out_is_the_crude_rate_of_the_rest(rows) -> None:
    fine = cohort_strata(rows)
    rest = fine[fine["subtype"] != "AS"]
    r = standardise_orr(rest, own_weights(rest))
    assert r.estimate == pytest.approx(11 / 25)  # (13 - 2) / (27 - 2)


def test_presets_are_built_from_known_counts(rows, catalog) -> None:
    presets = casemix_presets(rows, catalog.trials)
    by_name = {p.name: p.standardise() for p in presets}
    assert by_name["This cohort's own mix"].estimate == pytest.approx(13 / 27)
    assert by_name["Without ASPS"].estimate == pytest.approx(8 / 20)
    assert by_name["ASPS share of SARC028 (0/40)"].estimate == pytest.approx(0.40)
    assert by_name["ASPS share of WILKY2019 (11/32)"].estimate == pytest.approx(569 / 1120)
    assert by_name["SARC028 mix"].missing == ("UPS", "SS")
    assert not any("LIU2023" in name for name in by_name)
    frame = presets_frame([(p, p.standardise()) for p in presets])
    assert list(frame.columns)[:4] == ["mix", "estimate", "low", "high"]
    assert frame["assumption"].str.len().min() > 20  # every mix says what it assumes


def test_asps_shares_of_comparator_arms(catalog) -> None:
    shares = arm_asps_shares(catalog.trials).set_index("study")
    assert shares.loc["SARC028", "share"] == 0  # four cohorts of 10, fully itemised, no ASPS
    assert shares.loc["SARC028", "basis"] == "fully itemised subtype rows"
    assert shares.loc["WILKY2019", "share"] == pytest.approx(11 / 32)
    assert "SARC028-EXP" not in shares.index  # overlapping expansion rows are skipped


@pytest.mark.parametrize(
    ("weights", "kwargs", "fragment"),
    [
        ({"ASPS": -1}, {}, "must be a number >= 0"),
        ({"ASPS": 0}, {}, "at least one subtype"),
        ({"ASPS": 1}, {"method": "wald"}, "unknown interval method"),
        ({"ASPS": 1}, {"level": 95}, "level must be between 0.5 and 0.999"),
    ],
)
def test_bad_inputs_get_a_plain_message(rows, weights, kwargs, fragment) -> None:
    with pytest.raises(CaseMixError, match=fragment):
        standardise_orr(cohort_strata(rows), weights, **kwargs)


def test_impossible_counts_name_the_row() -> None:
    counts = pd.DataFrame({"subtype": ["ASPS", "LMS"], "responders": [1, 3],
                           "evaluable": [2, 2]})
    with pytest.raises(CaseMixError, match=r"row 2 \(LMS\)"):
        standardise_orr(counts, {"ASPS": 1})


def test_asps_share_must_be_a_fraction(rows) -> None:
    with pytest.raises(CaseMixError):
        asps_share_preset(cohort_strata(rows, ("ASPS",)), 1.5, "x")


def test_logit_fallback_at_zero_is_recorded_as_wilson() -> None:
    # 0 of 12 responders: the logit interval is undefined (log 0), so the result must say that
    # the Wilson-type interval was computed instead (issue 12: no silent fallback).
    counts = pd.DataFrame({"subtype": ["UPS"], "responders": [0], "evaluable": [12]})
    r = standardise_orr(counts, {"UPS": 1.0}, method="logit")
    assert r.method == "logit" and r.method_used == "wilson"
    assert r.to_dict()["method_used"] == "wilson"
    assert any("Wilson-type interval is shown instead" in n for n in r.notes)
    wilson = proportion_ci(0, 12, "wilson")  # one stratum: the Wilson interval of 0/12
    assert r.high == pytest.approx(wilson.high, abs=1e-12)
    assert standardise_orr(counts, {"UPS": 1.0}).method_used == "wilson"
