"""The configuration a RevOps admin writes: book rules, return reasons, scoring, routing.

These models are the validated form of ``dynbooks.toml`` (SPEC §9, defaults from §10). They are
plain data: no rule here reads the clock or the database. Unknown keys are refused so that a typo
(``retreive_after_days``) is an error that names the key, not a silently ignored setting.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DEFAULT_RETURN_REASONS",
    "ActivityConfig",
    "BookRule",
    "Config",
    "EnrollmentConfig",
    "FilterSpec",
    "NotificationsConfig",
    "ReturnLimit",
    "ReturnReason",
    "Route",
    "RoutingConfig",
    "ScheduleConfig",
    "ScoringConfig",
    "Segment",
]

FilterSpec = dict[str, Any]
"""A filter: ``field = condition``; a scalar means equals, a list "is one of", a table holds operators."""

Days = Annotated[int, Field(ge=1, le=365)]

OPERATORS = frozenset({"eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "contains", "exists"})
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_filter(spec: FilterSpec) -> FilterSpec:
    """Refuse a filter that is not a table of conditions; the message names the field."""
    for field, cond in spec.items():
        if not _FIELD.match(field):
            raise ValueError(f"{field!r} is not a field name")
        if isinstance(cond, dict):
            if not cond:
                raise ValueError(f"{field}: an empty table of operators")
            unknown = sorted(set(cond) - OPERATORS)
            if unknown:
                known = ", ".join(sorted(OPERATORS))
                raise ValueError(f"{field}: unknown operator {unknown[0]!r} (use one of {known})")
            for op in ("in", "not_in"):
                if op in cond and not isinstance(cond[op], list):
                    raise ValueError(f"{field}.{op}: needs a list")
            if "exists" in cond and not isinstance(cond["exists"], bool):
                raise ValueError(f"{field}.exists: needs true or false")
    return spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Route(StrEnum):
    """Where a returned account goes (SPEC §3)."""

    REST = "rest"
    REST_UNTIL = "rest_until"
    REVIEW = "review"
    RETIRE = "retire"
    HANDOFF = "handoff"


class ReturnReason(_Strict):
    code: str
    route: Route
    rest_days: Days | None = None
    label: str = ""

    @model_validator(mode="after")
    def _rest_needs_days(self) -> ReturnReason:
        if self.route is Route.REST and self.rest_days is None:
            raise ValueError(f"return_reason {self.code!r}: route 'rest' needs rest_days")
        return self


DEFAULT_RETURN_REASONS: dict[str, ReturnReason] = {
    r.code: r
    for r in (
        ReturnReason(code="duplicate", route=Route.REVIEW, label="The account already exists"),
        ReturnReason(code="bad_data", route=Route.REVIEW, label="Contact or company data wrong or missing"),
        ReturnReason(code="no_icp_fit", route=Route.REVIEW, label="Wrong industry, size or stage"),
        ReturnReason(code="no_relevant_contact", route=Route.REST, rest_days=90,
                     label="Nobody in the target personas"),
        ReturnReason(code="get_back_to_me", route=Route.REST_UNTIL, label="Prospect asks for a later date"),
        ReturnReason(code="not_interested", route=Route.REST, rest_days=90, label="Said no, no date"),
        ReturnReason(code="out_of_business", route=Route.RETIRE, label="Closed or acquired"),
        ReturnReason(code="converted", route=Route.HANDOFF, label="Opportunity created"),
    )
}


class ReturnLimit(_Strict):
    per: Literal["day", "week", "month"]
    max: int = Field(ge=0)


class Segment(_Strict):
    name: str
    size: int = Field(ge=0)
    filter: FilterSpec = Field(default_factory=dict)

    _check = field_validator("filter")(check_filter)


class BookRule(_Strict):
    """A target book: which accounts a group of reps may hold, how many, and how they circulate."""

    name: str
    role: str
    target_size: int = Field(ge=0)
    retrieve_after_days: Days = 30
    rest_days: Days = 60
    cooldown_days: Days = 90
    min_priority: float = 0.0
    ramp: list[Annotated[float, Field(ge=0.0, le=10.0)]] = Field(default_factory=lambda: [1.0], min_length=1)
    handoff_to: str | None = None
    warn_days: Days = 7
    hoarding_days: Days | None = None
    return_limits: dict[str, ReturnLimit] = Field(default_factory=dict)
    segments: list[Segment] = Field(default_factory=list)
    filter: FilterSpec = Field(default_factory=dict)

    _check = field_validator("filter")(check_filter)

    @model_validator(mode="after")
    def _segments_fit(self) -> BookRule:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError(f"book_rule {self.name!r}: segment names repeat")
        if sum(s.size for s in self.segments) > self.target_size:
            raise ValueError(f"book_rule {self.name!r}: segment sizes add up to more than target_size")
        return self

    def segment_sizes(self) -> dict[str | None, int]:
        """Each segment's size, plus the remainder (key ``None``) for accounts matching no segment."""
        sizes: dict[str | None, int] = {s.name: s.size for s in self.segments}
        sizes[None] = self.target_size - sum(s.size for s in self.segments)
        return sizes


