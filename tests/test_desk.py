"""The editors' desk: driven in headless Chromium, and held shut against other sites."""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from briefings import config as configuration
from briefings import corpus, desk, editing, pipeline, render
from briefings.model import Choice, Subscriber, TopicMatch
from briefings.store import Store

from .conftest import NOW, LocalServer
from .editions import edition

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts" / "screenshots"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# The pure part: revising an edition and comparing two.


def test_revise_drops_pins_and_orders() -> None:
    made = edition(5)
    ids = [s.id for s in made.stories]
    choices = [
        Choice(story_id=ids[1], dropped=True),
        Choice(story_id="another", urls=made.stories[3].member_urls, pinned=True),
        Choice(story_id=ids[4], rank=0),
    ]
    revised = editing.revise(made, choices, note="A note.")
    assert [s.id for s in revised.stories] == [ids[3], ids[4], ids[0], ids[2]]
    assert revised.note == "A note."


def test_up_and_down_rank_every_story() -> None:
    made = edition(3)
    ids = [s.id for s in made.stories]
    decided = editing.decide(made, [], ids[2], "up")
    assert [(c.story_id, c.rank) for c in decided] == [(ids[0], 0), (ids[2], 1), (ids[1], 2)]
    assert [s.id for s in editing.revise(made, decided).stories] == [ids[0], ids[2], ids[1]]
    with pytest.raises(ValueError, match="unknown action"):
        editing.decide(made, [], ids[0], "promote")


def test_diff_names_new_dropped_and_updated() -> None:
    before = edition(3)
    kept, gone, changed = before.stories
    after = replace(
        before,
        stories=(
            kept,
            replace(changed, title=changed.title + " as talks resume"),
            replace(edition(4).stories[3], update=False),
        ),
    )
    found = editing.diff(after, before)
    assert [s.id for s in found.new] == [after.stories[2].id]
    assert [s.id for s in found.dropped] == [gone.id]
    assert [s.id for s in found.updated] == [changed.id]
    assert editing.diff(before, None).new == before.stories


# The desk over HTTP.


@dataclass
class Served:
    base: str
    desk: desk.Desk
    config: configuration.Config
    store: Store


CONFIG = """[settings]
database = "briefings.db"
output = "out"
host_delay = 0
allow_private_networks = true

[delivery]
method = "outbox"
base_url = "https://briefings.example.org"

{feeds}
[briefings.daily]
title = "Daily Briefing"
schedule = "0 9 * * *"
window = "3d"
max_stories = 8
review = true
"""


