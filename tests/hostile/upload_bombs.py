"""Hostile upload files, generated (nothing large is committed): small files that claim or
decode to far more than they look, files that hide their size from a pre-check, and files in
the encodings people's spreadsheets really produce.

Each case is an `Upload(name, make, expect)`: `make()` returns the file's bytes; `expect` is
"accept" (read, like a valid file) or "refuse" (an IPDError, whose message must contain every
string in `needles`). tests/hostile/test_readers.py reads each one in a child process under a
memory and time limit.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
VALID = (ROOT / "tests" / "fixtures" / "ipd" / "valid.csv").read_bytes()
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


@dataclass(frozen=True)
class Upload:
    category: str
    name: str
    make: Callable[[], bytes] = field(repr=False)
    expect: str = "refuse"  # or "accept"
    needles: tuple[str, ...] = ()
    patients: int | None = None  # accepted: how many rows the reader must return

    @property
    def id(self) -> str:
        return f"{self.category}:{self.name}"


def frame(rows: int = 4) -> pd.DataFrame:
    """valid.csv's four patients, repeated with distinct ids to `rows` rows."""
    base = pd.read_csv(io.BytesIO(VALID), dtype=str, keep_default_na=False)
    out = pd.concat([base] * (-(-rows // len(base))), ignore_index=True).iloc[:rows].copy()
    out["id"] = [f"P{i + 1}" for i in range(rows)]
    return out


# ------------------------------------------------------------------------------ .xlsx


def xlsx_parts(df: pd.DataFrame | None = None) -> dict[str, bytes]:
    buffer = io.BytesIO()
    (frame() if df is None else df).to_excel(buffer, index=False)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
        return {i.filename: z.read(i) for i in z.infolist()}


def rezip(parts: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method, compresslevel=9 if method else None) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return out.getvalue()


def sheet_pieces(parts: dict[str, bytes]) -> tuple[str, str, str]:
    """The first sheet as (everything before the rows, the rows, everything after)."""
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    head, rest = sheet.split("<sheetData>")
    body, tail = rest.split("</sheetData>")
    return head + "<sheetData>", body, "</sheetData>" + tail


def no_dimension(xml: str) -> str:
    return re.sub(r"<dimension[^>]*/>", "", xml)


def with_sheet(body: str, *, dimension: bool = False, parts: dict[str, bytes] | None = None,
               method: int = zipfile.ZIP_DEFLATED) -> bytes:
    parts = dict(parts or xlsx_parts())
    head, _, tail = sheet_pieces(parts)
    head = head if dimension else no_dimension(head)
    parts["xl/worksheets/sheet1.xml"] = (head + body + tail).encode()
    return rezip(parts, method)


def valid_rows(df: pd.DataFrame | None = None) -> str:
    return sheet_pieces(xlsx_parts(df))[1]


def repeated_rows(count: int, row: str | None = None) -> str:
    """The header row and `count` rows: copies of `row` (950,000 "<row/>" zip to about
    10 kB), or by default `count` distinct patients without r= references."""
    if row is None:
        return re.sub(r' r="[A-Z]*\d+"', "", valid_rows(frame(count)))
    return valid_rows().split("</row>")[0] + "</row>" + row * count


def far_cell(ref: str = "XFD1048576") -> bytes:
    """The valid table and one cell far away, with no <dimension> to give the size away."""
    row = int(re.sub(r"[A-Z]+", "", ref))
    return with_sheet(valid_rows() + f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>x</t>'
                      "</is></c></row>")


def namespaced(rows: int) -> bytes:
    """Every element with an x: prefix (valid XML, same namespace); no dimension."""
    parts = xlsx_parts()
    head, _, tail = sheet_pieces(parts)
    body = repeated_rows(rows, "<row/>" if rows > 100 else None)
    xml = no_dimension(head) + body + tail
    xml = re.sub(r"<(/?)(?!\?)([A-Za-z])", r"<\1x:\2", xml)
    xml = xml.replace(f'<x:worksheet xmlns="{MAIN_NS}"', f'<x:worksheet xmlns:x="{MAIN_NS}"')
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    return rezip(parts)


def row_whitespace(rows: int, sep: str) -> bytes:
    """Rows written `<row\n>`: valid XML that a search for "<row " or "<row>" misses."""
    body = repeated_rows(rows, "<row></row>" if rows > 100 else None)
    return with_sheet(body.replace("<row>", f"<row{sep}>"))


def renamed_sheet(new_name: str, rows: int) -> bytes:
    """The worksheet part moved to `new_name`, found through the workbook's relationships."""
    parts = xlsx_parts()
    head, _, tail = sheet_pieces(parts)
    parts.pop("xl/worksheets/sheet1.xml")
    body = repeated_rows(rows, "<row/>" if rows > 100 else None)
    parts[new_name] = (no_dimension(head) + body + tail).encode()
    for key in ("xl/_rels/workbook.xml.rels", "[Content_Types].xml"):
        parts[key] = parts[key].replace(b"/xl/worksheets/sheet1.xml", b"/" + new_name.encode())
    return rezip(parts)


def cells_in_one_row(cells: int, refs: bool) -> bytes:
    first = valid_rows().split("</row>")[0] + "</row>"
    cell = '<c t="inlineStr"><is><t>x</t></is></c>'
    if refs:
        body = "".join(f'<c r="{col}2"><v>1</v></c>' for col in column_names(cells))
    else:
        body = cell * cells
    return with_sheet(first + "<row>" + body + "</row>")


def column_names(n: int) -> list[str]:
    out = []
    for i in range(1, n + 1):
        name = ""
        while i:
            i, rem = divmod(i - 1, 26)
            name = chr(65 + rem) + name
        out.append(name)
    return out


def with_shared_strings(sst: str, cell_rows: int = 4, per_row: int = 1) -> bytes:
    """The valid table plus a shared-strings part (wired into the workbook), cells using it."""
    parts = xlsx_parts()
    parts["xl/sharedStrings.xml"] = sst.encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/'
        b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml" '
        b'Id="rId9"/></Relationships>')
    rows = valid_rows()
    if per_row:
        cols = column_names(13 + per_row)[13:]
        extra = "".join(f'<c r="{c}{{r}}" t="s"><v>0</v></c>' for c in cols)
        rows = re.sub(r'(<row r="(\d+)">)(.*?)(</row>)',
                      lambda m: m.group(1) + m.group(3)
                      + (extra.format(r=m.group(2)) if m.group(2) != "1" else
                         "".join(f'<c r="{c}1" t="inlineStr"><is><t>note</t></is></c>'
                                 for c in cols[:1]))
                      + m.group(4), rows)
    head, _, tail = sheet_pieces(parts)
    parts["xl/worksheets/sheet1.xml"] = (no_dimension(head) + rows + tail).encode()
    return rezip(parts)


def styles_bomb(xfs: int) -> bytes:
    parts = xlsx_parts()
    xf = "<xf/>"
    parts["xl/styles.xml"] = re.sub(
        rb"<cellXfs[^>]*>.*?</cellXfs>",
        f'<cellXfs count="{xfs}">{xf * xfs}</cellXfs>'.encode(), parts["xl/styles.xml"],
        flags=re.S)
    return rezip(parts)


def many_sheets(count: int) -> bytes:
    parts = xlsx_parts()
    sheet = parts["xl/worksheets/sheet1.xml"]
    sheets, rels, types = [], [], []
    for i in range(2, count + 2):
        parts[f"xl/worksheets/sheet{i}.xml"] = sheet
        sheets.append(f'<sheet xmlns:r="{REL_NS}" name="S{i}" sheetId="{i}" r:id="rX{i}"/>')
        rels.append(f'<Relationship Type="{REL_NS}/worksheet" '
                    f'Target="/xl/worksheets/sheet{i}.xml" Id="rX{i}"/>')
        types.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                     'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>", "".join(sheets).encode() + b"</sheets>")
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>", "".join(rels).encode() + b"</Relationships>")
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>", "".join(types).encode() + b"</Types>")
    return rezip(parts)


def many_entries(count: int) -> bytes:
    parts = xlsx_parts()
    parts.update({f"junk/{i}.bin": b"" for i in range(count)})
    return rezip(parts)


def in_part(name: str, xml: str) -> bytes:
    parts = xlsx_parts()
    parts[name] = xml.encode()
    return rezip(parts)


def deep_sheet(depth: int) -> bytes:
    return with_sheet(valid_rows() + '<row r="6"><c r="A6" t="inlineStr"><is>'
                      + "<r>" * depth + "</r>" * depth + "</is></c></row>")


def doctype_in_sheet(doctype: str, cell: str) -> bytes:
    parts = xlsx_parts()
    head, rows, tail = sheet_pieces(parts)
    rows = rows.replace("<t>P1</t>", f"<t>{cell}</t>", 1)
    parts["xl/worksheets/sheet1.xml"] = (
        '<?xml version="1.0"?>' + doctype + no_dimension(head) + rows + tail).encode()
    return rezip(parts)


BILLION_LAUGHS = ('<!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
                  + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                            for i in range(9)) + "]>")


def lying_zip_size(real: int) -> bytes:
    """A sheet part whose zip directory claims 1,000 bytes for `real` bytes of XML."""
    raw = with_sheet(valid_rows() + "<!--" + "x" * real + "-->")
    out = bytearray(raw)
    name = b"xl/worksheets/sheet1.xml"
    for sig, size_at in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            name_len = struct.unpack_from("<H", out, i + (28 if sig == b"PK\x01\x02" else 26))[0]
            name_at = i + (46 if sig == b"PK\x01\x02" else 30)
            if bytes(out[name_at:name_at + name_len]) == name:
                struct.pack_into("<I", out, i + size_at, 1000)
            start = i + 4
    return bytes(out)


def duplicate_sheet_entry() -> bytes:
    """Two zip entries named xl/worksheets/sheet1.xml: a small one, then 20,000 rows (a reader
    takes the last; a check that reads only the first is fooled)."""
    parts = xlsx_parts()
    out = io.BytesIO()
    head, _, tail = sheet_pieces(parts)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name"
            z.writestr("xl/worksheets/sheet1.xml",
                       no_dimension(head) + repeated_rows(20_000, "<row/>") + tail)
    return out.getvalue()


def encrypted_flag() -> bytes:
    """The sheet's entries marked encrypted (general-purpose flag bit 0)."""
    out = bytearray(rezip(xlsx_parts()))
    for sig, flag_at in ((b"PK\x01\x02", 8), (b"PK\x03\x04", 6)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            out[i + flag_at] |= 1
            start = i + 4
    return bytes(out)


def utf16_sheet() -> bytes:
    parts = xlsx_parts()
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = ('<?xml version="1.0" encoding="UTF-16"?>' + xml).encode(
        "utf-16")
    return rezip(parts)


def xlsx_cases() -> list[Upload]:
    x = "xlsx"
    rows_limit = ("rows", "10,000")
    return [
        Upload(x, "far-cell-no-dimension.xlsx", lambda: far_cell(), needles=("1,048,576",)),
        Upload(x, "far-cell-row-10002.xlsx", lambda: far_cell("A10002"), needles=("10,002",)),
        Upload(x, "far-column.xlsx", lambda: far_cell("XFD3"), needles=("column",)),
        Upload(x, "far-column-AY.xlsx", lambda: far_cell("AY3"), needles=("column",)),
        Upload(x, "namespaced-950k-rows.xlsx", lambda: namespaced(950_000), needles=rows_limit),
        Upload(x, "namespaced-valid.xlsx", lambda: namespaced(3), "accept", patients=3),
        Upload(x, "row-newline.xlsx", lambda: row_whitespace(200_000, "\n"), needles=rows_limit),
        Upload(x, "row-tab.xlsx", lambda: row_whitespace(200_000, "\t"), needles=rows_limit),
        Upload(x, "row-newline-valid.xlsx", lambda: row_whitespace(5, "\n"), "accept",
               patients=5),
        Upload(x, "part-Sheet1.xlsx", lambda: renamed_sheet("xl/worksheets/Sheet1.xml", 200_000),
               needles=rows_limit),
        Upload(x, "part-elsewhere.xlsx", lambda: renamed_sheet("xl/data/table.xml", 200_000),
               needles=rows_limit),
        Upload(x, "part-elsewhere-valid.xlsx", lambda: renamed_sheet("xl/data/t.xml", 6),
               "accept", patients=6),
        Upload(x, "rows-10001.xlsx", lambda: with_sheet(repeated_rows(10_001)),
               needles=rows_limit),
        Upload(x, "rows-10000.xlsx", lambda: with_sheet(valid_rows(frame(10_000))), "accept",
               patients=10_000),
        Upload(x, "cells-one-row-200k.xlsx", lambda: cells_in_one_row(200_000, False),
               needles=("cells",)),
        Upload(x, "cells-one-row-refs.xlsx", lambda: cells_in_one_row(5_000, True),
               needles=("column",)),
        Upload(x, "shared-strings-1.5M.xlsx",
               lambda: with_shared_strings("<sst xmlns=\"" + MAIN_NS + "\">"
                                           + "<si><t>a</t></si>" * 1_500_000 + "</sst>"),
               needles=("shared strings", "200,000")),
        Upload(x, "shared-string-20MB.xlsx",
               lambda: with_shared_strings(f'<sst xmlns="{MAIN_NS}"><si><t>'
                                           + "y" * 20_000_000 + "</t></si></sst>"),
               needles=("characters",)),
        Upload(x, "shared-strings-valid.xlsx",
               lambda: with_shared_strings(f'<sst xmlns="{MAIN_NS}"><si><t>a note</t></si>'
                                           "</sst>"), "accept", patients=4),
        Upload(x, "styles-1M-xf.xlsx", lambda: styles_bomb(1_000_000), needles=("elements",)),
        Upload(x, "sheets-2000.xlsx", lambda: many_sheets(2_000), needles=("parts",)),
        Upload(x, "zip-entries-20000.xlsx", lambda: many_entries(20_000), needles=("parts",)),
        Upload(x, "deep-nesting.xlsx", lambda: deep_sheet(100_000), needles=("nested",)),
        Upload(x, "billion-laughs.xlsx",
               lambda: doctype_in_sheet(BILLION_LAUGHS, "&j;"), needles=("DTD",)),
        Upload(x, "external-entity.xlsx",
               lambda: doctype_in_sheet('<!DOCTYPE worksheet [<!ENTITY e SYSTEM '
                                        '"file:///etc/passwd">]>', "&e;"), needles=("DTD",)),
        Upload(x, "doctype-in-styles.xlsx",
               lambda: in_part("xl/styles.xml", '<?xml version="1.0"?>' + BILLION_LAUGHS
                               + f'<styleSheet xmlns="{MAIN_NS}"/>'), needles=("DTD",)),
        Upload(x, "comments-2M.xlsx",
               lambda: with_sheet(valid_rows() + "<!---->" * 2_000_000), needles=("elements",)),
        Upload(x, "zip-size-lies.xlsx", lambda: lying_zip_size(29_000_000),
               needles=("could not be read",)),
        Upload(x, "deflate-30MB-whitespace.xlsx",
               lambda: with_sheet(valid_rows() + " " * 31_000_000),
               needles=("uncompressed size",)),
        Upload(x, "stored-not-deflated.xlsx", lambda: rezip(xlsx_parts(), zipfile.ZIP_STORED),
               "accept", patients=4),
        Upload(x, "utf16-sheet.xlsx", utf16_sheet, "accept", patients=4),
        Upload(x, "huge-attribute.xlsx",
               lambda: with_sheet(valid_rows().replace('<row r="2"', '<row r="2" x="'
                                                       + "z" * 20_000_000 + '"', 1)),
               needles=("characters",)),
        Upload(x, "lzma-29MB-whitespace.xlsx",
               lambda: with_sheet(valid_rows() + " " * 29_000_000, method=zipfile.ZIP_LZMA),
               needles=("compressed in a way Excel never writes",)),
        Upload(x, "bzip2.xlsx", lambda: rezip(xlsx_parts(), zipfile.ZIP_BZIP2),
               needles=("zip method 12",)),
        Upload(x, "duplicate-entry.xlsx", duplicate_sheet_entry, needles=("rows",)),
        Upload(x, "encrypted-entry.xlsx", encrypted_flag, needles=("could not be read",)),
        Upload(x, "cells-50-columns-5000-rows.xlsx",
               lambda: with_sheet(valid_rows() + "".join(
                   f'<row r="{r}">' + '<c t="inlineStr"><is><t>x</t></is></c>' * 50 + "</row>"
                   for r in range(6, 5_006))), needles=("cells", "200,000")),
        Upload(x, "not-a-zip.xlsx", lambda: b"PK\x03\x04" + b"\x00" * 400,
               needles=("could not be read",)),
        Upload(x, "empty-zip.xlsx", lambda: rezip({}), needles=("could not be read",)),
    ]


# ------------------------------------------------------------------------------ Parquet


def to_parquet(table_or_frame: object, **kwargs: object) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = (table_or_frame if isinstance(table_or_frame, pa.Table)
             else pa.Table.from_pandas(table_or_frame, preserve_index=False))
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **kwargs)
    return buffer.getvalue()


def dictionary_bomb(value_bytes: int, rows: int = 10_000, distinct: int = 1) -> bytes:
    """Every row's note is one of `distinct` values of `value_bytes` bytes: a tiny dictionary
    page and run-length-encoded indices that decode to rows x value_bytes."""
    import numpy as np
    import pyarrow as pa

    values = pa.array([("n" * value_bytes)[:-6] + f"{i:06d}" for i in range(distinct)])
    notes = pa.DictionaryArray.from_arrays(pa.array(np.arange(rows) % distinct, pa.int32()),
                                           values)  # written as it is: never expanded here
    table = pa.Table.from_pandas(frame(rows), preserve_index=False)
    return to_parquet(table.append_column("note", notes), store_schema=False,
                      compression="zstd")


def patch_varints(raw: bytes, old: int, new: int) -> bytes:
    """Replace every zigzag varint `old` in the footer by `new`, padded to the same length."""

    def varint(n: int, length: int | None = None) -> bytes:
        z = n << 1  # zigzag of a non-negative number
        out = bytearray()
        while True:
            byte, z = z & 0x7F, z >> 7
            if z or (length and len(out) + 1 < length):
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
        return bytes(out)

    footer_len = struct.unpack("<I", raw[-8:-4])[0]
    start = len(raw) - 8 - footer_len
    footer = raw[start:-8]
    target = varint(old)
    patched = footer.replace(target, varint(new, len(target)))
    assert patched != footer, "value not found in the footer"
    return raw[:start] + patched + raw[-8:]


def lying_footer() -> bytes:
    """One 60 MB note compressed by zstd to kilobytes; the footer claims ~1 kB per size."""
    import pyarrow.parquet as pq

    df = frame(4)
    df["note"] = ["z" * 60_000_000, "", "", ""]
    raw = to_parquet(df, compression="zstd", use_dictionary=False, store_schema=False,
                     write_statistics=False)
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    rg = meta.row_group(0)
    col = next(rg.column(j) for j in range(rg.num_columns)
               if rg.column(j).path_in_schema == "note")
    for value in {rg.total_byte_size, col.total_uncompressed_size}:
        raw = patch_varints(raw, value, 1_000)
    return raw


def lying_dictionary_footer() -> bytes:
    """3,000 distinct 10 kB notes: a 30 MB dictionary page that zstd stores in kilobytes; the
    footer claims about a kilobyte for it."""
    import pyarrow.parquet as pq

    raw = dictionary_bomb(10_000, rows=3_000, distinct=3_000)
    meta = pq.ParquetFile(io.BytesIO(raw)).metadata
    rg = meta.row_group(0)
    col = next(rg.column(j) for j in range(rg.num_columns)
               if rg.column(j).path_in_schema == "note")
    for value in {rg.total_byte_size, col.total_uncompressed_size}:
        raw = patch_varints(raw, value, 1_000)
    return raw


def nested_list(rows: int, per_row: int) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame(rows), preserve_index=False)
    notes = pa.array([["n"] * per_row] * rows, type=pa.list_(pa.string()))
    return to_parquet(table.append_column("note", notes))


