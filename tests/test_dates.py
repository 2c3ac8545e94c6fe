"""Feed dates in the region's spellings: Turkish, Azerbaijani and Russian month names,
zone names feedparser reads as UTC, and "GMT+3"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from briefings import dates, dedupe, feeds

SEEN = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("Cmt, 21 Kas 2026 10:00:00 +0300", "2026-11-21 07:00"),
        ("Pzt, 2 Mart 2026 08:15:00 +0200", "2026-03-02 06:15"),
        ("21 Mayıs 2026 10:00 GMT+03:00", "2026-05-21 07:00"),
        ("Сб, 21 ноя 2026 10:00:00 +0300", "2026-11-21 07:00"),
        ("21 ноября 2026 10:00 MSK", "2026-11-21 07:00"),
        ("21 İyun 2026 09:00 AZT", "2026-06-21 05:00"),
        ("Sat, 21 Nov 2026 10:00:00 IDT", "2026-11-21 07:00"),
        ("Sat, 21 Nov 2026 10:00:00 IST", "2026-11-21 08:00"),
        ("Sat, 21 Nov 2026 10:00:00 TRT", "2026-11-21 07:00"),
        ("Sat, 21 Nov 2026 10:00:00 GMT+3", "2026-11-21 07:00"),
        ("Sat, 21 Nov 2026 10:00:00 UTC-0530", "2026-11-21 15:30"),
    ],
)
def test_regional_spellings_are_read_in_utc(written: str, utc: str) -> None:
    parsed = dates.parse(written)
    assert parsed is not None
    assert datetime(*parsed[:6]).strftime("%Y-%m-%d %H:%M") == utc


@pytest.mark.parametrize(
    "written",
    [
        "Sat, 21 Nov 2026 10:00:00 +0300",  # feedparser reads these itself
        "21 May 2026 10:00 MET",
        "2026-11-21T10:00:00+03:00",
        "Sat, 21 Nov 2026 10:00:00 GMT",
        "not a date",
        "Kas",
        "",
    ],
)
def test_what_feedparser_reads_is_left_to_it(written: str) -> None:
    assert dates.parse(written) is None


@given(st.text(max_size=60))
def test_any_text_gives_a_time_or_none(written: str) -> None:
    parsed = dates.parse(written)
    assert parsed is None or 1 <= parsed.tm_year <= 9999


def test_a_turkish_feed_keeps_its_dates() -> None:
    body = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Ege Postası</title><link>http://127.0.0.1/</link>
<item><title>Liman ihalesi ertelendi</title><link>http://127.0.0.1/a</link>
<pubDate>Cmt, 21 Kas 2026 10:00:00 +0300</pubDate></item>
<item><title>Köprü trafiğe açıldı</title><link>http://127.0.0.1/b</link>
<pubDate>Sat, 21 Nov 2026 11:30:00 TRT</pubDate></item>
</channel></rss>""".encode()
    entries = feeds.parse_feed(
        body,
        feed_id="ege",
        url="http://127.0.0.1/rss",
        seen_at=SEEN,
        canonical=dedupe.canonical_url,
    )
    assert [(e.published, e.dated) for e in entries] == [
        (datetime(2026, 11, 21, 7, 0, tzinfo=UTC), True),
        (datetime(2026, 11, 21, 8, 30, tzinfo=UTC), True),
    ]
