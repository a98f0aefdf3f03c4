"""Benchmarks: ``python -m dynbooks.bench NAME [--json]`` (see ``docs/benchmarks.md``)."""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss_mb"]


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: the high-water mark of its own address space (``VmHWM``).

    Not ``ru_maxrss``: Linux carries the old address space's high-water mark across ``exec``, so a child
    started by a parent that held 3.8 GB (the bench, having just built a 5M-account world) reported 3.8 GB
    whatever it used itself (962 MB). ``ru_maxrss`` only where ``/proc`` is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
