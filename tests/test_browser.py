"""What a person sees: every format's email in headless Chromium at 600 px and 375 px.

Chromium is Debian's package (``.ci/run`` installs it when absent). Screenshots are kept in
``tests/artifacts/screenshots/`` for people to look at.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from briefings import render
from briefings.model import Source

from .editions import LAYOUTS, NOTE, edition

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).parent / "artifacts" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--allow-file-access-from-files",
]
# Headless Chromium will not make a window narrower than 500 px, so the email is laid out
# in an iframe of the width under test; this page measures it and leaves the answer in its
# title, for --dump-dom to print.
HOST = """<!doctype html><html><head><title>pending</title></head>
<body style="margin:0"><iframe id="email" src="%(src)s" style="border:0;width:%(width)spx;
height:2400px"></iframe><script>
document.getElementById("email").addEventListener("load", event => {
  const doc = event.target.contentDocument, view = event.target.contentWindow;
  const blocks = [...doc.querySelectorAll("td > div, td > a, img")]
    .filter(e => e.getBoundingClientRect().width > 0);
  const overlaps = [];
  for (let i = 0; i < blocks.length; i++) for (let j = i + 1; j < blocks.length; j++) {
    const a = blocks[i], b = blocks[j];
    if (a.contains(b) || b.contains(a)) continue;
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
    const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
    if (w > 2 && h > 2) overlaps.push((a.textContent || a.alt).slice(0, 40));
  }
  const images = [...doc.images];
  document.title = JSON.stringify({
    scroll: doc.documentElement.scrollWidth, width: view.innerWidth,
    images: images.length,
    no_alt: images.filter(i => !i.hasAttribute("alt")).length,  // alt="": decorative
    no_size: images.filter(i => !i.getAttribute("width") || !i.getAttribute("height")).length,
    overlaps: overlaps.slice(0, 5),
  });
});
</script></body></html>"""

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("BRIEFINGS_REQUIRE_BROWSER"),
    reason="chromium is not installed (apt-get install chromium; .ci/run does it)",
)


def chromium(*args: str, profile: Path) -> str:
    assert CHROMIUM is not None, "chromium is required (BRIEFINGS_REQUIRE_BROWSER is set)"
    done = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def emails(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("emails")
    shutil.copy(Path(__file__).parent / "data" / "lead.png", folder / "lead.png")
    found = {}
    for name, layout in LAYOUTS.items():
        files = render.render(
            edition(note=NOTE), env=render.environment(), timezone="Europe/Istanbul", layout=layout
        ).files
        for tier, file in (("free", "email.html"), ("pro", "email.pro.html")):
            html = files[file]
            assert "<script" not in html and "<link" not in html  # no script, no external CSS
            path = folder / f"{name}-{tier}.html"
            path.write_text(html, encoding="utf-8")
            found[f"{name}-{tier}"] = path
    return found


@pytest.mark.parametrize("width", [600, 375])
@pytest.mark.parametrize("name", [f"{f}-{t}" for f in sorted(LAYOUTS) for t in ("free", "pro")])
def test_email_in_a_browser(emails: dict[str, Path], name: str, width: int, tmp_path: Path) -> None:
    source = emails[name]
    host = source.with_name(f"host-{width}-{source.name}")
    host.write_text(HOST % {"src": source.name, "width": width}, encoding="utf-8")
    dom = chromium(
        "--window-size=800,1200",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
        profile=tmp_path / "profile",
    )
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    metrics = json.loads(title.replace("&quot;", '"').replace("&amp;", "&"))
    assert metrics["width"] == width
    assert metrics["scroll"] <= metrics["width"], f"{name} scrolls sideways at {width}px"
    assert metrics["no_alt"] == 0
    assert metrics["no_size"] == 0
    assert metrics["overlaps"] == []
    if name.startswith("daily") and name.endswith("pro"):
        assert metrics["images"] == 1  # the lead story's image
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / f"{name}-{width}.png"
    chromium(
        f"--window-size={max(width, 500)},2400",
        f"--screenshot={shot}",
        host.as_uri(),
        profile=tmp_path / "profile",
    )
    assert shot.stat().st_size > 10_000


# The web edition measured the same way: how wide it lays out, which way each headline runs,
# and whether each outlet name stays left of its date.
WEB_HOST = """<!doctype html><html><head><title>pending</title></head>
<body style="margin:0"><iframe id="page" src="%(src)s" style="border:0;width:%(width)spx;
height:2400px"></iframe><script>
document.getElementById("page").addEventListener("load", event => {
  const doc = event.target.contentDocument, view = event.target.contentWindow;
  const words = (element, first, last) => {
    const range = doc.createRange();
    const node = [...element.querySelectorAll("*"), element].map(e => e.firstChild)
      .find(n => n && n.nodeType === 3 && n.data.includes(first) && n.data.includes(last));
    if (!node) return null;
    const at = word => { const i = node.data.indexOf(word); range.setStart(node, i);
      range.setEnd(node, i + word.length); return range.getBoundingClientRect().left; };
    return at(first) < at(last);
  };
  document.title = JSON.stringify({
    scroll: doc.documentElement.scrollWidth, width: view.innerWidth,
    headlines: [...doc.querySelectorAll("article h2, article h3")].map(h =>
      [h.textContent.trim().slice(0, 30), view.getComputedStyle(h).direction]),
    mixed_in_order: words(doc.querySelector("#story-story0 h2 a"), "Knesset", "resume"),
    meta_in_order: [...doc.querySelectorAll(".meta")].map(m => {
      const parts = m.querySelectorAll("bdi");
      return parts[0].getBoundingClientRect().left < parts[1].getBoundingClientRect().left;
    }),
  });
});
</script></body></html>"""


def measure_web(page: Path, width: int, profile: Path) -> dict[str, Any]:
    """The web page's metrics at ``width`` px, from WEB_HOST."""
    host = page.with_name(f"host-{width}-{page.name}")
    host.write_text(WEB_HOST % {"src": page.name, "width": width}, encoding="utf-8")
    dom = chromium(
        "--window-size=800,1200",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
        profile=profile,
    )
    title = dom.split("<title>", 1)[1].split("</title>", 1)[0]
    metrics: dict[str, Any] = json.loads(html.unescape(title))
    assert metrics["width"] == width
    return metrics


