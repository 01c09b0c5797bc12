"""Process settings (se_pipeline/runtime.py): applied only by the processes that ask for them,
never by importing the code location; the release's writers run at a lower priority."""
from __future__ import annotations

import subprocess
import sys

from se_pipeline.runtime import YOUNG_THRESHOLD


def _threshold_after(code: str) -> int:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport gc; print(gc.get_threshold()[0])"],
                         capture_output=True, text=True, check=True, timeout=120)
    return int(out.stdout.split()[-1])


def test_loading_the_code_location_leaves_the_collector_alone() -> None:
    """Dagster's webserver and code server load the definitions: they keep the default."""
    assert _threshold_after("import se_pipeline.definitions\nse_pipeline.definitions.build_definitions()") == 700
    assert _threshold_after("from se_pipeline.runtime import tune_gc; tune_gc()") == YOUNG_THRESHOLD


def test_tuning_keeps_the_older_generations_at_least_as_patient() -> None:
    assert _threshold_after("import gc; gc.set_threshold(700, 80, 90)\n"
                            "from se_pipeline.runtime import tune_gc; tune_gc()\n"
                            "assert gc.get_threshold() == (100_000, 80, 90)") == YOUNG_THRESHOLD


def test_a_release_helper_lowers_its_priority() -> None:
    from se_pipeline.runtime import BACKGROUND_NICENESS

    code = ("import os; before = os.nice(0)\n"
            "from se_pipeline.runtime import run_in_background; run_in_background()\n"
            "print(before, os.nice(0))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    before, after = map(int, out.stdout.split())
    assert after == min(before + BACKGROUND_NICENESS, 19)


def test_the_command_line_ends_with_main_s_status_and_message() -> None:
    done = subprocess.run([sys.executable, "-m", "se_pipeline.cli", "validate", "/nonexistent/file.ttl"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr == "se-pipeline validate: no such file or release directory: /nonexistent/file.ttl\n"
