"""Pure topic matching: the built-in gazetteer plus the user's ``[topics.ID]``.

Text and terms are folded alike (see :mod:`briefings.text`) into words joined
by single spaces, so one Aho-Corasick pass finds every term on word
boundaries: ``Erdoğan'ın`` matches ``Erdogan``. Hebrew and Arabic terms also
match behind their one-letter proclitics (``בישראל``, ``والقاهرة``).

Every match keeps its field and weight, and every cancelled match keeps its
reason, so that an editor can see why a story is, or is not, in a briefing.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import ahocorasick

from .config import ContextRule, UserTopic, parse_rule
from .errors import ConfigError
from .model import Field, TopicMatch
from .text import fold, parse_json_lines

FIELD_WEIGHTS: Mapping[Field, float] = {"title": 3.0, "summary": 1.5, "body": 1.0}
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
TOPIC_KEYS = frozenset(
    {"id", "title", "kind", "description", "terms", "weak", "ignore", "context", "min_score"}
)
# Words that Title Case may leave in lower case: a title with two other lower-case words is
# in sentence case, so a capital in it says something ("Israel Adesanya returns").
SMALL_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "but",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "over",
        "the",
        "to",
        "via",
        "vs",
        "with",
    ]
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A region or theme: its terms, its weak terms, its context rules and exclusions."""

    id: str
    title: str
    kind: str
    description: str
    terms: tuple[str, ...]
    weak: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    """Phrases that hold a term but are not the topic ("Iran-Contra"): the term in them is
    not counted."""
    context: tuple[ContextRule, ...] = ()
    exclude: tuple[str, ...] = ()
    min_score: float = DEFAULT_MIN_SCORE
    """The score a story needs for this topic, unless a briefing sets its own."""


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
    for key in ("terms", "weak", "ignore"):
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
    min_score = raw.get("min_score", DEFAULT_MIN_SCORE)
    if isinstance(min_score, bool) or not isinstance(min_score, int | float) or min_score <= 0:
        line = _line_of(text, "min_score")
        problems.append(
            f"{filename}:{line}: min_score must be a positive number, got {min_score!r}"
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
        ignore=tuple(raw.get("ignore", ())),
        context=tuple(rules),
        min_score=float(min_score),
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
        ignore=topic.ignore,
        exclude=topic.exclude,
        context=topic.context,
        min_score=topic.min_score,
    )


@dataclass(frozen=True, slots=True)
class _Term:
    topic: str
    term: str
    rule: ContextRule | None
    weight: float
    near: frozenset[str] = frozenset()
    """The rule's ``unless_near`` phrases, folded once."""
    ignored: bool = False
    """An ``ignore`` phrase: where it is the longest match, nothing counts."""

    def key(self, field_order: int) -> tuple[str, int, str, float]:
        """What :func:`_aggregate` counts: one key per topic, field, term."""
        return (self.topic, field_order, self.term, self.weight)


@dataclass(slots=True)
class _Hit:
    field: Field
    entry: _Term
    start: int
    stop: int

    @property
    def topic(self) -> str:
        return self.entry.topic

    @property
    def term(self) -> str:
        return self.entry.term


