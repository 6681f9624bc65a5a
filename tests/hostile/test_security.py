"""Security properties, one test each: user text is never rendered as HTML or as markdown
formatting, nothing a user sends is unpickled or evaluated, every CSV export is safe to open in
a spreadsheet, uploads are size-limited, the URL carries only widget values, and one session's
cohort never reaches another session.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from apptest import assert_csv_cells_inert, open_page
from streamlit.testing.v1 import AppTest
from test_entry_points import (
    FORMULA,
    SCRIPT,
    VALID,
    assert_no_live_html,
    base_frame,
    big_csv,
    download_bytes,
    to_csv,
    with_cells,
)

from comparators.evidence.ipd import DEFAULT_MAX_BYTES, IPDError, read_ipd
from comparators.reports.export import neutralise_formulas, safe_csv
from views.common import SCENARIO_KEY, UPLOAD_KEY

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = ("views", "comparators")
PAGES = ["views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py"]


def sources(*dirs: str) -> dict[Path, str]:
    files = [ROOT / "streamlit_app.py"] + [p for d in dirs for p in sorted((ROOT / d).glob("*.py"))]
    return {p: p.read_text(encoding="utf-8") for p in files}


def code_lines(text: str) -> list[tuple[int, str]]:
    """(line number, code) with comments and docstring-ish prose lines dropped."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        if code.strip():
            out.append((number, code))
    return out


def hits(pattern: str, dirs: tuple[str, ...] = CODE_DIRS) -> list[str]:
    rx = re.compile(pattern)
    return [f"{p.relative_to(ROOT)}:{n}: {c.strip()}" for p, text in sources(*dirs).items()
            for n, c in code_lines(text) if rx.search(c)]


def upload_and_use(at: AppTest, name: str, raw: bytes) -> None:
    at.file_uploader[0].upload(name, raw, "text/csv").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[UPLOAD_KEY].label == f"Uploaded cohort ({name})"


# ------------------------------------------------------------------------------ HTML


def test_no_raw_html_rendering_anywhere_in_the_code() -> None:
    found = hits(r"unsafe_allow_html\s*=\s*True|st\.html\(|components\.v1|components\.html|"
                 r"allow_html")
    assert not found, found


def test_no_page_renders_markdown_as_html() -> None:
    """Every markdown element on every page, default state: allow_html off, no st.html."""
    at = open_page()
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.get("html"), page
        assert all(not md.proto.allow_html for md in at.markdown), page


def test_uploaded_script_name_is_shown_as_text_on_every_page() -> None:
    at = open_page("views/survival.py")
    upload_and_use(at, f"{SCRIPT}.csv", to_csv(with_cells({(1, "regimen"): SCRIPT})))
    failures = []
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        try:
            assert_no_live_html(at)
        except AssertionError as exc:
            failures.append(f"{page}: {str(exc)[:160]}")
    assert not failures, failures


