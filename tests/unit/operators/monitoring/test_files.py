"""Model Monitor's files are strict JSON: non-finite numbers as strings."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from operators.monitoring import files


def strict(body: bytes):
    def refuse(constant):
        raise ValueError(f"bare {constant} in the output")

    return json.loads(body, parse_constant=refuse)


def test_non_finite_numbers_are_written_as_model_monitors_strings_at_any_depth():
    document = {
        "a": math.nan,
        "b": [math.inf, {"c": -math.inf}],
        "d": np.float64("nan"),
        "e": np.array([1.5, np.inf]),
        "f": (np.int64(3), np.bool_(True)),
    }
    body = files.dumps(document)
    assert body.endswith(b"}\n")
    assert strict(body) == {
        "a": "NaN",
        "b": ["Infinity", {"c": "-Infinity"}],
        "d": "NaN",
        "e": [1.5, "Infinity"],
        "f": [3, True],
    }


def test_round_trip_through_number():
    values = [0.25, math.inf, -math.inf, 7]
    read = files.loads(files.dumps({"v": values}))["v"]
    assert [files.number(v) for v in read] == [0.25, math.inf, -math.inf, 7.0]
    assert math.isnan(files.number(files.loads(files.dumps(math.nan))))


def test_loads_reads_a_bare_nan_and_number_refuses_what_is_not_a_number():
    assert math.isnan(files.loads(b'{"x": NaN}')["x"])
    for bad in ("abc", None, True, [1]):
        with pytest.raises(ValueError, match="not a number"):
            files.number(bad)