def test_mixed_scripts_keep_their_order_in_a_browser(tmp_path: Path) -> None:
    from .test_render import bidi_edition

    files = render.render(
        bidi_edition(), env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    page = tmp_path / "index.html"
    page.write_text(files["index.html"], encoding="utf-8")
    metrics = measure_web(page, 390, tmp_path / "profile")

    def direction(start: str) -> str:
        return next(d for text, d in metrics["headlines"] if text.startswith(start))

    assert direction("Knesset debates the שלום") == "ltr"
    assert direction("Evil headline reversed here") == "ltr"
    assert direction("הכנסת אישרה") == "rtl"
    assert metrics["mixed_in_order"] is True  # "Knesset … resume", left to right
    assert all(metrics["meta_in_order"]), metrics["meta_in_order"]  # outlet, then date


def test_long_words_and_links_do_not_widen_a_phone_screen(
    emails: dict[str, Path], tmp_path: Path
) -> None:
    from dataclasses import replace

    word = "Kars" + "nakhchivan" * 22  # 224 characters, no break opportunity
    link = "https://example.org/" + "a1b2c3d4" * 28  # 244 characters
    made = edition(note=f"{word} {link}")
    made = replace(
        made,
        stories=(
            replace(made.stories[0], title=f"Rail talks {word}", summary=f"See {link} {word}."),
            replace(
                made.stories[1],
                title=link,
                sources=(*made.stories[1].sources, Source(feed=word, title="t", url=link)),
            ),
            *made.stories[2:],
        ),
    )
    files = render.render(
        made, env=render.environment(), timezone="UTC", layout=LAYOUTS["weekly"]
    ).files
    for name in ("index.html", "index.pro.html"):
        page = tmp_path / name
        page.write_text(files[name], encoding="utf-8")
        metrics = measure_web(page, 390, tmp_path / "profile")
        assert metrics["scroll"] <= 390, f"{name} scrolls sideways: {metrics['scroll']} px"
    for name in ("email.html", "email.pro.html"):
        mail = emails["weekly-free"].with_name(f"long-{name}")
        mail.write_text(files[name], encoding="utf-8")
        test_email_in_a_browser({"long": mail}, "long", 375, tmp_path)


# Every piece of text against the background it is drawn on, by WCAG's contrast formula:
# at least 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
CONTRAST_HOST = """<!doctype html><html><head><title>pending</title></head>
<body style="margin:0">%(frames)s<script>
const luminance = ([r, g, b]) => {
  const c = [r, g, b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
};
const rgba = text => text.match(/[\\d.]+/g).map(Number);
const background = (element, view) => {
  for (let e = element; e; e = e.parentElement) {
    const c = rgba(view.getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0.5) return c.slice(0, 3);
  }
  return [255, 255, 255];  // the canvas
};
let left = document.querySelectorAll("iframe").length;
const found = {};
for (const frame of document.querySelectorAll("iframe")) frame.addEventListener("load", () => {
  const doc = frame.contentDocument, view = frame.contentWindow, poor = [];
  for (const e of doc.body.querySelectorAll("*")) {
    const own = [...e.childNodes].filter(n => n.nodeType === 3 && n.data.trim()).map(n => n.data.trim()).join(" ");
    if (!own || !e.getClientRects().length) continue;
    const style = view.getComputedStyle(e);
    if (style.visibility === "hidden" || Number(style.opacity) === 0) continue;
    const fg = rgba(style.color).slice(0, 3), bg = background(e, view);
    const [a, b] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05), size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) poor.push([own.slice(0, 30), style.color, String(bg), ratio.toFixed(2)]);
  }
  found[frame.id] = {poor: poor.slice(0, 8), body: String(rgba(view.getComputedStyle(doc.body).backgroundColor))};
  if (--left === 0) document.title = JSON.stringify(found);
});
</script></body></html>"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_text_is_readable_in_light_and_dark_mode(name: str, scheme: str, tmp_path: Path) -> None:
    files = render.render(
        edition(note=NOTE), env=render.environment(), timezone="UTC", layout=LAYOUTS[name]
    ).files
    frames = []
    for file in ("index.html", "email.html", "email.pro.html"):
        (tmp_path / file).write_text(files[file], encoding="utf-8")
        frames.append(
            f'<iframe id="{file}" src="{file}" style="width:600px;height:3000px"></iframe>'
        )
    host = tmp_path / "host.html"
    host.write_text(CONTRAST_HOST % {"frames": "".join(frames)}, encoding="utf-8")
    dom = chromium(
        f"--blink-settings=preferredColorScheme={0 if scheme == 'dark' else 1}",
        "--window-size=800,1200",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
        profile=tmp_path / "profile",
    )
    found = json.loads(html.unescape(dom.split("<title>", 1)[1].split("</title>", 1)[0]))
    for file, result in found.items():
        assert result["poor"] == [], f"{name} {file} in {scheme} mode: {result['poor']}"
        if scheme == "dark" and file.startswith("email"):
            assert result["body"] == "18,24,31", f"{file}: the page around the email stays light"


def test_a_pro_reader_opens_the_view_link_in_a_browser(tmp_path: Path) -> None:
    """The link in a PRO email, opened as a reader opens it: the PRO page in full over a
    real ``serve``; the same link with its token changed shows nothing of it."""
    from urllib.parse import quote

    from briefings import deliver, unsubscribe
    from briefings.model import Subscriber
    from briefings.store import Store

    from .test_deliver import SECRET, setup

    made = edition()
    hidden = made.stories[4].summary  # the energy section is PRO
    reader = Subscriber(email="pro@example.net", tier="pro", briefings=("sample",))
    loaded = setup(tmp_path, 25, [reader], method="outbox", made=made)
    store = Store(loaded.settings.database)
    secret = SECRET.encode()
    try:
        with unsubscribe.running(store, secret, private=loaded.settings.private) as base:
            link = deliver.view_url(base, secret, reader.email, made, days=30)
            forged = link.replace("&t=", "&t=" + quote("AAAA"), 1)
            seen = {}
            for name, url in (("signed", link), ("forged", forged)):
                dom = chromium(
                    "--virtual-time-budget=3000", "--dump-dom", url, profile=tmp_path / name
                )
                seen[name] = " ".join(html.unescape(dom).split())
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / "pro-view-link.png"
            chromium(
                "--window-size=800,1600", f"--screenshot={shot}", link, profile=tmp_path / "shot"
            )
    finally:
        store.close()
    assert hidden in seen["signed"] and "PRO edition" in seen["signed"]
    assert "Upgrade to PRO" not in seen["signed"]
    assert hidden not in seen["forged"] and made.stories[4].title not in seen["forged"]
    assert "This link is not valid" in seen["forged"]
    assert shot.stat().st_size > 10_000


def listing_pages() -> dict[str, str]:
    """A briefing's archive page and the catalogue, each listing one edition."""
    from datetime import UTC, datetime, timedelta

    from briefings.config import Briefing

    briefing = Briefing(
        id="daily",
        title="Daily Briefing",
        description="The day's main stories.",
        topics=(),
        schedule="0 7 * * *",
        window=timedelta(days=1),
        repeat_window=timedelta(days=7),
        max_stories=5,
        min_score=None,
    )  # the default theme: a dark blue accent
    listed = [
        render.Listed(
            edition="2026-11-22-0700",
            title="Daily Briefing",
            generated_at=datetime(2026, 11, 22, 7, tzinfo=UTC),
            stories=2,
            headlines=("Rail talks resume", "Gas deal signed"),
        )
    ]
    env = render.environment()
    return {
        "archive.html": render.archive(briefing, listed, env=env, base_url="", timezone="UTC")[
            "index.html"
        ],
        "catalogue.html": render.catalogue([briefing], {"daily": listed}, env=env),
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_archive_and_the_catalogue_are_readable_in_light_and_dark_mode(
    scheme: str, tmp_path: Path
) -> None:
    pages = listing_pages()
    frames = []
    for file, text in pages.items():
        (tmp_path / file).write_text(text, encoding="utf-8")
        frames.append(
            f'<iframe id="{file}" src="{file}" style="width:600px;height:900px"></iframe>'
        )
    host = tmp_path / "host.html"
    host.write_text(CONTRAST_HOST % {"frames": "".join(frames)}, encoding="utf-8")
    dom = chromium(
        f"--blink-settings=preferredColorScheme={0 if scheme == 'dark' else 1}",
        "--window-size=800,1200",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
        profile=tmp_path / "profile",
    )
    found = json.loads(html.unescape(dom.split("<title>", 1)[1].split("</title>", 1)[0]))
    assert set(found) == set(pages)
    for file, result in found.items():
        assert result["poor"] == [], f"{file} in {scheme} mode: {result['poor']}"


# Where each of a page's blocks starts, at a phone's and a desktop's width: the
# masthead, the stories and the footer share one column.
COLUMN_HOST = """<!doctype html><html><head><title>pending</title></head>
<body style="margin:0"><iframe id="page" src="%(src)s" style="border:0;width:%(width)spx;
height:1200px"></iframe><script>
document.getElementById("page").addEventListener("load", event => {
  const doc = event.target.contentDocument, edges = {};
  for (const selector of %(selectors)s) {
    const element = doc.querySelector(selector);
    const range = doc.createRange();
    range.selectNodeContents(element);  // the text itself, not its box
    const box = range.getBoundingClientRect();
    edges[selector] = Math.round(box.left);
  }
  document.title = JSON.stringify(edges);
});
</script></body></html>"""


def column_edges(page: Path, width: int, selectors: list[str], profile: Path) -> dict[str, Any]:
    """Where the text of each selector's first element starts, in px from the left."""
    host = page.with_name(f"column-{width}-{page.name}")
    host.write_text(
        COLUMN_HOST % {"src": page.name, "width": width, "selectors": json.dumps(selectors)},
        encoding="utf-8",
    )
    dom = chromium(
        "--window-size=1400,1200",
        "--virtual-time-budget=5000",
        "--dump-dom",
        host.as_uri(),
        profile=profile,
    )
    found: dict[str, Any] = json.loads(
        html.unescape(dom.split("<title>", 1)[1].split("</title>", 1)[0])
    )
    return found


@pytest.mark.parametrize("width", [375, 1280])
def test_the_masthead_stories_and_footer_share_one_column(width: int, tmp_path: Path) -> None:
    files = render.render(
        edition(note=NOTE), env=render.environment(), timezone="UTC", layout=LAYOUTS["daily"]
    ).files
    pages = {
        "index.html": (files["index.html"], ["header h1", "article h2", "footer p"]),
        "archive.html": (listing_pages()["archive.html"], ["header h1", "header p", "main li"]),
    }
    for name, (text, selectors) in pages.items():
        page = tmp_path / name
        page.write_text(text, encoding="utf-8")
        edges = column_edges(page, width, selectors, tmp_path / "profile")
        assert len(set(edges.values())) == 1, f"{name} at {width}px: {edges}"
