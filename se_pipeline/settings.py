"""Run settings: where output goes, the data base IRI, per-source options, HTTP rules.

Cross-cutting policy lives here so that the CLI, the Dagster resources and the tests
read one configuration. A `--config` YAML file looks like:

```yaml
base_iri: https://w3id.org/se-pipeline/id/     # optional
output: /srv/se-data                             # optional; the CLI's --output wins
sources:
  coops_uk: {url: "https://example.org/organisations.csv"}
  usda_csa: {url: "https://www.usdalocalfoodportal.com/api/csa/", states: [VT, NY]}
  dotcoop: {enabled: false}
file_roots: [exports]                            # folders file:// URLs may read (default: this file's folder)
http:
  allow_private_addresses: false                 # tests opt in for loopback servers
geocoding: {embedded: true}                      # see se_pipeline/geocode/config.py
page_languages: [en, fr]                         # id/ pages' languages (default all four; docs/serving.md)
download_base: https://data.example.org/se/releases/  # where releases are downloadable (the catalog's URLs)
retention: {keep_last: 7, keep_months: 12}       # what `se-pipeline prune` keeps (release/prune.py)
```

A partner's DCAT catalog is harvested like a source (docs/federation.md):
`sources: {partner_br: {kind: dcat_catalog, url: https://…/catalog.ttl}}`.

Every value is validated when the file is loaded (pydantic models, unknown keys refused,
booleans, numbers, lists and URLs of the right type), and any problem is one line
naming the file, the key path and what is allowed there (`ConfigError`).

`sources.<name>` is validated by the options model of the registered source `<name>`
(`sources/<name>/options.py`, else `SourceOptions`); an entry with a `kind:` key is a
source configured only here (a partner's catalog, `kind: dcat_catalog`), and
`_source_model` is the one place that picks its model by that key.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, ValidationError, create_model, field_validator

from se_pipeline import PROJECT_ROOT
from se_pipeline.acquire.http import HttpClient
from se_pipeline.config_errors import ConfigError, one_line, read_validated
from se_pipeline.geocode.config import GeocodingConfig
from se_pipeline.identity.iri import check_base
from se_pipeline.namespaces import DEFAULT_DATA_BASE
from se_pipeline.sources.dcat_catalog.options import KIND as DCAT_CATALOG, Options as DcatCatalogOptions, check_name
from se_pipeline.sources.options import SourceOptions, Url

DEFAULT_OUTPUT = PROJECT_ROOT / "output"
BUNDLED_SAMPLES = Path(__file__).resolve().parent / "sources"
"""Always readable through file:// (each source's default URL is its bundled sample)."""

__all__ = ["BUNDLED_SAMPLES", "DEFAULT_OUTPUT", "ConfigError", "HttpOptions", "RetentionOptions", "RunConfig", "Settings",
           "load_settings"]


#: The languages pages are made in (`access.pages.LANGS`, which a test keeps equal).
PageLanguage = Literal["en", "fr", "es", "pt"]
PAGE_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt")


HttpOptions = create_model(
    "HttpOptions",
    __doc__="`http:` in the run config: the shared HTTP client's rules, the fields of "
            "`acquire.http.HttpClient` (declared there once), checked strictly like every key of the file.",
    __config__=ConfigDict(extra="forbid", strict=True, frozen=True),
    **{name: (info.annotation, info) for name, info in HttpClient.model_fields.items()},
)


class RetentionOptions(BaseModel):
    """`retention:` in the run config: which releases `se-pipeline prune` keeps besides
    `latest` and the release before it (`release/prune.py`). The defaults keep a week of
    daily releases and a year of monthly ones; the command's flags override them."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    keep_last: NonNegativeInt = 7
    keep_months: NonNegativeInt = 12


class RunConfig(BaseModel):
    """The run config file as written. `sources` entries are checked per source
    afterwards (each source has its own options model)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    base_iri: Optional[str] = None
    output: Optional[str] = None
    sources: dict[str, Optional[dict[str, Any]]] = Field(default_factory=dict)
    http: HttpOptions = Field(default_factory=HttpOptions)
    file_roots: Optional[list[str]] = None
    geocoding: GeocodingConfig = Field(default_factory=GeocodingConfig)
    page_languages: Optional[list[PageLanguage]] = None
    download_base: Optional[Url] = None
    retention: RetentionOptions = Field(default_factory=RetentionOptions)


#: Where the releases of this pipeline are downloadable unless the config says otherwise.
DEFAULT_DOWNLOAD_BASE = "https://w3id.org/se-pipeline/release/"