def test_typed_script_subtype_is_shown_as_text() -> None:
    at = open_page("views/whatif.py")
    at.session_state["scenario_editor"] = {
        "edited_rows": {0: {"subtype": SCRIPT}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    assert any("column 'subtype'" in e.value for e in at.error)
    assert_no_live_html(at)


def test_script_cells_in_an_upload_are_data_not_markup() -> None:
    at = open_page("views/survival.py")
    upload_and_use(at, "cells.csv", to_csv(with_cells({(0, "id"): SCRIPT,
                                                       (1, "regimen"): SCRIPT})))
    assert_no_live_html(at)
    preview = [d.value for d in at.dataframe if "pfs_months" in d.value.columns][0]
    assert SCRIPT in set(preview["id"]) and SCRIPT in set(preview["regimen"])


# ------------------------------------------------------------------------------ code execution


def test_nothing_a_user_sends_is_unpickled_or_evaluated() -> None:
    found = hits(r"\bpickle\b|read_pickle|\bmarshal\b|\bshelve\b|\beval\(|\bexec\(|"
                 r"yaml\.load\(|__import__\(|os\.system\(|subprocess|allow_pickle\s*=\s*True|"
                 r"literal_eval|dill\b|joblib\.load", CODE_DIRS)
    assert not found, found


def test_the_url_never_carries_pickled_or_encoded_state() -> None:
    found = hits(r"\bpickle\b|base64|b64encode|b64decode|zlib|query_params\[.*\]\s*=",
                 ("views",))
    assert not found, found
    # dynamic: with an upload in use and a scenario edited, the URL holds only short widget
    # values under widget keys
    at = open_page("views/survival.py", query={"km_group": "Subtype"})
    upload_and_use(at, "mine.csv", VALID)
    at.switch_page("views/whatif.py")
    at.run()
    at.session_state["scenario_editor"] = {
        "edited_rows": {0: {"evaluable": 9, "responders": 1}}, "added_rows": [],
        "deleted_rows": []}
    at.run()
    assert SCENARIO_KEY in at.session_state and UPLOAD_KEY in at.session_state
    for key, value in at.query_params.items():
        assert key not in (UPLOAD_KEY, SCENARIO_KEY, "ipd_frame", "ipd_name"), key
        assert len(str(value)) < 120, (key, value)
        assert not re.fullmatch(r"[A-Za-z0-9+/=_-]{60,}", str(value)), (key, value)


# ------------------------------------------------------------------------------ CSV injection


def test_safe_csv_neutralises_every_formula_prefix_in_cells_and_headers() -> None:
    payloads = [FORMULA, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "=1+1",
                "=cmd|' /C calc'!A0"]
    frame = pd.DataFrame({
        "object": payloads,
        "string": pd.array(payloads, dtype="string"),
        "category": pd.Categorical(payloads),
        "=header": range(len(payloads)),
        "number": [-1.5, 2, -3, 4, 5, -6, 7],
    })
    data = safe_csv(frame)
    assert_csv_cells_inert(data)
    cells = [c for row in csv.reader(io.StringIO(data.decode())) for c in row]
    assert "'" + FORMULA in cells and "'=header" in cells
    assert "-1.5" in cells  # numbers stay numbers
    assert neutralise_formulas(frame)["number"].tolist() == frame["number"].tolist()


def test_embedded_carriage_return_cannot_start_a_formula_row() -> None:
    from test_entry_points import XLSX_MIME, to_xlsx

    at = open_page("views/survival.py")
    raw = to_xlsx(with_cells({(1, "regimen"): "x\r=cmd|' /C calc'!A0"}))
    at.file_uploader[0].upload("cr.xlsx", raw, XLSX_MIME).run()
    at.run()  # AppTest's media store holds downloads of runs after the upload's own run
    assert not at.exception
    assert at.session_state[UPLOAD_KEY].label == "Uploaded cohort (cr.xlsx)"
    assert_csv_cells_inert(download_bytes(at, "dl_swimmer_csv"))


def test_safe_csv_stamp_cannot_start_a_formula_line() -> None:
    data = safe_csv(pd.DataFrame({"a": [1]}), f"Aggregated from x\n{FORMULA}.csv")
    assert_csv_cells_inert(data)


def test_every_csv_download_is_neutralised_with_hostile_upload_in_use() -> None:
    """Upload formula text in ids, regimens and the file name, use it as this cohort, then read
    the bytes behind every CSV download button on every page."""
    at = open_page("views/survival.py")
    df = with_cells({(0, "id"): "=1+1", (1, "regimen"): FORMULA, (2, "ai_agent"): "@SUM(A1)",
                     (3, "ici_agent"): "+cmd"})
    upload_and_use(at, "=HYPERLINK(x).csv", to_csv(df))
    at.selectbox(key="km_group").set_value("regimen").run()  # regimen labels in the KM export
    checked = []
    for page in PAGES:
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        for button in at.get("download_button"):
            if not button.proto.url.endswith(".csv"):
                continue
            key = button.proto.id.rsplit("-", 1)[-1]
            assert_csv_cells_inert(download_bytes(at, key))
            checked.append(f"{page}:{key}")
    assert any("survival" in c and "dl_swimmer_csv" in c for c in checked), checked
    assert any("dl_km_csv" in c for c in checked), checked
    assert len(checked) >= 8, checked


def test_views_never_write_csv_without_safe_csv() -> None:
    found = hits(r"\.to_csv\(", ("views",))
    assert not found, found


# ------------------------------------------------------------------------------ upload limits


def test_upload_size_limit_agrees_between_server_widget_and_reader() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server_mb = config["server"]["maxUploadSize"]
    assert server_mb == DEFAULT_MAX_BYTES // 1_000_000 == 5
    # Streamlit counts MB as MiB: the reader is the stricter check and says so in plain words
    assert DEFAULT_MAX_BYTES <= server_mb * 1024 * 1024
    at = open_page("views/survival.py")
    (uploader,) = at.file_uploader
    assert uploader.proto.max_upload_size_mb == server_mb
    assert "up to 5 MB" in uploader.label
    assert config["client"]["showErrorDetails"] == "none"


def test_a_six_megabyte_file_is_refused() -> None:
    raw = big_csv(6_000_000)
    assert len(raw) >= 6_000_000
    with pytest.raises(IPDError, match="larger than the limit"):
        read_ipd(raw, filename="six.csv")
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("six.csv", raw, "text/csv").run()
    assert not at.exception
    assert "larger than the limit of 5,000,000 bytes" in at.error[0].value
    assert UPLOAD_KEY not in at.session_state


# ------------------------------------------------------------------------------ sessions


def test_one_sessions_upload_and_scenario_never_reach_another_session() -> None:
    """Two sessions in one process share st.cache_data; neither sees the other's cohort."""
    a = open_page("views/survival.py")
    upload_and_use(a, "session_a_secret.csv", to_csv(base_frame()))
    a.switch_page("views/whatif.py")
    a.run()
    a.session_state["scenario_editor"] = {
        "edited_rows": {0: {"evaluable": 9, "responders": 1}}, "added_rows": [],
        "deleted_rows": []}
    a.run()
    assert SCENARIO_KEY in a.session_state
    b = open_page("views/survival.py")
    assert UPLOAD_KEY not in b.session_state and SCENARIO_KEY not in b.session_state
    for page in PAGES:
        b.switch_page(page)
        b.run()
        text = " ".join(str(e.value) for kind in ("markdown", "caption", "info", "warning",
                                                   "success", "error") for e in b.get(kind))
        text += " ".join(str(d.value.to_csv()) for d in b.dataframe)
        assert "session_a_secret" not in text, page
        assert "hypothetical" not in " ".join(w.value for w in b.warning).lower(), page
    # and the first session still has its own
    assert a.session_state[UPLOAD_KEY].label == "Uploaded cohort (session_a_secret.csv)"



# ------------------------------------------------------------------------------ markdown

HOSTILE_MARKDOWN = [
    "[Click here to re-login](http://evil.example/login)",
    "![t](http://evil.example/pixel.png)",
    ":red[**SECURITY ALERT: your session expired**]",
    ":blue-background[x] :material/warning: :smile:",
    "see http://evil.example, www.evil.example or admin@evil.example",
    "<img src=x onerror=alert(1)> <http://evil.example>",
    "# heading", "> quote", "- item", "1. item", "$x^2$ ~~struck~~ | a | b |",
    "x,=1+1.csv", "two\nlines\r\nhere", "back\\slash `code` *em* _em_ __strong__",
    "my_cohort_v2.csv", "a*b*c", "snake_case_id",
]
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")  # CommonMark: a backslash before ASCII punctuation


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_md_escape_defuses_every_construct_and_reads_as_typed(text: str) -> None:
    from comparators.reports.markup import JOINER, md_escape

    out = md_escape(text)
    resolved = _ESCAPE.sub(r"\1", out)  # the text Markdown's text nodes hold
    # shown exactly as typed (line breaks as spaces; the word joiner is invisible)
    assert resolved.replace(JOINER, "") == " ".join(text.replace("\r\n", "\n").split("\n"))
    # GitHub's autolink literals run on the resolved text, where escapes no longer count
    assert not re.search(r"(?i)\b(https?|ftp|mailto|xmpp):|www\.|[\w.+-]@", resolved), out
    unescaped = re.sub(r"\\.", "", out)  # what is left where Markdown can still act
    assert not re.search(r"[\[\]`*$~|]", unescaped), out  # links, images, emphasis, maths
    # an underscore may stay only between letters or digits, where it cannot emphasise
    assert not re.search(r"(?<![^\W_])_|_(?![^\W_])", unescaped), out
    assert not re.search(r"<[A-Za-z/!?]", unescaped), out  # HTML, <url> autolinks
    assert not re.search(r":[A-Za-z0-9/]", unescaped), out  # scheme:, :red[, :icon:, :emoji:
    assert not re.match(r"\s*([#>+-]|\d+[.)])", unescaped), out  # block syntax at the start


def test_one_markdown_escaper_is_used_everywhere() -> None:
    from comparators.reports import markup, summary
    from views import common

    assert common.plain is markup.md_escape and summary.md_escape is markup.md_escape
    share = (ROOT / "views" / "share.py").read_text()
    assert "md_escape(f\"{k}={before[k]!r}\")" in share  # the bad-link notice
    assert not hits(r"def (plain|md_escape|escape_markdown)\(", ("views", "comparators",
                                                                 "comparators/reports"))[1:]


@pytest.mark.parametrize("query", [
    {"subtype": "[Click here to re-login](http://evil.example)"},
    {"measure": "![t](http://evil.example/pixel.png)"},
    {"ci_method": ":red[**SECURITY ALERT: your session expired**]"},
])
def test_bad_link_notice_shows_url_values_as_text(query: dict[str, str]) -> None:
    from apptest import open_link

    at = open_link("views/benchmark.py", query)
    notice = [w.value for w in at.warning if "not valid here" in w.value]
    assert len(notice) == 1, [w.value for w in at.warning]
    (key, value), = query.items()
    from comparators.reports.markup import md_escape

    assert md_escape(f"{key}={value!r}") in notice[0]
    assert value not in notice[0]  # never the raw, renderable text


def test_file_name_in_this_cohort_heading_is_text() -> None:
    at = open_page("views/survival.py")
    name = "[x](http://evil.example) :red[y].csv"
    upload_and_use(at, name, VALID)
    at.switch_page("views/cohort.py")
    at.run()
    headers = [h.value for h in at.header if "Active cohort" in h.value]
    assert headers, [h.value for h in at.header]
    assert not re.search(r"[\[\]]|:[a-z]", re.sub(r"\\.", "", headers[0])), headers
    shown = _ESCAPE.sub(r"\1", headers[0]).replace("\u2060", "")
    assert shown == f"Active cohort: Uploaded cohort ({name})"


def test_csv_stamp_is_one_quoted_inert_cell_per_row() -> None:
    data = safe_csv(pd.DataFrame({"a": [1]}), "SYNTHETIC: x,=1+1.csv marks its rows")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows == [["a", "provenance"], ["1", "SYNTHETIC: x,=1+1.csv marks its rows"]]
    assert_csv_cells_inert(data)


@pytest.mark.browser
def test_bad_link_notice_renders_no_link_image_colour_or_bold_in_chromium() -> None:
    """What Streamlit's Markdown renderer really does with the escaped URL values (unescaped,
    they made a live re-login link, a remote image fetch and bold red text inside the app's
    warning)."""
    import shutil
    import sys
    from urllib.parse import urlencode

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "bench"))
    from server import CHROMIUM_FLAGS, start_server

    query = {"subtype": "[Click here to re-login](http://evil.example/x)",
             "measure": "![t](http://127.0.0.1:9/pixel.png)",
             "ci_method": ":red[**SECURITY ALERT: your session expired**] see "
                          "www.evil.example, admin@evil.example and http://evil.example/y"}
    server = start_server()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                        args=CHROMIUM_FLAGS)
            page = browser.new_page()
            fetched: list[str] = []
            page.on("request", lambda r: fetched.append(r.url))
            page.goto(f"{server.url}/benchmark?{urlencode(query)}", timeout=90_000)
            page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                                   timeout=90_000)
            alert = page.locator("[data-testid='stAlert']").filter(has_text="not valid here")
            alert.first.wait_for(timeout=30_000)
            shown = alert.first.inner_text().replace("\u2060", "")
            assert alert.first.locator("a, img, strong, em").count() == 0, alert.first.inner_html()
            body = alert.first.locator("[data-testid='stMarkdownContainer']").inner_html()
            assert re.fullmatch(r"<p>[^<]*</p>", body), body  # one plain paragraph, no markup
            for value in query.values():
                assert value in shown, shown  # every value reads exactly as typed
            # nothing fetched from anywhere but the app's own server (the link itself names it)
            assert not [u for u in fetched if not u.startswith((server.url, "data:"))], fetched
            browser.close()
    finally:
        server.stop()
