"""An :class:`Edition` → web page, email and plain text, plus ``edition.json``.

Each edition is rendered twice, for free and for PRO readers, and its files fall in two
sets: the public ones (free renderings, and an ``edition.json`` whose PRO stories are
teasers), which may be served to anyone, and the private ones (PRO renderings, and the
whole ``edition.json`` that sending and the desk read back).

Jinja2 with autoescape and ``StrictUndefined``; every value a template prints
loses its control characters first, and every link to an article must be
http(s) (the stages upstream ensure both; this is the second lock). The email is MJML compiled by
mjml-python, then its CSS is inlined (css-inline) for clients that drop
``<style>``. Templates in ``settings.templates`` override the built-in theme
file by file.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2
from mjml import mjml2html

from ..config import Briefing, Theme
from ..errors import RenderError
from ..model import Edition, Source, Story, TopicMatch
from ..text import mime_body, safe_href
from .templates import _template, plain

PUBLIC_FILES = ("index.html", "email.html", "email.txt", "edition.json")
PRIVATE_FILES = ("index.pro.html", "email.pro.html", "email.pro.txt", "edition.json")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendered:
    """The files of one edition, as text, keyed by file name: ``public`` for the output
    folder (:data:`PUBLIC_FILES`), ``private`` for the private one (:data:`PRIVATE_FILES`)."""

    public: dict[str, str]
    private: dict[str, str]

    @property
    def files(self) -> dict[str, str]:
        """Every rendering by file name; ``edition.json`` is the whole one."""
        return {**self.public, **self.private}


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


UNSUBSCRIBE_LINK = "https://unsubscribe.invalid/__unsubscribe__"
PREFERENCES_LINK = "https://preferences.invalid/__preferences__"
VIEW_LINK = "https://view.invalid/__view__"
"""Placeholders in every email, replaced by each subscriber's own signed links when sent
(the view link, to the PRO web edition, only in the PRO rendering)."""
EMAIL_LIMIT = 100_000
"""Bytes the two bodies of a message may take as sent (:func:`sent_size`). Gmail clips a
message over 102 KB (104,448 bytes); the rest is room for headers, MIME boundaries and
each subscriber's own links."""
TIERS = ("free", "pro")
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


def render(
    edition: Edition, *, env: jinja2.Environment, timezone: str, layout: Layout = Layout()
) -> Rendered:
    """Every file of the edition: web page, email and text, free (public) and PRO (private),
    and its ``edition.json``, public (PRO stories as teasers) and whole (private)."""
    files: dict[str, dict[str, str]] = {}
    for tier in TIERS:
        suffix = "" if tier == "free" else ".pro"
        values = context(edition, timezone=timezone, layout=layout, tier=tier)
        made = files[tier] = {f"index{suffix}.html": _template(env, "web.html", values)}
        html, text = _email(edition, env, timezone, layout, tier, values)
        made[f"email{suffix}.html"], made[f"email{suffix}.txt"] = html, text
    files["free"]["edition.json"] = edition_json(edition, layout=layout)
    files["pro"]["edition.json"] = edition_json(edition)
    return Rendered(public=files["free"], private=files["pro"])


def _email(
    edition: Edition,
    env: jinja2.Environment,
    timezone: str,
    layout: Layout,
    tier: str,
    values: dict[str, Any],
) -> tuple[str, str]:
    """The email's HTML and text, with stories dropped from the end of both until they take
    at most :data:`EMAIL_LIMIT` bytes as sent."""

    def made(values: dict[str, Any]) -> tuple[str, str]:
        return _compile(_template(env, "email.mjml", values)), _template(env, "email.txt", values)

    html, text = made(values)
    if sent_size(html, text) <= EMAIL_LIMIT:
        return html, text
    low, high = 1, len(edition.stories) - 1
    best: tuple[str, str] | None = None
    while low <= high:  # the most stories that fit
        middle = (low + high) // 2
        trimmed = context(edition, timezone=timezone, layout=layout, tier=tier, shown=middle)
        candidate = made(trimmed)
        if sent_size(*candidate) <= EMAIL_LIMIT:
            best, low = candidate, middle + 1
        else:
            high = middle - 1
    if best is None:
        raise RenderError(
            f"{edition.briefing}: even one story makes an email over "
            f"{EMAIL_LIMIT:,} bytes as sent; check the email templates"
        )
    return best


def sent_size(*bodies: str) -> int:
    """Bytes ``bodies`` take in a message as ``deliver`` encodes them (:func:`mime_body`:
    quoted-printable or base64, CRLF line ends). It is what Gmail measures: 99.4 KB of
    HTML is 106.7 KB as quoted-printable."""
    return sum(len(mime_body(body)[1]) for body in bodies)


_INLINE_STYLE = re.compile(
    r"""<mj-style\b[^>]*\binline\s*=\s*["']inline["'][^>]*>(.*?)</mj-style>""", re.S
)


def _compile(mjml_source: str) -> str:
    """MJML → HTML, with the rules of ``<mj-style inline="inline">`` inlined, as MJML does.

    Only those: inlining the rest as well put MJML's reset (``table, td {…}``) on every cell
    again, a sixth of a long email; it stays in the ``<head>``, as do the dark-mode rules.
    """
    inline_css = "\n".join(_INLINE_STYLE.findall(mjml_source))
    try:
        compiled = mjml2html(_INLINE_STYLE.sub("", mjml_source))
    except Exception as exc:  # mjml-python raises a bare exception type
        raise RenderError(f"email.mjml: MJML did not compile: {exc}") from None
    html = compiled if isinstance(compiled, str) else str(compiled.html)
    # A stylesheet linked from the template (``mj-font``) is the mail client's to load:
    # rendering reaches no network, and the link stays.
    inliner = css_inline.CSSInliner(
        inline_style_tags=False,
        keep_style_tags=True,
        keep_link_tags=True,
        load_remote_stylesheets=False,
        extra_css=inline_css or None,
    )
    return str(inliner.inline(html))


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


