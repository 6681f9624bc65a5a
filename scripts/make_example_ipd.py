"""Write data/example_ipd.csv: a SYNTHETIC example IPD file shaped like the seed cohort.

NOT PATIENT DATA. Every row carries synthetic=true and a note saying so. The file lets users see
the IPD upload format working end to end; it reproduces only the *published aggregates* of
Liu et al., Sci Rep 2023 (doi 10.1038/s41598-023-30412-6):

* Table 1 subtype counts (33 patients): ASPS 10, DDLPS 4, UPS 3, US 2, LMS 2, CCS 2, AS 2, IMT 2,
  SS 1, MYOFS 1, SCS 1, MFS 1, RMS 1, MPNST 1; first-line 15, later-line 18.
* Best response (Results, "Efficacy"): 27 evaluable - CR 3, PR 10, SD 10, PD 4; 6 NE.
  ASPS: 7 evaluable, 5 PR + 2 SD. Non-ASPS: 20 evaluable, 3 CR, 5 PR, 8 SD, 4 PD.
  Discussion: AS 2 of 2 responded; LMS 1 of 2; DDLPS 0 of 3 evaluable.
* Follow-up range 0.8-25.5 months; median PFS 8.90 months; median OS not reached.

Which non-ASPS patient got which response beyond those constraints, the agents, lines and all
times are invented. Times come from a seeded generator; seeds are tried in order from 0 until the
Kaplan-Meier PFS median is within +/-0.3 months of 8.90, the OS median is not reached and the
median follow-up (os_time) is within +/-1.0 month of 7.6; the seed
found is recorded in the note column (and printed).

Run:  python scripts/make_example_ipd.py   (rewrites data/example_ipd.csv)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from comparators.stats.survival import km_fit  # noqa: E402

OUT = ROOT / "data" / "example_ipd.csv"
TARGET_MEDIAN = 8.90
TOLERANCE = 0.30
MIN_FOLLOW_UP, MAX_FOLLOW_UP = 0.8, 25.5
MEDIAN_FOLLOW_UP = 7.6  # months, Results: "median follow-up ... 7.6 months (range, 0.8-25.5)"

# (subtype, best response) for the 33 patients; see the module docstring for the constraints.
PATIENTS: tuple[tuple[str, str], ...] = (
    *(("ASPS", r) for r in ("PR", "PR", "PR", "PR", "PR", "SD", "SD", "NE", "NE", "NE")),
    ("DDLPS", "SD"),
    ("DDLPS", "SD"),
    ("DDLPS", "PD"),
    ("DDLPS", "NE"),
    ("UPS", "CR"),
    ("UPS", "SD"),
    ("UPS", "PD"),
    ("US", "PR"),
    ("US", "SD"),
    ("LMS", "PR"),
    ("LMS", "SD"),
    ("CCS", "PR"),
    ("CCS", "PD"),
    ("AS", "CR"),
    ("AS", "PR"),
    ("IMT", "CR"),
    ("IMT", "SD"),
    ("SS", "PR"),
    ("MYOFS", "SD"),
    ("SCS", "SD"),
    ("MFS", "PD"),
    ("RMS", "NE"),
    ("MPNST", "NE"),
)
AI_AGENTS = ("anlotinib", "apatinib", "sunitinib")  # Methods, "Treatment and follow-up"
ICI_AGENTS = ("sintilimab", "toripalimab", "camrelizumab", "pembrolizumab")
N_FIRST_LINE = 15


def generate(seed: int) -> pd.DataFrame:
    """One synthetic cohort for a given seed (deterministic)."""
    rng = np.random.default_rng(seed)
    n = len(PATIENTS)
    # right-skewed follow-up like a real-world cohort (the paper's median follow-up is 7.6 months)
    follow_up = np.minimum(MIN_FOLLOW_UP + rng.exponential(10.0, n), MAX_FOLLOW_UP)
    ends = rng.choice(n, 2, replace=False)
    follow_up[ends[0]], follow_up[ends[1]] = MIN_FOLLOW_UP, MAX_FOLLOW_UP
    first_line = np.zeros(n, dtype=bool)
    first_line[rng.choice(n, N_FIRST_LINE, replace=False)] = True
    rows = []
    for i, (subtype, resp) in enumerate(PATIENTS):
        if resp == "PD":
            latent_pfs = rng.uniform(1.2, 3.0)
        elif resp in ("CR", "PR"):  # a response needs at least one assessment (every 2 cycles)
            latent_pfs = max(rng.exponential(16.0), 2.5)
        elif resp == "SD":
            latent_pfs = max(rng.exponential(10.0), 1.5)
        else:
            latent_pfs = rng.exponential(5.0)
        latent_pfs = max(latent_pfs, 0.5)
        latent_death = latent_pfs + rng.exponential(30.0)
        fu = float(follow_up[i])
        pfs = min(latent_pfs, fu)
        os_ = min(latent_death, fu)
        pct: float | None
        if resp == "CR":
            pct = -100.0
        elif resp == "PR":
            pct = float(rng.uniform(-85.0, -30.0))
        elif resp == "SD":
            pct = float(rng.uniform(-29.0, 19.0))
        elif resp == "PD":
            pct = float(rng.uniform(21.0, 60.0))
        else:
            pct = None
        ai = AI_AGENTS[int(rng.integers(len(AI_AGENTS)))]
        ici = ICI_AGENTS[int(rng.integers(len(ICI_AGENTS)))]
        pfs_r, os_r = round(pfs, 1), round(os_, 1)
        rows.append(
            {
                "id": f"SYN-{i + 1:03d}",
                "subtype": subtype,
                "regimen": f"{ai}+{ici}",
                "ai_agent": ai,
                "ici_agent": ici,
                "line": "first-line" if first_line[i] else "later-line",
                "best_response": resp,
                "best_pct_change": None if pct is None else round(pct, 1),
                "pfs_time": pfs_r,
                "pfs_event": int(latent_pfs <= fu),
                "os_time": max(os_r, pfs_r),
                "os_event": int(latent_death <= fu),
                "time_unit": "months",
                "synthetic": "true",
                "note": "",
            }
        )
    return pd.DataFrame(rows)


def acceptable(df: pd.DataFrame) -> bool:
    pfs = km_fit(df["pfs_time"], df["pfs_event"], "pfs")
    os_ = km_fit(df["os_time"], df["os_event"], "os")
    return (
        pfs.median is not None
        and abs(pfs.median - TARGET_MEDIAN) <= TOLERANCE
        and os_.median is None
        and abs(float(df["os_time"].median()) - MEDIAN_FOLLOW_UP) <= 1.0
    )


def find_seed(start: int = 0, limit: int = 10_000) -> tuple[int, pd.DataFrame]:
    for seed in range(start, start + limit):
        df = generate(seed)
        if acceptable(df):
            df["note"] = (
                f"SYNTHETIC example generated by scripts/make_example_ipd.py (seed {seed}); "
                "not patient data"
            )
            return seed, df
    raise RuntimeError(f"no acceptable seed in [{start}, {start + limit})")


def main() -> None:
    seed, df = find_seed()
    df.to_csv(OUT, index=False, lineterminator="\n")
    median = km_fit(df["pfs_time"], df["pfs_event"], "pfs").median
    print(f"wrote {OUT.relative_to(ROOT)}: seed {seed}, KM PFS median {median} months")


if __name__ == "__main__":
    main()
