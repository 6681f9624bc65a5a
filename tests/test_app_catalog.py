"""AppTest of the comparator-trial catalog page: filters change the rows; links and downloads."""

import re

from apptest import open_page, page_text

from comparators.evidence.catalog import load_catalog


def test_every_row_shown_with_links_and_orr() -> None:
    at = open_page("views/catalog.py")
    table = at.dataframe[0].value
    n = len(load_catalog().trials)  # every catalog row, however many there are
    assert len(table) == n
    sarc = table[(table["study"] == "SARC028") & (table["subtype"] == "UPS")].iloc[0]
    # Tawbi et al., Lancet Oncol 2017: 4 of 10 (40%) UPS responded.
    assert (sarc["responders"], sarc["evaluable"], round(sarc["orr_pct"], 1)) == (4, 10, 40.0)
    assert sarc["doi_link"] == "https://doi.org/10.1016/S1470-2045(17)30624-1"
    # Every row links to at least one identifier or a stable source URL.
    links = table[["doi_link", "pubmed_link", "clinicaltrials_link", "url_link"]]
    assert links.notna().any(axis=1).all()
    assert f"Rows shown {n} of {n}" in page_text(at)


def test_filters_change_the_rows_and_the_reference_list() -> None:
    at = open_page("views/catalog.py")
    at.multiselect(key="catalog_subtype").set_value(["ASPS"]).run()
    asps = at.dataframe[0].value
    trials = load_catalog().trials
    assert set(asps["subtype"]) == {"ASPS"} and len(asps) == (trials["subtype"] == "ASPS").sum()
    at.multiselect(key="catalog_class").set_value(["AI+ICI"]).run()
    combo = at.dataframe[0].value
    assert set(combo["regimen_class"]) == {"AI+ICI"} and len(combo) < len(asps)
    at.multiselect(key="catalog_verified").set_value(["primary source"]).run()
    primary = at.dataframe[0].value
    assert set(primary["verified"]) == {"primary source"}
    references = [line for m in at.markdown for line in m.value.split("\n")
                  if re.match(r"\d+\. ", line)]
    # the list holds what the rows on screen were read from and their studies' own reports
    assert len(references) == len(set(primary["ref"]) | set(primary["source_ref"]))


def test_interval_method_from_the_sidebar_applies() -> None:
    at = open_page("views/catalog.py")
    wilson = at.dataframe[0].value.iloc[0]["orr_low_pct"]
    at.selectbox(key="ci_method").set_value("clopper-pearson").run()
    assert at.dataframe[0].value.iloc[0]["orr_low_pct"] != wilson
    assert "Clopper-Pearson exact" in page_text(at)


def test_the_page_draws_the_prisma_flow_of_the_search_log() -> None:
    """Issue 24 item 3: the PRISMA 2020 flow on the Comparator trials page, its counts read from
    data/search_log.csv and data/search_records.csv (their arithmetic: tests/test_search_log.py)."""
    from apptest import chart_data

    from comparators.evidence.search_log import prisma_flow

    flow = prisma_flow()
    at = open_page("views/catalog.py")
    assert not at.exception
    # a box's text is a list of lines
    cells = {str(line) for frame in chart_data(at) for text in frame["text"]
             for line in ([text] if isinstance(text, str) else list(text if text is not None
                                                                    else []))}
    assert f"Studies included in review (n\u00a0=\u00a0{flow.studies})" in cells
    assert f"Reports of included studies (n\u00a0=\u00a0{flow.reports})" in cells
    assert "How the catalog was found" in page_text(at)
