"""EventBridge schedule expressions: when a rule with a ScheduleExpression runs next.

    rate(value unit)   unit minute|minutes|hour|hours|day|days, singular only for a value of 1;
                       the first run is one period after the rule was created or enabled
    cron(min hour day-of-month month day-of-week year)
                       AWS's six fields, in UTC: `?` in one of the two day fields, `L` (last
                       day of the month; `5L` the month's last Thursday), `W` (`15W` the
                       weekday nearest the 15th), `#` (`6#3` the third Friday), names JAN-DEC
                       and SUN-SAT, and a day-of-week of 1-7 for SUN-SAT

Cron expressions are computed by croniter, whose day of week counts 0-6 from Sunday and whose
seven-field form is `min hour dom month dow second year`; `cron_to_croniter` converts AWS's form
to it. What croniter cannot express (`LW`, years past 2099, ...) is a ScheduleError naming the
expression and what is wrong.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from croniter import croniter
from croniter.croniter import CroniterError

RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # AWS's 1-7, croniter's 0-6

_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+)\s*\)")
_CRON = re.compile(r"cron\((.*)\)", re.DOTALL)


class ScheduleError(ValueError):
    """A ScheduleExpression this runtime cannot schedule (the message says why)."""


@dataclass(frozen=True)
class Schedule:
    expression: str
    period_s: float | None = None  # rate(...)
    cron: str | None = None  # croniter's form of cron(...)

    def next_after(self, after: float, anchor: float) -> float | None:
        """The first run strictly after `after` (epoch seconds), None if there is none (a cron
        whose years are over); a rate counts its periods from `anchor`, when the rule was
        created or enabled."""
        if self.period_s is not None:
            periods = max(0, math.floor((after - anchor) / self.period_s)) + 1
            return anchor + periods * self.period_s
        try:
            return croniter(self.cron, datetime.fromtimestamp(after, UTC)).get_next(float)
        except CroniterError:  # no matching time left within croniter's range
            return None


def parse(expression: str) -> Schedule:
    """A Schedule for `rate(...)` or `cron(...)`; ScheduleError if it is neither or invalid."""
    text = (expression or "").strip()
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        singular = unit.removesuffix("s")
        if singular not in RATE_UNITS:
            raise ScheduleError(
                f"{expression!r}: unit {unit!r} is not one of minute(s), hour(s), day(s)"
            )
        if value < 1:
            raise ScheduleError(f"{expression!r}: the value must be a positive number")
        if (value == 1) != (unit == singular):
            want = singular if value == 1 else singular + "s"
            raise ScheduleError(
                f"{expression!r}: a value of {value} takes the unit {want!r} "
                "(rate(1 hour), rate(5 hours))"
            )
        return Schedule(text, period_s=value * RATE_UNITS[singular])
    cron = _CRON.fullmatch(text)
    if cron:
        converted = cron_to_croniter(cron.group(1), expression)
        try:
            croniter.expand(converted)
        except CroniterError as exc:
            raise ScheduleError(f"{expression!r}: croniter cannot schedule it: {exc}") from None
        return Schedule(text, cron=converted)
    raise ScheduleError(
        f"{expression!r} is neither rate(value unit) nor cron(minutes hours day-of-month month "
        "day-of-week year)"
    )


def cron_to_croniter(fields_text: str, expression: str) -> str:
    """AWS's `min hour dom month dow year` as croniter's `min hour dom month dow 0 year`."""
    fields = fields_text.split()
    if len(fields) != 6:
        raise ScheduleError(
            f"{expression!r}: a cron expression has six fields (minutes hours day-of-month "
            f"month day-of-week year), not {len(fields)}"
        )
    minute, hour, dom, month, dow, year = (f.lower() for f in fields)
    if (dom == "?") == (dow == "?"):
        raise ScheduleError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be ? "
            "(cron(0 10 * * ? *), cron(0 18 ? * MON-FRI *))"
        )
    dom, dow = _day_of_month(dom, expression), _day_of_week(dow, expression)
    return f"{minute} {hour} {dom} {month} {dow} 0 {year}"


def _day_of_month(field: str, expression: str) -> str:
    if field == "?":
        return "*"
    if "lw" in field:
        raise ScheduleError(f"{expression!r}: LW (the month's last weekday) is not supported")
    return field  # croniter reads L and 15W (lowercased) as AWS does


def _day_of_week(field: str, expression: str) -> str:
    if field == "?":
        return "*"
    return ",".join(_dow_item(item, expression) for item in field.split(","))


def _dow_item(item: str, expression: str) -> str:
    if item == "*":
        return item
    if item == "l":  # the last day of the week
        return "6"
    last = re.fullmatch(r"(\w+)l", item)
    if last:  # 6L: the month's last Friday; croniter writes it l5
        return f"l{_day(last.group(1), expression)}"
    if "#" in item:
        day, _, nth = item.partition("#")
        return f"{_day(day, expression)}#{nth}"
    base, slash, step = item.partition("/")
    if base != "*":
        base = "-".join(_day(part, expression) for part in base.split("-"))
    return base + slash + step


def _day(token: str, expression: str) -> str:
    if token in DAYS:
        return token
    if token.isdigit() and 1 <= int(token) <= 7:
        return str(int(token) - 1)
    raise ScheduleError(
        f"{expression!r}: day of week {token!r} is not 1-7 (SUN-SAT) or a day's name"
    )