@pytest.fixture
def served(sample_corpus: corpus.Corpus, tmp_path: Path) -> Iterator[Served]:
    with corpus.serve(sample_corpus, now=NOW) as site:
        feeds = "".join(
            f'[[feeds]]\nid = "{f.id}"\nname = "{f.name}"\nurl = "{f.url}"\n\n'
            for f in site.feeds()
        )
        path = tmp_path / "feeds.toml"
        path.write_text(CONFIG.format(feeds=feeds), encoding="utf-8")
        config = configuration.load(path)
        store = pipeline.open_store(config)
        run = pipeline.Run(config=config, store=store, now=NOW)
        [built] = pipeline.run_once(run)
    assert built.edition.edition == "2026-11-22-0900"
    editors = desk.Desk(config_path=path, store=store, now=lambda: NOW)
    httpd = desk.server(editors, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{editors.port}", editors, config, store)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        store.close()


def fetch(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_the_desk_needs_its_token_and_this_computer(served: Served) -> None:
    page = f"{served.base}/b/daily/2026-11-22-0900"
    assert fetch(page) == 403  # no cookie
    assert fetch(page, headers={"Cookie": f"{desk.COOKIE}=guess"}) == 403
    cookie = {"Cookie": f"{desk.COOKIE}={served.desk.token}"}
    assert fetch(page, headers=cookie) == 200
    # A rebinding name that points at 127.0.0.1 still carries its own Host header.
    assert fetch(page, headers={**cookie, "Host": "attacker.example"}) == 403
    approve = f"{page}/approve"
    assert fetch(approve, data=b"token=guess", headers=cookie) == 403
    forged_origin = {**cookie, "Origin": "http://attacker.example"}
    assert fetch(approve, data=f"token={served.desk.token}".encode(), headers=forged_origin) == 403
    broken_origin = {**cookie, "Origin": "http://[::1"}
    assert fetch(approve, data=f"token={served.desk.token}".encode(), headers=broken_origin) == 403
    assert served.store.edition("daily", "2026-11-22-0900").status == "draft"  # type: ignore[union-attr]


browser_only = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("BRIEFINGS_REQUIRE_BROWSER"),
    reason="chromium is not installed",
)


@pytest.fixture
def browser() -> Iterator[Any]:
    assert CHROMIUM is not None, "chromium is required (BRIEFINGS_REQUIRE_BROWSER is set)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


@browser_only
def test_an_editor_drops_a_story_writes_a_note_and_approves(
    served: Served, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # waits for the preview frame to load

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served.base}/?token={served.desk.token}")
    assert page.url == f"{served.base}/"
    page.click("text=2026-11-22-0900")
    assert page.inner_text("#status") == "draft"
    titles = page.locator(".story h3 a").all_inner_texts()
    assert len(titles) >= 3
    victim = titles[1]

    page.click(f'button[aria-label="Drop: {victim}"]')
    assert "Dropped" in page.inner_text(".flash")
    assert victim not in page.locator(".story h3 a").all_inner_texts()
    frame = page.frame_locator("#preview")
    expect(frame.locator("body")).to_contain_text(titles[0])
    expect(frame.locator("body")).not_to_contain_text(victim)  # the email as it will be sent

    page.fill('textarea[name="note"]', "Why we lead with the railway today.")
    page.click("text=Save note")
    assert "Note saved" in page.inner_text(".flash")
    expect(frame.locator("body")).to_contain_text("Why we lead with the railway today.")

    page.click("text=375 px")
    assert page.eval_on_selector("#preview", "e => e.getBoundingClientRect().width") == 375
    page.click("text=Plain text")
    expect(frame.locator("body")).to_contain_text("FROM THE EDITOR")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-edition.png"), full_page=False)

    page.click("text=Approve")
    assert page.inner_text("#status") == "approved"

    # The next build of this edition honours all three.
    run = pipeline.Run(config=served.config, store=served.store, now=NOW + timedelta(minutes=5))
    [again] = pipeline.build(run, ["daily"], names={"daily": "2026-11-22-0900"})
    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None and record.status == "approved"
    assert victim not in [s.title for s in again.edition.stories]
    assert again.edition.note == "Why we lead with the railway today."
    on_disk = render.edition_from_json((again.path / "edition.json").read_text(encoding="utf-8"))
    assert on_disk.note == again.edition.note
    # and a later edition keeps the story out, without the note meant for this one
    run = pipeline.Run(config=served.config, store=served.store, now=NOW + timedelta(days=1))
    [later] = pipeline.build(run, ["daily"])
    assert victim not in [s.title for s in later.edition.stories]
    assert later.edition.note == ""


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            f'<form id="f" method="post" action="{self.target}"><input name="token" '
            'value="guess"></form><script>document.getElementById("f").submit()</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@browser_only
def test_a_page_from_another_site_cannot_approve(served: Served, browser: Any) -> None:
    page = browser.new_page()
    page.goto(f"{served.base}/?token={served.desk.token}")  # the editor is signed in
    handler = type(
        "Attacker", (_Attacker,), {"target": f"{served.base}/b/daily/2026-11-22-0900/approve"}
    )
    evil = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # another origin: another port
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        page.wait_for_load_state("networkidle")
    finally:
        evil.shutdown()
        evil.server_close()
        thread.join()
    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None and record.status == "draft"


def test_template_edits_show_on_reload(served: Served, tmp_path: Path) -> None:
    cookie = {"Cookie": f"{desk.COOKIE}={served.desk.token}"}
    url = f"{served.base}/b/daily/2026-11-22-0900/render?view=text&tier=free"

    def text() -> str:
        request = urllib.request.Request(url, headers=cookie)
        with urllib.request.urlopen(request) as response:
            return str(response.read().decode())

    assert "Edited by the desk test" not in text()
    own = tmp_path / "mytemplates"
    own.mkdir()
    original = (render.builtin_templates() / "email.txt").read_text(encoding="utf-8")
    (own / "email.txt").write_text("Edited by the desk test\n" + original, encoding="utf-8")
    config = tmp_path / "feeds.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[settings]\n", '[settings]\ntemplates = "mytemplates"\n'
        ),
        encoding="utf-8",
    )
    assert text().startswith("Edited by the desk test")


