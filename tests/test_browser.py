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
    no_alt: images.filter(i => !i.getAttribute("alt")).length,
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
