"""Meta-regression (stats.metareg): published numbers, refusals, the bubble plot and the CLI.

Published numbers come from the printed outputs of Viechtbauer W. Conducting meta-analyses in R
with the metafor package. J Stat Softw 2010;36(3) (the metafor vignette), of Berkey CS et al.
Stat Med 1995;14:395-411 (page 408, as metafor's test_analysis_example_berkey1995 quotes them)
and of Raudenbush SW, Bryk AS. J Educ Stat 1985;10:75-98 (pages 90 and 92, as metafor's
test_analysis_example_raudenbush1985 quotes them). R itself is compared on generated data in
tests/oracle/test_metareg_oracle.py.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import comparators.limits as limits
from comparators.charts.metareg import bubble_chart
from comparators.errors import InputError
from comparators.limits import LimitError
from comparators.stats.effect_sizes import EffectSizes
from comparators.stats.metareg import (
    INTERCEPT,
    MetaRegressionInputError,
    bubble_data,
    estimate_tau2,
    fit_metareg,
    metareg_proportions,
    read_metareg_csv,
)
from comparators.stats.pooling import fit_model

ROOT = Path(__file__).resolve().parent.parent

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): vaccinated and control arms with
# and without tuberculosis, absolute latitude, publication year and allocation method.
TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
YEAR = [1948, 1949, 1960, 1977, 1973, 1953, 1973, 1980, 1968, 1961, 1974, 1969, 1976]
ALLOC = ["random", "random", "random", "random", "alternate", "alternate", "random", "random",
         "random", "systematic", "systematic", "systematic", "systematic"]


def bcg() -> tuple[np.ndarray, np.ndarray]:
    """Log relative risks and their variances (metafor escalc measure RR)."""
    a, b, c, d = (np.array(v, dtype=float) for v in (TPOS, TNEG, CPOS, CNEG))
    return np.log((a / (a + b)) / (c / (c + d))), 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)


def r4(x: float) -> float:
    return round(x, 4)


def test_reml_latitude_and_year_as_printed_in_viechtbauer_2010() -> None:
    # JSS 2010 p. 16: rma(yi, vi, mods = cbind(ablat, year), data = dat)
    yi, vi = bcg()
    res = fit_metareg(yi, vi, {"ablat": ABLAT, "year": YEAR}, measure="log RR")
    assert r4(res.tau2) == 0.1108
    assert (r4(res.qe), res.qe_df, r4(res.qe_p)) == (28.3251, 10, 0.0016)
    # QM printed 12.2043: metafor's default Fisher scoring stops at threshold 1e-5 (tau^2 =
    # 0.1107874); at the converged tau^2 (0.1107847, metafor with threshold 1e-10) it is 12.2045.
    assert res.qm == pytest.approx(12.2043, abs=3e-4)
    assert (res.qm_df, r4(res.qm_p)) == (2, 0.0022)
    printed = {INTERCEPT: (-3.5455, 29.0959, -0.1219, 0.9030, -60.5724, 53.4814),
               "ablat": (-0.0280, 0.0102, -2.7371, 0.0062, -0.0481, -0.0080),
               "year": (0.0019, 0.0147, 0.1299, 0.8966, -0.0269, 0.0307)}
    assert res.terms == (INTERCEPT, "ablat", "year")
    for term, values in printed.items():  # the same early stop moves the intercept's 5th digit
        c = res.coefficient(term)
        assert (c.estimate, c.se, c.statistic, c.p, c.low, c.high) == pytest.approx(
            values, rel=5e-5, abs=6e-5)
    # "(0.3132 - 0.1108)/.3132 = 65% of the total amount of heterogeneity can be accounted for"
    assert r4(res.tau2_null) == 0.3132 and round(res.r2) == 65
    # predict(res, newmods = cbind(seq(10, 60, 10), 1970), transf = exp)
    preds = res.predict_rows(np.array([[1, lat, 1970] for lat in (10, 20, 30, 40, 50, 60)]))
    table = [tuple(r4(math.exp(v)) for v in (p.estimate, p.low, p.high, p.pi_low, p.pi_high))
             for p in preds]
    assert table[0] == (0.9345, 0.5833, 1.4973, 0.4179, 2.0899)
    assert table[3] == (0.4033, 0.2956, 0.5502, 0.1958, 0.8306)
    assert table[5] == (0.2303, 0.1209, 0.4386, 0.0921, 0.5761)


def test_knapp_hartung_with_a_categorical_moderator_as_printed_in_viechtbauer_2010() -> None:
    # JSS 2010 p. 20: rma(yi, vi, mods = ~ factor(alloc) + ablat, data = dat, knha = TRUE);
    # the reference level is "alternate", the first alphabetically.
    yi, vi = bcg()
    res = fit_metareg(yi, vi, {"alloc": ALLOC, "ablat": ABLAT}, hksj=True, hksj_variant="plain")
    assert res.test == "knha" and res.df == 9
    assert r4(res.tau2) == 0.1446 and (r4(res.qe), res.qe_df, r4(res.qe_p)) == (26.2034, 9, 0.0019)
    assert (r4(res.qm), res.qm_df, res.qm_df2, r4(res.qm_p)) == (3.4471, 3, 9, 0.0650)
    printed = {INTERCEPT: (0.2932, 0.4188, 0.7000, 0.5016, -0.6543, 1.2407),
               "allocrandom": (-0.2675, 0.3624, -0.7381, 0.4793, -1.0873, 0.5523),
               "allocsystematic": (0.0585, 0.3925, 0.1490, 0.8849, -0.8294, 0.9463),
               "ablat": (-0.0273, 0.0095, -2.8669, 0.0186, -0.0488, -0.0058)}
    assert res.terms == tuple(printed)
    for term, values in printed.items():
        c = res.coefficient(term)
        assert tuple(map(r4, (c.estimate, c.se, c.statistic, c.p, c.low, c.high))) == values
    assert res.moderators[0].reference == "alternate"


def test_reference_level_can_be_named_as_relevel_does() -> None:
    # JSS 2010 p. 19: random allocation as the reference; QM(df = 2) = 1.7675, p = 0.4132
    yi, vi = bcg()
    res = fit_metareg(yi, vi, {"alloc": ALLOC}, reference={"alloc": "random"})
    assert (r4(res.qm), res.qm_df, r4(res.qm_p)) == (1.7675, 2, 0.4132)
    printed = {INTERCEPT: (-0.9658, 0.2672, -3.6138, 0.0003, -1.4896, -0.4420),
               "allocalternate": (0.4478, 0.5158, 0.8682, 0.3853, -0.5632, 1.4588),
               "allocsystematic": (0.5369, 0.4364, 1.2303, 0.2186, -0.3184, 1.3921)}
    for term, values in printed.items():
        c = res.coefficient(term)
        assert tuple(map(r4, (c.estimate, c.se, c.statistic, c.p, c.low, c.high))) == values
    # the same model in the default parameterisation gives the same omnibus test
    default = fit_metareg(yi, vi, {"alloc": ALLOC})
    assert math.isclose(default.qm, res.qm, rel_tol=1e-9)
    # and its contrast random - alternate is the releveled model's coefficient, negated
    contrast = default.contrast({"allocrandom": 1.0})
    assert math.isclose(contrast.estimate, -res.coefficient("allocalternate").estimate,
                        rel_tol=1e-9)
    diff = default.contrast({"allocsystematic": 1.0, "allocrandom": -1.0})
    c = res.coefficient("allocsystematic")
    assert math.isclose(diff.estimate, c.estimate, rel_tol=1e-9)
    assert math.isclose(diff.se, c.se, rel_tol=1e-7)
    assert math.isclose(diff.p, c.p, rel_tol=1e-7)


def test_ml_likelihood_and_variance_accounted_for_as_printed_in_viechtbauer_2010() -> None:
    # JSS 2010 p. 34: anova(rma(..., mods = cbind(ablat), method = "ML"), rma(..., "ML"))
    yi, vi = bcg()
    res = fit_metareg(yi, vi, {"ablat": ABLAT}, method="ML")
    assert r4(res.loglik) == -7.6857 and r4(res.qe) == 30.7331 and r4(res.tau2) == 0.0344
    assert r4(res.tau2_null) == 0.2800 and round(res.r2, 2) == 87.73  # "VAF 87.73%"


def test_paule_mandel_as_berkey_1995_page_408() -> None:
    # Berkey et al. 1995 use the empirical Bayes estimator; with moderators its fixed point is
    # the Paule-Mandel equation y'P y = k - p (metafor's EB and PM give the same tau^2).
    # Smoothed sampling variances and latitude centred at 33.46, as in the article.
    a, b, c, d = (np.array(v, dtype=float) for v in (TPOS, TNEG, CPOS, CNEG))
    yi = np.log((a / (a + b)) / (c / (c + d)))
    vi = np.mean(b / a) / (a + b) + np.mean(d / c) / (c + d)
    res = fit_metareg(yi, vi, {"ablat": list(np.array(ABLAT) - 33.46)}, method="PM")
    assert [r4(x.estimate) for x in res.coefficients] == [-0.6303, -0.0268]
    assert [r4(x.se) for x in res.coefficients] == [0.1591, 0.0110]
    assert round(res.tau2, 3) == 0.157 and round(res.r2) == 41
    preds = res.predict_rows(np.array([[1.0, 0.0], [1.0, 42 - 33.46]]))
    assert [round(math.exp(p.estimate), 2) for p in preds] == [0.53, 0.42]


def test_tau2_at_the_boundary_as_raudenbush_and_bryk_1985() -> None:
    # Teacher expectancy (Raudenbush 1984; metafor's dat.raudenbush1985), weeks of prior
    # contact capped at 3: tau^2 = 0, coefficients 0.4072 and -0.1572, QE = 16.5708.
    yi = [0.03, 0.12, -0.14, 1.18, 0.26, -0.06, -0.02, -0.32, 0.27, 0.80, 0.54, 0.18, -0.02,
          0.23, -0.18, -0.06, 0.30, 0.07, -0.07]
    vi = [0.0156, 0.0216, 0.0279, 0.1391, 0.1362, 0.0106, 0.0106, 0.0484, 0.0269, 0.0630,
          0.0912, 0.0497, 0.0835, 0.0841, 0.0253, 0.0279, 0.0193, 0.0088, 0.0303]
    weeks = [2, 21, 19, 0, 0, 3, 17, 24, 0, 1, 0, 0, 1, 2, 17, 5, 1, 2, 7]
    res = fit_metareg(yi, vi, {"weeks_c": [min(w, 3) for w in weeks]})
    assert res.tau2 == 0.0 and res.i2 == 0.0
    assert [r4(x.estimate) for x in res.coefficients] == [0.4072, -0.1572]
    assert r4(res.qe) == 16.5708
    # metafor's Fisher scoring stops at tau^2 = 6.6e-7 and prints z = 4.6782 and -4.3884;
    # at tau^2 = 0 exactly the statistics differ in the fifth digit.
    assert [x.statistic for x in res.coefficients] == pytest.approx([4.6782, -4.3884], abs=2e-4)


def test_intercept_only_tau2_is_the_pooling_estimate() -> None:
    # One statistic, two routes: the meta-regression's tau^2 estimators with X = 1 are the
    # pooling module's (which the R^2 uses for the model without moderators).
    rng = np.random.default_rng(7)
    for _ in range(5):
        k = int(rng.integers(3, 25))
        vi = rng.uniform(0.01, 0.5, k)
        yi = rng.normal(0, 0.6, k)
        for method in ("REML", "ML", "DL", "PM"):
            ours = estimate_tau2(np.ones((k, 1)), yi, vi, method)
            pooled = fit_model(EffectSizes.from_yi_vi(yi, vi), method).tau2
            assert ours == pytest.approx(pooled, abs=1e-9, rel=1e-7), method


SARCOMA = {  # generated counts for the behaviour tests (not data)
    "events": [3, 8, 0, 5, 12, 2, 6, 1, 9, 4, 7, 2],
    "n": [20, 25, 12, 30, 40, 18, 22, 15, 27, 33, 21, 19],
    "line": ["pretreated", "first line", "pretreated", "mixed", "first line", "pretreated",
             "mixed", "pretreated", "first line", "pretreated", "mixed", "pretreated"],
    "year": [2019, 2021, 2018, 2020, 2022, 2017, 2021, 2016, 2023, 2019, 2022, 2018],
    "regimen_class": ["ICI", "AI+ICI", "ICI", "ICI", "AI+ICI", "ICI", "AI+ICI", "ICI",
                      "AI+ICI", "ICI", "AI+ICI", "ICI"],
}


def sarcoma_fit(*mods: str, **options: object):  # noqa: ANN201
    return metareg_proportions(SARCOMA["events"], SARCOMA["n"],
                               {m: SARCOMA[m] for m in mods},
                               studies=[f"arm{i}" for i in range(12)], **options)  # type: ignore[arg-type]


def test_terms_are_named_as_r_names_them_and_the_result_reads_like_metafor() -> None:
    res = sarcoma_fit("line", "regimen_class", "year")
    assert res.terms == (INTERCEPT, "linemixed", "linepretreated", "regimen_classICI", "year")
    assert [m.reference for m in res.moderators] == ["first line", "AI+ICI", None]
    out = res.to_dict()
    assert {"k", "measure", "method", "moderators", "coefficients", "tau2", "i2", "r2", "qm",
            "qm_df", "qm_p"} <= set(out)
    assert out["moderators"] == ["line", "regimen_class", "year"]
    assert set(out["coefficients"][0]) == {"term", "estimate", "se", "low", "high", "p"}
    assert json.loads(json.dumps(out)) == out
    frame = res.to_frame()
    assert list(frame["term"]) == list(res.terms)
    assert "continuity correction 0.5" in " ".join(res.notes)  # arm 2 has 0 of 12
    assert "WARNING" in res.notes[0] and "fewer than 10 arms per coefficient" in res.notes[0]
    assert "reference 'first line'" in res.methods_text()


def test_one_moderator_per_ten_arms_is_a_warning_not_a_refusal() -> None:
    rng = np.random.default_rng(3)
    n = rng.integers(10, 50, 20)
    events = rng.binomial(n, 0.3)
    one = metareg_proportions(events, n, {"x": list(rng.normal(size=20))})
    assert not any("WARNING" in note for note in one.notes)
    three = metareg_proportions(events, n, {f"x{j}": list(rng.normal(size=20))
                                            for j in range(3)})
    assert "WARNING: 20 arms for 3 moderator coefficients" in three.notes[0]


@pytest.mark.parametrize(("mods", "needle"), [
    ({"line": ["a", "b", "c", "d"]}, "4 arms cannot estimate 4 coefficients"),
    ({"x": [1.0, 2.0, 3.0], "z": [2.0, 3.0, 5.0]}, "needs more arms than coefficients"),
    ({"x": [5.0] * 4}, "moderator 'x' is constant"),
    ({"line": ["pretreated"] * 4}, "moderator 'line' is constant"),
    ({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [2.0, 4.0, 6.0, 8.0, 10.0]}, "term 'y'"),
    ({"d": ["a", "b", "a", "b", "a"], "e": [0.0, 1.0, 0.0, 1.0, 0.0]}, "collinear"),
    ({"x": [1.0, "b", 3.0, 4.0, 5.0]}, "mixes numbers and text"),
    ({"x": [1.0, None, 3.0, 4.0, 5.0]}, "arm 2: value is missing"),
    ({"x": [1.0, math.nan, 3.0, 4.0, 5.0]}, "arm 2: value is missing or not finite"),
    ({}, "at least one moderator"),
    ({"x": [1.0, 2.0, 3e300, 4.0, 5.0]}, "in size; rescale it"),
    ({f"m{j}": [1.0, 2.0, 3.0, 4.0, float(j)] for j in range(limits.MAX_MODERATORS + 1)},
     f"moderators: {limits.MAX_MODERATORS + 1} is more than the limit of "
     f"{limits.MAX_MODERATORS}"),
    ({"c": [f"L{i}" for i in range(limits.MAX_MODERATOR_LEVELS + 1)]},
     f"limit of {limits.MAX_MODERATOR_LEVELS}"),
])
def test_refusals_name_the_limit(mods: dict, needle: str) -> None:
    k = len(next(iter(mods.values()))) if mods else 5
    with pytest.raises(InputError, match=needle.replace("(", r"\(")
                       .replace(")", r"\)").replace("+", r"\+")):
        fit_metareg(np.linspace(-1, 1, k), np.full(k, 0.1), mods)


def test_coefficient_limit_is_checked_before_the_fit() -> None:
    k = 200
    mods = {f"c{j}": [f"L{(i * (j + 1)) % 9}" for i in range(k)] for j in range(2)}
    with pytest.raises(LimitError, match=f"coefficients .*: 17 is more than the limit of "
                             f"{limits.MAX_COEFFICIENTS}"):
        fit_metareg(np.zeros(k), np.ones(k), mods)


def test_every_arm_at_zero_percent_is_refused() -> None:
    with pytest.raises(MetaRegressionInputError, match="every arm is 0 %"):
        metareg_proportions([0, 0, 0, 0, 0], [10, 12, 8, 9, 20], {"x": [1, 2, 3, 4, 5]})


def test_a_fit_at_k_40_with_three_moderators_is_fast() -> None:
    rng = np.random.default_rng(11)
    k = 40
    n = rng.integers(5, 60, k)
    events = rng.binomial(n, 0.25)
    mods = {"year": list(rng.integers(2010, 2025, k).astype(float)),
            "line": [["first line", "mixed", "pretreated"][i % 3] for i in range(k)],
            "regimen_class": [["AI", "AI+ICI", "ICI", "ICI+ICI"][i % 4] for i in range(k)]}
    metareg_proportions(events, n, mods, hksj=True)  # warm (imports)
    start = time.perf_counter()
    for _ in range(5):
        metareg_proportions(events, n, mods, hksj=True)
    assert (time.perf_counter() - start) / 5 < 0.5  # about 0.02 s on the 2-core test machine


def test_bubble_data_numeric_moderator_follows_predict() -> None:
    res = sarcoma_fit("year", "line")
    data = bubble_data(res, "year", grid=11)
    assert len(data.points) == 12 and data.points["weight"].sum() == pytest.approx(100)
    assert list(data.points["x"]) == SARCOMA["year"]
    first, last = data.fit.iloc[0], data.fit.iloc[-1]
    assert (first["x"], last["x"]) == (2016, 2023)
    means = res.X.mean(axis=0)
    means[res.terms.index("year")] = 2023
    expected = res.predict_rows(means)[0]
    assert last["estimate"] == pytest.approx(expected.estimate)
    assert (last["low"], last["pi_high"]) == pytest.approx((expected.low, expected.pi_high))
    as_rate = bubble_data(res, "year", scale="proportion")
    assert as_rate.fit[["estimate", "low", "high"]].stack().between(0, 1).all()
    assert as_rate.points["y"].between(0, 1).all()


def test_bubble_data_categorical_moderator_has_one_fit_per_level() -> None:
    res = sarcoma_fit("line", "year")
    data = bubble_data(res, "line")
    assert list(data.fit["x"]) == ["first line", "mixed", "pretreated"]
    assert list(data.points["x"]) == SARCOMA["line"]
    # with the other moderator at its mean the level differences are the coefficients
    est = data.fit.set_index("x")["estimate"]
    assert est["pretreated"] - est["first line"] == pytest.approx(
        res.coefficient("linepretreated").estimate)
    with pytest.raises(MetaRegressionInputError, match="not a moderator"):
        bubble_data(res, "regimen_class")


def test_bubble_chart_is_a_plain_vega_lite_spec() -> None:
    res = sarcoma_fit("year", "regimen_class")
    for name in ("year", "regimen_class"):
        spec = bubble_chart(bubble_data(res, name, scale="proportion"))
        text = json.dumps(spec)
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert len(spec["layer"]) in (3, 4)
        rows = next(iter(spec["datasets"].values()))
        assert sum(r["part"] == "arm" for r in rows) == 12
        assert "Response rate (%)" in text and f"Meta-regression on {name}" in text


def test_read_metareg_csv_types_columns_and_refuses_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("study,events,n,Year,Line\nA,3,20,2019,pretreated\nB,5,25,\"2020,5\","
                    "first line\nC,0,12,2018,mixed\n")
    data = read_metareg_csv(str(path), ["year", "line"])
    assert data.moderators == {"Year": [2019.0, 2020.5, 2018.0],
                               "Line": ["pretreated", "first line", "mixed"]}
    path.write_text("study,events,n,year\nA,3,20,2019\nB,5,25,2O20\nC,0,12,2018\n")
    with pytest.raises(MetaRegressionInputError, match="row 2, column 'year': '2O20' is not a "
                                                       "number, but other rows"):
        read_metareg_csv(str(path), ["year"])
    path.write_text("study,events,n,year\nA,3,20,2019\nB,5,25,\nC,0,12,2018\n")
    with pytest.raises(MetaRegressionInputError, match="row 2, column 'year': value is missing"):
        read_metareg_csv(str(path), ["year"])
    with pytest.raises(MetaRegressionInputError, match="count columns"):
        read_metareg_csv(str(path), ["events"])


# --- the CLI (subprocesses: an abort fails the test, not pytest) ------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comparators", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def write_sarcoma(path: Path) -> Path:
    rows = ["study,events,n,line,year,regimen_class"]
    rows += [f"arm{i},{SARCOMA['events'][i]},{SARCOMA['n'][i]},{SARCOMA['line'][i]},"
             f"{SARCOMA['year'][i]},{SARCOMA['regimen_class'][i]}" for i in range(12)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_cli_metareg_json_is_the_contract_and_the_engine_numbers(tmp_path: Path) -> None:
    path = write_sarcoma(tmp_path / "arms.csv")
    out = run_cli("metareg", str(path), "--moderator", "line", "--moderator", "regimen_class",
                  "--measure", "ft", "--method", "pm", "--hksj", "--hksj-variant", "plain",
                  "--level", "0.9", "--json")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert list(got)[:13] == ["k", "endpoint", "measure", "method", "moderators",
                              "coefficients", "tau2", "i2", "r2", "qm", "qm_df", "qm_p",
                              "qm_df2"]
    assert (got["k"], got["endpoint"], got["measure"], got["method"]) == (12, "orr", "ft", "PM")
    assert got["moderators"] == ["line", "regimen_class"] and got["test"] == "knha"
    engine = sarcoma_fit("line", "regimen_class", measure="ft", method="PM", hksj=True,
                         hksj_variant="plain", level=0.9).to_dict()
    assert got["coefficients"] == engine["coefficients"]
    assert [c["term"] for c in got["coefficients"]] == [
        "(Intercept)", "linemixed", "linepretreated", "regimen_classICI"]
    assert (got["qm_df"], got["qm_df2"]) == (3, 8)


def test_cli_metareg_text_output(tmp_path: Path) -> None:
    out = run_cli("metareg", str(write_sarcoma(tmp_path / "arms.csv")), "--moderator", "year")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("k = 12, logit/REML, z: tau2 = ")
    assert "(Intercept)" in out.stdout and "\nyear " in out.stdout and "QE = " in out.stdout


@pytest.mark.parametrize(("extra", "needle"), [
    (["--moderator", "nope"], "no column 'nope' in the file"),
    (["--moderator", "line", "--moderator", "LINE"], "named twice"),
    (["--moderator", "line", "--method", "FE"], "invalid choice"),
    (["--moderator", "line", "--subtype", "LMS"], "unrecognized arguments: --subtype"),
    ([], "--moderator"),
    (["--moderator", "line", "--level", "95"], "between 0.5 and 0.999"),
    (["--moderator", ""], "needs a column name"),
])
def test_cli_metareg_bad_input_exits_2_with_one_line(tmp_path: Path, extra: list[str],
                                                     needle: str) -> None:
    out = run_cli("metareg", str(write_sarcoma(tmp_path / "arms.csv")), *extra, "--json")
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], lines
    assert out.stdout == ""


@pytest.mark.parametrize(("text", "needle"), [
    ("study,events,n,x\nA,1,10,1\nB,2,10,2\n", "2 arms cannot estimate 2 coefficients"),
    ("study,events,n,x\nA,1,10,3\nB,2,10,3\nC,4,10,3\n", "moderator 'x' is constant"),
    ("study,events,n,x\nA,1,10,a\nB,2,10,3\nC,4,10,b\n", "row 1, column 'x': 'a' is not a number"),
    ("study,events,n,x\nA,0,10,1\nB,0,10,2\nC,0,10,3\n", "every arm is 0 %"),
    ("study,events,n,x\nA,11,10,1\nB,2,10,2\nC,4,10,3\n", "cannot exceed"),
])
def test_cli_metareg_refuses_unusable_files(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    out = run_cli("metareg", str(path), "--moderator", "x", "--json")
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_cli_metareg_never_lets_file_text_act_on_the_terminal(tmp_path: Path) -> None:
    levels = ["\x1b[31mRED\x1b[0m", "\u202eevil", "a\x9b2Jb"]
    path = tmp_path / "hostile.csv"
    path.write_text("study,events,n,arm type\n" + "".join(
        f"\"s{i}\x1b]0;x\x07\",{i + 1},20,\"{levels[i % 3]}\"\n" for i in range(9)),
        encoding="utf-8")
    for extra in ([], ["--json"]):
        out = run_cli("metareg", str(path), "--moderator", "arm type", *extra)
        assert out.returncode == 0, out.stderr
        assert not any(ch in out.stdout for ch in ("\x1b", "\x07", "\x9b", "\u202e"))
        assert "arm typeevil" in out.stdout  # the level is shown, as text


def test_cli_metareg_refuses_a_repeated_column(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_text("study,events,n,line,Line\nA,1,10,a,a\nB,2,10,b,b\nC,3,10,a,a\n")
    out = run_cli("metareg", str(path), "--moderator", "line")
    assert out.returncode == 2 and "duplicated column name" in out.stderr
