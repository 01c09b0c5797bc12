"""One digest of everything that turns the same input into the same output: the code.

Stages that skip work when their inputs are unchanged (the links, the partner exports,
the release, each enterprise's documents) put it in their keys, so a new version of the
code, a template, a message catalogue, the ontology, the shapes or the curated identity
decisions never reuses what an older one made.
"""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from se_pipeline import ONTOLOGY_DIR, PROJECT_ROOT, SHAPES_DIR

_PACKAGE = Path(__file__).resolve().parent
#: Folders of the package that hold data, not code (their bytes are fingerprinted as fetches).
_NOT_CODE = {"sample", "__pycache__"}


def _files_under(root: Path) -> list[Path]:
    found: list[Path] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_CODE and not d.startswith("."))
        found += [Path(folder) / n for n in sorted(names) if not n.endswith((".pyc", ".pyo"))]
    return found


@lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 over the path and bytes of every file of the package (bundled samples
    aside), the ontology, the shapes and `identity/decisions.yaml`: what renders, maps and
    validates. Taken once per process (about two megabytes)."""
    h = hashlib.sha256()
    for root in (_PACKAGE, ONTOLOGY_DIR, SHAPES_DIR, PROJECT_ROOT / "identity"):
        if not root.is_dir():
            continue
        for path in _files_under(root):
            h.update(os.fsencode(path.relative_to(PROJECT_ROOT)) + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


