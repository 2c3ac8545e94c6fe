"""The ``[[feeds]]`` array → :class:`~briefings.model.Feed`: addresses checked or resolved as
local files, and each feed's id (:func:`default_feed_id` when none is given).
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..model import Feed
from .checker import _Checker
from .keys import FEED
from .values import _ID, _has_space, _unknown_zone


def slug(text: str) -> str:
    """A lowercase ASCII id made from a name: ``'Times of Israel'`` → ``'times-of-israel'``;
    "" when the name has no Latin letter or digit."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:63].rstrip("-")


def default_feed_id(name: str, url: str) -> str:
    """A feed's id when ``feeds.toml`` gives none: its name's :func:`slug`, or, for a name
    in another script (``'ידיעות אחרונות'``), its address's:
    ``'ynet-co-il-integration-storyrss2'``."""
    named = slug(name)
    if named:
        return named
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        path = re.sub(r"\.(?:xml|rss|atom|php|aspx?|cms)$", "", parts.path, flags=re.IGNORECASE)
        where = (parts.hostname or "").removeprefix("www.") + path
    else:
        where = Path(url).stem
    return slug(where) or "feed"


def _feeds(checker: _Checker, raw: Any, root: Path) -> tuple[Feed, ...]:
    if not isinstance(raw, list):
        checker.add("feeds", "expected an array of tables ([[feeds]])")
        return ()
    feeds: list[Feed] = []
    seen_ids: dict[str, int] = {}
    seen_urls: dict[str, int] = {}
    for index, item in enumerate(raw):
        prefix = f"feeds[{index}]."
        values = checker.typed(checker.table(item, f"feeds[{index}]"), FEED, prefix)
        if values["name"] is None or values["url"] is None:
            continue
        url = _feed_url(checker, values["url"], root, prefix + "url")
        feed_id = values["id"] or default_feed_id(values["name"], url)
        if not _ID.match(feed_id):
            checker.add(prefix + "id", f"invalid id {feed_id!r} (use a-z, 0-9, '-' and '_')")
        if feed_id in seen_ids:
            checker.add(
                prefix + "id",
                f"duplicate feed id {feed_id!r} "
                f"(also feeds[{seen_ids[feed_id]}]; set a distinct id)",
            )
        if url in seen_urls:
            checker.add(prefix + "url", f"duplicate feed URL (also feeds[{seen_urls[url]}])")
        if values["weight"] <= 0:
            checker.add(prefix + "weight", f"must be greater than zero, got {values['weight']!r}")
        zone = values["timezone"].strip()
        if zone:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                checker.add(prefix + "timezone", _unknown_zone(zone, "Europe/Istanbul"))
                zone = ""
        seen_ids.setdefault(feed_id, index)
        seen_urls.setdefault(url, index)
        feeds.append(
            Feed(
                id=feed_id,
                name=values["name"],
                url=url,
                weight=float(values["weight"]),
                timezone=zone,
            )
        )
    return tuple(feeds)


def _feed_url(checker: _Checker, url: str, root: Path, where: str) -> str:
    url = url.strip()  # "https://… " was fetched as ".../feed.xml%20", a 404 much later
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port that is not a number from 0 to 65535
    except ValueError as exc:
        checker.add(where, f"bad URL {url!r}: {exc}")
        return url
    if parts.scheme in ("http", "https", "file") and _has_space(checker, url, where):
        return url
    if parts.scheme in ("http", "https"):
        if not parts.hostname:
            checker.add(where, f"bad URL {url!r}: no host")
        return url
    if parts.scheme == "file":
        return str(Path(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # one letter is a Windows drive
        checker.add(where, f"bad URL {url!r}: use http(s):// or a local file path")
        return url
    path = (root / url).resolve()
    if _HOSTLIKE.match(url) and not path.exists():
        checker.add(
            where,
            f"{url!r} has no scheme: write 'https://{url}' (a local file path is read as one "
            "only if it exists)",
        )
    return str(path)


_HOSTLIKE = re.compile(
    r"(?:(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?)/",
    re.IGNORECASE,
)
"""The start of an address written without ``https://``: a host name with a top-level
domain, or an IPv4 address, then a ``/``."""
