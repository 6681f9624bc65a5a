"""Every bound on the work one input may cause, in one place.

On Streamlit Community Cloud every visitor shares one Python process, so a single upload, link or
CLI file must not be able to stall or exhaust it. Each limit is checked *before* the expensive
step (parsing, fitting, searching, drawing) and a refusal names the limit and how to proceed.
Views import these names for their widgets' ``max_value``; readers call the checks below.

Pure standard library: the CLI imports this before anything heavy.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any, NamedTuple

from comparators.errors import InputError

# --- files ----------------------------------------------------------------------------------
#: Largest upload or CLI file read at all (bytes). Uploads: Streamlit's own limit is larger.
MAX_FILE_BYTES = 5_000_000
#: Largest total uncompressed size of an .xlsx's parts, read from the zip directory before
#: openpyxl parses anything (an .xlsx is a zip; 2 MB can hold millions of rows). The zip reader
#: never inflates a part beyond the size its directory entry states.
MAX_XLSX_UNCOMPRESSED_BYTES = 30_000_000
#: Parts (zip entries) of an .xlsx; a workbook with a few sheets has 10 to 30.
MAX_XLSX_PARTS = 500
#: Cells (<c> elements) in all the sheets of an .xlsx: the template's 17 columns for 10,000
#: patients, with room. openpyxl takes about 8 us a cell (170,000 cells: 1.5 s).
MAX_XLSX_CELLS = 200_000
#: XML elements (and comments) in all the parts of an .xlsx, cells and shared strings included.
MAX_XLSX_ELEMENTS = 1_000_000
#: XML elements outside the cells and shared strings (styles, workbook, properties): openpyxl
#: builds an object for each (a million <xf/> in styles.xml, 13 kB zipped, took 15 s).
MAX_XLSX_STRUCTURE = 50_000
#: Nesting depth of any XML part (a sheet nests about 5 deep).
MAX_XML_DEPTH = 64
#: Characters in one XML text or attribute value: Excel's own limit for a cell is 32,767.
MAX_XML_TEXT_CHARS = 32_767
#: Largest Parquet data decoded: the page sizes stated by the page headers (dictionary pages
#: included), which the decompressor is held to, and the decoded size of dictionary-encoded
#: text (one 100 kB value repeated by 10,000 indices is 1 GB decoded from a 27 kB file).
MAX_PARQUET_UNCOMPRESSED_BYTES = 20_000_000
#: Size of a Parquet file's footer (its metadata), read before it is parsed.
MAX_PARQUET_FOOTER_BYTES = 1_000_000
#: Row groups and pages in a Parquet upload (10,000 rows fit one row group).
MAX_PARQUET_ROW_GROUPS = 100
MAX_PARQUET_PAGES = 20_000

#: Longest value a shared link may carry for any key (codes and numbers are short).
MAX_LINK_VALUE_CHARS = 200

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

# --- meta-regression --------------------------------------------------------------------------
#: Moderators in one meta-regression (each a column of the file): with sarcoma's few arms even
#: three are more than the data can carry; five bounds the design and the text around it.
MAX_MODERATORS = 5
#: Levels of one categorical moderator: each level after the reference is a coefficient.
MAX_MODERATOR_LEVELS = 12
#: Coefficients of one meta-regression (intercept included): the fit's work grows with
#: arms x coefficients^2 at each of ~150 likelihood evaluations (k = 1,000 arms with 16
#: coefficients fits in well under a second; with 83, 7 s), and no sarcoma question needs more.
MAX_COEFFICIENTS = 16

# --- numbers --------------------------------------------------------------------------------
#: Largest count any entry point accepts unless it names a lower limit: beyond 2**53 a float
#: no longer holds every whole number, and every statistic works in floats.
MAX_EXACT_COUNT = 2**53
#: A number written with more characters than this is refused before it is converted (a
#: 400-digit count would otherwise reach float() and overflow).
MAX_NUMBER_CHARS = 64
#: Characters in one text value unless the caller names its own bound (ids, regimens, names).
MAX_TEXT_CHARS = 1_000
#: The confidence (or credible) level, everywhere: below 0.5 an interval misses more often than
#: it covers and is almost always alpha typed for the level (0.05 for 0.95); above 0.999 the
#: normal quantile grows without a useful bound and 1 - level stops being representable
#: (1 - 1e-17 == 1.0). 0.5 and 0.999 themselves are allowed.
LEVEL_RANGE = (0.5, 0.999)
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
#: Patients of one subtype in a what-if scenario: larger than any sarcoma cohort; also keeps the
#: exact tests (Fisher) that follow an edit fast.
MAX_SCENARIO_PATIENTS = 10_000
#: Largest absolute value of a numeric meta-regression moderator: its square enters X'X, which
#: must stay far from overflow and keep the digits the fit needs.
MAX_MODERATOR_SIZE = 1e9
#: Best change in tumour size (%) an IPD row may give: -100 is complete disappearance; a
#: tenfold growth is beyond any measured target lesion.
PCT_CHANGE_RANGE = (-100.0, 1000.0)
#: Arms a user may add to the catalog in one session (form and CSV together), cells in one
#: such CSV (rows times columns), and its size: a few dozen arms is a review's worth; the
#: bounds keep one visitor's additions from slowing every pooled view of the shared server.
MAX_ADDED_ARMS = 200
MAX_ADDED_CELLS = 5_000
MAX_ADDED_BYTES = 500_000

# --- charts ---------------------------------------------------------------------------------
#: Longest string in a chart image: vl-convert measures text slowly (about 40 us per character
#: per trial width when a label must be truncated to fit), so 150 swimmer lanes named by
#: 1,000-character ids took 40 s. The longest in the app's own charts is 223 (a tooltip).
MAX_RENDER_CHARS = 300
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
#: Subtypes (exchangeable units) in one borrowing model across subtypes.
MAX_BORROWING_SUBTYPES = 60
#: Bayesian pooling: studies of the binomial-normal model (its grid is arms x theta nodes),
#: patients in one arm (beyond, the exact likelihood is too sharp for the grid and the normal
#: model agrees anyway), and the prior scales (tau on the logit scale, sd of mu).
MAX_STUDIES_BINOMIAL = 200
MAX_BAYES_ARM_N = 100_000
MAX_TAU_SCALE = 100.0
MAX_MU_PRIOR_SD = 1000.0
#: Size of the mean of mu's normal prior (logit scale: 1e6 is already beyond any proportion).
MAX_MU_PRIOR_MEAN = 1e6
#: Smallest prior scale the CLI accepts: below 0.001 on the logit scale a prior fixes tau or mu
#: outright and the integration grids lose it (1e-160 silently gave the flat-prior answer).
MIN_PRIOR_SCALE = 0.001
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
        try:
            data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"cannot read {p}: {exc.strerror or exc}") from None
    # Kernel files (/proc, /sys) call themselves regular with size 0 and then stream, or have
    # nothing to read yet (a non-blocking read returns None).
    if data is None or (info.st_size == 0 and data):
        raise InputError(f"{p} is a special file (its size is not known in advance, as in /proc); "
                         "give a regular CSV file")
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


# --- .xlsx -----------------------------------------------------------------------------------


def check_xlsx(raw: bytes, filename: str) -> None:
    """Bounds on an .xlsx, by reading every part the way a parser would, before openpyxl.

    An .xlsx is a zip of XML parts. Every part is streamed through expat (bounded: at most its
    stated size, which the zip reader enforces) and counted - rows, cells, elements, depth, text
    - whatever its name, namespace prefix or case, so a sheet renamed `Sheet1.xml`, written with
    `<x:row>` or `<row\\n>`, or with one cell at XFD1048576 and no `<dimension>`, is refused
    here instead of costing openpyxl seconds and gigabytes. A DTD (never written by Excel) is
    refused: it is how entity-expansion bombs work.
    """
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise InputError(f"{filename} could not be read as an Excel workbook (not a zip "
                         "archive); save it again from Excel, or as CSV") from None
    with archive:
        infos = archive.infolist()
        check_count(f"{filename}: parts in the workbook (zip entries)", len(infos),
                    MAX_XLSX_PARTS, "save the sheet as CSV")
        check_count(f"{filename}: uncompressed size in bytes", sum(i.file_size for i in infos),
                    MAX_XLSX_UNCOMPRESSED_BYTES,
                    "save the sheet as CSV, or remove unused sheets and formatting")
        counts = _XlsxCounts(filename)
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                # Excel writes nothing else; LZMA's window is sized by the file (up to 1.5 GB)
                raise InputError(f"{filename}: part {info.filename} is compressed in a way "
                                 f"Excel never writes (zip method {info.compress_type}); save "
                                 "the sheet again from Excel, or as CSV")
            try:
                with archive.open(info) as part:
                    counts.scan(part, info.filename)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError,
                    RuntimeError) as exc:
                raise InputError(f"{filename} could not be read as an Excel workbook (part "
                                 f"{info.filename}: {exc}); save it again from Excel, or as "
                                 "CSV") from None


_OTHER, _CELL, _ROW, _SHARED, _DIMENSION = range(5)
_KINDS = {"c": _CELL, "row": _ROW, "si": _SHARED, "dimension": _DIMENSION}
#: Bytes between two XML events (a tag with its attributes, or a text): a cell's longest text,
#: 32,767 characters, at up to 4 bytes each.
_MAX_XML_GAP = 4 * MAX_XML_TEXT_CHARS + 1024


class _XlsxCounts:
    """Running counts over an .xlsx's parts; `scan` refuses as soon as a bound is passed.

    Rows, cells (<c>) and shared strings (<si>) are recognised by their local name in any
    case and with any prefix; what lies inside a cell or a shared string is cell content, any
    other element is structure (styles, workbook, properties). The handlers do as little as
    possible per element: 520,000 elements (10,000 patients) take about 0.5 s.
    """

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.elements = self.structure = self.cells = self.shared = 0
        self.kinds: dict[str, int] = {}

    def kind(self, tag: str) -> int:
        kind = _KINDS.get(tag.rpartition(":")[2].lower(), _OTHER)
        if len(self.kinds) < 1024:
            self.kinds[tag] = kind
        return kind

    def scan(self, stream: IO[bytes], part: str) -> None:
        """Count one part's XML. A part that is not XML (an image) is left to the reader."""
        from xml.parsers import expat

        name, kinds = self.filename, self.kinds
        depth = in_cell = rows = row = col = last = elements = 0
        parser = expat.ParserCreate()

        def start(tag: str, attrs: list[str]) -> None:
            nonlocal depth, in_cell, rows, row, col, last, elements
            pos = parser.CurrentByteIndex  # a long attribute or text lies before this tag
            if pos - last > _MAX_XML_GAP:
                raise _too_long(name, part)
            last = pos
            depth += 1
            elements += 1
            if in_cell:
                in_cell += 1
                if depth > MAX_XML_DEPTH:
                    raise _too_deep(name, part)
                return
            kind = kinds.get(tag)
            if kind is None:
                kind = self.kind(tag)
            if kind == _CELL:
                self.cells += 1
                in_cell = 1
                col = _cell_column(_attribute(attrs, "r"), col, name)
            elif kind == _ROW:
                rows += 1
                row = _row_number(_attribute(attrs, "r"), row, name)
                col = 0
            elif kind == _SHARED:
                self.shared += 1
                in_cell = 1
            elif kind == _DIMENSION:
                _check_dimension(_attribute(attrs, "ref") or "", name)
            else:
                self.structure += 1
            if depth > MAX_XML_DEPTH:
                raise _too_deep(name, part)
            if elements & 0xFFF == 0 or rows > MAX_PATIENT_ROWS + 1:
                self.check(rows, elements)

        def end(tag: str) -> None:
            nonlocal depth, in_cell
            depth -= 1
            if in_cell:
                in_cell -= 1

        def comment(*_: object) -> None:
            nonlocal last, elements
            pos = parser.CurrentByteIndex
            if pos - last > _MAX_XML_GAP:
                raise _too_long(name, part)
            last = pos
            elements += 1

        def doctype(*_: object) -> None:
            raise InputError(f"{name}: {part} declares a DTD (<!DOCTYPE>), which Excel never "
                             "writes; save the sheet again from Excel, or as CSV")

        parser.ordered_attributes = True
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CommentHandler = parser.ProcessingInstructionHandler = comment
        parser.StartDoctypeDeclHandler = doctype
        size = 0
        try:
            while chunk := stream.read(1 << 16):
                size += len(chunk)
                parser.Parse(chunk, False)
                if size - last > _MAX_XML_GAP + len(chunk):  # expat is inside one long tag
                    raise _too_long(name, part)              # or text: stop feeding it
            parser.Parse(b"", True)
        except expat.ExpatError:
            pass  # not XML, or broken: openpyxl refuses it or never reads it
        self.check(rows, elements)
        self.elements += elements

    def check(self, rows: int, elements: int) -> None:
        """Every bound, with the part being read counted so far (`elements` not yet added)."""
        name = self.filename
        check_count(f"{name}: sheet rows", rows - 1, MAX_PATIENT_ROWS, "split the file")
        check_count(f"{name}: cells in the sheets", self.cells, MAX_XLSX_CELLS,
                    "save the sheet as CSV, or clear the formatting of unused cells")
        check_count(f"{name}: shared strings", self.shared, MAX_XLSX_CELLS,
                    "save the sheet as CSV")
        check_count(f"{name}: XML elements in the workbook", self.elements + elements,
                    MAX_XLSX_ELEMENTS, "save the sheet as CSV")
        check_count(f"{name}: XML elements outside the cells (styles, workbook, properties)",
                    self.structure, MAX_XLSX_STRUCTURE,
                    "save the sheet as CSV, or remove unused styles and sheets")


