"""se_pipeline.files: the bytes land, a file is replaced whole, a failure is loud, and the
digest returned is the one of the bytes on disk (SHA256SUMS relies on it)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from se_pipeline.files import read_digests, save_digests, write_file


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


def test_the_returned_digest_is_the_files_and_survives_a_digest_file(tmp_path: Path) -> None:
    digests = {}
    for name, data in (("a.ttl", b"<x> <y> <z> ."), ("with  two spaces.json", "{}\n été".encode())):
        digests[str(tmp_path / name)] = write_file(tmp_path / name, data)
    for path, digest in digests.items():
        assert digest == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    save_digests(digests, tmp_path / "sums")
    assert read_digests(tmp_path / "sums") == digests


def test_a_read_only_file_is_created_read_only_with_its_bytes_and_never_replaces_one(tmp_path: Path) -> None:
    target = tmp_path / "doc.ttl"
    digest = write_file(target, b"<x> <y> <z> .\n", read_only=True)
    assert target.read_bytes() == b"<x> <y> <z> .\n" and digest == hashlib.sha256(target.read_bytes()).hexdigest()
    assert target.stat().st_mode & 0o222 == 0  # nobody may write it
    with pytest.raises(FileExistsError):  # a release file is written once
        write_file(target, b"other", read_only=True)
    assert target.read_bytes() == b"<x> <y> <z> .\n"


def test_digests_under_a_folder_are_keyed_by_their_path_in_it(tmp_path: Path) -> None:
    release = tmp_path / "rel"
    (release / "id" / "s").mkdir(parents=True)
    digests = {str(release / "id" / "s" / "a  b.ttl"): write_file(release / "id" / "s" / "a  b.ttl", b"1"),
               str(release / "top.json"): write_file(release / "top.json", b"2"),
               str(tmp_path / "elsewhere.txt"): write_file(tmp_path / "elsewhere.txt", b"3")}
    save_digests(digests, tmp_path / "sums")
    assert read_digests(tmp_path / "sums", under=release) == {
        "id/s/a  b.ttl": digests[str(release / "id" / "s" / "a  b.ttl")], "top.json": digests[str(release / "top.json")]}


def test_digests_saved_under_a_folder_survive_moving_it(tmp_path: Path) -> None:
    """`save_digests(under=...)` writes paths relative to the folder, so a staged folder
    can be renamed before its digests are read; a path outside the folder is an error."""
    staged = tmp_path / ".staging-1"
    (staged / "murmurations").mkdir(parents=True)
    digests = {str(staged / "murmurations" / "x  y.json"): write_file(staged / "murmurations" / "x  y.json", b"1"),
               str(staged / "top.csv"): write_file(staged / "top.csv", b"2")}
    save_digests(digests, tmp_path / "sums", under=staged)
    save_digests({str(staged / "late.json"): "0" * 64}, tmp_path / "sums", append=True, under=f"{staged}/")
    staged.rename(tmp_path / "staged")
    assert read_digests(tmp_path / "sums") == {
        "murmurations/x  y.json": digests[str(staged / "murmurations" / "x  y.json")],
        "top.csv": digests[str(staged / "top.csv")], "late.json": "0" * 64}
    with pytest.raises(ValueError, match="not under"):
        save_digests({str(tmp_path / "elsewhere.txt"): "0" * 64}, tmp_path / "other", under=staged)
