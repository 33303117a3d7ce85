"""CloudWatch Logs filter patterns (metric filters, subscription filters), as AWS reads them.

Two kinds (AWS's "Filter pattern syntax for metric filters"):
- terms, for unstructured events: `ERROR` (contains ERROR), `ERROR Exception` (both),
  `?ERROR ?WARN` (either), `ERROR -DEBUG` (ERROR, not DEBUG), `"Internal Server Error"` (a quoted
  phrase), `%regex%`, and the empty pattern, which matches every event;
- JSON: `{ SELECTOR OP VALUE }` with `&&`, `||` and parentheses, selectors `$.a.b[0].c`,
  `=`/`!=` on strings (quoted or not, `*` a wildcard anywhere) and regexes (`%…%`), `= != < > <=
  >=` on numbers, `IS TRUE`, `IS FALSE`, `IS NULL`, `NOT EXISTS`. An event that is not a JSON
  object matches no JSON pattern.

Not here: space-delimited patterns (`[ip, user, ...]`) — `parse` rejects them by name.
No kept library does this (PyPI holds none that parses the JSON grammar), so a small
recursive-descent parser does; `parse` raises FilterPatternError naming the pattern.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Matcher = Callable[[str], bool]
MISSING = object()


class FilterPatternError(ValueError):
    """A filter pattern that does not parse (the message names it and what is wrong)."""


@dataclass(frozen=True)
class FilterPattern:
    """A parsed pattern: `matches(message)`; `value(message, "$.x")` for metric values."""

    text: str
    is_json: bool
    _match: Matcher

    def matches(self, message: str) -> bool:
        return self._match(message)

    @staticmethod
    def value(message: str, selector: str) -> Any:
        """The value `selector` (`$.a.b`) selects in the JSON event (None if none)."""
        document = _json(message)
        if document is MISSING:
            return None
        found = _select(document, _selector_path(selector, selector))
        return None if found is MISSING else found


def parse(pattern: str) -> FilterPattern:
    text = pattern.strip()
    if text.startswith("{"):
        return FilterPattern(pattern, True, _JsonParser(pattern).parse())
    if text.startswith("["):
        raise FilterPatternError(
            f"filter pattern {pattern!r}: space-delimited patterns ([a, b, ...]) are not "
            "supported by the embedded AWS; use terms or a JSON pattern ({ $.x = ... })"
        )
    return FilterPattern(pattern, False, _terms(pattern))


# ---------------------------------------------------------------- terms


_TERM = re.compile(r'\s*([?-]?)("(?:[^"\\]|\\.)*"|%[^%]*%|[^\s]+)')


def _terms(pattern: str) -> Matcher:
    required: list[Matcher] = []
    optional: list[Matcher] = []
    excluded: list[Matcher] = []
    position = 0
    while position < len(pattern.rstrip()):
        found = _TERM.match(pattern, position)
        if found is None:
            raise FilterPatternError(f"filter pattern {pattern!r}: cannot read it at {position}")
        prefix, term = found.groups()
        position = found.end()
        matcher = _term(pattern, term)
        {"": required, "?": optional, "-": excluded}[prefix].append(matcher)

    def match(message: str) -> bool:
        if any(m(message) for m in excluded):
            return False
        if optional and not any(m(message) for m in optional):
            return False
        return all(m(message) for m in required)

    return match


def _term(pattern: str, term: str) -> Matcher:
    if term.startswith('"'):
        if len(term) < 2 or not term.endswith('"'):
            raise FilterPatternError(f"filter pattern {pattern!r}: unterminated quote in {term}")
        phrase = json.loads(term)
        return lambda message: phrase in message
    if term.startswith("%") and term.endswith("%") and len(term) > 1:
        regex = _regex(pattern, term[1:-1])
        return lambda message: regex.search(message) is not None
    return lambda message: term in message


def _regex(pattern: str, body: str) -> re.Pattern[str]:
    try:
        return re.compile(body)
    except re.error as exc:
        raise FilterPatternError(f"filter pattern {pattern!r}: bad regex %{body}%: {exc}") from exc


# ---------------------------------------------------------------- JSON

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<and>&&) | (?P<or>\|\|) | (?P<lp>\() | (?P<rp>\)) | (?P<lb>\{) | (?P<rb>\})
    | (?P<op>!=|<=|>=|=|<|>)
    | (?P<selector>\$(?:\.[A-Za-z0-9_@\-]+|\[\d+\]|\.\*)*)
    | (?P<string>"(?:[^"\\]|\\.)*")
    | (?P<regex>%[^%]*%)
    | (?P<word>[^\s()&|{}=!<>"]+)
    )""",
    re.VERBOSE,
)