def _attribute(attrs: list[str], key: str) -> str | None:
    """An attribute's value from expat's ordered [name, value, name, value, ...] list."""
    if attrs and attrs[0] == key:  # Excel and openpyxl write r= first
        return attrs[1]
    for i in range(2, len(attrs), 2):
        if attrs[i] == key:
            return attrs[i + 1]
    return None


def _too_deep(filename: str, part: str) -> LimitError:
    return LimitError(f"{filename}: {part} is nested more than {MAX_XML_DEPTH} levels deep; "
                      "save the sheet as CSV")


def _too_long(filename: str, part: str) -> LimitError:
    return LimitError(f"{filename}: a text or attribute in {part} is more than "
                      f"{MAX_XML_TEXT_CHARS:,} characters long (Excel's limit for a cell); "
                      "shorten it, or save the sheet as CSV")


_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def _cell_column(ref: str | None, previous: int, filename: str) -> int:
    """The column of a cell: from its reference (e.g. "AB12"), else the one after `previous`,
    as openpyxl numbers cells without a reference."""
    if ref and "A" <= ref[0] <= "Z" and ref[1:2].isdigit():
        return ord(ref[0]) - 64  # one letter: within the bound, and the row is the row's
    hit = _CELL_REF.fullmatch(ref) if ref else None
    column = _column_number(hit.group(1).upper()) if hit else previous + 1
    if column > MAX_COLUMNS:
        where = f"a cell at {ref}" if ref else "a row"
        raise too_many(f"{filename}: sheet columns ({where} is in column {column:,})", column,
                       MAX_COLUMNS, "delete stray cells to the right of the table")
    if hit:
        _row_number(hit.group(2), 0, filename)
    return column


