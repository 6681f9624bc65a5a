"""Validation of comparators.stats.pooling against metafor's DOCUMENTED output for proportions.

Every expected number below is copied from output PRINTED in metafor's own reference
documentation (the pkgdown pages that are built by running the Rd examples and are committed to
the metafor / metadat GitHub repositories), never from a local R run. The page, the commit and
the printed line are cited next to each check. Datasets are typed in from the same pages
(their printed `dat` listings).

Complements tests/test_pooling.py (Stijnen et al. 2010 / dat.nielweise2007 at the published
2-3 decimals, Miller 1978 FE Freeman-Tukey, Viechtbauer 2005 tau^2 estimators, dat.bcg FE/DL).
"""

from __future__ import annotations

import numpy as np

from comparators.stats.effect_sizes import effect_sizes
from comparators.stats.pooling import fit_glmm, fit_model, pool_proportions


def r(x: float | None, digits: int) -> float:
    assert x is not None
    return round(float(x), digits)


# ---------------------------------------------------------------------------------------------
# dat.pritz1997: Zhou, Brizendine & Pritz (1999) Stat Med 18:557-566 (14 studies, hyperdynamic
# therapy for cerebral vasospasm; xi improved of ni treated). Two studies have 100 % events
# (Tanabe 10/10, Hadeishi 12/12), so escalc's default add=1/2, to="only0" is exercised.
#
# Source A: metafor 2.2.7 reference page "dat.pritz1997", Examples section, printed output,
#   wviechtb/metafor, docs/reference/dat.pritz1997.html, commit
#   03f2d6cc3f22e212fc4e64168aa8d394c49ad457 (https://wviechtb.github.io/metafor/, pkgdown
#   1.4.1; the "cr.lb cr.ub" columns are metafor 2.x's name for the prediction interval).
# Source B: the same example re-run for the metadat reference page "dat.pritz1997",
#   wviechtb/metadat, docs/reference/dat.pritz1997.html, commit
#   06c40a43ff53d0033ddd10d560a71ce160ce0b9f (https://wviechtb.github.io/metadat/), which
#   prints identical numbers (columns "pi.lb pi.ub").
# ---------------------------------------------------------------------------------------------

# Typed from the printed `dat` listing on both pages (study 1..14).
PRITZ_XI = [16, 10, 4, 43, 10, 25, 13, 12, 22, 4, 5, 18, 58, 6]
PRITZ_NI = [17, 12, 8, 58, 10, 42, 14, 12, 41, 5, 6, 23, 68, 10]


def test_pritz1997_logit_reml_documented() -> None:
    # Printed under "### random-effects model with logit transformed proportions":
    #   dat <- escalc(measure="PLO", xi=xi, ni=ni, data=dat); res <- rma(yi, vi, data=dat)
    #   predict(res, transf=transf.ilogit)
    #      pred  ci.lb  ci.ub  cr.lb  cr.ub
    #    0.7575 0.6605 0.8337 0.4661 0.9179
    res = pool_proportions(PRITZ_XI, PRITZ_NI, measure="logit", method="REML")
    assert (r(res.estimate, 4), r(res.low, 4), r(res.high, 4)) == (0.7575, 0.6605, 0.8337)
    assert (r(res.pi_low, 4), r(res.pi_high, 4)) == (0.4661, 0.9179)
    # Only the two 100 % studies get the 0.5 correction (escalc add=1/2, to="only0").
    assert res.corrected == ("Study 5", "Study 8")


def test_pritz1997_glmm_documented() -> None:
    # Printed under "### mixed-effects logistic regression model":
    #   res <- rma.glmm(measure="PLO", xi=xi, ni=ni, data=dat)
    #   predict(res, transf=transf.ilogit)
    #      pred  ci.lb  ci.ub  cr.lb  cr.ub
    #    0.7984 0.6924 0.8746 0.4426 0.9518
    # The acceptance criterion asks for 3 decimals for GLMM; the documented 4 decimals hold.
    res = pool_proportions(PRITZ_XI, PRITZ_NI, method="GLMM")
    assert (r(res.estimate, 4), r(res.low, 4), r(res.high, 4)) == (0.7984, 0.6924, 0.8746)
    assert (r(res.pi_low, 4), r(res.pi_high, 4)) == (0.4426, 0.9518)
    assert res.corrected == ()  # no continuity correction enters the binomial likelihood
    # Same fit through the model-level API (no back-transformation differences).
    fit = fit_glmm(PRITZ_XI, PRITZ_NI)
    assert r(1 / (1 + np.exp(-fit.estimate)), 4) == 0.7984


