"""Canonical URLs: one spelling per article, without tracking parameters, and the
article itself for its AMP rendering."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "ref_src",
        "cmpid",
        "ncid",
        "ito",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
    }
)
# The AMP rendering of an article is the article: aggregators and social feeds link to it.
_AMP_PARAMS = frozenset({("amp", ""), ("amp", "1"), ("amp", "true"), ("outputtype", "amp")})
_AMP_SUFFIX = re.compile(r"\.amp(\.html?)?$", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """One spelling per article: lowercase scheme and host, no default port,
    no fragment, no tracking parameters, remaining parameters sorted, and the
    article itself for its AMP rendering (``/amp/``, ``?amp=1``, ``.amp``)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        return url.strip()  # no host, no web link: kept as it is, so that it settles
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.username or ''}{':' + parts.password if parts.password else ''}@{host}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_")
        and k.lower() not in TRACKING_PARAMS
        and (k.lower(), v.lower()) not in _AMP_PARAMS
    )
    return urlunsplit((scheme, host, _without_amp(parts.path) or "/", urlencode(query), ""))


def _without_amp(path: str) -> str:
    """``path`` of the article an AMP page renders: without an ``amp`` segment
    (``/story/amp/``, ``/amp/story/``) or an ``.amp`` suffix (``/story.amp.html``)."""
    if "amp" not in path.lower():
        return path
    path = "/".join(part for part in path.split("/") if part.lower() != "amp")
    return _AMP_SUFFIX.sub(r"\1", path)
