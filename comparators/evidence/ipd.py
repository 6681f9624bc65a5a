"""Individual-patient data (IPD): the upload format, its validation, and aggregation to the
one-row-per-(study, arm, subtype) shape every cohort shares.

Format: one row per patient, columns

    id, subtype, regimen, ai_agent, ici_agent, line, best_response, best_pct_change,
    pfs_time, pfs_event, os_time, os_event, time_unit

optional: synthetic, note, age, sex. ``time_unit`` is months | weeks | days per row; times are
converted to months (1 month = 30.4375 days = 365.25 / 12). Every cell is checked, and the first
problem raises ``IPDError`` naming the 1-based data row and the column, e.g.
``row 4, column 'pfs_event': expected 0 or 1, got 2``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import pandas as pd

import comparators.limits as limits
from comparators.errors import InputError
from comparators.evidence.columns import Column
from comparators.inputs import (
    check_header,
    is_missing,
)
from comparators.vocab import ALL_SUBTYPES_CODE, TIME_UNIT_DAYS

REQUIRED_COLUMNS: tuple[str, ...] = (
    "id",
    "subtype",
    "regimen",
    "ai_agent",
    "ici_agent",
    "line",
    "best_response",
    "best_pct_change",
    "pfs_time",
    "pfs_event",
    "os_time",
    "os_event",
    "time_unit",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("synthetic", "note", "age", "sex")

RESPONSES: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")
LINES: tuple[str, ...] = ("first-line", "later-line")
#: Months per time unit an IPD row may give (vocab.TIME_UNIT_DAYS has the days per unit).
UNIT_TO_MONTHS: dict[str, float] = {
    unit: TIME_UNIT_DAYS[unit] / TIME_UNIT_DAYS["months"] for unit in ("months", "weeks", "days")
}
MAX_MONTHS = limits.MAX_MONTHS
DEFAULT_MAX_BYTES = limits.MAX_FILE_BYTES
#: `DataFrame.attrs` key naming the encoding a CSV was read in, when it was not UTF-8 (e.g.
#: "Windows-1252"), so the page can say so.
ENCODING_ATTR = "encoding"

AGGREGATE_COLUMNS: tuple[str, ...] = (
    "study",
    "arm",
    "regimen",
    "regimen_class",
    "ai_agent",
    "ici_agent",
    "design",
    "line",
    "subtype",
    "n",
    "evaluable",
    "responders",
    "cr",
    "pr",
    "sd",
    "pd",
    "ne",
    "pfs_median_months",
    "pfs_median_low",
    "pfs_median_high",
    "pfs_median_ci_method",
    "verified",
    "note",
)


class IPDError(InputError):
    """An IPD file that cannot be used; the message names the row and column when it can."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def _read_bytes(file_or_buffer: str | Path | bytes | IO[bytes] | IO[str], max_bytes: int) -> bytes:
    if isinstance(file_or_buffer, bytes):
        raw = file_or_buffer
    elif isinstance(file_or_buffer, str | Path):
        try:  # regular files only, bounded read: never a FIFO or /dev/zero
            raw = limits.read_regular_file(file_or_buffer, max_bytes)
        except InputError as exc:
            raise IPDError(str(exc)) from None
    else:
        data = file_or_buffer.read(max_bytes + 1)
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > max_bytes:
        raise IPDError(f"file is larger than the limit of {max_bytes:,} bytes")
    return raw


def decode_text(raw: bytes, filename: str) -> str:
    """CSV bytes as text (comparators.limits.decode_text: UTF-8, UTF-16/32 with a byte-order
    mark, else Windows-1252); binary content is refused with a clear message."""
    return _decoded(raw, filename).text


def _decoded(raw: bytes, filename: str) -> limits.DecodedText:
    try:
        return limits.decode_text(raw, filename)
    except InputError as exc:
        raise IPDError(str(exc)) from None


def header_cells(first_line: str, sep: str) -> list[str]:
    """The header as written (pandas renames a repeated name to "name.1", which misleads)."""
    import csv

    return next(csv.reader([first_line], delimiter=sep), [])


