"""The `SourceSpec` of each partner catalog named in a run config (`kind: dcat_catalog`).

Until its catalog has been read, a partner is described by its key and URL; what its
catalog says (title, publisher, licence, attribution) is kept with its last good copy and
replaces these in our catalog (`SourceSpec.published_as`).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError

from se_pipeline.config_errors import ConfigError, one_line
from se_pipeline.sources.dcat_catalog.options import KIND, Options, check_name
from se_pipeline.sources.registry import SourceSpec, bundled_sources

FOLDER = Path(__file__).resolve().parent
ADAPTER = "se_pipeline.sources.dcat_catalog.adapter"


def partner_spec(name: str, options: Options) -> SourceSpec:
    """The spec of partner `name`: its records are read with `essglobal_rdf`'s mapping
    (ESSGlobal, schema.org, vCard, FOAF spellings), its bytes fetched by `harvest`."""
    from se_pipeline.sources.dcat_catalog import adapter, harvest

    host = urlsplit(options.url).hostname
    return SourceSpec(
        name=name, title=options.title or f"{name} (partner catalog)", kind="partner",
        publisher=name, homepage=options.url, licence="", attribution="",
        media_type="application/n-quads", expected="any", cadence=options.cadence,
        sample=FOLDER / "README.md", folder=FOLDER, parse=adapter.parse,
        mapping=bundled_sources()["essglobal_rdf"].mapping,
        allowed_hosts=(host,) if host else (), drop_threshold=0.5, options_model=Options,
        adapter_module=ADAPTER, harvest=harvest.harvest,
    )


def partner_specs(config_file: Path) -> dict[str, SourceSpec]:
    """Partners of the run config `config_file`, in its order; a config that cannot be
    read has none here (`load_settings` reports what is wrong with it)."""
    try:
        data: Any = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    sources = data.get("sources") if isinstance(data, dict) else None
    specs: dict[str, SourceSpec] = {}
    for name, raw in (sources or {}).items() if isinstance(sources, dict) else ():
        if not (isinstance(raw, dict) and raw.get("kind") == KIND):
            continue
        where = f"config {config_file}"
        try:
            check_name(str(name))
            options = Options.model_validate(raw)
        except ValueError as e:
            if isinstance(e, ValidationError):
                raise ConfigError(one_line(where, e, Options, ("sources", str(name)))) from None
            raise ConfigError(f"{where}: sources.{name}: {e}") from None
        if name in bundled_sources():
            raise ConfigError(f"{where}: sources.{name}: {name!r} is a bundled source; name the partner otherwise")
        specs[str(name)] = partner_spec(str(name), options)
    return specs
