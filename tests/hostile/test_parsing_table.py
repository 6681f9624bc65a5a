"""One table of raw values through every entry point: the same verdict everywhere.

A value typed into the catalog, the what-if editor, an IPD upload (CSV, semicolon CSV, .xlsx,
Parquet, a table), a Kaplan-Meier file, a digitised curve or risk table, a CLI argument or file,
or a link must give the same number, or be refused, wherever it is typed. The hand-written rows
say what that verdict is (comparators/inputs.py documents the rule); the generated rows (a
control, space or invisible character before, inside or after a number) have their verdict
from the rule "space around a number is ignored, anything else refuses it", and all must agree.

Each entry point reads the raw value in its own place (a cell of the first row, an argument)
with every other cell valid, inside the range every entry point accepts (2 to 100), so the only
thing that can differ is how the value is read.
"""

from __future__ import annotations

import csv
import io
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS))

from curated_tables import read_rows  # noqa: E402

from comparators.__main__ import CLIError, _subtype_code, build_parser  # noqa: E402
from comparators.analysis.options import AnalysisOptions  # noqa: E402
from comparators.errors import InputError  # noqa: E402
from comparators.evidence.catalog import (  # noqa: E402
    default_data_dir,
    load_catalog,
    validate_cohort_rows,
)
from comparators.evidence.cohort import published_cohort  # noqa: E402
from comparators.evidence.ipd import read_ipd, validate_ipd  # noqa: E402
from comparators.evidence.risk_of_bias import load_risk_of_bias  # noqa: E402
from comparators.evidence.scenario import apply_scenario, scenario_table  # noqa: E402
from comparators.evidence.search_log import load_search_log  # noqa: E402
from comparators.inputs import (  # noqa: E402
    clean_text,
    parse_choice,
    parse_count,
    parse_event,
    parse_level,
    parse_number,
)
from comparators.stats.bayes import BetaPosterior  # noqa: E402
from comparators.stats.phase2_design import n_for_half_width  # noqa: E402
from comparators.stats.pooling import pool_proportions, read_pool_csv  # noqa: E402
from comparators.stats.proportions import check_counts, proportion_ci  # noqa: E402
from comparators.stats.reconstruct import _prepare_curve, reconstruct_ipd  # noqa: E402
from comparators.stats.survival import km_fit, read_survival_csv, validate_survival_frame  # noqa: E402
from views.editing import apply_edits, check_edits  # noqa: E402
from views.share import match_link_choice, parse_link_number  # noqa: E402

REFUSED, MISSING, EMPTY = "refused", "missing", "empty"
VALID_IPD = (TESTS / "fixtures" / "ipd" / "valid.csv").read_text()
CATALOG = load_catalog()
CATALOG_DIR = default_data_dir()
SUBTYPES = sorted(CATALOG.subtype_codes)


# ------------------------------------------------------------------------------ the table