def test_the_token_link_keeps_the_rest_of_its_query(served: Served) -> None:
    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any) -> None:
            return None  # show the redirect itself

    opener = urllib.request.build_opener(Stay)
    render_url = f"{served.base}/b/daily/2026-11-22-0900/render"
    for query, where in (
        (f"view=email&tier=free&token={served.desk.token}", "?view=email&tier=free"),
        (f"token={served.desk.token}", ""),
    ):
        with pytest.raises(urllib.error.HTTPError) as caught:
            opener.open(f"{render_url}?{query}")
        assert caught.value.code == 303
        assert caught.value.headers["Location"] == "/b/daily/2026-11-22-0900/render" + where
        caught.value.close()


@browser_only
def test_a_long_headline_stays_in_the_story_column(served: Served, browser: Any) -> None:
    import json

    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None
    document_path = Path(record.path) / "edition.json"
    document = json.loads(document_path.read_text(encoding="utf-8"))
    long_word = "Nakhchivan" * 24
    document["stories"][0]["title"] = f"Rail talks {long_word}"
    document["stories"][0]["sources"][0]["feed"] = long_word
    document_path.write_text(json.dumps(document), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served.base}/b/daily/2026-11-22-0900?token={served.desk.token}")
    stories = page.eval_on_selector(".story", "e => e.closest('section').getBoundingClientRect()")
    preview = page.eval_on_selector("#preview", "e => e.closest('section').getBoundingClientRect()")
    widest = page.eval_on_selector_all(
        ".story h3, .story .sources",
        "all => Math.max(...all.map(e => e.scrollWidth - e.clientWidth))",
    )
    assert stories["right"] <= preview["left"], (stories, preview)
    assert widest <= 0


def test_a_briefing_taken_out_of_feeds_toml_while_the_desk_runs(
    served: Served, tmp_path: Path
) -> None:
    config = tmp_path / "feeds.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("[briefings.daily]")], encoding="utf-8")
    cookie = {"Cookie": f"{desk.COOKIE}={served.desk.token}"}
    page = f"{served.base}/b/daily/2026-11-22-0900"
    for url in (page, f"{page}/render?view=web&tier=free", f"{served.base}/b/nope/2026"):
        request = urllib.request.Request(url, headers=cookie)
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        body = caught.value.read().decode()
        caught.value.close()
        assert caught.value.code == 404
        assert "no such briefing" in body
    request = urllib.request.Request(
        f"{page}/approve", data=f"token={served.desk.token}".encode(), headers=cookie
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)  # the change is refused; back to the page, now gone
    assert "no such briefing" in caught.value.read().decode()
    caught.value.close()
    assert served.store.edition("daily", "2026-11-22-0900").status == "draft"  # type: ignore[union-attr]


@pytest.mark.parametrize("length", ["-1", "abc", "²", "9" * 30])
def test_a_bad_content_length_is_refused_at_once(served: Served, length: str) -> None:
    import socket

    token = served.desk.token
    request = (
        f"POST /b/daily/2026-11-22-0900/approve HTTP/1.1\r\nHost: 127.0.0.1:{served.desk.port}\r\n"
        f"Content-Length: {length}\r\n\r\ntoken={token}"
    ).encode()
    with socket.create_connection(("127.0.0.1", served.desk.port), timeout=30) as connection:
        connection.sendall(request)  # and stays open: a body of -1 bytes never ends
        answer = connection.recv(4096)
    assert answer.startswith(b"HTTP/1.1 4"), answer[:80]
    assert served.store.edition("daily", "2026-11-22-0900").status == "draft"  # type: ignore[union-attr]


