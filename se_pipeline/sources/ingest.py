"""One source's acquisition: fetch -> parse -> canonical rows, written to its run state.

This is the body of each per-source Dagster asset, kept out of `assets/` so it can be
tested and benchmarked without Dagster. A source that fails (network, format, encoding)
is reported, and its last good copy stays in place: the caller decides what that means.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from se_pipeline.acquire.errors import AcquireError
from se_pipeline.acquire.fetch import fetch
from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.acquire.provenance import FetchRecord
from se_pipeline.canonical.normalise import conform
from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.code_digest import code_digest
from se_pipeline.geocode.apply import geocode_frame, geocoder_for
from se_pipeline.quarantine import write_quarantine
from se_pipeline.settings import Settings
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceError, SourceFormatError, public_message
from se_pipeline.sources.registry import SourceSpec
from se_pipeline.state import SourceState, read_json, write_frame, write_json

DEFAULT_BUDGET_S = 300.0
"""Wall-clock seconds one source's fetch may take when its options do not say."""


@dataclass
class IngestOutcome:
    source: str
    ok: bool
    rows: int = 0
    quarantined: int = 0
    dropped: int = 0
    not_modified: bool = False
    error: str | None = None  # what went wrong and where, never quoting the data: it reaches public files
    detail: str | None = None  # the full message, for the steward (run state and logs only)
    transient: bool = False  # a retry later may help (timeouts, 5xx, 429)
    disabled: bool = False  # switched off in the config: not fetched, not released
    fetches: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def redact(text: str, secret: str | None) -> str:
    """Secrets (API keys) never reach provenance, logs or error messages."""
    return text.replace(secret, "***") if secret else text


def source_urls(spec: SourceSpec, settings: Settings, secret: str | None) -> list[str]:
    """The URLs to fetch: the configured URL (default: the bundled sample), expanded by
    the adapter's optional `build_urls` for APIs that page or split by region."""
    options = settings.source_options(spec.name)
    url = options.get("url") or spec.sample_url
    builder = getattr(importlib.import_module(spec.module), "build_urls", None)
    return builder(url, options, secret) if builder else [url]


def policy_for(spec: SourceSpec, settings: Settings) -> SourcePolicy:
    options = settings.source_config(spec.name)
    return SourcePolicy(
        allowed_hosts=list(spec.allowed_hosts if options.allowed_hosts is None else options.allowed_hosts),
        expected=spec.expected,
        expected_header=list(spec.expected_header) or None,
        manual_export_only=spec.manual_export_only,
        max_bytes=options.max_bytes or settings.http.max_bytes,
        total_budget_s=options.total_budget_s or DEFAULT_BUDGET_S,
        allow_private_addresses=settings.http.allow_private_addresses,
        file_roots=settings.allowed_file_roots,
    )