def struct_column() -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame(4), preserve_index=False)
    return to_parquet(table.append_column("note", pa.array([{"a": "x", "b": 1}] * 4)))


def many_row_groups(rows: int) -> bytes:
    return to_parquet(frame(rows), row_group_size=1)


def metadata_bomb(size: int) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame(4), preserve_index=False)
    return to_parquet(table.replace_schema_metadata({"junk": "j" * size}))


def fixed_size_binary(width: int) -> bytes:
    import pyarrow as pa

    table = pa.Table.from_pandas(frame(4), preserve_index=False)
    notes = pa.array([b"f" * width] * 4, type=pa.binary(width))
    return to_parquet(table.append_column("note", notes), compression="zstd")


def decimal_int96() -> bytes:
    """Valid types a Spark or R writer produces: 16-byte decimals, INT96 timestamps."""
    import decimal

    import pyarrow as pa

    table = pa.Table.from_pandas(typed_frame(), preserve_index=False)
    table = table.append_column("age", pa.array([decimal.Decimal("55.5")] * 4,
                                                pa.decimal128(20, 1)))
    table = table.append_column("note", pa.array([0, 1, 2, 3], pa.timestamp("ns")))
    return to_parquet(table, use_deprecated_int96_timestamps=True)


def typed_frame(rows: int = 4) -> pd.DataFrame:
    df = frame(rows)
    for col in ("best_pct_change", "pfs_time", "os_time"):
        df[col] = df[col].astype(float)
    for col in ("pfs_event", "os_event"):
        df[col] = df[col].astype(int)
    return df


