"""Traffic: the shift's --steps and --interval, read as the CLI takes them."""

from __future__ import annotations

import pytest

from operators.errors import ConfigError
from operators.traffic import parse_interval, parse_steps


def test_shift_steps_and_interval_parse_or_say_what_they_expect():
    assert parse_steps("10,50,100") == [10.0, 50.0, 100.0]
    assert [parse_interval(t) for t in ("90s", "5m", "60", "1.5m")] == [90.0, 300.0, 60.0, 90.0]
    with pytest.raises(ConfigError, match=r"comma-separated numbers, e\.g\. 10,50,100"):
        parse_steps("10,,100")
    with pytest.raises(ConfigError, match=r"e\.g\. 60s or 5m"):
        parse_interval("1h")
