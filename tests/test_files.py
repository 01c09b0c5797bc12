"""se_pipeline.files.ParallelWriter: every file written, and a failed write is not silent."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.files import ParallelWriter


def test_every_file_is_written_across_batches(tmp_path: Path) -> None:
    with ParallelWriter(threads=4, batch=7) as w:
        for i in range(50):
            w.write(tmp_path / f"{i}.txt", f"file {i}".encode())
    assert sorted(p.read_text() for p in tmp_path.iterdir()) == sorted(f"file {i}" for i in range(50))


def test_a_failed_write_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        with ParallelWriter(threads=2, batch=100) as w:
            w.write(tmp_path / "ok.txt", b"ok")
            w.write(tmp_path / "missing-folder" / "x.txt", b"lost")
    assert (tmp_path / "ok.txt").read_bytes() == b"ok"