NUMBERS: list[tuple[object, object]] = [
    ("12", 12.0), (" 12 ", 12.0), ("+12", 12.0), ("12.0", 12.0), ("12.", 12.0),
    ("12.5", 12.5), (".5e2", 50.0), ("1.25e1", 12.5), ("1E+01", 10.0), ("0012", 12.0),
    ("3,5", 3.5), ("12,25", 12.25), ("20,5", 20.5), ("\u00a012\u00a0", 12.0), ("\t12\n", 12.0),
    (12, 12.0), (12.5, 12.5), (np.float64(7.5), 7.5), (np.int64(9), 9.0),
    (np.float32(2.5), 2.5),
    ("1,500", REFUSED), ("2,000", REFUSED), ("0,125", REFUSED), ("1,000,000", REFUSED),
    ("1.500,5", REFUSED), ("1,500.5", REFUSED), ("1_0", REFUSED), ("1 000", REFUSED),
    ("1'000", REFUSED), ("0x1A", REFUSED), ("١٢", REFUSED), ("１２", REFUSED),
    ("\u22124", REFUSED), ("inf", REFUSED), ("-inf", REFUSED), ("Infinity", REFUSED),
    ("1e999", REFUSED), (True, REFUSED), (False, REFUSED), ("true", REFUSED),
    ("abc", REFUSED), ("12abc", REFUSED), ("1e", REFUSED), ("--1", REFUSED),
    ("1.2.3", REFUSED), ("x" * 100, REFUSED), ("1" * 400, REFUSED), ("12%", REFUSED),
    ("$12", REFUSED), ("1/2", REFUSED), ("(12)", REFUSED), ("12e", REFUSED),
    ("", MISSING), ("  ", MISSING), ("NA", MISSING), ("N/A", MISSING), ("NaN", MISSING),
    ("nan", MISSING), ("null", MISSING), ("none", MISSING), (None, MISSING),
    (float("nan"), MISSING), (pd.NA, MISSING),
]
COUNTS: list[tuple[object, object]] = [
    ("12", 12), (" 12 ", 12), ("+12", 12), ("12.0", 12), ("12.", 12), ("1.2e1", 12),
    ("1E+01", 10), ("0012", 12), ("\u00a012", 12), (12, 12), (12.0, 12), (np.int64(9), 9),
    (np.float64(7.0), 7), ("20,0", 20),
    ("12.5", REFUSED), ("3,5", REFUSED), ("1,500", REFUSED), ("2,000", REFUSED),
    ("1_0", REFUSED), ("-3", REFUSED), (-3, REFUSED), ("1 2", REFUSED), ("١٢", REFUSED),
    ("inf", REFUSED), ("1e999", REFUSED), (True, REFUSED), ("abc", REFUSED),
    ("1" * 400, REFUSED), (12.5, REFUSED), (np.float64(2.5), REFUSED), ("12e0.5", REFUSED),
    ("", MISSING), ("NA", MISSING), ("nan", MISSING), (None, MISSING), (float("nan"), MISSING),
]
EVENTS: list[tuple[object, object]] = [
    ("1", 1), ("0", 0), ("1.0", 1), ("0.0", 0), (" 1 ", 1), ("+1", 1), ("1e0", 1),
    ("0,0", 0), ("1.", 1), (1, 1), (0, 0), (1.0, 1), (np.int64(1), 1), ("-0", 0),
    ("2", REFUSED), ("-1", REFUSED), ("0.5", REFUSED), ("0,5", REFUSED), ("True", REFUSED),
    (True, REFUSED), (False, REFUSED), ("yes", REFUSED), ("event", REFUSED), ("", REFUSED),
    ("nan", REFUSED), (None, REFUSED), ("inf", REFUSED), ("1_0", REFUSED), ("١", REFUSED),
    ("01", 1), ("1,000", REFUSED),
]
LEVELS: list[tuple[object, object]] = [
    ("0.95", 0.95), (0.9, 0.9), ("0.5", 0.5), ("0.999", 0.999), ("0,95", 0.95),
    (" 0.8 ", 0.8), ("9.5e-1", 0.95), (np.float64(0.99), 0.99),
    ("95", REFUSED), ("1", REFUSED), ("0", REFUSED), ("0.05", REFUSED), ("0.4999", REFUSED),
    ("1.0", REFUSED), ("0.9999", REFUSED), ("nan", REFUSED), ("inf", REFUSED),
    (True, REFUSED), ("abc", REFUSED), ("-0.95", REFUSED), ("95%", REFUSED), ("", REFUSED),
]
CODES: list[tuple[object, object]] = [
    ("UPS", "UPS"), ("ups", "UPS"), (" Ups ", "UPS"), ("UPS\x00", "UPS"),
    ("U\u202ePS", "UPS"), ("LMS", "LMS"), ("lms", "LMS"),
    ("NOPE", REFUSED), ("", REFUSED), ("U PS", REFUSED), ("ＵＰＳ", REFUSED),
    ("UPS; DROP TABLE", REFUSED), ("x" * 300, REFUSED),
]
TEXTS: list[tuple[object, object]] = [
    ("anlotinib", "anlotinib"), (" anlotinib ", "anlotinib"), ("a\x07b", "ab"),
    ("x\u202ey", "xy"), ("e\u0301", "\u00e9"), ("a\r\nb", "a b"), ("a\tb", "a b"),
    ("\x1b[31mred", "[31mred"), ("\u2066iso\u2069", "iso"), ("a\x7fb\x85c", "abc"),
    ("z\ufffe\uffff", "z"), ("x" * 1001, REFUSED), ("日本語", "日本語"),
]