class EnrollmentConfig(_Strict):
    filter: FilterSpec = Field(default_factory=dict)

    _check = field_validator("filter")(check_filter)


class ScoringConfig(_Strict):
    timing_half_life_days: float = Field(default=30.0, gt=0)
    sort_keys: list[str] = Field(default_factory=list)

    @field_validator("sort_keys")
    @classmethod
    def _keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not _FIELD.match(key.removeprefix("-")):
                raise ValueError(f"{key!r} is not a field name (prefix '-' for descending)")
        return keys


class ActivityConfig(_Strict):
    meaningful_types: list[str] = Field(default_factory=lambda: ["call", "email", "meeting"])


class RoutingConfig(_Strict):
    hand_raise_types: list[str] = Field(default_factory=lambda: ["demo_request"])
    when_full: Literal["swap", "allow"] = "swap"


class ScheduleConfig(_Strict):
    """``dynbooks serve`` runs a cycle on this cron expression (minute hour day month weekday), in ``timezone``."""

    cycle_cron: str | None = None
    digest_cron: str | None = None   # reps' digests of new accounts and accounts about to be retrieved
    summary_cron: str | None = None  # managers' weekly summary, e.g. "0 7 * * 1"
    timezone: str = "UTC"

    @field_validator("cycle_cron", "digest_cron", "summary_cron")
    @classmethod
    def _five_fields(cls, cron: str | None) -> str | None:
        if cron is not None and len(cron.split()) != 5:
            raise ValueError(f"{cron!r} is not a cron expression of 5 fields (e.g. \"0 6 * * 1-5\")")
        return cron


Channel = Literal["email", "slack"]
CHANNELS: tuple[Channel, ...] = ("email", "slack")


class NotificationsConfig(_Strict):
    """Where digests and summaries go: e-mail over SMTP (to reps' and managers' addresses) and/or one
    Slack-compatible incoming webhook. The SMTP password is read from ``$DYNBOOKS_SMTP_PASSWORD``."""

    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS))
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "dynbooks@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    slack_webhook_url: str | None = None
    app_url: str = "http://localhost:8000"


class Config(_Strict):
    """The whole of ``dynbooks.toml``."""

    enrollment: EnrollmentConfig = Field(default_factory=EnrollmentConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    activity: ActivityConfig = Field(default_factory=ActivityConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    notifications: NotificationsConfig = Field(default_factory=NotificationsConfig)
    book_rule: list[BookRule] = Field(default_factory=list)
    return_reason: list[ReturnReason] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        names = [r.name for r in self.book_rule]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"book_rule {name!r} is defined twice")
        for rule in self.book_rule:
            if rule.handoff_to is not None and rule.handoff_to not in names:
                raise ValueError(f"book_rule {rule.name!r}: handoff_to {rule.handoff_to!r} names no book_rule")
            for code in rule.return_limits:
                if code not in self.reasons:
                    raise ValueError(f"book_rule {rule.name!r}: return_limits names unknown reason {code!r}")
        return self

    @property
    def reasons(self) -> dict[str, ReturnReason]:
        """The default reasons of SPEC §3, overridden and extended by ``[[return_reason]]``."""
        return DEFAULT_RETURN_REASONS | {r.code: r for r in self.return_reason}

    @property
    def rules(self) -> dict[str, BookRule]:
        return {r.name: r for r in self.book_rule}

    @property
    def roles(self) -> list[str]:
        """The roles the book rules name, in order of first appearance."""
        return list(dict.fromkeys(r.role for r in self.book_rule))
