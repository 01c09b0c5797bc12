"""`se-pipeline prune`: the retention policy, on real release directories that share files
through hard links, are read-only, cross month boundaries, and may be in use by a run."""
from __future__ import annotations

import os
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from se_pipeline.release.disk_usage import FileIndex, freed_by_removing, release_size
from se_pipeline.release.errors import ReleaseError
from se_pipeline.release.prune import (
    PRUNING_PREFIX, human_bytes, latest_release, prune, release_order, releases_in, remove_tree, retention_plan,
)
from se_pipeline.release.publish import switch_latest
from tests.test_run_lock import hold

CLI = [sys.executable, "-m", "se_pipeline.cli"]


def make_release(out: Path, rid: str, previous: str | None = None, *, new: dict[str, bytes],
                 linked: tuple[str, ...] = ()) -> Path:
    """A write-once release as an incremental build leaves it: `linked` files hard-linked
    from `previous`, `new` ones written; every file and directory read-only."""
    d = out / "releases" / rid
    for rel, data in new.items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_bytes(data)
    for rel in linked:
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(out / "releases" / previous / rel, d / rel)
    for folder, dirs, files in os.walk(d, topdown=False):
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)
    return d


def daily(out: Path, ids: list[str]) -> None:
    """Releases on `ids`, each sharing `id/a/1.ttl` (100 bytes, hard-linked all along) and
    adding its own 1,000-byte `dataset.ttl` and `id/b/<n>.ttl`; `latest` -> the last."""
    previous = None
    for n, rid in enumerate(ids):
        new = {"dataset.ttl": bytes([n % 256]) * 1000, f"id/b/{n}.ttl": b"x" * 10}
        if previous is None:
            new["id/a/1.ttl"] = b"s" * 100
        make_release(out, rid, previous, new=new, linked=() if previous is None else ("id/a/1.ttl",))
        previous = rid
    switch_latest(out, out / "releases" / ids[-1])


def test_release_ids_sort_by_time_then_collision_number() -> None:
    ids = ["20261204T053000Z-10", "20261204T053000Z", "20261204T053000Z-2", "20261203T235959Z"]
    assert sorted(ids, key=release_order) == ["20261203T235959Z", "20261204T053000Z", "20261204T053000Z-2",
                                              "20261204T053000Z-10"]
    for not_an_id in (".partial-20261204T053000Z", "20261304T053000Z", "latest", "20261204T053000Z-x", ""):
        assert release_order(not_an_id) is None


def test_plan_keeps_last_n_one_per_month_and_latest_with_the_one_before() -> None:
    ids = ["20260915T050000Z", "20260930T050000Z",  # September: its newest stays
           "20261031T235959Z", "20261101T000000Z",  # a month boundary, one second apart
           "20261115T050000Z", "20261120T050000Z", "20261121T050000Z", "20261122T050000Z"]
    kept = retention_plan(ids, latest="20261122T050000Z", keep_last=2, keep_months=3)
    assert kept == {
        "20261122T050000Z": "latest",
        "20261121T050000Z": "the release before latest",
        "20261031T235959Z": "newest of 2026-10",
        "20260930T050000Z": "newest of 2026-09",
    }
    # The month rule counts months that have a release: a pause loses no history.
    assert set(retention_plan(["20250101T000000Z", "20260601T000000Z", "20261101T000000Z", "20261102T000000Z"],
                              latest="20261102T000000Z", keep_last=0, keep_months=2)) == {
        "20261102T000000Z", "20261101T000000Z", "20260601T000000Z"}


def test_plan_never_drops_latest_the_one_before_or_anything_newer() -> None:
    ids = [f"202612{d:02d}T050000Z" for d in range(1, 9)]
    # `latest` lags behind (a run is publishing 07 and 08 right now): both newer ones stay.
    kept = retention_plan(ids, latest="20261205T050000Z", keep_last=0, keep_months=0)
    assert kept == {"20261205T050000Z": "latest", "20261204T050000Z": "the release before latest",
                    "20261206T050000Z": "newer than latest (being published)",
                    "20261207T050000Z": "newer than latest (being published)",
                    "20261208T050000Z": "newer than latest (being published)"}
    assert retention_plan([], latest=None, keep_last=0, keep_months=0) == {}
    with pytest.raises(ReleaseError, match="`latest` does not point at one of the releases"):
        retention_plan(ids, latest=None, keep_last=5, keep_months=5)


