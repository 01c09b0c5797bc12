"""Retention: which old releases `se-pipeline prune` removes, and removing them safely.

Releases are write-once and nothing else ever removes one, so a daily schedule would fill
the disk. The policy (`retention:` in the run config, or the command's flags):

* the `keep_last` newest releases stay;
* for each of the `keep_months` most recent calendar months (UTC) that have a release, the
  newest release of that month stays (months without any release are not counted, so a
  pipeline paused for a while does not lose its history);
* `latest` and the release just before it always stay (a reader who resolved `latest` a
  moment ago, and a run building the next release, which compares with and hard-links
  from `latest`, keep their files), and so does any release newer than `latest` (one
  being published right now);
* only final release directories are candidates: `.partial-*` (a release being written)
  and anything whose name is not a release id are never touched.

A release is removed by renaming it to `.pruning-<id>` first (it leaves the list of
releases at once, and a prune killed half-way leaves no half-deleted release behind; the
next prune finishes the job), then deleting it. Release directories may be read-only:
write permission is given back to the directories being deleted, and only to those.

The bytes reported freed count each hard-linked file once, and only when its last link
goes (`release.disk_usage.freed_by_removing`).
"""
from __future__ import annotations

import os
import re
import shutil
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from se_pipeline.release.disk_usage import Freed, files_of, freed_by_removing
from se_pipeline.release.errors import ReleaseError

RELEASE_ID = re.compile(r"(\d{8}T\d{6}Z)(?:-(\d+))?")
PRUNING_PREFIX = ".pruning-"


