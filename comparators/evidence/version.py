"""The catalog's version and the date the literature was last checked (data/catalog.json).

Every export prints both, so a reader knows which curation pass produced the numbers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class CatalogVersion:
    version: str
    literature_last_checked: str

    def stamp(self) -> str:
        return (f"catalog {self.version}, literature last checked "
                f"{self.literature_last_checked}")


@lru_cache(maxsize=4)
def catalog_version(data_dir: Path = DATA_DIR) -> CatalogVersion:
    """Read data/catalog.json ('unknown' fields when it is missing)."""
    path = data_dir / "catalog.json"
    if not path.is_file():
        return CatalogVersion("unknown", "unknown")
    meta = json.loads(path.read_text(encoding="utf-8"))
    return CatalogVersion(str(meta.get("catalog_version", "unknown")),
                          str(meta.get("literature_last_checked", "unknown")))
