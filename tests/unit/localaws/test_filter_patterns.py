"""Filter patterns: the cases AWS's "Filter pattern syntax for metric filters" gives."""

import json

import pytest

from localaws.runtime.filter_patterns import FilterPattern, FilterPatternError, parse

EVENT = json.dumps(
    {
        "eventType": "UpdateTrail",
        "sourceIPAddress": "123.123.123.123",
        "arrayKey": ["value", "another value"],
        "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
        "SomeObject": None,
        "cos": 7,
        "ThisFlag": True,
        "userIdentity": {"sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::1:role/ops"}}},
    }
)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ('{ $.eventType = "UpdateTrail" }', True),
        ("{ $.eventType = UpdateTrail }", True),
        ('{ $.eventType != "UpdateTrail" }', False),
        ("{ $.sourceIPAddress = 123.123.* }", True),
        ("{ $.sourceIPAddress != 123.123.* }", False),
        ('{ $.arrayKey[0] = "value" }', True),
        ("{ $.objectList[1].id = 2 }", True),
        ("{ $.cos > 5 }", True),
        ("{ $.cos <= 6 }", False),
        ("{ $.cos = 7.0 }", True),
        ("{ $.ThisFlag IS TRUE }", True),
        ("{ $.ThisFlag IS FALSE }", False),
        ("{ $.SomeObject IS NULL }", True),
        ("{ $.cos IS NULL }", False),
        ("{ $.SomeOtherObject NOT EXISTS }", True),
        ("{ $.cos NOT EXISTS }", False),
        ('{ $.missing = "x" }', False),
        ('{ $.missing != "x" }', False),
        ('{ ($.eventType = "UpdateTrail") && ($.cos > 10) }', False),
        ('{ ($.eventType = "UpdateTrail") || ($.cos > 10) }', True),
        ('{ ($.cos = 7 && $.eventType = "X") || $.ThisFlag IS TRUE }', True),
        ("{ $.eventType = %Update.*% }", True),
        (
            '{ ($.eventType = "UpdateTrail") && '
            '($.userIdentity.sessionContext.sessionIssuer.arn != "arn:aws:iam::1:role/ops") }',
            False,
        ),
    ],
)
def test_json_patterns(pattern: str, expected: bool) -> None:
    assert parse(pattern).matches(EVENT) is expected


def test_a_json_pattern_matches_no_unstructured_event() -> None:
    assert parse('{ $.a = "b" }').matches("a = b") is False


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ("ERROR", "[ERROR] disk full", True),
        ("ERROR", "[error] disk full", False),  # case-sensitive
        ("ERROR Exception", "ERROR no exception", False),
        ("ERROR Exception", "ERROR: Exception raised", True),
        ("?ERROR ?WARN", "WARN low disk", True),
        ("?ERROR ?WARN", "INFO fine", False),
        ("ERROR -DEBUG", "ERROR at DEBUG level", False),
        ("ERROR -DEBUG", "ERROR at INFO level", True),
        ('"Internal Server Error"', "500 Internal Server Error", True),
        ('"Internal Server Error"', "Internal Error", False),
        ("%ERR[0-9]+%", "code ERR42", True),
    ],
)
def test_term_patterns(pattern: str, message: str, expected: bool) -> None:
    assert parse(pattern).matches(message) is expected


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ('{ $.a = "b" ', "expected rb"),
        ("{ $.a > x }", "compares numbers only"),
        ("{ $.a IS MAYBE }", "IS TRUE, IS FALSE"),
        ("{ $.a = 1 } extra", "after the closing brace"),
        ("[ip, user]", "space-delimited"),
        ('"open', "cannot read|unterminated"),
    ],
)
def test_bad_patterns_name_the_pattern(pattern: str, says: str) -> None:
    with pytest.raises(FilterPatternError, match=says) as caught:
        parse(pattern)
    assert repr(pattern) in str(caught.value)


def test_value_selects_a_number() -> None:
    assert FilterPattern.value(EVENT, "$.cos") == 7
    assert FilterPattern.value(EVENT, "$.nothing") is None
    assert FilterPattern.value("not json", "$.cos") is None
