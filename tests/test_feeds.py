"""Feed bytes → Entry: fixtures stored beside their expected parse."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from briefings import dedupe, feeds
from briefings.errors import FeedParseError
from briefings.model import Entry

from .conftest import DATA

SEEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8000"


def parse(name: str, url: str = f"{BASE}/feeds/x.rss") -> list[Entry]:
    body = (DATA / "feeds" / name).read_bytes()
    return feeds.parse_feed(
        body, feed_id="x", url=url, seen_at=SEEN, canonical=dedupe.canonical_url
    )


def test_rss_is_sanitized_dated_and_resolved() -> None:
    expected = json.loads((DATA / "feeds" / "hostile.expected.json").read_text())
    entries = parse("hostile.rss")
    assert len(entries) == len(expected)  # the repeated id kept its first item only
    for entry, want in zip(entries, expected, strict=True):
        assert entry.guid == want["guid"]
        assert entry.title == want["title"]
        assert entry.url == BASE + want["url_path"]
        assert entry.canonical_url == BASE + want["canonical_path"]
        assert entry.summary == want["summary"]
        published = SEEN.isoformat() if want["published"] == "FIRST_SEEN" else want["published"]
        assert entry.published.isoformat() == published
        assert entry.published.tzinfo is not None
        assert entry.dated is want["dated"]
    text = " ".join(e.summary + e.title for e in entries)
    for hostile in ("<script", "alert", "onerror", "javascript:", "<style", "<"):
        assert hostile not in text


def test_atom_content_and_html_titles() -> None:
    [entry] = parse("atom.xml")
    [want] = json.loads((DATA / "feeds" / "atom.expected.json").read_text())
    for key, value in want.items():
        actual = getattr(entry, key)
        assert (actual.isoformat() if isinstance(actual, datetime) else actual) == value, key
    assert "iframe" not in entry.content


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            b"<!doctype html><html><head><title>Home</title></head><body>Hi</body></html>",
            "not a feed: got an HTML page",
        ),
        (b"", "not a feed: empty response"),
        (b"<rss version='2.0'><channel><title>Broken</title><item><title>x</ite", "malformed feed"),
        (b"just some text", "not a feed"),
    ],
)
def test_not_a_feed(body: bytes, reason: str) -> None:
    with pytest.raises(FeedParseError) as caught:
        feeds.parse_feed(
            body, feed_id="x", url=f"{BASE}/bad", seen_at=SEEN, canonical=dedupe.canonical_url
        )
    assert caught.value.reason.startswith(reason), caught.value.reason
    assert str(caught.value).startswith(f"{BASE}/bad: ")


def test_html_to_text_keeps_paragraphs_and_drops_code() -> None:
    markup = "<div>One<br>two</div><script>bad()</script><p>Three &amp; four</p>"
    assert feeds.html_to_text(markup) == "One\n\ntwo\n\nThree & four"


def test_recoverable_errors_keep_the_entries() -> None:
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>T &nbsp; x</title>"
        b"<item><title>Baku &mdash; news</title><link>http://127.0.0.1/a</link></item>"
        b"</channel></rss>"
    )
    [entry] = feeds.parse_feed(
        body, feed_id="x", url=f"{BASE}/f", seen_at=SEEN, canonical=dedupe.canonical_url
    )
    assert entry.title == "Baku — news"


def test_a_date_in_the_future_becomes_the_first_seen_time() -> None:
    body = (
        b"<rss version='2.0'><channel><title>T</title><item><title>Soon</title>"
        b"<link>http://127.0.0.1/a</link><pubDate>Mon, 01 Jan 2090 00:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    [entry] = feeds.parse_feed(
        body, feed_id="x", url=f"{BASE}/f", seen_at=SEEN, canonical=dedupe.canonical_url
    )
    assert (entry.published, entry.dated) == (SEEN, False)


def test_plain_text_stays_text_and_stray_brackets_are_text() -> None:
    body = (
        b"<rss version='2.0'><channel><title>T</title><item>"
        b"<title>Why the &lt;iframe&gt; and &lt;script&gt; tags matter to Turkey's tech"
        b" sector</title><link>http://127.0.0.1/a</link>"
        b"<description>&lt;p&gt;If x&lt;y and y&gt;z, then x &lt; z.&lt;/p&gt;"
        b"&lt;table&gt;&lt;tr&gt;&lt;th&gt;Indicator&lt;/th&gt;&lt;th&gt;Value&lt;/th&gt;&lt;/tr&gt;"
        b"&lt;tr&gt;&lt;td&gt;Inflation&lt;/td&gt;&lt;td&gt;48%&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;"
        b"</description></item>"
        b"<item><title>x&lt;y and y&gt;z</title><link>http://127.0.0.1/b</link></item>"
        b"</channel></rss>"
    )
    first, second = feeds.parse_feed(
        body, feed_id="x", url=f"{BASE}/f", seen_at=SEEN, canonical=dedupe.canonical_url
    )
    assert first.title == "Why the <iframe> and <script> tags matter to Turkey's tech sector"
    assert second.title == "x<y and y>z"
    assert first.summary == "If x<y and y>z, then x < z.\n\nIndicator | Value\n\nInflation | 48%"


def test_html_to_text_reads_plain_text_as_it_is() -> None:
    assert feeds.html_to_text("AT&amp;T <b>", "text/plain") == "AT&amp;T <b>"
    assert feeds.html_to_text("<b>Bold</b> and <o:p>office</o:p>") == "Bold and office"
    assert feeds.html_to_text("<table><tr><td>a</td><td>b</td></tr></table>") == "a | b"
