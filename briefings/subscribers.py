"""Pure subscriber records: CSV rows in, validated :class:`Subscriber` out.

The CSV has the columns ``email,name,tier,briefings,industries``; lists are
separated by ``;`` (or ``,`` or ``|``), and name briefings and industries by id or title.
Every row is checked on its own, so one bad row is reported by its line and the others
still count. The ``status`` and ``unsubscribed`` columns that an export writes are read
back: an import never resubscribes someone who left. A column left out, or an empty
cell, keeps what a known subscriber has. Other columns (a mailing service's export) are
ignored, and listed in :attr:`Parsed.ignored`.
"""

from __future__ import annotations

import csv
import difflib
import email.utils
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

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
    ignored: tuple[str, ...] = ()
    """Header cells that name no column read (``Phone Number``), as the file writes them."""
    lines: Mapping[str, int] = field(default_factory=dict)
    """Per lowercased address, the line of its row."""


Known = Sequence[str] | Mapping[str, str]
"""Known ids, or ids with their titles (which a file may write instead of the id)."""
ALIASES = {
    "email address": "email",
    "e-mail": "email",
    "e-mail address": "email",
    "email_address": "email",
    "full name": "name",
    "first name": "first name",
    "last name": "last name",
}
"""Header cells that mailing services and spreadsheets write for our columns (Mailchimp:
``Email Address``, ``First Name``, ``Last Name``)."""
_LIST = re.compile(r"[;,|]")


def normal_address(text: str) -> str:
    """An address as stored: trimmed, its domain lowercased, and an internationalised domain
    (``bücher.de``) in its ASCII form (``xn--bcher-kva.de``), which every mail server
    takes; ``ValueError`` if malformed."""
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if at and domain and not domain.isascii():
        try:
            domain = domain.lower().encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"{address!r} is not an email address") from None
        address = f"{local}@{domain}"
    if not _ADDRESS.match(address) or len(address) > 254:
        raise ValueError(f"{text.strip()!r} is not an email address")
    return f"{local}@{domain.lower()}"


def split_address(text: str) -> tuple[str, str]:
    """``("Dana Levi", "dana@example.org")`` from ``Dana Levi <dana@example.org>``, as
    address books and mail clients copy an address; ``("", text)`` for a bare address."""
    if "<" not in text:
        return "", text
    name, address = email.utils.parseaddr(text.strip())
    return (name.strip(), address) if address else ("", text)


def mailbox(text: str) -> tuple[str, str]:
    """The name and the address as stored (:func:`normal_address`) of ``Dana Levi
    <dana@example.org>`` or of a bare address; ``ValueError`` names ``text`` if the
    address is malformed."""
    name, address = split_address(text)
    try:
        return name, normal_address(address)
    except ValueError:
        raise ValueError(f"{text.strip()!r} is not an email address") from None


def resolve(items: Iterable[str], known: Known, kind: str) -> tuple[str, ...]:
    """The ids of ``items``, each written as an id or a title in any case, with ``&`` or
    ``and`` (``Oil & Gas``, ``oil and gas``, ``OIL-GAS`` are ``oil-gas``); ``ValueError``
    names the first unknown one and the closest known id."""
    titles = dict(known) if isinstance(known, Mapping) else {k: k for k in known}
    names = {_folded(k): k for k in titles} | {_folded(t): k for k, t in titles.items()}
    out = []
    for item in items:
        if not item.strip():
            continue
        found = names.get(_folded(item))
        if found is None:
            close = difflib.get_close_matches(_folded(item), list(names), n=1, cutoff=0.75)
            hint = f" (did you mean {names[close[0]]!r}?)" if close else ""
            raise ValueError(f"unknown {kind} {item.strip()!r}{hint}")
        out.append(found)
    return tuple(dict.fromkeys(out))