def _row_number(ref: str | None, previous: int, filename: str) -> int:
    """The number of a row: its r= attribute, else the one after `previous` (as openpyxl)."""
    number = int(ref) if ref and ref.isdigit() else previous + 1
    check_count(f"{filename}: sheet rows (a cell or row is numbered {number:,})", number - 1,
                MAX_PATIENT_ROWS, "delete stray cells far below the table, or split the file")
    return number


def _check_dimension(ref: str, filename: str) -> None:
    """The sheet's stated used range (e.g. "A1:M5"): its far corner must be within bounds."""
    hit = re.fullmatch(r"\$?([A-Za-z]+)?\$?(\d+)?(?::\$?([A-Za-z]+)\$?(\d+))?", ref)
    if not hit or not hit.group(4):
        return
    rows, cols = int(hit.group(4)), _column_number(hit.group(3).upper())
    check_count(f"{filename}: sheet rows (its used range ends at row {rows:,})", rows - 1,
                MAX_PATIENT_ROWS, "delete stray cells far below the table, or split the file")
    check_count(f"{filename}: sheet columns (its used range ends at column "
                f"{hit.group(3).upper()})", cols, MAX_COLUMNS,
                "delete stray cells to the right of the table")


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


# --- Parquet ---------------------------------------------------------------------------------