@browser_only
def test_the_desk_on_a_phone_with_right_to_left_headlines(served: Served, browser: Any) -> None:
    import json

    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None
    document_path = Path(record.path) / "edition.json"
    document = json.loads(document_path.read_text(encoding="utf-8"))
    hebrew = "הממשלה אישרה את תקציב הרכבת 2026"
    arabic = "وزراء الطاقة يجتمعون في بغداد"
    document["stories"][0]["title"] = hebrew
    document["stories"][1]["title"] = arabic
    document_path.write_text(json.dumps(document), encoding="utf-8")
    page = browser.new_page(viewport={"width": 320, "height": 700})
    page.goto(f"{served.base}/?token={served.desk.token}")
    for url in (f"{served.base}/", f"{served.base}/b/daily/2026-11-22-0900"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, url
        levels = page.eval_on_selector_all("h1, h2, h3", "all => all.map(e => +e.tagName[1])")
        assert levels[0] == 1 and levels.count(1) == 1, (url, levels)
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (url, levels)
    directions = page.eval_on_selector_all(
        ".story h3 a", "all => all.map(e => [e.textContent, getComputedStyle(e).direction])"
    )
    assert [hebrew, "rtl"] in directions and [arabic, "rtl"] in directions
    assert all(d == "ltr" for t, d in directions if t not in (hebrew, arabic))


BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll("th, td")) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.data.matchAll(/[\\p{L}\\p{N}]+/gu)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(word[0]);
      }
    }
  }
  return broken;
}"""
"""The words of the page's table cells that are split over two lines."""


@browser_only
@pytest.mark.parametrize("width", [375, 1280])
def test_the_front_page_keeps_its_words_whole(served: Served, browser: Any, width: int) -> None:
    """Every cell could break anywhere, so on a phone the table squeezed its columns and cut
    words in pieces: "Sche|dule", "Re|vie|w", "Europe/|Istanb|ul"."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(f"{served.base}/?token={served.desk.token}")
    assert page.evaluate(BROKEN_WORDS) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.screenshot(path=ARTIFACTS / f"desk-front-{width}.png", full_page=True)


def page_text(url: str, token: str) -> tuple[int, str]:
    """The status and text of a desk page, as the editor's browser gets it."""
    request = urllib.request.Request(url, headers={"Cookie": f"{desk.COOKIE}={token}"})
    try:
        with urllib.request.urlopen(request) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode()
        exc.close()
        return exc.code, body


def test_the_editor_sees_which_feeds_failed(
    served: Served, server: LocalServer, tmp_path: Path
) -> None:
    gone = server.url("/gone.xml")  # nothing answers there: 404
    site = server.add(
        "/site",
        "<!doctype html><html><body>Home</body></html>",
        headers={"Content-Type": "text/html"},
    )
    working = server.add("/working.xml", rss_of(server.base))
    config_path = tmp_path / "feeds.toml"
    config_path.write_text(
        CONFIG.format(
            feeds="".join(
                f'[[feeds]]\nname = "{name}"\nurl = "{url}"\n\n'
                for name, url in [
                    ("Working Outlet", working),
                    ("Gone Outlet", gone),
                    ("Home Page Outlet", site),
                ]
            )
        ),
        encoding="utf-8",
    )
    config = configuration.load(config_path)
    run = pipeline.Run(config=config, store=served.store, now=NOW + timedelta(minutes=5))
    pipeline.fetch_feeds(run)
    token = served.desk.token
    status, front = page_text(f"{served.base}/", token)
    assert status == 200
    assert "Gone Outlet" in front and "HTTP 404 Not Found" in front
    assert "Home Page Outlet" in front and "not a feed" in front
    status, edition_page = page_text(f"{served.base}/b/daily/2026-11-22-0900", token)
    assert status == 200
    assert " 2 feeds failed at the last fetch: Gone Outlet, Home Page Outlet." in " ".join(
        re.sub(r"<[^>]+>", "", edition_page).split()
    )
    assert "Working Outlet" not in front
    # Failing again ten minutes later: the table says since when, and when last tried.
    pipeline.fetch_feeds(
        pipeline.Run(config=config, store=served.store, now=NOW + timedelta(minutes=15))
    )
    zone = ZoneInfo(config.settings.timezone)
    first, last = (
        f"{(NOW + timedelta(minutes=m)).astimezone(zone):%Y-%m-%d %H:%M}" for m in (5, 15)
    )
    status, front = page_text(f"{served.base}/", token)
    row = " ".join(
        re.sub(r"<[^>]+>", " ", front.split("Gone Outlet", 1)[1].split("</tr>")[0]).split()
    )
    assert f"HTTP 404 Not Found {first} {zone.key} {last} {zone.key}" in row
    # The next fetch that succeeds clears it; the working feeds were never listed.
    server.add("/gone.xml", rss_of(server.base))
    server.add("/site", rss_of(server.base))
    pipeline.fetch_feeds(
        pipeline.Run(config=config, store=served.store, now=NOW + timedelta(minutes=20))
    )
    status, front = page_text(f"{served.base}/", token)
    assert "Gone Outlet" not in front and "failed at the last fetch" not in front


