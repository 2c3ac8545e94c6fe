"""``feeds.toml`` → a frozen, validated :class:`Config`.

Every key is declared once below with its type, default and help; the loader
reports each problem with its key path and, where it can, a hint::

    feeds.toml: briefings.israel.topics[0]: unknown topic 'isreal' (did you mean 'israel'?)

Relative paths resolve against the folder of the configuration file.
"""

from __future__ import annotations

import difflib
import email.utils
import re
import string
import tomllib
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..model import Feed
from .keys import BRIEFING as BRIEFING
from .keys import DELIVERY as DELIVERY
from .keys import FEED as FEED
from .keys import REQUIRED as REQUIRED
from .keys import SECTIONS as SECTIONS
from .keys import SETTINGS as SETTINGS
from .keys import TOPIC as TOPIC
from .keys import Key as Key
from .tables import DEFAULT_WINDOW as DEFAULT_WINDOW
from .tables import Briefing as Briefing
from .tables import Config as Config
from .tables import ContextRule as ContextRule
from .tables import Delivery as Delivery
from .tables import Settings as Settings
from .tables import Theme as Theme
from .tables import UserTopic as UserTopic

DEFAULT_PATH = Path("feeds.toml")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
FORMATS = ("daily", "minute", "weekly", "industry")
TIERS = ("free", "pro")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
RULE_KEYS = frozenset({"term", "unless_near", "window", "first_name", "not_names"})
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_LONGEST = timedelta(days=3650)
"""The longest duration accepted: dates a window back or forward stay representable."""
_DAY_NAMES = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def parse_rule(item: Any) -> ContextRule:
    """A context rule table → :class:`ContextRule`; ``ValueError`` says what is wrong."""
    if not isinstance(item, Mapping):
        raise ValueError("expected a table")
    unknown = sorted(set(item) - RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (use {', '.join(sorted(RULE_KEYS))})")
    term = item.get("term")
    if not isinstance(term, str) or not term.strip():
        raise ValueError("needs a 'term' string")
    lists = {k: item.get(k, []) for k in ("unless_near", "not_names")}
    for key, values in lists.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{key} must be an array of strings")
    window = item.get("window", DEFAULT_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    first_name = item.get("first_name", False)
    if not isinstance(first_name, bool):
        raise ValueError("first_name must be true or false")
    if not lists["unless_near"] and not first_name:
        raise ValueError(f"rule for {term!r} cancels nothing: give unless_near or first_name")
    return ContextRule(
        term=term,
        unless_near=tuple(lists["unless_near"]),
        window=window,
        first_name=first_name,
        not_names=tuple(lists["not_names"]),
    )


def builtin_topic_ids() -> tuple[str, ...]:
    """The ids of the built-in gazetteer, from its file names."""
    folder = resources.files("briefings.gazetteer")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def load(path: Path) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (pass --config PATH)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    return parse(raw, path)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-decoded TOML document that came from ``path``."""
    checker = _Checker(path.name)
    root = path.resolve().parent
    checker.unknown_keys(raw, SECTIONS, "")
    settings = _settings(checker, raw.get("settings", {}), root)
    topics = _topics(checker, raw.get("topics", {}))
    known_topics = set(builtin_topic_ids()) | {t.id for t in topics}
    feeds = _feeds(checker, raw.get("feeds", []), root)
    briefings = _briefings(checker, raw.get("briefings", {}), known_topics, settings.timezone)
    delivery = _delivery(checker, raw.get("delivery", {}), root, settings.base_url)
    _kept_private(checker, settings, delivery)
    checker.raise_if_any()
    return Config(
        delivery=delivery,
        path=path.resolve(),
        settings=settings,
        feeds=feeds,
        briefings=briefings,
        topics=topics,
    )


def _kept_private(checker: _Checker, settings: Settings, delivery: Delivery) -> None:
    """PRO material stays out of ``settings.output``, which may be served to anyone: the
    private folder, the outbox of sent messages and a SQLite store may not be inside it
    (nor the output inside the private folder, where a briefing's folder could be it)."""
    output = settings.output.resolve()
    private = settings.private.resolve()
    if private == output or output in private.parents:
        checker.add(
            "settings.private",
            f"{settings.private} is inside settings.output ({settings.output}), which may be "
            "served to anyone; choose a folder outside it",
        )
    elif private in output.parents:
        checker.add(
            "settings.private",
            f"{settings.private} holds settings.output ({settings.output}); choose two "
            "separate folders",
        )
    places = [("delivery.outbox", delivery.outbox)]
    if settings.database.startswith("sqlite:///") and settings.database != "sqlite:///:memory:":
        places.append(("settings.database", Path(settings.database[len("sqlite:///") :])))
    for key, place in places:
        resolved = place.resolve()
        if resolved == output or output in resolved.parents:
            checker.add(
                key,
                f"{place} is inside settings.output ({settings.output}), which may be served "
                "to anyone; choose a place outside it",
            )


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


class _Checker:
    """Collects problems with their key paths instead of stopping at the first."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[str] = []

    def add(self, key: str, message: str) -> None:
        if not key.isprintable():  # a key of control characters would break the line
            key = key.encode("unicode_escape").decode("ascii")
        self.problems.append(f"{self.filename}: {key}: {' '.join(message.split())}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise ConfigError(self.problems)

    def unknown_keys(self, table: Mapping[str, Any], spec: Mapping[str, Any], prefix: str) -> None:
        for key in table:
            if key not in spec:
                where = f"{prefix}{key}"
                self.add(where, f"unknown key{_hint(key, spec)}")

    def typed(
        self, table: Mapping[str, Any], spec: Mapping[str, Key], prefix: str
    ) -> dict[str, Any]:
        """The table's values with defaults filled in; wrong types and missing keys reported."""
        self.unknown_keys(table, spec, prefix)
        values: dict[str, Any] = {}
        for name, key in spec.items():
            if name not in table:
                if key.default is REQUIRED:
                    self.add(f"{prefix}{name}", "required key is missing")
                    values[name] = _placeholder(key)
                else:
                    values[name] = key.default
                continue
            value = table[name]
            if (isinstance(value, bool) and key.type is not bool) or not isinstance(
                value, key.type
            ):
                self.add(
                    f"{prefix}{name}",
                    f"expected {_type_name(key.type)}, got {type(value).__name__} {value!r}",
                )
                values[name] = _placeholder(key) if key.default is REQUIRED else key.default
                continue
            if isinstance(value, str) and "\x00" in value:
                # no file name, address or text of a setting holds one; paths would raise
                self.add(f"{prefix}{name}", "contains a NUL character (\\u0000)")
                values[name] = _placeholder(key) if key.default is REQUIRED else key.default
                continue
            values[name] = value
        return values

    def table(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.add(where, f"expected a table, got {type(value).__name__}")
            return {}
        return value

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        if not isinstance(value, list):
            return ()
        good = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                good.append(item.strip())
            else:
                self.add(f"{where}[{index}]", f"expected a non-empty string, got {item!r}")
        return tuple(good)


def _settings(checker: _Checker, raw: Any, root: Path) -> Settings:
    values = checker.typed(checker.table(raw, "settings"), SETTINGS, "settings.")
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        checker.add("settings.timezone", _unknown_zone(values["timezone"], "Europe/Istanbul"))
        values["timezone"] = "UTC"
    for name in ("retries", "host_delay", "lock_wait", "processes", "extract_below"):
        if values[name] < 0:
            checker.add(f"settings.{name}", f"must not be negative, got {values[name]!r}")
            values[name] = SETTINGS[name].default
    for name in ("timeout", "concurrency", "max_bytes", "max_items"):
        if values[name] <= 0:
            checker.add(f"settings.{name}", f"must be greater than zero, got {values[name]!r}")
            values[name] = SETTINGS[name].default
    if not values["private"].strip():
        checker.add("settings.private", "must not be empty (the default is 'private')")
    templates = values["templates"]
    if templates and not (root / templates).is_dir():
        checker.add("settings.templates", f"{root / templates}: no such folder")
        templates = ""
    return Settings(
        database=_database_url(values["database"], root),
        output=root / values["output"],
        private=root / (values["private"] or SETTINGS["private"].default),
        timezone=values["timezone"],
        templates=(root / templates) if templates else None,
        base_url=_base_url(checker, values["base_url"], "settings.base_url"),
        upgrade_url=_absolute_url(
            checker, values["upgrade_url"], "settings.upgrade_url", mail=True
        ),
        user_agent=values["user_agent"],
        timeout=float(values["timeout"]),
        concurrency=values["concurrency"],
        max_bytes=values["max_bytes"],
        extract_below=values["extract_below"],
        processes=values["processes"],
        retries=values["retries"],
        host_delay=float(values["host_delay"]),
        allow_private_networks=values["allow_private_networks"],
        fetch_interval=_positive_duration(checker, values, "fetch_interval", "settings."),
        misfire_grace=_positive_duration(checker, values, "misfire_grace", "settings."),
        max_items=values["max_items"],
        lock_wait=float(values["lock_wait"]),
        retention=(
            None
            if values["retention"].strip() == "forever"
            else _positive_duration(checker, values, "retention", "settings.")
        ),
    )


def _positive_duration(
    checker: _Checker, values: dict[str, Any], name: str, prefix: str
) -> timedelta:
    """A duration key, checked to be greater than zero; its default when it is not."""
    try:
        value = parse_duration(values[name])
    except ValueError as exc:
        checker.add(prefix + name, str(exc))
    else:
        if value > timedelta(0):
            return value
        checker.add(prefix + name, "must be greater than zero")
    return parse_duration(SETTINGS[name].default)


def _delivery(checker: _Checker, raw: Any, root: Path, base_url: str) -> Delivery:
    values = checker.typed(checker.table(raw, "delivery"), DELIVERY, "delivery.")
    _, address = email.utils.parseaddr(values["from"])
    if "@" not in address or any(c in values["from"] for c in "\r\n"):
        checker.add(
            "delivery.from", f"bad address {values['from']!r} (use 'Name <user@example.org>')"
        )
    method = _choice(checker, values["method"], ("outbox", "smtp"), "delivery.method")
    security = _choice(
        checker, values["smtp_security"], ("starttls", "tls", "none"), "delivery.smtp_security"
    )
    if values["rate"] <= 0:
        checker.add("delivery.rate", "must be greater than zero")
    if not 1 <= values["smtp_port"] <= 65535:
        checker.add("delivery.smtp_port", f"must be 1 to 65535, got {values['smtp_port']!r}")
        values["smtp_port"] = DELIVERY["smtp_port"].default
    if values["connections"] < 1:
        checker.add("delivery.connections", f"must be at least 1, got {values['connections']!r}")
    if not 1 <= values["view_days"] <= 3650:
        checker.add("delivery.view_days", f"must be 1 to 3650, got {values['view_days']!r}")
        values["view_days"] = DELIVERY["view_days"].default
    return Delivery(
        sender=values["from"],
        method=method,
        outbox=root / values["outbox"],
        smtp_host=values["smtp_host"],
        smtp_port=values["smtp_port"],
        smtp_security=security,
        rate=float(values["rate"]) if values["rate"] > 0 else 20.0,
        connections=max(1, values["connections"]),
        base_url=_base_url(checker, values["base_url"], "delivery.base_url") or base_url,
        dkim_key=(root / values["dkim_key"]) if values["dkim_key"] else None,
        dkim_selector=values["dkim_selector"],
        view_days=values["view_days"],
    )


def _database_url(url: str, root: Path) -> str:
    """A SQLAlchemy URL; a bare path (no ``://``) is a SQLite file, relative to ``root``."""
    prefix = "sqlite:///"
    if "://" not in url and url.strip():
        return prefix + str(root / url)
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/") and url != prefix:
        return prefix + str(root / url[len(prefix) :])
    return url


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
        seen_ids.setdefault(feed_id, index)
        seen_urls.setdefault(url, index)
        feeds.append(Feed(id=feed_id, name=values["name"], url=url, weight=float(values["weight"])))
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


def _topics(checker: _Checker, raw: Any) -> tuple[UserTopic, ...]:
    builtin = set(builtin_topic_ids())
    topics = []
    for topic_id, item in checker.table(raw, "topics").items():
        prefix = f"topics.{topic_id}."
        if not _ID.match(topic_id):
            checker.add(f"topics.{topic_id}", "invalid id (use a-z, 0-9, '-' and '_')")
        if topic_id in builtin:
            checker.add(
                f"topics.{topic_id}", "shadows the built-in topic of that id (choose another id)"
            )
        values = checker.typed(checker.table(item, f"topics.{topic_id}"), TOPIC, prefix)
        terms = checker.strings(values["terms"], prefix + "terms")
        if values["terms"] is not None and not terms:
            checker.add(prefix + "terms", "needs at least one term")
        rules = []
        for index, rule in enumerate(values["context"] or []):
            try:
                rules.append(parse_rule(rule))
            except ValueError as exc:
                checker.add(f"{prefix}context[{index}]", str(exc))
        topics.append(
            UserTopic(
                id=topic_id,
                title=values["title"] or topic_id,
                description=values["description"],
                terms=terms,
                weak=checker.strings(values["weak"], prefix + "weak"),
                ignore=checker.strings(values["ignore"], prefix + "ignore"),
                exclude=checker.strings(values["exclude"], prefix + "exclude"),
                context=tuple(rules),
                min_score=float(values["min_score"]),
            )
        )
        if values["min_score"] <= 0:
            checker.add(prefix + "min_score", "must be greater than zero")
    return tuple(topics)


def _briefings(
    checker: _Checker, raw: Any, known_topics: set[str], timezone: str
) -> tuple[Briefing, ...]:
    briefings = []
    for briefing_id, item in checker.table(raw, "briefings").items():
        prefix = f"briefings.{briefing_id}."
        if not _ID.match(briefing_id):
            checker.add(f"briefings.{briefing_id}", "invalid id (use a-z, 0-9, '-' and '_')")
        values = checker.typed(checker.table(item, f"briefings.{briefing_id}"), BRIEFING, prefix)
        topics = checker.strings(values["topics"], prefix + "topics")
        for index, topic in enumerate(topics):
            if topic not in known_topics:
                checker.add(
                    f"{prefix}topics[{index}]",
                    f"unknown topic {topic!r}{_hint(topic, known_topics)}",
                )
        zone = values["timezone"] or timezone
        if values["timezone"]:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                checker.add(prefix + "timezone", _unknown_zone(zone, "Asia/Jerusalem"))
                zone = timezone
        schedule = values["schedule"] or ""
        given = isinstance(item, dict) and "schedule" in item  # a missing one is said once
        if values["schedule"] is not None and given:
            _check_cron(checker, schedule, zone, prefix + "schedule")
        send_at = _clock_time(checker, values["send_at"], prefix + "send_at")
        window = timedelta(hours=24)
        try:
            window = parse_duration(values["window"])
        except ValueError as exc:
            checker.add(prefix + "window", str(exc))
        repeat_window = timedelta(days=7)
        try:
            repeat_window = parse_duration(values["repeat_window"])
        except ValueError as exc:
            checker.add(prefix + "repeat_window", str(exc))
        if values["min_score"] is not None and values["min_score"] <= 0:
            checker.add(prefix + "min_score", "must be greater than zero")
        if values["max_stories"] <= 0:
            checker.add(prefix + "max_stories", "must be greater than zero")
        if values["min_stories"] < 0:
            checker.add(
                prefix + "min_stories", f"must not be negative, got {values['min_stories']}"
            )
        briefings.append(
            Briefing(
                id=briefing_id,
                title=values["title"] or briefing_id,
                description=values["description"],
                topics=topics,
                schedule=schedule,
                window=window,
                repeat_window=repeat_window,
                max_stories=values["max_stories"],
                min_score=None if values["min_score"] is None else float(values["min_score"]),
                format=_choice(checker, values["format"], FORMATS, prefix + "format"),
                tier=_choice(checker, values["tier"], TIERS, prefix + "tier"),
                pro_sections=_pro_sections(checker, values, topics, prefix),
                within=_known(checker, values["within"], known_topics, prefix + "within"),
                subject=_subject(checker, values["subject"], prefix + "subject"),
                min_stories=values["min_stories"],
                theme=_theme(checker, values["theme"], prefix + "theme"),
                timezone=zone,
                review=values["review"],
                send_at=send_at,
            )
        )
    return tuple(briefings)


def _clock_time(checker: _Checker, text: str, where: str) -> tuple[int, int] | None:
    """``HH:MM`` as (hour, minute); None for an empty value."""
    if not text:
        return None
    found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if found is None:
        checker.add(where, f"bad time {text!r} (use HH:MM, e.g. '07:30')")
        return None
    return int(found[1]), int(found[2])


def _choice(checker: _Checker, value: str, choices: tuple[str, ...], where: str) -> str:
    if value in choices:
        return value
    checker.add(
        where, f"unknown value {value!r}{_hint(value, choices)}; use one of {', '.join(choices)}"
    )
    return choices[0]


def _subject(checker: _Checker, template: str, where: str) -> str:
    try:
        # {title.__class__…} would reach into the program: only the three names, as they are
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
        if fields - {"title", "date", "count"}:
            raise KeyError(sorted(fields - {"title", "date", "count"})[0])
        line = template.format(title="T", date=datetime(2026, 5, 14, tzinfo=UTC), count=3)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        checker.add(
            where,
            f"bad subject template {template!r}: {exc!r} (use {{title}}, "
            "{date:%a %d %b} and {count})",
        )
        default: str = BRIEFING["subject"].default
        return default
    if "\n" in line or "\r" in line:
        checker.add(where, "a subject cannot contain a line break")
    return template


def _known(checker: _Checker, raw: Any, known: set[str], where: str) -> tuple[str, ...]:
    found = checker.strings(raw, where)
    for index, topic in enumerate(found):
        if topic not in known:
            checker.add(f"{where}[{index}]", f"unknown topic {topic!r}{_hint(topic, known)}")
    return found


def _pro_sections(
    checker: _Checker, values: Mapping[str, Any], topics: tuple[str, ...], prefix: str
) -> tuple[str, ...]:
    sections = checker.strings(values["pro_sections"], prefix + "pro_sections")
    for index, topic in enumerate(sections):
        if topics and topic not in topics:
            checker.add(
                f"{prefix}pro_sections[{index}]", f"{topic!r} is not one of this briefing's topics"
            )
    return sections


def _theme(checker: _Checker, raw: Mapping[str, Any], where: str) -> Theme:
    values = {}
    for key, value in raw.items():
        if key not in ("masthead", "accent", "logo"):
            checker.add(
                f"{where}.{key}", f"unknown key{_hint(key, ('masthead', 'accent', 'logo'))}"
            )
        elif not isinstance(value, str):
            checker.add(f"{where}.{key}", f"expected a string, got {value!r}")
        elif key != "logo" and not _COLOUR.match(value):
            checker.add(f"{where}.{key}", f"bad colour {value!r} (use #rgb or #rrggbb)")
        else:
            values[key] = value
    return Theme(**values)


def cron_trigger(line: str, timezone: str) -> Any:
    """An APScheduler ``CronTrigger`` for a standard cron line.

    APScheduler 3 counts weekdays from Monday = 0 and cannot wrap a range past
    Sunday, while cron counts from Sunday = 0 (and 7): the weekday field is
    spelled out as names first, so ``1-5`` is Monday to Friday and ``sun-thu``
    works, as in crontab.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = line.split()
    if len(fields) != 5:
        raise ValueError("expected 5 fields (minute hour day month weekday), e.g. '0 7 * * *'")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekdays(weekday),
        timezone=timezone,
    )


def _weekdays(field: str) -> str:
    """A cron weekday field (Sunday = 0 or 7, names, ranges, steps) as a list of names."""
    if field in ("*", "?"):
        return "*"
    days: list[int] = []
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"bad step in weekday field {field!r}")
        if span == "*":
            first, last = 0, 6
        else:
            low, _, high = span.partition("-")
            first = _weekday_number(low, field)
            last = _weekday_number(high, field) if high else (6 if step else first)
        if last < first:
            last += 7
        days.extend(d % 7 for d in range(first, last + 1, step or 1))
    return ",".join(_WEEKDAYS[d] for d in sorted(set(days)))


def _weekday_number(text: str, field: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text) % 7 if int(text) != 7 else 7
    if text in _WEEKDAYS:
        return _WEEKDAYS.index(text)
    if text in _DAY_NAMES:
        return _DAY_NAMES.index(text)
    raise ValueError(f"bad weekday {text!r} in {field!r} (use 0-7 or sun..sat)")


def _check_cron(checker: _Checker, line: str, timezone: str, where: str) -> None:
    try:
        trigger = cron_trigger(line, timezone)
    except ValueError as exc:
        checker.add(where, f"bad cron line {line!r}: {exc}")
        return
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        checker.add(where, f"bad cron line {line!r}: it never fires (no such date)")


def _placeholder(key: Key) -> Any:
    """An empty value of a required key's type, so that checking goes on after a problem."""
    kind = key.type[0] if isinstance(key.type, tuple) else key.type
    return kind()


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


def _hint(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {
        str: "a string",
        int: "an integer",
        float: "a number",
        list: "an array",
        bool: "true or false",
    }
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
