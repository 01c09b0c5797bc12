"""Every `source.yaml` is validated: an unknown key or a value of the wrong type is a
one-line error naming the file, the key and what is allowed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from se_pipeline.config_errors import ConfigError
from se_pipeline.sources.options import SourceOptions
from se_pipeline.sources.registry import SOURCES_DIR, all_sources, read_source_yaml

COOPS_UK = SOURCES_DIR / "coops_uk"


def edited(tmp_path: Path, **changes: object) -> Path:
    """A copy of coops_uk's folder whose source.yaml has `changes` applied (None deletes a key)."""
    folder = tmp_path / "coops_uk"
    shutil.copytree(COOPS_UK, folder, ignore=shutil.ignore_patterns("sample", "__pycache__"))
    meta = yaml.safe_load((folder / "source.yaml").read_text(encoding="utf-8"))
    for key, value in changes.items():
        if value is None:
            meta.pop(key)
        else:
            meta[key] = value
    (folder / "source.yaml").write_text(yaml.safe_dump(meta), encoding="utf-8")
    return folder


@pytest.mark.parametrize("changes, expected", [
    ({"allowed_host": ["www.uk.coop"]}, "allowed_host: unknown key (allowed: name, title, kind, publisher, homepage,"),
    ({"allowed_hosts": "www.uk.coop"}, "allowed_hosts: expected a list, e.g. [a, b], got 'www.uk.coop'"),
    ({"manual_export_only": "no"}, "manual_export_only: expected true or false, got 'no'"),
    ({"drop_threshold": "half"}, "drop_threshold: expected a number, got 'half'"),
    ({"cadence": "hourly"}, "cadence: 'hourly' is not allowed (allowed: daily, weekly, monthly, quarterly)"),
    ({"expected": "xml"}, "expected: 'xml' is not allowed (allowed: csv, json, geojson, jsonld, turtle, any)"),
    ({"homepage": 42}, "homepage: expected a URL"),
    ({"title": None}, "title: required key missing"),
    ({"sample": "../../../etc/passwd"}, "sample: expected a path inside the source's folder"),
    ({"name": "other"}, "name: 'other' differs from the folder name 'coops_uk'"),
])
def test_bad_source_yaml_is_one_line(tmp_path: Path, changes: dict, expected: str) -> None:
    folder = edited(tmp_path, **changes)
    with pytest.raises(ConfigError) as info:
        read_source_yaml(folder)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"source.yaml {folder / 'source.yaml'}: {expected}")


@pytest.mark.parametrize("text, expected", [
    ("title: [unclosed\n", "not valid YAML at line 2, column 1 ("),
    ("- a list\n", "(top level): expected a mapping of keys (allowed: name, title,"),
    ("", "title: required key missing"),  # an empty file is an empty mapping
])
def test_a_source_yaml_that_is_not_a_mapping_is_one_line_like_the_run_config(tmp_path: Path, text: str,
                                                                              expected: str) -> None:
    folder = edited(tmp_path)
    (folder / "source.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        read_source_yaml(folder)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith(f"source.yaml {folder / 'source.yaml'}: {expected}")


def test_every_bundled_source_yaml_is_valid() -> None:
    for name, spec in all_sources().items():
        meta = read_source_yaml(spec.folder)
        assert meta.title == spec.title and spec.sample.is_file(), name


def test_sources_with_more_options_declare_them() -> None:
    models = {name: spec.options_model for name, spec in all_sources().items()}
    assert "states" in models["usda_csa"].model_fields
    assert all(issubclass(m, SourceOptions) for m in models.values())
    assert models["coops_uk"] is SourceOptions
