"""Page-wide layout rules every page shares: figures never wider than the column they are in.

Vega-Lite cannot fit a horizontally concatenated chart (the forest plot: labels | plot |
responders/n | ORR | weight) to its container, so on a narrow window its right-hand columns
fell off the page. The drawn SVG is scaled down to the column's width instead, keeping every
column; downloads keep the figure's own size.
"""

import streamlit as st

FIGURE_CSS = """<style>
[data-testid='stVegaLiteChart'], [data-testid='stVegaLiteChart'] .vega-embed {
  max-width: 100% !important;
}
[data-testid='stVegaLiteChart'] svg.marks { max-width: 100% !important; height: auto !important; }
</style>"""


def fit_figures_to_width() -> None:
    """Once per run, before the page: the rule above (fixed text, no user input in it)."""
    st.html(FIGURE_CSS)
