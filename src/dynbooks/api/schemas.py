"""One schema per direction (``…Request`` in, ``…Public`` out): the API's OpenAPI document is made of these."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

__all__ = [
    "AccountPublic",
    "ActivityRow",
    "BookAccountPublic",
    "BookPublic",
    "CycleChangePublic",
    "CyclePublic",
    "CycleRequest",
    "CycleUndoPublic",
    "CycleUndoRequest",
    "ErrorPublic",
    "HealthPublic",
    "MePublic",
    "ReturnPublic",
    "ReturnRequest",
    "RolePublic",
    "SignalRow",
    "WebhookPublic",
]

Cell = str | int | float | bool | None


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HealthPublic(BaseModel):
    status: str
    version: str


class ErrorBody(BaseModel):
    message: str
    details: list[str] = Field(default_factory=list)


class ErrorPublic(BaseModel):
    error: ErrorBody


class MePublic(BaseModel):
    email: str
    role: str
    rep_id: str | None
    team: str | None
    scopes: list[str]


class BookAccountPublic(BaseModel):
    account_id: str
    name: str
    role: str
    rule: str | None
    segment: str | None
    priority: float
    assigned: str
    new: bool
    idle_days: int
    retrieve_in_days: int | None
    warning: bool
    over_capacity: bool


class BookPublic(BaseModel):
    rep_id: str
    name: str
    rule: str
    active: bool
    size: int
    accounts: list[BookAccountPublic]


class RolePublic(BaseModel):
    role: str
    state: str
    explanation: str


class AccountPublic(BaseModel):
    account_id: str
    name: str
    status: str
    priority: float
    enrolled: bool
    duplicate_of: str | None
    firmographics: dict[str, Any]
    custom: dict[str, Any]
    roles: list[RolePublic]
    signals: list[dict[str, Any]]
    activities: list[dict[str, Any]]
    opportunities: list[dict[str, Any]]
    history: list[dict[str, Any]]


class ReturnRequest(_In):
    reason: str = Field(description="A reason code (SPEC §3 or the config's [[return_reason]]).", max_length=64)
    until: date | None = Field(None, description="get_back_to_me: the date the prospect gave.")
    note: str | None = Field(None, max_length=2000)
    rep_id: str | None = Field(None, description="The returning rep, when several roles own the account.",
                               max_length=64)


class ReturnPublic(BaseModel):
    """The same JSON as ``dynbooks return --json``."""

    account_id: str
    role: str
    rep_id: str
    reason: str
    route: str
    state: str
    rest_until: str | None
    handed_off_to: str | None
    replacement: str | None
    replacements: list[str]
    replayed: bool = Field(False, description="The stored first answer to a repeated Idempotency-Key.")


class CycleRequest(_In):
    dry_run: StrictBool = False


class CycleChangePublic(BaseModel):
    step: str
    account_id: str
    role: str
    rep_id: str | None
    reason: str | None


class CyclePublic(BaseModel):
    cycle_id: str
    dry_run: bool
    released: int
    retrieved: int
    distributed: int
    changes: list[CycleChangePublic]
    replayed: bool = Field(False, description="The stored first answer to a repeated Idempotency-Key.")


class CycleUndoRequest(_In):
    dry_run: StrictBool = False


class CycleUndoChangePublic(BaseModel):
    step: str = Field(description="The step undone: distributed, retrieved or released.")
    account_id: str
    role: str
    rep_id: str | None = Field(description="The rep who lost (distributed) or got back (retrieved) the account.")
    state: str = Field(description="Where the account is now: pool, owned or resting.")


class CycleUndoPublic(BaseModel):
    """The same JSON as ``dynbooks cycle undo --json``."""

    cycle_id: str
    dry_run: bool
    undone: bool
    released: int
    retrieved: int
    distributed: int
    changes: list[CycleUndoChangePublic]


class ActivityRow(BaseModel):
    """An activity with the CSV columns (SPEC §9 CSV files); values are checked as in an import."""

    model_config = ConfigDict(extra="ignore")
    account_id: Cell
    rep_id: Cell
    type: Cell
    occurred_at: Cell
    activity_id: Cell = None


class SignalRow(BaseModel):
    """A signal with the CSV columns (SPEC §9 CSV files); a hand-raise type routes the account at once."""

    model_config = ConfigDict(extra="ignore")
    account_id: Cell
    type: Cell
    strength: Cell
    occurred_at: Cell
    expires_at: Cell = None
    signal_id: Cell = None


class WebhookPublic(BaseModel):
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    routed: int | None = None
    replayed: bool
    # With 202: the delivery waits in the inbox while a cycle holds the SQLite write lock (counts are 0).
    queued: bool | None = None
