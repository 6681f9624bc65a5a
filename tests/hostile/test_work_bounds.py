"""Every computation bounded: each finishes quickly for any input the pages, links and CLI accept,
or refuses up front with the limit named (comparators/limits.py holds every bound).

Timing is not asserted here (a shared 2-core machine): the work is bounded by construction and
checked through the quantity each limit counts (Simon's binomial terms, the number of fits), and
the worst inputs found run in a subprocess under a timeout far above their measured time, so a
regression to the old behaviour (minutes) fails instead of hanging the suite. Measured times
are in bench/ (bench/run.py --only-bounds; bench/simon_sweep.py for the Simon search).

Exhaustive references are written out here, independently of the engine's pruned code paths:
the Simon search is compared with the exhaustive enumeration ``_simon_frontier`` (itself checked
against a literal port of clinfun's Fortran in tests/test_design.py), the A'Hern search with its
definition, and the log-rank test with its textbook loop over event times.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import binom

import comparators.limits as limits
import comparators.stats.phase2_design as design
from comparators.stats.effect_sizes import PoolingInputError
from comparators.stats.phase2_design import (
    DesignInputError,
    _simon_frontier,
    simon_designs,
    single_stage_design,
    two_stage_reject_prob,
)
from comparators.stats.pooling import pool_proportions
from comparators.stats.reconstruct import reconstruct_ipd
from comparators.stats.survival import km_by_group, logrank

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from apptest import open_page, page_text  # noqa: E402

#: Far above every measured time (the slowest input below takes about 1-2 s of CPU): a timeout
#: here means the old minutes-long behaviour is back, not a slow machine.
TIMEOUT = 20


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comparators", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=TIMEOUT, input=stdin,
                          stdin=None if stdin is not None else subprocess.DEVNULL)


def feasible(d: dict, p0: float, p1: float, alpha: float, beta: float) -> bool:
    a, pw = two_stage_reject_prob(d["r1"], d["n1"], d["r"], d["n"], np.array([p0, p1]))
    return bool(a < alpha and pw > 1 - beta)


# ------------------------------------------------------------------------------ Simon


@pytest.mark.parametrize("p0, p1, alpha, beta", [
    (0.5, 0.54, 0.05, 0.2),    # the CLI case: 254 s and 1.5 GB before
    (0.2, 0.24, 0.05, 0.2),    # the link: 11.6 s per rerun before
    (0.462, 0.512, 0.01, 0.3),  # the most work seen in bench/simon_sweep.py
    (0.302, 0.352, 0.05, 0.05),
])
def test_hardest_simon_searches_finish_in_a_subprocess(p0: float, p1: float, alpha: float,
                                                       beta: float) -> None:
    out = cli("simon", "--p0", str(p0), "--p1", str(p1), "--alpha", str(alpha), "--beta",
              str(beta), "--nmax", "1000", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    for kind in ("optimal", "minimax"):
        assert feasible(res[kind], p0, p1, alpha, beta)
    assert res["minimax"]["n"] <= res["optimal"]["n"] <= 1000
    assert res["optimal"]["en0"] <= res["minimax"]["en0"]


def test_simon_work_of_the_hardest_inputs_is_under_the_limit() -> None:
    for args in ((0.5, 0.54), (0.2, 0.24), (0.462, 0.512, 0.01, 0.3)):
        res = simon_designs(*args, nmax=1000)
        assert 0 < res.terms < limits.MAX_SIMON_TERMS


def test_simon_refuses_beyond_the_work_limit_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_SIMON_TERMS", 1_000_000)
    with pytest.raises(DesignInputError, match="more than 1,000,000 binomial terms"):
        simon_designs(0.5, 0.54, nmax=1000)


def test_simon_infeasible_within_nmax_is_refused_without_a_search() -> None:
    with pytest.raises(DesignInputError, match="No two-stage design with at most 1000"):
        simon_designs(0.5, 0.501, 0.001, 0.01, nmax=1000)


def test_plan_link_with_the_hardest_simon_inputs_renders() -> None:
    at = open_page("views/planning.py", query={"plan_p0": "0.2", "plan_p1": "0.24",
                                               "plan_nmax": "1000"})
    assert at.number_input(key="plan_nmax").value == 1000
    table = at.dataframe[0].value.set_index("design")
    assert table.loc["minimax", "n"] <= table.loc["optimal", "n"] <= 1000
    assert "Exact search of every design with n ≤ 1000" in page_text(at)


@pytest.mark.parametrize("args", [(0.003, 0.005, 0.2, 0.5), (0.044, 0.094, 0.001, 0.01),
                                  (0.2, 0.24, 0.05, 0.2), (0.1, 0.3, 0.05, 0.2)])
def test_simon_tables_grown_mid_search_give_the_same_designs(
        monkeypatch: pytest.MonkeyPatch, args: tuple[float, ...]) -> None:
    """The binomial tables start near the single-stage size and double when the search goes
    beyond; without that hint they start 20 above the Neyman-Pearson bound and must grow."""
    whole = simon_designs(*args, nmax=1000)
    monkeypatch.setattr(design, "_single_stage_n", lambda *a, **k: None)
    grown = simon_designs(*args, nmax=1000)
    assert grown.optimal == whole.optimal and grown.minimax == whole.minimax
    assert grown.frontier == whole.frontier


def _records(rows: list) -> set:
    best, out = math.inf, set()
    for row in rows:
        if row[4] < best:
            best = row[4]
            out.add(tuple(row[:4]))
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p0=st.integers(1, 950).map(lambda v: v / 1000),
    gap=st.integers(20, 450).map(lambda v: v / 1000),
    alpha=st.sampled_from([0.001, 0.01, 0.05, 0.1, 0.2, 0.5]),
    beta=st.sampled_from([0.01, 0.05, 0.1, 0.2, 0.3, 0.5]),
    nmax=st.integers(2, 70),
)
def test_pruned_simon_search_equals_the_exhaustive_search(p0: float, gap: float, alpha: float,
                                                          beta: float, nmax: int) -> None:
    """The bounded search returns exactly what enumerating every design returns: the same
    optimal and minimax designs, the exhaustive best design at every size it lists, and every
    size whose best design beats all smaller sizes."""
    p1 = min(0.999, round(p0 + gap, 3))
    full = _simon_frontier(p0, p1, alpha, beta, nmax, None)
    if not full:
        with pytest.raises(DesignInputError):
            simon_designs(p0, p1, alpha, beta, nmax)
        return
    res = simon_designs(p0, p1, alpha, beta, nmax)
    en_min = min(r[4] for r in full)
    optimal = next(r for r in full if r[4] == en_min)
    assert (res.optimal.r1, res.optimal.n1, res.optimal.r, res.optimal.n) == optimal[:4]
    assert (res.minimax.r1, res.minimax.n1, res.minimax.r, res.minimax.n) == full[0][:4]
    by_n = {r[3]: r for r in full}
    for row in res.frontier:
        assert row[:4] == by_n[row[3]][:4] and row[4] == pytest.approx(by_n[row[3]][4], abs=1e-12)
    assert _records(full) <= {tuple(r[:4]) for r in res.frontier}


# ------------------------------------------------------------------------------ A'Hern


def _ahern_by_definition(p0: float, p1: float, alpha: float, beta: float,
                         nmax: int) -> tuple[int, int] | None:
    """A'Hern (2001) read literally: the first n with some r meeting both constraints."""
    for n in range(1, nmax + 1):
        k = np.arange(n + 2)
        tail0 = binom.sf(k - 1, n, p0)  # P(X >= r | p0)
        r = int(np.argmax(tail0 <= alpha))
        if r <= n and binom.sf(r - 1, n, p1) >= 1 - beta:
            return n, r
    return None


