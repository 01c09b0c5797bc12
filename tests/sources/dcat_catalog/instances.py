"""An se-pipeline instance's run, as a user starts it: `se-pipeline run` in its own process."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run_instance(config: Path, output: Path) -> Path:
    """Run the instance of `config` into `output` (the fast validator, no inherited
    config); it must succeed. Returns its new release's folder."""
    env = {**os.environ, "SE_PIPELINE_SHACL": "fast"}
    env.pop("SE_PIPELINE_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "se_pipeline.cli", "run", "--config", str(config), "--output", str(output)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return (output / "latest").resolve()
