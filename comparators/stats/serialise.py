"""The one conversion of a result's numbers to JSON values."""

from __future__ import annotations

import math
import sys
from typing import Any


def json_number(x: Any) -> float | None:
    """A plain float for JSON; None for a missing value (None, NaN, infinity or pandas' NA)."""
    if x is None:
        return None
    pandas = sys.modules.get("pandas")  # pd.NA exists only once pandas is loaded
    if pandas is not None and x is pandas.NA:
        return None
    xf = float(x)
    return xf if math.isfinite(xf) else None