def _decode_csv(raw: bytes, filename: str) -> pd.DataFrame:
    text, encoding = _decoded(raw, filename)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise IPDError(f"{filename} is empty")
    try:
        limits.check_text_table(text, filename, limits.MAX_PATIENT_ROWS, "patient rows")
    except InputError as exc:
        raise IPDError(str(exc)) from None
    sep = ";" if lines[0].count(";") > lines[0].count(",") else ","
    _check_header(header_cells(lines[0], sep))
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise IPDError(f"{filename}: not a well-formed CSV ({exc})") from None
    if encoding not in ("UTF-8", "UTF-16", "UTF-32"):
        frame.attrs[ENCODING_ATTR] = encoding
    return frame


def _check_header(names: Iterable[object]) -> list[str]:
    """The header's names, cleaned and lower-cased; refused when too long or a name repeats."""
    names = list(names)
    if len(names) > limits.MAX_COLUMNS:
        raise IPDError(str(limits.too_many("columns in the header", len(names),
                                           limits.MAX_COLUMNS, "keep only the template's columns")))
    return [c.lower() for c in check_header(names, error=IPDError)]


def _frame_from_upload(raw: bytes, filename: str) -> pd.DataFrame:
    suffix = Path(filename).suffix.lower()
    if not raw.strip():
        raise IPDError(f"{filename} is empty")
    if suffix in (".csv", ".txt", ""):
        return _decode_csv(raw, filename)
    if suffix == ".xlsx":
        try:
            limits.check_xlsx(raw, filename)
        except InputError as exc:
            raise IPDError(str(exc)) from None
        try:
            df = pd.read_excel(io.BytesIO(raw), dtype=str, engine="openpyxl")
        except Exception as exc:  # openpyxl raises several unrelated types for a bad file
            raise IPDError(f"{filename} could not be read as an Excel workbook ({exc})") from None
        return df.fillna("")
    if suffix == ".parquet":
        df = _read_parquet(raw, filename)
        return df.astype(object).where(df.notna(), "").astype(str)
    raise IPDError(f"{filename}: unsupported file type {suffix!r} (use .csv, .xlsx or .parquet)")


def _read_parquet(raw: bytes, filename: str) -> pd.DataFrame:
    """A Parquet upload, decoded within MAX_PARQUET_UNCOMPRESSED_BYTES.

    The page headers are checked first (limits.check_parquet); text columns are then read as
    dictionaries - the stored dictionary and its indices, never the repeated values - and their
    decoded size is added up from the indices before pandas sees a single value.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        limits.check_parquet(raw, filename)
    except InputError as exc:
        raise IPDError(str(exc)) from None
    try:
        plain = pq.ParquetFile(io.BytesIO(raw))
        texts = [c.path for c in plain.schema if c.physical_type == "BYTE_ARRAY"]
        table = pq.ParquetFile(io.BytesIO(raw), read_dictionary=texts).read(
            use_pandas_metadata=True)
        decoded = 0
        for column in table.columns:
            for chunk in column.chunks:
                if pa.types.is_dictionary(chunk.type):
                    sizes = pc.binary_length(chunk.dictionary).fill_null(0)
                    decoded += pc.sum(pc.take(sizes, chunk.indices)).as_py() or 0
                else:
                    decoded += chunk.nbytes
            limits.check_count(f"{filename}: decoded size in bytes", decoded,
                               limits.MAX_PARQUET_UNCOMPRESSED_BYTES,
                               "shorten the long cells or split the file")
        # within the bound: now the types pyarrow would have read (text as text)
        return table.cast(plain.schema_arrow).to_pandas()
    except InputError as exc:
        raise IPDError(str(exc)) from None
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others
        raise IPDError(f"{filename} could not be read as Parquet ({exc})") from None


def read_ipd(
    file_or_buffer: str | Path | bytes | IO[bytes] | IO[str],
    filename: str | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    known_subtypes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Read and validate an IPD file (CSV, .xlsx or .parquet) into a typed DataFrame.

    Times are returned in months (columns pfs_months, os_months added; the original
    pfs_time/os_time/time_unit are kept). Raises IPDError on the first problem.
    """
    if filename is None:
        if isinstance(file_or_buffer, str | Path):
            filename = Path(file_or_buffer).name
        else:
            filename = str(getattr(file_or_buffer, "name", "upload.csv"))
    raw = _read_bytes(file_or_buffer, max_bytes)
    df = _frame_from_upload(raw, filename)
    valid = validate_ipd(df, known_subtypes=known_subtypes)
    if ENCODING_ATTR in df.attrs:
        valid.attrs[ENCODING_ATTR] = df.attrs[ENCODING_ATTR]
    return valid


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