@settings(max_examples=200, deadline=None)
@given(
    p0=st.integers(1, 990).map(lambda v: v / 1000),
    gap=st.integers(1, 500).map(lambda v: v / 1000),
    alpha=st.integers(1, 500).map(lambda v: v / 1000),
    beta=st.integers(1, 50).map(lambda v: v / 100),
)
def test_single_stage_search_equals_its_definition(p0: float, gap: float, alpha: float,
                                                   beta: float) -> None:
    p1 = min(0.999, round(p0 + gap, 3))
    if p1 <= p0:
        return
    want = _ahern_by_definition(p0, p1, alpha, beta, 300)
    if want is None:
        with pytest.raises(DesignInputError):
            single_stage_design(p0, p1, alpha, beta, nmax=300)
    else:
        got = single_stage_design(p0, p1, alpha, beta, nmax=300)
        assert (got.n, got.r) == want


def test_single_stage_without_a_design_is_refused_at_once() -> None:
    # every n up to 5,000 was searched before the refusal (2 s on every rerun of the Plan page)
    with pytest.raises(DesignInputError, match="at most 5000 patients"):
        single_stage_design(0.5, 0.501, 0.001, 0.01)


# ------------------------------------------------------------------------------ GLMM, Bayes


def pool_file(tmp_path: Path, events: np.ndarray, n: np.ndarray,
              groups: list[str] | None = None) -> Path:
    frame = pd.DataFrame({"study": [f"s{i}" for i in range(len(n))], "events": events, "n": n})
    if groups is not None:
        frame["group"] = groups
    path = tmp_path / "studies.csv"
    frame.to_csv(path, index=False)
    return path


