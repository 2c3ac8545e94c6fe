"""feeds.toml → Config: every kind of error is reported with its key path and a hint."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from briefings import config
from briefings.cli import main
from briefings.errors import ConfigError

ROOT = Path(__file__).parent.parent
GOOD = """
[settings]
database = "sqlite:///data/b.db"
output = "editions"
timezone = "Europe/Istanbul"

[[feeds]]
name = "Outlet A"
url = "https://example.org/feed.xml"

[[feeds]]
name = "Local file"
url = "feeds/local.xml"

[briefings.israel]
title = "Israel Briefing"
topics = ["israel"]
schedule = "0 7 * * *"
window = "1d12h"
max_stories = 5

[briefings.everything]
title = "Everything"
schedule = "30 6 * * mon-fri"
"""


def problems(write: Callable[[str], Path], text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config.load(write(text))
    return caught.value.problems


def test_feeds_named_in_other_scripts_get_distinct_ids(
    write_config: Callable[[str], Path],
) -> None:
    """Two feeds named only in Hebrew or Arabic both became 'feed', and the file was
    refused until each was given an id."""
    path = write_config(
        '[[feeds]]\nname = "ידיעות אחרונות"\nurl = "https://www.ynet.co.il/Integration/StoryRss2.xml"\n\n'
        '[[feeds]]\nname = "הארץ"\nurl = "https://www.haaretz.co.il/srv/rss"\n\n'
        '[[feeds]]\nname = "الجزيرة"\nurl = "feeds/aljazeera.xml"\n'
    )
    assert [f.id for f in config.load(path).feeds] == [
        "ynet-co-il-integration-storyrss2",
        "haaretz-co-il-srv-rss",
        "aljazeera",
    ]


def test_a_feeds_time_zone_is_checked(write_config: Callable[[str], Path]) -> None:
    good = write_config(
        '[[feeds]]\nname = "Yerel"\nurl = "https://yerel.example/rss"\n'
        'timezone = "Europe/Istanbul"\n'
    )
    assert config.load(good).feeds[0].timezone == "Europe/Istanbul"
    [problem] = problems(
        write_config,
        '[[feeds]]\nname = "Yerel"\nurl = "https://yerel.example/rss"\n'
        'timezone = "Europe/Istambul"\n',
    )
    assert problem.startswith("feeds.toml: feeds[0].timezone: ") and "Europe/Istanbul" in problem


def test_a_feed_address_without_its_scheme_is_refused(
    write_config: Callable[[str], Path],
) -> None:
    """``www.ynet.co.il/rss`` was read as a local file path and only warned about."""
    found = problems(
        write_config,
        '[[feeds]]\nname = "A"\nurl = "www.ynet.co.il/Integration/StoryRss2.xml"\n\n'
        '[[feeds]]\nname = "B"\nurl = "127.0.0.1:8000/feed.xml"\n',
    )
    assert found == [
        "feeds.toml: feeds[0].url: 'www.ynet.co.il/Integration/StoryRss2.xml' has no scheme: write "
        "'https://www.ynet.co.il/Integration/StoryRss2.xml' (a local file path is read as one "
        "only if it exists)",
        "feeds.toml: feeds[1].url: '127.0.0.1:8000/feed.xml' has no scheme: write "
        "'https://127.0.0.1:8000/feed.xml' (a local file path is read as one only if it exists)",
    ]
    path = write_config('[[feeds]]\nname = "Mirror"\nurl = "mirror.example.org/feed.xml"\n')
    (path.parent / "mirror.example.org").mkdir()
    (path.parent / "mirror.example.org" / "feed.xml").write_text("<rss/>", encoding="utf-8")
    assert config.load(path).feeds[0].url == str(
        path.parent.resolve() / "mirror.example.org/feed.xml"
    )


def test_good_config_resolves_paths_and_defaults(write_config: Callable[[str], Path]) -> None:
    path = write_config(GOOD)
    loaded = config.load(path)
    root = path.parent.resolve()
    assert loaded.settings.database == f"sqlite:///{root}/data/b.db"
    assert loaded.settings.output == root / "editions"
    assert loaded.settings.private == root / "private"
    assert loaded.delivery.view_days == 90
    assert [f.id for f in loaded.feeds] == ["outlet-a", "local-file"]
    assert loaded.feeds[1].url == str(root / "feeds/local.xml")
    israel = loaded.briefing("israel")
    assert israel.window == timedelta(days=1, hours=12)
    assert israel.max_stories == 5
    everything = loaded.briefing("everything")
    assert everything.topics == ()
    assert everything.window == timedelta(hours=24)
    assert everything.min_score is None  # each topic's own threshold


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("[settings]", "[settings]\ndatabse = 'x'"),
            "feeds.toml: settings.databse: unknown key (did you mean 'database'?)",
        ),
        (
            ("[settings]", "[setings]\n[settings]"),
            "feeds.toml: setings: unknown key (did you mean 'settings'?)",
        ),
        (
            ('topics = ["israel"]', 'topics = ["isreal"]'),
            "feeds.toml: briefings.israel.topics[0]: unknown topic 'isreal' (did you mean 'israel'?)",
        ),
        (
            ("max_stories = 5", 'max_stories = "5"'),
            "feeds.toml: briefings.israel.max_stories: expected an integer, got str '5'",
        ),
        (
            ("max_stories = 5", "max_stories = 0"),
            "feeds.toml: briefings.israel.max_stories: must be greater than zero",
        ),
        (
            ('url = "https://example.org/feed.xml"', 'url = "ftp://example.org/feed.xml"'),
            "feeds.toml: feeds[0].url: bad URL 'ftp://example.org/feed.xml': use http(s):// or a "
            "local file path",
        ),
        (
            ('url = "https://example.org/feed.xml"', 'url = "https:///feed.xml"'),
            "feeds.toml: feeds[0].url: bad URL 'https:///feed.xml': no host",
        ),
        (
            ('url = "https://example.org/feed.xml"', 'url = "https://[::1/feed.xml"'),
            "feeds.toml: feeds[0].url: bad URL 'https://[::1/feed.xml': Invalid IPv6 URL",
        ),
        (
            ('url = "https://example.org/feed.xml"', 'url = "https://example.org:99999/f"'),
            "feeds.toml: feeds[0].url: bad URL 'https://example.org:99999/f': Port out of range",
        ),
        (
            ('url = "https://example.org/feed.xml"', 'url = "https://example.org/my feed.xml"'),
            "feeds.toml: feeds[0].url: bad URL 'https://example.org/my feed.xml': whitespace "
            "inside (write a space as %20)",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'base_url = "https://b.example/my out"'),
            "feeds.toml: settings.base_url: bad URL 'https://b.example/my out': whitespace",
        ),
        (
            ('schedule = "0 7 * * *"', 'schedule = "0 25 * * *"'),
            "feeds.toml: briefings.israel.schedule: bad cron line '0 25 * * *':",
        ),
        (
            ('schedule = "0 7 * * *"', 'schedule = "every morning"'),
            "feeds.toml: briefings.israel.schedule: bad cron line 'every morning': expected 5 fields",
        ),
        (
            ('window = "1d12h"', 'window = "a day"'),
            "feeds.toml: briefings.israel.window: bad duration 'a day'",
        ),
        (
            ('window = "1d12h"', 'window = "0h"'),
            "feeds.toml: briefings.israel.window: duration '0h' must be longer than zero",
        ),
        (
            ('schedule = "0 7 * * *"', 'schedule = "0 7 * * sunflower"'),
            "feeds.toml: briefings.israel.schedule: bad cron line '0 7 * * sunflower': bad weekday",
        ),
        (
            ('schedule = "0 7 * * *"', 'schedule = "0 7 * * monkey-friday"'),
            "feeds.toml: briefings.israel.schedule: bad cron line '0 7 * * monkey-friday': bad",
        ),
        (
            ('schedule = "0 7 * * *"', 'schedule = "0 7 31 2 *"'),
            "feeds.toml: briefings.israel.schedule: bad cron line '0 7 31 2 *': it never fires",
        ),
        (
            ('window = "1d12h"', 'window = "1000000000d"'),
            "feeds.toml: briefings.israel.window: duration '1000000000d' is too long",
        ),
        (
            ('window = "1d12h"', 'window = "1d12h"\nmin_stories = -3'),
            "feeds.toml: briefings.israel.min_stories: must not be negative",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'fetch_interval = "999999999999d"'),
            "feeds.toml: settings.fetch_interval: duration '999999999999d' is too long",
        ),
        (
            ('timezone = "Europe/Istanbul"', "extract_below = -1"),
            "feeds.toml: settings.extract_below: must not be negative",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'templates = "nowhere"'),
            "feeds.toml: settings.templates: ",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'private = "editions/pro"'),
            "feeds.toml: settings.private: ",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'private = "editions"'),
            "feeds.toml: settings.private: ",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'private = "."'),
            "feeds.toml: settings.private: ",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'private = ""'),
            "feeds.toml: settings.private: must not be empty",
        ),
        (
            ('database = "sqlite:///data/b.db"', 'database = "editions/b.db"'),
            "feeds.toml: settings.database: ",
        ),
        (
            (
                "[briefings.everything]",
                "[delivery]\noutbox = 'editions/mail'\n[briefings.everything]",
            ),
            "feeds.toml: delivery.outbox: ",
        ),
        (
            ("[briefings.everything]", "[delivery]\nview_days = 0\n[briefings.everything]"),
            "feeds.toml: delivery.view_days: must be 1 to 3650, got 0",
        ),
        (
            ("[briefings.everything]", "[delivery]\nsmtp_port = 99999\n[briefings.everything]"),
            "feeds.toml: delivery.smtp_port: must be 1 to 65535, got 99999",
        ),
        (
            ("[briefings.everything]", "[delivery]\nconnections = 0\n[briefings.everything]"),
            "feeds.toml: delivery.connections: must be at least 1, got 0",
        ),
        (
            ('name = "Local file"', 'name = "Outlet A"'),
            "feeds.toml: feeds[1].id: duplicate feed id 'outlet-a' (also feeds[0]; set a distinct id)",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'timezone = "Europe/Stambul"'),
            "feeds.toml: settings.timezone: unknown time zone 'Europe/Stambul'",
        ),
        (
            ('title = "Israel Briefing"\n', ""),
            "feeds.toml: briefings.israel.title: required key is missing",
        ),
        (
            ("[briefings.everything]", "[briefings.'../../etc']"),
            "feeds.toml: briefings.../../etc: invalid id",
        ),
        (
            ("[briefings.everything]", "[topics.israel]\nterms = ['x']\n[briefings.everything]"),
            "feeds.toml: topics.israel: shadows the built-in topic",
        ),
        (
            (
                "[briefings.everything]",
                "[topics.mine]\ntitle = 'Mine'\nterms = []\n[briefings.everything]",
            ),
            "feeds.toml: topics.mine.terms: needs at least one term",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'timezone = "UTC"\nupgrade_url = "/subscribe"'),
            "feeds.toml: settings.upgrade_url: must start with https:// (or http://, or mailto:)",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'timezone = "UTC"\nupgrade_url = "https://"'),
            "feeds.toml: settings.upgrade_url: no host in 'https://'",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'timezone = "UTC"\nupgrade_url = "mailto:"'),
            "feeds.toml: settings.upgrade_url: no address in 'mailto:'",
        ),
        (
            ('timezone = "Europe/Istanbul"', 'timezone = "UTC"\nbase_url = "http:///news"'),
            "feeds.toml: settings.base_url: no host in 'http:///news'",
        ),
        (
            ("max_stories = 5", 'max_stories = 5\nsubject = "{title.__class__.__init__}"'),
            "feeds.toml: briefings.israel.subject: bad subject template",
        ),
        (
            ("max_stories = 5", 'max_stories = 5\nsubject = "{date.tzinfo}"'),
            "feeds.toml: briefings.israel.subject: bad subject template",
        ),
    ],
)
def test_each_error_names_its_key(
    write_config: Callable[[str], Path], change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    found = problems(write_config, GOOD.replace(old, new, 1))
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_reported_at_once(write_config: Callable[[str], Path]) -> None:
    text = GOOD.replace('topics = ["israel"]', 'topics = ["isreal"]').replace(
        'window = "1d12h"', 'window = "soon"'
    )
    assert len(problems(write_config, text)) == 2


def test_invalid_toml_names_the_file_and_line(write_config: Callable[[str], Path]) -> None:
    found = problems(write_config, "[settings\n")
    assert found[0].startswith(f"{write_config('')}: invalid TOML")
    assert "line 1" in found[0]


def test_user_topic_usable_by_briefing(write_config: Callable[[str], Path]) -> None:
    text = (
        GOOD
        + """
