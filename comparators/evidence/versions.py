"""The catalog's version, literature-check date and version history (``data/catalog.json`` and
``data/catalog_history.csv``).

Standard library only: the entry point reads the history to tell a user what changed since the
catalog version a link was made with, and must not pay for pandas to do it.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from comparators.errors import InputError
from comparators.inputs import is_date

__all__ = [
    "CATALOG_HISTORY_FILE",
    "CATALOG_INFO_FILE",
    "CatalogInfo",
    "CatalogRelease",
    "CatalogVersionError",
    "load_catalog_info",
    "parse_version",
]

CATALOG_INFO_FILE = "catalog.json"
CATALOG_HISTORY_FILE = "catalog_history.csv"
HISTORY_COLUMNS: tuple[str, ...] = ("version", "date", "summary")
_SEMVER_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


class CatalogVersionError(InputError):
    """``catalog.json`` or ``catalog_history.csv`` breaks its rules (the message names the file,
    the row or key and what is wrong). Raised as CatalogError by evidence.catalog."""


def parse_version(text: object) -> tuple[int, int, int] | None:
    """'3.0.0' -> (3, 0, 0); None for anything that is not MAJOR.MINOR.PATCH."""
    match = _SEMVER_RE.match(str(text).strip()) if isinstance(text, str) else None
    if match is None:
        return None
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


@dataclass(frozen=True)
class CatalogRelease:
    """One row of the version history: what a catalog version added or corrected."""

    version: str
    date: str
    summary: str

    @property
    def key(self) -> tuple[int, int, int]:
        parsed = parse_version(self.version)
        assert parsed is not None  # checked when the history was read
        return parsed

    def to_dict(self) -> dict[str, str]:
        return {"version": self.version, "date": self.date, "summary": self.summary}


@dataclass(frozen=True)
class CatalogInfo:
    """``data/catalog.json`` and the version history: the catalog's version and when the
    literature was last checked (every export prints both), and what each version changed."""

    catalog_version: str
    literature_last_checked: str
    history: tuple[CatalogRelease, ...] = ()

    def to_dict(self) -> dict[str, str]:
        return {"catalog_version": self.catalog_version,
                "literature_last_checked": self.literature_last_checked}

    def stamp(self) -> str:
        """'catalog 3.0.0, literature last checked 2026-12-06' for every export."""
        return (f"catalog {self.catalog_version}, literature last checked "
                f"{self.literature_last_checked}")

    def changes_since(self, version: str) -> tuple[CatalogRelease, ...]:
        """The releases newer than `version`, oldest first; () for this or a newer version.

        Raises ValueError for a value that is not a version (callers check with parse_version).
        """
        since = parse_version(version)
        if since is None:
            raise ValueError(f"{version!r} is not a catalog version")
        return tuple(r for r in self.history if r.key > since)




def _read_info(directory: Path) -> tuple[str, str]:
    name = CATALOG_INFO_FILE
    path = directory / name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CatalogVersionError(f"{name}: file not found in {directory}") from exc
    except UnicodeDecodeError as exc:
        raise CatalogVersionError(f"{name}: not UTF-8 text ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise CatalogVersionError(f"{name}: unreadable JSON (line {exc.lineno}: {exc.msg})") \
            from exc
    if not isinstance(raw, dict):
        raise CatalogVersionError(f"{name}: expected a JSON object with 'catalog_version' and "
                                  "'literature_last_checked'")
    problems = []
    version = raw.get("catalog_version")
    if parse_version(version) is None:
        problems.append(f"{name}, key 'catalog_version': {version!r} is not a version "
                        "MAJOR.MINOR.PATCH (e.g. '2.0.0')")
    checked = raw.get("literature_last_checked")
    if not isinstance(checked, str) or not is_date(checked):
        problems.append(f"{name}, key 'literature_last_checked': {checked!r} is not a date "
                        "YYYY-MM-DD")
    if problems:
        raise CatalogVersionError("\n".join(problems))
    return str(version), str(checked)


def _read_history(directory: Path, version: str, checked: str) -> tuple[CatalogRelease, ...]:
    """Every row valid; versions strictly increasing with dates that never go back; the last row
    is catalog.json's version, dated no later than its literature check."""
    name = CATALOG_HISTORY_FILE
    path = directory / name
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in reader.fieldnames or []]
            rows = [(reader.line_num, rec) for rec in reader]
    except FileNotFoundError as exc:
        raise CatalogVersionError(f"{name}: file not found in {directory}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CatalogVersionError(f"{name}: unreadable CSV ({exc})") from exc
    missing = [c for c in HISTORY_COLUMNS if c not in header]
    if missing:
        raise CatalogVersionError(f"{name} header (line 1), column '{missing[0]}': required "
                                  "column is missing")
    problems: list[str] = []
    releases: list[CatalogRelease] = []
    for i, (line, rec) in enumerate(rows, start=1):
        cells = {k.strip(): (v or "").strip() for k, v in rec.items() if k is not None}
        where = f"{name} row {i} (line {line})"
        if parse_version(cells["version"]) is None:
            problems.append(f"{where}, column 'version': {cells['version']!r} is not a version "
                            "MAJOR.MINOR.PATCH")
            continue
        if not is_date(cells["date"]):
            problems.append(f"{where}, column 'date': {cells['date']!r} is not a date "
                            "YYYY-MM-DD")
            continue
        if not cells["summary"]:
            problems.append(f"{where}, column 'summary': say what this version added or "
                            "corrected")
            continue
        release = CatalogRelease(cells["version"], cells["date"], cells["summary"])
        if releases and release.key <= releases[-1].key:
            problems.append(f"{where}, column 'version': {release.version} does not follow "
                            f"{releases[-1].version} (oldest first, each version once)")
        elif releases and release.date < releases[-1].date:
            problems.append(f"{where}, column 'date': {release.date} is before the previous "
                            f"version's {releases[-1].date}")
        releases.append(release)
    if not problems:
        if not releases:
            problems.append(f"{name}: no versions listed")
        elif releases[-1].version != version:
            problems.append(f"{name}: the last version is {releases[-1].version} but "
                            f"{CATALOG_INFO_FILE} says {version}; add a row for {version}")
        elif releases[-1].date > checked:
            problems.append(f"{name}: version {version} is dated {releases[-1].date}, after "
                            f"the literature check of {checked}")
    if problems:
        raise CatalogVersionError("\n".join(problems))
    return tuple(releases)


def load_catalog_info(data_dir: Path | None = None) -> CatalogInfo:
    """Read and check ``catalog.json`` (``catalog_version`` as MAJOR.MINOR.PATCH,
    ``literature_last_checked`` as a real YYYY-MM-DD date) and ``catalog_history.csv``."""
    directory = Path(data_dir) if data_dir is not None else _default_data_dir()
    version, checked = _read_info(directory)
    return CatalogInfo(version, checked, _read_history(directory, version, checked))


@lru_cache(maxsize=1)
def default_catalog_info() -> CatalogInfo:
    """The shipped catalog's info, read once per process (a link check needs only this)."""
    return load_catalog_info()


def _default_data_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "data"
