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
import textwrap
import traceback
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import css_inline
import jinja2
import markupsafe
from feedgen.feed import FeedGenerator
from mjml import mjml2html

from .config import Briefing, Theme
from .errors import RenderError
from .model import Edition, Source, Story, TopicMatch
from .text import mime_body, printable, safe_href

TEMPLATE_FILES = ("web.html", "email.mjml", "email.txt", "archive.html", "catalogue.html")


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


def builtin_templates() -> Path:
    """The folder of the built-in theme.

    ``templates/`` at the top of the source tree; a wheel carries it as
    ``briefings/templates/`` (see ``[tool.setuptools.package-dir]``).
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "templates", here.parent / "templates"):
        if (folder / "web.html").is_file():
            return folder
    raise RenderError(f"the built-in templates are missing from {here}; reinstall briefings")


def environment(override: Path | None = None) -> jinja2.Environment:
    """The Jinja2 environment: user templates first, then the built-in theme."""
    folders = [str(override)] if override is not None else []
    folders.append(str(builtin_templates()))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        autoescape=jinja2.select_autoescape(["html", "mjml", "xml"], default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_printable,
    )
    env.filters["wrap"] = wrap
    return env


def _printable(value: Any) -> Any:
    """Every printed string without control characters (XML, so MJML and Atom, cannot hold
    them) and without explicit bidi controls (see :func:`plain`)."""
    if isinstance(value, markupsafe.Markup):
        return markupsafe.Markup(plain(value))
    return plain(value) if isinstance(value, str) else value


_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """``text`` as :func:`text.printable` leaves it, also without explicit bidi embeddings,
    overrides and isolates (U+202A–U+202E, U+2066–U+2069).

    A feed's unbalanced U+202E would reverse everything after it on the line: the
    headline, the outlet's name beside it. The templates isolate inserted strings
    themselves (``dir="auto"``, ``<bdi>``).
    """
    return _BIDI_CONTROLS.sub("", printable(text))


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


def wrap(text: str, width: int = 72, indent: str = "") -> str:
    """Plain text wrapped for people: paragraphs kept, lines at most ``width`` wide."""
    paragraphs = [" ".join(p.split()) for p in text.split("\n\n")]
    return "\n\n".join(
        textwrap.fill(
            p,
            width=width,
            initial_indent=indent,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        for p in paragraphs
        if p
    )


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


def load(env: jinja2.Environment, name: str) -> jinja2.Template:
    """The template ``name``, compiled; a file that cannot be read or compiled is a
    :class:`RenderError` of one line naming the file (and line, for a syntax error)."""
    try:
        return env.get_template(name)
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound, UnicodeDecodeError) as exc:
        raise _unloadable(env, name, exc) from None
    except OSError as exc:
        raise RenderError(f"{_found(env, name)}: cannot read: {exc.strerror or exc}") from None


def _unloadable(env: jinja2.Environment, name: str, exc: Exception) -> RenderError:
    """One line for a template (``name``, or one it includes) that cannot be loaded."""
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return RenderError(f"{exc.filename or name}:{exc.lineno}: {exc.message}")
    if isinstance(exc, jinja2.TemplateNotFound):
        return RenderError(
            f"template not found: {exc.name} (wanted by {name}; looked in "
            f"{', '.join(_folders(env))}); add the file to settings.templates or "
            "remove the reference"
        )
    assert isinstance(exc, UnicodeDecodeError)  # an editor's file saved as Windows-1252
    return RenderError(
        f"{_found(env, name)}: not UTF-8 text (byte {exc.start}: {exc.reason}); save it as UTF-8"
    )


def _folders(env: jinja2.Environment) -> list[str]:
    return [str(folder) for folder in getattr(env.loader, "searchpath", [])]


def _found(env: jinja2.Environment, name: str) -> str:
    """The file the loader reads for ``name``: the first folder that has it."""
    for folder in _folders(env):
        if (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    return name


def _template(env: jinja2.Environment, name: str, values: dict[str, Any]) -> str:
    template = load(env, name)
    try:
        return template.render(values)
    except RenderError:
        raise
    except (jinja2.TemplateSyntaxError, jinja2.TemplateNotFound) as exc:  # an included file
        raise _unloadable(env, name, exc) from None
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{_where(exc, name)}: {exc.message}") from None
    except RecursionError as exc:  # {% extends "web.html" %} in the editor's own web.html
        where = _where(exc, name).rsplit(":", 1)[0]
        raise RenderError(
            f"{where}: extends, includes or calls itself without end; a file in "
            f"settings.templates replaces the built-in one of its name, so it cannot build "
            "on it: copy the built-in file and change the copy"
        ) from None
    except Exception as exc:  # a template's own runtime error: 1 / 0, a filter given nonsense
        raise RenderError(f"{_where(exc, name)}: {exc}") from None


def _where(exc: BaseException, name: str) -> str:
    """``file:line`` of the template line that raised ``exc`` (Jinja2 puts the template's
    frames into the traceback), or ``name`` alone when none is found."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.endswith(".py") and Path(frame.filename).is_file()
    ]
    if not frames:
        return name
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def specimen(briefing: Briefing, *, now: datetime) -> Edition:
    """A made-up edition of ``briefing`` that reaches every part of its templates: enough
    stories for headlines, a lead with its image, a weekly's top four and sections of each
    of its topics; other outlets, an update, a feed-text-only story, a right-to-left
    headline, a story of no topic of the briefing, and a note. ``check`` renders it."""
    topics = [*briefing.topics, *briefing.pro_sections] or ["specimen"]
    stories = []
    for n in range(10):
        outlets = 1 + n % 3
        title = "כותרת לדוגמה" if n == 3 else f"Specimen story {n + 1}"
        sources = tuple(
            Source(feed=f"Outlet {k + 1}", title=title, url=f"https://example.org/{n}/{k}")
            for k in range(outlets)
        )
        topic = topics[n % len(topics)] if n < 9 else "specimen-other"
        stories.append(
            Story(
                id=f"specimen-{n}",
                title=title,
                url=sources[0].url,
                summary=f"What happened in story {n + 1}. Who said what, and what comes next.",
                published=now - timedelta(hours=n),
                topics=(topic,),
                scores=((topic, 3.0),),
                matches=(TopicMatch(topic=topic, term="Specimen", field="title", weight=3.0),),
                sources=sources,
                member_urls=tuple(source.url for source in sources),
                image="https://example.org/lead.jpg" if n == 0 else "",
                partial=n == 2,
                update=n == 1,
            )
        )
    return Edition(
        briefing=briefing.id,
        title=briefing.title,
        description=briefing.description,
        edition=f"{now:%Y-%m-%d-%H%M}",
        generated_at=now,
        stories=tuple(stories),
        note="The editor's first paragraph.\n\nAnd a second one.",
    )


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
            "date_label": f"{e.generated_at.astimezone(zone):%A %d %B %Y, %H:%M}",
        }
        for e in editions
    ]
    page = _template(env, "archive.html", {"briefing": briefing, "editions": items})
    return {"index.html": page, "feed.xml": _atom(briefing, editions, base_url)}


