"""The CLI as a script sees it: exit codes, one JSON document on stdout, errors on stderr (SPEC §9, §10)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TOML = '[enrollment]\nfilter = {}\n\n[[book_rule]]\nname = "team"\nrole = "sdr"\ntarget_size = 2\nfilter = {}\n'


class Cli:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        exe = shutil.which("dynbooks", path=str(Path(sys.executable).parent))
        self.base = [exe] if exe else [sys.executable, "-m", "dynbooks"]
        self.globals = ["--db", f"sqlite:///{folder / 'c.db'}", "--config", str(folder / "dynbooks.toml"),
                        "--as-of", "2026-03-02"]

    def run(self, *args: str, json_: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = [*self.base, *args, *self.globals, *(["--json"] if json_ else [])]
        return subprocess.run(cmd, cwd=self.folder, capture_output=True, text=True, timeout=120)

    def doc(self, *args: str) -> Any:
        p = self.run(*args)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder where ``dynbooks init`` and two imports ran (once per module: three processes)."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "dynbooks.toml").write_text(TOML)
    (folder / "reps.csv").write_text("rep_id,name,book_rule\nA,Ann,team\nB,Bob,team\n")
    rows = "\n".join(f"X{i},Co {i},{90 - i}.5" for i in range(8))
    (folder / "accounts.csv").write_text("account_id,name,fit_score\n" + rows + "\n")
    c = Cli(folder)
    c.doc("init")
    c.doc("import", "reps", str(folder / "reps.csv"))
    c.doc("import", "accounts", str(folder / "accounts.csv"))
    return folder


@pytest.fixture
def cli(initialised: Path, tmp_path: Path) -> Cli:
    """A copy of that folder, database included, for this test alone."""
    shutil.copytree(initialised, tmp_path, dirs_exist_ok=True)
    return Cli(tmp_path)


def test_a_cycle_prints_its_counts_and_the_export_shows_the_books(cli: Cli) -> None:
    preview = cli.doc("cycle", "--dry-run")
    done = cli.doc("cycle")
    assert preview["distributed"] == done["distributed"] == 4
    assert [c["account_id"] for c in preview["changes"]] == [c["account_id"] for c in done["changes"]]
    out = cli.folder / "state.csv"
    assert cli.run("export", "state", "--out", str(out), json_=False).returncode == 0
    rows = list(csv.DictReader(out.open()))
    assert sorted(r["rep_id"] for r in rows if r["state"] == "owned") == ["A", "A", "B", "B"]


def test_global_options_work_before_and_after_the_command(cli: Cli) -> None:
    p = subprocess.run([*cli.base, "--json", *cli.globals, "pool"], capture_output=True, text=True, cwd=cli.folder)
    assert p.returncode == 0 and json.loads(p.stdout)["roles"][0]["ready"] == 8


def test_exit_codes_name_the_kind_of_failure(cli: Cli) -> None:
    cli.doc("cycle")
    assert cli.run("history", "NOPE").returncode == 4
    assert cli.run("import", "accounts", str(cli.folder / "missing.csv")).returncode == 4
    assert cli.run("return", "X0", "--rep", "B", "--reason", "not_interested").returncode == 5
    refused = cli.run("return", "X0", "--rep", "A", "--reason", "made_up")
    assert refused.returncode == 3
    assert json.loads(refused.stdout)["error"]["exit_code"] == 3
    assert "made_up" in refused.stderr
    assert cli.run("return", "X0", "--rep", "A", "--reason", "get_back_to_me").returncode == 2
    assert cli.run("cycle", "--no-such-option").returncode == 2
    bad_day = [*cli.base, "pool", *cli.globals[:-1], "tomorrow-ish"]
    assert subprocess.run(bad_day, capture_output=True, text=True, cwd=cli.folder).returncode == 2


def test_a_bad_config_is_refused_naming_the_key(cli: Cli) -> None:
    (cli.folder / "dynbooks.toml").write_text(TOML.replace("target_size = 2", "target_size = 2\nrest_dayz = 3"))
    p = cli.run("cycle")
    assert p.returncode == 3
    assert "rest_dayz" in p.stderr and "unknown key" in p.stderr


def test_a_bad_csv_is_refused_whole_with_line_and_column(cli: Cli) -> None:
    (cli.folder / "bad.csv").write_text("account_id,name,employees\nY1,Co,12\nY2,Co,twelve\n")
    p = cli.run("import", "accounts", str(cli.folder / "bad.csv"))
    assert p.returncode == 3
    assert "line 3, column employees" in p.stderr
    assert cli.run("history", "Y1").returncode == 4  # nothing half-imported


def test_history_lists_every_event_of_a_return_in_order(cli: Cli) -> None:
    cli.doc("cycle")
    answer = cli.doc("return", "X0", "--rep", "A", "--reason", "not_interested", "--note", "no budget")
    assert answer["route"] == "rest" and answer["replacement"] == "X4"
    events = cli.doc("history", "X0")
    assert [(e["type"], e["rep_id"], e["reason"]) for e in events] == [
        ("distributed", "A", "cycle"), ("returned", "A", "not_interested")]


def test_export_owners_is_a_data_loader_csv(cli: Cli) -> None:
    cli.doc("cycle")
    p = cli.run("export", "owners", "--format", "salesforce", json_=False)
    lines = p.stdout.splitlines()
    assert lines[0] == "Id,OwnerId,AssignmentDate,Role" and len(lines) == 5
