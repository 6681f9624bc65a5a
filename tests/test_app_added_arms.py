"""AppTest of arms a user adds on the Comparator trials page: the form and the CSV upload (checked
by the catalog's validator, refusals naming the column or the limit), the download in the
catalog's format, the arm's own mark on the benchmark page, and links that never carry it."""

from __future__ import annotations

import io

import pandas as pd
from apptest import chart_data, chart_specs, open_link, open_page, page_text

from comparators.evidence.catalog import TRIAL_COLUMNS, default_data_dir, load_catalog
from comparators.evidence.labels import ADDED_BY_USER, ADDED_MARK, MARKS
from comparators.limits import MAX_ADDED_BYTES

HEADER = ("study,arm,regimen,regimen_class,ici_target,subtype,evaluable,responders,source_ref,"
          "source_type,data_cut")
ARM = ("SMITH2025,axitinib + pembrolizumab,axitinib + pembrolizumab,AI+ICI,PD-1,ASPS,10,6,"
       "Smith J. ASCO 2025 abstract 11500,conference abstract,2025-01")
CURATED = load_catalog().trials


def fill_form(at, **values) -> None:
    fields = {"study": "JONES2024", "arm": "cabozantinib + nivolumab",
              "regimen": "cabozantinib + nivolumab", "subtype": "ASPS", "evaluable": 8,
              "responders": 3, "source_ref": "Jones A. J Clin Oncol 2024",
              "source_type": "full paper", "data_cut": "2024-06", **values}
    for column, value in fields.items():
        key = f"add_{column}"
        if column in ("regimen_class", "subtype", "source_type"):
            at.selectbox(key=key).set_value(value)
        elif column in ("evaluable", "responders"):
            at.number_input(key=key).set_value(value)
        else:
            at.text_input(key=key).set_value(value)
    next(b for b in at.button if b.label == "Add this arm").click().run()
    assert not at.exception, [e.value for e in at.exception]


def shown_rows(at) -> str:
    return next(m.value for m in at.metric if m.label == "Rows shown")


