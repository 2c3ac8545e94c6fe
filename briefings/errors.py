"""The exceptions of ``briefings``.

::

    BriefingsError                 anything this package raises on purpose
    ├── ConfigError                feeds.toml or a topic file is invalid (exit status 2)
    ├── FetchError                 one URL could not be fetched (kept per feed, never fatal)
    ├── FeedParseError             bytes that are not a feed (kept per feed, never fatal)
    ├── RenderError                a template failed; names the template and line
    ├── StoreError                 the database could not be opened or written, or is busy
    └── OutputError                an output file or folder could not be written

Each carries the file, key or URL it is about in its message, so that one line
is enough for the user; :func:`shown_url` is how a URL appears in one.
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")


def shown_url(url: str) -> str:
    """``url`` fit to print, log or show: a user name and password in it
    (``https://reader:pass@host/feed``) become ``***`` (``https://***@host/feed``)."""
    return _USERINFO.sub(r"\1***@", url, count=1)


class BriefingsError(Exception):
    """Base class of every error raised on purpose by ``briefings``."""


class ConfigError(BriefingsError):
    """An invalid configuration; ``problems`` lists every finding, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FetchError(BriefingsError):
    """A URL that could not be fetched."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class FeedParseError(BriefingsError):
    """A body that is not a usable RSS or Atom feed."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class RenderError(BriefingsError):
    """A template that failed to load or render."""


class StoreError(BriefingsError):
    """A database that could not be opened or written, or that another run holds."""


class OutputError(BriefingsError):
    """An output file or folder that could not be written; says what to do."""