def rss_of(base: str) -> str:
    return (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        f"<link>{base}/</link></channel></rss>"
    )


def test_a_broken_feeds_toml_while_the_desk_runs_is_shown_then_picked_up(
    served: Served, tmp_path: Path
) -> None:
    config_path = tmp_path / "feeds.toml"
    good = config_path.read_text(encoding="utf-8")
    # Two mistakes an editor makes while the desk is open: a misspelt key, a quoted number.
    config_path.write_text(
        good.replace('window = "3d"', 'windw = "3d"').replace(
            "max_stories = 8", 'max_stories = "8"'
        ),
        encoding="utf-8",
    )
    token = served.desk.token
    for url in (f"{served.base}/", f"{served.base}/b/daily/2026-11-22-0900"):
        status, body = page_text(url, token)
        assert status == 500
        problems = re.findall(r"<li>(.*?)</li>", body)
        assert problems == [
            "feeds.toml: briefings.daily.windw: unknown key (did you mean &#39;window&#39;?)",
            "feeds.toml: briefings.daily.max_stories: expected an integer, got str &#39;8&#39;",
        ]
        assert "no restart is needed" in body
    config_path.write_text(good, encoding="utf-8")
    status, body = page_text(f"{served.base}/b/daily/2026-11-22-0900", token)
    assert status == 200


def test_why_puts_the_briefings_own_topics_first() -> None:
    from .editions import story

    # A Turkey briefing's story that also scored, higher, on two topics the briefing lacks.
    found = story(1, "Turkey's central bank holds its policy rate", ("turkey",), 1)
    found = replace(
        found,
        topics=("business-tech", "turkey", "banking"),
        scores=(("business-tech", 12.2), ("turkey", 8.0), ("banking", 7.0)),
        matches=(
            TopicMatch(topic="business-tech", term="central bank", field="title", weight=3.0),
            TopicMatch(topic="turkey", term="Turkey", field="title", weight=3.0),
            TopicMatch(topic="turkey", term="Istanbul", field="summary", weight=1.5),
            TopicMatch(topic="banking", term="central bank", field="title", weight=3.0),
        ),
    )
    [row] = desk.story_rows(
        replace(edition(1), stories=(found,)), [], reasons=("caucasus", "turkey")
    )
    assert [(w.topic, w.reason) for w in row["why"]] == [
        ("turkey", True),
        ("business-tech", False),
        ("banking", False),
    ]
    assert row["why"][0].terms == "Turkey (title) 3, Istanbul (summary) 1.5"
    # A briefing of every story: no topic is the reason, and the order is the story's.
    [row] = desk.story_rows(replace(edition(1), stories=(found,)), [], reasons=())
    assert [(w.topic, w.reason) for w in row["why"]] == [
        ("business-tech", False),
        ("turkey", False),
        ("banking", False),
    ]


def test_a_dropped_story_is_listed_by_its_headline(served: Served) -> None:
    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None
    dropped = served.desk.edition(record).stories[1]
    served.desk.change_story("daily", "2026-11-22-0900", dropped.id, "drop")
    status, body = page_text(f"{served.base}/b/daily/2026-11-22-0900", served.desk.token)
    assert status == 200
    listed = body[body.index("Dropped by the editor") :]
    assert html.escape(dropped.title) in listed  # not only its URL
    assert f'aria-label="Restore: {html.escape(dropped.title)}"' in listed
    served.desk.change_story("daily", "2026-11-22-0900", dropped.id, "restore")
    assert (
        "Dropped by the editor"
        not in page_text(f"{served.base}/b/daily/2026-11-22-0900", served.desk.token)[1]
    )


def test_counts_read_in_the_singular_for_one(served: Served) -> None:
    """The desk said "1 stories"."""
    assert desk._count(1, "story", "stories") == "1 story"
    assert desk._count(0, "story", "stories") == "0 stories"
    request = urllib.request.Request(
        f"{served.base}/", headers={"Cookie": f"{desk.COOKIE}={served.desk.token}"}
    )
    with urllib.request.urlopen(request) as response:
        page = response.read().decode()
    assert re.search(r"\b\d+ stor(y|ies)\b", page) and "1 stories" not in page


# Preview as a subscriber: what one reader will receive, rendered as the sender renders it.

