"""What a steward sees after `make run` then `make dev`: the Dagster UI, served by
`dagster-webserver -w workspace.yaml` on a loopback port on the instance the command line
recorded its run in (`<output>/.dagster`), rendered by headless Chromium, and asked
through its GraphQL endpoint (the stable second opinion on what the pages show).

The webserver runs without the daemon, so nothing is scheduled; what is materialised is
the command line's run. `UI_SCREENSHOT_DIR=DIR` keeps the asset catalog's screenshot there.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from se_pipeline import PROJECT_ROOT
from se_pipeline.assets.schedules import CADENCE_CRON
from se_pipeline.sources.registry import all_sources
from tests.conftest import Chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

START_TIMEOUT_S = 120
GRAPHQL = """
query Steward {
  repositoriesOrError {
    ... on RepositoryConnection {
      nodes {
        name
        schedules { name cronSchedule scheduleState { status } }
        sensors { name sensorState { status } }
        assetNodes { assetKey { path } }
      }
    }
  }
  assetChecks: assetNodes(assetKeys: [{path: ["coops_uk"]}, {path: ["coops_uk_graph"]}, {path: ["ica"]}]) {
    assetKey { path }
    assetMaterializations(limit: 1) { runId }
    assetChecksOrError { ... on AssetChecks { checks {
      name blocking executionForLatestMaterialization { runId status }
    } } }
  }
  runsOrError { ... on Runs { results { runId jobName status tags { key value } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback only)
        return response.read()


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`make run` (the CLI on the bundled samples, default instance), then `make dev`'s
    webserver on the same output folder and instance."""
    root = tmp_path_factory.mktemp("steward")
    output = root / "output"
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "SE_PIPELINE_WEBHOOK_URL")}
    cli = Path(sys.executable).with_name("se-pipeline")
    done = subprocess.run([str(cli), "run", "--output", str(output)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    home = output / ".dagster"  # what `make dev` sets for the default output
    port = _free_port()
    env = {**env, "DAGSTER_HOME": str(home), "SE_PIPELINE_OUTPUT": str(output), "DAGSTER_DISABLE_TELEMETRY": "yes"}
    log = (home / "webserver.log").open("wb")
    webserver = Path(sys.executable).with_name("dagster-webserver")
    proc = subprocess.Popen(
        [str(webserver), "-w", str(PROJECT_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited ({proc.returncode}): "
                            f"{(home / 'webserver.log').read_text(errors='replace')[-2000:]}")
            try:
                if b"dagster_webserver_version" in _get(base + "/server_info", timeout=2):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dagster-webserver did not answer /server_info within {START_TIMEOUT_S}s")
            time.sleep(0.5)
        yield base
    finally:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):  # the whole group: webserver + code server
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        log.close()


def graphql(base: str) -> dict:
    request = urllib.request.Request(base + "/graphql", data=json.dumps({"query": GRAPHQL}).encode(),
                                     headers={"Content-Type": "application/json"})
    deadline = time.monotonic() + 60
    while True:  # the code location may still be loading right after start
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            data = json.loads(response.read())
        nodes = (data.get("data") or {}).get("repositoriesOrError", {}).get("nodes")
        if nodes or time.monotonic() > deadline:
            assert "errors" not in data, data.get("errors")
            return data["data"]
        time.sleep(1)


def dump_dom(chromium: Chromium, url: str) -> str:
    # A tall window: the UI's lists are virtualised and render only the rows in view.
    return chromium.dom("--window-size=1600,6000", "--virtual-time-budget=20000", url)


def screenshot(chromium: Chromium, url: str, tmp_path: Path, name: str) -> Path:
    """A PNG of the page, kept in `UI_SCREENSHOT_DIR` when that is set."""
    folder = Path(os.environ.get("UI_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    png = folder / name
    chromium(f"--screenshot={png}", "--window-size=1600,2200", "--virtual-time-budget=20000", url)
    return png


def test_graphql_lists_assets_checks_schedules_and_sensors(dagster_ui: str) -> None:
    data = graphql(dagster_ui)
    [repo] = data["repositoriesOrError"]["nodes"]
    assets = {"/".join(a["assetKey"]["path"]) for a in repo["assetNodes"]}
    assert {"release", *all_sources(), *(f"{n}_graph" for n in all_sources())} <= assets
    schedules = {s["name"]: s for s in repo["schedules"]}
    assert schedules["publish_daily"]["scheduleState"]["status"] == "RUNNING"
    for spec in all_sources().values():
        name = f"refresh_{spec.name}_{spec.cadence if spec.cadence in CADENCE_CRON else 'weekly'}"
        assert schedules[name]["scheduleState"]["status"] == ("STOPPED" if spec.api_key_env else "RUNNING")
    sensors = {s["name"] for s in repo["sensors"]}
    assert {"alert_on_run_failure", "alert_on_check_failure", "release_automation", "coops_uk_upstream_changed"} <= sensors
    checks = {"/".join(n["assetKey"]["path"]): {(c["name"], c["blocking"]) for c in n["assetChecksOrError"]["checks"]}
              for n in data["assetChecks"]}
    assert ("record_count_vs_last_good", True) in checks["coops_uk"]
    assert ("fetch_succeeded", False) in checks["coops_uk"]
    assert ("shacl_conforms", True) in checks["coops_uk_graph"]


def test_the_command_line_run_is_in_the_ui_with_its_materialisations_and_check_results(dagster_ui: str) -> None:
    """The UI reads the instance the CLI wrote: the run, each source's materialisation and
    the result of each of its checks for that materialisation."""
    data = graphql(dagster_ui)
    [run] = data["runsOrError"]["results"]
    assert run["jobName"] == "publish" and run["status"] == "SUCCESS"
    assert {"key": "launched_by", "value": "se-pipeline run"} in run["tags"]
    nodes = {"/".join(n["assetKey"]["path"]): n for n in data["assetChecks"]}
    status = {}
    for name, node in nodes.items():
        assert node["assetMaterializations"] == [{"runId": run["runId"]}], name
        for check in node["assetChecksOrError"]["checks"]:
            execution = check["executionForLatestMaterialization"]
            assert execution["runId"] == run["runId"]
            status[f"{name}:{check['name']}"] = execution["status"]
    assert status["coops_uk:record_count_vs_last_good"] == "SUCCEEDED"
    assert status["coops_uk:licence_present"] == "SUCCEEDED"
    assert status["coops_uk_graph:shacl_conforms"] == "SUCCEEDED"
    assert status["ica:quarantine_share"] == "FAILED"  # the bundled ICA sample is hostile on purpose: a warning


def test_the_asset_catalog_shows_the_sources_materialised_with_their_checks(dagster_ui: str, tmp_path: Path,
                                                                            chromium: Chromium) -> None:
    graphql(dagster_ui)  # the code location is loaded
    catalog = dump_dom(chromium, dagster_ui + "/assets")
    assert "Never materialized" not in catalog
    for name in ("coops_uk", "usfwc", "release"):
        assert name in catalog
    png = screenshot(chromium, dagster_ui + "/assets", tmp_path, "asset-catalog.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    checks = dump_dom(chromium, dagster_ui + "/assets/ica?view=checks")
    assert "quarantine_share" in checks and "Failed" in checks
    screenshot(chromium, dagster_ui + "/assets/ica?view=checks", tmp_path, "ica-checks.png")


def test_pages_render_assets_checks_and_schedules(dagster_ui: str, chromium: Chromium) -> None:
    graphql(dagster_ui)  # the code location is loaded
    assets = dump_dom(chromium, dagster_ui + "/assets")
    for name in ("coops_uk", "coops_uk_graph", "usfwc_graph"):
        assert name in assets, f"/assets does not show {name}"
    checks = dump_dom(chromium, dagster_ui + "/assets/coops_uk?view=checks")
    for name in ("fetch_succeeded", "record_count_vs_last_good", "licence_present", "quarantine_share"):
        assert name in checks, f"the checks tab of coops_uk does not show {name}"
    automation = dump_dom(chromium, dagster_ui + "/automation")
    for name in ("publish_daily", "refresh_coops_uk_quarterly", "coops_uk_upstream_changed", "alert_on_run_failure"):
        assert name in automation, f"/automation does not show {name}"