def parquet_cases() -> list[Upload]:
    p = "parquet"
    return [
        Upload(p, "dictionary-100KB-value.parquet", lambda: dictionary_bomb(100_000),
               needles=("decoded",)),
        Upload(p, "dictionary-1MB-value.parquet", lambda: dictionary_bomb(1_000_000),
               needles=("decoded",)),
        Upload(p, "dictionary-3k-distinct-10KB.parquet",
               lambda: dictionary_bomb(10_000, distinct=3_000), needles=("uncompressed size",)),
        Upload(p, "dictionary-small-valid.parquet", lambda: dictionary_bomb(20), "accept",
               patients=10_000),
        Upload(p, "footer-lies-60MB-value.parquet", lying_footer, needles=("pages state",)),
        Upload(p, "footer-lies-dictionary-page.parquet", lying_dictionary_footer,
               needles=("pages state",)),
        Upload(p, "row-groups-200.parquet", lambda: to_parquet(frame(1_000), row_group_size=5),
               needles=("row groups",)),
        Upload(p, "row-groups-2000.parquet", lambda: many_row_groups(2_000),
               needles=("metadata",)),
        Upload(p, "row-groups-40.parquet", lambda: to_parquet(frame(400), row_group_size=10),
               "accept", patients=400),
        Upload(p, "nested-list.parquet", lambda: nested_list(1_000, 1_000), needles=("nested",)),
        Upload(p, "nested-struct.parquet", struct_column, needles=("nested",)),
        Upload(p, "metadata-2MB.parquet", lambda: metadata_bomb(2_000_000),
               needles=("metadata",)),
        Upload(p, "metadata-900KB.parquet", lambda: metadata_bomb(900_000),
               needles=("metadata",)),
        Upload(p, "metadata-300KB.parquet", lambda: metadata_bomb(300_000), "accept",
               patients=4),
        Upload(p, "fixed-binary-1MB-wide.parquet", lambda: fixed_size_binary(1_000_000),
               needles=("note",)),
        Upload(p, "columns-51.parquet",
               lambda: to_parquet(frame(4).assign(**{f"c{i}": "x" for i in range(38)})),
               needles=("columns",)),
        Upload(p, "pages-51000.parquet",
               lambda: to_parquet(frame(3_000), data_page_size=1, write_batch_size=1,
                                  use_dictionary=False), needles=("pages",)),
        Upload(p, "decimal-and-int96-valid.parquet", decimal_int96, "accept", patients=4),
        Upload(p, "typed-valid.parquet", lambda: to_parquet(typed_frame()), "accept",
               patients=4),
        Upload(p, "rows-10000.parquet", lambda: to_parquet(typed_frame(10_000)), "accept",
               patients=10_000),
        Upload(p, "rows-10001.parquet", lambda: to_parquet(typed_frame(10_001)),
               needles=("10,001",)),
        Upload(p, "truncated.parquet", lambda: to_parquet(frame())[:-20],
               needles=("could not be read",)),
        Upload(p, "garbage-pages.parquet",
               lambda: (lambda r: r[:4] + bytes(200) + r[204:])(to_parquet(frame())),
               needles=("could not be read",)),
    ]


