"""USDA AMS Local Food Portal — CSA directory (`GET /api/csa/?apikey=KEY[&state=VT]`).

Format: UTF-8 JSON `{"data": [listing, …]}`, one object per Community Supported
Agriculture operation, keyed by `listing_id`; fields `listing_name`, `listing_desc`,
`location_address` / `_city` / `_state` (full state name) / `_zipcode`, `location_x`
(longitude) and `location_y` (latitude) as strings or numbers, `media_website`,
`media_facebook`, `contact_email`, `contact_phone`, `updatetime` (`Jan 3rd, 2024`, or
ISO on recently edited listings), `brief_desc`. No paging: one answer per request; the
national directory is fetched state by state when `states` is configured (see
`localfood.build_urls`; the API key comes from `USDA_AMS_API_KEY`). Reading is shared
with the other USDA directories in `localfood.py`; the mapping is `source.yaml`.
"""
from __future__ import annotations

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.usda_csa.localfood import build_urls, parse_listings

__all__ = ["build_urls", "parse"]


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    return parse_listings(raw, ctx)
