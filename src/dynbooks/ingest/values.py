"""Cell converters: text in, a typed value out, or ``ValueError`` with a message a RevOps admin can act on.

Every converter receives a stripped, non-empty cell (emptiness and the null spellings in ``NULLS`` are
handled by the reader), so none of them needs to test for ``""``.
"""

from __future__ import annotations

import itertools
import math
import operator
import re
from datetime import UTC, date, datetime
from typing import Any

__all__ = [
    "NULLS",
    "bools",
    "coerce_custom",
    "counts",
    "customs",
    "dates",
    "datetimes",
    "domains",
    "floats",
    "nonneg_floats",
    "normalise_domain",
    "salesforce_id",
    "to_bool",
    "to_count",
    "to_date",
    "to_datetime",
    "to_float",
    "to_nonneg_float",
]

NULLS = frozenset({"", "#N/A", "N/A", "NULL", "null", "None"})
"""Cell texts that mean "no value" (spreadsheet and database exports spell it many ways)."""

_TRUE = frozenset({"true", "1", "yes", "y"})
_FALSE = frozenset({"false", "0", "no", "n"})


def to_bool(v: str) -> bool:
    """true/false, 1/0, yes/no, y/n, in any case."""
    low = v.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"{v!r} is not true or false (use true/false, yes/no or 1/0)")


_BOOLS = {**dict.fromkeys(_TRUE, True), **dict.fromkeys(_FALSE, False)}
_CUSTOM_BOOLS = {"true": True, "false": False}


# Batch converters: the fast path for a whole column of non-empty cells, in C where possible. Each
# raises ValueError (or KeyError) when any cell is bad; the reader then converts cell by cell with
# the single-cell converter to name every bad cell with its message.


def bools(vs: list[str]) -> list[bool]:
    return list(map(_BOOLS.__getitem__, map(str.lower, vs)))


def counts(vs: list[str]) -> list[int]:
    out = list(map(int, vs))
    if out and min(out) < 0:
        raise ValueError("negative")
    return out


def floats(vs: list[str]) -> list[float]:
    out = list(map(float, vs))
    if not all(map(math.isfinite, out)):
        raise ValueError("not finite")
    return out


def nonneg_floats(vs: list[str]) -> list[float]:
    out = floats(vs)
    if out and min(out) < 0:
        raise ValueError("negative")
    return out


def dates(vs: list[str]) -> list[date]:
    return list(map(date.fromisoformat, vs))


def datetimes(vs: list[str]) -> list[datetime]:
    return [dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
            for dt in map(datetime.fromisoformat, vs)]


def customs(vs: list[str]) -> list[Any]:
    """A custom column: a column of true/false in C, anything else cell by cell."""
    try:
        return list(map(_CUSTOM_BOOLS.__getitem__, map(str.lower, vs)))
    except KeyError:
        return list(map(coerce_custom, vs))


def to_count(v: str) -> int:
    """A whole number ≥ 0; ``1200.0`` (as spreadsheets write it) is accepted as 1200."""
    try:
        n = int(v)
    except ValueError:
        try:
            f = float(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a whole number") from None
        if not f.is_integer():
            raise ValueError(f"{v!r} is not a whole number") from None
        n = int(f)
    if n < 0:
        raise ValueError(f"{v!r} is negative (must be 0 or more)")
    return n


def to_float(v: str) -> float:
    """A finite decimal number (``nan`` and ``inf`` are refused)."""
    try:
        f = float(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a number") from None
    if not math.isfinite(f):
        raise ValueError(f"{v!r} is not a finite number")
    return f


def to_nonneg_float(v: str) -> float:
    f = to_float(v)
    if f < 0:
        raise ValueError(f"{v!r} is negative (must be 0 or more)")
    return f


def to_date(v: str) -> date:
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"{v!r} is not a date (use YYYY-MM-DD)") from None


def to_datetime(v: str) -> datetime:
    """An ISO date or date-time, as an aware UTC datetime.

    A date alone means 00:00 UTC that day; a date-time without an offset is taken as UTC; one with an
    offset (``Z``, ``+02:00``, ``+0000``) is converted to UTC.
    """
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        raise ValueError(
            f"{v!r} is not a date or date-time (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, optionally with Z or ±HH:MM)"
        ) from None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_HOST = re.compile(r"(?:[a-z][a-z0-9+.\-]*://)?(?:[^/?#]*@)?(?:www\.)?([^/?#:]*)")
_host = operator.methodcaller("group", 1)
_SPACE = re.compile(r"\s")


def normalise_domain(v: str) -> str:
    """A website or domain reduced to the bare lower-case host: ``https://www.Acme.com:443/about`` → ``acme.com``.

    Strips the scheme, user info, ``www.``, port, path, query and fragment and trailing dots. It does not
    judge whether the host exists; an input that reduces to nothing, or holds spaces, raises ``ValueError``.
    """
    return domains([v])[0]


def domains(vs: list[str]) -> list[str]:
    """``normalise_domain`` for a column, in C calls only; a bad cell raises ``ValueError`` naming it."""
    out: list[str] = list(map(str.rstrip, map(_host, map(_HOST.match, map(str.lower, vs))), itertools.repeat(".")))
    if "" in out or _SPACE.search("".join(out)):
        for v, d in zip(vs, out, strict=True):
            if not d:
                raise ValueError(f"{v!r} has no domain in it")
            if _SPACE.search(d):
                raise ValueError(f"{v!r} is not a domain (it contains spaces)")
    return out


_SF_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_SF_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-5]{3})?")


def _sf_suffix(id15: str) -> str:
    out = []
    for start in (0, 5, 10):
        bits = 0
        for k, c in enumerate(id15[start : start + 5]):
            if "A" <= c <= "Z":
                bits |= 1 << k
        out.append(_SF_ALPHABET[bits])
    return "".join(out)


def salesforce_id(v: str) -> str:
    """A Salesforce record id in its canonical 18-character form.

    A 15-character (case-sensitive) id gets the standard 3-character suffix: each 5-character chunk
    gives a 5-bit number, bit k set when character k of the chunk is an upper-case letter, and the
    number picks a character from ``A…Z0…5``. An 18-character id is case-insensitive by design, so a
    copy whose case was lost (``0019000000B98DEAAB``) gets its case restored from the suffix; an id
    whose suffix contradicts its characters is refused. Other values are returned unchanged (an
    import may mix Salesforce ids with ids of its own).
    """
    if not _SF_ID.fullmatch(v):
        return v
    if len(v) == 15:
        return v + _sf_suffix(v)
    suffix = v[15:].upper()
    chars = list(v[:15])
    for chunk, s in enumerate(suffix):
        bits = _SF_ALPHABET.index(s)
        for k in range(5):
            i = chunk * 5 + k
            upper = bool(bits >> k & 1)
            c = chars[i]
            if c.isalpha():
                chars[i] = c.upper() if upper else c.lower()
            elif upper:
                raise ValueError(f"{v!r} is not a valid Salesforce id (its last 3 characters do not match)")
    return "".join(chars) + suffix


_INT_LITERAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT_LITERAL = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+(?=[eE]))(?:[eE][-+]?[0-9]+)?")


def coerce_custom(v: str) -> Any:
    """A custom field's value: true/false → bool, an int or float literal → number, else the text.

    Leading zeros keep a value textual (``02134`` is a postcode, not 2134).
    """
    low = v.lower()
    if low == "true":
        return True
    if low == "false":
        return False
    if _INT_LITERAL.fullmatch(v):
        return int(v)
    if _FLOAT_LITERAL.fullmatch(v):
        f = float(v)
        if math.isfinite(f):
            return f
    return v
