"""The ``[topics.ID]`` tables → :class:`UserTopic`, their context rules
(:func:`parse_rule`, shared with the built-in gazetteer) and the built-in topic ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

from .checker import _Checker
from .keys import TOPIC
from .tables import (
    DEFAULT_WINDOW,
    ContextRule,
    UserTopic,
)
from .values import _ID

RULE_KEYS = frozenset({"term", "unless_near", "window", "first_name", "not_names"})


def parse_rule(item: Any) -> ContextRule:
    """A context rule table → :class:`ContextRule`; ``ValueError`` says what is wrong."""
    if not isinstance(item, Mapping):
        raise ValueError("expected a table")
    unknown = sorted(set(item) - RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (use {', '.join(sorted(RULE_KEYS))})")
    term = item.get("term")
    if not isinstance(term, str) or not term.strip():
        raise ValueError("needs a 'term' string")
    lists = {k: item.get(k, []) for k in ("unless_near", "not_names")}
    for key, values in lists.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{key} must be an array of strings")
    window = item.get("window", DEFAULT_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    first_name = item.get("first_name", False)
    if not isinstance(first_name, bool):
        raise ValueError("first_name must be true or false")
    if not lists["unless_near"] and not first_name:
        raise ValueError(f"rule for {term!r} cancels nothing: give unless_near or first_name")
    return ContextRule(
        term=term,
        unless_near=tuple(lists["unless_near"]),
        window=window,
        first_name=first_name,
        not_names=tuple(lists["not_names"]),
    )


def builtin_topic_ids() -> tuple[str, ...]:
    """The ids of the built-in gazetteer, from its file names."""
    folder = resources.files("briefings.gazetteer")
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml")))


def _topics(checker: _Checker, raw: Any) -> tuple[UserTopic, ...]:
    builtin = set(builtin_topic_ids())
    topics = []
    for topic_id, item in checker.table(raw, "topics").items():
        prefix = f"topics.{topic_id}."
        if not _ID.match(topic_id):
            checker.add(f"topics.{topic_id}", "invalid id (use a-z, 0-9, '-' and '_')")
        if topic_id in builtin:
            checker.add(
                f"topics.{topic_id}", "shadows the built-in topic of that id (choose another id)"
            )
        values = checker.typed(checker.table(item, f"topics.{topic_id}"), TOPIC, prefix)
        terms = checker.strings(values["terms"], prefix + "terms")
        if values["terms"] is not None and not terms:
            checker.add(prefix + "terms", "needs at least one term")
        rules = []
        for index, rule in enumerate(values["context"] or []):
            try:
                rules.append(parse_rule(rule))
            except ValueError as exc:
                checker.add(f"{prefix}context[{index}]", str(exc))
        topics.append(
            UserTopic(
                id=topic_id,
                title=values["title"] or topic_id,
                description=values["description"],
                terms=terms,
                weak=checker.strings(values["weak"], prefix + "weak"),
                ignore=checker.strings(values["ignore"], prefix + "ignore"),
                exclude=checker.strings(values["exclude"], prefix + "exclude"),
                context=tuple(rules),
                min_score=float(values["min_score"]),
            )
        )
        if values["min_score"] <= 0:
            checker.add(prefix + "min_score", "must be greater than zero")
    return tuple(topics)
