"""se_pipeline.files.write_file: the bytes land, a file is replaced whole, a failure is loud."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.files import write_file


def test_writes_the_bytes_and_replaces_a_longer_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "doc.html"
    write_file(target, b"a much longer first version")
    write_file(target, "été <b>".encode())
    assert target.read_bytes() == "été <b>".encode()


def test_large_data_is_written_completely(tmp_path: Path) -> None:
    data = bytes(range(256)) * 40_000  # 10 MB: more than one write(2) may take
    write_file(tmp_path / "big", data)
    assert (tmp_path / "big").read_bytes() == data


def test_a_missing_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_file(tmp_path / "missing-folder" / "x.txt", b"lost")
