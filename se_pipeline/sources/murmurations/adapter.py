"""Murmurations index (`organizations_schema-v1.0.0`) + each node's own profile.

Index: `GET https://index.murmurations.network/v2/nodes?schema=organizations_schema-v1.0.0
&country=GB&last_updated=<unix>&page=1&page_size=500` answers UTF-8 JSON

```json
{"data": [{"profile_url": "https://coop.example/murmurations.json", "name": "…",
           "primary_url": "coop.example", "tags": ["food", "co-op"], "latitude": 51.5,
           "longitude": -0.1, "locality": "London", "region": "…", "country": "GB",
           "last_updated": 1700000000, "status": "posted" | "deleted"}, …],
 "links": {"first": "…", "self": "…", "next": "…", "last": "…"},
 "meta": {"number_of_results": 1234, "total_pages": 3}}
```

Every field but `profile_url` may be absent. Paging: `build_urls` asks for
`pages` pages (default 1) of `page_size` (default 500) per country in `countries` (none:
the whole index); a `links.next` on the last page fetched is reported in
`notes["more_pages"]` (raise `pages`) — never followed silently.

Profiles: each `profile_url` is then loaded and parsed as a profile of
`organizations_schema-v1.0.0`: `linked_schemas`, `name`, `nickname`, `primary_url`,
`urls` [{name, url}], `tags`, `description`, `mission`, `status` (`active`, `completed`,
`cancelled`, `on_hold`, `in_planning`), `image`, `rss`, `relationships`,
`geolocation {lat, lon}`, `full_address`, `country_iso_3166`, `contact_details {email}`,
`telephone`, `starts_at`/`ends_at` (unix seconds), `unique_id`; and the extension fields
`member_count`, `worker_count`, `counted_at` (mapping `counts:`). Profile values win over the
index's copy; the index fills what the profile lacks. An `http(s)` profile is fetched with
the shared `HttpClient` (https only, no private addresses, robots.txt, 1 MB cap; hosts:
`profile_hosts`); a relative or `file://` profile URL is read only when the index itself is a
local file, and only inside the index file's folder (the bundled sample). A profile that cannot
be loaded or is not a JSON object is quarantined with its URL.

`tags` are mapped through the `tags:` table of source.yaml to practices, organisational
structure, qualifiers, activities, membership type and kind (network / support);
`relationships` whose predicate is in `member_of_predicates` (schema:memberOf) become
`member_of` keys: `murmurations:<record id>` when `object_url` names a node of the same index
(its profile_url, primary_url or one of its urls), else the absolute object_url; a
relationship's own `starts_at` (unix seconds or ISO date) dates it (`key@YYYY-MM-DD`).

Nodes whose index status is `deleted` are kept with status Withdrawn (their profile is
not fetched), so their IRIs never break. Record id = `profile_url` as the index gives it
(the index's own node id is a hash of it); `line` = position in the index page.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit
from urllib.request import url2pathname

import pandas as pd

from se_pipeline.namespaces import expand_curie
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import MappingError, SourceFormatError
from se_pipeline.sources.mapping import add_dropped, apply_mapping
from se_pipeline.sources.tabular import LINE, decode

SCHEMA = "organizations_schema-v1.0.0"
ProfileLoader = Callable[[str], bytes]


def build_urls(url: str, options: dict[str, Any], secret: str | None) -> list[str]:
    """Index page URLs: per country in `options["countries"]` (or one, global) x pages
    1..`pages`, each with `schema`, `page_size` and optional `last_updated`; `file://`
    URLs (the bundled sample) are returned as is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return [url]
    keep = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("schema", "country", "page", "page_size", "last_updated")]
    keep.append(("schema", str(options.get("schema") or SCHEMA)))
    if options.get("last_updated"):
        keep.append(("last_updated", str(int(options["last_updated"]))))
    keep.append(("page_size", str(int(options.get("page_size") or 500))))
    countries = [str(c).strip().upper() for c in (options.get("countries") or []) if str(c).strip()]
    urls = []
    for country in countries or [None]:
        for page in range(1, int(options.get("pages") or 1) + 1):
            q = keep + ([("country", country)] if country else []) + [("page", str(page))]
            urls.append(urlunsplit(parts._replace(query=urlencode(q))))
    return urls


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = str(value).strip()
    return text or None


