"""Every configuration key, declared once with its type, default and help: the tables of
``feeds.toml`` (:data:`SECTIONS`) as ``docs/configuration.md`` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Key:
    """One configuration key: its type, default and help; ``REQUIRED`` has no default."""

    type: type | tuple[type, ...]
    default: Any
    help: str


REQUIRED: Any = object()


SETTINGS: dict[str, Key] = {
    "database": Key(
        type=str,
        default="sqlite:///briefings.db",
        help="SQLAlchemy URL of the store, or the path of a SQLite file; a relative SQLite "
        "path resolves against the folder of feeds.toml.",
    ),
    "output": Key(
        type=str,
        default="out",
        help="Folder the editions are written to for readers, relative to feeds.toml; it may "
        "be served to the public as is.",
    ),
    "private": Key(
        type=str,
        default="private",
        help="Folder, relative to feeds.toml, of what only PRO readers and editors may see: "
        "the PRO renderings and each whole edition.json; never inside settings.output.",
    ),
    "fetch_interval": Key(
        type=str,
        default="15m",
        help="How often briefings schedule fetches every feed, e.g. 15m, 1h.",
    ),
    "misfire_grace": Key(
        type=str,
        default="1h",
        help="An edition missed while briefings schedule was down still runs once on restart "
        "if it is at most this late; a later one is skipped with a log line.",
    ),
    "retention": Key(
        type=str,
        default="90d",
        help="How long the store keeps articles, their pages and stories, what editions "
        "carried and the delivery ledger of sent editions, e.g. 90d; never less than the "
        "briefings' windows need; 'forever' keeps everything.",
    ),
    "timezone": Key(
        type=str,
        default="UTC",
        help="IANA time zone of the schedules and of dates shown to readers.",
    ),
    "base_url": Key(
        type=str,
        default="",
        help="Public address of the output folder (e.g. https://briefings.example.org), for "
        "'view in browser' links; empty: links relative to the edition.",
    ),
    "upgrade_url": Key(
        type=str,
        default="",
        help="Where 'Upgrade to PRO' leads readers: your subscription page (https://…) or a "
        "mailto: address; empty: the upgrade block has no button.",
    ),
    "templates": Key(
        type=str,
        default="",
        help="Folder of templates that override the built-in theme file by "
        "file; empty means the built-in theme only.",
    ),
    "user_agent": Key(
        type=str,
        default="briefings/0.1 (+https://github.com/briefings)",
        help="User-Agent header sent with every request.",
    ),
    "timeout": Key(
        type=(int, float), default=20.0, help="Seconds before a feed or page request is abandoned."
    ),
    "concurrency": Key(
        type=int, default=8, help="How many feeds or pages are fetched at the same time."
    ),
    "max_bytes": Key(
        type=int, default=5_000_000, help="Largest feed or page body accepted, in bytes."
    ),
    "retries": Key(
        type=int,
        default=2,
        help="Further attempts after a 429 or 5xx reply, waiting as Retry-After asks "
        "(at most 30 s) or 1 s, then 2 s.",
    ),
    "host_delay": Key(
        type=(int, float),
        default=0.25,
        help="Seconds between two article-page requests to the same host (at most 2 run at "
        "once per host).",
    ),
    "allow_private_networks": Key(
        type=bool,
        default=False,
        help="Let article links reach private, loopback and link-local addresses on hosts "
        "other than their feed's own.",
    ),
    "max_items": Key(
        type=int,
        default=500,
        help="Most entries kept from one feed in one fetch, the newest first; a feed with "
        "more is reported, and the rest skipped.",
    ),
    "lock_wait": Key(
        type=(int, float),
        default=10,
        help="Seconds a run, fetch, build or send waits for another one on the same database "
        "to finish before giving up.",
    ),
    "processes": Key(
        type=int,
        default=0,
        help="Processes that parse feeds, and examine many new articles, side by side: "
        "0 = one per CPU core, 1 = all in the main process.",
    ),
    "extract_below": Key(
        type=int,
        default=600,
        help="Fetch and extract the article page when the feed's own "
        "text is shorter than this many characters.",
    ),
}


FEED: dict[str, Key] = {
    "name": Key(type=str, default=REQUIRED, help="The outlet's name, shown to readers."),
    "url": Key(type=str, default=REQUIRED, help="http(s) URL of the feed, or a local file path."),
    "id": Key(type=str, default="", help="Stable identifier; derived from the name if omitted."),
    "weight": Key(
        type=(int, float),
        default=1.0,
        help="How authoritative the outlet is; higher wins as a story's source.",
    ),
    "timezone": Key(
        type=str,
        default="",
        help="IANA time zone of the dates the feed writes without an offset "
        "('Sun, 22 Nov 2026 09:00:00'), e.g. 'Europe/Istanbul'; empty: UTC.",
    ),
}


BRIEFING: dict[str, Key] = {
    "title": Key(type=str, default=REQUIRED, help="The briefing's name, e.g. 'Israel Briefing'."),
    "description": Key(type=str, default="", help="One sentence shown in the footer."),
    "topics": Key(
        type=list,
        default=[],
        help="Built-in or [topics.ID] ids; omitted or empty means every story.",
    ),
    "schedule": Key(
        type=str,
        default=REQUIRED,
        help="Cron line (minute hour day month weekday) in the briefing's timezone.",
    ),
    "timezone": Key(
        type=str,
        default="",
        help="IANA time zone of its schedule, dates and send_at, e.g. 'Asia/Jerusalem'; "
        "empty: settings.timezone.",
    ),
    "review": Key(
        type=bool,
        default=False,
        help="Build each edition as a draft that an editor approves (briefings approve, or "
        "the desk) before it is sent.",
    ),
    "send_at": Key(
        type=str,
        default="",
        help="With review: the local time (HH:MM) an approved edition goes out, at the "
        "earliest; empty: as soon as it is approved.",
    ),
    "window": Key(
        type=str,
        default="24h",
        help="Stories published within this span before the edition, e.g. 24h, 7d.",
    ),
    "repeat_window": Key(
        type=str,
        default="7d",
        help="A story this briefing sent within this span is not sent again, unless it is an "
        "update: a materially new headline, or two more outlets.",
    ),
    "max_stories": Key(type=int, default=12, help="Most stories in one edition."),
    "subject": Key(
        type=str,
        default="{title} — {date:%a %d %b}",
        help="Subject line of its emails: {title}, {date} (the edition's local time, with "
        "strftime codes) and {count} (stories).",
    ),
    "min_stories": Key(
        type=int, default=1, help="An edition with fewer stories than this is not sent."
    ),
    "format": Key(
        type=str,
        default="daily",
        help="How an edition reads: minute (a 60-second scan of headlines), daily (a lead "
        "story, then sections by topic), weekly (an editor's note and the most-covered "
        "stories, then sections) or industry (sections per industry, in each subscriber's order).",
    ),
    "tier": Key(
        type=str,
        default="free",
        help="free or pro: a pro briefing shows free readers teasers and an upgrade block.",
    ),
    "within": Key(
        type=list,
        default=[],
        help="Topic ids a story must also have one of, e.g. the regions for an industry "
        "weekly about the region's industries; empty: no such condition.",
    ),
    "pro_sections": Key(
        type=list,
        default=[],
        help="Topic ids whose sections are PRO in an otherwise free briefing.",
    ),
    "theme": Key(
        type=dict,
        default={},
        help="Masthead colour, accent colour and logo text: "
        '{ masthead = "#0f2740", accent = "#0b5a8a", logo = "Israel Briefing" }.',
    ),
    "min_score": Key(
        type=(int, float),
        default=None,
        help="Least topic score a story needs (title 3, summary 1.5, body 1 per term); "
        "unset: each topic's own threshold.",
    ),
}


TOPIC: dict[str, Key] = {
    "title": Key(type=str, default=REQUIRED, help="The topic's name, shown as a section heading."),
    "description": Key(type=str, default="", help="What the topic covers."),
    "terms": Key(
        type=list,
        default=REQUIRED,
        help="Names that signal the topic; matched on word boundaries, case- and "
        "accent-insensitively; a trailing '*' matches as a prefix.",
    ),
    "weak": Key(
        type=list,
        default=[],
        help="Terms that hint at the topic but count half: alone in a title they are not enough.",
    ),
    "context": Key(
        type=list,
        default=[],
        help="Rules for ambiguous terms: [[topics.ID.context]] with term, unless_near, window, "
        "first_name and not_names, as in the built-in gazetteer.",
    ),
    "ignore": Key(
        type=list,
        default=[],
        help="Phrases that hold a term but are not the topic ('Iran-Contra'): where one "
        "stands, the term in it does not count.",
    ),
    "exclude": Key(
        type=list,
        default=[],
        help="Phrases that, when present in a story, cancel this topic for it.",
    ),
    "min_score": Key(
        type=(int, float),
        default=2.0,
        help="The score a story needs for this topic, unless a briefing sets its own.",
    ),
}


DELIVERY: dict[str, Key] = {
    "from": Key(
        type=str,
        default="Briefings <briefings@example.org>",
        help="The From address, e.g. 'Briefings <briefings@example.org>'.",
    ),
    "method": Key(
        type=str,
        default="outbox",
        help="smtp: send through smtp_host; outbox: write .eml files instead.",
    ),
    "outbox": Key(
        type=str, default="outbox", help="Folder for .eml files, relative to feeds.toml."
    ),
    "smtp_host": Key(type=str, default="localhost", help="SMTP server."),
    "smtp_port": Key(type=int, default=587, help="SMTP port."),
    "smtp_security": Key(
        type=str, default="starttls", help="starttls, tls (implicit TLS) or none."
    ),
    "rate": Key(type=(int, float), default=20, help="Most messages sent per second."),
    "connections": Key(
        type=int,
        default=1,
        help="SMTP connections used at once. More is faster, but after a crash up to this "
        "many messages can be in doubt.",
    ),
    "base_url": Key(
        type=str,
        default="",
        help="Address of `briefings serve` and of the published editions, for "
        "view-in-browser, preference and unsubscribe links; empty: settings.base_url.",
    ),
    "dkim_key": Key(
        type=str,
        default="",
        help="PEM file of the DKIM private key, relative to feeds.toml; empty: no DKIM signature.",
    ),
    "dkim_selector": Key(type=str, default="briefings", help="The DKIM selector."),
    "view_days": Key(
        type=int,
        default=90,
        help="Days a PRO reader's own 'View in browser' link (answered by briefings serve) "
        "works after the edition was built; at least 1.",
    ),
}


SECTIONS = {
    "settings": SETTINGS,
    "feeds": FEED,
    "briefings": BRIEFING,
    "topics": TOPIC,
    "delivery": DELIVERY,
}