class Matcher:
    """Finds the terms of many topics in a text in one pass."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics = {topic.id: topic for topic in topics}
        self._weak = {topic.id: frozenset(topic.weak) for topic in self.topics.values()}
        self._automaton = ahocorasick.Automaton()
        self._phrases = ahocorasick.Automaton()  # every rule's and exclusion's phrases
        keys: defaultdict[str, list[_Term]] = defaultdict(list)
        phrases: set[str] = set()
        # folded phrase → as its rule spells it, for reasons ("'Thanksgiving' near …")
        self._spelled: dict[str, str] = {}
        for topic in self.topics.values():
            seen: set[str] = set()  # "Türkiye" and "Türkiyə" fold alike: count once
            entries = (
                [(t, None, 1.0, False) for t in topic.terms]
                + [(t, None, WEAK_WEIGHT, False) for t in topic.weak]
                + [(r.term, r, 1.0, False) for r in topic.context]
                + [(t, None, 0.0, True) for t in topic.ignore]
            )
            for term, rule, weight, ignored in entries:
                near = (
                    frozenset(p for p in map(_frame, rule.unless_near) if p.strip())
                    if (rule)
                    else frozenset()
                )
                phrases.update(near)
                for phrase in rule.unless_near if rule else ():
                    self._spelled.setdefault(_frame(phrase), phrase.strip())
                for key in _keys(term):
                    if key not in seen:
                        seen.add(key)
                        keys[key].append(_Term(topic.id, term, rule, weight, near, ignored))
        self._excludes = {
            t.id: tuple(p for p in map(_frame, t.exclude) if p.strip())
            for t in self.topics.values()
        }
        self._has_excludes = any(self._excludes.values())
        for topic in self.topics.values():
            for phrase in topic.exclude:
                self._spelled.setdefault(_frame(phrase), phrase.strip())
        for folded in self._excludes.values():
            phrases.update(folded)
        for key, terms in _with_contained(keys).items():
            self._automaton.add_word(key, (len(key), terms))
        for phrase in phrases:
            self._phrases.add_word(phrase, phrase)
        for automaton in (self._automaton, self._phrases):
            if len(automaton):
                automaton.make_automaton()

    def decisive(self, match: TopicMatch) -> bool:
        """Whether ``match`` gives its topic whatever the topic's threshold: a term in the
        title that is not a weak one. A headline says what a story is about, so "OPEC+
        agrees to extend output cuts" is energy though energy needs 4 and a title gives 3."""
        return match.field == "title" and match.term not in self._weak.get(match.topic, ())

    def assigned(self, matches: Iterable[TopicMatch]) -> set[str]:
        """The topics ``matches`` give: those whose score reaches their threshold, and
        those with a :meth:`decisive` match."""
        found = list(matches)
        limits = self.thresholds()
        return {t for t, s in scores(found).items() if s >= limits.get(t, DEFAULT_MIN_SCORE)} | {
            m.topic for m in found if self.decisive(m)
        }

    def thresholds(self) -> dict[str, float]:
        """Topic id → the score a story needs for it."""
        return {topic.id: topic.min_score for topic in self.topics.values()}

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
        A body that opens with the summary (a lead taken from it) counts from where the
        summary ends: the same words are not counted twice.
        """
        folded: dict[Field, str] = {
            "title": _frame(title),
            "summary": _frame(summary),
            "body": _without_lead(_frame(body), _frame(summary)),
        }
        plain: list[tuple[str, int, str, float]] = []  # the unambiguous matches, as counted
        ruled: list[_Hit] = []  # matches of ambiguous terms, judged below
        ignored: list[Cancelled] = []  # "Iran-Contra": the term inside it is not counted
        long_body = folded["body"].count("  ") + 1 > LONG_BODY_WORDS
        body_starts: list[tuple[str, int]] = []
        for order, (name, text) in enumerate(folded.items()):
            for start, stop, terms in self._scan(text):
                for entry in terms:
                    if entry.ignored:
                        cancelled_here = Cancelled(
                            topic=entry.topic,
                            term=entry.term,
                            field=name,
                            reason="ignored: a phrase that is not this topic",
                        )
                        ignored.append(cancelled_here)
                        continue
                    if entry.rule is not None:
                        ruled.append(_Hit(name, entry, start, stop))
                        continue
                    plain.append(entry.key(order))
                    if order == 2 and long_body:
                        body_starts.append((entry.topic, start))
        unambiguous = {key[0] for key in plain}
        found = (
            {n: self._find_phrases(t) for n, t in folded.items()}
            if (ruled or self._has_excludes)
            else {}
        )
        in_story = {phrase for places in found.values() for phrase in places}
        running = f"{summary}\n{body}"
        headline = title if _sentence_case(title) else ""
        cancelled: list[Cancelled] = ignored
        for hit in ruled:
            reason = _near_reason(hit, folded[hit.field], found.get(hit.field, {}), self._spelled)
            if not reason and hit.topic not in unambiguous:
                reason = _story_reason(hit, in_story, (headline, running), self._spelled)
            if reason:
                cancelled.append(
                    Cancelled(topic=hit.topic, term=hit.term, field=hit.field, reason=reason)
                )
            else:
                plain.append(hit.entry.key(_FIELD_ORDER[hit.field]))
                if hit.field == "body" and long_body:
                    body_starts.append((hit.topic, hit.start))
        for topic_id, phrases in self._excludes.items():
            excluded = next((p for p in phrases if p in in_story), None)
            if excluded is not None:
                cancelled.extend(
                    Cancelled(
                        topic=k[0],
                        term=k[2],
                        field=_FIELDS[k[1]],
                        reason=f"excluded by {self._spelled.get(excluded, excluded.strip())!r}",
                    )
                    for k in plain
                    if k[0] == topic_id
                )
                plain = [k for k in plain if k[0] != topic_id]
        spread = _body_spread(body_starts, folded["body"]) if long_body else {}
        return _aggregate(plain, spread), tuple(cancelled)

    def _scan(self, text: str) -> list[tuple[int, int, tuple[_Term, ...]]]:
        """Every longest match in ``text``: start, stop and the terms it stands for."""
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return []
        return [
            (end - length + 1, end + 1, terms)
            for end, (length, terms) in self._automaton.iter_long(text)
        ]

    def _find_phrases(self, text: str) -> dict[str, list[int]]:
        """Folded phrase → the positions where it starts in ``text``."""
        places: defaultdict[str, list[int]] = defaultdict(list)
        if self._phrases.kind == ahocorasick.AHOCORASICK:
            for end, phrase in self._phrases.iter(text):
                places[phrase].append(end - len(phrase) + 1)
        return places


def scores(matches: Iterable[TopicMatch]) -> dict[str, float]:
    """Topic id → the sum of its match weights."""
    totals: defaultdict[str, float] = defaultdict(float)
    for match in matches:
        totals[match.topic] += match.weight
    return dict(totals)


def evaluate(
    examples: Sequence[Example], matcher: Matcher, min_score: float | None = None
) -> Evaluation:
    """Per-topic true and false positives and negatives over labelled examples.

    A topic is found when its score reaches ``min_score``, or by default as
    :meth:`Matcher.assigned` has it (its own threshold, or a decisive title term).
    """
    counts: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for example in examples:
        found_matches, _ = matcher.match(
            title=example.title, summary=example.summary, body=example.body
        )
        totals = scores(found_matches)
        found = frozenset(
            matcher.assigned(found_matches)
            if min_score is None
            else (t for t, s in totals.items() if s >= min_score)
        )
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
    Arabic terms also get their proclitic forms; a Georgian term ending in ``ი`` loses
    it and is left open, as the language's case endings replace it."""
    prefix = term.endswith("*")
    bare = term[:-1] if prefix else term
    if _georgian_stem(bare):
        bare, prefix = bare[:-1], True
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
        key = _frame(variant)
        if key.strip():
            keys.append(key.rstrip() if prefix else key)
    return keys


