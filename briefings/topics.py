"""Pure topic matching: the built-in gazetteer plus the user's ``[topics.ID]``.

Text and terms are folded alike (Unicode compatibility form, accents and case
dropped, ``ı``→``i``, ``ə``→``e``) and reduced to words joined by single spaces,
so one Aho-Corasick pass finds every term on word boundaries: ``Erdoğan'ın``
matches ``Erdogan``. Each match is kept with its field; a story's topic score
sums field weights, and the caller decides what score is enough.
"""

from __future__ import annotations

import bisect
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import ahocorasick

from .config import UserTopic
from .errors import ConfigError
from .model import Field, TopicMatch
from .text import fold

FIELD_WEIGHTS: Mapping[Field, float] = {"title": 3.0, "summary": 2.0, "body": 1.0}
DEFAULT_MIN_SCORE = 2.0
DEFAULT_WINDOW = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class ContextRule:
    """An ambiguous term, cancelled when an ``unless_near`` phrase is within ``window`` words."""

    term: str
    unless_near: tuple[str, ...]
    window: int = DEFAULT_WINDOW


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A region or theme: its terms, its context rules and its exclusions."""

    id: str
    title: str
    kind: str
    description: str
    terms: tuple[str, ...]
    context: tuple[ContextRule, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """A match that a context rule or an exclusion took back, and why."""

    topic: str
    term: str
    field: Field
    reason: str


def builtin_topics() -> tuple[Topic, ...]:
    """Every topic of the built-in gazetteer, one TOML file each."""
    folder = resources.files("briefings.gazetteer")
    topics = []
    for item in sorted(folder.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".toml"):
            text = item.read_text(encoding="utf-8")
            topics.append(topic_from_toml(text, f"briefings/gazetteer/{item.name}"))
    return tuple(topics)


def topic_from_toml(text: str, filename: str) -> Topic:
    """Parse one gazetteer file; :class:`ConfigError` names the file and the problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{filename}: invalid TOML: {exc}"]) from None
    problems = []
    for key in ("id", "title", "terms"):
        if key not in raw:
            problems.append(f"{filename}: {key}: required key is missing")
    if problems:
        raise ConfigError(problems)
    rules = tuple(_rule(item, filename, index) for index, item in enumerate(raw.get("context", [])))
    return Topic(
        id=str(raw["id"]),
        title=str(raw["title"]),
        kind=str(raw.get("kind", "region")),
        description=str(raw.get("description", "")),
        terms=tuple(str(t) for t in raw["terms"]),
        context=rules,
    )


def _rule(item: Any, filename: str, index: int) -> ContextRule:
    if not isinstance(item, dict) or not isinstance(item.get("term"), str):
        raise ConfigError([f"{filename}: context[{index}]: needs a 'term' string"])
    return ContextRule(
        term=item["term"],
        unless_near=tuple(item.get("unless_near", ())),
        window=int(item.get("window", DEFAULT_WINDOW)),
    )


def user_topic(topic: UserTopic) -> Topic:
    """A ``[topics.ID]`` table as a :class:`Topic`."""
    return Topic(
        id=topic.id,
        title=topic.title,
        kind="user",
        description=topic.description,
        terms=topic.terms,
        exclude=topic.exclude,
    )


@dataclass(frozen=True, slots=True)
class _Term:
    topic: str
    term: str
    rule: ContextRule | None


