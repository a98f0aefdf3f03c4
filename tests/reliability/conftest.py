"""Every test in this folder belongs to the reliability suite (``pytest -m reliability`` selects it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.support import BIG

HERE = Path(__file__).parent

# The load test is timed, so it runs in ``make reliability`` only; in ``make test`` it is not collected
# (rather than counted as a skipped test).
collect_ignore = [] if BIG else ["test_load.py"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.reliability)
