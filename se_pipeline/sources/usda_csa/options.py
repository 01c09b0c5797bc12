"""Run-config options of the USDA CSA directory (`sources.usda_csa`)."""
from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BeforeValidator

from se_pipeline.sources.options import SourceOptions


def _state(value: object) -> str:
    if not isinstance(value, str) or len(value.strip()) != 2 or not value.strip().isalpha():
        raise ValueError("expected a two-letter US state code such as VT")
    return value.strip().upper()


StateCode = Annotated[str, BeforeValidator(_state)]


class Options(SourceOptions):
    states: Optional[list[StateCode]] = None
    """Two-letter US state codes, one API request each (none: one national request)."""