_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")


def _paragraphs(text: str) -> str:
    """``text`` with its paragraphs split by exactly one blank line, each without spaces at
    its ends: an editor's note with three blank lines in a row made an empty paragraph."""
    return "\n\n".join(
        part.strip() for part in _PARAGRAPH_BREAK.split(text.strip()) if part.strip()
    )


def is_pro(story: Story, layout: Layout) -> bool:
    """Whether ``story`` is PRO material, a teaser for free readers: every story of a PRO
    briefing, and a story of a PRO section, the first of its topics in the layout's order
    being one of ``pro_sections`` (as :func:`_sections` places it)."""
    if layout.tier == "pro":
        return True
    home = next((topic for topic in layout.topics if topic in story.topics), None)
    return home is not None and home in layout.pro_sections


def _edition_url(edition: Edition, base_url: str) -> str:
    if base_url:
        return f"{base_url}/{edition.briefing}/{edition.edition}/index.html"
    return "index.html"


def _archive_url(edition: Edition, base_url: str) -> str:
    return f"{base_url}/{edition.briefing}/index.html" if base_url else "../index.html"


def edition_json(edition: Edition, *, layout: Layout | None = None) -> str:
    """The ``edition.json`` contract (``docs/edition-json.md``).

    With a ``layout``, the public document, for free readers: each PRO story
    (:func:`is_pro`) keeps its headline, outlet and times, but its summary is its
    :func:`teaser`, and its other sources, image and matches are left out, as in the
    free rendering. Without one, the whole document (``"tier": "pro"``), kept private.
    """
    public = layout is not None
    document = {
        "tier": "free" if public else "pro",
        "briefing": edition.briefing,
        "title": edition.title,
        "edition": edition.edition,
        "generated_at": _iso(edition.generated_at),
        "description": edition.description,
        "note": edition.note,
        "stories": [
            _story_json(story, pro=layout is not None and is_pro(story, layout), public=public)
            for story in edition.stories
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _lead_source(story: Story) -> tuple[Source, ...]:
    """The source whose link is the story's own (the lead comes first)."""
    return tuple(s for s in story.sources if s.url == story.url)[:1] or story.sources[:1]


def _story_json(story: Story, *, pro: bool, public: bool) -> dict[str, Any]:
    """One story of ``edition.json``; a PRO story of the public document as its teaser."""
    withheld = public and pro
    return {
        "id": story.id,
        "title": story.title,
        "url": story.url,
        "summary": teaser(story.summary) if withheld else story.summary,
        "topics": list(story.topics),
        "published": _iso(story.published),
        "sources": [
            {"feed": s.feed, "title": s.title, "url": s.url}
            for s in (_lead_source(story) if withheld else story.sources)
        ],
        "image": "" if withheld else story.image,
        "partial": story.partial,
        "update": story.update,
        "locked": withheld,
        "matches": []
        if withheld
        else [
            {"topic": m.topic, "term": m.term, "field": m.field, "weight": m.weight}
            | ({"source": m.source} if m.source else {})
            for m in story.matches
        ],
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
        "rtl": right_to_left(story.title),
        "teaser": teaser(story.summary),
        "image": safe_href(story.image),
        "locked": False,
        # the matches of the topics the story has: one below its threshold is no reason
        "why": ", ".join(sorted({_reason(m) for m in story.matches if m.topic in story.topics})),
    }


def _reason(match: TopicMatch) -> str:
    """``term (field)``, with the outlet when the term is in another outlet's article than
    the one whose headline is shown: "Baku (title, Daily Sabah)"."""
    where = f"{match.field}, {plain(match.source)}" if match.source else match.field
    return f"{match.term} ({where})"


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


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def is_whole(document: Any) -> bool:
    """Whether a decoded ``edition.json`` holds every story in full: the private one
    (``"tier": "pro"``), or one written before there was a public one (no ``tier``)."""
    return isinstance(document, dict) and document.get("tier", "pro") != "free"


def edition_from_json(text: str) -> Edition:
    """An :class:`Edition` read back from its ``edition.json`` (to send, or render again)."""
    document = json.loads(text)
    stories = []
    for item in document["stories"]:
        matches = tuple(
            TopicMatch(
                topic=m["topic"],
                term=m["term"],
                field=m["field"],
                weight=float(m["weight"]),
                source=m.get("source", ""),
            )
            for m in item.get("matches", [])
        )
        totals: dict[str, float] = {}
        for match in matches:
            totals[match.topic] = totals.get(match.topic, 0.0) + match.weight
        sources = tuple(
            Source(feed=s["feed"], title=s["title"], url=s["url"]) for s in item["sources"]
        )
        stories.append(
            Story(
                id=item["id"],
                title=item["title"],
                url=item["url"],
                summary=item["summary"],
                published=datetime.fromisoformat(item["published"]),
                topics=tuple(item["topics"]),
                scores=tuple(sorted(totals.items(), key=lambda kv: -kv[1])),
                matches=matches,
                sources=sources,
                member_urls=tuple(s.url for s in sources),
                image=item.get("image", ""),
                partial=bool(item.get("partial")),
                update=bool(item.get("update")),
            )
        )
    return Edition(
        briefing=document["briefing"],
        title=document["title"],
        description=document.get("description", ""),
        edition=document["edition"],
        generated_at=datetime.fromisoformat(document["generated_at"]),
        stories=tuple(stories),
        note=document.get("note", ""),
    )
