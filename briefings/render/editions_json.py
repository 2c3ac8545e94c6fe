"""``edition.json`` out and in: the public document (PRO stories as teasers) and the whole
one (:func:`edition_json`), whether a document is whole (:func:`is_whole`), and an
:class:`Edition` read back from one (:func:`edition_from_json`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..model import Earlier, Edition, Source, Story, TopicMatch
from .template_context import Layout, is_pro, teaser


def edition_json(edition: Edition, *, layout: Layout | None = None) -> str:
    """The ``edition.json`` contract (``docs/edition-json.md``).

    With a ``layout``, the public document, for free readers: each PRO story
    (:func:`is_pro`) keeps its headline, outlet and times, but its summary is its
    :func:`teaser`, and its other sources, image and matches are left out, as in the
    free rendering. Without one, the whole document (``"tier": "pro"``), kept private.
    """
    public = layout is not None
    document = {
        "tier": "free" if public else "pro",
        "briefing": edition.briefing,
        "title": edition.title,
        "edition": edition.edition,
        "generated_at": _iso(edition.generated_at),
        "description": edition.description,
        "note": edition.note,
        "stories": [
            _story_json(story, pro=layout is not None and is_pro(story, layout), public=public)
            for story in edition.stories
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _lead_source(story: Story) -> tuple[Source, ...]:
    """The source whose link is the story's own (the lead comes first)."""
    return tuple(s for s in story.sources if s.url == story.url)[:1] or story.sources[:1]


def _story_json(story: Story, *, pro: bool, public: bool) -> dict[str, Any]:
    """One story of ``edition.json``; a PRO story of the public document as its teaser."""
    withheld = public and pro
    return {
        "id": story.id,
        "title": story.title,
        "url": story.url,
        "summary": teaser(story.summary) if withheld else story.summary,
        "topics": list(story.topics),
        "published": _iso(story.published),
        "sources": [
            {"feed": s.feed, "title": s.title, "url": s.url}
            for s in (_lead_source(story) if withheld else story.sources)
        ],
        "image": "" if withheld else story.image,
        "partial": story.partial,
        "update": story.update,
        "earlier": None
        if story.earlier is None
        else {
            "title": story.earlier.title,
            "url": story.earlier.url,
            "edition": story.earlier.edition,
            "sent_at": _iso(story.earlier.sent_at),
            "why": story.earlier.why,
        },
        "locked": withheld,
        "matches": []
        if withheld
        else [
            {"topic": m.topic, "term": m.term, "field": m.field, "weight": m.weight}
            | ({"source": m.source} if m.source else {})
            for m in story.matches
        ],
    }


def _earlier(found: Any) -> Earlier | None:
    """The ``earlier`` of a story read back; None in documents written before it."""
    if not found:
        return None
    return Earlier(
        title=found["title"],
        url=found["url"],
        edition=found["edition"],
        sent_at=datetime.fromisoformat(found["sent_at"]),
        why=found["why"],
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def is_whole(document: Any) -> bool:
    """Whether a decoded ``edition.json`` holds every story in full: the private one
    (``"tier": "pro"``), or one written before there was a public one (no ``tier``)."""
    return isinstance(document, dict) and document.get("tier", "pro") != "free"


def edition_from_json(text: str) -> Edition:
    """An :class:`Edition` read back from its ``edition.json`` (to send, or render again)."""
    document = json.loads(text)
    stories = []
    for item in document["stories"]:
        matches = tuple(
            TopicMatch(
                topic=m["topic"],
                term=m["term"],
                field=m["field"],
                weight=float(m["weight"]),
                source=m.get("source", ""),
            )
            for m in item.get("matches", [])
        )
        totals: dict[str, float] = {}
        for match in matches:
            totals[match.topic] = totals.get(match.topic, 0.0) + match.weight
        sources = tuple(
            Source(feed=s["feed"], title=s["title"], url=s["url"]) for s in item["sources"]
        )
        stories.append(
            Story(
                id=item["id"],
                title=item["title"],
                url=item["url"],
                summary=item["summary"],
                published=datetime.fromisoformat(item["published"]),
                topics=tuple(item["topics"]),
                scores=tuple(sorted(totals.items(), key=lambda kv: -kv[1])),
                matches=matches,
                sources=sources,
                member_urls=tuple(s.url for s in sources),
                image=item.get("image", ""),
                partial=bool(item.get("partial")),
                update=bool(item.get("update")),
                earlier=_earlier(item.get("earlier")),
            )
        )
    return Edition(
        briefing=document["briefing"],
        title=document["title"],
        description=document.get("description", ""),
        edition=document["edition"],
        generated_at=datetime.fromisoformat(document["generated_at"]),
        stories=tuple(stories),
        note=document.get("note", ""),
    )
