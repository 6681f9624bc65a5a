"""Bounded work for every input: each case is an input that once stalled or broke a page, built
here from generated inputs (no large committed files).

Every refusal must come before the expensive step and name the limit it hit
(comparators/limits.py holds them all); the CLI must answer exit 2 with one line and never hang.
"""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import comparators.limits as limits
from comparators.evidence.ipd import IPDError, read_ipd
from comparators.stats.effect_sizes import PoolingInputError
from comparators.stats.pooling import pool_proportions
from comparators.stats.reconstruct import ReconstructionError, reconstruct_ipd
from comparators.stats.survival import SurvivalInputError, km_by_group

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "tests" / "fixtures" / "ipd" / "valid.csv").read_bytes()


def frame() -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(VALID), dtype=str, keep_default_na=False)


def refused(raw: bytes, name: str, *needles: str) -> str:
    with pytest.raises(IPDError) as info:
        read_ipd(raw, name)
    message = str(info.value)
    for needle in needles:
        assert needle in message, message
    return message


# ------------------------------------------------------------------------------ uploads


def test_xlsx_with_one_stray_cell_far_away_is_refused_from_its_dimension() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in [list(frame().columns), *frame().values.tolist()]:
        sheet.append(row)
    sheet["XFD1048576"] = "x"  # 28.7 s and 7.4 GB before the limit
    buffer = io.BytesIO()
    book.save(buffer)
    refused(buffer.getvalue(), "stray.xlsx", "1,048,576", f"limit of {limits.MAX_PATIENT_ROWS:,}",
            "delete stray cells")


