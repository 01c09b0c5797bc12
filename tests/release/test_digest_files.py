"""Digest files sorted on disk and merged into SHA256SUMS (`release.digest_files`,
`release.publish.write_checksums_from`): the order of `release_files`, bounded runs, and
a release whose folders hold a file without a digest refused."""
from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from se_pipeline.release import digest_files
from se_pipeline.release.digest_files import SortedDigests, digest_lines, sort_lines
from se_pipeline.release.errors import ReleaseError
from se_pipeline.release.publish import release_files, write_checksums_from

NAMES = ["a", "a-b", "a_b", "a.b", "b", "A", "z9", "0"]


def _tree(root: Path) -> dict[str, str]:
    """A release-like tree: top-level files, `id/<source>/` and `murmurations/` with names
    whose byte order and path-component order differ (`a-b/x` vs `a/x`)."""
    digests = {}
    rng = random.Random(7)
    paths = [f"top{n}.txt" for n in NAMES] + [f"changes/{n}/1.trig" for n in NAMES]
    paths += [f"id/{s}/{n}{i}.ttl" for s in NAMES for n in NAMES for i in range(3)]
    paths += [f"murmurations/{s}--{n}.json" for s in NAMES for n in NAMES]
    rng.shuffle(paths)
    for rel in paths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        data = rel.encode() * rng.randint(1, 3)
        path.write_bytes(data)
        digests[rel] = hashlib.sha256(data).hexdigest()
    return digests


def test_sha256sums_from_sorted_runs_lists_every_file_in_release_order(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digest_files, "RUN_LINES", 7)  # many runs to merge
    release = tmp_path / "release"
    digests = _tree(release)
    written = tmp_path / "written.sha256"  # as the writers record them: absolute paths, any order
    written.write_text("".join(f"{d}  {release / rel}\n" for rel, d in digests.items()
                               if rel.startswith(("id/", "murmurations/"))))
    sort_lines(digest_lines(written, under=str(release)), tmp_path / "sorted", tmp_path)
    others = write_checksums_from(release, [tmp_path / "sorted"], ("id", "murmurations"))
    lines = (release / "SHA256SUMS").read_text().splitlines()
    assert [line[66:] for line in lines] == [p for p in release_files(release) if p != "SHA256SUMS"]
    assert {line[66:]: line[:64] for line in lines} == digests
    assert sorted(others) == sorted(["SHA256SUMS", *(p for p in digests if not p.startswith(("id/", "murmurations/")))])
    # Read back one prefix at a time, forward, and again from the start when asked.
    reader = SortedDigests(tmp_path / "sorted")
    for s in sorted(NAMES):
        assert reader.under(f"murmurations/{s}--") == {p: d for p, d in digests.items() if p.startswith(f"murmurations/{s}--")}
    assert reader.under("murmurations/a--") == {p: d for p, d in digests.items() if p.startswith("murmurations/a--")}
    reader.close()


def test_a_file_without_a_digest_stops_the_checksums(tmp_path: Path) -> None:
    release = tmp_path / "release"
    digests = _tree(release)
    listed = tmp_path / "listed"
    listed.write_text("".join(f"{d}  {rel}\n" for rel, d in sorted(digests.items(), key=lambda x: x[0].replace("/", "\0"))
                              if rel.startswith("id/")))
    with pytest.raises(ReleaseError, match=r"murmurations/ holds \d+ files but 0 have a digest"):
        write_checksums_from(release, [listed], ("id", "murmurations"))