def _unix_date(value: Any) -> str | None:
    """Unix seconds (number or numeric text) -> ISO date; other text is passed on to be reported."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return _text(value)
    if not math.isfinite(seconds):
        return _text(value)
    try:
        return datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return _text(value)


def local_loader(index_url: str, max_bytes: int) -> ProfileLoader:
    """Reads relative / file:// profile URLs inside the folder of a local index file."""
    index_path = Path(url2pathname(unquote(urlsplit(index_url).path))) if index_url.startswith("file:") else Path(index_url)
    folder = index_path.resolve().parent

    def load(profile_url: str) -> bytes:
        parts = urlsplit(profile_url)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise ValueError("file URL on a remote host")
            path = Path(url2pathname(unquote(parts.path)))
        elif parts.scheme:
            raise ValueError(f"scheme {parts.scheme!r} not allowed for a local index")
        else:
            path = folder / url2pathname(unquote(parts.path))
        path = path.resolve()
        if not path.is_relative_to(folder):
            raise ValueError("profile path leaves the index folder")
        if not path.is_file():
            raise ValueError("no such profile file")
        if path.stat().st_size > max_bytes:
            raise ValueError(f"profile larger than {max_bytes} bytes")
        return path.read_bytes()

    return load


def http_loader(ctx: SourceContext, max_bytes: int) -> ProfileLoader:
    """Fetches profiles through the shared HTTP rules (allowlist, addresses, robots, size)."""
    from se_pipeline.acquire.http import HttpClient
    from se_pipeline.acquire.policy import SourcePolicy

    hosts = ctx.options.get("profile_hosts", ctx.mapping.get("profile_hosts", "*"))
    any_host = hosts == "*"

    class ProfilePolicy(SourcePolicy):
        def host_allowed(self, host: str | None) -> bool:  # "*": any public host
            return bool(host) if any_host else super().host_allowed(host)

    policy = ProfilePolicy(allowed_hosts=[] if any_host else list(hosts), expected="json", max_bytes=max_bytes,
                           total_budget_s=float(ctx.options.get("profile_budget_s") or 30),
                           allow_private_addresses=bool(ctx.options.get("profile_allow_private_addresses", False)))
    client = HttpClient(max_retries=1, max_bytes=max_bytes,
                        allow_http=bool(ctx.options.get("profile_allow_http", False)),
                        allow_private_addresses=policy.allow_private_addresses,
                        respect_robots=bool(ctx.options.get("profile_respect_robots", True)))

    def load(profile_url: str) -> bytes:
        result = client.get(profile_url, policy=policy, source=ctx.source)
        if result.status_code != 200:
            raise ValueError(f"HTTP {result.status_code}")
        return result.content

    return load


def _profile_loader(ctx: SourceContext) -> tuple[ProfileLoader, Callable[[str], str]]:
    """(loader, resolve): `resolve` turns an index `profile_url` into what the loader reads."""
    max_bytes = int(ctx.mapping.get("profile_max_bytes") or 1_000_000)
    injected = ctx.options.get("profile_loader")  # tests and embedding callers
    local = not urlsplit(ctx.url).scheme.startswith("http")
    if callable(injected):
        return injected, lambda u: u
    if local:
        return local_loader(ctx.url, max_bytes), lambda u: u
    http = http_loader(ctx, max_bytes)
    return http, lambda u: urljoin(ctx.url, u)


def _url_key(url: str | None) -> str | None:
    """A URL compared loosely: no scheme, no `www.`, no trailing `/`, host lower-cased."""
    text = _text(url)
    if not text:
        return None
    parts = urlsplit(text if "://" in text or not text.split("/")[0].count(".") else "https://" + text)
    if not parts.scheme:  # a relative profile URL (the bundled sample)
        return text.rstrip("/")
    host = (parts.hostname or "").lower().removeprefix("www.")
    return (host + parts.path).rstrip("/") + (("?" + parts.query) if parts.query else "")


def _node_urls(node: dict[str, Any], profile: dict[str, Any] | None) -> list[str]:
    p = profile or {}
    urls = [node.get("profile_url"), node.get("primary_url"), p.get("primary_url")]
    urls += [u.get("url") for u in _list(p.get("urls")) if isinstance(u, dict)]
    return [k for k in (_url_key(u) for u in urls) if k]


def _list(value: Any) -> list[Any]:
    """A JSON array as a list; any other value (a bad one) as no items."""
    return value if isinstance(value, list) else []


