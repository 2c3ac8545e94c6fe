"""Pure topic matching: the built-in gazetteer plus the user's ``[topics.ID]``.

Text and terms are folded alike (see :mod:`briefings.text`) into words joined
by single spaces, so one Aho-Corasick pass finds every term on word
boundaries: ``Erdoğan'ın`` matches ``Erdogan``. Hebrew and Arabic terms also
match behind their one-letter proclitics (``בישראל``, ``والقاهرة``).

Every match keeps its field and weight, and every cancelled match keeps its
reason, so that an editor can see why a story is, or is not, in a briefing.
"""

from __future__ import annotations

import bisect
import json
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import ahocorasick

from .config import ContextRule, UserTopic, parse_rule
from .errors import ConfigError
from .model import Field, TopicMatch
from .text import fold

FIELD_WEIGHTS: Mapping[Field, float] = {"title": 3.0, "summary": 2.0, "body": 1.0}
WEAK_WEIGHT = 0.5
DEFAULT_MIN_SCORE = 2.0
LONG_BODY_WORDS = 350
CHUNK_WORDS = 80
HEBREW_PREFIXES = (
    "ו",
    "ה",
    "ב",
    "ל",
    "מ",
    "ש",
    "כ",
    "וה",
    "וב",
    "ול",
    "ומ",
    "שה",
    "שב",
    "של",
    "מה",
    "כש",
    "לה",
    "בה",
)
ARABIC_PREFIXES = ("و", "ب", "ل", "ف", "ك", "وب", "ول", "فب", "لل")
TOPIC_KEYS = frozenset({"id", "title", "kind", "description", "terms", "weak", "context"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A region or theme: its terms, its weak terms, its context rules and exclusions."""

    id: str
    title: str
    kind: str
    description: str
    terms: tuple[str, ...]
    weak: tuple[str, ...] = ()
    context: tuple[ContextRule, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancelled:
    """A match that a context rule or an exclusion took back, and why."""

    topic: str
    term: str
    field: Field
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """One labelled example for :func:`evaluate`."""

    id: str
    title: str
    summary: str
    body: str
    topics: frozenset[str]
    kind: str = "regular"


@dataclass(frozen=True, slots=True, kw_only=True)
class Miss:
    """An example whose found topics differ from its labels."""

    example: Example
    found: frozenset[str]
    scores: Mapping[str, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluation:
    """Per-topic counts over a labelled set, and the examples it got wrong."""

    counts: Mapping[str, tuple[int, int, int]]
    """topic → (true positives, false positives, false negatives)"""
    misses: tuple[Miss, ...] = field(default=())

    def precision(self, topic: str) -> float:
        tp, fp, _ = self.counts.get(topic, (0, 0, 0))
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, topic: str) -> float:
        tp, _, fn = self.counts.get(topic, (0, 0, 0))
        return tp / (tp + fn) if tp + fn else 1.0


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
    """Parse and check one gazetteer file; :class:`ConfigError` names the file and line."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{filename}: invalid TOML: {exc}"]) from None
    problems = [
        f"{filename}:{_line_of(text, key)}: unknown key {key!r}"
        for key in raw
        if key not in TOPIC_KEYS
    ]
    for key in ("id", "title", "terms"):
        if key not in raw:
            problems.append(f"{filename}:1: required key {key!r} is missing")
    for key in ("terms", "weak"):
        values = raw.get(key, [])
        if not isinstance(values, list):
            problems.append(f"{filename}:{_line_of(text, key)}: {key} must be an array of strings")
            continue
        for value in values:
            if not isinstance(value, str) or not fold(value.rstrip("*")).strip():
                problems.append(
                    f"{filename}:{_line_of(text, repr(value)[1:-1])}: "
                    f"{key}: {value!r} is not a usable term"
                )
    rules = []
    for index, item in enumerate(raw.get("context", [])):
        line = _line_of(text, "[[context]]", index)
        try:
            rules.append(parse_rule(item))
        except ValueError as exc:
            problems.append(f"{filename}:{line}: context[{index}]: {exc}")
    if problems:
        raise ConfigError(problems)
    return Topic(
        id=str(raw["id"]),
        title=str(raw["title"]),
        kind=str(raw.get("kind", "region")),
        description=str(raw.get("description", "")),
        terms=tuple(raw["terms"]),
        weak=tuple(raw.get("weak", ())),
        context=tuple(rules),
    )


def _line_of(text: str, needle: str, occurrence: int = 0) -> int:
    position = -1
    for _ in range(occurrence + 1):
        position = text.find(needle, position + 1)
        if position < 0:
            return 1
    return text.count("\n", 0, position) + 1


def user_topic(topic: UserTopic) -> Topic:
    """A ``[topics.ID]`` table as a :class:`Topic`."""
    return Topic(
        id=topic.id,
        title=topic.title,
        kind="user",
        description=topic.description,
        terms=topic.terms,
        weak=topic.weak,
        exclude=topic.exclude,
        context=topic.context,
    )


@dataclass(frozen=True, slots=True)
class _Term:
    topic: str
    term: str
    rule: ContextRule | None
    weight: float