def _folded(text: str) -> str:
    """A name as compared: case, accents, ``&``/``and`` and punctuation aside."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in plain if not unicodedata.combining(c)).replace("&", " and ")
    return "-".join(re.findall(r"[^\W_]+", plain))


def subscriber(
    *,
    email: str,
    name: str = "",
    tier: str = "free",
    briefings: Iterable[str] = (),
    industries: Iterable[str] = (),
    status: str = "active",
    left: Iterable[str] = (),
    known_briefings: Known,
    known_industries: Known,
) -> Subscriber:
    """One validated subscriber; ``ValueError`` names the first thing wrong. Briefings and
    industries may be written by id or title (:func:`resolve`)."""
    address = normal_address(email)
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} is not free or pro")
    if status not in STATUSES:
        raise ValueError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    chosen = resolve(briefings, known_briefings, "briefing")
    priorities = resolve(industries, known_industries, "industry")
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


def added_to(before: Subscriber | None, made: Subscriber) -> Subscriber:
    """``made`` with the briefings and industries ``before`` already has kept, in front:
    what ``subscribers add`` saves, which adds to a reader's lists rather than replacing
    them."""
    if before is None:
        return made
    return replace(
        made,
        briefings=tuple(dict.fromkeys((*before.briefings, *made.briefings))),
        industries=tuple(dict.fromkeys((*before.industries, *made.industries))),
    )


def taken_off(
    before: Subscriber, *, briefings: Iterable[str], industries: Iterable[str]
) -> Subscriber:
    """``before`` without these briefings and industries (ids): an editor's change, not an
    unsubscription, so an import may put them back."""
    off, dropped = set(briefings), set(industries)
    return replace(
        before,
        briefings=tuple(b for b in before.briefings if b not in off),
        industries=tuple(i for i in before.industries if i not in dropped),
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
    text: str, filename: str, *, known_briefings: Known, known_industries: Known
) -> Parsed:
    """Every row of a subscriber CSV; the header row is required.

    Each line is read on its own, so a stray quote or a line that is not UTF-8 costs only
    that line. The separator is the first of :data:`DELIMITERS` that puts ``email`` among
    the header's cells; column names ignore case and spaces, and :data:`ALIASES` stand for
    ours (``First Name`` and ``Last Name`` make the name). Other columns are ignored, unless
    one looks like a misspelt column of ours (``industires``): that refuses the file, as
    its data would be lost. Rows with every cell empty are skipped, and an address given
    again (in any case) is refused with the line it repeats.
    """
    lines = _LINE_END.split(text)
    first = next((n for n, line in enumerate(lines) if line.strip()), 0)
    written: list[str] = []
    header: list[str] = []
    delimiter = ","
    for delimiter in DELIMITERS:
        try:
            written = _cells(lines[first], delimiter)
        except csv.Error:
            written = []
        header = [_column(h) for h in written]
        if "email" in header:
            break
    else:
        delimiter = ","
    ours = (*EXPORTED, "first name", "last name")
    missing = [c for c in ("email",) if c not in header]
    unknown = [h for h in header if h not in ours]
    misspelt = [
        (h, close[0])
        for h in unknown
        for close in [difflib.get_close_matches(h, EXPORTED, n=1, cutoff=0.8)]
        if close
    ]
    if missing or misspelt or _NOT_DECODED.search(lines[first]):
        wrong = (
            f"missing column {missing[0]!r}"
            if missing
            else f"unknown column {misspelt[0][0]!r} (did you mean {misspelt[0][1]!r}?)"
            if misspelt
            else "the header is not UTF-8 text"
        )
        return Parsed(
            subscribers=(),
            problems=(
                f"{filename}:{first + 1}: {wrong}; no row was read "
                f"(the columns are {','.join(COLUMNS)})",
            ),
            given={},
        )
    ignored = tuple(w.strip() for w, h in zip(written, header, strict=True) if h not in ours)
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
                raise ValueError(
                    f"{len(cells)} cells, but the header has {len(header)} "
                    f"(quote a cell that holds {delimiter!r})"
                )
            row = dict(zip(header, cells, strict=False))
            if "name" not in row and ("first name" in row or "last name" in row):
                parts = (row.get("first name") or "", row.get("last name") or "")
                row["name"] = " ".join(p.strip() for p in parts if p.strip())
            display, address = split_address(row.get("email") or "")
            if display and not (row.get("name") or "").strip():
                row["name"] = display
            made = subscriber(
                email=address,
                name=row.get("name") or "",
                tier=(row.get("tier") or "free").strip().lower(),
                briefings=_LIST.split(row.get("briefings") or ""),
                industries=_LIST.split(row.get("industries") or ""),
                status=(row.get("status") or "active").strip().lower(),
                left=_LIST.split(row.get("unsubscribed") or ""),
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
    return Parsed(
        subscribers=tuple(found.values()),
        problems=tuple(problems),
        given=given,
        ignored=ignored,
        lines=lines_of,
    )


def _column(cell: str) -> str:
    """A header cell as a column name: case and runs of spaces aside, aliases resolved."""
    name = " ".join(cell.split()).lower()
    return ALIASES.get(name, name)


def kept_out(
    found: Iterable[Subscriber], known: Mapping[str, Subscriber], where: Mapping[str, str]
) -> list[str]:
    """One line per subscriber asked back onto briefings they unsubscribed from, which an
    import or ``add`` never does: the editor is told rather than left to believe it done.
    ``known`` are the stored subscribers and ``where`` prefixes each line (``FILE:LINE``),
    both by lowercased address (no prefix where it has none)."""
    lines = []
    for item in found:
        key = item.email.lower()
        before = known.get(key)
        left = set(item.left) | set(before.left if before else ())
        again = [b for b in item.briefings if b in left]
        if again:
            prefix = f"{where[key]}: " if key in where else ""
            lines.append(
                f"{prefix}{item.email} unsubscribed from "
                f"{', '.join(again)}; not put back (only they can subscribe again, on "
                "their preferences page)"
            )
    return lines


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
