"""fisher_exact_p against R's fisher.test on generated 2x2 tables: sarcoma-sized arms (1-40
patients), zeros, 100% arms, empty margins and large pools (up to 600 patients)."""

from __future__ import annotations

import math
import random

import pandas as pd
import pytest
from rscript import TALLY, run_r

from comparators.stats.fisher import fisher_exact_p

R_SCRIPT = r"""
d <- read.csv("tables.csv")
d$p <- mapply(function(k1, n1, k2, n2)
  fisher.test(matrix(c(k1, k2, n1 - k1, n2 - k2), nrow = 2))$p.value, d$k1, d$n1, d$k2, d$n2)
write.csv(d, "p.csv", row.names = FALSE)
"""


def _tables(count: int = 600, seed: int = 2026) -> pd.DataFrame:
    rng = random.Random(seed)
    rows = [(0, 5, 0, 6), (5, 5, 6, 6), (0, 1, 1, 1), (7, 7, 0, 40), (1, 33, 0, 0),
            (0, 0, 0, 0), (13, 27, 0, 3), (5, 7, 2, 12)]
    for _ in range(count):
        n1 = rng.choice([1, 2, 3, 5, 7, 12, 27, 33, 40])
        n2 = rng.choice([rng.randint(0, 40), rng.randint(40, 600)])
        k1 = rng.choice([0, n1, rng.randint(0, n1)])
        k2 = rng.choice([0, n2, rng.randint(0, n2)])
        rows.append((k1, n1, k2, n2))
    return pd.DataFrame(rows, columns=["k1", "n1", "k2", "n2"])


@pytest.fixture(scope="module")
def r_p() -> pd.DataFrame:
    return run_r(R_SCRIPT, {"tables": _tables()}, ["p"])["p"]


def test_fisher_exact_p_matches_r(r_p: pd.DataFrame) -> None:
    bad = []
    for t in r_p.itertuples(index=False):
        got = fisher_exact_p(int(t.k1), int(t.n1), int(t.k2), int(t.n2))
        if not math.isclose(got, float(t.p), rel_tol=1e-9, abs_tol=1e-14):
            bad.append((t.k1, t.n1, t.k2, t.n2, got, t.p))
    TALLY[("Fisher exact vs fisher.test", "agree")] += len(r_p) - len(bad)
    assert not bad, bad[:5]
