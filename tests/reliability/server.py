"""Real ``dynbooks serve`` processes on loopback for the webhook race and the load test."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.reliability.support import dynbooks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(url: str, config: Path, as_of: str, folder: Path, *, count: int = 1, webhook_secret: str | None = None,
            wait: int = 60) -> Iterator[list[str]]:
    """``count`` ``dynbooks serve`` processes on one database; yields their base URLs once each answers
    ``/api/health``. Their logs go to files in ``folder`` (a pipe nobody reads would block them)."""
    env = dict(os.environ, DYNBOOKS_SECRET_KEY="r" * 40)
    if webhook_secret is not None:
        env["DYNBOOKS_WEBHOOK_SECRET"] = webhook_secret
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    bases = []
    try:
        for i in range(count):
            port = free_port()
            log = folder / f"serve-{i}.log"
            with log.open("wb") as out:
                procs.append((subprocess.Popen(
                    [*dynbooks(), "serve", "--port", str(port), "--no-schedule", "--db", url, "--config", str(config),
                     "--as-of", as_of, "--wait", str(wait)], stdout=out, stderr=subprocess.STDOUT, env=env), log))
            bases.append(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 300  # a loaded machine starts Python slowly
        for (proc, log), base in zip(procs, bases, strict=True):
            while True:
                assert proc.poll() is None, f"dynbooks serve exited: {log.read_text(errors='replace')[-2000:]}"
                assert time.monotonic() < deadline, f"dynbooks serve did not answer: {log.read_text()[-2000:]}"
                try:
                    with urllib.request.urlopen(f"{base}/api/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.2)
        yield bases
    finally:
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
