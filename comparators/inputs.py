"""The one boundary where raw values become numbers, codes and text.

Every entry point reads values through these functions: the catalog and extra rows, the what-if
editor, IPD uploads (CSV, .xlsx, Parquet), Kaplan-Meier files, digitised curves and risk tables,
CLI files and arguments, and URL values. So a value gets the same verdict wherever it is typed.

Numbers (``parse_number``; ``parse_count`` adds "whole, not negative"; ``parse_event`` "0 or 1";
``parse_level`` "a confidence level"). One locale rule: a comma is read as a decimal mark only
where it cannot be a thousands separator, and a thousands separator is never read at all::

    raw value                        parse_number      parse_count   rule
    "12", " 12 ", "+12", 12          12.0              12            space around is ignored
    "4.0", 4.0, numpy.float64(4)     4.0               4             whole, written as a float
    "4.5" / "4."                     4.5 / 4.0         refused / 4   a count is whole
    "1e3", "1E+03"                   1000.0            1000          scientific notation (R)
    "3,5", "-45,5", "11,30"          3.5, -45.5, 11.3  refused       decimal comma: one comma,
                                                                     not followed by 3 digits
    "1,500", "0,125", "1,000,000"    refused           refused       ambiguous: 1500 or 1.5?
    "1.500,5", "1,500.5"             refused           refused       two kinds of separator
    "1_0", "1 000", "1'000"          refused           refused       Python reads "1_0" as 10
    "0x1A", "١٢", "１２", "−4"       refused           refused       ASCII 0-9 + - . e only
    "inf", "-Infinity", "1e999"      refused           refused       not finite
    "", "NA", "N/A", "NaN", "null",  missing           missing       refused where a value is
      "none", None, NaN, pandas.NA                                   required, else None
    True, False, numpy.True_         refused           refused       a flag is not a number
    "-3"                             -3.0              refused       counts are not negative
    10**20; a 400-digit text         1e20; refused     refused       counts stop at 2**53 (exact
                                                                     in a float); text over 64
                                                                     characters is not a number

``parse_event`` accepts what ``parse_number`` reads as exactly 0 or 1 ("1", "1.0", "0,0", 1.0) and
refuses everything else, booleans included: the formats document 1 = event, 0 = censored.
``parse_level`` accepts 0.5 <= level <= 0.999 everywhere (see ``LEVEL_RANGE``).
``parse_date`` accepts an ISO date YYYY-MM-DD that is a real day, and with ``partial`` also
YYYY-MM and YYYY (data cuts); the catalog, its version files and the search log read dates so.

Errors are ``ValueRefused`` (an ``InputError``) unless the caller names its own ``InputError``
subclass; either way the message names where the value was (row and column when given), the
value as written and the rule it broke, and the exception carries them as ``row``, ``column``,
``value`` and ``rule``.

Pure standard library at import, like ``comparators.limits``: the CLI imports it first.
"""

from __future__ import annotations

import datetime
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, NoReturn, TypedDict

from comparators.errors import InputError
from comparators.limits import LEVEL_RANGE, MAX_EXACT_COUNT, MAX_NUMBER_CHARS, MAX_TEXT_CHARS

#: Cell texts that mean "no value" (compared case-insensitively): what R, pandas, Excel and
#: hand-typed files write for an empty cell.
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none"})


class ValueRefused(InputError):
    """A raw value that cannot be used; carries where it was, the value, and the rule broken."""

    row: int | None = None
    column: str | None = None
    value: object = None
    rule: str = ""


class _At(TypedDict):
    """Where a value was, and the error type to raise: passed on to `refuse`."""

    row: int | None
    column: str | None
    where: str | None
    error: type[InputError]


def refuse(reason: str, *, value: object, rule: str, row: int | None = None,
           column: str | None = None, where: str | None = None,
           error: type[InputError] = ValueRefused) -> NoReturn:
    """Raise `error` with the one message shape: '<where>: <reason>'.

    `where` defaults to "row R, column 'C'" (either part only if given); a caller with its own
    way of naming places (a file and line, "Row 2 (ASPS)") passes `where` instead.
    """
    place = where if where is not None else location(row, column)
    exc = error(f"{place}: {reason}" if place else reason)
    exc.row, exc.column, exc.value, exc.rule = row, column, value, rule  # type: ignore[attr-defined]
    raise exc


def location(row: int | None = None, column: str | None = None) -> str:
    """'row 4, column 'pfs_time'' — rows are 1-based data rows (the header is not a row)."""
    parts = ([] if row is None else [f"row {row}"]) + ([] if column is None else
                                                        [f"column {column!r}"])
    return ", ".join(parts)