class _JsonParser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.tokens: list[tuple[str, str]] = []
        position = 0
        text = pattern.rstrip()
        while position < len(text):
            found = _TOKEN.match(text, position)
            if found is None or found.end() == position:
                self._fail(
                    f"unexpected character at {position}: {text[position : position + 10]!r}"
                )
            kind = found.lastgroup or ""
            self.tokens.append((kind, found.group(kind)))
            position = found.end()
        self.at = 0

    def _fail(self, what: str) -> None:
        raise FilterPatternError(f"filter pattern {self.pattern!r}: {what}")

    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def _take(self, kind: str) -> str:
        got, value = self._peek()
        if got != kind:
            self._fail(f"expected {kind}, found {value or 'the end'}")
        self.at += 1
        return value

    def parse(self) -> Matcher:
        self._take("lb")
        condition = self._or()
        self._take("rb")
        if self._peek()[0] != "end":
            self._fail(f"unexpected {self._peek()[1]!r} after the closing brace")

        def match(message: str) -> bool:
            document = _json(message)
            return document is not MISSING and isinstance(document, dict) and condition(document)

        return match

    def _or(self) -> Callable[[Any], bool]:
        parts = [self._and()]
        while self._peek()[0] == "or":
            self.at += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda d: any(p(d) for p in parts)

    def _and(self) -> Callable[[Any], bool]:
        parts = [self._primary()]
        while self._peek()[0] == "and":
            self.at += 1
            parts.append(self._primary())
        return parts[0] if len(parts) == 1 else lambda d: all(p(d) for p in parts)

    def _primary(self) -> Callable[[Any], bool]:
        if self._peek()[0] == "lp":
            self.at += 1
            inner = self._or()
            self._take("rp")
            return inner
        selector = self._take("selector")
        path = _selector_path(selector, self.pattern)
        kind, value = self._peek()
        if kind == "word" and value.upper() in ("IS", "NOT"):
            return self._keyword(path)
        operator = self._take("op")
        kind, value = self._peek()
        if kind not in ("string", "regex", "word"):
            self._fail(f"expected a value after {selector} {operator}")
        self.at += 1
        return _comparison(self.pattern, path, operator, kind, value)

    def _keyword(self, path: list[str | int]) -> Callable[[Any], bool]:
        first = self._take("word").upper()
        second = self._take("word").upper()
        if first == "NOT" and second == "EXISTS":
            return lambda d: _select(d, path) is MISSING
        if first == "IS" and second in ("TRUE", "FALSE", "NULL"):
            wanted = {"TRUE": True, "FALSE": False, "NULL": None}[second]
            return lambda d: (found := _select(d, path)) is not MISSING and found is wanted
        self._fail(f"expected IS TRUE, IS FALSE, IS NULL or NOT EXISTS, found {first} {second}")
        raise AssertionError  # _fail raised


def _comparison(
    pattern: str, path: list[str | int], operator: str, kind: str, raw: str
) -> Callable[[Any], bool]:
    number = _number(raw) if kind == "word" else None
    if number is not None:
        compare = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            ">": lambda a, b: a > b,
            "<=": lambda a, b: a <= b,
            ">=": lambda a, b: a >= b,
        }[operator]

        def numeric(document: Any) -> bool:
            found = _select(document, path)
            if isinstance(found, bool) or not isinstance(found, int | float):
                found = _number(found) if isinstance(found, str) else None
            return found is not None and compare(found, number)

        return numeric
    if operator not in ("=", "!="):
        raise FilterPatternError(
            f"filter pattern {pattern!r}: {operator} compares numbers only, not {raw}"
        )
    if kind == "regex":
        regex = _regex(pattern, raw[1:-1])
        test: Callable[[str], bool] = lambda s: regex.search(s) is not None  # noqa: E731
    else:
        text = json.loads(raw) if kind == "string" else raw
        wildcard = re.compile(
            "".join(".*" if part == "*" else re.escape(part) for part in re.split(r"(\*)", text)),
            re.DOTALL,
        )
        test = lambda s: wildcard.fullmatch(s) is not None  # noqa: E731
    negate = operator == "!="

    def textual(document: Any) -> bool:
        found = _select(document, path)
        if found is MISSING:
            return False  # a missing field matches neither = nor != (AWS: NOT EXISTS for that)
        if isinstance(found, dict | list):
            return False
        value = json.dumps(found) if isinstance(found, bool) or found is None else str(found)
        return test(value) != negate

    return textual


def _number(raw: str) -> float | None:
    try:
        return float(raw)
    except ValueError:
        return None


def _selector_path(selector: str, pattern: str) -> list[str | int]:
    if not selector.startswith("$"):
        raise FilterPatternError(f"filter pattern {pattern!r}: selector {selector} must start $.")
    path: list[str | int] = []
    for name, index in re.findall(r"\.([^.\[]+)|\[(\d+)\]", selector[1:]):
        path.append(int(index) if index else name)
    return path


def _select(document: Any, path: list[str | int]) -> Any:
    for step in path:
        if isinstance(step, int):
            if not isinstance(document, list) or step >= len(document):
                return MISSING
            document = document[step]
        elif isinstance(document, dict) and step in document:
            document = document[step]
        else:
            return MISSING
    return document


def _json(message: str) -> Any:
    try:
        return json.loads(message)
    except ValueError:
        return MISSING
