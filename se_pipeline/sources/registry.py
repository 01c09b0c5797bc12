"""Discovers sources: every folder under `se_pipeline/sources/` with a `source.yaml`.

Adding a source is adding a folder (mapping + adapter + sample); nothing else in the
code base lists sources, so the Dagster assets, the CLI `--config` keys and the catalog
all follow from here. Partners' catalogs (`kind: dcat_catalog` in the run config of
the code location, `SE_PIPELINE_CONFIG`) are sources too: `all_sources()` lists them
after the bundled ones (`sources/dcat_catalog/`).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from se_pipeline.acquire.policy import EXPECTED_KINDS
from se_pipeline.config_errors import ConfigError, read_validated
from se_pipeline.sources.base import Parser
from se_pipeline.sources.options import HostName, SourceOptions, Url

if TYPE_CHECKING:
    from se_pipeline.sources.dcat_catalog.harvest import Harvester

SOURCES_DIR = Path(__file__).resolve().parent


class SourceYaml(BaseModel):
    """The schema of `sources/<name>/source.yaml` (the mapping itself is the adapter's
    business and stays a free-form mapping)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Optional[str] = None
    title: str
    kind: Literal["federation", "registry", "fair-trade", "food", "partner"]
    publisher: str
    homepage: Url
    licence: Url
    attribution: str
    media_type: str
    expected: Literal[EXPECTED_KINDS] = "any"  # type: ignore[valid-type]
    cadence: Literal["daily", "weekly", "monthly", "quarterly"] = "weekly"
    sample: str
    mapping: dict[str, Any] = Field(default_factory=dict)
    allowed_hosts: list[HostName] = Field(default_factory=list)
    manual_export_only: bool = False
    api_key_env: Optional[str] = None
    expected_header: list[str] = Field(default_factory=list)
    drop_threshold: float = Field(default=0.5, ge=0.0, le=1.0)

    @field_validator("sample")
    @classmethod
    def _relative(cls, value: str) -> str:
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError("expected a path inside the source's folder, e.g. sample/data.csv")
        return value


@dataclass(frozen=True)
class SourceSpec:
    """A source's metadata (for the catalog and the steward) and its parser."""

    name: str
    title: str
    kind: str  # federation | registry | fair-trade | food | partner
    publisher: str
    homepage: str
    licence: str  # licence IRI
    attribution: str
    media_type: str
    expected: str  # what acquisition checks the bytes against: csv | json | geojson | jsonld | turtle | any
    cadence: str  # daily | weekly | monthly | quarterly
    sample: Path
    folder: Path
    parse: Parser
    mapping: dict[str, Any] = field(default_factory=dict)
    allowed_hosts: tuple[str, ...] = ()
    manual_export_only: bool = False
    api_key_env: str | None = None
    expected_header: tuple[str, ...] = ()
    drop_threshold: float = 0.5  # hold back when the record count drops by more than this share
    options_model: type[SourceOptions] = SourceOptions  # what `sources.<name>` may say in the run config
    adapter_module: str = ""  # default: se_pipeline.sources.<name>.adapter
    harvest: Optional["Harvester"] = None
    """Acquisition of its own instead of fetching URLs (a partner's catalog: catalog,
    checksum, dump or event stream); None for an ordinary source."""

    @property
    def sample_url(self) -> str:
        return self.sample.as_uri()

    @property
    def module(self) -> str:
        return self.adapter_module or f"se_pipeline.sources.{self.name}.adapter"

    def published_as(self, notes: dict[str, Any] | None) -> dict[str, str]:
        """Title, publisher, homepage, licence and attribution as the catalog states them:
        this spec's, or for a harvested partner what its own catalog said (`notes["publisher"]`
        of its last good copy)."""
        said = (notes or {}).get("publisher") or {}
        return {k: str(said.get(k) or getattr(self, k))
                for k in ("title", "publisher", "homepage", "licence", "attribution")}


def read_source_yaml(folder: Path) -> SourceYaml:
    """`folder/source.yaml`, validated; any problem is a one-line `ConfigError`."""
    path = folder / "source.yaml"
    where = f"source.yaml {path}"
    spec = read_validated(path, where, SourceYaml)
    if spec.name not in (None, folder.name):
        raise ConfigError(f"{where}: name: {spec.name!r} differs from the folder name {folder.name!r}")
    return spec


def options_model(name: str) -> type[SourceOptions]:
    """`sources/<name>/options.py`'s `Options` when the source takes more options."""
    module_name = f"se_pipeline.sources.{name}.options"
    if importlib.util.find_spec(module_name) is None:
        return SourceOptions
    model = getattr(importlib.import_module(module_name), "Options", None)
    if not (isinstance(model, type) and issubclass(model, SourceOptions)):
        raise ConfigError(f"{module_name}: expected a class Options(SourceOptions)")
    return model


def _load(folder: Path) -> SourceSpec:
    meta = read_source_yaml(folder)
    name = folder.name
    module = importlib.import_module(f"se_pipeline.sources.{name}.adapter")
    return SourceSpec(
        name=name, title=meta.title, kind=meta.kind, publisher=meta.publisher, homepage=meta.homepage,
        licence=meta.licence, attribution=meta.attribution, media_type=meta.media_type, expected=meta.expected,
        cadence=meta.cadence, sample=folder / meta.sample, folder=folder, parse=module.parse,
        mapping=dict(meta.mapping), allowed_hosts=tuple(meta.allowed_hosts),
        manual_export_only=meta.manual_export_only, api_key_env=meta.api_key_env,
        expected_header=tuple(meta.expected_header), drop_threshold=meta.drop_threshold,
        options_model=options_model(name),
    )


@lru_cache(maxsize=1)
def bundled_sources() -> dict[str, SourceSpec]:
    """The sources with a folder here, by name, in a stable order."""
    folders = sorted(p.parent for p in SOURCES_DIR.glob("*/source.yaml"))
    return {f.name: _load(f) for f in folders}


def all_sources() -> dict[str, SourceSpec]:
    """Every source, by name: the bundled ones, then the partners' catalogs of the code
    location's run config (`SE_PIPELINE_CONFIG`), in its order."""
    return _with_partners(os.environ.get("SE_PIPELINE_CONFIG") or None)


@lru_cache(maxsize=8)
def _with_partners(config_file: str | None) -> dict[str, SourceSpec]:
    from se_pipeline.sources.dcat_catalog.spec import partner_specs  # late: it builds on this module

    return {**bundled_sources(), **(partner_specs(Path(config_file)) if config_file else {})}


def get_source(name: str) -> SourceSpec:
    sources = all_sources()
    if name not in sources:
        raise KeyError(f"unknown source {name!r}; known: {', '.join(sources)}")
    return sources[name]