def _blank(v: object) -> bool:
    return is_missing(v, markers=False)


_CELL = limits.MAX_CELL_CHARS
#: How each patient cell is read (evidence.columns); the subtype's codes are data/subtypes.csv.
IPD_SPEC: dict[str, Column] = {c.name: c for c in (
    Column("id", required=True, if_empty="id is missing", max_chars=_CELL),
    Column("subtype", "choice", required=True, what="subtype"),
    Column("line", "choice", required=True, choices=LINES, what="treatment line"),
    Column("best_response", "choice", required=True, choices=RESPONSES, what="best response"),
    Column("best_pct_change", "number", low=limits.PCT_CHANGE_RANGE[0],
           high=limits.PCT_CHANGE_RANGE[1], out_of_range="expected {low:g} to {high:g} (%), "
                                                         "got {value:g}"),
    Column("time_unit", "choice", required=True, choices=tuple(UNIT_TO_MONTHS),
           what="time unit"),
    Column("pfs_time", "number", required=True, low=0.0,
           out_of_range="time must be >= 0, got {value:g}"),
    Column("os_time", "number", required=True, low=0.0,
           out_of_range="time must be >= 0, got {value:g}"),
    Column("pfs_event", "event"),
    Column("os_event", "event"),
    Column("regimen", required=True, if_empty="regimen is missing", max_chars=_CELL),
    Column("ai_agent", max_chars=_CELL),
    Column("ici_agent", max_chars=_CELL),
    Column("note", max_chars=_CELL),
    Column("sex", max_chars=_CELL),
    Column("age", "number", low=limits.AGE_RANGE[0], high=limits.AGE_RANGE[1],
           out_of_range="expected {low:g} to {high:g} years, got {value:g}"),
)}


def validate_ipd(df: pd.DataFrame, *, known_subtypes: Iterable[str] | None = None) -> pd.DataFrame:
    """Check every cell of an IPD table; return a typed copy with pfs_months/os_months.

    Cells are read as :data:`IPD_SPEC` says, in the order of the format; then the named checks
    (a unique id, RECIST shrinkage for a response, a plausible follow-up, PFS within OS, an
    agent given). The first problem raises IPDError naming the row and the column."""
    if known_subtypes is None:
        from comparators.evidence.catalog import subtype_codes

        known_subtypes = subtype_codes()  # the one vocabulary: data/subtypes.csv
    subtypes = sorted({s.upper() for s in known_subtypes})
    df = _checked_table(df)
    seen: dict[str, int] = {}
    patients = [_patient(rec, i, subtypes, seen)
                for i, rec in enumerate(df.to_dict("records"), start=1)]
    res = pd.DataFrame(patients, columns=[*df.columns, "pfs_months", "os_months"])
    res["best_pct_change"] = res["best_pct_change"].astype(float)
    for c in ("pfs_time", "os_time", "pfs_months", "os_months"):
        res[c] = res[c].astype(float)
    for c in ("pfs_event", "os_event"):
        res[c] = res[c].astype(int)
    return res


