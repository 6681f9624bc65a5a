"""AppTest of the Across subtypes page: the class pools and differences per subtype."""

from apptest import chart_data, open_page, page_text

from comparators.evidence.catalog import load_catalog


def pools(at):
    return next(d.value for d in at.dataframe if "label" in d.value.columns)


def test_pooled_ai_ici_vs_ici_per_subtype() -> None:
    at = open_page("views/across.py")
    trials = load_catalog().trials
    comparators = trials[(trials["study"] != "LIU2023")
                         & (trials["overlaps_with"].fillna("") == "")]
    has = comparators.groupby("subtype")["regimen_class"].agg(set)
    expected = {s for s, classes in has.items() if {"AI+ICI", "ICI"} <= classes}
    diff = next(d.value for d in at.dataframe if "difference" in d.value.columns)
    # soft-tissue histologies only, as in the borrowing model: no aggregate row and no bone
    # tumour (data/subtypes.csv notes each as such)
    subtypes = load_catalog().subtypes
    bone = set(subtypes.loc[subtypes["note"].str.contains("Bone", na=False), "code"])
    assert {"OS", "CHS"} <= bone and {"OS", "CHS"} <= expected  # the data make it a test
    assert set(diff["subtype"]) == expected - {"STS", "SARCOMA"} - bone
    (caption,) = [line for line in page_text(at).splitlines()
                  if line.startswith("Soft-tissue subtypes only: bone tumours (")]
    assert "chondrosarcoma" in caption and "osteosarcoma" in caption
    # UPS AI+ICI: every comparator arm in the catalog, summed, as the chart draws it.
    data = chart_data(at)[0]
    ups = comparators[(comparators["subtype"] == "UPS") & (comparators["regimen_class"]
                                                           == "AI+ICI")]
    row = data[(data["subtype"] == "UPS") & (data["class"] == "AI+ICI")].iloc[0]
    assert (row["events"], row["n"], row["k"]) == (
        int(ups["responders"].sum()), int(ups["evaluable"].sum()), len(ups))
    asps = data[(data["subtype"] == "ASPS") & (data["class"] == "AI+ICI")].iloc[0]
    assert not asps["includes_cohort"]  # comparators only, as on the benchmark page


def test_model_follows_the_sidebar_across_pages_and_toggle_shows_all() -> None:
    at = open_page("views/across.py")
    reml = pools(at)["estimate"].round(6).tolist()
    at.switch_page("views/benchmark.py")
    at.run()
    at.selectbox(key="method").set_value("FE").run()
    at.switch_page("views/across.py")
    at.run()
    assert at.selectbox(key="method").value == "FE"  # the sidebar kept the choice
    assert pools(at)["estimate"].round(6).tolist() != reml
    narrow = set(pools(at)["subtype"])
    at.toggle(key="meta_all").set_value(True).run()
    trials = load_catalog().trials
    assert set(pools(at)["subtype"]) > narrow
    assert set(pools(at)["subtype"]) <= set(trials["subtype"]) - {"STS", "SARCOMA"}


def test_the_differences_table_shows_the_evidence_of_the_model_in_use() -> None:
    """Across subtypes reads the same comparisons as the Benchmark page: p-values that follow
    the HKSJ interval, posterior probabilities (no p) under the Bayesian model."""
    def table(query):
        at = open_page("views/across.py", query)
        return next(d.value for d in at.dataframe if "evidence" in d.value.columns)

    wald, hksj = table({}), table({"hksj": "true"})
    assert wald["evidence"].str.startswith("p ").all()
    assert (wald["evidence"] != hksj["evidence"]).any()
    bayes = table({"method": "BAYES"})
    assert bayes["evidence"].str.startswith("P(difference > 0)").all()
