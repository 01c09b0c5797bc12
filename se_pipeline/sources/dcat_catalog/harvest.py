"""Acquisition of a partner's catalog: the first time its dump, then its event stream.

Every run reads the partner's catalog (`catalog.read_offer`). With no stream state, or
when the stream cannot be followed, the newest RDF dump is fetched and its SHA-256
compared with what the catalog (`spdx:checksum`) or a `SHA256SUMS` beside the dump says
**before a byte of it is parsed**: a mismatch, or no checksum at all, is refused
(`ChecksumMismatch`, `ChecksumMissing`) and the source is stale: the release republishes
its last good copy, with the reason. Once a dump is imported and the catalog links an
event stream, later runs fetch only the stream's pages newer than the last member seen
(`acquire.ldes.read_changes`) and apply their members to the last good copy of the
records (`records.apply_members`). A stream that fails (unreachable, a page that does
not parse, nothing newer than a time we already passed) falls back to the full dump, and
the source's status notes say why (`notes["harvest"]["stream_not_followed"]`). With
nothing new, the last good copy is given again when it was processed by other code or
options (`ingest.good_copy_current`), so what a new version of ours changes reaches it.

State, beside the canonical rows (promoted to `good/` with them, so it always describes
the last good copy): `partner.nt` (the partner's records as it wrote them) and
`stream.json` (the stream's URL, the newest member time and the pages seen; the dump's
checksum and the partner dataset's IRI).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urljoin, urlsplit

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.acquire.fetch import fetch
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.ldes import read_changes
from se_pipeline.acquire.provenance import FetchRecord, utc_now_iso
from se_pipeline.sources.dcat_catalog.catalog import OX_FORMAT, Offer, checksum_from_sums, read_offer
from se_pipeline.sources.dcat_catalog.records import (
    apply_members, leave_out_republished, parse_dump, read_records, write_records,
)
from se_pipeline.state import SourceState, read_json, write_json

if TYPE_CHECKING:
    from se_pipeline.settings import Settings
    from se_pipeline.sources.registry import SourceSpec

RECORDS_FILE = "partner.nt"
STREAM_FILE = "stream.json"


class ChecksumMismatch(AcquireError):
    """The bytes served are not the bytes the partner's catalog vouches for."""


class ChecksumMissing(AcquireError):
    """The catalog gives no SHA-256 for the dump, and no SHA256SUMS lists it."""


class StreamNotFollowed(Exception):
    """The event stream could not be followed this time (the dump is imported instead)."""


@dataclass
class Harvest:
    """What one harvest produced: the records' N-Triples (`data`, None when nothing
    changed), where they came from, the fetches made, and notes for the status."""

    url: str
    data: Optional[bytes]
    not_modified: bool = False
    fetches: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


Harvester = Callable[["SourceSpec", "Settings", Optional[HttpClient], SourceState], Harvest]


def _time(value: Any) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def harvest(spec: "SourceSpec", settings: "Settings", http: Optional[HttpClient], state: SourceState) -> Harvest:
    """One run's acquisition of partner `spec.name` into `state.run`; raises
    `AcquireError` / `SourceError` when nothing usable came (the source is then stale)."""
    from se_pipeline.sources.ingest import good_copy_current, policy_for, source_urls  # late: ingest calls this module

    policy = policy_for(spec, settings)
    client = http or HttpClient()
    catalog_url = source_urls(spec, settings, None)[0]
    got = fetch(catalog_url, source=spec.name, policy=policy, http=client, raw_dir=state.raw)
    fetches = [got.record.to_dict()]
    offer = read_offer(got.data, got.record.final_url or catalog_url, got.record.content_type, spec.name)
    title = getattr(settings.source_config(spec.name), "title", None) or offer.title or spec.title
    notes: dict[str, Any] = {"publisher": {
        "title": title, "publisher": offer.publisher or title, "homepage": offer.homepage,
        "licence": offer.licence, "attribution": offer.attribution, "derived_from": list(offer.derived_from),
    }}
    cursor = read_json(state.good / STREAM_FILE)
    good_records = state.good / RECORDS_FILE
    # The last good copy was processed by other code or options (how blank nodes are
    # named, which records are left out): if the partner has nothing new, it is processed again.
    again = not good_copy_current(spec, settings, state)
    state.run.mkdir(parents=True, exist_ok=True)
    (state.run / STREAM_FILE).unlink(missing_ok=True)
    if offer.stream and cursor.get("stream") and state.has_good() and good_records.is_file():
        try:
            return _follow(spec, offer, cursor, client, policy, state, fetches, notes, again)
        except StreamNotFollowed as e:
            notes["harvest"] = {"stream_not_followed": str(e)}
    elif offer.stream and state.has_good():
        notes["harvest"] = {"stream_not_followed": "no stream state yet (first import, or forgotten)"}
    return _import_dump(spec, offer, cursor, client, policy, state, fetches, notes, again)


def _again(url: str, offer: Offer, cursor: dict[str, Any], state: SourceState, fetches: list[dict[str, Any]],
           notes: dict[str, Any]) -> Harvest:
    """The last good copy's records given again, for processing by this code: the partner
    has nothing new, but the copy was made by other code or options (`ingest.good_copy_current`)."""
    records = read_records(state.good / RECORDS_FILE)
    notes["harvest"].update(again=True, republished_left_out=leave_out_republished(records, offer.republished))
    data = write_records(records, state.run / RECORDS_FILE)
    write_json(state.run / STREAM_FILE, cursor)
    return Harvest(url, data, fetches=fetches, notes=notes)


