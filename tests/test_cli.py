"""The command line as a user runs it: exit codes, failure lines, the demo."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefings.cli import main

from .conftest import LocalServer

ROOT = Path(__file__).parent.parent


def rss(base: str, *items: tuple[str, str, str]) -> str:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=2))
    body = "".join(
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>{when}</pubDate><description>{text}</description></item>"
        for path, title, text in items
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{body}</channel></rss>"
    )


LONG = "Turkish and Azerbaijani ministers met in Ankara on Monday to discuss a new railway. " * 12


def test_run_once_survives_bad_feeds_and_lists_them(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    good = server.add("/good.xml", rss(server.base, ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)))
    repeat = server.add(
        "/repeat.xml", rss(server.base, ("/a?utm_source=x", "Erdoğan hosts Aliyev in Ankara", LONG))
    )
    html = server.add(
        "/site",
        "<!doctype html><html><body>Home</body></html>",
        headers={"Content-Type": "text/html"},
    )
    broken = server.add("/broken.xml", "<rss version='2.0'><channel><item><title>x</ti")
    slow = server.add("/slow.xml", rss(server.base), delay=3)
    missing = server.url("/missing.xml")
    feeds = "".join(
        f'[[feeds]]\nname = "{n}"\nurl = "{u}"\n\n'
        for n, u in [
            ("Good", good),
            ("Repeat", repeat),
            ("Site", html),
            ("Broken", broken),
            ("Slow", slow),
            ("Missing", missing),
        ]
    )
    path = write_config(f"""
[settings]
timeout = 1

