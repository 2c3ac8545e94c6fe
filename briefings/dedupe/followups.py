"""Follow-ups across editions: which story an earlier edition sent a new story continues.

Dedupe joins the reports of one event; a later development told apart ("Gaza toll rises
to 27" after "Strike on Gaza apartment block kills 20", often from the same outlet) stays a
story of its own. :func:`link_earlier` links it to the sent story it follows only on
strong evidence of one developing event, never on a shared theme. It must come after
that story, at most :data:`WITHIN` later, and both must name the same names (capitalised
words) and tell their headline and lead alike (the cosine of TF-IDF vectors of headline,
twice, and lead, numbers aside, with the document frequencies of every article analysed):

* one shared name is *rare* (at most :data:`RARE_LEAST` articles, or :data:`RARE_SHARE`
  of all, and never more than :data:`RARE_MOST` of all, carry it: "Jabalia",
  "Seferihisar") and the cosine is at least :data:`SIMILAR`;
* or :data:`UNCOMMON_NAMES` shared names are *uncommon* (at most :data:`UNCOMMON_SHARE`
  of all articles: "Karahan", "Pashinyan"; not "Gaza" or "Turkish" in a store of the
  region's news) and the cosine is at least :data:`VERY_SIMILAR`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from ..model import Earlier, Sent, Story
from ..text import fold_words
from .features import Vector
from .vectors import _STOP, cosine, inverse_frequencies, term_counts, tfidf

WITHIN = timedelta(hours=72)
"""A follow-up comes at most this long after the story it follows."""
SIMILAR = 0.22
"""The least cosine of the two stories' headline and lead vectors when they share a rare
name ..."""
VERY_SIMILAR = 0.4
"""... and when they share :data:`UNCOMMON_NAMES` uncommon ones."""
UNCOMMON_NAMES = 2
UNCOMMON_SHARE = 0.025
"""A name carried by at most this share of all articles is uncommon."""
RARE_LEAST = 5
"""A name carried by at most this many articles is specific ..."""
RARE_SHARE = 0.002
"""... and so is one carried by at most this share of all articles ..."""
RARE_MOST = 0.01
"""... but never one carried by more than this share: in a young store of a few hundred
articles, every name but the commonest is carried by few."""
_TERMS = 100
_CALENDAR = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_SUFFIX = re.compile(r"['’][a-zçğıöşü]{1,5}$")
"""A possessive or a Turkish case ending after an apostrophe: "Ben-Gvir's", "Ankara'da"."""
_SENTENCE_END = tuple(".!?:;\"“”‘’'«»(–—-|")


@dataclass(frozen=True, slots=True, kw_only=True)
class Told:
    """What a story's headline and lead say, for comparing it with another."""

    vector: Vector
    names: Mapping[str, str]
    """Folded name → as first written."""


def names(title: str, summary: str) -> dict[str, str]:
    """The words of ``title`` and ``summary`` written as names, folded → as first written:
    capitalised inside a sentence. A word that opens a sentence is one only when the texts
    also write it so inside one ("Malatya shaken by quake" and "... the district of
    Malatya"); a headline in title case gives only the names its summary gives too."""
    inside: dict[str, str] = {}
    for text in (summary, title):
        words = list(_WORD.finditer(text))
        long = [m.group() for m in words if len(m.group()) > 3]
        title_case = text is title and len(long) > 2 and _share_capitalised(long) >= 0.6
        for match in words:
            word = _SUFFIX.sub("", match.group())
            if not word[0].isupper():
                continue
            before = text[: match.start()].rstrip()
            if not before or before.endswith(_SENTENCE_END) or title_case:
                continue
            for folded in fold_words(word):
                if len(folded) > 2 and folded not in _STOP and folded not in _CALENDAR:
                    inside.setdefault(folded, word)
    return inside


def _share_capitalised(words: Sequence[str]) -> float:
    return sum(1 for w in words if w[0].isupper()) / len(words)


