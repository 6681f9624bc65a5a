"""What the catalog covers, counted from the catalog itself (never typed): the comparator
studies and arms, the subtypes and regimen classes they report, and what the numbers were read
from. The About page and `python -m comparators` show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from comparators.evidence.catalog import Catalog
from comparators.evidence.labels import row_keys
from comparators.evidence.seed import SEED_STUDY
from comparators.vocab import AGGREGATE_SUBTYPES, REGIMEN_CLASSES


@dataclass(frozen=True)
class CatalogCoverage:
    """Counts over the catalog's comparator rows (the seed paper's own rows left out)."""

    version: str
    checked: str  # when the literature was last checked
    studies: int
    arms: int  # distinct (study, arm)
    rows: int  # (study, arm, subtype) rows with response counts
    patients: int  # response-evaluable patients in single-subtype rows, none counted twice
    subtypes: tuple[tuple[str, str, int], ...]  # (code, name, arms), most arms first
    classes: tuple[tuple[str, int], ...]  # (regimen class, arms), vocabulary order
    sources: tuple[tuple[str, int], ...]  # (source type, rows), most rows first

    def to_dict(self) -> dict[str, Any]:
        return {"catalog_version": self.version, "literature_last_checked": self.checked,
                "studies": self.studies, "arms": self.arms, "rows": self.rows,
                "patients": self.patients,
                "subtypes": [{"code": c, "name": n, "arms": a} for c, n, a in self.subtypes],
                "classes": [{"class": c, "arms": a} for c, a in self.classes],
                "sources": [{"source_type": s, "rows": r} for s, r in self.sources]}


def catalog_coverage(catalog: Catalog) -> CatalogCoverage:
    """Count what `catalog` covers. Aggregate rows (all STS, all sarcomas) count towards
    studies, arms and sources but not towards subtypes or patients (their patients are the
    subtype rows' again), nor do rows that re-count another study's patients (`overlaps_with`)
    count towards patients."""
    t = catalog.trials[catalog.trials["study"].astype(str) != SEED_STUDY]
    keys = row_keys(t)
    single = ~t["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)
    names = catalog.subtype_names
    per_subtype = keys[single].groupby(t.loc[single, "subtype"].astype(str)).nunique()
    subtypes = tuple(sorted(((str(c), str(names.get(c, c)), int(n))
                             for c, n in per_subtype.items()), key=lambda x: (-x[2], x[0])))
    per_class = keys.groupby(t["regimen_class"].astype(str)).nunique()
    order = list(REGIMEN_CLASSES) + sorted(set(per_class.index) - set(REGIMEN_CLASSES))
    classes = tuple((c, int(per_class[c])) for c in order if c in per_class.index)
    kinds = t["source_type"].fillna("").astype(str) if "source_type" in t else None
    sources: tuple[tuple[str, int], ...] = ()
    if kinds is not None:
        counts = kinds[kinds != ""].value_counts()
        sources = tuple(sorted(((str(k), int(v)) for k, v in counts.items()),
                               key=lambda x: (-x[1], x[0])))
    info = catalog.info
    own = t["overlaps_with"].fillna("").astype(str) == "" if "overlaps_with" in t else single
    evaluable = t.loc[single & own, "evaluable"]
    return CatalogCoverage(
        version=info.catalog_version if info else "unknown",
        checked=info.literature_last_checked if info else "unknown",
        studies=int(t["study"].nunique()), arms=int(keys.nunique()), rows=len(t),
        patients=int(evaluable.fillna(0).astype(int).sum()),
        subtypes=subtypes, classes=classes, sources=sources)
