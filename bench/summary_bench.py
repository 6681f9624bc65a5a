"""Time to generate the evidence summary with figures: Word (.docx) with a PNG forest plot per
subtype, for ASPS, UPS and LMS (budget: under 3 s). Also HTML (SVG) and Markdown for scale.

    python bench/summary_bench.py [--repeat 3]

Measured in-process after a warm-up (imports, the catalog and the first vl-convert call are
paid once per server, not per export); the cold first run is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from comparators.evidence.audit import audit_published  # noqa: E402
from comparators.evidence.catalog import load_catalog  # noqa: E402
from comparators.evidence.cohort import load_seed_cohort, published_cohort  # noqa: E402
from comparators.reports.summary import (  # noqa: E402
    build_summary,
    render_figures,
    to_docx,
    to_html,
    to_markdown,
)

SUBTYPES = ["ASPS", "UPS", "LMS"]
BUDGET_S = 3.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    catalog = load_catalog()
    cohort = published_cohort(catalog.trials)
    findings = audit_published()
    claims = load_seed_cohort().claims
    names = dict(zip(catalog.subtypes["code"], catalog.subtypes["name"], strict=True))

    def summary():
        return build_summary(catalog.trials, catalog.references, findings, cohort, SUBTYPES,
                             subtype_names=names, claims=claims)

    def docx_with_figures() -> bytes:
        s = summary()  # fits included: no cache here
        return to_docx(s, render_figures(s, "png"))

    def html_with_figures() -> str:
        s = summary()
        return to_html(s, render_figures(s, "svg"))

    def timed(fn, repeat: int) -> tuple[float, object]:
        times, out = [], None
        for _ in range(repeat):
            t = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t)
        return statistics.median(times), out

    cold, _ = timed(docx_with_figures, 1)
    docx_s, data = timed(docx_with_figures, args.repeat)
    html_s, _ = timed(html_with_figures, args.repeat)
    md_s, _ = timed(lambda: to_markdown(summary()), args.repeat)
    verdict = "within" if docx_s < BUDGET_S else "OVER"
    print(f"Evidence summary, {', '.join(SUBTYPES)} (median of {args.repeat}):")
    print(f"  Word with 3 PNG forest plots: {docx_s:.2f} s ({len(data) / 1024:.0f} KiB) "
          f"- {verdict} the {BUDGET_S:g} s budget; cold first run {cold:.2f} s")
    print(f"  HTML with 3 inline SVG plots: {html_s:.2f} s")
    print(f"  Markdown (no figures):        {md_s:.3f} s")
    return 0 if docx_s < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
