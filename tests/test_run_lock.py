"""One run per output folder: a second `se-pipeline run` on the same folder exits naming
the run that holds it, or waits for it with `--wait`; a lock left by a killed run is
taken over. Every process here is a real process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from se_pipeline.run_lock import LOCK_NAME, run_lock
from se_pipeline.sources.registry import all_sources

CLI = [sys.executable, "-m", "se_pipeline.cli"]
HOLDER = textwrap.dedent("""
    import sys
    from se_pipeline.run_lock import run_lock
    with run_lock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.read()  # until the test closes stdin (or kills us)
""")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """Two small sources, so each real run is short."""
    sources = {name: {"enabled": name in ("coops_uk", "wfto")} for name in all_sources()}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return path


def hold(output: Path) -> subprocess.Popen:
    """Another process holding `output`'s run lock until its stdin is closed."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(output)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n"
    return proc


def test_second_run_exits_naming_the_holder(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    holder = hold(out)
    try:
        second = subprocess.run(CLI + ["run", "--config", str(config), "--output", str(out)],
                                capture_output=True, text=True, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(30)
    assert second.returncode == 3
    assert second.stderr.count("\n") == 1
    assert f"another se-pipeline run (pid {holder.pid}, started 20" in second.stderr
    assert f"is using {out}; wait for it to finish, or pass --wait SECONDS" in second.stderr
    assert not (out / "releases").exists() and not (out / "state").exists()  # it touched nothing


def test_second_run_waits_for_the_first(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    holder = hold(out)
    second = subprocess.Popen(CLI + ["run", "--config", str(config), "--output", str(out), "--wait", "120"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        waiting = second.stderr.readline()
        assert waiting.startswith(f"se-pipeline: waiting up to 120 s: another se-pipeline run (pid {holder.pid}")
        holder.stdin.close()
        holder.wait(30)
        stdout, _ = second.communicate(timeout=300)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, stdout
    assert "release " in stdout and (out / "latest" / "SHA256SUMS").is_file()


def test_lock_of_a_killed_run_is_taken_over(tmp_path: Path, config: Path) -> None:
    out = tmp_path / "out"
    holder = hold(out)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(30)
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == holder.pid  # the stale lock file is still there
    run = subprocess.run(CLI + ["run", "--config", str(config), "--output", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert f"the run with pid {holder.pid} ended without releasing {out}; taking it over" in run.stderr
    assert (out / "latest" / "SHA256SUMS").is_file()
    assert (out / LOCK_NAME).read_text() == ""  # released at the end


def test_lock_in_process_is_exclusive_and_released(tmp_path: Path) -> None:
    with run_lock(tmp_path) as mine:
        assert mine["pid"] == os.getpid()
        other = subprocess.run([sys.executable, "-c", "import sys\nfrom se_pipeline.run_lock import run_lock, OutputBusy\n"
                                "try:\n    run_lock(sys.argv[1]).__enter__()\nexcept OutputBusy as e:\n    print(e)\n",
                                str(tmp_path)], capture_output=True, text=True, timeout=60)
        assert f"(pid {os.getpid()}," in other.stdout
    with run_lock(tmp_path, wait_s=0) as again:
        assert "took_over_from" not in again  # a clean release is not a stale lock