def generated_numbers() -> list[tuple[object, object]]:
    """'12' with one character before, inside or after it: space around a number is ignored,
    anything else (a control character, an invisible one, a space inside) refuses it."""
    odd = [chr(c) for c in [*range(0x00, 0x21), 0x7F, 0x85, 0xA0, 0x2028, 0x202E, 0x2066,
                            0xFEFF, 0xFFFE, 0x200B, 0x3000]]
    rows: list[tuple[object, object]] = []
    for ch in odd:
        rows.append((f"1{ch}2", REFUSED))
        around = 12.0 if ch.isspace() else REFUSED
        rows.append((f"12{ch}", around))
        rows.append((f"{ch}12", around))
    return rows


NUMBER_ROWS = NUMBERS + generated_numbers()


# ------------------------------------------------------------------------------ entry points


@dataclass(frozen=True)
class Entry:
    name: str
    read: Callable[[object], object]  # raw value -> what the entry point made of it
    required: bool = True  # a missing value is refused (else read as empty)
    text_only: bool = False  # reads typed text (a file, an argument, a link)
    plain_text: bool = False  # and cannot carry NUL or other binary (a file read as text)


def verdict(entry: Entry, raw: object) -> object:
    try:
        value = entry.read(raw)
    except (InputError, CLIError):
        return REFUSED
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return EMPTY
    return value


def expected(entry: Entry, want: object) -> object:
    if want == MISSING:
        return REFUSED if entry.required else EMPTY
    return want


def applies(entry: Entry, raw: object) -> bool:
    if entry.text_only and not isinstance(raw, str):
        return False
    return not (entry.plain_text and isinstance(raw, str) and "\x00" in raw)


def ipd_csv(cells: dict[str, object], sep: str = ",") -> bytes:
    rows = list(csv.reader(io.StringIO(VALID_IPD)))
    header = rows[0]
    for column, value in cells.items():
        rows[1][header.index(column)] = str(value)
    out = io.StringIO()
    csv.writer(out, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(rows)
    return out.getvalue().encode("utf-8")


def ipd_frame(cells: dict[str, object]) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(VALID_IPD), dtype=str).astype(object)
    for column, value in cells.items():
        frame.at[0, column] = value
    return frame


def first(frame: pd.DataFrame, column: str) -> object:
    value = frame[column].iloc[0]
    return None if value is pd.NA else value.item() if hasattr(value, "item") else value


def ipd_number(raw: object, how: str) -> object:
    cells = {"pfs_time": raw, "os_time": "200"}
    if how == "frame":
        return first(validate_ipd(ipd_frame(cells)), "pfs_time")
    if how == "xlsx":
        buffer = io.BytesIO()
        ipd_frame(cells).to_excel(buffer, index=False)
        return first(read_ipd(buffer.getvalue(), "upload.xlsx"), "pfs_time")
    if how == "parquet":
        buffer = io.BytesIO()
        ipd_frame(cells).astype(str).to_parquet(buffer)
        return first(read_ipd(buffer.getvalue(), "upload.parquet"), "pfs_time")
    sep = ";" if how == "semicolon" else ","
    return first(read_ipd(ipd_csv(cells, sep), "upload.csv"), "pfs_time")


def cohort_row(**cells: object) -> pd.DataFrame:
    row = {"study": "S", "arm": "a", "subtype": "LMS", "evaluable": 100, "responders": 0}
    return pd.DataFrame([{**row, **cells}], dtype=object)


def km_file(tmp: Path, time: object = "5", event: object = "1", group: object = "A") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerows([["time", "event", "arm"], [time, event, group], ["7", "0", "B"]])
    path = tmp / "km.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def km_frame(time: object = 5.0, event: object = 1, group: object = "A") -> pd.DataFrame:
    return pd.DataFrame({"time": [time, 7.0], "event": [event, 0], "arm": [group, "B"]},
                        dtype=object)


