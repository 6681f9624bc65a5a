"""AppTest of the benchmark page: what the user sees changes with each control.

Expectations come from the catalog (data/trials.csv) and the seed paper, never from the page's
own earlier output.
"""

import html

import pytest
from apptest import chart_data, chart_specs, open_link, open_page, page_text, unfold

from comparators.evidence.catalog import load_catalog
from comparators.evidence.labels import arm_labels


def forest_data(at):
    """The forest's row table (the dataset with a 'kind' column)."""
    return next(d for d in chart_data(at) if "kind" in d.columns)


def class_table(at):
    return next(d.value for d in at.dataframe if "scope" in d.value.columns).set_index("class")


@pytest.fixture(scope="module")
def asps_comparators():
    t = load_catalog().trials
    rows = t[(t["subtype"] == "ASPS") & (t["study"] != "LIU2023")
             & (t["overlaps_with"].fillna("") == "")]
    return rows


def test_asps_forest_shows_this_cohort_beside_comparator_class_pools(asps_comparators) -> None:
    at = open_page("views/benchmark.py")
    assert at.selectbox(key="subtype").value == "ASPS"
    metrics = {m.label: m.value for m in at.metric}
    # Liu 2023, Results: 5 PR of 7 evaluable ASPS patients = 71.4%.
    assert metrics["This cohort (Liu 2023): ORR"] == "71.4%"
    rows = forest_data(at)
    assert list(rows.loc[rows["highlight"], "events_n"]) == ["5/7"]
    k_ai = int((asps_comparators["regimen_class"] == "AI+ICI").sum())
    assert f"AI+ICI pooled, comparators only (k = {k_ai})" in set(rows["label"])
    # Arms are labelled "Author Year · arm" (ids only in the data), with verification marks.
    labels = arm_labels(load_catalog().trials, load_catalog().references)
    wilky = labels["WILKY2019 · axitinib + pembrolizumab"]
    assert any(label.startswith(wilky) for label in rows["label"])
    assert not any(label.startswith("WILKY2019 ·") for label in rows["label"])
    assert "restricted maximum-likelihood" in at.code[0].value
    # The investigator's two questions are the headline.
    assert any(label.startswith("This cohort vs AI+ICI pooled") for label in metrics)
    assert any(label.startswith("AI+ICI pooled") and "vs ICI pooled" in label
               for label in metrics)


def test_model_exclusions_and_subtype_change_the_numbers() -> None:
    at = open_page("views/benchmark.py")
    before = class_table(at).loc["AI+ICI", "estimate"]
    at.selectbox(key="method").set_value("GLMM").run()
    assert not at.exception
    assert class_table(at).loc["AI+ICI", "estimate"] != before
    assert "random-intercept logistic" in at.code[0].value

    k = class_table(at).loc["AI+ICI", "k"]
    drop = next(r for r in forest_data(at).itertuples()  # an arm named otherwise than its id
                if r.kind == "study" and r.group == "AI+ICI" and not r.highlight
                and not r.label.startswith(r.study.split(" · ")[0])).study
    at.multiselect(key="exclude").set_value([drop]).run()
    assert class_table(at).loc["AI+ICI", "k"] == k - 1
    assert drop not in set(forest_data(at)["study"])
    name = arm_labels(load_catalog().trials, load_catalog().references)[drop]
    assert f"Left out by the user: {name}" in at.code[0].value
    subtitle = " ".join(str(s) for s in chart_specs(at)[0]["title"]["subtitle"])
    assert f"Left out: {name}" in subtitle  # and so in the PNG/SVG export

    at.selectbox(key="subtype").set_value("UPS").run()
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["This cohort (Liu 2023): ORR"] == "no data"


def test_a_link_with_cli_codes_opens_that_view() -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "method": "GLMM", "ci_level": "0.9",
                                          "reference": "20.0"})
    assert at.selectbox(key="subtype").value == "LMS"
    assert at.selectbox(key="method").value == "GLMM"
    assert "reference 20%" in str(chart_data(at))
    assert "1/2" in set(forest_data(at)["events_n"])  # Liu 2023: one of two LMS responded
    assert "90% CI" in page_text(at) + str(chart_specs(at))
    assert not any("not valid here" in w.value for w in at.warning)


def test_invalid_link_values_fall_back_with_a_notice_listing_the_valid_ones() -> None:
    at = open_link("views/benchmark.py", {"subtype": "NOT-A-SUBTYPE", "method": "DROP TABLE",
                                          "ci_level": "2"})
    assert at.selectbox(key="subtype").value == "ASPS"
    assert at.selectbox(key="method").value == "REML"
    # The notice is Markdown with the link's values escaped (reports.markup): read it as shown.
    notices = " ".join(w.value for w in at.warning).replace("\\", "")
    assert "not valid here" in notices and "subtype='NOT-A-SUBTYPE'" in notices
    assert "method='DROP TABLE'" in notices and "ci_level='2'" in notices
    assert "method: FE, DL, PM, ML, REML, GLMM" in notices
    assert "ci_level: 0.95, 0.9, 0.8, 0.99" in notices