[topics.water]
title = "Water"
terms = ["Euphrates", "dam*"]
ignore = ["Dam Square"]
exclude = ["Hoover Dam"]

[briefings.water]
title = "Water Briefing"
topics = ["water"]
schedule = "0 9 * * mon"
"""
    )
    loaded = config.load(write_config(text))
    assert loaded.topics[0].terms == ("Euphrates", "dam*")
    assert loaded.topics[0].ignore == ("Dam Square",)
    assert loaded.briefing("water").topics == ("water",)


def test_check_command_exits_2_with_one_line_per_problem(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(GOOD.replace('topics = ["israel"]', 'topics = ["isreal"]'))
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 2
    assert "briefings.israel.topics[0]: unknown topic 'isreal' (did you mean 'israel'?)" in (
        result.output
    )


def test_check_warns_of_a_local_feed_file_that_is_not_there(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config(GOOD)
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert result.exit_code == 0, result.output
    missing = path.parent / "feeds" / "local.xml"
    assert f"warning: feeds.toml: feeds[1].url: no such file {missing} (yet?)" in result.output
    missing.parent.mkdir()
    missing.write_text("<rss/>", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "check"])
    assert "no such file" not in result.output


def test_urls_lose_the_whitespace_around_them(write_config: Callable[[str], Path]) -> None:
    text = GOOD.replace(
        'url = "https://example.org/feed.xml"', 'url = " https://example.org/feed.xml\\n"'
    ).replace('timezone = "Europe/Istanbul"', 'base_url = " https://b.example/out/ "')
    loaded = config.load(write_config(text))
    assert loaded.feeds[0].url == "https://example.org/feed.xml"
    assert loaded.settings.base_url == loaded.delivery.base_url == "https://b.example/out"
    spaced = write_config(GOOD.replace("feed.xml", "feed .xml"))
    result = CliRunner().invoke(main, ["--config", str(spaced), "check"])
    assert result.exit_code == 2
    assert "feeds[0].url: bad URL 'https://example.org/feed .xml': whitespace inside" in (
        result.output
    )


def test_missing_config_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "nope.toml"), "run", "--once"])
    assert result.exit_code == 2
    assert "nope.toml: no such file" in result.output


def test_durations() -> None:
    assert config.parse_duration("90m") == timedelta(minutes=90)
    assert config.parse_duration("1w") == timedelta(days=7)
    assert config.cron_trigger("0 7 * * monday-friday", "UTC") is not None
    for bad in ("", "12", "h", "1x", "-1h"):
        with pytest.raises(ValueError):
            config.parse_duration(bad)


def test_shipped_configs_are_valid_and_agree() -> None:
    shipped = config.load(ROOT / "feeds.toml")
    bundled = config.load(ROOT / "briefings" / "sample" / "feeds.toml")
    assert shipped.briefings == bundled.briefings
    assert len(shipped.feeds) >= 10
    assert {b.id for b in shipped.briefings} >= {
        "week-in-review",
        "minute",
        "daily",
        "business-tech",
        "security",
        "gulf",
        "israel",
        "palestine",
        "turkey",
        "iraq",
        "caucasus",
    }


def test_every_key_is_documented() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", docs, flags=re.MULTILINE))
    for section, keys in config.SECTIONS.items():
        for key in keys:
            assert key in documented, f"{section}.{key} is not in docs/configuration.md"


def test_cron_weekdays_count_from_sunday_as_in_crontab() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    def weekdays(line: str) -> list[str]:
        trigger = config.cron_trigger(line, "Europe/Istanbul")
        moment = datetime(2026, 11, 22, 0, 0, tzinfo=ZoneInfo("Europe/Istanbul"))  # a Sunday
        days = []
        for _ in range(7):
            moment = trigger.get_next_fire_time(None, moment)
            days.append(f"{moment:%a}")
            moment = moment.replace(hour=23)
        return sorted(set(days), key=days.index)

    assert weekdays("0 7 * * 1-5") == ["Mon", "Tue", "Wed", "Thu", "Fri"]
    assert weekdays("0 7 * * sun-thu") == ["Sun", "Mon", "Tue", "Wed", "Thu"]
    assert weekdays("0 7 * * 0,6") == ["Sun", "Sat"]
    assert weekdays("0 7 * * 7") == ["Sun"]


def test_a_database_without_its_driver_is_one_line(write_config: Callable[[str], Path]) -> None:
    import importlib.util

    if importlib.util.find_spec("psycopg") is not None:
        pytest.skip("psycopg is installed")
    path = write_config(
        '[settings]\ndatabase = "postgresql+psycopg://u@127.0.0.1:1/b"\n\n'
        '[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
    )
    result = CliRunner().invoke(main, ["--config", str(path), "subscribers", "list"])
    assert result.exit_code == 1
    [line] = result.output.strip().splitlines()
    assert line.startswith(
        "error: settings.database: postgresql+psycopg: its driver is not installed"
    )


def test_a_misspelt_schedule_is_said_once_not_three_times(
    write_config: Callable[[str], Path],
) -> None:
    path = write_config('[briefings.a]\ntitle = "A"\nschedul = "0 7 * * *"\n')
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    assert caught.value.problems == [
        "feeds.toml: briefings.a.schedul: unknown key (did you mean 'schedule'?)",
        "feeds.toml: briefings.a.schedule: required key is missing",
    ]
    path = write_config('[briefings.a]\ntitle = "A"\nschedule = ""\n')
    with pytest.raises(ConfigError, match="bad cron line ''"):
        config.load(path)


def test_an_upgrade_url_may_be_a_mail_address(write_config: Callable[[str], Path]) -> None:
    text = GOOD.replace(
        'timezone = "Europe/Istanbul"',
        'timezone = "UTC"\nupgrade_url = " mailto:members@example.org?subject=PRO "',
    )
    loaded = config.load(write_config(text))
    assert loaded.settings.upgrade_url == "mailto:members@example.org?subject=PRO"


@pytest.mark.parametrize(
    ("zone", "meant"),
    [
        ("Europe/Istambul", "Europe/Istanbul"),
        ("Asia/Jerusalm", "Asia/Jerusalem"),
        ("europe/istanbul", "Europe/Istanbul"),
        ("Asia/Baku ", "Asia/Baku"),
    ],
)
def test_a_misspelt_time_zone_gets_the_zone_it_resembles(
    write_config: Callable[[str], Path], zone: str, meant: str
) -> None:
    for table in ("[settings]\n", '[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'):
        text = f'{table}timezone = "{zone}"\n'
        if table == "[settings]\n":
            text += '[briefings.daily]\ntitle = "D"\nschedule = "0 7 * * *"\n'
        path = write_config(text)
        with pytest.raises(ConfigError) as caught:
            config.load(path)
        where = "settings" if table == "[settings]\n" else "briefings.daily"
        assert caught.value.problems == [
            f"feeds.toml: {where}.timezone: unknown time zone {zone!r} (did you mean {meant!r}?)"
        ]


def test_a_nul_character_in_a_setting_is_one_problem(write_config: Callable[[str], Path]) -> None:
    """``database = "\\u0000"`` crashed with "embedded null byte" (found by hypothesis)."""
    found = problems(
        write_config,
        '[settings]\ndatabase = "\\u0000"\n\n[[feeds]]\nname = "A"\nurl = "https://a.example/\\u0000"\n',
    )
    assert found == [
        "feeds.toml: settings.database: contains a NUL character (\\u0000)",
        "feeds.toml: feeds[0].url: contains a NUL character (\\u0000)",
    ]


def test_a_daily_in_the_repeated_hour_fires_once_when_summer_time_ends() -> None:
    from datetime import UTC, datetime

    def fires(line: str, zone: str, start: datetime, end: datetime) -> list[str]:
        trigger, out, previous = config.cron_trigger(line, zone), [], None
        moment = start
        while (previous := trigger.get_next_fire_time(previous, moment)) < end:
            out.append(f"{previous.astimezone(UTC):%d %H:%M}")
            moment = previous.astimezone(UTC) + timedelta(seconds=1)
        return out

    # Israel's clocks go back at 02:00 on 25 October 2026, London's at 02:00 BST: 01:30
    # comes twice. A daily runs at the first, as crontab does; an hourly runs at both.
    start, end = datetime(2026, 10, 24, 12, tzinfo=UTC), datetime(2026, 10, 26, 12, tzinfo=UTC)
    assert fires("30 1 * * *", "Asia/Jerusalem", start, end) == ["24 22:30", "25 23:30"]
    assert fires("30 1 * * *", "Europe/London", start, end) == ["25 00:30", "26 01:30"]
    hourly = fires("30 * * * *", "Asia/Jerusalem", start, start + timedelta(hours=14))
    assert hourly[9:13] == ["24 21:30", "24 22:30", "24 23:30", "25 00:30"]
    assert fires("0 7 * * *", "Asia/Jerusalem", start, end) == ["25 05:00", "26 05:00"]
