"""The book-size calculator and the territory shrink (SPEC §7, §9 ``calc book-size``)."""

from __future__ import annotations

import json
import math

import pytest

from dynbooks.domain.calc import book_size, supply_half_life_weeks, territory_shrink
from dynbooks.domain.errors import InvalidInput

SPEC = {"activities_per_day": 50, "touches_per_contact": 5, "contacts_per_account": 2, "cadence_days": 10}


def test_fifty_activities_a_day_over_ten_days_at_five_touches_on_two_contacts_is_a_book_of_50() -> None:
    result = book_size(50, 5, 2, 10)
    assert result["book_size"] == 50
    assert result["arithmetic"] == (
        "50 activities/day × 10 days = 500 touches; 5 touches/contact × 2 contacts/account = "
        "10 touches/account; 500 / 10 = 50 accounts"
    )
    assert result["inputs"] == SPEC
    assert (result["touches_per_cadence"], result["touches_per_account"]) == (500, 10)


def test_the_result_is_plain_json() -> None:
    assert json.loads(json.dumps(book_size(50, 5, 2, 10, sales_cycle_days=30)))["book_size"] == 50


def test_a_fractional_book_is_rounded_down_and_the_arithmetic_says_so() -> None:
    result = book_size(50, 5, 2.4, 10)
    assert result["book_size"] == 41
    assert result["arithmetic"].endswith("500 / 12 = 41.67, rounded down to 41 accounts")


@pytest.mark.parametrize(
    ("a", "t", "c", "d", "expected"),
    [(0.3, 0.3, 1, 10, 10), (40, 6, 3, 14, 31), (1, 1, 1, 1, 1), (7, 3, 1, 3, 7), (1, 2, 1, 1, 0)],
)
def test_the_book_size_is_the_floor_of_touches_per_cadence_over_touches_per_account(
    a: float, t: float, c: float, d: float, expected: int
) -> None:
    assert book_size(a, t, c, d)["book_size"] == expected


def test_a_sales_cycle_shows_how_many_accounts_a_rep_works_through_in_one_cycle() -> None:
    result = book_size(50, 5, 2, 10, sales_cycle_days=30)
    assert result["book_size"] == 50
    assert result["cadences_per_sales_cycle"] == 3
    assert result["accounts_per_sales_cycle"] == 150
    assert result["inputs"]["sales_cycle_days"] == 30
    assert result["arithmetic"].endswith("50 × 3 = 150 accounts per sales cycle")


def test_without_a_sales_cycle_no_sales_cycle_keys_appear() -> None:
    result = book_size(50, 5, 2, 10)
    assert "accounts_per_sales_cycle" not in result
    assert "sales_cycle_days" not in result["inputs"]


@pytest.mark.parametrize("name", [*SPEC, "sales_cycle_days"])
@pytest.mark.parametrize("bad", [0, -1, math.nan, math.inf, True, "50"])
def test_every_input_must_be_a_positive_number_and_the_error_names_it(name: str, bad: object) -> None:
    kwargs: dict[str, object] = {**SPEC, "sales_cycle_days": 30, name: bad}
    with pytest.raises(InvalidInput) as caught:
        book_size(**kwargs)  # type: ignore[arg-type]
    assert name in caught.value.message
    assert caught.value.details == [name]
    assert caught.value.exit_code == 3


def test_an_unreplenished_book_decays_geometrically_week_by_week() -> None:
    assert territory_shrink(50, 0.05, 0.05, 3) == [50.0, 45.0, 40.5, 36.45]


def test_a_book_nobody_returns_from_keeps_its_supply() -> None:
    assert territory_shrink(50, 0, 0, 4) == [50.0] * 5


def test_zero_weeks_is_just_the_starting_book() -> None:
    assert territory_shrink(50, 0.1, 0.1, 0) == [50.0]


def test_returning_everything_empties_the_book_after_one_week() -> None:
    assert territory_shrink(50, 0.5, 0.5, 2) == [50.0, 0.0, 0.0]


def test_the_half_life_is_where_the_shrink_reaches_half_the_book() -> None:
    half = supply_half_life_weeks(0.05, 0.05)
    assert half == pytest.approx(6.5788, abs=1e-4)
    assert 50 * 0.9**half == pytest.approx(25)
    assert supply_half_life_weeks(0, 0) == math.inf
    assert supply_half_life_weeks(1, 0) == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ((0, 0.1, 0.1, 4), "book_size"),
        ((50, -0.1, 0.1, 4), "return_rate_per_week"),
        ((50, 0.1, 1.5, 4), "retrieval_rate_per_week"),
        ((50, 0.6, 0.6, 4), "return_rate_per_week + retrieval_rate_per_week"),
        ((50, 0.1, 0.1, -1), "weeks"),
        ((50, 0.1, 0.1, 2.5), "weeks"),
    ],
)
def test_shrink_refuses_bad_input_naming_the_parameter(args: tuple[float, float, float, int], named: str) -> None:
    with pytest.raises(InvalidInput, match=named.replace("+", r"\+")):
        territory_shrink(*args)
