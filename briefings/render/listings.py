"""The pages that list editions: a briefing's archive (``index.html``) and Atom feed
(``feed.xml``), read back from the editions' ``edition.json`` (:class:`Listed`), and the
output folder's catalogue of briefings."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from feedgen.feed import FeedGenerator

from ..config import Briefing
from .templates import _template, plain


@dataclass(frozen=True, slots=True, kw_only=True)
class Listed:
    """One edition as the archive lists it, read back from its ``edition.json``."""

    edition: str
    title: str
    generated_at: datetime
    stories: int
    headlines: tuple[str, ...]


def edition_listing(folder: Path) -> list[Listed]:
    """The editions written under a briefing's folder, newest first."""
    found = []
    for path in folder.glob("*/edition.json"):
        if path.parent.name.startswith("."):
            continue  # a staging folder, or one a crashed run left behind
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            found.append(
                Listed(
                    edition=document["edition"],
                    title=document["title"],
                    generated_at=datetime.fromisoformat(document["generated_at"]),
                    stories=len(document["stories"]),
                    headlines=tuple(s["title"] for s in document["stories"][:3]),
                )
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a folder someone else put there: not ours to list
    return sorted(found, key=lambda e: (e.generated_at, e.edition), reverse=True)


def archive(
    briefing: Briefing,
    editions: list[Listed],
    *,
    env: jinja2.Environment,
    base_url: str,
    timezone: str,
) -> dict[str, str]:
    """A briefing's ``index.html`` (its editions, newest first) and ``feed.xml`` (Atom)."""
    zone = ZoneInfo(timezone)
    items = [
        {
            "edition": e,
            "url": f"{e.edition}/index.html",
            "date_label": dated(e.generated_at, zone),
        }
        for e in editions
    ]
    page = _template(env, "archive.html", {"briefing": briefing, "editions": items})
    return {"index.html": page, "feed.xml": _atom(briefing, editions, base_url, zone)}


def dated(moment: datetime, zone: ZoneInfo) -> str:
    """When an edition was made, as its masthead says it: "Sunday 1 November 2026, 19:19
    IST"."""
    local = moment.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} {local.tzname()}"


def catalogue(
    briefings: Sequence[Briefing],
    listings: Mapping[str, list[Listed]],
    *,
    env: jinja2.Environment,
) -> str:
    """The output folder's ``index.html``: every briefing and its latest edition, dated in
    the briefing's own zone."""
    rows: list[dict[str, Any]] = []
    for briefing in briefings:
        listed = listings.get(briefing.id) or []
        latest = listed[0] if listed else None
        zone = ZoneInfo(briefing.timezone)
        label = dated(latest.generated_at, zone) if latest else ""
        rows.append(
            {"briefing": briefing, "latest": latest, "count": len(listed), "date_label": label}
        )
    return _template(env, "catalogue.html", {"rows": rows})


def _atom(briefing: Briefing, editions: list[Listed], base_url: str, zone: ZoneInfo) -> str:
    """The Atom feed written as ``<briefing>/feed.xml``, each entry titled with its date in
    ``zone``. Without a base URL its links are relative to that place: an edition is
    ``<edition>/index.html`` beside it."""
    feed = FeedGenerator()
    home = f"{base_url}/{briefing.id}/" if base_url else ""
    feed.id(home if base_url else f"tag:briefings,2026:{briefing.id}")
    feed.title(plain(briefing.title))
    feed.subtitle(plain(briefing.description or briefing.title))
    feed.author({"name": plain(briefing.title)})  # RFC 4287: a feed has an author
    feed.link(href=home or "index.html", rel="alternate")
    if base_url:
        feed.link(href=f"{home}feed.xml", rel="self")
    feed.language("en")
    for listed in reversed(editions[:50]):  # feedgen puts the last added first
        entry = feed.add_entry()
        url = f"{home}{listed.edition}/index.html"
        entry.id(url if base_url else f"tag:briefings,2026:{briefing.id}/{listed.edition}")
        entry.title(plain(f"{briefing.title} · {dated(listed.generated_at, zone)}"))
        entry.link(href=url)
        entry.published(listed.generated_at)
        entry.updated(listed.generated_at)
        entry.summary(plain(" · ".join(listed.headlines)) or "No stories.")
    if not editions:
        feed.updated(datetime.now(UTC))
    atom: bytes = feed.atom_str(pretty=True)
    return atom.decode("utf-8")