def _follow(spec: "SourceSpec", offer: Offer, cursor: dict[str, Any], http: HttpClient, policy: Any,
            state: SourceState, fetches: list[dict[str, Any]], notes: dict[str, Any], again: bool) -> Harvest:
    since = _time(cursor.get("latest"))
    if since is None:
        raise StreamNotFollowed("the stream state has no time of the last member seen")
    try:
        changes = read_changes(offer.stream or "", http=http, policy=policy, source=spec.name, since=since,
                               seen_pages=cursor.get("pages", []))
    except AcquireError as e:
        raise StreamNotFollowed(e.message) from None
    if changes.problems:
        raise StreamNotFollowed("; ".join(changes.problems[:3]))
    now = utc_now_iso()  # the stream's documents, for our provenance (read_changes keeps no bytes)
    fetches += [FetchRecord(url=u, final_url=u, fetched_at=now, status=200, etag=None, last_modified=None, sha256="",
                            byte_size=0, content_type=None, encoding=None).to_dict()
                for u in [offer.stream or "", *changes.pages]]
    pages = list(dict.fromkeys([*cursor.get("pages", []), *changes.pages]))
    latest = changes.latest or since
    new_cursor = {**cursor, "stream": offer.stream, "latest": latest.isoformat(), "pages": pages}
    notes["harvest"] = {"mode": "stream", "stream": offer.stream, "pages": changes.pages,
                        "members": len(changes.members)}
    if not changes.members:
        if again:
            return _again(offer.stream or "", offer, new_cursor, state, fetches, notes)
        return Harvest(offer.stream or "", None, not_modified=True, fetches=fetches, notes=notes)
    records = read_records(state.good / RECORDS_FILE)
    notes["harvest"].update(apply_members(records, changes.members))
    notes["harvest"]["republished_left_out"] = leave_out_republished(records, offer.republished)
    data = write_records(records, state.run / RECORDS_FILE)
    write_json(state.run / STREAM_FILE, new_cursor)
    return Harvest(offer.stream or "", data, fetches=fetches, notes=notes)


def _expected_sha256(spec: "SourceSpec", offer: Offer, http: HttpClient, policy: Any, state: SourceState,
                     fetches: list[dict[str, Any]]) -> str:
    if offer.sha256:
        return offer.sha256
    sums_url = urljoin(offer.url, "SHA256SUMS")
    try:
        sums = fetch(sums_url, source=spec.name, policy=policy, http=http, raw_dir=state.raw)
    except AcquireError as e:
        raise ChecksumMissing(spec.name, f"the catalog gives no spdx:checksum for {offer.url}, and "
                                         f"{sums_url} cannot be read ({type(e).__name__}); refused") from None
    fetches.append(sums.record.to_dict())
    found = checksum_from_sums(sums.data, urlsplit(offer.url).path.rsplit("/", 1)[-1])
    if found is None:
        raise ChecksumMissing(spec.name, f"neither the catalog nor {sums_url} gives the SHA-256 of {offer.url}; refused")
    return found


def _import_dump(spec: "SourceSpec", offer: Offer, cursor: dict[str, Any], http: HttpClient, policy: Any,
                 state: SourceState, fetches: list[dict[str, Any]], notes: dict[str, Any], again: bool) -> Harvest:
    expected = _expected_sha256(spec, offer, http, policy, state, fetches)
    new_cursor = {"dataset": offer.dataset, "dump": offer.url, "sha256": expected,
                  **({"stream": offer.stream, "latest": offer.issued.isoformat() if offer.issued else None, "pages": []}
                     if offer.stream else {})}
    mode = {"mode": "dump", "dump": offer.url, **notes.get("harvest", {})}
    if cursor.get("sha256") == expected and state.has_good() and (state.good / RECORDS_FILE).is_file():
        # The catalog vouches for the very bytes of our last good copy: nothing to download.
        notes["harvest"] = {**mode, "unchanged": True}
        if again:
            return _again(offer.url, offer, cursor, state, fetches, notes)
        return Harvest(offer.url, None, not_modified=True, fetches=fetches, notes=notes)
    got = fetch(offer.url, source=spec.name, policy=policy, http=http, raw_dir=state.raw)
    fetches.append(got.record.to_dict())
    if got.record.sha256 != expected:
        raise ChecksumMismatch(spec.name, f"{offer.url} served bytes with SHA-256 {got.record.sha256}, but the "
                                          f"partner's catalog says {expected}; refused, nothing of it was used")
    records = parse_dump(got.data, OX_FORMAT[offer.format], offer.gzip, offer.url, spec.name, policy.max_bytes)
    left_out = leave_out_republished(records, offer.republished)
    data = write_records(records, state.run / RECORDS_FILE)
    write_json(state.run / STREAM_FILE, new_cursor)
    notes["harvest"] = {**mode, "records": len(records), "republished_left_out": left_out}
    return Harvest(offer.url, data, fetches=fetches, notes=notes)
