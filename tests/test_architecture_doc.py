"""docs/architecture.md is where a newcomer finds the file that owns a behaviour: every
module must be named there, and every module it names must exist."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "se_pipeline"
DOC = ROOT / "docs" / "architecture.md"

#: A module path in backticks, relative to the package (`release/build.py`), possibly
#: written from the project root (`se_pipeline/canonical/schema.py`).
_NAMED = re.compile(r"`(?:se_pipeline/)?((?:[a-z0-9_]+/)*[a-z0-9_]+\.py)`")


def _modules() -> set[str]:
    """Every module of the package with code of its own, relative to the package: a
    package's `__init__.py` that only documents its folder or re-exports its modules is
    named by the folder, and each adapter by the `sources/<name>/adapter.py` pattern."""
    found = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if re.fullmatch(r"sources/[a-z_]+/adapter\.py", rel):
            continue
        if path.name == "__init__.py" and all(
                isinstance(node, (ast.Import, ast.ImportFrom, ast.Expr))
                or (isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets] == ["__all__"])
                for node in ast.parse(path.read_text(encoding="utf-8")).body):
            continue
        found.add(rel)
    return found


def _named(text: str) -> set[str]:
    """Module paths the page names: by file name in its folder's row of the module table,
    or elsewhere in full (a path with its folder, or a module at the package's top)."""
    named: set[str] = set()
    rows = re.compile(r"^\| `([a-z_]+)/` \| (.*)$", flags=re.M)
    for folder, row in rows.findall(text):
        prefix = "" if folder == "se_pipeline" else folder + "/"
        named |= {prefix + name for name in re.findall(r"`([a-z0-9_/]+\.py)`", row)}
    named |= {m for m in _NAMED.findall(rows.sub("", text)) if "/" in m or (PACKAGE / m).is_file()}
    return named


def test_every_module_is_named_in_the_architecture_page() -> None:
    missing = sorted(_modules() - _named(DOC.read_text(encoding="utf-8")))
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_every_module_the_page_names_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    named = _named(text)
    assert len(named) > 50  # the pattern still finds the page's paths
    gone = sorted(m for m in named if not (PACKAGE / m).is_file() and not (ROOT / m).is_file())
    assert not gone, f"docs/architecture.md names modules that do not exist: {gone}"
