"""`murmurations/<id>.json`: one Murmurations profile per enterprise (`organizations_schema-v1.0.0`).

Each profile is valid against the fields of that schema we fill: `linked_schemas`, `name`
(cut to the schema's 200 characters), `nickname`, `primary_url` (first website, else our
IRI), `urls` (other websites, and `{"name": "Linked data", "url": <our IRI>}` always),
`tags` (English labels of the practices, structures and qualifiers, plus "solidarity
economy"; unique, at most 100, each at most 100 characters), `description`, `status`
(schema enum, from our status), `full_address`, `country_iso_3166` (only ISO 3166-1 codes),
`geolocation {lat, lon}`, `contact_details {email}`, `telephone`, `starts_at`/`ends_at`
(unix seconds from founding/dissolution dates), `unique_id` (our IRI) and
`relationships` (networks the enterprise is a member of, `https://schema.org/memberOf`).
A partner can host these files and register their URLs with a Murmurations index.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pycountry

from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import SEPT
from se_pipeline.files import write_file
from se_pipeline.release.exports.common import Enterprise, json_bytes
from se_pipeline.release.exports.labels import labels_for

SCHEMA = "organizations_schema-v1.0.0"
LINKED_DATA = "Linked data"
_ISO = frozenset(c.alpha_2 for c in pycountry.countries)
_STATUS = {
    "Active": "active", "Certified": "active", "Dissolved": "completed", "Withdrawn": "cancelled",
    "Suspended": "on_hold", "Dormant": "on_hold",
}
_TAG_FIELDS = ("practices", "organisational_structure", "qualifiers")


def _unix(date: str | None) -> int | None:
    if not date:
        return None
    try:
        return int(datetime.strptime(str(date)[:10], "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp())
    except ValueError:
        return None


def _member_iri(key: str, base: str) -> str | None:
    if key.startswith(("http://", "https://")):
        return key
    source, sep, rid = key.partition(":")
    return enterprise_iri(source, rid, base) if sep and rid else None


def profile(e: Enterprise, labels: dict[str, dict[str, str]], base: str) -> dict[str, Any]:
    name = str(e.get("name"))
    websites = [w for w in e.list("websites") if str(w).startswith(("http://", "https://"))]
    tags = ["solidarity economy"]
    for field in _TAG_FIELDS:
        for iri in e.list(field):
            tag = labels.get(iri, {}).get("en", "")[:100]
            if tag and tag not in tags:
                tags.append(tag)
    p: dict[str, Any] = {
        "linked_schemas": [SCHEMA],
        "name": name[:200],
        "primary_url": websites[0] if websites else e.iri,
        "tags": tags[:100],
        "urls": [{"name": "Website", "url": w} for w in websites[1:]] + [{"name": LINKED_DATA, "url": e.iri}],
        "unique_id": e.iri,
    }
    alternates = e.list("alternate_names")
    if alternates:
        p["nickname"] = str(alternates[0])
    if e.get("description"):
        p["description"] = str(e.get("description"))
    status = str(e.get("status") or "")
    if status.startswith(SEPT + "status/") and status.rsplit("/", 1)[-1] in _STATUS:
        p["status"] = _STATUS[status.rsplit("/", 1)[-1]]
    address = [str(e.get(f)).replace("\n", ", ") for f in ("street", "locality", "region", "postcode", "country") if e.get(f)]
    if address:
        p["full_address"] = ", ".join(address)
    if e.get("country") in _ISO:
        p["country_iso_3166"] = e.get("country")
    if e.get("lat") is not None and e.get("lon") is not None:
        p["geolocation"] = {"lat": float(e.get("lat")), "lon": float(e.get("lon"))}
    if e.get("email"):
        p["contact_details"] = {"email": str(e.get("email"))}
    if e.get("phone"):
        p["telephone"] = str(e.get("phone"))
    for key, field in (("starts_at", "founded"), ("ends_at", "dissolved")):
        ts = _unix(e.get(field))
        if ts is not None:
            p[key] = ts
    # `key@YYYY-MM-DD` (dated membership, see canonical.schema): the date is not part of the key
    networks = [i for i in (_member_iri(str(k).partition("@")[0], base) for k in e.list("member_of")) if i]
    if networks:
        p["relationships"] = [{"predicate_url": "https://schema.org/memberOf", "object_url": i}
                              for i in dict.fromkeys(networks)]
    return p


@dataclass
class Previous:
    """The profiles of the previous release, to hard-link those whose bytes are unchanged:
    its `murmurations/` folder and {file name: SHA-256} of the profiles in it (of the
    sources at hand)."""

    folder: Path
    digests: dict[str, str]
    linked: int = 0


def _link_or_write(path: Path, data: bytes, previous: Previous | None, read_only: bool) -> str:
    """Hard-link `path` to the previous release's file of the same name when it holds
    exactly `data` (compared by SHA-256: the profile is made either way, the disk block
    and the write are saved; releases share the file, read-only), else write it."""
    digest = hashlib.sha256(data).hexdigest()
    if previous is not None and read_only and previous.digests.get(path.name) == digest:
        try:
            os.link(previous.folder / path.name, path)
            previous.linked += 1
            return digest
        except OSError:  # gone, or another file system: write it
            pass
    return write_file(path, data, read_only=read_only)


def write_profiles(rows: list[Enterprise], folder: Path, base: str, digests: dict[str, str],
                   *, read_only: bool = False, previous: Previous | None = None) -> list[Path]:
    """One profile per enterprise of ours; `digests` receives each file's path and SHA-256;
    `read_only`: new files, created read-only (see `files.write_file`); with `previous`,
    a profile equal to the previous release's is a hard link to it (read-only only). A
    harvested partner's records (IRIs not under `base`) get none: the partner registers
    its own profiles, and a second node per enterprise in the Index would be a duplicate."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [e for e in rows if e.iri.startswith(base)]
    concepts = {i for e in rows for f in _TAG_FIELDS for i in e.list(f)}
    labels = labels_for(concepts)
    paths = []
    for e in rows:  # one small file per enterprise
        paths.append(folder / f"{e.file_id}.json")
        digests[str(paths[-1])] = _link_or_write(paths[-1], json_bytes(profile(e, labels, base)), previous, read_only)
    return paths