def test_pritz1997_raw_reml_documented() -> None:
    # Printed under "### random-effects model with raw proportions":
    #   dat <- escalc(measure="PR", xi=xi, ni=ni, data=dat); res <- rma(yi, vi, data=dat)
    #   predict(res)
    #      pred     se  ci.lb  ci.ub  cr.lb  cr.ub
    #    0.7968 0.0423 0.7138 0.8797 0.5306 1.0629
    fit = fit_model(effect_sizes(PRITZ_XI, PRITZ_NI, "raw"), "REML")
    assert (r(fit.estimate, 4), r(fit.se, 4)) == (0.7968, 0.0423)
    assert (r(fit.low, 4), r(fit.high, 4)) == (0.7138, 0.8797)
    assert (r(fit.pi_low, 4), r(fit.pi_high, 4)) == (0.5306, 1.0629)
    # On the proportion scale we truncate the documented upper PI bound 1.0629 to 1 and say so.
    res = pool_proportions(PRITZ_XI, PRITZ_NI, measure="raw", method="REML")
    assert (r(res.estimate, 4), r(res.low, 4), r(res.high, 4)) == (0.7968, 0.7138, 0.8797)
    assert (r(res.pi_low, 4), res.pi_high) == (0.5306, 1.0)
    assert any("truncated" in note for note in res.notes)


# ---------------------------------------------------------------------------------------------
# dat.debruin2009: de Bruin et al. (2009) Health Psychol 28:668-674 (13 studies, proportion of
# HAART-adherent patients under standard care).
#
# Source: metafor 2.2.7 reference page "dat.debruin2009", Examples section, printed output,
#   wviechtb/metafor, docs/reference/dat.debruin2009.html, commit
#   03f2d6cc3f22e212fc4e64168aa8d394c49ad457. The page prints escalc(measure="PR") at 4
#   decimals and the random-effects model with print(res, digits=2).
# ---------------------------------------------------------------------------------------------

# Typed from the printed `dat` listing (columns ni, xi; Andrade 2005 ... Wohl 2006).
DEBRUIN_NI = [29, 33, 326, 240, 110, 29, 244, 17, 215, 26, 138, 55, 54]
DEBRUIN_XI = [11, 24, 179, 82, 60, 11, 99, 9, 88, 17, 26, 23, 40]


def test_debruin2009_raw_effect_sizes_documented() -> None:
    # Printed yi / vi columns of escalc(measure="PR", xi=xi, ni=ni, data=dat).
    es = effect_sizes(DEBRUIN_XI, DEBRUIN_NI, "raw")
    assert list(np.round(es.yi, 4)) == [0.3793, 0.7273, 0.5491, 0.3417, 0.5455, 0.3793, 0.4057,
                                        0.5294, 0.4093, 0.6538, 0.1884, 0.4182, 0.7407]
    assert list(np.round(es.vi, 4)) == [0.0081, 0.0060, 0.0008, 0.0009, 0.0023, 0.0081, 0.0010,
                                        0.0147, 0.0011, 0.0087, 0.0011, 0.0044, 0.0036]


def test_debruin2009_raw_reml_documented() -> None:
    # res <- rma(yi, vi, data=dat); print(res, digits=2) prints
    #   Random-Effects Model (k = 13; tau^2 estimator: REML)
    #   tau^2 ...: 0.02 (SE = 0.01); tau ...: 0.15; I^2 ...: 91.77%; H^2 ...: 12.14
    #   Q(df = 12) = 135.51
    #   estimate 0.48  se 0.05  zval 10.45  ci.lb 0.39  ci.ub 0.57
    # (The documented precision is 2 decimals here, except I^2 which is printed to 2 decimals
    # of a percentage, i.e. 4 significant digits.)
    fit = fit_model(effect_sizes(DEBRUIN_XI, DEBRUIN_NI, "raw"), "REML")
    assert (r(fit.tau2, 2), r(fit.tau, 2)) == (0.02, 0.15)
    assert (r(fit.i2, 2), r(fit.h2, 2)) == (91.77, 12.14)
    assert (r(fit.q, 2), fit.q_df) == (135.51, 12)
    assert (r(fit.estimate, 2), r(fit.se, 2)) == (0.48, 0.05)
    assert r(fit.estimate / fit.se, 2) == 10.45
    assert (r(fit.low, 2), r(fit.high, 2)) == (0.39, 0.57)