WEEKLY = """
[briefings.industries]
title = "PRO Industry Weekly"
format = "industry"
tier = "pro"
topics = ["capital-markets", "venture-capital", "green-energy", "supply-chain", "leading-edge-tech", "oil-gas", "real-estate", "banking"]
schedule = "0 9 * * thu"
window = "7d"
max_stories = 4
"""


@pytest.fixture
def served_weekly(sample_corpus: corpus.Corpus, tmp_path: Path) -> Iterator[Served]:
    with corpus.serve(sample_corpus, now=NOW) as site:
        feeds = "".join(
            f'[[feeds]]\nid = "{f.id}"\nname = "{f.name}"\nurl = "{f.url}"\n\n'
            for f in site.feeds()
        )
        path = tmp_path / "feeds.toml"
        path.write_text(CONFIG.format(feeds=feeds) + WEEKLY, encoding="utf-8")
        config = configuration.load(path)
        store = pipeline.open_store(config)
        pipeline.run_once(pipeline.Run(config=config, store=store, now=NOW))
    readers = [
        Subscriber(
            email="Leyla@example.org",
            name="Leyla",
            tier="pro",
            briefings=("industries",),
            industries=("banking", "oil-gas"),
        ),
        Subscriber(email="omer@example.org", tier="pro", briefings=("industries",)),
        Subscriber(email="free@example.org", briefings=("industries", "daily")),
    ]
    store.save_subscribers(readers, now=NOW)
    editors = desk.Desk(config_path=path, store=store, now=lambda: NOW)
    httpd = desk.server(editors, port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{editors.port}", editors, config, store)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
        store.close()


def _stories_and_sections(text: str) -> list[str]:
    """A plain-text edition's section headings and numbered headlines, in order."""
    return [
        line.strip()
        for line in text.splitlines()
        if re.match(r"^\d+\. ", line) or (line.isupper() and len(line) > 3 and "=" not in line)
    ]


def test_preview_as_a_subscriber_shows_what_they_are_sent(
    served_weekly: Served, tmp_path: Path
) -> None:
    """The desk previews an edition as a named reader (their tier, their industries in their
    order) without sending anything; it is what the sender then sends them."""
    import email
    from email import policy

    name = served_weekly.store.latest_edition("industries")[0]  # type: ignore[index]
    token = served_weekly.desk.token
    render_url = f"{served_weekly.base}/b/industries/{name}/render"
    shown = {}
    for address in ("leyla@EXAMPLE.org", "omer@example.org", "free@example.org"):
        status, body = page_text(f"{render_url}?view=text&as={address}", token)
        assert status == 200, body
        shown[address.lower()] = html.unescape(body)
    assert not list(tmp_path.glob("outbox/*.eml"))  # a preview sends nothing
    assert served_weekly.store.ledger("industries", name) == {}
    leyla = _stories_and_sections(shown["leyla@example.org"])
    assert [line for line in leyla if line.isupper()][1:] == ["BANKING", "OIL & GAS"]
    assert "[PRO]" in shown["free@example.org"] and "[PRO]" not in shown["omer@example.org"]

    report = pipeline.send_edition(
        served_weekly.config,
        served_weekly.store,
        "industries",
        senders=lambda: pipeline.make_sender(served_weekly.config),
        secret=b"0123456789abcdef0123",
        now=NOW,
    )
    assert report.sent == 3
    for eml in tmp_path.glob("outbox/*.eml"):
        message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
        sent = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        to = message["To"].addresses[0].addr_spec.lower()
        assert _stories_and_sections(sent) == _stories_and_sections(shown.pop(to)), to
    assert shown == {}  # every reader's message was compared

    status, page = page_text(
        f"{served_weekly.base}/b/industries/{name}?view=email&as=leyla@example.org", token
    )
    assert status == 200
    words = " ".join(re.sub(r"<[^>]+>", "", html.unescape(page)).split())
    assert "As Leyla@example.org (Leyla) · PRO reader · nothing is sent" in words
    assert "Their industries, in their order: Banking, Oil & Gas" in words
    assert (
        f'src="/b/industries/{name}/render?view=email&amp;tier=free&amp;as=Leyla%40example.org"'
        in page
    )
    status, page = page_text(f"{served_weekly.base}/b/industries/{name}?as=omer@example.org", token)
    assert "No industries picked: they get the first 4 stories." in html.unescape(page)
    status, page = page_text(
        f"{served_weekly.base}/b/daily/2026-11-22-0900?as=free@example.org", token
    )
    assert "free@example.org" in page and "does not receive" not in page
    status, page = page_text(
        f"{served_weekly.base}/b/daily/2026-11-22-0900?as=nobody@example.org", token
    )
    assert status == 200
    assert "preview as: there is no subscriber nobody@example.org" in page
    status, body = page_text(f"{render_url}?view=text&as=nobody@example.org", token)
    assert status == 404 and "there is no subscriber" in body


@browser_only
def test_an_editor_previews_a_pro_readers_picks_in_the_browser(
    served_weekly: Served, browser: Any
) -> None:
    from playwright.sync_api import expect

    name = served_weekly.store.latest_edition("industries")[0]  # type: ignore[index]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{served_weekly.base}/b/industries/{name}?token={served_weekly.desk.token}")
    frame = page.frame_locator("#preview")
    upgrade = "Read the whole briefing with PRO"
    expect(frame.locator("body")).to_contain_text(upgrade)  # no one chosen: the free email
    page.fill('input[name="as"]', "leyla@example.org")
    page.click("text=Show")
    assert "Their industries, in their order: Banking, Oil & Gas" in page.inner_text("#as-reader")
    expect(frame.locator("body")).not_to_contain_text(upgrade)
    body = frame.locator("body").inner_text().lower()  # headings may be set in capitals
    assert "capital markets" not in body and body.index("banking") < body.index("oil & gas")
    page.click("text=Plain text")  # the reader stays chosen across the tabs
    assert "as=leyla%40example.org" in page.url.lower()
    expect(frame.locator("body")).to_contain_text("BANKING")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-preview-as.png"), full_page=False)
    page.click('a:text-is("Clear")')
    expect(page.locator("#as-reader")).to_have_count(0)
    assert "as=" not in page.url


def test_a_test_send_takes_an_address_with_its_name(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The desk's "send a test" refused ``Editor Desk <editor@example.net>``, pasted from
    a mail client, though a subscriber file takes it."""
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    message = served.desk.send_test("daily", "2026-11-22-0900", "Editor Desk <Editor@Example.NET>")
    assert message == "Test sent to Editor@example.net (as a PRO reader)."
    [sent] = (served.config.path.parent / "outbox").glob("*.eml")
    assert "Editor@example.net" in sent.read_text(encoding="utf-8")


def test_the_editor_sees_which_earlier_story_a_follow_up_continues_and_why(
    served: Served,
) -> None:
    from briefings.model import Earlier

    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None
    edition = served.desk.edition(record)
    earlier = Earlier(
        title="Strike on Gaza apartment block kills 20",
        url="https://wire.example/strike",
        edition="2026-11-21-0900",
        sent_at=NOW - timedelta(days=1),
        why="both name Jabalia; headline and lead alike (0.27); 10 hours later",
    )
    linked = replace(edition.stories[1], update=True, earlier=earlier)
    revised = replace(edition, stories=(edition.stories[0], linked, *edition.stories[2:]))
    served.desk.rewrite(served.config, served.config.briefing("daily"), record, revised)
    status, body = page_text(f"{served.base}/b/daily/2026-11-22-0900", served.desk.token)
    assert status == 200
    story = body[body.index(f'data-story="{linked.id}"') :]
    story = story[: story.index("</li>")]
    assert '<span class="badge">update</span>' in story
    assert (
        'Earlier: <a href="https://wire.example/strike" rel="noopener noreferrer" '
        'target="_blank" dir="auto">Strike on Gaza apartment block kills 20</a> '
        "(2026-11-21-0900) — both name Jabalia; headline and lead alike (0.27); 10 hours later"
    ) in story


def test_an_editors_change_to_a_draft_publishes_nothing(served: Served) -> None:
    # a draft is only in the private folder until it is approved; a change on the desk
    # wrote its public page into the output folder, for anyone to see before approval
    output = served.config.settings.output / "daily" / "2026-11-22-0900"
    assert not output.exists()
    record = served.store.edition("daily", "2026-11-22-0900")
    assert record is not None
    story = served.desk.edition(record).stories[0].id
    served.desk.change_story("daily", "2026-11-22-0900", story, "drop")
    assert not output.exists()
    assert served.store.edition("daily", "2026-11-22-0900").status == "draft"  # type: ignore[union-attr]
