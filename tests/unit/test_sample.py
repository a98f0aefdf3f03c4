"""The sample organisation: deterministic, consistent, importable, and configured to fit."""

from __future__ import annotations

import tomllib
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dynbooks.domain.rules import Config
from dynbooks.ingest import KINDS, ParsedFile, read_csv
from dynbooks.sample import generate

AS_OF = date(2026, 3, 2)
FILES = ("accounts.csv", "reps.csv", "activities.csv", "signals.csv", "opportunities.csv", "dynbooks.toml")


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("org")
    return out, generate(out)


@pytest.fixture(scope="module")
def parsed(org: tuple[Path, dict[str, int]]) -> dict[str, ParsedFile]:
    out, _ = org
    return {kind: read_csv(out / f"{kind}.csv", kind) for kind in KINDS}


def test_the_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", accounts=2_000)
    generate(tmp_path / "b", accounts=2_000)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_another_seed_gives_another_organisation(tmp_path: Path) -> None:
    generate(tmp_path / "a", accounts=2_000, seed=1)
    generate(tmp_path / "b", accounts=2_000, seed=2)
    assert (tmp_path / "a" / "accounts.csv").read_bytes() != (tmp_path / "b" / "accounts.csv").read_bytes()


def test_every_file_imports_without_a_single_bad_row(org: tuple[Path, dict[str, int]],
                                                     parsed: dict[str, ParsedFile]) -> None:
    _, counts = org
    for kind in KINDS:
        assert parsed[kind].errors == [], kind
        assert len(parsed[kind].rows) == counts[kind], kind


def test_the_counts_have_the_promised_proportions(org: tuple[Path, dict[str, int]]) -> None:
    _, counts = org
    assert counts["accounts"] == 20_000
    assert counts["reps"] == 50
    assert 0.02 * 20_000 <= counts["opportunities"] <= 0.04 * 20_000
    assert counts["activities"] > 0.25 * 20_000
    assert counts["signals"] > 0.1 * 20_000


def test_the_org_has_five_teams_of_eight_sdrs_and_ten_aes(parsed: dict[str, ParsedFile]) -> None:
    reps = parsed["reps"].rows
    assert Counter(r["book_rule"] for r in reps) == {"smb-sdr": 15, "mm-sdr": 15, "ent-sdr": 10, "ae": 10}
    sdr_teams = Counter(r["team"] for r in reps if r["book_rule"] != "ae")
    assert sdr_teams == {f"team-{k}": 8 for k in range(1, 6)}
    assert len({r["manager"] for r in reps if r["book_rule"] != "ae"}) == 5
    assert [r["rep_id"] for r in reps if not r["active"]] == ["sdr-16"]
    away = [r for r in reps if r.get("unavailable_until")]
    assert [r["rep_id"] for r in away] == ["sdr-29"] and away[0]["unavailable_until"] > AS_OF
    ramping = [r for r in reps if (AS_OF - r["start_date"]).days < 90]
    assert 3 <= len(ramping) <= 5


def test_every_referenced_id_exists(parsed: dict[str, ParsedFile]) -> None:
    accounts = {r["account_id"] for r in parsed["accounts"].rows}
    reps = {r["rep_id"] for r in parsed["reps"].rows}
    for row in parsed["accounts"].rows:
        assert row["owner_sdr"] is None or row["owner_sdr"] in reps
        assert row["owner_ae"] is None or row["owner_ae"] in reps
    for kind in ("activities", "signals", "opportunities"):
        for row in parsed[kind].rows:
            assert row["account_id"] in accounts, kind
            assert "rep_id" not in row or row["rep_id"] in reps, kind


def test_owners_belong_to_the_matching_rule_and_a_few_tenured_reps_hoard(parsed: dict[str, ParsedFile]) -> None:
    rule = {r["rep_id"]: r["book_rule"] for r in parsed["reps"].rows}
    accounts = parsed["accounts"].rows
    owned = [a for a in accounts if a["owner_sdr"]]
    assert 0.15 <= len(owned) / len(accounts) <= 0.25
    for a in owned:
        expected = "smb-sdr" if a["employees"] < 200 else "mm-sdr" if a["employees"] < 2000 else "ent-sdr"
        assert rule[a["owner_sdr"]] == expected
    books = Counter(a["owner_sdr"] for a in owned)
    assert books.most_common(1)[0][1] > 2 * 150  # someone holds more than twice a full SMB book
    assert all(rule[a["owner_ae"]] == "ae" for a in accounts if a["owner_ae"])


