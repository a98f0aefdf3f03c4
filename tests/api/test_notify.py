"""Digests and summaries delivered to a local SMTP server (aiosmtpd) and a local Slack-compatible receiver."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from dynbooks.api.deps import AppState
from dynbooks.domain.rules import NotificationsConfig
from dynbooks.notify import senders_for
from dynbooks.schedule import send_scheduled
from dynbooks.services import notify
from tests.api.world import Org, build_org


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    def __init__(self) -> None:
        self.mails: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.fixture
def slack() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    posts: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/B000", posts
    server.shutdown()


@pytest.fixture
def org(db_url: str, tmp_path: Path) -> Org:
    org = build_org(db_url, tmp_path)
    org.world.load("reps", "rep_id,name,book_rule,team,manager,email", [
        "S1,Sam,sdr,east,Erin,sam@example.com", "S2,Sue,sdr,east,Erin,", "S3,Sid,sdr,west,Walt,sid@example.com"])
    return org


def configured(org: Org, port: int | None, url: str | None) -> None:
    org.world.config = org.world.config.model_copy(update={"notifications": NotificationsConfig(
        smtp_host="127.0.0.1" if port else None, smtp_port=port or 25, smtp_from="dynbooks@example.com",
        slack_webhook_url=url, app_url="https://books.example.com")})


def test_each_rep_gets_a_digest_of_new_accounts_by_email_and_slack(
        org: Org, smtp: tuple[int, Inbox], slack: tuple[str, list[dict[str, Any]]]) -> None:
    port, inbox = smtp
    url, posts = slack
    configured(org, port, url)
    ctx = org.world.ctx()
    result = notify.deliver(notify.rep_digests(ctx), senders_for(ctx.config.notifications))
    assert result == {"messages": 3, "sent": {"email": 2, "slack": 3}, "failed": []}  # S2 has no address
    assert sorted(m["To"] for m in inbox.mails) == ["sam@example.com", "sid@example.com"]
    sam = next(m for m in inbox.mails if m["To"] == "sam@example.com")
    body = sam.get_payload(decode=True).decode()
    owned = sorted(a for a, r in org.world.owners().items() if r == "S1")
    assert "3 new accounts" in body and all(f"https://books.example.com/accounts/{a}" in body for a in owned)
    assert any("Hello Sue" in p["text"] for p in posts)


def test_a_manager_gets_the_weekly_summary_of_their_team(org: Org, smtp: tuple[int, Inbox]) -> None:
    from dynbooks.services.returns import return_account

    port, inbox = smtp
    configured(org, port, None)
    s1 = sorted(a for a, r in org.world.owners().items() if r == "S1")
    return_account(org.world.ctx(), s1[0], "not_interested", rep_id="S1")
    ctx = org.world.ctx()
    result = notify.deliver(notify.manager_summaries(ctx), senders_for(ctx.config.notifications))
    assert result["sent"] == {"email": 1}
    mail = inbox.mails[0]
    assert mail["To"] == "east@example.com" and mail["Subject"] == "dynbooks: team east this week"
    text = mail.get_payload(decode=True).decode()
    assert "- S1: 3 / 3" in text and "- not_interested: 1" in text and "S3" not in text


def test_a_failed_delivery_is_named_and_does_not_stop_the_others(org: Org, slack: tuple[str, Any]) -> None:
    url, _ = slack
    configured(org, free_port(), url)  # nothing listens on that SMTP port
    ctx = org.world.ctx()
    result = notify.deliver(notify.rep_digests(ctx), senders_for(ctx.config.notifications))
    assert result["sent"] == {"slack": 3} and len(result["failed"]) == 2
    assert "sam@example.com" in result["failed"][0]


def test_the_scheduler_sends_digests_through_the_configured_channels(
        org: Org, slack: tuple[str, list[dict[str, Any]]]) -> None:
    url, posts = slack
    configured(org, None, url)
    state = AppState(settings=org.settings, engine=org.world.engine, config=org.world.config)
    assert send_scheduled(state, "digests") is not None and len(posts) == 3
    configured(org, None, None)
    assert send_scheduled(AppState(settings=org.settings, engine=org.world.engine, config=org.world.config),
                          "summaries") is None
