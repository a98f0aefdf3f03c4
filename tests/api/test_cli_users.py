"""``dynbooks user add`` and ``dynbooks token create`` as a script runs them, and the token then works."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from dynbooks.app import create_app
from dynbooks.settings import Settings

TOML = '[[book_rule]]\nname = "team"\nrole = "sdr"\ntarget_size = 2\nfilter = {}\n'


def run(folder: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    exe = shutil.which("dynbooks", path=str(Path(sys.executable).parent))
    base = [exe] if exe else [sys.executable, "-m", "dynbooks"]
    cmd = [*base, *args, "--db", f"sqlite:///{folder / 'c.db'}", "--config", str(folder / "dynbooks.toml"),
           "--as-of", "2026-03-02", "--json"]
    return subprocess.run(cmd, cwd=folder, input=stdin, capture_output=True, text=True, timeout=120)


def test_a_user_added_from_the_cli_gets_a_token_that_the_api_accepts(tmp_path: Path) -> None:
    (tmp_path / "dynbooks.toml").write_text(TOML)
    (tmp_path / "reps.csv").write_text("rep_id,name,book_rule\nA,Ann,team\n")
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "import", "reps", str(tmp_path / "reps.csv")).returncode == 0
    short = run(tmp_path, "user", "add", "ann@example.com", "--role", "rep", "--rep", "A", stdin="short\n")
    assert short.returncode == 3 and "too short" in json.loads(short.stdout)["error"]["message"]
    unknown = run(tmp_path, "user", "add", "x@example.com", "--role", "rep", "--rep", "NOPE", stdin="long enough pw\n")
    assert unknown.returncode == 4
    added = run(tmp_path, "user", "add", "ann@example.com", "--role", "rep", "--rep", "A", stdin="long enough pw\n")
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["created"] is True
    made = run(tmp_path, "token", "create", "ann@example.com", "--scope", "read")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    assert run(tmp_path, "token", "create", "nobody@example.com").returncode == 4
    settings = Settings(db=f"sqlite:///{tmp_path / 'c.db'}", config=str(tmp_path / "dynbooks.toml"), as_of="2026-03-02")
    with TestClient(create_app(settings)) as client:
        me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"email": "ann@example.com", "role": "rep", "rep_id": "A", "team": None, "scopes": ["read"]}
        assert client.get("/api/books/A", headers={"Authorization": f"Bearer {token}"}).status_code == 200
