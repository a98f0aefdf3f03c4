"""The errors a user can cause, each with its exit code (SPEC §9, §10) and HTTP status.

```
DynbooksError               exit 1   something went wrong that is not the user's input
├── UsageError              exit 2   a bad option or argument (HTTP 422)
├── InvalidInput            exit 3   a bad CSV row, a bad config key, an unknown reason code (HTTP 422)
├── NotFound                exit 4   a file, an account or a rep that does not exist (HTTP 404)
└── Refused                 exit 5   a rule says no: not the owner, over a return limit, cycle running (HTTP 409)
    └── CycleRunning                 another cycle holds the lock
```
``details`` carries one string per problem (e.g. ``line 3, column employees: 'twelve' is not a whole number``).
"""

from __future__ import annotations

__all__ = ["CycleRunning", "DynbooksError", "InvalidInput", "NotFound", "Refused", "UsageError"]


class DynbooksError(Exception):
    exit_code = 1
    http_status = 500

    def __init__(self, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class UsageError(DynbooksError):
    exit_code = 2
    http_status = 422


class InvalidInput(DynbooksError):
    exit_code = 3
    http_status = 422


class NotFound(DynbooksError):
    exit_code = 4
    http_status = 404


class Refused(DynbooksError):
    exit_code = 5
    http_status = 409


class CycleRunning(Refused):
    pass
