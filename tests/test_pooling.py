"""Tests for comparators.pooling.

Every statistical check compares against numbers PRINTED in a published source (a paper, a
metafor analyses page, metafor's own test suite that reproduces those papers, or a post by
metafor's author). The source and the printed line are cited next to each check. Datasets are
typed in from the cited source.
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comparators.stats.effect_sizes import (
    EffectSizes,
    PoolingInputError,
    back_transform,
    effect_sizes,
    transf_ipft,
)
from comparators.stats.pooled_result import PooledProportion
from comparators.stats.pooling import (
    GLMMNotFittedError,
    _loglik,  # the log-likelihood metafor's logLik reports
    fit_glmm,
    fit_model,
    leave_one_out,
    pool_proportions,
    read_pool_csv,
)

# ---------------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------------

# Niel-Weise et al. (2007), Fig. 2 p. 2063, as used by Stijnen, Hamza & Ozdemir (2010), Stat Med
# 29:3046-3067, and shipped as metafor/metadat dat.nielweise2007 (printed on
# https://www.metafor-project.org/doku.php/analyses:stijnen2010). ai/n1i: anti-infective
# catheter arm; ci/n2i: standard catheter arm. Number of CRBSI per arm.
NIELWEISE_AI = [0, 1, 2, 0, 5, 1, 1, 1, 1, 1, 0, 0, 3, 6, 0, 0, 1, 4]
NIELWEISE_N1 = [116, 44, 208, 130, 151, 98, 174, 74, 97, 113, 66, 70, 188, 187, 118, 252, 345, 64]
NIELWEISE_CI = [3, 3, 9, 7, 6, 4, 3, 2, 19, 2, 7, 1, 5, 11, 0, 1, 3, 1]
NIELWEISE_N2 = [117, 35, 195, 136, 157, 139, 177, 39, 103, 122, 64, 58, 175, 180, 105, 262, 362,
                69]

# Miller (1978), Am Stat 32:138, reproduced on
# https://www.metafor-project.org/doku.php/analyses:miller1978 ("dat <- data.frame(xi=c(3, 6, 10,
# 1), ni=c(11, 17, 21, 6))").
MILLER_X, MILLER_N = [3, 6, 10, 1], [11, 17, 21, 6]

# BCG vaccine trials (Colditz et al. 1994), metafor dat.bcg / dat.colditz1994, table printed on
# https://www.metafor-project.org/doku.php/analyses:vanhouwelingen2002 (tpos tneg cpos cneg).
BCG_TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
BCG_TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
BCG_CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
BCG_CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]


def _bcg(measure: str) -> EffectSizes:
    """Log risk ratios / log odds ratios of dat.bcg (escalc formulas, no zero cells)."""
    a, b, c, d = (np.array(v, dtype=float) for v in (BCG_TPOS, BCG_TNEG, BCG_CPOS, BCG_CNEG))
    if measure == "RR":
        yi = np.log((a / (a + b)) / (c / (c + d)))
        vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    else:
        yi = np.log((a * d) / (b * c))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    return EffectSizes.from_yi_vi(yi, vi, measure=measure)


def r(x: float | None, digits: int) -> float:
    assert x is not None
    return round(float(x), digits)


# ---------------------------------------------------------------------------------------------
# Logit (PLO): normal-normal REML and binomial-normal GLMM, Stijnen et al. (2010) Table II
# ---------------------------------------------------------------------------------------------


def test_logit_reml_stijnen2010_standard_catheters() -> None:
    # Source: Stijnen et al. (2010) Table II, p. 3050, "normal-normal" model for the standard
    # catheter group, as checked in metafor tests/testthat/test_analysis_example_stijnen2010.r
    # (rma(measure="PLO", xi=ci, ni=n2i)): coef -3.30, se 0.24, tau2 0.663, transf.ilogit:
    # pred 0.036, ci.lb 0.023, ci.ub 0.055 ("0.035"/"0.056" in the paper, metafor prints
    # 0.036/0.055). See also https://www.metafor-project.org/doku.php/analyses:stijnen2010.
    fit = fit_model(effect_sizes(NIELWEISE_CI, NIELWEISE_N2, "logit"), "REML")
    assert r(fit.estimate, 2) == -3.30
    assert r(fit.se, 2) == 0.24
    assert r(fit.tau2, 3) == 0.663
    res = pool_proportions(NIELWEISE_CI, NIELWEISE_N2)  # defaults: logit, REML
    assert (r(res.estimate, 3), r(res.low, 3), r(res.high, 3)) == (0.036, 0.023, 0.055)
    # Yucel 2004 has 0 events: continuity correction only there (escalc add=1/2, to="only0").
    assert res.corrected == ("Study 15",)


def test_logit_reml_stijnen2010_antiinfective_catheters() -> None:
    # Source: same Table II / metafor test (rma(measure="PLO", xi=ai, ni=n1i)): coef -4.26,
    # se 0.26, tau2 0.393, pred 0.014 [0.008, 0.023]. Six studies have 0 events (cc applied).
    fit = fit_model(effect_sizes(NIELWEISE_AI, NIELWEISE_N1, "logit"), "REML")
    assert (r(fit.estimate, 2), r(fit.se, 2), r(fit.tau2, 3)) == (-4.26, 0.26, 0.393)
    res = pool_proportions(NIELWEISE_AI, NIELWEISE_N1, method="REML", measure="logit")
    assert (r(res.estimate, 3), r(res.low, 3), r(res.high, 3)) == (0.014, 0.008, 0.023)
    assert len(res.corrected) == 6


def test_glmm_stijnen2010_standard_catheters() -> None:
    # Source: Stijnen et al. (2010) Table II p. 3050, binomial-normal model, as checked in
    # metafor tests/testthat/test_analysis_example_stijnen2010.r (rma.glmm(measure="PLO",
    # xi=ci, ni=n2i)): coef -3.50, se 0.26, tau2 0.81; transf.ilogit: 0.029 [0.018, 0.048].
    fit = fit_glmm(NIELWEISE_CI, NIELWEISE_N2)
    assert (r(fit.estimate, 2), r(fit.se, 2), r(fit.tau2, 2)) == (-3.50, 0.26, 0.81)
    res = pool_proportions(NIELWEISE_CI, NIELWEISE_N2, method="GLMM")
    assert (r(res.estimate, 3), r(res.low, 3), r(res.high, 3)) == (0.029, 0.018, 0.048)
    assert res.corrected == ()  # no continuity correction in the GLMM likelihood


def test_glmm_stijnen2010_antiinfective_catheters() -> None:
    # Source: as above (rma.glmm(measure="PLO", xi=ai, ni=n1i)): coef -4.81, se 0.36,
    # tau2 0.83; transf.ilogit: 0.008 [0.004, 0.016].
    fit = fit_glmm(NIELWEISE_AI, NIELWEISE_N1)
    assert (r(fit.estimate, 2), r(fit.se, 2), r(fit.tau2, 2)) == (-4.81, 0.36, 0.83)
    res = pool_proportions(NIELWEISE_AI, NIELWEISE_N1, method="GLMM")
    assert (r(res.estimate, 3), r(res.low, 3), r(res.high, 3)) == (0.008, 0.004, 0.016)


# ---------------------------------------------------------------------------------------------
# tau^2 estimators DL, PM, ML, REML: Viechtbauer (2005), JEBS 30:261-293, pp. 271-272
# ---------------------------------------------------------------------------------------------

# Source for both examples: metafor tests/testthat/test_analysis_example_viechtbauer2005.r
# ("compare with results on page 271/272"; see also
# https://www.metafor-project.org/doku.php/analyses:viechtbauer2005). Data typed from there.
# metafor's EB estimator is identical to Paule-Mandel for a model without moderators, so the
# printed EB column is the PM check.
V2005_EX1 = (
    [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232],
    [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040],
    # method: (tau2 3dp, I2 2dp, H2 2dp) from the printed vectors (order HS HE DL ML REML EB SJ)
    {"DL": (0.277, 80.44, 5.11), "ML": (0.197, 74.51, 3.92), "REML": (0.223, 76.84, 4.32),
     "PM": (0.192, 74.05, 3.85)},
)
V2005_EX2 = (
    [0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175, 0.056,
     0.045, 0.103, 0.121, -0.482, 0.290, 0.342],
    [0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034, 0.039,
     0.167, 0.134, 0.096, 0.016, 0.035],
    {"DL": (0.013, 27.53, 1.38), "ML": (0.013, 28.45, 1.40), "REML": (0.016, 32.02, 1.47),
     "PM": (0.010, 23.72, 1.31)},
)


@pytest.mark.parametrize("example", [V2005_EX1, V2005_EX2], ids=["example1", "example2"])
@pytest.mark.parametrize("method", ["DL", "PM", "ML", "REML"])
def test_tau2_estimators_viechtbauer2005(example: tuple, method: str) -> None:
    yi, vi, expected = example
    fit = fit_model(EffectSizes.from_yi_vi(yi, vi), method)
    tau2, i2, h2 = expected[method]
    assert (r(fit.tau2, 3), r(fit.i2, 2), r(fit.h2, 2)) == (tau2, i2, h2)


# ---------------------------------------------------------------------------------------------
# FE and DL (with Q-profile CIs) on dat.bcg log risk ratios: Stata metan / metafor confint
# ---------------------------------------------------------------------------------------------


def test_fe_bcg_log_rr_matches_metan() -> None:
    # Source: metafor tests/testthat/test_misc_metan_vs_rma.uni_with_dat.bcg.r, "results match
    # (FE model, measure='RR')" (Stata: metan tpos tneg cpos cneg, fixedi nograph rr log):
    # beta -0.4303, ci.lb -0.5097, ci.ub -0.3509, QE 152.2330; exp: 0.6503 [0.6007, 0.7040].
    fit = fit_model(_bcg("RR"), "FE")
    assert (r(fit.estimate, 4), r(fit.low, 4), r(fit.high, 4)) == (-0.4303, -0.5097, -0.3509)
    assert r(fit.q, 4) == 152.2330
    assert fit.q_df == 12
    assert [round(math.exp(v), 4) for v in (fit.estimate, fit.low, fit.high)] == [
        0.6503, 0.6007, 0.7040]


def test_dl_bcg_log_rr_matches_metan_and_confint() -> None:
    # Source: same file, "RE model w/ DL estimator, measure='RR'": beta -0.7141, ci -1.0644,
    # -0.3638, tau2 0.3088, I2 92.1173; exp 0.4896 [0.3449, 0.6950]. Q-profile CIs from
    # metafor tests/testthat/test_misc_confint.r (confint(res) for the same DL model):
    # tau^2 0.3088 [0.1197, 1.1115]; I^2 92.1173 [81.9177, 97.6781]; H^2 12.6861 [5.5303, 43.0680].
    # metafor finds the Q-profile bounds with uniroot at its default tolerance
    # (.Machine$double.eps^0.25, about 1e-4 on tau^2), so its printed bounds are only that
    # precise; we solve to 1e-13 and compare at the precision metafor's bounds carry: tau^2
    # bounds to 4 decimals, I^2 bounds to 2, H^2 lower bound to 2.
    fit = fit_model(_bcg("RR"), "DL")
    assert (r(fit.estimate, 4), r(fit.low, 4), r(fit.high, 4)) == (-0.7141, -1.0644, -0.3638)
    assert (r(fit.tau2, 4), r(fit.i2, 4), r(fit.h2, 4)) == (0.3088, 92.1173, 12.6861)
    assert (r(fit.tau2_low, 4), r(fit.tau2_high, 4)) == (0.1197, 1.1115)
    assert (r(fit.i2_low, 2), r(fit.i2_high, 2)) == (81.92, 97.68)
    h2_low = 1 / (1 - fit.i2_low / 100)
    assert r(h2_low, 2) == 5.53


def test_ml_knha_and_prediction_interval_colditz_log_or() -> None:
    # Source: van Houwelingen, Arends & Stijnen (2002) Stat Med 21:589-624, as checked in
    # metafor tests/testthat/test_analysis_example_vanhouwelingen2002.r:
    #  - ML random effects, exp: .476 [.336, .675], tau2 .302 (p. 597)
    #  - Q-profile CI for tau^2: 0.130 to 1.181 (round(., 3) in the metafor test; the
    #    analyses:vanhouwelingen2002 page prints "0.1302 to 1.1812", where the 4th decimal of
    #    the lower bound reflects uniroot's default tolerance, see the DL test above)
    #  - Knapp & Hartung (test="knha"), exp CI: .318, .714
    #  - prediction (credibility) interval from predict(): cr.lb -1.875, cr.ub 0.391
    fit = fit_model(_bcg("OR"), "ML")
    assert [round(math.exp(v), 3) for v in (fit.estimate, fit.low, fit.high)] == [
        0.476, 0.336, 0.675]
    assert r(fit.tau2, 3) == 0.302
    assert (r(fit.tau2_low, 3), r(fit.tau2_high, 3)) == (0.130, 1.181)
    assert r(fit.tau2_high, 4) == 1.1812
    assert (r(fit.pi_low, 3), r(fit.pi_high, 3)) == (-1.875, 0.391)
    hk = fit_model(_bcg("OR"), "ML", hksj=True, hksj_variant="plain")
    assert hk.df == 12 and hk.hksj_variant == "plain"
    assert [round(math.exp(v), 3) for v in (hk.low, hk.high)] == [0.318, 0.714]


# ---------------------------------------------------------------------------------------------
# Freeman-Tukey double arcsine (PFT) and arcsine (PAS)
# ---------------------------------------------------------------------------------------------


def test_ft_effect_sizes_miller1978() -> None:
    # Source: https://www.metafor-project.org/doku.php/analyses:miller1978, printed contents
    # of dat after escalc(measure="PFT"): yi 0.5695 0.6444 0.7626 0.4758,
    # vi 0.0217 0.0143 0.0116 0.0385.
    es = effect_sizes(MILLER_X, MILLER_N, "ft")
    assert list(np.round(es.yi, 4)) == [0.5695, 0.6444, 0.7626, 0.4758]
    assert list(np.round(es.vi, 4)) == [0.0217, 0.0143, 0.0116, 0.0385]
    assert not es.corrected.any()
    # transf.ipft(dat$yi, dat$ni) printed "[1] 0.2727273 0.3529412 0.4761905 0.1666667".
    assert list(np.round(transf_ipft(es.yi, np.array(MILLER_N)), 7)) == [
        0.2727273, 0.3529412, 0.4761905, 0.1666667]


def test_ft_fe_pooled_miller1978() -> None:
    # Source: Miller (1978) p. 138 as reproduced in metafor
    # tests/testthat/test_analysis_example_miller1978.r, "equal-effects model using weighted
    # estimation": predict(res, transf=function(x) x*2) 1.3093;
    # predict(res, transf=transf.ipft.hm, targs=list(ni=dat$ni)) 0.3595.
    res = pool_proportions(MILLER_X, MILLER_N, measure="ft", method="FE")
    assert res.fit is not None
    assert r(2 * res.fit.estimate, 4) == 1.3093
    assert r(res.estimate, 4) == 0.3595
    assert res.tau2 is None and res.pi_low is None and res.pi_high is None
    assert res.corrected == ()


def test_ft_fe_with_0_and_100_percent_studies() -> None:
    # Source: metafor tests/testthat/test_analysis_example_miller1978.r, "back-transformations
    # work as intended": xi = 0, 4, 9, 16, 20; ni = 10, 10, 15, 20, 20; EE model,
    # transf.ipft.hm: pred 0.6886, ci.lb 0.5734, ci.ub 0.7943; individual back-transforms
    # 0.0, 0.4, 0.6, 0.8, 1.0.
    x, n = [0, 4, 9, 16, 20], [10, 10, 15, 20, 20]
    res = pool_proportions(x, n, measure="ft", method="FE")
    assert (r(res.estimate, 4), r(res.low, 4), r(res.high, 4)) == (0.6886, 0.5734, 0.7943)
    es = effect_sizes(x, n, "ft")
    assert list(np.round(transf_ipft(es.yi, np.array(n)), 10)) == [0.0, 0.4, 0.6, 0.8, 1.0]


def test_ft_and_arcsine_single_study_mailing_list() -> None:
    # Source: W. Viechtbauer, R-sig-meta-analysis, 7 July 2017, "Freeman-Tukey double arcsine
    # transformation and harmonic mean"
    # (https://stat.ethz.ch/pipermail/r-sig-meta-analysis/2017-July/000027.html):
    # escalc(measure="PFT", xi=4, ni=10) prints "1 0.6936 0.0238"; transf.iarcsin(dat$yi)
    # "yields 0.4086998"; escalc(measure="PAS", xi=4, ni=10) prints "1 0.6847 0.0250" and
    # transf.iarcsin of it "gives back 0.4 exactly".
    ft = effect_sizes([4], [10], "ft")
    assert (r(ft.yi[0], 4), r(ft.vi[0], 4)) == (0.6936, 0.0238)
    assert r(back_transform(ft.yi[0], "arcsine"), 7) == 0.4086998
    assert r(transf_ipft(ft.yi[0], 10), 12) == 0.4
    pas = effect_sizes([4], [10], "arcsine")
    assert (r(pas.yi[0], 4), r(pas.vi[0], 4)) == (0.6847, 0.0250)
    assert r(back_transform(pas.yi[0], "arcsine"), 12) == 0.4


# ---------------------------------------------------------------------------------------------
# Result object, contract, edge cases
# ---------------------------------------------------------------------------------------------

CONTRACT = {"k", "measure", "method", "estimate", "low", "high", "pi_low", "pi_high", "tau2",
            "i2", "q", "q_df", "q_p", "studies"}
SUBGROUP_KEYS = {"subgroups", "q_between", "q_between_df", "q_between_p"}
EXTRA = {"hksj", "level", "i2_low", "i2_high", "h2", "notes", "estimable", "method_used",
         "hksj_variant", "events", "n"}


def test_to_dict_matches_cli_contract_and_is_json() -> None:
    res = pool_proportions(NIELWEISE_CI, NIELWEISE_N2, studies=[f"s{i}" for i in range(18)])
    d = res.to_dict()
    assert set(d) == CONTRACT | EXTRA
    assert set(d["studies"][0]) == {"study", "events", "n", "estimate", "low", "high", "weight"}
    json.dumps(d, allow_nan=False)
    assert math.isclose(sum(s["weight"] for s in d["studies"]), 100.0)
    assert all(0 <= s["low"] <= s["estimate"] <= s["high"] <= 1 for s in d["studies"])
    frame = res.to_frame()
    assert list(frame.columns) == ["study", "events", "n", "estimate", "low", "high", "weight"]
    assert len(frame) == 18
    fe = pool_proportions(NIELWEISE_CI, NIELWEISE_N2, method="FE").to_dict()
    assert fe["tau2"] is None and fe["pi_low"] is None and fe["pi_high"] is None


def test_per_study_ci_is_wilson_from_proportions_module() -> None:
    from comparators.stats.proportions import proportion_ci

    res = pool_proportions([13, 3], [27, 11])
    ci = proportion_ci(13, 27)
    assert (res.studies[0].low, res.studies[0].high) == (ci.low, ci.high)


def test_subgroups_and_q_between() -> None:
    x = NIELWEISE_CI + NIELWEISE_AI
    n = NIELWEISE_N2 + NIELWEISE_N1
    groups = ["standard"] * 18 + ["anti-infective"] * 18
    names = [f"c{i}" for i in range(18)] + [f"a{i}" for i in range(18)]
    res = pool_proportions(x, n, studies=names, groups=groups)
    d = res.to_dict()
    assert set(d) == CONTRACT | SUBGROUP_KEYS | EXTRA
    json.dumps(d, allow_nan=False)
    std, anti = res.subgroups
    # Each subgroup is its own REML fit: the same numbers as the Stijnen (2010) checks above.
    assert (std.group, std.k, r(std.estimate, 3), r(std.tau2, 3)) == ("standard", 18, 0.036, 0.663)
    assert (anti.k, r(anti.estimate, 3), r(anti.tau2, 3)) == (18, 0.014, 0.393)
    # Q-between = Wald test of the two subgroup estimates (logit scale), 1 df.
    a = fit_model(effect_sizes(NIELWEISE_CI, NIELWEISE_N2), "REML")
    b = fit_model(effect_sizes(NIELWEISE_AI, NIELWEISE_N1), "REML")
    z2 = (a.estimate - b.estimate) ** 2 / (a.se**2 + b.se**2)
    assert res.q_between_df == 1
    assert math.isclose(res.q_between, z2, rel_tol=1e-10)
    assert 0 < res.q_between_p < 0.01


def test_k1_returns_study_with_note() -> None:
    res = pool_proportions([13], [27], studies=["Liu 2023"])
    assert res.k == 1 and res.tau2 is None and res.pi_low is None and res.pi_high is None
    assert (res.estimate, res.low, res.high) == (
        res.studies[0].estimate, res.studies[0].low, res.studies[0].high)
    assert any("k = 1" in note for note in res.notes)
    json.dumps(res.to_dict(), allow_nan=False)
    assert res.studies[0].weight == 100.0


def test_all_zero_events_not_estimable_for_every_model() -> None:
    # Issue 12 sparse-data rule: all arms 0 % -> summed counts 0/45 with the exact interval.
    # Clopper-Pearson upper limit for 0/45 is 1 - 0.025^(1/45) (closed form for x = 0).
    for method in ("REML", "DL", "FE", "GLMM"):
        res = pool_proportions([0, 0, 0], [10, 20, 15], method=method, hksj=True)
        assert not res.estimable and res.method_used == "exact"
        assert (res.events, res.n, res.estimate, res.low) == (0, 45, 0.0, 0.0)
        assert math.isclose(res.high, 1 - 0.025 ** (1 / 45), rel_tol=1e-9)
        assert res.tau2 is None and res.i2 is None and res.pi_low is None
        assert res.hksj_variant is None and res.corrected == ()
        assert any("not estimable by random-effects pooling" in nt for nt in res.notes)
        json.dumps(res.to_dict(), allow_nan=False)
    with pytest.raises(GLMMNotFittedError, match="exact .Clopper-Pearson. interval"):
        fit_glmm([0, 0, 0], [10, 20, 15])


def test_ft_never_corrected_and_glmm_needs_logit() -> None:
    res = pool_proportions([0, 5, 10], [10, 10, 10], measure="ft")
    assert res.corrected == ()
    with pytest.raises(PoolingInputError, match="logit"):
        pool_proportions([1, 2], [10, 10], measure="ft", method="GLMM")


def test_raw_measure_truncated_to_unit_interval() -> None:
    res = pool_proportions([1, 0, 2], [3, 2, 40], measure="raw", method="DL")
    assert 0 <= res.low <= res.estimate <= res.high <= 1


@pytest.mark.parametrize(
    ("events", "n", "match"),
    [([1, 2], [10], "same length"), ([1.5], [10], "whole number"), ([-1], [10], "negative"),
     ([11], [10], "cannot exceed"), ([0], [0], "at least 1"), ([], [], "no studies"),
     ([float("nan")], [10], "whole number"), (["3"], [10], "whole number")],
)
def test_pool_input_errors(events: list, n: list, match: str) -> None:
    with pytest.raises(PoolingInputError, match=match):
        pool_proportions(events, n)


def test_option_errors() -> None:
    with pytest.raises(PoolingInputError, match="measure"):
        pool_proportions([1], [2], measure="probit")
    with pytest.raises(PoolingInputError, match="method"):
        pool_proportions([1], [2], method="SJ")
    with pytest.raises(PoolingInputError, match="level"):
        pool_proportions([1], [2], level=95)
    with pytest.raises(PoolingInputError, match="duplicate"):
        pool_proportions([1, 2], [5, 5], studies=["a", "a"])


def test_leave_one_out() -> None:
    loo = leave_one_out(MILLER_X, MILLER_N, studies=list("ABCD"), measure="ft", method="FE")
    assert list(loo["omitted"]) == list("ABCD")
    assert (loo["k"] == 3).all()
    full = pool_proportions(MILLER_X[1:], MILLER_N[1:], measure="ft", method="FE")
    assert math.isclose(loo.loc[0, "estimate"], full.estimate)


# ---------------------------------------------------------------------------------------------
# Property tests
# ---------------------------------------------------------------------------------------------


@st.composite
def count_data(draw: st.DrawFn, min_k: int = 2, max_k: int = 12) -> tuple[list[int], list[int]]:
    k = draw(st.integers(min_k, max_k))
    n = draw(st.lists(st.integers(1, 300), min_size=k, max_size=k))
    x = [draw(st.integers(0, ni)) for ni in n]
    return x, n


PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPS
@given(count_data(), st.sampled_from(["logit", "ft", "arcsine", "raw"]))
def test_fe_estimate_within_study_range(data: tuple, measure: str) -> None:
    x, n = data
    es = effect_sizes(x, n, measure)
    fit = fit_model(es, "FE")
    assert es.yi.min() - 1e-9 <= fit.estimate <= es.yi.max() + 1e-9


@PROPS
@given(count_data(), st.sampled_from(["FE", "DL", "PM", "ML", "REML"]), st.booleans())
def test_i2_bounds_weights_and_order(data: tuple, method: str, hksj: bool) -> None:
    x, n = data
    res = pool_proportions(x, n, method=method, hksj=hksj)
    assert math.isclose(sum(s.weight for s in res.studies), 100.0, rel_tol=1e-9)
    if not res.estimable:  # every arm 0 % or 100 %: the documented sparse-data rule
        assert len(x) >= 2 and (sum(x) == 0 or x == n) and res.i2 is None
        assert res.estimate == sum(x) / sum(n)
        return
    for v in (res.i2, res.i2_low, res.i2_high):
        assert v is not None and 0 <= v <= 100
    assert res.i2_low <= res.i2_high
    assert math.isclose(sum(s.weight for s in res.studies), 100.0, rel_tol=1e-9)
    assert 0 <= res.low <= res.estimate <= res.high <= 1
    json.dumps(res.to_dict(), allow_nan=False)


@PROPS
@given(count_data(), st.sampled_from(["FE", "DL", "PM", "ML", "REML"]), st.randoms())
def test_permutation_invariance(data: tuple, method: str, rnd) -> None:  # noqa: ANN001
    x, n = data
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    a = pool_proportions(x, n, method=method)
    b = pool_proportions([x[i] for i in perm], [n[i] for i in perm], method=method)
    for fa, fb in ((a.estimate, b.estimate), (a.low, b.low), (a.high, b.high),
                   (a.i2 or 0.0, b.i2 or 0.0)):
        assert math.isclose(fa, fb, rel_tol=1e-7, abs_tol=1e-10)
    assert math.isclose(a.tau2 or 0.0, b.tau2 or 0.0, rel_tol=1e-6, abs_tol=1e-10)


@settings(max_examples=8, deadline=None)
@given(count_data(min_k=3, max_k=8), st.randoms())
def test_glmm_permutation_invariance(data: tuple, rnd) -> None:  # noqa: ANN001
    x, n = data
    perm = list(range(len(x)))
    rnd.shuffle(perm)
    a = pool_proportions(x, n, method="GLMM")
    b = pool_proportions([x[i] for i in perm], [n[i] for i in perm], method="GLMM")
    assert math.isclose(a.estimate, b.estimate, rel_tol=1e-5, abs_tol=1e-7)
    assert math.isclose(sum(s.weight for s in a.studies), 100.0)


@st.composite
def sparse_counts(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    """Rare events with many 0-event studies: where a naive Newton for the modes oscillates."""
    k = draw(st.integers(3, 14))
    n = draw(st.lists(st.integers(5, 120), min_size=k, max_size=k))
    x = [draw(st.sampled_from([0, 0, 0, min(1, ni), min(3, ni), ni // 4, ni // 2])) for ni in n]
    return x, n


@settings(max_examples=15, deadline=None)
@given(sparse_counts())
def test_glmm_optimum_is_a_local_minimum(data: tuple) -> None:
    from comparators.stats.pooling import _glmm_deviance

    x, n = data
    if sum(x) == 0:
        return
    fit = fit_glmm(x, n)
    xf, nf = np.array(x, float), np.array(n, float)
    tau = math.sqrt(fit.tau2 or 0.0)
    d0 = _glmm_deviance(fit.estimate, tau, xf, nf)
    for db, dt in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
        if tau + dt < 0:
            continue
        assert _glmm_deviance(fit.estimate + db, tau + dt, xf, nf) >= d0 - 1e-7
    assert math.isfinite(fit.se) and fit.se > 0


# ---------------------------------------------------------------------------------------------
# read_pool_csv
# ---------------------------------------------------------------------------------------------


def test_read_pool_csv_ok_with_groups(tmp_path) -> None:  # noqa: ANN001
    path = tmp_path / "pool.csv"
    path.write_text("study,events,n,group\nA,3,11,x\nB,6,17,x\nC,10,21,y\n", encoding="utf-8")
    studies, events, n, groups = read_pool_csv(path)
    assert studies == ["A", "B", "C"] and groups == ["x", "x", "y"]
    assert list(events) == [3, 6, 10] and list(n) == [11, 17, 21]
    res = pool_proportions(events, n, studies, groups=groups)
    assert [g.group for g in res.subgroups] == ["x", "y"]


def test_read_pool_csv_without_group_from_buffer() -> None:
    studies, events, n, groups = read_pool_csv(io.StringIO("Study, Events, N\nA, 3, 11.0\n"))
    assert (studies, list(events), list(n), groups) == (["A"], [3], [11], None)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ("study,events,n\n", "no data rows"),
        ("study,events\nA,3\n", "missing column.*n"),
        ("study,events,n\nA,3,11\nB,2.5,10\n", "row 2, column events.*whole number"),
        ("study,events,n\nA,x,11\n", "row 1, column events"),
        ("study,events,n\nA,3,-11\n", "row 1, column n.*negative"),
        ("study,events,n\nA,3,11\nB,12,11\n", "row 2, column events.*cannot exceed"),
        ("study,events,n\nA,0,0\n", "row 1, column n.*at least 1"),
        ("study,events,n\nA,3,11\nB,,11\n", "row 2, column events.*missing"),
        ("study,events,n\nA,3,NaN\n", "row 1, column n.*missing"),
        ("study,events,n\nA,3,11\nA,4,12\n", "row 2, column study.*duplicate.*row 1"),
        ("study,events,n\n,3,11\n", "row 1, column study.*empty"),
        ("study,events,n,group\nA,3,11,\n", "row 1, column group"),
    ],
)
def test_read_pool_csv_errors(text: str, match: str) -> None:
    with pytest.raises(PoolingInputError, match=match):
        read_pool_csv(io.StringIO(text))


def _csv_like_pandas_files(count: int) -> list[str]:
    """Well-formed pool files in the shapes people save: quoting, spaces after commas, CRLF,
    blank and whitespace-only lines, a BOM, repeated (refused) or empty header names, extra
    columns."""
    import random

    rnd = random.Random(20261201)
    cells = ["", "nan", "NA", "1.0", "2.5", "-1", "1e1", "x", '"a,b"', '"q""q"', '"3"x', "A B"]
    files = []
    for _ in range(count):
        cols = ["study", "events", "n"] + rnd.sample(["group", "notes", "n", "", "Study"],
                                                     rnd.randint(0, 2))
        rnd.shuffle(cols)
        lines = [",".join(rnd.choice([c, c.upper(), " " + c, f'"{c}"']) for c in cols)]
        for _ in range(rnd.randint(0, 5)):
            row = [rnd.choice([str(rnd.randint(0, 30)), rnd.choice("ABCD") + str(rnd.randint(0, 3)),
                               rnd.choice(cells)]) for _ in cols]
            lines.append(",".join(rnd.choice([v, " " + v, v + " ", f'"{v}"']) if '"' not in v
                                  else v for v in row))
            if rnd.random() < 0.15:
                lines.append(rnd.choice(["", "   ", "\t"]))
        nl = rnd.choice(["\n", "\r\n"])
        files.append(rnd.choice(["", "\ufeff"]) + nl.join(lines) + rnd.choice(["", nl]))
    return files


def test_read_pool_csv_tokenises_like_pandas_read_csv() -> None:
    # Issue 15: the reader moved from pandas.read_csv (0.5 s to import) to the csv module; on
    # well-formed files the header and the cells must be exactly what pandas gave.
    from comparators.stats.pooling import _read_csv_table

    for text in _csv_like_pandas_files(400):
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                skipinitialspace=True, encoding="utf-8-sig")
        except pd.errors.EmptyDataError:
            with pytest.raises(PoolingInputError, match="empty"):
                _read_csv_table(text)
            continue
        names = [str(c).split(".")[0].casefold() for c in frame.columns]  # "n.1" -> "n"
        if len(set(names)) < len(names):  # pandas renames a repeat; the reader refuses it
            with pytest.raises(PoolingInputError, match="duplicated column name"):
                _read_csv_table(text)
            continue
        header, rows = _read_csv_table(text)
        assert header == list(frame.columns), repr(text)
        assert rows == frame.to_numpy().tolist(), repr(text)
        assert _read_csv_table(text.encode()) == (header, rows)


def test_read_pool_csv_refuses_rows_longer_than_the_header() -> None:
    # pandas silently took the first column of such a file as an index and shifted every cell
    # one column left (a trailing comma on each data row read the events as the study id).
    for text in ("study,events,n\nA,3,10,\nB,5,12,\n", "study,events,n\nA,3,10\nB,5,12,9\n"):
        with pytest.raises(PoolingInputError, match="not a readable CSV: expected 3 fields"):
            read_pool_csv(io.StringIO(text))
    with pytest.raises(PoolingInputError, match="quoted cell is never closed"):
        read_pool_csv(io.StringIO('study,events,n\n"A,3,10\n'))


def test_pooling_input_error_is_value_error() -> None:
    assert issubclass(PoolingInputError, ValueError)
    assert isinstance(pool_proportions([1, 2], [5, 6]), PooledProportion)
    assert isinstance(leave_one_out([1, 2, 3], [5, 6, 7]), pd.DataFrame)


# ---------------------------------------------------------------------------------------------
# Issue 12: global optimum, sparse-data rules, HKSJ ad hoc, small-k caution
# ---------------------------------------------------------------------------------------------

ISSUE12_X = [4, 0, 0, 3, 0, 0, 0, 0]
ISSUE12_N = [5, 7, 7, 7, 100, 20, 60, 3]


def test_reml_finds_global_maximum_issue12_example() -> None:
    # Source: R 4.x, metafor 3.8.1 (Debian r-cran-metafor), run for this test:
    #   dat <- escalc("PR", xi=c(4,0,0,3,0,0,0,0), ni=c(5,7,7,7,100,20,60,3))
    #   r <- rma(yi, vi, data=dat, method="REML")
    #   r$tau2 0.03789254, r$beta 0.13843251, logLik(r) -0.41849447
    #   logLik(rma(yi, vi, data=dat, method="REML", tau2=0)) -0.7843962
    # (metafor stops Fisher scoring at a tau^2 change < 1e-5, hence 3 significant digits for tau^2)
    es = effect_sizes(ISSUE12_X, ISSUE12_N, "raw")
    fit = fit_model(es, "REML")
    assert round(fit.tau2, 4) == 0.0379
    assert round(fit.estimate, 3) == 0.138
    assert round(float(_loglik(fit.tau2, es.yi, es.vi, True)[0]), 3) == -0.418
    assert round(float(_loglik(0.0, es.yi, es.vi, True)[0]), 3) == -0.784
    res = pool_proportions(ISSUE12_X, ISSUE12_N, measure="raw")
    assert res.estimable and round(100 * res.estimate, 1) == 13.8


def test_ups_ai_ici_all_zero_not_estimable_with_exact_interval() -> None:
    # Issue 12: UPS AI+ICI arms 0/5, 0/6, 0/5 were shown as 7.9% (6.3-9.9%) with HKSJ.
    # Clopper-Pearson 95% for 0/16: upper = 1 - 0.025^(1/16) = 0.2059 (closed form for x = 0).
    for hksj in (False, True):
        res = pool_proportions([0, 0, 0], [5, 6, 5], hksj=hksj)
        assert not res.estimable
        assert (res.events, res.n, res.estimate, res.low) == (0, 16, 0.0, 0.0)
        assert round(res.high, 4) == round(1 - 0.025 ** (1 / 16), 4) == 0.2059
        assert "0/16 = 0.0%" in " ".join(res.notes)
        d = res.to_dict()
        assert d["estimable"] is False and d["tau2"] is None and d["pi_low"] is None


def test_all_100_percent_arms_not_estimable() -> None:
    # Clopper-Pearson lower limit for 12/12 is 0.025^(1/12) (closed form for x = n).
    res = pool_proportions([4, 8], [4, 8], method="ML")
    assert not res.estimable and res.estimate == 1.0 and res.high == 1.0
    assert math.isclose(res.low, 0.025 ** (1 / 12), rel_tol=1e-9)


def test_not_estimable_subgroup_left_out_of_between_test() -> None:
    x, n = [0, 0, 0, 3, 5, 2], [5, 6, 5, 10, 12, 9]
    g = ["AI+ICI"] * 3 + ["ICI"] * 3
    res = pool_proportions(x, n, groups=g, hksj=True)
    sub = {s.group: s for s in res.subgroups}
    assert not sub["AI+ICI"].estimable and sub["AI+ICI"].estimate == 0.0
    assert (sub["AI+ICI"].events, sub["AI+ICI"].n) == (0, 16)
    assert sub["ICI"].estimable
    assert res.q_between is None and res.q_between_p is None
    assert any("left out of the test for subgroup differences" in nt for nt in res.notes)
    assert res.to_dict()["subgroups"][0]["estimable"] is False


@pytest.mark.parametrize("data", [
    ([2, 3, 5, 1], [10, 12, 20, 8]),    # homogeneous: plain HK factor < 1
    ([1, 9, 2, 14], [20, 20, 25, 30]),  # heterogeneous: HK factor > 1
])
def test_hksj_adhoc_never_narrower_than_standard(data: tuple) -> None:
    # metafor 3.8.1, dat <- escalc("PLO", xi=c(2,3,5,1), ni=c(10,12,20,8)):
    #   rma(yi, vi, data=dat, test="adhoc") CI -2.333582 .. -0.1472242 (se 0.3435027)
    #   rma(yi, vi, data=dat, test="knha")  CI -1.725281 .. -0.7555254 (se 0.1523600)
    x, n = data
    es = effect_sizes(x, n, "logit")
    std = fit_model(es, "REML")
    adhoc = fit_model(es, "REML", hksj=True)
    plain = fit_model(es, "REML", hksj=True, hksj_variant="plain")
    assert adhoc.hksj_variant == "adhoc" and plain.hksj_variant == "plain"
    assert adhoc.high - adhoc.low >= std.high - std.low
    if x == [2, 3, 5, 1]:
        assert (round(adhoc.low, 4), round(adhoc.high, 4)) == (-2.3336, -0.1472)
        assert (round(plain.low, 4), round(plain.high, 4)) == (-1.7253, -0.7555)
    res = pool_proportions(x, n, hksj=True)
    assert res.hksj_variant == "adhoc" and res.to_dict()["hksj_variant"] == "adhoc"


def test_small_k_caution_note() -> None:
    for k in (2, 3):
        res = pool_proportions([3, 5, 4][:k], [10, 12, 11][:k])
        assert any(f"k = {k}: tau^2 is barely estimable" in nt for nt in res.notes)
    res = pool_proportions([3, 5, 4, 6], [10, 12, 11, 13])
    assert not any("barely estimable" in nt for nt in res.notes)
    assert not any("barely estimable" in nt
                   for nt in pool_proportions([3, 5], [10, 12], method="FE").notes)


def test_bad_hksj_variant_refused() -> None:
    with pytest.raises(PoolingInputError, match="hksj_variant"):
        pool_proportions([3, 5], [10, 12], hksj=True, hksj_variant="knha")  # type: ignore[arg-type]
