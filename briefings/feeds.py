"""Feed bytes → :class:`Entry` via feedparser; no network.

Feed HTML is untrusted: it goes through nh3 before anything else sees it, and
entries carry plain text only, without control characters, and http(s) links
only. Dates become aware UTC; an entry without a date gets the time it was
first seen and ``dated=False``.
"""

from __future__ import annotations

import calendar
import codecs
import email.utils
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import feedparser

from . import dates
from .errors import FeedParseError
from .model import Entry
from .text import clipped, head_tags, html_to_text, one_line, visible, web_link

dates.register()
FUTURE_SLACK = timedelta(minutes=10)
TITLE_CHARACTERS = 300
"""The longest headline; a longer title is cut at a word, and ends with " …"."""
# A numeric character reference to a surrogate or past U+10FFFF makes feedparser raise
# instead of recovering, losing the whole feed for one bad character.
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"']([\w.:-]+)")
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_CLOSING_TAG = re.compile(rb"</(?:[\w.-]+:)?(?:rss|feed|rdf)\s*>\Z", re.IGNORECASE)
# The paragraph WordPress (Yoast) adds to the end of every feed text, in English and Turkish:
# "The post <title> appeared first on <site>." It is not the article's, and the site's name
# ("Jerusalem …", "Ankara …") counted for topics.
_WORDPRESS_TRAILER = re.compile(
    r"(?:\A|\n\n)(?:The post .+ (?:appeared first|first appeared) on .+"
    r"|.+ yazısı ilk (?:önce|olarak) .+ üzerinde (?:ortaya çıktı|yayınlandı))\.?\Z"
)


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
    zone: str = "",
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
            zone=zone,
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
    zone: str = "",
) -> list[Entry]:
    """Parse one feed body; raise :class:`FeedParseError` if it is no feed at all.

    ``zone`` is the time zone of dates written without an offset (``Feed.timezone``);
    feedparser reads them as UTC.
    """
    body, content_type = _charset_by_evidence(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    body = _repaired_utf8(body, content_type)
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
        raise FeedParseError(url, _not_a_feed_reason(body, content_type, parsed, url))
    if parsed.get("bozo") and _truncated(body):
        # feedparser recovers what it can, but the last items of a cut-off feed are garbage
        raise FeedParseError(
            url,
            "malformed feed: the document ends before its closing tag "
            f"({one_line(str(parsed.get('bozo_exception')))[:120]})",
        )
    entries: dict[str, Entry] = {}
    sites = _sites(url, str(parsed.feed.get("link") or ""))
    for item in parsed.entries:
        entry = _entry(
            item, feed_id=feed_id, feed_url=url, seen_at=seen_at, canonical=canonical, zone=zone
        )
        if entry is None:
            continue
        if page_url(entry) and not _on(entry.canonical_url, sites):
            entry = replace(entry, elsewhere=True)
        kept = entries.get(entry.guid)
        if kept is not None and _identity(kept) != _identity(entry):
            # A repeated id on a distinct item: feeds that reuse ids lost items silently.
            entry = _with_guid(entry, f"{entry.guid}#{_digest(_identity(entry))}", feed_url=url)
        entries.setdefault(entry.guid, entry)  # the same item again collapses
    return _fragments_kept(list(entries.values()))


def _sites(feed_url: str, site_url: str) -> frozenset[str]:
    """The hosts a feed speaks for: its own and its channel's ``<link>``, without ``www.``."""
    return frozenset(h for u in (feed_url, site_url) if (h := _host(u)))


def _host(url: str) -> str:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _on(url: str, sites: frozenset[str]) -> bool:
    """Whether ``url`` is on one of ``sites``, or a subdomain of one, or one of them is a
    subdomain of its host (``feeds.example.org`` speaks for ``example.org``)."""
    host = _host(url)
    return any(
        host == site or host.endswith("." + site) or site.endswith("." + host) for site in sites
    )


def _identity(entry: Entry) -> str:
    """What tells two items with one id apart: the link, or the text of a linkless one."""
    if page_url(entry):
        return entry.canonical_url
    return f"{entry.title}\n{entry.summary}\n{entry.content}"


def _with_guid(entry: Entry, guid: str, *, feed_url: str) -> Entry:
    if page_url(entry):
        return replace(entry, guid=guid)
    linkless = _linkless_url(feed_url, guid)
    return replace(entry, guid=guid, url=linkless, canonical_url=linkless)


def _fragments_kept(entries: list[Entry]) -> list[Entry]:
    """``entries``, where items that share a canonical URL but whose links differ by
    fragment (``/brief.html#item-1``, ``#item-2``) keep their fragment in it, so that each
    is stored: a canonical URL is one article."""
    fragments: dict[str, set[str]] = {}
    for entry in entries:
        if page_url(entry):
            fragments.setdefault(entry.canonical_url, set()).add(urlsplit(entry.url).fragment)
    return [
        replace(entry, canonical_url=f"{entry.canonical_url}#{fragment}")
        if page_url(entry)
        and len(fragments[entry.canonical_url]) > 1
        and (fragment := urlsplit(entry.url).fragment)
        else entry
        for entry in entries
    ]


def _entry(
    item: Any,
    *,
    feed_id: str,
    feed_url: str,
    seen_at: datetime,
    canonical: Callable[[str], str],
    zone: str = "",
) -> Entry | None:
    # javascript: and data: go. Without a <link>, feedparser takes a permalink <guid> as
    # the link: only an absolute one is an address ("8" would become feed_url/../8).
    link = web_link(str(item.get("link") or ""), feed_url if item.get("links") else "")
    link = _unwrapped(link)
    title = one_line(html_to_text(str(item.get("title") or ""), _kind(item, "title_detail")))
    if not visible(title):  # zero-width characters only: a headline no one can see or click
        title = ""
    summary = _without_trailer(
        html_to_text(str(item.get("summary") or ""), _kind(item, "summary_detail"))
    )
    content = "\n\n".join(
        _without_trailer(html_to_text(str(c.get("value") or ""), str(c.get("type") or "text/html")))
        for c in item.get("content") or []
    )
    if not link and not title and not summary:
        return None
    guid = one_line(str(item.get("id") or "")) or link or _digest(title + summary)
    if content and summary and content.startswith(summary[:80]):
        summary = ""
    published = _date(item, zone)
    if published is not None and published > seen_at + FUTURE_SLACK:
        published = None  # a date in the future is a broken clock, not news from tomorrow
    linkless = _linkless_url(feed_url, guid)
    return Entry(
        feed_id=feed_id,
        guid=guid,
        url=link or linkless,
        canonical_url=canonical(link) if link else linkless,
        title=clipped(title, TITLE_CHARACTERS) or _first_words(summary or content),
        # a whole post given as the title (bridges from Telegram or X) is the text too
        summary=summary or (title if len(title) > TITLE_CHARACTERS and not content else ""),
        content=content,
        author=one_line(str(item.get("author") or "")),
        published=published or seen_at,
        dated=published is not None,
        image=_image(item, feed_url),
    )


_GOOGLE = re.compile(r"(?:^|\.)google\.(?:com|co)?(?:\.?[a-z]{2})?$")
_REDIRECTORS = (
    (_GOOGLE, "/url", ("url", "q")),  # Google Alerts, Google News' older links
    (re.compile(r"(?:^|\.)bing\.com$"), "/news/apiclick.aspx", ("url",)),  # Bing News
)


def _unwrapped(link: str) -> str:
    """The article an aggregator's redirect ``link`` carries in its query
    (``https://www.google.com/url?…&url=https://outlet/article``), or ``link`` itself:
    readers get the outlet's link, and the article is known as the outlet's own."""
    if "url" not in link.lower():
        return link  # the test below parses every link of every feed
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    for hosts, path, keys in _REDIRECTORS:
        if hosts.search(host) and parts.path.lower() == path:
            query = dict(parse_qsl(parts.query))
            target = next((web_link(query[k]) for k in keys if query.get(k)), "")
            return target or link
    return link


def _image(item: Any, feed_url: str) -> str:
    """The item's picture: its first Media RSS image (``media:content``, then
    ``media:thumbnail``), else its first image enclosure; an http(s) link or "".

    One that says it is tiny (under 50 pixels a side) is a tracking pixel, not a picture:
    as the lead image, it told the tracker of every reader who opened the email. (An
    enclosure's ``length`` says nothing: feeds fill it with anything.)
    """
    # dict.get: FeedParserDict's own get maps keys, and works "enclosures" out of the links
    # on every call; this runs for every item of every feed.
    candidates = [
        str(m.get("url") or "")
        for m in dict.get(item, "media_content") or []
        if (m.get("medium") == "image" or str(m.get("type") or "").startswith("image/"))
        and not _tiny(m.get("width"), m.get("height"))
    ]
    candidates += [
        str(m.get("url") or "")
        for m in dict.get(item, "media_thumbnail") or []
        if not _tiny(m.get("width"), m.get("height"))
    ]
    candidates += [
        str(e.get("href") or "")
        for e in dict.get(item, "links") or []
        if e.get("rel") == "enclosure" and str(e.get("type") or "").startswith("image/")
    ]
    return next((link for c in candidates if (link := web_link(c, feed_url))), "")


def _tiny(width: Any, height: Any) -> bool:
    """Whether a picture's declared size (either side) is under 50 pixels."""
    return any(0 < _number(side) < 50 for side in (width, height))


def _number(value: Any) -> int:
    """A declared size as a whole number; 0 when there is none or it is no number."""
    text = str(value or "").strip().removesuffix("px")
    return int(text) if text.isdigit() else 0


def _without_trailer(text: str) -> str:
    """``text`` without the closing "The post … appeared first on …" paragraph WordPress
    adds to feeds; a text that is nothing else is kept."""
    if "first on" not in text and "appeared on" not in text and "yazısı ilk" not in text:
        return text  # the search below looks at every paragraph of every item
    found = _WORDPRESS_TRAILER.search(text)
    return text[: found.start()] if found and found.start() else text


def _linkless_url(feed_url: str, guid: str) -> str:
    """The URL of an entry without a link of its own: the feed's, with a digest of its id
    as the fragment (:func:`page_url` knows it by that)."""
    return f"{feed_url}#{_digest(guid)}"


def page_url(entry: Entry) -> str:
    """The page whose text is the entry's, without its fragment; ``""`` when it has none
    of its own: no link (its URL is the feed's, with a digest of its id as the fragment),
    or a link to one part of a page other items of its feed share (the fragment is then
    kept in its canonical URL), whose text would be theirs as much as its own."""
    if "#" in entry.canonical_url:
        return ""
    return entry.url.partition("#")[0]


def _kind(item: Any, detail: str) -> str:
    """feedparser's media type of one of an item's texts: ``text/plain`` or an HTML one."""
    return str((item.get(detail) or {}).get("type") or "text/html")


def newest(entries: list[Entry], count: int) -> list[Entry]:
    """At most ``count`` entries, the most recently published first kept."""
    if len(entries) <= count:
        return entries
    return sorted(entries, key=lambda e: e.published, reverse=True)[:count]


def _repaired_utf8(body: bytes, content_type: str) -> bytes:
    """``body`` with its invalid bytes replaced by U+FFFD when it is evidently UTF-8 (its
    valid multi-byte sequences outnumber its invalid bytes) and declares UTF-8 or nothing.

    feedparser reads a body that is not valid UTF-8 as windows-1252, whole: one stray byte
    in one item made every Turkish letter of the feed mojibake.
    """
    if body.isascii() or body.startswith((b"\xff\xfe", b"\xfe\xff")):
        return body
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body
    http = _HTTP_CHARSET.search(content_type)
    xml = _XML_ENCODING.search(body.removeprefix(b"\xef\xbb\xbf")[:512])
    labels = ([http.group(1)] if http else []) + ([xml.group(1).decode()] if xml else [])
    if not all(_is_utf8(label) for label in labels):
        return body
    text = body.decode("utf-8", "surrogateescape")
    invalid = len(_ESCAPED_BYTE.findall(text))
    if len(_NON_ASCII.findall(text)) - invalid <= invalid:
        return body
    return _ESCAPED_BYTE.sub("\ufffd", text).encode("utf-8")


_BOMS = ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _charset_by_evidence(body: bytes, content_type: str) -> tuple[bytes, str]:
    """``body`` and ``content_type`` with a charset the body itself proves, where the HTTP
    header says another: a byte order mark, or valid UTF-8 that its XML declaration says
    is UTF-8. Servers label every file with their own default (``windows-1254``), and
    feedparser believes the header of a ``text/xml`` feed over the document."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            text = body[len(bom) :].decode(codec, errors="replace")
            body = _XML_ENCODING_TEXT.sub(r"\1utf-8", text, count=1).encode("utf-8")
            return body, _with_utf8(content_type)
    header = _HTTP_CHARSET.search(content_type)
    if header is not None and _is_utf8(header.group(1)):
        return body, content_type  # the common case: nothing to settle
    declared = _XML_ENCODING.search(body[:512])
    if declared and _is_utf8(declared.group(1).decode()) and not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return body, content_type
        return body, _with_utf8(content_type)
    return body, content_type


_XML_ENCODING_TEXT = re.compile(r"^(\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'])[\w.:-]+")


def _with_utf8(content_type: str) -> str:
    """``content_type`` saying ``charset=utf-8``."""
    if not content_type:
        return ""
    if _HTTP_CHARSET.search(content_type):
        return _HTTP_CHARSET.sub("charset=utf-8", content_type, count=1)
    return f"{content_type}; charset=utf-8"


def _is_utf8(label: str) -> bool:
    try:
        return codecs.lookup(label).name == "utf-8"
    except LookupError:
        return False


def _valid_reference(found: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = found.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return found.group(0)


def _date(item: Any, zone: str = "") -> datetime | None:
    """The item's date, in UTC. ``zone`` is the feed's for dates written without an offset:
    feedparser reads an ISO one as UTC and gives up on an RFC 822 one."""
    for key in ("published", "updated", "created"):
        # dict.get: feedparser's own get maps a missing updated_parsed, with a warning
        parsed = dict.get(item, key + "_parsed")
        written = str(dict.get(item, key) or "")
        moment = None
        if isinstance(parsed, time.struct_time):
            try:
                moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (OverflowError, ValueError, OSError):
                continue
            if zone and written and not _ZONED.search(written):
                moment = moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
        elif zone and written:
            moment = _local_date(written, zone)
        if moment is not None:
            return moment
    return None


def _local_date(written: str, zone: str) -> datetime | None:
    """An RFC 822 date without a zone ("Sun, 22 Nov 2026 09:00:00"), read in ``zone``."""
    try:
        moment = email.utils.parsedate_to_datetime(written)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is not None:
        return None  # one feedparser could not read for another reason
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


_ZONED = re.compile(r"(?:[+-]\d{1,2}(?::?\d{2})?|[A-Za-z]+)\s*$")
"""The end of a date that names its zone: an offset ("+03:00", "GMT+3"), "Z", or a zone
name ("GMT", "EST", "TRT"); "Sun, 22 Nov 2026 09:00:00" and "2026-11-22T09:00" do not."""


def _truncated(body: bytes) -> bool:
    """True when the document does not end with a feed's closing tag, once what may
    follow it (whitespace, NUL padding, comments a cache plugin adds, processing
    instructions) is set aside."""
    end = len(body)
    while True:
        end = len(body[:end].rstrip(b" \t\r\n\x00"))
        for closing, opening in ((b"-->", b"<!--"), (b"?>", b"<?")):
            if body.endswith(closing, 0, end):
                start = body.rfind(opening, 0, end - len(closing))
                if start < 0:
                    return True
                end = start
                break
        else:
            return not _CLOSING_TAG.search(body, max(0, end - 64), end)


# What a site answers instead of its feed when it takes the reader for a bot (Cloudflare,
# Sucuri, DDoS-Guard), or wants an account: saying "is the URL the site?" sent people
# looking for another address.
_BOT_CHECK = re.compile(
    rb"<title>\s*(?:just a moment|attention required|checking your browser|ddos-guard"
    rb"|please wait|access denied|you are being redirected)"
    rb"|/cdn-cgi/challenge-platform|cf-browser-verification|sucuri website firewall",
    re.IGNORECASE,
)
_SIGN_IN_TITLE = re.compile(rb"<title>[^<]{0,80}\b(?:sign ?in|log ?in|login)\b", re.IGNORECASE)
_PASSWORD = re.compile(rb"<input\b[^>]*\btype\s*=\s*[\"']?password\b", re.IGNORECASE)


def _not_a_feed_reason(body: bytes, content_type: str, parsed: Any, url: str) -> str:
    head = body[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<html" in head or b"<!doctype html" in head or "html" in content_type:
        advertised = advertised_feeds(body, url)
        if advertised:
            shown = ", ".join(advertised[:3]) + (" …" if len(advertised) > 3 else "")
            return (
                "not a feed: got an HTML page, which names its feeds; put one of them in "
                f"feeds.toml: {shown}"
            )
        page = body[:100_000]
        if _BOT_CHECK.search(page):
            return (
                "not a feed: got a bot check instead; the site turns automated readers away "
                "(ask it to let settings.user_agent through)"
            )
        if _SIGN_IN_TITLE.search(page) or (len(body) < 30_000 and _PASSWORD.search(page)):
            return "not a feed: got a sign-in page instead; the feed needs an account"
        return "not a feed: got an HTML page (is the URL the site rather than its feed?)"
    if not head:
        return "not a feed: empty response"
    if not head.startswith(b"<"):
        return "not a feed: the response is not XML"
    problem = parsed.get("bozo_exception")
    if problem is not None:
        return f"malformed feed: {one_line(str(problem))[:160]}"
    return "not a feed: no RSS or Atom elements found"


_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml"}
)


def advertised_feeds(body: bytes, url: str) -> list[str]:
    """The feeds an HTML page names (``<link rel="alternate" type="application/rss+xml"
    href>`` and the like), as absolute http(s) links resolved against ``url``."""
    found: list[str] = []
    for tag in head_tags(body[:500_000].decode("utf-8", "replace"), "link"):
        rel = tag.get("rel", "").lower().split()
        kind = tag.get("type", "").lower().split(";")[0].strip()
        link = web_link(tag.get("href", ""), url)
        if "alternate" in rel and kind in _FEED_TYPES and link and link not in found:
            found.append(link)
    return found


def _first_words(text: str, count: int = 12) -> str:
    words = text.split()
    return " ".join(words[:count]) + (" …" if len(words) > count else "")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:16]
