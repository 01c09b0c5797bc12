"""SourcePolicy validation and allowlist matching; FetchRecord (de)serialisation."""
from __future__ import annotations

import pytest

from se_pipeline.acquire.errors import AcquireError, HttpStatusError
from se_pipeline.acquire.policy import SourcePolicy
from se_pipeline.acquire.provenance import FetchRecord


def test_allowlist_matching() -> None:
    p = SourcePolicy(allowed_hosts=["Data.Example.org", "*.cdn.example.net"])
    assert p.host_allowed("data.example.org") and p.host_allowed("data.example.org.")
    assert p.host_allowed("a.cdn.example.net") and not p.host_allowed("cdn.example.net.evil.com")
    assert not p.host_allowed("evil-data.example.org") and not p.host_allowed(None)
    assert not SourcePolicy().host_allowed("example.org")


def test_policy_validation() -> None:
    with pytest.raises(ValueError):
        SourcePolicy(expected="xml")
    with pytest.raises(ValueError):
        SourcePolicy(max_bytes=0)


def test_fetch_record_round_trip() -> None:
    r = FetchRecord(url="https://a/b.csv", final_url="https://a/c.csv", fetched_at="2025-01-01T00:00:00Z", status=200,
                    etag='"x"', last_modified=None, sha256="ab" * 32, byte_size=3, content_type="text/csv",
                    encoding="utf-8", not_modified=False, from_cache=False)
    assert FetchRecord.from_dict(r.to_dict()) == r
    assert FetchRecord.from_json(r.to_json()) == r
    assert FetchRecord.from_dict({**r.to_dict(), "added_later": 1}) == r


def test_errors_carry_source_and_transience() -> None:
    e = AcquireError("coops_uk", "boom")
    assert e.source == "coops_uk" and str(e) == "coops_uk: boom" and not e.transient
    assert HttpStatusError("s", 503, "https://x").transient
    assert not HttpStatusError("s", 404, "https://x").transient