def upload(at, name: str, content: bytes) -> None:
    at.file_uploader(key="add_arms_csv").set_value((name, content, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]


def test_the_form_refuses_with_the_column_then_adds_the_arm_to_the_table() -> None:
    data = (default_data_dir() / "trials.csv").read_bytes()
    at = open_page("views/catalog.py")
    assert shown_rows(at) == f"{len(CURATED)} of {len(CURATED)}"
    fill_form(at, data_cut="soon")
    errors = [e.value for e in at.error]
    assert any("column 'data_cut': 'soon' is not a data cut" in e for e in errors), errors
    assert shown_rows(at) == f"{len(CURATED)} of {len(CURATED)}"  # nothing added
    fill_form(at, data_cut="2024-06")
    assert "Added 1 arm." in page_text(at)
    assert shown_rows(at) == f"{len(CURATED) + 1} of {len(CURATED) + 1}"
    table = next(d.value for d in at.dataframe if "orr_pct" in d.value.columns)
    added = table[table["study"] == "JONES2024"]
    assert list(added["verified"]) == [ADDED_BY_USER]
    assert (default_data_dir() / "trials.csv").read_bytes() == data  # never written to data/
    # the download is the catalog's format: data/trials.csv's header, the arm's cells
    assert any(b.proto.label == "Download the arms you added (catalog CSV)"
               for b in at.get("download_button"))
    rows = at.session_state["added_arms"]
    assert list(rows["study"]) == ["JONES2024"]
    next(b for b in at.button if b.label == "Remove the arms you added").click().run()
    assert shown_rows(at) == f"{len(CURATED)} of {len(CURATED)}"
    assert "added_arms" not in at.session_state


def test_a_csv_upload_adds_its_arms_and_a_bad_one_names_the_problem() -> None:
    at = open_page("views/catalog.py")
    upload(at, "bad.csv", f"{HEADER}\n{ARM.replace(',10,6,', ',10,16,')}\n".encode())
    assert any("bad.csv row 1 (line 2), column 'responders': 16 responders exceed 10 "
               "evaluable" in e.value for e in at.error)
    upload(at, "big.csv", b"x" * (MAX_ADDED_BYTES + 1))
    assert any(f"limit of {MAX_ADDED_BYTES:,}" in e.value for e in at.error)
    assert "added_arms" not in at.session_state
    upload(at, "mine.csv", f"{HEADER}\n{ARM}\n".encode())
    assert "Added 1 arm from mine.csv." in page_text(at)
    assert shown_rows(at) == f"{len(CURATED) + 1} of {len(CURATED) + 1}"
    at.run()  # the upload stays selected: it is not added twice
    assert shown_rows(at) == f"{len(CURATED) + 1} of {len(CURATED) + 1}"
    refs = "\n".join(m.value for m in at.markdown)
    assert f"Smith J. ASCO 2025 abstract 11500 {ADDED_MARK} (added by the user" in refs


def test_the_download_reads_back_as_the_arms_added() -> None:
    from comparators.evidence.added_rows import catalog_format
    from comparators.reports.export import safe_csv

    at = open_page("views/catalog.py")
    upload(at, "mine.csv", f"{HEADER}\n{ARM}\n".encode())
    # what the button serves: the page's catalog_format rows through the one CSV writer
    served = safe_csv(catalog_format(at.session_state["added_arms"]))
    back = pd.read_csv(io.BytesIO(served), dtype=str, keep_default_na=False)
    assert list(back.columns) == list(TRIAL_COLUMNS)
    assert back.loc[0, "study"] == "SMITH2025" and back.loc[0, "data_cut"] == "2025-01"
    assert (back.loc[0, "evaluable"], back.loc[0, "responders"]) == ("10", "6")


def test_the_benchmark_page_shows_the_added_arm_with_its_mark() -> None:
    at = open_page("views/benchmark.py")
    before = int(next(d.value for d in at.dataframe if "scope" in d.value.columns)
                 .set_index("class").loc["AI+ICI", "k"])
    at.switch_page("views/catalog.py").run()
    upload(at, "mine.csv", f"{HEADER}\n{ARM}\n".encode())
    at.switch_page("views/benchmark.py").run()
    assert not at.exception
    classes = next(d.value for d in at.dataframe if "scope" in d.value.columns)
    assert int(classes.set_index("class").loc["AI+ICI", "k"]) == before + 1
    forest = next(d for d in chart_data(at) if "kind" in d.columns)
    studies = forest.query("kind == 'study'")["label"]
    assert any(label.endswith(ADDED_MARK) and "axitinib + pembrolizumab" in label
               and "SMITH2025" in label for label in studies), list(studies)
    assert (f"{ADDED_MARK} {MARKS[ADDED_MARK].legend}"
            in " ".join(chart_specs(at)[0]["title"]["subtitle"]))  # wrapped to the figure
    # another visitor's session (the same server process, the same caches) does not see it
    other = open_page("views/benchmark.py")
    classes = next(d.value for d in other.dataframe if "scope" in d.value.columns)
    assert int(classes.set_index("class").loc["AI+ICI", "k"]) == before
    assert not any(label.endswith(ADDED_MARK) for label in
                   next(d for d in chart_data(other) if "kind" in d.columns)["label"])


def test_a_share_link_says_how_many_arms_were_added_never_which() -> None:
    at = open_page("views/catalog.py")
    upload(at, "mine.csv", f"{HEADER}\n{ARM}\n".encode())
    link = next(c.value for c in at.code if "catalog=" in c.value)
    assert "added_arms=1" in link and "SMITH" not in link
    opened = open_link("views/benchmark.py", {"subtype": "ASPS", "added_arms": "1"})
    text = page_text(opened)
    assert "This link was made with 1 user-added arm that is not included" in text
    two = page_text(open_link("views/benchmark.py", {"subtype": "ASPS", "added_arms": "2"}))
    assert "This link was made with 2 user-added arms that are not included" in two
    assert "added_arms" not in opened.session_state
    assert "added_arms" not in opened.query_params
    bad = page_text(open_link("views/benchmark.py", {"subtype": "ASPS", "added_arms": "lots"}))
    assert "added_arms='lots' is not valid here" in bad
    plain = open_link("views/benchmark.py", {"subtype": "ASPS"})
    assert "user-added" not in page_text(plain)
