"""Fixtures every test package shares: the headless Chromium that tests render pages in."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Chromium:
    """Headless Chromium, one process per call, with its own profile folder and nothing
    started in the background (no network but the page's own: tests are offline)."""

    FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run")

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable, self.profile = executable, profile

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run Chromium with `args` (e.g. `--dump-dom URL`, `--screenshot=PNG URL`); a
        failed run fails the test with Chromium's own last words."""
        done = subprocess.run([self.executable, *self.FLAGS, f"--user-data-dir={self.profile}", *args],
                              capture_output=True, timeout=timeout, start_new_session=True)
        assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
        return done

    def dom(self, *args: str) -> str:
        """The DOM after the page ran (`--dump-dom`), as text."""
        return self("--dump-dom", *args).stdout.decode("utf-8", errors="replace")


@pytest.fixture
def chromium(tmp_path: Path) -> Chromium:
    """Headless Chromium (the test is skipped where it is not installed: `make test` installs it)."""
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (make test installs it: scripts/install-chromium.sh)")
    return Chromium(CHROMIUM, tmp_path / "chromium-profile")
