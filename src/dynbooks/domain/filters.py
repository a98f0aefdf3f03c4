"""Book-rule filters: tables of conditions, evaluated column-wise, never as code.

A filter is ``{field: condition, ...}``; conditions are ANDed (SPEC §9). A scalar means equals, a list
means "is one of", a table holds operators ``eq ne lt lte gt gte in not_in contains exists``.

Accounts are given as *columns*: a mapping from field name to a numpy array of the same length
(numbers as float64 with NaN for missing, everything else as object arrays with None for missing).
One function evaluates a filter over a million accounts or over one: the cycle and a hand-raise use
the same rule.

Missing values: a missing field matches no positive condition (``eq lt in contains exists=true`` …)
and matches the negative ones (``ne not_in exists=false``), as a RevOps admin reads "industry is not
Retail" — an account with no industry is not a Retail account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Columns", "evaluate", "fields_of"]

Columns = Mapping[str, np.ndarray]
Mask = npt.NDArray[np.bool_]


def fields_of(spec: Mapping[str, Any]) -> set[str]:
    """The fields a filter reads (so a loader fetches only those columns)."""
    return set(spec)


def evaluate(spec: Mapping[str, Any], columns: Columns, n: int) -> Mask:
    """Which of the ``n`` accounts match ``spec``. An empty filter matches every account."""
    mask = np.ones(n, dtype=bool)
    for field, cond in spec.items():
        values = columns.get(field)
        if values is None:
            values = np.full(n, None, dtype=object)
        if isinstance(cond, dict):
            for op, arg in cond.items():
                mask &= _apply(op, arg, values)
        elif isinstance(cond, list):
            mask &= _apply("in", cond, values)
        else:
            mask &= _apply("eq", cond, values)
    return mask


def _present(values: np.ndarray) -> Mask:
    if values.dtype.kind == "f":
        return np.asarray(~np.isnan(values), dtype=np.bool_)
    if values.dtype.kind == "O":
        return np.array([v is not None for v in values], dtype=bool)
    return np.ones(len(values), dtype=bool)


def _numeric(values: np.ndarray) -> npt.NDArray[np.float64]:
    """The column as floats; anything that is not a number becomes NaN (so it matches no comparison)."""
    if values.dtype.kind in "fiub":
        return values.astype(np.float64)
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if isinstance(v, int | float) and not isinstance(v, bool):
            out[i] = v
    return out


def _equals(values: np.ndarray, arg: Any) -> Mask:
    if isinstance(arg, bool):
        if values.dtype.kind == "b":
            return np.asarray(values == arg)
        return np.array([v is arg or (isinstance(v, bool) and v == arg) for v in values], dtype=bool)
    if isinstance(arg, int | float):
        return np.asarray(_numeric(values) == float(arg))
    if values.dtype.kind != "O":
        return np.zeros(len(values), dtype=bool)
    return np.asarray(values == arg, dtype=bool)


def _isin(values: np.ndarray, args: list[Any]) -> Mask:
    mask = np.zeros(len(values), dtype=bool)
    for arg in args:
        mask |= _equals(values, arg)
    return mask


def _compare(values: np.ndarray, op: str, arg: Any) -> Mask:
    if isinstance(arg, int | float) and not isinstance(arg, bool):
        num = _numeric(values)
        with np.errstate(invalid="ignore"):
            result = {"lt": num < arg, "lte": num <= arg, "gt": num > arg, "gte": num >= arg}[op]
        return np.asarray(result, dtype=bool)
    # Strings (ISO dates included) compare in text order; a missing or non-text value matches nothing.
    text = str(arg)
    present = np.array([isinstance(v, str) for v in values], dtype=np.bool_)
    texts = np.where(present, values, "")
    result = {"lt": texts < text, "lte": texts <= text, "gt": texts > text, "gte": texts >= text}[op]
    return present & np.asarray(result, dtype=np.bool_)


def _contains(values: np.ndarray, arg: Any) -> Mask:
    needle = str(arg).lower()
    return np.array(
        [
            (isinstance(v, str) and needle in v.lower()) or (isinstance(v, list | tuple) and arg in v)
            for v in values
        ],
        dtype=bool,
    )


def _apply(op: str, arg: Any, values: np.ndarray) -> Mask:
    if op == "eq":
        return _equals(values, arg)
    if op == "ne":
        return ~_equals(values, arg)
    if op == "in":
        return _isin(values, list(arg))
    if op == "not_in":
        return ~_isin(values, list(arg))
    if op in ("lt", "lte", "gt", "gte"):
        return _compare(values, op, arg)
    if op == "contains":
        return _contains(values, arg)
    if op == "exists":
        present = _present(values)
        return present if arg else np.logical_not(present)
    raise ValueError(f"unknown operator {op!r}")
