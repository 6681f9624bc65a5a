"""Every bound on the work one input may cause, in one place.

On Streamlit Community Cloud every visitor shares one Python process, so a single upload, link or
CLI file must not be able to stall or exhaust it. Each limit is checked *before* the expensive
step (parsing, fitting, searching, drawing) and a refusal names the limit and how to proceed.
Views import these names for their widgets' ``max_value``; readers call the checks below.

Pure standard library: the CLI imports this before anything heavy.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from comparators.errors import InputError

# --- files ----------------------------------------------------------------------------------
#: Largest upload or CLI file read at all (bytes). Uploads: Streamlit's own limit is larger.
MAX_FILE_BYTES = 5_000_000
#: Largest total uncompressed size of an .xlsx's parts, read from the zip directory before
#: openpyxl parses anything (an .xlsx is a zip; 2 MB can hold millions of rows).
MAX_XLSX_UNCOMPRESSED_BYTES = 30_000_000
#: Largest uncompressed Parquet data (sum of the row groups' sizes in the file's metadata).
MAX_PARQUET_UNCOMPRESSED_BYTES = 20_000_000

# --- tables ---------------------------------------------------------------------------------
#: Patients in one IPD upload (checked from the CSV line count, the .xlsx sheet dimension and
#: the Parquet metadata before the table is built).
MAX_PATIENT_ROWS = 10_000
#: Columns in an upload (the template has 17).
MAX_COLUMNS = 50
#: Characters in one cell (ids, regimens and notes are short).
MAX_CELL_CHARS = 1_000
#: Rows of a CLI `pool` file (studies) and of a `km` file (patients).
MAX_STUDIES = 1_000
MAX_SURVIVAL_ROWS = 100_000
#: Distinct groups in a Kaplan-Meier fit or a "group by" (each is a curve and a legend entry).
MAX_GROUPS = 50

# --- numbers --------------------------------------------------------------------------------
#: Largest count (evaluable patients, events) in one study row: no trial is this large, and
#: beyond 2**53 a float no longer holds every whole number.
MAX_COUNT = 10_000_000
#: Largest "number at risk" at time 0 in a reconstruction.
MAX_AT_RISK = 10_000
#: Points of a digitised Kaplan-Meier curve.
MAX_CURVE_POINTS = 2_000
#: Steps of one Guyot adjustment loop (its iterations times the digitised points they walk):
#: a loop converges in a few dozen iterations; one that does not gives up after about 0.5 s.
MAX_GUYOT_STEPS = 400_000
#: Longest follow-up time (months) a patient row or a digitised curve may give.
MAX_MONTHS = 240.0
#: Ages (years) an IPD row may give.
AGE_RANGE = (0.0, 120.0)

# --- charts ---------------------------------------------------------------------------------
#: Bars drawn in a waterfall, lanes in a swimmer plot: beyond these a random sample (fixed seed)
#: is drawn and the page says so; Altair refuses to embed more than 5,000 rows, which silently
#: broke the PNG/SVG downloads.
MAX_WATERFALL_BARS = 1_000
MAX_SWIMMER_LANES = 150

# --- computations ---------------------------------------------------------------------------
#: Largest nmax of a Simon two-stage search: clinfun::ph2simon's own ("nmax cannot exceed 1000").
SIMON_NMAX_LIMIT = 1000
#: Binomial terms one Simon search may sum (about 2 s at 15 ns a term). The largest count
#: over thousands of inputs the page and CLI accept (nmax 1000, p0/p1 to 3 decimals) is about
#: 80 million (bench/simon_sweep.py); the limit catches what sampling missed.
MAX_SIMON_TERMS = 120_000_000
#: Subgroups of one GLMM or Bayesian pool: each is its own fit (GLMM about 0.05 s, more with
#: many studies or millions of patients).
MAX_FITTED_GROUPS = 10
#: Bayesian pooling: studies of the binomial-normal model (its grid is arms x theta nodes),
#: patients in one arm (beyond, the exact likelihood is too sharp for the grid and the normal
#: model agrees anyway), and the prior scales (tau on the logit scale, sd of mu).
MAX_STUDIES_BINOMIAL = 200
MAX_BAYES_ARM_N = 100_000
MAX_TAU_SCALE = 100.0
MAX_MU_PRIOR_SD = 1000.0
#: Final sample size of a Lee & Liu predictive probability (the sum runs over every future
#: count).
MAX_PREDICTIVE_NMAX = 10_000
#: Beta prior parameters (pseudo-responders, pseudo-non-responders): scipy's beta-binomial
#: probabilities drift from summing to 1 beyond about 10^9 and turn NaN below about 1e-13;
#: no trial counts a million pseudo-patients, and Beta(1e-6, 1e-6) is vaguer than any in use.
BETA_PRIOR_RANGE = (1e-6, 1_000_000.0)
#: Patients a randomised trial may need in an event-driven sizing: beyond this the accrual and
#: follow-up (or the hazards) describe no trial anyone could run, and float rounding takes over.
MAX_TRIAL_PATIENTS = 10_000_000
#: Events (Schoenfeld) a sizing may ask for: a hazard ratio within about 0.2 % of 1 (alpha 0.05,
#: power 80 %) needs more.
MAX_TRIAL_EVENTS = 10_000_000


class LimitError(InputError):
    """An input larger than a named limit; the message names it and says how to proceed."""


def too_many(what: str, got: int, limit: int, proceed: str) -> LimitError:
    """The one wording for every refusal: what, how many, the limit, what to do."""
    return LimitError(f"{what}: {got:,} is more than the limit of {limit:,}; {proceed}")


def check_count(what: str, got: int, limit: int, proceed: str) -> None:
    if got > limit:
        raise too_many(what, got, limit, proceed)


def read_regular_file(path: str | os.PathLike[str], max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`, read with a bounded read.

    FIFOs, devices (/dev/zero), sockets and directories are refused before they are opened for
    reading (a FIFO with no writer would block forever, /dev/zero never ends).
    """
    p = Path(path)
    try:
        info = os.stat(p)
    except FileNotFoundError:
        raise InputError(f"file not found: {p}") from None
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
                "a named pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "not a regular file")
        raise InputError(f"{p} is {kind}; give a regular CSV file")
    if info.st_size > max_bytes:
        raise too_many(f"{p.name} size in bytes", info.st_size, max_bytes,
                       "split the file or keep only the columns needed")
    # O_NONBLOCK: should the path have been swapped for a FIFO since stat, open does not block.
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise InputError(f"{p} is not a regular file; give a regular CSV file")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_many(f"{p.name} size in bytes", len(data), max_bytes,
                       "split the file or keep only the columns needed")
    return data


