"""Declarative column specifications shared by the row validators.

The catalog (and rows a user adds in its shape), IPD uploads and what-if scenarios each describe
their columns as a tuple of :class:`Column`: the name, the kind of value (read by the one parser
for that kind in :mod:`comparators.inputs`), whether a value is required, the bounds (from
:mod:`comparators.limits`) and the wording of the messages that are the validator's own. What
needs more than one cell - responders within evaluable, a PFS interval around its median, no
duplicate key - is a small named check in the validator's module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from comparators.errors import InputError
from comparators.inputs import (
    MAX_EXACT_COUNT,
    MAX_TEXT_CHARS,
    ValueRefused,
    clean_text,
    is_missing,
    parse_choice,
    parse_count,
    parse_date,
    parse_event,
    parse_number,
    refuse,
)

__all__ = ["Column", "ColumnKind", "collect", "responders_within_evaluable"]

#: text: cleaned text; count: a whole number >= 0; number: a finite number; choice: a code of
#: `choices`; event: 0 or 1; date: an ISO date (YYYY-MM-DD, or YYYY-MM / YYYY when `partial`).
ColumnKind = Literal["text", "count", "number", "choice", "event", "date"]


@dataclass(frozen=True)
class Column:
    """One column of a row shape: how its cells are read and what a refusal says.

    ``if_empty`` is the message for an empty cell of a required text column (other kinds use
    their parser's wording); ``out_of_range`` the message for a number outside [low, high],
    formatted with ``value``, ``low`` and ``high``. ``choices`` are the codes of a choice column
    (or, for a date, the words accepted besides a date, such as "final"); ``what`` names the
    kind of value in the parser's messages.
    """

    name: str
    kind: ColumnKind = "text"
    required: bool = False
    if_empty: str = "required value is empty"
    choices: tuple[str, ...] = ()
    what: str = ""
    maximum: int = MAX_EXACT_COUNT
    low: float | None = None
    high: float | None = None
    out_of_range: str = ""
    max_chars: int = MAX_TEXT_CHARS
    partial: bool = False

    @property
    def is_text(self) -> bool:
        """Read as text first (text, choice and date columns), numbers as numbers."""
        return self.kind in ("text", "choice", "date")

    def text(self, raw: object, *, where: str | None = None, row: int | None = None,
             error: type[InputError] = ValueRefused) -> str | None:
        """The cell as cleaned text (None when empty)."""
        if is_missing(raw, markers=False):
            return None
        return clean_text(raw, max_chars=self.max_chars, **self._at(where, row, error)) or None

    def read(self, raw: object, *, where: str | None = None, row: int | None = None,
             error: type[InputError] = ValueRefused,
             choices: Iterable[str] | Mapping[str, str] | None = None) -> Any:
        """The cell through the one parser for this column's kind, bounds checked.

        None for an empty optional cell; `choices` overrides the column's own (a vocabulary
        known only at run time, such as the subtype codes)."""
        at = self._at(where, row, error)
        if self.kind == "text":
            value = self.text(raw, where=where, row=row, error=error)
            if value is None and self.required:
                refuse(self.if_empty, value=raw, rule="missing", **at)
            return value
        if self.kind == "choice":
            if not self.required and is_missing(raw, markers=False):
                return None
            return parse_choice(raw, self.choices if choices is None else choices,
                                what=self.what, **at)
        if self.kind == "date":
            text = self.text(raw, where=where, row=row, error=error)
            return None if text is None and not self.required else self.code(
                text or "", where=where, row=row, error=error)
        if self.kind == "event":
            return parse_event(raw, **at)
        if self.kind == "count":
            return parse_count(raw, required=self.required, maximum=self.maximum, **at)
        number = parse_number(raw, required=self.required, **at)
        if number is not None:
            self.check_range(number, at)
        return number

    def code(self, text: str, *, where: str | None = None, row: int | None = None,
             error: type[InputError] = ValueRefused,
             choices: Iterable[str] | Mapping[str, str] | None = None) -> str:
        """A filled cell of a choice or date column as its code (choice: the vocabulary's
        spelling; date: the date as written, or one of the words in `choices`)."""
        at = self._at(where, row, error)
        if self.kind == "date":
            if text in self.choices:  # written exactly as the format has it
                return text
            return parse_date(text, partial=self.partial, what=self.what, **at)
        return parse_choice(text, self.choices if choices is None else choices, what=self.what,
                            **at)

    def check_range(self, value: float, at: Mapping[str, Any]) -> None:
        """Refuse a number outside [low, high] with this column's `out_of_range` message."""
        if (self.low is not None and value < self.low) or (
                self.high is not None and value > self.high):
            refuse(self.out_of_range.format(value=value, low=self.low, high=self.high),
                   value=value, rule="out of range", **at)

    def _at(self, where: str | None, row: int | None,
            error: type[InputError]) -> dict[str, Any]:
        if where is not None:
            return {"where": where, "error": error}
        return {"row": row, "column": self.name, "error": error}


def collect(read: Callable[..., Any], value: Any, where: str, problems: list[str],
            error: type[InputError], **kwargs: Any) -> Any:
    """`read(value, where=where, error=error)`; a refusal becomes one line of `problems` (and
    None), for validators that report every problem rather than the first."""
    try:
        return read(value, where=where, error=error, **kwargs)
    except error as exc:
        problems.append(str(exc))
        return None


def responders_within_evaluable(responders: int | None, evaluable: int | None) -> str | None:
    """The one rule every row shape shares: responders cannot exceed the evaluable patients."""
    if responders is not None and evaluable is not None and responders > evaluable:
        return f"{responders} responders exceed {evaluable} evaluable"
    return None
