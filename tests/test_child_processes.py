"""Child processes started by a release build die when the build is killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from se_pipeline import child_processes

PARENT = textwrap.dedent("""
    import sys, time
    from se_pipeline import child_processes
    child = child_processes.start("sleeper", "sleeper")
    print(child.process.pid, flush=True)
    time.sleep(120)
""")
SLEEPER = textwrap.dedent("""
    import time
    from pathlib import Path
    from se_pipeline import child_processes
    child_processes.die_with_parent()
    time.sleep({sleep})
    Path({marker!r}).write_text("still writing after my parent died")
""")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie waiting for init to reap it is gone too
        return f.read().split(")")[-1].split()[0] != "Z"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != child_processes.PARENT_PID_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    return {**env, **extra}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_dies_when_its_parent_is_sigkilled(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(sleep=3, marker=str(marker)))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=_env(tmp_path), stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child_pid = int(parent.stdout.readline())
        time.sleep(1.0)  # the child is running, past die_with_parent
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


def test_a_child_run_by_hand_is_left_alone(tmp_path: Path) -> None:
    """Without the parent's pid in the environment (someone running the module in a shell)."""
    marker = tmp_path / "marker"
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(sleep=0.2, marker=str(marker)))
    done = subprocess.run([sys.executable, "-m", "sleeper"], env=_env(tmp_path), stdin=subprocess.DEVNULL, timeout=30)
    assert done.returncode == 0 and marker.exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_whose_parent_died_while_it_started_does_no_work(tmp_path: Path) -> None:
    """A build killed while its child is still importing: the parent-death signal comes
    too late for that parent, so `die_with_parent` itself must stop the child before it
    writes anything (an orphan once recreated the removed partial release)."""
    marker = tmp_path / "marker"
    (tmp_path / "sleeper.py").write_text(SLEEPER.format(sleep=0, marker=str(marker)))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    env = _env(tmp_path, **{child_processes.PARENT_PID_ENV: gone.stdout.strip()})  # a parent no longer there
    done = subprocess.run([sys.executable, "-m", "sleeper"], env=env, timeout=30)
    assert done.returncode == -signal.SIGKILL
    assert not marker.exists()


def test_a_failing_child_raises_with_its_traceback_and_a_chatty_one_never_blocks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A megabyte on stderr (more than a pipe holds) before the child fails: `wait` still
    returns, and the error ends with what the child said last."""
    (tmp_path / "chatty.py").write_text("import sys\nsys.stderr.write('x' * 1_000_000)\nraise SystemExit('gave up: disk full')\n")
    monkeypatch.setenv("PYTHONPATH", _env(tmp_path)["PYTHONPATH"])
    child = child_processes.start("chatty writer", "chatty")
    with pytest.raises(child_processes.ChildProcessFailed, match=r"chatty writer failed \(exit 1\): x+gave up: disk full"):
        child.wait()
