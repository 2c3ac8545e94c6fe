"""The frozen dataclasses a valid ``feeds.toml`` becomes, one per table: :class:`Config` and
its :class:`Settings`, :class:`Briefing` (with its :class:`Theme`), :class:`UserTopic` (with
its :class:`ContextRule`) and :class:`Delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ..errors import ConfigError
from ..model import Feed
from .keys import DELIVERY

DEFAULT_WINDOW = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """The ``[settings]`` table, paths resolved."""

    database: str
    output: Path
    private: Path
    """The PRO renderings and whole editions; outside ``output``, which may be public."""
    timezone: str
    templates: Path | None
    base_url: str
    user_agent: str
    timeout: float
    upgrade_url: str = ""
    """Where "Upgrade to PRO" leads; empty: no link."""
    concurrency: int
    max_bytes: int
    retries: int
    host_delay: float
    allow_private_networks: bool
    extract_below: int
    processes: int
    fetch_interval: timedelta = timedelta(minutes=15)
    misfire_grace: timedelta = timedelta(hours=1)
    max_items: int = 500
    lock_wait: float = 10.0
    retention: timedelta | None = timedelta(days=90)
    """How long old rows are kept in the store; None: for ever."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Theme:
    """A briefing's look: masthead and accent colours, and the text of its logo."""

    masthead: str = "#0f2740"
    accent: str = "#0b5a8a"
    logo: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Briefing:
    """One ``[briefings.ID]`` table."""

    id: str
    title: str
    description: str
    topics: tuple[str, ...]
    schedule: str
    window: timedelta
    repeat_window: timedelta
    max_stories: int
    min_score: float | None
    """None: each topic's own threshold."""
    format: str = "daily"
    tier: str = "free"
    pro_sections: tuple[str, ...] = ()
    within: tuple[str, ...] = ()
    subject: str = "{title} — {date:%a %d %b}"
    min_stories: int = 1
    theme: Theme = field(default_factory=lambda: Theme())
    timezone: str = "UTC"
    review: bool = False
    send_at: tuple[int, int] | None = None
    """(hour, minute), local: the earliest an approved edition goes out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextRule:
    """An ambiguous term and what cancels it.

    ``unless_near``: phrases that cancel it within ``window`` words, or anywhere
    in a story that has no unambiguous term of the topic. ``first_name``: in
    running text, a capitalised word right after the term (not one of
    ``not_names``) marks a person ("Israel Mendoza").
    """

    term: str
    unless_near: tuple[str, ...] = ()
    window: int = DEFAULT_WINDOW
    first_name: bool = False
    not_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UserTopic:
    """One ``[topics.ID]`` table."""

    id: str
    title: str
    description: str
    terms: tuple[str, ...]
    weak: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    context: tuple[ContextRule, ...] = ()
    min_score: float = 2.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The ``[delivery]`` table, paths resolved. Secrets come from the environment."""

    sender: str
    method: str
    outbox: Path
    smtp_host: str
    smtp_port: int
    smtp_security: str
    rate: float
    connections: int
    base_url: str
    dkim_key: Path | None
    dkim_selector: str
    view_days: int = 90
    """Days a PRO reader's signed link to the PRO web edition works."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """A whole, valid ``feeds.toml``."""

    path: Path
    settings: Settings
    feeds: tuple[Feed, ...]
    briefings: tuple[Briefing, ...]
    topics: tuple[UserTopic, ...]
    delivery: Delivery = field(default_factory=lambda: _delivery_defaults())

    def briefing(self, briefing_id: str) -> Briefing:
        """The briefing with this id; :class:`ConfigError` if there is none (it may have been
        taken out of the file since an edition was built)."""
        for briefing in self.briefings:
            if briefing.id == briefing_id:
                return briefing
        known = ", ".join(sorted(b.id for b in self.briefings)) or "none"
        raise ConfigError(
            [f"{self.path.name}: briefings.{briefing_id}: no such briefing (known: {known})"]
        )

    def unlinked_mail(self) -> str:
        """Why sent emails would carry relative links (no base URL anywhere), or ``""``."""
        if self.delivery.base_url:
            return ""
        return (
            f"{self.path.name}: delivery.base_url: not set, nor settings.base_url: the links "
            "in sent emails (view in browser, preferences, unsubscribe) would be relative and "
            "lead nowhere; set the public address of the output folder"
        )

    def warnings(self) -> list[str]:
        """What is valid but likely a mistake, one line each (``check`` prints them)."""
        missing = [
            f"{self.path.name}: feeds[{index}].url: no such file {feed.url} (yet?)"
            for index, feed in enumerate(self.feeds)
            if not feed.url.startswith(("http://", "https://")) and not Path(feed.url).is_file()
        ]
        empty = [
            f"{self.path.name}: no {what}: {consequence}"
            for what, consequence, found in (
                ("[[feeds]]", "nothing will be fetched", self.feeds),
                ("[briefings.*]", "no edition will be built", self.briefings),
            )
            if not found
        ]
        return [w for w in (*empty, self.unlinked_mail(), *missing) if w]


def _delivery_defaults() -> Delivery:
    return Delivery(
        sender=DELIVERY["from"].default,
        method="outbox",
        outbox=Path("outbox"),
        smtp_host="localhost",
        smtp_port=587,
        smtp_security="starttls",
        rate=20.0,
        connections=1,
        base_url="",
        dkim_key=None,
        dkim_selector="briefings",
    )
