"""What every template receives (documented in ``docs/templates.md``): the :class:`Layout`
a briefing's configuration gives its editions, and :func:`context`, with its stories and
sections; whether a story is PRO material (:func:`is_pro`) and the :func:`teaser` a free
reader sees of it; which headlines read right to left (:func:`right_to_left`); and the
accent made readable on the dark page (:func:`readable_on`)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from ..config import Briefing, Theme
from ..model import Edition, Source, Story, TopicMatch
from ..text import safe_href
from .templates import plain

UNSUBSCRIBE_LINK = "https://unsubscribe.invalid/__unsubscribe__"
PREFERENCES_LINK = "https://preferences.invalid/__preferences__"
VIEW_LINK = "https://view.invalid/__view__"
"""Placeholders in every email, replaced by each subscriber's own signed links when sent
(the view link, to the PRO web edition, only in the PRO rendering)."""
MINUTE_MOST = 8
"""A minute edition shows at most this many headlines: readable in sixty seconds."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """What a briefing's configuration says about how its editions look."""

    format: str = "daily"
    tier: str = "free"
    pro_sections: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    """Section order: the briefing's topics, or a PRO subscriber's industry priorities."""
    theme: Theme = field(default_factory=Theme)
    topic_titles: Mapping[str, str] = field(default_factory=dict)
    base_url: str = ""
    """Where the output folder is published; empty for links relative to the edition."""
    unsubscribe_url: str = UNSUBSCRIBE_LINK
    preferences_url: str = PREFERENCES_LINK
    view_url: str = VIEW_LINK
    """The PRO web edition: a PRO reader's own signed link, which ``briefings serve``
    answers, since it is never in the output folder."""
    upgrade_url: str = ""
    """Where "Upgrade to PRO" leads (``settings.upgrade_url``); empty: no button."""

    @classmethod
    def of(
        cls,
        briefing: Briefing,
        *,
        topic_titles: Mapping[str, str],
        base_url: str = "",
        upgrade_url: str = "",
    ) -> Layout:
        return cls(
            upgrade_url=upgrade_url,
            format=briefing.format,
            tier=briefing.tier,
            pro_sections=briefing.pro_sections,
            topics=briefing.topics,
            theme=briefing.theme,
            topic_titles=topic_titles,
            base_url=base_url,
        )


def is_pro(story: Story, layout: Layout) -> bool:
    """Whether ``story`` is PRO material, a teaser for free readers: every story of a PRO
    briefing, and a story of a PRO section, the first of its topics in the layout's order
    being one of ``pro_sections`` (as :func:`_sections` places it)."""
    if layout.tier == "pro":
        return True
    home = next((topic for topic in layout.topics if topic in story.topics), None)
    return home is not None and home in layout.pro_sections


def context(
    edition: Edition,
    *,
    timezone: str,
    layout: Layout = Layout(),
    tier: str = "pro",
    shown: int | None = None,
) -> dict[str, Any]:
    """What every template receives; documented in ``docs/templates.md``.

    ``tier`` is the reader's: a free reader sees PRO material as teasers. ``shown`` keeps
    only that many stories (the rest are linked on the web page).
    """
    zone = ZoneInfo(timezone)
    local = edition.generated_at.astimezone(zone)
    stories = [_story(s, zone) for s in edition.stories]
    kept = stories if shown is None else stories[:shown]
    web = _edition_url(edition, layout.base_url)
    lead = kept[0] if kept and layout.format in ("daily", "weekly") else None
    rest = kept[1:] if lead else kept
    top: list[dict[str, Any]] = []
    if layout.format == "weekly":
        top, rest = rest[:4], rest[4:]
    sections = [] if layout.format == "minute" else _sections(rest, layout, tier)
    for item in kept:  # wherever it stands: headlines, lead, top four or a section
        item["locked"] = tier == "free" and is_pro(item["story"], layout)
    has_pro = layout.tier == "pro" or bool(layout.pro_sections)
    upgrade = layout.upgrade_url
    # The PRO web page is never public: PRO readers reach it through their own link.
    pro_web = layout.view_url if has_pro else web
    return {
        "edition": edition,
        "format": layout.format,
        "tier": tier,
        "pro_briefing": layout.tier == "pro",
        "has_pro": has_pro,
        "theme": {
            "masthead": layout.theme.masthead,
            "accent": layout.theme.accent,
            "accent_on_dark": readable_on(layout.theme.accent, DARK_PAPER),
            "logo": layout.theme.logo or edition.title,
        },
        "stories": kept,
        "lead": lead,
        "top": top,
        "headlines": kept[:MINUTE_MOST] if layout.format == "minute" else [],
        "sections": sections,
        "locked": any(item["locked"] for item in kept),
        "note": _paragraphs(edition.note),
        "more": len(stories) - len(kept),
        "links": {
            "web": pro_web if tier == "pro" else web,
            "pro_web": pro_web if tier == "pro" else (upgrade or web) if has_pro else web,
            "preferences": layout.preferences_url,
            "unsubscribe": layout.unsubscribe_url,
            "upgrade": upgrade,
            "archive": _archive_url(edition, layout.base_url),
        },
        "date_label": f"{local:%A} {local.day} {local:%B %Y}",
        "time_label": f"{local:%H:%M} {local.tzname()}",
        "preheader": " · ".join(s.title for s in edition.stories[:3]),
    }