def check_text_table(text: str, filename: str, max_rows: int, what: str = "rows") -> None:
    """Bounds on a CSV text before pandas parses it: lines, longest line."""
    lines = text.splitlines()
    data_rows = sum(1 for line in lines[1:] if line.strip())
    check_count(f"{filename}: {what}", data_rows, max_rows, "split the file into smaller ones")
    longest = max((len(line) for line in lines), default=0)
    limit = MAX_CELL_CHARS * MAX_COLUMNS
    if longest > limit:
        raise LimitError(
            f"{filename}: a line is {longest:,} characters long, more than the limit of "
            f"{limit:,} ({MAX_COLUMNS} columns of at most {MAX_CELL_CHARS:,} characters); "
            "shorten the long cells")


def check_xlsx(raw: bytes, filename: str) -> None:
    """Bounds on an .xlsx read from its zip directory and sheet dimension, before openpyxl."""
    import io
    import re

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile:
        raise InputError(f"{filename} could not be read as an Excel workbook (not a zip "
                         "archive); save it again from Excel, or as CSV") from None
    with archive:
        infos = archive.infolist()
        total = sum(i.file_size for i in infos)
        check_count(f"{filename}: uncompressed size in bytes", total,
                    MAX_XLSX_UNCOMPRESSED_BYTES,
                    "save the sheet as CSV, or remove unused sheets and formatting")
        for info in infos:
            if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                continue
            rows_seen, head = 0, b""
            with archive.open(info) as part:  # streamed: the total size is bounded above
                while chunk := part.read(1 << 20):
                    head = head or chunk[:4096]
                    rows_seen += chunk.count(b"<row ") + chunk.count(b"<row>")
            check_count(f"{filename}: sheet rows", rows_seen - 1, MAX_PATIENT_ROWS,
                        "split the file")
            dim = re.search(r'<dimension ref="([A-Z]+)?(\d+)?(?::([A-Z]+)(\d+))?"',
                            head.decode("utf-8", "replace"))
            if dim and dim.group(4):
                rows, cols = int(dim.group(4)), _column_number(dim.group(3))
                check_count(f"{filename}: sheet rows (its used range ends at row {rows:,})",
                            rows - 1, MAX_PATIENT_ROWS,
                            "delete stray cells far below the table, or split the file")
                check_count(f"{filename}: sheet columns (its used range ends at column "
                            f"{dim.group(3)})", cols, MAX_COLUMNS,
                            "delete stray cells to the right of the table")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


def check_parquet(raw: bytes, filename: str) -> None:
    """Bounds on a Parquet file from its footer metadata, before any column is decoded."""
    import io

    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others for a bad file
        raise InputError(f"{filename} could not be read as Parquet ({exc})") from None
    check_count(f"{filename}: rows", meta.num_rows, MAX_PATIENT_ROWS, "split the file")
    check_count(f"{filename}: columns", meta.num_columns, MAX_COLUMNS,
                "keep only the template's columns")
    size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    check_count(f"{filename}: uncompressed size in bytes", size, MAX_PARQUET_UNCOMPRESSED_BYTES,
                "shorten the long cells or split the file")