class Settings(BaseModel):
    """What a run uses: the config file resolved (paths absolute, options typed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    output_dir: Path = DEFAULT_OUTPUT
    base_iri: str = DEFAULT_DATA_BASE
    sources: dict[str, SourceOptions] = Field(default_factory=dict)
    http: HttpOptions = Field(default_factory=HttpOptions)
    file_roots: tuple[Path, ...] = ()
    """Folders whose files `file://` URLs may read, besides the bundled samples."""
    geocoding: GeocodingConfig = Field(default_factory=GeocodingConfig)
    page_languages: tuple[str, ...] = PAGE_LANGUAGES
    """Languages of the `id/` HTML pages, English first (each is one more page per record)."""
    download_base: str = DEFAULT_DOWNLOAD_BASE
    """`<download_base><release-id>/<file>` is where the catalog says a release's files are."""
    retention: RetentionOptions = Field(default_factory=RetentionOptions)

    @field_validator("sources", mode="before")
    @classmethod
    def _typed_sources(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {name: raw if isinstance(raw, SourceOptions) else _source_model(name, raw).model_validate(raw or {})
                for name, raw in value.items()}

    def source_config(self, name: str) -> SourceOptions:
        """The typed options of source `name` (its defaults when the config is silent; a
        partner this config does not name is off)."""
        if name in self.sources:
            return self.sources[name]
        from se_pipeline.sources.registry import all_sources

        spec = all_sources().get(name)
        if spec is not None and spec.harvest is not None:
            return SourceOptions(enabled=False)
        return _source_model(name)()

    def source_options(self, name: str) -> dict[str, Any]:
        """The options as a plain dict, for adapters (`build_urls`, `SourceContext.options`)."""
        return self.source_config(name).as_dict()

    def enabled(self, name: str) -> bool:
        return self.source_config(name).enabled

    @property
    def allowed_file_roots(self) -> tuple[Path, ...]:
        """Where `file://` sources may read: the configured roots and the bundled samples."""
        return tuple(dict.fromkeys(p.resolve() for p in (*self.file_roots, BUNDLED_SAMPLES)))

    @property
    def state_dir(self) -> Path:
        return self.output_dir / "state"

    @property
    def releases_dir(self) -> Path:
        return self.output_dir / "releases"

    @property
    def latest(self) -> Path:
        return self.output_dir / "latest"


def _source_model(name: str, raw: Any = None) -> type[SourceOptions]:
    """The options model of `sources.<name>`: by its `kind:` for a source configured only
    in the run config (a partner's catalog), else the registered source's."""
    from se_pipeline.sources.registry import bundled_sources  # late: the registry imports adapters

    known = bundled_sources()
    if isinstance(raw, dict) and "kind" in raw:
        if raw["kind"] != DCAT_CATALOG:
            raise ValueError(f"kind {raw['kind']!r} is not allowed (allowed: {DCAT_CATALOG})")
        if name in known:
            raise ValueError(f"{name!r} is a bundled source; name the partner otherwise")
        check_name(name)
        return DcatCatalogOptions
    if name not in known:
        raise ValueError(f"unknown source {name!r} (allowed: {', '.join(known)}, "
                         f"or a partner with kind: {DCAT_CATALOG})")
    return known[name].options_model


def load_settings(config_file: str | Path | None = None, output_dir: str | Path | None = None) -> Settings:
    """Settings from an optional YAML file; `output_dir` (the CLI's --output) wins.
    Raises `ConfigError` (one line) for anything the file gets wrong."""
    if not config_file:
        return Settings(output_dir=Path(output_dir or DEFAULT_OUTPUT).resolve())
    path = Path(config_file)
    where = f"config {path}"
    config = read_validated(path, where, RunConfig)
    sources: dict[str, SourceOptions] = {}
    for name, raw in config.sources.items():
        try:
            model = _source_model(name, raw)
        except ValueError as e:
            raise ConfigError(f"{where}: sources.{name}: {e}") from None
        try:
            sources[name] = model.model_validate(raw or {})
        except ValidationError as e:
            raise ConfigError(one_line(where, e, model, ("sources", name))) from None
    try:
        base_iri = check_base(config.base_iri or DEFAULT_DATA_BASE)
    except ValueError as e:
        raise ConfigError(f"{where}: base_iri: {e}") from None
    folder = path.resolve().parent
    roots = [folder / r for r in config.file_roots] if config.file_roots is not None else [folder]
    return Settings(
        output_dir=Path(output_dir or config.output or DEFAULT_OUTPUT).resolve(),
        base_iri=base_iri,
        sources=sources,
        http=config.http,
        file_roots=tuple(p.resolve() for p in roots),
        geocoding=config.geocoding,
        page_languages=tuple(dict.fromkeys(["en", *(config.page_languages or PAGE_LANGUAGES)])),
        download_base=_with_slash(config.download_base or DEFAULT_DOWNLOAD_BASE),
        retention=config.retention,
    )


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