def test_comparisons_and_methods_name_their_tests() -> None:
    at = unfold(open_page("views/benchmark.py"), "comparisons_open")
    table = next(d.value for d in at.dataframe if "test" in d.value.columns)
    assert {"difference", "low", "high", "p"} <= set(table.columns)
    assert "Wilson score intervals" in at.code[0].value
    assert "Benchmark a subtype" in page_text(at)
    assert "p = 0.0000" not in page_text(at)


def test_the_forest_figure_carries_the_legend_of_the_marks_it_shows() -> None:
    """An exported forest PNG/SVG showed †‡§* marks without their legend: the figure's own
    subtitle explains every mark its arm labels carry, and no other (evidence.labels)."""
    from comparators.reports.export import chart_svg
    from comparators.vocab import MARKS

    at = open_page("views/benchmark.py")
    for subtype in ("ASPS", "UPS", "LMS"):
        at.selectbox(key="subtype").set_value(subtype).run()
        spec = chart_specs(at)[0]
        subtitle = " ".join(spec["title"]["subtitle"])  # lines wrapped to the figure's width
        used = {m for label in forest_data(at).query("kind == 'study'")["label"]
                for m in MARKS if label.endswith(m)}
        assert used, subtype  # every one of these subtypes has a marked arm
        explained = {m for m, mark in MARKS.items() if f"{m} {mark.legend}" in subtitle}
        assert explained == used, subtype
        svg = chart_svg(spec)  # what "Download SVG" writes
        for m in used:
            assert html.escape(MARKS[m].name) in svg, (subtype, m)
        # not repeated under the chart as page text
        assert not any(MARKS["‡"].legend in str(c.value) for c in at.caption)


def test_arms_have_one_name_in_the_forest_the_tables_the_methods_and_the_menu() -> None:
    labels = arm_labels(load_catalog().trials, load_catalog().references)
    drop = "A091401 · nivolumab"
    at = unfold(open_link("views/benchmark.py", {"subtype": "LMS", "exclude": drop}),
                "comparisons_open")
    name = labels[drop]  # "D'Angelo 2018 · nivolumab"
    assert at.multiselect(key="exclude").value == [drop]  # the stored value stays the key
    methods = at.code[0].value
    assert f"Left out by the user: {name}" in methods and drop not in methods
    assert "A091401 ·" not in methods and "SARC028 ·" not in methods  # corrected arms named too
    table = next(d.value for d in at.dataframe if "b_label" in d.value.columns)
    assert "A091401 · nivolumab + ipilimumab" not in set(table["b_label"])
    assert labels["A091401 · nivolumab + ipilimumab"] in set(table["b_label"])
    rows = forest_data(at)
    assert labels["A091401 · nivolumab + ipilimumab"] in " ".join(rows["label"])
    # a link names the arm as the menu shows it, and opens the same view
    by_name = open_link("views/benchmark.py", {"subtype": "LMS", "exclude": name})
    assert by_name.multiselect(key="exclude").value == [drop]
    assert by_name.code[0].value == methods


def test_the_leave_out_menu_offers_the_arms_of_the_subtype_shown_by_name() -> None:
    cat = load_catalog()
    labels = arm_labels(cat.trials, cat.references)
    t = cat.trials

    def pooled_arms(subtype: str) -> set[str]:
        rows = t[(t["subtype"] == subtype) & (t["study"] != "LIU2023")
                 & (t["overlaps_with"].fillna("") == "")]
        return {labels[f"{s} · {a}"] for s, a in zip(rows["study"], rows["arm"], strict=True)}

    at = open_page("views/benchmark.py")
    menu = at.multiselect(key="exclude")
    assert set(menu.options) == pooled_arms("ASPS")  # names, not ids, and only ASPS arms
    at.selectbox(key="subtype").set_value("LMS").run()
    assert set(at.multiselect(key="exclude").options) == pooled_arms("LMS")
    drop = "A091401 · nivolumab + ipilimumab"
    at.multiselect(key="exclude").set_value([drop]).run()
    at.selectbox(key="subtype").set_value("ASPS").run()
    # left out everywhere: the choice survives on a subtype whose arms do not include it
    assert at.multiselect(key="exclude").value == [drop]
    assert set(at.multiselect(key="exclude").options) == pooled_arms("ASPS") | {labels[drop]}


def comparison_captions(at) -> list[str]:
    return [str(c.value) for c in at.caption if "; patients " in str(c.value)]


