"""Feed bytes → :class:`Entry` via feedparser; no network.

Feed HTML is untrusted: it goes through nh3 before anything else sees it, and
entries carry plain text only, without control characters, and http(s) links
only. Dates become aware UTC; an entry without a date gets the time it was
first seen and ``dated=False``.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import feedparser
import nh3

from .errors import FeedParseError
from .model import Entry
from .text import printable, web_link

FUTURE_SLACK = timedelta(minutes=10)
_BLOCK_TAGS = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
_BLOCK_BREAK = re.compile(r"<(?:/?(?:p|div|li|h[1-6]|blockquote|tr)|br\s*/?)>", re.IGNORECASE)
# Dropped with everything inside: their content is code, or markup kept as raw text
# (``<noscript><img onerror=…></noscript>`` would otherwise come out as that text).
_DROPPED_WITH_CONTENT = {
    "script", "style", "noscript", "template", "iframe", "noembed", "noframes", "object",
    "embed", "svg", "math", "textarea", "select", "xmp", "plaintext", "title",
}  # fmt: skip
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*(?:\n\s*)*")
# A numeric character reference to a surrogate or past U+10FFFF makes feedparser raise
# instead of recovering, losing the whole feed for one bad character.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")


# Names that start a tag after "<"; any other "<" is text (see html_to_text).
_HTML_ELEMENTS = {
    "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "base",
    "basefont", "bdi", "bdo", "big", "blink", "blockquote", "body", "br", "button",
    "canvas", "caption", "center", "cite", "code", "col", "colgroup", "data", "datalist",
    "dd", "del", "details", "dfn", "dialog", "dir", "div", "dl", "dt", "em", "embed",
    "fieldset", "figcaption", "figure", "font", "footer", "form", "frame", "frameset", "h1",
    "h2", "h3", "h4", "h5", "h6", "head", "header", "hgroup", "hr", "html", "i", "iframe",
    "image", "img", "input", "ins", "isindex", "kbd", "keygen", "label", "legend", "li",
    "link", "listing", "main", "map", "mark", "marquee", "math", "menu", "menuitem", "meta",
    "meter", "nav", "nobr", "noembed", "noframes", "noscript", "object", "ol", "optgroup",
    "option", "output", "p", "param", "picture", "plaintext", "pre", "progress", "q", "rb",
    "rp", "rt", "rtc", "ruby", "s", "samp", "script", "search", "section", "select", "slot",
    "small", "source", "span", "strike", "strong", "style", "sub", "summary", "sup", "svg",
    "table", "tbody", "td", "template", "textarea", "tfoot", "th", "thead", "time", "title",
    "tr", "track", "tt", "u", "ul", "var", "video", "wbr", "xmp",
}  # fmt: skip
_TAG_OPEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:._-]*)")
_CELL_GAP = re.compile(r"</t[dh]>\s*<t[dh]>", re.IGNORECASE)
_CELL = re.compile(r"</?t[dh]>", re.IGNORECASE)


def html_to_text(markup: str, kind: str = "text/html") -> str:
    """Untrusted HTML → plain text with paragraphs kept as blank-line breaks.

    nh3 drops scripts, styles and every attribute first; only then are the few
    kept block tags turned into line breaks, and table cells into `` | ``. A ``<``
    before anything but an HTML element's name (or a namespaced or custom one:
    ``o:p``, ``my-card``) is text: ``x<y and y>z`` is a comparison. Text without a tag
    skips nh3, and so does a ``kind`` of ``text/plain`` (feedparser's type for a title
    that is text), which has no markup and no character references left.
    """
    if not markup:
        return ""
    if kind == "text/plain":
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    elif "<" in markup:
        cleaned = nh3.clean(
            _TAG_OPEN.sub(_tag_or_text, markup),
            tags=_BLOCK_TAGS | {"td", "th"},
            clean_content_tags=_DROPPED_WITH_CONTENT,
            attributes={},
            strip_comments=True,
        )
        cleaned = _CELL.sub(" ", _CELL_GAP.sub(" | ", cleaned))
        markup = _TAG.sub("", _BLOCK_BREAK.sub("\n\n", cleaned))
    else:  # as an HTML parser reads line ends
        markup = markup.replace("\r\n", "\n").replace("\r", "\n")
    text = html.unescape(markup) if "&" in markup and kind != "text/plain" else markup
    text = _SPACES.sub(" ", printable(text))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _tag_or_text(found: re.Match[str]) -> str:
    name = found[2].lower()
    if name in _HTML_ELEMENTS or ":" in name or "-" in name:
        return found[0]
    return "&lt;" + found[0][1:]


def one_line(text: str) -> str:
    """Collapse every run of whitespace, newlines included, to one space; drop control
    characters."""
    return " ".join(printable(text).split())


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """The outcome of parsing one feed body: its entries, or why it is no feed."""

    entries: tuple[Entry, ...] = ()
    error: str = ""


def parse_outcome(
    body: bytes,
    *,
    feed_id: str,
    url: str,
    seen_at: datetime,
    canonical: Callable[[str], str],
    content_type: str = "",
) -> Parsed:
    """:func:`parse_feed` that returns its failure instead of raising: for worker processes."""
    try:
        entries = parse_feed(
            body,
            feed_id=feed_id,
            url=url,
            seen_at=seen_at,
            canonical=canonical,
            content_type=content_type,
        )
    except FeedParseError as exc:
        return Parsed(error=exc.reason)
    return Parsed(entries=tuple(entries))


def parse_feed(
    body: bytes,
    *,
    feed_id: str,
    url: str,
    seen_at: datetime,
    canonical: Callable[[str], str],
    content_type: str = "",
) -> list[Entry]:
    """Parse one feed body; raise :class:`FeedParseError` if it is no feed at all."""
    headers = {"content-type": content_type} if content_type else {}
    # No base URI is given: relative links are resolved against the feed's URL in _entry
    # (web_link), which costs a fifth of what feedparser spends resolving every element.
    # Relative URIs inside the HTML are not resolved at all: html_to_text drops every tag
    # and attribute, so that would be wasted work.
    try:
        parsed = feedparser.parse(
            _CHAR_REF.sub(_valid_reference, body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser recovers from most trouble, and raises the rest
        raise FeedParseError(
            url, f"malformed feed: {type(exc).__name__}: {one_line(str(exc))[:120]}"
        ) from None
    if not parsed.entries and not parsed.get("version"):
        raise FeedParseError(url, _not_a_feed_reason(body, content_type, parsed))
    if parsed.get("bozo") and _truncated(body):
        # feedparser recovers what it can, but the last items of a cut-off feed are garbage
        raise FeedParseError(
            url,
            "malformed feed: the document ends before its closing tag "
            f"({one_line(str(parsed.get('bozo_exception')))[:120]})",
        )
    entries: dict[str, Entry] = {}
    for item in parsed.entries:
        entry = _entry(item, feed_id=feed_id, feed_url=url, seen_at=seen_at, canonical=canonical)
        if entry is not None:
            entries.setdefault(entry.guid, entry)  # a repeated id keeps its first item
    return list(entries.values())


def _entry(
    item: Any, *, feed_id: str, feed_url: str, seen_at: datetime, canonical: Callable[[str], str]
) -> Entry | None:
    link = web_link(str(item.get("link") or ""), feed_url)  # javascript: and data: go
    title = one_line(html_to_text(str(item.get("title") or ""), _kind(item, "title_detail")))
    summary = html_to_text(str(item.get("summary") or ""), _kind(item, "summary_detail"))
    content = "\n\n".join(
        html_to_text(str(c.get("value") or ""), str(c.get("type") or "text/html"))
        for c in item.get("content") or []
    )
    if not link and not title and not summary:
        return None
    guid = one_line(str(item.get("id") or "")) or link or _digest(title + summary)
    if content and summary and content.startswith(summary[:80]):
        summary = ""
    published = _date(item)
    if published is not None and published > seen_at + FUTURE_SLACK:
        published = None  # a date in the future is a broken clock, not news from tomorrow
    return Entry(
        feed_id=feed_id,
        guid=guid,
        url=link or f"{feed_url}#{_digest(guid)}",
        canonical_url=canonical(link) if link else f"{feed_url}#{_digest(guid)}",
        title=title or _first_words(summary or content),
        summary=summary,
        content=content,
        author=one_line(str(item.get("author") or "")),
        published=published or seen_at,
        dated=published is not None,
    )


def _kind(item: Any, detail: str) -> str:
    """feedparser's media type of one of an item's texts: ``text/plain`` or an HTML one."""
    return str((item.get(detail) or {}).get("type") or "text/html")


def newest(entries: list[Entry], count: int) -> list[Entry]:
    """At most ``count`` entries, the most recently published first kept."""
    if len(entries) <= count:
        return entries
    return sorted(entries, key=lambda e: e.published, reverse=True)[:count]


def _valid_reference(found: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = found.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return found.group(0)


def _date(item: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = item.get(key)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
    return None


def _truncated(body: bytes) -> bool:
    tail = body[-512:].rstrip().lower()
    return not tail.endswith((b"</rss>", b"</feed>", b"</rdf:rdf>", b"</rdf>"))


def _not_a_feed_reason(body: bytes, content_type: str, parsed: Any) -> str:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        return "not a feed: got an HTML page (is the URL the site rather than its feed?)"
    if not head:
        return "not a feed: empty response"
    if not head.startswith(b"<"):
        return "not a feed: the response is not XML"
    problem = parsed.get("bozo_exception")
    if problem is not None:
        return f"malformed feed: {one_line(str(problem))[:160]}"
    return "not a feed: no RSS or Atom elements found"


def _first_words(text: str, count: int = 12) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
