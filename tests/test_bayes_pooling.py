"""Bayesian random-effects pooling (comparators.stats.bayes_pooling).

Published numbers: bayesmeta's vignette ("bayesmeta" package vignette, C. Röver; the knitted
inst/doc/bayesmeta.html of the CRAN package, sections "A simple example" and "More detailed
analysis"), Rubin (1981) eight schools:

    schools.example.1: tau prior half-Cauchy(scale 25), mu prior normal(0, 50)
        marginal posterior summary          tau          mu
        median                         4.758539    7.962961
        mean                           5.884511    7.985729
        sd                             4.869904    4.995762
        95% lower (shortest)           0.000000   -1.823353
        95% upper (shortest)          15.165894   17.824562
        theta (predictive): median 7.926819, sd 9.126767, shortest 95% [-10.623526, 26.827377]
        1 - pposterior(mu=0) = 0.9487521; qposterior(mu.p=0.95) = 16.11009;
        qposterior(tau.p=0.95) = 15.16589; central tau interval [0.2199559, 18.0531718]
        shrinkage: A median 10.093581, mean 11.095255, sd 7.901084, 95% [-3.209562, 28.169723]
                   G median 9.786985; H median 8.266594
    schools.example.2: uniform tau prior, flat mu prior
        tau median 5.227732, mean 6.585992, sd 5.685974, shortest 95% upper 17.265797
        mu median 8.055861, mean 8.092138, sd 5.246683

bayesmeta integrates tau's marginal exactly (R's integrate/uniroot), so every printed tau
number is reproduced to its last printed digit. Its mu, theta and shrinkage posteriors are a
normal mixture over a finite tau grid chosen by the DIRECT algorithm with a bounded divergence
(bayesmeta arguments delta = 0.01, epsilon = 1e-4, its documented accuracy), so those printed
numbers carry an approximation error of about 1e-3 posterior sd; they are checked to 0.3 % of
the posterior sd (0.5 % for interval ends, where the density is low), and our own mu is checked
against a brute-force 2-D grid integration.

The binomial-normal model and EXNEX are checked against an independent brute-force
computation: a midpoint grid over (mu, tau) with each study's likelihood integrated over its
theta_i by 64-node adaptive Gauss-Hermite quadrature at the conditional mode (Newton), a
different quadrature from the module's piecewise-linear convolution.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from comparators.stats.bayes_pooling import (
    BayesOptions,
    BayesPoolingInputError,
    BayesPrior,
    bayes_meta,
    fit_bayes,
    predictive_beta_prior,
)
from comparators.stats.pooled_result import PooledProportion
from comparators.stats.pooling import pool_proportions
from comparators.vocab import MODEL_CHOICES

ROOT = Path(__file__).resolve().parent.parent
SCHOOLS_Y = [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16]
SCHOOLS_SE = [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]
SCHOOLS = list("ABCDEFGH")


@pytest.fixture(scope="module")
def schools1():
    return bayes_meta(SCHOOLS_Y, SCHOOLS_SE, SCHOOLS, BayesPrior("half-cauchy", 25, 0, 50))


@pytest.fixture(scope="module")
def schools2():
    return bayes_meta(SCHOOLS_Y, SCHOOLS_SE, SCHOOLS, BayesPrior("uniform", 1))


def test_eight_schools_tau_to_every_printed_digit(schools1, schools2) -> None:
    tau = schools1.summary("tau")
    assert round(tau["median"], 6) == 4.758539
    assert round(tau["mean"], 6) == 5.884511
    assert round(tau["sd"], 6) == 4.869904
    lo, hi = schools1.interval("tau", 0.95, kind="shortest")
    assert round(lo, 6) == 0.0 and round(hi, 6) == 15.165894
    assert round(float(schools1.quantile("tau", [0.95])[0]), 5) == 15.16589
    lo, hi = schools1.interval("tau", 0.95, kind="central")
    assert round(lo, 7) == 0.2199559 and round(hi, 7) == 18.0531718
    assert (round(schools1.tau_low, 7), round(schools1.tau_high, 7)) == (0.2199559, 18.0531718)
    tau2 = schools2.summary("tau")
    assert round(tau2["median"], 6) == 5.227732
    assert round(tau2["mean"], 6) == 6.585992
    assert round(tau2["sd"], 6) == 5.685974
    assert round(schools2.interval("tau", 0.95, kind="shortest")[1], 6) == 17.265797


def test_eight_schools_mu_theta_within_bayesmeta_accuracy(schools1, schools2) -> None:
    mu = schools1.summary("mu")
    sd = 4.995762
    tol = 0.003 * sd
    assert mu["median"] == pytest.approx(7.962961, abs=tol)
    assert mu["mean"] == pytest.approx(7.985729, abs=tol)
    assert mu["sd"] == pytest.approx(4.995762, abs=tol)
    lo, hi = schools1.interval("mu", 0.95, kind="shortest")
    assert (lo, hi) == (pytest.approx(-1.823353, abs=tol), pytest.approx(17.824562, abs=tol))
    assert 1 - float(schools1.cdf("mu", [0.0])[0]) == pytest.approx(0.9487521, abs=1e-4)
    assert float(schools1.quantile("mu", [0.95])[0]) == pytest.approx(16.11009, abs=tol)
    pred = schools1.summary("pred")
    tol_p = 0.003 * 9.126767
    assert pred["median"] == pytest.approx(7.926819, abs=tol_p)
    assert pred["sd"] == pytest.approx(9.126767, abs=tol_p)
    lo, hi = schools1.interval("pred", 0.95, kind="shortest")
    assert (lo, hi) == (pytest.approx(-10.623526, abs=tol_p),
                        pytest.approx(26.827377, abs=tol_p))
    a = schools1.summary("0")
    tol_a = 0.003 * 7.901084
    assert a["median"] == pytest.approx(10.093581, abs=tol_a)
    assert a["mean"] == pytest.approx(11.095255, abs=tol_a)
    assert a["sd"] == pytest.approx(7.901084, abs=tol_a)
    lo, hi = schools1.interval("0", 0.95, kind="shortest")
    # Interval ends sit where the density is low: a CDF error becomes error / density there.
    ends = 0.005 * 7.901084
    assert (lo, hi) == (pytest.approx(-3.209562, abs=ends), pytest.approx(28.169723, abs=ends))
    assert schools1.summary("6")["median"] == pytest.approx(9.786985, abs=0.003 * 6.631039)
    assert schools1.summary("7")["median"] == pytest.approx(8.266594, abs=0.003 * 7.456906)
    mu2 = schools2.summary("mu")
    assert mu2["median"] == pytest.approx(8.055861, abs=0.003 * 5.246683)
    assert mu2["mean"] == pytest.approx(8.092138, abs=0.003 * 5.246683)
    assert mu2["sd"] == pytest.approx(5.246683, abs=0.003 * 5.246683)


def test_eight_schools_mu_against_brute_force_grid(schools1) -> None:
    """Joint posterior on a fine (mu, tau) midpoint grid from the marginal likelihood
    prod_i N(y_i; mu, s_i^2 + tau^2), priors half-Cauchy(25) x normal(0, 50)."""
    y, s2 = np.array(SCHOOLS_Y), np.array(SCHOOLS_SE) ** 2
    mu = -25 + 0.02 * (np.arange(3000) + 0.5)
    tau = 0.05 * (np.arange(3000) + 0.5)  # (0, 150]; the tail beyond is ~tau^-9
    lp = np.zeros((mu.size, tau.size))
    for yi, vi in zip(y, s2, strict=True):
        var = vi + tau**2
        lp += -0.5 * np.log(var)[None, :] - 0.5 * (yi - mu[:, None]) ** 2 / var[None, :]
    lp += -0.5 * (mu[:, None] / 50) ** 2 - np.log1p((tau[None, :] / 25) ** 2)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    cdf = np.cumsum(w.sum(1))
    median = float(np.interp(0.5, cdf - w.sum(1) / 2, mu))
    assert schools1.mu_median == pytest.approx(median, abs=2e-3)
    assert float((w.sum(1) * mu).sum()) == pytest.approx(schools1.summary("mu")["mean"],
                                                         abs=2e-3)
    # The joint density (bayesmeta's dposterior(tau, mu)) at a few grid cells.
    for i, j in ((1650, 100), (1400, 40), (1900, 300)):
        brute = w[i, j] / (0.02 * 0.05)
        assert float(schools1.joint_density(mu[i], tau[j])) == pytest.approx(brute, rel=2e-3)


def test_joint_density_integrates_to_the_tau_marginal() -> None:
    r = fit_bayes([0, 3, 5, 1, 8], [5, 12, 20, 9, 30], likelihood="binomial")
    mu = np.linspace(-8, 4, 2401)
    for tau in (0.2, 0.5, 1.0):
        marginal = np.trapezoid(r.joint_density(mu, np.full(mu.shape, tau)), mu)
        assert marginal == pytest.approx(float(r.density("tau", [tau])[0]), rel=2e-2)


def test_density_cdf_and_quantile_agree_for_every_marginal(schools1) -> None:
    # bayesmeta's d/p/qposterior as one call each: the density integrates to the cdf's
    # increments, and the quantile inverts the cdf, for mu, tau, a new arm and a study.
    for what in ("mu", "tau", "pred", "0"):
        lo, hi = (float(v) for v in schools1.quantile(what, [0.2, 0.8]))
        x = np.linspace(lo, hi, 4001)
        area = np.trapezoid(schools1.density(what, x), x)
        assert area == pytest.approx(0.6, abs=2e-3), what
        assert schools1.cdf(what, [lo, hi]) == pytest.approx([0.2, 0.8], abs=1e-6), what
    with pytest.raises(BayesPoolingInputError, match="choose 'mu', 'tau', 'pred'"):
        schools1.cdf("sigma", [0.0])


# ----------------------------------------------------------------------------- brute force

def _brute_binomial(x, n, tau_scale=1.0, mu_sd=None, p_ex=1.0, nex=(0.0, 2.0),
                    mu_range=(-9.0, 5.0)):
    x = np.asarray(x, float)
    n = np.asarray(n, float)
    zq, wq = np.polynomial.hermite.hermgauss(64)
    mu = mu_range[0] + 0.04 * (np.arange(int(round((mu_range[1] - mu_range[0]) / 0.04))) + 0.5)
    tau = 0.02 * (np.arange(250) + 0.5)  # (0, 5]; half-normal(1) leaves < 1e-6 beyond
    grid_mu, grid_tau = np.meshgrid(mu, tau, indexing="ij")

    def agh(i, m, s):
        th = np.full(m.shape, np.log((x[i] + 0.5) / (n[i] - x[i] + 0.5)))
        for _ in range(40):  # conditional mode of Bin(x_i | expit(th)) N(th; m, s^2)
            p = expit(th)
            th = th - (x[i] - n[i] * p - (th - m) / s**2) / (-n[i] * p * (1 - p) - 1 / s**2)
        p = expit(th)
        sd = 1 / np.sqrt(n[i] * p * (1 - p) + 1 / s**2)
        pts = th[..., None] + np.sqrt(2) * sd[..., None] * zq
        lg = (x[i] * pts - n[i] * np.logaddexp(0, pts)
              - 0.5 * ((pts - m[..., None]) / s[..., None]) ** 2
              - np.log(s[..., None] * np.sqrt(2 * np.pi)))
        wts = wq * np.exp(zq**2) * np.sqrt(2) * sd[..., None]
        lik = (wts * np.exp(lg)).sum(-1)
        return lik, (wts * np.exp(lg) * pts).sum(-1) / lik

    lp = -0.5 * (grid_tau / tau_scale) ** 2
    if mu_sd is not None:
        lp = lp - 0.5 * (grid_mu / mu_sd) ** 2
    ex = [agh(i, grid_mu, grid_tau) for i in range(x.size)]
    nx = [agh(i, np.array([nex[0]]), np.array([nex[1]])) for i in range(x.size)]
    for i in range(x.size):
        lp = lp + np.log(p_ex * ex[i][0] + (1 - p_ex) * nx[i][0][0])
    w = np.exp(lp - lp.max())
    w /= w.sum()
    out = {"mu_median": float(np.interp(0.5, np.cumsum(w.sum(1)) - w.sum(1) / 2, mu)),
           "tau_median": float(np.interp(0.5, np.cumsum(w.sum(0)) - w.sum(0) / 2, tau)),
           "theta_mean": [], "p_ex": []}
    for i in range(x.size):
        share = p_ex * ex[i][0] / (p_ex * ex[i][0] + (1 - p_ex) * nx[i][0][0])
        out["p_ex"].append(float((w * share).sum()))
        out["theta_mean"].append(float((w * (share * ex[i][1]
                                             + (1 - share) * nx[i][1][0])).sum()))
    return out


def test_binomial_normal_against_brute_force() -> None:
    x, n = [0, 3, 5, 1, 8], [5, 12, 20, 9, 30]
    bf = _brute_binomial(x, n)
    r = fit_bayes(x, n, likelihood="binomial")
    assert r.mu_median == pytest.approx(bf["mu_median"], abs=3e-3)
    assert r.tau_median == pytest.approx(bf["tau_median"], abs=3e-3)
    means = [r.summary(str(i))["mean"] for i in range(len(x))]
    assert means == pytest.approx(bf["theta_mean"], abs=3e-3)
    # 0/5 needs no continuity correction here, and its shrunken estimate is above 0.
    assert r.studies[0].median > 0.05 and not any("continuity" in s for s in r.notes)


def test_binomial_flat_prior_long_tail_against_brute_force() -> None:
    """One responder in 43 and a flat prior on mu: mu's posterior tail reaches far below the
    data (it decays like exp(mu)); the grid must follow it."""
    x, n = [0, 1, 0, 0, 0], [10, 15, 12, 1, 5]
    bf = _brute_binomial(x, n, mu_range=(-30.0, 4.0))
    r = fit_bayes(x, n, likelihood="binomial")
    assert r.mu_median == pytest.approx(bf["mu_median"], abs=5e-3)
    assert r.tau_median == pytest.approx(bf["tau_median"], abs=5e-3)
    assert not any("edge" in note for note in r.notes)


def test_exnex_against_brute_force() -> None:
    x, n = [0, 0, 1, 7, 2], [2, 6, 12, 10, 15]  # the fourth unit is an outlier
    bf = _brute_binomial(x, n, mu_sd=2.0, p_ex=0.5)
    r = fit_bayes(x, n, likelihood="binomial", prior=BayesPrior(mu_sd=2.0), p_exchangeable=0.5)
    assert r.mu_median == pytest.approx(bf["mu_median"], abs=3e-3)
    assert r.tau_median == pytest.approx(bf["tau_median"], abs=3e-3)
    assert [r.summary(str(i))["mean"] for i in range(5)] == pytest.approx(bf["theta_mean"],
                                                                          abs=3e-3)
    assert [s.p_exchangeable for s in r.studies] == pytest.approx(bf["p_ex"], abs=2e-3)
    # The outlier is the one unit the data call non-exchangeable.
    assert int(np.argmin([s.p_exchangeable for s in r.studies])) == 3


# ----------------------------------------------------------------------------- pipeline

def test_pool_proportions_bayes_shape_and_labels() -> None:
    r = pool_proportions([0, 3, 5, 1, 8], [5, 12, 20, 9, 30], studies=list("abcde"),
                         method="BAYES", groups=list("xxyyy"))
    assert isinstance(r, PooledProportion) and r.method == "BAYES" and r.estimable
    post = r.posterior
    assert (r.estimate, r.low, r.high) == pytest.approx(
        tuple(expit([post.mu_median, post.mu_low, post.mu_high])))
    assert r.tau2 == pytest.approx(post.tau_median**2)
    assert r.i2 is None and r.q is not None and r.q_between is None
    assert [g.method_used for g in r.subgroups] == ["BAYES", "BAYES"]
    bayes = MODEL_CHOICES["BAYES"]
    assert "half-normal" in bayes.label and "scale 1" in bayes.short
    assert "flat μ prior" in bayes.prose
    cauchy = pool_proportions([0, 3, 5], [5, 12, 20], method="BAYES",
                              bayes=BayesOptions(BayesPrior("half-cauchy", 0.5), "binomial"))
    assert cauchy.method_short == "Bayesian random effects (half-Cauchy τ prior, scale 0.5)"
    assert "half-Cauchy prior on τ (scale 0.5)" in cauchy.prior
    # Sparse-data rule as for every model: all 0 % is not estimable unless mu has a prior.
    assert not pool_proportions([0, 0], [5, 12], method="BAYES").estimable
    ok = pool_proportions([0, 0], [5, 12], method="BAYES",
                          bayes=BayesOptions(BayesPrior(mu_sd=2.0), "binomial"))
    assert ok.estimable and ok.high < 0.5


def test_sensitivity_table_and_prior_text() -> None:
    r = fit_bayes([0, 3, 5, 1], [5, 12, 20, 9], likelihood="binomial")
    table = r.sensitivity()
    assert list(table["tau_scale"]) == [0.5, 1.0, 2.0]
    # A wider prior on tau lets the data support more heterogeneity: wider predictive.
    width = table["pi_high"] - table["pi_low"]
    assert width.is_monotonic_increasing and table["tau_median"].is_monotonic_increasing
    assert all("half-normal prior on τ (scale" in p for p in table["prior"])


def test_predictive_beta_prior_moment_matched() -> None:
    r = fit_bayes([2, 3, 5, 1], [10, 12, 20, 9])
    beta = predictive_beta_prior(r)
    # Independent: the predictive is a normal mixture; E[expit] and E[expit^2] by 60-node
    # Gauss-Hermite within each component.
    z, w = np.polynomial.hermite.hermgauss(60)
    pred = r._pred
    vals = expit(pred.m[:, None] + np.sqrt(2) * pred.s[:, None] * z)
    m1 = float((pred.w[:, None] * w * vals).sum() / np.sqrt(np.pi))
    m2 = float((pred.w[:, None] * w * vals**2).sum() / np.sqrt(np.pi))
    mean, var = beta.a / (beta.a + beta.b), beta.a * beta.b / (
        (beta.a + beta.b) ** 2 * (beta.a + beta.b + 1))
    assert mean == pytest.approx(m1, abs=1e-4)
    assert var == pytest.approx(m2 - m1**2, rel=2e-3)


@pytest.mark.parametrize("call, limit", [
    (lambda: BayesPrior(tau_scale=1000), "at most 100"),
    (lambda: fit_bayes([1] * 201, [5] * 201, likelihood="binomial"), "at most 200"),
    (lambda: fit_bayes([1, 2], [5, 9], measure="ft", likelihood="binomial"), "logit"),
    (lambda: fit_bayes([0, 0], [5, 9], likelihood="binomial"), "mu-prior-sd"),
    (lambda: fit_bayes([1, 2], [5, 200_000]), "100,000"),
    (lambda: fit_bayes([500, 30_000], [1000, 90_000], likelihood="binomial"), "1,201 nodes"),
])
def test_refusals_name_the_limit(call, limit) -> None:
    with pytest.raises(BayesPoolingInputError, match=limit):
        call()


def test_cli_pool_bayes_keys(tmp_path: Path) -> None:
    f = tmp_path / "arms.csv"
    f.write_text("study,events,n\nA,0,5\nB,3,12\nC,5,20\n")
    out = subprocess.run(
        [sys.executable, "-m", "comparators", "pool", str(f), "--method", "bayes",
         "--likelihood", "binomial", "--tau-prior", "half-cauchy", "--tau-scale", "0.5",
         "--mu-prior-sd", "3", "--level", "0.9", "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for key in ("estimate", "low", "high", "pi_low", "pi_high", "tau2", "tau_median", "tau_low",
                "tau_high", "prior"):
        assert key in d
    assert d["method"] == "BAYES" and d["level"] == 0.9
    assert "half-Cauchy prior on τ (scale 0.5)" in d["prior"] and "sd 3" in d["prior"]
    assert d["tau2"] == pytest.approx(d["tau_median"] ** 2)
    assert d["low"] < d["estimate"] < d["high"] and d["pi_low"] < d["low"]
    for s in d["studies"]:
        assert s["shrunk_low"] < s["shrunk_estimate"] < s["shrunk_high"]
    bad = subprocess.run(
        [sys.executable, "-m", "comparators", "pool", str(f), "--tau-scale", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert bad.returncode == 2 and "--method bayes" in bad.stderr