def release_order(release_id: str) -> tuple[datetime, int] | None:
    """Sort key of a release id (`YYYYMMDDTHHMMSSZ`, `-2`, `-3` … on a collision); None
    for a name that is not one."""
    m = RELEASE_ID.fullmatch(release_id)
    if not m:
        return None
    try:
        when = datetime.strptime(m.group(1), "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None
    return when, int(m.group(2) or 1)


def releases_in(releases_dir: Path) -> list[str]:
    """The final releases under `releases_dir`, oldest first (real directories only: a
    symbolic link there is not a release this folder owns)."""
    if not releases_dir.is_dir():
        return []
    found = [e.name for e in os.scandir(releases_dir)
             if e.is_dir(follow_symlinks=False) and release_order(e.name) is not None]
    return sorted(found, key=release_order)  # type: ignore[arg-type, return-value]


def latest_release(output_dir: Path) -> str | None:
    """The release `<output>/latest` points at, if it points at one of `<output>/releases`."""
    link = output_dir / "latest"
    if not link.is_symlink():
        return None
    target = (link.parent / os.readlink(link)).resolve()
    releases = (output_dir / "releases").resolve()
    return target.name if target.parent == releases and release_order(target.name) else None


def retention_plan(release_ids: list[str], latest: str | None, keep_last: int, keep_months: int) -> dict[str, str]:
    """Why each kept release is kept, by id; a release not in the answer is removed.

    `release_ids` are release ids (any order); `latest` is the one `latest` points at."""
    ordered = sorted(release_ids, key=release_order)  # type: ignore[arg-type]
    kept: dict[str, str] = {}

    def keep(rid: str, reason: str) -> None:
        kept.setdefault(rid, reason)

    if latest is not None and latest in ordered:
        at = ordered.index(latest)
        keep(latest, "latest")
        if at > 0:
            keep(ordered[at - 1], "the release before latest")
        for rid in ordered[at + 1:]:
            keep(rid, "newer than latest (being published)")
    elif ordered:
        # No `latest` among them: nothing tells which release readers use; remove nothing.
        raise ReleaseError("`latest` does not point at one of the releases; "
                           "nothing is pruned until it does (a run publishes one)")
    for rid in ordered[::-1][:keep_last]:
        keep(rid, f"one of the last {keep_last}")
    months: list[str] = []
    for rid in reversed(ordered):
        month = rid[:6]
        if month not in months:
            if len(months) == keep_months:
                break
            months.append(month)
            keep(rid, f"newest of {month[:4]}-{month[4:]}")
    return kept


@dataclass
class PruneResult:
    """What a prune removed (or, in a dry run, would remove) and what stays."""

    removed: list[str]
    kept: dict[str, str]
    freed: Freed
    dry_run: bool
    files: dict[str, int] = field(default_factory=dict)
    """Files (paths, hard links included) of each removed release."""

    def lines(self) -> list[str]:
        """The report, one line each, as the command prints it."""
        verb = "would remove" if self.dry_run else "removed"
        out = [f"{verb} release {rid} ({self.files.get(rid, 0):,} files)" for rid in self.removed]
        out += [f"kept release {rid}: {why}" for rid, why in sorted(self.kept.items())]
        if not self.removed:
            return out + [f"nothing to remove: {len(self.kept)} release{'' if len(self.kept) == 1 else 's'} kept"]
        f = self.freed
        n = f.kept_by_other_links
        shared = (f"; {n:,} of their files {'stays' if n == 1 else 'stay'}, still hard-linked elsewhere (a release kept)"
                  if n else "")
        out.append(f"{'would free' if self.dry_run else 'freed'} {human_bytes(f.disk_bytes)} on disk "
                   f"({f.bytes:,} bytes in {f.files:,} files, hard-linked files counted once) "
                   f"from {len(self.removed)} release{'' if len(self.removed) == 1 else 's'}{shared}")
        return out


def human_bytes(n: int) -> str:
    """`1.2 GB` (powers of 1000, as `df -H` and file managers say)."""
    size = float(n)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{n:,} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def prune(output_dir: Path, *, keep_last: int, keep_months: int, dry_run: bool = False) -> PruneResult:
    """Apply the retention policy to `<output_dir>/releases`.

    The caller holds the output folder's run lock (`run_lock`), so no run publishes
    meanwhile; the policy keeps `latest`, the release before it and anything newer even
    without it (a Dagster run of `publish` does not take the lock)."""
    if keep_last < 0 or keep_months < 0:
        raise ValueError("keep_last and keep_months must be 0 or more")
    releases_dir = output_dir / "releases"
    latest = latest_release(output_dir)  # before listing: a release published in between is newer, so kept
    ids = releases_in(releases_dir)
    kept = retention_plan(ids, latest, keep_last, keep_months)
    doomed = [rid for rid in ids if rid not in kept]
    freed = freed_by_removing(releases_dir / rid for rid in doomed)
    files = {rid: sum(1 for _ in files_of(releases_dir / rid)) for rid in doomed}
    if not dry_run:
        for leftover in releases_dir.glob(PRUNING_PREFIX + "*"):
            remove_tree(leftover)  # a prune killed half-way
        for rid in doomed:
            moved = releases_dir / f"{PRUNING_PREFIX}{rid}"
            os.rename(releases_dir / rid, moved)
            remove_tree(moved)
    return PruneResult(doomed, kept, freed, dry_run, files)


def remove_tree(root: Path) -> None:
    """Delete `root` and everything under it, giving its own directories write (and
    search) permission first: a write-once release's directories may be read-only, and
    an entry can only be unlinked from a writable directory. Symbolic links inside are
    removed, never followed, so nothing outside `root` changes."""
    if root.is_symlink() or not root.is_dir():
        raise ReleaseError(f"{root} is not a directory; not removed")
    _writable(os.fspath(root))
    for folder, dirnames, _ in os.walk(root, topdown=True):
        for name in dirnames:
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                _writable(path)  # before os.walk lists it (it may lack read/search too)
    shutil.rmtree(root)


def _writable(directory: str) -> None:
    mode = os.lstat(directory).st_mode
    wanted = mode | stat.S_IRWXU
    if stat.S_IMODE(mode) != stat.S_IMODE(wanted):
        os.chmod(directory, stat.S_IMODE(wanted))
