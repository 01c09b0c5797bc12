"""Run-config options of the Murmurations index (`sources.murmurations`); unset ones
take the adapter's defaults."""
from __future__ import annotations

from typing import Annotated, Optional, Union

from pydantic import BeforeValidator, Field, NonNegativeInt, PositiveFloat, PositiveInt

from se_pipeline.sources.options import SourceOptions, check_host


def _hosts(value: object) -> Union[str, list[str]]:
    """"*" (any public host) or a list of host names."""
    if value == "*":
        return "*"
    if not isinstance(value, list):
        raise ValueError('expected "*" or a list of host names, e.g. [www.example.org]')
    return [check_host(v) for v in value]


class Options(SourceOptions):
    countries: Optional[list[str]] = None
    """ISO 3166-1 alpha-2 codes: one index query per country (none: one global query)."""
    pages: Optional[PositiveInt] = None
    page_size: Optional[PositiveInt] = None
    index_schema: Optional[str] = Field(default=None, alias="schema")
    """The Murmurations schema the index is filtered by."""
    last_updated: Optional[NonNegativeInt] = None
    """Unix seconds: only profiles updated since."""
    profile_hosts: Optional[Annotated[Union[str, list[str]], BeforeValidator(_hosts)]] = None
    """Hosts profiles may be fetched from ("*": any public host)."""
    profile_budget_s: Optional[PositiveFloat] = None
    profile_allow_private_addresses: Optional[bool] = None
    profile_allow_http: Optional[bool] = None
    profile_respect_robots: Optional[bool] = None