def test_glmm_with_the_most_studies_and_groups_accepted_finishes(tmp_path: Path) -> None:
    # 1,000 arms of 10^7 patients in 10 groups: the most the CLI accepts
    rng = np.random.default_rng(20)
    n = np.full(limits.MAX_STUDIES, 10_000_000)
    events = rng.binomial(n, rng.uniform(0, 1, n.size))
    groups = [f"g{i % limits.MAX_FITTED_GROUPS}" for i in range(n.size)]
    out = cli("pool", str(pool_file(tmp_path, events, n, groups)), "--method", "GLMM", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert 0 < res["low"] < res["estimate"] < res["high"] < 1
    assert len(res["subgroups"]) == limits.MAX_FITTED_GROUPS


@pytest.mark.parametrize("method", ["GLMM", "bayes"])
def test_more_fitted_groups_than_the_limit_are_refused(tmp_path: Path, method: str) -> None:
    # the issue: GLMM on 1,000 studies in 500 groups took 56 s
    rng = np.random.default_rng(21)
    n = rng.integers(10, 200, 1000)
    path = pool_file(tmp_path, rng.binomial(n, 0.3), n, [f"g{i % 500}" for i in range(1000)])
    out = cli("pool", str(path), "--method", method, "--json")
    assert out.returncode == 2
    assert f"500 is more than the limit of {limits.MAX_FITTED_GROUPS}" in out.stderr


@pytest.mark.parametrize("events, n", [
    ([10**7, 3, 5], [10**7, 10, 20]),             # 10 s before
    ([10**7 - 1, 5, 10**7], [10**7, 10, 10**7]),
    ([0, 10**7, 1, 10**7 - 1], [10**7] * 4),      # 28 s before
])
def test_glmm_with_ten_million_patients_finishes(tmp_path: Path, events: list[int],
                                                 n: list[int]) -> None:
    out = cli("pool", str(pool_file(tmp_path, np.array(events), np.array(n))), "--method",
              "GLMM", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert 0 <= res["low"] <= res["estimate"] <= res["high"] <= 1


def test_bayesian_pool_meets_the_study_limit_as_every_model() -> None:
    k = limits.MAX_STUDIES + 1  # the Bayesian path skipped this check (5,000 took 4.3 s)
    with pytest.raises(PoolingInputError, match=f"limit of {limits.MAX_STUDIES:,}"):
        pool_proportions([1] * k, [10] * k, method="BAYES")


def test_predictive_with_the_largest_nmax_finishes() -> None:
    out = cli("predictive", "--responders", "5", "--n", "10", "--nmax",
              str(limits.MAX_PREDICTIVE_NMAX), "--p0", "0.3", "--theta-t", "0.9", "--json")
    assert out.returncode == 0, out.stderr
    assert len(json.loads(out.stdout)["table"]) == limits.MAX_PREDICTIVE_NMAX - 10 + 1


# ------------------------------------------------------------------------------ Kaplan-Meier


def _logrank_by_event_times(time: np.ndarray, event: np.ndarray,
                            group: np.ndarray) -> tuple[float, int]:
    """The textbook log-rank test: one hypergeometric term per distinct event time."""
    levels = list(dict.fromkeys(group))
    g = np.array([levels.index(v) for v in group])
    obs, exp = np.zeros(len(levels)), np.zeros(len(levels))
    var = np.zeros((len(levels), len(levels)))
    for tj in np.unique(time[event == 1]):
        at_risk = np.bincount(g[time >= tj], minlength=len(levels)).astype(float)
        dj = np.bincount(g[(time == tj) & (event == 1)], minlength=len(levels)).astype(float)
        n, d = at_risk.sum(), dj.sum()
        obs += dj
        exp += d * at_risk / n
        if n > 1:
            var += d * (n - d) / (n * n * (n - 1)) * (np.diag(at_risk * n)
                                                       - np.outer(at_risk, at_risk))
    diff = (obs - exp)[:-1]
    return float(diff @ np.linalg.pinv(var[:-1, :-1]) @ diff), int(
        np.linalg.matrix_rank(var[:-1, :-1]))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 400), groups=st.integers(2, 6),
       digits=st.sampled_from([0, 1, 3]))
