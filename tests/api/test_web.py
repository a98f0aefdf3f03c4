"""The web app through HTTP, on SQLite and PostgreSQL: sign-in, CSRF, each role's pages, 404 for others' data."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from fastapi.testclient import TestClient

from tests.api.world import PASSWORD, USERS, Org


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, who: str) -> str:
    page = client.get("/login")
    answer = client.post("/login", data={"email": USERS[who][0], "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text), "next": "/"})
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def mine(org: Org, rep: str) -> list[str]:
    return sorted(a for a, r in org.world.owners().items() if r == rep)


def test_every_page_but_login_and_health_needs_a_session(app: TestClient) -> None:
    for path in ("/", "/book", "/team", "/accounts/C00", "/admin/review", "/admin/cycle"):
        answer = app.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login"), path
    assert app.get("/login").status_code == 200
    assert app.get("/api/health").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_lax(app: TestClient) -> None:
    page = app.get("/login")
    answer = app.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD,
                                      "csrf_token": csrf_of(page.text)})
    cookie = answer.headers["set-cookie"]
    assert "dynbooks_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # on a loopback host; everywhere else it is Secure


def test_a_wrong_password_or_a_missing_csrf_token_does_not_sign_in(app: TestClient) -> None:
    page = app.get("/login")
    wrong = app.post("/login", data={"email": USERS["rep"][0], "password": "nope nope",
                                     "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text
    forged = app.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD, "csrf_token": "x"})
    assert forged.status_code == 403


def test_a_rep_sees_their_book_and_returns_an_account_getting_the_replacement(app: TestClient, org: Org) -> None:
    assert sign_in(app, "rep") == "/"
    assert app.get("/").headers["location"] == "/book"
    page = app.get("/book")
    assert page.status_code == 200
    for account in mine(org, "S1"):
        assert account in page.text
    assert "new" in page.text
    account = mine(org, "S1")[0]
    detail = app.get(f"/accounts/{account}")
    assert detail.status_code == 200 and 'type="date"' in detail.text
    token = csrf_of(detail.text)
    refused = app.post(f"/accounts/{account}/return", data={"reason": "not_interested", "csrf_token": "bad"})
    assert refused.status_code == 403
    needs_date = app.post(f"/accounts/{account}/return", data={"reason": "get_back_to_me", "csrf_token": token},
                          headers={"HX-Request": "true"})
    assert needs_date.status_code == 422 and "date" in needs_date.text
    done = app.post(f"/accounts/{account}/return",
                    data={"reason": "get_back_to_me", "until": "2026-05-01", "csrf_token": token},
                    headers={"HX-Request": "true"})
    assert done.status_code == 200, done.text
    replacement = re.search(r'id="replacement">[^<]*<small>([^<]+)</small>', done.text)
    assert replacement is not None and org.world.owners()[replacement.group(1)] == "S1"
    assert "<html" not in done.text  # a fragment for htmx


def test_a_rep_cannot_open_another_reps_account_or_book(app: TestClient, org: Org) -> None:
    sign_in(app, "rep")
    assert app.get(f"/accounts/{mine(org, 'S3')[0]}").status_code == 404
    assert app.get("/reps/S3").status_code == 404
    assert app.get("/team").status_code == 404
    assert app.get("/admin/review").status_code == 404


def test_a_manager_reads_balance_and_returns_with_a_chart_and_its_table(app: TestClient, org: Org) -> None:
    sign_in(app, "manager")
    page = app.get("/team")
    assert page.status_code == 200
    for element in ('id="balance-chart"', 'id="balance-chart-table"', 'id="returns-chart"', 'id="returns-chart-table"',
                    'id="flags"', 'id="coverage"', "echarts-6.1.0.common.min.js"):
        assert element in page.text
    assert "S1" in page.text and "S2" in page.text and "/reps/S3" not in page.text
    assert app.get("/reps/S2").status_code == 200
    assert app.get("/reps/S3").status_code == 404


def test_an_admin_previews_then_commits_a_cycle_and_works_the_review_queue(app: TestClient, org: Org) -> None:
    sign_in(app, "rep")
    account = mine(org, "S1")[0]
    token = csrf_of(app.get(f"/accounts/{account}").text)
    app.post(f"/accounts/{account}/return", data={"reason": "bad_data", "csrf_token": token})
    app.cookies.clear()
    sign_in(app, "admin")
    review = app.get("/admin/review")
    assert account in review.text
    token = csrf_of(review.text)
    fixed = app.post(f"/admin/review/{account}/fix", data={"field": "domain", "value": "acme.example",
                                                          "csrf_token": token})
    assert fixed.status_code == 303
    back = app.post(f"/admin/review/{account}/reintroduce", data={"role": "sdr", "csrf_token": token})
    assert back.status_code == 303 and account not in app.get("/admin/review").text.split("<tbody>")[1]
    before = org.world.owners()
    preview = app.post("/admin/cycle/preview", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert preview.status_code == 200 and "nothing was written" in preview.text
    assert org.world.owners() == before
    committed = app.post("/admin/cycle/commit", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert committed.status_code == 200 and "Committed" in committed.text


def test_static_files_are_served_with_a_strict_content_security_policy(app: TestClient) -> None:
    answer = app.get("/static/vendor/htmx-2.0.11.min.js")
    assert answer.status_code == 200
    assert "script-src 'self'" in answer.headers["content-security-policy"]


def test_an_admin_explores_the_pool_and_the_cycle_history(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    pool = app.get("/admin/pool?role=sdr&limit=5")
    assert pool.status_code == 200 and "3 ready" in pool.text
    history = app.get("/admin/cycles")
    assert history.status_code == 200 and history.text.count("<td>cycle</td>") == 1


def test_an_import_shows_every_bad_row_and_imports_nothing_unless_told(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    token = csrf_of(app.get("/admin/import").text)
    bad = "account_id,rep_id,type,occurred_at\nC00,S1,call,2026-03-01\nC01,S1,call,someday\nNOPE,S1,call,2026-03-01\n"
    refused = app.post("/admin/import", data={"kind": "activities", "csrf_token": token},
                       files={"file": ("acts.csv", bad, "text/csv")})
    assert refused.status_code == 422
    assert "line 3, column occurred_at" in refused.text and "line 4, column account_id" in refused.text
    skipped = app.post("/admin/import", data={"kind": "activities", "csrf_token": token, "skip_invalid": "on"},
                       files={"file": ("acts.csv", bad, "text/csv")})
    assert skipped.status_code == 200 and 'id="import-result"' in skipped.text and "someday" in skipped.text
    sign_in(app, "rep")
    assert app.get("/admin/import").status_code == 404


def test_an_admin_adds_and_deactivates_reps_and_the_books_follow(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    page = app.get("/admin/reps")
    assert page.status_code == 200 and "S3" in page.text
    token = csrf_of(page.text)
    added = app.post("/admin/reps", data={"csrf_token": token, "rep_id": "S4", "name": "Sol", "book_rule": "sdr",
                                          "team": "west", "start_date": "2026-01-01"})
    assert added.status_code == 303 and "3 accounts dealt" in unquote(added.headers["location"])
    assert sorted(a for a, r in org.world.owners().items() if r == "S4") == ["C09", "C10", "C11"]
    gone = app.post("/admin/reps", data={"csrf_token": token, "editing": "1", "rep_id": "S3", "name": "Sid",
                                         "book_rule": "sdr", "start_date": "", "unavailable_until": ""})
    assert gone.status_code == 303
    assert "S3" not in org.world.owners().values()


def test_the_rule_editor_names_a_bad_key_and_saves_only_a_valid_configuration(app: TestClient, org: Org) -> None:
    sign_in(app, "admin")
    page = app.get("/admin/rules")
    assert page.status_code == 200 and "[[book_rule]]" in page.text
    token = csrf_of(page.text)
    original = Path(str(org.settings.config)).read_text()
    bad = original.replace("retrieve_after_days = 30", "retreive_after_days = 30", 1)
    refused = app.post("/admin/rules", data={"csrf_token": token, "toml": bad})
    assert refused.status_code == 422 and "retreive_after_days" in refused.text and "unknown key" in refused.text
    assert Path(str(org.settings.config)).read_text() == original
    good = original.replace("target_size = 3", "target_size = 4", 1)
    saved = app.post("/admin/rules", data={"csrf_token": token, "toml": good})
    assert saved.status_code == 200 and 'id="rules-saved"' in saved.text
    assert "target_size = 4" in Path(str(org.settings.config)).read_text()
    preview = app.post("/admin/cycle/preview", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert 'data-step="distributed">3<' in preview.text  # one more account for each of the three reps


def test_five_failed_sign_ins_for_an_email_hold_it_back_for_a_while(app: TestClient) -> None:
    token = csrf_of(app.get("/login").text)
    for _ in range(5):
        assert app.post("/login", data={"email": USERS["rep"][0], "password": "guess guess",
                                         "csrf_token": token}).status_code == 401
    held = app.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD, "csrf_token": token})
    assert held.status_code == 429 and "Too many failed sign-ins" in held.text
    other = app.post("/login", data={"email": USERS["manager"][0], "password": PASSWORD, "csrf_token": token})
    assert other.status_code == 303


def test_outside_localhost_the_session_cookie_is_secure(org: Org) -> None:
    with TestClient(org.app(), base_url="https://books.example.com", follow_redirects=False) as client:
        page = client.get("/login")
        answer = client.post("/login", data={"email": USERS["rep"][0], "password": PASSWORD,
                                             "csrf_token": csrf_of(page.text)})
        assert answer.status_code == 303 and "Secure" in answer.headers["set-cookie"]