def processing_key(spec: SourceSpec, settings: Settings) -> str:
    """What turns a source's fetched bytes into its rows and graph besides the bytes: the
    code, the source's options, geocoding and the base IRI. Unchanged bytes skip that
    work only when this is also what the last good copy was made with."""
    made_with = {"code": code_digest(), "options": settings.source_options(spec.name),
                 "geocoding": settings.geocoding.model_dump(mode="json"), "base_iri": settings.base_iri}
    return hashlib.sha256(json.dumps(made_with, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def good_copy_current(spec: SourceSpec, settings: Settings, state: SourceState) -> bool:
    """Whether the last good copy was made with what this run would process it with
    (`processing_key`): if not, unchanged bytes are processed again."""
    return read_json(state.good / "status.json").get("made_with") == processing_key(spec, settings)


def ingest(spec: SourceSpec, settings: Settings, http: HttpClient | None, secret: str | None = None) -> IngestOutcome:
    """Fetch, parse and canonicalise one source into `state/<source>/run/`."""
    state = SourceState.of(settings.state_dir, spec.name)
    state.run.mkdir(parents=True, exist_ok=True)
    for stale in ("graph.nt", "gate.json"):
        (state.run / stale).unlink(missing_ok=True)
    outcome = IngestOutcome(spec.name, ok=False)
    if not settings.enabled(spec.name):
        outcome.ok, outcome.disabled = True, True
        write_json(state.run / "status.json", {"ok": True, "disabled": True, "source": spec.name})
        return outcome
    previous = [FetchRecord.from_dict(d) for d in read_json(state.good / "fetch.json").get("fetches", [])]
    where = ""  # the URL being fetched or parsed, named in the error
    try:
        t0 = time.perf_counter()
        policy = policy_for(spec, settings)
        fetched: list[tuple[str, bytes, dict[str, Any]]] = []
        if spec.harvest is not None:  # a partner's catalog: catalog, checksum, dump or stream
            where = source_urls(spec, settings, secret)[0]
            harvested = spec.harvest(spec, settings, http, state)
            outcome.fetches += harvested.fetches
            outcome.notes.update(harvested.notes)
            if harvested.data is not None:
                fetched.append((harvested.url, harvested.data, {"encoding": "utf-8"}))
        for url in source_urls(spec, settings, secret) if spec.harvest is None else ():
            where = url
            prev = next((p for p in previous if p.url == redact(url, secret)), None)
            got = fetch(url, source=spec.name, policy=policy, http=http, previous=prev, raw_dir=state.raw)
            record = got.record.to_dict()
            record["url"] = redact(record.get("url", ""), secret)
            record["final_url"] = redact(record.get("final_url") or "", secret)
            outcome.fetches.append(record)
            fetched.append((url, got.data, record))
        outcome.seconds["fetch"] = time.perf_counter() - t0
        made_with = processing_key(spec, settings)
        if spec.harvest is not None:  # nothing new harvested: there is nothing to process again either
            outcome.not_modified = not fetched
        else:
            outcome.not_modified = (bool(fetched) and all(r.get("not_modified") for _, _, r in fetched)
                                    and good_copy_current(spec, settings, state))
        if outcome.not_modified and state.has_good():
            # An unchanged source costs its conditional requests and nothing else.
            good = read_json(state.good / "status.json")
            outcome.ok, outcome.rows = True, int(good.get("rows", 0))
            outcome.quarantined, outcome.dropped = int(good.get("quarantined", 0)), int(good.get("dropped", 0))
            write_json(state.run / "fetch.json", {"fetches": outcome.fetches})
            # Same data as the last good copy, so the same quarantine: checks keep seeing it.
            write_json(state.run / "status.json", {"ok": True, "source": spec.name, "rows": outcome.rows,
                                                   "quarantined": outcome.quarantined, "dropped": outcome.dropped,
                                                   "not_modified": True, "notes": outcome.notes,
                                                   "made_with": made_with,
                                                   "seconds": outcome.seconds})
            return outcome
        t1 = time.perf_counter()
        parsed: list[ParseResult] = []
        for url, data, record in fetched:
            where = url
            ctx = SourceContext(spec.name, spec.mapping, url=redact(url, secret),
                                encoding=record.get("encoding"), options=settings.source_options(spec.name))
            try:
                parsed.append(spec.parse(data, ctx))
            except SourceError:
                raise
            except Exception as e:  # an adapter meeting input it cannot read is a source failure
                raise SourceFormatError(spec.name, f"cannot parse {ctx.url}: {type(e).__name__}: {e}") from e
        outcome.seconds["parse"] = time.perf_counter() - t1
        frames = [p.frame for p in parsed if len(p.frame)]
        frame = pd.concat(frames, ignore_index=True) if frames else ensure_columns(pd.DataFrame())
        t2 = time.perf_counter()
        canonical, quarantine, dropped, resolved = conform(
            frame, spec.name, date_order=spec.mapping.get("date_order", "dmy"),
            strip_html=bool(spec.mapping.get("html", False)),
        )
        outcome.seconds["canonical"] = time.perf_counter() - t2
        if settings.geocoding.enabled:
            t3 = time.perf_counter()
            canonical, geocoded = geocode_frame(canonical, geocoder_for(settings.geocoding, settings.state_dir))
            outcome.notes["geocoding"] = geocoded.as_dict()
            outcome.seconds["geocode"] = time.perf_counter() - t3
        quarantine = [q for p in parsed for q in p.quarantine] + quarantine
        for p in parsed:
            for k, v in p.notes.items():
                outcome.notes.setdefault(k, v)
    except (AcquireError, SourceError, UnicodeError, ValueError) as e:
        outcome.error = redact(public_message(e, spec.name, where), secret)
        outcome.detail = redact(f"{type(e).__name__}: {e}", secret)
        outcome.transient = bool(getattr(e, "transient", False))
        write_json(state.run / "status.json", {"ok": False, "error": outcome.error, "detail": outcome.detail,
                                               "source": spec.name})
        return outcome
    write_frame(state.run / "canonical.parquet", canonical)
    write_quarantine(state.run / "quarantine.csv", quarantine)
    write_quarantine(state.run / "dropped.csv", dropped)
    write_quarantine(state.run / "resolved.csv", resolved)
    write_json(state.run / "fetch.json", {"fetches": outcome.fetches})
    outcome.ok, outcome.rows, outcome.quarantined, outcome.dropped = True, len(canonical), len(quarantine), len(dropped)
    write_json(state.run / "status.json", {
        "ok": True, "source": spec.name, "rows": outcome.rows, "quarantined": outcome.quarantined,
        "dropped": outcome.dropped, "not_modified": outcome.not_modified, "notes": outcome.notes,
        "made_with": made_with, "seconds": outcome.seconds,
    })
    return outcome