# ------------------------------------------------------------------------------ CSV

CP1252_TEXT = "anlotinib–sintilimab “PD-1” €"


def csv_text(df: pd.DataFrame | None = None) -> str:
    return (frame() if df is None else df).to_csv(index=False)


def with_regimen(text: str) -> pd.DataFrame:
    df = frame()
    df.loc[0, "regimen"] = text
    return df


def csv_cases() -> list[Upload]:
    c = "csv"
    big = "x" * 4_000_000
    return [
        Upload(c, "windows-1252.csv",
               lambda: csv_text(with_regimen(CP1252_TEXT)).encode("cp1252"), "accept",
               patients=4),
        Upload(c, "utf-8-bom.csv", lambda: b"\xef\xbb\xbf" + csv_text().encode(), "accept",
               patients=4),
        Upload(c, "utf-16-le-bom.csv", lambda: csv_text().encode("utf-16"), "accept",
               patients=4),
        Upload(c, "utf-16-be-bom.csv", lambda: b"\xfe\xff" + csv_text().encode("utf-16-be"),
               "accept", patients=4),
        Upload(c, "utf-16-no-bom.csv", lambda: csv_text().encode("utf-16-le"),
               needles=("UTF-16",)),
        Upload(c, "nul-after-4KB.csv", lambda: csv_text(frame(60)).replace(
            "P55,", "P55\x00X,").encode(), needles=("line 56", "NUL")),
        Upload(c, "cr-only-line-ends.csv", lambda: csv_text().replace("\n", "\r").encode(),
               "accept", patients=4),
        Upload(c, "mixed-line-ends.csv",
               lambda: "\r\n".join(csv_text().split("\n", 2)[:2]).encode() + b"\r"
               + csv_text().split("\n", 2)[2].encode(), "accept", patients=4),
        Upload(c, "quoted-4MB-field.csv",
               lambda: csv_text(with_regimen("\n".join([big[:1_000]] * 4_000))).encode(),
               needles=("limit of 1,000",)),
        Upload(c, "one-5MB-line.csv", lambda: b"," * 4_900_000, needles=("characters",)),
        Upload(c, "unclosed-quote.csv",
               lambda: (csv_text() + '"P5,ASPS,' + big[:3_000_000]).encode(),
               needles=("characters",)),
        Upload(c, "blank-lines-5MB.csv",
               lambda: csv_text().encode() + b"\n" * 4_800_000, "accept", patients=4),
        Upload(c, "rows-10001.csv", lambda: csv_text(frame(10_001)).encode(),
               needles=("10,001",)),
        Upload(c, "rows-10000.csv", lambda: csv_text(frame(10_000)).encode(), "accept",
               patients=10_000),
        Upload(c, "separators-in-cells.csv",
               lambda: csv_text(with_regimen("a\x1cb\x1dc\x1e\x85\u2028d")).encode(), "accept",
               patients=4),
        Upload(c, "utf-32-bom.csv", lambda: csv_text().encode("utf-32"), "accept", patients=4),
        Upload(c, "latin-1-undefined-in-1252.csv",
               lambda: csv_text(with_regimen("a\x81b")).encode("latin-1"), "accept",
               patients=4),
        Upload(c, "bom-only.csv", lambda: b"\xef\xbb\xbf", needles=("empty",)),
        Upload(c, "columns-51.csv",
               lambda: csv_text(frame().assign(**{f"c{i}": "" for i in range(38)})).encode(),
               needles=("columns",)),
    ]


def every_case() -> list[Upload]:
    return xlsx_cases() + parquet_cases() + csv_cases()
