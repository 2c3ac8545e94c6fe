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


def parse_csv(
    text: str, filename: str, *, known_briefings: Sequence[str], known_industries: Sequence[str]
) -> Parsed:
    """Every row of a subscriber CSV; the header row is required."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in ("email",) if c not in header]
    unknown = [h for h in header if h not in EXPORTED]
    if missing or unknown:
        wrong = f"missing column {missing[0]!r}" if missing else f"unknown column {unknown[0]!r}"
        return Parsed(
            subscribers=(),
            problems=(f"{filename}:1: {wrong} (the columns are {','.join(COLUMNS)})",),
            given={},
        )
    reader.fieldnames = header
    found: dict[str, Subscriber] = {}
    given: dict[str, frozenset[str]] = {}
    problems = []
    for row in reader:
        line = reader.line_num
        try:
            if None in row:
                raise ValueError("more fields than columns")
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
        except ValueError as exc:
            problems.append(f"{filename}:{line}: {exc}")
            continue
        found[made.email.lower()] = made  # a repeated address: the last row wins
        given[made.email.lower()] = frozenset(
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
