"""Bad input (SPEC §9 CSV files, §10 Imports and Commands): golden files through the real CLI, fuzzed files
through the import service, bad configuration files, and CSV exports safe from formula injection.

- no crash: exit 0 or 3 (4 for a missing file), never a traceback;
- every bad row is named ``line N, column C: why`` (C is empty only when the whole row is unreadable);
- nothing is half-imported: a refused file leaves every table as it was;
- a good file imported twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from dynbooks.config import load_config
from dynbooks.domain.clock import Now
from dynbooks.domain.errors import InvalidInput, NotFound
from dynbooks.services.context import Context
from dynbooks.services.cycle import run_cycle
from dynbooks.services.imports import import_file
from dynbooks.store.db import connect
from dynbooks.store.migrate import upgrade
from dynbooks.store.schema import metadata
from tests.integration.helpers import SDR_ONLY, World

from .support import dynbooks

GOLDEN = Path(__file__).parent.parent / "golden"
AS_OF = "2026-03-02"

GOOD = ["good_bom_crlf.csv", "good_quoted_newlines.csv", "good_semicolon.csv", "good_na_and_empty_lines.csv",
        "good_salesforce_ids.csv"]
BAD: dict[str, list[tuple[int, str]]] = {
    "bad_duplicate_ids.csv": [(4, "account_id")],
    "bad_cells.csv": [(3, "employees"), (4, "fit_score"), (5, "account_id")],
    "bad_after_quoted_newline.csv": [(5, "employees")],  # the quoted name spans lines 2-4
    "bad_after_empty_lines.csv": [(5, "fit_score")],  # blank lines 3 and 4 still count
    "bad_cell_count.csv": [(2, ""), (3, "")],
    "bad_latin1.csv": [(3, "")],
    "bad_utf16.csv": [(1, "")],
    "bad_salesforce_id.csv": [(2, "account_id")],
    "bad_missing_column.csv": [(1, "name")],
    "bad_empty.csv": [(1, "")],
    "bad_huge_field.csv": [(3, "name")],  # written by the test: a 1.1 MB cell
}


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in metadata.sorted_tables}


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    config = Path(db.removeprefix("sqlite:///")).parent / "dynbooks.toml"
    if not config.exists():
        config.write_text(SDR_ONLY)
    return subprocess.run([*dynbooks(), *args, "--db", db, "--config", str(config), "--as-of", AS_OF, "--json"],
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def cli_db(tmp_path: Path) -> tuple[str, Engine]:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = connect(db)
    upgrade(engine)
    return db, engine


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_golden_file_is_refused_whole_naming_every_bad_row(name: str, cli_db: tuple[str, Engine],
                                                                 tmp_path: Path) -> None:
    db, engine = cli_db
    path = GOLDEN / name
    if name == "bad_huge_field.csv":
        path = tmp_path / name
        path.write_text("account_id,name\nB050,Fine\nB051," + "X" * 1_100_000 + "\n", encoding="utf-8")
    preset = ["--preset", "salesforce"] if "salesforce" in name else []
    before = _counts(engine)
    done = _cli(db, "import", "accounts", str(path), *preset)
    assert done.returncode == 3, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    details = json.loads(done.stdout)["error"]["details"]
    named = [(int(d.split(",")[0].removeprefix("line ")), d.split(", column ")[1].split(":")[0]) for d in details]
    assert named == BAD[name]
    for d in details:
        assert d in done.stderr
    assert _counts(engine) == before  # nothing half-imported


def test_good_golden_files_import_and_a_second_import_changes_nothing(cli_db: tuple[str, Engine]) -> None:
    db, engine = cli_db
    for name in GOOD:
        preset = ["--preset", "salesforce"] if "salesforce" in name else []
        first = _cli(db, "import", "accounts", str(GOLDEN / name), *preset)
        assert first.returncode == 0, (name, first.stderr[-500:])
        assert json.loads(first.stdout)["inserted"] == 2
    before = _counts(engine)
    for name in GOOD:
        preset = ["--preset", "salesforce"] if "salesforce" in name else []
        again = json.loads(_cli(db, "import", "accounts", str(GOLDEN / name), *preset).stdout)
        assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 2), name
    assert _counts(engine) == before
    with engine.connect() as conn:
        names = set(conn.execute(select(metadata.tables["accounts"].c.name)).scalars())
    assert "Acme\nHoldings, Inc." in names and 'Say "hi"' in names and "Acme, Semi" in names


# ---- fuzzed files through the service -----------------------------------------------------------------------

CELLS = st.one_of(
    st.integers(-10, 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "#N/A", "NULL", "true", "no", "2026-02-30", "=1+1", "@SUM(A1)", "-", '"', "a,b", "x\ny",
                     "\ufeff", "é", "0019000000B98de", "001000000000001AAB", " padded ", "\x00"]),
    st.text(max_size=30),
)
COLUMNS = ["account_id", "name", "domain", "employees", "annual_revenue", "fit_score", "is_customer", "country",
           "owner_sdr", "custom_x", "account_id "]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=6))
    if draw(st.booleans()):
        header = ["account_id", "name", *header]
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header) - 1, max_size=len(header) + 1), max_size=8))
    ids = draw(st.lists(st.sampled_from(["F1", "F2", "F3", "F4", "", "F1 "]), min_size=len(rows),
                        max_size=len(rows)))
    for row, rid in zip(rows, ids, strict=True):
        if row and header[0] == "account_id":
            row[0] = rid
    if draw(st.booleans()):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
        text = buffer.getvalue()
    else:  # raw: no quoting at all, broken quotes and delimiters stay broken
        text = "\n".join(draw(st.sampled_from([",", ";"])).join(r) for r in [header, *rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def test_fuzzed_csv_files_either_import_whole_or_are_refused_whole(db_url: str, tmp_path: Path) -> None:
    w = World(db_url, tmp_path)
    w.load("reps", "rep_id,name,book_rule", ["R1,Rep 1,sdr"])
    ctx = Context(engine=w.engine, config=w.config, now=Now.parse(AS_OF))
    seen: dict[str, int] = {"ok": 0, "refused": 0}

    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
    @given(data=csv_files())
    def one(data: bytes) -> None:
        path = tmp_path / "fuzz.csv"
        path.write_bytes(data)
        before = _counts(w.engine)
        try:
            result: dict[str, Any] = import_file(ctx, "accounts", path)
        except (InvalidInput, NotFound) as exc:
            seen["refused"] += 1
            assert _counts(w.engine) == before, "a refused file changed the database"
            for d in exc.details:
                assert d.startswith("line ") and ", column " in d, d
            return
        seen["ok"] += 1
        after = _counts(w.engine)
        assert after["accounts"] == before["accounts"] + result["inserted"]

    one()
    assert seen["refused"] > 0


# ---- configuration and exports ------------------------------------------------------------------------------

BAD_CONFIGS = {
    "book_rule[0].retreive_after_days (sdr): unknown key": SDR_ONLY.replace("retrieve_after_days",
                                                                            "retreive_after_days"),
    "book_rule[0].rest_days (sdr)": SDR_ONLY.replace("rest_days = 60", "rest_days = 0"),
    "book_rule[1].target_size (ae)": SDR_ONLY.replace("target_size = 2", 'target_size = "two"'),
    "routing.when_full": SDR_ONLY + '\n[routing]\nwhen_full = "panic"\n',
    "not valid TOML": SDR_ONLY.replace("[enrollment]", "[enrollment"),
    "book_rule[0].return_limits": SDR_ONLY.replace('per = "week"', 'per = "fortnight"'),
}


@pytest.mark.parametrize("key", sorted(BAD_CONFIGS))
def test_a_bad_config_file_is_refused_naming_the_key(key: str, tmp_path: Path) -> None:
    path = tmp_path / "dynbooks.toml"
    path.write_text(BAD_CONFIGS[key])
    with pytest.raises(InvalidInput) as caught:
        load_config(path)
    assert key in caught.value.message


def test_the_cli_refuses_a_bad_config_with_exit_3_and_the_key(tmp_path: Path) -> None:
    (tmp_path / "dynbooks.toml").write_text(BAD_CONFIGS["book_rule[0].retreive_after_days (sdr): unknown key"])
    done = _cli(f"sqlite:///{tmp_path / 'x.db'}", "cycle")
    assert done.returncode == 3 and "Traceback" not in done.stderr
    assert "book_rule[0].retreive_after_days" in done.stderr


def test_csv_exports_never_start_a_cell_with_a_formula(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    w = World(db, tmp_path)
    w.load("reps", "rep_id,name,book_rule,team,manager", ['=HYPERLINK("http://x"),=evil,sdr,+team,@boss',
                                                           "-R2,-2,sdr,-cmd|' /C calc'!A0,=1+1"])
    w.load("accounts", "account_id,name,domain,employees",
           ['@A1,=cmd,a.com,5000', "+A2,+1,b.com,10", "-A3,-A3,c.com,20", "=A4,ok,d.com,30"])
    run_cycle(w.ctx())
    outputs = {
        "export state": _cli(db, "export", "state"),
        "export owners": _cli(db, "export", "owners", "--format", "salesforce"),
        "report balance": subprocess.run([*dynbooks(), "report", "balance", "--format", "csv", "--db", db, "--config",
                                          str(tmp_path / "dynbooks.toml"), "--as-of", AS_OF],
                                         capture_output=True, text=True, timeout=120),
    }
    for what, done in outputs.items():
        assert done.returncode == 0, (what, done.stderr[-500:])
        cells = [c for row in csv.reader(io.StringIO(done.stdout)) for c in row]
        assert len(cells) > 4, what
        risky = [c for c in cells if c[:1] in ("=", "+", "-", "@") and not _number(c)]
        assert risky == [], what
        assert any(c.startswith("'") for c in cells), what


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
