"""The deployment lock file pins a version inside every tested range of requirements.txt, and the
test tools are pinned (a new ruff or mypy release must not turn CI red with no code change)."""

from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def requirement_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines
            if line.split("#")[0].strip() and not line.lstrip().startswith("-")]


def test_the_lock_file_satisfies_every_runtime_range() -> None:
    locked = {}
    for line in requirement_lines("requirements.lock"):
        req = Requirement(line)
        (spec,) = req.specifier
        assert spec.operator == "==", line
        locked[canonicalize_name(req.name)] = spec.version
    for line in requirement_lines("requirements.txt"):
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in locked, f"{req.name} is missing from requirements.lock"
        assert req.specifier.contains(locked[name], prereleases=True), (req, locked[name])


def test_every_test_tool_is_pinned() -> None:
    for line in requirement_lines("requirements-dev.txt"):
        req = Requirement(line)
        assert [s.operator for s in req.specifier] == ["=="], line
