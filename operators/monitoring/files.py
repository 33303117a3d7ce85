"""Model Monitor's files are strict JSON: NaN and the infinities are written as the strings
"NaN", "Infinity" and "-Infinity" (as the analyzer writes them, e.g. a standard_deviation of
"NaN"), so any JSON parser reads them. `dumps` writes that way, `number` reads a value back."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _strict(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_strict(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return value
    return value


def dumps(document: Any) -> bytes:
    """The document as strict JSON (indent 2, trailing newline); numpy values are accepted."""
    return (json.dumps(_strict(document), indent=2, allow_nan=False) + "\n").encode()


def number(value: Any) -> float:
    """A number as Model Monitor writes one: a JSON number or one of the non-finite strings."""
    if isinstance(value, str):
        if value in _NON_FINITE:
            return _NON_FINITE[value]
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"not a number: {value!r}")
    return float(value)


def loads(body: bytes | str) -> Any:
    """A Model Monitor file (strict JSON; a bare NaN/Infinity, as older writers left, is read
    too). Non-finite strings stay strings: read numbers with `number`."""
    return json.loads(body)


def clarify_violations(found: list[dict[str, Any]]) -> dict[str, Any]:
    """constraint_violations.json as Clarify's monitors write it (attribution and bias drift)."""
    return {"version": "1.0", "violations": found}