def check_parquet(raw: bytes, filename: str) -> None:
    """Bounds on a Parquet file before any value is decoded: the footer's size, rows, columns,
    row groups, flat column types, and the page sizes stated by every page header (dictionary
    pages included), which are what the decompressor allocates and is held to. The sizes in the
    footer are a claim a crafted file can make small; the page headers are read here."""
    import io

    import pyarrow.parquet as pq

    footer = int.from_bytes(raw[-8:-4], "little") if raw[-4:] == b"PAR1" else 0
    if footer <= len(raw) - 12:  # else not Parquet, or cut short: pyarrow says which
        check_count(f"{filename}: metadata (footer) size in bytes", footer,
                    MAX_PARQUET_FOOTER_BYTES, "write the file without custom metadata")
    try:
        meta = pq.ParquetFile(io.BytesIO(raw), thrift_string_size_limit=MAX_PARQUET_FOOTER_BYTES,
                              thrift_container_size_limit=100_000,
                              schema_depth_limit=8).metadata
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError and others for a bad file
        raise InputError(f"{filename} could not be read as Parquet ({exc})") from None
    check_count(f"{filename}: rows", meta.num_rows, MAX_PATIENT_ROWS, "split the file")
    check_count(f"{filename}: columns", meta.num_columns, MAX_COLUMNS,
                "keep only the template's columns")
    check_count(f"{filename}: row groups", meta.num_row_groups, MAX_PARQUET_ROW_GROUPS,
                "write it again as one row group (pandas and pyarrow do by default)")
    for j in range(meta.num_columns):
        _check_flat_column(meta.schema.column(j), filename)
    claimed = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    check_count(f"{filename}: uncompressed size in bytes", claimed,
                MAX_PARQUET_UNCOMPRESSED_BYTES, "shorten the long cells or split the file")
    stated, pages = 0, 0
    for i in range(meta.num_row_groups):
        group = meta.row_group(i)
        for j in range(group.num_columns):
            size, count = _chunk_page_sizes(raw, group.column(j), filename)
            stated, pages = stated + size, pages + count
            check_count(f"{filename}: pages", pages, MAX_PARQUET_PAGES,
                        "write it again with the default page size")
            check_count(f"{filename}: uncompressed size in bytes (as its pages state it)",
                        stated, MAX_PARQUET_UNCOMPRESSED_BYTES,
                        "shorten the long cells or split the file")


