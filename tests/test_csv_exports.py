"""Every CSV the app and the CLI export reads back with the readers' DEFAULTS: pandas
`read_csv(path)` and R `read.csv(path)` (Rscript in a subprocess), with the expected columns
and row counts, the reproducibility stamp in its `provenance` column, no drawing-only columns,
and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from apptest import assert_csv_cells_inert, chart_data, download_bytes, open_page, unfold

from comparators.charts.forest import FOREST_DRAWING_COLUMNS
from comparators.evidence.catalog import load_catalog
from comparators.reports.export import STAMP_COLUMN, safe_csv

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "ipd"
PAGES = ("views/cohort.py", "views/catalog.py", "views/benchmark.py", "views/across.py",
         "views/summary.py", "views/whatif.py", "views/planning.py", "views/audit.py",
         "views/survival.py")
#: Columns that exist only to draw a chart; none belongs in a data file.
DRAWING_ONLY = set(FOREST_DRAWING_COLUMNS)


@pytest.fixture(scope="module")
def downloads() -> dict[str, tuple[bytes, object]]:
    """(page:key) -> (bytes behind the CSV download button, the AppTest it came from), for
    every CSV download of every page."""
    found: dict[str, tuple[bytes, object]] = {}
    for page in PAGES:
        at = unfold(open_page(page, {"subtype": "LMS"}))  # folded tables' files too
        for button in at.get("download_button"):
            if button.proto.url.endswith(".csv"):
                key = button.proto.id.rsplit("-", 1)[-1]
                found[f"{Path(page).stem}:{key}"] = (download_bytes(at, key), at)
    # the files that exist only after an action: a reconstructed curve, an uploaded cohort
    at = open_page("views/survival.py")
    at.button(key="recon_example").click().run()
    found["survival:dl_pseudo"] = (download_bytes(at, "dl_pseudo"), at)
    at.file_uploader[0].set_value(("my.csv", (FIX / "valid.csv").read_bytes(), "text/csv")).run()
    at.switch_page("views/cohort.py")
    at.run()
    found["cohort:dl_active"] = (download_bytes(at, "dl_active"), at)
    return found


def records(data: bytes) -> list[list[str]]:
    """The file as Python's csv module (an independent reader) splits it."""
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def r_read_csv(files: dict[str, bytes]) -> dict[str, dict]:
    """nrow, ncol, names and the first provenance value of `read.csv(file)` for each file,
    from one Rscript run."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript not found: these tests read the exports with R (see README)")
    import tempfile

    with tempfile.TemporaryDirectory(prefix="csv-r-") as tmp:
        d = Path(tmp)
        names = {}
        for i, (name, data) in enumerate(files.items()):
            (d / f"f{i}.csv").write_bytes(data)
            names[f"f{i}.csv"] = name
        script = """
