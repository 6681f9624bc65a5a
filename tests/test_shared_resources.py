"""The catalog, the seed paper, the audit, the subtype rows and the fitted benchmarks are shared
read-only by every session (st.cache_resource hands out the object itself, not a copy): no page
may change them. Every page is run, with its main widgets changed, and the shared objects are
then compared with fresh loads."""

from __future__ import annotations

import pandas as pd

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import load_seed_cohort, published_cohort
from comparators.evidence.labels import arm_labels
from tests.apptest import open_page
from views import common

PAGES = ["views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py"]


def test_pages_leave_the_shared_objects_unchanged() -> None:
    for page in PAGES:
        at = open_page(page)
        at.sidebar.selectbox(key="ci_level").set_value(0.9).run()
        assert not at.exception, (page, [e.value for e in at.exception])
    # the objects the pages used are the shared ones (same function, same process cache)
    assert common.catalog() is common.catalog()
    fresh = load_catalog()
    shared = common.catalog()
    for name in ("trials", "references", "subtypes"):
        pd.testing.assert_frame_equal(getattr(shared, name), getattr(fresh, name))
    seed, fresh_seed = common.seed_cohort(), load_seed_cohort()
    for name in ("outcomes",):
        pd.testing.assert_frame_equal(getattr(seed, name), getattr(fresh_seed, name))
    pd.testing.assert_frame_equal(common.this_cohort().rows, published_cohort(fresh.trials).rows)
    options = common.AnalysisOptions(level=0.9)
    cached = common._benchmark("ASPS", options, common.this_cohort())
    labels = arm_labels(fresh.trials, fresh.references)
    rebuilt = benchmark_subtype(
        subtype_rows(fresh.trials, published_cohort(fresh.trials), "ASPS", False, labels),
        options)
    assert cached.to_dict() == rebuilt.to_dict()
    pd.testing.assert_frame_equal(cached.rows, rebuilt.rows)
    # a subtype's rows are shared by every option's fit
    pd.testing.assert_frame_equal(
        common._rows("ASPS", common.this_cohort(), False),
        subtype_rows(fresh.trials, published_cohort(fresh.trials), "ASPS", False, labels))