#: Physical types a flat IPD column may have; FIXED_LEN_BYTE_ARRAY only up to 16 bytes
#: (decimals, UUIDs): a fixed width of a megabyte repeats it for every row.
_FLAT_TYPES = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
               "FIXED_LEN_BYTE_ARRAY"}


def _check_flat_column(column: Any, filename: str) -> None:
    name = column.path.split(".")[0]
    if column.max_repetition_level > 0 or column.max_definition_level > 1 or "." in column.path:
        raise InputError(f"{filename}: column {name!r} is nested (a list, struct or map); an "
                         "IPD file has one plain value per cell")
    if column.physical_type not in _FLAT_TYPES or (
            column.physical_type == "FIXED_LEN_BYTE_ARRAY" and column.length > 16):
        raise InputError(f"{filename}: column {name!r} has an unsupported storage type "
                         f"({column.physical_type}, {column.length} bytes); write text or "
                         "numbers")


def _chunk_page_sizes(raw: bytes, chunk: Any, filename: str) -> tuple[int, int]:
    """(sum of the uncompressed sizes its page headers state, pages) of one column chunk."""
    if chunk.file_path:
        raise InputError(f"{filename}: its data lives in another file ({chunk.file_path})")
    start = chunk.data_page_offset
    if chunk.has_dictionary_page and 0 < chunk.dictionary_page_offset < start:
        start = chunk.dictionary_page_offset
    end = min(len(raw), start + chunk.total_compressed_size)
    total = pages = values = 0
    pos = start
    while pos < end and pages <= MAX_PARQUET_PAGES:  # every page the reader could reach
        try:
            header, pos = _thrift_struct(raw, pos, 0)
            uncompressed, compressed = header.get(2, 0), header.get(3, 0)
            if uncompressed < 0 or compressed < 0:
                raise ValueError("negative page size")
        except (IndexError, ValueError, RecursionError) as exc:
            if values >= chunk.num_values > 0:
                break  # padding after the last page, which the reader never reads
            raise InputError(f"{filename} could not be read as Parquet (a page header in "
                             f"column {chunk.path_in_schema!r} is damaged: {exc})") from None
        total += uncompressed
        pages += 1
        for data_header in (header.get(5), header.get(8)):  # data page v1 / v2
            if isinstance(data_header, dict):
                values += max(0, data_header.get(1, 0))
        pos += compressed
    return total, pages


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise ValueError("varint too long")


def _zigzag(buf: bytes, pos: int) -> tuple[int, int]:
    n, pos = _varint(buf, pos)
    return (n >> 1) ^ -(n & 1), pos


