"""fisher_exact_p against scipy.stats.fisher_exact (same rule as R's fisher.test) over many
random and sarcoma-sized tables, zeros and 100% arms included; R itself in
tests/oracle/test_fisher_oracle.py."""

import math
import random

import pytest
from scipy.stats import fisher_exact

from comparators.stats.fisher import fisher_exact_p


def tables(count: int, seed: int = 15) -> list[tuple[int, int, int, int]]:
    rng = random.Random(seed)
    out = [(0, 5, 0, 6), (5, 5, 6, 6), (0, 1, 1, 1), (7, 7, 0, 40), (1, 33, 0, 0), (0, 0, 0, 0)]
    for _ in range(count):
        n1, n2 = rng.choice([1, 2, 3, 7, 12, 33, 80, 400]), rng.randint(0, 300)
        out.append((rng.randint(0, n1), n1, rng.randint(0, n2), n2))
    return out


@pytest.mark.parametrize("k1, n1, k2, n2", tables(400))
def test_agrees_with_scipy(k1: int, n1: int, k2: int, n2: int) -> None:
    want = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
    assert math.isclose(fisher_exact_p(k1, n1, k2, n2), want, rel_tol=1e-9, abs_tol=1e-15)


def test_published_example() -> None:
    # Fisher's tea-tasting table [[3, 1], [1, 3]]: two-sided P = 0.486 (Agresti, Categorical
    # Data Analysis, 2nd ed., 2002, section 3.5.1)
    assert round(fisher_exact_p(3, 4, 1, 4), 3) == 0.486


def test_counts_out_of_range_are_refused() -> None:
    with pytest.raises(ValueError, match="out of range"):
        fisher_exact_p(3, 2, 0, 1)
