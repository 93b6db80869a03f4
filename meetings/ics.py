"""iCalendar (RFC 5545) text, as much of it as a calendar of meetings needs.

A calendar is a list of properties and a list of events, each event a list of
properties; a property is (name, value) with the value already in its type's form:
`text()` for TEXT values, `utc()` for DATE-TIME, URIs and numbers as they are. Lines
end in CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

LINE_OCTETS = 75


def text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and line breaks escaped (3.3.11)."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")


def utc(moment: datetime) -> str:
    """A DATE-TIME in UTC ("20261212T010000Z"): every calendar shows it on its own clock."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """A content line split into lines of at most 75 octets, each continuation starting
    with a space (3.1)."""
    raw = line.encode("utf-8")
    if len(raw) <= LINE_OCTETS:
        return line
    parts, start, limit = [], 0, LINE_OCTETS
    while start < len(raw):
        end = min(start + limit, len(raw))
        while end < len(raw) and (raw[end] & 0xC0) == 0x80:  # not inside a character
            end -= 1
        parts.append(raw[start:end].decode("utf-8"))
        start, limit = end, LINE_OCTETS - 1  # the leading space counts
    return "\r\n ".join(parts)


def calendar(properties: Iterable[tuple[str, str]], events: Iterable[Iterable[tuple[str, str]]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0"]
    lines += [f"{name}:{value}" for name, value in properties]
    for event in events:
        lines.append("BEGIN:VEVENT")
        lines += [f"{name}:{value}" for name, value in event]
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