library(jsonlite)
out <- list()
for (f in list.files(pattern = "^f[0-9]+[.]csv$")) {
  d <- read.csv(f)
  out[[f]] <- list(nrow = nrow(d), ncol = ncol(d), names = names(d),
                   provenance = if ("provenance" %in% names(d)) as.character(d$provenance[1])
                                else NA)
}
cat(toJSON(out, auto_unbox = TRUE, na = "null"))
"""
        (d / "read.R").write_text(script)
        proc = subprocess.run([rscript, "--vanilla", "read.R"], cwd=d, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        return {names[f]: v for f, v in json.loads(proc.stdout).items()}


def test_every_page_csv_reads_with_pandas_defaults(downloads) -> None:
    assert len(downloads) >= 20, sorted(downloads)
    for name, (data, _) in downloads.items():
        rows = records(data)
        frame = pd.read_csv(io.BytesIO(data))
        assert list(frame.columns) == rows[0], name  # the header is the first line
        assert frame.shape == (len(rows) - 1, len(rows[0])), name
        assert len(frame.columns) > 1, name
        assert not DRAWING_ONLY & set(frame.columns), (name, DRAWING_ONLY & set(frame.columns))
        assert not any(str(c).startswith("#") for c in frame.columns), name


def test_every_page_csv_reads_with_r_read_csv_defaults(downloads) -> None:
    read = r_read_csv({name: data for name, (data, _) in downloads.items()})
    for name, (data, _) in downloads.items():
        rows = records(data)
        got = read[name]
        assert (got["nrow"], got["ncol"]) == (len(rows) - 1, len(rows[0])), name
        if STAMP_COLUMN in rows[0]:
            assert got["provenance"] == rows[1][rows[0].index(STAMP_COLUMN)], name


def test_pooled_exports_carry_the_settings_stamp_on_every_row(downloads) -> None:
    for name in ("benchmark:dl_forest", "benchmark:dl_classes", "benchmark:dl_comparisons",
                 "across:dl_meta", "across:dl_meta_diff", "across:dl_borrow"):
        frame = pd.read_csv(io.BytesIO(downloads[name][0]))
        stamps = set(frame[STAMP_COLUMN])
        assert len(stamps) == 1, name
        (stamp,) = stamps
        assert "model: random-effects REML" in stamp and "catalog" in stamp, (name, stamp)
    # the synthetic example is labelled in its files, not only on the page
    for name in ("survival:dl_km_csv", "survival:dl_waterfall_csv", "survival:dl_swimmer_csv"):
        frame = pd.read_csv(io.BytesIO(downloads[name][0]))
        assert frame[STAMP_COLUMN].str.contains("SYNTHETIC").all(), name
    # the seed paper's tables name the paper and where in it their counts were read
    for name, where in (("cohort:dl_response", "Results, Efficacy"),
                        ("cohort:dl_baseline", "Table 1"), ("cohort:dl_ae", "Table 2")):
        frame = pd.read_csv(io.BytesIO(downloads[name][0]))
        (stamp,) = set(frame[STAMP_COLUMN])
        assert "Liu et al., Sci Rep 2023" in stamp and "10.1038/s41598-023-30412-6" in stamp, \
            (name, stamp)
        assert f"30412-6, {where};" in stamp, (name, stamp)
    response = pd.read_csv(io.BytesIO(downloads["cohort:dl_response"][0]))
    assert "intervals: Wilson, 95% CI" in response[STAMP_COLUMN][0]
    pseudo = pd.read_csv(io.BytesIO(downloads["survival:dl_pseudo"][0]))
    assert pseudo[STAMP_COLUMN].str.contains("Guyot").all()
    active = pd.read_csv(io.BytesIO(downloads["cohort:dl_active"][0]))
    uploaded = pd.read_csv(FIX / "valid.csv")
    per_subtype = active[~active["subtype"].isin(["STS", "SARCOMA"])]  # and one all-subtype row
    assert len(per_subtype) == uploaded["subtype"].nunique()
    assert int(per_subtype["evaluable"].sum()) == int(uploaded["best_response"].isin(
        ["CR", "PR", "SD", "PD"]).sum())
    # the summary's frame carries its own settings column (the same text as its Parquet)

    summary = pd.read_csv(io.BytesIO(downloads["summary:dl_summary_csv"][0]))
    # the Across subtypes chart's size and tooltip copies of n and events stay in the chart
    pools = pd.read_csv(io.BytesIO(downloads["across:dl_meta"][0]))
    assert {"events", "n"} <= set(pools.columns)
    assert not {"patients", "responders"} & set(pools.columns)
    assert summary["settings"].str.contains("catalog").all()


def test_forest_file_holds_the_drawn_rows_and_their_numbers(downloads) -> None:
    data, at = downloads["benchmark:dl_forest"]
    frame = pd.read_csv(io.BytesIO(data))
    drawn = chart_data(at)[0]  # the forest plot's rows as the browser receives them
    assert len(frame) == len(drawn)
    assert list(frame["label"]) == list(drawn["label"])
    assert set(frame.columns) >= {"label", "events", "n", "estimate", "low", "high", "weight",
                                  "is_cohort"}
    trials = load_catalog().trials
    seed = trials[(trials["study"] == "LIU2023") & (trials["subtype"] == "LMS")].iloc[0]
    cohort = frame[frame["is_cohort"]]
    assert len(cohort) == 1
    assert (cohort["events"].item(), cohort["n"].item()) == (seed["responders"],
                                                             seed["evaluable"])


def test_row_counts_match_their_sources(downloads) -> None:
    ae = pd.read_csv(ROOT / "data" / "liu2023" / "adverse_events.csv")
    assert len(pd.read_csv(io.BytesIO(downloads["cohort:dl_ae"][0]))) == len(ae)
    template = pd.read_csv(ROOT / "data" / "ipd_template.csv")
    assert len(pd.read_csv(io.BytesIO(downloads["survival:dl_template"][0]))) == len(template)
    shown = next(d.value for d in downloads["catalog:dl_catalog_csv"][1].dataframe)
    assert len(pd.read_csv(io.BytesIO(downloads["catalog:dl_catalog_csv"][0]))) == len(shown)


def test_no_cell_of_any_export_is_a_live_formula(downloads) -> None:
    for name, (data, _) in downloads.items():
        assert_csv_cells_inert(data, name)


def test_stamp_with_formula_text_and_commas_stays_one_inert_cell() -> None:
    data = safe_csv(pd.DataFrame({"a": [1, 2]}), "=HYPERLINK(x), SYNTHETIC\n data")
    frame = pd.read_csv(io.BytesIO(data))
    assert list(frame.columns) == ["a", STAMP_COLUMN]
    assert set(frame[STAMP_COLUMN]) == {"'=HYPERLINK(x), SYNTHETIC data"}
    with pytest.raises(ValueError, match="provenance"):
        safe_csv(pd.DataFrame({STAMP_COLUMN: [1]}), "stamp")


def test_cli_trials_csv_reads_with_pandas_and_r_defaults() -> None:
    out = subprocess.run([sys.executable, "-m", "comparators", "trials", "--format", "csv",
                          "--subtype", "ASPS"], capture_output=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    trials = load_catalog().trials
    expected = int((trials["subtype"] == "ASPS").sum())
    frame = pd.read_csv(io.BytesIO(out.stdout))
    assert len(frame) == expected and {"study", "arm", "responders"} <= set(frame.columns)
    assert frame[STAMP_COLUMN].str.startswith("catalog ").all()
    got = r_read_csv({"cli": out.stdout})["cli"]
    assert (got["nrow"], got["ncol"]) == frame.shape
