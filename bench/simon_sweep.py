"""Sweep the Simon two-stage search over inputs the Plan page, its links and the CLI accept.

    python bench/simon_sweep.py [--cases 600] [--seed 31]

p0 and p1 are drawn at the widgets' resolution (3 decimals, p1 close to p0 where the search
is hardest: the designs need hundreds of patients), alpha and beta over their whole ranges,
nmax mostly 1000. For each input: CPU seconds, the binomial terms the search summed (what
``limits.MAX_SIMON_TERMS`` bounds; a refused input counts 0 here) and whether a design was found
or the input refused. Prints the ten largest by terms and a summary; the largest count is what
the limit is set against.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import comparators.limits as limits  # noqa: E402
import comparators.stats.phase2_design as design  # noqa: E402


def draw(rng: random.Random) -> tuple[float, float, float, float, int]:
    alpha = round(rng.choice([0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5,
                              rng.uniform(0.001, 0.5)]), 3)
    beta = round(rng.choice([0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, rng.uniform(0.01, 0.5)]), 2)
    mode = rng.random()
    low, high = (0.001, 0.05) if mode < 0.25 else (0.9, 0.998) if mode < 0.45 else (0.001, 0.998)
    p0 = round(rng.uniform(low, high), 3)
    gap = rng.choice([0.001, 0.002, 0.005, 0.01, 0.02, 0.03, 0.04, 0.05, 0.08, 0.12, 0.2])
    p1 = round(min(0.999, p0 + gap), 3)
    nmax = rng.choice([1000, 1000, 1000, 800, 500, 300, 200])
    return p0, p1, alpha, beta, nmax


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--seed", type=int, default=31)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results = []
    for _ in range(args.cases):
        p0, p1, alpha, beta, nmax = draw(rng)
        if p1 <= p0:
            continue
        start = time.process_time()
        terms = 0
        try:
            res = design.simon_designs(p0, p1, alpha, beta, nmax)
            terms = res.terms
            outcome = f"minimax n {res.minimax.n}, optimal n {res.optimal.n}"
        except design.DesignInputError as exc:
            outcome = "refused: " + str(exc)[:60]
        results.append((terms, time.process_time() - start, p0, p1, alpha, beta, nmax,
                        outcome))
    results.sort(reverse=True)
    print("| terms | CPU s | p0 | p1 | alpha | beta | nmax | outcome |")
    print("|---|---|---|---|---|---|---|---|")
    for terms, cpu, p0, p1, alpha, beta, nmax, outcome in results[:10]:
        print(f"| {terms:,} | {cpu:.2f} | {p0} | {p1} | {alpha} | {beta} | {nmax} | {outcome} |")
    slowest = max(results, key=lambda r: r[1])
    refused = sum("refused" in r[-1] for r in results)
    over = sum("exact Simon search" in r[-1] for r in results)
    print(f"\n{len(results)} inputs, {refused} refused ({over} by the work limit, the rest "
          f"because no design exists within nmax); "
          f"largest {results[0][0]:,} terms (limit {limits.MAX_SIMON_TERMS:,}); slowest "
          f"{slowest[1]:.2f} s CPU (p0 {slowest[2]}, p1 {slowest[3]}); peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