def xlsx_bomb(rows: int) -> bytes:
    """An .xlsx whose sheet repeats one patient row `rows` times (compresses ~200:1)."""
    buffer = io.BytesIO()
    frame().to_excel(buffer, index=False)
    src = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    parts = {i.filename: src.read(i) for i in src.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    head, rest = sheet.split("<sheetData>")
    body, tail = rest.split("</sheetData>")
    first, second = body.split("</row>")[:2]
    row = re.sub(r' r="[A-Z]*\d+"', "", second + "</row>")
    head = re.sub(r"<dimension[^>]*/>", "", head)  # no dimension to give the size away
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, data in parts.items():
            if name == "xl/worksheets/sheet1.xml":
                data = (head + "<sheetData>" + first + "</row>" + row * rows + "</sheetData>"
                        + tail).encode()
            z.writestr(name, data)
    return out.getvalue()


def test_xlsx_zip_bomb_is_refused_from_the_zip_directory() -> None:
    raw = xlsx_bomb(100_000)  # identical rows; 1,000,000 gave no answer after 200 s before
    assert len(raw) < limits.MAX_FILE_BYTES
    refused(raw, "bomb.xlsx", "uncompressed size", f"{limits.MAX_XLSX_UNCOMPRESSED_BYTES:,}")


def test_xlsx_with_too_many_rows_but_small_is_refused_by_counting_rows() -> None:
    refused(xlsx_bomb(limits.MAX_PATIENT_ROWS + 50), "rows.xlsx", "sheet rows",
            f"limit of {limits.MAX_PATIENT_ROWS:,}")


def to_parquet(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def test_parquet_rows_are_counted_from_its_metadata() -> None:
    many = pd.concat([frame().iloc[[0]]] * 200_000, ignore_index=True)  # 83 s, 1.3 GB before
    refused(to_parquet(many), "rows.parquet", "rows: 200,000",
            f"limit of {limits.MAX_PATIENT_ROWS:,}")


def test_parquet_with_one_huge_cell_is_refused_from_its_metadata() -> None:
    df = frame()
    df["note"] = ["x" * 50_000_000] + [""] * (len(df) - 1)  # 17 s and 2.4 GB before
    raw = to_parquet(df)
    assert len(raw) < limits.MAX_FILE_BYTES
    refused(raw, "cell.parquet", "uncompressed size")


def test_long_cell_is_refused_naming_row_and_column() -> None:
    df = frame()
    df["note"] = ["", "", "y" * (limits.MAX_CELL_CHARS + 1), ""]
    refused(df.to_csv(index=False).encode(), "long.csv", "row 3, column 'note'",
            f"limit of {limits.MAX_CELL_CHARS:,}")


def test_csv_with_too_many_rows_is_refused_before_parsing() -> None:
    lines = VALID.decode().splitlines()
    body = "\n".join([lines[0]] + [f"Q{i}," + lines[1].split(",", 1)[1]
                                   for i in range(limits.MAX_PATIENT_ROWS + 1)])
    refused(body.encode(), "many.csv", f"{limits.MAX_PATIENT_ROWS + 1:,}", "split the file")


def test_csv_with_too_many_columns_is_refused() -> None:
    lines = VALID.decode().splitlines()
    extra = ",".join(f"c{i}" for i in range(limits.MAX_COLUMNS))
    text = "\n".join([f"{lines[0]},{extra}"] + [f"{ln}," + "," * (limits.MAX_COLUMNS - 1)
                                                 for ln in lines[1:]])
    refused(text.encode(), "wide.csv", "columns in the header",
            f"limit of {limits.MAX_COLUMNS:,}")


def test_exactly_duplicated_header_says_duplicated_column_name() -> None:
    lines = VALID.decode().splitlines()
    text = "\n".join([lines[0] + ",note,note"] + [ln + ",a,b" for ln in lines[1:]])
    message = refused(text.encode(), "dupe.csv", "duplicated column name", "note")
    assert "note.1" not in message and "unexpected" not in message  # what pandas renamed it


def test_utf16_with_bom_is_decoded() -> None:
    df = read_ipd(frame().to_csv(index=False).encode("utf-16"), "excel_unicode.csv")
    assert len(df) == 4 and list(df["id"]) == list(frame()["id"])


def test_utf16_without_bom_gets_a_clear_message() -> None:
    message = refused(frame().to_csv(index=False).encode("utf-16-le"), "u16.csv", "UTF-16")
    assert "looks binary" not in message


@pytest.mark.parametrize("value", ["1e308", "-5", "121"])
def test_age_out_of_range_is_refused_with_the_range(value: str) -> None:
    df = frame()
    df["age"] = ["50", value, "60", "70"]
    refused(df.to_csv(index=False).encode(), "age.csv", "row 2, column 'age'", "0 to 120")


def test_underscore_number_is_not_read_as_ten() -> None:
    df = frame()
    df.loc[0, "pfs_time"] = "1_0"  # float("1_0") == 10.0 in Python
    refused(df.to_csv(index=False).encode(), "us.csv", "row 1, column 'pfs_time'", "'1_0'")


# ------------------------------------------------------------------------------ engine


def test_km_with_too_many_groups_is_refused_before_fitting() -> None:
    n = 2 * (limits.MAX_GROUPS + 1)
    data = pd.DataFrame({"time": [1.0 + i % 7 for i in range(n)], "event": [i % 2 for i in
                                                                             range(n)],
                         "g": [f"regimen {i // 2}" for i in range(n)]})
    with pytest.raises(SurvivalInputError, match=f"limit of {limits.MAX_GROUPS}"):
        km_by_group(data, "time", "event", "g")


def test_pooling_too_many_studies_or_huge_counts_is_refused() -> None:
    k = limits.MAX_STUDIES + 1
    with pytest.raises(PoolingInputError, match="studies to pool: 1,001"):
        pool_proportions([1] * k, [10] * k, method="GLMM")
    with pytest.raises(PoolingInputError, match="limit of 10,000,000"):
        pool_proportions([1, 2], [10, 10**20])


def test_reconstruction_number_at_risk_has_a_maximum() -> None:
    curve = pd.DataFrame({"time": [0, 2, 4, 8], "survival": [1, 0.8, 0.6, 0.4]})
    with pytest.raises(ReconstructionError, match=f"limit of {limits.MAX_AT_RISK:,}"):
        reconstruct_ipd(curve, pd.DataFrame({"time": [0], "n_risk": [10**9]}))


@pytest.mark.parametrize("survival, needle", [
    ([1.0, 0.9, 0.6, 0.8], "rises to 0.8 at time 8"),
    ([100, 90, 0.6, 0.5], "mixes percentages"),
    ([1.0, 0.9, 70, 60], "never rises"),
])
def test_rising_or_mixed_scale_curve_is_refused(survival: list[float], needle: str) -> None:
    curve = pd.DataFrame({"time": [0, 2, 4, 8], "survival": survival})
    with pytest.raises(ReconstructionError, match=needle):
        reconstruct_ipd(curve, pd.DataFrame({"time": [0, 6], "n_risk": [30, 15]}))


def test_sampled_chart_keeps_at_most_the_limit_and_says_so() -> None:
    from comparators.charts.survival import sample_patients

    big = pd.concat([frame()] * 2000, ignore_index=True)
    sample, note = sample_patients(big, limits.MAX_SWIMMER_LANES)
    assert len(sample) == limits.MAX_SWIMMER_LANES
    assert f"{limits.MAX_SWIMMER_LANES:,} of the 8,000 patients" in note
    again, _ = sample_patients(big, limits.MAX_SWIMMER_LANES)
    assert again.index.equals(sample.index)  # the same file draws the same chart
    small, note = sample_patients(frame(), limits.MAX_SWIMMER_LANES)
    assert note == "" and len(small) == 4  # small tables are drawn whole, with no note


# ------------------------------------------------------------------------------ widgets


def number_inputs(path: Path) -> list[ast.Call]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "number_input":
            calls.append(node)
    return calls


@pytest.mark.parametrize("path", sorted((ROOT / "views").glob("*.py")), ids=lambda p: p.name)
def test_every_number_input_has_a_minimum_and_a_maximum(path: Path) -> None:
    for call in number_inputs(path):
        names = {k.arg for k in call.keywords}
        positional = len(call.args)  # label, min_value, max_value, ...
        assert "min_value" in names or positional >= 2, (path.name, call.lineno)
        assert "max_value" in names or positional >= 3, (path.name, call.lineno)


# ------------------------------------------------------------------------------ CLI


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([sys.executable, "-m", "comparators", *args], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args)} did not answer within {timeout:g} s (it hangs)")


def one_line_exit_2(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert "Traceback" not in out.stderr, out.stderr
    assert out.returncode == 2, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("command", ["pool", "km"])
def test_cli_refuses_dev_zero(command: str) -> None:
    one_line_exit_2(cli(command, "/dev/zero"), "is a device")


@pytest.mark.parametrize("command", ["pool", "km"])
def test_cli_refuses_a_fifo_without_blocking(command: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    one_line_exit_2(cli(command, str(fifo), timeout=30), "named pipe")


def test_cli_refuses_a_file_over_the_byte_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as fh:
        fh.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    one_line_exit_2(cli("pool", str(big)), f"limit of {limits.MAX_FILE_BYTES:,}")


def test_cli_pool_with_n_ten_to_the_twenty_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("study,events,n\nA,3,100000000000000000000\nB,5,12\n")
    one_line_exit_2(cli("pool", str(path)), "row 1, column n", "limit of 10,000,000")


def test_cli_glmm_with_100000_studies_is_refused_by_a_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.csv"
    path.write_text("study,events,n\n" + "".join(f"s{i},{i % 10},10\n" for i in range(100_000)))
    one_line_exit_2(cli("pool", str(path), "--method", "GLMM"), "100,000",
                    f"limit of {limits.MAX_STUDIES:,}")


def test_cli_km_with_5000_groups_is_refused_by_a_limit(tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_text("time,event,g\n" + "".join(f"{1 + i % 20},{i % 2},g{i % 5000}\n"
                                               for i in range(10_000)))
    one_line_exit_2(cli("km", str(path), "--group", "g"), "5,000",
                    f"limit of {limits.MAX_GROUPS}")


def test_cli_unexpected_failure_is_still_one_line(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture) -> None:
    from comparators import __main__ as cli_main

    def boom(args: object) -> None:
        raise RuntimeError("something\nunexpected")

    monkeypatch.setattr(cli_main, "cmd_ci", boom)
    assert cli_main.main(["ci", "1", "5"]) == 1  # a bug, not bad input: exit 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "RuntimeError: something unexpected" in err


# ------------------------------------------------------------------------------ the page


def test_large_upload_draws_sampled_charts_that_can_still_be_exported() -> None:
    """More than 5,000 patients: Altair refused to embed the rows, so the PNG/SVG downloads
    silently did nothing, and the swimmer plot was 96,223 px tall."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from apptest import chart_data, open_page, page_text

    lines = VALID.decode().splitlines()
    body = "\n".join([lines[0]] + [f"Q{i}," + lines[1 + i % 4].split(",", 1)[1]
                                   for i in range(6_000)])
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("big.csv", body.encode(), "text/csv").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    text = page_text(at)  # the valid upload is this cohort at once
    assert f"random sample of {limits.MAX_SWIMMER_LANES:,} of the 6,000 patients" in text
    assert f"random sample of {limits.MAX_WATERFALL_BARS:,} of the" in text
    drawn = chart_data(at)
    assert drawn and max(len(f) for f in drawn) <= 5_000  # Altair's max_rows: exportable
    from comparators.charts.survival import sample_patients, swimmer_chart

    sample, _ = sample_patients(at.session_state["ipd_frame"], limits.MAX_SWIMMER_LANES)
    spec = swimmer_chart(sample)  # what the PNG/SVG buttons render
    assert spec["height"]["step"] * limits.MAX_SWIMMER_LANES < 3_000  # px, not 96,223