def cli(*args: str) -> object:
    return build_parser().parse_args(list(args))


def pool_file(study: object = "A", events: object = "3") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(
        [["study", "events", "n"], [study, events, "100"], ["B", "5", "12"]])
    return out.getvalue().encode("utf-8")


def curated_cell(tmp: Path, name: str, match: dict[str, str], column: str, raw: object) -> Path:
    """A folder holding data/<name> with one cell rewritten (the catalog is passed in memory)."""
    folder = tmp / "curated"
    folder.mkdir(exist_ok=True)
    rows = read_rows(Path(CATALOG_DIR) / name)
    row = next(r for r in rows if all(r[k] == v for k, v in match.items()))
    row[column] = str(raw)
    with (folder / name).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n",
                                quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return folder


def rob_support(tmp: Path, raw: object) -> object:
    folder = curated_cell(tmp, "risk_of_bias.csv", {"study": "LIU2023", "item": "aim"}, "support",
                          raw)
    return load_risk_of_bias(folder, CATALOG).study("LIU2023").items[0].support


def records_found(tmp: Path, raw: object) -> object:
    folder = curated_cell(tmp, "search_log.csv", {"search": "GITHUB-3"}, "records_found", raw)
    (folder / "search_records.csv").write_bytes((Path(CATALOG_DIR) / "search_records.csv")
                                                .read_bytes())
    return load_search_log(folder, CATALOG).search("GITHUB-3").records_found


PUBLISHED = published_cohort(CATALOG.trials)
KNOWN = set(SUBTYPES) - {"STS", "SARCOMA"}


def scenario_responders(raw: object) -> object:
    """The what-if editor as the page runs it: the edit message checked, then the scenario."""
    table = scenario_table(PUBLISHED)
    state = {"edited_rows": {0: {"evaluable": 100, "responders": raw}}, "added_rows": [],
             "deleted_rows": []}
    check = check_edits(state, table, whole=("evaluable", "responders"))
    if check.refused:
        raise InputError(check.refused[0])
    cohort, problems = apply_scenario(apply_edits(table, check.state), PUBLISHED, KNOWN)
    if problems:
        raise InputError(problems[0].text())
    return int(cohort.row("ASPS")["responders"])


def scenario_subtype(raw: object) -> object:
    edited = scenario_table(PUBLISHED).astype(object)
    edited = edited[edited["subtype"] != "LMS"]  # LMS free for the edited row
    edited.at[0, "subtype"] = raw
    cohort, problems = apply_scenario(edited, PUBLISHED, KNOWN)
    if problems:
        raise InputError(problems[0].text())
    return str(scenario_table(cohort)["subtype"].iloc[0])


CURVE = pd.DataFrame({"time": [0.0, 1.0], "survival": [1.0, 0.8]})


def curve_time(raw: object) -> object:
    curve = pd.DataFrame({"time": [0.0, 1.0, raw], "survival": [1.0, 0.8, 0.5]}, dtype=object)
    return float(_prepare_curve(curve)[0][-1])


def at_risk(raw: object) -> object:
    curve = pd.DataFrame({"time": [0, 5, 10], "survival": [1, 0.8, 0.5]})
    return len(reconstruct_ipd(curve, pd.DataFrame({"time": [0], "n_risk": [raw]},
                                                   dtype=object)).ipd)


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("parsing")


