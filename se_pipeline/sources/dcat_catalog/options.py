"""What a run config may say about one partner catalog: `sources.<partner>: {kind: dcat_catalog, url: …}`.

A partner is not a folder under `sources/` but an entry of the run config, so its options
carry the `kind:` that `settings._source_model` picks this model by. Besides the keys
every source takes, a partner may say how often to look (`cadence`) and how it is named
in our catalog until its own catalog has been read (`title`).
"""
from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import field_validator

from se_pipeline.sources.options import SourceOptions, Url

KIND = "dcat_catalog"
#: A partner's name is an asset name, a folder under state/ and part of our source IRI.
NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class Options(SourceOptions):
    """`sources.<partner>` of kind `dcat_catalog`: the catalog's URL is required."""

    kind: Literal["dcat_catalog"]
    url: Url  # type: ignore[assignment]  # required here: a partner has no bundled sample
    cadence: Literal["daily", "weekly", "monthly", "quarterly"] = "daily"
    """How often the partner's schedule and sensor look for a new release."""
    title: Optional[str] = None
    """Our name for the partner (default: the catalog's title once read, else the key)."""

    @field_validator("title")
    @classmethod
    def _one_line(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (not value.strip() or "\n" in value):
            raise ValueError("expected a non-empty one-line title")
        return value


def check_name(name: str) -> None:
    """A partner's key must be a plain lower-case name (raises ValueError otherwise)."""
    if not NAME.match(name):
        raise ValueError(f"partner name {name!r}: expected lower-case letters, digits and _ "
                         "(it names an asset, a state folder and our source IRI)")
