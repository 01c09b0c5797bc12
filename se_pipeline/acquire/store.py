"""Content-addressed raw store: `<sha256>.bin` with `<sha256>.json` provenance beside.

Keeping the exact upstream bytes makes every release reproducible and every parse
re-runnable; addressing them by hash means an unchanged source is stored once however
often it is fetched. Writes go through a temporary file and `os.replace`, so a crash
never leaves a half-written blob under a valid name.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from se_pipeline.acquire.provenance import FetchRecord


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def blob_path(raw_dir: Path, sha256: str) -> Path:
    return Path(raw_dir) / f"{sha256}.bin"


def meta_path(raw_dir: Path, sha256: str) -> Path:
    return Path(raw_dir) / f"{sha256}.json"


def store_raw(raw_dir: Path, data: bytes, record: FetchRecord, *, error: str | None = None) -> Path:
    """Keep `data` and its latest fetch record. The JSON is the `FetchRecord` of the most
    recent fetch that produced these bytes, plus `first_fetched_at` (kept across
    re-fetches) and, for bytes that were rejected, `accepted: false` and the `error`."""
    blob = blob_path(raw_dir, record.sha256)
    if not blob.is_file() or blob.stat().st_size != len(data):
        _atomic_write(blob, data)
    meta = meta_path(raw_dir, record.sha256)
    doc: dict[str, Any] = record.to_dict()
    first = record.fetched_at
    if meta.is_file():
        try:
            first = json.loads(meta.read_text(encoding="utf-8")).get("first_fetched_at") or first
        except (OSError, ValueError):
            pass
    doc["first_fetched_at"] = first
    doc["accepted"] = error is None
    if error is not None:
        doc["error"] = error
    _atomic_write(meta, (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return blob


def load_raw(raw_dir: Path, sha256: str) -> bytes | None:
    """The stored bytes for `sha256`, or None if missing or corrupted (hash re-checked,
    so a damaged store can never be served as 'not modified')."""
    blob = blob_path(raw_dir, sha256)
    try:
        data = blob.read_bytes()
    except OSError:
        return None
    return data if sha256_hex(data) == sha256 else None