def number_entries(tmp: Path) -> list[Entry]:
    return [
        Entry("inputs.parse_number", lambda r: parse_number(r, required=False), False),
        Entry("catalog pfs_median_months", lambda r: first(validate_cohort_rows(
            cohort_row(pfs_median_months=r), "rows.csv", {"LMS"}), "pfs_median_months"),
            False),
        Entry("IPD CSV pfs_time", lambda r: ipd_number(r, "csv"), text_only=True,
              plain_text=True),
        Entry("IPD semicolon CSV pfs_time", lambda r: ipd_number(r, "semicolon"),
              text_only=True, plain_text=True),
        Entry("IPD table pfs_time", lambda r: ipd_number(r, "frame")),
        Entry("IPD Parquet pfs_time", lambda r: ipd_number(r, "parquet"), text_only=True),
        Entry("KM file time", lambda r: first(read_survival_csv(km_file(tmp, time=r)), "time"),
              text_only=True, plain_text=True),
        Entry("KM table time", lambda r: first(validate_survival_frame(km_frame(time=r),
                                                                     group_col="arm"), "time")),
        Entry("Guyot curve time", curve_time),
        Entry("link number", lambda r: parse_link_number(r, 0, 1000, whole=False),
              text_only=True),
        Entry("CLI --tau-scale", lambda r: cli("pool", "f.csv", f"--tau-scale={r}")
              .tau_scale_given, text_only=True),
    ]


def count_entries(tmp: Path) -> list[Entry]:
    return [
        Entry("inputs.parse_count", lambda r: parse_count(r, required=False), False),
        Entry("catalog evaluable", lambda r: first(validate_cohort_rows(
            cohort_row(evaluable=r), "rows.csv", {"LMS"}), "evaluable")),
        Entry("catalog responders", lambda r: first(validate_cohort_rows(
            cohort_row(responders=r), "rows.csv", {"LMS"}), "responders")),
        Entry("what-if editor responders", scenario_responders),
        Entry("pool file events", lambda r: int(read_pool_csv(pool_file(events=r))[1][0]),
              text_only=True, plain_text=True),
        Entry("CLI ci K", lambda r: cli("ci", "--", r, "100").k, text_only=True),
        Entry("proportions.check_counts", lambda r: check_counts(r, 100)[0]),
        Entry("Guyot number at risk", at_risk),
        Entry("link whole number", lambda r: parse_link_number(r, 0, 1000, whole=True),
              text_only=True),
        Entry("search log records_found", lambda r: records_found(tmp, r), required=False,
              text_only=True, plain_text=True),
    ]


def event_entries(tmp: Path) -> list[Entry]:
    return [
        Entry("inputs.parse_event", parse_event),
        Entry("IPD CSV pfs_event", lambda r: first(read_ipd(ipd_csv({"pfs_event": r}),
                                                            "upload.csv"), "pfs_event"),
              text_only=True, plain_text=True),
        Entry("IPD table pfs_event", lambda r: first(validate_ipd(ipd_frame({"pfs_event": r})),
                                                     "pfs_event")),
        Entry("KM file event", lambda r: first(read_survival_csv(km_file(tmp, event=r)),
                                               "event"), text_only=True, plain_text=True),
        Entry("KM table event", lambda r: first(validate_survival_frame(km_frame(event=r)),
                                                "event")),
    ]


def level_entries() -> list[Entry]:
    return [
        Entry("inputs.parse_level", parse_level),
        Entry("CLI --level", lambda r: cli("ci", "3", "10", f"--level={r}").level,
              text_only=True),
        Entry("AnalysisOptions", lambda r: AnalysisOptions(level=r).level),  # type: ignore[arg-type]
        Entry("proportion_ci", lambda r: proportion_ci(13, 27, level=r).level),  # type: ignore[arg-type]
        Entry("pool_proportions", lambda r: pool_proportions([3, 5], [10, 12], level=r).level),  # type: ignore[arg-type]
        Entry("km_fit", lambda r: km_fit([1, 2, 3], [1, 0, 1], level=r).level),  # type: ignore[arg-type]
        Entry("credible interval", lambda r: (BetaPosterior.from_counts(2, 5)
                                              .credible_interval(r),  # type: ignore[arg-type]
                                              parse_level(r))[1]),
        Entry("precision sizing", lambda r: (n_for_half_width(0.3, 0.1, level=r),  # type: ignore[arg-type]
                                             parse_level(r))[1]),
    ]


