"""The seeds' Jane/Joe example, computed by the real allocator (SPEC §7, §10)."""

from __future__ import annotations

import json

import pytest

from dynbooks.domain.errors import InvalidInput
from dynbooks.sim import jane_joe, render_table, seeds_market
from dynbooks.sim.market import Account, Market, Rep, dynamic_books, static_books
from dynbooks.sim.outcome import outcome

SPEC_RESULT = {
    "static": {"opportunities": 8, "book_productivity": 0.0667, "per_rep": {"Jane": 2, "Joe": 6}},
    "dynamic": {"opportunities": 12, "book_productivity": 0.1, "per_rep": {"Jane": 6, "Joe": 6}},
}


def test_the_seeds_table_is_reproduced_exactly() -> None:
    result = jane_joe()
    assert {"static": result["static"], "dynamic": result["dynamic"]} == SPEC_RESULT


def test_the_result_is_deterministic_and_plain_json() -> None:
    assert jane_joe() == jane_joe()
    assert json.loads(json.dumps(jane_joe())) == jane_joe()


def test_the_market_is_the_seeds_market() -> None:
    market = seeds_market()
    jane_territory = [a for a in market.accounts if a.territory == "Northern Arkansas"]
    joe_territory = [a for a in market.accounts if a.territory == "Northern California"]
    assert (len(jane_territory), sum(a.high_quality for a in jane_territory)) == (100, 20)
    assert (len(joe_territory), sum(a.high_quality for a in joe_territory)) == (100, 100)
    assert [r.capacity for r in market.reps] == [60, 60]
    assert market.high_quality_accounts == 120


def test_static_jane_works_her_20_good_accounts_and_40_marginal_ones_all_from_her_territory() -> None:
    books = static_books(seeds_market())
    jane = books["Jane"]
    assert len(jane) == 60
    assert sum(a.high_quality for a in jane) == 20
    assert {a.territory for a in jane} == {"Northern Arkansas"}


def test_static_joe_works_the_best_60_of_his_100_and_leaves_40_good_accounts_unworked() -> None:
    market = seeds_market()
    joe = static_books(market)["Joe"]
    his = sorted((a for a in market.accounts if a.territory == "Northern California"), key=lambda a: -a.quality)
    assert {a.id for a in joe} == {a.id for a in his[:60]}


def test_dynamic_books_work_all_120_high_quality_accounts_and_no_marginal_one() -> None:
    books = dynamic_books(seeds_market())
    worked = books["Jane"] + books["Joe"]
    assert len(worked) == 120
    assert all(a.high_quality for a in worked)
    assert len({a.id for a in worked}) == 120


def test_dynamic_books_mix_both_territories_in_each_book() -> None:
    books = dynamic_books(seeds_market())
    assert {a.territory for a in books["Jane"]} == {"Northern Arkansas", "Northern California"}
    assert {a.territory for a in books["Joe"]} == {"Northern Arkansas", "Northern California"}


def test_the_allocators_snake_deals_the_best_account_to_jane_and_the_next_two_to_joe() -> None:
    books = dynamic_books(seeds_market())
    best = sorted(books["Jane"] + books["Joe"], key=lambda a: (-a.quality, a.id))
    assert best[0] == books["Jane"][0]
    assert best[1:3] == books["Joe"][:2]


def test_capacities_of_50_and_70_change_the_dynamic_split_to_50_and_70() -> None:
    market = seeds_market(capacity={"Jane": 50, "Joe": 70})
    books = dynamic_books(market)
    assert (len(books["Jane"]), len(books["Joe"])) == (50, 70)
    result = jane_joe(market)
    assert result["dynamic"] == {"opportunities": 12, "book_productivity": 0.1, "per_rep": {"Jane": 5, "Joe": 7}}
    assert result["static"] == {"opportunities": 9, "book_productivity": 0.075, "per_rep": {"Jane": 2, "Joe": 7}}


def test_a_rep_with_no_capacity_gets_nothing_and_the_other_rep_takes_the_best_of_the_market() -> None:
    result = jane_joe(seeds_market(capacity={"Jane": 0, "Joe": 120}))
    assert result["dynamic"]["per_rep"] == {"Jane": 0, "Joe": 12}
    assert result["static"]["per_rep"] == {"Jane": 0, "Joe": 10}


def test_a_higher_conversion_rate_scales_the_opportunities() -> None:
    result = jane_joe(seeds_market(conversion_rate=0.2))
    assert result["static"]["per_rep"] == {"Jane": 4, "Joe": 12}
    assert result["dynamic"]["opportunities"] == 24


def test_expected_opportunities_round_half_up() -> None:
    market = Market((Account("a", "t", 90.0),), (Rep("R", "t", 1),), conversion_rate=0.5)
    assert outcome(market, {"R": list(market.accounts)}).reps[0].opportunities == 1


def test_marginal_accounts_never_convert() -> None:
    market = Market((Account("a", "t", 59.9), Account("b", "t", 60.0)), (Rep("R", "t", 2),), conversion_rate=1.0)
    assert outcome(market, {"R": list(market.accounts)}).opportunities == 1


def test_the_table_reads_like_the_seeds() -> None:
    table = jane_joe()["table"]
    assert table[0] == ["", "Static territories", "Dynamic books"]
    assert table[1] == ["Jane", "2 opps (20 × 10%)", "6 opps (60 × 10%)"]
    assert table[2] == ["Joe", "6 opps (60 × 10%)", "6 opps (60 × 10%)"]
    assert table[3] == ["Total", "8 opps", "12 opps"]
    assert table[4] == ["Book productivity", "6.7%", "10%"]


def test_the_rendered_table_aligns_the_two_models_side_by_side() -> None:
    text = render_table(jane_joe())
    lines = text.splitlines()
    assert len(lines) == 5
    assert lines[1].split("  ")[0] == "Jane"
    assert lines[4].split() == ["Book", "productivity", "6.7%", "10%"]
    assert lines[0].index("Static") == lines[1].index("2 opps")
    assert lines[0].index("Dynamic") == lines[1].index("6 opps")


@pytest.mark.parametrize(
    ("accounts", "reps", "rate", "problem"),
    [
        ((Account("a", "t", 1.0),) * 2, (Rep("R", "t", 1),), 0.1, "account ids repeat"),
        ((Account("a", "t", 1.0),), (Rep("R", "t", 1), Rep("R", "u", 1)), 0.1, "rep names repeat"),
        ((Account("a", "t", 1.0),), (Rep("R", "t", -1),), 0.1, "rep R: capacity must be >= 0, got -1"),
        (
            (Account("a", "t", 1.0),),
            (Rep("R", "t", 1),),
            1.5,
            "conversion_rate must be a fraction from 0 to 1, got 1.5",
        ),
    ],
)
def test_an_invalid_market_is_refused_with_each_problem_named(
    accounts: tuple[Account, ...], reps: tuple[Rep, ...], rate: float, problem: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        Market(accounts, reps, rate)
    assert caught.value.details == [problem]
