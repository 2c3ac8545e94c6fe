"""Composition: windows, topics, memory across editions, updates, ranking."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from briefings import compose
from briefings.config import Briefing
from briefings.model import Source, Story

from .conftest import NOW

BRIEFING = Briefing(
    id="turkey",
    title="Turkey Briefing",
    description="",
    topics=("turkey",),
    schedule="0 8 * * *",
    window=timedelta(hours=24),
    repeat_window=timedelta(days=7),
    max_stories=3,
    min_score=None,
)


def story(
    n: int,
    *,
    outlets: int = 1,
    hours: float = 1,
    title: str = "",
    topics: tuple[str, ...] = ("turkey",),
) -> Story:
    sources = tuple(
        Source(feed=f"Outlet {k}", title="t", url=f"https://o{k}.example/{n}")
        for k in range(outlets)
    )
    return Story(
        id=f"s{n}",
        title=title or f"Ankara story number {n}",
        url=sources[0].url,
        summary="",
        published=NOW - timedelta(hours=hours),
        topics=topics,
        scores=tuple((t, 3.0) for t in topics),
        matches=(),
        sources=sources,
        member_urls=tuple(s.url for s in sources),
    )


def ids(edition: compose.Edition) -> list[str]:
    return [s.id for s in edition.stories]


def build(
    stories: list[Story], carried: dict[str, str] | None = None, briefing: Briefing = BRIEFING
) -> compose.Edition:
    return compose.compose(
        briefing, stories, now=NOW, timezone="Europe/Istanbul", carried=carried or {}
    )


def test_window_topics_order_and_cap() -> None:
    stories = [
        story(1, outlets=1, hours=2),
        story(2, outlets=3, hours=5),
        story(3, hours=30),
        story(4, topics=("caucasus",)),
        story(5, outlets=2, hours=1),
        story(6, hours=3),
    ]
    edition = build(stories)
    assert ids(edition) == ["s2", "s5", "s1"]  # most outlets first, then newest; capped at 3
    assert edition.edition == "2026-11-22-1200"


def test_a_sent_story_is_not_repeated_unless_it_changed() -> None:
    sent = story(1, outlets=2)
    carried = {url: sent.title for url in sent.member_urls}
    assert ids(build([sent], carried)) == []
    retitled = replace(sent, title="Parliament ratifies the Ankara accord after late-night vote")
    [update] = build([retitled], carried).stories
    assert update.update is True
    one_more = story(1, outlets=3)
    assert ids(build([one_more], carried)) == []  # one new outlet is not enough
    two_more = story(1, outlets=4)
    assert [s.update for s in build([two_more], carried).stories] == [True]
    light_edit = replace(sent, title=sent.title + " today")
    assert ids(build([light_edit], carried)) == []


def test_own_min_score_overrides_topic_thresholds() -> None:
    weak = replace(story(1), topics=(), scores=(("turkey", 1.5),))
    assert ids(build([weak])) == []
    lenient = replace(BRIEFING, min_score=1.0)
    assert ids(build([weak], briefing=lenient)) == ["s1"]


def test_a_briefing_without_topics_takes_every_story() -> None:
    everything = replace(BRIEFING, topics=(), max_stories=10)
    assert len(build([story(1), story(2, topics=())], briefing=everything).stories) == 2


INDUSTRY = replace(
    BRIEFING,
    id="industry",
    topics=("banking", "energy", "defense"),
    format="industry",
    max_stories=3,
    window=timedelta(days=7),
)


def test_an_industry_weekly_keeps_enough_of_every_industry_for_each_reader() -> None:
    banking = [story(n, outlets=5, topics=("banking",)) for n in range(1, 6)]
    energy = [story(n, outlets=1, topics=("energy",)) for n in range(6, 10)]
    both = story(10, outlets=1, hours=2, topics=("energy", "defense"))
    edition = build([*banking, *energy, both], briefing=INDUSTRY)
    # three of each industry: the reader of energy alone gets a whole edition too
    assert ids(edition) == ["s1", "s2", "s3", "s6", "s7", "s8", "s10"]

    everyone, order = compose.for_reader(edition, INDUSTRY, ())
    assert (ids(everyone), order) == (["s1", "s2", "s3"], ())  # the best three, as before
    mine, order = compose.for_reader(edition, INDUSTRY, ("energy",))
    assert (ids(mine), order) == (["s6", "s7", "s8"], ("energy",))
    # two picks share the room in turn, in the reader's order of sections
    mine, order = compose.for_reader(edition, INDUSTRY, ("defense", "banking", "defense"))
    assert (ids(mine), order) == (["s1", "s2", "s10"], ("defense", "banking"))
    nothing_there, order = compose.for_reader(edition, INDUSTRY, ("shipping",))
    assert (ids(nothing_there), order) == (["s1", "s2", "s3"], ())


def test_other_formats_are_not_cut_per_reader() -> None:
    edition = build([story(n, outlets=n) for n in range(1, 6)])
    assert compose.for_reader(edition, BRIEFING, ("turkey",)) == (edition, ())


def test_a_daily_window_spans_the_25_hour_day_when_summer_time_ends() -> None:
    # Israel leaves summer time at 02:00 on Sunday 25 October 2026. Saturday's 07:00
    # edition ran at 04:00 UTC, Sunday's at 05:00 UTC: 25 hours apart.
    israel = replace(BRIEFING, id="israel", topics=(), max_stories=10)
    sunday = datetime(2026, 10, 25, 5, tzinfo=UTC)
    saturday = sunday - timedelta(hours=25)
    between = replace(story(1), published=saturday + timedelta(minutes=20))  # 07:20 IDT
    before = replace(story(2), published=saturday - timedelta(minutes=20))  # Saturday's
    edition = compose.compose(
        israel, [between, before], now=sunday, timezone="Asia/Jerusalem", carried={}
    )
    assert ids(edition) == ["s1"]
    # the 23-hour day in March takes the full 24 hours (what was sent is not repeated)
    friday = datetime(2027, 3, 26, 4, tzinfo=UTC)  # 07:00 IDT, 23 hours after Thursday's
    early = replace(story(3), published=friday - timedelta(hours=23, minutes=30))
    assert ids(compose.compose(israel, [early], now=friday, timezone="Asia/Jerusalem", carried={}))
    # a weekly across the change reaches back to the same local time a week before
    weekly = replace(israel, window=timedelta(days=7))
    week_ago = replace(story(4), published=sunday - timedelta(days=7, minutes=30))
    assert ids(
        compose.compose(weekly, [week_ago], now=sunday, timezone="Asia/Jerusalem", carried={})
    ) == ["s4"]


def test_a_late_edition_opens_its_window_at_its_slot() -> None:
    # Built 50 minutes late (a scheduler catching up after a restart), an edition still
    # reaches back to the previous day's slot, and takes what came in since its own.
    israel = replace(BRIEFING, id="israel", topics=(), max_stories=10)
    slot = datetime(2026, 11, 22, 5, tzinfo=UTC)  # 07:00 in Jerusalem
    built = slot + timedelta(minutes=50)
    stories = [
        replace(story(1), published=slot - timedelta(hours=23, minutes=40)),
        replace(story(2), published=slot + timedelta(minutes=30)),
        replace(story(3), published=slot - timedelta(hours=24, minutes=10)),
    ]
    edition = compose.compose(
        israel, stories, now=built, slot=slot, timezone="Asia/Jerusalem", carried={}
    )
    assert sorted(ids(edition)) == ["s1", "s2"]
    assert edition.generated_at == built


def test_an_edition_after_slots_that_made_none_covers_their_windows_up_to_a_cap() -> None:
    weekdays = replace(BRIEFING, schedule="0 8 * * 1-5", timezone="Europe/Istanbul")
    friday = datetime(2026, 11, 20, 5, tzinfo=UTC)  # 08:00 in Istanbul
    monday, tuesday = friday + timedelta(days=3), friday + timedelta(days=4)
    built = friday + timedelta(seconds=40)
    # the weekend has no slot: Monday's edition keeps its own 24 hours
    assert compose.first_missed(weekdays, monday, built) is None
    assert compose.first_missed(weekdays, monday, None) is None
    # Monday's was missed: Tuesday's covers Monday's window too
    missed = compose.first_missed(weekdays, tuesday, built)
    assert missed == monday
    assert compose.catch_up(weekdays, tuesday, missed) == monday - timedelta(hours=24)
    # after a month without an edition, it reaches back 7 days more than its window
    month_on = tuesday + timedelta(days=28)
    missed = compose.first_missed(weekdays, month_on, built)
    assert missed == monday
    opens = compose.catch_up(weekdays, month_on, missed)
    assert opens == month_on - timedelta(hours=24) - compose.CATCH_UP
    late = replace(story(1), published=monday - timedelta(hours=3))  # before Monday's slot
    assert (
        ids(
            compose.compose(
                weekdays, [late], now=tuesday, timezone="Europe/Istanbul", carried={}, slot=tuesday
            )
        )
        == []
    )
    caught = compose.compose(
        weekdays,
        [late],
        now=tuesday,
        timezone="Europe/Istanbul",
        carried={},
        slot=tuesday,
        opens=monday - timedelta(hours=24),
    )
    assert ids(caught) == ["s1"]
