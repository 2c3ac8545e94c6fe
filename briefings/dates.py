"""Feed dates as the region's outlets write them, read for feedparser.

feedparser reads RFC 822 and ISO 8601 dates, but reads a zone name it does not know
("IDT", "TRT", "MSK") as UTC, and gives up on Turkish, Azerbaijani or Russian month
names ("Cmt, 21 Kas 2026") and on "GMT+3". :func:`parse` reads those spellings;
:func:`register` puts it ahead of feedparser's own readers, which still read every
date it leaves alone.
"""

from __future__ import annotations

import calendar
import email.utils
import re
import time

import feedparser

# Zone names of the region that feedparser does not know. "IST" and "AMT" name other
# zones elsewhere (India, Ireland; the Amazon); feeds from this region mean Israel and
# Armenia by them.
_ZONES = {
    "idt": "+0300",
    "ist": "+0200",
    "trt": "+0300",
    "msk": "+0300",
    "eet": "+0200",
    "eest": "+0300",
    "cet": "+0100",
    "cest": "+0200",
    "amt": "+0400",
    "get": "+0400",
    "azt": "+0400",
    "irst": "+0330",
    "irdt": "+0430",
}
# Month names and their usual short forms, folded (lowercase, Turkish İ as i), in
# Turkish, Azerbaijani and Russian (nominative and genitive); English ones are read as they are.
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            "ocak oca yanvar yan январь января янв",
            "şubat şub fevral fev февраль февраля фев",
            "mart март марта",
            "nisan nis aprel апрель апреля апр",
            "mayıs may май мая",
            "haziran haz iyun июнь июня июн",
            "temmuz tem iyul июль июля июл",
            "ağustos ağu avqust avq август августа авг",
            "eylül eyl sentyabr сентябрь сентября сен сент",
            "ekim eki oktyabr okt октябрь октября окт",
            "kasım kas noyabr noy ноябрь ноября ноя",
            "aralık ara dekabr dek декабрь декабря дек",
        ),
        start=1,
    )
    for name in names.split()
}
_ENGLISH = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# The names English does not share ("May" is feedparser's), as lower() leaves them in any
# case: "KASIM".lower() is "kasim", not "kasım".
_FOREIGN = {
    name.replace("ı", "i"): number
    for name, number in _MONTHS.items()
    if name != _ENGLISH[number - 1]
}
_WEEKDAY = re.compile(r"^\s*[^\W\d_]+\.?\s*,\s*")  # "Cmt, ", "Сб, ", "Sat, "
_OFFSET = re.compile(r"\b(?:GMT|UTC)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*$", re.IGNORECASE)
_ZONE_NAME = re.compile(r"\b([A-Za-z]{3,4})\s*$")


def parse(value: str) -> time.struct_time | None:
    """``value`` as a UTC time when it is a date in one of the spellings this module
    reads, else None (feedparser's own readers then try it)."""
    words = _WEEKDAY.sub("", value.strip(), count=1).split()
    known = False
    for index, word in enumerate(words):
        if word[:1].isdigit():
            continue  # days, years, times: most of a date
        number = _FOREIGN.get(word.rstrip(".,").replace("İ", "i").lower().replace("ı", "i"))
        if number is not None:
            words[index] = _ENGLISH[number - 1].title()
            known = True
    text = " ".join(words)
    offset = _OFFSET.search(text) if text[-1:].isdigit() else None  # "… GMT+3"
    if offset:
        sign, hours, minutes = offset.groups()
        text = f"{text[: offset.start()]}{sign}{int(hours):02d}{minutes or '00'}"
        known = True
    elif text[-1:].isalpha():
        zone = _ZONE_NAME.search(text)
        if zone and zone.group(1).lower() in _ZONES:
            text = f"{text[: zone.start()]}{_ZONES[zone.group(1).lower()]}"
            known = True
    if not known:
        return None
    try:
        parts = email.utils.parsedate_tz(text)
    except (ValueError, IndexError, OverflowError):
        return None
    if parts is None or not 1 <= parts[0] <= 9999:
        return None
    try:
        stamp = calendar.timegm((*parts[:6], 0, 1, 0)) - (parts[9] or 0)
        return time.gmtime(stamp)
    except (OverflowError, ValueError, OSError):
        return None


_registered = False


def register() -> None:
    """Have feedparser try :func:`parse` before its own date readers (once a process)."""
    global _registered
    if not _registered:
        feedparser.registerDateHandler(parse)
        _registered = True