def _checked_table(df: pd.DataFrame) -> pd.DataFrame:
    """The table's shape before any cell is read: header, row count, required and allowed
    columns, no blank rows, no cell longer than the limit."""
    lowered = _check_header(df.columns)
    if len(df) > limits.MAX_PATIENT_ROWS:
        raise IPDError(str(limits.too_many("patient rows", len(df), limits.MAX_PATIENT_ROWS,
                                           "split the file into smaller ones")))
    df = df.copy()
    df.columns = lowered
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise IPDError(
            f"missing required column(s): {', '.join(missing)} "
            f"(the header must contain: {', '.join(REQUIRED_COLUMNS)})"
        )
    extra = [c for c in df.columns if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if extra:
        raise IPDError(
            f"unexpected column(s): {', '.join(extra)} "
            f"(allowed besides the required ones: {', '.join(OPTIONAL_COLUMNS)})"
        )
    # drop rows that are entirely blank (trailing empty lines in spreadsheets)
    df = df[~df.apply(lambda r: all(_blank(v) for v in r), axis=1)].reset_index(drop=True)
    if len(df) == 0:
        raise IPDError("the file has a header but no patient rows")
    for col in df.columns:  # before any per-cell work: one huge cell must not cost seconds
        lengths = df[col].map(lambda v: len(v) if isinstance(v, str) else 0)
        if len(lengths) and int(lengths.max()) > limits.MAX_CELL_CHARS:
            row = int(lengths.to_numpy().argmax()) + 1
            raise IPDError(f"row {row}, column {col!r}: the cell is {int(lengths.max()):,} "
                           f"characters long, more than the limit of {limits.MAX_CELL_CHARS:,}; "
                           "shorten it")
    return df


def _patient(rec: dict[str, Any], i: int, subtypes: list[str],
             seen: dict[str, int]) -> dict[str, Any]:
    """One patient row read and checked (row `i`, 1-based), with its times in months."""
    def read(col: str, **kwargs: Any) -> Any:
        return IPD_SPEC[col].read(rec[col], row=i, error=IPDError, **kwargs)

    clean = dict(rec)
    clean["id"] = _unique_id(read("id"), i, seen)
    clean["subtype"] = read("subtype", choices=subtypes)
    for col in ("line", "best_response", "best_pct_change"):
        clean[col] = read(col)
    _check_response_shrinkage(clean["best_response"], clean["best_pct_change"], i)
    clean["time_unit"] = unit = read("time_unit")
    months = {}
    for col in ("pfs_time", "os_time"):
        clean[col] = read(col)
        months[col] = _months(clean[col], unit, i, col)
    clean["pfs_event"], clean["os_event"] = read("pfs_event"), read("os_event")
    if months["pfs_time"] > months["os_time"] + 1e-9:
        raise IPDError(
            f"row {i}, column 'pfs_time': PFS ({rec['pfs_time']}) is longer than OS "
            f"({rec['os_time']}); progression-free time cannot exceed overall survival time"
        )
    for col in ("regimen", "ai_agent", "ici_agent") + tuple(
            c for c in ("note", "sex") if c in rec):
        clean[col] = read(col) or ""
    if not clean["ai_agent"] and not clean["ici_agent"]:
        raise IPDError(f"row {i}, column 'ai_agent': both ai_agent and ici_agent are empty")
    if "synthetic" in clean:
        clean["synthetic"] = str(clean["synthetic"]).strip().lower() in ("true", "1", "yes")
    if "age" in clean:
        clean["age"] = read("age")
    clean["pfs_months"], clean["os_months"] = months["pfs_time"], months["os_time"]
    return clean


def _unique_id(pid: str, i: int, seen: dict[str, int]) -> str:
    """A patient id used once in the file."""
    if pid in seen:
        raise IPDError(f"row {i}, column 'id': duplicate id {pid!r} (first used in row "
                       f"{seen[pid]})")
    seen[pid] = i
    return pid


def _check_response_shrinkage(response: str, pct: float | None, i: int) -> None:
    """A CR or PR has its best change in size, a decrease of at least 30% (RECIST 1.1)."""
    if pct is None and response in ("CR", "PR"):
        raise IPDError(f"row {i}, column 'best_pct_change': missing for a {response}")
    if pct is not None and response in ("CR", "PR") and pct > -30:
        raise IPDError(f"row {i}, column 'best_pct_change': {response} needs a decrease of at "
                       f"least 30% (RECIST 1.1), got {pct:g}")


def _months(time: float, unit: str, i: int, col: str) -> float:
    """A follow-up time in months, within the plausible maximum (limits.MAX_MONTHS)."""
    m = time * UNIT_TO_MONTHS[unit]
    if m > MAX_MONTHS:
        in_months = "" if unit == "months" else f" ({m:.1f} months)"
        raise IPDError(f"row {i}, column {col!r}: {time:g} {unit}{in_months} is more than the "
                       f"plausible maximum of {MAX_MONTHS:g} months")
    return m


# --------------------------------------------------------------------------------------------
# Aggregation to the one row shape
# --------------------------------------------------------------------------------------------


def regimen_class(ai_agent: str, ici_agent: str) -> str:
    """AI+ICI | ICI | ICI+ICI | AI from the agents given (ICI+ICI when two ICIs are listed)."""
    ici = [a for a in str(ici_agent).replace("+", "/").split("/") if a.strip()]
    ai = [a for a in str(ai_agent).replace("+", "/").split("/") if a.strip()]
    if ai and ici:
        return "AI+ICI"
    if len(ici) >= 2:
        return "ICI+ICI"
    if ici:
        return "ICI"
    return "AI"


def _joined(values: Iterable[str]) -> str:
    vals = sorted({v for v in values if v})
    return "; ".join(vals)


def aggregate_ipd(
    df: pd.DataFrame,
    study: str = "MY-COHORT",
    arm: str | None = None,
    *,
    design: str = "retrospective",
    verified: str = "",
) -> pd.DataFrame:
    """One row per subtype plus an all-subtypes "STS" row, in the shared row shape.

    evaluable = CR + PR + SD + PD (NE excluded); responders = CR + PR. PFS median (months) with
    its log-log interval from comparators.survival.km_fit. The rows pass the catalog's own row
    validator (evidence.catalog.validate_cohort_rows), so an uploaded cohort meets the rules
    every comparator row meets; `verified` stays empty (the cohort's data label says what it is).
    """
    from comparators.stats.survival import km_fit

    if len(df) == 0:
        raise IPDError("no patients to aggregate")
    if "pfs_months" not in df.columns:
        df = validate_ipd(df)

    def row(sub: pd.DataFrame, subtype: str, note: str) -> dict[str, Any]:
        counts = sub["best_response"].value_counts()
        c = {k: int(counts.get(k, 0)) for k in RESPONSES}
        classes = {
            regimen_class(a, b) for a, b in zip(sub["ai_agent"], sub["ici_agent"], strict=True)
        }
        lines = set(sub["line"])
        km = km_fit(sub["pfs_months"], sub["pfs_event"], subtype)
        notes = [note] if note else []
        if km.note:
            notes.append(f"PFS: {km.note}")
        if "synthetic" in sub.columns and bool(sub["synthetic"].any()):
            notes.append("SYNTHETIC example data, not patients")
        return {
            "study": study,
            "arm": arm or _joined(classes),
            "regimen": _joined(sub["regimen"]),
            "regimen_class": _joined(classes),
            "ai_agent": _joined(sub["ai_agent"]),
            "ici_agent": _joined(sub["ici_agent"]),
            "design": design,
            "line": lines.pop() if len(lines) == 1 else "mixed",
            "subtype": subtype,
            "n": int(len(sub)),
            "evaluable": c["CR"] + c["PR"] + c["SD"] + c["PD"],
            "responders": c["CR"] + c["PR"],
            "cr": c["CR"],
            "pr": c["PR"],
            "sd": c["SD"],
            "pd": c["PD"],
            "ne": c["NE"],
            "pfs_median_months": km.median,
            "pfs_median_low": km.median_low,
            "pfs_median_high": km.median_high,
            "pfs_median_ci_method": km.median_ci_method,
            "verified": verified,
            "note": "; ".join(notes),
        }

    rows = []
    order = df["subtype"].value_counts().sort_index(ascending=True)
    order = order.sort_values(ascending=False, kind="stable")
    for subtype in order.index:
        note = "STS not otherwise specified" if subtype == ALL_SUBTYPES_CODE else ""
        rows.append(row(df[df["subtype"] == subtype], subtype, note))
    rows.append(row(df, ALL_SUBTYPES_CODE, f"all subtypes pooled (n={len(df)})"))
    from comparators.evidence.catalog import validate_cohort_rows

    frame = pd.DataFrame(rows, columns=list(AGGREGATE_COLUMNS))
    # Subtype codes were checked against the vocabulary when the patients were read.
    return validate_cohort_rows(frame, "uploaded cohort", set(frame["subtype"].astype(str)))
