"""Pure subscriber records: CSV rows in, validated :class:`Subscriber` out.

The CSV has the columns ``email,name,tier,briefings,industries``; lists are
separated by ``;``. Every row is checked on its own, so one bad row is reported
by its line and the others still count. The ``status`` and ``unsubscribed`` columns
that an export writes are read back: an import never resubscribes someone who left.
A column left out, or an empty cell, keeps what a known subscriber has.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .model import Subscriber

COLUMNS = ("email", "name", "tier", "briefings", "industries")
EXPORTED = (*COLUMNS, "status", "unsubscribed")
"""What an export writes: the columns, the status and the briefings left."""
TIERS = ("free", "pro")
STATUSES = ("active", "unsubscribed", "bounced")
_ADDRESS = re.compile(
    r"^[^@\s\"<>(),;:\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """The good rows of a subscriber file, and one problem per bad row."""

    subscribers: tuple[Subscriber, ...]
    problems: tuple[str, ...]
    given: Mapping[str, frozenset[str]]
    """Per lowercased address, the fields its row gave (columns present, cells not empty)."""


def normal_address(text: str) -> str:
    """An address as stored: trimmed, its domain lowercased; ``ValueError`` if malformed."""
    address = text.strip()
    if not _ADDRESS.match(address) or len(address) > 254:
        raise ValueError(f"{address!r} is not an email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def subscriber(
    *,
    email: str,
    name: str = "",
    tier: str = "free",
    briefings: Iterable[str] = (),
    industries: Iterable[str] = (),
    status: str = "active",
    left: Iterable[str] = (),
    known_briefings: Sequence[str],
    known_industries: Sequence[str],
) -> Subscriber:
    """One validated subscriber; ``ValueError`` names the first thing wrong."""
    address = normal_address(email)
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not free or pro")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    chosen = tuple(dict.fromkeys(b.strip() for b in briefings if b.strip()))
    for briefing in chosen:
        if briefing not in known_briefings:
            raise ValueError(f"unknown briefing {briefing!r}")
    priorities = tuple(dict.fromkeys(i.strip() for i in industries if i.strip()))
    for industry in priorities:
        if industry not in known_industries:
            raise ValueError(f"unknown industry {industry!r}")
    for c in name:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp"):
            raise ValueError(f"the name has a control character (U+{ord(c):04X})")
    gone = tuple(dict.fromkeys(b.strip() for b in left if b.strip() in known_briefings))
    return Subscriber(
        email=address,
        name=name.strip(),
        tier=tier,
        briefings=chosen,
        industries=priorities,
        status=status,
        left=gone,
    )


def decode_csv(data: bytes) -> str:
    """A subscriber file's bytes as text: UTF-8 (with or without Excel's BOM), or UTF-16 with
    its BOM (Excel's "Unicode Text") or without one (other tools' exports: ASCII letters
    with a zero byte beside each). Bytes that are not UTF-8 are kept as lone surrogates,
    so :func:`parse_csv` refuses their lines alone. ``UnicodeDecodeError`` for bad UTF-16."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    head = data[:200]
    if len(head) >= 4 and head.count(0) * 3 >= len(head):  # no text file holds that many
        odd_zeros = head[1::2].count(0)
        return data.decode("utf-16-le" if odd_zeros >= head[0::2].count(0) else "utf-16-be")
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "surrogateescape")


_LINE_END = re.compile(r"\r\n|\r|\n")
_NOT_DECODED = re.compile("[\udc80-\udcff]")
DELIMITERS = (",", ";", "\t")
"""Cell separators, in the order tried on the header: Excel writes ';' where the decimal
mark is ',', and a tab in "Unicode Text"."""


def _cells(line: str, delimiter: str) -> list[str]:
    """One line's cells; ``csv.Error`` for a quote that is not closed on the line (no cell may
    span lines: addresses, names and ids hold no line break)."""
    return next(csv.reader([line], delimiter=delimiter, strict=True), [])


def parse_csv(
    text: str, filename: str, *, known_briefings: Sequence[str], known_industries: Sequence[str]
) -> Parsed:
    """Every row of a subscriber CSV; the header row is required.

    Each line is read on its own, so a stray quote or a line that is not UTF-8 costs only
    that line. The separator is the first of :data:`DELIMITERS` that puts ``email`` among
    the header's cells; column names ignore case and spaces. Rows with every cell empty are
    skipped, and an address given again (in any case) is refused with the line it repeats.
    """
    lines = _LINE_END.split(text)
    first = next((n for n, line in enumerate(lines) if line.strip()), 0)
    header: list[str] = []
    delimiter = ","
    for delimiter in DELIMITERS:
        try:
            header = [h.strip().lower() for h in _cells(lines[first], delimiter)]
        except csv.Error:
            header = []
        if "email" in header:
            break
    else:
        delimiter = ","
    missing = [c for c in ("email",) if c not in header]
    unknown = [h for h in header if h not in EXPORTED]
    if missing or unknown or _NOT_DECODED.search(lines[first]):
        wrong = (
            f"missing column {missing[0]!r}"
            if missing
            else f"unknown column {unknown[0]!r}"
            if unknown
            else "the header is not UTF-8 text"
        )
        return Parsed(
            subscribers=(),
            problems=(f"{filename}:{first + 1}: {wrong} (the columns are {','.join(COLUMNS)})",),
            given={},
        )
    found: dict[str, Subscriber] = {}
    lines_of: dict[str, int] = {}
    given: dict[str, frozenset[str]] = {}
    problems = []
    for number, text_line in enumerate(lines[first + 1 :], start=first + 2):
        try:
            undecoded = _NOT_DECODED.search(text_line)
            if undecoded:
                byte = ord(undecoded.group()) - 0xDC00
                raise ValueError(
                    f"not UTF-8 text (byte 0x{byte:02X}); save the file as UTF-8 "
                    '(Excel: "CSV UTF-8")'
                )
            try:
                cells = _cells(text_line, delimiter)
            except csv.Error:
                raise ValueError("a quote opened on this line is not closed") from None
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a spreadsheet's empty row
            if any(c.strip() for c in cells[len(header) :]):
                raise ValueError("more fields than columns")
            row = dict(zip(header, cells, strict=False))
            made = subscriber(
                email=row.get("email") or "",
                name=row.get("name") or "",
                tier=(row.get("tier") or "free").strip().lower(),
                briefings=(row.get("briefings") or "").split(";"),
                industries=(row.get("industries") or "").split(";"),
                status=(row.get("status") or "active").strip().lower(),
                left=(row.get("unsubscribed") or "").split(";"),
                known_briefings=known_briefings,
                known_industries=known_industries,
            )
            key = made.email.lower()
            if key in found:
                raise ValueError(f"{made.email} is already on line {lines_of[key]}")
        except ValueError as exc:
            problems.append(f"{filename}:{number}: {exc}")
            continue
        found[key], lines_of[key] = made, number
        given[key] = frozenset(
            field for field in EXPORTED if field != "email" and (row.get(field) or "").strip()
        )
    return Parsed(subscribers=tuple(found.values()), problems=tuple(problems), given=given)


def to_csv(subscribers: Iterable[Subscriber]) -> str:
    """Subscribers as a CSV that :func:`parse_csv` reads back."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORTED)
    for item in subscribers:
        writer.writerow(
            [
                item.email,
                item.name,
                item.tier,
                ";".join(item.briefings),
                ";".join(item.industries),
                item.status,
                ";".join(item.left),
            ]
        )
    return out.getvalue()