def wanted_terms(stories: Sequence[Story], sent: Sequence[Sent]) -> set[str]:
    """The words whose document frequencies :func:`link_earlier` needs: those of
    ``stories`` and of the ``sent`` stories early enough to be followed up by one."""
    if not stories:
        return set()
    since = min(s.published for s in stories) - WITHIN
    told = [(s.title, s.summary) for s in stories]
    told += [(s.title, s.summary) for s in sent if s.published >= since]
    return {term for title, summary in told for term in _counts(title, summary)}


def _counts(title: str, summary: str) -> Counter[str]:
    """The words of a headline and lead, numbers aside: a toll or a rate changes from
    one report to the next, and a number shared by chance says nothing."""
    return Counter({t: n for t, n in term_counts(title, summary).items() if not t.isdigit()})


def told(title: str, summary: str, df: Mapping[str, int], documents: int) -> Told:
    """The headline and lead of one story as :func:`follows` compares them."""
    idf = inverse_frequencies(df, documents)
    return Told(vector=tfidf(_counts(title, summary), idf, _TERMS), names=names(title, summary))


def follows(later: Told, earlier: Told, df: Mapping[str, int], documents: int) -> str:
    """Why ``later`` follows up ``earlier`` ("both name Jabalia; headline and lead alike,
    0.34"), or "" when it does not (times aside)."""
    shared = later.names.keys() & earlier.names.keys()
    rare = min(max(RARE_LEAST, RARE_SHARE * documents), RARE_MOST * documents)
    uncommon = UNCOMMON_SHARE * documents
    similarity = cosine(later.vector, earlier.vector)
    named = sorted(n for n in shared if df.get(n, 0) <= rare)
    if not named or similarity < SIMILAR:
        named = sorted(n for n in shared if df.get(n, 0) <= uncommon)
        if len(named) < UNCOMMON_NAMES or similarity < VERY_SIMILAR:
            return ""
    written = ", ".join(dict.fromkeys(later.names[n] for n in named[:4]))
    return f"both name {written}; headline and lead alike ({similarity:.2f})"


def link_earlier(
    stories: Sequence[Story], sent: Sequence[Sent], *, df: Mapping[str, int], documents: int
) -> list[Story]:
    """``stories`` with what an earlier edition sent of each (``earlier``), when known.

    A story that holds an article a sent story held is that story again (an update, as
    :func:`compose.compose` marked it): it gets the latest such one. A story that shares
    none is linked to the sent story it follows up, if any (the module's rule; the most
    alike when several qualify), and marked ``update``.
    """
    told_sent: dict[int, Told] = {}
    out = []
    for story in stories:
        held = set(story.member_urls)
        again = [s for s in sent if held.intersection(s.urls) or s.story_id == story.id]
        if again:
            last = max(again, key=lambda s: s.sent_at)
            why = "the same story: it holds an article that edition carried"
            out.append(replace(story, earlier=_earlier(last, why)))
            continue
        if story.update:
            out.append(story)
            continue
        mine: Told | None = None
        best: tuple[float, str, Sent] | None = None
        for number, old in enumerate(sent):
            if not timedelta(0) < story.published - old.published <= WITHIN:
                continue
            mine = mine or told(story.title, story.summary, df, documents)
            theirs = told_sent.get(number)
            if theirs is None:
                theirs = told_sent[number] = told(old.title, old.summary, df, documents)
            why = follows(mine, theirs, df, documents)
            if why:
                hours = round((story.published - old.published).total_seconds() / 3600)
                why += f"; {hours} hour{'' if hours == 1 else 's'} later"
                similarity = cosine(mine.vector, theirs.vector)
                if best is None or similarity > best[0]:
                    best = (similarity, why, old)
        if best is None:
            out.append(story)
        else:
            out.append(replace(story, update=True, earlier=_earlier(best[2], best[1])))
    return out


def _earlier(sent: Sent, why: str) -> Earlier:
    return Earlier(
        title=sent.title, url=sent.url, edition=sent.edition, sent_at=sent.sent_at, why=why
    )
