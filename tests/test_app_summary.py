"""AppTest of the evidence summary page: what the user reads follows the subtypes, the URL,
the benchmark page's model and the highlighted cohort."""

from apptest import ENTRY, chart_data, download_bytes, open_page, page_text
from streamlit.testing.v1 import AppTest

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import ThisCohort, published_cohort
from views.common import SCENARIO_KEY


def default_benchmark(subtype: str):
    """What the benchmark page pools by default, from data/trials.csv (k grows with the catalog)."""
    trials = load_catalog().trials
    return benchmark_subtype(subtype_rows(trials, published_cohort(trials), subtype))


def narratives(at) -> list[str]:
    """Each section's lead (its first paragraph: 'In ASPS, the ORR was …')."""
    return [m.value for m in at.markdown if m.value.startswith("In ")
            and ", the ORR was" in m.value]


def test_default_view_is_asps_with_this_cohorts_5_of_7() -> None:
    at = open_page("views/summary.py")
    assert at.multiselect(key="summary_subtypes").value == ["ASPS"]
    assert [h.value for h in at.header][:1] == ["ASPS – alveolar soft part sarcoma"]
    (text,) = narratives(at)
    # Liu et al. 2023, Results: 5 of 7 evaluable ASPS patients had a PR.
    assert "5 of 7 (71.4%, 95% CI 35.9–91.8%, Wilson) responded" in text
    assert "Model: random-effects REML, logit scale" in \
        page_text(at)
    rows = next(d for d in chart_data(at) if "kind" in d.columns)
    assert list(rows.loc[rows["highlight"], "events_n"]) == ["5/7"]
    table = next(d.value for d in at.dataframe if "counts" in d.value.columns)
    assert "6/11" in set(table["counts"])  # WILKY2019
    assert {"Methods", "References", "Download"} <= {h.value for h in at.header}
    # (each section's reproduction bundle is tested in test_app_certainty.py)
    labels = [b.label for b in at.get("download_button")
              if not b.label.startswith("Reproduction bundle")]
    assert labels == ["Markdown", "BibTeX", "RIS", "Data (CSV)", "Data (Parquet)"]


def test_changing_the_subtype_changes_the_narrative() -> None:
    at = open_page("views/summary.py")
    before = narratives(at)
    at.multiselect(key="summary_subtypes").set_value(["UPS"]).run()
    assert not at.exception
    after = narratives(at)
    assert after != before
    k = default_benchmark("UPS").class_fits["AI+ICI"].k
    assert after[0].startswith("In UPS, the ORR was") and f"in {k} arms" in after[0]
    # Liu 2023 Table 1 lists 3 UPS patients; their responses are not itemised in the paper.
    assert "lists 3 UPS patients in its Table 1 but does not itemise their responses" in after[0]
    assert [h.value for h in at.header][0] == "UPS – undifferentiated pleomorphic sarcoma"
    at.multiselect(key="summary_subtypes").set_value([]).run()
    assert "Choose at least one subtype" in page_text(at)


def test_query_params_reproduce_a_view() -> None:
    at = open_page("views/summary.py", query={
        "summary_subtypes": ["UPS", "LMS"],
        "summary_classes": "ICI",
    })
    assert at.multiselect(key="summary_subtypes").value == ["UPS", "LMS"]
    assert at.multiselect(key="summary_classes").value == ["ICI"]
    ups, lms = narratives(at)
    k_ups = default_benchmark("UPS").class_fits["ICI"].k
    k_lms = default_benchmark("LMS").class_fits["ICI"].k
    for text, k in ((ups, k_ups), (lms, k_lms)):
        assert f"; {k} arms, " in text and "for ICI alone" in text and "AI+ICI" not in text
    assert "1 of 2 (50.0%" in lms  # Liu 2023: one of two LMS patients responded
    # one forest plot per subtype (beside each, the risk-of-bias traffic lights)
    assert sum("kind" in d.columns for d in chart_data(at)) == 2


def test_summary_uses_the_benchmark_pages_model_and_numbers() -> None:
    at = open_page("views/benchmark.py")
    at.selectbox(key="method").set_value("GLMM").run()
    classes = next(d.value for d in at.dataframe if "scope" in d.value.columns)
    ai_ici = classes.set_index("class").loc["AI+ICI"]
    at.switch_page("views/summary.py")
    at.run()
    assert not at.exception
    assert "Model: binomial-normal GLMM" in page_text(at)
    assert (f"the ORR was {ai_ici['estimate']:.1f}% (95% CI {ai_ici['low']:.1f}–"
            f"{ai_ici['high']:.1f}%") in narratives(at)[0]


