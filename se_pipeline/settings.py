"""Run settings: where output goes, the data base IRI, and per-source overrides.

Cross-cutting policy lives here so that the CLI, the Dagster resources and the tests
read one configuration. A `--config` YAML file looks like:

```yaml
base_iri: https://w3id.org/se-pipeline/id/     # optional
sources:
  coops_uk: {url: "https://example.org/organisations.csv"}
  usda_csa: {url: "https://www.usdalocalfoodportal.com/api/csa/", states: [VT, NY]}
  dotcoop: {enabled: false}
http:
  allow_private_addresses: false                 # tests opt in for loopback servers
geocoding: {embedded: true}                      # see se_pipeline/geocode/config.py
```
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from se_pipeline import PROJECT_ROOT
from se_pipeline.geocode.config import GeocodingConfig
from se_pipeline.identity.iri import check_base
from se_pipeline.namespaces import DEFAULT_DATA_BASE

DEFAULT_OUTPUT = PROJECT_ROOT / "output"


class ConfigError(ValueError):
    """The configuration file is unreadable or names something unknown."""


@dataclass(frozen=True)
class Settings:
    output_dir: Path = DEFAULT_OUTPUT
    base_iri: str = DEFAULT_DATA_BASE
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    http: dict[str, Any] = field(default_factory=dict)
    geocoding: GeocodingConfig = field(default_factory=GeocodingConfig)

    def source_options(self, name: str) -> dict[str, Any]:
        return dict(self.sources.get(name) or {})

    def enabled(self, name: str) -> bool:
        return bool(self.source_options(name).get("enabled", True))

    @property
    def state_dir(self) -> Path:
        return self.output_dir / "state"

    @property
    def releases_dir(self) -> Path:
        return self.output_dir / "releases"

    @property
    def latest(self) -> Path:
        return self.output_dir / "latest"


def load_settings(config_file: str | Path | None = None, output_dir: str | Path | None = None) -> Settings:
    """Settings from an optional YAML file; `output_dir` (the CLI's --output) wins."""
    data: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as e:
            raise ConfigError(f"cannot read config {path}: {e}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config {path} must be a mapping")
        unknown = set(data) - {"base_iri", "sources", "http", "output", "geocoding"}
        if unknown:
            raise ConfigError(f"config {path}: unknown keys {sorted(unknown)}")
    from se_pipeline.sources.registry import all_sources  # late: registry imports adapters

    known = all_sources()
    sources = data.get("sources") or {}
    bad = set(sources) - set(known)
    if bad:
        raise ConfigError(f"config names unknown sources {sorted(bad)}; known: {', '.join(known)}")
    out = Path(output_dir or data.get("output") or DEFAULT_OUTPUT).resolve()
    try:
        geocoding = GeocodingConfig.model_validate(data.get("geocoding") or {})
    except ValidationError as e:
        raise ConfigError(f"config {config_file}: geocoding: " + "; ".join(
            f"{'.'.join(str(x) for x in err['loc']) or '(section)'}: {err['msg']}" for err in e.errors())) from None
    return Settings(
        output_dir=out,
        base_iri=check_base(data.get("base_iri") or DEFAULT_DATA_BASE),
        sources={k: dict(v or {}) for k, v in sources.items()},
        http=dict(data.get("http") or {}),
        geocoding=geocoding,
    )
