"""A small release built without Dagster: two sources through ingest, gate and release."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.gate.source import gate_source
from se_pipeline.release.build import ReleaseResult, build_release
from se_pipeline.settings import Settings
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import SourceSpec, all_sources

SOURCES = ("coops_uk", "wfto")


def specs() -> list[SourceSpec]:
    return [all_sources()[n] for n in SOURCES]


def ingest_and_gate(settings: Settings) -> None:
    for spec in specs():
        assert ingest(spec, settings, None).ok
        assert gate_source(spec.name, settings).status == "promoted"


def publish(settings: Settings) -> ReleaseResult:
    return build_release(settings, specs(), validate=start_release_validation)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(output_dir=tmp_path / "out")