def test_logrank_from_sufficient_statistics_equals_the_textbook_loop(seed: int, n: int,
                                                                     groups: int,
                                                                     digits: int) -> None:
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10, n), digits)
    event = rng.integers(0, 2, n)
    group = np.array([f"g{v}" for v in rng.integers(0, groups, n)])
    test = logrank(time, event, group)
    chi2, df = test.chi2, test.df
    want, want_df = _logrank_by_event_times(time, event, group)
    assert df == want_df
    assert chi2 == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_km_with_the_most_rows_and_groups_accepted_finishes(tmp_path: Path) -> None:
    # the issue: 100,000 rows in 50 groups took 29 s (22 s in the log-rank test)
    rng = np.random.default_rng(22)
    rows = limits.MAX_SURVIVAL_ROWS
    frame = pd.DataFrame({"time": rng.exponential(10, rows), "event": rng.integers(0, 2, rows),
                          "group": [f"g{i % limits.MAX_GROUPS}" for i in range(rows)]})
    path = tmp_path / "patients.csv"
    frame.to_csv(path, index=False)
    out = cli("km", str(path), "--group", "group", "--json")
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert len(res["groups"]) == limits.MAX_GROUPS and res["logrank"]["df"] == 49


def test_km_groups_beyond_the_limit_are_refused() -> None:
    frame = pd.DataFrame({"time": np.arange(1, 102), "event": 1,
                          "group": [f"g{i}" for i in range(101)]})
    with pytest.raises(ValueError, match=f"limit of {limits.MAX_GROUPS}"):
        km_by_group(frame, group_col="group")


# ------------------------------------------------------------------------------ Guyot


def test_reconstruction_that_cannot_settle_stops_within_its_step_limit() -> None:
    # 2,000 digitised points, 9,934 at risk, 27 events stated where ~7,000 happen: the last
    # interval's adjustment loop ran its 1,000 iterations over every point (24 s)
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 100, limits.MAX_CURVE_POINTS - 1))
    curve = pd.DataFrame({"time": np.r_[0, t], "survival": np.r_[1, np.exp(-t / 60)]})
    code = (
        "import sys, pandas as pd\n"
        "from comparators.stats.reconstruct import reconstruct_ipd\n"
        "curve = pd.read_csv(sys.stdin)\n"
        "res = reconstruct_ipd(curve, pd.DataFrame({'time': [0], 'n_risk': [9934]}), 27)\n"
        "print(res.events, '|'.join(res.notes))\n")
    buffer = io.StringIO()
    curve.to_csv(buffer, index=False)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, input=buffer.getvalue(),
                         capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    assert "27 stated" in out.stdout and "did not settle within" in out.stdout


def test_risk_table_rows_are_bounded() -> None:
    curve = pd.DataFrame({"time": [0, 1, 2], "survival": [1, 0.9, 0.8]})
    rows = limits.MAX_CURVE_POINTS + 1
    risk = pd.DataFrame({"time": np.linspace(0, 1.9, rows), "n_risk": 5})
    with pytest.raises(ValueError, match=f"limit of {limits.MAX_CURVE_POINTS:,}"):
        reconstruct_ipd(curve, risk)
