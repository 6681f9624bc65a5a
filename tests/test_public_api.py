"""The curated public API of `comparators`: every name it lists resolves, the README documents
exactly those names, and `import comparators` stays cheap (names load lazily)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import comparators

ROOT = Path(__file__).resolve().parent.parent


def test_every_public_name_resolves_to_the_object_of_its_module() -> None:
    import importlib

    for name in comparators.__all__:
        value = getattr(comparators, name)
        if name == "InputError":
            continue
        module = importlib.import_module(f"comparators.{comparators._PUBLIC[name]}")
        assert getattr(module, name) is value, name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        comparators.no_such_name  # noqa: B018
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("comparators.no_such_name resolved")


def test_the_readme_lists_exactly_the_public_names() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the engine from Python", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(\w+)`", section)) & (set(comparators._PUBLIC) | {"InputError"})
    assert listed == set(comparators.__all__), set(comparators.__all__) ^ listed


def test_importing_the_package_loads_no_engine_module() -> None:
    code = ("import sys, comparators\n"
            "heavy = [m for m in ('pandas', 'numpy', 'scipy', 'altair') if m in sys.modules]\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=60, check=True)
    assert out.stdout.strip() == "[]"


def test_the_readme_example_runs() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using the engine from Python", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code.replace("print(", "(lambda *a: a)("), "README", "exec"), namespace)
    assert namespace["bm"].subtype == "ASPS"  # type: ignore[attr-defined]
    assert round(namespace["ci"].low, 3) == 0.307  # type: ignore[attr-defined]  # Liu 2023: 30.7-66.0%
