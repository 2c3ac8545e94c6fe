"""The build's stage modules, imported on first use, and what the orchestrator's parts share."""

from __future__ import annotations

import importlib.util
import logging
import sys
from types import ModuleType
from typing import TYPE_CHECKING

from ..config import Config


def _lazy(name: str) -> ModuleType:
    """``name``, imported on first use of one of its attributes (importlib's LazyLoader).

    A poll of unchanged feeds needs none of the build's stages (Jinja2, MJML, the gazetteer,
    rapidfuzz) nor even feedparser; importing them all up front was a fifth of its time.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


__all__ = [
    "analysis",
    "composing",
    "dedupe",
    "deliver",
    "extract",
    "feeds",
    "log",
    "render",
    "texts",
    "topic_matcher",
    "topics",
]

if TYPE_CHECKING:
    from .. import analysis, dedupe, deliver, extract, feeds, render, topics
    from .. import compose as composing
    from .. import text as texts
else:
    analysis = _lazy("briefings.analysis")
    composing = _lazy("briefings.compose")
    dedupe = _lazy("briefings.dedupe")
    deliver = _lazy("briefings.deliver")
    extract = _lazy("briefings.extract")
    feeds = _lazy("briefings.feeds")
    render = _lazy("briefings.render")
    texts = _lazy("briefings.text")
    topics = _lazy("briefings.topics")

log = logging.getLogger("briefings")


def topic_matcher(config: Config | None, *, only: set[str] | None = None) -> topics.Matcher:
    """The matcher of the built-in gazetteer plus the config's own topics (or just ``only``)."""
    own = config.topics if config is not None else ()
    every = [*topics.builtin_topics(), *map(topics.user_topic, own)]
    return topics.Matcher([t for t in every if only is None or t.id in only])