def _georgian_stem(term: str) -> bool:
    """Whether ``term`` is a Georgian noun whose final ``ი`` (the nominative ending)
    gives way to its other cases: თბილისი, თბილისში (in Tbilisi), თბილისის (of Tbilisi).
    A last word of four letters or fewer keeps it, so the open stem stays specific."""
    last = term.rsplit(" ", 1)[-1]
    return len(last) > 4 and last.endswith("ი") and "\u10d0" <= last[0] <= "\u10ff"


def _without_lead(body: str, summary: str) -> str:
    """The framed ``body`` after the framed ``summary``, when it opens with it."""
    lead = summary[:-1]  # " a  b" of " a  b ": the body goes on with "  c" or ends with " "
    if len(lead) > 1 and body.startswith(lead) and body[len(lead)] == " ":
        return body[len(lead) + 1 :] or " "
    return body


def _frame(text: str) -> str:
    """Folded words with two spaces between them and one at each end: ``' tel  aviv '``.

    A term's key is framed alike, so it matches on word boundaries, and two
    adjacent terms each have a space of their own: that lets the automaton's
    longest-match scan (``iter_long``) find "Tel Aviv" right before "Israel".
    """
    folded = fold(text)
    return " " + folded[1:-1].replace(" ", "  ") + " " if len(folded) > 2 else " "


def _with_contained(keys: Mapping[str, list[_Term]]) -> dict[str, tuple[_Term, ...]]:
    """Each key with the terms of other topics found inside it.

    The scan keeps only the longest match at a place: "Tel Aviv Stock
    Exchange" (business) would hide "Tel Aviv" (Israel). Inside a longer key,
    a shorter key of a topic the longer one lacks is added to it, so every topic
    keeps its own longest match.
    """
    inner = ahocorasick.Automaton()
    for key in keys:
        inner.add_word(key, key)
    if len(inner):
        inner.make_automaton()
    expanded = {}
    for key, terms in keys.items():
        merged = list(terms)
        present = {t.topic for t in terms}
        for _, other in inner.iter(key):
            if other == key:
                continue
            for term in keys[other]:
                if term.topic not in present:
                    present.add(term.topic)
                    merged.append(term)
        expanded[key] = tuple(merged)
    return expanded


def _near_reason(
    hit: _Hit, text: str, places: Mapping[str, list[int]], spelled: Mapping[str, str]
) -> str:
    """A reason when one of the rule's phrases is within its window of the hit, else ''."""
    rule = hit.entry.rule
    candidates = [p for p in places if p in hit.entry.near]
    if rule is None or not candidates:
        return ""
    first = text.count("  ", 0, hit.start)  # word index where the hit starts
    last = first + text.count("  ", hit.start, hit.stop)
    for phrase in candidates:
        size = phrase.count("  ")
        for at in places[phrase]:
            word = text.count("  ", 0, at)
            if word + size >= first - rule.window and word <= last + rule.window:
                return f"{spelled.get(phrase, phrase.strip())!r} near {hit.term!r}"
    return ""


