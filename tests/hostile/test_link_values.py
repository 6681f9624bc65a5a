"""Hostile links: every URL value is read by the input boundary before its widget reads it.

`plan_nmax=inf` and `pp_nmax=-inf` raised OverflowError inside st.number_input and the link
stayed broken; `20.5` became 20 and `1_0` became 10; `subtype=lms` was refused; the notice
called a default value (`subtype=ASPS`) invalid and listed subtypes the page does not offer;
unknown keys stayed in the share link. Each number widget is driven with one hostile value at a
time (every number widget of the page in one link) and must hold what the boundary reads, within
its own range, or its default; the notice must name every refused value.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))

from apptest import open_link, open_page  # noqa: E402

from comparators.errors import InputError  # noqa: E402
from comparators.evidence.catalog import load_catalog  # noqa: E402
from comparators.inputs import parse_count, parse_number  # noqa: E402
from views.share import WIDGET_LINK_KEYS  # noqa: E402

NUMBER_KEYS = {
    "views/planning.py": ["plan_p0", "plan_p1", "plan_alpha", "plan_beta", "plan_nmax", "prec_p",
                          "prec_half", "pfs_experimental", "pfs_accrual", "pfs_follow",
                          "pfs_alpha", "pfs_power"],
    "views/whatif.py": ["pp_nmax", "pp_p0", "pp_theta", "casemix_asps_share", "bayes_threshold",
                        "bayes_discount", "tox_patients", "tox_percent"],
    "views/benchmark.py": ["reference"],
    "views/benchmark.py#median_pfs": ["reference_months"],
}
#: Values that make the keys' widgets appear (the Bayesian discount, the toxicity rate as a
#: percentage); "page#name" is a page opened with them.
EXTRA = {"views/whatif.py": {"bayes_prior": "Pooled comparator class", "tox_entry": "percent"},
         "views/benchmark.py#median_pfs": {"endpoint": "median_pfs"}}
HOSTILE_NUMBERS = ["inf", "-inf", "nan", "1e400", "1e308", "99999999", "-5", "0", "0,5", "2,5",
                   "1_0", "0x10", "", "abc", "1e-320", "12.5", "7", "0.25", "\x00", "1" * 300,
                   "١", "+0.3", "3e-1", "20,0"]
TRIED = {"numbers": 0}


def widget(at, key: str):  # type: ignore[no-untyped-def]
    found = [w for w in (*at.number_input, *at.slider) if w.key == key]
    assert found, f"no widget {key}"
    return found[0]


def read(raw: str, proto) -> tuple[float | None, bool]:  # type: ignore[no-untyped-def]
    """(what the widget must hold, whether the link value was refused): what the boundary reads
    within the widget's own range, else the widget's default."""
    if isinstance(proto.default, float):  # a number input; value=None leaves it unset
        default = proto.default if proto.HasField("default") else None
    else:  # a slider: a list of values
        default = list(proto.default)[0]
    whole = proto.data_type == 0  # INT
    try:
        value = parse_count(raw) if whole else parse_number(raw)
    except InputError:
        return default, True
    if value is None or not proto.min <= value <= proto.max:
        return default, True
    return value, False


@pytest.mark.parametrize("raw", HOSTILE_NUMBERS)
@pytest.mark.parametrize("page", list(NUMBER_KEYS))
def test_number_widgets_hold_what_the_boundary_reads_or_their_default(page: str,
                                                                      raw: str) -> None:
    keys = NUMBER_KEYS[page]
    at = open_page(page.split("#")[0],
                   query={**EXTRA.get(page, {}), **dict.fromkeys(keys, raw)})
    assert at.title, "the page did not render"
    notice = notice_of(at)
    for key in keys:
        TRIED["numbers"] += 1
        w = widget(at, key)
        want, refused = read(raw, w.proto)
        if want is None:
            assert w.value is None, (key, raw, w.value)
        else:
            assert w.value is not None and abs(float(w.value) - want) < 1e-9, \
                (key, raw, w.value, want)
        if refused:
            assert at.query_params.get(key) != raw, (key, dict(at.query_params))
            if len(raw) <= 200:  # longer values leave on the session's first run (the landing)
                assert f"{key}=" in notice, (key, raw, notice)


def notice_of(at) -> str:  # type: ignore[no-untyped-def]
    return " ".join(w.value for w in at.warning).replace("\\", "")


def test_codes_in_any_case_and_a_default_is_not_called_invalid() -> None:
    at = open_link("views/benchmark.py", {"subtype": "lms", "method": "reml",
                                          "measure": "LOGIT", "ci_level": "0.90"})
    assert at.selectbox(key="subtype").value == "LMS"
    assert at.selectbox(key="method").value == "REML"
    assert at.selectbox(key="measure").value == "logit"
    assert at.session_state["ci_level"] == 0.9
    assert "not valid here" not in notice_of(at)
    link = at.code[-1].value  # the share link shows the values as the widgets hold them
    assert "subtype=LMS" in link and "method=REML" in link and "ci_level=0.9" in link, link
    at = open_link("views/benchmark.py", {"ci_method": "bar", "subtype": "ASPS"})
    notice = notice_of(at)
    assert "ci_method='bar'" in notice and "subtype=" not in notice, notice


def test_the_notice_lists_what_the_page_offers() -> None:
    # A code of the subtype vocabulary that the benchmark page does not offer (no comparator
    # arm reports it): valid in general, not valid here, and the notice lists what is offered.
    offered = open_page("views/benchmark.py").selectbox(key="subtype").options
    code = sorted(load_catalog().subtype_codes - set(offered))[0]
    at = open_link("views/benchmark.py", {"subtype": code})
    notice = notice_of(at)
    assert f"subtype='{code}'" in notice
    listed = re.search(r"subtype: ([A-Z0-9, ]+)", notice)
    assert listed and listed.group(1).split(", ") == list(offered), notice


def test_unknown_keys_and_overlong_values_leave_the_link_and_are_named() -> None:
    at = open_link("views/benchmark.py", {"foo": "1", "utm_source": "mail", "subtype": "LMS",
                                          "method": "x" * 500})
    notice = notice_of(at)
    assert "foo='1'" in notice and "utm_source='mail'" in notice and "method=" in notice
    link = at.code[-1].value
    assert "foo" not in link and "utm_source" not in link and "subtype=LMS" in link, link
    assert at.selectbox(key="method").value == "REML"


def test_control_characters_in_a_code_are_removed_as_everywhere() -> None:
    at = open_link("views/benchmark.py", {"subtype": "UPS\x1b[31m"})
    assert at.selectbox(key="subtype").value == "ASPS"  # "UPS[31m": the escape's text stays
    assert "subtype=" in notice_of(at)
    at = open_link("views/benchmark.py", {"subtype": "U\u202ePS\x00"})
    assert at.selectbox(key="subtype").value == "UPS"


def test_a_decimal_comma_in_a_link_is_read_and_shared_as_a_point() -> None:
    at = open_page("views/planning.py", query={"plan_p0": "0,2", "pp_nmax": "5"})
    assert at.number_input(key="plan_p0").value == pytest.approx(0.2)
    assert "plan_p0=0.2" in at.code[-1].value
    assert "pp_nmax=5" in at.code[-1].value  # another page's key: kept for that page
    assert not at.exception


def test_every_url_bound_widget_is_a_known_link_key() -> None:
    """WIDGET_LINK_KEYS (views/share.py) lists the widget keys a link may carry; anything else
    but the catalog version is dropped,
    so a widget bound to the URL but missing from it would lose its link value."""
    bound: set[str] = set()
    pages = [p for p in sorted((ROOT / "views").glob("*.py")) if p.name != "share.py"]
    for path in [ROOT / "streamlit_app.py", *pages]:  # share.py holds the wrappers
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            words = {k.arg: k.value for k in node.keywords}
            binds = (isinstance(words.get("bind"), ast.Constant)
                     and words["bind"].value == "query-params")  # type: ignore[attr-defined]
            if binds or name in ("link_number_input", "link_slider"):
                key = words.get("key")
                assert isinstance(key, ast.Constant), (path.name, node.lineno)
                bound.add(key.value)
    assert bound == set(WIDGET_LINK_KEYS), (sorted(bound - WIDGET_LINK_KEYS),
                                          sorted(WIDGET_LINK_KEYS - bound))


def test_an_offered_code_is_never_called_invalid_and_every_multiselect_value_is_kept() -> None:
    at = open_link("views/benchmark.py", {"subtype": "CCS"})
    assert at.selectbox(key="subtype").value == "CCS"
    assert "CCS" in at.selectbox(key="subtype").options
    assert "not valid here" not in notice_of(at)
    at = open_page("views/summary.py",
                   query={"summary_subtypes": ["lms", "ups", "XX"]})  # type: ignore[dict-item]
    assert at.multiselect(key="summary_subtypes").value == ["LMS", "UPS"]
    notice = notice_of(at)
    assert "'XX'" in notice and "'lms'" not in notice and "'ups'" not in notice, notice
    link = at.code[-1].value
    assert "summary_subtypes=LMS&summary_subtypes=UPS" in link, link


def test_an_unknown_parameter_is_named_as_such_not_as_a_bad_value() -> None:
    at = open_link("views/benchmark.py", {"utm_source": "mail", "subtype": "LMS"})
    notice = notice_of(at)
    assert "utm_source='mail'" in notice and "not a setting of this app" in notice, notice
    assert "default is used" not in notice, notice  # nothing of the app was replaced
    assert "utm_source" not in at.code[-1].value
