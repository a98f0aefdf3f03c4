"""What the reliability tests share: how big they run, and the ``dynbooks`` command as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

BIG = os.environ.get("DYNBOOKS_RELIABILITY") == "1"
"""``make reliability`` sets it: the long variants (more trials, more processes, more data)."""


def dynbooks() -> list[str]:
    exe = shutil.which("dynbooks", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "dynbooks"]


def start(url: str, config: Path, as_of: str, *args: str, wait: int = 120) -> subprocess.Popen[str]:
    """``dynbooks ARGS --db URL --config CONFIG --as-of AS_OF --json --wait WAIT``, started, not awaited."""
    cmd = [*dynbooks(), *args, "--db", url, "--config", str(config), "--as-of", as_of, "--json",
           "--wait", str(wait)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))


def run(url: str, config: Path, as_of: str, *args: str) -> subprocess.CompletedProcess[str]:
    p = start(url, config, as_of, *args)
    out, err = p.communicate(timeout=300)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)