def _member_of(profile: dict[str, Any] | None, own_id: str, lookup: dict[str, str], predicates: set[str],
               notes: dict[str, Any]) -> list[str]:
    """member_of keys from the profile's `relationships` (see module docstring)."""
    rels = (profile or {}).get("relationships")
    out: list[str] = []
    for rel in rels if isinstance(rels, list) else []:
        if not isinstance(rel, dict):
            notes["bad_relationships"] += 1
            continue
        predicate, target = _text(rel.get("predicate_url")), _text(rel.get("object_url"))
        if not predicate or not target:
            notes["bad_relationships"] += 1
            continue
        if predicate not in predicates:
            notes["other_relationships"][predicate] = notes["other_relationships"].get(predicate, 0) + 1
            continue
        rid = lookup.get(_url_key(target) or "")
        if rid is not None:
            if rid == own_id:
                continue
            key = f"murmurations:{rid}"
        elif urlsplit(target).scheme in ("http", "https") and "@" not in target and " " not in target:
            key = target  # a network outside this index: its own URL
            notes["external_networks"] += 1
        else:
            notes["bad_relationships"] += 1
            continue
        since = _unix_date(rel.get("starts_at"))
        if since:
            try:
                since = date.fromisoformat(since).isoformat() if len(since) == 10 else None
            except ValueError:
                since = None
            if since is None:  # kept as an undated membership
                notes["bad_relationship_dates"] += 1
        entry = f"{key}@{since}" if since else key
        if all(e.partition("@")[0] != key for e in out):
            out.append(entry)
    return out


def _apply_tags(tags: list[str | None], table: dict[str, Any]) -> tuple[dict[str, list[Any]], Counter[str],
                                                                       list[list[tuple[str, str]]]]:
    """The `tags:` table applied to `;`-joined tag cells: canonical columns, unmapped tags,
    and per row the unmapped tags as dropped values."""
    table = {str(k).strip().lower(): v or {} for k, v in (table or {}).items()}
    rank = {"enterprise": 0, "support": 1, "network": 2}
    for tag, spec in table.items():
        if not isinstance(spec, dict) or set(spec) - {"practices", "organisational_structure", "qualifiers",
                                                       "activities", "membership_type", "kind"}:
            raise MappingError("murmurations", f"tags table: bad entry for {tag!r}: {spec!r}")
        if spec.get("kind", "enterprise") not in rank:
            raise MappingError("murmurations", f"tags table: unknown kind {spec['kind']!r} for {tag!r}")
    cols: dict[str, list[Any]] = {c: [] for c in ("practices", "organisational_structure", "qualifiers",
                                                  "activities", "membership_type", "kind")}
    unmapped: Counter[str] = Counter()
    dropped: list[list[tuple[str, str]]] = []
    for cell in tags:
        dropped.append([])
        got: dict[str, list[str]] = {c: [] for c in ("practices", "organisational_structure", "qualifiers", "activities")}
        bmt: str | None = None
        kind = "enterprise"
        for tag in (t.strip() for t in (cell or "").split(";")):
            if not tag:
                continue
            spec = table.get(tag.lower())
            if spec is None:
                unmapped[tag] += 1
                dropped[-1].append(("tags", f"tag {tag[:80]!r} is not in the tags table"))
                continue
            for c in got:
                for iri in (expand_curie(str(v)) for v in spec.get(c) or []):
                    if iri not in got[c]:
                        got[c].append(iri)
            if spec.get("membership_type") and bmt is None:
                bmt = expand_curie(str(spec["membership_type"]))
            if rank[spec.get("kind", "enterprise")] > rank[kind]:
                kind = spec["kind"]
        for c, v in got.items():
            cols[c].append(v)
        cols["membership_type"].append(bmt)
        cols["kind"].append(kind)
    return cols, unmapped, dropped