def _story(story: Story, zone: ZoneInfo) -> dict[str, Any]:
    local = story.published.astimezone(zone)
    return {
        "story": story,
        "id": story.id,
        "title": story.title,
        "url": safe_href(story.url),
        "summary": story.summary,
        "outlet": story.sources[0].feed if story.sources else "",
        "also": _other_outlets(story.sources),
        "topics": list(story.topics),
        "time_label": f"{local:%d %b %H:%M}",
        "partial": story.partial,
        "updated": story.update,  # not "update": Jinja would find dict.update first
        "earlier": _earlier(story, zone),
        "rtl": right_to_left(story.title),
        "teaser": teaser(story.summary),
        "image": safe_href(story.image),
        "locked": False,
        # the matches of the topics the story has: one below its threshold is no reason
        "why": _reasons([m for m in story.matches if m.topic in story.topics]),
    }


def _earlier(story: Story, zone: ZoneInfo) -> dict[str, str] | None:
    """What an earlier edition sent of the story: its headline, link, the edition's local
    date and time, and why the two are linked."""
    if story.earlier is None:
        return None
    local = story.earlier.sent_at.astimezone(zone)
    return {
        "title": story.earlier.title,
        "url": safe_href(story.earlier.url),
        "date_label": f"{local:%A} {local.day} {local:%B}, {local:%H:%M}",
        "why": story.earlier.why,
    }


_FIELD_ORDER = ("title", "summary", "body")


def _reasons(matches: Sequence[TopicMatch]) -> str:
    """Each term once with the fields it was found in, "Gaza (title, summary and body)",
    and the outlet when it is in another outlet's article than the one whose headline is
    shown: "Baku (title, Daily Sabah)". Terms in alphabetical order."""
    fields: dict[tuple[str, str], set[str]] = {}
    for match in matches:
        fields.setdefault((match.term, match.source), set()).add(match.field)
    out = []
    for (term, source), found in sorted(fields.items()):
        named = [f for f in _FIELD_ORDER if f in found]
        where = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
        out.append(f"{term} ({where}, {plain(source)})" if source else f"{term} ({where})")
    return ", ".join(out)


def _other_outlets(sources: Sequence[Source]) -> list[Source]:
    """The first copy of each outlet after the lead's, in order: "also covered by" counts
    outlets, and a story can hold several articles of one (copies, or two feeds of one
    outlet). Names are compared as printed, spacing and case aside."""
    seen = set()
    others = []
    for number, source in enumerate(sources):
        name = " ".join(plain(source.feed).split()).casefold()
        if name not in seen:
            seen.add(name)
            if number:
                others.append(replace(source, url=safe_href(source.url)))
    return others


def _sections(stories: list[dict[str, Any]], layout: Layout, tier: str) -> list[dict[str, Any]]:
    """Stories grouped under the first of their topics that the layout orders."""
    order = list(layout.topics)
    for item in stories:
        for topic in item["topics"]:
            if topic not in order and not layout.topics:
                order.append(topic)
    grouped: dict[str, list[dict[str, Any]]] = {topic: [] for topic in order}
    other: list[dict[str, Any]] = []
    for item in stories:
        home = next((t for t in order if t in item["topics"]), None)
        (grouped[home] if home else other).append(item)
    sections = [
        {
            "id": topic,
            "title": layout.topic_titles.get(topic, topic.replace("-", " ").title()),
            "pro": topic in layout.pro_sections,
            "locked": topic in layout.pro_sections and tier == "free",
            "stories": items,
        }
        for topic, items in grouped.items()
        if items
    ]
    if other:
        sections.append(
            {
                "id": "other",
                "title": "Also in the news",
                "pro": False,
                "locked": False,
                "stories": other,
            }
        )
    return sections


