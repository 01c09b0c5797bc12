"""The release's file list (`release.publish.release_files`): SHA256SUMS' order."""
from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings, strategies as st

from se_pipeline.release.publish import release_files

_NAME = st.text(alphabet="ab-._ ~é0", min_size=1, max_size=4).filter(lambda n: n not in (".", ".."))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_NAME, min_size=1, max_size=3), min_size=1, max_size=12))
def test_files_are_listed_in_path_component_order(paths: list[list[str]]) -> None:
    """"a-b" sorts before "a/…" as a string but after it by components ("a" < "a-b")."""
    with tempfile.TemporaryDirectory() as tmp:
        made = set()
        for parts in paths:
            path = Path(tmp, *parts)
            if any(p in made for p in (Path(tmp, *parts[:k]) for k in range(1, len(parts) + 1))):
                continue  # a file already stands where a folder (or this file) would go
            if path.exists() or any(q.relative_to(tmp).parts[:len(parts)] == tuple(parts) for q in made):
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"x")
            made.add(path)
        expected = sorted((p.relative_to(tmp).as_posix() for p in made), key=lambda n: n.split("/"))
        assert release_files(Path(tmp)) == expected