@dataclass(frozen=True, slots=True)
class _Hit:
    field: Field
    topic: str
    term: str
    rule: ContextRule | None
    weight: float
    word: int
    reason: str


class Matcher:
    """Finds the terms of many topics in a text in one pass."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics = {topic.id: topic for topic in topics}
        self._automaton = ahocorasick.Automaton()
        keys: defaultdict[str, list[_Term]] = defaultdict(list)
        for topic in self.topics.values():
            seen: set[str] = set()  # "Türkiye" and "Türkiyə" fold alike: count once
            entries = (
                [(t, None, 1.0) for t in topic.terms]
                + [(t, None, WEAK_WEIGHT) for t in topic.weak]
                + [(r.term, r, 1.0) for r in topic.context]
            )
            for term, rule, weight in entries:
                for key in _keys(term):
                    if key not in seen:
                        seen.add(key)
                        keys[key].append(_Term(topic.id, term, rule, weight))
        for key, terms in keys.items():
            self._automaton.add_word(key, (len(key), tuple(terms)))
        if keys:
            self._automaton.make_automaton()
        self._excludes = {t.id: tuple(fold(p) for p in t.exclude) for t in self.topics.values()}

    def match(
        self, *, title: str, summary: str, body: str
    ) -> tuple[tuple[TopicMatch, ...], tuple[Cancelled, ...]]:
        """Every topic match in the three fields, aggregated per term and field.

        An ambiguous term is cancelled when one of its rule's phrases is near it;
        or, when the story has no unambiguous term of that topic, when a phrase
        occurs anywhere in the story ("Georgia" in a title, "Atlanta" in the
        body) or running text shows it as a first name ("Israel Mendoza").
        In a long body, body matches count in proportion to how much of the
        body speaks of the topic, so a passing mention stays a passing mention.
        """
        folded: dict[Field, str] = {
            "title": fold(title),
            "summary": fold(summary),
            "body": fold(body),
        }
        everything = " ".join(folded.values())
        hits = [hit for name, text in folded.items() for hit in self._scan(name, text)]
        unambiguous = {h.topic for h in hits if h.rule is None}
        running = f"{summary}\n{body}"
        cancelled: list[Cancelled] = []
        kept: list[_Hit] = []
        for hit in hits:
            reason = hit.reason
            if not reason and hit.rule is not None and hit.topic not in unambiguous:
                reason = _story_reason(hit, everything, running)
            if reason:
                cancelled.append(
                    Cancelled(topic=hit.topic, term=hit.term, field=hit.field, reason=reason)
                )
            else:
                kept.append(hit)
        for topic_id, phrases in self._excludes.items():
            excluded = next((p for p in phrases if p.strip() and p in everything), None)
            if excluded is not None:
                cancelled.extend(
                    Cancelled(
                        topic=h.topic,
                        term=h.term,
                        field=h.field,
                        reason=f"excluded by {excluded.strip()!r}",
                    )
                    for h in kept
                    if h.topic == topic_id
                )
                kept = [h for h in kept if h.topic != topic_id]
        spread = _body_spread(kept, folded["body"])
        return _aggregate(kept, spread), tuple(cancelled)

    def _scan(self, field_name: Field, text: str) -> list[_Hit]:
        """Every longest match in ``text``, with a reason when a nearby phrase cancels it."""
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return []
        found = [
            (end - length + 1, end + 1, terms)
            for end, (length, terms) in self._automaton.iter(text)
        ]
        found = _longest(found)
        spaces = [i for i, c in enumerate(text) if c == " "] if found else []
        hits = []
        for start, stop, terms in found:
            word = bisect.bisect_left(spaces, start)
            for entry in terms:
                near = _near(text, spaces, start, stop, entry.rule) if entry.rule else ""
                hits.append(
                    _Hit(
                        field_name,
                        entry.topic,
                        entry.term,
                        entry.rule,
                        entry.weight,
                        word,
                        f"{near!r} near {entry.term!r}" if near else "",
                    )
                )
        return hits


def scores(matches: Iterable[TopicMatch]) -> dict[str, float]:
    """Topic id → the sum of its match weights."""
    totals: defaultdict[str, float] = defaultdict(float)
    for match in matches:
        totals[match.topic] += match.weight
    return dict(totals)


def evaluate(
    examples: Sequence[Example], matcher: Matcher, min_score: float = DEFAULT_MIN_SCORE
) -> Evaluation:
    """Per-topic true and false positives and negatives over labelled examples."""
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for example in examples:
        found_matches, _ = matcher.match(
            title=example.title, summary=example.summary, body=example.body
        )
        totals = scores(found_matches)
        found = frozenset(t for t, s in totals.items() if s >= min_score)
        for topic in found | example.topics:
            counts[topic][
                0 if topic in found and topic in example.topics else 1 if topic in found else 2
            ] += 1
        if found != example.topics:
            misses.append(Miss(example=example, found=found, scores=totals))
    return Evaluation(
        counts={t: (c[0], c[1], c[2]) for t, c in sorted(counts.items())}, misses=tuple(misses)
    )


def _keys(term: str) -> list[str]:
    """The folded keys of a term: a trailing ``*`` leaves the end open; Hebrew and
    Arabic terms also get their proclitic forms."""
    prefix = term.endswith("*")
    bare = term[:-1] if prefix else term
    variants = [bare]
    first = bare[:1]
    if "\u0590" <= first <= "\u05ff":
        variants += [p + bare for p in HEBREW_PREFIXES]
    elif "\u0600" <= first <= "\u06ff":
        variants += [p + bare for p in ARABIC_PREFIXES]
        if bare.startswith("ال"):
            variants.append("لل" + bare[2:])
    keys = []
    for variant in variants:
        key = fold(variant)
        if key.strip():
            keys.append(key.rstrip() if prefix else key)
    return keys


def _longest(
    found: list[tuple[int, int, tuple[_Term, ...]]],
) -> list[tuple[int, int, tuple[_Term, ...]]]:
    """Drop, per topic, matches that lie inside a longer match of the same topic."""
    if len(found) < 2:
        return found
    kept = []
    for start, stop, terms in found:
        inner = {
            t.topic
            for s, e, ts in found
            if s <= start and stop <= e and e - s > stop - start
            for t in ts
        }
        remaining = tuple(t for t in terms if t.topic not in inner)
        if remaining:
            kept.append((start, stop, remaining))
    return kept


def _near(text: str, spaces: list[int], start: int, stop: int, rule: ContextRule) -> str:
    if not rule.unless_near:
        return ""
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


def _story_reason(hit: _Hit, everything: str, running: str) -> str:
    """Why an ambiguous term means something else in this story, or ''."""
    assert hit.rule is not None
    elsewhere = _first_present(everything, hit.rule.unless_near)
    if elsewhere:
        return f"{elsewhere!r} in the story and no unambiguous {hit.topic} term"
    if hit.rule.first_name:
        person = _person(running, hit.rule)
        if person:
            return f"{hit.term!r} is a first name here ({person!r})"
    return ""


def _person(text: str, rule: ContextRule) -> str:
    """A "Term Surname" in running text when every use of the term is one, else ''."""
    pattern = re.compile(rf"(?<!\w)(?i:{re.escape(rule.term)})(?!\w)(?:[ \t]+([A-Z][\w'’-]+))?")
    names = []
    for match in pattern.finditer(text):
        after = match.group(1)
        if not after or after in rule.not_names:
            return ""
        names.append(f"{match.group(0)}")
    return names[0] if names else ""


def _body_spread(hits: list[_Hit], body: str) -> dict[str, float]:
    """Topic → the factor its body matches count with: 1 unless the body is long and the
    topic lives in a small part of it (share of 80-word chunks, times three)."""
    words = body.count(" ") - 1
    if words <= LONG_BODY_WORDS:
        return {}
    chunks = max(1, -(-words // CHUNK_WORDS))
    touched: defaultdict[str, set[int]] = defaultdict(set)
    for hit in hits:
        if hit.field == "body":
            touched[hit.topic].add(hit.word // CHUNK_WORDS)
    return {topic: min(1.0, 3 * len(seen) / chunks) for topic, seen in touched.items()}


def _aggregate(hits: list[_Hit], spread: Mapping[str, float]) -> tuple[TopicMatch, ...]:
    counts: defaultdict[tuple[str, str, Field], int] = defaultdict(int)
    weights: dict[tuple[str, str, Field], float] = {}
    for hit in hits:
        key = (hit.topic, hit.term, hit.field)
        counts[key] += 1
        weights[key] = hit.weight
    order = list(FIELD_WEIGHTS)
    matches = []
    for (topic, term, field_name), count in sorted(
        counts.items(), key=lambda kv: (kv[0][0], order.index(kv[0][2]), kv[0][1])
    ):
        weight = FIELD_WEIGHTS[field_name] * weights[(topic, term, field_name)]
        weight *= 1 + 0.5 * min(count - 1, 2)
        if field_name == "body":
            weight *= spread.get(topic, 1.0)
        matches.append(
            TopicMatch(topic=topic, term=term, field=field_name, weight=round(weight, 3))
        )
    return tuple(matches)


def parse_examples(lines: Iterable[str], filename: str) -> tuple[list[Example], list[str]]:
    """JSON Lines of labelled examples → examples, and one problem per bad line."""
    examples: list[Example] = []
    problems: list[str] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("expected a JSON object")
            labels = raw.get("topics", [])
            if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
                raise ValueError("'topics' must be an array of topic ids")
            texts = {k: raw.get(k, "") for k in ("title", "summary", "body")}
            if not all(isinstance(v, str) for v in texts.values()) or not any(texts.values()):
                raise ValueError("needs 'title', 'summary' or 'body' text")
            examples.append(
                Example(
                    id=str(raw.get("id", f"line {number}")),
                    topics=frozenset(labels),
                    kind=str(raw.get("kind", "regular")),
                    **texts,
                )
            )
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            problems.append(f"{filename}:{number}: {exc}")
    return examples, problems