_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def _paragraphs(text: str) -> str:
    """``text`` with its paragraphs split by exactly one blank line, each without spaces at
    its ends: an editor's note with three blank lines in a row made an empty paragraph."""
    return "\n\n".join(
        part.strip() for part in _PARAGRAPH_BREAK.split(text.strip()) if part.strip()
    )


def _edition_url(edition: Edition, base_url: str) -> str:
    if base_url:
        return f"{base_url}/{edition.briefing}/{edition.edition}/index.html"
    return "index.html"


def _archive_url(edition: Edition, base_url: str) -> str:
    return f"{base_url}/{edition.briefing}/index.html" if base_url else "../index.html"


def right_to_left(text: str) -> bool:
    """Whether ``text``'s first strong character is right-to-left, as ``dir="auto"`` decides:
    a Hebrew word inside an English headline leaves it left-to-right."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind == "L":
            return False
        if kind in ("R", "AL"):
            return True
    return False


DARK_PAPER = "#12181f"
"""The page colour of the built-in theme in dark mode."""


def readable_on(colour: str, background: str, ratio: float = 4.5) -> str:
    """``colour`` (``#rgb`` or ``#rrggbb``), mixed with white or black in steps of 5 % until
    text in it has at least ``ratio`` (WCAG 2 contrast) on ``background``.

    A briefing's accent is chosen for a white page: the default #0b5a8a has 2.4:1 on the
    dark page, and needs lightening to be read there.
    """
    mix_with = (255, 255, 255) if _luminance(_rgb(background)) < 0.18 else (0, 0, 0)
    start, back = _rgb(colour), _luminance(_rgb(background))
    for step in range(21):
        mixed = tuple(round(c + (m - c) * step / 20) for c, m in zip(start, mix_with, strict=True))
        light, dark = sorted((_luminance(mixed), back), reverse=True)
        if (light + 0.05) / (dark + 0.05) >= ratio:
            return "#" + "".join(f"{c:02x}" for c in mixed)
    return "#" + "".join(f"{c:02x}" for c in mix_with)


def _rgb(colour: str) -> tuple[int, ...]:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return tuple(int(digits[n : n + 2], 16) for n in (0, 2, 4))


def _luminance(rgb: Sequence[int]) -> float:
    """WCAG 2 relative luminance."""
    linear = [
        v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in (c / 255 for c in rgb)
    ]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


TEASER_WORDS = 25
"""A teaser holds at most this many words of a PRO story's summary ..."""
TEASER_SHARE = 1 / 3
"""... and at most this share of it, counted in words and in characters alike."""
TEASER_CHARACTERS = 150
"""The most characters of a teaser cut from text without spaces (25 words of English)."""
UNSPACED = 30
"""A first "word" this long is text written without spaces (Chinese, Japanese, Thai)."""
ELLIPSIS = "…"


def teaser(summary: str) -> str:
    """What a free reader sees of a PRO story's ``summary``: its first words, never more
    than :data:`TEASER_WORDS` nor more than :data:`TEASER_SHARE` of the text (in words
    and in characters), then an ellipsis. It ends at a sentence end when one falls in the
    second half of that span. Empty for an empty summary.

    Text written without spaces (Chinese, Japanese, Thai: a first "word" of
    :data:`UNSPACED` characters or more) is cut by characters instead, never inside a
    combining sequence. A short summary is never given away whole: two words give ``…``.
    """
    words = summary.split()
    if not words:
        return ""
    text = " ".join(words)
    characters = int(len(text) * TEASER_SHARE)
    kept = words[: min(TEASER_WORDS, int(len(words) * TEASER_SHARE))]
    while kept and len(" ".join(kept)) > characters:
        kept.pop()
    if kept:
        ends = [n for n, word in enumerate(kept) if word.endswith((".", "!", "?", "։", "۔", "。"))]
        if ends and ends[-1] + 1 >= max(2, len(kept) // 2) and ends[-1] + 1 < len(kept):
            kept = kept[: ends[-1] + 1]
        return " ".join(kept) + " " + ELLIPSIS
    if len(words[0]) >= UNSPACED:  # no spaces to cut at: a third of the characters
        cut = min(characters, TEASER_CHARACTERS)
        while cut > 0 and _joins_previous(text[cut]):
            cut -= 1
        if cut:
            return text[:cut] + ELLIPSIS
    return ELLIPSIS


def _joins_previous(character: str) -> bool:
    """Whether ``character`` belongs with the one before it: a combining mark, a zero-width
    joiner or a variation selector, which a cut before it would orphan."""
    return (
        unicodedata.category(character) in ("Mn", "Mc", "Me")
        or character in "\u200c\u200d"
        or "\ufe00" <= character <= "\ufe0f"
    )