{feeds}
[briefings.turkey]
title = "Turkey Briefing"
topics = ["turkey"]
schedule = "0 8 * * mon-fri"
""")
    result = CliRunner().invoke(main, ["--config", str(path), "run", "--once"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        f"  feed {html}: not a feed: got an HTML page (is the URL the site rather than its "
        "feed?)" in lines
    )
    assert f"  feed {missing}: HTTP 404 Not Found" in lines
    assert f"  feed {slow}: timed out after 1s" in lines
    assert any(line.startswith(f"  feed {broken}: malformed feed") for line in lines)
    assert "4 problems:" in result.output
    [edition_json] = (path.parent / "out" / "turkey").glob("*/edition.json")
    [story] = json.loads(edition_json.read_text())["stories"]
    assert story["url"] == f"{server.base}/a"
    assert len(story["sources"]) == 1  # the repeated item is one entry, not two


def test_build_unknown_briefing_is_a_config_error(write_config: Callable[[str], Path]) -> None:
    path = write_config('[briefings.a]\ntitle = "A"\nschedule = "0 7 * * *"\n')
    result = CliRunner().invoke(main, ["--config", str(path), "build", "nope"])
    assert result.exit_code == 2
    assert "briefings.nope: no such briefing (known: a)" in result.output


def test_check_the_shipped_config() -> None:
    result = CliRunner().invoke(main, ["--config", str(ROOT / "feeds.toml"), "check"])
    assert result.exit_code == 0, result.output
    from briefings import topics

    assert f"OK: 15 feeds, 12 briefings, {len(topics.builtin_topics())} topics" in result.output


def test_demo_writes_editions_and_prints_their_paths(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "demo-out"
    args = ["--config", str(ROOT / "feeds.toml"), "demo", "--out", str(out)]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    printed = [
        Path(line.strip())
        for line in result.output.splitlines()
        if line.strip().endswith("index.html")
    ]
    assert len(printed) == 12
    assert all(p.exists() for p in printed)
    from briefings import config

    from .safety import pro_leaks

    shipped = {b.id: b for b in config.load(ROOT / "feeds.toml").briefings}
    checked, leaks = pro_leaks(out / "editions", out / "private", shipped)
    assert checked >= 10 and leaks == []
    assert f"never serve these): {out / 'private'}" in result.output
    again = runner.invoke(main, args)  # a demo can be run again: it starts afresh
    assert again.exit_code == 0
    assert "12 editions built" in again.output


def test_demo_refuses_to_clear_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "precious.txt").exists()


def test_topics_list() -> None:
    result = CliRunner().invoke(main, ["--config", str(ROOT / "feeds.toml"), "topics", "list"])
    assert result.exit_code == 0
    rows = {line.split()[0]: line.split() for line in result.output.splitlines()[1:]}
    assert set(rows) >= {"israel", "turkey", "caucasus", "security", "jordan"}
    assert int(rows["caucasus"][2]) > 100


def test_topics_list_prints_one_line_per_topic_when_piped() -> None:
    """Piped, long titles ("Capital Markets & Private Equity") wrapped onto a line of their
    own, which grep, sort or a script then read as a topic."""
    from briefings import topics

    result = CliRunner().invoke(main, ["topics", "list"], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    titles = {t.id: t.title for t in topics.builtin_topics()}
    assert [line.split()[0] for line in lines] == ["id", *titles]
    assert all(line.endswith(f"  {titles[line.split()[0]]}") for line in lines[1:])


def test_topics_list_help_names_every_column_it_prints() -> None:
    listed = CliRunner().invoke(main, ["topics", "list"])
    assert listed.exit_code == 0, listed.output
    columns = listed.output.splitlines()[0].split()
    assert len(columns) >= 6
    helped = CliRunner().invoke(main, ["topics", "list", "--help"])
    described = " ".join(helped.output.split("Options:")[0].split())
    for column in columns:
        assert re.search(rf"\b{column}\b", described), (column, described)


def test_topics_explain_a_page_and_a_text(server: LocalServer) -> None:
    page = (
        "<html><head><title>Roast turkey for a crowd</title></head><body><article>"
        "<h1>Roast turkey for a crowd</h1><p>" + "Brine the turkey overnight and roast it "
        "slowly with stuffing for Thanksgiving. " * 12 + "</p></article></body></html>"
    )
    url = server.add("/recipe", page, headers={"Content-Type": "text/html; charset=utf-8"})
    result = CliRunner().invoke(main, ["topics", "explain", url])
    assert result.exit_code == 0, result.output
    assert "no topic matched" in result.output
    assert "turkey: 'Turkey' in title: " in result.output
    text = CliRunner().invoke(
        main,
        [
            "topics",
            "explain",
            "--title",
            "Erdoğan in Baku",
            "--text",
            "Talks in Baku with Aliyev went on.",
        ],
    )
    assert "turkey: score 3 (assigned, threshold 2)" in text.output
    assert "caucasus: score 5 (assigned, threshold 2)" in text.output
    missing = CliRunner().invoke(main, ["topics", "explain", server.url("/nope")])
    assert missing.exit_code == 1
    assert "HTTP 404 Not Found" in missing.output


def test_topics_test_reports_precision_recall_and_misses(tmp_path: Path) -> None:
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        '{"id": "a", "title": "Knesset passes budget", "topics": ["israel"]}\n'
        '{"id": "b", "title": "Talks in Baku", "topics": ["turkey"]}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["topics", "test", str(labelled)])
    assert result.exit_code == 0, result.output
    assert "2 examples, 1 misclassified" in result.output
    assert "b: expected [turkey] found [-]" in result.output  # caucasus is not labelled here
    every = CliRunner().invoke(main, ["topics", "test", "--all", str(labelled)])
    assert "b: expected [turkey] found [caucasus]" in every.output
    israel = next(line for line in result.output.splitlines() if line.startswith(" israel"))
    assert israel.split()[1:] == ["1", "0", "0", "1.000", "1.000"]


def test_stories_test_reports_pairs_merges_and_splits(tmp_path: Path) -> None:
    body = (
        "Azerbaijan and Turkey signed an agreement in Baku on Monday to build a second gas "
        "pipeline across the Caspian, officials said, with work due next spring. "
    ) * 3
    items = [
        {
            "id": "a",
            "cluster": "c1",
            "feed": "wire",
            "published": "2026-11-20T08:00:00+00:00",
            "title": "Baku and Ankara sign pipeline deal",
            "body": body,
        },
        {
            "id": "b",
            "cluster": "c1",
            "feed": "paper",
            "published": "2026-11-20T10:00:00+00:00",
            "title": "Pipeline deal signed in Baku",
            "body": body + " Additional reporting by B.",
        },
        {
            "id": "c",
            "cluster": "c2",
            "feed": "other",
            "published": "2026-11-20T11:00:00+00:00",
            "title": "Baku and Ankara sign pipeline deal",
            "body": body,
        },
    ]
    labelled = tmp_path / "set.jsonl"
    labelled.write_text("\n".join(json.dumps(i) for i in items) + "\nnot json\n")
    result = CliRunner().invoke(main, ["stories", "test", str(labelled)])
    assert result.exit_code == 1  # the bad line is reported, the rest is scored
    assert f"{labelled}:4: " in result.output
    assert "3 items, 2 labelled clusters, 1 found" in result.output
    assert "pairs: 1 right, 2 wrongly merged, 0 missed; precision 0.333, recall 1.000" in (
        result.output
    )
    assert "wrong merges (1):" in result.output


def test_stories_test_reads_the_configuration_it_is_given(tmp_path: Path) -> None:
    # --config was ignored: a mistyped path scored with the built-in topics alone, exit 0
    labelled = tmp_path / "set.jsonl"
    labelled.write_text(
        json.dumps({"id": "a", "cluster": "c", "feed": "f", "title": "Baku", "body": "Baku"})
    )
    missing = tmp_path / "nowhere.toml"
    result = CliRunner().invoke(main, ["--config", str(missing), "stories", "test", str(labelled)])
    assert result.exit_code == 2, result.output
    assert str(missing) in result.output


def test_a_poll_imports_nothing_it_does_not_use(server: LocalServer, tmp_path: Path) -> None:
    """A fetch whose feeds are unchanged needs neither the build's stages nor rich."""
    url = server.add("/feed.xml", rss(server.base, ("/a", "A", "Text.")), conditional=True)
    config = tmp_path / "feeds.toml"
    config.write_text(f'[settings]\nprocesses = 1\n[[feeds]]\nname = "A"\nurl = "{url}"\n')
    script = (
        "import sys\n"
        "from briefings.cli import main\n"
        "try:\n"
        f"    main(['--config', {str(config)!r}, 'fetch', '--feeds-only'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    seen = []
    for _ in range(2):  # the second fetch gets a 304
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        seen.append(set(done.stdout.split()))
    assert [status for _, status in server.hits] == [200, 304]
    heavy = {"rich", "pygments", "jinja2", "mjml", "apscheduler", "trafilatura", "datasketch"}
    assert not seen[0] & heavy
    assert not seen[1] & (heavy | {"feedparser", "nh3", "rapidfuzz"})


def test_check_reports_a_broken_template_on_one_line(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "web.html").write_text("{% if %}\n", encoding="utf-8")
    path = write_config(
        '[settings]\ntemplates = "mine"\n\n[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(f"error: {templates / 'web.html'}:1: ")


def test_unreadable_files_and_a_taken_port_are_one_line(
    write_config: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    latin = tmp_path / "labelled.jsonl"
    latin.write_bytes(b'{"title": "Caf\xe9"}\n')
    for command in ("topics", "stories"):
        result = CliRunner().invoke(main, [command, "test", str(latin)])
        assert result.exit_code == 1
        assert result.output.strip().splitlines() == [
            f"error: {latin}: not UTF-8 text (byte 14: invalid continuation byte)"
        ]
    path = write_config('[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n')
    target = tmp_path / "no-such-folder" / "x.csv"
    result = CliRunner().invoke(main, ["--config", str(path), "subscribers", "export", str(target)])
    assert result.exit_code == 1
    assert result.output.strip() == f"error: {target}: cannot write: No such file or directory"
    monkeypatch.setenv("BRIEFINGS_SECRET", "a-secret-for-tests-only-0123456789")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["--config", str(path), "serve", "--port", str(port)])
    assert result.exit_code == 1
    assert (
        result.output.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_topics_and_demo_refuse_a_config_that_is_not_there(tmp_path: Path) -> None:
    """``--config`` naming a missing file was ignored: the built-in topics were listed and
    used as if the editor's own topics did not exist, with exit status 0."""
    missing = tmp_path / "feed.toml"
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text('{"id": "1", "title": "Ankara", "topics": ["turkey"]}\n')
    for args in (
        ["topics", "list"],
        ["topics", "explain", "--text", "Ankara"],
        ["topics", "test", str(labelled)],
    ):
        result = CliRunner().invoke(main, ["--config", str(missing), *args])
        assert result.exit_code == 2, (args, result.output)
        assert result.output == f"error: {missing}: no such file (pass --config PATH)\n"
    out = tmp_path / "demo-out"
    result = CliRunner().invoke(main, ["--config", str(missing), "demo", "--out", str(out)])
    assert result.exit_code == 2, result.output  # not the built-in catalogue instead
    assert not out.exists()


def test_a_config_that_is_a_folder_or_not_utf8_is_one_plain_line(tmp_path: Path) -> None:
    """The line repeated the path inside Python's own message: "error: conf: cannot read:
    [Errno 21] Is a directory: 'conf'"."""
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[briefings.a]\ntitle = "Caf\xe9"\n')
    for path, reason in (
        (tmp_path, "cannot read: it is a folder; pass the path of feeds.toml"),
        (latin, "not UTF-8 text (byte 26: invalid continuation byte)"),
    ):
        result = CliRunner().invoke(main, ["--config", str(path), "check"])
        assert result.exit_code == 2
        assert result.output == f"error: {path}: {reason}\n"


def test_topics_explain_says_what_is_missing() -> None:
    result = CliRunner().invoke(main, ["topics", "explain"])
    assert result.exit_code == 2
    assert "give a URL or --text to explain" in result.output


def test_topics_explain_keeps_each_reason_on_one_line_as_the_rule_spells_it() -> None:
    # Reasons were wrapped at 80 columns when piped ("no unambiguous \nturkey term"), and
    # named the folded phrase ('thanksgiving') instead of the rule's ('Thanksgiving').
    result = CliRunner().invoke(
        main,
        [
            "topics",
            "explain",
            "--title",
            "Turkey prices rise before Thanksgiving across the Midwest this week",
            "--text",
            "Farmers in Iowa say the cost of a whole turkey has risen again this year.",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "  turkey: 'Turkey' in body: 'Thanksgiving' in the story and no unambiguous "
        "turkey term\n" in result.output
    )
    assert "  turkey: 'Turkey' in title: 'Thanksgiving' near 'Turkey'\n" in result.output


def test_config_and_verbose_work_after_the_command_name_too(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config('[briefings.a]\ntitle = "A"\nschedule = "0 7 * * *"\n')
    for args in (
        ["check", "--config", str(path)],
        ["check", "-v", "--config", str(path)],
        ["--config", "elsewhere.toml", "check", "--config", str(path)],
        ["topics", "list", "--config", str(path)],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
    result = CliRunner().invoke(main, ["build", "nope", "--config", str(path)])
    assert result.exit_code == 2
    assert "briefings.nope: no such briefing (known: a)" in result.output
    result = CliRunner().invoke(main, ["subscribers", "list", "--config", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        (
            "web.html",
            "<h1>{{ edition.title }}</h1>\n{% for item in stories %}{{ item.titel }}{% endfor %}\n",
            "2: 'dict object' has no attribute 'titel'",
        ),
        ("email.txt", "{{ edition.title }}\n{% include 'footer.txt' %}\n", "template not found"),
        ("archive.html", "{% for e in editions %}\n{{ e.edition.titel }}{% endfor %}", "titel"),
        ("catalogue.html", "{{ rows | length }}\n\n{{ 1 / 0 }}\n", "3: division by zero"),
    ],
)
def test_check_renders_the_templates_and_finds_what_build_would(
    write_config: Callable[[str], Path], tmp_path: Path, name: str, source: str, message: str
) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / name).write_text(source, encoding="utf-8")
    path = write_config(
        '[settings]\ntemplates = "mine"\nbase_url = "https://b.example.org"\n\n'
        '[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
        '[briefings.pro]\ntitle = "P"\nschedule = "0 7 * * *"\nformat = "industry"\n'
        'tier = "pro"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 1, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and message in line
    if "template not found" not in message:
        assert line.startswith(f"error: {templates / name}:")


def test_check_warns_of_an_empty_configuration(write_config: Callable[[str], Path]) -> None:
    # an empty feeds.toml said OK, and run --once then did nothing without a word
    path = write_config("")
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    assert f"warning: {path.name}: no [[feeds]]: nothing will be fetched" in result.output
    assert f"warning: {path.name}: no [briefings.*]: no edition will be built" in result.output
    feeds_only = write_config('[[feeds]]\nname = "F"\nurl = "https://example.org/feed.xml"\n')
    result = CliRunner().invoke(main, ["--config", str(feeds_only), "check"])
    assert "no [[feeds]]" not in result.output
    assert "no [briefings.*]" in result.output


def test_check_warns_of_a_file_the_theme_never_reads(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    (templates / "web.htm").write_text("<p>mine</p>\n", encoding="utf-8")
    (templates / "footer.html").write_text("<p>included</p>\n", encoding="utf-8")
    path = write_config(
        '[settings]\ntemplates = "mine"\nbase_url = "https://b.example.org"\n\n'
        '[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    assert (
        f"warning: {templates / 'web.htm'}: not a file of the theme (did you mean "
        "'web.html'?); the built-in web.html is used"
    ) in result.output
    assert "footer.html" not in result.output  # may be included by one of them
    # beside a web.html of its own, the built-in file is not used: no such warning
    (templates / "web.html").write_text("{{ edition.title }}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    assert "web.htm" not in result.output


@pytest.mark.parametrize("missing", ["secret", "base_url"])
def test_run_once_send_that_cannot_send_stops_before_it_builds(
    server: LocalServer,
    write_config: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    missing: str,
) -> None:
    """`run --once --send` fetched and built every edition, then refused to send: the
    newsroom was left with built, unsent editions the next run would not build again."""
    feed = server.add("/f.xml", rss(server.base, ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)))
    base = "" if missing == "base_url" else 'base_url = "https://b.example.org"\n'
    path = write_config(f"""
[settings]
{base}
[[feeds]]
name = "Good"
url = "{feed}"

[briefings.turkey]
title = "Turkey Briefing"
topics = ["turkey"]
schedule = "0 8 * * mon-fri"

[delivery]
method = "smtp"
smtp_host = "127.0.0.1"
smtp_port = 9
""")
    if missing == "secret":
        monkeypatch.delenv("BRIEFINGS_SECRET", raising=False)
    else:
        monkeypatch.setenv("BRIEFINGS_SECRET", "s" * 20)
    result = CliRunner().invoke(main, ["--config", str(path), "run", "--once", "--send"])
    expected = (1, "BRIEFINGS_SECRET") if missing == "secret" else (2, "delivery.base_url")
    assert result.exit_code == expected[0], result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and expected[1] in line
    assert not (path.parent / "out").exists()


def test_a_feed_that_moved_for_good_is_reported_with_its_new_url(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    """A 301 or 308 was followed in silence, so editors never learned to update feeds.toml."""
    new = server.add(
        "/rss/news.xml",
        rss(server.base, ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)),
        conditional=True,
    )
    old = server.add("/rss.php", status=301, headers={"Location": "/rss/v2"})
    server.add("/rss/v2", status=308, headers={"Location": "/rss/news.xml"})
    chained = server.add("/feed", status=308, headers={"Location": "/feed-today"})
    server.add("/feed-today", status=302, headers={"Location": "/rss/news.xml"})
    passing = server.add("/latest", status=302, headers={"Location": "/rss/news.xml"})
    feeds = "".join(
        f'[[feeds]]\nname = "{n}"\nurl = "{u}"\n\n'
        for n, u in [("Old", old), ("Chained", chained), ("Passing", passing)]
    )
    path = write_config(feeds)
    for _ in range(2):  # the second fetch is answered 304, and still reported
        result = CliRunner().invoke(main, ["--config", str(path), "fetch", "--feeds-only"])
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert f"  feed {old}: moved permanently to {new}; put that URL in feeds.toml" in lines
        assert (
            f"  feed {chained}: moved permanently to {server.url('/feed-today')}; put that URL "
            "in feeds.toml"
        ) in lines
        assert "2 problems:" in lines  # a temporary redirect is no news
    assert [s for p, s in server.hits if p == "/rss/news.xml"] == [200] * 3 + [304] * 3


def test_check_names_a_template_that_is_not_utf8(
    write_config: Callable[[str], Path], tmp_path: Path
) -> None:
    templates = tmp_path / "mine"
    templates.mkdir()
    # An editor's file saved as Windows-1252: "Türkiye" holds the byte 0xfc.
    (templates / "archive.html").write_bytes("<h1>Türkiye</h1>\n".encode("cp1252"))
    path = write_config(
        '[settings]\ntemplates = "mine"\n\n[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == [
        f"error: {templates / 'archive.html'}: not UTF-8 text "
        "(byte 5: invalid start byte); save it as UTF-8"
    ]


def test_check_names_the_feeds_whose_last_fetch_failed(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    """A feed that stopped working showed only on the desk: an operator running briefings
    on a server with ``check`` never learned of it."""
    good = server.add("/good.xml", rss(server.base, ("/a", "Erdoğan hosts Aliyev", LONG)))
    gone = server.add("/gone.xml", status=404)
    path = write_config(
        f'[[feeds]]\nname = "Good"\nurl = "{good}"\n\n[[feeds]]\nname = "Gone"\nurl = "{gone}"\n'
    )
    before = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert before.exit_code == 0 and "last fetch failed" not in before.output
    assert not (path.parent / "briefings.db").exists()  # check makes no store
    fetched = CliRunner().invoke(main, ["--config", str(path), "fetch", "--feeds-only"])
    assert fetched.exit_code == 0, fetched.output
    after = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert after.exit_code == 0, after.output
    [line] = [x for x in after.output.splitlines() if "last fetch failed" in x]
    assert line.startswith(f"warning: feed {gone}: its last fetch failed (") and "404" in line
    # still failing a day later: since when it has been failing, not only the last try
    with sqlite3.connect(path.parent / "briefings.db") as db:
        db.execute("UPDATE feeds SET failing_since = datetime(checked_at, '-1 day')")
    [line] = [
        x
        for x in CliRunner().invoke(main, ["--config", str(path), "check"]).output.splitlines()
        if "failing since" in x
    ]
    assert line.startswith(f"warning: feed {gone}: failing since ") and ", last tried " in line
    server.add("/gone.xml", rss(server.base, ("/b", "Back again", LONG)))
    CliRunner().invoke(main, ["--config", str(path), "fetch", "--feeds-only"])
    again = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert "last fetch failed" not in again.output


def test_counts_of_one_are_singular(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    good = server.add("/one.xml", rss(server.base, ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)))
    briefing = '[briefings.turkey]\ntitle = "T"\ntopics = ["turkey"]\nschedule = "0 8 * * *"\n'
    path = write_config(f'[[feeds]]\nname = "One"\nurl = "{good}"\n\n{briefing}')
    runner = CliRunner()
    checked = runner.invoke(main, ["--config", str(path), "check"])
    assert ": OK: 1 feed, 1 briefing, " in checked.output
    ran = runner.invoke(main, ["--config", str(path), "run", "--once"])
    assert ran.output.splitlines()[0] == "1 feed, 1 new entry, 1 edition"
    missing = server.url("/missing.xml")
    path = write_config(f'[[feeds]]\nname = "Gone"\nurl = "{missing}"\n\n{briefing}')
    failed = runner.invoke(main, ["--config", str(path), "run", "--once"])
    assert "1 problem:" in failed.output.splitlines()


def test_the_schedulers_first_line_is_one_line_in_a_log(
    write_config: Callable[[str], Path],
) -> None:
    """Under systemd, output is a pipe 80 columns wide: a wrapped line would be two entries."""
    briefings = "".join(
        f'[briefings.regional-briefing-{n}]\ntitle = "B{n}"\nschedule = "0 7 * * *"\n\n'
        for n in range(4)
    )
    path = write_config(briefings)
    command = [sys.executable, "-m", "briefings.cli", "--config", str(path), "schedule"]
    process = subprocess.Popen(
        [*command, "--no-send"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "80"},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline().rstrip("\n")
        assert first.startswith("Scheduling 5 jobs (added fetch, added regional-briefing-0")
        assert first.endswith("; SIGTERM or Ctrl-C stops"), first
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_a_feed_s_password_is_sent_but_never_shown(
    server: LocalServer, write_config: Callable[[str], Path]
) -> None:
    """``https://reader:pass@host/feed.xml``: the password was never sent (the feed
    failed with 401) and was printed in every failure line and in ``check``."""
    private = server.add(
        "/private.xml", rss(server.base, ("/a", "Ankara railway", LONG)), auth="reader:s3cret"
    )
    gone = server.url("/gone.xml")
    old = server.add("/old.xml", status=301, headers={"Location": "/private.xml"})
    path = write_config(
        "[settings]\nallow_private_networks = true\n\n"
        + "".join(
            f'[[feeds]]\nname = "{name}"\nurl = "{url.replace("://", "://reader:s3cret@")}"\n\n'
            for name, url in (("Private", private), ("Gone", gone), ("Old", old))
        )
        + '[briefings.all]\ntitle = "All"\nschedule = "0 8 * * *"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "-v", "fetch", "--feeds-only"])
    assert result.exit_code == 0, result.output
    shown = gone.replace("://", "://***@")
    assert f"  feed {shown}: HTTP 404 Not Found" in result.output.splitlines()
    moved = f"moved permanently to {private.replace('://', '://***@')}; put that URL in"
    assert f"  feed {old.replace('://', '://***@')}: {moved} feeds.toml" in result.output
    assert "2 problems:" in result.output  # the private feed was read with its password
    assert ("/private.xml", 200) in server.hits
    checked = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert f"warning: feed {shown}: its last fetch failed" in checked.output
    assert "s3cret" not in result.output + checked.output


def test_python_m_briefings_runs_the_command(write_config: Callable[[str], Path]) -> None:
    path = write_config('[briefings.a]\ntitle = "A"\nschedule = "0 7 * * *"\n')
    checked = subprocess.run(
        [sys.executable, "-m", "briefings", "--config", str(path), "check"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"{path}: OK: 0 feeds, 1 briefing")
    helped = subprocess.run(
        [sys.executable, "-m", "briefings", "--help"], capture_output=True, text=True
    )
    assert helped.returncode == 0
    assert helped.stdout.startswith("Usage: python -m briefings [OPTIONS] COMMAND")
    wrong = subprocess.run(
        [sys.executable, "-m", "briefings", "--config", str(path), "build", "nope"],
        capture_output=True,
        text=True,
    )
    assert wrong.returncode == 2
    assert "briefings.nope: no such briefing (known: a)" in wrong.stderr


def on_a_terminal(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``python -m briefings ARGS`` with a pseudo-terminal as its output, as a user at a
    terminal does; (exit status, what it showed)."""
    import pty

    leader, follower = pty.openpty()
    done = subprocess.Popen(
        [sys.executable, "-m", "briefings", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", **(env or {})},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal is gone once the process ends
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return done.wait(timeout=60), shown.decode("utf-8", "replace")


def test_fetch_and_build_on_a_terminal_show_progress_and_work(tmp_path: Path) -> None:
    """On a terminal, the progress bars' rich Live used the lazy console as a context
    manager, which it is not: every fetch, build and run failed with a TypeError."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss("https://example.org", ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)))
    (tmp_path / "feeds.toml").write_text(
        '[[feeds]]\nname = "A"\nurl = "feed.xml"\n\n'
        '[briefings.turkey]\ntitle = "Turkey"\ntopics = ["turkey"]\nschedule = "0 7 * * *"\n'
    )
    status, shown = on_a_terminal(["run", "--once"], tmp_path)
    assert status == 0, shown
    assert "1 feed, 1 new entry, 1 edition" in shown
    assert "TypeError" not in shown
    assert list((tmp_path / "out" / "turkey").glob("*/index.html"))
    assert re.search(r"\x1b\[[39]\d", shown)  # coloured bars
    # A new story, so that the next run has an edition whether or not its minute (the
    # edition's name) is the first run's: a later edition leaves out what one carried.
    feed.write_text(
        rss(
            "https://example.org",
            ("/a", "Erdoğan hosts Aliyev in Ankara", LONG),
            (
                "/b",
                "Turkish lira steadies after central bank holds rates",
                "The central bank in Turkey kept its policy rate unchanged on Thursday, and the "
                "lira firmed against the dollar as exporters sold foreign currency. " * 12,
            ),
        )
    )
    status, shown = on_a_terminal(["run", "--once"], tmp_path, env={"NO_COLOR": "1"})
    assert status == 0, shown
    assert "1 new entry, 1 edition" in shown
    assert not re.search(r"\x1b\[[39]\d", shown)  # https://no-color.org


def on_the_screen(shown: str) -> list[str]:
    """The lines a terminal shows once ``shown`` is written to it: carriage returns, line
    feeds, cursor up (``ESC[nA``) and erase line (``ESC[2K``) are followed; other escape
    sequences (colours, the cursor hidden) change nothing shown."""
    lines, row, column = [""], 0, 0
    for escape, number, command, char in re.findall(
        r"(\x1b\[(\??[\d;]*)([A-Za-z]))|(.)", shown, re.DOTALL
    ):
        if escape and command == "A":
            row = max(0, row - int(number or 1))
        elif escape and command == "K" and number == "2":
            lines[row] = ""
        elif char == "\r":
            column = 0
        elif char == "\n":
            row, column = row + 1, 0
            lines += [""] * (row + 1 - len(lines))
        elif char:
            line = lines[row].ljust(column)
            lines[row] = line[:column] + char + line[column + 1 :]
            column += 1
    return [line.rstrip() for line in lines]


def test_log_lines_at_a_terminal_stay_above_the_progress_bars(tmp_path: Path) -> None:
    """With -v, the log went straight to the terminal under rich's bars: each refresh of
    the bars then erased the last log lines and left stale bars on the screen."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss("https://example.org", ("/a", "Erdoğan hosts Aliyev in Ankara", LONG)))
    briefings = "".join(
        f'[briefings.b{n}]\ntitle = "B{n}"\ntopics = ["gulf"]\nschedule = "0 7 * * *"\n\n'
        for n in range(8)
    )
    (tmp_path / "feeds.toml").write_text(f'[[feeds]]\nname = "A"\nurl = "feed.xml"\n\n{briefings}')
    status, shown = on_a_terminal(["-v", "run", "--once"], tmp_path)  # no Gulf story
    assert status == 0, shown
    screen = on_the_screen(shown)
    assert not [line for line in screen if "━" in line], screen  # no bar left behind
    for n in range(8):
        assert f"INFO briefings: b{n}: no new stories, no edition" in screen, screen
    assert screen[-2].startswith("No new stories, so no edition: b0, b1"), screen


AT_A_TERMINAL = [
    sys.executable,
    "-c",
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('briefings', run_name='__main__')",
]
"""``python -m briefings`` as a terminal's foreground job has it, Ctrl-C on: started in the
background by a shell without job control (as CI may run the tests), the test process and
so its children inherit SIGINT ignored, and Python then never turns it into
KeyboardInterrupt."""


def test_ctrl_c_during_a_fetch_stops_it_without_a_traceback_per_worker(
    server: LocalServer, tmp_path: Path
) -> None:
    """Ctrl-C reaches every process of the terminal's group: the worker processes that parse
    feeds each printed a KeyboardInterrupt traceback, 30 lines apiece, over the one line."""
    feeds = ""
    for n in range(12):  # more than POOL_AFTER: parsed in worker processes
        url = server.add(
            f"/f{n}.xml",
            rss(server.base, (f"/{n}", f"Erdoğan in Baku, {n}", LONG)),
            delay=0 if n < 6 else 4,
        )
        feeds += f'[[feeds]]\nname = "F{n}"\nurl = "{url}"\n\n'
    config = tmp_path / "feeds.toml"
    config.write_text(f"[settings]\nprocesses = 2\ntimeout = 20\nlock_wait = 0\n\n{feeds}")
    running = subprocess.Popen(
        [*AT_A_TERMINAL, "--config", str(config), "fetch", "--feeds-only"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job has
    )
    deadline = time.monotonic() + 30
    while len(server.hits) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(running.pid, signal.SIGINT)  # what Ctrl-C does
    _, shown = running.communicate(timeout=60)
    assert "Traceback" not in shown, shown
    assert running.returncode == 130  # 128 + SIGINT, as a shell reports it
    assert shown.splitlines()[-1] == "interrupted"
    from briefings import config as configuration
    from briefings import pipeline

    with pipeline.run_lock(configuration.load(config)):
        pass  # released: it would raise at once


def test_ctrl_c_does_not_wait_for_a_feed_that_hangs(server: LocalServer, tmp_path: Path) -> None:
    """Ctrl-C waited for every download under way, up to ``timeout`` (60 s here)."""
    fast = server.add("/fast.xml", rss(server.base, ("/a", "Erdoğan in Baku", LONG)))
    slow = server.add("/slow.xml", rss(server.base, ("/b", "Ankara rail", LONG)), delay=45)
    config = tmp_path / "feeds.toml"
    config.write_text(
        "[settings]\ntimeout = 60\nlock_wait = 0\n\n"
        f'[[feeds]]\nname = "Slow"\nurl = "{slow}"\n\n[[feeds]]\nname = "Fast"\nurl = "{fast}"\n'
    )
    running = subprocess.Popen(
        [*AT_A_TERMINAL, "--config", str(config), "fetch", "--feeds-only"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while len(server.hits) < 1 and time.monotonic() < deadline:  # the fast feed is done
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(running.pid, signal.SIGINT)
    try:
        _, shown = running.communicate(timeout=15)  # not the 45 s the slow feed takes
    finally:
        if running.poll() is None:
            running.kill()
            running.communicate()
    assert running.returncode == 130, shown
    assert "Traceback" not in shown, shown