def code_entries() -> list[Entry]:
    return [
        Entry("inputs.parse_choice", lambda r: parse_choice(r, SUBTYPES, what="subtype")),
        Entry("IPD CSV subtype", lambda r: first(read_ipd(ipd_csv({"subtype": r}), "u.csv"),
                                                 "subtype"), text_only=True, plain_text=True),
        Entry("IPD table subtype", lambda r: first(validate_ipd(ipd_frame({"subtype": r})),
                                                   "subtype")),
        Entry("catalog subtype", lambda r: first(validate_cohort_rows(
            cohort_row(subtype=r), "rows.csv", set(SUBTYPES)), "subtype")),
        Entry("what-if editor subtype", scenario_subtype),
        Entry("CLI --subtype", lambda r: _subtype_code(str(r), SUBTYPES), text_only=True),
        Entry("link choice", lambda r: _link_code(str(r)), text_only=True),
    ]


def _link_code(raw: str) -> object:
    clean_text(raw, max_chars=200)  # views.share.check_link_input drops an overlong value
    option = match_link_choice(raw, SUBTYPES, str)
    if option is None:
        raise InputError("not offered")
    return option


def text_entries(tmp: Path) -> list[Entry]:
    def ipd_regimen(raw: object, how: str) -> object:
        cells = {"regimen": raw}
        frame = (read_ipd(ipd_csv(cells), "u.csv") if how == "csv" else
                 validate_ipd(ipd_frame(cells)))
        return first(frame, "regimen")

    return [
        Entry("inputs.clean_text", clean_text),
        Entry("IPD CSV regimen", lambda r: ipd_regimen(r, "csv"), text_only=True,
              plain_text=True),
        Entry("IPD table regimen", lambda r: ipd_regimen(r, "frame")),
        Entry("catalog arm", lambda r: first(validate_cohort_rows(cohort_row(arm=r), "rows.csv",
                                                                  {"LMS"}), "arm")),
        Entry("pool file study", lambda r: read_pool_csv(pool_file(study=r))[0][0],
              text_only=True, plain_text=True),
        Entry("KM file group", lambda r: first(read_survival_csv(km_file(tmp, group=r), "time",
                                                                 "event", "arm"), "arm"),
              text_only=True, plain_text=True),
        Entry("KM table group", lambda r: first(validate_survival_frame(
            km_frame(group=r), group_col="arm"), "arm")),
        Entry("risk-of-bias support", lambda r: rob_support(tmp, r), text_only=True,
              plain_text=True),
    ]


TABLES = {
    "numbers": (NUMBER_ROWS, number_entries),
    "counts": (COUNTS, count_entries),
    "events": (EVENTS, event_entries),
    "levels": (LEVELS, lambda tmp: level_entries()),
    "codes": (CODES, lambda tmp: code_entries()),
    "texts": (TEXTS, text_entries),
}
TRIED: Counter[str] = Counter()


def same(got: object, want: object) -> bool:
    if isinstance(want, float) and isinstance(got, int | float) and not isinstance(got, bool):
        return abs(float(got) - want) < 1e-12
    return type(got) is type(want) and got == want or (got == want and not isinstance(got, bool))


@pytest.mark.parametrize("kind", list(TABLES))
def test_every_entry_point_gives_the_tables_verdict(kind: str, tmp: Path,
                                                   record_property: Callable) -> None:
    rows, make_entries = TABLES[kind]
    entries = make_entries(tmp)
    record_property("inputs", sum(applies(e, raw) for raw, _ in rows for e in entries))
    wrong = []
    for raw, want in rows:
        for entry in entries:
            if not applies(entry, raw):
                continue
            TRIED[kind] += 1
            got = verdict(entry, raw)
            if not same(got, expected(entry, want)):
                wrong.append(f"{entry.name}: {raw!r} -> {got!r}, expected "
                             f"{expected(entry, want)!r}")
    assert not wrong, "\n".join(wrong[:40]) + f"\n({len(wrong)} disagreements)"


def test_the_table_is_large_and_covers_every_entry_point(tmp: Path) -> None:
    counts = {kind: sum(applies(e, raw) for raw, _ in rows for e in make(tmp))
              for kind, (rows, make) in TABLES.items()}
    print("parsing table, inputs tried per kind:", counts, "total", sum(counts.values()))
    assert sum(counts.values()) >= 1_500, counts
    assert all(len(make(tmp)) >= 5 for _, make in TABLES.values())