def is_missing(raw: object, *, markers: bool = True) -> bool:
    """True for None, NaN, pandas' NA/NaT, blank text and (where a number is expected,
    `markers`) the missing-marker texts "NA", "N/A", "NaN", "null", "none"."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip().lower() in MISSING_MARKERS if markers else not raw.strip()
    if isinstance(raw, float):
        return math.isnan(raw)
    if isinstance(raw, bool | int) or not isinstance(raw, numbers.Number):
        return type(raw).__name__ in ("NAType", "NaTType")  # pandas.NA, pandas.NaT
    return bool(raw != raw)  # noqa: PLR0124  (a NaN of another float type: numpy.float32)


# An optional sign, ASCII digits, at most one point, an optional exponent.
_PLAIN = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# One decimal comma between digits; "exactly three digits after it" is tested separately.
_DECIMAL_COMMA = re.compile(r"([+-]?\d+),(\d+)", re.ASCII)


def _number_text(text: str) -> str | None:
    """The text in Python's float syntax, or None with the reason left to the caller."""
    if _PLAIN.fullmatch(text):
        return text
    comma = _DECIMAL_COMMA.fullmatch(text)
    if comma and len(comma.group(2)) != 3:
        return f"{comma.group(1)}.{comma.group(2)}"
    return None


def _why_not_a_number(text: str, what: str) -> tuple[str, str]:
    """(reason, rule) for a text that is not a number under the one rule."""
    if "," in text and "." in text:
        return (f"{text!r} mixes a comma and a point; write the number without a thousands "
                "separator, with a point for decimals", "two kinds of separator")
    if re.fullmatch(r"[+-]?\d+(?:,\d{3})+", text, re.ASCII):
        whole = text.replace(",", "")
        return (f"{text!r} is ambiguous: the comma may separate thousands ({whole}) or mark "
                f"decimals ({text.replace(',', '.', 1)}); write the number without a thousands "
                "separator, with a point for decimals", "ambiguous thousands separator")
    return f"expected {what}, got {text!r}", "not a number"


def parse_number(raw: object, *, row: int | None = None, column: str | None = None,
                 where: str | None = None, required: bool = True,
                 error: type[InputError] = ValueRefused, what: str = "a number") -> float | None:
    """A finite float from a cell, an argument or a URL value (the rules are in the module's
    docstring). Missing values give None when not `required`, else a refusal."""
    at: _At = {"row": row, "column": column, "where": where, "error": error}
    if _is_flag(raw):
        refuse(f"expected {what}, got {raw!r}", value=raw, rule="a flag is not a number", **at)
    if is_missing(raw):
        if not required:
            return None
        refuse(f"value is missing (expected {what})", value=raw, rule="missing", **at)
    if isinstance(raw, str):
        text = raw.strip()
        if len(text) > MAX_NUMBER_CHARS:
            refuse(f"{text[:20]!r}... ({len(text):,} characters) is too long to be a number",
                   value=raw, rule="too long", **at)
        plain = _number_text(text)
        if plain is None:
            if text.lower().lstrip("+-") in ("inf", "infinity"):
                refuse(f"value is infinite ({text!r}); expected a finite number", value=raw,
                       rule="not finite", **at)
            reason, rule = _why_not_a_number(text, what)
            refuse(reason, value=raw, rule=rule, **at)
        number = float(plain)
    elif isinstance(raw, numbers.Real):
        try:
            number = float(raw)
        except OverflowError:  # an int beyond 1e308
            refuse(f"{raw!r} is too large", value=raw, rule="not finite", **at)
    else:
        refuse(f"expected {what}, got {raw!r}", value=raw, rule="not a number", **at)
    if not math.isfinite(number):
        refuse(f"value is infinite ({raw!r}); expected a finite number", value=raw,
               rule="not finite", **at)
    return number + 0.0  # -0.0 -> 0.0


def parse_count(raw: object, *, row: int | None = None, column: str | None = None,
                where: str | None = None, required: bool = True,
                maximum: int = MAX_EXACT_COUNT, error: type[InputError] = ValueRefused
                ) -> int | None:
    """A whole number >= 0 (at most `maximum`) from a cell, an argument or a URL value."""
    at: _At = {"row": row, "column": column, "where": where, "error": error}
    if isinstance(raw, numbers.Integral) and not _is_flag(raw):
        value = int(raw)  # exact: no detour through float for a large int
    else:
        number = parse_number(raw, required=required, what="a whole number", **at)
        if number is None:
            return None
        if not number.is_integer():
            refuse(f"{_shown(raw)} is not a whole number", value=raw, rule="not whole", **at)
        value = int(number)
    if value < 0:
        refuse(f"{value:,} is negative; counts must not be negative", value=raw,
               rule="negative", **at)
    if value > maximum:
        refuse(f"{value:,} is more than the limit of {maximum:,}", value=raw, rule="too large",
               **at)
    return value


