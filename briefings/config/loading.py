"""A whole ``feeds.toml`` → :class:`Config`: read (:func:`load`) and checked table by table
(:func:`parse`), every problem reported at once in one :class:`~briefings.errors.ConfigError`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .catalogue import _briefings
from .checker import _Checker
from .feeds import _feeds
from .keys import SECTIONS
from .settings import _delivery, _kept_private, _settings
from .tables import (
    Config,
)
from .topics import _topics, builtin_topic_ids

DEFAULT_PATH = Path("feeds.toml")


def load(path: Path) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file (pass --config PATH)"]) from None
    except IsADirectoryError:
        message = "cannot read: it is a folder; pass the path of feeds.toml"
        raise ConfigError([f"{path}: {message}"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    return parse(raw, path)


def parse(raw: Mapping[str, Any], path: Path) -> Config:
    """Validate an already-decoded TOML document that came from ``path``."""
    checker = _Checker(path.name)
    root = path.resolve().parent
    checker.unknown_keys(raw, SECTIONS, "")
    settings = _settings(checker, raw.get("settings", {}), root)
    topics = _topics(checker, raw.get("topics", {}))
    known_topics = set(builtin_topic_ids()) | {t.id for t in topics}
    feeds = _feeds(checker, raw.get("feeds", []), root)
    briefings = _briefings(checker, raw.get("briefings", {}), known_topics, settings.timezone)
    delivery = _delivery(checker, raw.get("delivery", {}), root, settings.base_url)
    _kept_private(checker, settings, delivery)
    checker.raise_if_any()
    return Config(
        delivery=delivery,
        path=path.resolve(),
        settings=settings,
        feeds=feeds,
        briefings=briefings,
        topics=topics,
    )
