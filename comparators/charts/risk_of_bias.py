"""Traffic-light panel of risk of bias (as robvis draws it): one row per study, one column per
MINORS item and the overall judgement, a coloured dot with its letter per judgement.

Pure: a `RiskOfBias` and the studies to show in, a Vega-Lite spec (dict) out. Colour is never
the only carrier: each dot has its judgement's letter, and the legend names every colour used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from comparators.charts.vegalite import field, top_level
from comparators.evidence.risk_of_bias import ITEMS, OVERALL, RiskOfBias

#: robvis's palette: low green, some concerns yellow, high red, unclear light blue.
COLOURS: dict[str, str] = {"low": "#02C100", "some concerns": "#E2DF07", "high": "#BF0000",
                           "unclear": "#4EA1F7"}
LETTERS: dict[str, str] = {"low": "+", "some concerns": "−", "high": "×", "unclear": "?"}
OVERALL_COLUMN = "Overall"


def traffic_light_frame(rob: RiskOfBias, studies: Sequence[str]) -> pd.DataFrame:
    """One row per (study, item or overall) with the judgement; studies without judgements
    (e.g. an arm a user added) are left out."""
    known = {s.study for s in rob.studies}
    rows = []
    for study in dict.fromkeys(studies):
        if study not in known:
            continue
        s = rob.study(study)
        for i, item in enumerate(s.items, start=1):
            rows.append({"study": study, "column": f"D{i}", "what": item.label,
                         "judgement": item.judgement, "letter": LETTERS[item.judgement],
                         "support": item.support or "not reported in the source read"})
        rows.append({"study": study, "column": OVERALL_COLUMN, "what": "Overall (MINORS score "
                     f"{s.score}/16)", "judgement": s.overall, "letter": LETTERS[s.overall],
                     "support": f"{s.unclear_items} of {len(ITEMS)} items unclear"})
    return pd.DataFrame(rows, columns=["study", "column", "what", "judgement", "letter",
                                       "support"])


def traffic_light_table(rob: RiskOfBias, studies: Sequence[str],
                        names: Mapping[str, str] | None = None) -> tuple[pd.DataFrame, str]:
    """The panel as a table for documents: one row per study, named as `names` gives it (the
    document's own study names, e.g. 'Tawbi 2017') or by its catalog id, cells '+ low',
    '? unclear', ...; and the note naming the columns and the tool."""
    frame = traffic_light_frame(rob, studies)
    cells = frame.assign(cell=frame["letter"] + " " + frame["judgement"])
    table = cells.pivot(index="study", columns="column", values="cell")
    columns = [f"D{i}" for i in range(1, len(ITEMS) + 1)] + [OVERALL_COLUMN]
    order = list(dict.fromkeys(frame["study"]))
    table = table.reindex(index=order, columns=columns).reset_index()
    table["study"] = [(names or {}).get(str(s), str(s)) for s in table["study"]]
    table = table.rename(columns={"study": "Study (MINORS)"})
    note = ("Risk of bias, " + rob.tool + ": " + "; ".join(
        f"D{i} {label.lower()}" for i, label in enumerate(ITEMS.values(), start=1)) + ".")
    return table, note


def traffic_light_chart(rob: RiskOfBias, studies: Sequence[str], title: str = "") -> dict:
    """The panel for `studies` (in that order). Column D1-D8 are MINORS' items for
    non-comparative studies, named in the subtitle."""
    frame = traffic_light_frame(rob, studies)
    order = list(dict.fromkeys(frame["study"]))
    columns = [f"D{i}" for i in range(1, len(ITEMS) + 1)] + [OVERALL_COLUMN]
    used = [j for j in OVERALL if j in set(frame["judgement"])]
    x = field("column", "ordinal", sort=columns, title=None,
              axis={"orient": "top", "labelAngle": 0})
    y = field("study", "ordinal", sort=order, title=None)
    subtitle = ["; ".join(f"D{i} {label.lower()}" for i, label in
                          enumerate(ITEMS.values(), start=1)),
                "Dots: " + "; ".join(f"{LETTERS[j]} {j}" for j in used) + ". " + rob.tool + "."]
    spec = {
        "title": {"text": title or "Risk of bias (MINORS)", "subtitle": subtitle,
                  "anchor": "start"},
        "width": 34 * len(columns), "height": {"step": 22},
        "layer": [
            {"mark": {"type": "circle", "size": 300, "opacity": 1},
             "encoding": {"x": x, "y": y,
                          "color": field("judgement", "nominal", title="Judgement",
                                         scale={"domain": used,
                                                "range": [COLOURS[j] for j in used]}),
                          "tooltip": [field("study", "nominal", title="Study"),
                                      field("what", "nominal", title="Item"),
                                      field("judgement", "nominal", title="Judgement"),
                                      field("support", "nominal", title="Support")]}},
            {"mark": {"type": "text", "fontWeight": "bold", "color": "black"},
             "encoding": {"x": x, "y": y, "text": field("letter", "nominal")}},
        ],
    }
    return top_level(spec, frame)