def test_a_hypothetical_cohort_is_labelled_everywhere() -> None:
    trials = load_catalog().trials
    rows = published_cohort(trials).rows.copy()
    rows.loc[rows["subtype"] == "ASPS", "responders"] = 6
    rows["study"] = "LIU2023 (hypothetical)"
    cohort = ThisCohort("LIU2023 (hypothetical)", "<b>What-if</b> cohort", rows,
                        kind="hypothetical", caveat="Edited counts; not observed data.",
                        replaces="LIU2023", derived_from=published_cohort(trials).digest)
    at = AppTest.from_file(ENTRY, default_timeout=60)
    at.session_state[SCENARIO_KEY] = cohort
    at.run()
    at.switch_page("views/summary.py")
    at.run()
    assert not at.exception
    assert any("not observed data" in w.value for w in at.warning)  # the shared banner
    assert any("HYPOTHETICAL scenario, not observed data" in w.value for w in at.warning)
    (text,) = narratives(at)
    text = text.replace("\\[", "[").replace("\\]", "]")  # brackets are escaped in Markdown
    assert "[HYPOTHETICAL scenario, not observed data], 6 of 7 (85.7%" in text
    assert "In \\<b>What-if\\</b> cohort [HYPOTHETICAL" in text  # reaches markdown escaped
    table = next(d.value for d in at.dataframe if "counts" in d.value.columns)
    assert table.loc[table["counts"] == "6/7", "verified"].item() == \
        "HYPOTHETICAL scenario, not observed data"


def test_word_and_html_are_prepared_on_request() -> None:
    at = open_page("views/summary.py")
    assert "Word (.docx)" not in [b.label for b in at.get("download_button")]
    at.button(key="summary_prepare").click().run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert {"Word (.docx)", "HTML"} <= set(labels)
    (status,) = at.status
    assert status.label == "Word and HTML files ready"
    assert status.icon == ":material/check:"  # state "complete"
    # the page's Word file embeds the forest plot and the PRISMA flow of the search log
    import io

    import docx

    from comparators.evidence.search_log import prisma_flow

    document = docx.Document(io.BytesIO(download_bytes(at, "dl_summary_docx")))
    assert len(document.inline_shapes) == 2
    caption = next(p.text for p in document.paragraphs
                   if p.text.startswith("Figure 2. How the comparator catalog was found"))
    flow = prisma_flow()
    assert f"{flow.studies} studies included in {flow.reports} reports" in caption
    html = download_bytes(at, "dl_summary_html").decode("utf-8")
    assert html.count("<figure><svg") == 2 and "Studies included in review" in html
    # a different subtype needs new figures: the buttons wait for a new request
    at.multiselect(key="summary_subtypes").set_value(["LMS"]).run()
    assert "Word (.docx)" not in [b.label for b in at.get("download_button")]


def test_each_section_leads_with_the_answers_and_the_legend_and_methods_are_shown_once() -> None:
    from comparators.vocab import MARKS

    at = open_page("views/summary.py", query={"summary_subtypes": ["ASPS", "UPS", "LMS"]})
    leads = narratives(at)
    assert [t.split(",")[0] for t in leads] == ["In ASPS", "In UPS", "In LMS"]
    tables = [d.value for d in at.dataframe if "Refs." in d.value.columns]
    assert len(tables) == 3 and all(list(t.columns)[0] == "Class" for t in tables)
    assert all("None" not in " ".join(map(str, t.to_numpy().ravel())) for t in tables)
    text = page_text(at).replace("\\", "")
    for mark in MARKS.values():
        assert text.count(mark.legend) <= 1
    assert text.count(MARKS["‡"].legend) == 1  # every section has a secondary-source arm
    methods = [c.value for c in at.main.code]
    assert sum("were pooled per regimen class" in m for m in methods) == 1
    assert "in ASPS, UPS and LMS were pooled" in methods[0]
    assert all(m.split(":")[0] in {"ASPS", "UPS", "LMS"} for m in methods[1:])
