"""USDA AMS Local Food Portal — On-farm market directory (`GET /api/onfarmmarket/?apikey=KEY[&state=VT]`).

On-farm markets (farm stands, u-pick). Same API family and record shape as the CSA directory: UTF-8 JSON
`{"data": [listing, …]}` keyed by `listing_id`, with `listing_name`, `location_*`
(`location_x` = longitude, `location_y` = latitude), `media_website`,
`contact_*`, `updatetime` (`Jan 3rd, 2024`). Reading, the state-by-state requests and
the API key (`USDA_AMS_API_KEY`) are shared in `usda_csa/localfood.py`; this source's
own mapping (practice, activity) is its `source.yaml`.
"""
from __future__ import annotations

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.usda_csa.localfood import build_urls, parse_listings

__all__ = ["build_urls", "parse"]


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    return parse_listings(raw, ctx)