def test_a_cohort_inside_its_class_pool_is_compared_with_the_other_arms_only() -> None:
    """With 'This cohort inside its class pool' on, the cohort was compared with a pool that
    contained it (LMS primary-only: the cohort alone, '+0.0 points, p = 1.000')."""
    outside = open_link("views/benchmark.py", {"subtype": "ASPS"})
    inside = open_link("views/benchmark.py", {"subtype": "ASPS", "include_cohort": "true"})
    k = int(class_table(outside).loc["AI+ICI", "k"])
    before = {m.label: m.value for m in outside.metric}
    after = {m.label: m.value for m in inside.metric}
    label = f"This cohort vs the other AI+ICI arms pooled (k = {k})"
    # the same comparison as with the cohort outside: the pool of the comparators only
    assert after[label] == before[f"This cohort vs AI+ICI pooled (k = {k})"]
    assert comparison_captions(inside)[0] == comparison_captions(outside)[0]
    table = next(d.value for d in inside.dataframe if "scope" in d.value.columns)
    assert "the pool this cohort is compared with" in " ".join(table["scope"])
    assert class_table(inside).loc["AI+ICI", "k"].max() == k + 1  # the class pool has it
    # "other" names only the pool that leaves this cohort out of its own class (AI+ICI);
    # the ICI pool never held it and is named as it is
    ici = int(class_table(inside).loc["ICI", "k"])
    (versus_ici,) = [m.label for m in inside.metric if m.label.endswith(
        f"vs ICI pooled (k = {ici})")]
    assert "other" not in versus_ici
    assert sum("other" in m.label for m in inside.metric) == 1

    alone = open_link("views/benchmark.py", {"subtype": "LMS", "include_cohort": "true",
                                              "primary_only": "true"})
    assert not any(m.label.startswith("This cohort vs") for m in alone.metric)
    text = page_text(alone)
    assert "p = 1.000" not in text and "+0.0 points" not in text
    assert "only AI+ICI arm" in text  # says why there is no comparison


def test_with_hksj_the_p_values_follow_the_wider_intervals() -> None:
    """HKSJ widened the LMS intervals (-6.9..+47.9 to -16.9..+93.0) while p stayed 0.233 and
    0.399: p is now the p-value of the interval shown, so it rises with it."""
    import re

    def shown(at) -> list[tuple[float, float, float]]:
        out = []
        for c in comparison_captions(at):
            low, high = (float(v) for v in re.findall(r"([+-]\d+\.\d) to ([+-]\d+\.\d)", c)[0])
            out.append((low, high, float(re.search(r"p = (\d\.\d+)", c).group(1))))
        return out

    wald = shown(open_link("views/benchmark.py", {"subtype": "LMS"}))
    hksj = shown(open_link("views/benchmark.py", {"subtype": "LMS", "hksj": "true"}))
    assert len(wald) == len(hksj) == 2
    for (lo0, hi0, p0), (lo1, hi1, p1) in zip(wald, hksj, strict=True):
        assert hi1 - lo1 > hi0 - lo0 and p1 > p0
        for low, high, p in ((lo0, hi0, p0), (lo1, hi1, p1)):
            assert (p < 0.05) == (low > 0 or high < 0)


def test_bayesian_mode_shows_posterior_probabilities_and_no_p_values() -> None:
    at = unfold(open_link("views/benchmark.py", {"subtype": "LMS", "method": "BAYES"}),
                "comparisons_open")
    captions = comparison_captions(at)
    assert len(captions) == 2
    for c in captions:
        assert "95% CrI" in c and "P(difference > 0)" in c and "p =" not in c
    text = page_text(at)
    # every class was estimated; none is "left out of the test (not estimable)"
    assert "left out of the test" not in text and "(not estimable)" not in text
    assert "no test for subgroup differences" in text
    assert "Test for subgroup differences between classes" not in text
    table = next(d.value for d in at.dataframe if "b_label" in d.value.columns)
    assert "prob_positive" in table.columns and "p" not in table.columns
    assert table["prob_positive"].between(0, 1).all()
    assert "No p-values are computed" in at.code[0].value
    # an arm's own interval stays a confidence interval; only the pools' are credible
    spec = chart_specs(at)[0]
    assert "arms: Wilson 95% CI;" in " ".join(spec["title"]["subtitle"])
    assert "95% CI (arms) / CrI (pools)" in str(spec)


def test_missing_heterogeneity_statistics_are_blank_and_explained() -> None:
    at = open_link("views/benchmark.py", {"subtype": "LMS", "method": "BAYES"})
    table = next(d.value for d in at.dataframe if "scope" in d.value.columns)
    assert set(table["i2"]) == {""}  # the Bayesian model defines no I², never "None"
    assert all(t != "" for t in table["tau2"])  # posterior median of τ² for every class
    assert any("Blank τ² or I²" in str(c.value) and "defines no I²" in str(c.value)
               for c in at.caption)
    at = open_link("views/benchmark.py", {"subtype": "UPS"})  # AI+ICI: every arm 0%
    table = next(d.value for d in at.dataframe if "scope" in d.value.columns)
    row = table[table["class"] == "AI+ICI"].iloc[0]
    assert (row["tau2"], row["i2"]) == ("", "")
    assert "None" not in " ".join(map(str, table.to_numpy().ravel()))