def parse_event(raw: object, *, row: int | None = None, column: str | None = None,
                where: str | None = None, error: type[InputError] = ValueRefused) -> int:
    """1 (event) or 0 (censored)."""
    at: _At = {"row": row, "column": column, "where": where, "error": error}
    if _is_flag(raw) or is_missing(raw):
        got = "an empty cell" if is_missing(raw) else repr(raw)
        refuse(f"expected 0 or 1, got {got}", value=raw, rule="event is 0 or 1", **at)
    try:
        number = parse_number(raw, **at)
    except InputError:
        refuse(f"expected 0 or 1, got {_shown(raw)}", value=raw, rule="event is 0 or 1", **at)
    if number not in (0.0, 1.0):
        refuse(f"expected 0 or 1, got {number:g}", value=raw, rule="event is 0 or 1", **at)
    return int(number)  # type: ignore[arg-type]


def check_open_fraction(value: object, *, what: str, error: type[InputError]) -> float:
    """A probability strictly between 0 and 1 given as a number (a model parameter, not text)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise error(f"{what} must be a number between 0 and 1, got {value!r}")
    if not 0 < value < 1:
        raise error(f"{what} must be strictly between 0 and 1, got {value!r}")
    return float(value)


def parse_level(raw: object, *, where: str | None = None, what: str = "level",
                error: type[InputError] = ValueRefused) -> float:
    """A confidence or credible level in LEVEL_RANGE (0.95, not 95 or 0.05)."""
    low, high = LEVEL_RANGE
    number = None if is_missing(raw) else parse_number(raw, where=where, error=error)
    if number is None or not low <= number <= high:
        hint = ("" if number is None else
                f"; {number:g} looks like a percentage, give {number / 100:g}"
                if 50 <= number < 100 else
                f"; {number:g} looks like alpha, the level is {1 - number:g}"
                if 0 < number <= 0.2 else "")
        refuse(f"{what} must be between {low:g} and {high:g} (e.g. 0.95), got {_shown(raw)}"
               f"{hint}", value=raw, rule="level range", where=where, error=error)
    return number


def parse_choice(raw: object, choices: Iterable[str] | Mapping[str, str], *, what: str,
                 row: int | None = None, column: str | None = None, where: str | None = None,
                 error: type[InputError] = ValueRefused) -> str:
    """The canonical code for `raw`, matched case-insensitively (subtype=lms -> LMS).

    `choices` lists the codes, or maps each accepted spelling to its code (aliases).
    """
    at: _At = {"row": row, "column": column, "where": where, "error": error}
    table = dict(choices) if isinstance(choices, Mapping) else {c: c for c in choices}
    by_key = {str(k).casefold(): v for k, v in table.items()}
    text = "" if is_missing(raw, markers=False) else str(raw)
    key = clean_text(text, max_chars=200, **at).casefold()
    if key in by_key:
        return by_key[key]
    valid = ", ".join(dict.fromkeys(table.values()))
    refuse(f"unknown {what} {clean_text(text, max_chars=200)!r} (known: {valid})", value=raw,
           rule="unknown code", **at)


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)


def parse_date(raw: object, *, partial: bool = False, what: str = "a date YYYY-MM-DD",
               row: int | None = None, column: str | None = None, where: str | None = None,
               error: type[InputError] = ValueRefused) -> str:
    """An ISO 8601 calendar date as written: YYYY-MM-DD, a real day (2021-02-30 is refused);
    with `partial` also YYYY-MM (month 01-12) and YYYY, as data cuts are often reported.
    Returned as the text (a partial date has no single day to become)."""
    at: _At = {"row": row, "column": column, "where": where, "error": error}
    text = "" if is_missing(raw, markers=False) else str(raw).strip()
    match = _DATE.fullmatch(text)
    ok = match is not None and (partial or match.group(3) is not None)
    if ok and match is not None and match.group(3) is not None:
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            ok = False
    elif ok and match is not None and match.group(2) is not None:
        ok = 1 <= int(match.group(2)) <= 12
    if not ok:
        refuse(f"{text!r} is not {what}", value=raw, rule="not a date", **at)
    return text


def is_date(raw: object, *, partial: bool = False) -> bool:
    """Whether `parse_date` accepts `raw`."""
    try:
        parse_date(raw, partial=partial)
    except ValueRefused:
        return False
    return True


#: Characters no text value keeps and no native renderer receives (reports/export.py): C0
#: controls except tab, line feed and carriage return; DEL and the C1 controls; lone surrogates;
#: non-characters (U+FDD0-U+FDEF and U+xFFFE/U+xFFFF of every plane: XML forbids them and the
#: PNG/SVG renderer aborts the process on them); and the bidirectional embeddings, overrides
#: and isolates that make text display in another order than it is stored.
_NONCHARACTERS = "".join(chr(plane * 0x10000 + low) for plane in range(17)
                         for low in (0xFFFE, 0xFFFF))
UNSAFE_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef"
                               "\u202a-\u202e\u2066-\u2069" + _NONCHARACTERS + "]")
_LINE_BREAKS = re.compile("[\t\n\r]+")
_UNSAFE_OR_BREAK = re.compile(UNSAFE_CHARACTERS.pattern[:-1] + "\t\n\r]")


def clean_text(raw: object, *, max_chars: int = MAX_TEXT_CHARS, one_line: bool = True,
               row: int | None = None, column: str | None = None, where: str | None = None,
               error: type[InputError] = ValueRefused) -> str:
    """User text made safe to show, store and render: NFC-normalised, without control or
    non-characters or bidirectional overrides (removed), tabs and line breaks turned into
    spaces when `one_line`, trimmed; longer than `max_chars` is refused, never cut."""
    text = "" if raw is None else raw if isinstance(raw, str) else str(raw)
    if len(text) > 4 * max_chars + 64:  # refuse before normalising a huge value
        _too_long(text, max_chars, row=row, column=column, where=where, error=error)
    if not (text.isascii() and text.isprintable()):
        text = unicodedata.normalize("NFC", UNSAFE_CHARACTERS.sub("", text))
        if one_line:
            text = _LINE_BREAKS.sub(" ", text)
    text = text.strip()
    if len(text) > max_chars:
        _too_long(text, max_chars, row=row, column=column, where=where, error=error)
    return text


def _too_long(text: str, max_chars: int, **at: Any) -> NoReturn:  # at: the _At keys
    refuse(f"the text is {len(text):,} characters long, more than the limit of {max_chars:,}; "
           "shorten it", value=text[:40], rule="too long", **at)


def check_header(names: Iterable[object], *, where: str = "header",
                 error: type[InputError] = ValueRefused) -> list[str]:
    """Column names cleaned (``clean_text``), refused when two are the same after cleaning and
    ignoring case ("n,n" or "Study, study"): a reader would silently keep one of them."""
    cleaned = [clean_text(name, max_chars=200, where=where, error=error) for name in names]
    first: dict[str, int] = {}
    for i, name in enumerate(cleaned):
        key = name.casefold()
        if key in first:
            j = first[key]
            case = "" if cleaned[j] == name else f" ({cleaned[j]!r} and {name!r} differ in case)"
            refuse(f"duplicated column name {name!r} (columns {j + 1} and {i + 1}){case}; each "
                   "column may appear once", value=name, rule="duplicate column", where=where,
                   error=error)
        first[key] = i
    return cleaned


def printable(text: str, *, keep_newlines: bool = True) -> str:
    """`text` for a terminal: every character ``clean_text`` would remove (and tabs and line
    breaks unless `keep_newlines`) shown as a visible escape (\\x1b, \\u202e) instead of acting
    on the terminal."""
    if text.isascii() and text.isprintable():
        return text

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
            else f"\\U{code:08x}"

    return (UNSAFE_CHARACTERS if keep_newlines else _UNSAFE_OR_BREAK).sub(escape, text)


def _is_flag(raw: object) -> bool:
    """True for Python's and numpy's booleans (numpy's are not a subclass of bool)."""
    return isinstance(raw, bool) or (type(raw).__module__ == "numpy"
                                     and type(raw).__name__ in ("bool", "bool_"))


def _shown(raw: object) -> str:
    """A raw value as a message shows it: text quoted, a number as written."""
    if isinstance(raw, str):
        text = raw.strip()
        return repr(text) if len(text) <= 40 else f"{text[:40]!r}..."
    if isinstance(raw, float) and raw.is_integer():
        return f"{raw:g}"
    return repr(raw) if not isinstance(raw, numbers.Real) else f"{raw}"
