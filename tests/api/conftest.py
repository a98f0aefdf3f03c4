"""The fixtures every API and web test starts from: the small org of :mod:`tests.api.world` on the test's
database, an API client and a browser-like web client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dynbooks.services import webhooks
from tests.api.world import Org, build_org


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> Org:
    return build_org(db_url, tmp_path)


@pytest.fixture
def client(org: Org) -> Iterator[TestClient]:
    """The API as scripts call it."""
    with TestClient(org.app()) as c:
        yield c


@pytest.fixture
def app(org: Org) -> Iterator[TestClient]:
    """The web app as a browser on localhost sees it (redirects are answers to check, not to follow)."""
    with TestClient(org.app(), base_url="http://localhost", follow_redirects=False) as c:
        yield c


@pytest.fixture
def webhook_sets(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every set of webhook deliveries written together from now on (in the order written)."""
    sizes: list[int] = []
    real = webhooks.apply_together

    def counted(conn: Any, ctx: Any, batch: list[Any], refusal: Any) -> None:
        sizes.append(len(batch))
        real(conn, ctx, batch, refusal)

    monkeypatch.setattr(webhooks, "apply_together", counted)
    return sizes
