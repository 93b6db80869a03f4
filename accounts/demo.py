"""What the demo data shares (for `make run` only, never a deployment): the password,
and dates written the way the branch's notices write them."""

from __future__ import annotations

from datetime import date

DEMO_PASSWORD = "branchline-demo"

_WEEKDAYS = "一二三四五六日"


def chinese_day(day: date) -> str:
    """E.g. 12月12日（周六）."""
    return f"{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）"
