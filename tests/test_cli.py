"""The CLI end to end, as a user runs it: `se-pipeline run`, then `query` and `validate`."""
from __future__ import annotations

import csv
import gzip
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pyoxigraph as ox
import pytest
import yaml
from dagster._core.events import DagsterEventType
from pytest_httpserver import HTTPServer

from se_pipeline.cli import main
from se_pipeline.quarantine import read_quarantine
from se_pipeline.sources.registry import all_sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CHECK = SHARED / "acceptance" / "check_release.py"
CLI = [sys.executable, "-m", "se_pipeline.cli"]


@pytest.fixture(scope="module")
def sample_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "output"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}  # the default: <output>/.dagster
    done = subprocess.run(CLI + ["run", "--output", str(out)], capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "release " in done.stdout and "enterprises" in done.stdout
    # the bundled ICA sample is hostile on purpose: a warning with its figures, not a failure
    assert "warning: check ica:quarantine_share did not pass (share=" in done.stderr, done.stderr
    assert " failed" not in done.stderr, done.stderr
    return out


def test_run_publishes_a_release_the_acceptance_check_passes(sample_release: Path) -> None:
    if not CHECK.is_file():
        pytest.skip("../shared/acceptance/check_release.py absent")
    done = subprocess.run([sys.executable, str(CHECK), str(sample_release / "latest")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]
    assert done.stdout.strip().endswith(" 0 failed")


def test_every_source_is_in_the_release(sample_release: Path) -> None:
    with gzip.open(sample_release / "latest" / "dataset.nq.gz", "rb") as f:
        graphs = {q.graph_name.value.rsplit("/", 1)[-1] for q in ox.parse(f, format=ox.RdfFormat.N_QUADS)}
    assert set(all_sources()) <= graphs


def test_query_command_formats(sample_release: Path, capsys: pytest.CaptureFixture[str]) -> None:
    latest = str(sample_release / "latest")
    assert main(["query", "@" + str(ROOT / "queries" / "enterprises_by_source.rq"), "--release", latest, "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    counts = {r["source"].rsplit("/", 1)[-1]: int(r["enterprises"]) for r in rows}
    assert counts["coops_uk"] == 23  # 25 sample rows: one without a name, one duplicate id
    assert main(["query", "ASK { ?s ?p ?o }", "--release", latest, "--format", "json"]) == 0
    assert '"boolean": true' in capsys.readouterr().out
    assert main(["query", "SELEC nonsense", "--release", latest]) == 2


def test_validate_command_on_release_and_file(sample_release: Path, tmp_path: Path) -> None:
    assert main(["validate", str(sample_release / "latest")]) == 0
    bad = tmp_path / "bad.ttl"
    bad.write_text("""@prefix essglobal: <http://purl.org/essglobal/vocab/> .
<https://x.org/e> a essglobal:SSEInitiative .""")
    assert main(["validate", str(bad)]) == 1


@pytest.mark.parametrize("target, message", [
    ("missing.ttl", "no such file or release directory"),
    ("broken.ttl.bak", "unknown RDF file type '.bak'"),
    ("broken.ttl", "does not parse as turtle"),
    (".", "is not a release directory (no dataset.nq.gz)"),
])
def test_validate_says_what_it_cannot_read(target: str, message: str, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.ttl").write_text("<https://x.org/e> a <unclosed .")
    (tmp_path / "broken.ttl.bak").write_text("<https://x.org/e> a <https://x.org/C> .")
    assert main(["validate", str(tmp_path / target)]) == 2
    assert message in capsys.readouterr().err


def test_bad_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("sources: {no_such_source: {url: file:///x}}\n")
    assert main(["run", "--config", str(cfg), "--output", str(tmp_path / "o")]) == 2
    assert "sources.no_such_source: unknown source 'no_such_source' (allowed: coops_uk," in capsys.readouterr().err


def only(source: str, url: str, extra: dict | None = None) -> dict:
    """A config that runs one source from `url` and disables the others."""
    sources = {name: {"enabled": False} for name in all_sources()}
    sources[source] = {"url": url, "allowed_hosts": ["127.0.0.1", "localhost"], **(extra or {})}
    return {"sources": sources, "http": {"allow_http": True, "allow_private_addresses": True, "respect_robots": False}}


def test_real_coops_uk_file_over_loopback_http_publishes_or_quarantines_every_row(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    real = SHARED / "samples" / "coops-uk" / "open_data_organisations_2016-06_sample.csv"
    if not real.is_file():
        pytest.skip("../shared/samples absent")
    body = real.read_bytes()
    httpserver.expect_request("/open_data_organisations.csv").respond_with_data(body, content_type="text/csv")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(only("coops_uk", httpserver.url_for("/open_data_organisations.csv"))))
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--output", str(out)]) == 0
    with real.open(newline="", encoding="utf-8") as f:
        ids = [row["CUK Organisation ID"] for row in csv.DictReader(f)]
    store = ox.Store()
    with gzip.open(out / "latest" / "dataset.nq.gz", "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    published = {r["id"].value for r in store.query(
        "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?id WHERE { ?e dcterms:identifier ?id }",
        use_default_graph_as_union=True)}
    quarantined = [q for q in read_quarantine(out / "latest" / "quarantine.csv") if q.source == "coops_uk"]
    assert all(q.reason for q in quarantined)
    assert len(published) + len(quarantined) == len(ids)
    assert set(ids) == published | {q.record_id for q in quarantined}
    dead = [r for r in store.query("""PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
        SELECT ?e WHERE { ?e sep:status <https://w3id.org/se-pipeline/taxonomy/status/Dissolved> }""",
        use_default_graph_as_union=True)]
    assert len(dead) == sum(1 for row in csv.DictReader(real.open(encoding="utf-8")) if row["Registered Status"] == "Dead"
                            and row["CUK Organisation ID"] in published)


def _statements(release: Path) -> list[bytes]:
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        return sorted(f.read().splitlines())


def _two_sources(tmp_path: Path, coops_uk: Path) -> Path:
    """A config running coops_uk (from `coops_uk`) and usfwc only."""
    sources: dict = {name: {"enabled": False} for name in all_sources() if name not in ("coops_uk", "usfwc")}
    sources["coops_uk"] = {"url": coops_uk.as_uri()}
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({"sources": sources}))
    return cfg


def test_the_multiprocess_executor_publishes_what_the_in_process_one_does_and_a_failed_check_stops_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Dagster's multiprocess executor (each step in its own process): the release is the
    in-process run's, statement for statement; when coops_uk then shrinks, its blocking
    check fails in its step process, and links and release do not run."""
    sample = all_sources()["coops_uk"].sample
    copy = tmp_path / sample.name
    copy.write_bytes(sample.read_bytes())
    cfg = _two_sources(tmp_path, copy)
    assert main(["run", "--config", str(cfg), "--output", str(tmp_path / "one")]) == 0
    out = tmp_path / "many"
    assert main(["run", "--config", str(cfg), "--output", str(out), "--executor", "multiprocess",
                 "--max-concurrent", "2"]) == 0
    first = (out / "latest").resolve()
    assert _statements(first) == _statements(tmp_path / "one" / "latest")
    # Links and exports both wait only for the graphs: with two steps allowed at once,
    # only the memory tag's limit keeps them (and the release) one at a time.
    with dg.DagsterInstance.from_config(str(out / ".dagster")) as instance:
        [run] = instance.get_runs()
        spans: dict[str, list[float]] = {}
        for r in instance.all_logs(run.run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}):
            spans.setdefault(r.step_key, []).append(r.timestamp)
    heavy = sorted(spans[k] for k in ("enterprise_links", "partner_exports", "release"))
    assert all(earlier[1] <= later[0] for earlier, later in zip(heavy, heavy[1:])), spans
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans.values() for b in spans.values() if a is not b), \
        "no two steps ran at once: the executor was not the multiprocess one"

    lines = sample.read_bytes().split(b"\r\n")
    copy.write_bytes(b"\r\n".join(lines[:4]) + b"\r\n")
    capsys.readouterr()
    assert main(["run", "--config", str(cfg), "--output", str(out), "--executor", "multiprocess"]) == 1
    err = capsys.readouterr().err
    assert "check coops_uk:record_count_vs_last_good failed (blocking)" in err
    assert "no new release" in err
    assert (out / "latest").resolve() == first
    assert [p.name for p in (out / "releases").iterdir() if not p.name.startswith(".")] == [first.name]
    with dg.DagsterInstance.from_config(str(out / ".dagster")) as instance:
        runs = instance.get_runs()
        assert [r.status for r in runs] == [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
        assert {r.tags["executor"] for r in runs} == {"multiprocess"}
        made = {r.dagster_event.asset_key.to_user_string()
                for r in instance.all_logs(runs[0].run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION)}
        assert "coops_uk" in made and not made & {"coops_uk_graph", "enterprise_links", "release"}


def test_the_run_is_recorded_in_the_instance_the_dagster_ui_opens(sample_release: Path) -> None:
    """`make dev` opens `output/.dagster`, the instance `se-pipeline run` records its runs in
    (`<output>/.dagster`): its run, materialisations with their metadata, and every check's
    evaluation are there (the browser's view of them: tests/assets/test_dagster_ui.py)."""
    with dg.DagsterInstance.from_config(str(sample_release / ".dagster")) as instance:
        [run] = instance.get_runs()
        assert run.job_name == "publish" and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["launched_by"] == "se-pipeline run"
        release = instance.get_latest_materialization_event(dg.AssetKey("release")).asset_materialization
        assert release.metadata["path"].value == str((sample_release / "latest").resolve())
        coops_uk = instance.get_latest_materialization_event(dg.AssetKey("coops_uk")).asset_materialization
        assert coops_uk.metadata["dagster/row_count"].value == 23
        evaluations = {f"{e.asset_key.to_user_string()}:{e.check_name}": e for e in (
            r.dagster_event.event_specific_data
            for r in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION))}
    for name in all_sources():
        for check in ("fetch_succeeded", "record_count_vs_last_good", "quarantine_share", "licence_present"):
            assert f"{name}:{check}" in evaluations
        assert evaluations[f"{name}_graph:shacl_conforms"].passed
    assert evaluations["coops_uk:record_count_vs_last_good"].passed
    assert evaluations["coops_uk:record_count_vs_last_good"].blocking
    ica = evaluations["ica:quarantine_share"]
    assert not ica.passed and ica.severity == dg.AssetCheckSeverity.WARN
    assert ica.metadata["quarantined"].value == 5


def test_a_run_where_nothing_changed_makes_no_release_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same fetched bytes, settings and code: the run says so and `latest` stays; the
    sources, the links and the exports skip their work. `--force` (the `release` step's
    run config) makes a new release, whose documents are hard links to the last one's."""
    sample = all_sources()["coops_uk"].sample
    copy = tmp_path / sample.name
    copy.write_bytes(sample.read_bytes())
    cfg = _two_sources(tmp_path, copy)
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--output", str(out)]) == 0
    first = (out / "latest").resolve()
    capsys.readouterr()
    assert main(["run", "--config", str(cfg), "--output", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"no change since release {first.name}" in said and "--force" in said
    assert (out / "latest").resolve() == first
    assert [p.name for p in (out / "releases").iterdir()] == [first.name]
    with dg.DagsterInstance.from_config(str(out / ".dagster")) as instance:
        def latest(key: str) -> dict:
            event = instance.get_latest_materialization_event(dg.AssetKey(key)).asset_materialization
            return {k: v.value for k, v in event.metadata.items()}

        assert latest("release")["new_release"] is False and latest("release")["unchanged_since"] == first.name
        assert latest("partner_exports")["unchanged_since"] == first.name
        assert latest("enterprise_links")["reused"] is True
        assert latest("coops_uk")["not_modified"] is True

    assert main(["run", "--config", str(cfg), "--output", str(out), "--force"]) == 0
    forced = (out / "latest").resolve()
    assert forced != first and f"release {forced.name}:" in capsys.readouterr().out
    with dg.DagsterInstance.from_config(str(out / ".dagster")) as instance:
        meta = instance.get_latest_materialization_event(dg.AssetKey("release")).asset_materialization.metadata
        assert meta["reuse"].value["documents_written"] == 0 and meta["reuse"].value["documents_linked"] > 0
    [page] = [p for p in (forced / "id" / "coops_uk").iterdir() if p.name.endswith(".fr.html")][:1]
    assert page.stat().st_ino == (first / "id" / "coops_uk" / page.name).stat().st_ino


def test_a_first_run_whose_only_source_fails_says_why_and_publishes_nothing(
        tmp_path: Path, httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]) -> None:
    """No source has ever had a good copy: nothing to publish, and the run says which
    source failed and how (the release step's own error, not Dagster's wrapper)."""
    httpserver.expect_request("/wfto.json").respond_with_data("{not json", content_type="application/json")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump({**only("wfto", httpserver.url_for("/wfto.json")), "geocoding": {"enabled": False}}))
    out = tmp_path / "out"
    assert main(["run", "--config", str(cfg), "--output", str(out)]) == 1
    err = capsys.readouterr().err
    failed = [line for line in err.splitlines() if line.startswith("step release failed: ")]
    assert len(failed) == 1 and "nothing to publish: no enabled source has a good copy yet (wfto: " in failed[0], err
    assert "Error occurred while executing op" not in failed[0]
    assert err.rstrip().endswith("se-pipeline: no new release; there is no release yet")
    assert not (out / "latest").exists() and not any((out / "releases").iterdir())
