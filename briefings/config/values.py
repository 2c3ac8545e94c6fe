"""Checks of single values that several tables share: ids, durations, URLs, choices among
names and IANA time zones.
"""

from __future__ import annotations

import difflib
import re
from datetime import timedelta
from urllib.parse import urlsplit

from .checker import _Checker, _hint

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LONGEST = timedelta(days=3650)
"""The longest duration accepted: dates a window back or forward stay representable."""


def parse_duration(text: str) -> timedelta:
    """``'1d12h'`` → ``timedelta(days=1, hours=12)``; ``ValueError`` if malformed or zero."""
    compact = text.replace(" ", "")
    if not compact or _DURATION.sub("", compact):
        raise ValueError(f"bad duration {text!r} (use e.g. '90m', '24h', '7d', '1d12h')")
    parts = {"seconds": 0, "minutes": 0, "hours": 0, "days": 0, "weeks": 0}
    for number, unit in _DURATION.findall(compact):
        parts[_UNITS[unit]] += int(number)
    try:
        span = timedelta(**parts)
    except OverflowError:
        span = _LONGEST + _LONGEST
    if span <= timedelta(0):
        raise ValueError(f"duration {text!r} must be longer than zero")
    if span > _LONGEST:
        raise ValueError(f"duration {text!r} is too long (at most 10 years, '3650d')")
    return span


def _has_space(checker: _Checker, url: str, where: str) -> bool:
    """Whether ``url`` holds whitespace, which no URL may (a space is ``%20``); reported."""
    if any(c.isspace() for c in url):
        checker.add(where, f"bad URL {url!r}: whitespace inside (write a space as %20)")
        return True
    return False


def _base_url(checker: _Checker, url: str, where: str) -> str:
    return _absolute_url(checker, url, where).rstrip("/")


def _absolute_url(checker: _Checker, url: str, where: str, *, mail: bool = False) -> str:
    """``url`` without the blanks around it, if it is absolute (http(s), or ``mailto:`` where
    ``mail`` allows it); else "" and a problem reported."""
    url = url.strip()
    if _has_space(checker, url, where):
        return ""
    schemes = ("https://", "http://", "mailto:") if mail else ("https://", "http://")
    if url and not url.lower().startswith(schemes):
        also = ", or mailto:" if mail else ""
        checker.add(where, f"must start with https:// (or http://{also}), not {url!r}")
        return ""
    if url.lower().startswith("mailto:"):
        if not url[len("mailto:") :].split("?", 1)[0]:
            checker.add(where, f"no address in {url!r} (e.g. 'mailto:members@example.org')")
            return ""
    elif url and not urlsplit(url).netloc:
        checker.add(where, f"no host in {url!r} (e.g. 'https://briefings.example.org')")
        return ""
    return url


def _choice(checker: _Checker, value: str, choices: tuple[str, ...], where: str) -> str:
    if value in choices:
        return value
    checker.add(
        where, f"unknown value {value!r}{_hint(value, choices)}; use one of {', '.join(choices)}"
    )
    return choices[0]


def _unknown_zone(zone: str, example: str) -> str:
    """The problem with an unknown time zone: the IANA zone it resembles, case and spaces
    aside, or else an example."""
    import zoneinfo

    names = {name.lower(): name for name in zoneinfo.available_timezones()}
    wanted = zone.strip().lower()
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.8)
    if close:
        return f"unknown time zone {zone!r} (did you mean {names[close[0]]!r}?)"
    return f"unknown time zone {zone!r} (use an IANA name such as {example!r})"