def test_accounts_have_plausible_firmographics(parsed: dict[str, ParsedFile]) -> None:
    accounts = parsed["accounts"].rows
    n = len(accounts)
    assert 0.06 <= sum(a["is_customer"] for a in accounts) / n <= 0.10
    assert 0.12 <= sum(a["custom"]["inbound"] for a in accounts) / n <= 0.18
    assert len({a["industry"] for a in accounts}) == 12
    countries = Counter(a["country"] for a in accounts)
    assert countries.most_common(1)[0][0] == "US" and {"CA", "GB", "DE", "FR", "AU"} <= set(countries)
    tz_by_region = {(a["country"], a["region"]): a["timezone"] for a in accounts}
    for a in accounts:
        assert tz_by_region[(a["country"], a["region"])] == a["timezone"]
    fits = [a["fit_score"] for a in accounts if a["fit_score"] is not None]
    assert all(0 <= f <= 100 for f in fits)
    sizes = Counter("smb" if a["employees"] < 200 else "mm" if a["employees"] < 2000 else "ent"
                    for a in accounts if a["employees"] is not None)
    assert sizes["smb"] > sizes["mm"] > sizes["ent"] > 0


def test_about_one_percent_of_domains_are_planted_duplicates(parsed: dict[str, ParsedFile]) -> None:
    keys = Counter(a["duplicate_key"] for a in parsed["accounts"].rows)
    repeated = sum(count - 1 for count in keys.values() if count > 1)
    assert repeated == 20_000 // 100


def test_facts_are_dated_within_their_windows_and_never_after_the_as_of_day(parsed: dict[str, ParsedFile]) -> None:
    end = datetime(AS_OF.year, AS_OF.month, AS_OF.day, tzinfo=UTC) + timedelta(days=1)
    for kind, days in (("activities", 90), ("signals", 120)):
        times = [r["occurred_at"] for r in parsed[kind].rows]
        assert max(times) < end
        assert min(times) >= end - timedelta(days=days + 1)
    types = Counter(r["type"] for r in parsed["signals"].rows)
    assert set(types) == {"funding", "intent_surge", "new_executive", "contract_expiry", "demo_request"}
    assert 0 < types["demo_request"] <= 20
    assert set(Counter(r["type"] for r in parsed["activities"].rows)) == {"call", "email", "meeting", "note"}
    for opp in parsed["opportunities"].rows:
        assert opp["is_closed"] == (opp["closed_at"] is not None)
        assert not opp["is_won"] or opp["is_closed"]


def test_the_config_validates_and_its_rules_are_the_reps_rules(org: tuple[Path, dict[str, int]],
                                                              parsed: dict[str, ParsedFile]) -> None:
    out, _ = org
    config = Config.model_validate(tomllib.loads((out / "dynbooks.toml").read_text(encoding="utf-8")))
    assert set(config.rules) == {r["book_rule"] for r in parsed["reps"].rows}
    assert config.rules["ae"].hoarding_days == 30
    assert all(config.rules[name].handoff_to == "ae" for name in ("smb-sdr", "mm-sdr", "ent-sdr"))
    assert [s.size for s in config.rules["mm-sdr"].segments] == [70, 30]
    assert config.enrollment.filter == {"is_customer": False}


def _matches(account: dict[str, Any], employees: dict[str, int]) -> bool:
    e = account["employees"]
    return e is not None and all((e >= v) if op == "gte" else (e < v) for op, v in employees.items())


def test_the_book_rules_fit_the_pool(org: tuple[Path, dict[str, int]], parsed: dict[str, ParsedFile]) -> None:
    out, _ = org
    config = Config.model_validate(tomllib.loads((out / "dynbooks.toml").read_text(encoding="utf-8")))
    prospects = [a for a in parsed["accounts"].rows if not a["is_customer"]]
    reps = Counter(r["book_rule"] for r in parsed["reps"].rows)
    for name in ("smb-sdr", "mm-sdr", "ent-sdr"):
        rule = config.rules[name]
        pool = sum(_matches(a, rule.filter["employees"]) for a in prospects)
        assert reps[name] * rule.target_size < pool, name


def test_accounts_scale_while_the_reps_stay_the_same(tmp_path: Path) -> None:
    counts = generate(tmp_path, accounts=300)
    assert counts["accounts"] == 300 and counts["reps"] == 50
    parsed = {kind: read_csv(tmp_path / f"{kind}.csv", kind) for kind in KINDS}
    assert all(p.errors == [] for p in parsed.values())