def _merge(node: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any]:
    """One raw row from the index entry and (when loaded) the profile; profile wins."""
    p = profile or {}
    geo = p.get("geolocation") if isinstance(p.get("geolocation"), dict) else {}
    contact = p.get("contact_details") if isinstance(p.get("contact_details"), dict) else {}
    urls = [_text(p.get("primary_url")) or _text(node.get("primary_url"))]
    urls += [_text(u.get("url")) for u in _list(p.get("urls")) if isinstance(u, dict)]
    tags = p.get("tags") if isinstance(p.get("tags"), list) else _list(node.get("tags"))
    row = {
        "profile_url": _text(node.get("profile_url")),
        "name": _text(p.get("name")) or _text(node.get("name")),
        "nickname": _text(p.get("nickname")),
        "description": _text(p.get("description")) or _text(p.get("mission")),
        "full_address": _text(p.get("full_address")),
        "locality": _text(node.get("locality")),
        "region": _text(node.get("region")),
        "country": _text(p.get("country_iso_3166")) or _text(node.get("country")),
        "lat": _text(geo.get("lat")) if geo else _text(node.get("latitude")),
        "lon": _text(geo.get("lon")) if geo else _text(node.get("longitude")),
        "email": _text(contact.get("email")),
        "telephone": _text(p.get("telephone")),
        "starts_at": _unix_date(p.get("starts_at")),
        "ends_at": _unix_date(p.get("ends_at")),
        "last_updated": _unix_date(node.get("last_updated")),
        "unique_id": _text(p.get("unique_id")),
        "member_count": _text(p.get("member_count")),
        "worker_count": _text(p.get("worker_count")),
        "counted_at": _unix_date(p.get("counted_at")),
        "status": _text(p.get("status")),
        "tags": ";".join(t for t in (_text(x) for x in (tags or [])) if t) or None,
        "__urls__": [u for u in urls if u],
    }
    if _text(node.get("status")) == "deleted":
        row["status"] = "deleted"
    return row


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    try:
        doc = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as e:
        raise SourceFormatError(ctx.source, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise SourceFormatError(ctx.source, "not a Murmurations index answer (no `data` list)")
    load, resolve = _profile_loader(ctx)
    rows: list[dict[str, Any]] = []
    profiles: list[dict[str, Any] | None] = []
    lookup: dict[str, str] = {}  # loose URL of a node -> its record id (profile_url)
    quarantine: list[QuarantineRecord] = []
    for i, node in enumerate(doc["data"], start=1):
        if not isinstance(node, dict) or not _text(node.get("profile_url")):
            quarantine.append(QuarantineRecord(ctx.source, "", i, "profile_url", "index entry without a profile_url"))
            continue
        url = _text(node["profile_url"]) or ""
        profile = None
        if _text(node.get("status")) != "deleted":
            try:
                profile = json.loads(load(resolve(url)).decode("utf-8"), parse_float=str, parse_int=str)
            except Exception as e:  # any failure of one profile is that record's quarantine
                quarantine.append(QuarantineRecord(ctx.source, url, i, "profile_url",
                                                   f"profile could not be loaded from {url}: {type(e).__name__}: {e}"[:500]))
                continue
            if not isinstance(profile, dict):
                quarantine.append(QuarantineRecord(ctx.source, url, i, "profile_url", f"profile at {url} is not a JSON object"))
                continue
        row = _merge(node, profile)
        row[LINE] = i
        rows.append(row)
        profiles.append(profile)
        for key in _node_urls(node, profile):
            lookup.setdefault(key, url)  # first node wins, as for duplicate record ids
    rel_notes: dict[str, Any] = {"bad_relationships": 0, "bad_relationship_dates": 0, "external_networks": 0,
                                 "other_relationships": {}}
    predicates = {str(p) for p in ctx.mapping.get("member_of_predicates") or ["https://schema.org/memberOf"]}
    for row, profile in zip(rows, profiles):
        row["__member_of__"] = _member_of(profile, row["profile_url"], lookup, predicates, rel_notes)
    columns = ["profile_url", "name", "nickname", "description", "full_address", "locality", "region", "country",
               "lat", "lon", "email", "telephone", "starts_at", "ends_at", "last_updated", "unique_id", "status",
               "member_count", "worker_count", "counted_at", "tags", "__urls__", "__member_of__", LINE]
    frame = pd.DataFrame(rows, columns=columns, dtype="object")
    mapping = dict(ctx.mapping)
    mapping["columns"] = {**(mapping.get("columns") or {}), **(mapping.get("counts") or {})}
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    mapped["websites"] = pd.Series(list(frame["__urls__"]), index=mapped.index, dtype="object")
    mapped["member_of"] = pd.Series(list(frame["__member_of__"]), index=mapped.index, dtype="object")
    tag_cols, unmapped_tags, dropped_tags = _apply_tags(frame["tags"].tolist(), ctx.mapping.get("tags") or {})
    add_dropped(mapped, dropped_tags)
    for col, values in tag_cols.items():
        mapped[col] = pd.Series(values, index=mapped.index, dtype="object")
    if unmapped_tags:
        notes.setdefault("unmapped", {})["tags"] = dict(unmapped_tags.most_common())
    notes["relationships"] = rel_notes
    links = doc.get("links") if isinstance(doc.get("links"), dict) else {}
    if links.get("next"):
        notes["more_pages"] = [str(links["next"])]
    notes.update({"encoding": encoding, "index_entries": len(doc["data"]),
                  "total_pages": (doc.get("meta") or {}).get("total_pages") if isinstance(doc.get("meta"), dict) else None})
    return ParseResult(mapped, quarantine, notes)