def _story_reason(
    hit: _Hit, in_story: set[str], running: tuple[str, str], spelled: Mapping[str, str]
) -> str:
    """Why an ambiguous term means something else in this story, or ''."""
    rule = hit.entry.rule
    assert rule is not None
    elsewhere = next((p for p in sorted(in_story) if p in hit.entry.near), "")
    if elsewhere:
        name = spelled.get(elsewhere, elsewhere.strip())
        return f"{name!r} in the story and no unambiguous {hit.topic} term"
    if rule.first_name:
        person = _person(*running, rule)
        if person:
            return f"{hit.term!r} is a first name here ({person!r})"
    return ""


def _sentence_case(title: str) -> bool:
    """Whether a title is in sentence case, where a capital marks a name, not Title Case."""
    words = re.findall(r"[^\W\d_][\w'’-]*", title)
    lower = [w for w in words if w[0].islower() and w.lower() not in SMALL_WORDS]
    return len(lower) >= 2


def _person(title: str, running: str, rule: ContextRule) -> str:
    """A "Term Surname" when the running text uses the term as a first name, else ''.

    It does when every use of the term is one; or when most are, and the text then calls
    the person by the surname alone ("Israel Mendoza … Mendoza scored … 'Israel gives us
    pace'"), as reporting on a person does. A title in sentence case (``title``; ''
    otherwise) may show the name, as in "Israel Adesanya returns"; a bare use there
    ("Jordan retires") proves nothing.
    """
    names, bare = _names(running, rule)
    if bare and not (len(names) > bare and _surname_alone(running, rule, names)):
        return ""
    shown = names or _names(title, rule)[0]
    return shown[0] if shown else ""


def _names(text: str, rule: ContextRule) -> tuple[list[str], int]:
    """The "Term Surname" uses in ``text``, and how many uses are not one."""
    pattern = re.compile(rf"(?<!\w)(?i:{re.escape(rule.term)})(?!\w)(?:[ \t]+([A-Z][\w'’-]+))?")
    names = []
    bare = 0
    for match in pattern.finditer(text):
        after = match.group(1)
        if not after or after in rule.not_names:
            bare += 1
        else:
            names.append(match.group(0))
    return names, bare


def _surname_alone(text: str, rule: ContextRule, names: list[str]) -> bool:
    """Whether a surname of ``names`` stands in ``text`` without the term before it."""
    term = re.escape(rule.term)
    for surname in {name.split()[-1] for name in names}:
        alone = rf"(?<!\w)(?<!(?i:{term})[ \t]){re.escape(surname)}(?!\w)"
        if re.search(alone, text):
            return True
    return False


def _body_spread(starts: list[tuple[str, int]], body: str) -> dict[str, float]:
    """Topic → the factor its body matches count with in a long body: the share of 80-word
    stretches that mention it, times three, at most 1."""
    chunks = max(1, -(-(body.count("  ") + 1) // CHUNK_WORDS))
    per_chunk = len(body) / chunks  # characters: close enough to 80 words, and much cheaper
    touched: defaultdict[str, set[int]] = defaultdict(set)
    for topic, start in starts:
        touched[topic].add(int(start / per_chunk))
    return {topic: min(1.0, 3 * len(seen) / chunks) for topic, seen in touched.items()}


_FIELD_ORDER = {name: index for index, name in enumerate(FIELD_WEIGHTS)}
_FIELDS: tuple[Field, ...] = tuple(FIELD_WEIGHTS)


def _aggregate(
    keys: list[tuple[str, int, str, float]], spread: Mapping[str, float]
) -> tuple[TopicMatch, ...]:
    matches = []
    for (topic, order, term, weight), count in sorted(Counter(keys).items()):
        field_name = _FIELDS[order]
        score = FIELD_WEIGHTS[field_name] * weight * (1 + 0.5 * min(count - 1, 2))
        if order == 2:
            score *= spread.get(topic, 1.0)
        matches.append(TopicMatch(topic=topic, term=term, field=field_name, weight=round(score, 3)))
    return tuple(matches)


def parse_examples(lines: Iterable[str], filename: str) -> tuple[list[Example], list[str]]:
    """JSON Lines of labelled examples → examples, and one problem per bad line."""
    return parse_json_lines(lines, filename, _example)


def _example(raw: dict[str, Any]) -> Example:
    labels = raw.get("topics", [])
    if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
        raise ValueError("'topics' must be an array of topic ids")
    texts = {k: raw.get(k, "") for k in ("title", "summary", "body")}
    if not all(isinstance(v, str) for v in texts.values()) or not any(texts.values()):
        raise ValueError("needs 'title', 'summary' or 'body' text")
    return Example(
        id=str(raw.get("id", "")),
        topics=frozenset(labels),
        kind=str(raw.get("kind", "regular")),
        **texts,
    )
