"""The `geocoding:` section of the run configuration.

```yaml
geocoding:
  enabled: true                 # default; false leaves coordinates exactly as the sources give them
  embedded: true                # layer 1 (offline, packaged): GB postcodes + GeoNames localities
  files:                        # layer 2: gazetteer files downloaded once, indexed on first use
    - {format: onspd, path: /data/ONSPD_MAY_2025_UK.csv}
    - {format: geonames-postal, path: /data/allCountries.txt}
  online:                       # layer 3, opt-in: geopy geocoders, cached, rate limited
    - {service: nominatim, user_agent: "se-pipeline (steward@example.org)", max_requests: 500}
  allow_share_alike: false      # ODbL data (every online service here) stays out unless true
```

A small pydantic model of its own, so `settings.Settings` needs one field for it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class GazetteerFileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["onspd", "geonames-postal"]
    path: Path

    @field_validator("path")
    @classmethod
    def _readable(cls, v: Path) -> Path:
        if not v.is_file():
            raise ValueError(f"gazetteer file {v} does not exist")
        return v


class OnlineServiceConfig(BaseModel):
    """One geopy geocoder. Public services' usage policies set a floor on the delay between
    requests that the configuration cannot lower (see `online.POLICY_MIN_DELAY`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    service: Literal["nominatim", "photon", "opencage"]
    domain: str | None = None               # default: the service's public host
    scheme: Literal["https", "http"] = "https"
    user_agent: str | None = None           # Nominatim's policy asks for one that identifies the application
    api_key_env: str | None = None          # environment variable holding the key (OpenCage)
    min_delay_seconds: float | None = Field(default=None, ge=0)
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    max_requests: int = Field(default=500, ge=0)   # per run; what is left waits for the next run

    @field_validator("domain")
    @classmethod
    def _bare_host(cls, v: str | None) -> str | None:
        if v is not None and ("/" in v or not v.strip()):
            raise ValueError("domain is a host[:port], without scheme or path")
        return v


class GeocodingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    embedded: bool = True
    files: tuple[GazetteerFileConfig, ...] = ()
    online: tuple[OnlineServiceConfig, ...] = ()
    allow_share_alike: bool = False
    index_dir: Path | None = None   # default: <output>/state/geocode (layer 1's index: the user cache)

    @model_validator(mode="after")
    def _licences(self) -> "GeocodingConfig":
        from se_pipeline.geocode.online import SERVICES   # late: online imports geopy

        if not self.allow_share_alike:
            odbl = [s.service for s in self.online if SERVICES[s.service].share_alike]
            if odbl:
                raise ValueError(
                    f"geocoding.online {odbl}: these services return OpenStreetMap data under the ODbL, "
                    "a share-alike licence the ODC-By release cannot carry silently; set "
                    "geocoding.allow_share_alike: true to include them (the catalog then says so)")
        return self
