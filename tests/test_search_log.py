"""How the catalog was found (data/search_log.csv, data/search_records.csv): the log loads and
is checked, the PRISMA 2020 counts add up record by record, the included reports and studies are
exactly the catalog's (read from data/trials.csv), and the flow diagram renders with its numbers.

Expected counts are computed here from the raw CSV files and the catalog, never copied from the
engine's output, so adding a study (with its records) keeps the tests valid.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from curated_tables import data_copy, edit_first, read_rows, rewrite

from comparators.charts.prisma import prisma_flow_chart
from comparators.evidence.catalog import (
    CatalogError,
    default_data_dir,
    load_catalog,
    load_catalog_info,
)
from comparators.evidence.search_log import (
    RECORDS_FILE,
    SEARCH_LOG_FILE,
    load_search_log,
    prisma_flow,
)

#: A version after the last one in data/catalog_history.csv: a pass no release recorded.
UNRELEASED = f"{int(load_catalog_info().catalog_version.split('.')[0]) + 1}.0.0"

ROOT = Path(__file__).resolve().parent.parent


def raw(name: str) -> list[dict[str, str]]:
    return read_rows(default_data_dir() / name)


@pytest.fixture(scope="module")
def flow():
    return prisma_flow()


def test_included_reports_and_studies_are_the_catalogs(flow) -> None:
    trials = load_catalog().trials
    catalog_refs = set(trials["ref"].astype(str)) | set(trials["source_ref"].astype(str))
    records = [r for r in raw(RECORDS_FILE) if r["stage"] == "included"]
    assert {r["ref"] for r in records} == catalog_refs
    assert flow.reports == len(catalog_refs) == len(records)
    listed = {s for r in records for s in r["studies"].split(";")}
    assert listed == set(trials["study"].astype(str))
    assert flow.studies == trials["study"].nunique()
    for r in records:  # each report is used by the studies it names
        using = trials[(trials["ref"] == r["ref"]) | (trials["source_ref"] == r["ref"])]
        assert set(r["studies"].split(";")) == set(using["study"].astype(str)), r["record"]


def test_every_record_lands_in_exactly_one_box(flow) -> None:
    kinds = {s["search"]: s["source_kind"] for s in raw(SEARCH_LOG_FILE)}
    branch_kinds = {"databases and registers": {"database", "register"},
                    "other methods": {"website", "citation"}}
    for branch in flow.branches:
        records = [r for r in raw(RECORDS_FILE)
                   if kinds[r["search"]] in branch_kinds[branch.branch]]
        stages = Counter(r["stage"] for r in records)
        assert branch.identified_total == len(records)
        assert branch.duplicates == stages["duplicate"]
        assert branch.screened == len(records) - stages["duplicate"]
        assert sum(c.n for c in branch.excluded_screening) == stages["excluded at screening"]
        assert branch.sought == branch.screened - stages["excluded at screening"]
        assert sum(c.n for c in branch.not_retrieved) == stages["not retrieved"]
        assert branch.assessed == branch.sought - stages["not retrieved"]
        assert sum(c.n for c in branch.excluded) == stages["excluded"]
        assert branch.included == stages["included"] == branch.assessed - stages["excluded"]
        by_reason = Counter((r["stage"], r["reason"]) for r in records)
        for stage, counts in (("excluded at screening", branch.excluded_screening),
                              ("not retrieved", branch.not_retrieved),
                              ("excluded", branch.excluded)):
            assert {c.label: c.n for c in counts} == {
                reason: n for (s, reason), n in by_reason.items() if s == stage}
    assert flow.databases.included + flow.other.included == flow.reports


def test_identified_counts_by_source(flow) -> None:
    searches = {s["search"]: s for s in raw(SEARCH_LOG_FILE)}
    by_label = Counter(searches[r["search"]]["label"] for r in raw(RECORDS_FILE))
    shown = {c.label.split(": ", 1)[-1]: c.n for b in flow.branches for c in b.identified}
    for label, n in by_label.items():
        assert shown[label] == n
    # PRISMA names registers and websites even when none was searched.
    assert {"Registers", "Websites"} <= {c.label for b in flow.branches for c in b.identified}


def test_dates_and_the_unrecorded_counts_are_said(flow) -> None:
    dates = sorted(s["date"] for s in raw(SEARCH_LOG_FILE))
    assert (flow.first_search, flow.last_search) == (dates[0], dates[-1])
    if any(not s["records_found"] for s in raw(SEARCH_LOG_FILE)):
        assert "did not record" in flow.note() and "lower bound" in flow.note()
    payload = json.loads(json.dumps(flow.to_dict()))
    assert payload["studies_included"] == flow.studies


# --------------------------------------------------------------------------- bad tables


CASES = {
    "unknown stage": (RECORDS_FILE, edit_first({"stage": "excluded"}, stage="rejected"),
                      "column 'stage': unknown stage"),
    "reason not allowed": (RECORDS_FILE, edit_first({"stage": "excluded"}, reason="too small"),
                           "column 'reason'"),
    "duplicate of nothing": (RECORDS_FILE, edit_first({"stage": "duplicate"}, duplicate_of="NOPE"),
                             "column 'duplicate_of'"),
    "included without ref": (RECORDS_FILE, edit_first({"stage": "included"}, ref=""),
                             "an included report is a catalog reference"),
    "unknown reference": (RECORDS_FILE, edit_first({"stage": "included"}, ref="NOPE2020"),
                          "not a key in references.csv"),
    "unknown study": (RECORDS_FILE, edit_first({"stage": "included"}, studies="NOT-A-STUDY"),
                      "column 'studies'"),
    "unknown search": (RECORDS_FILE, edit_first({"stage": "excluded"}, search="NOWHERE"),
                       "column 'search'"),
    "screening by other methods": (
        RECORDS_FILE, edit_first({"search": "SEED", "stage": "not retrieved"},
                                 stage="excluded at screening", reason="no results reported"),
        "not screened as records"),
    "bad date": (SEARCH_LOG_FILE, edit_first({"search": "SEED"}, date="2026-13-01"),
                 "column 'date'"),
    "unknown source kind": (SEARCH_LOG_FILE, edit_first({"search": "SEED"}, source_kind="email"),
                            "column 'source_kind'"),
    "fewer found than listed": (SEARCH_LOG_FILE, edit_first({"search": "SEED"}, records_found="1"),
                                "column 'records_found'"),
    "pass not a catalog version": (SEARCH_LOG_FILE,
                                   edit_first({"search": "SEED"}, **{"pass": UNRELEASED}),
                                   "not a version in catalog_history.csv"),
    "ambiguous count": (SEARCH_LOG_FILE, edit_first({"search": "SEED"}, records_found="1,500"),
                        "column 'records_found': '1,500' is ambiguous"),
    "unknown study in a list": (RECORDS_FILE, edit_first({"record": "LIU2023"},
                                                         studies="LIU2023;NOT-A-STUDY"),
                                "column 'studies': unknown study 'NOT-A-STUDY'"),
    "unknown registered class": (RECORDS_FILE,
                                 edit_first({"reason": "no results reported"},
                                            registered_class="AI;CHEMO"),
                                 "column 'registered_class': unknown regimen class 'CHEMO'"),
    "unknown registered subtype": (RECORDS_FILE,
                                   edit_first({"reason": "no results reported"},
                                              registered_subtypes="UPS;NOTASUBTYPE"),
                                   "column 'registered_subtypes': unknown subtype"),
    "registration named on a record with results": (
        RECORDS_FILE, edit_first({"stage": "included"}, registered_class="ICI"),
        "only a record excluded at screening with 'no results reported' names what"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_log_names_file_row_and_column(tmp_path: Path, case: str) -> None:
    name, change, expected = CASES[case]
    data = data_copy(tmp_path)
    rewrite(data / name, change)
    with pytest.raises(CatalogError) as err:
        load_search_log(data)
    assert expected in str(err.value)
    assert re.search(rf"{re.escape(name)} row \d+ \(line \d+\)", str(err.value))


def test_cells_are_read_as_the_catalog_reads_them(tmp_path: Path) -> None:
    # comparators/inputs.py: codes in any case, counts by the one number rule, text without
    # control characters (the same verdict as a trials.csv cell).
    data = data_copy(tmp_path)
    rewrite(data / RECORDS_FILE, edit_first({"record": "LIU2023"}, stage="Included ",
                                            studies="liu2023; You2021 ;IMMUNOSARC;TQB2450-ANLO;"
                                                    "WILKY2019", note="x\x1b[31m\u202ey"))
    rewrite(data / SEARCH_LOG_FILE, edit_first({"search": "SEED"}, source_kind="CITATION",
                                               records_found=" 40 "))
    log = load_search_log(data)
    liu = next(r for r in log.records if r.record == "LIU2023")
    assert liu.stage == "included" and liu.note == "x[31my"
    assert liu.studies == ("LIU2023", "YOU2021", "IMMUNOSARC", "TQB2450-ANLO", "WILKY2019")
    seed = log.search("SEED")
    assert (seed.source_kind, seed.records_found) == ("citation", 40)
    assert prisma_flow(log).to_dict() == prisma_flow().to_dict()


def test_registrations_without_results_carry_their_links_as_written() -> None:
    """The two trailing columns, read as the file has them: only records without results
    name what was registered, each code as the vocabularies spell it."""
    header = (default_data_dir() / RECORDS_FILE).read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",note,registered_class,registered_subtypes")
    rows = {r["record"]: r for r in raw(RECORDS_FILE)}
    log = load_search_log()
    linked = 0
    for r in log.records:
        written = rows[r.record]
        assert r.registered_classes == tuple(filter(None, written["registered_class"].split(";")))
        assert r.registered_subtypes == tuple(
            filter(None, written["registered_subtypes"].split(";")))
        if r.registered_classes or r.registered_subtypes:
            assert r.without_results and written["reason"] == "no results reported"
            linked += 1
    assert linked


# --------------------------------------------------------------------------- the diagram


def test_chart_is_a_pure_function_of_the_flow(flow) -> None:
    assert prisma_flow_chart(flow) == prisma_flow_chart(flow)
    text = json.dumps(prisma_flow_chart(flow))
    assert "Studies included in review" in text and "Reports of included studies" in text


def test_diagram_renders_to_svg_with_every_count(flow) -> None:
    # vl-convert runs in a child process: a renderer abort fails this test, not pytest.
    script = ("import sys\n"
              "from comparators.evidence.search_log import prisma_flow\n"
              "from comparators.charts.prisma import prisma_flow_chart\n"
              "from comparators.reports.export import chart_svg\n"
              "sys.stdout.write(chart_svg(prisma_flow_chart(prisma_flow())))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.lstrip().startswith("<svg")
    shown = html.unescape(out.stdout).replace("\u00a0", " ")
    expected = [("Studies included in review", flow.studies),
                ("Reports of included studies", flow.reports)]
    for branch in flow.branches:
        expected += [("Reports sought for retrieval", branch.sought),
                     ("Reports assessed for eligibility", branch.assessed)]
        expected += [(c.label, c.n) for c in (*branch.identified, *branch.not_retrieved,
                                              *branch.excluded, *branch.excluded_screening)]
    expected.append(("Records screened", flow.databases.screened))
    for label, n in expected:
        assert f"(n = {n})" in shown, (label, n)
    assert f"Records screened (n = {flow.databases.screened})" in shown
    assert f"Studies included in review (n = {flow.studies})" in shown
