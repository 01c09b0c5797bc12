"""Helper processes started by a build exit when the build is killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = textwrap.dedent("""
    import sys, time
    from se_pipeline import lifeline
    child = lifeline.spawn("sleeper", "sleeper")
    print(child.process.pid, flush=True)
    time.sleep(120)
""")
SLEEPER = textwrap.dedent("""
    import time
    from pathlib import Path
    from se_pipeline import lifeline
    lifeline.hold()
    time.sleep(3)
    Path({marker!r}).write_text("still writing after my parent died")
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init to reap it is gone too
        return f.read().split(")")[-1].split()[0] != "Z"


def test_a_helper_exits_when_its_parent_is_sigkilled(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(marker=str(marker)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        time.sleep(1.0)  # the helper is running and holds its lifeline
        assert _alive(child_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        deadline = time.time() + 2
        while _alive(child_pid) and time.time() < deadline:
            time.sleep(0.02)
        assert not _alive(child_pid)
        time.sleep(3)
        assert not marker.exists()
    finally:
        if parent.poll() is None:
            parent.kill()


def test_a_helper_run_by_hand_has_no_lifeline(tmp_path: Path) -> None:
    """Without the environment flag (someone running the module in a shell), stdin is left alone."""
    marker = tmp_path / "marker"
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(marker=str(marker)).replace("time.sleep(3)", "time.sleep(0.2)"))
    env = {k: v for k, v in os.environ.items() if k != "SE_PIPELINE_LIFELINE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "sleeper"], env=env, stdin=subprocess.DEVNULL, timeout=30)
    assert done.returncode == 0 and marker.exists()


def test_a_helper_whose_parent_died_before_it_held_its_lifeline_does_no_work(tmp_path: Path) -> None:
    """A build killed while its helper is still importing: the helper must stop at `hold()`,
    before writing anything (it once recreated the removed partial release this way)."""
    marker = tmp_path / "marker"
    # No watcher thread ever runs here (as when it would get the GIL only after the
    # helper's first writes): only `hold()`'s own check can stop the helper.
    script = SLEEPER.format(marker=str(marker)).replace("time.sleep(3)", "")
    script = script.replace("from se_pipeline import lifeline",
                            "import threading\nthreading.Thread.start = lambda self: None\nfrom se_pipeline import lifeline")
    (tmp_path / "sleeper.py").write_text(script)
    env = {**os.environ, "SE_PIPELINE_LIFELINE": "stdin",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    read_end, write_end = os.pipe()
    os.close(write_end)  # the parent is gone before the helper starts
    try:
        done = subprocess.run([sys.executable, "-m", "sleeper"], env=env, stdin=read_end, timeout=30)
    finally:
        os.close(read_end)
    assert done.returncode == 75  # lifeline.ORPHANED
    assert not marker.exists()