def catalogue(
    briefings: Sequence[Briefing],
    listings: Mapping[str, list[Listed]],
    *,
    env: jinja2.Environment,
    timezone: str,
) -> str:
    """The output folder's ``index.html``: every briefing and its latest edition."""
    zone = ZoneInfo(timezone)
    rows: list[dict[str, Any]] = []
    for briefing in briefings:
        listed = listings.get(briefing.id) or []
        latest = listed[0] if listed else None
        label = f"{latest.generated_at.astimezone(zone):%d %B %Y, %H:%M}" if latest else ""
        rows.append(
            {"briefing": briefing, "latest": latest, "count": len(listed), "date_label": label}
        )
    return _template(env, "catalogue.html", {"rows": rows})


def _atom(briefing: Briefing, editions: list[Listed], base_url: str) -> str:
    """The Atom feed written as ``<briefing>/feed.xml``. Without a base URL its links are
    relative to that place: an edition is ``<edition>/index.html`` beside it."""
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
        entry.title(plain(f"{briefing.title} · {listed.edition}"))
        entry.link(href=url)
        entry.published(listed.generated_at)
        entry.updated(listed.generated_at)
        entry.summary(plain(" · ".join(listed.headlines)) or "No stories.")
    if not editions:
        feed.updated(datetime.now(UTC))
    atom: bytes = feed.atom_str(pretty=True)
    return atom.decode("utf-8")


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