def _thrift_value(buf: bytes, pos: int, kind: int, depth: int) -> tuple[Any, int]:
    """One value of the Thrift compact protocol (what Parquet's page headers are written in)."""
    if kind in (1, 2):  # boolean true / false, held in the type itself
        return kind == 1, pos
    if kind == 3:
        return buf[pos], pos + 1
    if kind in (4, 5, 6):  # i16, i32, i64
        return _zigzag(buf, pos)
    if kind == 7:  # double
        return None, pos + 8
    if kind == 8:  # binary
        size, pos = _varint(buf, pos)
        if pos + size > len(buf):
            raise ValueError("binary field runs past the file")
        return None, pos + size
    if kind in (9, 10):  # list, set
        head = buf[pos]
        size, elem, pos = head >> 4, head & 0x0F, pos + 1
        if size == 15:
            size, pos = _varint(buf, pos)
        for _ in range(size):
            _, pos = (None, pos + 1) if elem in (1, 2) else _thrift_value(buf, pos, elem,
                                                                           depth + 1)
        return None, pos
    if kind == 11:  # map
        size, pos = _varint(buf, pos)
        if size:
            types, pos = buf[pos], pos + 1
            for _ in range(size):
                _, pos = _thrift_value(buf, pos, types >> 4, depth + 1)
                _, pos = _thrift_value(buf, pos, types & 0x0F, depth + 1)
        return None, pos
    if kind == 12:
        return _thrift_struct(buf, pos, depth + 1)
    raise ValueError(f"unknown thrift type {kind}")


def _thrift_struct(buf: bytes, pos: int, depth: int) -> tuple[dict[int, Any], int]:
    """A compact-protocol struct as {field id: value} (nested structs as dicts, others skipped
    unless integers)."""
    if depth > 16:
        raise ValueError("structs nested too deep")
    fields: dict[int, Any] = {}
    last = 0
    while True:
        head = buf[pos]
        pos += 1
        if head == 0:
            return fields, pos
        delta, kind = head >> 4, head & 0x0F
        if delta:
            last += delta
        else:
            last, pos = _zigzag(buf, pos)
        fields[last], pos = _thrift_value(buf, pos, kind, depth)


# --- text ------------------------------------------------------------------------------------


class DecodedText(NamedTuple):
    text: str
    encoding: str  # the name a user knows: "UTF-8", "Windows-1252", ...


def decode_text(raw: bytes, filename: str) -> DecodedText:
    """CSV bytes as text, and the encoding used: a byte-order mark's (UTF-8, UTF-16, UTF-32),
    else UTF-8, else Windows-1252 (Excel's "CSV" on Windows in Western Europe and the Americas;
    Latin-1 would read its "–" as the control character U+0096), else Latin-1 for the five
    bytes Windows-1252 leaves undefined.

    Binary content (an Excel or Parquet file renamed to .csv) is refused with a clear message.
    """
    head = raw[:4096]
    for bom, codec, name in ((b"\xff\xfe\x00\x00", "utf-32", "UTF-32"),
                             (b"\x00\x00\xfe\xff", "utf-32", "UTF-32"),
                             (b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"),
                             (b"\xff\xfe", "utf-16", "UTF-16"),
                             (b"\xfe\xff", "utf-16", "UTF-16")):
        if head.startswith(bom):
            try:
                return _no_nul(DecodedText(raw.decode(codec), name), filename)
            except UnicodeDecodeError:
                raise InputError(f"{filename} starts like {name} text but is not valid "
                                 f"{name}; save it as CSV UTF-8") from None
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PAR1") or b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if head and (even.count(0) > len(even) // 2 or odd.count(0) > len(odd) // 2):
            raise InputError(f"{filename} looks like UTF-16 text without a byte-order mark; "
                             "save it as CSV UTF-8 (in Excel: Save As > CSV UTF-8)")
        raise InputError(
            f"{filename} is not a text CSV file (it looks binary, e.g. an Excel or Parquet file "
            "renamed to .csv); save it as CSV or upload it with its real extension")
    for codec, name in (("utf-8", "UTF-8"), ("cp1252", "Windows-1252")):
        try:
            return _no_nul(DecodedText(raw.decode(codec), name), filename)
        except UnicodeDecodeError:
            continue
    return _no_nul(DecodedText(raw.decode("latin-1"), "Latin-1"), filename)


def _no_nul(decoded: DecodedText, filename: str) -> DecodedText:
    """Refuse a NUL character: the CSV parser ends a cell at one, silently ("P5\\0X" -> "P5")."""
    at = decoded.text.find("\x00")
    if at >= 0:
        line = decoded.text.count("\n", 0, at) + 1
        raise InputError(f"{filename}: line {line:,} holds a NUL character (byte 0), which a "
                         "text CSV never does; save the file again as CSV UTF-8")
    return decoded
