"""What a run config may say about one source: `sources.<name>.{enabled, url, …}`.

`SourceOptions` holds the keys every source accepts. A source that takes more (an API's
states or countries, paging) declares them in `sources/<name>/options.py` as a subclass
named `Options`; the registry finds it, so a key a source does not know is refused for
that source alone. Values are strict: `enabled: "no"` is an error, not a truthy string,
and `allowed_hosts: www.uk.coop` is an error, not a list of characters.
"""
from __future__ import annotations

import re
from typing import Annotated, Optional
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, PositiveFloat, PositiveInt

URL_SCHEMES = ("https", "http", "file")
_HOST = re.compile(r"^(\*\.)?[A-Za-z0-9_.\-]+$|^\[?[0-9A-Fa-f:.]+\]?$")


def check_url(value: object) -> str:
    """An absolute `https://`, `http://` or `file://` URL (the fetch rules decide later
    whether it may actually be fetched: allowlist, https-only, file roots)."""
    wanted = "expected a URL (https://…, http://… or file:///path)"
    if not isinstance(value, str):
        raise ValueError(wanted)
    text = value.strip()
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https") and parts.hostname:
        return text
    if scheme == "file" and parts.path:
        return text
    raise ValueError(wanted)


def check_host(value: object) -> str:
    """A host name (`www.uk.coop`, `*.example.org` for any subdomain) or an IP address."""
    if not isinstance(value, str) or not _HOST.match(value.strip()):
        raise ValueError("expected a host name such as www.example.org or *.example.org")
    return value.strip()


Url = Annotated[str, BeforeValidator(check_url)]
HostName = Annotated[str, BeforeValidator(check_host)]


class SourceOptions(BaseModel):
    """Keys every source accepts under `sources.<name>` in the run config."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    enabled: bool = True
    """False leaves the source out of the run and the release."""
    url: Optional[Url] = None
    """Where to read the source (default: its bundled sample)."""
    allowed_hosts: Optional[list[HostName]] = None
    """Replaces the allowlist of the source's `source.yaml`."""
    max_bytes: Optional[PositiveInt] = None
    """Byte cap of one fetch (default: `http.max_bytes`)."""
    total_budget_s: Optional[PositiveFloat] = None
    """Wall-clock seconds one fetch may take, retries and body read included (default 300)."""

    def as_dict(self) -> dict:
        """The options as the adapters read them (`build_urls(url, options, secret)`):
        keys as written in the config, unset optional keys left out so adapter defaults apply."""
        return self.model_dump(by_alias=True, exclude_none=True)
