"""The catalog's version history on screen, and a shared link that names its catalog version.

Expected texts come from data/catalog.json and data/catalog_history.csv (read here with the
standard library), so a new catalog version never breaks these tests.
"""

import csv
import json
from pathlib import Path

from apptest import open_page

DATA = Path(__file__).resolve().parent.parent / "data"
VERSION = json.loads((DATA / "catalog.json").read_text())["catalog_version"]
with (DATA / "catalog_history.csv").open(newline="", encoding="utf-8") as fh:
    HISTORY = list(csv.DictReader(fh))


def notices(at) -> str:
    return "\n".join(str(e.value) for kind in ("info", "warning") for e in at.get(kind))


def test_trials_page_shows_what_each_version_changed() -> None:
    at = open_page("views/catalog.py")
    (expander,) = [e for e in at.expander if "What changed" in e.label]
    assert f"catalog {VERSION}" in expander.label
    text = "\n".join(m.value for m in expander.markdown)
    for release in HISTORY:  # newest first, each with what it changed
        assert f"- **{release['version']}** ({release['date']}): {release['summary'][:30]}" \
            in text
    versions = [line.split("**")[1] for line in text.splitlines()]
    assert versions == [r["version"] for r in reversed(HISTORY)]


def test_the_share_link_names_the_catalog_version() -> None:
    at = open_page("views/catalog.py", query={"ci_method": "jeffreys"})
    link = next(c.value for c in at.code if "ci_method=" in c.value)
    assert f"catalog={VERSION}" in link and "ci_method=jeffreys" in link


def test_a_link_from_an_older_catalog_says_what_changed_since() -> None:
    first = HISTORY[0]["version"]
    at = open_page(query={"catalog": first})
    shown = notices(at)
    assert f"made with catalog {first}" in shown and f"uses comparator catalog {VERSION}" in shown
    for release in HISTORY[1:]:  # every later version is named with what it changed
        assert f"{release['version']} ({release['date']})" in shown
    assert f"{first} ({HISTORY[0]['date']})" not in shown
    # the notice is shown once: moving to another page does not repeat it
    at.switch_page("views/catalog.py")
    at.run()
    assert "made with catalog" not in notices(at)


def test_a_link_from_this_catalog_opens_quietly() -> None:
    at = open_page(query={"catalog": VERSION})
    assert "catalog" not in notices(at)


def test_a_link_from_a_newer_or_unknown_catalog() -> None:
    newer = open_page(query={"catalog": "999.0.0"})
    assert "which is newer than this app's" in notices(newer)
    # a value from the URL is shown as text, never as markup
    hostile = open_page(query={"catalog": "**bold** <script>x</script>"})
    shown = notices(hostile)
    assert "is not a catalog version" in shown
    assert "\\*\\*bold\\*\\* \\<script>" in shown  # escaped: Markdown shows it literally
