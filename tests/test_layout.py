"""The engine's layout holds (design.md): dependencies point one way.

``streamlit_app.py -> views -> comparators -> data``; inside the engine
``vocab/errors <- stats <- evidence <- analysis <- charts <- reports``. Views compute no statistics:
they import no numerical library and no private engine helper. Every import is read from the source
(ast), including imports inside functions, so a lazy import cannot hide a wrong direction.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "comparators"

#: What each engine stage may import from the engine (besides itself).
ALLOWED: dict[str, set[str]] = {
    "vocab": set(),
    "errors": set(),
    "limits": {"errors"},  # the bounds on every input (comparators/limits.py)
    "inputs": {"errors", "limits"},  # the one parser of raw values (comparators/inputs.py)
    "stats": {"vocab", "errors", "limits", "inputs"},
    "evidence": {"vocab", "errors", "limits", "inputs", "stats"},
    "analysis": {"vocab", "errors", "limits", "inputs", "stats", "evidence"},
    "charts": {"vocab", "errors", "limits", "inputs", "stats", "evidence", "analysis"},
    "reports": {"vocab", "errors", "limits", "inputs", "stats", "evidence", "analysis",
                "charts"},
    # The CLI and the public API sit on top of everything.
    "__main__": {"vocab", "errors", "limits", "inputs", "stats", "evidence", "analysis",
                 "charts", "reports"},
    "__init__": {"vocab", "errors", "limits", "inputs", "stats", "evidence", "analysis",
                 "charts", "reports"},
}
#: Libraries that do statistics; a page importing one is computing something itself.
NUMERICAL = {"scipy", "statsmodels", "lifelines", "numpy", "sklearn"}


def imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def stage_of(path: Path) -> str:
    rel = path.relative_to(ENGINE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


ENGINE_FILES = sorted(ENGINE.rglob("*.py"))


def test_every_engine_module_belongs_to_a_known_stage() -> None:
    assert ENGINE_FILES
    unknown = {str(p.relative_to(ROOT)) for p in ENGINE_FILES if stage_of(p) not in ALLOWED}
    assert not unknown, f"modules outside the pipeline stages: {sorted(unknown)}"


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_engine_dependencies_point_one_way(path: Path) -> None:
    stage = stage_of(path)
    for name in imports(path):
        top = name.split(".")[0]
        assert top not in {"streamlit", "views"}, f"{path.name} imports {name}"
        if top == "comparators" and "." in name:
            target = name.split(".")[1]
            if target in ALLOWED:  # (a name imported from the package root is checked below)
                assert target == stage or target in ALLOWED[stage], (
                    f"{path.relative_to(ROOT)} ({stage}) imports {name}")
        if name == "comparators" and stage not in {"__main__", "__init__"}:
            raise AssertionError(f"{path.relative_to(ROOT)} imports the package root; import "
                                 f"the module that owns the name instead")


@pytest.mark.parametrize("path", sorted((ROOT / "views").glob("*.py")), ids=lambda p: p.name)
def test_views_compute_no_statistics(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        assert top not in NUMERICAL, f"views/{path.name} imports {name}: statistics belong in " \
                                     f"comparators"
        assert not any(part.startswith("_") and not part.startswith("__")
                       for part in name.split(".")), f"views/{path.name} imports private {name}"


def test_entry_point_is_a_frame() -> None:
    for name in imports(ROOT / "streamlit_app.py"):
        top = name.split(".")[0]
        assert top in {"streamlit", "views", "comparators", "__future__"}, name
        if top == "comparators":
            assert name.startswith("comparators.vocab"), f"streamlit_app.py imports {name}"
