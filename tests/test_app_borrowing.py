"""AppTest: the borrowing section of Across subtypes, and the Bayesian model on the benchmark
page (what the user sees)."""

from apptest import chart_specs, open_page, page_text

from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort


def _borrow_table(at):
    return next(d.value for d in at.dataframe if "Shrunken ORR (%)" in d.value.columns)


def test_across_subtypes_shows_shrunken_orr_per_subtype_with_prior() -> None:
    at = open_page("views/across.py")
    text = page_text(at)
    assert "Borrowing strength across subtypes" in text
    assert "half-normal prior on τ (scale 1)" in text  # the prior is printed with the result
    table = _borrow_table(at).set_index("Subtype")
    # AI+ICI evidence per subtype, summed from the catalog exactly as the benchmark selects it
    # (the seed's own rows and overlapping cohorts left out; this cohort outside the class
    # pools by default, as in the rest of the page).
    trials = load_catalog().trials
    cohort = published_cohort(trials)
    others = trials[(trials["regimen_class"] == "AI+ICI")
                    & ~trials["study"].isin({cohort.study, cohort.replaces})
                    & (trials["overlaps_with"].fillna("") == "")
                    & ~trials["subtype"].isin({"STS", "SARCOMA"})]
    for subtype in ("ASPS", "UPS", "LMS"):
        rows = others[others["subtype"] == subtype]
        assert table.loc[subtype, "Responders"] == int(rows["responders"].sum())
        assert table.loc[subtype, "Evaluable"] == int(rows["evaluable"].sum())
    assert "this cohort is not one of the AI+ICI arms" in text
    # UPS is 0/16 observed: the hierarchical model pulls it up towards the class, not to 0.
    assert table.loc["UPS", "Observed ORR (%)"] == 0
    assert 0 < table.loc["UPS", "Shrunken ORR (%)"] < table.loc["ASPS", "Shrunken ORR (%)"]
    for s in table.index:
        assert (table.loc[s, "95% CrI low (%)"] <= table.loc[s, "Shrunken ORR (%)"]
                <= table.loc[s, "95% CrI high (%)"])
    spec = next(s for s in chart_specs(at) if "shrunken" in str(s.get("title", "")))
    assert any(layer.get("encoding", {}).get("shape", {}).get("field") == "direction"
               for layer in spec["layer"])  # the arrow heads
    assert "Download shrunken estimates (CSV)" in [b.label for b in at.get("download_button")]


def test_prior_scale_and_exnex_change_what_is_shown() -> None:
    at = open_page("views/across.py")
    base = _borrow_table(at).set_index("Subtype")
    at.segmented_control(key="borrow_tau").set_value(2.0).run()
    assert not at.exception
    wide = _borrow_table(at).set_index("Subtype")
    assert "half-normal prior on τ (scale 2)" in page_text(at)
    # A wider tau prior lets subtypes keep more of their own data: UPS moves less.
    assert wide.loc["UPS", "Shrunken ORR (%)"] < base.loc["UPS", "Shrunken ORR (%)"]
    at.toggle(key="borrow_exnex").set_value(True).run()
    assert not at.exception
    exnex = _borrow_table(at)
    assert "P(exchangeable)" in exnex.columns
    assert exnex["P(exchangeable)"].between(0, 1).all()
    assert "EXNEX: prior probability of exchangeability 0.5" in page_text(at)
    at.selectbox(key="borrow_class").set_value("ICI").run()
    assert not at.exception and len(_borrow_table(at)) >= 2


def test_choosing_the_bayesian_model_renders_everywhere() -> None:
    at = open_page("views/benchmark.py")
    at.selectbox(key="method").set_value("BAYES").run()
    assert not at.exception
    assert "half-normal prior on τ (scale 1)" in page_text(at)
    for page in ("views/across.py", "views/summary.py", "views/planning.py", "views/whatif.py"):
        at.switch_page(page)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])


def test_bayesian_design_takes_the_predictive_of_a_new_arm_as_prior() -> None:
    at = open_page("views/whatif.py")
    at.radio(key="bayes_prior").set_value("Predictive of a new arm (Bayesian)").run()
    assert not at.exception
    text = page_text(at)
    assert "predictive distribution of a new arm" in text and "moment-matched to Beta(" in text
    assert any(m.label == "Predictive probability of success" for m in at.metric)


def test_a_link_with_borrowing_settings_opens_them() -> None:
    """A link carries the class, the τ prior scale, EXNEX and P(exchangeable) (the browser test
    copies one from the sidebar); opened, the section shows the model they name."""
    query = {"borrow_class": "ICI", "borrow_tau": "2", "borrow_exnex": "true",
             "borrow_pex": "0.7"}
    at = open_page("views/across.py", query)
    text = page_text(at)
    assert "not valid here" not in text
    assert at.selectbox(key="borrow_class").value == "ICI"
    assert at.segmented_control(key="borrow_tau").value == 2.0
    assert at.toggle(key="borrow_exnex").value is True
    assert at.slider(key="borrow_pex").value == 0.7
    assert "half-normal prior on τ (scale 2)" in text
    assert "EXNEX: prior probability of exchangeability 0.7" in text
    assert "P(exchangeable)" in _borrow_table(at).columns
    link = at.code[-1].value
    assert all(f"{k}={v}" in link for k, v in query.items()), link


def test_this_cohort_joins_the_borrowing_model_only_with_the_sidebars_toggle() -> None:
    # Liu et al. 2023 (the seed), Table 2: ASPS 5/7 responders on AI+ICI.
    outside = _borrow_table(open_page("views/across.py")).set_index("Subtype")
    at = open_page("views/across.py", {"include_cohort": "true"})
    inside = _borrow_table(at).set_index("Subtype")
    assert inside.loc["ASPS", "Responders"] == outside.loc["ASPS", "Responders"] + 5
    assert inside.loc["ASPS", "Evaluable"] == outside.loc["ASPS", "Evaluable"] + 7
    assert "this cohort is counted among the AI+ICI arms" in page_text(at)


def test_no_bone_sarcoma_is_a_unit_of_the_ici_model() -> None:
    at = open_page("views/across.py", {"borrow_class": "ICI"})
    assert not set(_borrow_table(at)["Subtype"]) & {"OS", "EWING", "CHS", "CHORDOMA"}
