"""Process-wide runtime settings: the collector setting reaches every process that runs assets,
and the release helpers run at a lower priority than the build (see se_pipeline/runtime.py)."""
from __future__ import annotations

import subprocess
import sys

from se_pipeline.runtime import YOUNG_THRESHOLD


def _threshold_after(code: str) -> int:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport gc; print(gc.get_threshold()[0])"],
                         capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.split()[-1])


def test_loading_the_code_location_tunes_the_collector() -> None:
    assert _threshold_after("pass") == 700  # the interpreter's default, so the next line proves something
    assert _threshold_after("import se_pipeline.definitions") == YOUNG_THRESHOLD


def test_tuning_keeps_the_older_generations_at_least_as_patient() -> None:
    assert _threshold_after("import gc; gc.set_threshold(700, 80, 90)\n"
                            "from se_pipeline.runtime import tune_gc; tune_gc()\n"
                            "assert gc.get_threshold() == (100_000, 80, 90)") == YOUNG_THRESHOLD


def test_a_release_helper_lowers_its_priority() -> None:
    from se_pipeline.runtime import HELPER_NICENESS

    code = ("import os; before = os.nice(0)\n"
            "from se_pipeline.runtime import background; background()\n"
            "print(before, os.nice(0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    before, after = map(int, out.stdout.split())
    assert after == min(before + HELPER_NICENESS, 19)


def test_exit_now_flushes_what_was_written_and_keeps_the_status() -> None:
    """Buffered output (a pipe is block-buffered) must reach the caller: the CLI's last
    line is the release it made."""
    code = ("import logging, sys\nfrom se_pipeline.runtime import exit_now\n"
            "logging.basicConfig(stream=sys.stderr)\nprint('release made', end='')\n"
            "logging.getLogger('x').error('logged')\nexit_now(3)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (3, "release made")
    assert "logged" in done.stderr


def test_the_command_line_ends_with_main_s_status_and_message() -> None:
    done = subprocess.run([sys.executable, "-m", "se_pipeline.cli", "validate", "/nonexistent/file.ttl"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "se-pipeline validate: no such file or release directory: /nonexistent/file.ttl\n"