def test_prune_removes_read_only_releases_and_counts_hard_linked_bytes_once(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ids = ["20261029T050000Z", "20261030T050000Z", "20261031T050000Z", "20261101T050000Z",
           "20261102T050000Z", "20261103T050000Z"]
    daily(out, ids)
    shared = out / "releases" / ids[-1] / "id/a/1.ttl"
    assert os.stat(shared).st_nlink == 6
    kept_before = {rid: (out / "releases" / rid / "dataset.ttl").read_bytes() for rid in ids}

    dry = prune(out, keep_last=1, keep_months=2, dry_run=True)
    gone = [ids[0], ids[1], ids[3]]
    assert dry.removed == gone
    assert releases_in(out / "releases") == ids  # a dry run removes nothing

    result = prune(out, keep_last=1, keep_months=2)
    assert result.removed == gone
    assert result.kept == {ids[5]: "latest", ids[4]: "the release before latest", ids[2]: "newest of 2026-10"}
    assert releases_in(out / "releases") == [ids[2], ids[4], ids[5]]
    # Each removed release freed its own 1,000 + 10 bytes; the file every release links
    # stays (it is still linked from the kept ones): its 100 bytes are not freed.
    assert (result.freed.files, result.freed.bytes) == (6, 3 * 1010)
    assert result.freed.kept_by_other_links == 1
    assert result.freed.disk_bytes >= result.freed.bytes
    assert result.files == {rid: 3 for rid in gone}
    assert (dry.freed, dry.files, dry.kept) == (result.freed, result.files, result.kept)  # the dry run said this
    assert os.stat(shared).st_nlink == 3 and shared.read_bytes() == b"s" * 100
    for rid in (ids[2], ids[4], ids[5]):  # what stays is untouched: bytes and write-once modes
        assert (out / "releases" / rid / "dataset.ttl").read_bytes() == kept_before[rid]
        assert stat.S_IMODE(os.stat(out / "releases" / rid).st_mode) == 0o555
        assert stat.S_IMODE(os.stat(out / "releases" / rid / "id").st_mode) == 0o555
    assert latest_release(out) == ids[-1]
    lines = result.lines()
    assert lines[0] == f"removed release {ids[0]} (3 files)"
    assert lines[-1] == (f"freed {human_bytes(result.freed.disk_bytes)} on disk (3,030 bytes in 6 files, hard-linked "
                         "files counted once) from 3 releases; 1 of their files stays, still hard-linked elsewhere (a release kept)")
    assert f"kept release {ids[2]}: newest of 2026-10" in lines


def test_the_last_link_frees_the_bytes_when_every_release_sharing_it_goes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ids = ["20261101T050000Z", "20261102T050000Z", "20261103T050000Z", "20261104T050000Z"]
    previous = None
    for n, rid in enumerate(ids):  # 01 and 02 share a file that later releases rewrote
        new = {"dataset.ttl": b"d" * (n + 1)}
        if n == 0:
            new["id/a/old.ttl"] = b"o" * 500
        make_release(out, rid, previous, new=new, linked=("id/a/old.ttl",) if n == 1 else ())
        previous = rid
    switch_latest(out, out / "releases" / ids[-1])
    result = prune(out, keep_last=0, keep_months=0)
    assert result.removed == ids[:2]
    assert result.freed.bytes == 500 + 1 + 2 and result.freed.files == 3 and result.freed.kept_by_other_links == 0


def test_prune_leaves_partial_releases_other_names_and_link_targets_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ids = ["20260101T050000Z", "20260201T050000Z", "20260301T050000Z", "20260401T050000Z"]
    daily(out, ids)
    releases = out / "releases"
    partial = releases / ".partial-20260501T050000Z"
    (partial / "id").mkdir(parents=True)
    (partial / "id" / "x.ttl").write_bytes(b"being written")
    notes = releases / "README-not-a-release"
    notes.mkdir()
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "keep.txt").write_bytes(b"precious")
    os.chmod(outside / "deep", 0o555)
    os.chmod(outside, 0o555)
    victim = releases / ids[0]
    os.chmod(victim, 0o755)
    os.symlink(outside, victim / "link-out")  # inside a doomed release, pointing out of it
    os.chmod(victim, 0o555)
    leftover = releases / f"{PRUNING_PREFIX}20251201T050000Z"  # a prune killed half-way
    (leftover / "id").mkdir(parents=True)
    os.chmod(leftover / "id", 0o500)
    os.chmod(leftover, 0o500)

    result = prune(out, keep_last=0, keep_months=0)
    assert result.removed == ids[:2]
    assert not victim.exists() and not leftover.exists()
    assert (partial / "id" / "x.ttl").read_bytes() == b"being written" and notes.is_dir()
    assert (outside / "deep" / "keep.txt").read_bytes() == b"precious"
    assert stat.S_IMODE(os.stat(outside).st_mode) == 0o555 and stat.S_IMODE(os.stat(outside / "deep").st_mode) == 0o555
    os.chmod(outside / "deep", 0o755)
    os.chmod(outside, 0o755)


def test_remove_tree_refuses_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(ReleaseError, match="is not a directory"):
        remove_tree(tmp_path / "link")
    assert target.is_dir()


