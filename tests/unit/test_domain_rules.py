"""Pure domain rules: filters, priority, ramp capacity, retrieval clock, return routing and limits."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from pydantic import ValidationError

from dynbooks.domain.capacity import ramp_factor, segment_capacity
from dynbooks.domain.clock import Now, day_number
from dynbooks.domain.errors import Refused
from dynbooks.domain.filters import evaluate
from dynbooks.domain.lifecycle import State, check_return_limit, period_start, route_return
from dynbooks.domain.retrieval import retrieval_due, warn_due
from dynbooks.domain.rules import DEFAULT_RETURN_REASONS, BookRule, Config, ReturnLimit
from dynbooks.domain.scoring import priorities, tiebreak_keys

COLUMNS = {
    "annual_revenue": np.array([10e6, 60e6, 600e6, np.nan]),
    "country": np.array(["US", "CA", "DE", None], dtype=object),
    "industry": np.array(["Retail", "Software", None, "Software"], dtype=object),
    "inbound": np.array([True, False, None, True], dtype=object),
}


def test_a_filter_ands_its_conditions_and_reads_lists_as_one_of() -> None:
    spec = {"annual_revenue": {"gte": 50e6, "lt": 500e6}, "country": ["US", "CA"]}
    assert evaluate(spec, COLUMNS, 4).tolist() == [False, True, False, False]


def test_missing_values_match_no_positive_condition_and_every_negative_one() -> None:
    assert evaluate({"industry": {"ne": "Retail"}}, COLUMNS, 4).tolist() == [False, True, True, True]
    assert evaluate({"industry": {"exists": False}}, COLUMNS, 4).tolist() == [False, False, True, False]
    assert evaluate({"inbound": True}, COLUMNS, 4).tolist() == [True, False, False, True]
    assert evaluate({"industry": {"contains": "soft"}}, COLUMNS, 4).tolist() == [False, True, False, True]
    assert evaluate({"unknown_field": {"exists": True}}, COLUMNS, 4).tolist() == [False] * 4


def test_a_filter_with_an_unknown_operator_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="unknown operator 'between'"):
        BookRule(name="x", role="sdr", target_size=1, filter={"employees": {"between": [1, 2]}})


def test_priority_is_fit_plus_signals_halving_every_half_life() -> None:
    got = priorities(np.array([50.0, np.nan]), np.array([0, 1, 1]), np.array([20.0, 8.0, 8.0]),
                     np.array([30, 0, 60]), 30.0)
    assert got.tolist() == pytest.approx([50 + 10, 8 + 2])


def test_sort_keys_break_ties_descending_with_missing_last() -> None:
    keys = tiebreak_keys(["-annual_revenue"], COLUMNS, 4)
    assert np.argsort(keys[0], kind="stable").tolist() == [2, 1, 0, 3]


def test_ramp_chooses_the_factor_by_whole_months_since_start() -> None:
    rule = BookRule(name="r", role="sdr", target_size=100, ramp=[0.5, 0.75, 1.0],
                    segments=[{"name": "out", "size": 70, "filter": {}}])
    assert ramp_factor(rule, date(2026, 1, 15), date(2026, 2, 14)) == 0.5
    assert ramp_factor(rule, date(2026, 1, 15), date(2026, 2, 15)) == 0.75
    assert ramp_factor(rule, date(2025, 1, 1), date(2026, 2, 15)) == 1.0
    assert ramp_factor(rule, date(2026, 4, 1), date(2026, 2, 15)) == 0.0
    assert segment_capacity(rule, date(2026, 1, 15), date(2026, 2, 15)) == {"out": 52, None: 22}


def test_segments_larger_than_the_book_are_refused() -> None:
    with pytest.raises(ValidationError, match="more than target_size"):
        BookRule(name="r", role="sdr", target_size=10, segments=[{"name": "a", "size": 11}])


def test_unknown_config_keys_and_bad_handoff_are_refused() -> None:
    with pytest.raises(ValidationError, match="retreive_after_days"):
        Config.model_validate({"book_rule": [{"name": "r", "role": "sdr", "target_size": 1, "retreive_after_days": 3}]})
    with pytest.raises(ValidationError, match="handoff_to 'ae' names no book_rule"):
        Config.model_validate({"book_rule": [{"name": "r", "role": "sdr", "target_size": 1, "handoff_to": "ae"}]})


def test_not_worked_counts_from_the_later_of_assignment_activity_and_time_away() -> None:
    day = day_number(date(2026, 3, 31))
    worked = np.array([day_number(date(2026, 3, 1)), day_number(date(2026, 3, 2)), day_number(date(2026, 3, 1))])
    away = np.array([-1, -1, day_number(date(2026, 3, 10))])
    assert retrieval_due(worked, away, day, 30).tolist() == [True, False, False]
    assert warn_due(worked, away, day, 30, 7).tolist() == [False, True, False]


def test_each_return_reason_takes_its_route() -> None:
    rule = BookRule(name="r", role="sdr", target_size=1, rest_days=60, handoff_to=None)
    day = date(2026, 3, 2)
    reasons = DEFAULT_RETURN_REASONS
    assert route_return(reasons["not_interested"], rule, day, None).rest_until == date(2026, 5, 31)
    assert route_return(reasons["bad_data"], rule, day, None).state is State.REVIEW
    assert route_return(reasons["out_of_business"], rule, day, None).state is State.RETIRED
    assert route_return(reasons["get_back_to_me"], rule, day, date(2026, 4, 1)).rest_until == date(2026, 4, 1)
    with pytest.raises(Refused, match="--until"):
        route_return(reasons["get_back_to_me"], rule, day, None)
    with pytest.raises(Refused, match="handoff_to"):
        route_return(reasons["converted"], rule, day, None)


def test_return_limits_count_iso_weeks_and_calendar_months_inclusively() -> None:
    assert period_start("week", date(2026, 3, 5)) == date(2026, 3, 2)
    assert period_start("month", date(2026, 3, 5)) == date(2026, 3, 1)
    limit = ReturnLimit(per="week", max=2)
    check_return_limit("not_interested", limit, 1, date(2026, 3, 5))
    with pytest.raises(Refused, match="at most 2"):
        check_return_limit("not_interested", limit, 2, date(2026, 3, 5))


def test_as_of_a_date_means_the_end_of_that_day_and_stamps_its_start() -> None:
    now = Now.parse("2026-01-05")
    assert now.stamp.isoformat() == "2026-01-05T00:00:00+00:00"
    assert now.horizon.date() == date(2026, 1, 5) and now.horizon.hour == 23
    with pytest.raises(ValueError, match="not an ISO date"):
        Now.parse("yesterday")


def test_round_robin_offers_first_to_the_rep_served_longest_ago() -> None:
    from dynbooks.domain.routing import round_robin

    assert round_robin(["B", "A", "C"], {"A": 7, "B": 3}) == ["C", "B", "A"]


def test_a_full_book_gives_up_its_last_account_in_pool_order() -> None:
    from dynbooks.domain.routing import swap_victim

    assert swap_victim(["X1", "X2", "X3"], [5.0, 2.0, 2.0]) == "X3"
    assert swap_victim([], []) is None


@pytest.mark.parametrize(
    ("event", "before", "after"),
    [
        ("distributed", "pool", "owned"),
        ("handed_off", "pool", "owned"),
        ("returned", "owned", "resting"),
        ("returned", "owned", "review"),
        ("retrieved", "owned", "resting"),
        ("released", "resting", "pool"),
        ("reintroduced", "review", "pool"),
        ("flagged", "pool", "review"),
        ("retired", "owned", "retired"),
        ("reactivated", "retired", "pool"),
        ("held", "resting", "held"),
        ("unheld", "held", "pool"),
        ("bumped", "owned", "pool"),
        ("unassigned", "owned", "pool"),
    ],
)
def test_every_transition_of_the_lifecycle_is_allowed(event: str, before: str, after: str) -> None:
    from dynbooks.domain.lifecycle import check_transition

    check_transition(event, before, after)


@pytest.mark.parametrize(
    ("event", "before", "after"),
    [
        ("distributed", "owned", "owned"),  # never dealt twice
        ("distributed", "resting", "owned"),  # a resting account is not ready
        ("retrieved", "resting", "resting"),
        ("released", "owned", "pool"),
        ("reactivated", "held", "pool"),
        ("returned", "review", "resting"),
    ],
)
def test_moves_outside_the_lifecycle_are_refused(event: str, before: str, after: str) -> None:
    from dynbooks.domain.lifecycle import check_transition

    with pytest.raises(ValueError, match="cannot move"):
        check_transition(event, before, after)
