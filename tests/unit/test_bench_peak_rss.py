"""The benchmarks' peak RSS is the measured process's own, not its parent's (dynbooks.bench.peak_rss_mb)."""

from __future__ import annotations

import subprocess
import sys

CHILD = "from dynbooks.bench import peak_rss_mb; big = bytearray({mb} * 2**20); print(peak_rss_mb())"


def _child_peak(mb: int) -> float:
    out = subprocess.run([sys.executable, "-c", CHILD.format(mb=mb)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def test_a_child_reports_its_own_peak_not_its_parents() -> None:
    parent = bytearray(400 * 2**20)  # the parent holds 400 MB when it starts the child
    parent[::4096] = b"x" * len(parent[::4096])  # touched: resident, not just reserved
    small, large = _child_peak(1), _child_peak(200)
    assert small < 150  # ru_maxrss would say > 400 here (the parent's high-water mark, kept across exec)
    assert large >= 200 > small
    del parent
