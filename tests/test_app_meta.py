"""AppTest of the across-subtypes page."""

from apptest import chart_data, open_page

from comparators.analysis.benchmark import pooled_by_class
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort


def test_pooled_ai_ici_vs_ici_per_subtype() -> None:
    at = open_page("views/meta.py")
    table = at.dataframe[0].value
    # Subtypes with both AI+ICI and ICI-containing evidence in data/trials.csv (derived from the
    # catalog, so adding a trial does not break the test).
    trials = load_catalog().trials
    pooled = pooled_by_class(trials, published_cohort(trials))
    both = set(pooled.loc[pooled["class"] == "AI+ICI", "subtype"]) & set(
        pooled.loc[pooled["class"].isin(["ICI", "ICI+ICI"]), "subtype"])
    assert set(table.index) == both and {"ASPS", "UPS", "LMS"} <= both
    # UPS AI+ICI arms are 0/5 (axitinib + pembrolizumab), 0/6 (sunitinib + nivolumab) and 0/5
    # (TQB2450 + anlotinib) as the seed paper reports them: all zero responders.
    data = chart_data(at)[0]
    ups = data[(data["subtype"] == "UPS") & (data["class"] == "AI+ICI")].iloc[0]
    assert (ups["responders"], ups["patients"], ups["k"]) == (0, 16, 3)
    asps = data[(data["subtype"] == "ASPS") & (data["class"] == "AI+ICI")].iloc[0]
    assert asps["includes_cohort"]


def test_model_follows_the_benchmark_page_and_toggle_shows_all() -> None:
    at = open_page("views/meta.py")
    reml = at.dataframe[0].value.loc["ASPS", "AI+ICI"]
    at.switch_page("views/benchmark.py")
    at.run()
    at.selectbox(key="method").set_value("FE").run()
    at.switch_page("views/meta.py")
    at.run()
    assert at.dataframe[0].value.loc["ASPS", "AI+ICI"] != reml
    at.toggle(key="meta_all").set_value(True).run()
    assert "CHORDOMA" in set(at.dataframe[0].value.index)
