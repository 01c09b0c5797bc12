"""What a release is made from, as one small JSON (`inputs.json`, in every release and
its SHA256SUMS), so the next run decides "nothing changed, no new release" by reading
it rather than by building a release and comparing outputs.

The fingerprint names everything that shapes a release's bytes:

* the code: a digest of the package's files (code, templates, message catalogues),
  the ontology, the shapes and the curated identity decisions (`code_digest`); a new
  version of any of them makes a new release;
* the settings that reach the published files: base IRI, page languages, the enabled
  sources;
* per enabled source: the SHA-256 of each fetched file behind its last good copy, the
  SHA-256 of the last good graph the gate passed (`gate.json`, taken when it was written:
  nothing is hashed again here), and whether the source is stale this run (the catalog
  says so);
* the key of the partner exports (`release.exports.staging.key`: each source's last
  good rows);
* the links graph (`state/_identity/links.nt`, small: hashed here).

Two runs with equal fingerprints would publish the same release but for its id, its
issue time and the changelog/event stream against its predecessor (empty); the
`release` asset then keeps `latest` where it is unless forced (`se-pipeline run --force`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from se_pipeline.code_digest import code_digest
from se_pipeline.files import sha256_file
from se_pipeline.release.exports import staging as exports_staging
from se_pipeline.settings import Settings
from se_pipeline.state import SourceState, read_json

INPUTS_FILE = "inputs.json"
#: Bumped when the fingerprint's shape changes, so an older one never compares equal.
FINGERPRINT_VERSION = 1
def _source_inputs(settings: Settings, name: str) -> dict[str, Any] | None:
    """A source's part of the fingerprint; None without a last good copy (not published)."""
    state = SourceState.of(settings.state_dir, name)
    if not state.has_good():
        return None
    good_status = read_json(state.good / "status.json")
    run_status = read_json(state.run / "status.json")
    stale = run_status.get("ok") is False or run_status.get("run_id") not in (None, good_status.get("run_id"))
    graph = read_json(state.good / "gate.json").get("graph_sha256")
    if not graph:  # a good copy from before gate.json recorded it: hash it once
        graph = sha256_file(state.good / "graph.nt") if (state.good / "graph.nt").is_file() else ""
    return {
        "fetched": [f.get("sha256") for f in read_json(state.good / "fetch.json").get("fetches", [])],
        "graph_sha256": graph,
        "stale": stale,
    }


def release_inputs(settings: Settings, sources: list[str], links: Path | None) -> dict[str, Any]:
    """The fingerprint of a release built now for `settings` from the enabled `sources`
    and the links graph file `links` (see the module docstring; an empty one is no links graph,
    as the release leaves it out)."""
    per_source = {name: found for name in sorted(sources) if (found := _source_inputs(settings, name)) is not None}
    return {
        "version": FINGERPRINT_VERSION,
        "code": code_digest(),
        "base_iri": settings.base_iri,
        "page_languages": list(settings.page_languages),
        "sources": per_source,
        "exports_key": exports_staging.key(settings.state_dir, list(per_source), settings.base_iri),
        "links_sha256": sha256_file(links) if links is not None and links.is_file() and links.stat().st_size else None,
    }


def write_inputs(path: Path, inputs: dict[str, Any]) -> None:
    path.write_text(json.dumps(inputs, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def read_inputs(release_dir: Path) -> dict[str, Any] | None:
    """The fingerprint a release recorded; None for a release without one (made before
    fingerprints, or not a release)."""
    try:
        return json.loads((release_dir / INPUTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def unchanged_since(latest: Path, inputs: dict[str, Any]) -> str | None:
    """The id of the release `latest` points at if it was made from exactly `inputs`, else None."""
    if not latest.is_dir():
        return None
    return latest.resolve().name if read_inputs(latest) == inputs else None


def exports_unchanged_since(latest: Path, settings: Settings, sources: list[str]) -> str | None:
    """The id of the release `latest` points at if its partner exports were made from
    exactly these sources' rows, base IRI and code (so staging them again would only
    repeat them), else None."""
    before = read_inputs(latest) if latest.is_dir() else None
    if before is None or before.get("code") != code_digest():
        return None
    if before.get("exports_key") != exports_staging.key(settings.state_dir, sources, settings.base_iri):
        return None
    return latest.resolve().name
