"""An on-disk Oxigraph store per release, loaded once.

Layout (outside the write-once release directory):

```
<output>/stores/<release-id>/
  data/          the Oxigraph (RocksDB) store
  LOADED         JSON marker written last: release id, dataset sha256, quad count, seconds
```

`ensure_store` reuses `data/` when `LOADED` is present and names the same dataset; if
the marker is missing (first start, or a crash mid-load) `data/` is wiped and rebuilt.
After loading, the store is closed: the query workers open it read-only.
"""
from __future__ import annotations

import gc
import gzip
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from se_pipeline.access.query import resolve_release
from se_pipeline.files import read_digests

MARKER = "LOADED"


@dataclass
class StoreInfo:
    path: Path            # the store directory (`…/data`)
    marker: Path
    release_id: str
    quads: int
    loaded_now: bool      # False when an existing store was reused
    seconds: float


def dataset_sha256(release: Path) -> str | None:
    """The dataset checksum from the release's SHA256SUMS (no hashing needed)."""
    sums = release / "SHA256SUMS"
    return read_digests(sums).get("dataset.nq.gz") if sums.is_file() else None


def default_store_root(release: Path) -> Path:
    """`<output>/stores` for a release at `<output>/releases/<id>`; else next to the release."""
    release = release.resolve()
    if release.parent.name == "releases":
        return release.parent.parent / "stores"
    return release.parent / "stores"


def ensure_store(release: Path, store_root: Path | None = None) -> StoreInfo:
    """Load the release's N-Quads into `<store_root>/<release-id>/data` unless already loaded."""
    release = resolve_release(release)
    root = (store_root or default_store_root(release)) / release.name
    data, marker = root / "data", root / MARKER
    digest = dataset_sha256(release)
    if marker.is_file():
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
        except ValueError:
            info = {}
        if info.get("release_id") == release.name and info.get("sha256") == digest and data.is_dir():
            return StoreInfo(data, marker, release.name, int(info.get("quads", 0)), False, 0.0)
        marker.unlink()
    t0 = time.perf_counter()
    if data.exists():
        shutil.rmtree(data)  # a crash mid-load, or another dataset: rebuild
    root.mkdir(parents=True, exist_ok=True)
    store = ox.Store(str(data))
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        store.bulk_load(f, format=ox.RdfFormat.N_QUADS)
    store.flush()
    quads = len(store)
    del store
    gc.collect()  # close RocksDB before read-only workers open it
    seconds = time.perf_counter() - t0
    tmp = root / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"release_id": release.name, "sha256": digest, "quads": quads,
                               "seconds": round(seconds, 3), "loaded_at": time.time()}), encoding="utf-8")
    os.replace(tmp, marker)
    return StoreInfo(data, marker, release.name, quads, True, seconds)