class Matcher:
    """Finds the terms of many topics in a text in one pass."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics = {topic.id: topic for topic in topics}
        self._automaton = ahocorasick.Automaton()
        keys: defaultdict[str, list[_Term]] = defaultdict(list)
        for topic in self.topics.values():
            seen: set[str] = set()  # "Türkiye" and "Türkiyə" fold alike: count once
            entries = [(t, None) for t in topic.terms] + [(r.term, r) for r in topic.context]
            for term, rule in entries:
                key = _key(term)
                if key not in seen:
                    seen.add(key)
                    keys[key].append(_Term(topic.id, term, rule))
        for key, terms in keys.items():
            if key.strip():
                self._automaton.add_word(key, (len(key), tuple(terms)))
        if keys:
            self._automaton.make_automaton()
        self._excludes = {t.id: tuple(fold(p) for p in t.exclude) for t in self.topics.values()}

    def match(
        self, *, title: str, summary: str, body: str
    ) -> tuple[tuple[TopicMatch, ...], tuple[Cancelled, ...]]:
        """Every topic match in the three fields, aggregated per term and field.

        An ambiguous term is cancelled when one of its rule's phrases is near it,
        or, when the story has no unambiguous term of that topic at all, when a
        phrase occurs anywhere in the story ("Georgia" in a title, "Atlanta" in
        the body).
        """
        folded: dict[Field, str] = {
            "title": fold(title),
            "summary": fold(summary),
            "body": fold(body),
        }
        everything = " ".join(folded.values())
        found = [(field, *hit) for field, text in folded.items() for hit in self._scan(text)]
        unambiguous = {topic for _, topic, _, rule, _ in found if rule is None}
        counts: defaultdict[tuple[str, str, Field], int] = defaultdict(int)
        cancelled: list[Cancelled] = []
        for field, topic, term, rule, reason in found:
            if rule is not None and not reason and topic not in unambiguous:
                elsewhere = _first_present(everything, rule.unless_near)
                if elsewhere:
                    reason = f"{elsewhere!r} in the story and no unambiguous {topic} term"
            if reason:
                cancelled.append(Cancelled(topic=topic, term=term, field=field, reason=reason))
            else:
                counts[(topic, term, field)] += 1
        for topic_id, phrases in self._excludes.items():
            hit = next((p for p in phrases if p.strip() and p in everything), None)
            if hit is None:
                continue
            for key in [k for k in counts if k[0] == topic_id]:
                del counts[key]
                cancelled.append(
                    Cancelled(
                        topic=topic_id,
                        term=key[1],
                        field=key[2],
                        reason=f"excluded by {hit.strip()!r}",
                    )
                )
        matches = tuple(
            TopicMatch(
                topic=topic,
                term=term,
                field=field,
                weight=FIELD_WEIGHTS[field] * (1 + 0.5 * min(count - 1, 2)),
            )
            for (topic, term, field), count in sorted(counts.items(), key=_match_order)
        )
        return matches, tuple(cancelled)

    def _scan(self, text: str) -> Iterable[tuple[str, str, ContextRule | None, str]]:
        """(topic, term, rule, reason if a nearby phrase cancels it) per longest match."""
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return
        found: list[tuple[int, int, tuple[_Term, ...]]] = []
        for end, (length, terms) in self._automaton.iter(text):
            found.append((end - length + 1, end + 1, terms))
        spaces: list[int] | None = None
        for start, stop, terms in found:
            for entry in terms:
                if _inside_longer(start, stop, entry.topic, found):
                    continue
                if entry.rule is None:
                    yield entry.topic, entry.term, None, ""
                    continue
                if spaces is None:
                    spaces = [i for i, c in enumerate(text) if c == " "]
                near = _near(text, spaces, start, stop, entry.rule)
                yield (
                    entry.topic,
                    entry.term,
                    entry.rule,
                    f"{near!r} near {entry.term!r}" if near else "",
                )


def scores(matches: Iterable[TopicMatch]) -> dict[str, float]:
    """Topic id → the sum of its match weights."""
    totals: defaultdict[str, float] = defaultdict(float)
    for match in matches:
        totals[match.topic] += match.weight
    return dict(totals)


def _key(term: str) -> str:
    if term.endswith("*"):
        return fold(term[:-1]).rstrip()
    return fold(term)


def _inside_longer(
    start: int, stop: int, topic: str, found: list[tuple[int, int, tuple[_Term, ...]]]
) -> bool:
    for other_start, other_stop, terms in found:
        if (
            other_start <= start
            and stop <= other_stop
            and (other_stop - other_start) > (stop - start)
            and any(t.topic == topic for t in terms)
        ):
            return True
    return False


def _near(text: str, spaces: list[int], start: int, stop: int, rule: ContextRule) -> str:
    first = bisect.bisect_right(spaces, start)
    last = bisect.bisect_left(spaces, stop)
    low = spaces[max(0, first - 1 - rule.window)]
    high = spaces[min(len(spaces) - 1, last + rule.window)]
    return _first_present(text[low : high + 1], rule.unless_near)


def _first_present(text: str, phrases: Iterable[str]) -> str:
    for phrase in phrases:
        folded = fold(phrase)
        if folded.strip() and folded in text:
            return folded.strip()
    return ""


def _match_order(item: tuple[tuple[str, str, Field], int]) -> tuple[str, int, str]:
    (topic, term, field), _ = item
    return topic, list(FIELD_WEIGHTS).index(field), term