def test_release_size_counts_each_inode_once_and_what_is_new(tmp_path: Path) -> None:
    out = tmp_path / "out"
    a = make_release(out, "20261201T050000Z", new={"x": b"1" * 100, "id/y": b"2" * 50})
    b = out / "releases" / "20261202T050000Z"
    (b / "id").mkdir(parents=True)
    os.link(a / "x", b / "x")
    os.link(a / "x", b / "id" / "x-again")  # twice in one release: still one file
    (b / "id" / "z").write_bytes(b"3" * 7)
    os.symlink(a / "id" / "y", b / "id" / "symlink")  # not a file of this release
    assert release_size(a) == release_size(a, None)
    assert (release_size(a).files, release_size(a).bytes, release_size(a).added_bytes) == (2, 150, 150)
    size = release_size(b, a)
    assert (size.files, size.bytes, size.added_files, size.added_bytes) == (2, 107, 1, 7)
    assert freed_by_removing([a]).bytes == 50  # x stays: b links it
    # From a's index, only z (new) is stat'ed and a is not listed: the same figures.
    index = release_size(a).index.with_top_level(a)
    assert release_size(b, a, index) == size
    # An index taken from another folder (a restored or copied release) is not used.
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    assert release_size(b, a, release_size(copy).index.with_top_level(copy)) == size
    assert release_size(b, copy, release_size(a).index.with_top_level(a)) == release_size(b, copy)


def test_cli_prune_reads_retention_from_the_config_flags_win_and_a_run_holds_it_off(tmp_path: Path) -> None:
    out = tmp_path / "out"
    ids = [f"202612{d:02d}T050000Z" for d in range(1, 7)]
    daily(out, ids)
    config = tmp_path / "config.yaml"
    config.write_text("retention: {keep_last: 4, keep_months: 0}\n", encoding="utf-8")
    base = CLI + ["prune", "--config", str(config), "--output", str(out)]

    holder = hold(out)  # a run holds the output folder
    try:
        busy = subprocess.run(base, capture_output=True, text=True, timeout=120)
        dry = subprocess.run(base + ["--dry-run"], capture_output=True, text=True, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert busy.returncode == 3 and f"another se-pipeline run (pid {holder.pid}" in busy.stderr
    assert releases_in(out / "releases") == ids
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[:2] == [f"would remove release {ids[0]} (3 files)",
                                           f"would remove release {ids[1]} (3 files)"]
    assert "would free" in dry.stdout.splitlines()[-1]

    flags = subprocess.run(base + ["--keep-last", "5"], capture_output=True, text=True, timeout=120)
    assert flags.returncode == 0, flags.stderr
    assert releases_in(out / "releases") == ids[1:]
    assert flags.stdout.splitlines()[0] == f"removed release {ids[0]} (3 files)"
    again = subprocess.run(base, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and releases_in(out / "releases") == ids[2:]


@pytest.mark.parametrize("args, message", [
    (["--keep-last", "-1"], "argument --keep-last: expected 0 or more, got -1"),
    (["--keep-months", "many"], "argument --keep-months: expected a whole number, got 'many'"),
])
def test_cli_prune_refuses_bad_counts(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run(CLI + ["prune", "--output", str(tmp_path), *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr


def test_cli_prune_without_latest_removes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    daily(out, ["20261201T050000Z", "20261202T050000Z", "20261203T050000Z"])
    (out / "latest").unlink()
    proc = subprocess.run(CLI + ["prune", "--output", str(out), "--keep-last", "0", "--keep-months", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "`latest` does not point at one of the releases" in proc.stderr
    assert len(releases_in(out / "releases")) == 3


def test_release_size_from_the_previous_index_equals_a_full_walk_on_random_trees(tmp_path: Path) -> None:
    """Files kept (linked once or twice), gone from folders at any depth, new, and linked
    twice within one release: the figures from the previous release's size are those of
    a full walk that stats every file."""
    rng = random.Random(7)
    for trial in range(12):
        a, b = tmp_path / f"{trial}a", tmp_path / f"{trial}b"
        folders = ["", "id", "id/s1", "id/s2", "murmurations/s1", "deep/er/still"]
        for f in folders:
            (a / f).mkdir(parents=True, exist_ok=True)
            (b / f).mkdir(parents=True, exist_ok=True)
        old = []
        for n in range(rng.randint(0, 40)):
            path = a / rng.choice(folders) / f"f{n}"
            path.write_bytes(b"x" * rng.randint(0, 300))
            old.append(path)
            if rng.random() < 0.1:  # linked twice in the previous release
                os.link(path, a / rng.choice(folders) / f"again{n}")
        for n, path in enumerate(old):
            if rng.random() < 0.7:  # kept: linked into the new release, perhaps twice
                os.link(path, b / rng.choice(folders) / f"k{n}")
                if rng.random() < 0.1:
                    os.link(path, b / rng.choice(folders) / f"k{n}-again")
        for n in range(rng.randint(0, 10)):
            path = b / rng.choice(folders) / f"new{n}"
            path.write_bytes(b"y" * rng.randint(0, 300))
            if rng.random() < 0.2:  # a new file linked twice within the new release
                os.link(path, b / rng.choice(folders) / f"new{n}-again")
        walked = release_size(b, a)
        index = release_size(a).index.with_top_level(a)
        assert release_size(b, a, index) == walked, trial
        saved = tmp_path / f"{trial}.npz"
        index.save(saved)
        loaded = FileIndex.load(saved, a)
        assert loaded is not None and release_size(b, a, loaded) == walked, trial
        assert FileIndex.load(saved, b) is None  # taken from another folder
